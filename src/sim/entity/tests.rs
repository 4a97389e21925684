//! Virtual-clock tests of the entity: every timer at its exact boundary (1 µs before: open;
//! at the boundary: closed), every header and activation rule, and one test per fault showing
//! that the conformant entity keeps the rule and the faulty one breaks it.

use super::*;
use crate::codec::can::{CanFrame, CanId};
use crate::codec::doip::{
    ActivationType, AliveCheckResponse, DiagnosticMessage, Message, Payload, ProtocolVersion,
    RoutingActivationRequest, VehicleIdentificationRequestWithEid,
    VehicleIdentificationRequestWithVin,
};
use crate::sim::config::{
    ActivationTypeConfig, ConfigDuration, Confirmation, EcuAddressing, EcuConfig, HexBytes,
};
use core::net::{IpAddr, Ipv4Addr};

const TESTER: u16 = 0x0E00;
const OTHER_TESTER: u16 = 0x0E80;
const ENTITY: u16 = 0x0010;
const US: Duration = Duration::from_micros(1);

fn peer() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 50000)
}

fn msg(payload: Payload<'_>) -> Vec<u8> {
    Message::new(ProtocolVersion::Iso2012, payload).to_bytes()
}

fn activation(sa: u16, t: u8) -> Vec<u8> {
    msg(Payload::RoutingActivationRequest(RoutingActivationRequest::new(
        sa,
        ActivationType::from_raw(t),
    )))
}

fn diag(sa: u16, ta: u16, data: &[u8]) -> Vec<u8> {
    msg(Payload::DiagnosticMessage(DiagnosticMessage::new(sa, ta, data.to_vec())))
}

fn raw_header(version: u8, inverse: u8, t: u16, len: u32) -> Vec<u8> {
    let mut v = vec![version, inverse];
    v.extend_from_slice(&t.to_be_bytes());
    v.extend_from_slice(&len.to_be_bytes());
    v
}

/// An entity on a virtual clock, with the outputs seen so far.
struct Sim {
    e: Entity,
    now: Instant,
    /// (time, output)
    seen: Vec<(Instant, Output)>,
    next_conn: ConnId,
}

impl Sim {
    fn new(config: SimConfig, faults: FaultSet) -> Self {
        let mut e = Entity::new(config, faults, Instant::ZERO);
        e.set_logging(false);
        Sim { e, now: Instant::ZERO, seen: Vec::new(), next_conn: 1 }
    }

    fn conformant() -> Self {
        Self::new(quiet(), FaultSet::NONE)
    }

    fn with(fault: FaultSet) -> Self {
        Self::new(quiet(), fault)
    }

    fn drain(&mut self) {
        while let Some(o) = self.e.poll_output() {
            self.seen.push((self.now, o));
        }
    }

    /// Runs the clock to `t`, firing every timer at its own instant.
    fn advance_to(&mut self, t: Instant) {
        while let Some(wake) = self.e.poll_timeout() {
            if wake > t {
                break;
            }
            self.now = wake.max(self.now);
            self.e.handle_timeout(self.now);
            self.drain();
        }
        self.now = t;
        self.e.handle_timeout(t);
        self.drain();
    }

    fn advance(&mut self, d: Duration) {
        self.advance_to(self.now + d);
    }

    fn connect(&mut self) -> ConnId {
        self.connect_tls(false)
    }

    fn connect_tls(&mut self, tls: bool) -> ConnId {
        let id = self.next_conn;
        self.next_conn += 1;
        assert!(self.e.handle_tcp_accept(self.now, id, tls));
        self.drain();
        id
    }

    fn send(&mut self, conn: ConnId, bytes: &[u8]) {
        self.e.handle_tcp_data(self.now, conn, bytes);
        self.drain();
    }

    fn udp(&mut self, bytes: &[u8]) {
        self.e.handle_udp(self.now, peer(), bytes);
        self.drain();
    }

    fn activated(&mut self, sa: u16) -> ConnId {
        let c = self.connect();
        self.send(c, &activation(sa, 0x00));
        assert_eq!(self.activation_code(c), Some(0x10));
        self.seen.clear();
        c
    }

    /// Messages written to `conn`, parsed.
    fn tcp_messages(&self, conn: ConnId) -> Vec<Message<'static>> {
        self.seen
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Tcp { conn: c, bytes } if *c == conn => {
                    Some(Message::parse(bytes).expect("entity output parses").into_owned())
                }
                _ => None,
            })
            .collect()
    }

    fn tcp_bytes(&self, conn: ConnId) -> Vec<Vec<u8>> {
        self.seen
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Tcp { conn: c, bytes } if *c == conn => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    }

    fn closed(&self, conn: ConnId) -> bool {
        self.seen.iter().any(|(_, o)| *o == Output::Close { conn })
    }

    fn closed_at(&self, conn: ConnId) -> Option<Instant> {
        self.seen.iter().find(|(_, o)| *o == Output::Close { conn }).map(|(t, _)| *t)
    }

    fn generic_nacks(&self, conn: ConnId) -> Vec<u8> {
        self.tcp_messages(conn)
            .iter()
            .filter_map(|m| match &m.payload {
                Payload::GenericNack(n) => Some(n.nack_code.raw()),
                _ => None,
            })
            .collect()
    }

    fn activation_code(&self, conn: ConnId) -> Option<u8> {
        self.tcp_messages(conn).iter().rev().find_map(|m| match &m.payload {
            Payload::RoutingActivationResponse(r) => Some(r.response_code.raw()),
            _ => None,
        })
    }

    fn alive_check_requests(&self, conn: ConnId) -> usize {
        self.tcp_messages(conn)
            .iter()
            .filter(|m| matches!(m.payload, Payload::AliveCheckRequest))
            .count()
    }

    fn udp_messages(&self) -> Vec<(Instant, SocketAddr, Message<'static>)> {
        self.seen
            .iter()
            .filter_map(|(t, o)| match o {
                Output::Udp { to, bytes } => {
                    Some((*t, *to, Message::parse(bytes).expect("parses").into_owned()))
                }
                _ => None,
            })
            .collect()
    }

    fn status(&mut self) -> crate::codec::doip::EntityStatusResponse {
        self.seen.clear();
        self.udp(&msg(Payload::EntityStatusRequest));
        match self.udp_messages().pop().map(|m| m.2.payload) {
            Some(Payload::EntityStatusResponse(s)) => s,
            other => panic!("no status: {other:?}"),
        }
    }
}

/// The default configuration without announcements (they would fill every output list).
fn quiet() -> SimConfig {
    let mut c = SimConfig::default();
    c.announce.enabled = false;
    c
}

// ---------------------------------------------------------------- conformant behaviour

#[test]
fn activation_then_a_uds_request_gets_ack_and_response() {
    let mut s = Sim::conformant();
    let c = s.activated(TESTER);
    s.send(c, &diag(TESTER, ENTITY, &[0x22, 0xF1, 0x90]));
    let m = s.tcp_messages(c);
    assert_eq!(m.len(), 2, "{m:?}");
    let Payload::DiagnosticMessageAck(ack) = &m[0].payload else { panic!("{m:?}") };
    assert_eq!((ack.source_address, ack.target_address, ack.ack_code.raw()), (ENTITY, TESTER, 0));
    let Payload::DiagnosticMessage(r) = &m[1].payload else { panic!("{m:?}") };
    assert_eq!((r.source_address, r.target_address), (ENTITY, TESTER));
    assert_eq!(&r.user_data[..3], &[0x62, 0xF1, 0x90]);
    assert_eq!(&r.user_data[3..], b"WDOIPCHECK0000001");
    assert!(!s.closed(c));
}

#[test]
fn header_rules_in_order_with_their_socket_outcomes() {
    // Bad inverse: NACK 0x00 and close.
    let mut s = Sim::conformant();
    let c = s.connect();
    s.send(c, &raw_header(0x02, 0x00, 0x0005, 7));
    assert_eq!(s.generic_nacks(c), vec![0x00]);
    assert!(s.closed(c));
    // A version the entity does not implement (valid elsewhere): NACK 0x00 and close.
    let c = s.connect();
    s.send(c, &raw_header(0x03, 0xFC, 0x0005, 7));
    assert_eq!(s.generic_nacks(c), vec![0x00]);
    assert!(s.closed(c));
    // 0xFF on TCP: NACK 0x00 and close.
    let c = s.connect();
    s.send(c, &raw_header(0xFF, 0x00, 0x0007, 0));
    assert_eq!(s.generic_nacks(c), vec![0x00]);
    assert!(s.closed(c));
    // Unknown type: NACK 0x01, its payload skipped exactly, the next message handled.
    let c = s.connect();
    let mut stream = raw_header(0x02, 0xFD, 0x1234, 3);
    stream.extend_from_slice(&[0x00, 0x07, 0x00]); // payload that looks like a header start
    stream.extend_from_slice(&msg(Payload::AliveCheckRequest));
    s.send(c, &stream);
    assert_eq!(s.generic_nacks(c), vec![0x01]);
    assert!(matches!(s.tcp_messages(c)[1].payload, Payload::AliveCheckResponse(_)));
    assert!(!s.closed(c));
    // UDP-only type on TCP: NACK 0x01, stays open.
    let c = s.connect();
    s.send(c, &msg(Payload::EntityStatusRequest));
    assert_eq!(s.generic_nacks(c), vec![0x01]);
    assert!(!s.closed(c));
    // Above MDS: NACK 0x02, skipped exactly, stays open.
    let c = s.connect();
    let mut stream = raw_header(0x02, 0xFD, 0x8001, 5000);
    stream.extend(core::iter::repeat_n(0x02, 5000));
    stream.extend_from_slice(&msg(Payload::AliveCheckRequest));
    s.send(c, &stream);
    assert_eq!(s.generic_nacks(c), vec![0x02]);
    assert_eq!(s.tcp_messages(c).len(), 2);
    assert!(!s.closed(c));
    // Wrong length for the type: NACK 0x04 and close.
    let c = s.connect();
    s.send(c, &raw_header(0x02, 0xFD, 0x0008, 3));
    assert_eq!(s.generic_nacks(c), vec![0x04]);
    assert!(s.closed(c));
}

#[test]
fn a_message_beyond_the_shared_receive_budget_is_nack_0x03_and_skipped() {
    let mut s = Sim::new(SimConfig { rx_buffer_budget: 5000, ..quiet() }, FaultSet::NONE);
    let a = s.activated(TESTER);
    let b = s.activated(OTHER_TESTER);
    let mut first = diag(TESTER, ENTITY, &[0x22; 3000]);
    let rest = first.split_off(100);
    s.send(a, &first);
    // 3000 bytes are reserved for a; b's 3000 more do not fit the 5000-byte budget now.
    let mut second = diag(OTHER_TESTER, ENTITY, &[0x22; 3000]);
    second.extend_from_slice(&msg(Payload::AliveCheckRequest));
    s.send(b, &second[..50]);
    assert_eq!(s.generic_nacks(b), vec![0x03]);
    s.send(b, &second[50..]);
    assert!(
        matches!(
            s.tcp_messages(b).last().map(|m| &m.payload),
            Some(Payload::AliveCheckResponse(_))
        ),
        "the rejected message was skipped exactly"
    );
    assert!(!s.closed(b));
    s.send(a, &rest);
    let a_messages = s.tcp_messages(a);
    assert!(
        matches!(a_messages[0].payload, Payload::DiagnosticMessageAck(_)),
        "a's message was processed: {a_messages:?}"
    );
    // The budget is free again.
    s.send(b, &diag(OTHER_TESTER, ENTITY, &[0x22; 3000])[..100]);
    assert_eq!(s.generic_nacks(b), vec![0x03]);
}

#[test]
fn a_4_gib_length_is_nacked_at_once_and_never_buffered() {
    let mut s = Sim::conformant();
    let c = s.connect();
    s.send(c, &raw_header(0x02, 0xFD, 0x8001, u32::MAX));
    assert_eq!(s.generic_nacks(c), vec![0x02], "judged from the header alone");
    for _ in 0..64 {
        s.send(c, &[0xAB; 65536]);
    }
    assert!(s.e.buffered_bytes() <= 4096 + 8, "skipped bytes are counted, not kept");
    assert!(!s.closed(c));
}

#[test]
fn one_byte_drips_and_many_messages_per_segment_both_deframe() {
    let mut s = Sim::conformant();
    let c = s.connect();
    for b in activation(TESTER, 0) {
        s.send(c, &[b]);
    }
    assert_eq!(s.activation_code(c), Some(0x10));
    let mut burst = Vec::new();
    for _ in 0..10 {
        burst.extend_from_slice(&diag(TESTER, ENTITY, &[0x3E, 0x00]));
    }
    s.seen.clear();
    s.send(c, &burst);
    assert_eq!(s.tcp_messages(c).len(), 20, "ACK + response for each of 10 requests");
}

#[test]
fn initial_inactivity_closes_at_exactly_t_tcp_initial_inactivity() {
    let mut s = Sim::conformant();
    let c = s.connect();
    s.advance(Duration::from_secs(2) - US);
    assert!(!s.closed(c));
    s.advance(US);
    assert_eq!(s.closed_at(c), Some(Instant::from_millis(2000)));
    assert_eq!(s.e.open_sockets(), 0);
}

#[test]
fn general_inactivity_closes_an_idle_activated_socket_at_the_boundary() {
    let mut s = Sim::conformant();
    s.advance(Duration::from_millis(100));
    let c = s.activated(TESTER);
    s.advance(Duration::from_secs(100));
    // An unprompted alive check response is activity and restarts the timer.
    s.send(c, &msg(Payload::AliveCheckResponse(AliveCheckResponse { source_address: TESTER })));
    let last = s.now;
    s.advance(Duration::from_secs(300) - US);
    assert!(!s.closed(c));
    s.advance(US);
    assert_eq!(s.closed_at(c), Some(last + Duration::from_secs(300)));
}

fn one_socket() -> SimConfig {
    SimConfig { max_tcp_sockets: 1, ..quiet() }
}

#[test]
fn all_sockets_taken_alive_check_answered_denies_with_0x01() {
    let mut s = Sim::new(one_socket(), FaultSet::NONE);
    let a = s.activated(TESTER);
    let b = s.connect();
    s.send(b, &activation(OTHER_TESTER, 0));
    assert_eq!(s.alive_check_requests(a), 1);
    assert_eq!(s.activation_code(b), None, "no answer before the alive check ends");
    s.advance(Duration::from_millis(100));
    s.send(a, &msg(Payload::AliveCheckResponse(AliveCheckResponse { source_address: TESTER })));
    assert_eq!(s.activation_code(b), Some(0x01));
    assert!(s.closed(b));
    s.advance(Duration::from_secs(1));
    assert!(!s.closed(a));
}

#[test]
fn all_sockets_taken_silent_socket_is_closed_at_t_tcp_alive_check_and_replaced() {
    let mut s = Sim::new(one_socket(), FaultSet::NONE);
    let a = s.activated(TESTER);
    let b = s.connect();
    let asked = s.now;
    s.send(b, &activation(OTHER_TESTER, 0));
    s.advance(Duration::from_millis(500) - US);
    assert!(!s.closed(a));
    s.advance(US);
    assert_eq!(s.closed_at(a), Some(asked + Duration::from_millis(500)));
    assert_eq!(s.activation_code(b), Some(0x10));
    assert_eq!(s.e.registered_sockets(), 1);
}

#[test]
fn same_sa_on_another_socket_alive_answer_gives_0x03() {
    let mut s = Sim::conformant();
    let a = s.activated(TESTER);
    let b = s.connect();
    s.send(b, &activation(TESTER, 0));
    assert_eq!(s.alive_check_requests(a), 1);
    s.send(a, &msg(Payload::AliveCheckResponse(AliveCheckResponse { source_address: TESTER })));
    assert_eq!(s.activation_code(b), Some(0x03));
    assert!(s.closed(b));
}

#[test]
fn same_sa_on_a_dead_socket_moves_to_the_new_one() {
    let mut s = Sim::conformant();
    let a = s.activated(TESTER);
    let b = s.connect();
    s.send(b, &activation(TESTER, 0));
    s.advance(Duration::from_millis(500));
    assert!(s.closed(a));
    assert_eq!(s.activation_code(b), Some(0x10));
    s.send(b, &diag(TESTER, ENTITY, &[0x3E, 0x00]));
    assert_eq!(s.tcp_messages(b).len(), 3);
}

#[test]
fn every_routing_activation_code_is_reachable_by_configuration() {
    let mut config = quiet();
    config.activation.push(ActivationTypeConfig {
        authentication: Some(HexBytes(vec![0xCA, 0xFE, 0xBA, 0xBE])),
        ..ActivationTypeConfig::plain(0xE1)
    });
    config.activation.push(ActivationTypeConfig {
        confirmation: Confirmation::Pending,
        ..ActivationTypeConfig::plain(0xE2)
    });
    config.activation.push(ActivationTypeConfig {
        confirmation: Confirmation::Rejected,
        ..ActivationTypeConfig::plain(0xE3)
    });
    let mut s = Sim::new(config, FaultSet::NONE);
    let cases: &[(u16, u8, u8, bool)] = &[
        (0x0123, 0x00, 0x00, true),
        (TESTER, 0x05, 0x06, true),
        (TESTER, 0xE0, 0x07, false),
        (TESTER, 0xE1, 0x04, false),
        (TESTER, 0xE3, 0x05, true),
        (TESTER, 0xE2, 0x11, false),
        (TESTER, 0x00, 0x10, false),
    ];
    for &(sa, t, code, closes) in cases {
        let c = s.connect();
        s.send(c, &activation(sa, t));
        assert_eq!(s.activation_code(c), Some(code), "sa {sa:04X} type {t:02X}");
        assert_eq!(s.closed(c), closes, "socket outcome of code {code:02X}");
        if code == 0x11 {
            // A second request completes the confirmation.
            s.send(c, &activation(sa, t));
            assert_eq!(s.activation_code(c), Some(0x10));
        }
        s.e.handle_tcp_closed(s.now, c);
    }
    // The right OEM field authenticates.
    let c = s.connect();
    let mut r = RoutingActivationRequest::new(TESTER, ActivationType::from_raw(0xE1));
    r.oem_specific = Some(0xCAFE_BABE);
    s.send(c, &msg(Payload::RoutingActivationRequest(r)));
    assert_eq!(s.activation_code(c), Some(0x10));
    // A different SA on an activated socket: 0x02 and close.
    s.send(c, &activation(OTHER_TESTER, 0x00));
    assert_eq!(s.activation_code(c), Some(0x02));
    assert!(s.closed(c));
    // TLS type on a TLS socket succeeds.
    let t = s.connect_tls(true);
    s.send(t, &activation(OTHER_TESTER, 0xE0));
    assert_eq!(s.activation_code(t), Some(0x10));
}

#[test]
fn diagnostic_nack_codes() {
    let mut config = quiet();
    config.uds.max_request_length = 8;
    config.ecus.push(EcuConfig { uds: config.uds.clone(), ..ecu() });
    let mut s = Sim::new(config, FaultSet::NONE);
    let unactivated = s.connect();
    s.send(unactivated, &diag(TESTER, ENTITY, &[0x3E, 0x00]));
    let a = s.activated(TESTER);
    for (sa, ta, data, code) in [
        (OTHER_TESTER, ENTITY, &[0x3E, 0x00][..], 0x02),
        (TESTER, 0x0999, &[0x3E, 0x00][..], 0x03),
        (TESTER, ENTITY, &[0x22; 9][..], 0x04),
        (TESTER, ECU, &[0x22; 9][..], 0x04),
    ] {
        s.seen.clear();
        s.send(a, &diag(sa, ta, data));
        let m = s.tcp_messages(a);
        let [Message { payload: Payload::DiagnosticMessageNack(n), .. }] = &m[..] else {
            panic!("{m:?}")
        };
        assert_eq!(n.nack_code.raw(), code);
        assert_eq!((n.source_address, n.target_address), (ta, sa));
    }
    assert!(!s.closed(a));
}

#[test]
fn response_pending_sequences_play_out_on_the_clock() {
    let mut config = quiet();
    config.uds.services.insert(
        0x22,
        crate::sim::config::ServiceTiming {
            delay: crate::sim::config::ConfigDuration::from_millis(20),
            pending: 1,
            pending_interval: crate::sim::config::ConfigDuration::from_millis(100),
        },
    );
    let mut s = Sim::new(config, FaultSet::NONE);
    let c = s.activated(TESTER);
    let t0 = s.now;
    s.send(c, &diag(TESTER, ENTITY, &[0x22, 0x01, 0x00]));
    s.advance(Duration::from_secs(1));
    let times: Vec<_> = s.seen.iter().map(|(t, _)| *t - t0).collect();
    assert_eq!(times, vec![Duration::ZERO, Duration::from_millis(20), Duration::from_millis(120)]);
    let m = s.tcp_messages(c);
    let Payload::DiagnosticMessage(p) = &m[1].payload else { panic!() };
    assert_eq!(&p.user_data[..], &[0x7F, 0x22, 0x78]);
}

#[test]
fn a_flood_of_requests_to_a_slow_service_is_bounded_with_nack_0x05() {
    let mut config = quiet();
    config.uds.services.insert(
        0x3E,
        crate::sim::config::ServiceTiming {
            delay: crate::sim::config::ConfigDuration::from_millis(60_000),
            ..Default::default()
        },
    );
    let mut s = Sim::new(config, FaultSet::NONE);
    let c = s.activated(TESTER);
    let request = diag(TESTER, ENTITY, &[0x3E, 0x00]);
    let mut burst = Vec::new();
    for _ in 0..20_000 {
        burst.extend_from_slice(&request);
    }
    s.send(c, &burst);
    let nacks = s
        .tcp_messages(c)
        .iter()
        .filter(|m| matches!(&m.payload, Payload::DiagnosticMessageNack(n) if n.nack_code.raw() == 0x05))
        .count();
    assert_eq!(nacks, 20_000 - 16_384);
    assert!(!s.closed(c));
}

#[test]
fn tester_alive_check_request_is_answered_with_the_entity_address() {
    let mut s = Sim::conformant();
    let c = s.connect();
    s.send(c, &msg(Payload::AliveCheckRequest));
    let m = s.tcp_messages(c);
    assert!(matches!(
        m[..],
        [Message {
            payload: Payload::AliveCheckResponse(AliveCheckResponse { source_address: ENTITY }),
            ..
        }]
    ));
}

#[test]
fn udp_identification_status_and_power_mode() {
    let mut s = Sim::conformant();
    s.udp(&msg(Payload::VehicleIdentificationRequest));
    let mut vir_default = msg(Payload::VehicleIdentificationRequest);
    vir_default[0] = 0xFF;
    vir_default[1] = 0x00;
    s.udp(&vir_default);
    let eid = SimConfig::default().eid.0;
    s.udp(&msg(Payload::VehicleIdentificationRequestWithEid(
        VehicleIdentificationRequestWithEid { eid },
    )));
    s.udp(&msg(Payload::VehicleIdentificationRequestWithVin(
        VehicleIdentificationRequestWithVin { vin: *b"WDOIPCHECK0000001" },
    )));
    let answers = s.udp_messages();
    assert_eq!(answers.len(), 4);
    for (t, to, m) in &answers {
        assert_eq!((*t, *to), (Instant::ZERO, peer()), "to the requester, at once");
        assert_eq!(m.protocol_version, ProtocolVersion::Iso2012);
        let Payload::VehicleAnnouncement(a) = &m.payload else { panic!("{m:?}") };
        assert_eq!((&a.vin, a.logical_address, a.eid), (b"WDOIPCHECK0000001", ENTITY, eid));
    }
    let a = s.connect();
    let _b = s.connect();
    let status = s.status();
    assert_eq!(
        (status.node_type.raw(), status.max_concurrent_sockets, status.currently_open_sockets),
        (0x00, 4, 2)
    );
    assert_eq!(status.max_data_size, Some(4096));
    s.e.handle_tcp_closed(s.now, a);
    assert_eq!(s.status().currently_open_sockets, 1);
    s.seen.clear();
    s.udp(&msg(Payload::PowerModeInformationRequest));
    let m = s.udp_messages();
    assert!(matches!(
        &m[0].2.payload,
        Payload::PowerModeInformationResponse(p) if p.power_mode.raw() == 0x01
    ));
}

#[test]
fn udp_header_rules_and_silence_for_answers() {
    let mut s = Sim::conformant();
    s.udp(&raw_header(0x02, 0x02, 0x0001, 0));
    s.udp(&msg(Payload::AliveCheckRequest));
    s.udp(&raw_header(0x02, 0xFD, 0x4001, 1));
    let codes: Vec<_> = s
        .udp_messages()
        .into_iter()
        .map(|(_, _, m)| match m.payload {
            Payload::GenericNack(n) => n.nack_code.raw(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, vec![0x00, 0x01, 0x04]);
    s.seen.clear();
    s.udp(&msg(Payload::GenericNack(crate::codec::doip::GenericNack {
        nack_code: crate::codec::doip::GenericNackCode::from_raw(0),
    })));
    s.udp(&[0x02, 0xFD]);
    assert!(s.seen.is_empty(), "NACKs and runts get no answer");
}

#[test]
fn announcements_after_the_seeded_wait_then_num_times_interval_apart() {
    let mut config = SimConfig::default();
    config.announce.seed = 7;
    let mut s = Sim::new(config.clone(), FaultSet::NONE);
    let wait = s.e.announce_wait();
    assert!(wait <= Duration::from_millis(500));
    s.advance(Duration::from_secs(5));
    let times: Vec<_> = s
        .udp_messages()
        .iter()
        .map(|(t, to, _)| {
            assert_eq!(*to, config.announce.destination.0, "to loopback by default");
            t.since_epoch()
        })
        .collect();
    let ms500 = Duration::from_millis(500);
    assert_eq!(times, vec![wait, wait + ms500, wait + 2 * ms500]);
    let again = Sim::new(config, FaultSet::NONE);
    assert_eq!(again.e.announce_wait(), wait, "same seed, same wait");
}

#[test]
fn connections_beyond_max_connections_are_refused() {
    let mut s = Sim::new(SimConfig { max_connections: 4, ..quiet() }, FaultSet::NONE);
    for _ in 0..4 {
        s.connect();
    }
    assert!(!s.e.handle_tcp_accept(s.now, 99, false));
    assert_eq!(s.e.open_sockets(), 4);
}

// ---------------------------------------------------------------- gateway to CAN ECUs

const ECU: u16 = 0x0011;
const REQUEST_ID: u32 = 0x7E0;
const RESPONSE_ID: u32 = 0x7E8;

/// A CAN ECU at 0x0011 on 0x7E0 / 0x7E8 with a 20-byte writable DID 0x0300.
fn ecu() -> EcuConfig {
    let mut uds = crate::sim::config::UdsConfig::default();
    uds.dids.insert(
        0x0300,
        crate::sim::config::DidConfig {
            hex: Some(HexBytes(vec![0x11; 20])),
            writable: true,
            ..Default::default()
        },
    );
    EcuConfig {
        name: "engine".into(),
        logical_address: crate::sim::config::unspanned(ECU),
        request_id: REQUEST_ID,
        response_id: RESPONSE_ID,
        functional_id: None,
        extended: false,
        isotp: Default::default(),
        uds,
        simulated: true,
    }
}

fn with_ecu(ecu: EcuConfig, faults: FaultSet) -> Sim {
    let mut config = quiet();
    config.ecus.push(ecu);
    Sim::new(config, faults)
}

impl Sim {
    fn can_frames(&self) -> Vec<(Instant, CanFrame)> {
        self.seen
            .iter()
            .filter_map(|(t, o)| match o {
                Output::Can(f) => Some((*t, *f)),
                _ => None,
            })
            .collect()
    }

    /// Frames the ECU sent (on its response id).
    fn ecu_frames(&self) -> Vec<(Instant, Vec<u8>)> {
        self.can_frames()
            .into_iter()
            .filter(|(_, f)| f.id().raw() == RESPONSE_ID)
            .map(|(t, f)| (t, f.data().to_vec()))
            .collect()
    }

    fn can_in(&mut self, id: u32, data: &[u8]) {
        let mut padded = data.to_vec();
        padded.resize(8, 0xCC);
        let frame = CanFrame::new(CanId::new(id, false).unwrap(), &padded).unwrap();
        self.e.handle_can_frame(self.now, &frame);
        self.drain();
    }
}

#[test]
fn a_request_to_a_can_ecu_is_acked_and_its_multi_frame_answer_routed_back() {
    let mut s = with_ecu(ecu(), FaultSet::NONE);
    let c = s.activated(TESTER);
    s.send(c, &diag(TESTER, ECU, &[0x22, 0xF1, 0x90]));
    let m = s.tcp_messages(c);
    assert_eq!(m.len(), 2, "{m:?}");
    let Payload::DiagnosticMessageAck(ack) = &m[0].payload else { panic!("{m:?}") };
    assert_eq!((ack.source_address, ack.target_address), (ECU, TESTER));
    let Payload::DiagnosticMessage(r) = &m[1].payload else { panic!("{m:?}") };
    assert_eq!((r.source_address, r.target_address), (ECU, TESTER));
    assert_eq!(&r.user_data[3..], b"WDOIPCHECK0000001");
    // SF request, FF answer, FC from the gateway, 2 CFs, all on the bus.
    let pcis: Vec<u8> = s.can_frames().iter().map(|(_, f)| f.data()[0] >> 4).collect();
    assert_eq!(pcis, vec![0, 1, 3, 2, 2]);
}

#[test]
fn a_request_queued_behind_another_testers_goes_to_the_ecu_after_its_answer_and_each_answer_to_its_tester()
 {
    // The first request's answer takes a response pending and 100 ms: the second request
    // waits for it, else the ECU's answers carry no sign of whom they are for.
    let mut ecu = ecu();
    ecu.uds.services.insert(
        0x11,
        crate::sim::config::ServiceTiming {
            pending: 1,
            pending_interval: crate::sim::config::ConfigDuration::from_millis(100),
            ..Default::default()
        },
    );
    let mut s = with_ecu(ecu, FaultSet::NONE);
    let (a, b) = (s.activated(TESTER), s.activated(OTHER_TESTER));
    s.send(a, &diag(TESTER, ECU, &[0x11, 0x01]));
    s.send(b, &diag(OTHER_TESTER, ECU, &[0x3E, 0x00]));
    let requests =
        |s: &Sim| s.can_frames().iter().filter(|(_, f)| f.id().raw() == REQUEST_ID).count();
    assert_eq!(requests(&s), 1, "the second request is held while the first is answered");
    s.advance(Duration::from_millis(100) - US);
    assert_eq!(requests(&s), 1, "a response pending extends the wait");
    s.advance(US);
    assert_eq!(requests(&s), 2, "sent once the final answer came");
    let answers = |c| -> Vec<Vec<u8>> {
        s.tcp_messages(c)
            .into_iter()
            .filter_map(|m| match m.payload {
                Payload::DiagnosticMessage(d) => Some(d.user_data.to_vec()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(answers(a), vec![vec![0x7F, 0x11, 0x78], vec![0x51, 0x01]]);
    assert_eq!(answers(b), vec![vec![0x7E, 0x00]]);
}

#[test]
fn a_request_the_ecu_leaves_unanswered_holds_the_next_for_p2_server_max_only() {
    let mut s = with_ecu(ecu(), FaultSet::NONE);
    let (a, b) = (s.activated(TESTER), s.activated(OTHER_TESTER));
    // TesterPresent with the suppress-positive-response bit: no answer comes.
    s.send(a, &diag(TESTER, ECU, &[0x3E, 0x80]));
    s.send(b, &diag(OTHER_TESTER, ECU, &[0x3E, 0x00]));
    let requests =
        |s: &Sim| s.can_frames().iter().filter(|(_, f)| f.id().raw() == REQUEST_ID).count();
    s.advance(Duration::from_millis(50) - US);
    assert_eq!(requests(&s), 1);
    s.advance(US);
    assert_eq!(requests(&s), 2, "P2server_max (50 ms) without an answer frees the link");
}

#[test]
fn a_multi_frame_request_is_acked_after_the_transfer() {
    let mut s = with_ecu(ecu(), FaultSet::NONE);
    let c = s.activated(TESTER);
    let mut write = vec![0x2E, 0x03, 0x00];
    write.extend_from_slice(&[0x42; 20]);
    s.send(c, &diag(TESTER, ECU, &write));
    let m = s.tcp_messages(c);
    assert!(matches!(m[0].payload, Payload::DiagnosticMessageAck(_)), "{m:?}");
    let Payload::DiagnosticMessage(r) = &m[1].payload else { panic!("{m:?}") };
    assert_eq!(&r.user_data[..], &[0x6E, 0x03, 0x00]);
}

#[test]
fn no_flow_control_from_the_bus_is_nack_0x06_at_n_bs() {
    let mut s = with_ecu(EcuConfig { simulated: false, ..ecu() }, FaultSet::NONE);
    let c = s.activated(TESTER);
    s.send(c, &diag(TESTER, ECU, &[0x2E, 0x03, 0x00, 1, 2, 3, 4, 5, 6, 7]));
    s.advance(Duration::from_millis(1000) - US);
    assert!(s.tcp_messages(c).is_empty(), "neither ACK nor NACK before N_Bs");
    s.advance(US);
    let m = s.tcp_messages(c);
    let [Message { payload: Payload::DiagnosticMessageNack(n), .. }] = &m[..] else {
        panic!("{m:?}")
    };
    assert_eq!((n.nack_code.raw(), n.source_address), (0x06, ECU));
}

#[test]
fn flow_control_overflow_from_the_ecu_is_nack_0x08() {
    let mut s = with_ecu(EcuConfig { simulated: false, ..ecu() }, FaultSet::NONE);
    let c = s.activated(TESTER);
    s.send(c, &diag(TESTER, ECU, &[0x2E, 0x03, 0x00, 1, 2, 3, 4, 5, 6, 7]));
    s.can_in(RESPONSE_ID, &[0x32, 0x00, 0x00]);
    let m = s.tcp_messages(c);
    let [Message { payload: Payload::DiagnosticMessageNack(n), .. }] = &m[..] else {
        panic!("{m:?}")
    };
    assert_eq!(n.nack_code.raw(), 0x08);
}

#[test]
fn another_tester_on_the_bus_reaches_the_ecu_without_the_gateway_interfering() {
    let mut s = with_ecu(ecu(), FaultSet::NONE);
    s.can_in(REQUEST_ID, &[0x03, 0x22, 0xF1, 0x90]);
    let frames = s.can_frames();
    assert_eq!(frames.len(), 1, "only the ECU's FF, no FC from the idle gateway: {frames:?}");
    assert_eq!(&frames[0].1.data()[..2], &[0x10, 20]);
}

#[test]
fn a_functional_single_frame_is_answered_and_a_functional_first_frame_ignored() {
    let mut s = with_ecu(EcuConfig { functional_id: Some(0x7DF), ..ecu() }, FaultSet::NONE);
    s.can_in(0x7DF, &[0x02, 0x3E, 0x00]);
    let frames = s.ecu_frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(&frames[0].1[..3], &[0x02, 0x7E, 0x00]);
    // ISO 15765-2:2016 §10.3.1: functional addressing is single-frame only.
    s.can_in(0x7DF, &[0x10, 0x14, 0x22, 0xF1, 0x90, 0xF1, 0x8C, 0x01]);
    assert_eq!(s.ecu_frames().len(), 1, "no FC for a functional FF");
}

/// A 20-byte request in three frames (the ISO-TP receiver suite's `ff_20`, `cf1_20`, `cf2_20`).
const FF_20: [u8; 8] = [0x10, 0x14, 0x22, 0xF1, 0x90, 0xF1, 0x8C, 0x01];
const CF1_20: [u8; 8] = [0x21, 0x00, 0xF1, 0x90, 0xF1, 0x8C, 0x01, 0x00];
const CF2_20: [u8; 8] = [0x22, 0xF1, 0x90, 0xF1, 0x8C, 0x01, 0x00, 0x00];

/// A first frame announcing 2049 bytes (12-bit FF_DL), one above what
/// `isotp_hang_on_large_ff_dl` takes.
const FF_2049: [u8; 8] = [0x18, 0x01, 0x2E, 0x03, 0x00, 0x11, 0x11, 0x11];

#[test]
fn an_ecu_hung_by_a_large_first_frame_is_unreachable_until_a_power_cycle() {
    let faults = FaultSet::NONE.with(Fault::IsotpHangOnLargeFfDl);
    let mut s = with_ecu(ecu(), faults);
    let c = s.activated(TESTER);
    s.can_in(REQUEST_ID, &FF_2049);
    assert!(s.ecu_frames().is_empty(), "no FC");
    // The entity keeps serving; the gateway's request to the ECU gets no FC: NACK 0x06 at N_Bs.
    s.send(c, &diag(TESTER, ECU, &[0x2E, 0x03, 0x00, 1, 2, 3, 4, 5, 6, 7]));
    s.advance(Duration::from_millis(1000));
    let m = s.tcp_messages(c);
    let [Message { payload: Payload::DiagnosticMessageNack(n), .. }] = &m[..] else {
        panic!("{m:?}")
    };
    assert_eq!(n.nack_code.raw(), 0x06);
    assert!(s.ecu_frames().is_empty(), "the ECU stays silent: {:x?}", s.ecu_frames());
    // A power cycle (the host's: a new entity, same configuration and faults) builds new ECUs.
    let mut s = Sim::new(s.e.config().clone(), s.e.faults());
    s.can_in(REQUEST_ID, &[0x02, 0x3E, 0x00]);
    assert_eq!(s.ecu_frames().first().map(|(_, d)| d[..3].to_vec()), Some(vec![0x02, 0x7E, 0x00]));
}

/// Drives the ECU's multi-frame answer to `22 F1 90` (FF + 2 CFs) with the flow control
/// `fc` after the FF; returns the ECU's frames with their times.
fn ecu_answer_with_fc(faults: FaultSet, fc: &[u8]) -> Vec<(Instant, Vec<u8>)> {
    let mut s = with_ecu(ecu(), faults);
    s.can_in(REQUEST_ID, &[0x03, 0x22, 0xF1, 0x90]);
    s.can_in(REQUEST_ID, fc);
    s.advance(Duration::from_millis(600));
    s.ecu_frames()
}

/// The test ECU with extended addressing: frames to it start with 0x17, its own with 0xF1.
fn extended_ecu() -> EcuConfig {
    let mut e = ecu();
    e.isotp.addressing = EcuAddressing::Extended;
    e.isotp.ecu_address = Some(0x17);
    e.isotp.tester_address = Some(0xF1);
    e
}

/// The test ECU with normal fixed addressing: ECU 0x19, tester 0xF1.
fn fixed_ecu() -> EcuConfig {
    let mut e = ecu();
    e.extended = true;
    e.request_id = 0x18DA_19F1;
    e.response_id = 0x18DA_F119;
    e.isotp.addressing = EcuAddressing::NormalFixed;
    e
}

/// The test ECU on CAN FD (TX_DL 64).
fn fd_ecu() -> EcuConfig {
    let mut e = ecu();
    e.isotp.fd = true;
    e
}

impl Sim {
    /// An FD frame with `data` padded with 0xCC to the next valid CAN_DL.
    fn can_in_fd(&mut self, id: u32, data: &[u8]) {
        let mut padded = data.to_vec();
        let dl =
            crate::codec::isotp::TxDl::ALL.into_iter().find(|d| d.get() >= data.len()).unwrap();
        padded.resize(dl.get(), 0xCC);
        let frame = CanFrame::new_fd(CanId::new(id, false).unwrap(), &padded, false).unwrap();
        self.e.handle_can_frame(self.now, &frame);
        self.drain();
    }

    /// Every CAN frame on the bus with its raw id and data.
    fn bus(&self) -> Vec<(u32, Vec<u8>)> {
        self.can_frames().iter().map(|(_, f)| (f.id().raw(), f.data().to_vec())).collect()
    }
}

/// The test ECU behind a loaded bus: its frames reach the bus 50 ms late, after its N_As /
/// N_Ar of 25 ms.
fn congested_ecu() -> EcuConfig {
    let mut e = ecu();
    e.isotp.n_a = ConfigDuration::from_millis(25);
    e.isotp.tx_delay = ConfigDuration::from_millis(50);
    e
}

#[test]
fn a_congested_ecu_frame_reaches_the_bus_at_tx_delay_and_its_transfer_is_over() {
    let mut s = with_ecu(congested_ecu(), FaultSet::NONE);
    let start = s.now;
    s.can_in(REQUEST_ID, &[0x03, 0x22, 0x03, 0x00]);
    s.advance(Duration::from_millis(50) - US);
    assert!(s.ecu_frames().is_empty(), "the controller still holds the FF");
    s.advance(US);
    let frames = s.ecu_frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(
        (frames[0].0 - start, &frames[0].1[..2]),
        (Duration::from_millis(50), &[0x10, 23][..])
    );
    // N_As (25 ms) expired before the confirmation: the FC finds the transfer over.
    s.can_in(REQUEST_ID, &[0x30, 0x00, 0x00]);
    s.advance(Duration::from_millis(200));
    assert_eq!(s.ecu_frames().len(), 1);
    // The node still answers: a single frame goes out late too.
    s.can_in(REQUEST_ID, &[0x02, 0x3E, 0x00]);
    s.advance(Duration::from_millis(50));
    assert_eq!(&s.ecu_frames()[1].1[..3], &[0x02, 0x7E, 0x00]);
}

#[test]
fn the_gateway_reaches_ecus_of_every_addressing_format_and_on_can_fd() {
    let mut mixed = ecu();
    mixed.isotp.addressing = EcuAddressing::Mixed;
    mixed.isotp.address_extension = Some(0x42);
    for (name, config) in
        [("extended", extended_ecu()), ("mixed", mixed), ("fixed", fixed_ecu()), ("fd", fd_ecu())]
    {
        let mut s = with_ecu(config, FaultSet::NONE);
        let c = s.activated(TESTER);
        // 9-byte request, 23-byte answer: segmented both ways on classic CAN.
        s.send(c, &diag(TESTER, ECU, &[0x22, 0x03, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00]));
        let m = s.tcp_messages(c);
        let Some(Payload::DiagnosticMessage(r)) = m.get(1).map(|m| &m.payload) else {
            panic!("{name}: {m:?}")
        };
        assert_eq!(&r.user_data[..3], &[0x62, 0x03, 0x00], "{name}");
        assert_eq!(&r.user_data[3..], &[0x11; 20], "{name}");
        let bus = s.bus();
        match name {
            "extended" => assert!(
                bus.iter().all(|(id, d)| d[0] == if *id == REQUEST_ID { 0x17 } else { 0xF1 }),
                "{bus:x?}"
            ),
            "mixed" => assert!(bus.iter().all(|(_, d)| d[0] == 0x42), "{bus:x?}"),
            "fixed" => assert!(
                bus.iter().all(|(id, _)| [0x18DA_19F1, 0x18DA_F119].contains(id)),
                "{bus:x?}"
            ),
            // Both single frames: the request escaped in CAN_DL 12, the answer in CAN_DL 32.
            _ => assert_eq!(
                bus.iter().map(|(_, d)| (d[0], d[1], d.len())).collect::<Vec<_>>(),
                [(0, 9, 12), (0, 23, 32)]
            ),
        }
    }
}

// ---------------------------------------------------------------- one test per fault

fn alive_response(sa: u16) -> Vec<u8> {
    msg(Payload::AliveCheckResponse(AliveCheckResponse { source_address: sa }))
}

/// Whether the entity with `faults` keeps the rule `fault` is about. The conformant entity
/// must keep every rule; the entity with `fault` on must break its own.
fn rule_holds(fault: Fault, faults: FaultSet) -> bool {
    use Fault as F;
    let mut s = Sim::with(faults);
    match fault {
        F::WrongNackOnBadPattern | F::NoNackOnBadPattern | F::NoCloseOnBadPattern => {
            let c = s.activated(TESTER);
            s.send(c, &raw_header(0x02, 0x00, 0x8001, 6));
            match fault {
                F::WrongNackOnBadPattern => s.generic_nacks(c).first() == Some(&0x00),
                F::NoNackOnBadPattern => !s.generic_nacks(c).is_empty(),
                _ => s.closed(c),
            }
        }
        F::AcceptsDefaultVersionOnTcp => {
            let c = s.connect();
            s.send(c, &raw_header(0xFF, 0x00, 0x0007, 0));
            s.generic_nacks(c) == [0x00]
        }
        F::NoNackOnUnknownPayloadType | F::CloseOnUnknownPayloadType => {
            let c = s.connect();
            s.send(c, &raw_header(0x02, 0xFD, 0x1234, 0));
            if fault == F::NoNackOnUnknownPayloadType {
                s.generic_nacks(c) == [0x01]
            } else {
                !s.closed(c)
            }
        }
        F::MdsNotEnforced | F::WrongNackOnTooLarge => {
            let c = s.activated(TESTER);
            let mut data = vec![0x22, 0xF1, 0x90];
            data.resize(4997, 0);
            s.send(c, &diag(TESTER, ENTITY, &data));
            s.generic_nacks(c) == [0x02]
        }
        F::CloseOnOutOfMemory => {
            let mut s = Sim::new(SimConfig { rx_buffer_budget: 256, ..quiet() }, faults);
            let a = s.connect();
            let b = s.connect();
            s.send(a, &diag(TESTER, ENTITY, &[0x22; 200])[..20]);
            let second = diag(TESTER, ENTITY, &[0x22; 200]);
            s.send(b, &second[..20]);
            s.generic_nacks(b) == [0x03] && !s.closed(b)
        }
        F::DiagNoNackOutOfMemory => {
            let mut config = quiet();
            config.max_pending_outputs = 2;
            config.uds.services.insert(
                0x3E,
                crate::sim::config::ServiceTiming {
                    delay: crate::sim::config::ConfigDuration::from_millis(1_000),
                    ..Default::default()
                },
            );
            let mut s = Sim::new(config, faults);
            let c = s.activated(TESTER);
            for _ in 0..3 {
                s.send(c, &diag(TESTER, ENTITY, &[0x3E, 0x00]));
            }
            let nacked = matches!(
                s.tcp_messages(c).last().map(|m| &m.payload),
                Some(Payload::DiagnosticMessageNack(n)) if n.nack_code.raw() == 0x05
            );
            // A closed socket's pending answers free their place for the next tester.
            s.e.handle_tcp_closed(s.now, c);
            let d = s.activated(TESTER);
            s.send(d, &diag(TESTER, ENTITY, &[0x3E, 0x00]));
            let next_acked = matches!(
                s.tcp_messages(d).last().map(|m| &m.payload),
                Some(Payload::DiagnosticMessageAck(_))
            );
            nacked && next_acked
        }
        F::WrongNackOnInvalidLength | F::NoCloseOnInvalidLength => {
            let c = s.connect();
            s.send(c, &raw_header(0x02, 0xFD, 0x0008, 3));
            if fault == F::WrongNackOnInvalidLength {
                s.generic_nacks(c) == [0x04]
            } else {
                s.closed(c)
            }
        }
        F::ReplyWrongVersion | F::ReplyWrongInverse => {
            let c = s.connect();
            s.send(c, &msg(Payload::AliveCheckRequest));
            let bytes = s.tcp_bytes(c);
            if fault == F::ReplyWrongVersion {
                bytes[0][0] == 0x02
            } else {
                bytes[0][1] == !bytes[0][0]
            }
        }
        F::DropsSecondMessageInSegment => {
            let c = s.connect();
            let mut two = msg(Payload::AliveCheckRequest);
            two.extend_from_slice(&msg(Payload::AliveCheckRequest));
            s.send(c, &two);
            s.tcp_bytes(c).len() == 2
        }
        F::CannotReassembleSplitHeader => {
            let c = s.connect();
            let m = msg(Payload::AliveCheckRequest);
            s.send(c, &m[..3]);
            s.send(c, &m[3..6]);
            s.send(c, &m[6..]);
            s.tcp_bytes(c).len() == 1
        }
        F::HangAfterOversizedDiag => {
            let c = s.activated(TESTER);
            s.send(c, &diag(TESTER, ENTITY, &[0x2E; 65]));
            // Answered, and a new socket still gets routing activated.
            let answered = !s.tcp_messages(c).is_empty();
            let d = s.connect();
            s.send(d, &activation(OTHER_TESTER, 0x00));
            answered && s.activation_code(d) == Some(0x10)
        }
        F::CrashOnReservedActivationType => {
            let other = s.activated(OTHER_TESTER);
            let c = s.connect();
            s.send(c, &activation(TESTER, 0x42));
            let denied = s.activation_code(c) == Some(0x06) && s.closed(c);
            denied && !s.closed(other) && s.e.handle_tcp_accept(s.now, 99, false)
        }
        F::TcpDiesOnBadActivationLength => {
            // A routing activation one byte short: NACK 0x04 and that socket closed (Table 19);
            // another tester's socket and new connections go on, and so does UDP.
            let other = s.activated(OTHER_TESTER);
            let c = s.connect();
            let mut short = activation(TESTER, 0x00);
            short.pop();
            let length = (short.len() - 8) as u32;
            short[4..8].copy_from_slice(&length.to_be_bytes());
            s.send(c, &short);
            let nacked = s.generic_nacks(c) == [0x04] && s.closed(c);
            s.udp(&msg(Payload::VehicleIdentificationRequest));
            let announced = s.udp_messages().len() == 1;
            nacked && !s.closed(other) && s.e.handle_tcp_accept(s.now, 99, false) && announced
        }
        F::LeakSocketOnSplitHeader => {
            // MCTS connections whose header arrives in two reads, each activated and closed.
            for _ in 0..s.e.config().max_tcp_sockets {
                let c = s.connect();
                let m = activation(TESTER, 0x00);
                s.send(c, &m[..5]);
                s.send(c, &m[5..]);
                s.e.handle_tcp_closed(s.now, c);
            }
            let d = s.connect();
            s.send(d, &activation(TESTER, 0x00));
            s.activation_code(d) == Some(0x10)
        }
        F::ActivationAcceptsUnknownSa | F::ActivationNoCloseOnUnknownSa => {
            let c = s.connect();
            s.send(c, &activation(0x0123, 0x00));
            if fault == F::ActivationAcceptsUnknownSa {
                s.activation_code(c) == Some(0x00)
            } else {
                s.closed(c)
            }
        }
        F::ActivationAcceptsUnsupportedType => {
            let c = s.connect();
            s.send(c, &activation(TESTER, 0x42));
            s.activation_code(c) == Some(0x06)
        }
        F::ActivationAcceptsChangedSa => {
            let c = s.activated(TESTER);
            s.send(c, &activation(OTHER_TESTER, 0x00));
            s.activation_code(c) == Some(0x02)
        }
        F::ActivationNoAliveCheckWhenFull => {
            let mut s = Sim::new(one_socket(), faults);
            let a = s.activated(TESTER);
            let b = s.connect();
            s.send(b, &activation(OTHER_TESTER, 0x00));
            s.alive_check_requests(a) == 1 && s.activation_code(b).is_none()
        }
        F::ActivationNoAliveCheckSameSa => {
            let a = s.activated(TESTER);
            let b = s.connect();
            s.send(b, &activation(TESTER, 0x00));
            s.alive_check_requests(a) == 1 && s.activation_code(b).is_none()
        }
        F::ActivationIgnoresTlsRequirement => {
            let c = s.connect();
            s.send(c, &activation(TESTER, 0xE0));
            s.activation_code(c) == Some(0x07)
        }
        F::ActivationCloseOnMissingAuth => {
            let mut config = quiet();
            config.activation.push(ActivationTypeConfig {
                authentication: Some(HexBytes(vec![1, 2, 3, 4])),
                ..ActivationTypeConfig::plain(0xE1)
            });
            let mut s = Sim::new(config, faults);
            let c = s.connect();
            s.send(c, &activation(TESTER, 0xE1));
            s.activation_code(c) == Some(0x04) && !s.closed(c)
        }
        F::ActivationSkipsConfirmation | F::ActivationNoCloseOnRejectedConfirmation => {
            let mut config = quiet();
            config.activation.push(ActivationTypeConfig {
                confirmation: Confirmation::Pending,
                ..ActivationTypeConfig::plain(0xE2)
            });
            config.activation.push(ActivationTypeConfig {
                confirmation: Confirmation::Rejected,
                ..ActivationTypeConfig::plain(0xE3)
            });
            let mut s = Sim::new(config, faults);
            let c = s.connect();
            if fault == F::ActivationSkipsConfirmation {
                s.send(c, &activation(TESTER, 0xE2));
                s.activation_code(c) == Some(0x11) && !s.closed(c)
            } else {
                s.send(c, &activation(TESTER, 0xE3));
                s.activation_code(c) == Some(0x05) && s.closed(c)
            }
        }
        F::AliveCheckResponseIgnored => {
            let mut s = Sim::new(one_socket(), faults);
            let a = s.activated(TESTER);
            let b = s.connect();
            s.send(b, &activation(OTHER_TESTER, 0x00));
            s.send(a, &alive_response(TESTER));
            s.advance(Duration::from_secs(1));
            !s.closed(a) && s.activation_code(b) == Some(0x01)
        }
        F::NoAliveCheckAnswer => {
            let c = s.connect();
            s.send(c, &msg(Payload::AliveCheckRequest));
            matches!(
                s.tcp_messages(c)[..],
                [Message { payload: Payload::AliveCheckResponse(_), .. }]
            )
        }
        F::NctsWrong => {
            s.connect();
            s.connect();
            s.status().currently_open_sockets == 2
        }
        F::MctsWrong => s.status().max_concurrent_sockets == 4,
        F::MdsOmitted => s.status().max_data_size == Some(4096),
        F::AnswersMismatchedEid => {
            s.udp(&msg(Payload::VehicleIdentificationRequestWithEid(
                VehicleIdentificationRequestWithEid { eid: [9; 6] },
            )));
            s.udp_messages().is_empty()
        }
        F::UdpDiesOnBadIdentificationLength => {
            // A VIN one byte short: NACK 0x04 (Table 19), and the next request is answered.
            let mut short = msg(Payload::VehicleIdentificationRequestWithVin(
                VehicleIdentificationRequestWithVin { vin: *b"XXXXXXXXXXXXXXXXX" },
            ));
            short.pop();
            short[4..8].copy_from_slice(&16u32.to_be_bytes());
            s.udp(&short);
            s.udp(&msg(Payload::VehicleIdentificationRequest));
            let answers: Vec<_> = s.udp_messages().into_iter().map(|(_, _, m)| m.payload).collect();
            let nacked = matches!(&answers[..], [Payload::GenericNack(n), Payload::VehicleAnnouncement(_)]
                if n.nack_code == crate::codec::doip::GenericNackCode::InvalidPayloadLength);
            // TCP keeps serving either way.
            let c = s.connect();
            s.send(c, &activation(TESTER, 0x00));
            nacked && s.activation_code(c) == Some(0x10)
        }
        F::AnswersMismatchedVin => {
            s.udp(&msg(Payload::VehicleIdentificationRequestWithVin(
                VehicleIdentificationRequestWithVin { vin: *b"XXXXXXXXXXXXXXXXX" },
            )));
            s.udp_messages().is_empty()
        }
        F::UdpDiesOnBadHeader => {
            // A wrong inverse version: NACK 0x00; then identification is still answered.
            s.udp(&[0x02, 0x00, 0x00, 0x01, 0, 0, 0, 0]);
            s.udp(&msg(Payload::VehicleIdentificationRequest));
            let m = s.udp_messages();
            m.len() == 2
                && matches!(m[0].2.payload, Payload::GenericNack(_))
                && matches!(m[1].2.payload, Payload::VehicleAnnouncement(_))
        }
        F::UdpAnswerLate => {
            s.udp(&msg(Payload::VehicleIdentificationRequest));
            s.advance(Duration::from_secs(5));
            let m = s.udp_messages();
            m.len() == 1 && m[0].0 <= Instant::ZERO + Duration::from_secs(2)
        }
        F::AnnounceCountWrong | F::AnnounceIntervalWrong | F::AnnounceNoWait => {
            let config = SimConfig::default();
            let max = config.timing.a_doip_announce_wait.get().as_micros() as u64;
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.announce.seed);
            let expected_wait = Duration::from_micros(rng.random_range(0..=max));
            let mut s = Sim::new(config, faults);
            s.advance(Duration::from_secs(10));
            let times: Vec<_> = s.udp_messages().iter().map(|m| m.0.since_epoch()).collect();
            match fault {
                F::AnnounceCountWrong => times.len() == 3,
                F::AnnounceIntervalWrong => {
                    times.windows(2).all(|w| w[1] - w[0] == Duration::from_millis(500))
                }
                _ => times.first() == Some(&expected_wait) && expected_wait > Duration::ZERO,
            }
        }
        F::DiagAckLate | F::DiagAckMissing | F::DiagAckSwappedAddresses => {
            let c = s.activated(TESTER);
            let sent = s.now;
            s.send(c, &diag(TESTER, ENTITY, &[0x3E, 0x00]));
            s.advance(Duration::from_secs(5));
            let acks: Vec<_> = s
                .seen
                .iter()
                .filter_map(|(t, o)| match o {
                    Output::Tcp { bytes, .. } => match Message::parse(bytes).ok()?.payload {
                        Payload::DiagnosticMessageAck(a) => {
                            Some((*t, a.source_address, a.target_address))
                        }
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            match fault {
                F::DiagAckLate => acks.iter().all(|a| a.0 - sent <= Duration::from_secs(2)),
                F::DiagAckMissing => acks.len() == 1,
                _ => acks.iter().all(|a| (a.1, a.2) == (ENTITY, TESTER)),
            }
        }
        F::DiagWrongNackUnknownTa | F::DiagAcceptsWrongSa | F::DiagNoNackTooLarge => {
            let mut config = quiet();
            config.uds.max_request_length = 8;
            let mut s = Sim::new(config, faults);
            let c = s.activated(TESTER);
            let (request, expected) = match fault {
                F::DiagWrongNackUnknownTa => (diag(TESTER, 0x0999, &[0x3E, 0x00]), 0x03),
                F::DiagAcceptsWrongSa => (diag(OTHER_TESTER, ENTITY, &[0x3E, 0x00]), 0x02),
                _ => (diag(TESTER, ENTITY, &[0x22; 9]), 0x04),
            };
            s.send(c, &request);
            matches!(
                &s.tcp_messages(c)[..],
                [Message { payload: Payload::DiagnosticMessageNack(n), .. }] if n.nack_code.raw() == expected
            )
        }
        F::InitialInactivityNever | F::InitialInactivityEarly => {
            let c = s.connect();
            s.advance(Duration::from_secs(2) - US);
            let open_before = !s.closed(c);
            s.advance(US);
            open_before && s.closed(c)
        }
        F::GeneralInactivityNever | F::GeneralInactivityEarly => {
            let c = s.activated(TESTER);
            s.advance(Duration::from_secs(300) - US);
            let open_before = !s.closed(c);
            s.advance(US);
            open_before && s.closed(c)
        }
        F::AliveCheckTimeoutNever | F::AliveCheckTimeoutEarly => {
            let mut s = Sim::new(one_socket(), faults);
            let a = s.activated(TESTER);
            let b = s.connect();
            s.send(b, &activation(OTHER_TESTER, 0x00));
            s.advance(Duration::from_millis(500) - US);
            let open_before = !s.closed(a);
            s.advance(US);
            open_before && s.closed(a) && s.activation_code(b) == Some(0x10)
        }
        F::IsotpIgnoresWait => {
            let frames = ecu_answer_with_fc(faults, &[0x31, 0x00, 0x00]);
            frames.len() == 1 // the FF only: a WAIT holds the CFs back
        }
        F::IsotpWrongSn => {
            let frames = ecu_answer_with_fc(faults, &[0x30, 0x00, 0x00]);
            frames.len() == 3 && frames[1].1[0] == 0x21 && frames[2].1[0] == 0x22
        }
        F::IsotpIgnoresStMin | F::IsotpReservedStMinNot127ms => {
            let (st_min, gap) = if fault == F::IsotpIgnoresStMin {
                (0x0A, Duration::from_millis(10))
            } else {
                (0x80, Duration::from_millis(127))
            };
            let frames = ecu_answer_with_fc(faults, &[0x30, 0x00, st_min]);
            frames.len() == 3 && frames[2].0 - frames[1].0 >= gap
        }
        F::IsotpBlockSizeIgnored => {
            let frames = ecu_answer_with_fc(faults, &[0x30, 0x01, 0x00]);
            frames.len() == 2 // FF and one CF, then the sender waits for the next FC
        }
        F::IsotpNoFcOverflow => {
            let mut s = with_ecu(ecu(), faults);
            // Escaped FF with FF_DL 5000 > the ECU's 4095-byte buffer.
            s.can_in(REQUEST_ID, &[0x10, 0x00, 0x00, 0x00, 0x13, 0x88, 0x2E, 0x03]);
            s.ecu_frames().iter().any(|(_, d)| d[0] == 0x32)
        }
        F::IsotpHangOnLargeFfDl => {
            let mut s = with_ecu(ecu(), faults);
            // FF_DL 2049 (12-bit): within the ECU's 4095-byte buffer, so FC CTS.
            s.can_in(REQUEST_ID, &FF_2049);
            s.can_in(REQUEST_ID, &[0x02, 0x3E, 0x00]);
            let frames = s.ecu_frames();
            let fc = frames.first().is_some_and(|(_, d)| d[0] == 0x30 || d[0] == 0x32);
            fc && frames.iter().any(|(_, d)| d[..3] == [0x02, 0x7E, 0x00])
        }
        F::IsotpFcWrongStMin => {
            let mut s = with_ecu(ecu(), faults);
            s.can_in(REQUEST_ID, &FF_20);
            s.ecu_frames().first().is_some_and(|(_, d)| d[..3] == [0x30, 0x00, 0x00])
        }
        F::IsotpSfDlShort | F::IsotpWrongPadding => {
            let mut s = with_ecu(ecu(), faults);
            s.can_in(REQUEST_ID, &[0x02, 0x3E, 0x00]);
            s.ecu_frames()
                .first()
                .is_some_and(|(_, d)| d[..] == [2, 0x7E, 0, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC])
        }
        F::IsotpAcceptsInvalidSfDl | F::IsotpAcceptsShortFfDl | F::IsotpAcceptsEscapedSmallFfDl => {
            let mut s = with_ecu(ecu(), faults);
            let frame: &[u8] = match fault {
                F::IsotpAcceptsInvalidSfDl => &[0x08, 0x3E, 0x00],
                F::IsotpAcceptsShortFfDl => &[0x10, 0x06, 0x22, 0xF1, 0x90, 0xF1, 0x8C, 0x01],
                _ => &[0x10, 0x00, 0x00, 0x00, 0x00, 0x08, 0x22, 0xF1],
            };
            s.can_in(REQUEST_ID, frame);
            s.ecu_frames().is_empty()
        }
        F::IsotpIgnoresSmallestFf => {
            let mut s = with_ecu(ecu(), faults);
            s.can_in(REQUEST_ID, &[0x10, 0x08, 0x22, 0xF1, 0x90, 0xF1, 0x8C, 0x01]);
            s.ecu_frames().first().is_some_and(|(_, d)| d[0] == 0x30)
        }
        F::IsotpAcceptsWrongSn | F::IsotpNCrNever => {
            // A CF with SN 2 first, or both CFs after N_Cr: no answer either way.
            let mut s = with_ecu(ecu(), faults);
            s.can_in(REQUEST_ID, &FF_20);
            if fault == F::IsotpNCrNever {
                s.advance(Duration::from_millis(1200));
                s.can_in(REQUEST_ID, &CF1_20);
            } else {
                s.can_in(REQUEST_ID, &[0x22, 0x00, 0xF1, 0x90, 0xF1, 0x8C, 0x01, 0x00]);
            }
            s.can_in(REQUEST_ID, &CF2_20);
            s.ecu_frames().len() == 1 // the FC only
        }
        F::IsotpNCrEarly | F::IsotpReservedPciAborts => {
            let mut s = with_ecu(ecu(), faults);
            s.can_in(REQUEST_ID, &FF_20);
            if fault == F::IsotpNCrEarly {
                s.advance(Duration::from_millis(800));
            } else {
                s.can_in(REQUEST_ID, &[0x40, 0, 0, 0, 0, 0, 0, 0]);
            }
            s.can_in(REQUEST_ID, &CF1_20);
            s.can_in(REQUEST_ID, &CF2_20);
            s.ecu_frames().len() == 2 // the FC and the answer
        }
        F::IsotpSnWrapsTo1 => {
            let mut s = with_ecu(ecu(), faults);
            // FF_DL 118: 6 bytes in the FF, then 16 CFs of 7 (SN 1..F, 0).
            s.can_in(REQUEST_ID, &[0x10, 0x76, 0x22, 0xF1, 0x90, 0xF1, 0x90, 0xF1]);
            for k in 1..=16u8 {
                s.can_in(
                    REQUEST_ID,
                    &[0x20 | (k & 0x0F), 0xF1, 0x90, 0xF1, 0x90, 0xF1, 0x90, 0xF1],
                );
            }
            s.ecu_frames().len() == 2 // the FC and the answer
        }
        F::IsotpIgnoresUnexpectedPdu | F::IsotpUnexpectedFrameBlocks => {
            let mut s = with_ecu(ecu(), faults);
            if fault == F::IsotpIgnoresUnexpectedPdu {
                s.can_in(REQUEST_ID, &FF_20);
            } else {
                s.can_in(REQUEST_ID, &[0x21, 0, 0, 0, 0, 0, 0, 0]);
            }
            s.can_in(REQUEST_ID, &[0x02, 0x3E, 0x00]);
            s.ecu_frames().iter().any(|(_, d)| d[..3] == [0x02, 0x7E, 0x00])
        }
        F::IsotpIgnoresFunctional | F::IsotpAcceptsFunctionalFf => {
            let mut s = with_ecu(EcuConfig { functional_id: Some(0x7DF), ..ecu() }, faults);
            if fault == F::IsotpIgnoresFunctional {
                s.can_in(0x7DF, &[0x02, 0x3E, 0x00]);
                s.ecu_frames().len() == 1
            } else {
                s.can_in(0x7DF, &FF_20);
                s.ecu_frames().is_empty()
            }
        }
        F::IsotpStMinMicrosAsReserved => {
            let frames = ecu_answer_with_fc(faults, &[0x30, 0x00, 0xF5]);
            frames.len() == 3 && frames[2].0 - frames[1].0 < Duration::from_millis(100)
        }
        F::IsotpIgnoresOverflow | F::IsotpReservedFsAsCts => {
            let fc = if fault == F::IsotpIgnoresOverflow { 0x32 } else { 0x35 };
            ecu_answer_with_fc(faults, &[fc, 0x00, 0x00]).len() == 1 // the FF only
        }
        F::IsotpNBsNever | F::IsotpNBsEarly => {
            let mut s = with_ecu(ecu(), faults);
            s.can_in(REQUEST_ID, &[0x03, 0x22, 0xF1, 0x90]);
            let (wait, frames) = if fault == F::IsotpNBsNever { (1200, 1) } else { (800, 3) };
            s.advance(Duration::from_millis(wait));
            s.can_in(REQUEST_ID, &[0x30, 0x00, 0x00]);
            s.advance(Duration::from_millis(10));
            s.ecu_frames().len() == frames
        }
        F::IsotpNoResumeAfterBlock => {
            let mut s = with_ecu(ecu(), faults);
            s.can_in(REQUEST_ID, &[0x03, 0x22, 0xF1, 0x90]);
            s.can_in(REQUEST_ID, &[0x30, 0x01, 0x00]);
            s.can_in(REQUEST_ID, &[0x30, 0x01, 0x00]);
            s.advance(Duration::from_millis(10));
            s.ecu_frames().len() == 3 // FF, CF 1 after the first CTS, CF 2 after the second
        }
        F::IsotpNWftMaxOffByOne | F::IsotpExceedsNWftMax => {
            // Busy: 2 WAITs 100 ms apart before each CTS; N_WFTmax 2, or 1 when it needs more.
            let needed = if fault == F::IsotpNWftMaxOffByOne { 2 } else { 3 };
            let mut busy = ecu();
            busy.isotp.wait_frames = needed;
            busy.isotp.n_wft_max = 2;
            busy.isotp.n_br = ConfigDuration::from_millis(100);
            let mut s = with_ecu(busy, faults);
            s.can_in(REQUEST_ID, &FF_20);
            s.advance(Duration::from_millis(500));
            let flow: Vec<u8> = s.ecu_frames().iter().map(|(_, d)| d[0]).collect();
            match fault {
                F::IsotpNWftMaxOffByOne => flow == [0x31, 0x31, 0x30],
                _ => flow == [0x31, 0x31], // then N_WFT_OVRN: no third WAIT, no CTS
            }
        }
        F::IsotpNANever => {
            // The receiver's FC is confirmed at 50 ms, after N_Ar (25 ms): the CFs that follow
            // find the reception over, so no answer comes.
            let mut s = with_ecu(congested_ecu(), faults);
            s.can_in(REQUEST_ID, &FF_20);
            s.advance(Duration::from_millis(50));
            s.can_in(REQUEST_ID, &CF1_20);
            s.can_in(REQUEST_ID, &CF2_20);
            s.advance(Duration::from_millis(200));
            s.ecu_frames().iter().map(|(_, d)| d[0]).collect::<Vec<_>>() == [0x30]
        }
        F::IsotpIgnoresAddressByte => {
            // A frame for node 0xFE on the extended ECU's id is not for it.
            let mut s = with_ecu(extended_ecu(), faults);
            s.can_in(REQUEST_ID, &[0xFE, 0x02, 0x3E, 0x00]);
            s.ecu_frames().is_empty()
        }
        F::IsotpReplyWithoutAddressByte | F::IsotpReplyToOwnAddress => {
            let mut s = with_ecu(extended_ecu(), faults);
            s.can_in(REQUEST_ID, &[0x17, 0x02, 0x3E, 0x00]);
            s.ecu_frames().iter().map(|(_, d)| d.clone()).collect::<Vec<_>>()
                == [vec![0xF1, 0x02, 0x7E, 0x00, 0xCC, 0xCC, 0xCC, 0xCC]]
        }
        F::IsotpFixedReplyNotSwapped => {
            let mut s = with_ecu(fixed_ecu(), faults);
            let frame =
                CanFrame::new(CanId::new(0x18DA_19F1, true).unwrap(), &[0x02, 0x3E, 0x00]).unwrap();
            s.e.handle_can_frame(s.now, &frame);
            s.drain();
            // One answer (the ECU does not take its own frames, even on its own id).
            s.bus().iter().map(|(id, _)| *id).collect::<Vec<_>>() == [0x18DA_F119]
        }
        F::IsotpFdTxDl8 => {
            // A 23-byte answer is one escaped SF on CAN FD with TX_DL 64.
            let mut s = with_ecu(fd_ecu(), faults);
            s.can_in_fd(REQUEST_ID, &[0x03, 0x22, 0x03, 0x00]);
            s.ecu_frames().first().is_some_and(|(_, d)| d[..2] == [0x00, 23] && d.len() == 32)
        }
        F::IsotpFdIgnoresSfEscape => {
            let mut s = with_ecu(fd_ecu(), faults);
            s.can_in_fd(
                REQUEST_ID,
                &[0x00, 0x09, 0x22, 0x03, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00],
            );
            !s.ecu_frames().is_empty()
        }
        F::DiagWrongNackUnreachable | F::DiagWrongNackTransportError => {
            let mut s = with_ecu(EcuConfig { simulated: false, ..ecu() }, faults);
            let c = s.activated(TESTER);
            s.send(c, &diag(TESTER, ECU, &[0x2E, 0x03, 0x00, 1, 2, 3, 4, 5, 6, 7]));
            let expected = if fault == F::DiagWrongNackUnreachable {
                s.advance(Duration::from_millis(1000));
                0x06
            } else {
                s.can_in(RESPONSE_ID, &[0x32, 0x00, 0x00]);
                0x08
            };
            let m = s.tcp_messages(c);
            matches!(&m[..], [Message { payload: Payload::DiagnosticMessageNack(n), .. }] if n.nack_code.raw() == expected)
        }
    }
}

macro_rules! fault_tests {
    ($($test:ident => $fault:ident,)*) => {
        $(
            #[test]
            fn $test() {
                assert!(rule_holds(Fault::$fault, FaultSet::NONE), "the conformant entity breaks: {}", Fault::$fault.rule());
                assert!(
                    !rule_holds(Fault::$fault, FaultSet::NONE.with(Fault::$fault)),
                    "fault {} does not break: {}", Fault::$fault, Fault::$fault.rule()
                );
            }
        )*

        #[test]
        fn every_fault_has_its_test() {
            let tested = [$(Fault::$fault,)*];
            for f in Fault::ALL {
                assert!(tested.contains(f), "no test for fault {f}");
            }
        }
    };
}

fault_tests! {
    fault_wrong_nack_on_bad_pattern => WrongNackOnBadPattern,
    fault_no_nack_on_bad_pattern => NoNackOnBadPattern,
    fault_no_close_on_bad_pattern => NoCloseOnBadPattern,
    fault_accepts_default_version_on_tcp => AcceptsDefaultVersionOnTcp,
    fault_no_nack_on_unknown_payload_type => NoNackOnUnknownPayloadType,
    fault_close_on_unknown_payload_type => CloseOnUnknownPayloadType,
    fault_mds_not_enforced => MdsNotEnforced,
    fault_wrong_nack_on_too_large => WrongNackOnTooLarge,
    fault_close_on_out_of_memory => CloseOnOutOfMemory,
    fault_wrong_nack_on_invalid_length => WrongNackOnInvalidLength,
    fault_no_close_on_invalid_length => NoCloseOnInvalidLength,
    fault_reply_wrong_version => ReplyWrongVersion,
    fault_reply_wrong_inverse => ReplyWrongInverse,
    fault_drops_second_message_in_segment => DropsSecondMessageInSegment,
    fault_cannot_reassemble_split_header => CannotReassembleSplitHeader,
    fault_activation_accepts_unknown_sa => ActivationAcceptsUnknownSa,
    fault_activation_no_close_on_unknown_sa => ActivationNoCloseOnUnknownSa,
    fault_activation_accepts_unsupported_type => ActivationAcceptsUnsupportedType,
    fault_activation_accepts_changed_sa => ActivationAcceptsChangedSa,
    fault_activation_no_alive_check_when_full => ActivationNoAliveCheckWhenFull,
    fault_activation_no_alive_check_same_sa => ActivationNoAliveCheckSameSa,
    fault_activation_ignores_tls_requirement => ActivationIgnoresTlsRequirement,
    fault_activation_close_on_missing_auth => ActivationCloseOnMissingAuth,
    fault_activation_skips_confirmation => ActivationSkipsConfirmation,
    fault_activation_no_close_on_rejected_confirmation => ActivationNoCloseOnRejectedConfirmation,
    fault_alive_check_response_ignored => AliveCheckResponseIgnored,
    fault_no_alive_check_answer => NoAliveCheckAnswer,
    fault_ncts_wrong => NctsWrong,
    fault_mcts_wrong => MctsWrong,
    fault_mds_omitted => MdsOmitted,
    fault_answers_mismatched_eid => AnswersMismatchedEid,
    fault_answers_mismatched_vin => AnswersMismatchedVin,
    fault_udp_answer_late => UdpAnswerLate,
    fault_announce_count_wrong => AnnounceCountWrong,
    fault_announce_interval_wrong => AnnounceIntervalWrong,
    fault_announce_no_wait => AnnounceNoWait,
    fault_diag_ack_late => DiagAckLate,
    fault_diag_ack_missing => DiagAckMissing,
    fault_diag_ack_swapped_addresses => DiagAckSwappedAddresses,
    fault_diag_wrong_nack_unknown_ta => DiagWrongNackUnknownTa,
    fault_diag_accepts_wrong_sa => DiagAcceptsWrongSa,
    fault_diag_no_nack_too_large => DiagNoNackTooLarge,
    fault_diag_no_nack_out_of_memory => DiagNoNackOutOfMemory,
    fault_initial_inactivity_never => InitialInactivityNever,
    fault_initial_inactivity_early => InitialInactivityEarly,
    fault_general_inactivity_never => GeneralInactivityNever,
    fault_general_inactivity_early => GeneralInactivityEarly,
    fault_alive_check_timeout_never => AliveCheckTimeoutNever,
    fault_alive_check_timeout_early => AliveCheckTimeoutEarly,
    fault_hang_after_oversized_diag => HangAfterOversizedDiag,
    fault_crash_on_reserved_activation_type => CrashOnReservedActivationType,
    fault_udp_dies_on_bad_header => UdpDiesOnBadHeader,
    fault_leak_socket_on_split_header => LeakSocketOnSplitHeader,
    fault_udp_dies_on_bad_identification_length => UdpDiesOnBadIdentificationLength,
    fault_tcp_dies_on_bad_activation_length => TcpDiesOnBadActivationLength,
    fault_isotp_hang_on_large_ff_dl => IsotpHangOnLargeFfDl,
    fault_isotp_ignores_wait => IsotpIgnoresWait,
    fault_isotp_wrong_sn => IsotpWrongSn,
    fault_isotp_ignores_st_min => IsotpIgnoresStMin,
    fault_isotp_reserved_st_min_not_127ms => IsotpReservedStMinNot127ms,
    fault_isotp_no_fc_overflow => IsotpNoFcOverflow,
    fault_isotp_block_size_ignored => IsotpBlockSizeIgnored,
    fault_isotp_fc_wrong_st_min => IsotpFcWrongStMin,
    fault_isotp_sf_dl_short => IsotpSfDlShort,
    fault_isotp_accepts_invalid_sf_dl => IsotpAcceptsInvalidSfDl,
    fault_isotp_accepts_short_ff_dl => IsotpAcceptsShortFfDl,
    fault_isotp_accepts_escaped_small_ff_dl => IsotpAcceptsEscapedSmallFfDl,
    fault_isotp_ignores_smallest_ff => IsotpIgnoresSmallestFf,
    fault_isotp_accepts_wrong_sn => IsotpAcceptsWrongSn,
    fault_isotp_sn_wraps_to_1 => IsotpSnWrapsTo1,
    fault_isotp_n_cr_never => IsotpNCrNever,
    fault_isotp_n_cr_early => IsotpNCrEarly,
    fault_isotp_ignores_unexpected_pdu => IsotpIgnoresUnexpectedPdu,
    fault_isotp_unexpected_frame_blocks => IsotpUnexpectedFrameBlocks,
    fault_isotp_reserved_pci_aborts => IsotpReservedPciAborts,
    fault_isotp_wrong_padding => IsotpWrongPadding,
    fault_isotp_ignores_functional => IsotpIgnoresFunctional,
    fault_isotp_accepts_functional_ff => IsotpAcceptsFunctionalFf,
    fault_isotp_st_min_us_as_reserved => IsotpStMinMicrosAsReserved,
    fault_isotp_ignores_overflow => IsotpIgnoresOverflow,
    fault_isotp_reserved_fs_as_cts => IsotpReservedFsAsCts,
    fault_isotp_n_bs_never => IsotpNBsNever,
    fault_isotp_n_bs_early => IsotpNBsEarly,
    fault_isotp_no_resume_after_block => IsotpNoResumeAfterBlock,
    fault_isotp_n_wft_max_off_by_one => IsotpNWftMaxOffByOne,
    fault_isotp_exceeds_n_wft_max => IsotpExceedsNWftMax,
    fault_isotp_n_a_never => IsotpNANever,
    fault_isotp_ignores_address_byte => IsotpIgnoresAddressByte,
    fault_isotp_reply_without_address_byte => IsotpReplyWithoutAddressByte,
    fault_isotp_reply_to_own_address => IsotpReplyToOwnAddress,
    fault_isotp_fixed_reply_not_swapped => IsotpFixedReplyNotSwapped,
    fault_isotp_fd_tx_dl_8 => IsotpFdTxDl8,
    fault_isotp_fd_ignores_sf_escape => IsotpFdIgnoresSfEscape,
    fault_diag_wrong_nack_unreachable => DiagWrongNackUnreachable,
    fault_diag_wrong_nack_transport_error => DiagWrongNackTransportError,
}

use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};

/// The host hands written buffers back (`Entity::recycle`): the next replies are framed into
/// them, whole and alone, and the pool of spare buffers stays bounded.
#[test]
fn recycled_reply_buffers_are_written_into_again_and_the_pool_is_bounded() {
    let mut s = Sim::conformant();
    let c = s.activated(TESTER);
    let tester_present = diag(TESTER, ENTITY, &[0x3E, 0x00]);
    s.send(c, &tester_present);
    let first = s.tcp_bytes(c);
    assert_eq!(first.len(), 2, "ACK and answer");
    let mut handed_back = Vec::new();
    for (_, output) in s.seen.drain(..) {
        if let Output::Tcp { bytes, .. } = output {
            handed_back.push(bytes.as_ptr());
            s.e.recycle(bytes);
        }
    }
    s.send(c, &tester_present);
    assert_eq!(s.tcp_bytes(c), first, "the same replies");
    for (_, output) in &s.seen {
        if let Output::Tcp { bytes, .. } = output {
            assert!(handed_back.contains(&bytes.as_ptr()), "a new buffer was allocated");
        }
    }
    for _ in 0..100 {
        s.e.recycle(Vec::with_capacity(64));
    }
    s.e.recycle(Vec::with_capacity(1 << 20));
    assert!(s.e.spare.borrow().len() <= 16);
    assert!(s.e.spare.borrow().iter().all(|b| b.capacity() <= 4096 && b.is_empty()));
}
