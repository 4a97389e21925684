//! `doipcheck report --history REPORTS...`: one self-contained page over many runs: the pass
//! rate of each run, a status strip per case across the runs, and each measured timer's median
//! and worst over the runs against its limit, as inline SVG. Runs are ordered by their own
//! start time (`run.wall_clock_unix_us` of each report), not by the order given.
//!
//! Each report is reduced to its [`RunOutcomes`] as it is read, so hundreds of runs cost their
//! verdicts and timer values, not their events.

use std::time::Duration;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::diff::{RunOutcomes, TimerSamples};
use super::load::LoadedReport;
use super::text::human;
use super::text::printable;
use crate::runner::event::Verdict;

/// Cases given a status strip; a history of more shows the ones that changed most first.
pub const MAX_STRIPS: usize = 2_000;

/// One run of the history.
#[derive(Debug, Clone, Default)]
pub struct HistoryRun {
    /// Where it was read from.
    pub source: String,
    /// Wall clock at its start, microseconds since the Unix epoch (`None`: not recorded).
    pub started_us: Option<u64>,
    pub outcomes: RunOutcomes,
}

impl HistoryRun {
    pub fn new(source: String, report: &LoadedReport) -> Self {
        HistoryRun {
            source,
            started_us: report.run.as_ref().map(|r| r.wall_clock_unix_us),
            outcomes: RunOutcomes::from_reports(std::slice::from_ref(report)),
        }
    }

    /// Passed over judged (skipped cases left out), `None` when nothing was judged.
    fn pass_rate(&self) -> Option<f64> {
        let judged = self.outcomes.cases.values().filter(|o| o.verdict != Verdict::Skipped);
        let (mut pass, mut all) = (0u32, 0u32);
        for o in judged {
            all += 1;
            pass += u32::from(o.verdict == Verdict::Pass);
        }
        (all > 0).then(|| f64::from(pass) / f64::from(all))
    }

    fn label(&self) -> String {
        match self
            .started_us
            .and_then(|us| chrono::DateTime::from_timestamp_micros(i64::try_from(us).ok()?))
        {
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => self.source.clone(),
        }
    }
}

/// Puts `runs` in the order they ran (by start time; runs without one last, by source).
pub fn order(runs: &mut [HistoryRun]) {
    runs.sort_by(|a, b| {
        (a.started_us.is_none(), a.started_us, &a.source).cmp(&(
            b.started_us.is_none(),
            b.started_us,
            &b.source,
        ))
    });
}

const CELL: i64 = 8;

/// The page for `runs` (in order).
pub fn history_page(runs: &[HistoryRun]) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { "doipcheck history" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "doipcheck history: " span #runs { (runs.len()) } " runs" }
                @if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
                    p.muted { "from " (first.label()) " to " (last.label()) " (ordered by each run's start)" }
                }
                h2 { "Pass rate" }
                (pass_rate_chart(runs))
                h2 { "Cases" }
                (strips(runs))
                h2 { "Timers" }
                (timers(runs))
            }
        }
    };
    page.into_string()
}

fn pass_rate_chart(runs: &[HistoryRun]) -> Markup {
    let height = 100i64;
    let width = (runs.len() as i64 * CELL).max(CELL) + 40;
    html! {
        svg #pass-rate xmlns="http://www.w3.org/2000/svg" width=(width) height=(height + 20) {
            text x="0" y="10" { "100%" }
            text x="0" y=(height + 4) { "0%" }
            @for (i, run) in runs.iter().enumerate() {
                @if let Some(rate) = run.pass_rate() {
                    @let h = (rate * height as f64).round() as i64;
                    rect class=(if rate < 1.0 { "bar failing" } else { "bar" }) x=(40 + i as i64 * CELL) y=(height - h + 4) width=(CELL - 2) height=(h.max(1)) {
                        title { (printable(&run.label())) ": " (format!("{:.1}", rate * 100.0)) "% passed (" (printable(&run.source)) ")" }
                    }
                }
            }
        }
    }
}

/// A row per case: one cell per run, coloured by its status there (blank: not in that run).
fn strips(runs: &[HistoryRun]) -> Markup {
    let mut keys: Vec<&(String, String)> =
        runs.iter().flat_map(|r| r.outcomes.cases.keys()).collect();
    keys.sort();
    keys.dedup();
    // The cases whose status changed most often first: where to look.
    let changes = |key: &(String, String)| {
        let statuses: Vec<Option<String>> = runs
            .iter()
            .map(|r| r.outcomes.cases.get(key).map(super::diff::Outcome::status))
            .collect();
        statuses.windows(2).filter(|w| w[0] != w[1]).count()
    };
    let mut ranked: Vec<(usize, &(String, String))> =
        keys.iter().map(|k| (changes(k), *k)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let shown = ranked.len().min(MAX_STRIPS);
    html! {
        table.strips {
            @for (_, key) in &ranked[..shown] {
                tr {
                    td { code { (printable(&key.1)) } " " span.muted { (printable(&key.0)) } }
                    td.strip {
                        @for run in runs {
                            @match run.outcomes.cases.get(*key) {
                                Some(o) => span class={"c " (status_class(o))} title=(format!("{}: {}", run.label(), o.status())) {},
                                None => span.c.none title=(format!("{}: not run", run.label())) {},
                            }
                        }
                    }
                }
            }
        }
        @if ranked.len() > shown { p.muted { (ranked.len() - shown) " more cases not shown" } }
    }
}

fn status_class(o: &super::diff::Outcome) -> &'static str {
    if o.waived && o.verdict.is_failure() { "waived" } else { o.verdict.as_str() }
}

/// One chart per timer: median (line) and worst (dots) per run, the limit as a dashed line.
fn timers(runs: &[HistoryRun]) -> Markup {
    let mut names: Vec<&String> = runs.iter().flat_map(|r| r.outcomes.timers.keys()).collect();
    names.sort();
    names.dedup();
    html! {
        @if names.is_empty() { p.muted { "no measured timers in these runs" } }
        @for name in names {
            @let samples: Vec<Option<&TimerSamples>> = runs.iter().map(|r| r.outcomes.timers.get(name)).collect();
            (timer_chart(name, &samples))
        }
    }
}

fn timer_chart(name: &str, samples: &[Option<&TimerSamples>]) -> Markup {
    let height = 80i64;
    let stats: Vec<_> = samples.iter().map(|s| s.and_then(|s| s.stats())).collect();
    let limit = samples.iter().flatten().filter_map(|s| s.limit).max();
    let top = stats
        .iter()
        .flatten()
        .map(|s| s.worst)
        .chain(limit)
        .max()
        .unwrap_or(Duration::from_millis(1))
        .max(Duration::from_micros(1));
    let y = |d: Duration| {
        height + 4 - (d.as_secs_f64() / top.as_secs_f64() * height as f64).round() as i64
    };
    let x = |i: usize| 40 + i as i64 * CELL + CELL / 2;
    let median: Vec<String> = stats
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| format!("{},{}", x(i), y(s.median))))
        .collect();
    let width = (samples.len() as i64 * CELL).max(CELL) + 40;
    html! {
        figure.timer data-timer=(printable(name)) {
            figcaption { code { (printable(name)) } " — top " (human(top)) @if let Some(l) = limit { ", limit " (human(l)) } }
            svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height + 10) {
                @if let Some(l) = limit { line.limit x1="40" y1=(y(l)) x2=(width) y2=(y(l)) {} }
                polyline.median points=(median.join(" ")) {}
                @for (i, s) in stats.iter().enumerate() {
                    @if let Some(s) = s {
                        circle class=(if limit.is_some_and(|l| s.worst > l) { "worst over" } else { "worst" }) cx=(x(i)) cy=(y(s.worst)) r="2" {
                            title { "median " (human(s.median)) ", worst " (human(s.worst)) }
                        }
                    }
                }
            }
        }
    }
}

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2330; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin: 1.2em 0 .4em; } .muted { color: #667; }
svg text { font: 10px system-ui, sans-serif; fill: #667; }
.bar { fill: #2f8f46; } .bar.failing { fill: #c62828; }
table.strips td { padding: 0 8px 0 0; white-space: nowrap; } td.strip { line-height: 0; }
.c { display: inline-block; width: 6px; height: 12px; margin-right: 2px; background: #e4e7ec; }
.c.pass { background: #2f8f46; } .c.fail { background: #c62828; } .c.error { background: #8e24aa; }
.c.inconclusive { background: #ef6c00; } .c.skipped { background: #b0bec5; } .c.waived { background: #6d4c41; }
.limit { stroke: #c62828; stroke-dasharray: 4 3; } .median { fill: none; stroke: #1d4ed8; stroke-width: 1.5; }
.worst { fill: #667; } .worst.over { fill: #c62828; }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn run(source: &str, started: Option<u64>, verdicts: &[(&str, Verdict)]) -> HistoryRun {
        let mut outcomes = RunOutcomes::default();
        for (id, v) in verdicts {
            let o = super::super::diff::Outcome {
                suite: "s".into(),
                id: (*id).into(),
                title: "t".into(),
                verdict: *v,
                flaky: false,
                waived: false,
            };
            outcomes.cases.insert(("s".into(), (*id).into()), o);
        }
        HistoryRun { source: source.into(), started_us: started, outcomes }
    }

    #[test]
    fn runs_are_ordered_by_their_start_and_the_changing_case_comes_first() {
        use Verdict::*;
        let mut runs = vec![
            run("c", Some(3_000_000), &[("A", Pass), ("B", Pass)]),
            run("x", None, &[("A", Pass)]),
            run("a", Some(1_000_000), &[("A", Pass), ("B", Fail)]),
            run("b", Some(2_000_000), &[("A", Pass), ("B", Pass)]),
        ];
        order(&mut runs);
        assert_eq!(
            runs.iter().map(|r| r.source.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c", "x"]
        );
        assert_eq!(runs[0].pass_rate(), Some(0.5));
        let page = history_page(&runs);
        assert!(page.find("<code>B</code>").unwrap() < page.find("<code>A</code>").unwrap());
        // B: fail, pass, pass, not run.
        let strip = &page[page.find("<code>B</code>").unwrap()..];
        let cells: Vec<&str> =
            strip.split("class=\"c ").skip(1).take(4).map(|s| &s[..s.find('"').unwrap()]).collect();
        assert_eq!(cells, ["fail", "pass", "pass", "none"]);
    }
}
