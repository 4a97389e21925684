//! The reports of a real run: `doipcheck run --pcap all` over the shipped suites against the
//! built-in simulator writes a strictly well-formed JUnit file, a JSON report that parses, and
//! a capture per case in which tshark decodes at least every DoIP message the harness decoded,
//! and flags no packet as malformed in a case whose frames all decoded. (Cases that send
//! malformed messages on purpose or receive garbage do get malformed packets: that is what they
//! test; the capture comments such frames.)

use pcap_file::pcapng::{Block, PcapNgReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::tshark;

/// Packets (enhanced packet blocks) in a pcapng capture.
fn packets_in(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng file");
    let mut packets = 0;
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(_) = block.expect("a well-formed block").0 {
            packets += 1;
        }
    }
    packets
}

#[test]
fn a_real_run_writes_strict_junit_valid_json_and_captures_tshark_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Four jobs (each its own simulator): the same cases and captures in a quarter of the
        // declared waits.
        .args(["run", "--plain", "--jobs", "4", "--pcap", "all", "--report-dir"])
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
    // tshark's start-up dominates its time (about a second per capture on a busy 2-core
    // machine): the captures are concatenated in plan order (`mergecap -a`; each begins with
    // its own synthesised handshakes, so tshark's TCP analysis and reassembly start afresh, and
    // its output is the same as capture by capture) and read by one tshark, whose rows are
    // then split by each capture's packet count.
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
    let merged = dir.path().join("all-captures.pcapng");
    let status = Command::new("mergecap")
        .arg("-a")
        .arg("-w")
        .arg(&merged)
        .args(checks.iter().map(|(capture, _, _)| capture))
        .stderr(Stdio::null())
        .status()
        .expect("mergecap (installed with tshark) runs");
    assert!(status.success(), "mergecap failed");
    let text = tshark_rows(&merged);
    let mut rows = text.lines();
    let mut runs = Vec::new();
    for (capture, decoded, all_decoded) in checks {
        let packets = packets_in(Path::new(&capture));
        let of_capture: Vec<&str> = rows.by_ref().take(packets).collect();
        assert_eq!(of_capture.len(), packets, "{capture}: tshark listed fewer packets");
        runs.push((capture, decoded, all_decoded, of_capture));
    }
    assert_eq!(rows.next(), None, "tshark listed more packets than the captures hold");
    // _ws.expert.severity of an error-level note (Wireshark's PI_ERROR).
    const ERROR: u32 = 0x0080_0000;
    // (DoIP messages, the first malformed frame) of a capture's rows.
    let judge = |rows: &[&str]| {
        let mut doip_messages = 0;
        let mut malformed = None;
        for (number, line) in rows.iter().enumerate() {
            let f: Vec<&str> = line.split('\t').collect();
            doip_messages += f[0].split(',').filter(|t| !t.is_empty()).count();
            let error = f[1].split(',').any(|s| s.parse::<u32>().is_ok_and(|s| s >= ERROR));
            if error && malformed.is_none() {
                malformed = Some(number + 1);
            }
        }
        (doip_messages, malformed)
    };
    for (capture, decoded, all_decoded, rows) in runs {
        let (mut doip_messages, mut malformed) = judge(&rows);
        let mut text = rows.join("\n");
        // In the concatenation a case's connection may reuse an earlier case's ports and
        // sequence numbers, which tshark then reads as retransmissions: such a capture is
        // read again alone, which is what a user does with it.
        if doip_messages < decoded || (malformed.is_some() && all_decoded) {
            text = tshark_rows(Path::new(&capture));
            (doip_messages, malformed) = judge(&text.lines().collect::<Vec<_>>());
        }
        if let Some(number) = malformed {
            assert!(
                !all_decoded,
                "{capture}: frame {number} is malformed although the harness decoded every frame:\n{text}"
            );
        }
        assert!(
            doip_messages >= decoded,
            "{}: tshark decoded {doip_messages} DoIP messages, the harness {decoded}:\n{text}",
            Path::new(&capture).display()
        );
    }
}

/// tshark's rows of `capture` (two passes): the DoIP types and expert severities of each frame.
fn tshark_rows(capture: &Path) -> String {
    let out = Command::new("tshark")
        .args(["-n", "-2", "-r"])
        .arg(capture)
        .args(["-T", "fields", "-E", "separator=/t"])
        .args(["-E", "occurrence=a", "-E", "aggregator=,"])
        .args(["-e", "doip.type", "-e", "_ws.expert.severity"])
        .stderr(Stdio::null())
        .output()
        .expect("tshark runs");
    assert!(out.status.success(), "tshark failed on {}", capture.display());
    String::from_utf8(out.stdout).unwrap()
}
