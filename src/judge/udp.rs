//! The entity's UDP answers: each is paired with the tester's request it answers (same tester
//! socket, the kind of request the answer's type answers) and judged: the version it carries,
//! the identity it was asked for, and its time.
//!
//! May import: `crate::codec`, `crate::pcap::read` and `crate::judge`.

use core::net::SocketAddr;

use super::timing::{DeclaredTimes, Late};
use super::version::reply_version;
use super::{Finding, Found, rules};
use crate::codec::doip::{Eid, Message, Payload, ProtocolVersion, Vin};
use crate::pcap::read::At;

/// At most this many unanswered requests are remembered (a VIN that does not match is
/// rightly never answered; such requests age out).
const MAX_WAITING: usize = 64;

/// What a request asks for, and so which answer is its.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// Vehicle identification (0x0001-0x0003): any entity, or the one with this EID or VIN.
    Identify(Option<Identity>),
    /// Entity status (0x4001).
    Status,
    /// Diagnostic power mode (0x4003).
    PowerMode,
}

impl Ask {
    fn request_name(self) -> &'static str {
        match self {
            Ask::Identify(_) => "vehicle identification request",
            Ask::Status => "entity status request",
            Ask::PowerMode => "diagnostic power mode request",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Eid(Eid),
    Vin(Vin),
}

#[derive(Debug, Clone, Copy)]
struct Request {
    tester: SocketAddr,
    at: At,
    version: ProtocolVersion,
    ask: Ask,
}

/// UDP requests waiting for the entity's answer.
#[derive(Debug, Default)]
pub(super) struct UdpChecks {
    waiting: Vec<Request>,
}

impl UdpChecks {
    /// A tester's datagram: remembered when it is a request an entity answers (ISO
    /// 13400-2:2019 payload types 0x0001-0x0003, 0x4001, 0x4003).
    pub(super) fn tester(&mut self, tester: SocketAddr, at: At, message: &Message<'_>) {
        let ask = match &message.payload {
            Payload::VehicleIdentificationRequest => Ask::Identify(None),
            Payload::VehicleIdentificationRequestWithEid(r) => {
                Ask::Identify(Some(Identity::Eid(r.eid)))
            }
            Payload::VehicleIdentificationRequestWithVin(r) => {
                Ask::Identify(Some(Identity::Vin(r.vin)))
            }
            Payload::EntityStatusRequest => Ask::Status,
            Payload::PowerModeInformationRequest => Ask::PowerMode,
            _ => return,
        };
        if self.waiting.len() >= MAX_WAITING {
            self.waiting.remove(0);
        }
        self.waiting.push(Request { tester, at, version: message.protocol_version, ask });
    }

    /// At `now`, with the capture still going: a request every entity answers (vehicle
    /// identification without EID or VIN, entity status, power mode: ISO 13400-2:2019 §9.2,
    /// §9.5, §9.6) that got no answer within A_Processing_Time breaks `timing.udp_answer` as a
    /// late one would (a request for another EID or VIN is rightly never answered; the end of
    /// a capture is no evidence, only later traffic is).
    pub(super) fn overdue(&mut self, now: At, timing: Option<&DeclaredTimes>, found: &mut Found) {
        let Some(timing) = timing else { return };
        if self.waiting.is_empty() {
            return;
        }
        let limit = timing.a_processing_time + timing.tolerance;
        self.waiting.retain(|r| {
            let overdue = !matches!(r.ask, Ask::Identify(Some(_)))
                && now.time.saturating_sub(r.at.time) > limit;
            if overdue {
                found.push(Finding {
                    rule: &rules::TIMING_UDP_ANSWER,
                    packets: vec![r.at.packet, now.packet],
                    message: format!(
                        "no answer to the {} came within A_Processing_Time {} ms (+{} ms \
                         tolerance): the capture goes on without one",
                        r.ask.request_name(),
                        timing.a_processing_time.as_millis(),
                        timing.tolerance.as_millis()
                    ),
                });
            }
            !overdue
        });
    }

    /// The entity's datagram to `tester`: the answer to the oldest waiting request of its
    /// kind (a vehicle identification response answers one whose EID or VIN it carries).
    pub(super) fn entity(
        &mut self,
        tester: SocketAddr,
        at: At,
        message: &Message<'_>,
        timing: Option<&DeclaredTimes>,
        found: &mut Found,
    ) {
        let from = |r: &Request| r.tester == tester;
        let index = match &message.payload {
            Payload::VehicleAnnouncement(a) => {
                let identify = |r: &Request| matches!(r.ask, Ask::Identify(_)) && from(r);
                let fits = |r: &Request| match r.ask {
                    Ask::Identify(Some(Identity::Eid(eid))) => eid == a.eid,
                    Ask::Identify(Some(Identity::Vin(vin))) => vin == a.vin,
                    _ => true,
                };
                let asked = self.waiting.iter().filter(|r| identify(r));
                if let Some(first) = asked.clone().next() {
                    found.judged(&rules::DOIP_VEHICLE_IDENTIFICATION_MATCH);
                    if !asked.clone().any(fits) {
                        found.push(Finding {
                            rule: &rules::DOIP_VEHICLE_IDENTIFICATION_MATCH,
                            packets: vec![first.at.packet, at.packet],
                            message: "the entity answered a vehicle identification request for \
                                      another EID or VIN than its own"
                                .into(),
                        });
                    }
                }
                self.waiting.iter().position(|r| identify(r) && fits(r))
            }
            Payload::EntityStatusResponse(_) => {
                self.waiting.iter().position(|r| from(r) && r.ask == Ask::Status)
            }
            Payload::PowerModeInformationResponse(_) => {
                self.waiting.iter().position(|r| from(r) && r.ask == Ask::PowerMode)
            }
            Payload::GenericNack(_) => self.waiting.iter().position(from),
            _ => None,
        };
        let Some(request) = index.map(|i| self.waiting.remove(i)) else { return };
        if !matches!(message.payload, Payload::GenericNack(_)) {
            reply_version(request.version, request.at.packet, message.protocol_version, at, found);
        }
        if let Some(timing) = timing {
            let late = Late {
                rule: &rules::TIMING_UDP_ANSWER,
                from: request.at,
                to: at,
                window: timing.window(timing.a_processing_time),
                what: "the entity's UDP answer",
                limit_name: "A_Processing_Time",
            };
            timing.check(late, found);
        }
    }
}
