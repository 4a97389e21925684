//! [`FileReports`]: the file reports (JUnit, JSON, HTML, Markdown, captures) as one event sink.
//!
//! Memory stays bounded by the cases running at once: a case's events are kept until its
//! `CaseFinished`, then its capture is written, its JSON and HTML sections are streamed out
//! and only a small summary (the JUnit test case with its bounded transcript) is kept.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::budget::{Budget, Kept, LeftOut};
use super::capture::write_case_capture_file;
use super::diff::{RunDiff, RunOutcomes, diff};
use super::html::{HtmlReport, RunHead};
use super::json::JsonStream;
use super::junit::{JunitCase, junit_case_bytes, junit_report};
use super::log::CaseLog;
use super::markdown::markdown_summary;
use super::waivers::{WaiverUse, waiver_markdown, waiver_suite};
use super::{ReportOptions, Written, append_to, partial_path, write_atomically, write_junit};
use crate::runner::event::{
    CaseKey, Counts, Event, EventSink, RunFinished, RunStarted, UNRECORDED_NOTE_END,
};

/// JUnit, JSON and capture files of one run.
pub struct FileReports {
    options: ReportOptions,
    run: Option<RunStarted>,
    running: BTreeMap<CaseKey, CaseLog>,
    done: BTreeMap<CaseKey, JunitCase>,
    counts: Counts,
    run_finished: Option<RunFinished>,
    /// The JSON report being streamed into `report.json.partial`; `None` before the first event
    /// (and after a write error, which `error` keeps).
    json: Option<JsonStream<BufWriter<File>>>,
    /// The HTML page, section by section; `None` once finished.
    html: Option<HtmlReport>,
    error: Option<std::io::Error>,
    captures: Vec<PathBuf>,
    written: Option<Written>,
    /// What the finished cases did to the waivers (`--waivers`).
    waiver_use: WaiverUse,
    /// What the files hold so far, and what the bound left out.
    budget: Budget,
    /// Bytes of the captures and JUnit transcripts so far (JSON and HTML count their own).
    other_bytes: u64,
    /// Cases whose recording limits (profile `recording.*`) left frames out.
    limited_cases: u64,
    /// Cases the budget counted but did not list (their JUnit entries stay for the totals).
    unlisted: std::collections::BTreeSet<CaseKey>,
}

impl FileReports {
    pub fn new(options: ReportOptions) -> Self {
        let budget = Budget::new(options.max_bytes);
        FileReports {
            html: Some(HtmlReport::new(options.html_path())),
            options,
            run: None,
            running: BTreeMap::new(),
            done: BTreeMap::new(),
            counts: Counts::default(),
            run_finished: None,
            json: None,
            error: None,
            captures: Vec::new(),
            written: None,
            waiver_use: WaiverUse::default(),
            budget,
            other_bytes: 0,
            limited_cases: 0,
            unlisted: Default::default(),
        }
    }

    /// Writes JUnit and ends the JSON report, with the cases finished so far (cases still
    /// running come last in the JSON with no verdict), and says where every file went. Called
    /// by `RunFinished`; call it yourself when a run was cut short. Later calls return the
    /// same answer and write nothing.
    pub fn finish(&mut self) -> std::io::Result<Written> {
        if let Some(w) = &self.written {
            return Ok(w.clone());
        }
        let mut diff = self
            .options
            .baseline
            .as_deref()
            .map(|b| diff(b, &RunOutcomes::from_cases(self.done.values())));
        // One shard runs a part of the plan: the baseline's other cases are not removed.
        if let Some(d) =
            diff.as_mut().filter(|_| self.run.as_ref().is_some_and(|r| r.shard.is_some()))
        {
            d.removed.clear();
        }
        let waiver_problems = match &self.options.waivers {
            Some(set) => self.waiver_use.problems(set),
            None => Vec::new(),
        };
        let junit_path = self.options.junit_path();
        let listed = self.done.iter().filter(|(k, _)| !self.unlisted.contains(k)).map(|(_, c)| c);
        let mut report = junit_report(self.run.as_ref(), self.run_finished.as_ref(), listed);
        if !waiver_problems.is_empty() {
            report.add_test_suite(waiver_suite(&waiver_problems));
        }
        if self.budget.left_out.unlisted > 0 {
            report.add_test_suite(unlisted_suite(&self.budget.left_out));
        }
        let junit = write_junit(&junit_path, &report);
        let json_path = self.options.json_path();
        let json = self.end_json(&json_path);
        let html_path = self.options.html_path();
        let html =
            self.end_html(diff.clone(), &waiver_problems).map_err(|e| context(e, &html_path));
        let markdown = self.write_markdown(diff.as_ref(), &waiver_problems);
        // Each file is written even when another failed; the first error wins.
        junit.map_err(|e| context(e, &junit_path))?;
        json?;
        let html_bytes = html?;
        markdown?;
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let written = Written {
            junit: junit_path,
            json: json_path,
            html: html_path,
            html_bytes,
            markdown: self.options.markdown.clone(),
            captures: self.captures.clone(),
            counts: self.counts,
            diff,
            waiver_problems,
        };
        self.written = Some(written.clone());
        Ok(written)
    }

    /// Streams the unfinished cases and the end of the JSON report, then renames it in place.
    /// Errors name the file.
    fn end_json(&mut self, path: &Path) -> std::io::Result<()> {
        self.open_json()?;
        let Some(mut json) = self.json.take() else { return Ok(()) };
        let mut end = || -> std::io::Result<()> {
            for case in self.running.values() {
                json.case(case, None, false)?;
            }
            Ok(())
        };
        end().map_err(|e| context(e, path))?;
        let unlisted = self.budget.left_out.unlisted;
        let mut out = json
            .end(self.run_finished.as_ref(), &self.counts, unlisted)
            .map_err(|e| context(e, path))?;
        std::io::Write::flush(&mut out).map_err(|e| context(e, path))?;
        drop(out);
        std::fs::rename(partial_path(path), path).map_err(|e| context(e, path))
    }

    /// Adds the cases still running (cut short) and writes the HTML page; returns its size.
    fn end_html(&mut self, diff: Option<RunDiff>, waivers: &[String]) -> std::io::Result<u64> {
        let Some(mut html) = self.html.take() else { return Ok(0) };
        for case in self.running.values() {
            html.case(case, None);
        }
        let head = RunHead {
            runs: self.run.iter().cloned().collect(),
            finished: self.run_finished.iter().cloned().collect(),
            command_line: self.options.command_line.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            diff,
            waiver_problems: waivers.to_vec(),
            left_out: self.budget.left_out,
            limited_cases: self.limited_cases,
            campaign: None,
            bundle: self.options.bundle.as_ref().map(|b| super::BundleShown {
                file: b.display().to_string(),
                ..super::BundleShown::default()
            }),
        };
        html.finish(&head)
    }

    /// The Markdown summary, to `--markdown` and appended to `$GITHUB_STEP_SUMMARY`.
    fn write_markdown(&self, diff: Option<&RunDiff>, waivers: &[String]) -> std::io::Result<()> {
        if self.options.markdown.is_none() && self.options.step_summary.is_none() {
            return Ok(());
        }
        let mut md = markdown_summary(
            self.run.as_ref().map(|r| r.target.as_str()),
            self.done.values(),
            diff,
        );
        md.push_str(&waiver_markdown(waivers));
        if let Some(path) = &self.options.markdown {
            write_atomically(path, |w| std::io::Write::write_all(w, md.as_bytes()))
                .map_err(|e| context(e, path))?;
        }
        if let Some(path) = &self.options.step_summary {
            append_to(path, &md).map_err(|e| context(e, path))?;
        }
        Ok(())
    }

    /// What the report files hold so far, in bytes.
    fn bytes_written(&self) -> u64 {
        self.json.as_ref().map_or(0, JsonStream::bytes)
            + self.html.as_ref().map_or(0, HtmlReport::bytes)
            + self.other_bytes
    }

    /// Opens the JSON stream unless it is open or failed before.
    fn open_json(&mut self) -> std::io::Result<()> {
        if self.json.is_some() || self.error.is_some() || self.written.is_some() {
            return Ok(());
        }
        let path = self.options.json_path();
        let open = || -> std::io::Result<JsonStream<BufWriter<File>>> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let file = BufWriter::new(File::create(partial_path(&path))?);
            JsonStream::start(file, self.run.as_ref(), &self.options.command_line)
        };
        match open() {
            Ok(json) => {
                self.json = Some(json);
                Ok(())
            }
            Err(e) => Err(self.fail(context(e, &path))),
        }
    }

    /// Keeps the first error for `finish` and returns one like it for the caller now.
    fn fail(&mut self, e: std::io::Error) -> std::io::Error {
        let copy = std::io::Error::new(e.kind(), e.to_string());
        self.json = None;
        self.error.get_or_insert(e);
        copy
    }

    fn case_finished(&mut self, key: CaseKey) -> std::io::Result<()> {
        let Some(case) = self.running.remove(&key) else { return Ok(()) };
        let Some(Event::CaseFinished(finished)) = case.events.last() else { return Ok(()) };
        let finished = finished.clone();
        let finished = &finished;
        if case
            .events
            .iter()
            .any(|e| matches!(e, Event::Note(n) if n.text.ends_with(UNRECORDED_NOTE_END)))
        {
            self.limited_cases += 1;
        }
        self.budget.written = self.bytes_written();
        let lean = self.budget.late() && !finished.verdict.is_failure();
        let kept = self.budget.keep(&case);
        let listed = !matches!(kept, Kept::Counted);
        let case = match kept {
            Kept::Trimmed(trimmed) => *trimmed,
            Kept::Whole | Kept::Counted => case,
        };
        self.counts.add_case(finished);
        if let Some(set) = &self.options.waivers {
            self.waiver_use.record(set, &case.info, finished);
        }
        // Kept for the totals, the baseline comparison and the Markdown summary even when the
        // case is not listed.
        let mut junit = JunitCase::new(&case, finished);
        junit.lean = lean;
        if !listed {
            junit.transcript.clear();
            self.unlisted.insert(key);
            if let Some(html) = &mut self.html {
                html.count(&case, Some(finished));
            }
            self.done.insert(key, junit);
            return Ok(());
        }
        self.other_bytes += junit_case_bytes(self.run.as_ref(), &junit);
        self.done.insert(key, junit);
        if let Some(html) = &mut self.html {
            html.case(&case, Some(finished));
        }
        let mut result = Ok(());
        if let Some(path) = &finished.capture {
            match write_case_capture_file(self.run.as_ref(), &case, self.options.port_mapping, path)
            {
                Ok(()) => {
                    self.other_bytes += std::fs::metadata(path).map_or(0, |m| m.len());
                    self.captures.push(path.clone());
                }
                Err(e) => result = Err(context(e, path)),
            }
        }
        self.open_json()?;
        let compact = self.budget.late();
        if let Some(json) = &mut self.json
            && let Err(e) = json.case(&case, Some(finished), compact)
        {
            let path = self.options.json_path();
            return Err(self.fail(context(e, &path)));
        }
        result
    }
}

/// The JUnit note of the cases the budget counted but did not list: a suite with no test case,
/// saying how many and why, so the totals of the other suites are not taken for the run's.
fn unlisted_suite(left_out: &LeftOut) -> quick_junit::TestSuite {
    let mut suite = quick_junit::TestSuite::new("not listed");
    suite.add_property(quick_junit::Property::new("cases", left_out.unlisted.to_string()));
    suite
        .add_property(quick_junit::Property::new("failing", left_out.unlisted_failing.to_string()));
    suite.set_system_out(format!(
        "{} cases ({} of them failing) are counted but not listed here, in report.json or in report.html: the run's reports stay under {} MiB (the console listed every case)",
        left_out.unlisted,
        left_out.unlisted_failing,
        super::MAX_REPORT_DIR_BYTES >> 20
    ));
    suite
}

impl FileReports {
    /// `event` with the report's decisions filled in, when it is a `CaseFinished`: the
    /// capture path the policy gives its case (unless the runner named one) and the waiver
    /// that accepts its failure; `None`: use `event` as it is. A case without any traffic (no
    /// frame, no connection: a target unreachable from the start) gets no capture, so no
    /// empty file is left.
    pub fn annotate(&self, event: &Event) -> Option<Event> {
        let Event::CaseFinished(f) = event else { return None };
        let case = self.running.get(&f.case)?;
        let waiver = match (&self.options.waivers, &f.waiver) {
            (Some(set), None) => super::waivers::accepting(set, &case.info, f),
            _ => None,
        };
        let traffic =
            case.events.iter().any(|e| matches!(e, Event::Frame(_) | Event::Connection(_)));
        let capture = if f.capture.is_none() && traffic {
            self.options.capture.capture_for(&self.options.dir, f.case, &case.info, f.verdict)
        } else {
            None
        };
        if waiver.is_none() && capture.is_none() {
            return None;
        }
        let mut f = f.clone();
        f.capture = f.capture.or(capture);
        f.waiver = f.waiver.or(waiver);
        Some(Event::CaseFinished(f))
    }
}

impl EventSink for FileReports {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        let annotated = self.annotate(event);
        let event = annotated.as_ref().unwrap_or(event);
        match event {
            Event::RunStarted(s) => {
                self.run = Some(s.clone());
                self.open_json()
            }
            Event::RunFinished(f) => {
                self.run_finished = Some(f.clone());
                self.finish().map(|_| ())
            }
            Event::CaseStarted(s) => {
                let case = CaseLog {
                    key: s.case,
                    info: s.info.clone(),
                    started_at: s.at,
                    events: Vec::new(),
                };
                self.running.insert(s.case, case);
                Ok(())
            }
            other => {
                // Events of a case that never started cannot happen by the runner's contract;
                // a report must not invent a case for them.
                let Some(key) = other.case() else { return Ok(()) };
                let Some(case) = self.running.get_mut(&key) else { return Ok(()) };
                case.events.push(other.clone());
                match other {
                    Event::CaseFinished(_) => self.case_finished(key),
                    _ => Ok(()),
                }
            }
        }
    }
}

fn context(e: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::event::{CaseFinished, CaseStarted, NoteEvent, RunTime, Verdict};
    use std::path::Path;
    use std::time::Duration;

    fn started(key: u32) -> Event {
        Event::CaseStarted(CaseStarted {
            case: CaseKey(key),
            at: RunTime::ZERO,
            info: super::super::log::test_info(&format!("C-{key}")),
        })
    }

    fn note(key: u32) -> Event {
        Event::Note(NoteEvent { case: CaseKey(key), at: RunTime::ZERO, text: "n".into() })
    }

    fn finished(key: u32) -> Event {
        Event::CaseFinished(super::super::log::test_finished(key, Verdict::Pass))
    }

    fn json_cases(path: &Path) -> Vec<(u64, Option<String>, usize)> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let verdict = c["verdict"].as_str().map(str::to_owned);
                (c["case"].as_u64().unwrap(), verdict, c["events"].as_array().unwrap().len())
            })
            .collect()
    }

    #[test]
    fn a_finished_case_is_streamed_and_forgotten_and_a_cut_short_run_still_ends_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = FileReports::new(ReportOptions::new(dir.path()));
        for e in [started(1), started(0), note(1), note(0), finished(1), note(7)] {
            files.handle(&e).unwrap();
        }
        assert_eq!(files.running.keys().copied().collect::<Vec<_>>(), [CaseKey(0)]);
        assert!(dir.path().join("report.json.partial").exists());
        assert!(!dir.path().join("report.json").exists());
        let written = files.finish().unwrap();
        assert_eq!(files.finish().unwrap(), written, "finish twice writes once");
        // Case 1 finished first; case 0 was cut short; the note for case 7 was dropped.
        assert_eq!(json_cases(&written.json), [(1, Some("pass".into()), 2), (0, None, 1)]);
        let xml = std::fs::read_to_string(&written.junit).unwrap();
        assert!(xml.contains(r#"<testcase name="C-1 t""#) && !xml.contains("C-0"), "{xml}");
        assert!(!dir.path().join("report.json.partial").exists());
        // The page has both cases, the one cut short as unfinished, and no leftover part.
        let html = std::fs::read_to_string(&written.html).unwrap();
        assert_eq!(written.html_bytes, html.len() as u64);
        assert_eq!(html.matches("<details class=\"case\"").count(), 2);
        assert!(html.contains("id=\"count-unfinished\" data-count=\"1\""), "{html}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn an_unwritable_report_folder_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"").unwrap();
        let mut files = FileReports::new(ReportOptions::new(blocker.join("reports")));
        let err = files.handle(&started(0)).and_then(|()| files.finish().map(|_| ())).unwrap_err();
        assert!(err.to_string().contains("cannot write"), "{err}");
        assert!(err.to_string().contains("reports/"), "{err}");
    }

    /// A case flooded with `frames` alive check requests, failing, with the runner's note of
    /// what its recording limits left out.
    fn flooded_case(key: u32, frames: usize) -> Vec<Event> {
        use crate::runner::event::{
            Address, ConnectionChange, ConnectionEvent, Decoded, Direction, FrameEvent,
            FrameTransport,
        };
        let local = Address::Socket(([127, 0, 0, 1], 40000).into());
        let peer = Address::Socket(([127, 0, 0, 1], 13400).into());
        let connection = |change| {
            Event::Connection(ConnectionEvent {
                case: CaseKey(key),
                at: RunTime::ZERO,
                transport: FrameTransport::Tcp,
                local: local.clone(),
                peer: peer.clone(),
                change,
            })
        };
        let mut events = vec![started(key), connection(ConnectionChange::Opened)];
        events.extend((0..frames).map(|i| {
            Event::Frame(FrameEvent {
                case: CaseKey(key),
                at: RunTime(Duration::from_micros(i as u64)),
                direction: Direction::Received,
                transport: FrameTransport::Tcp,
                local: local.clone(),
                peer: peer.clone(),
                can: None,
                bytes: vec![2, 0xFD, 0, 7, 0, 0, 0, 0],
                decoded: Decoded::Message {
                    name: "alive_check_request".into(),
                    summary: "Alive check request".into(),
                },
            })
        }));
        events.push(connection(ConnectionChange::Reset));
        events.push(Event::Note(NoteEvent {
            case: CaseKey(key),
            at: RunTime::ZERO,
            text: format!(
                "2510 frames (20080 bytes) {}",
                crate::runner::event::UNRECORDED_NOTE_END
            ),
        }));
        let Event::CaseFinished(f) = finished(key) else { unreachable!() };
        events.push(Event::CaseFinished(CaseFinished { verdict: Verdict::Fail, ..f }));
        events
    }

    fn folder_size(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                if e.path().is_dir() { folder_size(&e.path()) } else { e.metadata().unwrap().len() }
            })
            .sum()
    }

    #[test]
    fn a_run_of_flooded_cases_keeps_its_report_folder_under_the_bound_and_says_what_it_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = ReportOptions::new(dir.path());
        // A small bound, so a few cases reach it; the shape is the 32 MiB one's.
        options.max_bytes = 4 << 20;
        let mut files = FileReports::new(options);
        for key in 0..40 {
            for e in flooded_case(key, 2000) {
                files.handle(&e).unwrap();
            }
        }
        let written = files.finish().unwrap();
        let size = folder_size(dir.path());
        assert!(size < 4 << 20, "{size} bytes");
        assert_eq!(written.captures.len(), 40);
        let html = std::fs::read_to_string(&written.html).unwrap();
        let head = &html[..html.find("id=\"cases\"").unwrap()];
        assert!(head.contains("40 cases reached their recording limits"), "{head}");
        assert!(
            head.contains(" cases were left out of the reports to keep them under 32 MiB"),
            "{head}"
        );
        // JUnit says what was not recorded in each case's transcript, and what the bound left out.
        let junit = std::fs::read_to_string(&written.junit).unwrap();
        assert_eq!(
            junit.matches("2510 frames (20080 bytes) were exchanged but not recorded").count(),
            40
        );
        assert!(junit.contains("of this case were left out of the reports: the run"), "cut notes");
        assert!(
            junit.contains(
                "events not shown here (report.json has every recorded one); the last 20:"
            )
        );
        assert!(!junit.contains("more events"));
    }

    #[test]
    fn a_run_of_very_many_cases_stays_under_the_bound_by_counting_the_late_ones_without_listing_them()
     {
        let dir = tempfile::tempdir().unwrap();
        let mut options = ReportOptions::new(dir.path());
        // A small bound, so a few thousand small cases reach every tier.
        options.max_bytes = 1 << 20;
        let mut files = FileReports::new(options);
        let cases = 3000;
        for key in 0..cases {
            let mut events = flooded_case(key, 6);
            if key % 10 != 3 {
                let Some(Event::CaseFinished(f)) = events.last_mut() else { unreachable!() };
                f.verdict = Verdict::Pass;
            }
            for e in events {
                files.handle(&e).unwrap();
            }
        }
        let written = files.finish().unwrap();
        let size = folder_size(dir.path());
        assert!(size < 1 << 20, "{size} bytes");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&written.json).unwrap()).unwrap();
        let listed = json["cases"].as_array().unwrap().len() as u64;
        let unlisted = json["unlisted_cases"].as_u64().expect("the JSON counts what it left out");
        assert_eq!(listed + unlisted, u64::from(cases));
        assert_eq!(
            json["counts"]["pass"].as_u64().unwrap() + json["counts"]["fail"].as_u64().unwrap(),
            u64::from(cases)
        );
        let html = std::fs::read_to_string(&written.html).unwrap();
        assert!(html.contains(&format!("data-count=\"{cases}\"")), "the totals count every case");
        assert!(
            html.contains(&format!("{unlisted} cases (")),
            "the head says how many are not listed"
        );
        assert_eq!(html.matches("<details class=\"case\"").count() as u64, listed);
        let junit = std::fs::read_to_string(&written.junit).unwrap();
        assert!(junit.contains("<testsuite name=\"not listed\""), "{}", &junit[..500]);
        assert!(junit.contains(&format!("<property name=\"cases\" value=\"{unlisted}\"/>")));
        // Early cases are whole, late passing ones keep their line only (a lean JUnit entry).
        let first = json["cases"][0]["events"].as_array().unwrap().len();
        let mut passing =
            json["cases"].as_array().unwrap().iter().filter(|c| c["verdict"] == "pass");
        let last = passing.next_back().unwrap()["events"].as_array().unwrap().len();
        assert!(first > 6 && last == 1, "{first} events first, {last} last");
    }

    #[test]
    fn a_shard_compared_with_a_whole_baseline_lists_no_removed_case() {
        use crate::report::diff::{Outcome, RunOutcomes};
        use crate::runner::event::RunStarted;
        let dir = tempfile::tempdir().unwrap();
        let outcome = |id: &str| Outcome {
            suite: "s".into(),
            id: id.into(),
            title: "t".into(),
            verdict: Verdict::Pass,
            flaky: false,
            waived: false,
        };
        let mut before = RunOutcomes::default();
        for id in ["C-0", "C-1"] {
            before.cases.insert(("s".into(), id.into()), outcome(id));
        }
        let written = |shard| {
            let mut options = ReportOptions::new(dir.path());
            options.baseline = Some(std::sync::Arc::new(crate::report::Baseline {
                source: "old".into(),
                outcomes: before.clone(),
            }));
            let mut files = FileReports::new(options);
            let run = RunStarted {
                wall_clock_unix_us: 0,
                target: "t".into(),
                profile: None,
                case_count: 1,
                jobs: 1,
                shard,
                declared_wait: Duration::ZERO,
            };
            for e in [Event::RunStarted(run), started(0), finished(0)] {
                files.handle(&e).unwrap();
            }
            files.finish().unwrap().diff.unwrap()
        };
        assert_eq!(written(None).removed.len(), 1);
        assert!(written(Some((1, 2))).removed.is_empty());
    }
}
