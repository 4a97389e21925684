//! Robustness faults that take the whole entity down until a power cycle (a new [`Entity`]),
//! so that `doipcheck fuzz` can be proven to find them (docs/architecture.md "Simulator and
//! faults"): a hang (every socket reads
//! and discards, nothing is answered) and a crash (every socket closed, new connections
//! refused). A conformant entity keeps serving every other socket whatever one socket sends
//! (ISO 13400-2:2019 §9.6 Table 30, Table 25: a bad request is denied, not fatal).

use super::{Entity, Output, Peer};
use crate::proto::time::Instant;

/// Whether the entity serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Normal operation.
    Serving,
    /// Accepts TCP connections but reads and discards everything on TCP and UDP; no timers
    /// close anything (`hang_after_oversized_diag`).
    Hung,
    /// Every socket closed; new TCP connections are refused and UDP is not answered
    /// (`crash_on_reserved_activation_type`).
    Crashed,
}

impl Entity {
    /// Takes the entity down (`to` is `Hung` or `Crashed`) because of what `peer` sent.
    pub(super) fn go_down(&mut self, now: Instant, peer: Peer, to: Liveness, why: &'static str) {
        self.liveness = to;
        // Nothing the entity owed anyone on IP is sent any more; CAN traffic of the ECUs goes on.
        self.scheduled.retain(|s| matches!(s.0.output, Output::Can(_)));
        self.pending_activations.clear();
        self.log(now, peer, || format!("{why} -> entity {to:?} until a power cycle"));
        if to == Liveness::Crashed {
            let mut conns: Vec<_> = self.conns.keys().copied().collect();
            conns.sort_unstable();
            for conn in conns {
                self.close(now, conn, "entity crashed");
            }
        }
    }

    /// Whether input from IP is discarded unread (the entity is hung or crashed).
    pub(super) fn is_down(&self) -> bool {
        self.liveness != Liveness::Serving
    }
}

#[cfg(test)]
mod tests {
    //! What each robustness fault leaves behind on a virtual clock, and that a power cycle (a
    //! new entity with the same configuration and faults) clears it. The rule each fault
    //! breaks is tested with every other fault in `entity::tests::rule_holds`.

    use super::*;
    use crate::codec::doip::{
        ActivationType, DiagnosticMessage, Message, Payload, ProtocolVersion,
        RoutingActivationRequest,
    };
    use crate::sim::config::{Robustness, SimConfig};
    use crate::sim::faults::{Fault, FaultSet};
    use core::net::{IpAddr, Ipv4Addr, SocketAddr};
    use core::time::Duration;

    const TESTER: u16 = 0x0E00;

    fn msg(payload: Payload<'_>) -> Vec<u8> {
        Message::new(ProtocolVersion::Iso2012, payload).to_bytes()
    }

    fn activation(t: u8) -> Vec<u8> {
        let request = RoutingActivationRequest::new(TESTER, ActivationType::from_raw(t));
        msg(Payload::RoutingActivationRequest(request))
    }

    fn entity(fault: Fault) -> Entity {
        let mut config = SimConfig::default();
        config.announce.enabled = false;
        let mut e = Entity::new(config, FaultSet::NONE.with(fault), Instant::ZERO);
        e.set_logging(false);
        e
    }

    /// A fresh entity as the host's power cycle makes it.
    fn power_cycled(e: &Entity, now: Instant) -> Entity {
        Entity::new(e.config().clone(), e.faults(), now)
    }

    fn drain(e: &mut Entity) -> Vec<Output> {
        core::iter::from_fn(|| e.poll_output()).collect()
    }

    /// Accepts `conn`, activates routing on it, and returns the activation response code.
    fn activate(e: &mut Entity, now: Instant, conn: u64) -> Option<u8> {
        if !e.handle_tcp_accept(now, conn, false) {
            return None;
        }
        e.handle_tcp_data(now, conn, &activation(0x00));
        drain(e).iter().find_map(|o| match o {
            Output::Tcp { conn: c, bytes } if *c == conn => match Message::parse(bytes) {
                Ok(Message { payload: Payload::RoutingActivationResponse(r), .. }) => {
                    Some(r.response_code.raw())
                }
                _ => None,
            },
            _ => None,
        })
    }

    fn udp_status_answered(e: &mut Entity, now: Instant) -> bool {
        let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 50000);
        e.handle_udp(now, peer, &msg(Payload::EntityStatusRequest));
        drain(e).iter().any(|o| matches!(o, Output::Udp { .. }))
    }

    #[test]
    fn a_64_byte_diagnostic_message_keeps_serving_65_bytes_hang_every_socket() {
        let mut e = entity(Fault::HangAfterOversizedDiag);
        let t0 = Instant::ZERO;
        assert_eq!(activate(&mut e, t0, 1), Some(0x10));
        // 64 bytes of user data: the limit itself is served.
        let at_limit = DiagnosticMessage::new(TESTER, 0x0010, vec![0x3E; 64]);
        e.handle_tcp_data(t0, 1, &msg(Payload::DiagnosticMessage(at_limit)));
        assert!(drain(&mut e).iter().any(|o| matches!(o, Output::Tcp { conn: 1, .. })));
        assert_eq!(e.liveness(), Liveness::Serving);

        let over = DiagnosticMessage::new(TESTER, 0x0010, vec![0x3E; 65]);
        e.handle_tcp_data(t0, 1, &msg(Payload::DiagnosticMessage(over)));
        assert_eq!(e.liveness(), Liveness::Hung);
        assert_eq!(drain(&mut e), vec![], "no ACK, no NACK");
        // Every socket is silent: the same one, a new one (accepted, never answered), UDP.
        e.handle_tcp_data(t0, 1, &msg(Payload::AliveCheckRequest));
        assert_eq!(activate(&mut e, t0, 2), None);
        assert!(!udp_status_answered(&mut e, t0));
        // No timer is left to fire: the driver is not woken in a loop, nothing is closed.
        assert_eq!(e.poll_timeout(), None);
        e.handle_timeout(t0 + Duration::from_secs(3600));
        assert_eq!(drain(&mut e), vec![]);

        let mut e = power_cycled(&e, t0 + Duration::from_secs(3600));
        let t1 = t0 + Duration::from_secs(3600);
        assert_eq!(e.liveness(), Liveness::Serving);
        assert_eq!(activate(&mut e, t1, 3), Some(0x10));
        assert!(udp_status_answered(&mut e, t1));
    }

    #[test]
    fn the_oversized_threshold_is_the_configured_one() {
        // The smallest, the largest the MDS leaves room above, and one in between.
        let most = Robustness::max_oversized_diag_user_data(SimConfig::default().max_data_size);
        for threshold in [1, 1000, most] {
            let mut config = SimConfig::default();
            config.announce.enabled = false;
            config.robustness.oversized_diag_user_data = threshold;
            let faults = FaultSet::NONE.with(Fault::HangAfterOversizedDiag);
            let mut e = Entity::new(config, faults, Instant::ZERO);
            e.set_logging(false);
            assert_eq!(activate(&mut e, Instant::ZERO, 1), Some(0x10));
            for (len, liveness) in [(threshold, Liveness::Serving), (threshold + 1, Liveness::Hung)]
            {
                let m = DiagnosticMessage::new(TESTER, 0x0010, vec![0x3E; len as usize]);
                e.handle_tcp_data(Instant::ZERO, 1, &msg(Payload::DiagnosticMessage(m)));
                drain(&mut e);
                assert_eq!(e.liveness(), liveness, "threshold {threshold}, {len} bytes");
            }
        }
    }

    #[test]
    fn a_reserved_activation_type_crashes_oem_types_do_not() {
        let mut e = entity(Fault::CrashOnReservedActivationType);
        let t0 = Instant::ZERO;
        assert_eq!(activate(&mut e, t0, 1), Some(0x10));
        // 0xE1 is OEM-specific, not reserved: denied as unsupported (0x06), nothing crashes.
        assert!(e.handle_tcp_accept(t0, 2, false));
        e.handle_tcp_data(t0, 2, &activation(0xE1));
        drain(&mut e);
        assert_eq!(e.liveness(), Liveness::Serving);

        for reserved in [0x02, 0xDF] {
            assert!(ActivationType::from_raw(reserved).is_reserved());
        }
        assert!(!ActivationType::from_raw(0xE0).is_reserved());
        assert!(e.handle_tcp_accept(t0, 3, false));
        e.handle_tcp_data(t0, 3, &activation(0xDF));
        assert_eq!(e.liveness(), Liveness::Crashed);
        let closed: Vec<_> = drain(&mut e);
        assert_eq!(closed, vec![Output::Close { conn: 1 }, Output::Close { conn: 3 }]);
        assert_eq!(e.open_sockets(), 0);
        assert!(!e.handle_tcp_accept(t0, 4, false), "new connections are refused");
        assert!(!udp_status_answered(&mut e, t0));
        assert_eq!(e.poll_timeout(), None);

        let mut e = power_cycled(&e, t0);
        assert_eq!(activate(&mut e, t0, 5), Some(0x10));
    }

    #[test]
    fn split_headers_leak_their_sockets_until_mcts_is_used_up() {
        let mut e = entity(Fault::LeakSocketOnSplitHeader);
        let t0 = Instant::ZERO;
        let mcts = usize::from(e.config().max_tcp_sockets);
        // A header in one read is released on close, however often.
        for conn in 1..=(mcts as u64 + 1) {
            assert_eq!(activate(&mut e, t0, conn), Some(0x10));
            e.handle_tcp_closed(t0, conn);
        }
        assert_eq!(e.leaked_sockets(), 0);
        // A header split after byte 7 (the last split that is still inside the header).
        for i in 0..mcts as u64 {
            let conn = 100 + i;
            assert!(e.handle_tcp_accept(t0, conn, false));
            let m = activation(0x00);
            e.handle_tcp_data(t0, conn, &m[..7]);
            e.handle_tcp_data(t0, conn, &m[7..]);
            drain(&mut e);
            e.handle_tcp_closed(t0, conn);
            assert_eq!(e.leaked_sockets(), i as usize + 1);
        }
        assert_eq!(e.open_sockets(), 0);
        // Nothing is left to alive-check: denied at once with 0x01, the socket closed.
        assert_eq!(activate(&mut e, t0, 200), Some(0x01));
        assert_eq!(e.open_sockets(), 0);

        let mut e = power_cycled(&e, t0);
        assert_eq!(e.leaked_sockets(), 0);
        assert_eq!(activate(&mut e, t0, 201), Some(0x10));
    }
}
