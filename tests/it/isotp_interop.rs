//! Interoperability with a third-party ISO-TP stack: python can-isotp 2.0.7 (its
//! `TransportLayer`, bridged to cannelloni UDP by tests/python/isotp_peer.py) against the
//! `doipcheck isotp send|recv` binary, over 127.0.0.1, in both directions.
//!
//! The venv is the one `sim_interop::venv_python` finds (made by .ci/run): without it the tests
//! panic under CI=true and are skipped with a notice elsewhere. Every wait is bounded; a
//! failure prints both sides' output.

use crate::can_transport::free_udp_ports;
use crate::isotp_cli::doipcheck;
use crate::sim_interop::venv_python as python;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PEER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/isotp_peer.py");

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 256) as u8).collect()
}

/// The python peer, its stdout followed line by line.
struct PythonPeer {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl PythonPeer {
    /// Starts the peer on `local` talking to `remote`, and waits until it says READY.
    fn start(python: &PathBuf, mode: &str, local: u16, remote: u16, args: &[&str]) -> Self {
        let mut child = Command::new(python)
            .arg(PEER_SCRIPT)
            .arg(mode)
            .args(["--local", &local.to_string(), "--remote", &remote.to_string()])
            .args(["--tx-id", "7E8", "--rx-id", "7E0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the python peer");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut peer = PythonPeer { child, lines, seen: Vec::new() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !peer.seen.iter().any(|l| l == "READY") {
            let left = deadline.saturating_duration_since(Instant::now());
            match peer.lines.recv_timeout(left) {
                Ok(line) => peer.seen.push(line),
                Err(_) => {
                    let out = peer.finish();
                    panic!("the python peer never became READY:\n{out}");
                }
            }
        }
        peer
    }

    /// Waits (bounded) for the peer to exit; returns its exit code and everything it printed.
    fn finish(mut self) -> String {
        let code = wait_bounded(&mut self.child, Duration::from_secs(20));
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        format!(
            "python exit {code:?}\n--- python stdout\n{}\n--- python stderr\n{stderr}",
            self.seen.join("\n")
        )
    }
}

/// Exit code of `child`, killing it after `limit`.
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `doipcheck isotp MODE` on `local` towards `remote` (bounded), with tx 7E0 / rx 7E8.
fn run_doipcheck(mode: &str, local: u16, remote: u16, args: &[&str]) -> Output {
    let mut child = doipcheck()
        .args(["isotp", mode, "--can", &format!("cannelloni:{local}@127.0.0.1:{remote}")])
        .args(["--tx-id", "7E0", "--rx-id", "7E8"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = wait_bounded(&mut child, Duration::from_secs(30));
    let out = child.wait_with_output().unwrap();
    assert!(code.is_some() || !out.status.success(), "doipcheck was killed after 30 s");
    out
}

fn describe(ours: &Output, theirs: &str) -> String {
    format!(
        "doipcheck exit {:?}\n--- doipcheck stdout\n{}\n--- doipcheck stderr\n{}\n{theirs}",
        ours.status.code(),
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&ours.stderr)
    )
}

/// The flow controls a receiver granting `bs`/`stmin` sends for a `len`-byte message (normal
/// addressing, classic CAN), as the python peer's FC_RX / FC_TX summary writes them: one CTS
/// after the FF and one before each further block of `bs` CFs.
fn expected_fcs(len: usize, bs: u8, stmin: u8) -> String {
    if len <= 7 {
        return "-".into();
    }
    let ff_data = if len > 4095 { 2 } else { 6 }; // escaped FF: 6 N_PCI bytes
    let cfs = (len - ff_data).div_ceil(7);
    let blocks = if bs == 0 { 1 } else { cfs.div_ceil(bs as usize) };
    format!("30{bs:02x}{stmin:02x}x{blocks}")
}

/// python sends `len` bytes; doipcheck receives granting `bs`/`stmin`.
fn python_to_doipcheck(len: usize, bs: u8, stmin: u8) {
    let Some(py) = python() else { return };
    let [ours, theirs] = free_udp_ports::<2>();
    let peer = PythonPeer::start(&py, "send", theirs, ours, &["--len", &len.to_string()]);
    let out = run_doipcheck(
        "recv",
        ours,
        theirs,
        &[
            "--bs",
            &bs.to_string(),
            "--stmin",
            &format!("{stmin:02X}"),
            "--count",
            "1",
            "--timeout",
            "15s",
        ],
    );
    let theirs_out = peer.finish();
    let report = describe(&out, &theirs_out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(theirs_out.starts_with("python exit Some(0)"), "{report}");
    assert!(theirs_out.contains(&format!("SENT {len}")), "{report}");
    let expected = pattern(len).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), expected, "{report}");
    // The BS/STmin we granted, in as many blocks as they imply, reached the python sender.
    assert!(
        theirs_out.contains(&format!("\nFC_RX {}\n", expected_fcs(len, bs, stmin))),
        "{report}"
    );
}

/// doipcheck sends `len` bytes; python receives granting `bs`/`stmin`.
fn doipcheck_to_python(len: usize, bs: u8, stmin: u8) {
    let Some(py) = python() else { return };
    let [ours, theirs] = free_udp_ports::<2>();
    let peer = PythonPeer::start(
        &py,
        "recv",
        theirs,
        ours,
        &[
            "--bs",
            &bs.to_string(),
            "--stmin",
            &format!("0x{stmin:02X}"),
            "--max-size",
            "8192",
            "--count",
            "1",
            "--timeout",
            "15",
        ],
    );
    let payload = hex::encode(pattern(len));
    let out = run_doipcheck("send", ours, theirs, &["--timeout", "15s", &payload]);
    let theirs_out = peer.finish();
    let report = describe(&out, &theirs_out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(theirs_out.starts_with("python exit Some(0)"), "{report}");
    assert!(theirs_out.contains(&format!("\nRX {payload}\n")), "{report}");
    // Our sender waited for each of python's FCs: one per block of BS CFs.
    assert!(
        theirs_out.contains(&format!("\nFC_TX {}\n", expected_fcs(len, bs, stmin))),
        "{report}"
    );
}

#[test]
fn python_sends_5000_bytes_to_doipcheck_granting_bs_3_stmin_f5() {
    python_to_doipcheck(5000, 3, 0xF5);
}

#[test]
fn doipcheck_sends_5000_bytes_to_python_granting_bs_3_stmin_f5() {
    doipcheck_to_python(5000, 3, 0xF5);
}

#[test]
fn python_sends_a_7_byte_single_frame_to_doipcheck() {
    python_to_doipcheck(7, 0, 0);
}

#[test]
fn doipcheck_sends_a_7_byte_single_frame_to_python() {
    doipcheck_to_python(7, 0, 0);
}

#[test]
fn doipcheck_as_sender_reports_n_buffer_ovflw_when_python_answers_fc_ovflw() {
    let Some(py) = python() else { return };
    let [ours, theirs] = free_udp_ports::<2>();
    // can-isotp's default max_frame_size is 4095: 4096 bytes are one too many.
    let peer = PythonPeer::start(
        &py,
        "recv",
        theirs,
        ours,
        &["--max-size", "4095", "--count", "1", "--timeout", "3"],
    );
    let out =
        run_doipcheck("send", ours, theirs, &["--timeout", "10s", &hex::encode(pattern(4096))]);
    let theirs_out = peer.finish();
    let report = describe(&out, &theirs_out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("N_BUFFER_OVFLW"), "{report}");
    assert!(theirs_out.contains("ERROR FrameTooLongError"), "{report}");
    assert!(theirs_out.contains("\nFC_TX 320000x1\n"), "one FC OVFLW: {report}");
}

#[test]
fn python_as_sender_gets_fc_ovflw_from_doipcheck_above_its_max_size() {
    let Some(py) = python() else { return };
    let [ours, theirs] = free_udp_ports::<2>();
    let peer = PythonPeer::start(&py, "send", theirs, ours, &["--len", "1000", "--timeout", "10"]);
    let out = run_doipcheck(
        "recv",
        ours,
        theirs,
        &["--max-size", "999", "--count", "1", "--timeout", "3s"],
    );
    let theirs_out = peer.finish();
    let report = describe(&out, &theirs_out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("FF_DL 1000 is above --max-size 999"),
        "{report}"
    );
    assert!(theirs_out.contains("ERROR OverflowError"), "{report}");
    assert!(theirs_out.contains("\nFC_RX 320000x1\n"), "one FC OVFLW: {report}");
}
