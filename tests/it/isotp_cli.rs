//! The `doipcheck isotp` binary over cannelloni on 127.0.0.1: argument errors, and dump
//! decoding frames a raw UDP peer puts on the tunnel.

use doipcheck::codec::can::{CanFrame, StandardId};
use doipcheck::codec::cannelloni as wire;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn doipcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_doipcheck"))
}

#[test]
fn a_bad_spec_is_a_usage_error_that_shows_the_forms() {
    let out = doipcheck()
        .args(["isotp", "dump", "--can", "cannelloni:127.0.0.1:20000", "--timeout", "1s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("lacks the `@`"), "{stderr}");
    assert!(stderr.contains("cannelloni:LOCAL_PORT@HOST:PORT"), "{stderr}");
}

#[test]
fn a_port_in_use_exits_3_and_names_the_address() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = doipcheck()
        .args(["isotp", "dump", "--can", &format!("cannelloni:{port}@127.0.0.1:9")])
        .args(["--timeout", "1s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("bind 127.0.0.1:{port}")), "{stderr}");
}

#[test]
fn dump_decodes_frames_arriving_over_cannelloni() {
    let [ours, theirs] = crate::can_transport::free_udp_ports::<2>();
    let peer = std::net::UdpSocket::bind(("127.0.0.1", theirs)).unwrap();
    let mut child = doipcheck()
        .args(["isotp", "dump", "--can", &format!("cannelloni:{ours}@127.0.0.1:{theirs}")])
        .args(["--count", "3", "--timeout", "10s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = StandardId::new(0x7E8).unwrap();
    let frames = [
        CanFrame::new(id, &[0x10, 0x14, 0x62, 0xF1, 0x90, 0x57, 0x30, 0x4C]).unwrap(),
        CanFrame::new(id, &[0x21, 1, 2, 3, 4, 5, 6, 7]).unwrap(),
        CanFrame::new(id, &[0x30, 0x03, 0xF5]).unwrap(),
    ];
    // One datagram holds all three frames, so a datagram sent before the dump had bound its
    // port is lost whole; resend until the dump has its three frames and exits.
    let datagram = wire::encode(0, &frames).unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(10) {
        peer.send_to(&datagram, ("127.0.0.1", ours)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let decoded: Vec<&str> =
        stdout.lines().map(|l| l.trim_start().split_once("  ").unwrap().1.trim_start()).collect();
    assert_eq!(
        decoded,
        vec![
            "7E8  [8]         FF FF_DL 20 [62 F1 90 57 30 4C]",
            "7E8  [8]         CF SN 1 [01 02 03 04 05 06 07]",
            "7E8  [3]         FC CTS BS 3 STmin 500 us",
        ],
        "stderr:\n{stderr}"
    );
}
