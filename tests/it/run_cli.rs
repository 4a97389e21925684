//! The `doipcheck` binary without arguments is `doipcheck run`: the shipped suites against the
//! built-in simulator, reports in reports/ (README's first command).

use std::process::Command;

/// The binary copied out of the checkout, as `cargo install` or a CI artifact leaves it: it
/// must not need any file of the checkout.
pub fn installed_binary(dir: &std::path::Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let path = bin.join("doipcheck");
    std::fs::copy(env!("CARGO_BIN_EXE_doipcheck"), &path).expect("copy the binary");
    path
}

/// README's first command, as a new user meets it: the installed binary, without arguments,
/// in an empty directory: the built-in suites against the built-in simulator, all passing,
/// with a JUnit report.
#[test]
fn no_subcommand_in_an_empty_directory_runs_the_built_in_suites_and_writes_junit() {
    let install = tempfile::tempdir().expect("temp dir");
    let doipcheck = installed_binary(install.path());
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(&doipcheck).current_dir(dir.path()).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("running the suites built into doipcheck"), "{stderr}");
    assert!(!stderr.contains("warning:"), "the built-in profile describes the simulator: {stderr}");
    let summary = stderr.lines().find(|l| l.contains("Summary")).expect("a summary line");
    assert!(summary.contains("cases: ") && !summary.contains("failed"), "{summary}");
    let junit =
        std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("junit written");
    let doc = roxmltree::Document::parse(&junit).expect("strict XML");
    let cases = doc.descendants().filter(|n| n.has_tag_name("testcase")).count();
    let listed = Command::new(&doipcheck)
        .current_dir(dir.path())
        .args(["list", "--short"])
        .output()
        .expect("lists");
    let listed_cases =
        String::from_utf8_lossy(&listed.stdout).lines().filter(|l| !l.ends_with(" cases")).count();
    assert_eq!(cases, listed_cases, "every built-in case ran");
    assert!(cases >= 290, "{cases} test cases in junit.xml");
}

#[test]
fn a_bad_suite_stops_the_run_with_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bad-suites/unknown-key.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(dir.path())
        .arg("run")
        .arg(bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `title`?"));
    assert!(!dir.path().join("reports/junit.xml").exists(), "nothing ran, no report");
}

#[test]
fn an_unreachable_target_exits_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let suites = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/doip/routing.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(dir.path())
        .args(["run", "--plain", "--target"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(suites)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("reports/junit.xml").exists(), "reports are written even so");
}

/// An unreachable --target costs one connect timeout and one line, exit 3: not a timeout per
/// case.
#[test]
fn an_unreachable_target_is_one_line_and_exit_3_before_any_case() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(dir.path())
        .args(["run", "--plain", "--connect-timeout", "1s", "--target"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--profile")
        .arg(root.join("suites/profile.yaml"))
        .arg(root.join("suites/doip"))
        .output()
        .expect("runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    // A timeout per case would be over a minute for these suites; one connect timeout plus
    // loading the suites stays far below this bound even on a busy machine.
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("target unreachable: cannot connect to 127.0.0.1:"), "{stderr}");
}
