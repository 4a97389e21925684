//! Replay of the shipped recordings against every simulator fault: how many faulted replays
//! fail (the fault is detected), per recording and in all, and which faults each recording
//! does not catch, with the rule each fault breaks.
//!
//! The recordings are the tcpdump/dumpcap fixtures of `fixtures/captures` whose replay
//! passes against the conformant simulator they were recorded from (`fixtures/sim/sim.yaml`,
//! port 23400, as `tests/it/replay_captures.rs` replays them); each is replayed once per fault
//! of `doipcheck sim --list-faults`, two at a time.
//!
//! `cargo build --release && cargo run --release --example replay_faults`
//! (`DOIPCHECK=path/to/doipcheck` to use another binary).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use doipcheck::sim::faults::Fault;

const RECORDINGS: &[&str] = &[
    "lo-ethernet.pcap",
    "any-sll2-nano.pcap",
    "any-sll.pcap",
    "lo-dumpcap.pcapng",
    "lo-ethernet.pcap.gz",
];

/// Replays `capture` (with `fault`); the exit code.
fn replay(bin: &Path, profile: &Path, capture: &Path, fault: Option<Fault>, out: &Path) -> i32 {
    let mut command = Command::new(bin);
    command
        .arg("replay")
        .arg(capture)
        .args(["--doip-port", "23400", "--plain", "--pcap", "none", "-p"])
        .arg(profile)
        .arg("-o")
        .arg(out);
    if let Some(fault) = fault {
        command.args(["--sim-fault", fault.name()]);
    }
    command.output().map(|o| o.status.code().unwrap_or(-1)).unwrap_or(-1)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::var_os("DOIPCHECK")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/doipcheck"));
    assert!(bin.exists(), "{} missing: cargo build --release first", bin.display());
    let temp = tempfile::tempdir().unwrap();
    // The simulator's profile with the recordings' configuration and its own timing
    // tolerance (50 ms; `TOLERANCE=250ms` as the replay test takes on a shared machine, which
    // hides a fault that moves a timer by less, e.g. announcements 250 ms early).
    let text = std::fs::read_to_string(root.join("suites/profile.yaml")).unwrap();
    let sim = root.join("fixtures/sim/sim.yaml");
    let tolerance = std::env::var("TOLERANCE").unwrap_or_else(|_| "50ms".into());
    let text = text
        .replace("simulator: sim.yaml", &format!("simulator: {}", sim.display()))
        .replace("tolerance: 50ms", &format!("tolerance: {tolerance}"));
    let profile = temp.path().join("profile.yaml");
    std::fs::write(&profile, text).unwrap();
    let started = Instant::now();
    let mut jobs = Vec::new();
    for name in RECORDINGS {
        let capture = root.join("fixtures/captures").join(name);
        let out = temp.path().join(format!("{name}-baseline"));
        let code = replay(&bin, &profile, &capture, None, &out);
        if code != 0 {
            println!("{name}: the replay without a fault exits {code}: left out");
            continue;
        }
        for &fault in Fault::ALL {
            jobs.push((*name, capture.clone(), fault));
        }
    }
    let total = jobs.len();
    let queue = Mutex::new(jobs.into_iter().enumerate());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some((i, (name, capture, fault))) = queue.lock().unwrap().next() else {
                        return;
                    };
                    let out = temp.path().join(format!("run-{i}"));
                    let code = replay(&bin, &profile, &capture, Some(fault), &out);
                    let _ = std::fs::remove_dir_all(&out);
                    results.lock().unwrap().push((name, fault, code));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let detected = results.iter().filter(|(.., code)| *code == 1).count();
    let mut missed: BTreeMap<Fault, Vec<&str>> = BTreeMap::new();
    for (name, fault, code) in &results {
        if *code != 1 {
            missed.entry(*fault).or_default().push(name);
        }
        if *code != 0 && *code != 1 {
            println!("{name} with {}: exit {code}", fault.name());
        }
    }
    println!(
        "replays of {} recording(s) x {} faults (tolerance {tolerance}): {detected} of {total} faulted replays detected ({:.1} s)",
        total / Fault::ALL.len().max(1),
        Fault::ALL.len(),
        started.elapsed().as_secs_f64()
    );
    println!("faults not detected ({}):", missed.len());
    for (fault, names) in &missed {
        println!("  {:<40} {:<36} in {} recording(s)", fault.name(), fault.rule(), names.len());
    }
}
