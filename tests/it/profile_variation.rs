//! The shipped suites take every address from the profile: under any valid profile that
//! describes the built-in simulator, every case passes. A case that invented "another tester"
//! (0x0E00, say) would fail a conformant entity whose own tester address is that one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shipped(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// suites/profile.yaml with `changes` (key line prefix -> new line), its simulator
/// configuration beside it with `sim_header` put first; returns the profile's path.
fn variation(dir: &Path, changes: &[(&str, &str)], sim_header: &str) -> PathBuf {
    let mut profile = shipped("profile.yaml");
    for (prefix, line) in changes {
        let old = profile
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("suites/profile.yaml has a line `{prefix}...`"))
            .to_owned();
        profile = profile.replacen(&old, line, 1);
    }
    std::fs::write(dir.join("sim.yaml"), format!("{sim_header}{}", shipped("sim.yaml")))
        .expect("sim config written");
    let path = dir.join("profile.yaml");
    std::fs::write(&path, profile).expect("profile written");
    path
}

/// Runs `suites` under the profile; returns the non-passing verdict lines of the console.
fn failures(profile: &Path, args: &[&str]) -> Vec<String> {
    let reports = profile.parent().expect("dir").join("reports");
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("suites"))
        .arg("-p")
        .arg(profile)
        .arg("-o")
        .arg(&reports)
        .args(["-j", "8", "--color", "never"])
        .args(args)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("warning:"), "the profile describes the simulator: {stderr}");
    let summary = stderr.lines().find(|l| l.contains("Summary")).unwrap_or("");
    let bad: Vec<String> = stderr
        .lines()
        .filter(|l| ["FAIL", "ERROR", "INCONCLUSIVE"].iter().any(|v| l.trim_start().starts_with(v)))
        .map(str::to_owned)
        .collect();
    if out.status.code() != Some(0) && bad.is_empty() {
        panic!("exit {:?} without a failing case: {stderr}", out.status.code());
    }
    assert!(bad.is_empty() || out.status.code() == Some(1), "{stderr}");
    assert!(summary.contains("passed"), "{stderr}");
    bad
}

/// Each of the simulator's tester addresses as the harness's own, the other two as the second
/// and third tester: the whole shipped set for the field's most common tester address 0x0E00,
/// the cases without protocol timers for the rest.
#[test]
fn every_shipped_case_passes_whichever_accepted_tester_address_the_profile_uses() {
    let permutations = [
        ("0x0E00", "0x0E80", "0x0F00", &[][..]),
        ("0x0F00", "0x0E00", "0x0E80", &["--tags", "not timing"][..]),
        ("0x0E80", "0x0F00", "0x0E00", &["--tags", "not timing"][..]),
    ];
    for (tester, second, third, args) in permutations {
        let dir = tempfile::tempdir().expect("temp dir");
        let profile = variation(
            dir.path(),
            &[
                ("tester_address:", &format!("tester_address: {tester}")),
                ("second_tester_address:", &format!("second_tester_address: {second}")),
                ("third_tester_address:", &format!("third_tester_address: {third}")),
            ],
            "",
        );
        let bad = failures(&profile, args);
        assert!(bad.is_empty(), "tester {tester}, second {second}, third {third}: {bad:#?}");
    }
}

/// The entity's logical address changed in the simulator's configuration and the profile
/// together, and another address nobody has: nothing in a case assumed 0x0010 or 0x0FFF.
#[test]
fn every_shipped_case_passes_with_another_entity_and_unknown_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = variation(
        dir.path(),
        &[
            ("entity_address:", "entity_address: 0x0020"),
            ("unknown_address:", "unknown_address: 0x0F7F"),
        ],
        "logical_address: 0x0020\n",
    );
    let bad = failures(&profile, &["--tags", "not timing"]);
    assert!(bad.is_empty(), "entity 0x0020, unknown 0x0F7F: {bad:#?}");
}

/// A profile whose tester address is the default second tester is refused at load, naming
/// the key to set, before anything runs.
#[test]
fn a_tester_address_that_collides_with_another_role_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, "tester_address: 0x0E00\n").expect("written");
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .args(["validate", "-p"])
        .arg(&path)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/doip/routing.yaml"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`second_tester_address` 0x0E00 (its default) is also `tester_address`"),
        "{stderr}"
    );
    assert!(stderr.contains("p.yaml:1:17"), "{stderr}");
}

/// Code reads the profile through its typed parts (`suite::profile::TargetProfile`): a profile
/// key spelled as a string literal anywhere else in src/ is a second place that knows it.
/// Keys that are also DoIP message or header field names (`vin`, `eid`, `protocol_version`
/// ...) and `name` are not told apart from those fields, so only dotted keys and the
/// profile's own top-level keys count; src/sim reads its own configuration format, whose keys
/// may share a name. `request --json` names its session settings as the profile does (output
/// labels, not reads).
#[test]
fn no_profile_key_is_spelled_outside_the_profile_module() {
    let keys = checked_keys();
    assert!(keys.len() > 80, "{} keys checked", keys.len());
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src readable") {
            let path = entry.expect("entry").path();
            let rel = path.strip_prefix(&src).expect("under src").to_string_lossy().into_owned();
            if rel.starts_with("suite/profile") || rel == "profile.rs" || rel.starts_with("sim") {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            found.extend(spelled_keys(&rel, &text, &keys));
        }
    }
    assert!(
        found.is_empty(),
        "profile keys spelled outside src/suite/profile and src/profile.rs: {found:#?}"
    );
}

/// The keys the check looks for: dotted ones, and top-level ones that are not also a message
/// or header field name or `name`.
fn checked_keys() -> Vec<&'static str> {
    use doipcheck::suite::messages::MESSAGES;
    use doipcheck::suite::profile::KEYS;
    const HEADER_AND_NAME: [&str; 3] = ["protocol_version", "inverse_version", "name"];
    let fields: Vec<&str> = MESSAGES.iter().flat_map(|m| m.fields.iter().map(|f| f.name)).collect();
    KEYS.iter()
        .map(|k| k.path)
        .filter(|k| k.contains('.') || !(fields.contains(k) || HEADER_AND_NAME.contains(k)))
        .collect()
}

/// Each line of `text` (the file `rel` below src) that spells one of `keys` as a string
/// literal, but for the output labels named here.
fn spelled_keys(rel: &str, text: &str, keys: &[&str]) -> Vec<String> {
    const OUTPUT_LABELS: [(&str, &str); 2] =
        [("cli/request.rs", "tester_address"), ("cli/request.rs", "entity_address")];
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for key in keys {
            if line.contains(&format!("\"{key}\"")) && !OUTPUT_LABELS.contains(&(rel, key)) {
                found.push(format!("src/{rel}:{}: \"{key}\"", n + 1));
            }
        }
    }
    found
}

/// The checker sees a key spelled in a line (so that the test above can fail), and passes
/// over a message field name and an output label.
#[test]
fn the_key_checker_would_see_a_spelled_key() {
    let text = "let t = profile.duration(\"timing.a_doip_ctrl\")?;\nfield(\"vin\", v);\n";
    let keys = checked_keys();
    assert_eq!(
        spelled_keys("runner/x.rs", text, &keys),
        ["src/runner/x.rs:1: \"timing.a_doip_ctrl\""]
    );
    let label = "(\"tester_address\", s.tester_address.to_string()),";
    assert_eq!(spelled_keys("cli/request.rs", label, &keys), Vec::<String>::new());
    assert_eq!(spelled_keys("cli/run.rs", label, &keys).len(), 1);
}

/// `validate` without `-p` plans against the profile `run` would use (the built-in
/// simulator's): a value that the run refuses is refused by validate too. The case needs TLS,
/// which the standard's defaults lack: checked against those, it was skipped, not planned.
#[test]
fn validate_without_a_profile_checks_what_run_would_use() {
    let dir = tempfile::tempdir().expect("temp dir");
    let suite = dir.path().join("wait.yaml");
    std::fs::write(
        &suite,
        "suite: w\ntitle: w\nrequires: [doip.tls]\ncases:\n  - id: W-001\n    title: w\n    steps:\n      - wait: \"${profile.node_type}\"\n",
    )
    .expect("written");
    let run = |cmd: &str| {
        Command::new(env!("CARGO_BIN_EXE_doipcheck"))
            .current_dir(dir.path())
            .args([cmd, "wait.yaml"])
            .args(if cmd == "run" { &["-o", "reports"][..] } else { &[][..] })
            .output()
            .expect("runs")
    };
    let validated = run("validate");
    let ran = run("run");
    let text = String::from_utf8_lossy(&validated.stderr).into_owned()
        + &String::from_utf8_lossy(&validated.stdout);
    assert_eq!(validated.status.code(), Some(2), "{text}");
    assert_eq!(ran.status.code(), validated.status.code(), "run and validate agree");
    assert!(text.contains("node_type"), "{text}");
}
