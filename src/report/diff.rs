//! A run against its baseline (`run --baseline OLD`, `report --diff OLD NEW`): which cases
//! regressed (did not fail, now fail), were fixed, still fail, became flaky, were added or
//! removed, and how every measured timer (`measure` steps) moved: median and worst of its
//! values in each run, beside the limit the profile gave it (the step's `max:`).
//!
//! Pure: [`RunOutcomes`] is what a run's report says (read back from `report.json`, or
//! gathered while a run writes its reports), [`diff`] compares two of them. Cases are matched
//! by suite and id (a matrix case's id carries its parameters), so plan order and `--jobs`
//! do not matter.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::junit::JunitCase;
use super::load::{LoadedReport, load_report};
use super::text::human;
use super::text::printable;
use crate::runner::event::{CaseFinished, CaseInfo, Event, MetricEvent, Verdict};

/// Cases listed per kind of change in the Markdown and HTML summaries; more are counted.
pub const MAX_LISTED: usize = 50;

/// One finished case as a report states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub suite: String,
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    pub flaky: bool,
    /// A failure accepted by a waiver (`--waivers`): shown as `waived`, not counted as failing.
    pub waived: bool,
}

impl Outcome {
    fn new(info: &CaseInfo, finished: &CaseFinished) -> Self {
        Outcome {
            suite: info.suite.clone(),
            id: info.id.clone(),
            title: info.title.clone(),
            verdict: finished.verdict,
            flaky: finished.flaky,
            waived: finished.waiver.is_some(),
        }
    }

    /// Fails and is not waived.
    pub fn failing(&self) -> bool {
        self.verdict.is_failure() && !self.waived
    }

    /// `pass`, `fail`, `fail (waived)`, `pass (flaky)`.
    pub fn status(&self) -> String {
        let mut s = self.verdict.as_str().to_owned();
        if self.waived {
            s.push_str(" (waived)");
        }
        if self.flaky {
            s.push_str(" (flaky)");
        }
        s
    }
}

/// The values one timer (a `measure` step's name) took in one run, and its limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerSamples {
    pub values: Vec<Duration>,
    /// The largest `max:` any of its steps had (the profile's value, substituted).
    pub limit: Option<Duration>,
}

impl TimerSamples {
    fn add(&mut self, m: &MetricEvent) {
        self.values.push(m.value);
        if let Some(max) = m.max {
            self.limit = Some(self.limit.map_or(max, |l| l.max(max)));
        }
    }

    /// Median (the lower middle value for an even count) and worst; `None` without values.
    pub fn stats(&self) -> Option<TimerStats> {
        let mut sorted = self.values.clone();
        sorted.sort_unstable();
        let worst = *sorted.last()?;
        Some(TimerStats { median: sorted[(sorted.len() - 1) / 2], worst, samples: sorted.len() })
    }
}

/// Median and worst of a timer in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerStats {
    pub median: Duration,
    pub worst: Duration,
    pub samples: usize,
}

/// What one run's report says: every finished case and every measured timer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutcomes {
    /// By (suite, id).
    pub cases: BTreeMap<(String, String), Outcome>,
    /// By timer name.
    pub timers: BTreeMap<String, TimerSamples>,
}

impl RunOutcomes {
    fn add<'a>(&mut self, outcome: Outcome, metrics: impl IntoIterator<Item = &'a MetricEvent>) {
        for m in metrics {
            self.timers.entry(m.name.clone()).or_default().add(m);
        }
        self.cases.insert((outcome.suite.clone(), outcome.id.clone()), outcome);
    }

    /// The outcomes of reports read back (shards of one run: all their cases). Cases a run
    /// cut short never finished and are left out.
    pub fn from_reports(reports: &[LoadedReport]) -> Self {
        let mut out = RunOutcomes::default();
        for (log, finished) in reports.iter().flat_map(|r| &r.cases) {
            let Some(f) = finished else { continue };
            let metrics = log.events.iter().filter_map(|e| match e {
                Event::Metric(m) => Some(m),
                _ => None,
            });
            out.add(Outcome::new(&log.info, f), metrics);
        }
        out
    }

    /// The outcomes of a run's finished cases as the reporters keep them.
    pub fn from_cases<'a>(cases: impl IntoIterator<Item = &'a JunitCase>) -> Self {
        let mut out = RunOutcomes::default();
        for c in cases {
            out.add(Outcome::new(&c.info, &c.finished), &c.metrics);
        }
        out
    }
}

/// A baseline run: its outcomes and where they were read from (named in every summary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    pub source: PathBuf,
    pub outcomes: RunOutcomes,
}

/// `path` itself, or `path/report.json` when `path` is a report folder.
pub fn report_json_in(path: &Path) -> PathBuf {
    if path.is_dir() { path.join("report.json") } else { path.to_owned() }
}

/// Reads the baseline at `path`: a `report.json`, or a report folder holding one.
pub fn load_baseline(path: &Path) -> Result<Baseline, String> {
    let file = report_json_in(path);
    let report = load_report(&file)?;
    Ok(Baseline { source: file, outcomes: RunOutcomes::from_reports(&[report]) })
}

/// A case whose status differs (or not, for "still failing") between the two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub before: Outcome,
    pub now: Outcome,
}

/// One timer in both runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerDrift {
    pub name: String,
    pub before: Option<TimerStats>,
    pub now: Option<TimerStats>,
    /// The limit in the new run (else the old one's).
    pub limit: Option<Duration>,
}

impl TimerDrift {
    /// The median's change, `+1.200ms` / `-300µs`, when both runs measured it.
    pub fn median_change(&self) -> Option<String> {
        let (b, n) = (self.before?.median, self.now?.median);
        Some(if n >= b { format!("+{}", human(n - b)) } else { format!("-{}", human(b - n)) })
    }

    /// The worst value now is past the limit.
    pub fn over_limit(&self) -> bool {
        matches!((self.now, self.limit), (Some(n), Some(l)) if n.worst > l)
    }
}

/// What changed between a baseline and a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunDiff {
    /// Where the baseline came from.
    pub baseline: PathBuf,
    /// Did not fail (passed or was skipped), now fails.
    pub regressions: Vec<Change>,
    /// Failed, now does not.
    pub fixes: Vec<Change>,
    /// Failed and still fails (the verdict may differ: fail -> error).
    pub still_failing: Vec<Change>,
    /// Flaky now, not before.
    pub newly_flaky: Vec<Change>,
    /// Waived now and failing: accepted deviations, listed so they stay in sight.
    pub waived: Vec<Change>,
    /// Not in the baseline.
    pub added: Vec<Outcome>,
    /// In the baseline, not in this run.
    pub removed: Vec<Outcome>,
    /// Every timer measured in either run, by name.
    pub timers: Vec<TimerDrift>,
}

/// Compares `now` against `before`.
pub fn diff(baseline: &Baseline, now: &RunOutcomes) -> RunDiff {
    let before = &baseline.outcomes;
    let mut d = RunDiff { baseline: baseline.source.clone(), ..RunDiff::default() };
    for (key, n) in &now.cases {
        let Some(b) = before.cases.get(key) else {
            d.added.push(n.clone());
            continue;
        };
        let change = Change { before: b.clone(), now: n.clone() };
        if n.flaky && !b.flaky {
            d.newly_flaky.push(change.clone());
        }
        if n.waived && n.verdict.is_failure() {
            d.waived.push(change);
        } else if n.failing() && b.failing() {
            d.still_failing.push(change);
        } else if n.failing() {
            d.regressions.push(change);
        } else if b.failing() {
            d.fixes.push(change);
        }
    }
    d.removed = before
        .cases
        .iter()
        .filter(|(k, _)| !now.cases.contains_key(*k))
        .map(|(_, o)| o.clone())
        .collect();
    let names: std::collections::BTreeSet<&String> =
        before.timers.keys().chain(now.timers.keys()).collect();
    d.timers = names
        .into_iter()
        .map(|name| {
            let (b, n) = (before.timers.get(name), now.timers.get(name));
            TimerDrift {
                name: name.clone(),
                before: b.and_then(TimerSamples::stats),
                now: n.and_then(TimerSamples::stats),
                limit: n.and_then(|t| t.limit).or_else(|| b.and_then(|t| t.limit)),
            }
        })
        .collect();
    d
}

impl RunDiff {
    /// What `--fail-on regression` fails on: regressions, and added cases that fail (nothing
    /// in the baseline accepted them).
    pub fn new_failures(&self) -> usize {
        self.regressions.len() + self.added.iter().filter(|o| o.failing()).count()
    }

    /// `2 regressions, 1 fixed, 3 still failing, ...`: the counts in one line.
    pub fn headline(&self) -> String {
        let mut parts = vec![
            count(self.regressions.len(), "regression", "regressions"),
            format!("{} fixed", self.fixes.len()),
            format!("{} still failing", self.still_failing.len()),
        ];
        for (n, what) in [
            (self.newly_flaky.len(), "newly flaky"),
            (self.waived.len(), "waived"),
            (self.added.len(), "added"),
            (self.removed.len(), "removed"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }

    /// The kinds of change with their cases, in the order people read them: the title of a
    /// list, the console's word for one of its cases, the cases.
    pub fn sections(&self) -> [(&'static str, &'static str, Vec<ListedCase>); 7] {
        let changes = |v: &[Change]| v.iter().map(ListedCase::change).collect::<Vec<_>>();
        let outcomes = |v: &[Outcome]| v.iter().map(ListedCase::outcome).collect::<Vec<_>>();
        [
            ("Regressions", "REGRESSION", changes(&self.regressions)),
            ("Fixed", "FIXED", changes(&self.fixes)),
            ("Newly flaky", "FLAKY", changes(&self.newly_flaky)),
            ("Still failing", "STILL FAIL", changes(&self.still_failing)),
            ("Waived", "WAIVED", changes(&self.waived)),
            ("Added", "ADDED", outcomes(&self.added)),
            ("Removed", "REMOVED", outcomes(&self.removed)),
        ]
    }

    /// The console's lines: a headline, every changed case, every timer.
    pub fn console_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{:>12} {} (against {})",
            "Baseline",
            self.headline(),
            self.baseline.display()
        )];
        for (_, label, cases) in self.sections() {
            for c in cases {
                lines.push(format!(
                    "{:>12} {} {}: {}",
                    label,
                    c.name(),
                    printable(&c.title),
                    c.status
                ));
            }
        }
        for t in &self.timers {
            lines.push(format!("{:>12} {}", "Timer", timer_line(t)));
        }
        lines.into_iter().map(|l| printable(&l)).collect()
    }

    /// The Markdown section (`$GITHUB_STEP_SUMMARY`): counts, the cases of each kind (capped),
    /// the timers as a table.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n#### Since the baseline\n\n{} (against `{}`)",
            self.headline(),
            super::text::code(&self.baseline.to_string_lossy())
        );
        for (title, _, cases) in self.sections() {
            if cases.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n**{title}** ({})\n", cases.len());
            for c in cases.iter().take(MAX_LISTED) {
                let _ = writeln!(
                    out,
                    "- `{}` {}: {}",
                    super::text::code(&c.name()),
                    super::text::cell(&c.title),
                    c.status
                );
            }
            if cases.len() > MAX_LISTED {
                let _ = writeln!(out, "- … {} more", cases.len() - MAX_LISTED);
            }
        }
        if !self.timers.is_empty() {
            out.push_str("\n| timer | median before | median now | change | worst before | worst now | limit |\n");
            out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
            for t in &self.timers {
                let cells = timer_cells(t);
                let _ =
                    writeln!(out, "| `{}` | {} |", super::text::code(&t.name), cells.join(" | "));
            }
        }
        out
    }
}

/// A case in a list of the diff: its name, title and `before -> now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCase {
    pub suite: String,
    pub id: String,
    pub title: String,
    /// `pass -> fail`, or one status for an added or removed case.
    pub status: String,
}

impl ListedCase {
    fn change(c: &Change) -> Self {
        ListedCase {
            suite: c.now.suite.clone(),
            id: c.now.id.clone(),
            title: c.now.title.clone(),
            status: format!("{} -> {}", c.before.status(), c.now.status()),
        }
    }

    fn outcome(o: &Outcome) -> Self {
        ListedCase {
            suite: o.suite.clone(),
            id: o.id.clone(),
            title: o.title.clone(),
            status: o.status(),
        }
    }

    /// `suite ID`.
    pub fn name(&self) -> String {
        format!("{} {}", self.suite, self.id)
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Median before, median now, change, worst before, worst now, limit: `-` where unknown.
pub fn timer_cells(t: &TimerDrift) -> [String; 6] {
    let d = |s: Option<TimerStats>, f: fn(TimerStats) -> Duration| {
        s.map(|s| human(f(s))).unwrap_or_else(|| "-".into())
    };
    let mut worst_now = d(t.now, |s| s.worst);
    if t.over_limit() {
        worst_now.push_str(" (over)");
    }
    [
        d(t.before, |s| s.median),
        d(t.now, |s| s.median),
        t.median_change().unwrap_or_else(|| "-".into()),
        d(t.before, |s| s.worst),
        worst_now,
        t.limit.map(human).unwrap_or_else(|| "-".into()),
    ]
}

/// `name: median 1.2ms -> 1.5ms (+300µs), worst 2ms -> 3ms, limit 50ms`.
fn timer_line(t: &TimerDrift) -> String {
    let [mb, mn, change, wb, wn, limit] = timer_cells(t);
    format!("{}: median {mb} -> {mn} ({change}), worst {wb} -> {wn}, limit {limit}", t.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, verdict: Verdict, flaky: bool) -> Outcome {
        Outcome {
            suite: "s".into(),
            id: id.into(),
            title: format!("title of {id}"),
            verdict,
            flaky,
            waived: false,
        }
    }

    fn run(cases: &[Outcome], timers: &[(&str, &[u64], Option<u64>)]) -> RunOutcomes {
        RunOutcomes {
            cases: cases.iter().map(|o| ((o.suite.clone(), o.id.clone()), o.clone())).collect(),
            timers: timers
                .iter()
                .map(|(name, values, limit)| {
                    let samples = TimerSamples {
                        values: values.iter().map(|&ms| Duration::from_micros(ms)).collect(),
                        limit: limit.map(Duration::from_micros),
                    };
                    (name.to_string(), samples)
                })
                .collect(),
        }
    }

    fn sample() -> RunDiff {
        use Verdict::*;
        let before = run(
            &[
                outcome("A-1", Pass, false),
                outcome("A-2", Fail, false),
                outcome("A-3", Fail, false),
                outcome("A-4", Pass, false),
                outcome("A-5", Pass, false),
                outcome("A-6", Skipped, false),
                outcome("GONE-1", Pass, false),
            ],
            &[("latency", &[1_000, 3_000, 2_000], Some(50_000)), ("old_timer", &[5], None)],
        );
        let mut waived = outcome("A-5", Fail, false);
        waived.waived = true;
        let now = run(
            &[
                outcome("A-1", Fail, false),
                outcome("A-2", Pass, false),
                outcome("A-3", Error, false),
                outcome("A-4", Pass, true),
                waived,
                outcome("A-6", Inconclusive, false),
                outcome("NEW-1", Fail, false),
                outcome("NEW-2", Pass, false),
            ],
            &[("latency", &[4_000, 2_500, 60_000, 3_000], Some(50_000))],
        );
        diff(&Baseline { source: "old/report.json".into(), outcomes: before }, &now)
    }

    #[test]
    fn every_kind_of_change_is_sorted_into_its_list() {
        let d = sample();
        fn ids(v: &[Change]) -> Vec<&str> {
            v.iter().map(|c| c.now.id.as_str()).collect()
        }
        assert_eq!(ids(&d.regressions), ["A-1", "A-6"]);
        assert_eq!(ids(&d.fixes), ["A-2"]);
        assert_eq!(ids(&d.still_failing), ["A-3"]);
        assert_eq!(ids(&d.newly_flaky), ["A-4"]);
        assert_eq!(ids(&d.waived), ["A-5"]);
        assert_eq!(d.added.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["NEW-1", "NEW-2"]);
        assert_eq!(d.removed.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["GONE-1"]);
        // Two regressions and the added case that fails; the waived failure is not one.
        assert_eq!(d.new_failures(), 3);
    }

    #[test]
    fn timers_show_median_worst_and_limit_of_both_runs() {
        let d = sample();
        let latency = &d.timers[0];
        assert_eq!(latency.name, "latency");
        let ms = Duration::from_micros;
        assert_eq!(
            latency.before,
            Some(TimerStats { median: ms(2_000), worst: ms(3_000), samples: 3 })
        );
        // Even count: the lower middle value.
        assert_eq!(
            latency.now,
            Some(TimerStats { median: ms(3_000), worst: ms(60_000), samples: 4 })
        );
        assert_eq!(latency.median_change().as_deref(), Some("+1.000ms"));
        assert!(latency.over_limit());
        let gone = &d.timers[1];
        assert_eq!((gone.name.as_str(), gone.now, gone.median_change()), ("old_timer", None, None));
    }

    #[test]
    fn an_unchanged_run_has_nothing_to_say() {
        let before =
            run(&[outcome("A-1", Verdict::Pass, false), outcome("A-2", Verdict::Fail, false)], &[]);
        let d = diff(&Baseline { source: "b".into(), outcomes: before.clone() }, &before);
        assert_eq!(d.headline(), "0 regressions, 0 fixed, 1 still failing");
        assert_eq!(d.new_failures(), 0);
    }

    #[test]
    fn console_and_markdown_summaries() {
        let d = sample();
        insta::assert_snapshot!("diff_console", d.console_lines().join("\n"));
        insta::assert_snapshot!("diff_markdown", d.markdown());
    }
}
