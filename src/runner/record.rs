//! The case's event recorder and the run clock: every event of a case goes through here, with
//! the monotonic time taken where the bytes were read or written.

use super::arrived::{decoded, decoded_message};
use crate::codec::doip::Message;
use crate::judge::live::{Collected, LiveChange, LiveFeed};
use crate::pcap::Side;
use crate::runner::event::*;
use crate::transport::doip::tester::tap::WireChunk;
use crate::transport::doip::tester::{Change, Link, Recording};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

/// Most frames one case may exchange at all: a target that floods beyond it fails the case
/// ("the target flooded the case"); far above what is recorded, so a flood is judged by the
/// steps first and only ends here when handlers keep answering it.
pub const MAX_FRAMES_PER_CASE: u32 = 100_000;
/// Most bytes one case may receive.
pub const MAX_BYTES_PER_CASE: u64 = 64 * 1024 * 1024;

/// How much of a case is recorded: the profile's part (`recording.*`); what the reports hold
/// of a flood is bounded, the rest is counted.
pub use crate::suite::profile::RecordLimits;

/// The run's monotonic clock: [`RunTime`] zero is the run's start.
///
/// It reads tokio's clock, so that a test runtime with paused time drives every step's timing
/// virtually (`tokio::time::pause`: timers fire at their exact instant, nothing sleeps). The
/// CAN transports stamp frames with `std::time::Instant`; [`Clock::at_std`] converts those.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock { start: Instant::now() }
    }

    pub fn now(&self) -> RunTime {
        RunTime(Instant::now().saturating_duration_since(self.start))
    }

    /// The run time of an instant taken earlier.
    pub fn at(&self, instant: Instant) -> RunTime {
        RunTime(instant.saturating_duration_since(self.start))
    }

    /// The instant of a run time (a deadline computed on the run clock).
    pub fn instant(&self, at: RunTime) -> Instant {
        self.start
            .checked_add(at.0)
            .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(86_400 * 365))
    }

    /// The run time of an instant a transport took with the OS clock.
    pub fn at_std(&self, instant: std::time::Instant) -> RunTime {
        self.at(Instant::from_std(instant))
    }
}

/// Sends one case's events to the run's single consumer.
#[derive(Debug)]
pub struct Recorder {
    pub case: CaseKey,
    pub clock: Clock,
    tx: UnboundedSender<Event>,
    limits: RecordLimits,
    /// Frames and received bytes of the case, recorded or not.
    frames: u32,
    bytes_in: u64,
    /// Frames and bytes recorded so far (both directions).
    frames_recorded: u32,
    bytes_recorded: u64,
    /// Frames and bytes past the limits: counted, not recorded.
    unrecorded: (u64, u64),
    /// TLS bytes on the wire (chunks read or written, bytes) recorded, and past the limits:
    /// bounded by the same limits as frames, apart from them.
    wire_recorded: (u32, u64),
    wire_unrecorded: (u64, u64),
    /// Notes recorded and notes past the limit (notes are written through `&self`).
    notes: AtomicU32,
    notes_unrecorded: AtomicU64,
    /// The judge of the case's traffic, fed every frame and connection change, recorded or
    /// not (a mutex because connection changes are recorded through `&self`; uncontended).
    judge: Option<Mutex<LiveFeed>>,
}

impl Recorder {
    pub fn new(case: CaseKey, clock: Clock, tx: UnboundedSender<Event>) -> Recorder {
        let limits = crate::suite::profile::Profile::defaults().target().recording;
        Recorder::with_limits(case, clock, tx, limits)
    }

    /// A recorder whose events go nowhere: the receiving end is dropped at once, so sending is
    /// a no-op and nothing accumulates (probes and terminal commands that print what they got
    /// themselves). Recorders sharing `clock` stamp times that compare.
    pub fn quiet(clock: Clock) -> Recorder {
        let (tx, _) = tokio::sync::mpsc::unbounded_channel();
        Recorder::new(CaseKey(0), clock, tx)
    }

    pub fn with_limits(
        case: CaseKey,
        clock: Clock,
        tx: UnboundedSender<Event>,
        limits: RecordLimits,
    ) -> Recorder {
        Recorder {
            case,
            clock,
            tx,
            limits,
            frames: 0,
            bytes_in: 0,
            frames_recorded: 0,
            bytes_recorded: 0,
            unrecorded: (0, 0),
            wire_recorded: (0, 0),
            wire_unrecorded: (0, 0),
            notes: AtomicU32::new(0),
            notes_unrecorded: AtomicU64::new(0),
            judge: None,
        }
    }

    /// Judges the case's traffic from now on (`crate::judge`): every frame and connection
    /// change goes through `feed` as well.
    pub fn judge_with(&mut self, feed: LiveFeed) {
        self.judge = Some(Mutex::new(feed));
    }

    /// The case is over: what the judge found in its traffic (nothing without a judge).
    pub fn judge_findings(&mut self) -> Collected {
        let now = self.now().0;
        match self.judge.take().map(Mutex::into_inner) {
            Some(Ok(feed)) => feed.finish(now),
            _ => Collected::default(),
        }
    }

    /// When the entity owes the connection from `local` to `peer` a close (its NACK that
    /// closes the socket), on the run's clock; `None` without a judge.
    pub fn close_owed(&self, local: SocketAddr, peer: SocketAddr) -> Option<RunTime> {
        let judge = self.judge.as_ref()?.lock().ok()?;
        judge.close_owed(local, peer).map(RunTime)
    }

    /// Runs `f` on the judge, if there is one.
    fn feed(&self, f: impl FnOnce(&mut LiveFeed)) {
        if let Some(judge) = &self.judge
            && let Ok(mut feed) = judge.lock()
        {
            f(&mut feed);
        }
    }

    /// Whether a frame of `len` bytes is still recorded; counts it either way. The first frame
    /// past a limit leaves a note in the transcript. Once a limit is reached nothing more is
    /// recorded, so a case's record is its beginning, whole.
    fn admit(&mut self, len: usize) -> bool {
        let len = len as u64;
        if self.unrecorded.0 == 0
            && self.frames_recorded < self.limits.frames
            && self.bytes_recorded.saturating_add(len) <= self.limits.bytes
        {
            self.frames_recorded += 1;
            self.bytes_recorded += len;
            return true;
        }
        if self.unrecorded.0 == 0 {
            self.always_note(format!(
                "recording limit reached ({} frames / {} bytes per case, profile recording.*): later frames are counted, not recorded",
                self.limits.frames, self.limits.bytes
            ));
        }
        self.unrecorded.0 += 1;
        self.unrecorded.1 += len;
        false
    }

    /// At the end of a case: how much was not recorded, if anything (a note, so every report
    /// says it).
    pub fn note_unrecorded(&self) {
        let (chunks, bytes) = self.wire_unrecorded;
        if chunks > 0 {
            self.always_note(format!(
                "{chunks} TLS reads and writes ({bytes} bytes on the wire) {}",
                crate::runner::event::UNRECORDED_NOTE_END
            ));
        }
        let (frames, bytes) = self.unrecorded;
        if frames > 0 {
            let notes = match self.notes_unrecorded.load(Ordering::Relaxed) {
                0 => String::new(),
                n => format!(", and {n} notes"),
            };
            self.always_note(format!(
                "{frames} frames ({bytes} bytes){notes} {}",
                crate::runner::event::UNRECORDED_NOTE_END
            ));
        }
    }

    pub fn now(&self) -> RunTime {
        self.clock.now()
    }

    pub fn emit(&self, event: Event) {
        // The consumer only goes away when the run is over; nothing to do then.
        let _ = self.tx.send(event);
    }

    /// A line for the transcript. Notes count against the frame limit like frames (a flood
    /// answered by a handler would otherwise note every answer); past it they are counted.
    pub fn note(&self, text: impl Into<String>) {
        let noted = self.notes.fetch_add(1, Ordering::Relaxed);
        if self.unrecorded.0 > 0 || noted >= self.limits.frames {
            self.notes_unrecorded.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.always_note(text);
    }

    /// A note past every limit: what the reports must say about the limits themselves.
    fn always_note(&self, text: impl Into<String>) {
        self.emit(Event::Note(NoteEvent { case: self.case, at: self.now(), text: text.into() }));
    }

    /// Records a frame; `Err` when the case exceeded its frame or byte budget.
    #[allow(clippy::too_many_arguments)]
    pub fn frame(
        &mut self,
        at: RunTime,
        direction: Direction,
        transport: FrameTransport,
        local: Address,
        peer: Address,
        bytes: Vec<u8>,
        decoded: Decoded,
    ) -> Result<(), String> {
        self.frames = self.frames.saturating_add(1);
        if direction == Direction::Received {
            self.bytes_in = self.bytes_in.saturating_add(bytes.len() as u64);
        }
        if let (Address::Socket(tester), Address::Socket(entity)) = (&local, &peer) {
            let from = match direction {
                Direction::Sent => Side::Tester,
                Direction::Received => Side::Entity,
            };
            let (tester, entity, time) = (*tester, *entity, at.0);
            match transport {
                FrameTransport::Tcp | FrameTransport::Tls => {
                    self.feed(|f| f.tcp(tester, entity, from, &bytes, time));
                }
                FrameTransport::Udp => self.feed(|f| f.udp(tester, entity, from, &bytes, time)),
                FrameTransport::Can => {}
            }
        }
        if self.admit(bytes.len()) {
            self.emit(Event::Frame(FrameEvent {
                case: self.case,
                at,
                direction,
                transport,
                local,
                peer,
                can: None,
                bytes,
                decoded,
            }));
        }
        self.check_flood()
    }

    /// Records a CAN frame (sent, or received with the transport's stamp).
    pub fn can_frame(
        &mut self,
        at: RunTime,
        direction: Direction,
        bus: &str,
        frame: &crate::codec::can::CanFrame,
    ) -> Result<(), String> {
        let id = frame.id();
        let endpoint =
            Address::Can { bus: bus.to_owned(), id: id.raw(), extended: id.is_extended() };
        self.frames = self.frames.saturating_add(1);
        self.feed(|f| f.can(frame, at.0));
        if !self.admit(frame.data().len()) {
            return self.check_flood();
        }
        self.emit(Event::Frame(FrameEvent {
            case: self.case,
            at,
            direction,
            transport: FrameTransport::Can,
            local: endpoint.clone(),
            peer: endpoint,
            can: Some(CanFrameMeta {
                id: id.raw(),
                extended: id.is_extended(),
                fd: frame.is_fd(),
                brs: frame.brs(),
            }),
            bytes: frame.data().to_vec(),
            // N_PCI (normal addressing, the harness's own) and UDS on top: the same reading
            // as in failure messages, so every report shows what the frame was.
            decoded: super::arrived::Arrived::can(
                frame,
                crate::codec::isotp::AddressingMode::Normal,
            )
            .decoded,
        }));
        self.check_flood()
    }

    /// `Err` once the case exchanged more than it may at all.
    fn check_flood(&self) -> Result<(), String> {
        if self.frames > MAX_FRAMES_PER_CASE {
            return Err(format!(
                "the target flooded the case: more than {MAX_FRAMES_PER_CASE} frames"
            ));
        }
        if self.bytes_in > MAX_BYTES_PER_CASE {
            return Err(format!(
                "the target flooded the case: more than {MAX_BYTES_PER_CASE} bytes"
            ));
        }
        Ok(())
    }

    pub fn connection(
        &self,
        at: RunTime,
        transport: FrameTransport,
        local: Address,
        peer: Address,
        change: ConnectionChange,
    ) {
        if let (FrameTransport::Tcp | FrameTransport::Tls, Address::Socket(t), Address::Socket(e)) =
            (transport, &local, &peer)
        {
            let change = match change {
                ConnectionChange::Opened => LiveChange::Opened,
                ConnectionChange::ClosedByUs => LiveChange::ClosedByTester,
                ConnectionChange::ClosedByPeer => LiveChange::ClosedByEntity,
                ConnectionChange::Reset => LiveChange::Reset,
                ConnectionChange::Abandoned => LiveChange::Abandoned,
            };
            let (t, e) = (*t, *e);
            self.feed(|f| f.connection(t, e, change, at.0));
        }
        self.emit(Event::Connection(ConnectionEvent {
            case: self.case,
            at,
            transport,
            local,
            peer,
            change,
        }));
    }
}

/// The runner records every frame and change of a tester connection as events.
impl Recording for Recorder {
    type Sent = Decoded;

    fn describe(message: &Message<'_>) -> Decoded {
        decoded_message(message)
    }

    fn changed(&mut self, link: &Link, at: tokio::time::Instant, change: Change) {
        let change = match change {
            Change::Opened => ConnectionChange::Opened,
            Change::ClosedByEntity => ConnectionChange::ClosedByPeer,
            Change::Reset => ConnectionChange::Reset,
            Change::ClosedByUs => ConnectionChange::ClosedByUs,
            Change::Abandoned => ConnectionChange::Abandoned,
        };
        let (transport, local, peer) = link_ends(link);
        self.connection(self.clock.at(at), transport, local, peer, change);
    }

    fn sent(
        &mut self,
        link: &Link,
        at: tokio::time::Instant,
        bytes: &[u8],
        sent: Decoded,
    ) -> Result<(), String> {
        let (transport, local, peer) = link_ends(link);
        let at = self.clock.at(at);
        self.frame(at, Direction::Sent, transport, local, peer, bytes.to_vec(), sent)
    }

    fn received(
        &mut self,
        link: &Link,
        at: tokio::time::Instant,
        bytes: &[u8],
        message: &Result<Message<'static>, String>,
    ) -> Result<(), String> {
        let (transport, local, peer) = link_ends(link);
        let at = self.clock.at(at);
        let decoded = decoded(message);
        self.frame(at, Direction::Received, transport, local, peer, bytes.to_vec(), decoded)
    }

    const TAPS_TLS: bool = true;

    fn tls_wire(&mut self, link: &Link, chunks: Vec<WireChunk>, untapped: u64) {
        let (_, local, peer) = link_ends(link);
        if untapped > 0 {
            self.wire_unrecorded.0 += 1;
            self.wire_unrecorded.1 += untapped;
        }
        for chunk in chunks {
            if !self.admit_wire(chunk.bytes.len() as u64) {
                continue;
            }
            let direction = if chunk.from_tester { Direction::Sent } else { Direction::Received };
            self.emit(Event::TlsWire(TlsWireEvent {
                case: self.case,
                at: self.clock.at(chunk.at),
                direction,
                local: local.clone(),
                peer: peer.clone(),
                bytes: chunk.bytes,
            }));
        }
    }

    fn tls_keys(&mut self, link: &Link, at: tokio::time::Instant, lines: Vec<String>) {
        let (_, local, peer) = link_ends(link);
        let at = self.clock.at(at);
        self.emit(Event::TlsKeys(TlsKeysEvent { case: self.case, at, local, peer, lines }));
    }
}

impl Recorder {
    /// Whether a TLS chunk of `len` bytes on the wire is still recorded; counts it either way.
    /// Once one is not, none after it is: the capture shows the connection's beginning, whole.
    fn admit_wire(&mut self, len: u64) -> bool {
        let (chunks, bytes) = self.wire_recorded;
        if self.wire_unrecorded.0 == 0
            && chunks < self.limits.frames
            && bytes.saturating_add(len) <= self.limits.bytes
        {
            self.wire_recorded = (chunks + 1, bytes + len);
            return true;
        }
        self.wire_unrecorded.0 += 1;
        self.wire_unrecorded.1 += len;
        false
    }
}

/// A tester connection's transport and ends, as events name them.
pub fn link_ends(link: &Link) -> (FrameTransport, Address, Address) {
    let transport = if link.tls { FrameTransport::Tls } else { FrameTransport::Tcp };
    (transport, Address::Socket(link.local), Address::Socket(link.peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::profile::Profile;
    use std::net::SocketAddr;

    fn recorder(limits: RecordLimits) -> (Recorder, tokio::sync::mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Recorder::with_limits(CaseKey(0), Clock::start(), tx, limits), rx)
    }

    fn received(rec: &mut Recorder, len: usize) -> Result<(), String> {
        let peer = Address::Socket(SocketAddr::from(([127, 0, 0, 1], 13400)));
        let local = Address::Socket(SocketAddr::from(([127, 0, 0, 1], 40000)));
        rec.frame(
            rec.now(),
            Direction::Received,
            FrameTransport::Tcp,
            local,
            peer,
            vec![0; len],
            Decoded::Raw,
        )
    }

    fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> (usize, Vec<String>) {
        let (mut frames, mut notes) = (0, Vec::new());
        while let Ok(e) = rx.try_recv() {
            match e {
                Event::Frame(_) => frames += 1,
                Event::Note(n) => notes.push(n.text),
                _ => {}
            }
        }
        (frames, notes)
    }

    #[test]
    fn frames_past_the_frame_limit_are_counted_not_recorded() {
        let (mut rec, mut rx) = recorder(RecordLimits { frames: 3, bytes: 1000 });
        for _ in 0..5 {
            received(&mut rec, 10).expect("far below the flood bound");
        }
        rec.note_unrecorded();
        let (frames, notes) = drain(&mut rx);
        assert_eq!(frames, 3);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].starts_with("recording limit reached (3 frames / 1000 bytes"),
            "{notes:?}"
        );
        assert_eq!(notes[1], "2 frames (20 bytes) were exchanged but not recorded");
    }

    #[test]
    fn the_byte_limit_stops_recording_at_the_frame_that_would_cross_it() {
        let (mut rec, mut rx) = recorder(RecordLimits { frames: 100, bytes: 25 });
        for len in [10, 10, 10, 1] {
            received(&mut rec, len).expect("far below the flood bound");
        }
        rec.note_unrecorded();
        let (frames, notes) = drain(&mut rx);
        assert_eq!(frames, 2, "the record is the case's beginning, whole");
        assert_eq!(
            notes.last().map(String::as_str),
            Some("2 frames (11 bytes) were exchanged but not recorded")
        );
    }

    #[test]
    fn a_flood_past_the_case_bound_is_reported_however_little_is_recorded() {
        let (mut rec, _rx) = recorder(RecordLimits { frames: 1, bytes: 1 << 20 });
        let mut last = Ok(());
        for _ in 0..=MAX_FRAMES_PER_CASE {
            last = received(&mut rec, 8);
        }
        assert_eq!(
            last,
            Err(format!("the target flooded the case: more than {MAX_FRAMES_PER_CASE} frames"))
        );
    }

    #[test]
    fn nothing_is_noted_when_everything_was_recorded() {
        let (mut rec, mut rx) = recorder(Profile::defaults().target().recording);
        received(&mut rec, 8).expect("recorded");
        rec.note_unrecorded();
        assert_eq!(drain(&mut rx), (1, Vec::new()));
    }
}
