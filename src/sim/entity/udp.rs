//! UDP: vehicle identification (plain, with EID, with VIN; ISO 13400-2:2019 §9.2), entity status
//! (§9.5, NCTS = the sockets really open), diagnostic power mode, the generic header rules on
//! datagrams, and vehicle announcements after a seeded random A_DoIP_Announce_Wait.

use super::{Entity, Output, Peer};
use crate::codec::doip::{
    EntityStatusResponse, FurtherAction, GenericNack, GenericNackCode, HeaderRules, Message,
    NodeType, Payload, PayloadType, PowerMode, PowerModeInformationResponse, SyncStatus, Transport,
    VehicleAnnouncement,
};
use crate::proto::time::Instant;
use crate::sim::config::SimConfig;
use crate::sim::faults::{Fault, FaultSet};
use core::net::SocketAddr;
use core::time::Duration;
use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};

/// How much later than A_Processing_Time the `udp_answer_late` fault answers.
const LATE_BY: Duration = Duration::from_millis(500);

/// The announcement schedule.
#[derive(Debug)]
pub(super) struct Announcer {
    next: Option<Instant>,
    remaining: u8,
    interval: Duration,
    destination: SocketAddr,
    /// The A_DoIP_Announce_Wait drawn (for tests and the log).
    pub wait: Duration,
}

impl Announcer {
    pub fn new(config: &SimConfig, faults: FaultSet, now: Instant) -> Self {
        let timing = &config.timing;
        // A_DoIP_Announce_Wait: random in [0, max], from a seeded RNG so runs repeat exactly.
        let max_us =
            u64::try_from(timing.a_doip_announce_wait.get().as_micros()).unwrap_or(u64::MAX);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(config.announce.seed);
        let drawn = Duration::from_micros(rng.random_range(0..=max_us));
        let wait = if faults.has(Fault::AnnounceNoWait) { Duration::ZERO } else { drawn };
        let mut remaining = timing.a_doip_announce_num;
        if faults.has(Fault::AnnounceCountWrong) {
            remaining = remaining.saturating_sub(1);
        }
        let mut interval = timing.a_doip_announce_interval.get();
        if faults.has(Fault::AnnounceIntervalWrong) {
            interval /= 2;
        }
        let enabled = config.announce.enabled && remaining > 0;
        Announcer {
            next: enabled.then_some(now + wait),
            remaining: if enabled { remaining } else { 0 },
            interval,
            destination: config.announce.destination.0,
            wait,
        }
    }

    pub fn next_at(&self) -> Option<Instant> {
        self.next
    }
}

impl Entity {
    /// The A_DoIP_Announce_Wait this entity drew.
    pub fn announce_wait(&self) -> Duration {
        self.announce.wait
    }

    pub(super) fn announce_due(&mut self, now: Instant) {
        while let Some(at) = self.announce.next {
            if at > now {
                break;
            }
            let bytes = self.reply(Payload::VehicleAnnouncement(self.announcement()));
            let to = self.announce.destination;
            self.outputs.push_back(Output::Udp { to, bytes });
            self.announce.remaining -= 1;
            self.announce.next = (self.announce.remaining > 0).then(|| at + self.announce.interval);
            let left = self.announce.remaining;
            self.log(now, Peer::Entity, || format!("vehicle announcement to {to} ({left} left)"));
        }
    }

    fn announcement(&self) -> VehicleAnnouncement {
        let c = &self.config;
        VehicleAnnouncement {
            vin: c.vin.0,
            logical_address: c.entity_address(),
            eid: c.eid.0,
            gid: c.gid.0,
            further_action: FurtherAction::from_raw(c.further_action),
            sync_status: c.vin_gid_sync_status.map(SyncStatus::from_raw),
        }
    }

    /// A datagram arrived on the UDP_DISCOVERY port from `from`. Answers go to `from` (the
    /// requester's port, ISO 13400-2:2019 §9.2).
    pub fn handle_udp(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        if self.is_down() {
            return;
        }
        if self.udp_dead {
            self.log(now, Peer::Udp(from), || {
                format!("rx {} bytes: UDP service dead, discarded", datagram.len())
            });
            return;
        }
        let Some(header) = datagram.first_chunk::<8>() else {
            self.log(now, Peer::Udp(from), || {
                format!("rx {} bytes: no header, discarded", datagram.len())
            });
            return;
        };
        if !self.pattern_ok(header) {
            self.udp_nack(now, from, GenericNackCode::IncorrectPatternFormat);
            return self.udp_dies_if_faulty(now, from);
        }
        let rules = HeaderRules {
            max_payload_length: self.config.max_data_size,
            transport: Some(Transport::Udp),
        };
        let message = match Message::parse_with(datagram, &rules) {
            Ok(message) => message,
            Err(e) => {
                let code = e.nack_code().unwrap_or(GenericNackCode::InvalidPayloadLength);
                let identification = matches!(
                    crate::codec::doip::payload_type_of(datagram),
                    Some(
                        PayloadType::VehicleIdentificationRequestWithEid
                            | PayloadType::VehicleIdentificationRequestWithVin
                    )
                );
                if identification
                    && code == GenericNackCode::InvalidPayloadLength
                    && self.has(Fault::UdpDiesOnBadIdentificationLength)
                {
                    self.udp_dead = true;
                    self.log(now, Peer::Udp(from), || {
                        "rx vehicle identification of a wrong length -> UDP service dead until a power cycle".into()
                    });
                    return;
                }
                self.udp_nack(now, from, code);
                return self.udp_dies_if_faulty(now, from);
            }
        };
        let c = &self.config;
        let answer = match &message.payload {
            Payload::VehicleIdentificationRequest => Some(self.announcement_payload()),
            Payload::VehicleIdentificationRequestWithEid(r) => (r.eid == c.eid.0
                || self.has(Fault::AnswersMismatchedEid))
            .then(|| self.announcement_payload()),
            Payload::VehicleIdentificationRequestWithVin(r) => (r.vin == c.vin.0
                || self.has(Fault::AnswersMismatchedVin))
            .then(|| self.announcement_payload()),
            Payload::EntityStatusRequest => Some(Payload::EntityStatusResponse(self.status())),
            Payload::PowerModeInformationRequest => {
                Some(Payload::PowerModeInformationResponse(PowerModeInformationResponse {
                    power_mode: PowerMode::from_raw(c.power_mode.code()),
                }))
            }
            // Responses (announcements of other entities, NACKs) are never answered.
            _ => None,
        };
        let Some(answer) = answer else {
            self.log(now, Peer::Udp(from), || format!("rx {message} -> no answer"));
            return;
        };
        let summary = answer.to_string();
        let bytes = self.reply(answer);
        let at = if self.has(Fault::UdpAnswerLate) {
            now + self.config.timing.a_processing_time.get() + LATE_BY
        } else {
            now
        };
        self.emit_at(now, at, Output::Udp { to: from, bytes });
        self.log(now, Peer::Udp(from), || format!("rx {message} -> {summary}"));
    }

    /// After a NACKed datagram: the faulty service stops answering on UDP.
    fn udp_dies_if_faulty(&mut self, now: Instant, from: SocketAddr) {
        if self.has(Fault::UdpDiesOnBadHeader) {
            self.udp_dead = true;
            self.log(now, Peer::Udp(from), || "UDP service dead until a power cycle".into());
        }
    }

    fn announcement_payload(&self) -> Payload<'static> {
        Payload::VehicleAnnouncement(self.announcement())
    }

    /// Entity status (Table 11): NCTS counts every TCP_DATA socket open right now.
    fn status(&self) -> EntityStatusResponse {
        let c = &self.config;
        let mut mcts = c.max_tcp_sockets;
        if self.has(Fault::MctsWrong) {
            mcts = mcts.saturating_add(1);
        }
        let mut ncts = u8::try_from(self.conns.len()).unwrap_or(u8::MAX);
        if self.has(Fault::NctsWrong) {
            ncts = ncts.wrapping_add(1);
        }
        EntityStatusResponse {
            node_type: NodeType::from_raw(c.node_type.code()),
            max_concurrent_sockets: mcts,
            currently_open_sockets: ncts,
            max_data_size: (c.report_max_data_size && !self.has(Fault::MdsOmitted))
                .then_some(c.max_data_size),
        }
    }

    fn udp_nack(&mut self, now: Instant, from: SocketAddr, code: GenericNackCode) {
        let sent = match code {
            GenericNackCode::IncorrectPatternFormat if self.has(Fault::NoNackOnBadPattern) => None,
            GenericNackCode::IncorrectPatternFormat if self.has(Fault::WrongNackOnBadPattern) => {
                Some(GenericNackCode::UnknownPayloadType)
            }
            GenericNackCode::UnknownPayloadType if self.has(Fault::NoNackOnUnknownPayloadType) => {
                None
            }
            // The wrong-code faults break the rule on datagrams as on TCP (Table 19).
            GenericNackCode::MessageTooLarge if self.has(Fault::WrongNackOnTooLarge) => {
                Some(GenericNackCode::InvalidPayloadLength)
            }
            GenericNackCode::InvalidPayloadLength if self.has(Fault::WrongNackOnInvalidLength) => {
                Some(GenericNackCode::UnknownPayloadType)
            }
            other => Some(other),
        };
        if let Some(sent) = sent {
            let bytes = self.reply(Payload::GenericNack(GenericNack { nack_code: sent }));
            self.release(now, Output::Udp { to: from, bytes });
        }
        self.log(now, Peer::Udp(from), || {
            format!("rx bad datagram -> generic NACK {code}, discarded")
        });
    }
}
