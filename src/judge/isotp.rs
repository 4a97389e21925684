//! The ISO-TP checks: what the passive reassembly saw an ECU (the `rx` id of a pair) do wrong
//! becomes a finding; the same from the tester's id is left to the transcript, because a test
//! tool sends bad frames on purpose.
//!
//! May import: `crate::codec` and `crate::pcap`.

use std::collections::HashSet;

use super::rules;
use super::{Finding, Found};
use crate::codec::can::CanId;
use crate::pcap::read::{IsoTpEvent, IsoTpPair, SenderViolation};

/// Which ids are ECUs'.
#[derive(Debug, Default)]
pub struct IsoTpChecks {
    ecus: HashSet<CanId>,
}

impl IsoTpChecks {
    pub fn new(pairs: &[IsoTpPair]) -> Self {
        IsoTpChecks { ecus: pairs.iter().map(|p| p.rx).collect() }
    }

    pub fn is_ecu(&self, id: CanId) -> bool {
        self.ecus.contains(&id)
    }

    pub fn check(&self, event: &IsoTpEvent<'_>, found: &mut Found) {
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
