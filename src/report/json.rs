//! The JSON report, for tools: the run, then every case in plan order with its verdict and
//! all its events (frames with their full bytes as hex), then the run's end and counts.
//!
//! Shape (`format` names the version of this shape; fields are added, never renamed):
//! ```text
//! { "format": "doipcheck-report/1", "tool": {"name", "version"},
//!   "run": <run_started event> | null,
//!   "cases": [ { "case", "info", "started_at", "verdict" | null,
//!                "finished": <case_finished event> | null, "events": [<event>...] } ],
//!   "finished": <run_finished event> | null,
//!   "counts": { "pass", "fail", "inconclusive", "error", "skipped", "flaky" } }
//! ```
//! Events serialize as `runner::event` defines: an `"event"` tag, times in integer
//! microseconds since the run started, bytes as lowercase hex.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::log::RunLog;
use crate::runner::event::{
    CaseFinished, CaseInfo, CaseKey, Counts, Event, RunFinished, RunStarted, RunTime, Verdict,
};

/// The version of the JSON shape.
pub const FORMAT: &str = "doipcheck-report/1";

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    case: CaseKey,
    info: &'a CaseInfo,
    started_at: RunTime,
    verdict: Option<Verdict>,
    finished: Option<&'a CaseFinished>,
    events: &'a [Event],
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format: &'static str,
    tool: Tool,
    run: Option<&'a RunStarted>,
    cases: Vec<JsonCase<'a>>,
    finished: Option<&'a RunFinished>,
    counts: Counts,
}

/// The JSON report of `log`, pretty-printed. Cases still running (a run cut short before the
/// runner could end them) appear with `"verdict": null`.
pub fn json_report(log: &RunLog) -> serde_json::Result<String> {
    let mut counts = Counts::default();
    for (_, f) in log.finished_cases() {
        counts.add(f.verdict, f.flaky);
    }
    let report = JsonReport {
        format: FORMAT,
        tool: Tool { name: "doipcheck", version: env!("CARGO_PKG_VERSION") },
        run: log.started.as_ref(),
        cases: log
            .cases
            .values()
            .map(|c| JsonCase {
                case: c.key,
                info: &c.info,
                started_at: c.started_at,
                verdict: c.finished.as_ref().map(|f| f.verdict),
                finished: c.finished.as_ref(),
                events: &c.events,
            })
            .collect(),
        finished: log.finished.as_ref(),
        counts,
    };
    serde_json::to_string_pretty(&report)
}

/// Writes the JSON report of `log` to `path` (atomically, creating the parent folder).
pub fn write_json(log: &RunLog, path: &Path) -> std::io::Result<()> {
    let mut json = json_report(log).map_err(std::io::Error::other)?;
    json.push('\n');
    super::write_atomically(path, |w| w.write_all(json.as_bytes()))
}
