//! The judge: the protocol's rules, applied in one place to whatever traffic a command saw.
//! Pure, like the capture reader it shares its events with: [`CaptureEvent`]s in (from a
//! capture file through [`crate::pcap::read`], or from a live run through [`live::LiveFeed`]),
//! typed [`Finding`]s out. No files, no sockets, no clock: every event carries its time.
//!
//! Only the target is judged (the DoIP entity, the ECU answering on ISO-TP): a tester that
//! sends malformed messages on purpose is what conformance testing does, and the rules look at
//! how the target reacts. Every rule is in the catalogue [`rules::RULES`] (id, clause, what the
//! target must do, what it needs); `docs/rules.md` is generated from it. The rules that judge
//! declared timing values apply only when a profile gave them ([`DeclaredTimes`],
//! [`TimerValues`], [`IsoTpTimerValues`]).
//!
//! Every [`Finding`] names its rule and the packets (or, live, the frames) that show it. The
//! judge also counts, per rule, the events it had to judge ([`Judge::judged`]): a rule with
//! nothing to judge is *not applicable*, never a pass.
//!
//! May import: `crate::codec` and `crate::pcap::read` (the events).

mod declared;
mod doip;
mod entity;
pub mod live;

mod isotp;
pub mod isotp_timers;
pub mod rules;
pub mod timers;
mod timing;
mod udp;
mod version;

use crate::codec::can::CanId;
use crate::pcap::read::{CaptureEvent, CaptureSink, IsoTpPair};

pub use declared::{Declared, profile_pairs};
pub use doip::{CLOSE_GRACE, ConnectionSummary};
pub use entity::EntityDeclares;
pub use isotp_timers::IsoTpTimerValues;
pub use rules::{RULES, Rule};
pub use timers::TimerValues;
pub use timing::DeclaredTimes;

/// One thing the target did wrong, with the packets that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule it breaks (its id, clause and requirement).
    pub rule: &'static Rule,
    /// Packet numbers involved, in order.
    pub packets: Vec<u64>,
    /// What the target did instead, in a sentence (the rule's requirement is what it should
    /// have done).
    pub message: String,
}

impl Finding {
    /// The finding as one line of a transcript: `rule ID broken (CLAUSE): what happened
    /// (PLACES); the target must: REQUIREMENT`, `places` naming the packets or frames
    /// ("packets", "frames"). [`Finding::rule_of_line`] reads the rule back.
    pub fn line(&self, places: &str) -> String {
        let numbers: Vec<String> = self.packets.iter().map(u64::to_string).collect();
        format!(
            "rule {} broken ({}): {} ({places} {}); the target must: {}",
            self.rule.id,
            self.rule.clause,
            self.message,
            numbers.join(", "),
            self.rule.requirement
        )
    }

    /// The rule a [`Finding::line`] names, if `line` is one.
    pub fn rule_of_line(line: &str) -> Option<&'static Rule> {
        let rest = line.strip_prefix("rule ")?;
        let (id, rest) = rest.split_once(' ')?;
        rest.starts_with("broken (").then(|| rules::by_id(id)).flatten()
    }
}

/// What judging one event found, and which rules it judged (a rule judged and not broken is
/// a pass; one never judged is not applicable).
#[derive(Debug)]
pub struct Found {
    findings: Vec<Finding>,
    judged: Vec<u64>,
}

impl Default for Found {
    fn default() -> Self {
        Found { findings: Vec::new(), judged: vec![0; RULES.len()] }
    }
}

impl Found {
    /// Holds nothing and counts nothing; stands in while the judge's own is lent out.
    fn placeholder() -> Found {
        Found { findings: Vec::new(), judged: Vec::new() }
    }

    /// A finding: its rule was judged, and broken.
    pub fn push(&mut self, finding: Finding) {
        self.judged(finding.rule);
        self.findings.push(finding);
    }

    /// `rule` had something to judge.
    pub fn judged(&mut self, rule: &'static Rule) {
        self.judged[rule.index] += 1;
    }

    /// The findings, in the order found.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// How often each rule (by [`Rule::index`]) had something to judge.
    pub fn judged_counts(&self) -> &[u64] {
        &self.judged
    }
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
pub struct Judge<R> {
    report: R,
    doip: doip::DoipChecks,
    isotp: isotp::IsoTpChecks,
    timers: Option<timers::TimerChecks>,
    isotp_timers: Option<isotp_timers::IsoTpTimerChecks>,
    entity: Option<entity::EntityChecks>,
    /// Reused for every event: what it found and which rules it judged (counts accumulate).
    found: Found,
    findings: u64,
    isotp_messages: u64,
}

impl<R: Report> Judge<R> {
    /// A judge; `pairs` say which CAN id is the ECU's (`rx`) and which the tester's.
    pub fn new(report: R, pairs: &[IsoTpPair]) -> Self {
        Self::with_timing(report, pairs, None)
    }

    /// A judge that also checks the timing against declared values (from a profile).
    pub fn with_timing(report: R, pairs: &[IsoTpPair], timing: Option<DeclaredTimes>) -> Self {
        Judge {
            report,
            doip: doip::DoipChecks::new(timing),
            isotp: isotp::IsoTpChecks::new(pairs),
            timers: None,
            isotp_timers: None,
            entity: None,
            found: Found::default(),
            findings: 0,
            isotp_messages: 0,
        }
    }

    /// A judge of every rule, the timing ones against `declared` values when there are some.
    pub fn with_declared(report: R, pairs: &[IsoTpPair], declared: Option<&Declared>) -> Self {
        match declared {
            None => Self::new(report, pairs),
            Some(d) => Self::with_timing(report, pairs, Some(d.times))
                .with_timers(d.timers, d.isotp, pairs)
                .with_entity(d.entity),
        }
    }

    /// Also holds the entity to what the profile declares about it (its unknown address,
    /// activation types, MCTS and MDS). Like the timing rules, these judge declared values:
    /// `inspect --profile` and the selftest's capture check apply them; `run` does not, since
    /// there a profile that does not describe the target is warned about before the first
    /// case (`suite::profile::fit`), and its mistake must not fail the target's cases.
    pub fn with_entity(mut self, declares: EntityDeclares) -> Self {
        self.entity = Some(entity::EntityChecks::new(declares));
        self
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

    /// How often each rule (by [`Rule::index`]) had something to judge so far.
    pub fn judged(&self) -> &[u64] {
        self.found.judged_counts()
    }

    /// When the entity owes connection `conn` a close: the time of its NACK that closes the
    /// socket, while the socket is still open (`doip::DoipChecks::close_owed`).
    pub fn close_owed(&self, conn: u32) -> Option<std::time::Duration> {
        self.doip.close_owed(conn)
    }

    /// Whether `id` is an ECU's (answering) id of a known pair.
    pub fn is_ecu_id(&self, id: CanId) -> bool {
        self.isotp.is_ecu(id)
    }

    fn emit(&mut self, finding: Finding) {
        self.findings += 1;
        self.report.finding(&finding);
    }
}

impl<R: Report> CaptureSink for Judge<R> {
    fn event(&mut self, event: CaptureEvent<'_>) {
        self.report.event(&event);
        // Taken out for the checks and put back below; what stands in meanwhile allocates
        // nothing (an event must not cost an allocation: the fuzzer judges every message).
        let mut found = std::mem::replace(&mut self.found, Found::placeholder());
        match &event {
            CaptureEvent::IsoTp(e) => {
                if matches!(e, crate::pcap::read::IsoTpEvent::Message { .. }) {
                    self.isotp_messages += 1;
                }
                self.isotp.check(e, &mut found);
            }
            _ => {
                self.doip.check(&event, &mut found);
                if let Some(entity) = &mut self.entity {
                    entity.check(&event, &mut found);
                }
                if let Some(timers) = &mut self.timers {
                    timers.check(&event, &mut found);
                }
                if let CaptureEvent::Can { at, frame, .. } = &event {
                    self.isotp.frame(frame, *at, &mut found);
                    if let Some(checks) = &mut self.isotp_timers {
                        checks.frame(frame, *at, &mut found);
                    }
                }
            }
        }
        for finding in found.findings.drain(..) {
            self.emit(finding);
        }
        self.found = found;
        if let CaptureEvent::Ended { conn, .. } = &event
            && let Some(summary) = self.doip.summary(conn.id)
        {
            self.report.connection(&summary);
        }
    }
}

#[cfg(test)]
mod tests;
