//! Baselines end to end: two runs against the simulator with a fault removed (a fix) and
//! another introduced (a regression); `run --baseline` and `report --diff` say so on the
//! console, atop report.html and in the Markdown summary, and `--fail-on regression` turns
//! the regression into exit code 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// doipcheck in `dir`, with no job summary file (a CI machine's must not leak in).
pub fn doipcheck(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doipcheck"));
    c.current_dir(dir).env_remove("GITHUB_STEP_SUMMARY");
    c
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Quick cases: VID-001 (measures a timer), VID-EID-002 (four matrix cases, caught by
/// `answers_mismatched_eid`) and AC-TESTER-001 (caught by `no_alive_check_answer`).
fn run(dir: &Path, out: &str, fault: &str, extra: &[&str]) -> Output {
    let mut c = doipcheck(dir);
    c.arg("run")
        .arg(root().join("suites/doip"))
        .arg("--profile")
        .arg(root().join("suites/profile.yaml"));
    c.args(["--plain", "--pcap", "none", "--jobs", "4", "-o", out, "--sim-fault", fault]);
    c.args(["--case", "VID-001", "--case", "VID-EID-002", "--case", "AC-TESTER-001"]);
    c.args(extra).output().unwrap()
}

#[test]
fn a_fault_removed_and_one_introduced_show_as_fix_and_regression() {
    let dir = tempfile::tempdir().unwrap();
    let old = run(dir.path(), "old", "answers_mismatched_eid", &[]);
    assert_eq!(old.status.code(), Some(1), "{}", String::from_utf8_lossy(&old.stderr));

    // Without --fail-on, a run with a failing case exits 1 as always; with it, only the
    // regression counts, and there is one.
    let new = run(
        dir.path(),
        "new",
        "no_alive_check_answer",
        &["--baseline", "old", "--fail-on", "regression", "--markdown", "new/summary.md"],
    );
    let console = String::from_utf8_lossy(&new.stderr);
    assert_eq!(new.status.code(), Some(1), "{console}");
    assert!(
        console
            .contains("Baseline 1 regression, 4 fixed, 0 still failing (against old/report.json)"),
        "{console}"
    );
    assert!(console.contains("REGRESSION doip-alive-check AC-TESTER-001 "), "{console}");
    assert!(
        console.contains("FIXED doip-vehicle-discovery VID-EID-002[eid=00 00 00 00 00 00] "),
        "{console}"
    );
    assert!(console.contains(": pass -> fail"), "{console}");
    assert!(console.contains("Timer vehicle_identification_latency: median "), "{console}");
    assert!(console.contains(", limit 2.000s"), "{console}");

    let html = std::fs::read_to_string(dir.path().join("new/report.html")).unwrap();
    let (top, cases) = html.split_once("id=\"cases\"").unwrap();
    assert!(top.contains("<section id=\"baseline\" class=\"baseline regressed\">"), "{top}");
    assert!(top.contains("1 regression, 4 fixed"), "{top}");
    assert!(top.contains("vehicle_identification_latency"), "{top}");
    assert!(cases.contains("AC-TESTER-001"));
    let md = std::fs::read_to_string(dir.path().join("new/summary.md")).unwrap();
    assert!(md.contains("#### Since the baseline"), "{md}");
    assert!(md.contains("**Regressions** (1)\n\n- `doip-alive-check AC-TESTER-001`"), "{md}");

    // The same comparison after the fact, from the two report folders; appended to the job
    // summary GitHub shows.
    let summary = dir.path().join("step-summary.md");
    let diff = |fail_on: &[&str]| {
        let mut c = doipcheck(dir.path());
        c.args(["report", "--diff", "old", "new/report.json"]).args(fail_on);
        c.env("GITHUB_STEP_SUMMARY", &summary).output().unwrap()
    };
    let plain = diff(&[]);
    assert_eq!(plain.status.code(), Some(0), "{}", String::from_utf8_lossy(&plain.stderr));
    let text = String::from_utf8_lossy(&plain.stdout);
    assert!(text.contains("Baseline 1 regression, 4 fixed"), "{text}");
    let failing = diff(&["--fail-on", "regression"]);
    assert_eq!(failing.status.code(), Some(1));
    let appended = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(appended.matches("#### Since the baseline").count(), 2, "{appended}");

    // The other way round: the fix is the regression now, the regression a fix.
    let back = doipcheck(dir.path())
        .args(["report", "--diff", "new", "old", "--fail-on", "regression"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&back.stdout);
    assert_eq!(back.status.code(), Some(1), "{text}");
    assert!(text.contains("Baseline 4 regressions, 1 fixed"), "{text}");

    // A case that passed only on a later attempt (its report as `run --repeat` writes it) is
    // newly flaky against a baseline where it passed at once; the timer's drift is shown too.
    let mut flaky: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("new/report.json")).unwrap())
            .unwrap();
    let case = flaky["cases"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["info"]["id"] == "VID-001" && c["verdict"] == "pass")
        .expect("VID-001 passed");
    case["finished"]["flaky"] = true.into();
    case["finished"]["attempts"] = 2.into();
    std::fs::create_dir_all(dir.path().join("flaky")).unwrap();
    std::fs::write(dir.path().join("flaky/report.json"), flaky.to_string()).unwrap();
    let out = doipcheck(dir.path()).args(["report", "--diff", "new", "flaky"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("0 regressions, 0 fixed, 1 still failing, 1 newly flaky"), "{text}");
    assert!(text.contains("FLAKY doip-vehicle-discovery VID-001 "), "{text}");
    assert!(text.contains(": pass -> pass (flaky)"), "{text}");
    assert!(text.contains("Timer vehicle_identification_latency: median "), "{text}");

    // A run compared with itself has no regression: --fail-on regression passes even though
    // cases fail.
    let same = doipcheck(dir.path())
        .args(["report", "--diff", "new", "new", "--fail-on", "regression"])
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stdout));
}

#[test]
fn a_bad_baseline_is_a_usage_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), "{\"format\": 1").unwrap();
    let out = run(dir.path(), "r", "answers_mismatched_eid", &["--baseline", "bad.json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--baseline: bad.json:1:"), "{err}");
    assert!(!dir.path().join("r").exists());
    let out = run(dir.path(), "r", "answers_mismatched_eid", &["--fail-on", "regression"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-on regression needs --baseline"));
}
