//! The JSON report, for tools: the run, then every case with its verdict and all its events
//! (frames with their full bytes as hex), then the run's end and counts.
//!
//! Shape (`format` names the version of this shape; fields are added, never renamed within a
//! version):
//! ```text
//! { "format": "doipcheck-report/2", "tool": {"name", "version", "command_line": [..]},
//!   "run": <run_started event> | null,
//!   "cases": [ { "case", "info", "started_at_us", "verdict" | null,
//!                "finished": <case_finished event> | null, "events": [<event>...] } ],
//!   "finished": <run_finished event> | null,
//!   "unlisted_cases": N (only when the report budget counted cases without writing them),
//!   "counts": { "pass", "fail", "inconclusive", "error", "skipped", "flaky" } }
//! ```
//! Events serialize as `runner::event` defines (a TLS connection's bytes on the wire and its
//! secrets, which only the capture shows, are left out): an `"event"` tag, times in integer
//! microseconds since the run started, bytes as lowercase hex. Every time field names its unit
//! (`at_us`, `duration_us`, `elapsed_us`, `value_us`, `declared_wait_us`, `started_at_us`).
//!
//! Version 2 renamed the time fields of version 1 to carry their unit: `at` -> `at_us`,
//! `started_at` -> `started_at_us`, `duration` -> `duration_us`, `elapsed` -> `elapsed_us`,
//! `value` -> `value_us`. [`super::load`] reads both versions back.
//!
//! The report is streamed: each case is written when it finishes and its events are then
//! dropped from memory, so a flooding target costs disk, not memory. Cases therefore appear in
//! the order they finished (plan order with one job; sort by `"case"` for plan order), and
//! cases a cut-short run never finished come last with `"verdict": null`.

use std::io::Write;

use serde::Serialize;

use super::log::CaseLog;
use crate::runner::event::{
    CaseFinished, CaseInfo, CaseKey, Counts, Event, RunFinished, RunStarted, RunTime, Verdict,
};

/// The version of the JSON shape.
pub const FORMAT: &str = "doipcheck-report/2";

#[derive(Serialize)]
struct JsonCase<'a> {
    case: CaseKey,
    info: &'a CaseInfo,
    #[serde(rename = "started_at_us")]
    started_at: RunTime,
    verdict: Option<Verdict>,
    finished: Option<&'a CaseFinished>,
    #[serde(serialize_with = "reported_events")]
    events: &'a [Event],
}

/// A case's events without what only its capture shows (a TLS connection's records and
/// secrets: the DoIP frames inside are reported).
fn reported_events<S: serde::Serializer>(events: &&[Event], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(events.iter().filter(|e| !e.is_capture_only()))
}

/// Writes the JSON report piece by piece: [`JsonStream::start`], a [`JsonStream::case`] per
/// case, [`JsonStream::end`].
pub struct JsonStream<W: Write> {
    out: W,
    cases: usize,
    /// Bytes of the cases written so far.
    bytes: u64,
}

impl<W: Write> JsonStream<W> {
    /// Writes everything before the first case.
    /// `command_line` is how doipcheck was started (shown by the HTML report).
    pub fn start(
        mut out: W,
        run: Option<&RunStarted>,
        command_line: &[String],
    ) -> std::io::Result<Self> {
        writeln!(out, "{{")?;
        writeln!(out, "\"format\": \"{FORMAT}\",")?;
        write!(
            out,
            "\"tool\": {{\"name\": \"doipcheck\", \"version\": \"{}\", \"command_line\": ",
            env!("CARGO_PKG_VERSION")
        )?;
        serde_json::to_writer(&mut out, command_line)?;
        writeln!(out, "}},")?;
        write!(out, "\"run\": ")?;
        serde_json::to_writer_pretty(&mut out, &run)?;
        write!(out, ",\n\"cases\": [")?;
        Ok(JsonStream { out, cases: 0, bytes: 0 })
    }

    /// Writes one case with all its events (`finished` is `None` for a case cut short).
    /// `compact`: without indentation (once the report budget is half spent).
    pub fn case(
        &mut self,
        case: &CaseLog,
        finished: Option<&CaseFinished>,
        compact: bool,
    ) -> std::io::Result<()> {
        let json = JsonCase {
            case: case.key,
            info: &case.info,
            started_at: case.started_at,
            verdict: finished.map(|f| f.verdict),
            finished,
            events: &case.events,
        };
        self.out.write_all(if self.cases == 0 { b"\n" } else { b",\n" })?;
        let text =
            if compact { serde_json::to_vec(&json)? } else { serde_json::to_vec_pretty(&json)? };
        self.out.write_all(&text)?;
        self.cases += 1;
        self.bytes += text.len() as u64 + 2;
        Ok(())
    }

    /// Bytes of the cases written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Writes the end of the report and hands back the writer.
    /// `unlisted`: cases the report budget counted but did not write (`"unlisted_cases"`, only
    /// when there are some).
    pub fn end(
        mut self,
        finished: Option<&RunFinished>,
        counts: &Counts,
        unlisted: u64,
    ) -> std::io::Result<W> {
        write!(self.out, "\n],\n\"finished\": ")?;
        serde_json::to_writer_pretty(&mut self.out, &finished)?;
        if unlisted > 0 {
            write!(self.out, ",\n\"unlisted_cases\": {unlisted}")?;
        }
        write!(self.out, ",\n\"counts\": ")?;
        serde_json::to_writer_pretty(&mut self.out, counts)?;
        writeln!(self.out, "\n}}")?;
        Ok(self.out)
    }
}
