//! The ECU's ISO-TP timers and WAIT count, from the frames of each id pair (with declared
//! values from `--profile`, [`IsoTpTimerValues`]):
//!
//! | check | rule |
//! |---|---|
//! | `timing.isotp_n_bs` | the ECU as sender: a flow control later than N_Bs after its FF or block ends the transmission (N_TIMEOUT_Bs): no CF may follow (ISO 15765-2:2016 §9.7, Table 16) |
//! | `timing.isotp_n_cr` | the ECU as receiver: a CF later than N_Cr after its FC or the previous CF ends the reception (N_TIMEOUT_Cr): the request is not answered (§9.7, Table 16) |
//! | `timing.isotp_wait_count` | the ECU as receiver sends at most N_WFTmax FC WAIT in a row (§9.6.5.1, Table 16) |
//!
//! Each timer gets `timing.tolerance` on top. Only what the frames show is judged: an ECU that
//! gave up is silent, which a recording cannot tell from one still waiting.
//!
//! May import: `crate::codec` and `crate::pcap`.

use std::time::Duration;

use super::rules;
use super::{Finding, Found};
use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::{FlowStatus, FrameType, PciView};
use crate::pcap::read::{At, IsoTpPair};
use crate::proto::window::Window;

/// The declared values these checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoTpTimerValues {
    pub n_bs: Duration,
    pub n_cr: Duration,
    pub wft_max: u8,
    /// The ECU id `wft_max` is declared for (the profile's `isotp.rx_id`); `None`: every ECU.
    pub wft_ecu: Option<CanId>,
    pub tolerance: Duration,
    /// What the ECU of `wft_ecu` declares of its own frames: the padding byte of its classic
    /// frames, and the BS and STmin of its flow controls (`None`: not judged).
    pub node: Option<NodeDeclares>,
}

/// What a node declares of the frames it sends (profile `isotp.padding`, `isotp.block_size`,
/// `isotp.st_min`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeDeclares {
    pub padding: u8,
    pub block_size: u8,
    pub st_min: u8,
}

/// The ECU sending a multi-frame message.
struct Sending {
    /// Since when it waits for a flow control (its FF, the last CF of a block, a WAIT).
    waiting_since: Option<At>,
    block_size: u8,
    cfs_in_block: u32,
    /// An FC that came after N_Bs: (what it waited from, the FC).
    expired: Option<(At, At)>,
}

/// The ECU receiving a multi-frame request.
struct Receiving {
    /// Its last FC CTS or the tester's last CF: the N_Cr timer runs from it.
    last: Option<At>,
    /// A CF later than N_Cr: (the timer's start, the CF).
    late: Option<(At, At)>,
    waits: u32,
    first_wait: Option<At>,
}

#[derive(Default)]
struct PairState {
    sending: Option<Sending>,
    receiving: Option<Receiving>,
}

pub(super) struct IsoTpTimerChecks {
    values: IsoTpTimerValues,
    pairs: Vec<(IsoTpPair, PairState)>,
}

impl IsoTpTimerChecks {
    pub(super) fn new(values: IsoTpTimerValues, pairs: &[IsoTpPair]) -> Self {
        let pairs = pairs.iter().map(|p| (*p, PairState::default())).collect();
        IsoTpTimerChecks { values, pairs }
    }

    pub(super) fn frame(&mut self, frame: &CanFrame, at: At, found: &mut Found) {
        let values = self.values;
        let id = frame.id();
        for (pair, state) in &mut self.pairs {
            let view = PciView::new(frame.data(), pair.addressing);
            let Some(kind) = view.frame_type() else { continue };
            if id == pair.rx {
                if let Some(node) = values.node.filter(|_| values.wft_ecu == Some(id)) {
                    declared_frame(frame.data(), &view, kind, node, at, found);
                }
                ecu_frame(state, &view, kind, (id, at), values, found);
            } else if id == pair.tx {
                tester_frame(state, &view, kind, at, values);
            }
        }
    }
}

/// The node's own frames keep what it declares: padding bytes after the N_PDU of a classic
/// single frame or flow control (ISO 15765-2:2016 §10.4.2.1, a padded frame only: a node may
/// send shorter frames), and the BS and STmin of its flow control CTS (§9.6.5.3, §9.6.5.4).
fn declared_frame(
    data: &[u8],
    view: &PciView<'_>,
    kind: FrameType,
    node: NodeDeclares,
    at: At,
    found: &mut Found,
) {
    let used = match kind {
        FrameType::SingleFrame => match view.low_nibble() {
            Some(n @ 1..=7) => 1 + usize::from(n),
            _ => return,
        },
        FrameType::FlowControl => 3,
        _ => return,
    };
    if data.len() == 8 && used < 8 {
        found.judged(&rules::ISOTP_PADDING);
        if let Some(bad) = data[used..].iter().find(|b| **b != node.padding) {
            found.push(Finding {
                rule: &rules::ISOTP_PADDING,
                packets: vec![at.packet],
                message: format!(
                    "the node padded its frame with 0x{bad:02X}, it declares 0x{:02X}",
                    node.padding
                ),
            });
        }
    }
    if kind == FrameType::FlowControl && view.flow_status() == Some(FlowStatus::ContinueToSend) {
        found.judged(&rules::ISOTP_DECLARED_FLOW_CONTROL);
        let (bs, st) = (view.block_size(), data.get(2).copied());
        if bs != Some(node.block_size) || st != Some(node.st_min) {
            found.push(Finding {
                rule: &rules::ISOTP_DECLARED_FLOW_CONTROL,
                packets: vec![at.packet],
                message: format!(
                    "the node's flow control carries BS {} STmin 0x{:02X}, it declares BS {} STmin 0x{:02X}",
                    bs.unwrap_or_default(),
                    st.unwrap_or_default(),
                    node.block_size,
                    node.st_min
                ),
            });
        }
    }
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn ecu_frame(
    state: &mut PairState,
    view: &PciView<'_>,
    kind: FrameType,
    (ecu_id, at): (CanId, At),
    values: IsoTpTimerValues,
    found: &mut Found,
) {
    match kind {
        FrameType::SingleFrame | FrameType::FirstFrame => {
            // The ECU answers: the request it answers must have been received in time.
            if state.receiving.is_some() {
                found.judged(&rules::TIMING_ISOTP_N_CR);
            }
            if let Some(Receiving { late: Some((from, cf)), .. }) = state.receiving.take() {
                found.push(Finding {
                    rule: &rules::TIMING_ISOTP_N_CR,
                    packets: vec![from.packet, cf.packet, at.packet],
                    message: format!(
                        "a consecutive frame came {} ms after the previous frame, N_Cr is {} ms (+{} ms tolerance), yet the ECU answered the request",
                        ms(cf.time.saturating_sub(from.time)),
                        ms(values.n_cr),
                        ms(values.tolerance)
                    ),
                });
            }
            state.sending = (kind == FrameType::FirstFrame).then_some(Sending {
                waiting_since: Some(at),
                block_size: 0,
                cfs_in_block: 0,
                expired: None,
            });
        }
        FrameType::ConsecutiveFrame => {
            let Some(sending) = &mut state.sending else { return };
            found.judged(&rules::TIMING_ISOTP_N_BS);
            if let Some((from, fc)) = sending.expired {
                found.push(Finding {
                    rule: &rules::TIMING_ISOTP_N_BS,
                    packets: vec![from.packet, fc.packet, at.packet],
                    message: format!(
                        "the flow control came {} ms after the ECU's frame, N_Bs is {} ms (+{} ms tolerance), yet the ECU went on sending",
                        ms(fc.time.saturating_sub(from.time)),
                        ms(values.n_bs),
                        ms(values.tolerance)
                    ),
                });
                state.sending = None;
                return;
            }
            sending.cfs_in_block += 1;
            if sending.block_size > 0 && sending.cfs_in_block >= u32::from(sending.block_size) {
                sending.waiting_since = Some(at);
            }
        }
        FrameType::FlowControl => {
            let Some(receiving) = &mut state.receiving else { return };
            match view.flow_status() {
                Some(FlowStatus::ContinueToSend) => {
                    receiving.last = Some(at);
                    receiving.waits = 0;
                    receiving.first_wait = None;
                }
                Some(FlowStatus::Wait) => {
                    found.judged(&rules::TIMING_ISOTP_WAIT_COUNT);
                    receiving.waits += 1;
                    let first = *receiving.first_wait.get_or_insert(at);
                    let declared = values.wft_ecu.is_none_or(|ecu| ecu == ecu_id);
                    if declared && receiving.waits == u32::from(values.wft_max) + 1 {
                        found.push(Finding {
                            rule: &rules::TIMING_ISOTP_WAIT_COUNT,
                            packets: vec![first.packet, at.packet],
                            message: format!(
                                "the ECU sent {} flow control WAIT in a row, N_WFTmax is {}",
                                receiving.waits, values.wft_max
                            ),
                        });
                    }
                }
                _ => state.receiving = None,
            }
        }
        _ => {}
    }
}

fn tester_frame(
    state: &mut PairState,
    view: &PciView<'_>,
    kind: FrameType,
    at: At,
    values: IsoTpTimerValues,
) {
    match kind {
        FrameType::FirstFrame => {
            state.receiving =
                Some(Receiving { last: None, late: None, waits: 0, first_wait: None });
        }
        FrameType::SingleFrame => state.receiving = None,
        FrameType::ConsecutiveFrame => {
            let Some(receiving) = &mut state.receiving else { return };
            if let Some(last) = receiving.last
                && receiving.late.is_none()
                && Window::new(values.n_cr, None, values.tolerance)
                    .is_late(at.time.saturating_sub(last.time))
            {
                receiving.late = Some((last, at));
            }
            receiving.last = Some(at);
        }
        FrameType::FlowControl => {
            let Some(sending) = &mut state.sending else { return };
            let Some(since) = sending.waiting_since else { return };
            if sending.expired.is_none()
                && Window::new(values.n_bs, None, values.tolerance)
                    .is_late(at.time.saturating_sub(since.time))
            {
                sending.expired = Some((since, at));
            }
            match view.flow_status() {
                Some(FlowStatus::ContinueToSend) => {
                    sending.waiting_since = None;
                    sending.block_size = view.block_size().unwrap_or(0);
                    sending.cfs_in_block = 0;
                }
                // N_Bs starts again with each WAIT (ISO 15765-2:2016 §9.7).
                Some(FlowStatus::Wait) => sending.waiting_since = Some(at),
                _ => state.sending = None,
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_bytes(text: &str) -> Result<Vec<u8>, hex::FromHexError> {
        hex::decode(text.replace(' ', ""))
    }
    use crate::codec::can::StandardId;
    use crate::codec::isotp::AddressingMode;

    const TESTER: u16 = 0x7E0;
    const ECU: u16 = 0x7E8;

    fn values() -> IsoTpTimerValues {
        IsoTpTimerValues {
            n_bs: Duration::from_millis(1000),
            n_cr: Duration::from_millis(1000),
            wft_max: 1,
            wft_ecu: None,
            node: None,
            tolerance: Duration::from_millis(10),
        }
    }

    /// (id, data, microseconds) frames; the findings' checks and packets.
    fn run(frames: &[(u16, &str, u64)]) -> Vec<(&'static str, Vec<u64>)> {
        run_with(values(), frames)
    }

    fn run_with(
        values: IsoTpTimerValues,
        frames: &[(u16, &str, u64)],
    ) -> Vec<(&'static str, Vec<u64>)> {
        let id = |raw| CanId::Standard(StandardId::new(raw).unwrap());
        let pair = IsoTpPair { tx: id(TESTER), rx: id(ECU), addressing: AddressingMode::Normal };
        let mut checks = IsoTpTimerChecks::new(values, &[pair]);
        let mut found = Found::default();
        for (i, (raw, data, us)) in frames.iter().enumerate() {
            let data = hex_bytes(data).unwrap();
            let frame = CanFrame::new(id(*raw), &data).unwrap();
            let at = At { packet: i as u64 + 1, time: Duration::from_micros(*us) };
            checks.frame(&frame, at, &mut found);
        }
        found.findings().iter().map(|f| (f.rule.id, f.packets.clone())).collect()
    }

    #[test]
    fn the_node_keeps_its_declared_padding_and_flow_control() {
        let id = |raw| CanId::Standard(StandardId::new(raw).unwrap());
        let node = NodeDeclares { padding: 0xCC, block_size: 0, st_min: 0 };
        let values = IsoTpTimerValues { wft_ecu: Some(id(ECU)), node: Some(node), ..values() };
        let good = [(ECU, "03 62 f1 90 cc cc cc cc", 0), (ECU, "30 00 00 cc cc cc cc cc", 1)];
        assert_eq!(run_with(values, &good), []);
        // Unpadded frames are allowed; a padded one with another byte is not.
        assert_eq!(run_with(values, &[(ECU, "03 62 f1 90", 0)]), []);
        assert_eq!(
            run_with(values, &[(ECU, "03 62 f1 90 aa aa aa aa", 0)]),
            [(rules::ISOTP_PADDING.id, vec![1])]
        );
        assert_eq!(
            run_with(values, &[(ECU, "30 08 14 cc cc cc cc cc", 0)]),
            [("isotp.declared_flow_control", vec![1])]
        );
        // Another node's frames are not held to this node's declarations.
        let other = IsoTpTimerValues { wft_ecu: Some(id(0x7E9)), ..values };
        assert_eq!(run_with(other, &[(ECU, "03 62 f1 90 aa aa aa aa", 0)]), []);
    }

    const FF: &str = "10 0a 62 f1 90 01 02 03";
    const CF: &str = "21 04 05 06 07 cc cc cc";
    const CTS: &str = "30 00 00 cc cc cc cc cc";
    const WAIT: &str = "31 00 00 cc cc cc cc cc";

    #[test]
    fn an_ecu_sends_no_cf_after_a_flow_control_later_than_n_bs() {
        // FC at exactly N_Bs + tolerance: the ECU may go on.
        assert_eq!(run(&[(ECU, FF, 0), (TESTER, CTS, 1_010_000), (ECU, CF, 1_010_100)]), []);
        let late = [(ECU, FF, 0), (TESTER, CTS, 1_010_001), (ECU, CF, 1_010_100)];
        assert_eq!(run(&late), [("timing.isotp_n_bs", vec![1, 2, 3])]);
        // A WAIT restarts N_Bs.
        let waited =
            [(ECU, FF, 0), (TESTER, WAIT, 900_000), (TESTER, CTS, 1_910_000), (ECU, CF, 1_910_100)];
        assert_eq!(run(&waited), []);
    }

    #[test]
    fn an_ecu_does_not_answer_a_request_whose_cf_came_after_n_cr() {
        let request = |cf_at: u64| {
            [
                (TESTER, FF, 0),
                (ECU, CTS, 100),
                (TESTER, CF, 100 + cf_at),
                (ECU, "03 7f 22 13 cc cc cc cc", cf_at + 200),
            ]
        };
        assert_eq!(run(&request(1_010_000)), []);
        assert_eq!(run(&request(1_010_001)), [("timing.isotp_n_cr", vec![2, 3, 4])]);
    }

    #[test]
    fn an_ecu_sends_at_most_n_wftmax_waits_in_a_row() {
        let one = [(TESTER, FF, 0), (ECU, WAIT, 100), (ECU, CTS, 200)];
        assert_eq!(run(&one), []);
        let two = [(TESTER, FF, 0), (ECU, WAIT, 100), (ECU, WAIT, 200), (ECU, WAIT, 300)];
        assert_eq!(run(&two), [("timing.isotp_wait_count", vec![2, 3])]);
        // A CTS between them starts the count again.
        let apart = [
            (TESTER, FF, 0),
            (ECU, WAIT, 100),
            (ECU, CTS, 200),
            (TESTER, CF, 300),
            (ECU, WAIT, 400),
        ];
        assert_eq!(run(&apart), []);
    }
}
