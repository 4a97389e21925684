//! What the profile declares that the judge's timing rules hold the target to: one place that
//! reads the typed profile for them, for every command that judges (`inspect --profile`,
//! `replay`, the selftest's agreement check).
//!
//! May import: `crate::codec`, `crate::pcap::read`, `crate::profile` and `crate::judge`.

use super::isotp_timers::NodeDeclares;
use super::{DeclaredTimes, EntityDeclares, IsoTpTimerValues, TimerValues};
use crate::codec::can::CanId;
use crate::codec::isotp::AddressingMode;
use crate::pcap::read::IsoTpPair;
use crate::profile::TargetProfile;

/// The ISO-TP id pair the profile names (tester `isotp.tx_id`, node `isotp.rx_id`, normal
/// addressing): what a live run's judge reassembles, the node's id the one judged.
pub fn profile_pairs(p: &TargetProfile) -> Vec<IsoTpPair> {
    let isotp = &p.isotp;
    match (CanId::new(isotp.tx_id, isotp.extended_ids), CanId::new(isotp.rx_id, isotp.extended_ids))
    {
        (Some(tx), Some(rx)) => vec![IsoTpPair { tx, rx, addressing: AddressingMode::Normal }],
        _ => Vec::new(),
    }
}

/// The declared values of every timing rule (docs/rules.md, the rules that need profile keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub times: DeclaredTimes,
    pub timers: TimerValues,
    pub isotp: IsoTpTimerValues,
    pub entity: EntityDeclares,
}

impl Declared {
    /// The values `profile` declares, each with the profile's `timing.tolerance`.
    pub fn from_profile(p: &TargetProfile) -> Declared {
        let tolerance = p.timers.tolerance;
        Declared {
            times: DeclaredTimes {
                a_processing_time: p.timers.a_processing_time,
                a_doip_diagnostic_message: p.timers.a_doip_diagnostic_message,
                p2: p.uds.p2,
                p2_star: p.uds.p2_star,
                tolerance,
            },
            timers: TimerValues {
                t_tcp_alive_check: p.timers.t_tcp_alive_check,
                announce_interval: p.timers.a_doip_announce_interval,
                announce_num: u32::from(p.timers.a_doip_announce_num),
                tolerance,
            },
            isotp: IsoTpTimerValues {
                n_bs: p.isotp.n_bs,
                n_cr: p.isotp.n_cr,
                wft_max: p.isotp.wft_max,
                wft_ecu: CanId::new(p.isotp.rx_id, p.isotp.extended_ids),
                tolerance,
                node: Some(NodeDeclares {
                    padding: p.isotp.padding,
                    block_size: p.isotp.block_size,
                    st_min: p.isotp.st_min,
                }),
            },
            entity: EntityDeclares::from_profile(p),
        }
    }
}
