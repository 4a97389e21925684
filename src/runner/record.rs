//! The case's event recorder and the run clock: every event of a case goes through here, with
//! the monotonic time taken where the bytes were read or written.

use crate::runner::event::*;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

/// Most frame events one case may produce; a target that floods beyond it ends the case with
/// `error` (the run must not grow without bound).
pub const MAX_FRAMES_PER_CASE: u32 = 100_000;
/// Most bytes one case may receive.
pub const MAX_BYTES_PER_CASE: u64 = 64 * 1024 * 1024;

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

    /// The run time of an instant a transport took with the OS clock.
    pub fn at_std(&self, instant: std::time::Instant) -> RunTime {
        self.at(Instant::from_std(instant))
    }
}

/// Sends one case's events to the run's single consumer.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub case: CaseKey,
    pub clock: Clock,
    tx: UnboundedSender<Event>,
    frames: u32,
    bytes_in: u64,
}

impl Recorder {
    pub fn new(case: CaseKey, clock: Clock, tx: UnboundedSender<Event>) -> Recorder {
        Recorder { case, clock, tx, frames: 0, bytes_in: 0 }
    }

    pub fn now(&self) -> RunTime {
        self.clock.now()
    }

    pub fn emit(&self, event: Event) {
        // The consumer only goes away when the run is over; nothing to do then.
        let _ = self.tx.send(event);
    }

    pub fn note(&self, text: impl Into<String>) {
        self.emit(Event::Note(NoteEvent { case: self.case, at: self.now(), text: text.into() }));
    }

    /// Records a frame; `Err` when the case exceeded its frame or byte budget.
    #[allow(clippy::too_many_arguments)]
    pub fn frame(
        &mut self,
        at: RunTime,
        direction: Direction,
        transport: Transport,
        local: Endpoint,
        peer: Endpoint,
        bytes: Vec<u8>,
        decoded: Decoded,
    ) -> Result<(), String> {
        self.frames = self.frames.saturating_add(1);
        if direction == Direction::Received {
            self.bytes_in = self.bytes_in.saturating_add(bytes.len() as u64);
        }
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
            Endpoint::Can { bus: bus.to_owned(), id: id.raw(), extended: id.is_extended() };
        self.frames = self.frames.saturating_add(1);
        self.emit(Event::Frame(FrameEvent {
            case: self.case,
            at,
            direction,
            transport: Transport::Can,
            local: endpoint.clone(),
            peer: endpoint,
            can: Some(CanFrameMeta {
                id: id.raw(),
                extended: id.is_extended(),
                fd: frame.is_fd(),
                brs: frame.brs(),
            }),
            bytes: frame.data().to_vec(),
            decoded: Decoded::Raw,
        }));
        if self.frames > MAX_FRAMES_PER_CASE {
            return Err(format!(
                "the target flooded the case: more than {MAX_FRAMES_PER_CASE} frames"
            ));
        }
        Ok(())
    }

    pub fn connection(
        &self,
        at: RunTime,
        transport: Transport,
        local: Endpoint,
        peer: Endpoint,
        change: ConnectionChange,
    ) {
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

/// How the harness shows a decoded DoIP message in events.
pub fn decoded_message(message: &crate::codec::doip::Message<'_>) -> Decoded {
    let name = message.payload.payload_type().id().unwrap_or("unknown_payload_type").to_owned();
    Decoded::Message { name, summary: message.to_string() }
}
