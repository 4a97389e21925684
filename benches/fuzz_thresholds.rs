//! Each robustness fault of the built-in simulator against `doipcheck fuzz`, its threshold
//! drawn at random inside its legal range: the time to the first finding, per draw. The
//! proof that the generator finds them from the protocol's boundaries, not from the numbers
//! (docs/architecture.md#live-fuzzing); `tests/it/fuzz_thresholds.rs` is its CI half.
//!
//! `cargo bench --bench fuzz_thresholds`: three draws per fault (`FUZZ_BENCH_DRAWS=N`), seed
//! printed (`FUZZ_BENCH_SEED=N` draws the same again), each campaign bounded by 60 s.

use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// One campaign against `fault` with the simulator's `robustness` section; the time to the
/// first finding (None: nothing within 60 s) and the wall time of the whole command.
fn time_to_finding(dir: &Path, fault: &str, robustness: &str, can: bool) -> (Option<u64>, f64) {
    let suites = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let sim = std::fs::read_to_string(suites.join("sim.yaml")).expect("suites/sim.yaml");
    std::fs::write(dir.join("sim.yaml"), format!("{sim}\nrobustness: {robustness}\n"))
        .expect("write sim.yaml");
    std::fs::copy(suites.join("profile.yaml"), dir.join("profile.yaml")).expect("profile");
    let findings = dir.join("findings");
    let _ = std::fs::remove_dir_all(&findings);
    let start = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_doipcheck"));
    command.args(["fuzz", "--sim-fault", fault, "--duration", "60s", "--max-findings", "1"]);
    command.args(["--no-confirm", "--json", "-p"]).arg(dir.join("profile.yaml"));
    command.arg("--findings").arg(&findings);
    if can {
        command.args(["--can", "sim"]);
    }
    let out = command.output().expect("run doipcheck fuzz");
    let wall = start.elapsed().as_secs_f64();
    let finding = std::fs::read_to_string(findings.join("0001").join("finding.json")).ok();
    let json: Option<serde_json::Value> = finding.and_then(|t| serde_json::from_str(&t).ok());
    let found = json.and_then(|j| j["found_after_ms"].as_u64());
    if found.is_none() {
        eprintln!("{fault} {robustness}: {}", String::from_utf8_lossy(&out.stderr));
    }
    (found, wall)
}

fn main() {
    let seed = std::env::var("FUZZ_BENCH_SEED").ok().and_then(|s| s.parse().ok());
    let seed: u64 = seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| d.as_nanos() as u64)
    });
    let draws: usize =
        std::env::var("FUZZ_BENCH_DRAWS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    println!("fuzz_thresholds: FUZZ_BENCH_SEED={seed}, {draws} draw(s) per fault");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("temporary directory");
    for _ in 0..draws {
        // The same ranges as tests/it/fuzz_thresholds.rs, which says why each starts where it
        // does; the two faults without a threshold run with the defaults.
        let oversized: u32 = rng.random_range(2..=4091);
        let bits: u32 = rng.random_range(4..=31);
        let ff_dl =
            rng.random_range(1u64 << bits..1u64 << (bits + 1)).clamp(20, u64::from(u32::MAX - 1));
        let runs = [
            (
                "hang_after_oversized_diag",
                format!("{{ oversized_diag_user_data: {oversized} }}"),
                false,
            ),
            ("crash_on_reserved_activation_type", "{}".to_owned(), false),
            ("leak_socket_on_split_header", "{}".to_owned(), false),
            ("isotp_hang_on_large_ff_dl", format!("{{ isotp_hang_ff_dl: {ff_dl} }}"), true),
        ];
        for (fault, robustness, can) in runs {
            let (found, wall) = time_to_finding(dir.path(), fault, &robustness, can);
            let found = found
                .map_or("NOT FOUND within 60 s".to_owned(), |ms| format!("found after {ms} ms"));
            println!(
                "fuzz_thresholds: {fault:<34} robustness {robustness:<38} {found} ({wall:.1} s wall)"
            );
        }
    }
}
