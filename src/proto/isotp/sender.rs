//! The sending half of an ISO-TP connection (ISO 15765-2:2016 §9.6, §9.7, §9.8): segments a
//! message into SF or FF + CFs, obeys flow control (BS, STmin, WAIT, OVFLW) and raises the
//! sender's N_Results.
//!
//! Time is an argument. A frame is produced by [`Sender::poll_transmit`] at the latest `now`
//! the sender was given; STmin and N_Cs are measured from the confirmation of the previous CF
//! (ISO: from its end of transmission), which is the moment of polling under
//! [`TxConfirmation::OnPoll`].
//!
//! May import `crate::codec` and `crate::proto`.

use core::time::Duration;

use crate::codec::can::CanFrame;
use crate::codec::isotp::{
    FlowControl, FlowStatus, IsoTpPdu, StMin, cf_capacity, ff_capacity, max_sf_dl,
};
use crate::proto::time::Instant;

use super::config::{CanAddress, ConfigError, FcParameters, IsoTpConfig, TxConfirmation};
use super::link::{Incoming, Link};
use super::transfer_event::{EventQueue, IgnoreReason, NResult, TransferEvent};

/// Why [`Sender::send`] refused a message (nothing was sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("a message is still being sent (one at a time per connection)")]
    Busy,
    #[error("message: an ISO-TP message has at least 1 byte")]
    Empty,
    #[error("message: {len} bytes exceed the 32-bit FF_DL (4294967295)")]
    TooLarge { len: usize },
    #[error(
        "message: {len} bytes do not fit a single frame ({max}); functional addressing is single-frame only"
    )]
    FunctionalTooLong { len: usize, max: usize },
    #[error("functional_tx: no functional address is configured")]
    NoFunctionalAddress,
}

/// What the last produced frame was, to know what its confirmation starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Single,
    First,
    Consecutive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxState {
    Idle,
    /// The next frame may be produced from `at` on.
    Ready {
        at: Instant,
    },
    /// The driver has the frame (`token`); its confirmation is due by `deadline` (N_As).
    InFlight {
        deadline: Instant,
        token: u32,
    },
    /// Waiting for an FC until `deadline` (N_Bs).
    WaitingForFc {
        deadline: Instant,
    },
}

/// The sending half. Most users want [`Endpoint`](super::Endpoint), which pairs it with a
/// receiver; alone it suits a node that only sends (its FCs still arrive via
/// [`Sender::handle_frame`]).
#[derive(Debug)]
pub struct Sender {
    link: Link,
    now: Instant,
    state: TxState,
    /// The message being sent; kept between messages so its allocation is reused.
    buf: Vec<u8>,
    /// Bytes of `buf` already put into frames.
    offset: usize,
    to: CanAddress,
    next_sn: u8,
    last: Sent,
    block_size: u8,
    st_min: StMin,
    /// A CTS fixed BS/STmin for this message (used by [`FcParameters::Static`]).
    latched: bool,
    /// A reserved STmin was adopted: 127 ms for the rest of the message (§9.6.5.4).
    reserved_st_min: bool,
    cfs_left_in_block: u8,
    waits_in_row: u32,
    next_token: u32,
    events: EventQueue,
}

impl Sender {
    pub fn new(config: IsoTpConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Sender {
            link: Link { config },
            now: Instant::ZERO,
            state: TxState::Idle,
            buf: Vec::new(),
            offset: 0,
            to: config.address.tx,
            next_sn: 1,
            last: Sent::Single,
            block_size: 0,
            st_min: StMin::ZERO,
            latched: false,
            reserved_st_min: false,
            cfs_left_in_block: 0,
            waits_in_row: 0,
            next_token: 0,
            events: EventQueue::default(),
        })
    }

    pub fn config(&self) -> &IsoTpConfig {
        &self.link.config
    }

    /// True while a message is being sent.
    pub fn is_busy(&self) -> bool {
        self.state != TxState::Idle
    }

    /// Starts sending `payload` on the physical address (N_USData.request).
    pub fn send(&mut self, now: Instant, payload: &[u8]) -> Result<(), SendError> {
        self.start(now, payload, self.link.config.address.tx, false)
    }

    /// Starts sending `payload` as one single frame on the functional address.
    pub fn send_functional(&mut self, now: Instant, payload: &[u8]) -> Result<(), SendError> {
        let to = self.link.config.address.functional_tx.ok_or(SendError::NoFunctionalAddress)?;
        self.start(now, payload, to, true)
    }

    fn start(
        &mut self,
        now: Instant,
        payload: &[u8],
        to: CanAddress,
        functional: bool,
    ) -> Result<(), SendError> {
        self.advance(now);
        if self.is_busy() {
            return Err(SendError::Busy);
        }
        if payload.is_empty() {
            return Err(SendError::Empty);
        }
        if u32::try_from(payload.len()).is_err() {
            return Err(SendError::TooLarge { len: payload.len() });
        }
        let max_sf = self.max_sf_dl();
        if functional && payload.len() > max_sf {
            return Err(SendError::FunctionalTooLong { len: payload.len(), max: max_sf });
        }
        self.buf.clear();
        self.buf.extend_from_slice(payload);
        self.offset = 0;
        self.to = to;
        self.next_sn = 1;
        self.latched = false;
        self.reserved_st_min = false;
        self.block_size = 0;
        self.st_min = StMin::ZERO;
        self.waits_in_row = 0;
        self.state = TxState::Ready { at: self.now };
        Ok(())
    }

    fn max_sf_dl(&self) -> usize {
        max_sf_dl(self.link.tx_dl().get(), self.link.address_len())
    }

    /// Handles a received frame: FCs on our rx address drive the transmission; every other
    /// frame is left to a receiver. Timeouts up to `now` are processed first, so an FC that
    /// arrives at or after the N_Bs deadline finds the transmission already failed.
    pub fn handle_frame(&mut self, now: Instant, frame: &CanFrame) {
        self.advance(now);
        match self.link.classify(frame) {
            Incoming::Physical(IsoTpPdu::FlowControl(fc)) => self.handle_fc(fc),
            Incoming::Malformed(e) => self.events.ignored(IgnoreReason::Malformed(e)),
            Incoming::Physical(_) | Incoming::Functional(_) | Incoming::NotOurs => {}
        }
    }

    /// Processes timers that expired at or before `now` (N_As, N_Bs).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    /// The transmit confirmation of the frame polled last, under
    /// [`TxConfirmation::Explicit`]: stops N_As and starts what follows the frame.
    pub fn handle_tx_confirmation(&mut self, now: Instant) {
        self.advance(now);
        self.confirm(None);
    }

    /// The next frame to put on the bus, if one is due at the latest `now` given.
    pub fn poll_transmit(&mut self) -> Option<CanFrame> {
        self.poll_transmit_token().map(|(frame, _)| frame)
    }

    /// When the sender next needs [`Sender::handle_timeout`] (or has a frame: a due time not
    /// later than the last `now` means [`Sender::poll_transmit`] returns one).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            TxState::Idle => None,
            TxState::Ready { at } => Some(at),
            TxState::InFlight { deadline, .. } | TxState::WaitingForFc { deadline } => {
                Some(deadline)
            }
        }
    }

    pub fn poll_event(&mut self) -> Option<TransferEvent> {
        self.events.pop()
    }

    pub(crate) fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Moves the clock (never backwards) and raises expired timers.
    pub(crate) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
        match self.state {
            // ISO 15765-2:2016 §9.7: N_As expired -> N_USData.confirm(N_TIMEOUT_A).
            TxState::InFlight { deadline, .. } if deadline <= self.now => {
                self.fail(NResult::TimeoutA)
            }
            // §9.7: no FC within N_Bs -> N_USData.confirm(N_TIMEOUT_Bs).
            TxState::WaitingForFc { deadline } if deadline <= self.now => {
                self.fail(NResult::TimeoutBs)
            }
            _ => {}
        }
    }

    /// A confirmation for the frame `token` (`None`: whatever is in flight).
    pub(crate) fn confirm(&mut self, token: Option<u32>) {
        if let TxState::InFlight { token: current, .. } = self.state
            && token.is_none_or(|t| t == current)
        {
            self.confirmed();
        }
    }

    pub(crate) fn poll_transmit_token(&mut self) -> Option<(CanFrame, u32)> {
        let TxState::Ready { at } = self.state else { return None };
        if at > self.now {
            return None;
        }
        let Some(frame) = self.next_frame() else {
            // Unreachable with a validated config: chunks are sized from TX_DL.
            self.fail(NResult::Error);
            return None;
        };
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        match self.link.config.tx_confirmation {
            TxConfirmation::OnPoll => self.confirmed(),
            TxConfirmation::Explicit => {
                let deadline = self.now + self.link.config.timers.n_as;
                self.state = TxState::InFlight { deadline, token };
            }
        }
        Some((frame, token))
    }

    /// Builds the SF, FF or CF that comes next and advances `offset`.
    fn next_frame(&mut self) -> Option<CanFrame> {
        let address_len = self.link.address_len();
        let tx_dl = self.link.tx_dl().get();
        let len = self.buf.len();
        let (pdu, taken, kind) = if self.offset == 0 {
            if len <= self.max_sf_dl() {
                (IsoTpPdu::single(&self.buf, address_len), len, Sent::Single)
            } else {
                // FF_DL fits u32: checked in `start`.
                let ff_dl = len as u32;
                let n = ff_capacity(tx_dl, address_len, ff_dl).min(len);
                (IsoTpPdu::first(ff_dl, &self.buf[..n]), n, Sent::First)
            }
        } else {
            let n = cf_capacity(tx_dl, address_len).min(len - self.offset);
            let data = &self.buf[self.offset..self.offset + n];
            (IsoTpPdu::ConsecutiveFrame { sn: self.next_sn, data }, n, Sent::Consecutive)
        };
        let frame = self.link.frame(&pdu, self.to)?;
        if kind == Sent::Consecutive {
            // §9.6.4.3: SN counts 1, 2, ... F, 0, 1, ...
            self.next_sn = (self.next_sn + 1) & 0x0F;
        }
        self.offset += taken;
        self.last = kind;
        Some(frame)
    }

    /// The frame produced last left the node: start what follows it.
    fn confirmed(&mut self) {
        let now = self.now;
        let timers = self.link.config.timers;
        if self.offset >= self.buf.len() {
            self.state = TxState::Idle;
            self.events.push(TransferEvent::MessageSent);
            return;
        }
        if self.last == Sent::First {
            self.state = TxState::WaitingForFc { deadline: now + timers.n_bs };
            return;
        }
        if self.block_size != 0 {
            self.cfs_left_in_block = self.cfs_left_in_block.saturating_sub(1);
            if self.cfs_left_in_block == 0 {
                // §9.6.5.3: after BS CFs the sender waits for the next FC.
                self.state = TxState::WaitingForFc { deadline: now + timers.n_bs };
                return;
            }
        }
        self.state = TxState::Ready { at: now + self.cf_gap() };
    }

    /// The minimum gap before the next CF: STmin (127 ms once a reserved value was adopted,
    /// §9.6.5.4), but never less than our own N_Cs delay.
    fn cf_gap(&self) -> Duration {
        let st_min =
            if self.reserved_st_min { StMin::RESERVED_FALLBACK } else { self.st_min.duration() };
        st_min.max(self.link.config.timers.n_cs)
    }

    pub(crate) fn handle_fc(&mut self, fc: FlowControl) {
        let TxState::WaitingForFc { .. } = self.state else {
            // docs/protocol.md#ignored-frames: an FC when not waiting for one (unsolicited,
            // duplicate) is ignored.
            self.events.ignored(IgnoreReason::UnexpectedFc);
            return;
        };
        let now = self.now;
        match fc.flow_status {
            FlowStatus::ContinueToSend => {
                self.waits_in_row = 0;
                let adopt =
                    !self.latched || self.link.config.sender.fc_parameters == FcParameters::Dynamic;
                if adopt {
                    self.latched = true;
                    self.block_size = fc.block_size;
                    self.st_min = fc.st_min;
                    self.reserved_st_min |= fc.st_min.is_reserved();
                }
                self.cfs_left_in_block = self.block_size;
                // The first CF of a block follows the FC at once (STmin separates CFs only);
                // N_Cs is our own deliberate delay.
                self.state = TxState::Ready { at: now + self.link.config.timers.n_cs };
            }
            FlowStatus::Wait => {
                self.waits_in_row = self.waits_in_row.saturating_add(1);
                let limit = self.link.config.sender.max_wait_frames;
                if limit.is_some_and(|max| self.waits_in_row > max) {
                    self.fail(NResult::WftOvrn);
                } else {
                    // §9.7: each WAIT restarts N_Bs.
                    let deadline = now + self.link.config.timers.n_bs;
                    self.state = TxState::WaitingForFc { deadline };
                }
            }
            // §9.6.5.1: OVFLW -> N_USData.confirm(N_BUFFER_OVFLW). The standard allows OVFLW
            // only after the FF; after a block it is still an abort (Linux and python-can-isotp
            // agree), with the same result.
            FlowStatus::Overflow => self.fail(NResult::BufferOverflow),
            // §9.6.5.1: a reserved FS aborts at once with N_INVALID_FS.
            FlowStatus::Unknown(_) => self.fail(NResult::InvalidFs),
        }
    }

    fn fail(&mut self, result: NResult) {
        self.state = TxState::Idle;
        self.events.push(TransferEvent::SendFailed { result });
    }
}
