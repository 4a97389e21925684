//! Rules over what the profile declares about the entity itself: the address nobody has
//! (`unknown_address`), the routing activation types it supports (`activation_types` and the
//! special types the profile names), and what its entity status response must report
//! (`max_sockets`, `max_data_size`). Without a profile none of these is judged.
//!
//! May import: `crate::codec`, `crate::pcap` and `crate::profile`.

use std::collections::HashMap;

use super::rules;
use super::{Finding, Found};
use crate::codec::doip::{DiagnosticNackCode, Message, Payload, RoutingActivationResponseCode};
use crate::pcap::Side;
use crate::pcap::read::{At, CaptureEvent, CarriedBy};
use crate::profile::TargetProfile;

/// Connections followed at once; past it new ones are not judged by these rules.
const MAX_TRACKED: usize = 256;

/// What the profile declares about the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityDeclares {
    /// An address no tester or node has (`unknown_address`).
    pub unknown_address: u16,
    /// The routing activation types the entity supports, as a set of 256 bits: the profile's
    /// `activation_types` and the special types it names (authentication, confirmation).
    pub activation_types: [u64; 4],
    /// MCTS (`max_sockets`).
    pub max_sockets: u8,
    /// MDS (`max_data_size`), when the entity declares one.
    pub max_data_size: Option<u32>,
}

impl EntityDeclares {
    pub fn from_profile(p: &TargetProfile) -> EntityDeclares {
        let mut activation_types = [0u64; 4];
        let special = [
            p.activation.authentication_type,
            p.activation.confirmation_type,
            p.activation.rejected_confirmation_type,
        ];
        for t in p.activation.types.iter().copied().chain(special.into_iter().flatten()) {
            activation_types[usize::from(t / 64)] |= 1 << (t % 64);
        }
        EntityDeclares {
            unknown_address: p.addresses.unknown,
            activation_types,
            max_sockets: p.identity.max_sockets,
            max_data_size: p.identity.max_data_size,
        }
    }

    fn supports(&self, activation_type: u8) -> bool {
        self.activation_types[usize::from(activation_type / 64)] & (1 << (activation_type % 64))
            != 0
    }
}

/// What a tester's request on one connection obliges the entity to answer.
#[derive(Debug, Default, Clone, Copy)]
struct Owed {
    /// A routing activation the entity must deny: (packet, the code, why).
    activation: Option<(u64, RoutingActivationResponseCode, &'static str)>,
    /// A diagnostic message to the unknown address: its packet.
    unknown_target: Option<u64>,
}

#[derive(Debug)]
pub(super) struct EntityChecks {
    declares: EntityDeclares,
    owed: HashMap<u32, Owed>,
}

impl EntityChecks {
    pub(super) fn new(declares: EntityDeclares) -> Self {
        EntityChecks { declares, owed: HashMap::new() }
    }

    pub(super) fn check(&mut self, event: &CaptureEvent<'_>, found: &mut Found) {
        let CaptureEvent::Doip { at, carrier, from, message: Ok(message), .. } = event else {
            return;
        };
        match (carrier, from) {
            (CarriedBy::Udp { .. }, Side::Entity) => self.status(*at, message, found),
            (CarriedBy::Tcp(conn), Side::Tester) => self.tester(conn.id, *at, message),
            (CarriedBy::Tcp(conn), Side::Entity) => self.entity(conn.id, *at, message, found),
            _ => {}
        }
    }

    fn tester(&mut self, conn: u32, at: At, message: &Message<'_>) {
        let d = self.declares;
        let owed = match &message.payload {
            Payload::RoutingActivationRequest(r) if r.source_address == d.unknown_address => Owed {
                activation: Some((
                    at.packet,
                    RoutingActivationResponseCode::UnknownSourceAddress,
                    "from the unknown address",
                )),
                ..Owed::default()
            },
            Payload::RoutingActivationRequest(r) if !d.supports(r.activation_type.raw()) => Owed {
                activation: Some((
                    at.packet,
                    RoutingActivationResponseCode::UnsupportedActivationType,
                    "of an activation type the entity does not support",
                )),
                ..Owed::default()
            },
            Payload::DiagnosticMessage(m) if m.target_address == d.unknown_address => {
                Owed { unknown_target: Some(at.packet), ..Owed::default() }
            }
            _ => return,
        };
        if self.owed.len() < MAX_TRACKED || self.owed.contains_key(&conn) {
            let entry = self.owed.entry(conn).or_default();
            entry.activation = owed.activation.or(entry.activation);
            entry.unknown_target = owed.unknown_target.or(entry.unknown_target);
        }
    }

    fn entity(&mut self, conn: u32, at: At, message: &Message<'_>, found: &mut Found) {
        let Some(owed) = self.owed.get_mut(&conn) else { return };
        match &message.payload {
            Payload::RoutingActivationResponse(r) => {
                let Some((request, code, why)) = owed.activation.take() else { return };
                found.judged(&rules::DOIP_DECLARED_ACTIVATION);
                if r.response_code != code {
                    found.push(Finding {
                        rule: &rules::DOIP_DECLARED_ACTIVATION,
                        packets: vec![request, at.packet],
                        message: format!(
                            "a routing activation {why} was answered with code 0x{:02X}, not 0x{:02X} ({})",
                            r.response_code.raw(),
                            code.raw(),
                            code.description().unwrap_or("")
                        ),
                    });
                }
            }
            Payload::DiagnosticMessageNack(_) | Payload::DiagnosticMessageAck(_) => {
                let Some(request) = owed.unknown_target.take() else { return };
                found.judged(&rules::DOIP_DECLARED_TARGET);
                let answered = match &message.payload {
                    Payload::DiagnosticMessageNack(n)
                        if n.nack_code == DiagnosticNackCode::UnknownTargetAddress =>
                    {
                        None
                    }
                    Payload::DiagnosticMessageNack(n) => Some((
                        n.source_address,
                        format!("NACKed with code 0x{:02X}, not 0x03", n.nack_code.raw()),
                    )),
                    Payload::DiagnosticMessageAck(a) => {
                        Some((a.source_address, "acknowledged, not NACKed with 0x03".to_owned()))
                    }
                    _ => None,
                };
                if let Some((address, answered)) = answered {
                    found.push(Finding {
                        rule: &rules::DOIP_DECLARED_TARGET,
                        packets: vec![request, at.packet],
                        message: format!(
                            "a diagnostic message to the unknown address 0x{address:04X} was {answered} (unknown target address)"
                        ),
                    });
                }
            }
            _ => {}
        }
        if owed.activation.is_none() && owed.unknown_target.is_none() {
            self.owed.remove(&conn);
        }
    }

    /// The entity status response reports the MCTS and MDS the entity declares
    /// (ISO 13400-2:2019 Table 11).
    fn status(&mut self, at: At, message: &Message<'_>, found: &mut Found) {
        let Payload::EntityStatusResponse(s) = &message.payload else { return };
        found.judged(&rules::DOIP_DECLARED_STATUS);
        let d = self.declares;
        let mut wrong = Vec::new();
        if s.max_concurrent_sockets != d.max_sockets {
            wrong.push(format!(
                "MCTS {} where the entity declares {}",
                s.max_concurrent_sockets, d.max_sockets
            ));
        }
        if let Some(mds) = d.max_data_size
            && s.max_data_size != Some(mds)
        {
            wrong.push(match s.max_data_size {
                None => format!("no MDS where the entity declares {mds}"),
                Some(other) => format!("MDS {other} where the entity declares {mds}"),
            });
        }
        if !wrong.is_empty() {
            found.push(Finding {
                rule: &rules::DOIP_DECLARED_STATUS,
                packets: vec![at.packet],
                message: format!("the entity status response reports {}", wrong.join(" and ")),
            });
        }
    }
}
