//! `doipcheck report --from report.json... [--html F] [--junit F] [--markdown F]`: the HTML,
//! JUnit and Markdown reports rebuilt from the JSON of one run or of the shards of one. See
//! [`crate::report::rebuild`].

use super::exit;
use crate::report::{RebuildOutputs, human, load_report, rebuild, size};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The `report.json` of a run, or of each shard (cases follow the order given).
    #[arg(long, required = true, num_args = 1.., value_name = "JSON")]
    pub from: Vec<PathBuf>,
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

/// Runs the command: 0 written, 2 an input is missing or not a report (nothing written), 1 an
/// output could not be written.
pub fn run(args: ReportArgs) -> u8 {
    let mut reports = Vec::new();
    for path in &args.from {
        match load_report(path) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        }
    }
    let mut html = args.html.clone();
    if html.is_none() && args.junit.is_none() && args.markdown.is_none() {
        let dir = args.from[0].parent().map(PathBuf::from).unwrap_or_default();
        html = Some(dir.join("report.html"));
    }
    let outputs = RebuildOutputs {
        html: html.clone(),
        junit: args.junit.clone(),
        markdown: args.markdown.clone(),
        step_summary: super::run::step_summary_file(),
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
            eprintln!(
                "{} cases from {} reports ({} failing) in {}: {}",
                done.cases,
                reports.len(),
                done.counts.fail + done.counts.error + done.counts.inconclusive,
                human(started.elapsed()),
                written.join(", ")
            );
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}
