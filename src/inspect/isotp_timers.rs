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

use super::Finding;
use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::{FlowStatus, FrameType, PciView};
use crate::pcap::read::{At, IsoTpPair};

const CLAUSE: &str = "ISO 15765-2:2016 §9.7, Table 16";
const WAIT_CLAUSE: &str = "ISO 15765-2:2016 §9.6.5.1, Table 16 (N_WFTmax)";

/// The declared values these checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoTpTimerValues {
    pub n_bs: Duration,
    pub n_cr: Duration,
    pub wft_max: u8,
    /// The ECU id `wft_max` is declared for (the profile's `isotp.rx_id`); `None`: every ECU.
    pub wft_ecu: Option<CanId>,
    pub tolerance: Duration,
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

    pub(super) fn frame(&mut self, frame: &CanFrame, at: At, found: &mut Vec<Finding>) {
        let values = self.values;
        let id = frame.id();
        for (pair, state) in &mut self.pairs {
            let view = PciView::new(frame.data(), pair.addressing);
            let Some(kind) = view.frame_type() else { continue };
            if id == pair.rx {
                ecu_frame(state, &view, kind, (id, at), values, found);
            } else if id == pair.tx {
                tester_frame(state, &view, kind, at, values);
            }
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
    found: &mut Vec<Finding>,
) {
    match kind {
        FrameType::SingleFrame | FrameType::FirstFrame => {
            // The ECU answers: the request it answers must have been received in time.
            if let Some(Receiving { late: Some((from, cf)), .. }) = state.receiving.take() {
                found.push(Finding {
                    check: "timing.isotp_n_cr",
                    packets: vec![from.packet, cf.packet, at.packet],
                    message: format!(
                        "a consecutive frame came {} ms after the previous frame, N_Cr is {} ms (+{} ms tolerance), yet the ECU answered the request",
                        ms(cf.time.saturating_sub(from.time)),
                        ms(values.n_cr),
                        ms(values.tolerance)
                    ),
                    clause: CLAUSE,
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
            if let Some((from, fc)) = sending.expired {
                found.push(Finding {
                    check: "timing.isotp_n_bs",
                    packets: vec![from.packet, fc.packet, at.packet],
                    message: format!(
                        "the flow control came {} ms after the ECU's frame, N_Bs is {} ms (+{} ms tolerance), yet the ECU went on sending",
                        ms(fc.time.saturating_sub(from.time)),
                        ms(values.n_bs),
                        ms(values.tolerance)
                    ),
                    clause: CLAUSE,
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
                    receiving.waits += 1;
                    let first = *receiving.first_wait.get_or_insert(at);
                    let declared = values.wft_ecu.is_none_or(|ecu| ecu == ecu_id);
                    if declared && receiving.waits == u32::from(values.wft_max) + 1 {
                        found.push(Finding {
                            check: "timing.isotp_wait_count",
                            packets: vec![first.packet, at.packet],
                            message: format!(
                                "the ECU sent {} flow control WAIT in a row, N_WFTmax is {}",
                                receiving.waits, values.wft_max
                            ),
                            clause: WAIT_CLAUSE,
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
                && at.time.saturating_sub(last.time) > values.n_cr.saturating_add(values.tolerance)
            {
                receiving.late = Some((last, at));
            }
            receiving.last = Some(at);
        }
        FrameType::FlowControl => {
            let Some(sending) = &mut state.sending else { return };
            let Some(since) = sending.waiting_since else { return };
            if sending.expired.is_none()
                && at.time.saturating_sub(since.time) > values.n_bs.saturating_add(values.tolerance)
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
