//! The reports of a real run: `doipcheck run --pcap all` over the shipped suites against the
//! built-in simulator writes a strictly well-formed JUnit file, a JSON report that parses, and
//! a capture per case in which tshark decodes at least every DoIP message the harness decoded,
//! and flags no packet as malformed in a case whose frames all decoded. (Cases that send
//! malformed messages on purpose or receive garbage do get malformed packets: that is what they
//! test; the capture comments such frames.)

use std::path::Path;
use std::process::{Command, Stdio};

use crate::tshark;

#[test]
fn a_real_run_writes_strict_junit_valid_json_and_captures_tshark_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--plain", "--pcap", "all", "--report-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&out.stderr);
    assert!(console.contains("Summary ["), "{console}");

    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap_or_else(|e| panic!("{e}\n{junit}"));
    let testcases = doc.descendants().filter(|n| n.has_tag_name("testcase")).count();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let cases = report["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    assert_eq!(testcases, cases.len());

    if !tshark::tshark_or_skip("a_real_run_writes_captures_tshark_decodes") {
        return;
    }
    // tshark's start-up dominates its time, but each instance holds ~150 MB: run as many at
    // once as there are cores, never one per case (a few hundred cases would exhaust memory).
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut checks = Vec::new();
    for case in cases {
        let Some(capture) = case["finished"]["capture"].as_str() else { continue };
        let frames: Vec<&serde_json::Value> = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["event"] == "frame"
                    && (e["transport"] == "tcp"
                        || e["transport"] == "tls"
                        || e["transport"] == "udp")
            })
            .collect();
        let decoded = frames.iter().filter(|e| e["decoded"].get("message").is_some()).count();
        checks.push((capture.to_owned(), decoded, decoded == frames.len()));
    }
    // Skipped cases (a `requires` the profile lacks, e.g. the ISO-TP suites) never ran.
    let ran = cases.iter().filter(|c| c["verdict"] != "skipped").count();
    assert_eq!(checks.len(), ran, "--pcap all keeps a capture of every case that ran");
    let mut runs = Vec::new();
    for batch in checks.chunks(parallel) {
        let children: Vec<_> = batch
            .iter()
            .map(|(capture, _, _)| {
                Command::new("tshark")
                    .args(["-n", "-2", "-r", capture, "-T", "fields", "-E", "separator=/t"])
                    .args(["-E", "occurrence=a", "-E", "aggregator=,"])
                    .args(["-e", "frame.number", "-e", "doip.type", "-e", "_ws.expert.severity"])
                    .args(["-e", "frame.comment"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for ((capture, decoded, all_decoded), child) in batch.iter().zip(children) {
            runs.push((capture.clone(), *decoded, *all_decoded, child.wait_with_output().unwrap()));
        }
    }
    // _ws.expert.severity of an error-level note (Wireshark's PI_ERROR).
    const ERROR: u32 = 0x0080_0000;
    for (capture, decoded, all_decoded, out) in runs {
        assert!(out.status.success(), "tshark failed on {capture}");
        let text = String::from_utf8(out.stdout).unwrap();
        let mut doip_messages = 0;
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            doip_messages += f[1].split(',').filter(|t| !t.is_empty()).count();
            let error = f[2].split(',').any(|s| s.parse::<u32>().is_ok_and(|s| s >= ERROR));
            assert!(
                !(error && all_decoded),
                "{capture}: frame {} is malformed although the harness decoded every frame:\n{text}",
                f[0]
            );
        }
        assert!(
            doip_messages >= decoded,
            "{}: tshark decoded {doip_messages} DoIP messages, the harness {decoded}:\n{text}",
            Path::new(&capture).display()
        );
    }
}
