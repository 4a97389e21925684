//! The report files of `doipcheck run` as CI sees them: `--shard K/N` JUnit files merged by
//! `doipcheck merge-junit` into one strictly valid report equal in content to an unsharded run,
//! and a real SIGINT in the middle of a run still writing the report of every finished case.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn doipcheck(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doipcheck"));
    c.current_dir(dir);
    c
}

fn profile() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/profile.yaml")
}

/// A suite file of `n` quick alive-check cases named `PREFIX-1..n`.
fn alive_suite(dir: &Path, name: &str, prefix: &str, n: usize) -> PathBuf {
    let mut text =
        format!("suite: {name}\ntitle: {name} cases\nsetup:\n  - connect: {{}}\ncases:\n");
    for i in 1..=n {
        text.push_str(&format!(
            "  - id: {prefix}-{i}\n    title: alive check {i}\n    steps:\n      - send: {{ alive_check_request: {{}} }}\n      - expect: {{ alive_check_response: {{}}, within: 1s }}\n"
        ));
    }
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn run_to(dir: &Path, suites: &[PathBuf], junit: &str, shard: Option<&str>) {
    let mut c = doipcheck(dir);
    c.args(["run", "--plain", "--pcap", "none", "--profile"]).arg(profile());
    c.args(suites).args(["--junit", junit]);
    if let Some(s) = shard {
        c.args(["--shard", s]);
    }
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// (suite name, test case names in order) of a strictly parsed JUnit document, and the root's
/// `tests` attribute.
fn junit_content(xml: &str) -> (Vec<(String, Vec<String>)>, String) {
    let doc = roxmltree::Document::parse(xml).expect("strict XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let stamp = root.attribute("timestamp").expect("testsuites timestamp");
    chrono::DateTime::parse_from_rfc3339(stamp).expect("RFC 3339 timestamp");
    let suites = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|s| {
            assert!(s.attribute("timestamp").is_some(), "testsuite timestamp");
            let cases = s.children().filter(|n| n.has_tag_name("testcase"));
            let names = cases
                .map(|c| {
                    let stamp = c.attribute("timestamp").expect("testcase timestamp");
                    chrono::DateTime::parse_from_rfc3339(stamp).expect("RFC 3339 timestamp");
                    c.attribute("name").unwrap().to_owned()
                })
                .collect();
            (s.attribute("name").unwrap().to_owned(), names)
        })
        .collect();
    (suites, root.attribute("tests").unwrap().to_owned())
}

#[test]
fn shard_junit_files_merge_into_one_valid_report_equal_to_the_unsharded_one() {
    let dir = tempfile::tempdir().unwrap();
    let suites =
        [alive_suite(dir.path(), "first", "A", 3), alive_suite(dir.path(), "second", "B", 2)];
    run_to(dir.path(), &suites, "all.xml", None);
    run_to(dir.path(), &suites, "shard1.xml", Some("1/2"));
    run_to(dir.path(), &suites, "shard2.xml", Some("2/2"));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    // Each shard file is a whole report; their concatenation is not XML.
    let (one, two) = (read("shard1.xml"), read("shard2.xml"));
    assert!(junit_content(&one).1 != "0" && junit_content(&two).1 != "0");
    assert!(roxmltree::Document::parse(&format!("{one}{two}")).is_err());

    let out = doipcheck(dir.path())
        .args(["merge-junit", "-o", "merged.xml", "shard1.xml", "shard2.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (mut merged, tests) = junit_content(&read("merged.xml"));
    let (mut all, all_tests) = junit_content(&read("all.xml"));
    assert_eq!(tests, all_tests);
    // The same suites with the same cases (shards interleave cases, so compare sorted).
    for (_, cases) in merged.iter_mut().chain(all.iter_mut()) {
        cases.sort();
    }
    assert_eq!(merged, all);
    assert_eq!(all.iter().map(|(_, c)| c.len()).sum::<usize>(), 5);

    // Not a JUnit file: exit 2, nothing written.
    std::fs::write(dir.path().join("bad.xml"), "not xml").unwrap();
    let out = doipcheck(dir.path())
        .args(["merge-junit", "-o", "none.xml", "shard1.xml", "bad.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.xml: not a JUnit report"));
    assert!(!dir.path().join("none.xml").exists());
}

#[test]
fn sigint_mid_run_writes_the_reports_of_every_finished_case() {
    stopped_mid_run_writes_the_reports_of_every_finished_case("INT", 130);
}

/// SIGTERM is how CI cancels and times out jobs: the same whole reports, status 143.
#[test]
fn sigterm_mid_run_writes_the_reports_of_every_finished_case() {
    stopped_mid_run_writes_the_reports_of_every_finished_case("TERM", 143);
}

fn stopped_mid_run_writes_the_reports_of_every_finished_case(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let quick = alive_suite(dir.path(), "quick", "Q", 2);
    let slow = dir.path().join("slow.yaml");
    std::fs::write(
        &slow,
        "suite: slow\ntitle: slow cases\ncases:\n  - id: S-1\n    title: waits long\n    steps:\n      - wait: 30s\n  - id: S-2\n    title: never starts\n    steps:\n      - wait: 1ms\n",
    )
    .unwrap();
    let mut child = doipcheck(dir.path())
        .args(["run", "--plain", "--jobs", "1", "--pcap", "all", "--profile"])
        .arg(profile())
        .arg(&quick)
        .arg(&slow)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
        }
    });
    // Both quick cases have passed (S-1 is now waiting): interrupt the process by its id.
    let mut seen = Vec::new();
    while seen.iter().filter(|l: &&String| l.contains("PASS")).count() < 2 {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("the quick cases did not pass: {seen:?}");
            }
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let status = crate::interrupt::signal(&mut child, signal);
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(code),
        "SIG{signal} did not end the run: {seen:?}"
    );

    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).expect("strict XML");
    let cases: Vec<(String, bool)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            (c.attribute("name").unwrap().to_owned(), c.children().any(|e| e.has_tag_name("error")))
        })
        .collect();
    let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Q-1 alive check 1", "Q-2 alive check 2", "S-1 waits long"], "{junit}");
    assert_eq!(cases.iter().map(|c| c.1).collect::<Vec<_>>(), [false, false, true]);
    let cause = if signal == "INT" { "Ctrl-C".to_owned() } else { format!("SIG{signal}") };
    assert!(junit.contains(&format!("interrupted ({cause})")), "{junit}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("reports/report.json")).unwrap())
            .expect("whole JSON");
    assert_eq!(json["cases"].as_array().map(Vec::len), Some(3));
    // `--pcap all`: one capture per finished case with traffic, and no half-written file anywhere.
    let mut files = Vec::new();
    let mut stack = vec![dir.path().join("reports")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().map(Result::unwrap) {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    assert!(files.iter().all(|f| !f.to_string_lossy().ends_with(".partial")), "{files:?}");
    let captures = files.iter().filter(|f| f.extension().is_some_and(|e| e == "pcapng")).count();
    // S-1 only waited (no connection, no frame): no empty capture for it.
    assert_eq!(captures, 2, "{files:?}");
}

/// `--timeout` bounds the whole run: the running case ends with `error`, the rest are not
/// started, the reports are whole, exit 1.
#[test]
fn a_whole_run_timeout_ends_the_run_with_whole_reports() {
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow.yaml");
    std::fs::write(
        &slow,
        "suite: slow\ntitle: slow cases\ncases:\n  - id: S-1\n    title: waits long\n    steps:\n      - wait: 30s\n  - id: S-2\n    title: never starts\n    steps:\n      - wait: 1ms\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = doipcheck(dir.path())
        .args(["run", "--plain", "--pcap", "none", "--timeout", "500ms", "--profile"])
        .arg(profile())
        .arg(&slow)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert!(stderr.contains("exceeded --timeout"), "{stderr}");
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).expect("strict XML");
    let errors = doc.descendants().filter(|n| n.has_tag_name("error")).count();
    assert_eq!(errors, 1, "{junit}");
}
