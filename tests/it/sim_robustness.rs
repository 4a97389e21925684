//! The simulator host under hostile peers on real loopback sockets: garbage, 4 GiB length
//! headers, 1-byte drips, half-open and reset connections, a flood of connections. Each test
//! checks that the entity answers per the rules and that another, activated socket keeps
//! working; NCTS (over UDP) shows which sockets are really open.

use doipcheck::codec::doip::{
    ActivationType, Deframed, Deframer, DiagnosticMessage, Message, Payload, ProtocolVersion,
    RoutingActivationRequest,
};
use doipcheck::sim::config::{ConfigDuration, SimConfig};
use doipcheck::sim::faults::FaultSet;
use doipcheck::transport::doip::sim_host::SimHost;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

const TESTER: u16 = 0x0E00;
const ENTITY: u16 = 0x0010;
const WAIT: Duration = Duration::from_secs(3);

fn bytes(payload: Payload<'_>) -> Vec<u8> {
    Message::new(ProtocolVersion::Iso2012, payload).to_bytes()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A DoIP tester connection with its own receive buffer.
struct Tester {
    stream: TcpStream,
    buf: Vec<u8>,
    deframer: Deframer,
    /// The SA this tester activated (diagnostic messages come from it).
    source_address: u16,
}

impl Tester {
    async fn connect(addr: SocketAddr) -> Tester {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Tester {
            stream,
            buf: Vec::new(),
            deframer: Deframer::new(u32::MAX),
            source_address: TESTER,
        }
    }

    async fn activated(addr: SocketAddr, sa: u16) -> Tester {
        let mut t = Tester::connect(addr).await;
        t.source_address = sa;
        t.send(&bytes(Payload::RoutingActivationRequest(RoutingActivationRequest::new(
            sa,
            ActivationType::Default,
        ))))
        .await;
        match t.recv().await.map(|m| m.payload) {
            Some(Payload::RoutingActivationResponse(r)) => assert_eq!(r.response_code.raw(), 0x10),
            other => panic!("no activation: {other:?}"),
        }
        t
    }

    async fn send(&mut self, data: &[u8]) {
        self.stream.write_all(data).await.unwrap();
    }

    /// The next message, or `None` when the entity closed the socket (or after [`WAIT`]).
    async fn recv(&mut self) -> Option<Message<'static>> {
        loop {
            match self.deframer.next(&self.buf) {
                Deframed::Message { message, len } => {
                    let owned = message.into_owned();
                    self.buf.drain(..len);
                    return Some(owned);
                }
                Deframed::NeedMore { .. } => {}
                other => panic!("entity sent an invalid stream: {other:?}"),
            }
            let mut chunk = [0u8; 4096];
            match timeout(WAIT, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return None,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => panic!("no message within {WAIT:?}"),
            }
        }
    }

    /// True when the entity closed the socket (EOF or reset) within [`WAIT`].
    async fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match timeout(WAIT, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }

    /// A UDS round trip: ACK and response.
    async fn round_trip(&mut self) {
        let request = DiagnosticMessage::new(self.source_address, ENTITY, vec![0x22, 0xF1, 0x90]);
        self.send(&bytes(Payload::DiagnosticMessage(request))).await;
        let ack = self.recv().await.map(|m| m.payload);
        assert!(matches!(ack, Some(Payload::DiagnosticMessageAck(_))), "expected an ACK: {ack:?}");
        match self.recv().await.map(|m| m.payload) {
            Some(Payload::DiagnosticMessage(m)) => {
                assert_eq!(&m.user_data[..3], &[0x62, 0xF1, 0x90])
            }
            other => panic!("no UDS response: {other:?}"),
        }
    }

    async fn generic_nack(&mut self) -> u8 {
        match self.recv().await.map(|m| m.payload) {
            Some(Payload::GenericNack(n)) => n.nack_code.raw(),
            other => panic!("expected a generic NACK: {other:?}"),
        }
    }
}

/// NCTS from an entity status request over UDP.
async fn ncts(udp_addr: SocketAddr) -> u8 {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.send_to(&bytes(Payload::EntityStatusRequest), udp_addr).await.unwrap();
    let mut buf = [0u8; 64];
    let n = timeout(WAIT, socket.recv(&mut buf)).await.unwrap().unwrap();
    match Message::parse(&buf[..n]).unwrap().payload {
        Payload::EntityStatusResponse(s) => s.currently_open_sockets,
        other => panic!("{other:?}"),
    }
}

/// NCTS once it settles at `want` (closing is asynchronous), or the last value seen.
async fn ncts_settles(udp_addr: SocketAddr, want: u8) -> u8 {
    let mut last = 0;
    for _ in 0..100 {
        last = ncts(udp_addr).await;
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    last
}

fn config() -> SimConfig {
    let mut c = SimConfig::ephemeral();
    // Long enough that no socket of these tests closes by T_TCP_Initial_Inactivity.
    c.timing.t_tcp_initial_inactivity = ConfigDuration::from_millis(30_000);
    c
}

#[test]
fn garbage_is_nacked_and_closed_while_another_socket_keeps_working() {
    runtime().block_on(async {
        let host = SimHost::start(config(), FaultSet::NONE).await.unwrap();
        let mut good = Tester::activated(host.tcp_addr(), TESTER).await;
        let mut bad = Tester::connect(host.tcp_addr()).await;
        let mut garbage = vec![0u8; 2000];
        let mut x: u32 = 0x1234_5678;
        for b in garbage.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        garbage[1] = garbage[0]; // a byte is never its own inverse: a sure pattern error
        bad.send(&garbage).await;
        assert_eq!(bad.generic_nack().await, 0x00);
        assert!(bad.closed().await);
        good.round_trip().await;
        assert_eq!(ncts_settles(host.udp_addr(), 1).await, 1);
        host.shutdown().await;
    });
}

#[test]
fn a_4_gib_length_is_nacked_at_once_and_the_socket_stays_usable_for_the_rest() {
    runtime().block_on(async {
        let host = SimHost::start(config(), FaultSet::NONE).await.unwrap();
        let mut good = Tester::activated(host.tcp_addr(), TESTER).await;
        let mut huge = Tester::activated(host.tcp_addr(), 0x0E80).await;
        huge.send(&[0x02, 0xFD, 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF]).await;
        let started = tokio::time::Instant::now();
        assert_eq!(huge.generic_nack().await, 0x02, "message too large, judged from the header");
        assert!(started.elapsed() < Duration::from_secs(1));
        // 16 MiB of the discarded payload are skipped, not buffered, and nobody waits for them.
        let block = vec![0x55u8; 1 << 20];
        for _ in 0..16 {
            huge.send(&block).await;
            good.round_trip().await;
        }
        assert_eq!(ncts(host.udp_addr()).await, 2);
        host.shutdown().await;
    });
}

#[test]
fn one_byte_drips_deframe() {
    runtime().block_on(async {
        let host = SimHost::start(config(), FaultSet::NONE).await.unwrap();
        let mut t = Tester::connect(host.tcp_addr()).await;
        let mut stream = bytes(Payload::RoutingActivationRequest(RoutingActivationRequest::new(
            TESTER,
            ActivationType::Default,
        )));
        let request = DiagnosticMessage::new(TESTER, ENTITY, vec![0x3E, 0x00]);
        stream.extend_from_slice(&bytes(Payload::DiagnosticMessage(request)));
        for b in stream {
            t.send(&[b]).await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(matches!(
            t.recv().await.map(|m| m.payload),
            Some(Payload::RoutingActivationResponse(_))
        ));
        assert!(matches!(
            t.recv().await.map(|m| m.payload),
            Some(Payload::DiagnosticMessageAck(_))
        ));
        match t.recv().await.map(|m| m.payload) {
            Some(Payload::DiagnosticMessage(m)) => assert_eq!(&m.user_data[..], &[0x7E, 0x00]),
            other => panic!("{other:?}"),
        }
        host.shutdown().await;
    });
}

#[test]
fn half_open_and_reset_connections_are_forgotten() {
    runtime().block_on(async {
        let host = SimHost::start(config(), FaultSet::NONE).await.unwrap();
        let mut good = Tester::activated(host.tcp_addr(), TESTER).await;
        let mut half = Tester::activated(host.tcp_addr(), 0x0E80).await;
        let reset = Tester::connect(host.tcp_addr()).await;
        assert_eq!(ncts_settles(host.udp_addr(), 3).await, 3);
        // Half-open: the tester shuts its sending side; the entity closes the socket.
        half.stream.shutdown().await.unwrap();
        assert!(half.closed().await);
        // Reset: SO_LINGER 0 makes the close an RST.
        reset.stream.set_zero_linger().unwrap();
        drop(reset);
        assert_eq!(ncts_settles(host.udp_addr(), 1).await, 1);
        good.round_trip().await;
        // The SA of the half-open socket is free again.
        let mut again = Tester::activated(host.tcp_addr(), 0x0E80).await;
        again.round_trip().await;
        host.shutdown().await;
    });
}

#[test]
fn hundreds_of_connections_are_bounded_by_max_connections() {
    runtime().block_on(async {
        let mut c = config();
        c.max_connections = 200;
        let host = SimHost::start(c, FaultSet::NONE).await.unwrap();
        let mut good = Tester::activated(host.tcp_addr(), TESTER).await;
        let mut flood = Vec::new();
        for _ in 0..300 {
            flood.push(Tester::connect(host.tcp_addr()).await);
        }
        // 199 more are accepted; the rest are closed at once.
        assert_eq!(ncts_settles(host.udp_addr(), 200).await, 200);
        let mut refused = 0;
        for t in flood.iter_mut().rev().take(101) {
            if t.closed().await {
                refused += 1;
            }
            if refused == 101 {
                break;
            }
        }
        assert_eq!(refused, 101);
        good.round_trip().await;
        drop(flood);
        assert_eq!(ncts_settles(host.udp_addr(), 1).await, 1);
        host.shutdown().await;
    });
}

#[test]
fn tls_port_activates_the_tls_only_type_and_serves_uds() {
    runtime().block_on(async {
        let host = SimHost::start(config(), FaultSet::NONE).await.unwrap();
        let certificate = host.tls_certificate().unwrap().clone();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certificate).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(client));
        let tcp = TcpStream::connect(host.tls_addr().unwrap()).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let request = RoutingActivationRequest::new(TESTER, ActivationType::CentralSecurity);
        tls.write_all(&bytes(Payload::RoutingActivationRequest(request))).await.unwrap();
        let mut buf = [0u8; 64];
        let n = timeout(WAIT, tls.read(&mut buf)).await.unwrap().unwrap();
        match Message::parse(&buf[..n]).unwrap().payload {
            Payload::RoutingActivationResponse(r) => assert_eq!(r.response_code.raw(), 0x10),
            other => panic!("{other:?}"),
        }
        // The same type on plain TCP is denied with 0x07, and that socket stays open.
        let mut plain = Tester::connect(host.tcp_addr()).await;
        let request = RoutingActivationRequest::new(0x0E80, ActivationType::CentralSecurity);
        plain.send(&bytes(Payload::RoutingActivationRequest(request))).await;
        match plain.recv().await.map(|m| m.payload) {
            Some(Payload::RoutingActivationResponse(r)) => assert_eq!(r.response_code.raw(), 0x07),
            other => panic!("{other:?}"),
        }
        host.shutdown().await;
    });
}

/// True when `t` gets neither a byte nor a close for `d` (a hung entity).
async fn silent_for(t: &mut Tester, d: Duration) -> bool {
    let mut chunk = [0u8; 64];
    timeout(d, t.stream.read(&mut chunk)).await.is_err()
}

fn activation_request(sa: u16, t: u8) -> Vec<u8> {
    let request = RoutingActivationRequest::new(sa, ActivationType::from_raw(t));
    bytes(Payload::RoutingActivationRequest(request))
}

/// Each robustness fault takes the entity down on real sockets until a power cycle, which the
/// fuzzer uses to restore the built-in simulator after a finding.
#[test]
fn a_power_cycle_restores_an_entity_a_robustness_fault_took_down() {
    runtime().block_on(async {
        let announce = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let announce_to = announce.local_addr().unwrap();
        let mut config = config();
        config.max_tcp_sockets = 2;
        for fault in [
            "hang_after_oversized_diag",
            "crash_on_reserved_activation_type",
            "leak_socket_on_split_header",
        ] {
            let host = SimHost::start(config.clone(), FaultSet::from_names(&[fault]).unwrap())
                .await
                .unwrap();
            let addr = host.tcp_addr();
            match fault {
                "hang_after_oversized_diag" => {
                    let mut t = Tester::activated(addr, TESTER).await;
                    let oversized = DiagnosticMessage::new(TESTER, ENTITY, vec![0x3E; 65]);
                    t.send(&bytes(Payload::DiagnosticMessage(oversized))).await;
                    let mut fresh = Tester::connect(addr).await;
                    fresh.send(&activation_request(0x0E80, 0x00)).await;
                    assert!(silent_for(&mut fresh, Duration::from_millis(300)).await, "{fault}");
                    assert!(silent_for(&mut t, Duration::from_millis(10)).await, "{fault}");
                }
                "crash_on_reserved_activation_type" => {
                    let mut t = Tester::activated(addr, TESTER).await;
                    let mut bad = Tester::connect(addr).await;
                    bad.send(&activation_request(0x0E80, 0x42)).await;
                    assert!(bad.closed().await && t.closed().await, "{fault}: every socket closes");
                    assert!(Tester::connect(addr).await.closed().await, "{fault}: refused");
                }
                _ => {
                    for _ in 0..config.max_tcp_sockets {
                        let mut t = Tester::connect(addr).await;
                        let request = activation_request(TESTER, 0x00);
                        t.send(&request[..4]).await;
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        t.send(&request[4..]).await;
                        assert!(t.recv().await.is_some(), "{fault}: activated");
                    }
                    let mut t = Tester::connect(addr).await;
                    t.send(&activation_request(TESTER, 0x00)).await;
                    match t.recv().await.map(|m| m.payload) {
                        Some(Payload::RoutingActivationResponse(r)) => {
                            assert_eq!(r.response_code.raw(), 0x01, "{fault}: all sockets taken")
                        }
                        other => panic!("{fault}: {other:?}"),
                    }
                }
            }
            host.control().power_cycle(announce_to).await.unwrap();
            Tester::activated(addr, TESTER).await.round_trip().await;
            host.shutdown().await;
        }
    });
}

/// `isotp_hang_on_large_ff_dl` on a running host: after a first frame announcing 2049 bytes
/// the CAN ECU answers nothing on its bus (not even the FC, not TesterPresent), and the host's
/// power cycle, which builds a new entity and new ECUs on the same bus, brings it back.
#[test]
fn a_power_cycle_restores_a_can_ecu_hung_by_a_large_first_frame() {
    use doipcheck::codec::can::{CanFrame, StandardId};
    use doipcheck::sim::config::{EcuConfig, unspanned};
    use doipcheck::transport::can::NodeOptions;
    runtime().block_on(async {
        let announce = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut config = config();
        config.ecus.push(EcuConfig {
            name: "engine".into(),
            logical_address: unspanned(0x0011),
            request_id: 0x7E0,
            response_id: 0x7E8,
            functional_id: None,
            extended: false,
            isotp: Default::default(),
            uds: Default::default(),
            simulated: true,
        });
        let faults = FaultSet::from_names(&["isotp_hang_on_large_ff_dl"]).unwrap();
        let host = SimHost::start(config, faults).await.unwrap();
        let node = host.can_bus().expect("the ECU's private bus").node(NodeOptions::default());
        let request = |data: &[u8]| CanFrame::new(StandardId::new(0x7E0).unwrap(), data).unwrap();
        let tester_present = request(&[0x02, 0x3E, 0x00]);
        node.send(&request(&[0x18, 0x01, 0x2E, 0x03, 0x00, 0x11, 0x11, 0x11]));
        node.send(&tester_present);
        let heard = timeout(Duration::from_millis(300), node.recv()).await;
        assert!(heard.is_err(), "the hung ECU sent {:?}", heard.map(|r| r.frame));
        host.control().power_cycle(announce.local_addr().unwrap()).await.unwrap();
        node.send(&tester_present);
        let answer = timeout(WAIT, node.recv()).await.expect("the new ECU answers").frame;
        assert_eq!((answer.id().raw(), &answer.data()[..3]), (0x7E8, &[0x02, 0x7E, 0x00][..]));
        host.shutdown().await;
    });
}
