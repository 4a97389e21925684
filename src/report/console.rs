//! The console reporter (nextest style): a line per finished case, then a summary with the
//! counts, the slowest cases, the least time the run's declared waits allow, and every failure
//! explained (expected vs actual, capture path).
//!
//! On a terminal the lines scroll above an indicatif progress bar on stderr; elsewhere (CI
//! logs, pipes, tests) the same lines are written plainly and there is no bar.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::text::{explain, printable, seconds};
use crate::runner::event::{CaseFinished, CaseInfo, CaseKey, Counts, Event, EventSink, Verdict};

/// `--color`: whether verdicts are coloured on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stderr is a terminal and `NO_COLOR` is not set (<https://no-color.org>).
    #[default]
    Auto,
    Always,
    Never,
}

/// The process's choice, set once by the command line (a terminal setting, like the
/// console crate's own switch): 0 auto, 1 always, 2 never.
static COLOR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Sets `--color` for every console reporter of this process.
pub fn set_color(choice: ColorChoice) {
    let raw = match choice {
        ColorChoice::Auto => 0,
        ColorChoice::Always => 1,
        ColorChoice::Never => 2,
    };
    COLOR.store(raw, std::sync::atomic::Ordering::Relaxed);
}

/// Whether the console on stderr gets colours.
fn stderr_colored() -> bool {
    match COLOR.load(std::sync::atomic::Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}

/// How many of the slowest cases the summary lists.
pub const SLOWEST_SHOWN: usize = 5;

/// Whether the console shows a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsoleMode {
    /// A bar when stderr is a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// Plain lines, never a bar.
    Plain,
}

/// The console reporter, writing plain lines to `W` or, with a bar, through the bar to stderr.
pub struct ConsoleReporter<W: Write + Send> {
    out: W,
    bar: Option<ProgressBar>,
    running: BTreeMap<CaseKey, CaseInfo>,
    /// Finished cases (without their events): the summary's material.
    done: Vec<(CaseInfo, CaseFinished)>,
    /// `RunStarted`'s declared waits and jobs, for the summary.
    declared: Option<(Duration, u32)>,
    /// The console's reader went away (`doipcheck run 2>&1 | head`): the run goes on quietly
    /// and still writes its report files.
    closed: bool,
    /// Verdicts in colour (ANSI SGR).
    color: bool,
}

impl ConsoleReporter<std::io::Stderr> {
    /// The reporter for a run from a terminal or CI: stderr, with a bar when `mode` allows and
    /// stderr is a terminal.
    pub fn stderr(mode: ConsoleMode) -> Self {
        let mut r = ConsoleReporter::plain(std::io::stderr());
        r.color = stderr_colored();
        if mode == ConsoleMode::Auto && std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            // The template is a constant; should it ever fail to parse, keep the default style.
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix:>12.bold} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
            ) {
                bar.set_style(style);
            }
            bar.set_prefix("Running");
            r.bar = Some(bar);
        }
        r
    }
}

impl<W: Write + Send> ConsoleReporter<W> {
    /// Plain lines to `out`, never a bar (CI logs, tests).
    pub fn plain(out: W) -> Self {
        ConsoleReporter {
            out,
            bar: None,
            running: BTreeMap::new(),
            done: Vec::new(),
            declared: None,
            closed: false,
            color: false,
        }
    }

    /// The writer, for tests that read what was printed.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Prints one line (through the bar when there is one, so it is not overdrawn).
    pub fn line(&mut self, text: &str) -> std::io::Result<()> {
        match &self.bar {
            Some(bar) => {
                bar.println(text);
                Ok(())
            }
            None if self.closed => Ok(()),
            None => match writeln!(self.out, "{text}") {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    self.closed = true;
                    Ok(())
                }
                other => other,
            },
        }
    }

    fn set_bar_message(&self) {
        if let Some(bar) = &self.bar {
            let mut ids: Vec<&str> = self.running.values().take(3).map(|i| i.id.as_str()).collect();
            if self.running.len() > 3 {
                ids.push("...");
            }
            bar.set_message(printable(&ids.join(" ")));
        }
    }

    fn summary(&mut self, elapsed: Duration, stop_reason: Option<&str>) -> std::io::Result<()> {
        let mut counts = Counts::default();
        for (_, f) in &self.done {
            counts.add_case(f);
        }
        let mut parts = vec![format!("{} passed", counts.pass)];
        for (n, what) in [
            (counts.fail, "failed"),
            (counts.inconclusive, "inconclusive"),
            (counts.error, "errored"),
            (counts.waived, "waived"),
            (counts.skipped, "skipped"),
            (counts.flaky, "flaky"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        self.line("------------")?;
        self.line(&format!(
            "{:>12} [{:>9}] {} cases: {}",
            "Summary",
            seconds(elapsed),
            counts.total(),
            parts.join(", ")
        ))?;
        if let Some(reason) = stop_reason {
            self.line(&format!("{:>12} {}", "Stopped", printable(reason)))?;
        }
        let mut slowest: Vec<&(CaseInfo, CaseFinished)> =
            self.done.iter().filter(|(_, f)| f.verdict != Verdict::Skipped).collect();
        // Longest first; ties in plan order, so the output is stable.
        slowest.sort_by(|a, b| b.1.duration.cmp(&a.1.duration).then(a.1.case.cmp(&b.1.case)));
        let slowest: Vec<String> = slowest
            .iter()
            .take(SLOWEST_SHOWN)
            .map(|(info, f)| {
                format!("{:>12} [{:>9}] {}", "Slow", seconds(f.duration), case_name(info))
            })
            .collect();
        for l in slowest {
            self.line(&l)?;
        }
        // The yardstick of a run's length: `run --jobs N` should end within +20% of this
        // figure (docs/architecture.md "Data flow", step 4).
        if let Some((wait, jobs)) = self.declared {
            self.line(&format!(
                "{:>12} [{:>9}] the least this run can take: its cases' declared waits over {jobs} job{}",
                "Waits",
                seconds(wait),
                if jobs == 1 { "" } else { "s" }
            ))?;
        }
        let mut failures: Vec<String> = Vec::new();
        let mut waived: Vec<String> = Vec::new();
        for (info, f) in &self.done {
            if let Some(w) = f.waiver.as_ref().filter(|_| f.verdict.is_failure()) {
                waived.push(case_line(info, f, self.color));
                waived.push(printable(&format!(
                    "             {} (accepted by {} until {}): {}",
                    w.reason,
                    w.accepted_by,
                    w.until,
                    f.reason.as_ref().map(|r| r.message.as_str()).unwrap_or(f.verdict.as_str())
                )));
            } else if f.verdict.is_failure() {
                failures.push(case_line(info, f, self.color));
                failures.push(explain(f, "             ").trim_end().to_owned());
            }
        }
        if !failures.is_empty() {
            self.line(&format!("{:>12}", "Failures:"))?;
            for l in failures {
                self.line(&l)?;
            }
        }
        if !waived.is_empty() {
            self.line(&format!("{:>12}", "Waived:"))?;
            for l in waived {
                self.line(&l)?;
            }
        }
        Ok(())
    }
}

fn case_name(info: &CaseInfo) -> String {
    printable(&format!("{} {} {}", info.suite, info.id, info.title))
}

fn label(f: &CaseFinished) -> &'static str {
    if f.waiver.is_some() && f.verdict.is_failure() {
        return "WAIVED";
    }
    match f.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
        Verdict::Inconclusive => "INCONCLUSIVE",
        Verdict::Skipped => "SKIP",
    }
}

/// The verdict word right-aligned in 12 columns, coloured when `color`: green pass, red
/// fail, magenta error (ours), yellow inconclusive, dim skip.
fn painted_label(f: &CaseFinished, color: bool) -> String {
    let padded = format!("{:>12}", label(f));
    if !color {
        return padded;
    }
    let sgr = match f.verdict {
        _ if f.waiver.is_some() && f.verdict.is_failure() => "33",
        Verdict::Pass => "32;1",
        Verdict::Fail => "31;1",
        Verdict::Error => "35;1",
        Verdict::Inconclusive => "33;1",
        Verdict::Skipped => "2",
    };
    format!("\x1b[{sgr}m{padded}\x1b[0m")
}

/// `        FAIL [   2.003s] suite ID title`, with the skip reason or the flakiness.
fn case_line(info: &CaseInfo, f: &CaseFinished, color: bool) -> String {
    let mut line =
        format!("{} [{:>9}] {}", painted_label(f, color), seconds(f.duration), case_name(info));
    if f.verdict == Verdict::Skipped
        && let Some(r) = &f.reason
    {
        line.push_str(&format!(": {}", printable(&r.message)));
    }
    if f.flaky {
        line.push_str(&format!(" (flaky: passed on attempt {})", f.attempts));
    }
    line
}

impl<W: Write + Send> EventSink for ConsoleReporter<W> {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::RunStarted(s) => {
                self.declared = Some((s.declared_wait, s.jobs));
                if let Some(bar) = &self.bar {
                    bar.set_length(u64::from(s.case_count));
                }
                let profile = match &s.profile {
                    Some(p) => p.to_string_lossy().into_owned(),
                    None => "built-in".to_owned(),
                };
                let mut line = format!(
                    "{:>12} {} cases against {} (profile {profile}, {} job{})",
                    "Starting",
                    s.case_count,
                    s.target,
                    s.jobs,
                    if s.jobs == 1 { "" } else { "s" }
                );
                if let Some((k, n)) = s.shard {
                    line.push_str(&format!(", shard {k}/{n}"));
                }
                self.line(&printable(&line))
            }
            Event::CaseStarted(s) => {
                self.running.insert(s.case, s.info.clone());
                self.set_bar_message();
                Ok(())
            }
            Event::CaseFinished(f) => {
                let Some(info) = self.running.remove(&f.case) else { return Ok(()) };
                self.set_bar_message();
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                let line = case_line(&info, f, self.color);
                self.done.push((info, f.clone()));
                self.line(&line)
            }
            Event::RunFinished(r) => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let stop = if r.interrupted {
                    r.stop_reason.as_deref().or(Some("interrupted"))
                } else {
                    None
                };
                self.summary(r.at.0, stop)?;
                self.out.flush()
            }
            _ => Ok(()),
        }
    }
}
