//! `doipcheck report --from report.json...`: HTML, JUnit and Markdown rebuilt from the JSON of
//! one run, or of the `--shard K/N` runs of one (cases in the order the files are given), so a
//! sharded CI pipeline publishes one page.

use std::path::PathBuf;

use super::diff::{Baseline, RunDiff, RunOutcomes, diff};
use super::html::{HtmlReport, RunHead};
use super::junit::{JunitCase, junit_report};
use super::load::LoadedReport;
use super::markdown::markdown_summary;
use super::{append_to, write_atomically, write_junit};
use crate::runner::event::{Counts, RunFinished};

/// Which files to write; `None`: not that one.
#[derive(Debug, Clone, Default)]
pub struct RebuildOutputs {
    pub html: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// Appended to (`$GITHUB_STEP_SUMMARY`).
    pub step_summary: Option<PathBuf>,
    /// Compare against this run (`report --diff OLD NEW`): shown atop the HTML page and in
    /// the Markdown summary.
    pub baseline: Option<Baseline>,
    /// The bundle the report comes from (`report --verify --html`): shown with its digest.
    pub bundle: Option<super::BundleShown>,
}

/// What was rebuilt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub cases: usize,
    pub counts: Counts,
    /// The size of the HTML page, when written.
    pub html_bytes: Option<u64>,
    /// What changed since the baseline, when one was given.
    pub diff: Option<RunDiff>,
}

/// Writes the files `out` asks for from `reports`. Errors name the file.
pub fn rebuild(reports: &[LoadedReport], out: &RebuildOutputs) -> Result<Rebuilt, String> {
    let cases: Vec<_> = reports.iter().flat_map(|r| r.cases.iter()).collect();
    let mut counts = Counts::default();
    for r in reports {
        for (name, n) in [
            (&mut counts.pass, r.counts.pass),
            (&mut counts.fail, r.counts.fail),
            (&mut counts.inconclusive, r.counts.inconclusive),
            (&mut counts.error, r.counts.error),
            (&mut counts.skipped, r.counts.skipped),
            (&mut counts.flaky, r.counts.flaky),
            (&mut counts.waived, r.counts.waived),
        ] {
            *name = name.saturating_add(n);
        }
    }
    let cannot =
        |path: &PathBuf, e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let junit_cases: Vec<JunitCase> = cases
        .iter()
        .filter_map(|(log, finished)| finished.as_ref().map(|f| JunitCase::new(log, f)))
        .collect();
    let diff = out.baseline.as_ref().map(|b| diff(b, &RunOutcomes::from_cases(&junit_cases)));
    let mut rebuilt = Rebuilt { cases: cases.len(), counts, html_bytes: None, diff: diff.clone() };
    if let Some(path) = &out.html {
        let mut html = HtmlReport::new(path);
        for (log, finished) in &cases {
            html.case(log, finished.as_ref());
        }
        let head = RunHead {
            runs: reports.iter().filter_map(|r| r.run.clone()).collect(),
            finished: reports.iter().filter_map(|r| r.finished.clone()).collect(),
            command_line: reports.first().map(|r| r.command_line.clone()).unwrap_or_default(),
            version: reports.first().map(|r| r.version.clone()).unwrap_or_default(),
            diff: diff.clone(),
            // Judging waivers needs the waiver file: `run --waivers` does it.
            waiver_problems: Vec::new(),
            bundle: out.bundle.clone(),
            ..RunHead::default()
        };
        rebuilt.html_bytes = Some(html.finish(&head).map_err(|e| cannot(path, e))?);
    }
    if let Some(path) = &out.junit {
        // Shards run side by side: the run took as long as the longest.
        let finished = reports.iter().filter_map(|r| r.finished.as_ref()).max_by_key(|f| f.at);
        let finished = finished.map(|f| RunFinished {
            counts,
            interrupted: reports.iter().any(|r| r.finished.as_ref().is_some_and(|f| f.interrupted)),
            ..f.clone()
        });
        let run = reports.iter().find_map(|r| r.run.as_ref());
        let report = junit_report(run, finished.as_ref(), &junit_cases);
        write_junit(path, &report).map_err(|e| cannot(path, e))?;
    }
    if out.markdown.is_some() || out.step_summary.is_some() {
        let target = reports.iter().find_map(|r| r.run.as_ref()).map(|r| r.target.as_str());
        let md = markdown_summary(target, &junit_cases, diff.as_ref());
        if let Some(path) = &out.markdown {
            write_atomically(path, |w| std::io::Write::write_all(w, md.as_bytes()))
                .map_err(|e| cannot(path, e))?;
        }
        if let Some(path) = &out.step_summary {
            append_to(path, &md).map_err(|e| cannot(path, e))?;
        }
    }
    Ok(rebuilt)
}
