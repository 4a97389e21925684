//! A CAN node with no DoIP as the target in its own right: python can-isotp 2.0.7 with a small
//! UDS server on top (tests/python/isotp_uds_node.py), over cannelloni on 127.0.0.1, tested by
//! `doipcheck run suites/isotp --can SPEC` with no --target, every case twice (`--repeat 2`).
//!
//! What must hold: the verdicts repeat (no case flaky), nothing ends in `error`, the cases
//! that need DoIP or a node the profile does not declare are skipped with the reason, the core
//! flow-control and UDS cases pass, and exactly the cases where can-isotp deviates from
//! ISO 15765-2:2016 fail. Each deviation was confirmed in its source (isotp/protocol.py):
//! - `PDU.__init__` takes an escaped single frame (00 LL) in a classic 8-byte frame (§9.6.2.1:
//!   the escape is for CAN_DL > 8 only): ISOTP-RX-SF-003.
//! - `_start_reception_after_first_frame_if_valid` has no lower bound on FF_DL (§9.6.3.1:
//!   FF_DL below 8 is ignored): ISOTP-RX-FF-001.
//! - An escaped first frame whose FF_DL fits 12 bits is taken (§9.6.3.1: ignored):
//!   ISOTP-RX-FF-003.
//! - A frame with a reserved N_PCI type raises in `PDU.__init__`, and `_process_rx` answers
//!   with `_stop_receiving()`: the running reception is lost (§9.6.1: ignore it):
//!   ISOTP-RX-IGN-002.
//! - A flow control with a reserved STmin raises 'Invalid StMin', so the sender never sends
//!   its consecutive frames (§9.6.5.4: use 127 ms): ISOTP-TX-STMIN-003.

use crate::can_transport::free_udp_ports;
use crate::sim_interop::venv_python;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NODE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/isotp_uds_node.py");

/// The python node, killed when the test ends whatever happens.
pub(crate) struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start_node(python: &Path, local: u16, remote: u16) -> Node {
    start_node_logging(python, local, remote, None)
}

/// [`start_node`], the node writing a line per frame it sends to `tx_log` (its `--tx-log`).
pub(crate) fn start_node_logging(
    python: &Path,
    local: u16,
    remote: u16,
    tx_log: Option<&Path>,
) -> Node {
    let mut command = Command::new(python);
    command
        .arg(NODE)
        .args(["--local", &local.to_string(), "--remote", &remote.to_string()])
        .args(["--tx-id", "7E8", "--rx-id", "7E0", "--functional-id", "7DF", "--timeout", "400"]);
    if let Some(log) = tx_log {
        command.arg("--tx-log").arg(log);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the python node");
    // READY is the first line; read byte by byte (bounded) so the rest stays in the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"READY\n") {
        assert!(Instant::now() < deadline, "the node never said READY");
        match stdout.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            _ => {
                let mut err = String::new();
                let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("the node ended before READY: {err}");
            }
        }
    }
    // The node keeps printing a line per request, and can-isotp logs every frame it ignores
    // on stderr: drain both so no pipe fills (a full one blocks the node, which then looks
    // hung to the fuzzer).
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    });
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
    }
    Node(child)
}

/// Cases where can-isotp deviates from ISO 15765-2 (see the module comment).
const DEVIATIONS: &[&str] = &[
    "ISOTP-RX-SF-003",
    "ISOTP-RX-FF-001",
    "ISOTP-RX-FF-003",
    "ISOTP-RX-IGN-002",
    "ISOTP-TX-STMIN-003",
];

/// Core flow control and UDS cases a conformant node passes.
const CORE: &[&str] = &[
    "ISOTP-RX-FC-001",
    "ISOTP-RX-SN-001",
    "ISOTP-RX-NCR-001",
    "ISOTP-TX-CTS-001",
    "ISOTP-TX-BS-001",
    "ISOTP-TX-STMIN-010",
    "ISOTP-TX-WAIT-001",
    "ISOTP-TX-OVFLW-001",
    "ISOTP-TX-NBS-001",
    "ISOTP-UDS-002",
    "ISOTP-UDS-003",
    "ISOTP-UDS-004",
];

/// `dir/node.yaml`: the profile `profile init --can` writes, as a user starts, with the UDS
/// facts of the python node.
pub(crate) fn write_node_profile(dir: &Path) {
    // The profile `profile init --can` writes, as a user starts: the node uses the defaults
    // (0x7E0 / 0x7E8, functional 0x7DF, padding 0xCC) but for the DID it answers.
    let init = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(dir)
        .args(["profile", "init", "--can", "-o", "node.yaml"])
        .output()
        .expect("profile init");
    assert_eq!(init.status.code(), Some(0), "{}", String::from_utf8_lossy(&init.stderr));
    // Its UDS facts are not the simulator's: the suites must read them from the profile.
    let written = std::fs::read_to_string(dir.join("node.yaml")).expect("profile");
    let (sim_did, sim_value) =
        ("did: 0xF190\n", "did_value: \"57 44 4F 49 50 43 48 45 43 4B 30 30 30 30 30 30 31\"\n");
    assert!(written.contains(sim_did) && written.contains(sim_value), "{written}");
    // "PYTHON-ISOTP-01", what tests/python/isotp_uds_node.py answers for 0xF18A.
    let node_value = "did_value: \"50 59 54 48 4F 4E 2D 49 53 4F 54 50 2D 30 31\"\n";
    let profile = written.replace(sim_did, "did: 0xF18A\n").replace(sim_value, node_value);
    std::fs::write(dir.join("node.yaml"), profile).expect("write the profile");
}

/// The suites run in two shards at once, each against its own python node: the same cases,
/// each twice, in half the wall time (one node serves one case at a time).
#[test]
fn a_third_party_isotp_node_alone_gets_repeatable_verdicts() {
    let Some(python) = venv_python() else { return };
    let suites = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/isotp");
    let ports = free_udp_ports::<4>();
    let shards: Vec<_> = ["1/2", "2/2"]
        .iter()
        .zip(ports.chunks(2))
        .map(|(shard, pair)| {
            let (ours, theirs) = (pair[0], pair[1]);
            let node = start_node(&python, theirs, ours);
            let dir = tempfile::tempdir().expect("temp dir");
            write_node_profile(dir.path());
            let run = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
                .current_dir(dir.path())
                .args(["run", "--plain", "--repeat", "2", "--shard", shard])
                .args(["-p", "node.yaml", "--can"])
                .arg(format!("cannelloni:{ours}@127.0.0.1:{theirs}"))
                .arg(&suites)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("runs");
            (node, dir, run)
        })
        .collect();
    let mut failed = Vec::new();
    let mut ran = 0;
    for (node, dir, run) in shards {
        let out = run.wait_with_output().expect("the run ends");
        drop(node);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("against CAN node on cannelloni:"), "{stderr}");
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("reports/report.json")).expect("report"),
        )
        .expect("JSON");
        let counts = &report["counts"];
        assert_eq!(counts["error"], 0, "no error: {stderr}");
        assert_eq!(counts["inconclusive"], 0, "no inconclusive: {stderr}");
        assert_eq!(counts["flaky"], 0, "the verdicts repeat: {stderr}");
        let mut failed_here = false;
        for case in report["cases"].as_array().expect("cases") {
            ran += 1;
            let id = case["info"]["id"].as_str().expect("id");
            let base = id.split('[').next().unwrap_or(id).to_owned();
            let finished = &case["finished"];
            let verdict = finished["verdict"].as_str().expect("verdict");
            if verdict != "skipped" {
                assert_eq!(finished["attempts"], 2, "{id} ran twice");
            }
            if verdict == "fail" {
                failed_here = true;
                failed.push(base.clone());
            }
            if CORE.contains(&base.as_str()) {
                assert_eq!(verdict, "pass", "{id}: {}", finished["reason"]);
            }
            if verdict == "skipped" {
                let why = finished["reason"]["message"].as_str().unwrap_or("");
                assert!(why.starts_with("the profile lacks"), "{id}: {why}");
            }
        }
        let code = if failed_here { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(code), "the deviations fail: {stderr}");
    }
    assert!(ran >= 60, "both shards together ran the ISO-TP suites: {ran} cases");
    failed.sort();
    failed.dedup();
    let mut expected: Vec<String> = DEVIATIONS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(failed, expected);
}

/// `doipcheck fuzz --can` against a real ISO-TP stack: every case gets its barrier answered or
/// the liveness oracle passes after it, so 1000 cases end with no finding and no error.
#[test]
fn the_fuzzer_runs_against_a_third_party_isotp_node_without_false_findings() {
    let Some(python) = venv_python() else { return };
    let [ours, theirs] = free_udp_ports::<2>();
    let _node = start_node(&python, theirs, ours);
    let dir = tempfile::tempdir().expect("temp dir");
    write_node_profile(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(dir.path())
        .args(["fuzz", "--json", "--cases", "1000", "--batch", "100", "--duration", "90s"])
        .args(["-p", "node.yaml", "--can"])
        .arg(format!("cannelloni:{ours}@127.0.0.1:{theirs}"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the summary is JSON");
    assert_eq!(summary["cases"], 1000, "{summary}");
    assert_eq!(summary["findings"], 0, "{summary}");
    assert!(summary["healthy_checks"].as_u64().unwrap_or(0) >= 10, "{summary}");
    assert!(stderr.contains("ISO-TP node on cannelloni:"), "{stderr}");
}
