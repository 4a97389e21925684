//! The rules every frame of an ISO-TP node must keep (ISO 15765-2:2016 §9.6).

use crate::codec::isotp::{AddressingMode, FlowStatus, IsoTpPdu, StMin};
use crate::fuzz::model::repro::{Oracle, ReplyViolation};
use crate::notation::hex_spaced;

/// What a frame from the node is, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A single frame carrying this many bytes (the first of them in `first`).
    Single { len: usize, first: [u8; 3] },
    /// A first frame announcing `ff_dl` bytes and carrying `carried` of them.
    First { ff_dl: u32, carried: usize },
    /// A consecutive frame carrying `carried` bytes.
    Consecutive { carried: usize },
    /// A flow control.
    Flow,
}

/// The rules every frame the node sends must keep (ISO 15765-2:2016 §9.6): a known N_PCI
/// type, an SF_DL and FF_DL valid for the frame's length, an FC with a defined flow status
/// and STmin. Padding is not judged here (the profile's suites do that).
pub fn check_can_reply(data: &[u8]) -> Result<Reply, ReplyViolation> {
    let violation = |kind: &'static str, why: String| ReplyViolation {
        oracle: Oracle::Protocol(kind),
        detail: format!("the node sent [{}]: {why}", hex_spaced(data)),
    };
    let pdu = match IsoTpPdu::parse(data, AddressingMode::Normal) {
        Ok((_, pdu)) => pdu,
        Err(e) => return Err(violation("invalid_n_pdu", format!("{e} (ISO 15765-2:2016 §9.6)"))),
    };
    Ok(match pdu {
        IsoTpPdu::SingleFrame { data: payload, .. } => {
            let mut first = [0u8; 3];
            for (to, from) in first.iter_mut().zip(payload) {
                *to = *from;
            }
            Reply::Single { len: payload.len(), first }
        }
        IsoTpPdu::FirstFrame { ff_dl, data: payload, .. } => {
            Reply::First { ff_dl, carried: payload.len() }
        }
        IsoTpPdu::ConsecutiveFrame { data: payload, .. } => {
            Reply::Consecutive { carried: payload.len() }
        }
        IsoTpPdu::FlowControl(fc) => {
            if fc.flow_status.description().is_none() {
                return Err(violation(
                    "reserved_flow_status",
                    format!("{} (ISO 15765-2:2016 §9.6.5.1 Table 18)", fc.flow_status),
                ));
            }
            if fc.flow_status == FlowStatus::ContinueToSend && fc.st_min.is_reserved() {
                return Err(violation(
                    "reserved_st_min",
                    format!(
                        "STmin 0x{:02X} is reserved (ISO 15765-2:2016 §9.6.5.4 Table 20)",
                        StMin::raw(fc.st_min)
                    ),
                ));
            }
            Reply::Flow
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_frames_are_checked_by_the_n_pci_rules() {
        assert_eq!(
            check_can_reply(&[0x02, 0x7E, 0x00, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]),
            Ok(Reply::Single { len: 2, first: [0x7E, 0x00, 0x00] })
        );
        assert_eq!(
            check_can_reply(&[0x10, 0x14, 0x62, 0xF1, 0x90, 0x57, 0x44, 0x4F]),
            Ok(Reply::First { ff_dl: 20, carried: 6 })
        );
        assert_eq!(check_can_reply(&[0x32, 0, 0]), Ok(Reply::Flow));
        let kind = |data: &[u8]| match check_can_reply(data) {
            Err(ReplyViolation { oracle: Oracle::Protocol(kind), .. }) => Some(kind),
            _ => None,
        };
        assert_eq!(kind(&[0x33, 0, 0]), Some("reserved_flow_status"));
        assert_eq!(kind(&[0x30, 0, 0xFA]), Some("reserved_st_min"));
        assert_eq!(kind(&[0x30, 0, 0xF1]), None, "100 us is defined");
        assert_eq!(kind(&[0x40, 0, 0]), Some("invalid_n_pdu"));
        assert_eq!(kind(&[0x10, 0x05, 0, 0, 0, 0, 0, 0]), Some("invalid_n_pdu"), "FF_DL 5");
        assert_eq!(kind(&[]), Some("invalid_n_pdu"));
        let v = check_can_reply(&[0x00, 0x02, 0x7E, 0x00]).unwrap_err();
        assert!(v.detail.contains("00 02 7e 00") && v.detail.contains("§9.6"), "{}", v.detail);
    }
}
