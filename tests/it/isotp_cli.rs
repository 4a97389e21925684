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

/// `doipcheck sim` with suites/sim.yaml, its CAN ECUs exported over cannelloni on `sim_port`
/// (peer `our_port`); killed when dropped.
pub(crate) struct SimOverCannelloni(std::process::Child);

impl SimOverCannelloni {
    pub(crate) fn start(sim_port: u16, our_port: u16) -> Self {
        use std::io::Read;
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/sim.yaml");
        let mut child = doipcheck()
            .args(["sim", "--port", "0", "--tls-port", "0", "-c"])
            .arg(config)
            .arg("--can")
            .arg(format!("cannelloni:{sim_port}@127.0.0.1:{our_port}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the simulator");
        // Its first line says it listens; read it byte by byte, bounded.
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = Vec::new();
        let mut byte = [0u8; 1];
        while !first.ends_with(b"\n") && first.len() < 4096 {
            match stdout.read(&mut byte) {
                Ok(1) => first.push(byte[0]),
                _ => panic!("the simulator ended before it listened"),
            }
        }
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        SimOverCannelloni(child)
    }
}

impl Drop for SimOverCannelloni {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A request/response from the terminal against the simulator's CAN ECU: the answer decoded,
/// response pending waited through, a negative answer exit 1, silence named as P2, a transfer
/// nobody takes named by its N_Result.
#[test]
fn isotp_request_prints_the_answer_on_the_same_transport() {
    let [sim_port, our_port] = crate::can_transport::free_udp_ports::<2>();
    let _sim = SimOverCannelloni::start(sim_port, our_port);
    let can = format!("cannelloni:{our_port}@127.0.0.1:{sim_port}");
    let request = |ids: [&str; 2], hex: &str| {
        doipcheck()
            .args(["isotp", "request", "--can", &can, "--tx-id", ids[0], "--rx-id", ids[1]])
            .args(["--p2", "500ms", hex])
            .output()
            .expect("runs")
    };
    let vin = request(["7E0", "7E8"], "22F190");
    let text = String::from_utf8_lossy(&vin.stdout);
    assert_eq!(vin.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&vin.stderr));
    assert!(text.starts_with("62 F1 90 57 44 4F 49 50"), "{text}");
    assert!(text.contains("ReadDataByIdentifier, DID 0xF190"), "{text}");
    let reset = request(["7E0", "7E8"], "1101");
    let text = String::from_utf8_lossy(&reset.stdout);
    assert_eq!(reset.status.code(), Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() == 2 && lines[0].starts_with("7F 11 78") && lines[1].starts_with("51 01"));
    let short = request(["7E0", "7E8"], "22F1");
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stdout).contains("(0x13)"));
    // ECU "absent" (0x7E1): a single frame gets no answer within P2, a segmented request no
    // flow control within N_Bs.
    let silent = request(["7E1", "7E9"], "22F190");
    assert_eq!(silent.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&silent.stderr).contains("no answer within 500ms (P2"));
    let segmented = request(["7E1", "7E9"], "2EF190000102030405060708090A0B0C0D0E0F");
    assert_eq!(segmented.status.code(), Some(1));
    let err = String::from_utf8_lossy(&segmented.stderr);
    assert!(err.contains("N_TIMEOUT_Bs"), "{err}");
}

/// An in-process bus cannot be shared with another program: the standalone commands say so.
#[test]
fn standalone_isotp_commands_refuse_an_in_process_bus() {
    for args in [
        vec!["isotp", "send", "--can", "memory:x", "--tx-id", "7E0", "--rx-id", "7E8", "3E00"],
        vec!["isotp", "recv", "--can", "memory:x", "--tx-id", "7E0", "--rx-id", "7E8"],
        vec!["isotp", "dump", "--can", "memory:x"],
        vec!["isotp", "request", "--can", "memory:x", "--tx-id", "7E0", "--rx-id", "7E8", "3E00"],
    ] {
        let out = doipcheck().args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("in-process bus: no other program can hear it"), "{args:?}: {err}");
    }
}
