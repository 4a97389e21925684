//! The selftest proof: every shipped case passes against the conformant built-in simulator;
//! against each simulator fault, every case listing that fault in `detects:` fails, and the
//! other cases run against it (a sample) do not error. `doipcheck selftest` prints the case x
//! fault matrix this builds (docs/architecture.md#simulator-and-faults).
//!
//! Running every case against every fault costs cases x faults runs, most of them waiting for
//! timeouts; the proof runs, per fault, the cases that list it plus `sample` others spread
//! over the plan (deterministically), which keeps CI within its budget and still shows that an
//! unrelated fault does not make cases error.
//!
//! May import: `runner`, `suite`, `sim`, `transport`; never `cli` (cli calls it).

use super::agreement::{CaseRules, failed_case_rules};
use super::unjudged::Visibility;
use crate::runner::event::{CollectingSink, Event, Verdict};
use crate::runner::target::Simulators;
use crate::runner::{CaseEnv, RunOptions};
use crate::sim::config::SimConfig;
use crate::suite::profile::Profile;
use crate::suite::select::SelectedCase;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// The case lists the fault and failed against it.
    Caught,
    /// The case lists the fault but did not fail (verdict and reason).
    Missed(Verdict, String),
    /// A sampled case that does not list the fault passed or was skipped.
    SampledPass,
    /// A sampled case that does not list the fault failed: it catches it too (not a mismatch;
    /// worth adding to `detects`).
    SampledFail,
    /// A sampled case was inconclusive: the unrelated fault broke its setup (not a mismatch).
    SampledInconclusive,
    /// A sampled case errored against an unrelated fault (a harness problem).
    Errored(Verdict, String),
}

/// The selftest's findings.
#[derive(Debug, Clone, Default)]
pub struct Proof {
    /// Case ids, in plan order.
    pub cases: Vec<String>,
    /// Faults proved, in catalogue order.
    pub faults: Vec<String>,
    /// Verdict and reason of each case against the conformant simulator.
    pub conformant: Vec<(Verdict, String)>,
    /// (case index, fault index) -> cell.
    pub cells: BTreeMap<(usize, usize), Cell>,
    /// Wall time of each run: "conformant" or the fault name.
    pub timings: Vec<(String, Duration)>,
    /// Per fault (by index), the failed cases with the rules `run`'s judge named and the
    /// rules the judge finds in their captures ([`super::agreement`]).
    pub rules: Vec<(usize, CaseRules)>,
    /// Wall time of the whole proof (the runs overlap).
    pub wall: Duration,
}

impl Proof {
    /// How `run`'s judge and the judge over the captures agree on the failed listed cases,
    /// and for how many faults the rules show anything at all.
    pub fn agreement(&self) -> String {
        let named: Vec<&CaseRules> = self
            .rules
            .iter()
            .map(|(_, r)| r)
            .filter(|r| !r.live.is_empty() && !r.encrypted)
            .collect();
        let encrypted = self.rules.iter().filter(|(_, r)| r.encrypted).count();
        let agreeing = named.iter().filter(|r| r.agrees()).count();
        let faults_with = |pick: fn(&CaseRules) -> bool| {
            let mut faults: Vec<usize> =
                self.rules.iter().filter(|(_, r)| pick(r)).map(|(f, _)| *f).collect();
            faults.dedup();
            faults.len()
        };
        let live = faults_with(|r| !r.live.is_empty());
        let inspected = faults_with(|r| !r.inspected.is_empty());
        let mut s = format!(
            "rules: {agreeing}/{} failed cases whose run named a rule have that rule in their capture ({encrypted} TLS cases left out: their captures hold the records encrypted); faults shown by a rule: {live}/{n} in the run, {inspected}/{n} in the captures",
            named.len(),
            n = self.faults.len()
        );
        for r in named.iter().filter(|r| !r.agrees()) {
            let _ = write!(s, "\n  {}: run {:?}, capture {:?}", r.case, r.live, r.inspected);
        }
        let mut by_fault: BTreeMap<usize, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for (f, r) in &self.rules {
            by_fault.entry(*f).or_default().extend(r.live.iter().chain(&r.inspected));
        }
        let (shown, unshown): (Vec<_>, Vec<_>) =
            (0..self.faults.len()).partition(|f| by_fault.get(f).is_some_and(|r| !r.is_empty()));
        let name = |f: &usize| self.faults[*f].as_str();
        for f in &shown {
            let rules: Vec<&str> = by_fault[f].iter().copied().collect();
            let _ = write!(s, "\n  {}: {}", name(f), rules.join(", "));
        }
        let _ = write!(s, "\n  no rule shows {} of the faults:", unshown.len());
        for f in &unshown {
            match super::unjudged::unjudged(name(f)) {
                Some(u) => {
                    let visibility = match u.visibility {
                        Visibility::NotOnTheWire => "not on the wire",
                        Visibility::NoRuleYet => "no rule yet",
                    };
                    let _ = write!(s, "\n  {} ({visibility}): {}", u.fault, u.why);
                }
                None => {
                    let _ = write!(
                        s,
                        "\n  {}: no rule shows it, and proof/unjudged.rs does not say why",
                        name(f)
                    );
                }
            }
        }
        s
    }

    /// Where the list of faults no rule shows (`proof::unjudged`) and the proof disagree: a
    /// fault no rule showed that the list does not explain, or one the list explains that a
    /// rule now shows. Only the faults this proof ran for which `here` holds (a proof of some
    /// suites judges the faults those suites are meant to show), with the rules of their
    /// captures.
    pub fn rule_gaps(&self, here: impl Fn(&str) -> bool) -> Vec<String> {
        let mut shown = vec![false; self.faults.len()];
        for (f, r) in &self.rules {
            shown[*f] |= !r.live.is_empty() || !r.inspected.is_empty();
        }
        let ran: std::collections::BTreeSet<usize> = self.rules.iter().map(|(f, _)| *f).collect();
        let mut out = Vec::new();
        for f in ran.into_iter().filter(|f| here(&self.faults[*f])) {
            let name = self.faults[f].as_str();
            match (shown[f], super::unjudged::unjudged(name)) {
                (false, None) => out.push(format!(
                    "{name}: no rule shows it in the captures of the cases that catch it; add the rule, or say why in proof/unjudged.rs"
                )),
                (true, Some(_)) => out.push(format!(
                    "{name}: a rule shows it now; take it out of proof/unjudged.rs"
                )),
                _ => {}
            }
        }
        out
    }

    /// Every way the proof does not hold, one line each.
    pub fn mismatches(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (verdict, reason)) in self.conformant.iter().enumerate() {
            if !matches!(verdict, Verdict::Pass | Verdict::Skipped) {
                out.push(format!(
                    "{}: {} against the conformant simulator: {reason}",
                    self.cases[i],
                    verdict_name(*verdict)
                ));
            }
        }
        for (&(c, f), cell) in &self.cells {
            match cell {
                Cell::Missed(v, reason) => out.push(format!(
                    "{}: does not catch `{}` ({}): {reason}",
                    self.cases[c],
                    self.faults[f],
                    verdict_name(*v)
                )),
                Cell::Errored(v, reason) => out.push(format!(
                    "{}: {} against unrelated fault `{}`: {reason}",
                    self.cases[c],
                    verdict_name(*v),
                    self.faults[f]
                )),
                Cell::Caught
                | Cell::SampledPass
                | Cell::SampledFail
                | Cell::SampledInconclusive => {}
            }
        }
        out
    }

    /// Faults that no case lists (nothing proves the suites would notice them).
    pub fn uncovered(&self) -> Vec<&str> {
        (0..self.faults.len())
            .filter(|f| {
                !self.cells.iter().any(|(&(_, cf), cell)| {
                    cf == *f && matches!(cell, Cell::Caught | Cell::Missed(..))
                })
            })
            .map(|f| self.faults[f].as_str())
            .collect()
    }

    /// The case x fault matrix: one row per case, one column per fault (numbered, with a
    /// legend), then the mismatches.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "faults:");
        for (i, f) in self.faults.iter().enumerate() {
            let _ = writeln!(s, "  {:>2} {f}", i + 1);
        }
        let _ = writeln!(
            s,
            "cells: X caught, ! missed, E errored, o/f/i sampled and passed/failed/inconclusive, . not run"
        );
        let width = self.cases.iter().map(|c| c.len()).max().unwrap_or(4).min(60);
        let mut header = format!("{:width$} conf ", "case");
        for i in 0..self.faults.len() {
            header.push_str(&format!("{:>2}", (i + 1) % 100));
        }
        let _ = writeln!(s, "{}", header.trim_end());
        for (c, id) in self.cases.iter().enumerate() {
            let shown: String = id.chars().take(width).collect();
            let conf = match self.conformant.get(c).map(|(v, _)| *v) {
                Some(Verdict::Pass) => "pass",
                Some(Verdict::Skipped) => "skip",
                Some(_) => "FAIL",
                None => "-",
            };
            let mut row = format!("{shown:width$} {conf:4} ");
            for f in 0..self.faults.len() {
                let mark = match self.cells.get(&(c, f)) {
                    Some(Cell::Caught) => 'X',
                    Some(Cell::Missed(..)) => '!',
                    Some(Cell::Errored(..)) => 'E',
                    Some(Cell::SampledPass) => 'o',
                    Some(Cell::SampledFail) => 'f',
                    Some(Cell::SampledInconclusive) => 'i',
                    None => '.',
                };
                row.push(' ');
                row.push(mark);
            }
            let _ = writeln!(s, "{}", row.trim_end());
        }
        let caught = self.cells.values().filter(|c| **c == Cell::Caught).count();
        let listed =
            self.cells.values().filter(|c| matches!(c, Cell::Caught | Cell::Missed(..))).count();
        let _ = writeln!(
            s,
            "{} cases, {} faults: {caught}/{listed} listed detections caught",
            self.cases.len(),
            self.faults.len()
        );
        let uncovered = self.uncovered();
        if !uncovered.is_empty() {
            let _ = writeln!(s, "faults no case lists: {}", uncovered.join(", "));
        }
        let _ = writeln!(s, "{}", self.agreement());
        let total: Duration = self.timings.iter().map(|(_, d)| *d).sum();
        let _ = writeln!(
            s,
            "time: {:.1}s, {:.1}s summed over {} overlapping runs",
            self.wall.as_secs_f64(),
            total.as_secs_f64(),
            self.timings.len()
        );
        let mismatches = self.mismatches();
        if !mismatches.is_empty() {
            let _ = writeln!(s, "{} mismatches:", mismatches.len());
            for m in mismatches {
                let _ = writeln!(s, "  {m}");
            }
        }
        s
    }

    /// The last line, which agrees with the exit code: `selftest: ok` only when every
    /// detection holds and every case that ran can be failed by some fault (`undetected`: the
    /// cases with an empty `detects`, which prove nothing).
    pub fn conclusion(&self, undetected: usize) -> (bool, String) {
        let mut problems = Vec::new();
        let mismatches = self.mismatches().len();
        if mismatches > 0 {
            problems.push(format!("{mismatches} mismatches"));
        }
        if undetected > 0 {
            problems.push(format!("{undetected} cases no fault can fail"));
        }
        if problems.is_empty() {
            (true, "selftest: ok".to_owned())
        } else {
            (false, format!("selftest: FAILED: {}", problems.join(", ")))
        }
    }
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Skipped => "skipped",
        Verdict::Pass => "passed",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Fail => "failed",
        Verdict::Error => "errored",
    }
}

/// The indices of up to `n` cases not in `exclude`, spread evenly over the plan and shifted by
/// `seed` so that different faults sample different cases (deterministic: same plan, same
/// sample).
fn sample(len: usize, exclude: &[usize], n: usize, seed: usize) -> Vec<usize> {
    let candidates: Vec<usize> = (0..len).filter(|i| !exclude.contains(i)).collect();
    if candidates.is_empty() || n == 0 {
        return Vec::new();
    }
    let n = n.min(candidates.len());
    let step = candidates.len() / n;
    (0..n).map(|k| candidates[(seed + k * step) % candidates.len()]).collect()
}

/// Runs `cases` of `plan` against `jobs` simulator instances with `faults` switched on; the
/// verdict and reason of each, in the order given, and the run's events.
async fn run_cases(
    plan: &[SelectedCase],
    cases: &[usize],
    env: &CaseEnv,
    sim: &SimConfig,
    jobs: u32,
    faults: &[String],
) -> Result<(Vec<(Verdict, String)>, Vec<Event>), String> {
    let sub: Vec<SelectedCase> = cases.iter().map(|&i| plan[i].clone()).collect();
    let n = sub.len();
    let (sims, endpoints) = Simulators::start(jobs, faults, sim).await?;
    let options = RunOptions {
        target_label: crate::runner::target::simulator_label(faults),
        profile_path: None,
        fail_fast: false,
        shard: None,
        repeat: 1,
    };
    let mut sink = CollectingSink::default();
    let (_cancel, cancel_rx) = tokio::sync::watch::channel(None);
    let result =
        crate::runner::run(sub, env.clone(), endpoints, options, &mut sink, cancel_rx).await;
    sims.shutdown().await;
    if let Some(e) = result.sink_error {
        return Err(e);
    }
    let mut out = vec![(Verdict::Error, "the case did not finish".to_owned()); n];
    for e in &sink.events {
        if let Event::CaseFinished(f) = e
            && let Some(slot) = out.get_mut(f.case.0 as usize)
        {
            *slot = (f.verdict, f.reason.as_ref().map(|r| r.message.clone()).unwrap_or_default());
        }
    }
    Ok((out, sink.events))
}

/// Proves `plan` against the conformant simulator and each fault of `faults`.
pub async fn prove(
    plan: &[SelectedCase],
    profile: &Profile,
    sim: &SimConfig,
    faults: &[String],
    jobs: u32,
    sample_size: usize,
) -> Result<Proof, String> {
    let env = CaseEnv {
        profile: Arc::new(profile.clone()),
        tls: crate::transport::doip::tester::tls::client_config(None).ok(),
        connect_timeout: Duration::from_secs(2),
    };
    let mut proof = Proof {
        cases: plan.iter().map(|p| p.info.id.clone()).collect(),
        faults: faults.to_vec(),
        ..Proof::default()
    };
    let all: Vec<usize> = (0..plan.len()).collect();
    let started = Instant::now();
    let conformant = async {
        let started = Instant::now();
        (run_cases(plan, &all, &env, sim, jobs, &[]).await, started.elapsed())
    };
    // The fault runs each start their own simulators and mostly wait on protocol timers, so
    // they overlap (at most FAULT_RUNS_AT_ONCE) beside the conformant run instead of adding
    // their waits one after another.
    let runs = faults.iter().enumerate().map(|(fi, fault)| {
        // A case the profile skips cannot catch anything here: it is counted as unproven.
        let listed: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| plan[i].skip.is_none() && plan[i].info.detects.contains(fault))
            .collect();
        let sampled = sample(plan.len(), &listed, sample_size, fi * 7);
        let cases: Vec<usize> = listed.iter().chain(sampled.iter()).copied().collect();
        let env = &env;
        async move {
            let started = Instant::now();
            let verdicts =
                run_cases(plan, &cases, env, sim, jobs, std::slice::from_ref(fault)).await;
            (fi, listed, cases, verdicts, started.elapsed())
        }
    });
    let ((conformant, took), fault_runs) =
        tokio::join!(conformant, join_bounded(runs, FAULT_RUNS_AT_ONCE));
    proof.wall = started.elapsed();
    proof.conformant = conformant?.0;
    proof.timings.push(("conformant".into(), took));
    for (fi, listed, cases, verdicts, took) in fault_runs {
        let (verdicts, events) = verdicts?;
        proof.timings.push((faults[fi].clone(), took));
        let listed_ids: Vec<&str> = listed.iter().map(|&i| plan[i].info.id.as_str()).collect();
        proof.rules.extend(
            failed_case_rules(&events, profile.target())
                .into_iter()
                .filter(|r| listed_ids.contains(&r.case.as_str()))
                .map(|r| (fi, r)),
        );
        for (&ci, (verdict, reason)) in cases.iter().zip(verdicts) {
            let is_listed = listed.contains(&ci);
            let cell = match (is_listed, verdict) {
                (true, Verdict::Fail) => Cell::Caught,
                (true, v) => Cell::Missed(v, reason),
                (false, Verdict::Pass | Verdict::Skipped) => Cell::SampledPass,
                (false, Verdict::Fail) => Cell::SampledFail,
                (false, Verdict::Inconclusive) => Cell::SampledInconclusive,
                (false, v) => Cell::Errored(v, reason),
            };
            proof.cells.insert((ci, fi), cell);
        }
    }
    Ok(proof)
}

/// Fault runs of the selftest in flight at once (each with its own `jobs` simulators).
const FAULT_RUNS_AT_ONCE: usize = 6;

/// Awaits every future of `futures`, at most `width` at a time, on the caller's task (no
/// spawning: they may borrow); the outputs in the order given.
async fn join_bounded<F: Future>(futures: impl Iterator<Item = F>, width: usize) -> Vec<F::Output> {
    let mut waiting = futures.enumerate();
    let mut running: Vec<(usize, std::pin::Pin<Box<F>>)> = Vec::new();
    let mut done: Vec<(usize, F::Output)> = Vec::new();
    loop {
        while running.len() < width.max(1) {
            match waiting.next() {
                Some((i, f)) => running.push((i, Box::pin(f))),
                None => break,
            }
        }
        if running.is_empty() {
            break;
        }
        let (i, output) = std::future::poll_fn(|cx| {
            for (i, f) in running.iter_mut() {
                if let std::task::Poll::Ready(output) = f.as_mut().poll(cx) {
                    return std::task::Poll::Ready((*i, output));
                }
            }
            std::task::Poll::Pending
        })
        .await;
        running.retain(|(j, _)| *j != i);
        done.push((i, output));
    }
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, output)| output).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_no_rule_shows_must_be_explained_and_an_explained_one_must_stay_unshown() {
        let rules = |live: &[&'static str]| CaseRules {
            case: "C-1".into(),
            live: live.iter().copied().collect(),
            inspected: live.iter().copied().collect(),
            encrypted: false,
        };
        let proof = Proof {
            faults: ["reply_wrong_version", "no_alive_check_answer", "made_up_fault", "ncts_wrong"]
                .map(String::from)
                .to_vec(),
            rules: vec![
                (0, rules(&["doip.reply_version"])),
                (1, rules(&[])),
                (2, rules(&[])),
                // Listed in proof::unjudged as not shown, yet shown here.
                (3, rules(&["doip.declared_status"])),
            ],
            ..Proof::default()
        };
        let gaps = proof.rule_gaps(|_| true);
        assert_eq!(gaps.len(), 2, "{gaps:?}");
        assert!(gaps[0].starts_with("made_up_fault: no rule shows it"), "{gaps:?}");
        assert!(gaps[1].starts_with("ncts_wrong: a rule shows it now"), "{gaps:?}");
        // Faults outside the proof's domain are not judged here.
        assert!(proof.rule_gaps(|f| f != "made_up_fault" && f != "ncts_wrong").is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn fault_runs_overlap_at_most_width_and_keep_their_order() {
        let in_flight = std::cell::Cell::new(0usize);
        let most = std::cell::Cell::new(0usize);
        let started = tokio::time::Instant::now();
        // Five runs of 100 ms, 500 ms, 100 ms, ...: two at a time take 300 ms, in order.
        let runs = (0..5u64).map(|i| {
            let (in_flight, most) = (&in_flight, &most);
            async move {
                in_flight.set(in_flight.get() + 1);
                most.set(most.get().max(in_flight.get()));
                let ms = if i == 1 { 500 } else { 100 };
                tokio::time::sleep(Duration::from_millis(ms)).await;
                in_flight.set(in_flight.get() - 1);
                i
            }
        });
        assert_eq!(join_bounded(runs, 2).await, vec![0, 1, 2, 3, 4]);
        assert_eq!(most.get(), 2);
        // 0|1 -> 2 starts at 100 -> 3 at 200 -> 4 at 300, 4 ends at 400; 1 ends at 500.
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }

    #[test]
    fn samples_are_spread_deterministic_and_exclude_listed_cases() {
        let s = sample(10, &[0, 1], 3, 0);
        assert_eq!(s, vec![2, 4, 6]);
        assert_eq!(sample(10, &[0, 1], 3, 0), s);
        assert!(sample(10, &[0, 1], 3, 5).iter().all(|i| *i > 1));
        assert!(sample(2, &[0, 1], 3, 0).is_empty());
        assert_eq!(sample(5, &[], 0, 3), Vec::<usize>::new());
    }

    #[test]
    fn a_missed_detection_and_an_error_are_mismatches() {
        let mut p = Proof {
            cases: vec!["A".into(), "B".into()],
            faults: vec!["f1".into(), "f2".into()],
            conformant: vec![(Verdict::Pass, String::new()), (Verdict::Pass, String::new())],
            ..Proof::default()
        };
        p.cells.insert((0, 0), Cell::Caught);
        p.cells.insert((1, 0), Cell::SampledFail);
        assert!(p.mismatches().is_empty());
        assert_eq!(p.conclusion(0), (true, "selftest: ok".to_owned()));
        assert_eq!(
            p.conclusion(1),
            (false, "selftest: FAILED: 1 cases no fault can fail".to_owned())
        );
        assert_eq!(p.uncovered(), vec!["f2"]);
        p.cells.insert((1, 1), Cell::Missed(Verdict::Pass, "held".into()));
        p.cells.insert((0, 1), Cell::Errored(Verdict::Error, "boom".into()));
        let m = p.mismatches();
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("errored against unrelated fault `f2`"), "{m:?}");
        assert!(m[1].contains("does not catch `f2`"), "{m:?}");
        let text = p.render();
        assert!(text.lines().any(|l| l.starts_with("A ") && l.ends_with("X E")), "{text}");
        assert!(text.contains("2 mismatches:"), "{text}");
        assert_eq!(p.conclusion(0), (false, "selftest: FAILED: 2 mismatches".to_owned()));
        assert_eq!(
            p.conclusion(3),
            (false, "selftest: FAILED: 2 mismatches, 3 cases no fault can fail".to_owned())
        );
    }
}
