//! The runner against the built-in simulator: the shipped suites pass against the conformant
//! entity, and every case fails against each fault its `detects:` names (a case no fault can
//! fail proves nothing).

use doipcheck::suite::load;
use doipcheck::suite::profile::Profile;
use doipcheck::suite::select::{self, Filter, SelectedCase};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> (Profile, Vec<SelectedCase>) {
    let profile =
        load::load_profile(Some(&root().join("suites/profile.yaml"))).expect("profile loads");
    let faults = doipcheck::runner::target::known_faults();
    let loaded = load::load_suites(&[root().join("suites/doip")], &faults).expect("suites load");
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    (profile, plan)
}

/// The selftest's proof (`doipcheck selftest`): every shipped case passes against the
/// conformant simulator, fails against each fault its `detects:` names, and a sample of other
/// cases does not error against each fault. One simulator per fault runs every case listing
/// it, so this costs one run per fault rather than one per (case, fault) pair.
#[tokio::test(flavor = "current_thread")]
async fn the_shipped_suites_pass_and_catch_every_fault_they_list() {
    let (profile, plan) = shipped();
    let faults: Vec<String> =
        doipcheck::runner::target::known_faults().iter().map(|f| f.to_string()).collect();
    let profile_path = root().join("suites/profile.yaml");
    let sim = doipcheck::runner::target::simulator_config(&profile, Some(&profile_path))
        .expect("the simulator configuration loads");
    let proof = doipcheck::proof::selftest::prove(&plan, &profile, &sim, &faults, 2, 1)
        .await
        .expect("the selftest runs");
    assert_eq!(proof.conformant.len(), plan.len());
    let listed = plan.iter().map(|p| p.info.detects.len()).sum::<usize>();
    assert!(listed >= 10, "the shipped cases claim few faults: {listed}");
    assert!(proof.mismatches().is_empty(), "{}", proof.render());
    crate::isotp_runner::assert_rules_agree(&proof);
    // Each DoIP fault no rule shows is explained in proof::unjudged, and none a rule shows is
    // (the ISO-TP faults: isotp_runner, whose suites show them).
    let gaps = proof.rule_gaps(|fault| !fault.starts_with("isotp_"));
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

/// A case may declare a rule it makes the target break on purpose (`provokes:`): its findings
/// are noted in the transcript, not failed. The same case without the declaration fails with
/// the rule, and a misspelt rule id is a load error naming the file and the known id.
#[test]
fn a_rule_a_case_provokes_on_purpose_is_noted_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let suite = |provokes: &str| {
        format!(
            "suite: provoked\ntitle: a rule broken on purpose\ncases:\n  - id: PROV-1\n    title: activates\n    requires: [doip.tcp]\n{provokes}    steps:\n      - connect: {{}}\n      - send: {{ routing_activation_request: {{}} }}\n      - expect: {{ routing_activation_response: {{}} }}\n"
        )
    };
    let run = |name: &str, text: String| {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_doipcheck"))
            .current_dir(root())
            .args(["run", "--plain", "--sim-fault", "reply_wrong_version", "--report-dir"])
            .arg(dir.path().join(name))
            .arg(&path)
            .output()
            .expect("doipcheck runs");
        let report =
            std::fs::read_to_string(dir.path().join(name).join("report.json")).unwrap_or_default();
        (out.status.code(), report, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, report, console) = run("on-purpose", suite("    provokes: [doip.reply_version]\n"));
    assert_eq!(code, Some(0), "{console}");
    assert!(
        report.contains("rule doip.reply_version broken")
            && report.contains("(the case provokes this on purpose)"),
        "the finding is noted: {report}"
    );
    let (code, _, console) = run("plain", suite(""));
    assert_eq!(code, Some(1), "{console}");
    assert!(console.contains("rule doip.reply_version broken"), "{console}");
    let (code, _, console) = run("typo", suite("    provokes: [doip.reply_versoin]\n"));
    assert_eq!(code, Some(2), "{console}");
    assert!(
        console.contains("unknown rule `doip.reply_versoin` in `provokes`")
            && console.contains("typo.yaml:4:")
            && console.contains("did you mean `doip.reply_version`?"),
        "{console}"
    );
}

/// A case that ends right after a NACK that closes the socket does not say what became of the
/// socket; the judge still does. `run` waits (bounded) for the entity's close before it leaves
/// the connection, so an entity that keeps the socket open fails with `doip.socket_fate`, and
/// a conformant one passes without waiting for the bound.
#[test]
fn the_socket_fate_after_a_nack_is_judged_when_the_case_ends_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fate.yaml");
    std::fs::write(
        &path,
        "suite: fate\ntitle: a NACK that closes the socket, and nothing after it\ncases:\n  - id: FATE-1\n    title: a bad pattern is NACKed\n    requires: [doip.tcp]\n    steps:\n      - connect: {}\n      - send_raw: { hex: \"03 fd 00 05 00 00 00 00\" }\n      - expect: { generic_nack: { nack_code: incorrect_pattern_format } }\n",
    )
    .unwrap();
    let run = |fault: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_doipcheck"));
        cmd.current_dir(root()).args(["run", "--plain", "--report-dir"]);
        cmd.arg(dir.path().join(fault.unwrap_or("conformant"))).arg(&path);
        if let Some(f) = fault {
            cmd.args(["--sim-fault", f]);
        }
        let out = cmd.output().expect("doipcheck runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, console) = run(None);
    assert_eq!(code, Some(0), "{console}");
    let (code, console) = run(Some("no_close_on_bad_pattern"));
    assert_eq!(code, Some(1), "{console}");
    assert!(
        console.contains("rule doip.socket_fate broken")
            && console.contains("kept the socket open after a generic NACK"),
        "{console}"
    );
}
