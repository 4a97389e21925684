//! `report.html`: one self-contained page for people (no network, no external asset): counts
//! by verdict, suite and tag, the run's facts, filters kept in the URL hash, and for each case
//! its failure, message sequence chart, timing plots and transcript.
//!
//! Written like the JSON report, case by case: a case's section goes to
//! `PATH.cases-VERDICT.partial` as the case finishes (its events are then dropped), and
//! [`HtmlReport::finish`] writes the head with the totals, appends the sections verdict by
//! verdict in [`VERDICTS`] order (failures and errors first, so the cases to look at come
//! first whatever order they finished in) and renames the page into place. Memory holds only
//! the counts.
//!
//! HTML is built with maud (escaped at compile time, so target text cannot inject markup);
//! the charts are SVG drawn here; the only script is the filter (`page::SCRIPT`).

mod baseline;
mod campaign;
mod case;
mod chart;
mod evidence;
mod page;
mod plot;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use maud::{DOCTYPE, Markup, PreEscaped, html};

pub use campaign::CampaignView;
pub use chart::MAX_CHART_FRAMES;
pub use evidence::{BundleShown, show_bundle_digest};

use super::budget::{LeftOut, MAX_REPORT_DIR_BYTES};
use super::diff::RunDiff;
use super::log::CaseLog;
use super::partial_path;
pub use super::text::human;
use super::text::printable;
use super::waivers::shown_status;
use crate::runner::event::{CaseFinished, Counts, RunFinished, RunStarted};

/// What the head of the page says about the run (or the shards) it shows.
#[derive(Debug, Clone, Default)]
pub struct RunHead {
    /// The runs (one per shard); the first names target and profile.
    pub runs: Vec<RunStarted>,
    pub finished: Vec<RunFinished>,
    pub command_line: Vec<String>,
    /// The version of doipcheck that ran (may differ from the one writing the page).
    pub version: String,
    /// What changed since a baseline run, shown first.
    pub diff: Option<RunDiff>,
    /// Why the waivers fail the run (expired, stale), shown first.
    pub waiver_problems: Vec<String>,
    /// What the run's report bound left out of the reports.
    pub left_out: LeftOut,
    /// Cases whose recording limits (profile `recording.*`) left frames out.
    pub limited_cases: u64,
    /// A fuzzing campaign's heat map and rate, shown above its findings (`doipcheck fuzz`).
    pub campaign: Option<CampaignView>,
    /// The evidence bundle of the run (`--bundle`), or the one the page was rendered from.
    pub bundle: Option<BundleShown>,
}

/// Verdicts in the order the page lists them.
/// `waived` is a failure a waiver accepts (`--waivers`), counted apart.
const VERDICTS: [&str; 7] =
    ["fail", "error", "inconclusive", "waived", "pass", "skipped", "unfinished"];

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    by: [u32; 7],
}

impl Tally {
    fn add(&mut self, verdict: &str) {
        if let Some(i) = VERDICTS.iter().position(|v| *v == verdict) {
            self.by[i] = self.by[i].saturating_add(1);
        }
    }
}

/// The HTML report being written. Errors are kept and returned by [`HtmlReport::finish`].
pub struct HtmlReport {
    path: PathBuf,
    /// The sections of each verdict, in [`VERDICTS`] order; opened at its first case.
    bodies: [Option<BufWriter<File>>; VERDICTS.len()],
    error: Option<std::io::Error>,
    cases: usize,
    /// Bytes of the case sections written so far.
    bytes: u64,
    total: Tally,
    counts: Counts,
    by_suite: BTreeMap<String, Tally>,
    by_tag: BTreeMap<String, Tally>,
}

impl HtmlReport {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        HtmlReport {
            path: path.into(),
            bodies: Default::default(),
            error: None,
            cases: 0,
            bytes: 0,
            total: Tally::default(),
            counts: Counts::default(),
            by_suite: BTreeMap::new(),
            by_tag: BTreeMap::new(),
        }
    }

    /// Bytes of the case sections written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn body_path(&self, verdict: usize) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(format!(".cases-{}.partial", VERDICTS[verdict]));
        PathBuf::from(p)
    }

    /// Adds one case (`finished` `None`: cut short).
    pub fn case(&mut self, case: &CaseLog, finished: Option<&CaseFinished>) {
        if self.error.is_some() {
            return;
        }
        let verdict = self.count(case, finished);
        let dir = self.path.parent().unwrap_or(Path::new("")).to_owned();
        let section = case::case_section(self.cases, case, finished, &dir);
        self.cases += 1;
        let slot = VERDICTS.iter().position(|v| *v == verdict).unwrap_or(0);
        if let Err(e) = self.write_body(slot, section) {
            self.error = Some(e);
        }
    }

    /// Counts one case in the totals and tables without a section of its own (the report
    /// budget's unlisted cases); returns how it is shown.
    pub fn count(&mut self, case: &CaseLog, finished: Option<&CaseFinished>) -> &'static str {
        let verdict = shown_status(finished);
        self.total.add(verdict);
        if let Some(f) = finished {
            self.counts.add_case(f);
        }
        self.by_suite.entry(printable(&case.info.suite)).or_default().add(verdict);
        for tag in &case.info.tags {
            self.by_tag.entry(printable(tag)).or_default().add(verdict);
        }
        verdict
    }

    fn write_body(&mut self, slot: usize, section: Markup) -> std::io::Result<()> {
        if self.bodies[slot].is_none() {
            if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            self.bodies[slot] = Some(BufWriter::new(File::create(self.body_path(slot))?));
        }
        if let Some(body) = &mut self.bodies[slot] {
            let section = section.into_string();
            self.bytes += section.len() as u64 + 1;
            body.write_all(section.as_bytes())?;
            body.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Writes the page: head and totals, then the case sections. Returns its size in bytes.
    pub fn finish(mut self, head: &RunHead) -> std::io::Result<u64> {
        let result = self.write_page(head);
        for slot in 0..VERDICTS.len() {
            let _ = std::fs::remove_file(self.body_path(slot));
        }
        if result.is_err() {
            let _ = std::fs::remove_file(partial_path(&self.path));
        }
        let size = result?;
        std::fs::rename(partial_path(&self.path), &self.path)?;
        Ok(size)
    }

    fn write_page(&mut self, head: &RunHead) -> std::io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut written = Vec::new();
        for (slot, body) in self.bodies.iter_mut().enumerate() {
            if let Some(mut body) = body.take() {
                body.flush()?;
                written.push(slot);
            }
        }
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = BufWriter::new(File::create(partial_path(&self.path))?);
        let (top, bottom) = self.page(head);
        out.write_all(top.as_bytes())?;
        for slot in written {
            std::io::copy(&mut File::open(self.body_path(slot))?, &mut out)?;
        }
        out.write_all(bottom.as_bytes())?;
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        file.flush()?;
        file.metadata().map(|m| m.len())
    }

    /// The page around the case sections: everything before them and everything after.
    fn page(&self, head: &RunHead) -> (String, String) {
        const MARK: &str = "<!--cases-->";
        let page = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta http-equiv="Content-Security-Policy"
                        content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "doipcheck report" }
                    style { (PreEscaped(page::STYLE)) }
                }
                body {
                    h1 { "doipcheck report" }
                    @if !head.waiver_problems.is_empty() {
                        section #waiver-problems .baseline.regressed {
                            h2 { "Waivers that fail the run" }
                            ul { @for p in &head.waiver_problems { li { (printable(p)) } } }
                        }
                    }
                    @if let Some(d) = &head.diff { (baseline::diff_section(d)) }
                    (self.counts_bar())
                    @if let Some(c) = &head.campaign { (campaign::campaign_section(c)) }
                    (run_facts(head, &self.counts))
                    (self.tables())
                    (self.filters())
                    div #cases { (PreEscaped(MARK)) }
                    script { (PreEscaped(page::SCRIPT)) }
                }
            }
        };
        let page = page.into_string();
        let at = page.find(MARK).expect("the mark is in the page");
        (page[..at].to_owned(), page[at + MARK.len()..].to_owned())
    }

    fn counts_bar(&self) -> Markup {
        html! {
            div.counts {
                // Every case, listed or only counted (the report budget).
                @let total: u32 = self.total.by.iter().sum();
                span #total data-count=(total) { (total) " cases: " }
                @for (i, v) in VERDICTS.iter().enumerate() {
                    // Always the usual verdicts; waived and unfinished only when there are some.
                    @if self.total.by[i] > 0 || !matches!(*v, "waived" | "unfinished") {
                        a class=(v) id={"count-" (v)} data-count=(self.total.by[i]) href={"#verdict=" (v)} {
                            (self.total.by[i]) " " (v)
                        }
                    }
                }
                @if self.counts.flaky > 0 { span.muted { " (" (self.counts.flaky) " flaky)" } }
            }
        }
    }

    fn tables(&self) -> Markup {
        /// Tags listed in the table; a run with more shows the most used.
        const MAX_TAGS: usize = 200;
        let mut tags: Vec<_> = self.by_tag.iter().collect();
        tags.sort_by_key(|(_, t)| std::cmp::Reverse(t.by.iter().sum::<u32>()));
        tags.truncate(MAX_TAGS);
        // The waived column only in runs with waivers (`--waivers`).
        let columns: Vec<usize> = (0..VERDICTS.len())
            .filter(|&i| VERDICTS[i] != "waived" || self.total.by[i] > 0)
            .collect();
        let table = |title: &str, key: &str, rows: &[(&String, &Tally)]| {
            html! {
                table.tally {
                    tr { th { (title) } @for &i in &columns { th { (VERDICTS[i]) } } }
                    @for (name, t) in rows {
                        tr {
                            td { a href={"#" (key) "=" (url_part(name))} { (name) } }
                            @for &i in &columns { td { @if t.by[i] > 0 { (t.by[i]) } } }
                        }
                    }
                }
            }
        };
        let suites: Vec<_> = self.by_suite.iter().collect();
        html! {
            // Open when short; a run with many suites and tags keeps its cases near the top.
            details.by open[suites.len() + tags.len() <= 30] {
                summary { h2.inline { "By suite and by tag" } }
                div.tables {
                    (table("suite", "suite", &suites))
                    @if !tags.is_empty() { (table("tag", "tag", &tags)) }
                }
                @if self.by_tag.len() > MAX_TAGS { p.muted { (self.by_tag.len() - MAX_TAGS) " more tags" } }
            }
        }
    }

    fn filters(&self) -> Markup {
        html! {
            form.filters {
                label { "verdict " select #f-verdict {
                    option value="" { "any" }
                    @for v in VERDICTS { option value=(v) { (v) } }
                } }
                label { "suite " select #f-suite {
                    option value="" { "any" }
                    @for s in self.by_suite.keys() { option value=(s) { (s) } }
                } }
                label { "tag " select #f-tag {
                    option value="" { "any" }
                    @for t in self.by_tag.keys() { option value=(t) { (t) } }
                } }
                label { "text " input #f-q type="search" placeholder="id, title, clause"; }
                span { b #shown { (self.cases) } " of " (self.cases) " shown" }
            }
        }
    }
}

fn run_facts(head: &RunHead, counts: &Counts) -> Markup {
    let first = head.runs.first();
    let profile = first.map(|r| match &r.profile {
        Some(p) => printable(&p.to_string_lossy()),
        None => "built-in".into(),
    });
    let started = first.and_then(|r| {
        let micros = i64::try_from(r.wall_clock_unix_us).ok()?;
        Some(
            chrono::DateTime::from_timestamp_micros(micros)?
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
        )
    });
    // Shards run side by side: the longest is the run's duration; waits add up per shard.
    let duration = head.finished.iter().map(|f| f.at.0).max();
    let declared = head.runs.iter().map(|r| r.declared_wait).max();
    let stopped: Vec<String> =
        head.finished.iter().filter_map(|f| f.stop_reason.as_deref().map(printable)).collect();
    html! {
        table.run {
            @if let Some(r) = first { tr { th { "target" } td #target { (printable(&r.target)) } } }
            @if let Some(p) = profile { tr { th { "profile" } td { (p) } } }
            tr { th { "doipcheck" } td #version { (printable(&head.version)) } }
            @if !head.command_line.is_empty() {
                tr { th { "command line" } td { code #command-line { (printable(&head.command_line.join(" "))) } } }
            }
            @if let Some(s) = started { tr { th { "started" } td #started { (s) } } }
            tr {
                th { "duration" }
                td #duration {
                    @if let Some(d) = duration { (human(d)) } @else { "unknown (the run did not finish)" }
                    @if let Some(w) = declared { " against " (human(w)) " of declared waits" }
                }
            }
            @if let Some(r) = first { tr { th { "jobs" } td { (r.jobs) } } }
            @if head.runs.len() > 1 { tr { th { "shards" } td { (head.runs.len()) } } }
            @if !stopped.is_empty() { tr { th { "stopped" } td.why { (stopped.join("; ")) } } }
            @if let Some(b) = &head.bundle { (evidence::bundle_row(b)) }
            @if head.limited_cases > 0 || head.left_out.cases > 0 || head.left_out.unlisted > 0 {
                tr {
                    th { "not recorded" }
                    td #not-recorded {
                        @if head.limited_cases > 0 {
                            (head.limited_cases) " cases reached their recording limits (profile recording.*; each case's notes say how much was not recorded). "
                        }
                        @if head.left_out.cases > 0 {
                            (head.left_out.frames) " frames (" (head.left_out.bytes) " bytes), " (head.left_out.notes)
                            " notes and " (head.left_out.steps) " steps of " (head.left_out.cases) " cases were left out of the reports to keep them under "
                            (MAX_REPORT_DIR_BYTES >> 20) " MiB (report.json holds what was kept; a passing case late in the run keeps its line, verdict and timers). "
                        }
                        @if head.left_out.unlisted > 0 {
                            span #unlisted {
                                (head.left_out.unlisted) " cases (" (head.left_out.unlisted_failing) " of them failing) are counted in the totals and tables above but not listed below, nor in report.json or junit.xml, to keep the reports under "
                                (MAX_REPORT_DIR_BYTES >> 20) " MiB; the console listed every case."
                            }
                        }
                    }
                }
            }
            @if counts.total() == 0 { tr { th { "cases" } td { "none ran" } } }
        }
    }
}

/// `s` for a URL hash value (what `URLSearchParams` reads back).
fn url_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(human(Duration::from_micros(850)), "850µs");
        assert_eq!(human(Duration::from_micros(12_345)), "12.345ms");
        assert_eq!(human(Duration::from_millis(2_500)), "2.500s");
    }

    #[test]
    fn failures_and_errors_come_first_whatever_order_the_cases_finished_in() {
        use crate::runner::event::{CaseKey, RunTime, Verdict};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        let mut report = HtmlReport::new(&path);
        let order = [Verdict::Pass, Verdict::Skipped, Verdict::Error, Verdict::Pass, Verdict::Fail];
        for (i, verdict) in order.into_iter().enumerate() {
            let info = super::super::log::test_info(&format!("C-{i}"));
            let log =
                CaseLog { key: CaseKey(i as u32), info, started_at: RunTime::ZERO, events: vec![] };
            let finished = super::super::log::test_finished(i as u32, verdict);
            report.case(&log, Some(&finished));
        }
        report.finish(&RunHead::default()).unwrap();
        let html = std::fs::read_to_string(&path).unwrap();
        let listed: Vec<&str> =
            html.split("data-verdict=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
        assert_eq!(listed, ["fail", "error", "pass", "pass", "skipped"]);
        let ids: Vec<&str> = html.split("<code>C-").skip(1).map(|s| &s[..1]).collect();
        assert_eq!(ids, ["4", "2", "0", "3", "1"]);
        let left: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["report.html"]);
    }

    #[test]
    fn hash_values_are_percent_encoded() {
        assert_eq!(url_part("doip header&x=1"), "doip%20header%26x%3D1");
    }
}
