//! `doipcheck fuzz` against the built-in simulator on loopback, liveness checks included:
//! cases per second (against the goal of 20 000), the resident set size sampled through the
//! run (it must stay flat) and the process's CPU time split into kernel and user.
//!
//! `cargo bench --bench fuzz_live` runs 30 s with `--workers 2` (both cores of a 2-core
//! machine, each worker with its own simulator); `FUZZ_BENCH_SECS=600` gives the 10-minute
//! figure, `FUZZ_BENCH_WORKERS=1` one worker; `FUZZ_BENCH_WORKERS=1 FUZZ_BENCH_ARGS="--can sim"`
//! fuzzes the simulator's CAN ECU instead, `FUZZ_BENCH_ARGS="--tls-share 100"` sends every TCP
//! case over TLS (`--tls-share 0` none) to compare the two. The binary under test is the one cargo built for
//! this bench profile.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User and kernel CPU time of `pid` so far, in clock ticks (`/proc/PID/stat` fields 14 and
/// 15, counted after the parenthesised command name, which may hold spaces).
fn cpu_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let mut fields = after_name.split_whitespace().skip(11);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// The cases per second the issue asks for on a 2-core machine with liveness checks on.
const GOAL_CASES_PER_S: f64 = 20_000.0;

fn main() {
    let secs: u64 =
        std::env::var("FUZZ_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let workers = std::env::var("FUZZ_BENCH_WORKERS").unwrap_or_else(|_| "2".into());
    let findings = tempfile::tempdir().expect("temporary directory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .args(["fuzz", "--json", "--duration", &format!("{secs}s"), "--workers", &workers])
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
    // Sampled every 100 ms: the last sample misses at most that much of the CPU time.
    let mut cpu = (0, 0);
    let mut tick = 0u32;
    while child.try_wait().expect("wait").is_none() {
        std::thread::sleep(Duration::from_millis(100));
        cpu = cpu_ticks(pid).unwrap_or(cpu);
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
        "fuzz_live: {workers} worker(s): {} cases ({} over TLS) in {} s: {} cases/s, {} liveness checks, {} findings",
        summary["cases"],
        summary["cases_over_tls"],
        summary["elapsed_s"],
        summary["cases_per_s"],
        summary["healthy_checks"],
        summary["findings"]
    );
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
    let (user, kernel) = cpu;
    let wall = start.elapsed().as_secs_f64();
    // Clock ticks are 1/100 s on Linux (USER_HZ).
    let (user_s, kernel_s) = (user as f64 / 100.0, kernel as f64 / 100.0);
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
    println!(
        "fuzz_live: {:.0} cases per CPU second (user + kernel)",
        cases / (user_s + kernel_s).max(1e-9)
    );
    let rate = summary["cases_per_s"].as_f64().unwrap_or(0.0);
    let met = if rate >= GOAL_CASES_PER_S { "met" } else { "NOT met" };
    println!("fuzz_live: goal {GOAL_CASES_PER_S:.0} cases/s {met} ({rate:.0} cases/s)");
}
