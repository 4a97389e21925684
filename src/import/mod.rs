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

pub use case::{suite_head, suite_tail};
pub use fields::{Masks, SEED};

/// Bytes of the capture one case keeps at most: a longer conversation goes on in a next case
/// (`.part2`, ...), so the import holds at most this much per open conversation whatever the
/// capture's size, and each case's text stays well below the 1 MiB a suite file may have
/// (hex takes three characters per byte).
pub const MAX_CASE_BYTES: usize = 160 * 1024;

/// What one kept happening counts against [`MAX_CASE_BYTES`] besides its bytes (its place in
/// memory, and the lines of YAML it becomes): a conversation of many empty messages is cut too.
const HAPPENING_COST: usize = 64;

/// Start-up announcements kept for their case (the first burst is expected with its count;
/// the rest are only counted).
const MAX_ANNOUNCEMENTS: usize = 64;

/// Connections whose case is written that are remembered, so a straggler of theirs (the last
/// FIN after a new connection opened) does not start a case of its own.
const WRITTEN_REMEMBERED: usize = 64;

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
    pub handshake: bool,
    pub seen: Vec<Seen>,
    /// When it was last active (the end of the capture when it stayed open).
    pub last: At,
    /// It goes on from the case before (cut at [`MAX_CASE_BYTES`]).
    pub continued: bool,
    /// A close or its end was seen: a connection opened later is another case's.
    pub done: bool,
}

impl RecordedConnection {
    /// It carried bytes either way.
    fn carried(&self) -> bool {
        self.seen
            .iter()
            .any(|s| matches!(s.what, Happening::TesterData(_) | Happening::EntityMessage { .. }))
    }
}

/// One ISO-TP id pair's conversation as far as it is not written yet.
#[derive(Debug, Clone)]
struct PairRecord {
    pair: IsoTpPair,
    /// Whole messages.
    messages: Vec<Seen>,
    /// The pair's frames, kept while it has had no whole message.
    frames: Vec<Seen>,
    kept: usize,
    part: u32,
    had_messages: bool,
}

/// A finished import: the cases not taken with [`Importer::take_ready`] and the counts.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The last cases' text, each an item of the suite's `cases` list.
    pub cases: Vec<String>,
    /// How many cases the import wrote in all.
    pub count: usize,
    /// The suite's end ([`case::suite_tail`]).
    pub tail: String,
}

/// Collects a capture's events (a [`CaptureSink`]) and writes each conversation's case once it
/// is over ([`Importer::take_ready`]), [`Importer::finish`] the rest: memory holds only the
/// conversations still open, each at most [`MAX_CASE_BYTES`].
pub struct Importer {
    options: ImportOptions,
    /// The connections of the TCP case being collected: they overlap in time.
    group: Vec<RecordedConnection>,
    group_kept: usize,
    group_part: u32,
    /// Connections whose case is written (the latest [`WRITTEN_REMEMBERED`]).
    written: std::collections::VecDeque<u32>,
    tls_left_out: usize,
    udp: Vec<Seen>,
    udp_kept: usize,
    udp_part: u32,
    udp_used: bool,
    /// Where tester datagrams came from: answers go back there, announcements do not.
    udp_testers: Vec<core::net::SocketAddr>,
    /// The tester's last datagram asked for vehicle identification, not yet answered.
    identifying: bool,
    /// Announcements nobody asked for: the entity's start-up (ISO 13400-2:2019 §9.3).
    announcements: Vec<Seen>,
    announced: usize,
    pairs: Vec<PairRecord>,
    /// Cases whose conversation is over, as text, until taken.
    ready: Vec<String>,
    count: usize,
}

impl Importer {
    pub fn new(options: ImportOptions) -> Self {
        let pairs = options
            .isotp_pairs
            .iter()
            .map(|&pair| PairRecord {
                pair,
                messages: Vec::new(),
                frames: Vec::new(),
                kept: 0,
                part: 0,
                had_messages: false,
            })
            .collect();
        Importer {
            options,
            group: Vec::new(),
            group_kept: 0,
            group_part: 0,
            written: std::collections::VecDeque::new(),
            tls_left_out: 0,
            udp: Vec::new(),
            udp_kept: 0,
            udp_part: 0,
            udp_used: false,
            udp_testers: Vec::new(),
            identifying: false,
            announcements: Vec::new(),
            announced: 0,
            pairs,
            ready: Vec::new(),
            count: 0,
        }
    }

    /// The cases written since the last call (items of the suite's `cases` list, after
    /// [`case::suite_head`]): take them as they come to keep memory bounded.
    pub fn take_ready(&mut self) -> Vec<String> {
        std::mem::take(&mut self.ready)
    }

    /// Writes what is still open; an import that wrote no case at all is
    /// [`ImportError::Empty`].
    pub fn finish(mut self) -> Result<Finished, ImportError> {
        self.write_group();
        if self.udp_used {
            self.write_udp();
        }
        if !self.announcements.is_empty() {
            let case = udp::announcement_case(&self.announcements, self.announced, &self.options);
            self.ready(&case);
        }
        for i in 0..self.pairs.len() {
            self.write_pair(i);
        }
        if self.count == 0 {
            return Err(ImportError::Empty);
        }
        Ok(Finished {
            cases: self.ready,
            count: self.count,
            tail: case::suite_tail(self.tls_left_out),
        })
    }

    /// The whole suite as one text and its number of cases (the cases taken with
    /// [`Importer::take_ready`] are not in it).
    pub fn finish_text(self) -> Result<(String, usize), ImportError> {
        let head = case::suite_head(&self.options, &self.options.name);
        let finished = self.finish()?;
        let mut text = head;
        for case in &finished.cases {
            text.push_str(case);
        }
        text.push_str(&finished.tail);
        Ok((text, finished.count))
    }

    fn ready(&mut self, case: &yaml::Node) {
        self.ready.push(case::case_text(case));
        self.count += 1;
    }

    /// The TCP case being collected, when it has a connection that carried something or was
    /// seen from its start (a stray ACK after a close makes none).
    fn write_group(&mut self) {
        let group: Vec<RecordedConnection> = std::mem::take(&mut self.group)
            .into_iter()
            .filter(|c| (c.handshake && !c.continued) || c.carried())
            .collect();
        self.group_kept = 0;
        if group.is_empty() {
            return;
        }
        for c in &group {
            if self.written.len() == WRITTEN_REMEMBERED {
                self.written.pop_front();
            }
            self.written.push_back(c.id);
        }
        let case = tcp::tcp_case(&group, &self.options, self.group_part);
        self.ready(&case);
    }

    fn write_udp(&mut self) {
        let seen = std::mem::take(&mut self.udp);
        self.udp_kept = 0;
        if seen.iter().any(|s| matches!(s.what, Happening::UdpTester(_))) {
            let case = udp::udp_case(&seen, &self.options, self.udp_part);
            self.ready(&case);
            self.udp_part += 1;
        }
    }

    /// Pair `i`'s messages, or its frames when it never had a whole message.
    fn write_pair(&mut self, i: usize) {
        let record = &mut self.pairs[i];
        let (messages, frames) =
            (std::mem::take(&mut record.messages), std::mem::take(&mut record.frames));
        record.kept = 0;
        let (pair, part) = (record.pair, record.part);
        let case = if !messages.is_empty() {
            isotp::isotp_case(&pair, &messages, &self.options, part)
        } else if !frames.is_empty() && !record.had_messages {
            isotp::frame_case(&pair, &frames, &self.options, part)
        } else {
            return;
        };
        self.pairs[i].part += 1;
        self.ready(&case);
    }

    /// A case that keeps `kept` bytes is written before the next happening: before a tester
    /// action past [`MAX_CASE_BYTES`] (a request stays with its answers), before anything past
    /// twice that (an entity that floods without being asked).
    fn full(kept: usize, tester: bool) -> bool {
        kept > MAX_CASE_BYTES && (tester || kept > 2 * MAX_CASE_BYTES)
    }

    /// The cost of keeping `bytes` in a case.
    fn cost(bytes: &[u8]) -> usize {
        bytes.len().saturating_add(HAPPENING_COST)
    }

    /// A full TCP case ([`Importer::full`]) is written and its open connections go on in the
    /// next part, opened anew.
    fn cut_group_if_full(&mut self, at: At, tester: bool) {
        if !Self::full(self.group_kept, tester) {
            return;
        }
        let open: Vec<RecordedConnection> = self
            .group
            .iter()
            .filter(|c| !c.done)
            .map(|c| RecordedConnection {
                seen: vec![Seen { at, what: Happening::Opened }],
                handshake: false,
                continued: true,
                last: at,
                ..c.clone_head()
            })
            .collect();
        self.write_group();
        self.group_part += 1;
        self.group_kept = open.len() * HAPPENING_COST;
        self.group = open;
    }

    fn connection(&mut self, conn: &TcpFlow, at: At) -> Option<&mut RecordedConnection> {
        if conn.tls {
            return None;
        }
        let index = match self.group.iter().position(|c| c.id == conn.id) {
            Some(i) => i,
            None if self.written.contains(&conn.id) => return None,
            None => {
                // A connection that opens when every one of the case is over starts the next.
                if self.group.iter().all(|c| c.done) {
                    self.write_group();
                    self.group_part = 0;
                }
                self.group.push(RecordedConnection {
                    id: conn.id,
                    tester: conn.tester,
                    entity: conn.entity,
                    handshake: conn.handshake,
                    seen: Vec::new(),
                    last: at,
                    continued: false,
                    done: false,
                });
                self.group.len() - 1
            }
        };
        let c = &mut self.group[index];
        c.last = at;
        Some(c)
    }

    fn push(&mut self, conn: &TcpFlow, at: At, what: Happening) {
        let cost = match &what {
            Happening::TesterData(b) | Happening::EntityMessage { bytes: b, .. } => Self::cost(b),
            Happening::Note(text) => Self::cost(text.as_bytes()),
            _ => HAPPENING_COST,
        };
        if self.group.iter().any(|c| c.id == conn.id) {
            self.cut_group_if_full(at, matches!(what, Happening::TesterData(_)));
        }
        if let Some(c) = self.connection(conn, at) {
            c.done |= matches!(what, Happening::Closed { .. });
            c.seen.push(Seen { at, what });
            self.group_kept = self.group_kept.saturating_add(cost);
        }
    }

    /// A reassembled message: a request counts from its first frame (when the tester began
    /// it), an answer from its last (when the tester had it).
    fn isotp_message(&mut self, can_id: CanId, first: FrameAt, last: FrameAt, data: &[u8]) {
        let Some(i) = self.pairs.iter().position(|r| r.pair.tx == can_id || r.pair.rx == can_id)
        else {
            return;
        };
        let tester = self.pairs[i].pair.tx == can_id;
        if Self::full(self.pairs[i].kept, tester) {
            self.write_pair(i);
        }
        let record = &mut self.pairs[i];
        let at = if tester {
            At { packet: first.packet, time: first.time }
        } else {
            At { packet: first.packet, time: last.time }
        };
        record.had_messages = true;
        record.frames.clear();
        record.kept = record.kept.saturating_add(Self::cost(data));
        record.messages.push(Seen { at, what: Happening::IsoTp { tester, data: data.to_vec() } });
    }
}

impl RecordedConnection {
    /// Its identity without what it saw.
    fn clone_head(&self) -> RecordedConnection {
        RecordedConnection { seen: Vec::new(), ..self.clone() }
    }
}

impl CaptureSink for Importer {
    fn event(&mut self, event: CaptureEvent<'_>) {
        match event {
            CaptureEvent::Opened { at, conn } => {
                if conn.tls {
                    self.tls_left_out += 1;
                    return;
                }
                self.push(&conn, at, Happening::Opened);
            }
            CaptureEvent::Data { at, conn, from: Side::Tester, bytes } if !conn.tls => {
                self.push(&conn, at, Happening::TesterData(bytes.to_vec()));
            }
            CaptureEvent::Doip { at, carrier, from: Side::Entity, bytes, message } => {
                let complete = message.is_ok() || matches!(carrier, CarriedBy::Udp { .. });
                let what = Happening::EntityMessage { bytes: bytes.to_vec(), complete };
                match carrier {
                    CarriedBy::Tcp(conn) => self.push(&conn, at, what),
                    // An announcement answers a vehicle identification request; otherwise it
                    // is the entity's own, after its start (ISO 13400-2:2019 §9.3).
                    CarriedBy::Udp { .. } if is_announcement(bytes) && !self.identifying => {
                        self.announced += 1;
                        if self.announcements.len() < MAX_ANNOUNCEMENTS {
                            self.announcements.push(Seen { at, what });
                        }
                    }
                    CarriedBy::Udp { dst, .. } if self.udp_testers.contains(&dst) => {
                        if Self::full(self.udp_kept, false) {
                            self.write_udp();
                        }
                        self.identifying &= !is_announcement(bytes);
                        self.udp_kept = self.udp_kept.saturating_add(Self::cost(bytes));
                        self.udp.push(Seen { at, what })
                    }
                    CarriedBy::Udp { .. } => {}
                }
            }
            CaptureEvent::Doip { at, carrier: CarriedBy::Udp { src, .. }, bytes, .. } => {
                if !self.udp_testers.contains(&src) && self.udp_testers.len() < 64 {
                    self.udp_testers.push(src);
                }
                if Self::full(self.udp_kept, true) {
                    self.write_udp();
                }
                // Vehicle identification requests (0x0001-0x0003) are answered with
                // announcements (ISO 13400-2:2019 Table 17).
                self.identifying = payload_type_of(bytes)
                    .is_some_and(PayloadType::is_vehicle_identification_request);
                self.udp_used = true;
                self.udp_kept = self.udp_kept.saturating_add(Self::cost(bytes));
                self.udp.push(Seen { at, what: Happening::UdpTester(bytes.to_vec()) });
            }
            CaptureEvent::DoipTooLong { at, conn, from: Side::Entity, header, .. } => {
                let what = Happening::EntityMessage { bytes: header.to_vec(), complete: false };
                self.push(&conn, at, what);
            }
            CaptureEvent::Closed { at, conn, by, reset } => {
                self.push(&conn, at, Happening::Closed { by, reset });
            }
            CaptureEvent::Ended { at, conn, .. } => {
                // The end of a connection never seen before makes no case.
                if let Some(c) = self.group.iter_mut().find(|c| c.id == conn.id) {
                    c.last = at;
                    c.done = true;
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
                let id = frame.id();
                let Some(i) = self.pairs.iter().position(|r| r.pair.tx == id || r.pair.rx == id)
                else {
                    return;
                };
                // Frames are kept only while the pair has had no whole message.
                if self.pairs[i].had_messages {
                    return;
                }
                let tester = self.pairs[i].pair.tx == id;
                if Self::full(self.pairs[i].kept, tester) {
                    self.write_pair(i);
                }
                let record = &mut self.pairs[i];
                record.kept = record.kept.saturating_add(Self::cost(frame.data()));
                let what =
                    Happening::CanFrame { tester, fd: frame.is_fd(), data: frame.data().to_vec() };
                record.frames.push(Seen { at, what });
            }
            CaptureEvent::IsoTp(IsoTpEvent::Message { can_id, first, last, data, .. }) => {
                self.isotp_message(can_id, first, last, data);
            }
            _ => {}
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
