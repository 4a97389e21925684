//! Reporters: console, JUnit, JSON, HTML, a Markdown summary and per-case pcapng captures.
//! They consume runner events ([`crate::runner::event`]) and nothing else; `report --from`
//! rebuilds HTML, JUnit and Markdown from the JSON (`load.rs`, `rebuild.rs`).
//!
//! # For the runner
//!
//! ```text
//! let options = ReportOptions::new("reports");          // --report-dir; .junit/.json override
//! let mut reports = Reporters::new(options, ConsoleMode::Auto);
//! // pass `reports` as an EventSink; when a case ends, set CaseFinished::capture to
//! // ReportOptions::capture decides which cases keep a capture (`--pcap failing|all|none`)
//! // ... run: every event goes to reports.handle(&event) ...
//! let written = reports.finish()?;                       // also after Ctrl-C
//! ```
//!
//! - The console prints as events arrive (a bar on a terminal, plain lines elsewhere).
//! - A case's capture is written when its `CaseFinished` arrives, to the path it names (none
//!   when `capture` is `None`), from the case's connection and frame events.
//! - JSON (`report.json`) and HTML (`report.html`) are streamed: each case as it finishes, its
//!   events then dropped from memory. JUnit (`junit.xml`) is written on `RunFinished`. Both are completed by
//!   [`Reporters::finish`] if `RunFinished` never came (a run cut short): they hold the cases
//!   that finished. Files appear under their name only when complete (written as
//!   `NAME.partial`, then renamed).
//! - [`write_all`] renders the same files from a recorded event list after the fact.
//!
//! May import `runner::event`, `pcap`, `codec` (CAN frames) and `proto::time`; the waiver file
//! is read with the suite's YAML and diagnostics (`suite::yaml`, `suite::diag`).

mod budget;
mod bundle;
mod capture;
mod console;
mod diff;
mod files;
mod history;
mod html;
mod json;
mod junit;
mod load;
mod log;
mod markdown;
mod merge;
mod rebuild;
mod text;
mod waivers;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use budget::{LeftOut, MAX_REPORT_DIR_BYTES};
pub use bundle::{Verified, verify_bundle, write_bundle};
pub use capture::{CapturePolicy, capture_path, write_case_capture};
pub use console::{ColorChoice, ConsoleMode, ConsoleReporter, SLOWEST_SHOWN, set_color};
pub use diff::{Baseline, RunDiff, RunOutcomes, diff, load_baseline, report_json_in};
pub use files::FileReports;
pub use history::{HistoryRun, history_page, order as order_history};
pub use html::{
    BundleShown, CampaignView, HtmlReport, MAX_CHART_FRAMES, RunHead, human, show_bundle_digest,
};
pub use json::{FORMAT as JSON_FORMAT, JsonStream};
pub use junit::{JunitCase, junit_report};
pub use load::{LoadedReport, MAX_REPORT_BYTES, load_report, parse_report};
pub use log::CaseLog;
pub use markdown::markdown_summary;
pub use merge::{JunitInput, merge_junit};
pub use rebuild::{RebuildOutputs, Rebuilt, rebuild};
pub use text::printable;
pub use waivers::{WaiverSet, load_waivers, read_waivers, shown_status};

pub use crate::pcap::PortMapping;
use crate::runner::event::{Event, EventSink};

/// Where the file reports go.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The report folder (`--report-dir`, default `reports`).
    pub dir: PathBuf,
    /// The JUnit file; `None`: `DIR/junit.xml`.
    pub junit: Option<PathBuf>,
    /// The JSON file; `None`: `DIR/report.json`.
    pub json: Option<PathBuf>,
    /// The HTML page; `None`: `DIR/report.html`.
    pub html: Option<PathBuf>,
    /// Where the Markdown summary goes (`--markdown`); `None`: not written.
    pub markdown: Option<PathBuf>,
    /// A file the Markdown summary is appended to (`$GITHUB_STEP_SUMMARY`); `None`: none.
    pub step_summary: Option<PathBuf>,
    /// How captures show the entity's port (default: as 13400, so Wireshark decodes DoIP).
    pub port_mapping: PortMapping,
    /// Which cases keep a capture (`--pcap`).
    pub capture: CapturePolicy,
    /// How doipcheck was started, for the JSON and HTML reports (empty: not shown).
    pub command_line: Vec<String>,
    /// A run to compare against (`--baseline`): the diff goes atop the HTML page, into the
    /// Markdown summary and onto the console.
    pub baseline: Option<std::sync::Arc<Baseline>>,
    /// Accepted deviations (`--waivers`): a failure one accepts is reported as `waived`.
    pub waivers: Option<std::sync::Arc<WaiverSet>>,
    /// The bound of the whole report folder ([`MAX_REPORT_DIR_BYTES`]; smaller in tests).
    pub max_bytes: u64,
    /// The evidence bundle the run packs (`--bundle`): the page keeps a place for its digest.
    pub bundle: Option<PathBuf>,
}

impl ReportOptions {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ReportOptions {
            dir: dir.into(),
            junit: None,
            json: None,
            html: None,
            markdown: None,
            step_summary: None,
            port_mapping: PortMapping::default(),
            capture: CapturePolicy::default(),
            command_line: Vec::new(),
            baseline: None,
            waivers: None,
            max_bytes: MAX_REPORT_DIR_BYTES,
            bundle: None,
        }
    }

    pub fn junit_path(&self) -> PathBuf {
        self.junit.clone().unwrap_or_else(|| self.dir.join("junit.xml"))
    }

    pub fn json_path(&self) -> PathBuf {
        self.json.clone().unwrap_or_else(|| self.dir.join("report.json"))
    }

    pub fn html_path(&self) -> PathBuf {
        self.html.clone().unwrap_or_else(|| self.dir.join("report.html"))
    }
}

/// The files a run's reports were written to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub junit: PathBuf,
    pub json: PathBuf,
    pub html: PathBuf,
    /// The size of the HTML page in bytes.
    pub html_bytes: u64,
    /// The Markdown summary, when one was asked for.
    pub markdown: Option<PathBuf>,
    /// Captures, in the order their cases finished.
    pub captures: Vec<PathBuf>,
    /// The counts of the finished cases, waived failures apart.
    pub counts: crate::runner::event::Counts,
    /// What changed since the baseline, when there is one.
    pub diff: Option<RunDiff>,
    /// Why the waivers fail the run (expired, stale), one line each.
    pub waiver_problems: Vec<String>,
}

/// Console and file reports together: the one sink the runner needs.
pub struct Reporters {
    console: ConsoleReporter<std::io::Stderr>,
    files: FileReports,
}

impl Reporters {
    pub fn new(options: ReportOptions, console: ConsoleMode) -> Self {
        Reporters { console: ConsoleReporter::stderr(console), files: FileReports::new(options) }
    }

    /// Writes JUnit and JSON unless `RunFinished` already did (call it after the run, also
    /// after Ctrl-C), and says where every file is.
    pub fn finish(&mut self) -> std::io::Result<Written> {
        self.files.finish()
    }
}

impl EventSink for Reporters {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        // The capture path and the waiver are the report's decisions: both sinks see the same.
        let annotated = self.files.annotate(event);
        let event = annotated.as_ref().unwrap_or(event);
        // Files first, so the console's last line can say where they are; a file error does
        // not silence the console.
        let files = self.files.handle(event);
        let console = self.console.handle(event);
        if let (Event::RunFinished(_), Ok(())) = (event, &files) {
            let w = self.files.finish()?;
            let mut line = format!(
                "{:>12} {} {} {} ({})",
                "Reports",
                w.junit.display(),
                w.json.display(),
                w.html.display(),
                size(w.html_bytes)
            );
            if let Some(first) = w.captures.first().and_then(|p| p.parent()) {
                line.push_str(&format!(" ({} captures in {})", w.captures.len(), first.display()));
            }
            self.console.line(&printable(&line))?;
            for line in w.diff.iter().flat_map(RunDiff::console_lines) {
                self.console.line(&line)?;
            }
            for problem in &w.waiver_problems {
                self.console.line(&printable(&format!("{:>12} {problem}", "Waiver")))?;
            }
        }
        files.and(console)
    }
}

/// `1.2 MiB`, `340 KiB`, `512 B`: a file's size for the console.
pub fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{} KiB", bytes / 1024),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// Appends `text` to `path` (creating it), as `$GITHUB_STEP_SUMMARY` wants.
pub(crate) fn append_to(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// Writes JUnit, JSON and the captures `CaseFinished` events name, from a recorded run (whole,
/// or cut short: the finished cases are reported).
pub fn write_all(options: &ReportOptions, events: &[Event]) -> std::io::Result<Written> {
    let mut files = FileReports::new(options.clone());
    for event in events {
        files.handle(event)?;
    }
    files.finish()
}

/// Writes a JUnit report to `path` whole (through `PATH.partial`).
pub fn write_junit(path: &Path, report: &quick_junit::Report) -> std::io::Result<()> {
    let xml = report.to_string().map_err(std::io::Error::other)?;
    write_atomically(path, |w| w.write_all(xml.as_bytes()))
}

/// Writes `data` to `path` whole (through `PATH.partial`).
pub fn write_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    write_atomically(path, |w| w.write_all(data))
}

/// `PATH.partial`, where a file is written before it is renamed to `PATH`.
pub(crate) fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// Writes a file through `PATH.partial` and a rename, creating the parent folder, so readers
/// (CI uploading artifacts, a second shard) never see half a file.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let partial = partial_path(path);
    let mut file = BufWriter::new(File::create(&partial)?);
    let result = write(&mut file).and_then(|()| file.flush());
    drop(file);
    match result {
        Ok(()) => std::fs::rename(&partial, path),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_the_folder_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/junit.xml");
        write_atomically(&path, |w| w.write_all(b"<x/>")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"<x/>");
        let failed =
            write_atomically(&dir.path().join("a/c.xml"), |_| Err(std::io::Error::other("boom")));
        assert!(failed.is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b"]);
    }

    #[test]
    fn a_run_cut_short_still_writes_junit_and_json_for_what_finished() {
        let dir = tempfile::tempdir().unwrap();
        let options = ReportOptions::new(dir.path().join("reports"));
        let written = write_all(&options, &[]).unwrap();
        assert_eq!(written.junit, dir.path().join("reports/junit.xml"));
        let xml = std::fs::read_to_string(&written.junit).unwrap();
        assert!(xml.contains(r#"<testsuites name="doipcheck" tests="0""#), "{xml}");
        let json = std::fs::read_to_string(&written.json).unwrap();
        assert!(json.contains(r#""format": "doipcheck-report/2""#), "{json}");
    }
}
