//! The fuzzer does not know the answers: the simulator's robustness faults trip at thresholds
//! drawn at random (seeded) inside their legal ranges, and `doipcheck fuzz` still finds each
//! within its 60 s bound, from the protocol's and the profile's own boundaries
//! (docs/architecture.md#live-fuzzing). The seed is printed; `DOIPCHECK_THRESHOLD_SEED=N`
//! runs a failed draw again. `cargo bench --bench fuzz_thresholds` draws every fault and
//! prints each one's time to finding.

use super::fuzz_live::finds_the_robustness_fault;
use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};
use std::path::{Path, PathBuf};

/// The seed of this run's draws: the environment's, else a new one (printed either way).
fn threshold_seed() -> u64 {
    let seed = std::env::var("DOIPCHECK_THRESHOLD_SEED").ok().and_then(|s| s.parse().ok());
    let seed = seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| d.as_nanos() as u64)
    });
    eprintln!("fuzz_thresholds: DOIPCHECK_THRESHOLD_SEED={seed}");
    seed
}

/// The shipped profile and simulator configuration in `dir`, the simulator's with
/// `robustness` (YAML of that section) added; returns the profile's path.
fn profile_with_robustness(dir: &Path, robustness: &str) -> PathBuf {
    let suites = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let sim = std::fs::read_to_string(suites.join("sim.yaml")).unwrap();
    std::fs::write(dir.join("sim.yaml"), format!("{sim}\nrobustness: {robustness}\n")).unwrap();
    let profile = dir.join("profile.yaml");
    std::fs::copy(suites.join("profile.yaml"), &profile).unwrap();
    profile
}

/// `hang_after_oversized_diag` above any user data length from the TesterPresent the
/// liveness check sends (2 bytes: below it the entity is dead, not fragile) to the most the
/// shipped MDS of 4096 leaves room above (4091).
#[test]
fn a_hang_after_an_oversized_diagnostic_message_is_found_at_a_random_threshold() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(threshold_seed());
    let threshold: u32 = rng.random_range(2..=4091);
    let dir = tempfile::tempdir().unwrap();
    let section = format!("{{ oversized_diag_user_data: {threshold} }}");
    let profile = profile_with_robustness(dir.path(), &section);
    let profile = profile.to_str().unwrap();
    let finding = finds_the_robustness_fault("hang_after_oversized_diag", &["-p", profile]);
    eprintln!(
        "fuzz_thresholds: hang_after_oversized_diag above {threshold} bytes found after {} ms",
        finding["found_after_ms"]
    );
}

/// `isotp_hang_on_large_ff_dl` above an FF_DL drawn log-uniformly from 20 to 0xFFFF_FFFE, so
/// that a short one, one around the 12-bit edge and an escaped one are all likely. The legal
/// range starts at 8; below 20 the liveness check's own segmented request (20 bytes for the
/// shipped profile's 32-byte buffer) takes the ECU down: dead before the first case, not
/// fragile.
#[test]
fn a_can_ecu_hung_by_a_large_first_frame_is_found_at_a_random_threshold() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(threshold_seed());
    let bits: u32 = rng.random_range(4..=31);
    let threshold =
        rng.random_range(1u64 << bits..1u64 << (bits + 1)).clamp(20, u64::from(u32::MAX - 1));
    let dir = tempfile::tempdir().unwrap();
    let section = format!("{{ isotp_hang_ff_dl: {threshold} }}");
    let profile = profile_with_robustness(dir.path(), &section);
    let profile = profile.to_str().unwrap();
    let finding =
        finds_the_robustness_fault("isotp_hang_on_large_ff_dl", &["--can", "sim", "-p", profile]);
    eprintln!(
        "fuzz_thresholds: isotp_hang_on_large_ff_dl above FF_DL {threshold} found after {} ms",
        finding["found_after_ms"]
    );
}
