//! `doipcheck report --from report.json... [--html F] [--junit F] [--markdown F]`: the HTML,
//! JUnit and Markdown reports rebuilt from the JSON of one run or of the shards of one. See
//! [`crate::report::rebuild`]. `report --diff OLD NEW`: what changed between two runs
//! ([`crate::report::diff`]), on the console and, when asked, atop the rebuilt reports of NEW.

use super::exit;
use super::stdout::{self, Stdout};
use crate::report::{
    Baseline, BundleShown, HistoryRun, RebuildOutputs, RunOutcomes, history_page, human,
    load_report, order_history, parse_report, rebuild, report_json_in, size, verify_bundle,
};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The `report.json` of a run, or of each shard (cases follow the order given).
    #[arg(long, required_unless_present_any = ["diff", "verify", "history"], num_args = 1.., value_name = "JSON")]
    pub from: Vec<PathBuf>,
    /// Compare two runs (each a report.json or a report folder): regressions, fixes, still
    /// failing, newly flaky, added and removed cases, timer drift. The outputs named
    /// (--html, --junit, --markdown) are NEW's reports with the comparison atop.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with = "from")]
    pub diff: Vec<PathBuf>,
    /// Check an evidence bundle (`run --bundle`): every member against its SHA-256 in the
    /// manifest; names what was changed, added or removed. With --html, the report is
    /// rendered again from the bundle's report.json.
    #[arg(long, value_name = "BUNDLE", conflicts_with_all = ["from", "diff"])]
    pub verify: Option<PathBuf>,
    /// One page over many runs (report.json files, report folders, or folders of report
    /// folders): pass rate per run, a status strip per case, each timer against its limit.
    /// Written to --html (default history.html).
    #[arg(long, num_args = 1.., value_name = "REPORTS", conflicts_with_all = ["from", "diff", "verify"])]
    pub history: Vec<PathBuf>,
    /// Exit 1 when NEW has a regression (`regression`) or any failure (`any`); without it,
    /// --diff exits 0 whatever changed.
    #[arg(long, value_enum, value_name = "WHAT", requires = "diff")]
    pub fail_on: Option<FailOn>,
    /// Write the HTML report here (default, when no output is named: report.html beside the
    /// first input).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the Markdown summary here (it is appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// `--fail-on`: which failures make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FailOn {
    /// Any case that fails, errors or is inconclusive (and is not waived).
    #[default]
    Any,
    /// Only cases that did not fail in the baseline, and new cases that fail.
    Regression,
}

/// `$GITHUB_STEP_SUMMARY`, the file GitHub Actions shows on the job's page, when set.
pub fn step_summary_file() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Runs the command: 0 written, 2 an input is missing or not a report (nothing written), 1 an
/// output could not be written, or `--fail-on` found what it fails on.
pub fn run(args: ReportArgs) -> u8 {
    if let Some(bundle) = &args.verify {
        return verify(bundle, args.html.as_deref());
    }
    if !args.history.is_empty() {
        let out = args.html.clone().unwrap_or_else(|| PathBuf::from("history.html"));
        return history(&args.history, &out);
    }
    let mut baseline = None;
    let inputs = match args.diff.as_slice() {
        [old, new] => {
            let old_file = report_json_in(old);
            match load_report(&old_file) {
                Ok(r) => {
                    let outcomes = RunOutcomes::from_reports(&[r]);
                    baseline = Some(Baseline { source: old_file, outcomes });
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::USAGE;
                }
            }
            vec![report_json_in(new)]
        }
        _ => args.from.clone(),
    };
    let mut reports = Vec::new();
    for path in &inputs {
        match load_report(path) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        }
    }
    let mut html = args.html.clone();
    if html.is_none() && args.junit.is_none() && args.markdown.is_none() && baseline.is_none() {
        let dir = inputs[0].parent().map(PathBuf::from).unwrap_or_default();
        html = Some(dir.join("report.html"));
    }
    let outputs = RebuildOutputs {
        html: html.clone(),
        junit: args.junit.clone(),
        markdown: args.markdown.clone(),
        step_summary: step_summary_file(),
        baseline,
        bundle: None,
    };
    let started = std::time::Instant::now();
    match rebuild(&reports, &outputs) {
        Ok(done) => {
            let mut written: Vec<String> = Vec::new();
            if let (Some(p), Some(bytes)) = (&html, done.html_bytes) {
                written.push(format!("{} ({})", p.display(), size(bytes)));
            }
            written
                .extend(args.junit.iter().chain(&args.markdown).map(|p| p.display().to_string()));
            let mut out = Stdout::new();
            if let Some(diff) = &done.diff {
                let text: String = diff.console_lines().iter().map(|l| format!("{l}\n")).collect();
                if let Err(e) = out.all(&text) {
                    return stdout::exit_code(Err(e), exit::SUCCESS);
                }
            }
            if !written.is_empty() {
                eprintln!(
                    "{} cases from {} reports ({} failing) in {}: {}",
                    done.cases,
                    reports.len(),
                    done.counts.fail + done.counts.error + done.counts.inconclusive,
                    human(started.elapsed()),
                    written.join(", ")
                );
            }
            let failed = match (args.fail_on, &done.diff) {
                (Some(FailOn::Regression), Some(d)) => d.new_failures() > 0,
                (Some(FailOn::Any), _) => done.counts.any_failure(),
                _ => false,
            };
            if failed { exit::FAILURE } else { exit::SUCCESS }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}

/// `--verify BUNDLE [--html F]`: 0 intact (and re-rendered), 1 something was changed or the
/// page could not be written, 2 not a readable bundle.
fn verify(bundle: &std::path::Path, html: Option<&std::path::Path>) -> u8 {
    let v = match verify_bundle(bundle) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut text: String = v.tampered.iter().map(|line| format!("TAMPERED {line}\n")).collect();
    text.push_str(&format!(
        "{}: {} files intact, {} changed; manifest SHA-256 {}; written by doipcheck {}\n",
        bundle.display(),
        v.intact,
        v.tampered.len(),
        v.manifest_sha256,
        v.version
    ));
    if let Err(e) = Stdout::new().all(&text) {
        return stdout::exit_code(Err(e), exit::SUCCESS);
    }
    if !v.tampered.is_empty() {
        return exit::FAILURE;
    }
    let (Some(path), Some(json)) = (html, &v.report_json) else { return exit::SUCCESS };
    let shown = BundleShown {
        file: bundle.display().to_string(),
        manifest_sha256: Some(v.manifest_sha256.clone()),
        verified: true,
    };
    let outputs = RebuildOutputs {
        html: Some(path.to_owned()),
        bundle: Some(shown),
        ..RebuildOutputs::default()
    };
    match parse_report(json).and_then(|r| rebuild(&[r], &outputs)) {
        Ok(_) => {
            eprintln!("report rendered again from the bundle: {}", path.display());
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}

/// Runs read by `--history` at most.
const MAX_HISTORY_RUNS: usize = 5_000;

/// `--history REPORTS... --html F`: 0 written, 1 not written, 2 an input is not a report.
fn history(inputs: &[PathBuf], out: &std::path::Path) -> u8 {
    let mut files = Vec::new();
    for input in inputs {
        let direct = report_json_in(input);
        if direct.is_file() || !input.is_dir() {
            files.push(direct);
            continue;
        }
        // A folder of report folders (one per night).
        let mut found: Vec<PathBuf> = std::fs::read_dir(input)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("report.json"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        files.extend(found);
    }
    if files.len() > MAX_HISTORY_RUNS {
        eprintln!("error: {} reports; --history reads at most {MAX_HISTORY_RUNS}", files.len());
        return exit::USAGE;
    }
    let mut runs = Vec::with_capacity(files.len());
    for file in &files {
        match load_report(file) {
            Ok(r) => runs.push(HistoryRun::new(file.display().to_string(), &r)),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        }
    }
    order_history(&mut runs);
    let page = history_page(&runs);
    let written = crate::report::write_file(out, page.as_bytes());
    match written {
        Ok(()) => {
            eprintln!("{} runs: {} ({})", runs.len(), out.display(), size(page.len() as u64));
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", out.display());
            exit::FAILURE
        }
    }
}
