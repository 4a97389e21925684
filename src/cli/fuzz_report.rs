//! The campaign report of `doipcheck fuzz`: `DIR/report.html` and `DIR/junit.xml` beside the
//! finding directories, also with `--no-confirm`. Written by src/report's own HTML and JUnit
//! writers: each finding is a failed case (its id `FUZZ-NNNN`, its oracle, whether it is
//! confirmed and why, its repro's path) whose events are those of its repro's run when the repro
//! ran (so the page draws its sequence chart), and the page's head shows the cases per mutation
//! x start state as a heat map and the rate over time (docs/architecture.md#live-fuzzing).

use crate::fuzz::campaign::CampaignOutcome;
use crate::fuzz::drive::LiveCase;
use crate::fuzz::findings::{Confirmation, WrittenFinding};
use crate::report::{CampaignView, CaseLog, HtmlReport, JunitCase, RunHead, junit_report};
use crate::runner::event::{
    CaseFinished, CaseInfo, CaseKey, Counts, Reason, RunFinished, RunTime, Verdict,
};
use std::path::{Path, PathBuf};

/// Writes `dir/report.html` and `dir/junit.xml`; returns their paths.
pub fn write_campaign_report<C: LiveCase>(
    dir: &Path,
    outcome: &CampaignOutcome<C>,
    confirmations: &[Confirmation],
    states: &[&str],
    summary: String,
) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let cases: Vec<(CaseLog, CaseFinished)> =
        outcome.written.iter().zip(confirmations).map(|(w, c)| finding_case(w, c)).collect();
    let html_path = dir.join("report.html");
    let mut html = HtmlReport::new(&html_path);
    for (log, finished) in &cases {
        html.case(log, Some(finished));
    }
    let mut counts = Counts::default();
    for (_, finished) in &cases {
        counts.add_case(finished);
    }
    let finished = RunFinished {
        at: RunTime(outcome.report.elapsed),
        counts,
        interrupted: outcome.report.stopped.is_some(),
        stop_reason: outcome.report.stopped.clone(),
    };
    let head = RunHead {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        command_line: std::env::args().collect(),
        finished: vec![finished.clone()],
        campaign: Some(campaign_view(outcome, states, summary)),
        ..RunHead::default()
    };
    html.finish(&head)?;
    let junit: Vec<JunitCase> = cases.iter().map(|(log, f)| JunitCase::new(log, f)).collect();
    let junit_path = dir.join("junit.xml");
    crate::report::write_junit(&junit_path, &junit_report(None, Some(&finished), &junit))?;
    Ok((html_path, junit_path))
}

/// The heat map's rows (mutations in name order, then transports) and the rate samples.
fn campaign_view<C>(
    outcome: &CampaignOutcome<C>,
    states: &[&str],
    summary: String,
) -> CampaignView {
    let r = &outcome.report;
    let mut rows: Vec<(String, Vec<u64>)> = Vec::new();
    for ((mutation, state), n) in &r.mutations {
        let column = states.iter().position(|s| s == state).unwrap_or(0);
        if rows.last().is_none_or(|(m, _)| m != mutation) {
            rows.push(((*mutation).to_owned(), vec![0; states.len()]));
        }
        if let Some((_, counts)) = rows.last_mut() {
            counts[column] += n;
        }
    }
    let mut notes: Vec<String> = outcome
        .dropped_probes
        .iter()
        .map(|p| format!("probe dropped before the first case: {p}"))
        .collect();
    notes.extend(r.skipped.iter().map(|s| format!("left out after a restore: {s}")));
    if r.left_out > 0 {
        notes.push(format!("{} cases to a service left out were not sent", r.left_out));
    }
    let transports = r
        .transports_seen()
        .into_iter()
        .map(|t| {
            let counts = states.iter().map(|s| r.transports.get(&(t, *s)).copied().unwrap_or(0));
            (t.to_owned(), counts.collect())
        })
        .collect();
    CampaignView {
        summary,
        notes,
        states: states.iter().map(|s| (*s).to_owned()).collect(),
        rows,
        transports,
        // From the start (no case yet), so that the first interval has its rate too.
        progress: std::iter::once((0.0, 0))
            .chain(r.rate_samples.iter().map(|(at, n)| (at.as_secs_f64(), *n)))
            .collect(),
    }
}

/// One finding as a failed case: the events of its repro's run against the target when it
/// ran, else none.
fn finding_case<C: LiveCase>(w: &WrittenFinding<C>, c: &Confirmation) -> (CaseLog, CaseFinished) {
    let f = &w.finding;
    let repro = w.dir.join("repro.yaml");
    let status = if c.confirmed { "confirmed" } else { "unconfirmed" };
    let over = f.transport().map_or(String::new(), |t| format!(" over {t}"));
    let info = CaseInfo {
        suite_file: repro.clone(),
        suite: "fuzz-findings".into(),
        suite_title: "doipcheck fuzz findings".into(),
        id: format!("FUZZ-{:04}", w.number),
        title: format!("{} in state {}{over} ({status})", f.oracle, f.state),
        clause: None,
        tags: vec!["fuzz".into(), status.into(), f.oracle.name()],
        requires: Vec::new(),
        detects: Vec::new(),
        matrix: Vec::new(),
        line: 1,
    };
    let key = CaseKey(w.number);
    let ran = crate::report::load_report(&w.dir.join("run").join("report.json")).ok();
    let (mut log, ran_finished) = match ran.and_then(|r| r.cases.into_iter().next()) {
        Some((log, finished)) => (log, finished),
        None => (
            CaseLog { key, info: info.clone(), started_at: RunTime::ZERO, events: Vec::new() },
            None,
        ),
    };
    log.info = info;
    let message =
        format!("{}: {} - {status}: {}; repro: {}", f.oracle, f.detail, c.why, repro.display());
    // The step that failed in the repro's run, when it failed there.
    let step = ran_finished.as_ref().and_then(|r| r.reason.as_ref()).and_then(|r| r.step.clone());
    let capture = w.dir.join("repro.pcapng");
    let finished = CaseFinished {
        case: log.key,
        at: ran_finished.as_ref().map_or(RunTime::ZERO, |r| r.at),
        verdict: Verdict::Fail,
        reason: Some(Reason { message, step, ..Reason::default() }),
        duration: ran_finished.as_ref().map_or(f.found_after, |r| r.duration),
        attempts: 1,
        flaky: false,
        capture: capture.exists().then_some(capture),
        waiver: None,
    };
    (log, finished)
}
