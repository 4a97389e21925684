//! DeclaredTimes checks against the target's declared values (`--profile`), measured between packet
//! timestamps: only an answer that did come, and came late, is a finding (a missing answer
//! may be the right one, and the capture may simply have ended).
//!
//! | check | from | to | limit |
//! |---|---|---|---|
//! | `timing.udp_answer` | a UDP request (0x0001-0x0003, 0x4001, 0x4003) | the entity's datagram back to that tester | A_Processing_Time (ISO 13400-2:2019 Table 39) |
//! | `timing.diagnostic_ack` | a diagnostic message | its ACK or NACK | A_DoIP_Diagnostic_Message (ISO 13400-2:2019 Table 39) |
//! | `timing.uds_p2` | a diagnostic message (UDS request) | the first answer from its target | P2 server, or P2* after NRC 0x78 (ISO 14229-2) |
//!
//! Each limit gets the profile's `timing.tolerance` on top.
//!
//! May import: `crate::codec`, `crate::pcap` and `crate::proto` (the one timing window).

use std::time::Duration;

use super::rules::Rule;
use super::{Finding, Found};
use crate::pcap::read::At;
use crate::proto::uds_wait::UdsTimes;
use crate::proto::window::{Violation, Window};

/// The declared values the checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredTimes {
    pub a_processing_time: Duration,
    pub a_doip_diagnostic_message: Duration,
    pub p2: Duration,
    pub p2_star: Duration,
    pub tolerance: Duration,
}

/// One measured delay and what it is held against.
pub(super) struct Late<'a> {
    pub rule: &'static Rule,
    pub from: At,
    pub to: At,
    /// The limit and the tolerance (`proto::window`).
    pub window: Window,
    /// What came late, e.g. "the diagnostic ACK".
    pub what: &'a str,
    /// The limit's name, e.g. "A_DoIP_Diagnostic_Message".
    pub limit_name: &'a str,
}

impl DeclaredTimes {
    /// The window of an answer due within `limit`, with the declared tolerance.
    pub(super) fn window(&self, limit: Duration) -> Window {
        Window::new(limit, None, self.tolerance)
    }

    /// The UDS response times, for the P2/P2* wait of each request.
    pub(super) fn uds_times(&self) -> UdsTimes {
        UdsTimes { p2: self.p2, p2_star: self.p2_star, tolerance: self.tolerance }
    }

    /// A finding when `late.to` came later than its window after `late.from`.
    pub(super) fn check(&self, late: Late<'_>, found: &mut Found) {
        found.judged(late.rule);
        let took = late.to.time.saturating_sub(late.from.time);
        if let Err(Violation::Late { within }) = late.window.check(took) {
            found.push(Finding {
                rule: late.rule,
                packets: vec![late.from.packet, late.to.packet],
                message: format!(
                    "{} came after {} ms, {} is {} ms (+{} ms tolerance)",
                    late.what,
                    took.as_millis(),
                    late.limit_name,
                    within.as_millis(),
                    late.window.tolerance.as_millis()
                ),
            });
        }
    }
}
