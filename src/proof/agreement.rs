//! Does `inspect` of a case's capture name the rule `run` failed the case with? For each
//! failed case of a run: the rules the live judge named (its transcript lines, see
//! [`Finding::line`]), and the rules the judge finds when the capture `run --pcap failing`
//! writes of that case is read back through the capture reader with the profile's declared
//! values, as `inspect --profile` reads it. The selftest prints the agreement per fault.
//!
//! May import: `judge`, `pcap`, `report` (the capture writer), `runner` (its events),
//! `profile`.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use crate::judge::live::Collected;
use crate::judge::{Declared, Finding, Judge, profile_pairs};
use crate::pcap::read::{ReadConfig, Reader};
use crate::profile::TargetProfile;
use crate::report::CaseLog;
use crate::runner::event::{Event, Verdict};

/// One failed case: the rules each way of judging named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRules {
    pub case: String,
    /// Rules the live judge of `run` named for the case.
    pub live: BTreeSet<&'static str>,
    /// Rules the judge finds in the case's capture.
    pub inspected: BTreeSet<&'static str>,
    /// The case talked TLS: its capture holds the records as they were on the wire,
    /// encrypted, so the judge of the capture cannot see what `run` judged in plaintext.
    pub encrypted: bool,
}

impl CaseRules {
    /// Every rule the run named is found in its capture too (a TLS case's capture cannot
    /// show them: see [`CaseRules::encrypted`]).
    pub fn agrees(&self) -> bool {
        self.encrypted || self.live.is_subset(&self.inspected)
    }
}

/// The rules of every failed case among a run's `events`, both ways.
pub fn failed_case_rules(events: &[Event], profile: &TargetProfile) -> Vec<CaseRules> {
    let run = events.iter().find_map(|e| match e {
        Event::RunStarted(r) => Some(r.clone()),
        _ => None,
    });
    let mut cases: Vec<CaseLog> = Vec::new();
    for event in events {
        match event {
            Event::CaseStarted(s) => cases.push(CaseLog {
                key: s.case,
                info: s.info.clone(),
                started_at: s.at,
                events: Vec::new(),
            }),
            other => {
                if let Some(key) = other.case()
                    && let Some(case) = cases.iter_mut().rev().find(|c| c.key == key)
                {
                    case.events.push(other.clone());
                }
            }
        }
    }
    let declared = Declared::from_profile(profile);
    cases
        .iter()
        .filter(|c| {
            c.events
                .iter()
                .any(|e| matches!(e, Event::CaseFinished(f) if f.verdict == Verdict::Fail))
        })
        .map(|case| CaseRules {
            case: case.info.id.clone(),
            live: live_rules(case),
            inspected: inspected_rules(run.as_ref(), case, profile, &declared),
            encrypted: case.events.iter().any(
                |e| matches!(e, Event::Frame(f) if f.transport == crate::runner::event::FrameTransport::Tls),
            ),
        })
        .collect()
}

/// The rules the live judge named: its lines in the transcript and the failure reason.
fn live_rules(case: &CaseLog) -> BTreeSet<&'static str> {
    case.events
        .iter()
        .filter_map(|e| match e {
            Event::Note(n) => Finding::rule_of_line(&n.text),
            Event::CaseFinished(f) => {
                f.reason.as_ref().and_then(|r| Finding::rule_of_line(&r.message))
            }
            _ => None,
        })
        .map(|r| r.id)
        .collect()
}

/// The rules the judge finds in the capture of `case`, written and read back in memory.
fn inspected_rules(
    run: Option<&crate::runner::event::RunStarted>,
    case: &CaseLog,
    profile: &TargetProfile,
    declared: &Declared,
) -> BTreeSet<&'static str> {
    let Ok(bytes) = crate::report::write_case_capture(run, case, Default::default(), Vec::new())
    else {
        return BTreeSet::new();
    };
    let pairs = profile_pairs(profile);
    let mut config = ReadConfig { isotp_pairs: pairs.clone(), ..ReadConfig::default() };
    config.st_min_tolerance = profile.can.gap_tolerance;
    config.entity_max_data_size = profile.identity.max_data_size;
    let mut judge = Judge::with_declared(Collected::default(), &pairs, Some(declared));
    let mut reader = Reader::new(config);
    crate::pcap::read::stream::read_records(bytes.as_slice(), |record| {
        reader.record(record, &mut judge);
        ControlFlow::Continue(())
    });
    reader.finish(&mut judge);
    judge.into_report().findings.iter().map(|f| f.rule.id).collect()
}
