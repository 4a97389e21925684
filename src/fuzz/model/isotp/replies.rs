//! What a frame of the node is, for the fuzzer's bookkeeping: a transfer of the node to
//! release with FC CTS, the barrier's answer, a response pending. Whether the frame breaks a
//! rule is the judge's to say (`isotp.frame`, `isotp.defined_flow_control`, ...; docs/rules.md),
//! which the fuzzer feeds every frame.

use crate::codec::isotp::{AddressingMode, IsoTpPdu};

/// What a frame from the node is.
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

impl Reply {
    /// The frame `data` of the node (normal addressing), or `None` when it is no valid N_PDU
    /// (a receiver ignores it, ISO 15765-2:2016 §9.6).
    pub fn of(data: &[u8]) -> Option<Reply> {
        let (_, pdu) = IsoTpPdu::parse(data, AddressingMode::Normal).ok()?;
        Some(match pdu {
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
            IsoTpPdu::FlowControl(_) => Reply::Flow,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_frames_are_told_apart_by_their_n_pci() {
        assert_eq!(
            Reply::of(&[0x02, 0x7E, 0x00, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]),
            Some(Reply::Single { len: 2, first: [0x7E, 0x00, 0x00] })
        );
        assert_eq!(
            Reply::of(&[0x10, 0x14, 0x62, 0xF1, 0x90, 0x57, 0x44, 0x4F]),
            Some(Reply::First { ff_dl: 20, carried: 6 })
        );
        assert_eq!(Reply::of(&[0x21, 1, 2, 3]), Some(Reply::Consecutive { carried: 3 }));
        // A reserved FS is still a flow control here: the judge says it breaks a rule.
        assert_eq!(Reply::of(&[0x33, 0, 0]), Some(Reply::Flow));
        for invalid in [&[0x40, 0, 0][..], &[0x10, 0x05, 0, 0, 0, 0, 0, 0], &[]] {
            assert_eq!(Reply::of(invalid), None, "{invalid:?}");
        }
    }
}
