//! Fuzz oracle of the simulator entity, shared by `fuzz/fuzz_targets/sim_entity.rs` and the
//! corpus replay test: the input is a script of connection events, TCP segments, datagrams,
//! CAN frames and clock steps driven into the pure [`Entity`]; it panics (= a finding) when an
//! invariant breaks:
//!
//! - every byte the entity writes parses as DoIP messages of the entity's version, and every
//!   generic NACK, routing activation and diagnostic NACK code is one the standard defines;
//! - output goes only to sockets that are open, each socket is closed at most once;
//! - NCTS equals the sockets the driver sees open, in the entity and in its status response;
//! - after `handle_timeout(now)` no timer is still due at `now` (no busy wake-up loop).
//!
//! May import: `crate::codec`, `crate::proto`, `crate::sim`.

use crate::codec::can::{CanFrame, CanId};
use crate::codec::doip::{Message, Payload, ProtocolVersion};
use crate::codec::isotp::TxDl;
use crate::proto::time::Instant;
use crate::sim::config::{
    ConfigDuration, EcuAddressing, EcuConfig, IsotpConfig, SimConfig, unspanned,
};
use crate::sim::entity::{ConnId, Entity, Output};
use crate::sim::faults::FaultSet;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;
use std::collections::BTreeSet;

/// Sockets the script can address (ids 0..MAX_CONNS).
const MAX_CONNS: u8 = 8;

/// The entity under test: small limits so that the fuzzer reaches "all sockets taken", two
/// CAN ECUs behind it: one with normal addressing on classic CAN, one with extended
/// addressing on CAN FD whose frames reach the bus after its N_As / N_Ar.
pub fn fuzz_config() -> SimConfig {
    let mut c = SimConfig {
        max_tcp_sockets: 2,
        max_connections: 6,
        max_data_size: 64,
        ..SimConfig::default()
    };
    c.uds.max_request_length = 48;
    c.timing.t_tcp_initial_inactivity = ConfigDuration::from_millis(2_000);
    c.timing.t_tcp_general_inactivity = ConfigDuration::from_millis(5_000);
    c.ecus.push(EcuConfig {
        name: "ecu".into(),
        logical_address: unspanned(0x0011),
        request_id: 0x7E0,
        response_id: 0x7E8,
        functional_id: None,
        extended: false,
        isotp: Default::default(),
        uds: Default::default(),
        simulated: true,
    });
    let isotp = IsotpConfig {
        addressing: EcuAddressing::Extended,
        ecu_address: Some(0x12),
        tester_address: Some(0xF1),
        fd: true,
        n_a: ConfigDuration::from_millis(10),
        tx_delay: ConfigDuration::from_millis(20),
        ..IsotpConfig::default()
    };
    c.ecus.push(EcuConfig {
        name: "late".into(),
        logical_address: unspanned(0x0012),
        request_id: 0x7E1,
        response_id: 0x7E9,
        functional_id: None,
        extended: false,
        isotp,
        uds: Default::default(),
        simulated: true,
    });
    c
}

/// A CAN frame from the script: `arg` picks the id (both ECUs' ids and a foreign one) and
/// whether it is an FD frame, whose length comes from the next byte (0-8 or an FD length).
fn can_frame(arg: u8, script: &mut Script<'_>) -> Option<CanFrame> {
    let id = CanId::new([0x7E0, 0x7E8, 0x123, 0x7E1, 0x7E9][usize::from(arg % 5)], false)?;
    if arg & 0x80 == 0 {
        return CanFrame::new(id, script.bytes(8)).ok();
    }
    let len = match usize::from(script.byte().unwrap_or(0) % 16) {
        n @ 0..=8 => n,
        n => TxDl::ALL[n - 8].get(),
    };
    let mut data = script.bytes(len).to_vec();
    data.resize(len, 0xCC);
    CanFrame::new_fd(id, &data, arg & 0x40 != 0).ok()
}

/// A cursor over the script.
struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

/// What the driver knows.
struct Model {
    open: BTreeSet<ConnId>,
    version: u8,
}

/// `sim_entity`: see the module doc.
pub fn sim_entity(data: &[u8]) {
    let config = fuzz_config();
    let version = config.protocol_version;
    let mut entity = Entity::new(config, FaultSet::NONE, Instant::ZERO);
    entity.set_logging(false);
    let mut model = Model { open: BTreeSet::new(), version };
    let mut now = Instant::ZERO;
    let mut script = Script(data);
    let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 50_000);
    while let Some(op) = script.byte() {
        let arg = script.byte().unwrap_or(0);
        let conn = ConnId::from(arg % MAX_CONNS);
        match op % 8 {
            0 => {
                if !model.open.contains(&conn)
                    && entity.handle_tcp_accept(now, conn, arg & 0x80 != 0)
                {
                    model.open.insert(conn);
                }
            }
            1 | 2 => {
                let len = usize::from(script.byte().unwrap_or(0));
                let segment = script.bytes(len).to_vec();
                if model.open.contains(&conn) {
                    entity.handle_tcp_data(now, conn, &segment);
                }
            }
            3 => {
                if model.open.remove(&conn) {
                    entity.handle_tcp_closed(now, conn);
                }
            }
            4 => {
                let len = usize::from(script.byte().unwrap_or(0));
                let datagram = script.bytes(len).to_vec();
                entity.handle_udp(now, peer, &datagram);
            }
            5 => {
                let step = u64::from(arg) * u64::from(script.byte().unwrap_or(1));
                now += Duration::from_millis(step);
                entity.handle_timeout(now);
            }
            6 => {
                if let Some(frame) = can_frame(arg, &mut script) {
                    entity.handle_can_frame(now, &frame);
                }
            }
            _ => {
                // Jump to the next timer exactly, as a driver does.
                if let Some(at) = entity.poll_timeout() {
                    now = now.max(at);
                    entity.handle_timeout(now);
                }
            }
        }
        drain(&mut entity, &mut model);
        check_timers(&entity, now);
        check_ncts(&mut entity, &mut model, now, peer);
    }
}

fn drain(entity: &mut Entity, model: &mut Model) {
    while let Some(output) = entity.poll_output() {
        match output {
            Output::Tcp { conn, bytes } => {
                assert!(model.open.contains(&conn), "bytes to socket {conn}, which is not open");
                check_messages(&bytes, model.version);
            }
            Output::Close { conn } => {
                assert!(model.open.remove(&conn), "close of socket {conn}, which is not open");
            }
            Output::Udp { bytes, .. } => check_messages(&bytes, model.version),
            Output::Can(frame) => assert!(frame.len() <= 64),
        }
    }
}

/// Every message is valid, in the entity's version, with a code the standard defines.
fn check_messages(bytes: &[u8], version: u8) {
    let message =
        Message::parse(bytes).unwrap_or_else(|e| panic!("entity wrote {bytes:02X?}: {e}"));
    assert_eq!(message.protocol_version, ProtocolVersion::from_raw(version));
    match &message.payload {
        Payload::GenericNack(n) => assert!(n.nack_code.raw() <= 0x04, "generic NACK {n:?}"),
        Payload::RoutingActivationResponse(r) => {
            let code = r.response_code.raw();
            assert!(matches!(code, 0x00..=0x07 | 0x10 | 0x11), "activation code 0x{code:02X}");
        }
        Payload::DiagnosticMessageNack(n) => {
            let code = n.nack_code.raw();
            assert!(matches!(code, 0x02..=0x08), "diagnostic NACK 0x{code:02X}");
        }
        Payload::DiagnosticMessageAck(a) => assert_eq!(a.ack_code.raw(), 0x00),
        Payload::Unknown(t, _) => panic!("entity wrote unknown payload type 0x{t:04X}"),
        _ => {}
    }
}

fn check_timers(entity: &Entity, now: Instant) {
    if let Some(at) = entity.poll_timeout() {
        assert!(at > now, "a timer at {at:?} is still due after handle_timeout({now:?})");
    }
}

fn check_ncts(entity: &mut Entity, model: &mut Model, now: Instant, peer: SocketAddr) {
    assert_eq!(entity.open_sockets(), model.open.len(), "NCTS vs the driver's open sockets");
    let request =
        Message::new(ProtocolVersion::from_raw(model.version), Payload::EntityStatusRequest);
    entity.handle_udp(now, peer, &request.to_bytes());
    let mut status = None;
    while let Some(output) = entity.poll_output() {
        match output {
            Output::Udp { bytes, .. } => {
                check_messages(&bytes, model.version);
                if let Ok(Message { payload: Payload::EntityStatusResponse(s), .. }) =
                    Message::parse(&bytes)
                {
                    status = Some(s);
                }
            }
            // Nothing else may come out of a status request.
            other => panic!("entity status request produced {other:?}"),
        }
    }
    let status = status.expect("an entity status response");
    assert_eq!(usize::from(status.currently_open_sockets), model.open.len().min(255));
}
