//! Passive ISO-TP reassembly: the CAN frames of known request/response id pairs become the
//! messages each side sent, and what the frames show about the senders' conduct is reported.
//!
//! Each frame is parsed by the codec ([`IsoTpPdu::parse`]), so a frame is judged by the same
//! rules as everywhere else. Per sending id the reader follows one reception, as a receiver
//! would (ISO 15765-2:2016 §9.8), and the flow control the other id sends back:
//!
//! - SF: a whole message. SF or FF while a reception is open: the open one ends unfinished
//!   (N_UNEXP_PDU).
//! - FF: a reception starts; CFs must carry SN 1, 2, ... 15, 0, 1 ... (§9.6.4.3, N_WRONG_SN).
//! - FC on the paired id: CTS sets BS and STmin for the next block; WAIT keeps the sender
//!   waiting; OVFLW ends the reception.
//! - The sender must not send a CF before the FC that allows it (after the FF, and after each
//!   block of BS CFs), and must keep STmin between CFs (§9.6.5.3, §9.6.5.4).
//!
//! A message is held up to [`MAX_MESSAGE_HELD`] bytes; a longer FF_DL is followed by counting.
//!
//! May import: `crate::codec`, `crate::pcap` and `crate::proto` (the one timing window).

use std::collections::HashMap;
use std::time::Duration;

use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::{FlowStatus, IsoTpPdu, PciError};

use super::survey::IsoTpPair;
use crate::proto::window::Window;

/// The longest ISO-TP message held for display and UDS decoding (FF_DL can claim 4 GiB).
pub const MAX_MESSAGE_HELD: usize = 1 << 20;

/// Where a frame was, for events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameAt {
    pub packet: u64,
    pub time: Duration,
}

/// What the reassembly found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsoTpEvent<'a> {
    /// A whole message from `can_id`: `length` bytes (SF_DL or FF_DL), `data` the bytes held.
    Message { can_id: CanId, first: FrameAt, last: FrameAt, length: u32, data: &'a [u8] },
    /// A frame on a paired id broke a rule of the frame format (a receiver ignores it).
    InvalidFrame { can_id: CanId, at: FrameAt, error: PciError },
    /// Something the frames show a sender did wrong (§ cited in the text of each variant).
    SenderViolation { can_id: CanId, at: FrameAt, first: FrameAt, violation: SenderViolation },
}

/// A sender's misconduct visible in a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderViolation {
    /// A CF with another SN than the next (ISO 15765-2:2016 §9.6.4.3): N_WRONG_SN.
    WrongSn { expected: u8, found: u8 },
    /// An SF or FF while a multi-frame message was still being sent (§9.8.3): N_UNEXP_PDU.
    /// `waiting_for_fc`: the sender was waiting for a flow control, and may have given up on
    /// it (N_Bs); otherwise it cut its own message.
    UnexpectedPdu { waiting_for_fc: bool },
    /// A CF before the FC that allows it (after the FF or a whole block of BS CFs, §9.6.5.3).
    CfBeforeFc { block_size: u8 },
    /// Two CFs closer than the STmin the receiver asked for (§9.6.5.4).
    StMinNotKept { gap: Duration, st_min: Duration },
    /// A CF with no reception open (a receiver ignores it, §9.8.3).
    UnexpectedCf,
    /// The file ended before all FF_DL bytes came.
    Unfinished { received: u32, length: u32 },
}

struct Reception {
    first: FrameAt,
    length: u32,
    received: u32,
    data: Vec<u8>,
    next_sn: u8,
    /// CFs allowed before the next FC: `None` until an FC CTS arrived, `Some(0)` = no limit.
    block_size: Option<u8>,
    cfs_in_block: u32,
    st_min: Duration,
    last_cf: Option<Duration>,
}

impl Reception {
    /// Whether the sender waits for a flow control: after its FF, or after a whole block.
    fn waiting_for_fc(&self) -> bool {
        match self.block_size {
            None => true,
            Some(bs) => bs > 0 && self.cfs_in_block >= u32::from(bs),
        }
    }
}

struct ObservedSender {
    pair: IsoTpPair,
    reception: Option<Reception>,
}

/// Passive reassembly of every configured pair.
pub struct IsoTpReader {
    /// Sending id -> its state and the id that sends its flow control.
    senders: HashMap<CanId, (ObservedSender, CanId)>,
    /// Tolerance on STmin: capture timestamps are taken after the bus, with jitter.
    st_min_tolerance: Duration,
    messages: u64,
}

impl IsoTpReader {
    pub fn new(pairs: &[IsoTpPair], st_min_tolerance: Duration) -> Self {
        let mut senders = HashMap::new();
        for pair in pairs {
            senders.insert(pair.tx, (ObservedSender { pair: *pair, reception: None }, pair.rx));
            senders.insert(pair.rx, (ObservedSender { pair: *pair, reception: None }, pair.tx));
        }
        IsoTpReader { senders, st_min_tolerance, messages: 0 }
    }

    /// Whether `id` belongs to a pair (its frames are reassembled).
    pub fn is_paired(&self, id: CanId) -> bool {
        self.senders.contains_key(&id)
    }

    /// Messages reassembled so far.
    pub const fn messages(&self) -> u64 {
        self.messages
    }

    /// One CAN frame.
    pub fn frame(&mut self, frame: &CanFrame, at: FrameAt, sink: &mut impl FnMut(IsoTpEvent<'_>)) {
        let id = frame.id();
        let Some((sender, _)) = self.senders.get(&id) else { return };
        let mode = sender.pair.addressing;
        let pdu = match IsoTpPdu::parse(frame.data(), mode) {
            Ok((_, pdu)) => pdu,
            Err(error) => {
                sink(IsoTpEvent::InvalidFrame { can_id: id, at, error });
                return;
            }
        };
        match pdu {
            IsoTpPdu::FlowControl(fc) => {
                // An FC from `id` steers the sender on the other id of the pair.
                let Some((_, peer)) = self.senders.get(&id) else { return };
                let peer = *peer;
                let Some((sender, _)) = self.senders.get_mut(&peer) else { return };
                let Some(rx) = sender.reception.as_mut() else { return };
                if !rx.waiting_for_fc() {
                    // A sender that waits for no FC ignores one (ISO 15765-2:2016 §9.8.3,
                    // unexpected N_PDU): it steers nothing.
                    return;
                }
                match fc.flow_status {
                    FlowStatus::ContinueToSend => {
                        rx.block_size = Some(fc.block_size);
                        rx.cfs_in_block = 0;
                        rx.st_min = fc.st_min.duration();
                    }
                    // OVFLW and a reserved FS end the transmission (§9.6.5.1: N_BUFFER_OVFLW,
                    // N_INVALID_FS); WAIT keeps the sender waiting.
                    FlowStatus::Wait => {}
                    _ => sender.reception = None,
                }
            }
            IsoTpPdu::SingleFrame { data, .. } => {
                self.end_unfinished(id, at, sink);
                self.messages += 1;
                let length = data.len() as u32;
                sink(IsoTpEvent::Message { can_id: id, first: at, last: at, length, data });
            }
            IsoTpPdu::FirstFrame { ff_dl, data, .. } => {
                self.end_unfinished(id, at, sink);
                let Some((sender, _)) = self.senders.get_mut(&id) else { return };
                let held = data.len().min(ff_dl as usize).min(MAX_MESSAGE_HELD);
                sender.reception = Some(Reception {
                    first: at,
                    length: ff_dl,
                    received: held as u32,
                    data: data[..held].to_vec(),
                    next_sn: 1,
                    block_size: None,
                    cfs_in_block: 0,
                    st_min: Duration::ZERO,
                    last_cf: None,
                });
            }
            IsoTpPdu::ConsecutiveFrame { sn, data } => self.consecutive(id, sn, data, at, sink),
        }
    }

    fn consecutive(
        &mut self,
        id: CanId,
        sn: u8,
        data: &[u8],
        at: FrameAt,
        sink: &mut impl FnMut(IsoTpEvent<'_>),
    ) {
        let tolerance = self.st_min_tolerance;
        let Some((sender, _)) = self.senders.get_mut(&id) else { return };
        let Some(rx) = sender.reception.as_mut() else {
            sink(IsoTpEvent::SenderViolation {
                can_id: id,
                at,
                first: at,
                violation: SenderViolation::UnexpectedCf,
            });
            return;
        };
        let first = rx.first;
        let mut report =
            |violation| sink(IsoTpEvent::SenderViolation { can_id: id, at, first, violation });
        match rx.block_size {
            None => report(SenderViolation::CfBeforeFc { block_size: 0 }),
            Some(bs) if bs > 0 && rx.cfs_in_block >= u32::from(bs) => {
                report(SenderViolation::CfBeforeFc { block_size: bs })
            }
            _ => {}
        }
        if let Some(last) = rx.last_cf {
            let gap = at.time.saturating_sub(last);
            // STmin applies between CFs of a block; the first CF after an FC is not measured
            // against the block before it (the FC restarts the pacing).
            // STmin is the least gap between consecutive frames (ISO 15765-2:2016 §9.6.5.4).
            if rx.cfs_in_block > 0
                && Window::new(Duration::MAX, Some(rx.st_min), tolerance).is_early(gap)
            {
                report(SenderViolation::StMinNotKept { gap, st_min: rx.st_min });
            }
        }
        if sn != rx.next_sn {
            // The receiver aborts with N_WRONG_SN: the message is lost.
            report(SenderViolation::WrongSn { expected: rx.next_sn, found: sn });
            sender.reception = None;
            return;
        }
        rx.next_sn = (rx.next_sn + 1) & 0x0F;
        rx.cfs_in_block += 1;
        rx.last_cf = Some(at.time);
        let want = rx.length.saturating_sub(rx.received) as usize;
        let take = data.len().min(want);
        let room = MAX_MESSAGE_HELD.saturating_sub(rx.data.len());
        rx.data.extend_from_slice(&data[..take.min(room)]);
        rx.received += take as u32;
        if rx.received >= rx.length {
            let done = sender.reception.take();
            if let Some(done) = done {
                self.messages += 1;
                sink(IsoTpEvent::Message {
                    can_id: id,
                    first: done.first,
                    last: at,
                    length: done.length,
                    data: &done.data,
                });
            }
        }
    }

    /// A new SF or FF on `id` while a reception was open: the old message is lost.
    fn end_unfinished(&mut self, id: CanId, at: FrameAt, sink: &mut impl FnMut(IsoTpEvent<'_>)) {
        let Some((sender, _)) = self.senders.get_mut(&id) else { return };
        if let Some(rx) = sender.reception.take() {
            let first = rx.first;
            let waiting_for_fc = rx.waiting_for_fc();
            let violation = SenderViolation::UnexpectedPdu { waiting_for_fc };
            sink(IsoTpEvent::SenderViolation { can_id: id, at, first, violation });
        }
    }

    /// The file ended: receptions still open are reported unfinished.
    pub fn finish(&mut self, at: FrameAt, sink: &mut impl FnMut(IsoTpEvent<'_>)) {
        let mut open: Vec<(CanId, Reception)> = self
            .senders
            .iter_mut()
            .filter_map(|(id, (s, _))| s.reception.take().map(|r| (*id, r)))
            .collect();
        open.sort_by_key(|(id, _)| *id);
        for (id, rx) in open {
            let violation =
                SenderViolation::Unfinished { received: rx.received, length: rx.length };
            sink(IsoTpEvent::SenderViolation { can_id: id, at, first: rx.first, violation });
        }
    }
}

#[cfg(test)]
mod tests;
