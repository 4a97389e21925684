//! Passive conformance checks on a recorded capture: the events of [`crate::pcap::read`] in,
//! the transcript and findings out. Pure, like the reader: no files, no clock.
//!
//! Only the target is judged (the DoIP entity, the ECU answering on ISO-TP): a tester that
//! sends malformed messages on purpose is what conformance testing does, and the checks look at
//! how the target reacts. Each check is one a recording can show for certain:
//!
//! | check | rule |
//! |---|---|
//! | `doip.entity_message` | every message the entity sends passes the codec (header, length, transport, known type); ISO 13400-2:2019 generic header and payload type tables |
//! | `doip.nack_code` | a bad tester header is answered by the generic NACK the codec names (0x00 pattern, 0x01 unknown type or wrong transport, 0x04 length); ISO 13400-2:2019 generic header handling |
//! | `doip.socket_fate` | after NACK 0x00 / 0x04 the entity closes the socket and sends nothing more; after 0x01 / 0x02 it keeps it open |
//! | `doip.diagnostic_ack_order` | the diagnostic message ACK/NACK comes before the answer to that request |
//! | `doip.activation_before_diagnostics` | no positive ACK or answer to a diagnostic message on a socket without routing activation (connections captured from their SYN) |
//! | `isotp.frame` | every frame the ECU sends passes the codec's N_PCI rules (ISO 15765-2:2016 §9.6) |
//! | `isotp.sequence` | the ECU's CFs count SN 1..F, 0.. (§9.6.4.3) and a message is not cut by a new one |
//! | `isotp.flow_control` | the ECU waits for the tester's FC and keeps its BS and STmin (§9.6.5.3, §9.6.5.4) |
//! | `timing.*` | with declared values ([`DeclaredTimes`], from `--profile`): UDP answers, diagnostic ACKs and UDS answers in time |
//! | `timing.alive_check`, `timing.announce_*` | with [`TimerValues`]: the entity's T_TCP_Alive_Check and announcements ([`timers`]) |
//! | `timing.isotp_*` | with [`IsoTpTimerValues`]: the ECU's N_Bs, N_Cr and FC WAIT count ([`isotp_timers`]) |
//!
//! Every [`Finding`] names the packets that show it.
//!
//! May import: `crate::codec` and `crate::pcap` (the reader's events).

mod doip;
mod isotp;
pub mod isotp_timers;
pub mod timers;
mod timing;

use crate::codec::can::CanId;
use crate::pcap::read::{CaptureEvent, CaptureSink, IsoTpPair};

pub use doip::ConnectionSummary;
pub use isotp_timers::IsoTpTimerValues;
pub use timers::TimerValues;
pub use timing::DeclaredTimes;

/// Every check: id and what it asks of the target (one JUnit testcase each). The `timing.*`
/// checks run only with declared values ([`DeclaredTimes`]).
pub const CHECKS: &[(&str, &str)] = &[
    ("doip.entity_message", "every message the entity sends passes the codec's rules"),
    ("doip.nack_code", "a bad tester header is answered with the generic NACK the codec names"),
    ("doip.socket_fate", "the socket is closed or kept open as the generic NACK code says"),
    ("doip.diagnostic_ack_order", "the diagnostic message ACK comes before the answer"),
    (
        "doip.activation_before_diagnostics",
        "diagnostic messages are routed only after routing activation of their source address",
    ),
    ("isotp.frame", "every frame the ECU sends is a valid N_PDU"),
    ("isotp.sequence", "the ECU's consecutive frames count SN in order, messages are not cut"),
    ("isotp.flow_control", "the ECU waits for flow control and keeps BS and STmin"),
    ("timing.udp_answer", "UDP answers come within A_Processing_Time"),
    ("timing.diagnostic_ack", "diagnostic ACK/NACK come within A_DoIP_Diagnostic_Message"),
    ("timing.uds_p2", "UDS answers come within P2 (P2* after NRC 0x78)"),
    (
        "timing.alive_check",
        "a socket without alive check response within T_TCP_Alive_Check is closed, one with a response is not",
    ),
    ("timing.announce_interval", "vehicle announcements are A_DoIP_Announce_Interval apart"),
    ("timing.announce_count", "a burst of vehicle announcements has A_DoIP_Announce_Num of them"),
    ("timing.isotp_n_bs", "the ECU sends no CF after a flow control later than N_Bs"),
    ("timing.isotp_n_cr", "the ECU does not answer a request whose CF came later than N_Cr"),
    ("timing.isotp_wait_count", "the ECU sends at most N_WFTmax flow control WAIT in a row"),
];

/// One thing the target did wrong, with the packets that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check, e.g. `doip.nack_code`.
    pub check: &'static str,
    /// Packet numbers involved, in order.
    pub packets: Vec<u64>,
    /// What happened, in a sentence.
    pub message: String,
    /// The clause of the standard.
    pub clause: &'static str,
}

/// Where the transcript goes.
pub trait Report {
    /// An event of the capture, in packet order.
    fn event(&mut self, event: &CaptureEvent<'_>);
    /// A finding, right after the event that showed it.
    fn finding(&mut self, finding: &Finding);
    /// A TCP connection is over (or the file is): what went over it.
    fn connection(&mut self, summary: &ConnectionSummary);
}

/// Checks every event and hands the transcript to a [`Report`].
pub struct Inspector<R> {
    report: R,
    doip: doip::DoipChecks,
    isotp: isotp::IsoTpChecks,
    timers: Option<timers::TimerChecks>,
    isotp_timers: Option<isotp_timers::IsoTpTimerChecks>,
    findings: u64,
    isotp_messages: u64,
}

impl<R: Report> Inspector<R> {
    /// An inspector; `pairs` say which CAN id is the ECU's (`rx`) and which the tester's.
    pub fn new(report: R, pairs: &[IsoTpPair]) -> Self {
        Self::with_timing(report, pairs, None)
    }

    /// An inspector that also checks the timing against declared values (from a profile).
    pub fn with_timing(report: R, pairs: &[IsoTpPair], timing: Option<DeclaredTimes>) -> Self {
        Inspector {
            report,
            doip: doip::DoipChecks::new(timing),
            isotp: isotp::IsoTpChecks::new(pairs),
            timers: None,
            isotp_timers: None,
            findings: 0,
            isotp_messages: 0,
        }
    }

    /// Also checks the entity's timers and announcements, and the ECUs' ISO-TP timers on
    /// `pairs`, against declared values (from a profile).
    pub fn with_timers(
        mut self,
        doip: TimerValues,
        isotp: IsoTpTimerValues,
        pairs: &[IsoTpPair],
    ) -> Self {
        self.timers = Some(timers::TimerChecks::new(doip));
        self.isotp_timers = Some(isotp_timers::IsoTpTimerChecks::new(isotp, pairs));
        self
    }

    /// Findings so far.
    pub const fn findings(&self) -> u64 {
        self.findings
    }

    /// ISO-TP messages reassembled so far.
    pub const fn isotp_messages(&self) -> u64 {
        self.isotp_messages
    }

    pub fn into_report(self) -> R {
        self.report
    }

    pub fn report_mut(&mut self) -> &mut R {
        &mut self.report
    }

    /// Whether `id` is an ECU's (answering) id of a known pair.
    pub fn is_ecu_id(&self, id: CanId) -> bool {
        self.isotp.is_ecu(id)
    }

    fn emit(&mut self, finding: Finding) {
        debug_assert!(CHECKS.iter().any(|(id, _)| *id == finding.check), "{}", finding.check);
        self.findings += 1;
        self.report.finding(&finding);
    }
}

impl<R: Report> CaptureSink for Inspector<R> {
    fn event(&mut self, event: CaptureEvent<'_>) {
        self.report.event(&event);
        let mut found = Vec::new();
        match &event {
            CaptureEvent::IsoTp(e) => {
                if matches!(e, crate::pcap::read::IsoTpEvent::Message { .. }) {
                    self.isotp_messages += 1;
                }
                self.isotp.check(e, &mut found);
            }
            _ => {
                self.doip.check(&event, &mut found);
                if let Some(timers) = &mut self.timers {
                    timers.check(&event, &mut found);
                }
                if let (Some(checks), CaptureEvent::Can { at, frame, .. }) =
                    (&mut self.isotp_timers, &event)
                {
                    checks.frame(frame, *at, &mut found);
                }
            }
        }
        for finding in found {
            self.emit(finding);
        }
        if let CaptureEvent::Ended { conn, .. } = &event
            && let Some(summary) = self.doip.summary(conn.id)
        {
            self.report.connection(&summary);
        }
    }
}

#[cfg(test)]
mod tests;
