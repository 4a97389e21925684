//! Vehicle identification as a tester (ISO 13400-2:2019 §9.2, §9.5): vehicle identification
//! requests (plain, with EID, with VIN) to broadcast, multicast or unicast addresses, optionally
//! vehicle announcements on the UDP_DISCOVERY port, then entity status and diagnostic power
//! mode from every entity that answered.
//!
//! Each kind of identification request goes out from its own socket, so an answer tells which
//! request it answers: an entity that answers a request with another EID or VIN breaks §9.2,
//! and the note says so. Every datagram is kept, valid or not.

use super::session::SessionMessage;
use crate::codec::doip::{
    Eid, EntityStatusResponse, Message, Payload, PowerModeInformationResponse, ProtocolVersion,
    VehicleAnnouncement, VehicleIdentificationRequestWithEid, VehicleIdentificationRequestWithVin,
    Vin,
};
use crate::runner::arrived::decoded_message;
use crate::runner::record::{Clock, Recorder};
use crate::runner::udp::{Udp, UdpOutcome};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Entities kept at most (a flood of forged sources must not grow memory without bound).
pub const MAX_ENTITIES: usize = 256;
/// Datagrams kept per entity; later ones are counted.
pub const MAX_RECEIVED_PER_ENTITY: usize = 32;
/// How long one socket is listened to before the next one's turn: the sockets are few and the
/// waits short, so taking turns keeps this free of a select over a changing set.
const TURN: Duration = Duration::from_millis(10);

/// Which vehicle identification request (Table 2, payload types 0x0001-0x0003).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentificationRequest {
    Plain,
    WithEid(Eid),
    WithVin(Vin),
}

impl IdentificationRequest {
    fn payload(self) -> Payload<'static> {
        match self {
            IdentificationRequest::Plain => Payload::VehicleIdentificationRequest,
            IdentificationRequest::WithEid(eid) => {
                Payload::VehicleIdentificationRequestWithEid(VehicleIdentificationRequestWithEid {
                    eid,
                })
            }
            IdentificationRequest::WithVin(vin) => {
                Payload::VehicleIdentificationRequestWithVin(VehicleIdentificationRequestWithVin {
                    vin,
                })
            }
        }
    }

    /// Why `answer` must not answer this request (§9.2: no response when EID/VIN differ).
    fn mismatch(self, answer: &VehicleAnnouncement) -> Option<String> {
        match self {
            IdentificationRequest::WithEid(eid) if answer.eid != eid => Some(format!(
                "answers the request with EID {} although its EID is {} (ISO 13400-2:2019 §9.2: no response)",
                hex::encode_upper(eid),
                hex::encode_upper(answer.eid)
            )),
            IdentificationRequest::WithVin(vin) if answer.vin != vin => Some(format!(
                "answers the request with VIN {} although its VIN is {} (ISO 13400-2:2019 §9.2: no response)",
                String::from_utf8_lossy(&vin),
                String::from_utf8_lossy(&answer.vin)
            )),
            _ => None,
        }
    }
}

/// What to send where and how long to wait.
#[derive(Debug, Clone)]
pub struct DiscoverySettings {
    /// Where every identification request goes (broadcast, `ff02::1%IF`, unicast).
    pub destinations: Vec<SocketAddr>,
    pub requests: Vec<IdentificationRequest>,
    /// Protocol version of the identification requests (0xFF, the default version, is valid
    /// there, Table 16).
    pub request_version: ProtocolVersion,
    /// Protocol version of entity status / power mode requests when the entity's answer does
    /// not tell (it does: its own version is used).
    pub protocol_version: ProtocolVersion,
    /// Listen for vehicle announcements on this UDP port (UDP_DISCOVERY, 13400).
    pub listen_port: Option<u16>,
    /// Wait for answers (A_DoIP_Ctrl); the status questions get as long again.
    pub timeout: Duration,
}

/// Where a datagram arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The answer to this identification request.
    Answer(IdentificationRequest),
    /// The UDP_DISCOVERY port: an announcement.
    Listener,
}

/// One entity that sent something, by the address it sent from.
#[derive(Debug, Clone)]
pub struct DiscoveredEntity {
    pub address: SocketAddr,
    /// The first valid vehicle identification response or announcement.
    pub identification: Option<VehicleAnnouncement>,
    /// The protocol version of its first valid message.
    pub protocol_version: Option<ProtocolVersion>,
    /// Vehicle announcements heard on the listener.
    pub announcements: u32,
    pub status: Option<EntityStatusResponse>,
    pub power_mode: Option<PowerModeInformationResponse>,
    /// Everything it sent, in order (at most [`MAX_RECEIVED_PER_ENTITY`]).
    pub received: Vec<SessionMessage>,
    /// Datagrams past that bound.
    pub dropped: u32,
    asked_status: bool,
}

/// What a discovery found, and what it sent where.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// `(destination, message summary)` of every request sent.
    pub sent: Vec<(SocketAddr, String)>,
    /// Sends that failed (no route, broadcast refused), with the reason.
    pub send_errors: Vec<String>,
    pub entities: Vec<DiscoveredEntity>,
    /// Datagrams from further sources past [`MAX_ENTITIES`].
    pub ignored_sources: u32,
    /// What the judge found in the answers (docs/rules.md): a reply in another protocol
    /// version, an answer for another EID or VIN than asked...
    pub findings: Vec<crate::judge::Finding>,
}

struct Socket {
    udp: Udp,
    rec: Recorder,
    via: Via,
}

/// Runs a discovery. `Err` only when no socket could be opened at all.
pub async fn discover(settings: &DiscoverySettings) -> Result<Discovery, String> {
    let Some(&first) = settings.destinations.first() else {
        return Err("no destination to send vehicle identification requests to".into());
    };
    let clock = Clock::start();
    let mut sockets = Vec::new();
    if let Some(port) = settings.listen_port {
        let rec = judged(Recorder::quiet(clock));
        let udp =
            Udp::bind_port(first, port, true, &rec).await.map_err(|e| format!("--listen: {e}"))?;
        sockets.push(Socket { udp, rec, via: Via::Listener });
    }
    let mut found = Discovery::default();
    // One socket per request kind and address family (an IPv4 socket cannot reach ff02::1).
    let families = [
        settings.destinations.iter().find(|d| d.is_ipv4()),
        settings.destinations.iter().find(|d| d.is_ipv6()),
    ];
    for request in &settings.requests {
        for &representative in families.iter().flatten() {
            let mut rec = judged(Recorder::quiet(clock));
            let mut udp = Udp::bind(*representative, true, &rec).await?;
            let message = Message::new(settings.request_version, request.payload());
            for &to in
                settings.destinations.iter().filter(|d| d.is_ipv4() == representative.is_ipv4())
            {
                match udp.send(to, message.to_bytes(), decoded_message(&message), &mut rec).await {
                    Ok(()) => found.sent.push((to, message.to_string())),
                    Err(f) => found.send_errors.push(f.into_reason().message),
                }
            }
            sockets.push(Socket { udp, rec, via: Via::Answer(*request) });
        }
    }
    let mut deadline = Instant::now() + settings.timeout;
    let last_deadline = deadline + settings.timeout;
    while Instant::now() < deadline {
        for i in 0..sockets.len() {
            let turn = (Instant::now() + TURN).min(deadline);
            let socket = &mut sockets[i];
            let (from, received) = match socket.udp.recv(turn, &mut socket.rec).await {
                Ok(UdpOutcome::Timeout) => continue,
                Ok(UdpOutcome::Datagram { from, received }) => (from, received),
                // A flood beyond the recorder's bound, or a socket error: stop listening here.
                Err(_) => return Ok(with_findings(found, sockets)),
            };
            let via = socket.via;
            if via == Via::Listener && is_identification_request(&received.message) {
                // Our own broadcast (or another tester's) looping back to the listener.
                continue;
            }
            let is_new = found.entities.iter().all(|e| e.address != from);
            if is_new && found.entities.len() >= MAX_ENTITIES {
                found.ignored_sources += 1;
                continue;
            }
            let entity = entity_for(&mut found.entities, from);
            let ask = take(entity, via, received);
            if ask && Instant::now() < last_deadline {
                let version = entity.protocol_version.unwrap_or(settings.protocol_version);
                ask_status(&mut sockets, from, version, &mut found.send_errors).await;
                deadline = deadline.max((Instant::now() + settings.timeout).min(last_deadline));
            }
        }
    }
    Ok(with_findings(found, sockets))
}

/// A recorder whose traffic the judge reads, as a run's cases are.
fn judged(mut rec: Recorder) -> Recorder {
    rec.judge_with(crate::judge::live::LiveFeed::new(&[]));
    rec
}

/// `found` with what the judge found on every socket.
fn with_findings(mut found: Discovery, sockets: Vec<Socket>) -> Discovery {
    for mut socket in sockets {
        found.findings.extend(socket.rec.judge_findings().findings);
    }
    found
}

fn is_identification_request(message: &Result<Message<'static>, String>) -> bool {
    matches!(
        message,
        Ok(Message {
            payload: Payload::VehicleIdentificationRequest
                | Payload::VehicleIdentificationRequestWithEid(_)
                | Payload::VehicleIdentificationRequestWithVin(_),
            ..
        })
    )
}

fn entity_for(entities: &mut Vec<DiscoveredEntity>, from: SocketAddr) -> &mut DiscoveredEntity {
    let at = match entities.iter().position(|e| e.address == from) {
        Some(at) => at,
        None => {
            entities.push(DiscoveredEntity {
                address: from,
                identification: None,
                protocol_version: None,
                announcements: 0,
                status: None,
                power_mode: None,
                received: Vec::new(),
                dropped: 0,
                asked_status: false,
            });
            entities.len() - 1
        }
    };
    &mut entities[at]
}

/// Files a datagram under its entity; true when the entity has just identified itself and
/// should now be asked for its status and power mode.
fn take(
    entity: &mut DiscoveredEntity,
    via: Via,
    incoming: crate::runner::arrived::ReceivedFrame,
) -> bool {
    let mut note = None;
    if let Ok(message) = &incoming.message {
        entity.protocol_version.get_or_insert(message.protocol_version);
        match &message.payload {
            Payload::VehicleAnnouncement(a) => {
                match via {
                    Via::Listener => {
                        entity.announcements += 1;
                        note = Some("vehicle announcement".to_owned());
                    }
                    Via::Answer(request) => note = request.mismatch(a),
                }
                entity.identification.get_or_insert(*a);
            }
            Payload::EntityStatusResponse(s) => {
                entity.status.get_or_insert(*s);
            }
            Payload::PowerModeInformationResponse(p) => {
                entity.power_mode.get_or_insert(*p);
            }
            other => note = Some(format!("unexpected {}", other.payload_type())),
        }
    } else if via == Via::Listener {
        note = Some("on the UDP_DISCOVERY port".into());
    }
    if entity.received.len() < MAX_RECEIVED_PER_ENTITY {
        entity.received.push(SessionMessage {
            at: incoming.at.0,
            bytes: incoming.bytes,
            message: incoming.message,
            note,
        });
    } else {
        entity.dropped += 1;
    }
    let ask = entity.identification.is_some() && !entity.asked_status;
    entity.asked_status |= ask;
    ask
}

/// DiscoveredEntity status and power mode requests (0x4001, 0x4003) to one entity, from the socket of
/// the first identification request (its answers land there and are filed by sender).
async fn ask_status(
    sockets: &mut [Socket],
    to: SocketAddr,
    version: ProtocolVersion,
    errors: &mut Vec<String>,
) {
    let Some(socket) = sockets
        .iter_mut()
        .find(|s| matches!(s.via, Via::Answer(_)) && s.udp.local.is_ipv4() == to.is_ipv4())
    else {
        return;
    };
    for payload in [Payload::EntityStatusRequest, Payload::PowerModeInformationRequest] {
        let message = Message::new(version, payload);
        if let Err(f) = socket
            .udp
            .send(to, message.to_bytes(), decoded_message(&message), &mut socket.rec)
            .await
        {
            errors.push(f.into_reason().message);
        }
    }
}
