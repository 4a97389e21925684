//! The first pass over a capture's CAN frames: which byte order the file stores CAN ids in, and
//! which ids talk ISO-TP to each other (request/response pairs, with their addressing). Both
//! must be known before the first frame is decoded, so the reader runs this pass first; it
//! keeps a few counters per CAN id and nothing else.
//!
//! - **Byte order**: each record votes for the order(s) in which its `can_id` word is
//!   plausible ([`crate::pcap::socketcan`]); most votes win, network order on a tie.
//! - **Pairs**: an ISO-TP sender's first frame (FF) answered by a flow control (FC) on another
//!   id within 1 s pairs them; a single-frame UDS request answered on another id by its positive
//!   (SID + 0x40) or negative (`7F SID`) response within 5 s pairs them; 29-bit fixed ids
//!   (`18DA TA SA` and `18DA SA TA`, and the mixed `18CE`) pair by their swapped addresses.
//! - **Addressing**: an id whose frames all start with the same byte and only parse as N_PDUs
//!   after it uses extended or mixed addressing (ISO 15765-2:2016 §10.3); otherwise normal.
//!
//! May import: `crate::codec` and `crate::pcap`.

use std::collections::HashMap;
use std::time::Duration;

use crate::codec::can::CanId;
use crate::codec::isotp::{AddressingMode, IsoTpPdu, parse_fixed_id};
use crate::codec::uds::POSITIVE_RESPONSE_OFFSET;
use crate::pcap::socketcan::{self, CanByteOrder, plausible_id_word};

/// How long after an FF its FC may come to pair the two ids (the default N_Bs).
const FC_PAIRING_WINDOW: Duration = Duration::from_secs(1);
/// How long after a request its answer may come to pair the two ids (the default P2*).
const ANSWER_PAIRING_WINDOW: Duration = Duration::from_secs(5);
/// Distinct CAN ids tracked: a bus has far fewer; a hostile file gets no more memory.
const MAX_IDS: usize = 4096;

/// A request/response pair of ISO-TP ids: `tx` carries the tester's requests, `rx` the
/// answers. Addressing applies to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IsoTpPair {
    pub tx: CanId,
    pub rx: CanId,
    pub addressing: AddressingMode,
}

#[derive(Debug, Default, Clone, Copy)]
struct IdStats {
    frames: u32,
    normal_ok: u32,
    with_address_ok: u32,
    first_byte: Option<u8>,
    first_byte_constant: bool,
}

/// What the first pass learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyResult {
    /// `None` when the file has no CAN frame.
    pub can_byte_order: Option<CanByteOrder>,
    pub pairs: Vec<IsoTpPair>,
}

/// The first pass in progress.
#[derive(Debug, Default)]
pub struct Survey {
    network_votes: u64,
    host_votes: u64,
    frames: u64,
    forced_order: Option<CanByteOrder>,
    ids: HashMap<CanId, IdStats>,
    /// Last FF: its id, time and first payload byte (a UDS SID says who sent it).
    last_ff: Option<(CanId, Duration, Option<u8>)>,
    /// Last single-frame request: id, SID, time.
    last_request: Option<(CanId, u8, Duration)>,
    pairs: Vec<(CanId, CanId)>,
}

impl Survey {
    /// A survey; `forced_order` skips the vote (`--can-byte-order`).
    pub fn new(forced_order: Option<CanByteOrder>) -> Self {
        Survey { forced_order, ..Survey::default() }
    }

    /// One SocketCAN record captured at `time`.
    pub fn record(&mut self, record: &[u8], time: Duration) {
        self.frames += 1;
        let order = match self.forced_order {
            Some(order) => order,
            None => {
                let net = CanByteOrder::Network.id_word(record).is_some_and(plausible_id_word);
                let host = CanByteOrder::Host.id_word(record).is_some_and(plausible_id_word);
                self.network_votes += u64::from(net && !host);
                self.host_votes += u64::from(host && !net);
                // Until the vote is in, each frame is read in the order it itself favours.
                if host && !net { CanByteOrder::Host } else { CanByteOrder::Network }
            }
        };
        let Ok(frame) = socketcan::decode(record, order) else { return };
        let id = frame.id();
        let data = frame.data();
        if !self.ids.contains_key(&id) && self.ids.len() >= MAX_IDS {
            return;
        }
        let stats = self.ids.entry(id).or_default();
        stats.frames += 1;
        let first = data.first().copied();
        match (stats.first_byte, first) {
            (None, _) if stats.frames == 1 => {
                stats.first_byte = first;
                stats.first_byte_constant = first.is_some();
            }
            (Some(a), Some(b)) if a == b => {}
            _ => stats.first_byte_constant = false,
        }
        let normal = IsoTpPdu::parse(data, AddressingMode::Normal).ok().map(|(_, p)| p);
        let with_address = IsoTpPdu::parse(data, AddressingMode::Extended).ok().map(|(_, p)| p);
        stats.normal_ok += u32::from(normal.is_some());
        stats.with_address_ok += u32::from(with_address.is_some());
        self.pair_by_exchange(id, normal.or(with_address), time);
    }

    fn pair_by_exchange(&mut self, id: CanId, pdu: Option<IsoTpPdu<'_>>, time: Duration) {
        let Some(pdu) = pdu else { return };
        match pdu {
            IsoTpPdu::FirstFrame { data: first, .. } => {
                self.answer(id, first.first().copied(), first.get(1).copied(), time);
                self.last_ff = Some((id, time, first.first().copied()));
            }
            IsoTpPdu::FlowControl(_) => {
                if let Some((ff_id, at, sid)) = self.last_ff.take()
                    && ff_id != id
                    && time.saturating_sub(at) <= FC_PAIRING_WINDOW
                {
                    // A long answer (its SID a response) comes from the ECU, the FC from the
                    // tester; a long request the other way round.
                    if sid.is_some_and(is_response_sid) {
                        self.add_pair(id, ff_id);
                    } else {
                        self.add_pair(ff_id, id);
                    }
                }
            }
            IsoTpPdu::SingleFrame { data: payload, .. } => {
                let sid = payload.first().copied();
                if !self.answer(id, sid, payload.get(1).copied(), time)
                    && let Some(sid) = sid.filter(|s| is_request_sid(*s))
                {
                    self.last_request = Some((id, sid, time));
                }
            }
            IsoTpPdu::ConsecutiveFrame { .. } => {}
        }
    }

    /// Whether the message starting with `first, second` on `id` answers the last request;
    /// pairs them when it does.
    fn answer(&mut self, id: CanId, first: Option<u8>, second: Option<u8>, time: Duration) -> bool {
        let Some((req_id, sid, at)) = self.last_request else { return false };
        if req_id == id || time.saturating_sub(at) > ANSWER_PAIRING_WINDOW {
            return false;
        }
        let answers = first == Some(sid.wrapping_add(POSITIVE_RESPONSE_OFFSET))
            || (first == Some(0x7F) && second == Some(sid));
        if answers {
            self.add_pair(req_id, id);
            self.last_request = None;
        }
        answers
    }

    fn add_pair(&mut self, tx: CanId, rx: CanId) {
        let known = self.pairs.iter().any(|&(a, b)| (a, b) == (tx, rx) || (a, b) == (rx, tx));
        if !known {
            self.pairs.push((tx, rx));
        }
    }

    /// The result, once every record was seen.
    pub fn finish(mut self) -> SurveyResult {
        let can_byte_order = (self.frames > 0).then(|| {
            self.forced_order.unwrap_or(if self.host_votes > self.network_votes {
                CanByteOrder::Host
            } else {
                CanByteOrder::Network
            })
        });
        // Fixed 29-bit ids name both ends: pair each with its swapped twin when both occur.
        let mut fixed: Vec<CanId> =
            self.ids.keys().copied().filter(|id| parse_fixed_id(*id).is_some()).collect();
        fixed.sort_unstable();
        for id in &fixed {
            let Some(parts) = parse_fixed_id(*id) else { continue };
            let twin = fixed.iter().copied().find(|other| {
                parse_fixed_id(*other).is_some_and(|o| {
                    o.mode == parts.mode && o.target == parts.source && o.source == parts.target
                })
            });
            // Each pair once: from the id whose source address is a tester's (0xF1-0xFD, the
            // off-board test equipment range of ISO 15765-4 / SAE J1939), else from the
            // smaller id. An exchange seen above already fixed the direction (add_pair keeps it).
            if let Some(twin) = twin
                && let Some(twin_parts) = parse_fixed_id(twin)
            {
                let tester = |source: u8| (0xF1..=0xFD).contains(&source);
                let from_id = match (tester(parts.source), tester(twin_parts.source)) {
                    (true, false) => true,
                    (false, true) => false,
                    _ => *id < twin,
                };
                if from_id {
                    self.add_pair(*id, twin);
                }
            }
        }
        let pairs = self
            .pairs
            .iter()
            .map(|&(tx, rx)| IsoTpPair { tx, rx, addressing: self.addressing(tx, rx) })
            .collect();
        SurveyResult { can_byte_order, pairs }
    }

    fn addressing(&self, tx: CanId, rx: CanId) -> AddressingMode {
        if let Some(parts) = parse_fixed_id(tx) {
            return parts.mode;
        }
        let with_address = |id: CanId| {
            self.ids.get(&id).is_some_and(|s| {
                s.first_byte_constant && s.with_address_ok == s.frames && s.normal_ok < s.frames
            })
        };
        if with_address(tx) || with_address(rx) {
            AddressingMode::Extended
        } else {
            AddressingMode::Normal
        }
    }
}

/// UDS response SIDs: request + 0x40, and the negative response 0x7F.
fn is_response_sid(sid: u8) -> bool {
    matches!(sid, 0x50..=0x7F | 0xC0..=0xFE)
}

/// UDS request SIDs (ISO 14229-1: 0x10-0x3E and 0x80-0xBE are requests; their responses add
/// 0x40).
fn is_request_sid(sid: u8) -> bool {
    matches!(sid, 0x10..=0x3E | 0x80..=0xBE)
}

#[cfg(test)]
mod tests;
