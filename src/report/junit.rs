//! JUnit XML (quick-junit): one `<testsuite>` per suite file, one `<testcase>` per finished
//! case with classname = suite, name = `ID title`, `file` and `line` of the case's `id:`,
//! properties (clause, verdict, target, profile, capture, `measure.NAME_us` per measured value,
//! ...), the failure explanation and the case's transcript as system-out.
//!
//! `timestamp` attributes (RFC 3339, UTC, milliseconds) are the wall clock of the run's start on
//! `<testsuites>`, of its first case's start on a `<testsuite>`, and of the case's start on a
//! `<testcase>`: the run's wall clock plus the monotonic time since (what captures use too).
//!
//! Mapping of verdicts: fail -> `<failure type="fail">`, error -> `<error type="error">`,
//! inconclusive -> `<error type="inconclusive">` (nothing was judged, and CI must not count it
//! as green), skipped -> `<skipped>`. All text passes [`printable`] first, so the file is
//! well-formed XML whatever bytes the target sent (quick-junit escapes markup, including `]]>`).

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::log::CaseLog;
use super::text::{explain, printable, transcript};
use crate::runner::event::{
    CaseFinished, CaseInfo, Event, MetricEvent, RunFinished, RunStarted, RunTime, Verdict,
};

/// What the JUnit report keeps of a finished case: small, so a long run holds every case.
#[derive(Debug, Clone, PartialEq)]
pub struct JunitCase {
    pub info: CaseInfo,
    pub finished: CaseFinished,
    /// When the case started (its `CaseStarted`).
    pub started_at: RunTime,
    /// [`transcript`] of the case's events (bounded in lines).
    pub transcript: String,
    /// What `measure` steps recorded, in order.
    pub metrics: Vec<MetricEvent>,
    /// A passing case late in a large run (the report budget): its test case keeps the
    /// verdict, clause, timers and source attributes, not the properties every other report
    /// has (target, profile, id, source, tags, requires) nor a transcript.
    pub lean: bool,
}

impl JunitCase {
    pub fn new(case: &CaseLog, finished: &CaseFinished) -> Self {
        JunitCase {
            info: case.info.clone(),
            finished: finished.clone(),
            started_at: case.started_at,
            transcript: transcript(case.started_at, &case.events),
            metrics: case
                .events
                .iter()
                .filter_map(|e| match e {
                    Event::Metric(m) => Some(m.clone()),
                    _ => None,
                })
                .collect(),
            lean: false,
        }
    }
}

/// The JUnit report of `cases` (finished cases, in plan order).
pub fn junit_report<'a>(
    run: Option<&RunStarted>,
    run_finished: Option<&RunFinished>,
    cases: impl IntoIterator<Item = &'a JunitCase>,
) -> Report {
    let mut report = Report::new("doipcheck");
    if let Some(at) = run.and_then(|r| wall_clock(r, RunTime::ZERO)) {
        report.set_timestamp(at);
    }
    let target = run.map(|s| printable(&s.target));
    let profile = run.map(|s| match &s.profile {
        Some(p) => printable(&p.to_string_lossy()),
        None => "built-in".to_owned(),
    });
    // One testsuite per suite file, in the order files first appear in the plan.
    let mut suites: Vec<(std::path::PathBuf, TestSuite, RunTime)> = Vec::new();
    let mut total = std::time::Duration::ZERO;
    for case in cases {
        let (info, finished) = (&case.info, &case.finished);
        let index = match suites.iter().position(|(file, ..)| *file == info.suite_file) {
            Some(i) => i,
            None => {
                let mut suite = TestSuite::new(printable(&info.suite));
                suite.add_property(Property::new(
                    "file",
                    printable(&info.suite_file.to_string_lossy()),
                ));
                suite.add_property(Property::new("title", printable(&info.suite_title)));
                suite.set_time(std::time::Duration::ZERO);
                suites.push((info.suite_file.clone(), suite, case.started_at));
                suites.len() - 1
            }
        };
        let (_, suite, first_started) = &mut suites[index];
        // With --jobs N a later case of the plan may have started first.
        *first_started = (*first_started).min(case.started_at);
        let mut tc = test_case(case, target.as_deref(), profile.as_deref());
        if let Some(at) = run.and_then(|r| wall_clock(r, case.started_at)) {
            tc.set_timestamp(at);
        }
        suite.add_test_case(tc);
        let time = suite.time.unwrap_or_default().saturating_add(finished.duration);
        suite.set_time(time);
        total = total.saturating_add(finished.duration);
    }
    report.add_test_suites(suites.into_iter().map(|(_, mut suite, first_started)| {
        if let Some(at) = run.and_then(|r| wall_clock(r, first_started)) {
            suite.set_timestamp(at);
        }
        suite
    }));
    match run_finished {
        Some(f) => report.set_time(f.at.0),
        None => report.set_time(total),
    };
    report
}

/// The bytes `case` adds to junit.xml (its test case with properties and transcript), for the
/// report budget: measured by writing it, so the bound holds whatever its texts hold.
pub fn junit_case_bytes(run: Option<&RunStarted>, case: &JunitCase) -> u64 {
    let mut report = junit_report(run, None, [case]);
    let with = report.to_string().map_or(0, |s| s.len());
    for suite in &mut report.test_suites {
        suite.test_cases.clear();
    }
    let without = report.to_string().map_or(0, |s| s.len());
    with.saturating_sub(without) as u64
}

fn test_case(case: &JunitCase, target: Option<&str>, profile: Option<&str>) -> TestCase {
    let (info, finished) = (&case.info, &case.finished);
    let waived = finished.waiver.as_ref().filter(|_| finished.verdict.is_failure());
    let status = match (waived, finished.verdict) {
        (_, Verdict::Pass) => TestCaseStatus::success(),
        (_, Verdict::Skipped) => {
            let mut s = TestCaseStatus::skipped();
            if let Some(r) = &finished.reason {
                s.set_message(one_line(&r.message));
            }
            s
        }
        // A waived failure: CI must not count it as failing, nor as a pass; the verdict stays
        // in the properties and the message says who accepted it.
        (Some(w), _) => {
            let mut s = TestCaseStatus::skipped();
            s.set_type("waived");
            s.set_message(one_line(&format!(
                "waived: {} (accepted by {} until {})",
                w.reason, w.accepted_by, w.until
            )));
            if let Some(r) = &finished.reason {
                s.set_description(one_line(&r.message));
            }
            s
        }
        (None, Verdict::Fail | Verdict::Error | Verdict::Inconclusive) => {
            let kind = if finished.verdict == Verdict::Fail {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut s = TestCaseStatus::non_success(kind);
            s.set_type(finished.verdict.as_str());
            if let Some(r) = &finished.reason {
                s.set_message(one_line(&r.message));
            }
            s.set_description(explain(finished, ""));
            s
        }
    };
    let mut tc = TestCase::new(printable(&format!("{} {}", info.id, info.title)), status);
    tc.set_classname(printable(&info.suite));
    // `file` and `line` as pytest and GitLab write them: CI servers link the case to its source.
    tc.extra.insert("file".into(), printable(&info.suite_file.to_string_lossy()).into());
    tc.extra.insert("line".into(), info.line.to_string().into());
    tc.set_time(finished.duration);
    let mut props = vec![("verdict", finished.verdict.as_str().to_owned())];
    if let Some(clause) = &info.clause {
        props.push(("clause", printable(clause)));
    }
    let (target, profile) = if case.lean { (None, None) } else { (target, profile) };
    if let Some(t) = target {
        props.push(("target", t.to_owned()));
    }
    if let Some(p) = profile {
        props.push(("profile", p.to_owned()));
    }
    if !case.lean {
        props.push(("id", printable(&info.id)));
        props.push((
            "source",
            printable(&format!("{}:{}", info.suite_file.to_string_lossy(), info.line)),
        ));
        if !info.tags.is_empty() {
            props.push(("tags", printable(&info.tags.join(","))));
        }
        if !info.requires.is_empty() {
            props.push(("requires", printable(&info.requires.join(","))));
        }
    }
    for (name, value) in &info.matrix {
        props.push(("matrix", printable(&format!("{name}={value}"))));
    }
    if finished.attempts > 1 {
        props.push(("attempts", finished.attempts.to_string()));
    }
    if finished.flaky {
        props.push(("flaky", "true".to_owned()));
    }
    if let Some(w) = &finished.waiver {
        props.push(("waived", printable(&w.matches)));
    }
    if let Some(capture) = &finished.capture {
        props.push(("capture", printable(&capture.to_string_lossy())));
    }
    let mut props: Vec<(String, String)> =
        props.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
    // Measured values in microseconds, named by the step: `measure.<name>_us`.
    for m in &case.metrics {
        props.push((format!("measure.{}_us", printable(&m.name)), m.value.as_micros().to_string()));
    }
    tc.add_properties(props.into_iter().map(|(n, v)| Property::new(n, v)));
    let mut out = case.transcript.clone();
    if let Some(capture) = &finished.capture {
        out.push_str(&format!("capture: {}\n", printable(&capture.to_string_lossy())));
    }
    if !case.lean {
        tc.set_system_out(out);
    }
    tc
}

/// The wall clock at run time `at`: the run's start on the wall clock plus the monotonic time
/// since. `None` when out of chrono's range (a wall clock set absurdly).
fn wall_clock(run: &RunStarted, at: RunTime) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let micros = run.wall_clock_unix_us.checked_add(at.as_micros())?;
    let utc = chrono::DateTime::from_timestamp_micros(i64::try_from(micros).ok()?)?;
    Some(utc.fixed_offset())
}

/// `text` for an attribute: printable, tabs and newlines as spaces (an XML parser would turn
/// them into spaces anyway, XML 1.0 §3.3.3; this way every reader sees the same).
fn one_line(text: &str) -> String {
    printable(text).replace(['\t', '\n'], " ")
}
