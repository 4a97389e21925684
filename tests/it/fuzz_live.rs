//! `doipcheck fuzz` end to end against the built-in simulator: no finding against the
//! conformant one, the same seed giving the same cases, a broken rule becoming a minimal
//! repro that fails against the fault and passes without it, and the exit codes.

use super::client_cli::doipcheck;
use serde_json::Value;
use std::path::Path;

/// Runs `doipcheck fuzz ARGS --json --findings DIR`; returns the exit code and the summary.
pub(super) fn fuzz(findings: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = doipcheck()
        .arg("fuzz")
        .args(args)
        .args(["--json", "--findings"])
        .arg(findings)
        .output()
        .expect("run doipcheck fuzz");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), summary, stderr)
}

/// Runs `doipcheck fuzz ARGS` into `findings`, which must end with exit code 1 and one
/// finding; returns its finding.json and the console's stderr.
fn one_finding(findings: &Path, args: &[&str]) -> (Value, String) {
    let (code, summary, stderr) = fuzz(findings, args);
    assert_eq!(code, 1, "{args:?}: {stderr}");
    assert_eq!(summary["findings"], 1, "{summary}");
    let path = findings.join("0001").join("finding.json");
    (serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap(), stderr)
}

#[test]
fn the_conformant_simulator_gives_no_finding_and_a_seed_repeats_its_cases() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--cases", "3000", "--duration", "120s", "--seed", "5", "--batch", "100"];
    let one_worker = [&args[..], &["--workers", "1"]].concat();
    let (code, first, stderr) = fuzz(&dir.path().join("a"), &one_worker);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(first["cases"], 3000);
    assert_eq!(first["findings"], 0, "{first}");
    assert!(first["cases_per_s"].as_f64().unwrap() > 0.0);
    assert!(first["healthy_checks"].as_u64().unwrap() >= 30, "{first}");
    // Every start state was reached, UDP included, and reserved payload types were sent.
    let coverage = first["coverage"].as_object().unwrap();
    for state in first["states"].as_array().unwrap() {
        let state = state.as_str().unwrap();
        assert!(coverage.values().any(|per| per.get(state).is_some()), "state {state} not reached");
    }
    assert!(coverage.contains_key("reserved") && coverage.contains_key("0x8001"));
    // Two workers, each with its own simulator, share the seed's cases between them.
    let two_workers = [&args[..], &["--workers", "2"]].concat();
    let (code, second, stderr) = fuzz(&dir.path().join("b"), &two_workers);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(second["cases"], 3000);
    assert_eq!(first["coverage"], second["coverage"], "the same seed must give the same cases");
    let (_, other, _) =
        fuzz(&dir.path().join("c"), &["--cases", "3000", "--seed", "6", "--batch", "100"]);
    assert_ne!(first["coverage"], other["coverage"]);
    // A real entity is fuzzed by one tester.
    let out = doipcheck()
        .args(["fuzz", "--workers", "2", "--target", "127.0.0.1", "--cases", "1"])
        .output()
        .expect("run doipcheck fuzz");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_broken_socket_rule_becomes_a_repro_that_fails_only_against_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings");
    let (code, summary, stderr) = fuzz(
        &findings,
        &["--sim-fault", "no_close_on_bad_pattern", "--cases", "8", "--duration", "60s"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(summary["findings"].as_u64().unwrap() >= 1, "{summary}");
    let first = findings.join("0001");
    let finding: Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("finding.json")).unwrap())
            .unwrap();
    // The judge's rule, with its clause: the fuzzer's reply checks are the judge.
    assert_eq!(finding["oracle"], "doip.socket_fate", "{finding}");
    assert_eq!(finding["rule"]["id"], "doip.socket_fate", "{finding}");
    assert!(finding["rule"]["clause"].as_str().unwrap().contains("§8.1.2"), "{finding}");
    assert_eq!(finding["seed"], 0);
    assert!(finding["messages"].as_u64().unwrap() <= 3, "{finding}");
    assert!(finding["found_after_ms"].as_u64().unwrap() < 60_000);
    assert_eq!(finding["repro"]["against_target"], "fail", "{finding}");
    assert_eq!(finding["repro"]["against_conformant_simulator"], "pass", "{finding}");
    // Confirmed by its own symptom: the repro's run breaks the same rule of the judge.
    let why = finding["confirmation"]["why"].as_str().unwrap();
    assert_eq!(finding["confirmation"]["status"], "confirmed", "{finding}");
    assert!(why.contains("breaks rule doip.socket_fate again"), "{why}");
    let repro = std::fs::read_to_string(first.join("repro.yaml")).unwrap();
    assert!(repro.contains("- wait: 500ms"), "{repro}");
    // The campaign report draws the finding's repro run as a sequence chart.
    let page = std::fs::read_to_string(findings.join("report.html")).unwrap();
    assert!(page.contains("FUZZ-0001") && page.contains("<svg class=\"chart\""), "chart");
    assert!(page.contains("(confirmed)"), "the finding says it is confirmed");
    let pcap = std::fs::read(first.join("repro.pcapng")).unwrap();
    assert_eq!(&pcap[..4], &[0x0A, 0x0D, 0x0D, 0x0A], "repro.pcapng is a pcapng file");
    // The repro is an ordinary suite: `run` replays it with the same verdict.
    let out = doipcheck()
        .args(["run", "--sim-fault", "no_close_on_bad_pattern", "--plain", "-o"])
        .arg(dir.path().join("again"))
        .arg(first.join("repro.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_target_that_is_not_there_exits_3_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.yaml");
    std::fs::write(&profile, "capabilities: [doip.tcp]\ntiming: { a_doip_ctrl: 300ms }\n").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = doipcheck()
        .args(["fuzz", "--cases", "10", "-t", &format!("127.0.0.1:{port}"), "-p"])
        .arg(&profile)
        .arg("--findings")
        .arg(dir.path().join("f"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not healthy before the first case"));
    let out = doipcheck().args(["fuzz", "--sim-fault", "no_such_fault"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// An entity with a known deviation (it answers no alive check request) is fuzzed, not
/// refused: the baseline drops the probe it fails, says so, and fuzzes with a quiet barrier
/// after each case; the deviation is not a finding.
#[test]
fn a_target_that_fails_a_probe_before_the_first_case_is_fuzzed_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--sim-fault", "no_alive_check_answer", "--cases", "150", "--no-confirm"];
    let (code, summary, stderr) = fuzz(&dir.path().join("f"), &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["cases"], 150, "{summary}");
    assert_eq!(summary["findings"], 0, "{summary}");
    let dropped = summary["dropped_probes"].as_array().expect("dropped_probes");
    assert_eq!(dropped.len(), 1, "{summary}");
    assert!(dropped[0].as_str().unwrap().starts_with("liveness.alive_check:"), "{summary}");
    assert!(stderr.contains("it is left out of the liveness check"), "{stderr}");
    // The conformant simulator drops nothing.
    let (code, summary, stderr) = fuzz(&dir.path().join("g"), &["--cases", "50"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["dropped_probes"], serde_json::json!([]), "{summary}");
}

/// `--monitor`: the user's check after each batch is part of the oracle. This one passes
/// before the first case (and leaves a mark), then fails from the first batch on: a finding
/// whose oracle is the monitor, with its command's failure as the detail.
#[test]
fn a_monitor_that_starts_failing_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let mark = dir.path().join("seen");
    let monitor = format!(
        "if [ -e '{0}' ]; then echo ECU log: watchdog reset >&2; exit 1; else touch '{0}'; fi",
        mark.display()
    );
    let args = ["--cases", "100", "--batch", "20", "--no-confirm", "--monitor", &monitor];
    let findings = dir.path().join("f");
    let (code, summary, stderr) = fuzz(&findings, &args);
    assert_eq!(code, 1, "{stderr}");
    assert!(mark.exists(), "the monitor ran before the first case");
    assert_eq!(summary["findings"], 1, "{summary}");
    let finding: Value = serde_json::from_str(
        &std::fs::read_to_string(findings.join("0001").join("finding.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(finding["oracle"], "monitor", "{finding}");
    assert!(finding["detail"].as_str().unwrap().contains("--monitor"), "{finding}");
}

/// Fuzzes the simulator with `fault` (more arguments in `more`, e.g. a profile) until the
/// first finding; checks the fuzzer's proof: found within 60 s, a repro of at most three
/// messages that fails against the fault and passes against the conformant simulator.
/// Returns finding.json.
pub(super) fn finds_the_robustness_fault(fault: &str, more: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    finds_the_robustness_fault_in(&dir.path().join("findings"), fault, more)
}

/// [`finds_the_robustness_fault`] with its findings in `findings` (kept for the caller).
pub(super) fn finds_the_robustness_fault_in(findings: &Path, fault: &str, more: &[&str]) -> Value {
    let mut args = vec!["--sim-fault", fault, "--duration", "60s", "--max-findings", "1"];
    args.extend(more);
    let (finding, _) = one_finding(findings, &args);
    assert!(finding["oracle"].as_str().unwrap().starts_with("liveness."), "{finding}");
    assert!(finding["found_after_ms"].as_u64().unwrap() < 60_000, "{finding}");
    assert_eq!(finding["reproduced"], true, "{finding}");
    assert!(finding["messages"].as_u64().unwrap() <= 3, "{fault}: {finding}");
    assert_eq!(finding["repro"]["against_target"], "fail", "{fault}: {finding}");
    assert_eq!(finding["repro"]["against_conformant_simulator"], "pass", "{fault}: {finding}");
    assert_eq!(finding["confirmation"]["status"], "confirmed", "{fault}: {finding}");
    finding
}

/// A failure that does not come back is reported, but as unconfirmed, with the reason and a
/// repro bounded to the last cases before it (not the whole batch). This monitor fails once,
/// on its second call (the first is the baseline), and passes on every replay.
#[test]
fn a_finding_whose_replay_does_not_fail_again_is_unconfirmed_and_its_repro_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("calls");
    let monitor = format!(
        "n=$(cat '{0}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{0}'; \
         if [ $n -eq 2 ]; then echo ECU log: one glitch >&2; exit 1; fi",
        count.display()
    );
    let findings = dir.path().join("f");
    let args = ["--cases", "60", "--batch", "30", "--monitor", &monitor];
    let (finding, stderr) = one_finding(&findings, &args);
    assert_eq!(finding["oracle"], "monitor", "{finding}");
    assert_eq!(finding["reproduced"], false, "{finding}");
    assert_eq!(finding["confirmation"]["status"], "unconfirmed", "{finding}");
    let why = finding["confirmation"]["why"].as_str().unwrap();
    assert!(why.contains("did not show monitor again"), "{why}");
    assert_eq!(finding["window_cases"], 30, "{finding}");
    assert_eq!(finding["cases"].as_array().unwrap().len(), 8, "{finding}");
    assert!(stderr.contains("UNCONFIRMED"), "{stderr}");
}

#[test]
fn the_fuzzer_finds_a_crash_on_a_reserved_activation_type() {
    finds_the_robustness_fault("crash_on_reserved_activation_type", &[]);
}

/// The UDP service dies on one malformed identification request. The repro's probe shares
/// the case's socket, so against the conformant simulator it must pass over the generic NACK
/// that answers the malformed datagram; otherwise the repro fails there too and the finding
/// could never be confirmed.
#[test]
fn the_fuzzer_finds_a_udp_service_that_dies_and_confirms_it() {
    let finding = finds_the_robustness_fault("udp_dies_on_bad_identification_length", &[]);
    assert_eq!(finding["oracle"], "liveness.vehicle_identification", "{finding}");
}

#[test]
fn the_fuzzer_finds_sockets_leaked_by_split_headers() {
    finds_the_robustness_fault("leak_socket_on_split_header", &[]);
}

#[test]
fn the_conformant_can_ecu_gives_no_finding_and_a_seed_repeats_its_cases() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--can", "sim", "--cases", "1500", "--duration", "120s", "--seed", "5"];
    let args = [&args[..], &["--batch", "100"]].concat();
    let (code, first, stderr) = fuzz(&dir.path().join("a"), &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(first["cases"], 1500);
    assert_eq!(first["findings"], 0, "{first}");
    assert!(first["healthy_checks"].as_u64().unwrap() >= 15, "{first}");
    assert_eq!(first["states"], serde_json::json!(["idle", "mid_reception", "mid_transmission"]));
    let coverage = first["coverage"].as_object().unwrap();
    for state in ["idle", "mid_reception", "mid_transmission"] {
        for pci in ["SF", "FF", "CF", "FC", "reserved", "empty"] {
            assert!(coverage[pci].get(state).is_some(), "{pci} x {state} not reached: {first}");
        }
    }
    let (code, second, _) = fuzz(&dir.path().join("b"), &args);
    assert_eq!(code, 0);
    assert_eq!(first["coverage"], second["coverage"], "the same seed must give the same cases");
}

/// The ISO-TP fuzzer's reply checks are the judge's rules too: a CAN ECU whose flow control
/// carries a reserved STmin (`isotp_fc_wrong_st_min` on an ECU configured with 127 ms, 0x7F:
/// it sends 0x80) breaks `isotp.defined_flow_control` at the first case whose first frame it
/// answers; finding.json names the rule and its clause, and the repro's run
/// breaks the same rule against the fault and passes against the conformant simulator.
#[test]
fn an_isotp_finding_names_the_judges_rule_and_is_confirmed_by_the_same_rule() {
    let dir = tempfile::tempdir().unwrap();
    let suites = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let sim = std::fs::read_to_string(suites.join("sim.yaml")).unwrap();
    let engine = "isotp: { block_size: 0, st_min: 0, padding: 0xCC,";
    assert!(sim.contains(engine), "sim.yaml's engine ECU changed");
    let sim = sim.replacen(engine, "isotp: { block_size: 0, st_min: 0x7F, padding: 0xCC,", 1);
    std::fs::write(dir.path().join("sim.yaml"), sim).unwrap();
    let profile = std::fs::read_to_string(suites.join("profile.yaml")).unwrap();
    assert!(profile.contains("\n  st_min: 0\n"), "profile.yaml's isotp.st_min changed");
    let profile = profile.replacen("\n  st_min: 0\n", "\n  st_min: 0x7F\n", 1);
    let profile_path = dir.path().join("profile.yaml");
    std::fs::write(&profile_path, profile).unwrap();
    let findings = dir.path().join("findings");
    let args = [
        "--can",
        "sim",
        "--sim-fault",
        "isotp_fc_wrong_st_min",
        "-p",
        profile_path.to_str().unwrap(),
        "--duration",
        "60s",
        "--max-findings",
        "1",
    ];
    let (finding, _) = one_finding(&findings, &args);
    assert_eq!(finding["oracle"], "isotp.defined_flow_control", "{finding}");
    assert_eq!(finding["rule"]["id"], "isotp.defined_flow_control", "{finding}");
    assert!(finding["rule"]["clause"].as_str().unwrap().contains("Table 20"), "{finding}");
    assert!(finding["detail"].as_str().unwrap().contains("STmin 0x80 (reserved)"), "{finding}");
    assert_eq!(finding["repro"]["against_target"], "fail", "{finding}");
    assert_eq!(finding["repro"]["against_conformant_simulator"], "pass", "{finding}");
    assert_eq!(finding["confirmation"]["status"], "confirmed", "{finding}");
    let why = finding["confirmation"]["why"].as_str().unwrap();
    assert!(why.contains("breaks rule isotp.defined_flow_control again"), "{why}");
}

#[test]
fn can_usage_errors_exit_2_and_a_silent_bus_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--can", "sim", "-t", "127.0.0.1"][..],
        &["--can", "memory:x", "--sim-fault", "isotp_hang_on_large_ff_dl"],
        &["--can", "nonsense:1"],
    ] {
        let out = doipcheck().arg("fuzz").args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Nobody on the bus: the first TesterPresent goes unanswered (P2, then P2*).
    let out = doipcheck()
        .args(["fuzz", "--can", "memory:nobody-listens", "--cases", "5", "--findings"])
        .arg(dir.path().join("f"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("liveness.isotp.tester_present"), "{stderr}");
}

/// Every campaign writes its report, `--no-confirm` too: report.html with the heat map of
/// mutations x start states, the rate over time and each finding with its repro's path, and
/// junit.xml with one testcase per finding (so CI lists them).
#[test]
fn a_campaign_writes_report_html_and_junit_with_one_testcase_per_finding() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("f");
    let args = ["--sim-fault", "no_close_on_bad_pattern", "--cases", "8", "--no-confirm"];
    let (code, summary, stderr) = fuzz(&findings, &args);
    assert_eq!(code, 1, "{stderr}");
    let n = summary["findings"].as_u64().unwrap() as usize;
    assert!(n >= 1, "{summary}");
    assert_eq!(summary["report_html"], findings.join("report.html").display().to_string());
    let page = std::fs::read_to_string(findings.join("report.html")).unwrap();
    for needle in ["Fuzzing campaign", "table class=\"tally heat\"", "<th>mutation</th>"] {
        assert!(page.contains(needle), "{needle} missing");
    }
    assert!(page.contains(&findings.join("0001").join("repro.yaml").display().to_string()));
    let junit = std::fs::read_to_string(findings.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), n, "{junit}");
    assert_eq!(junit.matches("<failure").count(), n, "{junit}");
    assert!(junit.contains("name=\"FUZZ-0001 doip.socket_fate"), "{junit}");
    // A conformant campaign writes its report too, with no testcase.
    let clean = dir.path().join("g");
    let (code, _, stderr) = fuzz(&clean, &["--cases", "50"]);
    assert_eq!(code, 0, "{stderr}");
    let junit = std::fs::read_to_string(clean.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 0, "{junit}");
    assert!(std::fs::read_to_string(clean.join("report.html")).unwrap().contains("heat"));
}
