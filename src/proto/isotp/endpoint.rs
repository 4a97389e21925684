//! The full-duplex ISO-TP endpoint: one connection (tx address, rx address, addressing) that
//! sends a message and receives messages at the same time. This is the main entry point for
//! drivers (the `isotp` command, the simulator's ECUs, the runner).
//!
//! May import `crate::codec` and `crate::proto`.

use std::collections::VecDeque;

use crate::codec::can::CanFrame;
use crate::codec::isotp::IsoTpPdu;
use crate::proto::time::Instant;

use super::config::{ConfigError, IsoTpConfig, TxConfirmation};
use super::link::{Incoming, Link};
use super::receiver::Receiver;
use super::sender::{SendError, Sender};
use super::transfer_event::{IgnoreReason, TransferEvent};

/// Which half produced a frame awaiting confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Sender(u32),
    Receiver(u32),
}

/// Unconfirmed frames remembered for [`TxConfirmation::Explicit`]; each half has at most one
/// frame in flight, older entries belong to frames whose N_As/N_Ar already expired.
const MAX_UNCONFIRMED: usize = 8;

/// A full-duplex ISO-TP connection.
///
/// # Driving it
/// ```text
/// loop {
///     on a received CAN frame f:      ep.handle_frame(now, &f)
///     on our own frame's echo:        ep.handle_tx_confirmation(now)   (Explicit only)
///     at ep.poll_timeout():           ep.handle_timeout(now)
///     to send a message:              ep.send(now, &payload)?
///     then drain: while let Some(f) = ep.poll_transmit() { bus.send(f) }
///                 while let Some(e) = ep.poll_event()    { .. }
/// }
/// ```
/// A frame from `poll_transmit` is due at the latest `now` passed in; send it right away.
/// Receiver FCs are polled before sender CFs so flow control is never queued behind a burst.
#[derive(Debug)]
pub struct Endpoint {
    link: Link,
    sender: Sender,
    receiver: Receiver,
    unconfirmed: VecDeque<Half>,
}

impl Endpoint {
    pub fn new(config: IsoTpConfig) -> Result<Self, ConfigError> {
        Ok(Endpoint {
            link: Link { config },
            sender: Sender::new(config)?,
            receiver: Receiver::new(config)?,
            unconfirmed: VecDeque::with_capacity(MAX_UNCONFIRMED),
        })
    }

    pub fn config(&self) -> &IsoTpConfig {
        &self.link.config
    }

    /// Starts sending `payload` to the peer (N_USData.request, physical). One message at a
    /// time; receiving continues meanwhile.
    pub fn send(&mut self, now: Instant, payload: &[u8]) -> Result<(), SendError> {
        self.advance(now);
        self.sender.send(now, payload)
    }

    /// Sends `payload` as a single frame on the functional address.
    pub fn send_functional(&mut self, now: Instant, payload: &[u8]) -> Result<(), SendError> {
        self.advance(now);
        self.sender.send_functional(now, payload)
    }

    /// True while a message is being sent.
    pub fn is_sending(&self) -> bool {
        self.sender.is_busy()
    }

    /// True while a segmented message is being received.
    pub fn is_receiving(&self) -> bool {
        self.receiver.is_receiving()
    }

    /// Bytes reserved for the reception in progress.
    pub fn receive_buffer_capacity(&self) -> usize {
        self.receiver.buffer_capacity()
    }

    /// A frame from the bus. Frames for other nodes are skipped silently; frames on our
    /// addresses are parsed once: FCs drive the sender, SF/FF/CF the receiver, malformed
    /// ones are ignored with a [`TransferEvent::FrameIgnored`].
    pub fn handle_frame(&mut self, now: Instant, frame: &CanFrame) {
        self.advance(now);
        match self.link.classify(frame) {
            Incoming::NotOurs => {}
            Incoming::Malformed(e) => self.receiver.ignore(IgnoreReason::Malformed(e)),
            Incoming::Physical(IsoTpPdu::FlowControl(fc)) => self.sender.handle_fc(fc),
            Incoming::Physical(pdu) => self.receiver.handle_pdu(pdu, false, frame.len()),
            Incoming::Functional(pdu) => self.receiver.handle_pdu(pdu, true, frame.len()),
        }
    }

    /// Timers that expired at or before `now`, and frames now due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    /// Under [`TxConfirmation::Explicit`]: the oldest unconfirmed frame we polled left the
    /// node (e.g. its echo came back). Stops N_As / N_Ar; STmin counts from here.
    pub fn handle_tx_confirmation(&mut self, now: Instant) {
        self.advance(now);
        match self.unconfirmed.pop_front() {
            Some(Half::Sender(token)) => self.sender.confirm(Some(token)),
            Some(Half::Receiver(token)) => self.receiver.confirm(Some(token)),
            None => {}
        }
    }

    /// The next frame to send, FCs first.
    pub fn poll_transmit(&mut self) -> Option<CanFrame> {
        let (frame, half) = if let Some((frame, token)) = self.receiver.poll_transmit_token() {
            (frame, Half::Receiver(token))
        } else {
            let (frame, token) = self.sender.poll_transmit_token()?;
            (frame, Half::Sender(token))
        };
        if self.link.config.tx_confirmation == TxConfirmation::Explicit {
            if self.unconfirmed.len() == MAX_UNCONFIRMED {
                self.unconfirmed.pop_front();
            }
            self.unconfirmed.push_back(half);
        }
        Some(frame)
    }

    /// The earliest time either half needs [`Endpoint::handle_timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.receiver.poll_timeout(), self.sender.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next report: receiver events first, then sender events.
    pub fn poll_event(&mut self) -> Option<TransferEvent> {
        self.receiver.poll_event().or_else(|| self.sender.poll_event())
    }

    /// Events waiting in [`Endpoint::poll_event`].
    pub fn pending_events(&self) -> usize {
        self.receiver.pending_events() + self.sender.pending_events()
    }

    fn advance(&mut self, now: Instant) {
        self.sender.advance(now);
        self.receiver.advance(now);
    }
}
