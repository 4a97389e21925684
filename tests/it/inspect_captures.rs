//! `doipcheck inspect` on captures no doipcheck code wrote (fixtures/captures: tcpdump, dumpcap,
//! gzip, a Python script from the format definitions) and on every capture `doipcheck run`
//! writes: concrete message counts, payload types, byte orders, findings and exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

use doipcheck::cli::inspect::output::Format;
use doipcheck::cli::inspect::{InspectArgs, Settings, inspect_file, settings_from};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures").join(name)
}

/// Runs `doipcheck inspect --json ARGS`: exit code and the JSON lines.
fn inspect(args: &[&str]) -> (i32, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .arg("inspect")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.status.code().unwrap(), lines)
}

/// (rule, packets) of every finding line.
fn rules_and_packets(lines: &[Value]) -> Vec<(String, Vec<u64>)> {
    of_kind(lines, "finding")
        .iter()
        .map(|f| {
            let packets = f["packets"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap());
            (f["rule"].as_str().unwrap().to_owned(), packets.collect())
        })
        .collect()
}

fn of_kind<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["kind"] == kind).collect()
}

/// (transport, from, payload type, valid) of every DoIP line.
fn doip_shape(lines: &[Value]) -> Vec<(String, String, u64, bool)> {
    of_kind(lines, "doip")
        .iter()
        .map(|l| {
            (
                l["transport"].as_str().unwrap().to_owned(),
                l["from"].as_str().unwrap().to_owned(),
                l["payload_type"].as_u64().unwrap(),
                l["valid"].as_bool().unwrap(),
            )
        })
        .collect()
}

const RECORDED: [&str; 5] = [
    "lo-ethernet.pcap",
    "any-sll2-nano.pcap",
    "any-sll.pcap",
    "lo-dumpcap.pcapng",
    "lo-ethernet.pcap.gz",
];

#[test]
fn every_recorded_doip_capture_reads_the_same_conversation_without_findings() {
    let mut shapes = Vec::new();
    for name in RECORDED {
        let path = fixture(name);
        let (code, lines) = inspect(&["--doip-port", "23400", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {lines:?}");
        let summary = lines.last().unwrap();
        assert_eq!(summary["kind"], "summary", "{name}");
        assert_eq!(summary["packets"], 69, "{name}");
        assert_eq!(summary["doip_messages"], 42, "{name}");
        assert_eq!(summary["findings"], 0, "{name}");
        assert_eq!(summary["can_byte_order"], Value::Null, "{name}");
        assert!(of_kind(&lines, "notice").is_empty(), "{name}: {lines:?}");
        let shape = doip_shape(&lines);
        let udp = shape.iter().filter(|s| s.0 == "udp").count();
        assert_eq!(udp, 8, "{name}: 2 announcements, identification, status, power mode");
        // The bad header (connection 3) and the unknown type 0x1234 (connection 4), each
        // answered by its generic NACK.
        let invalid: Vec<_> = shape.iter().filter(|s| !s.3).collect();
        assert_eq!(invalid, [&("tcp".to_owned(), "tester".to_owned(), 5, false)], "{name}");
        let nacks = shape.iter().filter(|s| s.2 == 0 && s.1 == "entity").count();
        assert_eq!(nacks, 2, "{name}");
        assert!(shape.iter().any(|s| s.2 == 0x1234 && s.1 == "tester"), "{name}");
        let connections = of_kind(&lines, "connection");
        assert_eq!(connections.len(), 4, "{name}");
        assert_eq!(connections[2]["closed"], "closed first by the entity", "{name}");
        shapes.push(shape);
    }
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "the five recordings differ");
}

/// DoIP on a port that is neither 13400 nor given with `--doip-port` is found by its header,
/// and the transcript says on which port: the same conversation as with the port given.
#[test]
fn without_its_port_the_conversation_is_found_by_its_header_and_the_port_named() {
    let path = fixture("lo-ethernet.pcap");
    let (code, lines) = inspect(&[path.to_str().unwrap()]);
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(lines.last().unwrap()["doip_messages"], 42);
    assert_eq!(lines.last().unwrap()["packets"], 69);
    let notices = of_kind(&lines, "notice");
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0]["message"].as_str().unwrap().contains("port 23400"), "{notices:?}");
    let (_, given) = inspect(&["--doip-port", "23400", path.to_str().unwrap()]);
    assert_eq!(doip_shape(&lines), doip_shape(&given));
}

/// The same conversation recorded with tcpdump against an entity that answers protocol
/// version 0x02 requests in 0x03 (fixtures/captures/README.md): every such reply is a finding of
/// `doip.reply_version`, with its rule and clause, and nothing else is.
#[test]
fn replies_in_another_protocol_version_are_findings_of_their_rule() {
    let (code, lines) = inspect(&[fixture("lo-wrong-version.pcap").to_str().unwrap()]);
    assert_eq!(code, 1, "{lines:?}");
    let findings = of_kind(&lines, "finding");
    assert!(findings.len() >= 10, "{findings:?}");
    for f in &findings {
        assert_eq!(f["rule"], "doip.reply_version", "{f}");
        assert_eq!(f["clause"], "ISO 13400-2:2019 §8.1.1 protocol version", "{f}");
        assert!(f["message"].as_str().unwrap().contains("answered with 0x03"), "{f}");
    }
    assert_eq!(lines.last().unwrap()["findings"], findings.len());
    // Findings only: the same findings and summary, no line per message.
    let path = fixture("lo-wrong-version.pcap");
    let (code, only) = inspect(&["--findings-only", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(of_kind(&only, "doip").is_empty(), "{only:?}");
    assert_eq!(of_kind(&only, "finding"), findings);
    assert_eq!(only.last(), lines.last());
}

/// (packet, can id, length, data, from) of every ISO-TP line.
fn isotp_shape(lines: &[Value]) -> Vec<(u64, u64, u64, String, String)> {
    of_kind(lines, "isotp")
        .iter()
        .map(|l| {
            (
                l["packet"].as_u64().unwrap(),
                l["can_id"].as_u64().unwrap(),
                l["length"].as_u64().unwrap(),
                l["data"].as_str().unwrap().to_owned(),
                l["from"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn socketcan_captures_in_either_byte_order_give_the_same_isotp_messages() {
    let (code, network) = inspect(&[fixture("can-network.pcap").to_str().unwrap()]);
    assert_eq!(code, 0, "{network:?}");
    let (code, host) = inspect(&[fixture("can-host.pcap").to_str().unwrap()]);
    assert_eq!(code, 0, "{host:?}");
    assert_eq!(network.last().unwrap()["can_byte_order"], "network");
    assert_eq!(host.last().unwrap()["can_byte_order"], "host");
    for lines in [&network, &host] {
        let s = lines.last().unwrap();
        assert_eq!((s["can_frames"].as_u64(), s["isotp_messages"].as_u64()), (Some(10), Some(4)));
        assert_eq!(of_kind(lines, "notice").len(), 1, "the error frame");
    }
    let shape = isotp_shape(&network);
    assert_eq!(shape, isotp_shape(&host));
    let answer = hex::encode(b"\x62\xf1\x8cSERIAL-0001-0002-0003");
    assert_eq!(
        shape,
        [
            (1, 0x7E0, 3, "22f18c".into(), "tester".into()),
            (7, 0x7E8, 24, answer, "ecu".into()),
            (9, 0x18DA_10F1, 10, "2e010000010203040506".into(), "tester".into()),
            (10, 0x18DA_F110, 3, "6e0100".into(), "ecu".into()),
        ]
    );
}

#[test]
fn a_forced_byte_order_and_given_id_pairs_override_the_detection() {
    let host = fixture("can-host.pcap");
    let (_, lines) = inspect(&["--can-byte-order", "network", host.to_str().unwrap()]);
    let summary = lines.last().unwrap();
    assert_eq!(summary["can_byte_order"], "network");
    assert_eq!(summary["isotp_messages"], 0, "ids read the wrong way pair up with nothing");
    let network = fixture("can-network.pcap");
    let (_, lines) = inspect(&["--isotp", "7E0:7E8", network.to_str().unwrap()]);
    assert_eq!(isotp_shape(&lines).iter().map(|s| s.1).collect::<Vec<_>>(), [0x7E0, 0x7E8]);
}

#[test]
fn an_ecu_that_breaks_sn_order_and_stmin_has_findings_naming_its_packets() {
    let (code, lines) = inspect(&[fixture("can-faulty-ecu.pcap").to_str().unwrap()]);
    assert_eq!(code, 1);
    let findings = rules_and_packets(&lines);
    assert_eq!(
        findings,
        [("isotp.flow_control".to_owned(), vec![2, 5]), ("isotp.sequence".to_owned(), vec![2, 5])]
    );
    assert_eq!(lines.last().unwrap()["findings"], 2);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let faulty = fixture("can-faulty-ecu.pcap");
    let (code, _) = inspect(&["--junit", junit.to_str().unwrap(), faulty.to_str().unwrap()]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failing: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && n.children().any(|c| c.has_tag_name("failure")))
        .map(|n| n.attribute("name").unwrap().split(':').next().unwrap())
        .collect();
    assert_eq!(failing, ["isotp.sequence", "isotp.flow_control"]);
}

#[test]
fn unreadable_input_exits_2_and_a_truncated_file_is_read_up_to_its_cut() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture at all").unwrap();
    let (code, lines) = inspect(&[junk.to_str().unwrap()]);
    assert_eq!((code, lines.len()), (2, 0));
    let (code, _) = inspect(&[dir.path().join("missing.pcap").to_str().unwrap()]);
    assert_eq!(code, 2);
    let whole = std::fs::read(fixture("lo-ethernet.pcap")).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 10]).unwrap();
    let (code, lines) = inspect(&["--doip-port", "23400", cut.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(lines.last().unwrap()["packets"], 68);
    let notices = of_kind(&lines, "notice");
    let text = notices.last().unwrap()["message"].as_str().unwrap();
    assert!(text.contains("ends inside the record"), "{text}");
}

/// Runs `doipcheck run` against the simulator with `--pcap all`; returns the captures.
fn run_captures(dir: &Path, suites: &[&str], fault: Option<&str>) -> Vec<PathBuf> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doipcheck"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).arg("run").args(suites);
    cmd.args(["--pcap", "all", "--jobs", "2", "--plain", "--report-dir"]).arg(dir);
    if let Some(fault) = fault {
        cmd.args(["--sim-fault", fault]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.code().is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir.join("captures")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// What `--profile suites/profile.yaml` (the simulator's) sets: its ports and timing values.
fn simulator_profile() -> Settings {
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/profile.yaml");
    let args = InspectArgs {
        captures: Vec::new(),
        json: true,
        profile: Some(profile),
        doip_ports: Vec::new(),
        isotp: Vec::new(),
        can_byte_order: None,
        junit: None,
        report_dir: None,
        findings_only: false,
    };
    let settings = settings_from(&args).unwrap();
    assert!(settings.declared.is_some());
    settings
}

/// The checks found in one capture, in-process, against the simulator's profile.
fn checks_in(path: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let totals = inspect_file(path, &simulator_profile(), Format::Json, &mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = String::from_utf8(out).unwrap();
    let checks: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["kind"] == "finding")
        .map(|l| l["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(checks.len() as u64, totals.findings);
    checks
}

#[test]
fn every_capture_run_writes_against_the_simulator_inspects_without_findings_with_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let captures = run_captures(dir.path(), &["suites/doip", "suites/isotp"], None);
    assert!(captures.len() > 250, "{} captures", captures.len());
    for path in &captures {
        assert_eq!(checks_in(path), Vec::<String>::new(), "{}", path.display());
    }
}

#[test]
fn captures_of_a_faulty_simulator_show_the_fault_as_a_finding() {
    for (suite, fault, check) in [
        ("suites/doip/header.yaml", "wrong_nack_on_bad_pattern", "doip.nack_code"),
        ("suites/doip/header.yaml", "no_close_on_bad_pattern", "doip.socket_fate"),
        ("suites/doip/diagnostic.yaml", "diag_ack_missing", "doip.diagnostic_ack_order"),
        ("suites/isotp/sender.yaml", "isotp_wrong_sn", "isotp.sequence"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let captures = run_captures(dir.path(), &[suite], Some(fault));
        let found = captures.iter().flat_map(|p| checks_in(p)).collect::<Vec<_>>();
        assert!(found.iter().any(|c| c == check), "{fault}: {found:?}");
    }
}

/// `inspect --report-dir`: the checks of a recording reach the same reports as a run: a page,
/// JUnit and JSON whose failing cases are the checks with findings, the findings in their
/// reasons; a capture that cannot be read is a case in error.
#[test]
fn inspect_writes_the_reports_of_a_run_for_a_recording() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bad = dir.path().join("not-a-capture.pcap");
    std::fs::write(&bad, b"no capture here").expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .args(["inspect", "--report-dir"])
        .arg(dir.path().join("r"))
        .arg(root.join("fixtures/captures/can-faulty-ecu.pcap"))
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "the unreadable file decides the exit code");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("r/report.json")).expect("json written"),
    )
    .expect("valid JSON");
    let failing: Vec<&str> = json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["finished"]["verdict"] == "fail")
        .map(|c| c["info"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(failing, ["isotp.sequence", "isotp.flow_control"]);
    assert_eq!(json["counts"]["error"], 1, "the unreadable capture");
    let reason = json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["info"]["id"] == "isotp.sequence")
        .map(|c| c["finished"]["reason"]["message"].as_str().unwrap_or("").to_owned())
        .expect("the failing check");
    assert!(reason.contains("packet"), "findings name their packets: {reason}");
    let junit = std::fs::read_to_string(dir.path().join("r/junit.xml")).expect("junit");
    roxmltree::Document::parse(&junit).expect("strict XML");
    let html = std::fs::read_to_string(dir.path().join("r/report.html")).expect("page");
    assert!(html.contains("isotp.sequence") && html.contains("can-faulty-ecu.pcap"));
}

/// The `--json` transcript of a tcpdump capture, byte for byte: the hand-written line writer
/// (numbers, escapes, cached address pairs) must keep every line as it was.
#[test]
fn the_json_transcript_of_a_tcpdump_capture_is_pinned_byte_for_byte() {
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .args(["inspect", "--json"])
        .arg(fixture("lo-wrong-version.pcap"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let text = text.replace(env!("CARGO_MANIFEST_DIR"), "<repo>");
    insta::assert_snapshot!(text);
}

/// `lo-udp-dies.pcap` (tcpdump, fixtures/captures/README.md): a discovery service that NACKs
/// one malformed datagram and then answers nothing more on UDP. `inspect --profile` names the
/// requests left unanswered past A_Processing_Time while the capture goes on
/// (`timing.udp_answer`); `run` of the suite it was recorded with, against the simulator
/// with the same fault, names the case after which the service stopped (its health probe)
/// and the later UDP case points at it.
#[test]
fn a_udp_service_that_dies_mid_run_is_named_by_inspect_and_by_the_health_probe() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/profile.yaml"))
            .unwrap();
    let profile = dir.path().join("profile.yaml");
    std::fs::write(
        &profile,
        text.replace("tcp: 13400", "tcp: 23400").replace("udp: 13400", "udp: 23400"),
    )
    .unwrap();
    let capture = fixture("lo-udp-dies.pcap");
    let (code, lines) =
        inspect(&["--profile", profile.to_str().unwrap(), capture.to_str().unwrap()]);
    assert_eq!(code, 1, "{lines:?}");
    let findings = rules_and_packets(&lines);
    // The entity status request of UDP-3, then the health probe's identification request;
    // the last request (packet 43) ends the capture, so nothing shows it unanswered.
    assert_eq!(
        findings,
        [
            ("timing.udp_answer".to_owned(), vec![24, 25]),
            ("timing.udp_answer".to_owned(), vec![29, 33])
        ]
    );
    // Without the profile's A_Processing_Time nothing can be judged late.
    let (code, lines) = inspect(&[capture.to_str().unwrap()]);
    assert_eq!((code, of_kind(&lines, "finding").len()), (0, 0));

    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures/udp-dies.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .arg("run")
        .arg(&suite)
        .args(["--sim-fault", "udp_dies_on_bad_header", "--plain", "--jobs", "1", "-o"])
        .arg(dir.path().join("run"))
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{console}");
    assert!(console.contains("3 passed, 2 failed"), "{console}");
    assert!(
        console.contains(
            "the target's UDP service stopped answering after case UDP-3 (health probe): expected vehicle_announcement"
        ),
        "{console}"
    );
}
