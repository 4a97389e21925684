//! `doipcheck import` and `replay`, the pure part: a capture's events in, a suite's YAML text
//! out. The tester side of each recorded conversation becomes the steps that send it; the
//! entity's answers become `expect` steps with their fields, bounded by the profile's timer
//! that governs each answer (ISO 13400-2:2019 Table 39, ISO 14229-2 P2/P2*).
//!
//! ```text
//!  CaptureEvent ─► Importer (collects, bounded) ─► conversations ─► case::steps ─► yaml::render
//!                   TCP data / DoIP / UDP / ISO-TP   overlapping TCP     send, expect,   one writer
//!                                                    connections = 1     wait, ...
//! ```
//!
//! - One case per TCP connection; connections that overlap in time share a case (named
//!   connections), so what one does to the other (an alive check, MCTS) replays too. One case
//!   for the UDP exchanges, one per ISO-TP id pair.
//! - Tester bytes are sent in their recorded segmentation: a segment that is one message the
//!   codec builds identically becomes `send` (`udp_send`); anything else, a message split over
//!   segments or several in one segment or bytes that are no valid message, `send_raw` with
//!   `chunks`.
//! - Fields that change from run to run are matched with `any` or `??` ([`Masks`]).
//!
//! May import: `crate::codec`, `crate::pcap`, `crate::notation`.

mod case;
mod fields;
mod isotp;
mod tcp;
#[cfg(test)]
mod tests;
mod udp;
pub mod yaml;

use crate::codec::doip::{PayloadType, payload_type_of};
use std::time::Duration;

use crate::codec::can::CanId;
use crate::pcap::Side;
use crate::pcap::read::{
    At, CaptureEvent, CaptureSink, CarriedBy, FrameAt, IsoTpEvent, IsoTpPair, TcpFlow,
};

pub use fields::{Masks, SEED};

/// Bytes of the capture an import keeps at most (the suite's text must stay below the 1 MiB a
/// suite file may have, and hex takes three characters per byte).
pub const MAX_IMPORTED_BYTES: usize = 320 * 1024;

/// What one kept happening counts against [`MAX_IMPORTED_BYTES`] besides its bytes (its place
/// in memory, and the lines of YAML it becomes): a capture of many empty connections is
/// bounded too.
const HAPPENING_COST: usize = 64;

/// How the tester's recorded pauses are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pace {
    /// A `wait` before each tester action reproduces the recorded pause (1 ms resolution).
    #[default]
    Recorded,
    /// Each action follows the previous step at once.
    Fast,
}

/// A profile timer an answer may be bounded by: its key (written as `${profile.KEY}`) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub key: String,
    pub value: Duration,
}

/// What an import needs besides the events.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The suite's name (and the prefix of nothing else: case ids are per conversation).
    pub name: String,
    /// Where the events came from, for the header and titles.
    pub source: String,
    pub pace: Pace,
    pub masks: Masks,
    /// The profile's timers (see [`case::preferred_timer`] for which answer takes which).
    pub timers: Vec<Timer>,
    /// The protocol version `send` writes (`protocol_version` of the profile): a recorded
    /// message in another version is sent as `send_raw`.
    pub protocol_version: u8,
    /// `timing.tolerance` of the profile: the runner grants it on every bound, so a recorded
    /// answer within a timer plus it fits that timer.
    pub tolerance: Duration,
    /// The ISO-TP id pairs the events were reassembled with (tester's id first).
    pub isotp_pairs: Vec<IsoTpPair>,
}

/// An import that cannot give a suite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the capture holds no DoIP or ISO-TP conversation to import")]
    Empty,
    #[error(
        "the capture holds more than {MAX_IMPORTED_BYTES} bytes of conversation (from packet {packet} on): cut it first, e.g. `editcap -r IN OUT 1-1000`"
    )]
    TooLarge { packet: u64 },
}

/// One thing a conversation shows, owned (events borrow the reader's buffers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Happening {
    Opened,
    /// Tester bytes of a TCP connection as one segment.
    TesterData(Vec<u8>),
    /// A DoIP message from the entity (TCP or UDP): its bytes; `complete` unless the codec
    /// kept only part of them (a rejected header, a message too long to hold).
    EntityMessage {
        bytes: Vec<u8>,
        complete: bool,
    },
    Closed {
        by: Side,
        reset: bool,
    },
    /// A UDP datagram from the tester, and where it went.
    UdpTester(Vec<u8>),
    /// A whole ISO-TP message, `tester` when on the pair's request id.
    IsoTp {
        tester: bool,
        data: Vec<u8>,
    },
    /// A CAN frame of a pair, for pairs whose frames form no whole message.
    CanFrame {
        tester: bool,
        fd: bool,
        data: Vec<u8>,
    },
    /// Something the replay cannot reproduce faithfully (a gap, TLS): a comment in the case.
    Note(String),
}

/// One happening, where and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub at: At,
    pub what: Happening,
}

/// A TCP connection's happenings.
#[derive(Debug, Clone)]
pub(crate) struct RecordedConnection {
    pub id: u32,
    pub tester: core::net::SocketAddr,
    pub entity: core::net::SocketAddr,
    pub tls: bool,
    pub handshake: bool,
    pub seen: Vec<Seen>,
    /// When it was last active (the end of the capture when it stayed open).
    pub last: At,
}

/// Collects a capture's events (a [`CaptureSink`]); [`Importer::finish`] writes the suite.
pub struct Importer {
    options: ImportOptions,
    connections: Vec<RecordedConnection>,
    udp: Vec<Seen>,
    /// Where tester datagrams came from: answers go back there, announcements do not.
    udp_testers: Vec<core::net::SocketAddr>,
    /// The tester's last datagram asked for vehicle identification, not yet answered.
    identifying: bool,
    /// Announcements nobody asked for: the entity's start-up (ISO 13400-2:2019 §9.3).
    announcements: Vec<Seen>,
    isotp: Vec<(IsoTpPair, Vec<Seen>)>,
    /// The frames of each pair (index as `isotp`), kept until it has a whole message.
    frames: Vec<Vec<Seen>>,
    kept: usize,
    too_large: Option<u64>,
    last: At,
}

impl Importer {
    pub fn new(options: ImportOptions) -> Self {
        let isotp: Vec<_> = options.isotp_pairs.iter().map(|p| (*p, Vec::new())).collect();
        let frames = vec![Vec::new(); isotp.len()];
        Importer {
            options,
            connections: Vec::new(),
            udp: Vec::new(),
            udp_testers: Vec::new(),
            identifying: false,
            announcements: Vec::new(),
            isotp,
            frames,
            kept: 0,
            too_large: None,
            last: At { packet: 0, time: Duration::ZERO },
        }
    }

    /// The suite's YAML text and its number of cases.
    pub fn finish(self) -> Result<(String, usize), ImportError> {
        if let Some(packet) = self.too_large {
            return Err(ImportError::TooLarge { packet });
        }
        let (conversations, tls) = tcp::group_connections(self.connections);
        // A pair with whole messages replays them through the stack; one whose frames form
        // none (frames a receiver must ignore, a sender that stopped) replays its frames.
        let mut frame_cases = Vec::new();
        for ((pair, messages), frames) in self.isotp.iter().zip(&self.frames) {
            if messages.is_empty() && !frames.is_empty() {
                frame_cases.push(isotp::frame_case(pair, frames, &self.options));
            }
        }
        let isotp: Vec<_> = self.isotp.into_iter().filter(|(_, s)| !s.is_empty()).collect();
        let udp_used = self.udp.iter().any(|s| matches!(s.what, Happening::UdpTester(_)));
        if conversations.is_empty()
            && !udp_used
            && isotp.is_empty()
            && frame_cases.is_empty()
            && self.announcements.is_empty()
        {
            return Err(ImportError::Empty);
        }
        let mut cases = Vec::new();
        for group in &conversations {
            cases.push(tcp::tcp_case(group, &self.options));
        }
        if udp_used {
            cases.push(udp::udp_case(&self.udp, &self.options));
        }
        if !self.announcements.is_empty() {
            cases.push(udp::announcement_case(&self.announcements, &self.options));
        }
        for (pair, seen) in &isotp {
            cases.push(isotp::isotp_case(pair, seen, &self.options));
        }
        cases.extend(frame_cases);
        let count = cases.len();
        Ok((case::suite(&self.options, cases, tls), count))
    }

    /// Keeps `bytes` (and the happening they make, [`HAPPENING_COST`]) within
    /// [`MAX_IMPORTED_BYTES`]; false once over it.
    fn keep(&mut self, at: At, bytes: &[u8]) -> bool {
        if self.too_large.is_some() {
            return false;
        }
        self.kept = self.kept.saturating_add(bytes.len() + HAPPENING_COST);
        if self.kept > MAX_IMPORTED_BYTES {
            self.too_large = Some(at.packet);
            return false;
        }
        true
    }

    fn connection(&mut self, conn: &TcpFlow, at: At) -> &mut RecordedConnection {
        let index = match self.connections.iter().position(|c| c.id == conn.id) {
            Some(i) => i,
            None => {
                self.connections.push(RecordedConnection {
                    id: conn.id,
                    tester: conn.tester,
                    entity: conn.entity,
                    tls: conn.tls,
                    handshake: conn.handshake,
                    seen: Vec::new(),
                    last: at,
                });
                self.connections.len() - 1
            }
        };
        let c = &mut self.connections[index];
        c.last = at;
        c
    }

    /// A happening without bytes of its own is charged here; one with bytes was by `keep`.
    fn push(&mut self, conn: &TcpFlow, at: At, what: Happening) {
        let charged = matches!(what, Happening::TesterData(_) | Happening::EntityMessage { .. });
        if charged || self.keep(at, &[]) {
            self.connection(conn, at).seen.push(Seen { at, what });
        }
    }

    /// A reassembled message: a request counts from its first frame (when the tester began
    /// it), an answer from its last (when the tester had it).
    fn isotp_message(&mut self, can_id: CanId, first: FrameAt, last: FrameAt, data: &[u8]) {
        let at = At { packet: first.packet, time: last.time };
        if !self.keep(at, data) {
            return;
        }
        for (pair, seen) in &mut self.isotp {
            if pair.tx == can_id || pair.rx == can_id {
                let tester = pair.tx == can_id;
                let at = if tester { At { packet: first.packet, time: first.time } } else { at };
                let what = Happening::IsoTp { tester, data: data.to_vec() };
                seen.push(Seen { at, what });
                return;
            }
        }
    }
}

impl CaptureSink for Importer {
    fn event(&mut self, event: CaptureEvent<'_>) {
        match event {
            CaptureEvent::Opened { at, conn } => {
                self.last = at;
                self.push(&conn, at, Happening::Opened);
                if conn.tls {
                    let note = "TLS: the payload is encrypted and not replayed".to_string();
                    self.push(&conn, at, Happening::Note(note));
                }
            }
            CaptureEvent::Data { at, conn, from: Side::Tester, bytes } if !conn.tls => {
                self.last = at;
                if self.keep(at, bytes) {
                    self.push(&conn, at, Happening::TesterData(bytes.to_vec()));
                }
            }
            CaptureEvent::Doip { at, carrier, from: Side::Entity, bytes, message } => {
                self.last = at;
                if !self.keep(at, bytes) {
                    return;
                }
                let complete = message.is_ok() || matches!(carrier, CarriedBy::Udp { .. });
                let what = Happening::EntityMessage { bytes: bytes.to_vec(), complete };
                match carrier {
                    CarriedBy::Tcp(conn) => self.push(&conn, at, what),
                    // An announcement answers a vehicle identification request; otherwise it
                    // is the entity's own, after its start (ISO 13400-2:2019 §9.3).
                    CarriedBy::Udp { .. } if is_announcement(bytes) && !self.identifying => {
                        self.announcements.push(Seen { at, what })
                    }
                    CarriedBy::Udp { dst, .. } if self.udp_testers.contains(&dst) => {
                        self.identifying &= !is_announcement(bytes);
                        self.udp.push(Seen { at, what })
                    }
                    CarriedBy::Udp { .. } => {}
                }
            }
            CaptureEvent::Doip { at, carrier: CarriedBy::Udp { src, .. }, bytes, .. } => {
                self.last = at;
                if self.keep(at, bytes) {
                    if !self.udp_testers.contains(&src) && self.udp_testers.len() < 64 {
                        self.udp_testers.push(src);
                    }
                    // Vehicle identification requests (0x0001-0x0003) are answered with
                    // announcements (ISO 13400-2:2019 Table 17).
                    self.identifying = payload_type_of(bytes)
                        .is_some_and(PayloadType::is_vehicle_identification_request);
                    self.udp.push(Seen { at, what: Happening::UdpTester(bytes.to_vec()) });
                }
            }
            CaptureEvent::DoipTooLong { at, conn, from: Side::Entity, header, .. } => {
                self.last = at;
                if self.keep(at, &header) {
                    let what = Happening::EntityMessage { bytes: header.to_vec(), complete: false };
                    self.push(&conn, at, what);
                }
            }
            CaptureEvent::Closed { at, conn, by, reset } => {
                self.last = at;
                self.push(&conn, at, Happening::Closed { by, reset });
            }
            CaptureEvent::Ended { at, conn, .. } => {
                self.last = at;
                if self.connections.iter().any(|c| c.id == conn.id) || self.keep(at, &[]) {
                    self.connection(&conn, at);
                }
            }
            CaptureEvent::Gap { at, conn, from, missing } => {
                let note = format!(
                    "packet {}: the capture lost {missing} bytes the {} sent: the replay may differ",
                    at.packet,
                    side_name(from)
                );
                self.push(&conn, at, Happening::Note(note));
            }
            CaptureEvent::Can { at, frame, .. } => {
                self.last = at;
                let id = frame.id();
                let Some(i) = self.isotp.iter().position(|(p, _)| p.tx == id || p.rx == id) else {
                    return;
                };
                // Frames are kept only while the pair has no whole message (bounded as all).
                if self.isotp[i].1.is_empty() && self.keep(at, frame.data()) {
                    let tester = self.isotp[i].0.tx == id;
                    let what = Happening::CanFrame {
                        tester,
                        fd: frame.is_fd(),
                        data: frame.data().to_vec(),
                    };
                    self.frames[i].push(Seen { at, what });
                }
            }
            CaptureEvent::IsoTp(IsoTpEvent::Message { can_id, first, last, data, .. }) => {
                self.isotp_message(can_id, first, last, data);
            }
            other => {
                if let Some(at) = other.at() {
                    self.last = at;
                }
            }
        }
    }
}

/// A vehicle announcement / identification response (payload type 0x0004).
fn is_announcement(bytes: &[u8]) -> bool {
    payload_type_of(bytes) == Some(PayloadType::VehicleAnnouncement)
}

pub(crate) fn side_name(side: Side) -> &'static str {
    match side {
        Side::Tester => "tester",
        Side::Entity => "entity",
    }
}
