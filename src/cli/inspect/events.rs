//! `doipcheck inspect --report-dir DIR`: the rules judged on each capture as the cases of a
//! run (one suite per capture, one case per rule, as in `--junit`), so that the same reporters
//! write `report.html`, `junit.xml` and `report.json` for a recording as for a live run. A
//! rule with findings fails with every finding kept (packet numbers, message, clause); a rule
//! the capture gave nothing to judge is skipped as not applicable; a capture that cannot be
//! read is one case in `error`.

use std::path::{Path, PathBuf};

use super::output::{RuleOutcome, Totals};
use crate::runner::event::{
    CaseFinished, CaseInfo, CaseKey, CaseStarted, Counts, Event, Reason, RunFinished, RunStarted,
    RunTime, Verdict,
};

/// The events of an inspect run over `results` (timing checks only when a profile gave the
/// values).
pub fn run_events(results: &[(PathBuf, Result<Totals, String>)], timing: bool) -> Vec<Event> {
    let mut cases: Vec<(CaseInfo, Verdict, Option<Reason>)> = Vec::new();
    for (path, result) in results {
        let suite = path
            .file_name()
            .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        match result {
            Err(why) => cases.push((
                info(path, &suite, "capture", "the capture is readable", None),
                Verdict::Error,
                Some(Reason { message: why.clone(), ..Reason::default() }),
            )),
            Ok(totals) => {
                for (rule, outcome) in totals.outcomes(timing) {
                    let (verdict, reason) = match outcome {
                        RuleOutcome::Kept(_) => (Verdict::Pass, None),
                        RuleOutcome::NotApplicable => (
                            Verdict::Skipped,
                            Some(Reason {
                                message: "not applicable: the capture holds nothing this rule \
                                          judges"
                                    .into(),
                                ..Reason::default()
                            }),
                        ),
                        RuleOutcome::Broken(count, kept) => {
                            let mut message = format!("{count} finding(s)");
                            for finding in kept {
                                message.push('\n');
                                message.push_str(finding);
                            }
                            (Verdict::Fail, Some(Reason { message, ..Reason::default() }))
                        }
                    };
                    cases.push((
                        info(path, &suite, rule.id, rule.requirement, Some(rule.clause)),
                        verdict,
                        reason,
                    ));
                }
            }
        }
    }
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let mut events = vec![Event::RunStarted(RunStarted {
        wall_clock_unix_us: u64::try_from(wall.as_micros()).unwrap_or(u64::MAX),
        target: format!(
            "recorded capture{} {}",
            if results.len() == 1 { "" } else { "s" },
            results.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ),
        profile: None,
        case_count: u32::try_from(cases.len()).unwrap_or(u32::MAX),
        jobs: 1,
        shard: None,
        declared_wait: std::time::Duration::ZERO,
    })];
    let mut counts = Counts::default();
    for (i, (info, verdict, reason)) in cases.into_iter().enumerate() {
        let case = CaseKey(u32::try_from(i).unwrap_or(u32::MAX));
        events.push(Event::CaseStarted(CaseStarted { case, at: RunTime::ZERO, info }));
        counts.add(verdict, false);
        events.push(Event::CaseFinished(CaseFinished {
            case,
            at: RunTime::ZERO,
            verdict,
            reason,
            duration: std::time::Duration::ZERO,
            attempts: 1,
            flaky: false,
            capture: None,
            waiver: None,
        }));
    }
    events.push(Event::RunFinished(RunFinished {
        at: RunTime::ZERO,
        counts,
        interrupted: false,
        stop_reason: None,
    }));
    events
}

fn info(path: &Path, suite: &str, id: &str, title: &str, clause: Option<&str>) -> CaseInfo {
    CaseInfo {
        suite_file: path.to_owned(),
        suite: suite.to_owned(),
        suite_title: format!("passive checks of {}", path.display()),
        id: id.to_owned(),
        title: title.to_owned(),
        clause: clause.map(str::to_owned),
        tags: vec![id.split('.').next().unwrap_or(id).to_owned()],
        requires: Vec::new(),
        detects: Vec::new(),
        matrix: Vec::new(),
        line: 0,
    }
}
