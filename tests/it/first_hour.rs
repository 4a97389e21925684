//! A new user's first hour with an installed doipcheck (issue "the first hour"): a profile for
//! a real entity, filters and shards that CI relies on, the built-in suites written out.
//! Every command runs the binary copied out of the checkout, from an empty directory.

use super::run_cli::installed_binary;
use std::path::Path;
use std::process::{Command, Output};

struct Sandbox {
    _install: tempfile::TempDir,
    dir: tempfile::TempDir,
    doipcheck: std::path::PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let install = tempfile::tempdir().expect("temp dir");
        let doipcheck = installed_binary(install.path());
        Sandbox { _install: install, dir: tempfile::tempdir().expect("temp dir"), doipcheck }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.doipcheck)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .expect("runs")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn profile_init_writes_a_profile_that_validates_for_a_target() {
    let s = Sandbox::new();
    let out = s.run(&["profile", "init", "-o", "my-ecu.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(s.path().join("my-ecu.yaml")).expect("written");
    assert!(text.contains("entity_address: 0x1000") && !text.contains("- sim\n"), "{text}");
    let out = s.run(&["validate", "-p", "my-ecu.yaml", "-t", "192.0.2.10"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 18 suites, 300 cases"));
    // A second init does not overwrite the edited file.
    let again = s.run(&["profile", "init", "-o", "my-ecu.yaml"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
}

/// The simulator's profile, copied for an ECU as the old docs said, is refused for a target
/// with the line and column of every entry that cannot hold.
#[test]
fn the_simulator_profile_is_refused_for_a_target() {
    let s = Sandbox::new();
    let out = s.run(&["suites", "export", "suites"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = s.run(&["validate", "-p", "suites/profile.yaml", "-t", "192.0.2.10"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
}

/// A CI matrix with more shards than cases: the idle job exits 0 with a JUnit file a strict
/// parser reads, and the merge of all shards is whole.
#[test]
fn an_empty_shard_exits_0_with_an_empty_junit_report() {
    let s = Sandbox::new();
    let out =
        s.run(&["run", "--plain", "--case", "AC-TESTER-001", "--shard", "2/2", "-o", "shard-2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("shard 2/2 has no case"), "{}", stderr(&out));
    let junit = std::fs::read_to_string(s.path().join("shard-2/junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("strict XML");
    let root = doc.root_element();
    assert_eq!((root.tag_name().name(), root.attribute("tests")), ("testsuites", Some("0")));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.path().join("shard-2/report.json")).expect("json"),
    )
    .expect("valid JSON");
    assert!(json.is_object(), "{json}");
    let out =
        s.run(&["run", "--plain", "--case", "AC-TESTER-001", "--shard", "1/2", "-o", "shard-1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = s.run(&["merge-junit", "-o", "junit.xml", "shard-1/junit.xml", "shard-2/junit.xml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = std::fs::read_to_string(s.path().join("junit.xml")).expect("merged");
    let doc = roxmltree::Document::parse(&merged).expect("strict XML");
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("testcase")).count(), 1);
}

/// Typos in filters say what was meant; globs select; nothing selected is a usage error.
#[test]
fn filters_take_globs_and_suggest_the_names_meant() {
    let s = Sandbox::new();
    let out = s.run(&["run", "--plain", "--case", "HDR-PAT-01", "--tags", "nakc"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
    let out = s.run(&["list", "--short"]);
    let all = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected = all.lines().filter(|l| l.starts_with("HDR-PAT-")).count();
    let out = s.run(&["run", "--plain", "--case", "HDR-PAT-*"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{expected} cases: {expected} passed")),
        "{expected} HDR-PAT cases: {}",
        stderr(&out)
    );
}

/// `suites export` writes what `run` would run; the exported folder runs the same.
#[test]
fn exported_suites_are_the_built_in_ones() {
    let s = Sandbox::new();
    let out = s.run(&["suites", "export", "mine"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/doip/header.yaml");
    assert_eq!(
        std::fs::read(s.path().join("mine/doip/header.yaml")).expect("exported"),
        std::fs::read(shipped).expect("shipped")
    );
    let out = s.run(&["run", "--plain", "mine/doip/version.yaml", "-p", "mine/profile.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let refused = s.run(&["suites", "export", "mine"]);
    assert_eq!(refused.status.code(), Some(2), "no silent overwrite");
}

/// A profile that does not describe the built-in simulator is named before the first case.
#[test]
fn a_profile_for_another_unit_is_named_before_the_first_case() {
    let s = Sandbox::new();
    s.run(&["profile", "init", "-o", "ecu.yaml"]);
    let out = s.run(&["run", "--plain", "-p", "ecu.yaml", "--case", "HDR-PAT-001"]);
    let err = stderr(&out);
    let warning = err.find("warning: the profile's entity_address is 0x1000").expect(&err);
    let first_case = err.find("HDR-PAT-001").expect(&err);
    assert!(warning < first_case, "{err}");
}
