//! What the ISO-TP stack reports to its user: the N_USData service primitives of
//! ISO 15765-2:2016 §8.2 (message received / sent / failed with its N_Result) and the frames
//! it ignored, with the reason.
//!
//! May import `crate::codec` and `crate::proto`.

use std::collections::VecDeque;
use std::fmt;

use crate::codec::isotp::{FrameType, PciError, TargetAddressType};

/// N_Result (ISO 15765-2:2016 §8.3.7), without N_OK (success is its own event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NResult {
    /// A frame was not confirmed within N_As (sender) / N_Ar (receiver).
    TimeoutA,
    /// Sender: no FC within N_Bs.
    TimeoutBs,
    /// Receiver: no CF within N_Cr.
    TimeoutCr,
    /// Receiver: CF with an unexpected sequence number.
    WrongSn,
    /// Sender: FC with a reserved flow status.
    InvalidFs,
    /// Receiver: SF or FF during a reception (the old one ends, the new one is processed).
    UnexpPdu,
    /// Receiver: more WAITs needed than N_WFTmax. Our sender also reports it when its
    /// optional WAIT limit is exceeded (the same condition seen from the other side).
    WftOvrn,
    /// Sender: FC OVFLW received.
    BufferOverflow,
    /// Anything else.
    Error,
}

impl fmt::Display for NResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NResult::TimeoutA => "N_TIMEOUT_A",
            NResult::TimeoutBs => "N_TIMEOUT_Bs",
            NResult::TimeoutCr => "N_TIMEOUT_Cr",
            NResult::WrongSn => "N_WRONG_SN",
            NResult::InvalidFs => "N_INVALID_FS",
            NResult::UnexpPdu => "N_UNEXP_PDU",
            NResult::WftOvrn => "N_WFT_OVRN",
            NResult::BufferOverflow => "N_BUFFER_OVFLW",
            NResult::Error => "N_ERROR",
        })
    }
}

/// Why a frame addressed to us was ignored (it changes no state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// It breaks an N_PCI rule (unknown type, bad SF_DL, FF_DL too small, ...).
    Malformed(PciError),
    /// A CF while no reception waits for one.
    UnexpectedCf,
    /// An FC while the sender waits for none (unsolicited or duplicate).
    UnexpectedFc,
    /// A CF whose CAN_DL differs from RX_DL (larger, or smaller and not the last).
    CfLengthMismatch { can_dl: usize, rx_dl: usize },
    /// Functional addressing carries single frames only (§10.3.1).
    FunctionalNotSingleFrame(FrameType),
    /// An SF longer than the receiver's max receive size.
    SingleFrameTooLarge { sf_dl: usize, max: u32 },
}

impl fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgnoreReason::Malformed(e) => write!(f, "{e}"),
            IgnoreReason::UnexpectedCf => f.write_str("CF while no reception is in progress"),
            IgnoreReason::UnexpectedFc => f.write_str("FC while not waiting for one"),
            IgnoreReason::CfLengthMismatch { can_dl, rx_dl } => {
                write!(f, "CF with CAN_DL {can_dl} while RX_DL is {rx_dl}")
            }
            IgnoreReason::FunctionalNotSingleFrame(t) => {
                write!(f, "{t} on a functional address (single frames only)")
            }
            IgnoreReason::SingleFrameTooLarge { sf_dl, max } => {
                write!(f, "SF_DL {sf_dl} above the max receive size {max}")
            }
        }
    }
}

/// One report of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferEvent {
    /// N_USDataFF.indication: an FF started a reception of `ff_dl` bytes.
    FirstFrameReceived { ff_dl: u32 },
    /// N_USData.indication with N_OK: a whole message.
    MessageReceived { payload: Vec<u8>, target: TargetAddressType },
    /// N_USData.indication with an error: the reception in progress ended.
    ReceiveFailed { result: NResult },
    /// An FF above the max receive size was answered with FC OVFLW (nothing allocated).
    OverflowRefused { ff_dl: u32 },
    /// N_USData.confirm with N_OK: the whole message was transmitted.
    MessageSent,
    /// N_USData.confirm with an error: the transmission ended.
    SendFailed { result: NResult },
    /// A frame addressed to us changed nothing.
    FrameIgnored { reason: IgnoreReason },
}

/// A FIFO of events with a bound on [`TransferEvent::FrameIgnored`] entries, so a flood of junk
/// frames cannot grow memory when the driver does not drain it. The other events are bounded
/// by the protocol itself (a handful per message).
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    events: VecDeque<TransferEvent>,
    ignored_queued: usize,
}

/// At most this many [`TransferEvent::FrameIgnored`] wait in a queue; more are dropped.
pub const MAX_QUEUED_IGNORED: usize = 64;

impl EventQueue {
    pub(crate) fn push(&mut self, event: TransferEvent) {
        if matches!(event, TransferEvent::FrameIgnored { .. }) {
            if self.ignored_queued >= MAX_QUEUED_IGNORED {
                return;
            }
            self.ignored_queued += 1;
        }
        self.events.push_back(event);
    }

    pub(crate) fn ignored(&mut self, reason: IgnoreReason) {
        self.push(TransferEvent::FrameIgnored { reason });
    }

    pub(crate) fn pop(&mut self) -> Option<TransferEvent> {
        let event = self.events.pop_front()?;
        if matches!(event, TransferEvent::FrameIgnored { .. }) {
            self.ignored_queued -= 1;
        }
        Some(event)
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }
}
