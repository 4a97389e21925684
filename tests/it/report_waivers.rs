//! Waivers end to end against the simulator with `answers_mismatched_eid` (VID-EID-002's four
//! matrix cases fail, VID-001 passes): a waiver that holds makes its failure `waived` in every
//! report and the run green; an expired one and a stale one (its case passes) fail the run
//! again; a bad waiver file is named with file:line:col before anything runs.

use std::path::{Path, PathBuf};
use std::process::Output;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const HOLDS: &str = "
  - case: VID-EID-002[eid=00 00 00 00 00 00]
    reason: answers other EIDs; deviation D-7
    accepted_by: OEM acceptance board
    until: 2999-12-31
";
const EXPIRED: &str = "
  - case: VID-EID-002[eid=FF*
    reason: accepted for the B sample only
    accepted_by: OEM acceptance board
    until: 2020-01-01
";
const STALE: &str = "
  - case: VID-001
    reason: answered late in 2025
    accepted_by: Supplier QA
    until: 2999-12-31
";

fn run(dir: &Path, waivers: &str, cases: &[&str]) -> Output {
    std::fs::write(dir.join("waivers.yaml"), format!("waivers:{waivers}")).unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_doipcheck"));
    c.current_dir(dir).env_remove("GITHUB_STEP_SUMMARY");
    c.arg("run").arg(root().join("suites/doip/discovery.yaml"));
    c.arg("--profile").arg(root().join("suites/profile.yaml"));
    c.args(["--plain", "--pcap", "none", "--sim-fault", "answers_mismatched_eid", "-o", "r"]);
    c.args(["--waivers", "waivers.yaml", "--markdown", "r/summary.md"]);
    for case in cases {
        c.args(["--case", case]);
    }
    c.output().unwrap()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("r").join(name)).unwrap()
}

#[test]
fn a_waiver_that_holds_turns_its_failure_into_waived_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), HOLDS, &["VID-EID-002[eid=00 00 00 00 00 00]", "VID-001"]);
    let console = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{console}");
    assert!(
        console.contains("WAIVED [") && console.contains("2 cases: 1 passed, 1 waived"),
        "{console}"
    );
    assert!(
        console.contains(
            "answers other EIDs; deviation D-7 (accepted by OEM acceptance board until 2999-12-31)"
        ),
        "{console}"
    );

    let json: serde_json::Value = serde_json::from_str(&read(dir.path(), "report.json")).unwrap();
    assert_eq!(
        (json["counts"]["waived"].as_u64(), json["counts"]["fail"].as_u64()),
        (Some(1), Some(0))
    );
    let case = json["cases"].as_array().unwrap().iter().find(|c| c["verdict"] == "fail").unwrap();
    // The verdict stays what the target earned; the waiver is beside it.
    assert_eq!(case["finished"]["waiver"]["accepted_by"], "OEM acceptance board");

    let junit = read(dir.path(), "junit.xml");
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let skipped = doc.descendants().find(|n| n.has_tag_name("skipped")).expect("waived as skipped");
    assert_eq!(skipped.attribute("type"), Some("waived"));
    assert!(skipped.attribute("message").unwrap().starts_with("waived: answers other EIDs"));
    assert!(!doc.descendants().any(|n| n.has_tag_name("failure")), "{junit}");

    let html = read(dir.path(), "report.html");
    assert!(
        html.contains(r##"id="count-waived" data-count="1" href="#verdict=waived""##),
        "{html}"
    );
    assert!(html.contains(r#"data-verdict="waived""#));
    let md = read(dir.path(), "summary.md");
    assert!(md.contains("1 failures waived") && md.contains("#### Waived (1)"), "{md}");
    assert!(!md.contains("#### Failures"), "{md}");
}

#[test]
fn an_expired_waiver_and_a_stale_one_fail_the_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let all = format!("{HOLDS}{EXPIRED}{STALE}");
    let out = run(dir.path(), &all, &["VID-EID-002", "VID-001"]);
    let console = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{console}");
    assert!(console.contains("5 cases: 1 passed, 3 failed, 1 waived"), "{console}");
    assert!(
        console.contains(
            "Waiver waivers.yaml:7:5: the waiver for case `VID-EID-002[eid=FF*` expired on 2020-01-01 (accepted by OEM acceptance board); the case fails again: VID-EID-002[eid=FF FF FF FF FF FF]"
        ),
        "{console}"
    );
    assert!(
        console.contains("Waiver waivers.yaml:12:5: the waiver for case `VID-001` is stale: the case it names now passes: VID-001; remove it"),
        "{console}"
    );
    let junit = read(dir.path(), "junit.xml");
    assert!(junit.contains(r#"<testsuite name="waivers" tests="2""#), "{junit}");
    let html = read(dir.path(), "report.html");
    assert!(html.contains("Waivers that fail the run"), "{html}");
    assert!(read(dir.path(), "summary.md").contains("#### Waivers that fail the run (2)"));
}

#[test]
fn a_bad_waiver_file_is_named_with_line_and_column_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "\n  - case: VID-001\n    reason: x\n    accepted_by: me\n    until: soon\n",
        &["VID-001"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error: `until: soon` is not a date"), "{err}");
    assert!(err.contains("--> waivers.yaml:5:12"), "{err}");
    assert!(!dir.path().join("r").exists());
}
