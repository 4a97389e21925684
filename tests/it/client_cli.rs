//! `doipcheck discover` and `doipcheck request` as processes against `doipcheck sim` on
//! loopback (ephemeral ports): DIDs from the entity and, segmented over ISO-TP, from the ECU
//! behind it, NRC 0x78 sequences, a denied activation, TLS, stdin requests, an unreachable
//! entity, and the simulator's faults shown with the rule they break. Broadcast discovery runs
//! in `client_netns`.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};

pub fn doipcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_doipcheck"))
}

/// The shipped simulator configuration (an ECU behind the gateway, 0x2E with two NRC 0x78)
/// on free loopback ports, without announcements (nothing of this test leaves its sockets).
pub fn sim_config(dir: &std::path::Path) -> std::path::PathBuf {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sim/sim.yaml");
    let text = std::fs::read_to_string(shipped).unwrap();
    let quiet = text.replace("  enabled: true", "  enabled: false");
    assert_ne!(quiet, text, "the fixture's announce.enabled moved");
    let path = dir.join("sim.yaml");
    std::fs::write(&path, quiet).unwrap();
    path
}

/// A `doipcheck sim` process, stopped (by its id) when dropped.
pub struct Sim {
    child: Child,
    pub tcp: SocketAddr,
    pub udp: SocketAddr,
    pub tls: SocketAddr,
}

impl Sim {
    pub fn start(faults: &[&str]) -> (Sim, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = doipcheck();
        cmd.args(["sim", "--port", "0", "--tls-port", "0", "--config"]).arg(sim_config(dir.path()));
        for fault in faults {
            cmd.args(["--fault", fault]);
        }
        (Sim::spawn(cmd), dir)
    }

    /// Starts `cmd` (a `doipcheck sim`) and reads the addresses from its first line.
    pub fn spawn(mut cmd: Command) -> Sim {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let banner = lines.next().expect("the simulator prints its addresses").unwrap();
        // Keep reading its log, so that a full pipe never blocks it.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        let after = |key: &str| -> SocketAddr {
            banner.split(key).nth(1).unwrap().split(' ').next().unwrap().parse().unwrap()
        };
        Sim { tcp: after(" TCP "), udp: after(" UDP "), tls: after(" TLS "), child }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> (Option<i32>, String) {
    let out: Output = doipcheck().args(args).output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn request_reads_dids_from_the_entity_and_segmented_from_its_ecu_and_waits_out_nrc_78() {
    let (sim, _dir) = Sim::start(&[]);
    let tcp = sim.tcp.to_string();
    let (code, out) = run(&["request", "-t", &tcp, "--json", "22F190", "2E01000001"]);
    assert_eq!(code, Some(0), "{out}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["event"], "settings");
    assert_eq!(lines[0]["tester_address"], 0x0E80);
    assert_eq!(lines[0]["target_address"], Value::Null, "learnt from the activation");
    assert_eq!(lines[1]["event"], "activated");
    assert_eq!(lines[1]["target_address"], 0x0010);
    let did = &lines[2]["outcome"]["did"];
    assert_eq!(
        (did["id"].as_u64(), did["ascii"].as_str()),
        (Some(0xF190), Some("WDOIPCHECK0000001"))
    );
    assert_eq!(lines[2]["received"][0]["message"]["payload_type"], "diagnostic_message_ack");
    // 0x2E answers after two NRC 0x78, 100 ms apart (fixtures/sim/sim.yaml), within P2*.
    assert_eq!(lines[3]["pending"], 2);
    assert_eq!(lines[3]["outcome"]["kind"], "positive");
    assert_eq!(lines[3]["outcome"]["response"], "6e0100");
    assert_eq!(lines[3]["received"].as_array().unwrap().len(), 4, "ACK, 78, 78, answer");

    // The ECU behind the gateway: 17 bytes of answer are an ISO-TP multi-frame transfer.
    let (code, out) = run(&["request", "-t", &tcp, "--target-address", "0x0011", "22F187"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("requests go to 0x0011"), "{out}");
    assert!(
        out.contains("DID 0xF187 = 45 4E 47 49 4E 45 2D 53 57 2D 30 30 34 32 \"ENGINE-SW-0042\""),
        "{out}"
    );
}

/// Discovery's answers go through the judge too: an entity that answers a VIN request for
/// another VIN is shown, with the rule it broke, and exit 1.
#[test]
fn discover_shows_what_the_judge_finds_in_the_answers() {
    let (sim, _dir) = Sim::start(&["answers_mismatched_vin"]);
    let udp = sim.udp.to_string();
    let args = ["discover", "-t", &udp, "--vin", "ZZZZZZZZZZZZZZZZZ", "--timeout", "300ms"];
    let (code, out) = run(&[&args[..], &["--json"]].concat());
    let lines = json_lines(&out);
    let findings: Vec<_> = lines.iter().filter(|l| l["event"] == "finding").collect();
    assert!(!findings.is_empty(), "{out}");
    assert!(findings.iter().all(|f| f["rule"] == "doip.vehicle_identification_match"), "{out}");
    assert_eq!(code, Some(1), "{out}");
    let (sim, _dir) = Sim::start(&[]);
    let (code, out) = run(&["discover", "-t", &sim.udp.to_string(), "--timeout", "300ms"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("finding:"), "{out}");
}

/// The session's traffic goes through the judge: an entity that answers in another protocol
/// version gets its answers shown and the broken rule named, and the exit code says so; a
/// conformant one gets no finding.
#[test]
fn request_shows_what_the_judge_finds_in_the_session() {
    let (sim, _dir) = Sim::start(&["reply_wrong_version"]);
    let (code, out) = run(&["request", "-t", &sim.tcp.to_string(), "--json", "3E00"]);
    let lines = json_lines(&out);
    let findings: Vec<_> = lines.iter().filter(|l| l["event"] == "finding").collect();
    assert!(!findings.is_empty(), "{out}");
    assert!(findings.iter().all(|f| f["rule"] == "doip.reply_version"), "{out}");
    assert_eq!(code, Some(1), "{out}");
    let (sim, _dir) = Sim::start(&[]);
    let (code, out) = run(&["request", "-t", &sim.tcp.to_string(), "3E00"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("finding:"), "{out}");
}

#[test]
fn a_negative_answer_names_the_nrc_and_exits_1() {
    let (sim, _dir) = Sim::start(&[]);
    let (code, out) = run(&["request", "-t", &sim.tcp.to_string(), "22F190", "2212FF"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("NEGATIVE response to ReadDataByIdentifier: NRC 0x31 requestOutOfRange"),
        "{out}"
    );
    assert!(out.contains("\"WDOIPCHECK0000001\""), "the positive answer before it is shown: {out}");
}

#[test]
fn a_denied_activation_shows_the_code_and_exits_1() {
    let (sim, _dir) = Sim::start(&[]);
    let (code, out) =
        run(&["request", "-t", &sim.tcp.to_string(), "--source-address", "0x0001", "3E00"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "routing not activated: routing activation denied: 0x00 denied: unknown source address"
        ),
        "{out}"
    );
    assert!(!out.contains("> 3E 00"), "nothing is sent without routing: {out}");
}

#[test]
fn tls_requests_use_the_tls_port_and_write_the_session_keys_when_asked() {
    let (sim, dir) = Sim::start(&[]);
    let keys = dir.path().join("keys.log");
    let keys_arg = keys.to_str().unwrap();
    let tls = sim.tls.to_string();
    let (code, out) = run(&["request", "-t", &tls, "--tls", "--tls-keylog", keys_arg, "22F190"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("over TLS"), "{out}");
    assert!(out.contains("\"WDOIPCHECK0000001\""), "{out}");
    // The NSS key-log format: LABEL, the 32-byte client random and the secret, in hex.
    let text = std::fs::read_to_string(&keys).unwrap();
    let line = text.lines().find(|l| l.starts_with("CLIENT_HANDSHAKE_TRAFFIC_SECRET "));
    let fields: Vec<&str> = line.unwrap_or_else(|| panic!("{text}")).split(' ').collect();
    assert_eq!((fields.len(), fields[1].len()), (3, 64), "{text}");
}

#[test]
fn requests_on_stdin_share_one_connection() {
    let (sim, _dir) = Sim::start(&[]);
    let mut child = doipcheck()
        .args(["request", "-t", &sim.tcp.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"22 F1 90\n# a comment\n\n3E00\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.matches("routing activated").count(), 1, "{text}");
    assert!(text.contains("> 22 F1 90"), "{text}");
    assert!(text.contains("positive response to TesterPresent (0x7E)"), "{text}");
}

#[test]
fn an_entity_that_does_not_listen_is_unreachable_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, out) = run(&["request", "-t", &format!("127.0.0.1:{port}"), "3E00"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("unreachable: cannot connect"), "{out}");
    let (code, out) = run(&["request", "-t", "127.0.0.1", "not-hex"]);
    assert_eq!(code, Some(2), "{out}");
}

#[test]
fn discover_by_unicast_prints_identification_status_and_power_mode() {
    let (sim, _dir) = Sim::start(&[]);
    let udp = sim.udp.to_string();
    let (code, out) = run(&["discover", "-t", &udp, "--timeout", "500ms"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("sent Vehicle identification request to {udp}")), "{out}");
    let row = out.lines().find(|l| l.starts_with(&udp)).unwrap_or_else(|| panic!("{out}"));
    for cell in [
        "0x0010",
        "WDOIPCHECK0000001",
        "00:1A:2B:3C:4D:5E",
        "0x00 gateway",
        "4/0/4096",
        "0x01 ready",
        "0x02",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    let (code, out) = run(&[
        "discover",
        "-t",
        &udp,
        "--timeout",
        "500ms",
        "--json",
        "--eid",
        "00:1A:2B:3C:4D:5E",
        "--vin",
        "WDOIPCHECK0000001",
    ]);
    assert_eq!(code, Some(0), "{out}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["sent"].as_array().unwrap().len(), 3, "plain, EID, VIN");
    let entity = &lines[1];
    assert_eq!(entity["logical_address"], 0x0010);
    assert_eq!(entity["node_type"]["name"], "gateway");
    assert_eq!(entity["mds"], 4096);
    assert_eq!(entity["power_mode"]["name"], "ready");
    // Three identification answers, entity status, power mode; none with a remark.
    let received = entity["received"].as_array().unwrap();
    assert_eq!(received.len(), 5, "{entity}");
    assert!(received.iter().all(|r| r["note"].is_null()), "{entity}");
}

#[test]
fn discover_that_finds_nothing_says_what_it_sent_where_and_exits_1() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = silent.local_addr().unwrap().to_string();
    let (code, out) = run(&["discover", "-t", &to, "--timeout", "200ms"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("sent Vehicle identification request to {to}")), "{out}");
    assert!(out.contains("waited 200ms"), "{out}");
    assert!(out.contains("nothing found"), "{out}");
    let (code, out) = run(&["discover"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--interface, --broadcast or --target"), "{out}");
}

#[test]
fn faults_that_break_discovery_are_shown_with_their_rule() {
    // Every reply's inverse version is wrong: the answer is shown decoded, with its rule.
    let (sim, _dir) = Sim::start(&["reply_wrong_inverse"]);
    let (code, out) = run(&["discover", "-t", &sim.udp.to_string(), "--timeout", "300ms"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BROKEN: inverse protocol version 0x02 is not the inverse"), "{out}");
    assert!(out.contains("rule inverse_version_mismatch"), "{out}");
    assert!(out.contains("payload_type                0x0004"), "the header as sent: {out}");

    // An answer to a request with another EID (§9.2: no response).
    let (sim, _dir) = Sim::start(&["answers_mismatched_eid"]);
    let udp = sim.udp.to_string();
    let (code, out) =
        run(&["discover", "-t", &udp, "--timeout", "300ms", "--eid", "02:00:00:00:00:01"]);
    assert_eq!(code, Some(1), "the judge's finding fails it: {out}");
    assert!(
        out.contains("answers the request with EID 020000000001 although its EID is 001A2B3C4D5E"),
        "{out}"
    );
    assert!(out.contains("finding: rule doip.vehicle_identification_match broken"), "{out}");

    // The optional MDS left out: shown as absent, not as a default.
    let (sim, _dir) = Sim::start(&["mds_omitted"]);
    let (code, out) =
        run(&["discover", "-t", &sim.udp.to_string(), "--timeout", "300ms", "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let entity = &json_lines(&out)[1];
    assert_eq!((entity["mcts"].as_u64(), entity["mds"].is_null()), (Some(4), true), "{entity}");

    // NCTS one too high: the value the entity sent, not a corrected one.
    let (sim, _dir) = Sim::start(&["ncts_wrong"]);
    let (_, out) = run(&["discover", "-t", &sim.udp.to_string(), "--timeout", "300ms", "--json"]);
    assert_eq!(json_lines(&out)[1]["ncts"], 1, "{out}");
}

#[test]
fn faults_that_break_diagnostics_are_shown_with_their_rule() {
    let (sim, _dir) = Sim::start(&["reply_wrong_inverse"]);
    let (code, out) = run(&["request", "-t", &sim.tcp.to_string(), "3E00"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("(instead of the routing activation response)"), "{out}");
    assert!(out.contains("rule inverse_version_mismatch"), "{out}");

    let (sim, _dir) = Sim::start(&["diag_ack_swapped_addresses"]);
    let (_, out) = run(&["request", "-t", &sim.tcp.to_string(), "3E00"]);
    assert!(
        out.contains("(diagnostic ACK with addresses 0x0E80 -> 0x0010, expected 0x0010 -> 0x0E80)"),
        "{out}"
    );

    let (sim, _dir) = Sim::start(&["diag_ack_missing"]);
    let (code, out) = run(&["request", "-t", &sim.tcp.to_string(), "--json", "3E00"]);
    assert_eq!(code, Some(1), "a broken rule fails the session: {out}");
    let lines = json_lines(&out);
    let exchange = &lines[2];
    assert_eq!(exchange["outcome"]["kind"], "positive", "the ECU's answer is shown: {out}");
    assert_eq!(
        exchange["received"][0]["note"],
        "a UDS answer before any diagnostic ACK (ISO 13400-2:2019 §9.6)"
    );
    assert_eq!(lines[3]["rule"], "doip.diagnostic_ack_order", "{out}");

    let (sim, _dir) = Sim::start(&["diag_wrong_nack_unknown_ta"]);
    let (code, out) =
        run(&["request", "-t", &sim.tcp.to_string(), "--target-address", "0x4321", "3E00"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("diagnostic message NACK 0x"), "{out}");
}

#[test]
fn a_profile_gives_the_addresses_timers_and_identification_requests_used() {
    let (sim, _dir) = Sim::start(&[]);
    let profile = concat!(env!("CARGO_MANIFEST_DIR"), "/suites/profile.yaml");
    let (code, out) =
        run(&["request", "-t", &sim.tcp.to_string(), "-p", profile, "--json", "3E00"]);
    assert_eq!(code, Some(0), "{out}");
    let settings = &json_lines(&out)[0];
    // suites/profile.yaml: entity_address 0x0010 (uds.target_address follows it) and
    // A_DoIP_Diagnostic_Message 2s, where the standard's defaults say 50ms.
    assert_eq!(settings["target_address"], 0x0010, "{settings}");
    assert_eq!(settings["ack_timeout_ms"], 2000, "{settings}");
    let (code, out) = run(&["request", "-t", &sim.tcp.to_string(), "3E00"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("waits: ACK 50ms (A_DoIP_Diagnostic_Message), P2 50ms, P2* 5s"), "{out}");

    // The profile's VIN and EID become the requests with VIN and EID.
    let (code, out) =
        run(&["discover", "-t", &sim.udp.to_string(), "-p", profile, "--timeout", "300ms"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Vehicle identification request, EID 00:1A:2B:3C:4D:5E"), "{out}");
    assert!(out.contains("Vehicle identification request, VIN WDOIPCHECK0000001"), "{out}");
}
