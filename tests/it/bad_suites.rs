//! Every file in fixtures/bad-suites/ holds one kind of mistake; `validate` must explain it
//! (file:line:col, caret, help) and exit 2. The expected messages are insta snapshots.

use doipcheck::cli::exit;
use doipcheck::cli::validate::{ValidateArgs, validate};
use std::path::PathBuf;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad-suites");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/bad-suites exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bad_suite_is_explained_with_exit_2() {
    let files = fixtures();
    assert!(files.len() >= 20, "expected a fixture per kind of mistake, found {}", files.len());
    for file in files {
        let name = file.file_stem().and_then(|s| s.to_str()).expect("utf-8 name").to_owned();
        // Relative paths keep the snapshots independent of the checkout location.
        let rel = PathBuf::from("fixtures/bad-suites").join(file.file_name().expect("file name"));
        let cwd_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&rel);
        let (code, text) = validate_in_manifest_dir(&rel, &cwd_file);
        assert_eq!(code, exit::USAGE, "{name} must fail validation:\n{text}");
        assert!(
            text.contains(&format!("{}", rel.display())),
            "{name}: the message names the file:\n{text}"
        );
        insta::assert_snapshot!(format!("bad_suite_{name}"), text);
    }
}

/// Validates `rel` (relative to the manifest dir) while printing paths as given.
fn validate_in_manifest_dir(rel: &std::path::Path, abs: &std::path::Path) -> (u8, String) {
    let (code, text) =
        validate(&ValidateArgs { paths: vec![abs.to_owned()], profile: None, target: None });
    let prefix = abs.display().to_string();
    (code, text.replace(&prefix, &rel.display().to_string()))
}

#[test]
fn all_files_are_reported_in_one_run() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad-suites");
    let (code, text) = validate(&ValidateArgs { paths: vec![dir], profile: None, target: None });
    assert_eq!(code, exit::USAGE);
    for file in fixtures() {
        let name = file.file_name().and_then(|s| s.to_str()).expect("utf-8 name").to_owned();
        assert!(text.contains(&name), "{name} is missing from the combined report");
    }
}

#[test]
fn the_shipped_suites_and_profile_validate() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (code, text) = validate(&ValidateArgs {
        paths: vec![root.join("suites")],
        profile: Some(root.join("suites/profile.yaml")),
        target: None,
    });
    assert_eq!(code, exit::SUCCESS, "{text}");
}

/// fixtures/bad-plans/: suites that load, whose values the profile makes wrong; the plan
/// finds every one before anything runs.
#[test]
fn values_the_profile_makes_wrong_are_load_errors_with_their_position() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad-plans");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/bad-plans exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let name = file.file_stem().and_then(|s| s.to_str()).expect("utf-8 name").to_owned();
        let rel = PathBuf::from("fixtures/bad-plans").join(file.file_name().expect("file name"));
        let (code, text) = validate_in_manifest_dir(&rel, &file);
        assert_eq!(code, exit::USAGE, "{name} must fail validation:\n{text}");
        insta::assert_snapshot!(format!("bad_plan_{name}"), text);
    }
}
