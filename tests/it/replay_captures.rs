//! `doipcheck import` and `replay` end to end, through the binary: the tcpdump fixtures import
//! to suites that validate and pass against the simulator they were recorded from; captures
//! that `run` writes replay to pass against the simulator and, with a fault switched on, fail
//! at the rule that fault breaks.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs doipcheck in the repository root; returns the exit code and stdout + stderr.
fn doipcheck(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The simulator's profile, with the simulator configuration `sim` (relative to the
/// repository), written into `dir`. Its timing tolerance is 250 ms instead of 50 ms: the
/// replays run on a shared machine beside other tests, and an announcement 500 ms after the
/// previous one must not fail for the scheduler's sake.
fn profile_with(dir: &Path, sim: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("suites/profile.yaml")).unwrap();
    let sim = root().join(sim);
    let text = text
        .replace("simulator: sim.yaml", &format!("simulator: {}", sim.display()))
        .replace("tolerance: 50ms", "tolerance: 250ms");
    assert!(text.contains(path(&sim)) && text.contains("tolerance: 250ms"), "{text}");
    let profile = dir.join("profile.yaml");
    std::fs::write(&profile, text).unwrap();
    profile
}

#[test]
fn tcpdump_fixtures_import_to_suites_that_validate_and_pass_against_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    // The configuration the fixtures were recorded with (MCTS 4).
    let profile = profile_with(dir.path(), "fixtures/sim/sim.yaml");
    for name in [
        "lo-ethernet.pcap",
        "any-sll2-nano.pcap",
        "any-sll.pcap",
        "lo-dumpcap.pcapng",
        "lo-ethernet.pcap.gz",
    ] {
        let capture = format!("fixtures/captures/{name}");
        let reports = dir.path().join(name);
        let (code, out) = doipcheck(&[
            "replay",
            &capture,
            "--doip-port",
            "23400",
            "-p",
            path(&profile),
            "-o",
            path(&reports),
            "--plain",
        ]);
        // The start-up announcements, the UDP exchanges and four TCP connections (README of
        // fixtures/captures).
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("6 cases: 6 passed"), "{name}: {out}");
        assert!(reports.join("report.html").exists(), "{name}: replay writes the page of a run");
        let suite = std::fs::read_dir(reports.join("replay")).unwrap().next().unwrap().unwrap();
        let (code, out) = doipcheck(&["validate", path(&suite.path())]);
        assert_eq!(code, 0, "{name}: {out}");
    }
    // The hand-made SocketCAN files: ISO-TP cases that validate (their answers are not the
    // simulator's, so they are not run).
    for name in ["can-network.pcap", "can-host.pcap"] {
        let suite = dir.path().join(format!("{name}.yaml"));
        let capture = format!("fixtures/captures/{name}");
        let (code, out) = doipcheck(&["import", &capture, "-o", path(&suite)]);
        assert_eq!(code, 0, "{name}: {out}");
        let text = std::fs::read_to_string(&suite).unwrap();
        assert!(text.contains("- isotp_send: { data: \"22 f1 8c\" }"), "{text}");
        assert!(text.contains("id: ISOTP-18DA10F1-18DAF110"), "{text}");
        // The recorded ids are kept in the note, with the profile keys that replay on them.
        assert!(
            text.contains("set isotp.tx_id: 0x18DA10F1 and isotp.rx_id: 0x18DAF110 and isotp.extended_ids: true"),
            "{text}"
        );
        let (code, out) = doipcheck(&["validate", path(&suite)]);
        assert_eq!(code, 0, "{name}: {out}");
    }
}

#[test]
fn the_import_of_a_tcpdump_capture_is_stable() {
    let (code, out) =
        doipcheck(&["import", "--doip-port", "23400", "fixtures/captures/lo-ethernet.pcap"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn import_refuses_what_it_cannot_use_and_says_why() {
    let (code, out) = doipcheck(&["import", "fixtures/captures/README.md"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("README.md"), "{out}");
    let (code, out) = doipcheck(&["import", "--mask", "vim", "fixtures/captures/lo-ethernet.pcap"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("did you mean `vin`?"), "{out}");
}

/// Cases whose captures are replayed, each with a fault it detects and what the replay's
/// failure says: the rule that fault breaks.
const FAULTS: &[(&str, &str, &str)] = &[
    ("HDR-PAT-001[inverse=0x00]", "wrong_nack_on_bad_pattern", "generic_nack.nack_code"),
    ("HDR-PAT-002[version=03 FC]", "no_close_on_bad_pattern", "expected the target to close"),
    ("FRM-BATCH-002", "drops_second_message_in_segment", "expected diagnostic_message_ack within"),
    (
        "FRM-SPLIT-001[offset=0x03]",
        "cannot_reassemble_split_header",
        "expected routing_activation_response, got generic_nack",
    ),
    ("DIAG-UDS-001", "diag_ack_missing", "expected diagnostic_message_ack, got diagnostic_message"),
    ("ES-001", "mcts_wrong", "entity_status_response.max_concurrent_sockets"),
    ("VID-VIN-002[vin=ZZZZZZZZZZZZZZZZZ]", "answers_mismatched_vin", "expected no datagram"),
    ("ANN-001", "announce_count_wrong", "vehicle_announcement (3 of 3)"),
    ("RA-FULL-002", "activation_no_alive_check_when_full", "expected alive_check_request"),
    ("TMR-GEN-001", "general_inactivity_early", "earlier than not_before"),
    ("ISOTP-UDS-003", "isotp_wrong_sn", "N_WRONG_SN"),
    (
        "ISOTP-RX-SF-002[frame=00 3E 00 CC CC CC CC CC]",
        "isotp_accepts_invalid_sf_dl",
        "expected no CAN frame with id 0x7e8",
    ),
];

/// The capture `run` wrote for case `id` (its file name has the id with `[ =]` as `_`).
fn capture_of(captures: &[PathBuf], id: &str) -> PathBuf {
    let file_id: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
        .collect();
    captures
        .iter()
        .find(|p| p.file_stem().unwrap().to_str().unwrap().ends_with(&format!("-{file_id}")))
        .unwrap_or_else(|| panic!("no capture of {id} in {captures:?}"))
        .clone()
}

#[test]
fn captures_run_writes_replay_to_pass_and_fail_at_the_rule_of_a_fault() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("run");
    let profile = profile_with(dir.path(), "suites/sim.yaml");
    let mut args =
        vec!["run", "--pcap", "all", "--plain", "-o", path(&reports), "-p", path(&profile)];
    for (id, _, _) in FAULTS {
        args.extend(["--case", id]);
    }
    let (code, out) = doipcheck(&args);
    assert_eq!(code, 0, "{out}");
    let mut captures: Vec<PathBuf> =
        std::fs::read_dir(reports.join("captures")).unwrap().map(|e| e.unwrap().path()).collect();
    captures.sort();
    assert_eq!(captures.len(), FAULTS.len(), "{captures:?}");
    let replay = |capture: &Path, fault: Option<&str>, n: usize| {
        let out_dir = dir.path().join(format!("replay-{n}"));
        let mut args =
            vec!["replay", path(capture), "--plain", "-o", path(&out_dir), "-p", path(&profile)];
        if let Some(fault) = fault {
            args.extend(["--sim-fault", fault]);
        }
        doipcheck(&args)
    };
    std::thread::scope(|scope| {
        let jobs: Vec<_> = FAULTS
            .iter()
            .enumerate()
            .map(|(n, &(id, fault, rule))| {
                let capture = capture_of(&captures, id);
                scope.spawn(move || {
                    let (code, out) = replay(&capture, None, 2 * n);
                    assert_eq!(code, 0, "{id} replayed against the simulator: {out}");
                    let (code, out) = replay(&capture, Some(fault), 2 * n + 1);
                    assert_eq!(code, 1, "{id} replayed with {fault}: {out}");
                    assert!(out.contains(rule), "{id} with {fault} fails at `{rule}`: {out}");
                })
            })
            .collect();
        for job in jobs {
            job.join().unwrap();
        }
    });
}

/// Above the size the import once refused (320 KiB of conversation, about 2 600 packets):
/// every connection is a case, a long one goes on in parts, the files stay under the suite
/// loader's 1 MiB and each validates.
#[test]
fn a_capture_above_the_old_size_cap_imports_whole_into_files_that_validate() {
    use crate::synthetic_capture::{Shape, write_capture};
    let dir = tempfile::tempdir().unwrap();
    let many = Shape { exchanges_per_connection: 100, with_answer: false };
    let one = Shape { exchanges_per_connection: u64::MAX, with_answer: false };
    // 30 connections of 100 request/ACK pairs (6 240 packets); one of 3 000 (6 008 packets).
    for (name, shape, messages, cases) in [("many", many, 30 * 202, 30), ("one", one, 6_002, 3)] {
        let capture = dir.path().join(format!("{name}.pcap"));
        let (_, packets) = write_capture(std::fs::File::create(&capture).unwrap(), messages, shape);
        assert!(packets > 6_000, "{packets}");
        let out = dir.path().join(format!("{name}.yaml"));
        let (code, text) = doipcheck(&["import", path(&capture), "-o", path(&out)]);
        assert_eq!(code, 0, "{text}");
        assert!(text.contains(&format!("{cases} case(s)")), "{text}");
        let files: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
            .collect();
        assert!(!files.is_empty());
        let mut ids = 0;
        for file in &files {
            let yaml = std::fs::read_to_string(file).unwrap();
            assert!(yaml.len() <= 1024 * 1024, "{}: {} bytes", file.display(), yaml.len());
            ids += yaml.matches("\n  - id: ").count();
            let (code, out) = doipcheck(&["validate", path(file)]);
            assert_eq!(code, 0, "{}: {out}", file.display());
        }
        assert_eq!(ids, cases, "{name}");
        if name == "one" {
            let yaml = std::fs::read_to_string(&out).unwrap();
            assert!(yaml.contains("id: TCP-1.part2"), "the long connection goes on in parts");
        }
    }
}
