//! Reporters: console, JUnit, JSON and per-case pcapng captures. They consume runner events
//! ([`crate::runner::event`]) and nothing else.
//!
//! # For the runner
//!
//! ```text
//! let options = ReportOptions::new("reports");          // --report-dir; .junit/.json override
//! let mut reports = Reporters::new(options, ConsoleMode::Auto);
//! // pass `reports` as an EventSink; when a case ends, set CaseFinished::capture to
//! // CapturePolicy::Failing.capture_for(&dir, key, &info, verdict)   (`--pcap all`: ::All)
//! // ... run: every event goes to reports.handle(&event) ...
//! let written = reports.finish()?;                       // also after Ctrl-C
//! ```
//!
//! - The console prints as events arrive (a bar on a terminal, plain lines elsewhere).
//! - A case's capture is written when its `CaseFinished` arrives, to the path it names (none
//!   when `capture` is `None`), from the case's connection and frame events.
//! - JUnit (`junit.xml`) and JSON (`report.json`) are written on `RunFinished`, and by
//!   [`Reporters::finish`] if that never came (a run cut short): they hold the cases that
//!   finished. Files are written through a temporary file and a rename.
//! - [`write_all`] renders the same files from a recorded event list after the fact.
//!
//! May import `runner::event`, `pcap`, `codec` (CAN frames) and `proto::time`.

mod capture;
mod console;
mod json;
mod junit;
mod log;
mod text;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use capture::{CapturePolicy, capture_path, write_case_capture};
pub use console::{ConsoleMode, ConsoleReporter, SLOWEST_SHOWN};
pub use json::{FORMAT as JSON_FORMAT, json_report, write_json};
pub use junit::{junit_report, write_junit};
pub use log::{CaseLog, RunLog};
pub use text::printable;

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
    /// How captures show the entity's port (default: as 13400, so Wireshark decodes DoIP).
    pub port_mapping: PortMapping,
}

impl ReportOptions {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ReportOptions {
            dir: dir.into(),
            junit: None,
            json: None,
            port_mapping: PortMapping::default(),
        }
    }

    pub fn junit_path(&self) -> PathBuf {
        self.junit.clone().unwrap_or_else(|| self.dir.join("junit.xml"))
    }

    pub fn json_path(&self) -> PathBuf {
        self.json.clone().unwrap_or_else(|| self.dir.join("report.json"))
    }
}

/// The files a run's reports were written to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub junit: PathBuf,
    pub json: PathBuf,
    /// Captures, in the order their cases finished.
    pub captures: Vec<PathBuf>,
}

/// The file reports (JUnit, JSON, captures) as an event sink.
pub struct FileReports {
    options: ReportOptions,
    log: RunLog,
    captures: Vec<PathBuf>,
}

impl FileReports {
    pub fn new(options: ReportOptions) -> Self {
        FileReports { options, log: RunLog::default(), captures: Vec::new() }
    }

    /// The events recorded so far, grouped by case.
    pub fn log(&self) -> &RunLog {
        &self.log
    }

    /// Writes JUnit and JSON for the cases finished so far and says where every file went.
    pub fn finish(&mut self) -> std::io::Result<Written> {
        let junit = self.options.junit_path();
        let json = self.options.json_path();
        write_junit(&self.log, &junit).map_err(|e| context(e, &junit))?;
        write_json(&self.log, &json).map_err(|e| context(e, &json))?;
        Ok(Written { junit, json, captures: self.captures.clone() })
    }
}

impl EventSink for FileReports {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        self.log.record(event);
        match event {
            Event::CaseFinished(f) => {
                let (Some(path), Some(case)) = (&f.capture, self.log.cases.get(&f.case)) else {
                    return Ok(());
                };
                capture::write_case_capture_file(
                    self.log.started.as_ref(),
                    case,
                    self.options.port_mapping,
                    path,
                )
                .map_err(|e| context(e, path))?;
                self.captures.push(path.clone());
                Ok(())
            }
            Event::RunFinished(_) => self.finish().map(|_| ()),
            _ => Ok(()),
        }
    }
}

/// Console and file reports together: the one sink the runner needs.
pub struct Reporters {
    console: ConsoleReporter<std::io::Stderr>,
    files: FileReports,
    /// Set once the files were written for `RunFinished`, so `finish` does not write twice.
    written: Option<Written>,
}

impl Reporters {
    pub fn new(options: ReportOptions, console: ConsoleMode) -> Self {
        Reporters {
            console: ConsoleReporter::stderr(console),
            files: FileReports::new(options),
            written: None,
        }
    }

    /// Writes JUnit and JSON unless `RunFinished` already did (call it after the run, also
    /// after Ctrl-C), and says where every file is.
    pub fn finish(&mut self) -> std::io::Result<Written> {
        match &self.written {
            Some(w) => Ok(w.clone()),
            None => {
                let w = self.files.finish()?;
                self.written = Some(w.clone());
                Ok(w)
            }
        }
    }
}

impl EventSink for Reporters {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        // Files first, so the console's last line can say where they are; a file error does
        // not silence the console.
        let files = match event {
            Event::RunFinished(_) => {
                self.files.log.record(event);
                self.finish().map(|_| ())
            }
            _ => self.files.handle(event),
        };
        let console = self.console.handle(event);
        if let (Event::RunFinished(_), Some(w)) = (event, &self.written) {
            let mut line = format!("{:>12} {} {}", "Reports", w.junit.display(), w.json.display());
            if let Some(first) = w.captures.first().and_then(|p| p.parent()) {
                line.push_str(&format!(" ({} captures in {})", w.captures.len(), first.display()));
            }
            self.console.line(&printable(&line))?;
        }
        files.and(console)
    }
}

/// Writes JUnit, JSON and the captures `CaseFinished` events name, from a recorded run (whole,
/// or cut short: the finished cases are reported).
pub fn write_all(options: &ReportOptions, events: &[Event]) -> std::io::Result<Written> {
    let mut files = FileReports::new(options.clone());
    for event in events {
        match event {
            // `finish` below writes JUnit and JSON once, whether or not the run ended.
            Event::RunFinished(_) => files.log.record(event),
            _ => files.handle(event)?,
        }
    }
    files.finish()
}

fn context(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
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
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
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
        assert!(json.contains(r#""format": "doipcheck-report/1""#), "{json}");
    }
}
