//! The ISO-TP checks: what the passive reassembly saw an ECU (the `rx` id of a pair) do wrong
//! becomes a finding; the same from the tester's id is left to the transcript, because a test
//! tool sends bad frames on purpose. What the tester sent matters in one way: a frame the
//! ECU must ignore must get no reaction from it (`isotp.ignored_frame`).
//!
//! May import: `crate::codec`, `crate::pcap` and `crate::proto`.

use std::collections::{HashMap, HashSet};

use super::rules;
use super::{Finding, Found};
use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::IsoTpPdu;
use crate::pcap::read::{At, IsoTpEvent, IsoTpPair, SenderViolation};
use crate::proto::uds_wait::is_response_pending;

/// Which ids are ECUs', and per pair what the tester sent that the ECU must ignore.
#[derive(Debug, Default)]
pub struct IsoTpChecks {
    ecus: HashSet<CanId>,
    /// Per tester id: its pair and what is open on it.
    testers: HashMap<CanId, (IsoTpPair, TesterSide)>,
}

/// What the tester's frames left open on a pair.
#[derive(Debug, Default, Clone, Copy)]
struct TesterSide {
    /// The tester's last frame was one the ECU must ignore (its packet and what it was).
    ignored: Option<(u64, &'static str)>,
    /// A whole message of the tester's that the ECU has not begun to answer: an ECU frame
    /// after an ignored one may be that answer, so it is not judged.
    awaiting_answer: bool,
}

impl IsoTpChecks {
    pub fn new(pairs: &[IsoTpPair]) -> Self {
        IsoTpChecks {
            ecus: pairs.iter().map(|p| p.rx).collect(),
            testers: pairs.iter().map(|p| (p.tx, (*p, TesterSide::default()))).collect(),
        }
    }

    pub fn is_ecu(&self, id: CanId) -> bool {
        self.ecus.contains(&id)
    }

    /// A CAN frame, before the reassembly's events about it: a tester frame ends what its
    /// last frame left open; an ECU frame right after a frame it must ignore is a reaction to
    /// it (ISO 15765-2:2016 §9.6, §9.6.4.3, §9.8.3), unless a whole request of the tester's
    /// is still unanswered.
    pub fn frame(&mut self, frame: &CanFrame, at: At) -> Option<Finding> {
        let id = frame.id();
        if let Some((_, side)) = self.testers.get_mut(&id) {
            side.ignored = None;
            return None;
        }
        let (pair, side) = self.testers.values_mut().find(|(p, _)| p.rx == id)?;
        let awaited = side.awaiting_answer;
        match IsoTpPdu::parse(frame.data(), pair.addressing) {
            // A response pending (7F SID 78) is not the answer yet (ISO 14229-1 §8.7.1).
            Ok((_, IsoTpPdu::SingleFrame { data, .. })) if is_response_pending(data) => {}
            // The start of the ECU's answer.
            Ok((_, IsoTpPdu::SingleFrame { .. } | IsoTpPdu::FirstFrame { .. })) => {
                side.awaiting_answer = false;
            }
            Ok((_, IsoTpPdu::FlowControl(_))) => {}
            // A consecutive frame goes on with a message the ECU had begun: no reaction to
            // anything (and an invalid frame is its own finding, isotp.frame).
            _ => return None,
        }
        let ignored = side.ignored.take();
        let (packet, what) = ignored?;
        if awaited {
            return None;
        }
        Some(Finding {
            rule: &rules::ISOTP_IGNORED_FRAME,
            packets: vec![packet, at.packet],
            message: format!("ECU {id} reacted to {what} the tester sent, which it must ignore"),
        })
    }

    /// Notes what the tester's frames mean to the ECU: a whole message it should answer, or a
    /// frame it must ignore. Counts the rule as judged when such a frame is seen.
    fn tester_event(&mut self, event: &IsoTpEvent<'_>, found: &mut Found) {
        let (can_id, at, what) = match event {
            IsoTpEvent::Message { can_id, .. } => {
                if let Some((_, side)) = self.testers.get_mut(can_id) {
                    side.awaiting_answer = true;
                }
                return;
            }
            IsoTpEvent::InvalidFrame { can_id, at, .. } => (can_id, at, "an invalid frame"),
            IsoTpEvent::SenderViolation {
                can_id,
                at,
                violation: SenderViolation::WrongSn { .. },
                ..
            } => (can_id, at, "a consecutive frame with the wrong SN"),
            IsoTpEvent::SenderViolation {
                can_id,
                at,
                violation: SenderViolation::UnexpectedCf,
                ..
            } => (can_id, at, "a consecutive frame without a first frame"),
            _ => return,
        };
        if let Some((_, side)) = self.testers.get_mut(can_id) {
            found.judged(&rules::ISOTP_IGNORED_FRAME);
            side.ignored = Some((at.packet, what));
        }
    }

    pub fn check(&mut self, event: &IsoTpEvent<'_>, found: &mut Found) {
        self.tester_event(event, found);
        // A whole message of the ECU's shows its frames, their order and, when segmented,
        // that it kept the tester's flow control.
        if let IsoTpEvent::Message { can_id, first, last, .. } = event
            && self.is_ecu(*can_id)
        {
            found.judged(&rules::ISOTP_FRAME);
            found.judged(&rules::ISOTP_MESSAGE_ORDER);
            if first.packet != last.packet {
                found.judged(&rules::ISOTP_SEQUENCE);
                found.judged(&rules::ISOTP_FLOW_CONTROL);
            }
        }
        match event {
            IsoTpEvent::InvalidFrame { can_id, at, error } if self.is_ecu(*can_id) => {
                found.push(Finding {
                    rule: &rules::ISOTP_FRAME,
                    packets: vec![at.packet],
                    message: format!("ECU {can_id} sent a frame a receiver must ignore: {error}"),
                });
            }
            // A sender that gave up waiting for an FC (N_Bs), or a file that ends mid-message,
            // shows nothing wrong: those stay in the transcript.
            IsoTpEvent::SenderViolation {
                violation:
                    SenderViolation::UnexpectedPdu { waiting_for_fc: true }
                    | SenderViolation::Unfinished { .. },
                ..
            } => {}
            IsoTpEvent::SenderViolation { can_id, at, first, violation }
                if self.is_ecu(*can_id) =>
            {
                let packets = if first.packet == at.packet {
                    vec![at.packet]
                } else {
                    vec![first.packet, at.packet]
                };
                let (rule, message) = match violation {
                    SenderViolation::WrongSn { expected, found } => (
                        &rules::ISOTP_SEQUENCE,
                        format!("ECU {can_id} sent CF SN {found:X} where {expected:X} was due"),
                    ),
                    SenderViolation::UnexpectedPdu { .. } => (
                        &rules::ISOTP_MESSAGE_ORDER,
                        format!("ECU {can_id} started a new message before finishing the last"),
                    ),
                    SenderViolation::Unfinished { .. } => return,
                    SenderViolation::UnexpectedCf => (
                        &rules::ISOTP_MESSAGE_ORDER,
                        format!("ECU {can_id} sent a CF without a first frame"),
                    ),
                    SenderViolation::CfBeforeFc { block_size: 0 } => (
                        &rules::ISOTP_FLOW_CONTROL,
                        format!("ECU {can_id} sent a CF before the tester's flow control"),
                    ),
                    SenderViolation::CfBeforeFc { block_size } => (
                        &rules::ISOTP_FLOW_CONTROL,
                        format!(
                            "ECU {can_id} sent more than BS {block_size} CFs without waiting for \
                             the next flow control"
                        ),
                    ),
                    SenderViolation::StMinNotKept { gap, st_min } => (
                        &rules::ISOTP_FLOW_CONTROL,
                        format!(
                            "ECU {can_id} sent CFs {} us apart, STmin is {} us",
                            gap.as_micros(),
                            st_min.as_micros()
                        ),
                    ),
                };
                found.push(Finding { rule, packets, message });
            }
            _ => {}
        }
    }
}
