//! `doipcheck sim` as a process: the fault list, configuration errors with file:line:col, and a
//! real run on ephemeral ports that answers a vehicle identification request and logs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn doipcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_doipcheck"))
}

#[test]
fn list_faults_prints_every_fault_with_its_rule() {
    let out = doipcheck().args(["sim", "--list-faults"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), doipcheck::sim::faults::Fault::ALL.len());
    assert!(lines.len() >= 25);
    for (line, fault) in lines.iter().zip(doipcheck::sim::faults::Fault::ALL) {
        assert!(line.starts_with(fault.name()), "{line}");
        assert!(line.ends_with(fault.rule()), "{line}");
    }
}

#[test]
fn a_bad_configuration_names_file_line_and_column_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.yaml");
    std::fs::write(&path, "timing:\n  t_tcp_alive_check: 500\n").unwrap();
    let out = doipcheck().args(["sim", "--config"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("error: duration `500` needs a unit"), "{err}");
    assert!(err.contains(&format!("--> {}:2:22", path.display())), "{err}");
}

/// Every mistake of a simulator configuration at once, each with its caret and, for a
/// misspelt key, the key meant: the same engine as suites.
#[test]
fn every_mistake_of_a_configuration_is_shown_at_once() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = doipcheck()
        .current_dir(root)
        .args(["sim", "--config", "fixtures/bad-sim/several-mistakes.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_unknown_fault_is_a_usage_error() {
    let out = doipcheck().args(["sim", "--fault", "no_such_fault"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("no_such_fault"));
}

#[test]
fn the_process_answers_on_its_ports_and_logs_each_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.yaml");
    std::fs::write(
        &path,
        "network: { tcp_port: 0, udp_port: 0, tls_port: 0 }\nannounce: { enabled: false }\n",
    )
    .unwrap();
    let mut child = doipcheck()
        .args(["sim", "--config"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    // "doipcheck sim: entity 0x0010 VIN ... on TCP 127.0.0.1:P UDP 127.0.0.1:Q TLS ..."
    let udp: std::net::SocketAddr =
        banner.split(" UDP ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(udp.ip().is_loopback(), "binds loopback by default: {banner}");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    socket.send_to(&[0x02, 0xFD, 0x00, 0x01, 0, 0, 0, 0], udp).unwrap();
    let mut buf = [0u8; 64];
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..4], &[0x02, 0xFD, 0x00, 0x04]);
    assert_eq!(&buf[8..25], b"WDOIPCHECK0000001");
    assert_eq!(n, 8 + 32);
    // Ctrl-C (SIGINT, sent to this child by its id) stops it cleanly; then read what it printed
    // (reading first could wait forever on a silent process).
    let status = crate::interrupt::interrupt(&mut child);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.is_some_and(|s| s.success()), "Ctrl-C did not stop the simulator: {rest:?}");
    assert_eq!(rest.last().map(String::as_str), Some("stopped"));
    let logged = rest.iter().find(|l| l.to_lowercase().contains("vehicle identification request"));
    let logged = logged.expect("a log line for the exchange");
    assert!(logged.contains("udp 127.0.0.1:"), "{logged}");
}
