//! Closed pipes: `doipcheck list | head` and friends end quietly with status 141 (what a shell
//! reports for SIGPIPE), never with a panic and a backtrace.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// Runs `args` with stdout piped, reads one line, closes the pipe, and returns the exit code
/// and what went to stderr.
fn first_line_then_close(args: &[&str], stdin: Option<String>) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn doipcheck");
    if let Some(text) = stdin {
        let mut input = child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            let _ = input.write_all(text.as_bytes());
        });
    }
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("a first line");
    drop(out);
    let output = child.wait_with_output().expect("the command ends");
    (output.status.code(), first, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn list_ends_quietly_when_its_reader_goes() {
    let (code, first, stderr) = first_line_then_close(&["list", "suites"], None);
    assert!(!first.is_empty());
    assert_eq!(code, Some(141), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn decode_ends_quietly_when_its_reader_goes() {
    let lines = "02fd8001000000070e00100022f190\n".repeat(20_000);
    let (code, first, stderr) = first_line_then_close(&["decode"], Some(lines));
    assert!(!first.is_empty());
    assert_eq!(code, Some(141), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
