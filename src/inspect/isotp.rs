//! The ISO-TP checks: what the passive reassembly saw an ECU (the `rx` id of a pair) do wrong
//! becomes a finding; the same from the tester's id is left to the transcript, because a test
//! tool sends bad frames on purpose.
//!
//! May import: `crate::codec` and `crate::pcap`.

use std::collections::HashSet;

use super::Finding;
use crate::codec::can::CanId;
use crate::pcap::read::{IsoTpEvent, IsoTpPair, SenderViolation};

const FRAME_CLAUSE: &str = "ISO 15765-2:2016 §9.6";
const SN_CLAUSE: &str = "ISO 15765-2:2016 §9.6.4.3";
const UNEXPECTED_CLAUSE: &str = "ISO 15765-2:2016 §9.8.3";
const FC_CLAUSE: &str = "ISO 15765-2:2016 §9.6.5";

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

    pub fn check(&self, event: &IsoTpEvent<'_>, found: &mut Vec<Finding>) {
        match event {
            IsoTpEvent::InvalidFrame { can_id, at, error } if self.is_ecu(*can_id) => {
                found.push(Finding {
                    check: "isotp.frame",
                    packets: vec![at.packet],
                    message: format!("ECU {can_id} sent a frame a receiver must ignore: {error}"),
                    clause: FRAME_CLAUSE,
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
                let (check, clause, message) = match violation {
                    SenderViolation::WrongSn { expected, found } => (
                        "isotp.sequence",
                        SN_CLAUSE,
                        format!("ECU {can_id} sent CF SN {found:X} where {expected:X} was due"),
                    ),
                    SenderViolation::UnexpectedPdu { .. } => (
                        "isotp.sequence",
                        UNEXPECTED_CLAUSE,
                        format!("ECU {can_id} started a new message before finishing the last"),
                    ),
                    SenderViolation::Unfinished { .. } => return,
                    SenderViolation::UnexpectedCf => (
                        "isotp.sequence",
                        UNEXPECTED_CLAUSE,
                        format!("ECU {can_id} sent a CF without a first frame"),
                    ),
                    SenderViolation::CfBeforeFc { block_size: 0 } => (
                        "isotp.flow_control",
                        FC_CLAUSE,
                        format!("ECU {can_id} sent a CF before the tester's flow control"),
                    ),
                    SenderViolation::CfBeforeFc { block_size } => (
                        "isotp.flow_control",
                        FC_CLAUSE,
                        format!(
                            "ECU {can_id} sent more than BS {block_size} CFs without waiting for \
                             the next flow control"
                        ),
                    ),
                    SenderViolation::StMinNotKept { gap, st_min } => (
                        "isotp.flow_control",
                        FC_CLAUSE,
                        format!(
                            "ECU {can_id} sent CFs {} us apart, STmin is {} us",
                            gap.as_micros(),
                            st_min.as_micros()
                        ),
                    ),
                };
                found.push(Finding { check, packets, message, clause });
            }
            _ => {}
        }
    }
}
