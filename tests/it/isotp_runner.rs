//! The ISO-TP suites against the built-in simulator's CAN ECU: a handful of
//! raw-frame and `isotp_send` / `isotp_expect` cases pass, every CAN frame they moved is in the
//! JSON report and in the case's capture (LINKTYPE_CAN_SOCKETCAN), and suites/isotp catches
//! every ISO-TP fault its cases list.

use pcap_file::DataLink;
use pcap_file::pcapng::{Block, PcapNgReader};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The CAN frames of a capture file (enhanced packets on a SocketCAN interface) and how many
/// packets it holds in all.
fn captured_can_frames(path: &Path) -> (usize, usize) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapNgReader::new(&bytes[..]).expect("a pcapng file");
    let (mut can, mut all) = (0, 0);
    while let Some(block) = reader.next_block() {
        let (block, state) = block.expect("a well-formed block");
        if let Block::EnhancedPacket(p) = block {
            all += 1;
            if state.interfaces()[p.interface_id as usize].linktype == DataLink::CAN_SOCKETCAN {
                can += 1;
            }
        }
    }
    (can, all)
}

#[test]
fn isotp_cases_pass_against_the_simulator_and_every_can_frame_is_reported_and_captured() {
    let dir = tempfile::tempdir().unwrap();
    // Raw frames (reception with SN wrap, sender with BS 1, functional SF) and whole messages
    // through the harness's stack (segmented both ways; response pending with the handler).
    let cases = [
        "ISOTP-RX-SN-002",
        "ISOTP-TX-BS-001",
        "ISOTP-RX-FUNC-001",
        "ISOTP-UDS-003",
        "ISOTP-UDS-005",
    ];
    let mut command = Command::new(env!("CARGO_BIN_EXE_doipcheck"));
    command
        .current_dir(root())
        .args(["run", "--plain", "--jobs", "2", "--pcap", "all", "--report-dir"])
        .arg(dir.path());
    for case in cases {
        command.args(["--case", case]);
    }
    let out = command.arg("suites/isotp").output().expect("doipcheck runs");
    let console = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{console}");

    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let ran = report["cases"].as_array().expect("cases");
    assert_eq!(ran.len(), cases.len(), "{console}");
    for case in ran {
        let id = case["info"]["id"].as_str().unwrap();
        assert_eq!(case["verdict"], "pass", "{id}: {}", case["finished"]["reason"]);
        let frames: Vec<&Value> = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "frame" && e["transport"] == "can")
            .collect();
        let bytes = |direction: &str| -> Vec<&str> {
            frames
                .iter()
                .filter(|e| e["direction"] == direction)
                .map(|e| e["bytes"].as_str().unwrap())
                .collect()
        };
        let (sent, received) = (bytes("sent"), bytes("received"));
        assert!(!sent.is_empty() && !received.is_empty(), "{id}: {frames:?}");
        if id == "ISOTP-UDS-003" {
            // isotp_send: the 9-byte request (uds.did 0xF190 four times) as FF + CF around the
            // ECU's FC; isotp_expect: the 77-byte answer's FF (FF_DL 0x4D), our FC, then 11 CFs.
            assert_eq!(sent[0], "100922f190f190f1", "{sent:?}");
            assert!(sent[1].starts_with("2190f190"), "{sent:?}");
            assert!(sent[2].starts_with("300000"), "{sent:?}");
            assert!(received[0].starts_with("30"), "{received:?}");
            assert!(received[1].starts_with("104d62f190"), "{received:?}");
            assert_eq!(received.len(), 1 + 1 + 11, "{received:?}");
        }
        let capture = case["finished"]["capture"].as_str().expect("--pcap all keeps a capture");
        let (can, all) = captured_can_frames(Path::new(capture));
        assert_eq!((can, all), (frames.len(), frames.len()), "{id}: {capture}");
    }
}

/// The proof of the ISO-TP suites: every case passes against the conformant simulator
/// and fails against each ISO-TP fault it lists; every ISO-TP fault is listed by some case.
/// Only the listed cases run against each fault (runner_sim samples unrelated ones).
#[tokio::test(flavor = "current_thread")]
async fn the_isotp_suites_pass_and_catch_every_isotp_fault() {
    let profile_path = root().join("suites/profile.yaml");
    let profile = doipcheck::suite::load::load_profile(Some(&profile_path)).expect("profile");
    let catalogue = doipcheck::runner::target::known_faults();
    let loaded = doipcheck::suite::load::load_suites(&[root().join("suites/isotp")], &catalogue)
        .expect("suites load");
    let plan = doipcheck::suite::select::select_cases(&loaded, &profile, &Default::default());
    assert!(plan.len() >= 60, "at least 60 ISO-TP cases are shipped: {}", plan.len());
    assert!(plan.iter().all(|p| p.skip.is_none()), "the simulator's profile declares isotp");
    let faults: Vec<String> =
        catalogue.iter().filter(|f| f.starts_with("isotp_")).map(|f| f.to_string()).collect();
    let sim = doipcheck::runner::target::simulator_config(&profile, Some(&profile_path))
        .expect("the simulator configuration loads");
    let proof = doipcheck::proof::selftest::prove(&plan, &profile, &sim, &faults, 2, 0)
        .await
        .expect("the selftest runs");
    assert!(proof.mismatches().is_empty(), "{}", proof.render());
    assert_eq!(proof.uncovered(), Vec::<&str>::new(), "{}", proof.render());
    assert_rules_agree(&proof);
    let gaps = proof.rule_gaps(|_| true);
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

/// Every rule `run`'s judge named for a failed case is found again in that case's capture read
/// back as `inspect` reads it, and the rules show some faults at all.
pub fn assert_rules_agree(proof: &doipcheck::proof::selftest::Proof) {
    let named: Vec<_> =
        proof.rules.iter().filter(|(_, r)| !r.live.is_empty() && !r.encrypted).collect();
    assert!(!named.is_empty(), "no failed case named a rule: {}", proof.agreement());
    assert!(named.iter().all(|(_, r)| r.agrees()), "{}", proof.agreement());
}

/// `can_settle` reads (and records) what earlier steps set off until the bus is quiet: two
/// TesterPresent answers are taken by it, so `expect_none` after it passes; without it the
/// same `expect_none` sees the first answer and fails.
#[test]
fn can_settle_takes_what_earlier_steps_set_off() {
    let dir = tempfile::tempdir().unwrap();
    let suite = |settle: &str| {
        format!(
            "suite: settle\ntitle: settle\nrequires: [isotp]\ncases:\n  - id: S-1\n    title: settle\n    steps:\n      - can_send: {{ id: \"${{profile.isotp.tx_id}}\", data: \"02 3E 00 CC CC CC CC CC\" }}\n      - can_send: {{ id: \"${{profile.isotp.tx_id}}\", data: \"02 3E 00 CC CC CC CC CC\" }}\n{settle}      - expect_none: {{ connection: can, for: 100ms }}\n"
        )
    };
    let run = |name: &str, text: String| {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
            .current_dir(root())
            .args(["run", "--plain", "--report-dir"])
            .arg(dir.path().join(name))
            .arg(&path)
            .output()
            .expect("doipcheck runs");
        let report: Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(name).join("report.json")).unwrap(),
        )
        .unwrap();
        (out.status.code(), report, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (code, report, console) = run("with", suite("      - can_settle: { quiet: 30ms }\n"));
    assert_eq!(code, Some(0), "{console}");
    let received = report.to_string().matches(r#""bytes":"027e00cccccccccc""#).count();
    assert_eq!(received, 2, "both answers are recorded: {report}");
    let (code, _, console) = run("bare", suite("      - can_settle:\n"));
    assert_eq!(code, Some(0), "{console}");
    let (code, _, console) = run("without", suite(""));
    assert_eq!(code, Some(1), "{console}");
    assert!(console.contains("expected no CAN frame"), "{console}");
}

/// A case that ends while the node still answers keeps what the node sent: the settle after
/// its last step records both TesterPresent answers in that case, with a note saying how long
/// the node kept the bus busy, and the next case starts on a quiet bus (its `expect_none`
/// passes and it holds none of those frames).
#[test]
fn late_answers_belong_to_the_case_that_caused_them_with_a_settle_note() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.yaml");
    let tester_present =
        "      - can_send: { id: \"${profile.isotp.tx_id}\", data: \"02 3E 00 CC CC CC CC CC\" }\n";
    std::fs::write(
        &path,
        format!(
            "suite: late\ntitle: late answers\nrequires: [isotp]\ncases:\n  - id: L-1\n    title: asks and leaves\n    steps:\n{tester_present}{tester_present}  - id: L-2\n    title: quiet bus\n    steps:\n      - expect_none: {{ connection: can, for: 100ms }}\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(root())
        .args(["run", "--plain", "--jobs", "1", "--report-dir"])
        .arg(dir.path().join("reports"))
        .arg(&path)
        .output()
        .expect("doipcheck runs");
    let console = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{console}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("reports/report.json")).unwrap())
            .unwrap();
    let cases = report["cases"].as_array().expect("cases");
    let case = |id: &str| {
        cases.iter().find(|c| c["info"]["id"] == id).unwrap_or_else(|| panic!("{id}: {report}"))
    };
    let (first, second) = (case("L-1").to_string(), case("L-2").to_string());
    let answer = r#""bytes":"027e00cccccccccc""#;
    assert_eq!(first.matches(answer).count(), 2, "both answers are in the first case: {first}");
    assert!(
        first.contains("after the last step the node kept the bus busy for")
            && first.contains("2 frames recorded in this case, not matched by the next"),
        "the settle note: {first}"
    );
    assert!(!second.contains(answer), "the next case holds none of them: {second}");
    assert_eq!(case("L-2")["finished"]["verdict"], "pass", "{second}");
}

/// A CAN ECU that hangs mid-run (`isotp_hang_on_large_ff_dl`): after the case that hung it
/// failed, the health probe's TesterPresent on the profile's id pair goes unanswered, the
/// case is named as the one after which the ISO-TP node stopped, and a later ISO-TP case
/// fails pointing at it rather than only "nothing arrived".
#[test]
fn a_can_node_that_stops_answering_is_named_with_the_case_after_which_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("hang.yaml");
    std::fs::write(
        &suite,
        r#"suite: can-hang
title: a CAN node that stops answering
requires: [isotp]
cases:
  - id: CAN-1
    title: TesterPresent is answered
    steps:
      - isotp_send: { data: "3E 00" }
      - isotp_expect: { data: "7E 00", within: "${profile.uds.p2}" }
  - id: CAN-2
    title: a first frame announcing 65536 bytes is refused with FC OVFLW
    steps:
      - can_send: { id: "${profile.isotp.tx_id}", data: "10 00 00 01 00 00 22 F1" }
      - can_expect: { id: "${profile.isotp.rx_id}", data: "32 ..", within: "${profile.isotp.n_bs}" }
  - id: CAN-3
    title: TesterPresent is answered again
    steps:
      - isotp_send: { data: "3E 00" }
      - isotp_expect: { data: "7E 00", within: "${profile.uds.p2}" }
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(root())
        .args(["run", "--plain", "--jobs", "1", "--sim-fault", "isotp_hang_on_large_ff_dl"])
        .arg("--report-dir")
        .arg(dir.path().join("r"))
        .arg(&suite)
        .output()
        .expect("doipcheck runs");
    let console = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{console}");
    assert!(console.contains("1 passed, 2 failed"), "{console}");
    assert!(
        console.contains(
            "the target's ISO-TP (CAN) service stopped answering after case CAN-2 (health probe): "
        ),
        "{console}"
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/report.json")).unwrap()).unwrap();
    let transcript = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["info"]["id"] == "CAN-2")
        .map(|c| c.to_string())
        .unwrap();
    assert!(
        transcript.contains("health: the target's ISO-TP (CAN) service stopped answering after this case (a TesterPresent (3E 00) on 0x7E0 got no answer on 0x7E8"),
        "{transcript}"
    );
}
