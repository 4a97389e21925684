//! Waivers (`--waivers FILE`): deviations a customer accepted, so an acceptance run can live
//! with them without hiding them. A waived failure keeps its verdict and is shown as `waived`
//! (never as a pass) and counted apart in every report; the run fails again when a waiver has
//! expired and its case still fails, or when everything it names now passes (remove it).
//!
//! ```yaml
//! waivers:
//!   - case: HDR-INV-001            # a case id, glob allowed, like --case
//!     reason: closes after 600 ms; deviation D-42
//!     accepted_by: J. Doe (OEM)
//!     until: 2027-03-31            # the last day it holds
//!   - rule: "ISO 13400-2:2019 Table 19"   # every case checking this clause (glob allowed)
//!     ...
//! ```
//!
//! The file is read like a suite ([`crate::suite::yaml`], [`crate::suite::diag`]): every
//! mistake at once, each with file:line:col. Today's date is an argument: the caller reads
//! the clock.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::text::printable;

use crate::runner::event::{CaseFinished, CaseInfo, Verdict, WaiverRef};
pub use crate::suite::waivers::{Waiver, WaiverSet, WaiverTarget, load_waivers, read_waivers};

/// What the report does with a waiver: names it and refers to it from a case.
trait WaiverShown {
    fn named(&self) -> String;
    fn reference(&self) -> WaiverRef;
}

impl WaiverShown for Waiver {
    fn named(&self) -> String {
        match &self.target {
            WaiverTarget::Case(p) => format!("case `{p}`"),
            WaiverTarget::Rule(p) => format!("rule `{p}`"),
        }
    }

    fn reference(&self) -> WaiverRef {
        WaiverRef {
            matches: match &self.target {
                WaiverTarget::Case(p) | WaiverTarget::Rule(p) => p.clone(),
            },
            reason: self.reason.clone(),
            accepted_by: self.accepted_by.clone(),
            until: self.until.format("%Y-%m-%d").to_string(),
        }
    }
}

/// The waiver that accepts this finished case: the first one in the file that names it, holds
/// today, and the case failed (a pass is never waived, nor a skip).
pub fn accepting(set: &WaiverSet, info: &CaseInfo, f: &CaseFinished) -> Option<WaiverRef> {
    if !f.verdict.is_failure() {
        return None;
    }
    set.waivers.iter().find(|w| w.until >= set.today && w.matches(info)).map(Waiver::reference)
}

/// What the cases of a run did to each waiver: kept while the run reports, judged at its end.
#[derive(Debug, Clone, Default)]
pub struct WaiverUse {
    /// Per waiver (file order): ids of matching cases that failed while it held, that failed
    /// after it expired, and that passed.
    used: Vec<[Vec<String>; 3]>,
}

impl WaiverUse {
    /// Records which waivers `info` falls under, by how the case ended.
    pub fn record(&mut self, set: &WaiverSet, info: &CaseInfo, f: &CaseFinished) {
        self.used.resize(set.waivers.len(), Default::default());
        for (w, used) in set.waivers.iter().zip(&mut self.used) {
            if !w.matches(info) {
                continue;
            }
            let slot = match f.verdict {
                Verdict::Skipped => continue,
                Verdict::Pass => 2,
                _ if w.until >= set.today => 0,
                _ => 1,
            };
            used[slot].push(info.id.clone());
        }
    }

    /// Why the waivers make the run fail, one line each: expired with its cases still
    /// failing, or every case it names now passing (a stale waiver hides the next failure).
    pub fn problems(&self, set: &WaiverSet) -> Vec<String> {
        let mut out = Vec::new();
        for (w, [held, expired, passed]) in set.waivers.iter().zip(&self.used) {
            let at = format!("{}:{}", set.file.display(), w.pos);
            if !expired.is_empty() {
                out.push(format!(
                    "{at}: the waiver for {} expired on {} (accepted by {}); {} fails again: {}",
                    w.named(),
                    w.until.format("%Y-%m-%d"),
                    w.accepted_by,
                    cases(expired.len()),
                    listed(expired)
                ));
            } else if held.is_empty() && !passed.is_empty() {
                out.push(format!(
                    "{at}: the waiver for {} is stale: {} it names now {}: {}; remove it",
                    w.named(),
                    cases(passed.len()),
                    if passed.len() == 1 { "passes" } else { "pass" },
                    listed(passed)
                ));
            }
        }
        out
    }
}

fn cases(n: usize) -> String {
    if n == 1 { "the case".into() } else { format!("{n} cases") }
}

/// The first ids, then how many more: a line stays short with a rule that names hundreds.
fn listed(ids: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = ids.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

/// The Markdown section of the waiver problems (empty when there is none).
pub fn waiver_markdown(problems: &[String]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let mut out = format!("\n#### Waivers that fail the run ({})\n\n", problems.len());
    for p in problems {
        out.push_str(&format!("- {}\n", super::text::cell(p)));
    }
    out
}

/// A JUnit test suite `waivers` with one failing test case per problem, so CI shows why a
/// run whose cases all passed or were waived still failed.
pub fn waiver_suite(problems: &[String]) -> TestSuite {
    let mut suite = TestSuite::new("waivers");
    for (i, p) in problems.iter().enumerate() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_type("waiver");
        status.set_message(printable(p));
        let mut tc = TestCase::new(format!("waiver problem {}", i + 1), status);
        tc.set_classname("waivers");
        suite.add_test_case(tc);
    }
    suite
}

/// How a report names a finished case's outcome: its verdict, or `waived` for a failure a
/// waiver accepts; `unfinished` for a case cut short.
pub fn shown_status(f: Option<&CaseFinished>) -> &'static str {
    match f {
        None => "unfinished",
        Some(f) if f.waiver.is_some() && f.verdict.is_failure() => "waived",
        Some(f) => f.verdict.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::path::Path;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const FILE: &str = "\
waivers:
  - case: HOLD-*
    reason: accepted deviation D-1
    accepted_by: OEM
    until: 2027-01-31
  - case: OLD-1
    reason: was accepted
    accepted_by: OEM
    until: 2026-12-06
  - rule: ISO 13400-2:2019 Table 19
    reason: now fixed
    accepted_by: Supplier
    until: 2030-01-01
";

    fn info(id: &str, clause: Option<&str>) -> CaseInfo {
        let mut i = super::super::log::test_info(id);
        i.clause = clause.map(str::to_owned);
        i
    }

    fn finished(verdict: Verdict) -> CaseFinished {
        super::super::log::test_finished(0, verdict)
    }

    #[test]
    fn one_holds_one_expired_and_one_whose_cases_pass() {
        let set = read_waivers(Path::new("w.yaml"), FILE, day("2026-12-07")).unwrap();
        assert_eq!(set.waivers.len(), 3);
        let mut used = WaiverUse::default();
        let run = [
            (info("HOLD-1[x=1]", None), Verdict::Fail),
            (info("OLD-1", None), Verdict::Fail),
            (info("NACK-1", Some("ISO 13400-2:2019 Table 19")), Verdict::Pass),
            (info("OTHER", None), Verdict::Fail),
        ];
        let mut waived = Vec::new();
        for (i, v) in &run {
            let f = finished(*v);
            used.record(&set, i, &f);
            waived.push(accepting(&set, i, &f).map(|w| w.matches));
        }
        // The held waiver accepts its failure (by the id as written, without the matrix);
        // the expired one does not; a pass and an unnamed case are never waived.
        assert_eq!(waived, [Some("HOLD-*".to_owned()), None, None, None]);
        let problems = used.problems(&set);
        assert_eq!(
            problems,
            [
                "w.yaml:6:5: the waiver for case `OLD-1` expired on 2026-12-06 (accepted by OEM); the case fails again: OLD-1",
                "w.yaml:10:5: the waiver for rule `ISO 13400-2:2019 Table 19` is stale: the case it names now passes: NACK-1; remove it",
            ]
        );
        // On its last day a waiver still holds.
        let last_day = WaiverSet { today: day("2027-01-31"), ..set.clone() };
        assert!(accepting(&last_day, &run[0].0, &finished(Verdict::Fail)).is_some());
        assert_eq!(
            shown_status(Some(&CaseFinished {
                waiver: accepting(&set, &run[0].0, &finished(Verdict::Fail)),
                ..finished(Verdict::Fail)
            })),
            "waived"
        );
    }

    #[test]
    fn every_mistake_in_a_waiver_file_is_named_with_its_position() {
        let src = "\
waivers:
  - case: A-1
    rule: ISO x
    reason: ''
    accepted: me
    until: next week
  - 12
";
        let errors = read_waivers(Path::new("w.yaml"), src, day("2026-01-01")).unwrap_err();
        let rendered: Vec<String> = errors.iter().map(|e| e.render(src)).collect();
        insta::assert_snapshot!(rendered.join("\n"));
    }
}
