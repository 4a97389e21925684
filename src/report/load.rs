//! Reading `report.json` back (format 2, and format 1 whose time fields had no unit), so
//! `doipcheck report --from` can rebuild HTML, JUnit and Markdown from one run or from the
//! shards of one.
//!
//! The file may come from anywhere: it is read up to [`MAX_REPORT_BYTES`], serde_json's
//! nesting limit bounds recursion, and a bad file is an error naming the file, line and column.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::log::CaseLog;
use crate::runner::event::{
    CaseFinished, CaseInfo, CaseKey, Counts, Event, RunFinished, RunStarted, RunTime,
};

/// Largest report read: 10 000 cases each with a full default recording (1 MiB as hex) would
/// be about 20 GiB, which no one rebuilds; a real nightly run is well under this.
pub const MAX_REPORT_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// One JSON report as read.
#[derive(Debug, Clone, Default)]
pub struct LoadedReport {
    /// `tool.command_line`: how doipcheck was started (empty for format 1).
    pub command_line: Vec<String>,
    pub version: String,
    pub run: Option<RunStarted>,
    /// Every case, in file order, with `finished` `None` for a case a cut-short run never ended.
    pub cases: Vec<(CaseLog, Option<CaseFinished>)>,
    pub finished: Option<RunFinished>,
    pub counts: Counts,
}

#[derive(Deserialize)]
struct Doc {
    format: String,
    #[serde(default)]
    tool: Tool,
    run: Option<RunStarted>,
    cases: Vec<DocCase>,
    finished: Option<RunFinished>,
}

#[derive(Deserialize, Default)]
struct Tool {
    #[serde(default)]
    version: String,
    #[serde(default)]
    command_line: Vec<String>,
}

#[derive(Deserialize)]
struct DocCase {
    case: CaseKey,
    info: CaseInfo,
    #[serde(rename = "started_at_us", alias = "started_at")]
    started_at: RunTime,
    finished: Option<CaseFinished>,
    events: Vec<Event>,
}

/// Reads the report at `path`. The error is one line naming the file.
pub fn load_report(path: &Path) -> Result<LoadedReport, String> {
    let text = read_bounded(path, MAX_REPORT_BYTES)?;
    parse_report(&text).map_err(|e| format!("{}:{e}", path.display()))
}

/// The bytes of the file at `path`, refused past `max` (a file from anyone); the error is
/// one line naming the file.
pub(crate) fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let mut data = Vec::new();
    file.take(max + 1).read_to_end(&mut data).map_err(|e| format!("{name}: {e}"))?;
    if data.len() as u64 > max {
        return Err(format!("{name}: larger than {} MiB", max >> 20));
    }
    Ok(data)
}

/// Parses the text of a JSON report; the error starts with `line:column: `.
pub fn parse_report(text: &[u8]) -> Result<LoadedReport, String> {
    let doc: Doc = serde_json::from_slice(text)
        .map_err(|e| format!("{}:{}: not a doipcheck JSON report: {e}", e.line(), e.column()))?;
    if !matches!(doc.format.as_str(), "doipcheck-report/1" | "doipcheck-report/2") {
        return Err(format!(
            "1:1: format `{}` is not one this doipcheck reads (doipcheck-report/1 or /2)",
            doc.format
        ));
    }
    let mut counts = Counts::default();
    let cases = doc
        .cases
        .into_iter()
        .map(|c| {
            if let Some(f) = &c.finished {
                counts.add_case(f);
            }
            let log =
                CaseLog { key: c.case, info: c.info, started_at: c.started_at, events: c.events };
            (log, c.finished)
        })
        .collect();
    Ok(LoadedReport {
        command_line: doc.tool.command_line,
        version: doc.tool.version,
        run: doc.run,
        cases,
        finished: doc.finished,
        counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ReportOptions, write_all};
    use crate::runner::event::{CaseStarted, Verdict};
    use std::time::Duration;

    #[test]
    fn a_written_report_reads_back_with_its_events_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let info = super::super::log::test_info("A-1");
        let finished = CaseFinished {
            case: CaseKey(0),
            at: RunTime(Duration::from_micros(30)),
            verdict: Verdict::Fail,
            reason: None,
            duration: Duration::from_micros(20),
            attempts: 1,
            flaky: false,
            capture: None,
            waiver: None,
        };
        let events = [
            Event::CaseStarted(CaseStarted {
                case: CaseKey(0),
                at: RunTime(Duration::from_micros(10)),
                info: info.clone(),
            }),
            Event::CaseFinished(finished.clone()),
        ];
        let mut options = ReportOptions::new(dir.path());
        options.command_line = vec!["doipcheck".into(), "run".into()];
        let written = write_all(&options, &events).unwrap();
        let loaded = load_report(&written.json).unwrap();
        assert_eq!(loaded.command_line, ["doipcheck", "run"]);
        assert_eq!(loaded.counts.fail, 1);
        let (log, f) = &loaded.cases[0];
        assert_eq!(
            (&log.info, log.started_at, f.as_ref()),
            (&info, events_at(10), Some(&finished))
        );
        assert_eq!(log.events, [Event::CaseFinished(finished)]);
    }

    fn events_at(us: u64) -> RunTime {
        RunTime(Duration::from_micros(us))
    }

    #[test]
    fn a_bad_file_is_named_with_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "{\n\"format\": 3}").unwrap();
        let err = load_report(&path).unwrap_err();
        assert!(err.starts_with(&format!("{}:2:", path.display())), "{err}");
        std::fs::write(&path, r#"{"format": "x", "run": null, "cases": [], "finished": null}"#)
            .unwrap();
        let err = load_report(&path).unwrap_err();
        assert!(err.contains("format `x` is not one this doipcheck reads"), "{err}");
    }
}
