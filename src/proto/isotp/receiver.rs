//! The receiving half of an ISO-TP connection (ISO 15765-2:2016 §9.6, §9.7, §9.8):
//! reassembles SF or FF + CFs, sends flow control (CTS with the BS/STmin it grants, WAIT
//! trains, OVFLW above its max receive size) and raises the receiver's N_Results.
//!
//! Memory: a reception allocates exactly FF_DL bytes, and only after FF_DL was checked
//! against the max receive size; a payload is moved out, never copied, when complete.
//!
//! May import `crate::codec` and `crate::proto`.

use crate::codec::can::CanFrame;
use crate::codec::isotp::{FlowControl, FlowStatus, IsoTpPdu, TargetAddressType, cf_capacity};
use crate::proto::time::Instant;

use super::config::{ConfigError, IsoTpConfig, TxConfirmation};
use super::link::{Incoming, Link};
use super::transfer_event::{EventQueue, IgnoreReason, NResult, TransferEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    Idle,
    /// Our FC `fc` goes out from `at` on.
    SendFc {
        fc: FlowControl,
        at: Instant,
    },
    /// The driver has our FC (`token`); its confirmation is due by `deadline` (N_Ar).
    FcInFlight {
        fc: FlowControl,
        deadline: Instant,
        token: u32,
    },
    /// Waiting for the next CF until `deadline` (N_Cr).
    WaitCf {
        deadline: Instant,
    },
}

/// The receiving half. Most users want [`Endpoint`](super::Endpoint), which pairs it with a
/// sender.
#[derive(Debug)]
pub struct Receiver {
    link: Link,
    now: Instant,
    state: RxState,
    /// A segmented reception is in progress (false while only an OVFLW FC is pending).
    receiving: bool,
    buf: Vec<u8>,
    ff_dl: usize,
    rx_dl: usize,
    next_sn: u8,
    cfs_left_in_block: u8,
    /// WAITs sent since the last CTS.
    waits_sent: u32,
    next_token: u32,
    events: EventQueue,
}

impl Receiver {
    pub fn new(config: IsoTpConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Receiver {
            link: Link { config },
            now: Instant::ZERO,
            state: RxState::Idle,
            receiving: false,
            buf: Vec::new(),
            ff_dl: 0,
            rx_dl: 0,
            next_sn: 1,
            cfs_left_in_block: 0,
            waits_sent: 0,
            next_token: 0,
            events: EventQueue::default(),
        })
    }

    pub fn config(&self) -> &IsoTpConfig {
        &self.link.config
    }

    /// True while a segmented message is being received.
    pub fn is_receiving(&self) -> bool {
        self.receiving
    }

    /// Bytes reserved for the reception in progress (never above the max receive size).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Handles a received frame: SF/FF/CF on our rx address (and SFs on the functional rx
    /// address). FCs belong to a sender and are ignored here. Timeouts up to `now` are
    /// processed first, so a CF at or after the N_Cr deadline finds the reception failed.
    pub fn handle_frame(&mut self, now: Instant, frame: &CanFrame) {
        self.advance(now);
        match self.link.classify(frame) {
            Incoming::Physical(IsoTpPdu::FlowControl(_)) | Incoming::NotOurs => {}
            Incoming::Physical(pdu) => self.handle_pdu(pdu, false, frame.len()),
            Incoming::Functional(pdu) => self.handle_pdu(pdu, true, frame.len()),
            Incoming::Malformed(e) => self.events.ignored(IgnoreReason::Malformed(e)),
        }
    }

    /// Processes timers that expired at or before `now` (N_Ar, N_Cr) and FCs now due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    /// The transmit confirmation of the FC polled last, under [`TxConfirmation::Explicit`].
    pub fn handle_tx_confirmation(&mut self, now: Instant) {
        self.advance(now);
        self.confirm(None);
    }

    /// The next FC to put on the bus, if one is due at the latest `now` given.
    pub fn poll_transmit(&mut self) -> Option<CanFrame> {
        self.poll_transmit_token().map(|(frame, _)| frame)
    }

    /// When the receiver next needs [`Receiver::handle_timeout`] (or has an FC due).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            RxState::Idle => None,
            RxState::SendFc { at, .. } => Some(at),
            RxState::FcInFlight { deadline, .. } | RxState::WaitCf { deadline } => Some(deadline),
        }
    }

    pub fn poll_event(&mut self) -> Option<TransferEvent> {
        self.events.pop()
    }

    pub(crate) fn pending_events(&self) -> usize {
        self.events.len()
    }

    pub(crate) fn ignore(&mut self, reason: IgnoreReason) {
        self.events.ignored(reason);
    }

    pub(crate) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
        match self.state {
            // §9.7: N_Ar expired -> N_USData.indication(N_TIMEOUT_A).
            RxState::FcInFlight { deadline, .. } if deadline <= self.now => {
                self.fail(NResult::TimeoutA)
            }
            // §9.7: no CF within N_Cr -> N_USData.indication(N_TIMEOUT_Cr).
            RxState::WaitCf { deadline } if deadline <= self.now => self.fail(NResult::TimeoutCr),
            _ => {
                self.wait_limit_reached();
            }
        }
    }

    pub(crate) fn confirm(&mut self, token: Option<u32>) {
        if let RxState::FcInFlight { fc, token: current, .. } = self.state
            && token.is_none_or(|t| t == current)
        {
            self.fc_confirmed(fc);
        }
    }

    pub(crate) fn poll_transmit_token(&mut self) -> Option<(CanFrame, u32)> {
        let RxState::SendFc { fc, at } = self.state else { return None };
        if at > self.now || self.wait_limit_reached() {
            return None;
        }
        if fc.flow_status == FlowStatus::Wait {
            self.waits_sent += 1;
        }
        let Some(frame) = self.link.frame(&IsoTpPdu::FlowControl(fc), self.link.config.address.tx)
        else {
            // Unreachable: an FC is at most 4 bytes.
            self.fail(NResult::Error);
            return None;
        };
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        match self.link.config.tx_confirmation {
            TxConfirmation::OnPoll => self.fc_confirmed(fc),
            TxConfirmation::Explicit => {
                let deadline = self.now + self.link.config.timers.n_ar;
                self.state = RxState::FcInFlight { fc, deadline, token };
            }
        }
        Some((frame, token))
    }

    fn fc_confirmed(&mut self, fc: FlowControl) {
        match fc.flow_status {
            FlowStatus::ContinueToSend => {
                let deadline = self.now + self.link.config.timers.n_cr;
                self.state = RxState::WaitCf { deadline };
            }
            FlowStatus::Wait => self.schedule_fc(),
            FlowStatus::Overflow | FlowStatus::Unknown(_) => self.state = RxState::Idle,
        }
    }

    /// Decides the next FC (a WAIT while the profile wants more, else CTS) and schedules it
    /// N_Br from now.
    fn schedule_fc(&mut self) {
        let profile = self.link.config.receiver;
        let fc = if self.waits_sent < profile.wait_frames {
            FlowControl::wait()
        } else {
            self.waits_sent = 0;
            self.cfs_left_in_block = profile.block_size;
            FlowControl::cts(profile.block_size, profile.st_min)
        };
        let at = self.now + self.link.config.timers.n_br;
        self.state = RxState::SendFc { fc, at };
    }

    /// §9.6.5.1: a receiver that would need more than N_WFTmax WAITs in a row ends the
    /// reception with N_WFT_OVRN, at the moment that WAIT would go out, instead of sending it.
    /// Returns true when it did.
    fn wait_limit_reached(&mut self) -> bool {
        let RxState::SendFc { fc, at } = self.state else { return false };
        let reached = fc.flow_status == FlowStatus::Wait
            && at <= self.now
            && self.waits_sent >= self.link.config.receiver.n_wft_max;
        if reached {
            self.fail(NResult::WftOvrn);
        }
        reached
    }

    pub(crate) fn handle_pdu(&mut self, pdu: IsoTpPdu<'_>, functional: bool, can_dl: usize) {
        if functional {
            // §10.3.1: functional addressing is for single frames only; a functional SF is
            // its own request and leaves a physical reception alone.
            match pdu {
                IsoTpPdu::SingleFrame { data, .. } => {
                    self.deliver_single(data, TargetAddressType::Functional)
                }
                other => self.ignore(IgnoreReason::FunctionalNotSingleFrame(other.frame_type())),
            }
            return;
        }
        match pdu {
            IsoTpPdu::SingleFrame { data, .. } => {
                if self.too_large_single(data.len()) {
                    return;
                }
                self.interrupt_reception();
                self.deliver_single(data, TargetAddressType::Physical);
            }
            IsoTpPdu::FirstFrame { ff_dl, data, .. } => {
                self.interrupt_reception();
                self.start_reception(ff_dl, data, can_dl);
            }
            IsoTpPdu::ConsecutiveFrame { sn, data } => self.handle_cf(sn, data, can_dl),
            IsoTpPdu::FlowControl(_) => {}
        }
    }

    fn too_large_single(&mut self, sf_dl: usize) -> bool {
        let max = self.link.config.receiver.max_receive_size;
        let too_large = sf_dl as u64 > max as u64;
        if too_large {
            self.ignore(IgnoreReason::SingleFrameTooLarge { sf_dl, max });
        }
        too_large
    }

    fn deliver_single(&mut self, data: &[u8], target: TargetAddressType) {
        if target == TargetAddressType::Functional && self.too_large_single(data.len()) {
            return;
        }
        self.events.push(TransferEvent::MessageReceived { payload: data.to_vec(), target });
    }

    /// §9.8.3 (docs/protocol.md#n_result, N_UNEXP_PDU): an SF or FF during a reception ends the old
    /// one with N_UNEXP_PDU; the new frame is then processed.
    fn interrupt_reception(&mut self) {
        if self.receiving {
            self.fail(NResult::UnexpPdu);
        }
    }

    fn start_reception(&mut self, ff_dl: u32, data: &[u8], can_dl: usize) {
        let max = self.link.config.receiver.max_receive_size;
        if ff_dl > max {
            // §9.6.5.1: FF_DL above what the receiver can take -> FC OVFLW; nothing is
            // allocated and no reception starts.
            self.receiving = false;
            self.events.push(TransferEvent::OverflowRefused { ff_dl });
            let at = self.now + self.link.config.timers.n_br;
            self.state = RxState::SendFc { fc: FlowControl::overflow(), at };
            return;
        }
        // ff_dl <= max_receive_size (u32), so this allocation is bounded by the profile.
        let ff_dl = ff_dl as usize;
        self.buf = Vec::with_capacity(ff_dl);
        self.buf.extend_from_slice(&data[..data.len().min(ff_dl)]);
        self.ff_dl = ff_dl;
        // §9.6.3: RX_DL is the CAN_DL of the FF.
        self.rx_dl = can_dl;
        self.next_sn = 1;
        self.waits_sent = 0;
        self.receiving = true;
        self.events.push(TransferEvent::FirstFrameReceived { ff_dl: ff_dl as u32 });
        self.schedule_fc();
    }

    fn handle_cf(&mut self, sn: u8, data: &[u8], can_dl: usize) {
        if !self.receiving || !matches!(self.state, RxState::WaitCf { .. }) {
            // docs/protocol.md#ignored-frames: a CF when not receiving (or before our FC went out)
            // is ignored.
            self.ignore(IgnoreReason::UnexpectedCf);
            return;
        }
        let remaining = self.ff_dl - self.buf.len();
        let is_last = remaining <= cf_capacity(self.rx_dl, self.link.address_len());
        // §9.6.4 (and Linux isotp_rcv_cf): CFs have CAN_DL = RX_DL, only the last may be
        // shorter; others are ignored.
        if can_dl > self.rx_dl || (can_dl < self.rx_dl && !is_last) {
            self.ignore(IgnoreReason::CfLengthMismatch { can_dl, rx_dl: self.rx_dl });
            return;
        }
        if sn != self.next_sn {
            // §9.6.4.3: a wrong SN aborts the reception with N_WRONG_SN.
            self.fail(NResult::WrongSn);
            return;
        }
        self.next_sn = (self.next_sn + 1) & 0x0F;
        self.buf.extend_from_slice(&data[..data.len().min(remaining)]);
        if self.buf.len() >= self.ff_dl {
            self.receiving = false;
            self.state = RxState::Idle;
            let payload = std::mem::take(&mut self.buf);
            self.events.push(TransferEvent::MessageReceived {
                payload,
                target: TargetAddressType::Physical,
            });
            return;
        }
        if self.cfs_left_in_block != 0 {
            self.cfs_left_in_block -= 1;
            if self.cfs_left_in_block == 0 {
                // §9.6.5.3: the block is complete, the next FC opens the next one.
                self.schedule_fc();
                return;
            }
        }
        self.state = RxState::WaitCf { deadline: self.now + self.link.config.timers.n_cr };
    }

    fn fail(&mut self, result: NResult) {
        let was_receiving = self.receiving;
        self.receiving = false;
        self.state = RxState::Idle;
        self.buf = Vec::new();
        // An unconfirmed OVFLW FC ends no reception, but its N_Ar expiry is still reported.
        if was_receiving || result == NResult::TimeoutA {
            self.events.push(TransferEvent::ReceiveFailed { result });
        }
    }
}
