//! `doipcheck fuzz` against the built-in simulator on loopback, liveness checks included:
//! cases per second (against the goal of 20 000), the resident set size at 10 %, 50 % and
//! 100 % of the run (it must stay flat), and the process's CPU time split into user and
//! kernel (getrusage of the finished child), with the machine's load average around the run.
//!
//! `cargo bench --bench fuzz_live` runs 30 s with the fuzzer's default workers (one more
//! than the cores, each with its own simulator); `FUZZ_BENCH_SECS=600` gives the 10-minute figure,
//! `FUZZ_BENCH_WORKERS=1` one worker; `FUZZ_BENCH_WORKERS=1 FUZZ_BENCH_ARGS="--can sim"`
//! fuzzes the simulator's CAN ECU instead, `FUZZ_BENCH_ARGS="--tls-share 100"` sends every TCP
//! case over TLS (`--tls-share 0` none) to compare the two. The binary under test is the one cargo built for
//! this bench profile. On a shared machine the wall rate follows the load; the CPU time a
//! case costs changes least, so the bench also prints what the cores would give if the run
//! had them to itself. Last, it prices the run's mix at the machine's loopback TCP floor
//! (`support/loopback_floor.rs`, measured after the run): the connections per case and one
//! round trip each, which bound the rate before any work of ours.

#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/loopback_floor.rs"]
mod loopback_floor;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The 1-minute load average, as /proc/loadavg says.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The cases per second the issue asks for on a 2-core machine with liveness checks on.
const GOAL_CASES_PER_S: f64 = 20_000.0;

fn main() {
    let secs: u64 =
        std::env::var("FUZZ_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = std::env::var("FUZZ_BENCH_WORKERS").ok();
    let findings = tempfile::tempdir().expect("temporary directory");
    let load_before = load_average();
    let mut child = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .args(["fuzz", "--json", "--duration", &format!("{secs}s")])
        .args(workers.iter().flat_map(|w| ["--workers", w.as_str()]))
        .arg("--findings")
        .arg(findings.path())
        .args(std::env::var("FUZZ_BENCH_ARGS").unwrap_or_default().split_whitespace())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start doipcheck fuzz");
    let pid = child.id();
    let start = Instant::now();
    let mut samples: Vec<(u64, u64)> = Vec::new();
    let mut peak = 0;
    let mut tick = 0u32;
    while child.try_wait().expect("wait").is_none() {
        std::thread::sleep(Duration::from_millis(100));
        tick += 1;
        if tick.is_multiple_of(10)
            && let Some(rss) = status_kb(pid, "VmRSS:")
        {
            samples.push((start.elapsed().as_secs(), rss));
        }
        peak = peak.max(status_kb(pid, "VmHWM:").unwrap_or(peak));
    }
    let mut out = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read summary");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON summary");
    println!(
        "fuzz_live: {} worker(s): {} cases ({} over TLS) in {} s: {} cases/s, {} liveness checks, {} findings",
        summary["workers"],
        summary["cases"],
        summary["cases_over_tls"],
        summary["elapsed_s"],
        summary["cases_per_s"],
        summary["healthy_checks"],
        summary["findings"]
    );
    // Against the conformant simulator a finding is a false one: say what it was, before the
    // temporary directory goes.
    for dir in summary["finding_dirs"].as_array().into_iter().flatten() {
        let path = std::path::Path::new(dir.as_str().unwrap_or_default()).join("finding.json");
        let finding: serde_json::Value = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        println!(
            "fuzz_live: finding {}: {} after case {} ({}): {}",
            dir,
            finding["oracle"],
            finding["case_index"],
            finding["confirmation"]["status"],
            finding["detail"]
        );
    }
    let at = |fraction: f64| {
        let i = ((samples.len() as f64 * fraction) as usize).min(samples.len().saturating_sub(1));
        samples.get(i).map_or(0, |s| s.1)
    };
    println!(
        "fuzz_live: RSS {} kB at 10%, {} kB at 50%, {} kB at 100% of the run; peak (VmHWM) {} kB",
        at(0.1),
        at(0.5),
        at(1.0),
        peak
    );
    // The child has been waited for: its whole CPU time, to the microsecond.
    let (user_s, kernel_s) = cpu_time::user_and_kernel(cpu_time::Who::WaitedChildren);
    let wall = start.elapsed().as_secs_f64();
    println!(
        "fuzz_live: CPU {:.1} s user + {:.1} s kernel ({:.0} % kernel), {:.2} cores busy over {:.1} s",
        user_s,
        kernel_s,
        100.0 * kernel_s / (user_s + kernel_s).max(1e-9),
        (user_s + kernel_s) / wall.max(1e-9),
        wall
    );
    // What a loaded machine changes least: the CPU time a case costs (fuzzer and simulator).
    let cases = summary["cases"].as_f64().unwrap_or(0.0);
    let per_cpu_second = cases / (user_s + kernel_s).max(1e-9);
    println!(
        "fuzz_live: {per_cpu_second:.0} cases per CPU second (user + kernel): at most {:.0} \
         cases/s on {cores} core(s) the run had to itself; load average {load_before} before, \
         {} after",
        per_cpu_second * cores as f64,
        load_average()
    );
    // The kernel's share no fuzzer can save: each case's round trip (its messages and the
    // barrier's answer) and its share of the connections the run opened, at what loopback
    // TCP alone costs on this machine, measured now that the run is over.
    let connections = summary["connections"].as_f64().unwrap_or(0.0);
    let floor = loopback_floor::measure(50_000, 20_000);
    let per_case = connections / cases.max(1.0);
    let floor_us = per_case * floor.connection.total_us() + floor.round_trip.total_us();
    println!(
        "fuzz_live: {connections} connections, {per_case:.2} per case; loopback TCP alone costs \
         {:.1} µs of CPU per connection and {:.1} µs per round trip here: {floor_us:.1} µs per \
         case, at most {:.0} cases/s on {cores} core(s) before any work of the fuzzer or the \
         simulator (TLS cases cost more)",
        floor.connection.total_us(),
        floor.round_trip.total_us(),
        cores as f64 * 1e6 / floor_us.max(1e-9),
    );
    let rate = summary["cases_per_s"].as_f64().unwrap_or(0.0);
    let met = if rate >= GOAL_CASES_PER_S { "met" } else { "NOT met" };
    println!("fuzz_live: goal {GOAL_CASES_PER_S:.0} cases/s {met} ({rate:.0} cases/s)");
}
