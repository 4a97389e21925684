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
use crate::codec::isotp::{FlowControl, FlowStatus, IsoTpPdu};
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
    /// last frame left open; an ECU's flow control must carry defined values; an ECU frame
    /// right after a frame it must ignore is a reaction to it (ISO 15765-2:2016 §9.6,
    /// §9.6.4.3, §9.8.3), unless a whole request of the tester's is still unanswered.
    pub fn frame(&mut self, frame: &CanFrame, at: At, found: &mut Found) {
        let id = frame.id();
        if let Some((_, side)) = self.testers.get_mut(&id) {
            side.ignored = None;
            return;
        }
        let Some((pair, side)) = self.testers.values_mut().find(|(p, _)| p.rx == id) else {
            return;
        };
        let awaited = side.awaiting_answer;
        let pdu = IsoTpPdu::parse(frame.data(), pair.addressing);
        if let Ok((_, IsoTpPdu::FlowControl(fc))) = &pdu {
            match undefined_flow_control(fc) {
                None => found.judged(&rules::ISOTP_DEFINED_FLOW_CONTROL),
                Some(what) => found.push(Finding {
                    rule: &rules::ISOTP_DEFINED_FLOW_CONTROL,
                    packets: vec![at.packet],
                    message: format!("ECU {id} sent a flow control with {what}"),
                }),
            }
        }
        match pdu {
            // A response pending (7F SID 78) is not the answer yet (ISO 14229-1 §8.7.1).
            Ok((_, IsoTpPdu::SingleFrame { data, .. })) if is_response_pending(data) => {}
            // The start of the ECU's answer.
            Ok((_, IsoTpPdu::SingleFrame { .. } | IsoTpPdu::FirstFrame { .. })) => {
                side.awaiting_answer = false;
            }
            Ok((_, IsoTpPdu::FlowControl(_))) => {}
            // A consecutive frame goes on with a message the ECU had begun: no reaction to
            // anything (and an invalid frame is its own finding, isotp.frame).
            _ => return,
        }
        let Some((packet, what)) = side.ignored.take() else { return };
        if awaited {
            return;
        }
        found.push(Finding {
            rule: &rules::ISOTP_IGNORED_FRAME,
            packets: vec![packet, at.packet],
            message: format!("ECU {id} reacted to {what} the tester sent, which it must ignore"),
        });
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

/// What makes a flow control's values undefined, if anything: a reserved flow status
/// (ISO 15765-2:2016 §9.6.5.1 Table 18), or with CTS a reserved STmin (§9.6.5.4 Table 20; a
/// receiver takes it as 127 ms, but a sender of it broke the table).
fn undefined_flow_control(fc: &FlowControl) -> Option<String> {
    if fc.flow_status.description().is_none() {
        return Some(format!("{}", fc.flow_status));
    }
    (fc.flow_status == FlowStatus::ContinueToSend && fc.st_min.is_reserved())
        .then(|| format!("STmin 0x{:02X} (reserved)", fc.st_min.raw()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::can::StandardId;
    use crate::codec::isotp::AddressingMode;
    use std::time::Duration;

    /// The rules `frames` (id, data) broke on the pair 0x7E0 (tester) / 0x7E8 (ECU), and how
    /// often the flow control rule had something to judge.
    fn flow_control_findings(frames: &[(u16, &[u8])]) -> (Vec<(&'static str, String)>, u64) {
        let id = |raw: u16| CanId::Standard(StandardId::new(raw).unwrap());
        let pair = IsoTpPair { tx: id(0x7E0), rx: id(0x7E8), addressing: AddressingMode::Normal };
        let mut checks = IsoTpChecks::new(&[pair]);
        let mut found = Found::default();
        for (i, (raw, data)) in frames.iter().enumerate() {
            let frame = CanFrame::new(id(*raw), data).unwrap();
            let at = At { packet: i as u64 + 1, time: Duration::from_millis(i as u64) };
            checks.frame(&frame, at, &mut found);
        }
        let judged = found.judged_counts()[rules::ISOTP_DEFINED_FLOW_CONTROL.index];
        let findings = found.findings().iter().map(|f| (f.rule.id, f.message.clone())).collect();
        (findings, judged)
    }

    #[test]
    fn an_ecu_flow_control_with_a_reserved_status_or_st_min_breaks_the_defined_values_rule() {
        let ff: &[u8] = &[0x10, 0x14, 0x2E, 0xF1, 0x90, 1, 2, 3];
        let rule = "isotp.defined_flow_control";
        // CTS with STmin 0, 127 ms and 100 us; WAIT and OVFLW whatever their STmin byte.
        for fc in [[0x30, 0, 0x00], [0x30, 8, 0x7F], [0x30, 0, 0xF1], [0x31, 0, 0xFA], [0x32, 0, 0]]
        {
            assert_eq!(flow_control_findings(&[(0x7E0, ff), (0x7E8, &fc)]), (vec![], 1), "{fc:?}");
        }
        let (found, judged) = flow_control_findings(&[(0x7E0, ff), (0x7E8, &[0x33, 0, 0])]);
        assert_eq!((found.len(), judged), (1, 1));
        assert_eq!(found[0].0, rule);
        assert!(found[0].1.contains("FS 0x3 (reserved)"), "{found:?}");
        for st_min in [0x80, 0xF0, 0xFA, 0xFF] {
            let (found, _) = flow_control_findings(&[(0x7E0, ff), (0x7E8, &[0x30, 0, st_min])]);
            let message =
                format!("ECU 7E8 sent a flow control with STmin 0x{st_min:02X} (reserved)");
            assert_eq!(found, [(rule, message)], "STmin 0x{st_min:02X}");
        }
        // The tester's flow controls are not the ECU's to keep (the fuzzer sends these on
        // purpose); nothing to judge there.
        assert_eq!(flow_control_findings(&[(0x7E0, &[0x33, 0, 0xFA])]), (vec![], 0));
    }
}
