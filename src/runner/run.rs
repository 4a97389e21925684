//! The run loop: cases from the plan go to `jobs` workers (each with its own target
//! endpoints), their events come back over one channel and are handed to the sinks in order
//! on this task, the only consumer. Ctrl-C (or the caller's cancel signal) ends running cases
//! with `error` and starts no new ones; `--fail-fast` starts no new case after a failure.

use super::case::{Attempt, CaseEnv, CaseRun, TargetEndpoints};
use super::event::*;
use super::plan::{CasePlan, RunPlan};
use super::record::{Clock, RecordLimits, Recorder};
use crate::suite::select::SelectedCase;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// For people: what is tested.
    pub target_label: String,
    pub profile_path: Option<PathBuf>,
    pub fail_fast: bool,
    pub shard: Option<(u32, u32)>,
    /// `--repeat N`: each case runs N times in a row; verdicts that differ make it flaky,
    /// with the worst verdict (a target or case that does not repeat its verdict).
    pub repeat: u32,
}

/// Consecutive cases that cannot connect after which the target counts as lost.
pub const LOST_AFTER: u32 = 3;

/// What a run ended with.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub counts: Counts,
    pub interrupted: bool,
    /// Some case could not reach the target and no case reached it.
    pub unreachable: bool,
    /// The first error a sink reported (a report file that could not be written).
    pub sink_error: Option<String>,
}

/// Why a run is being stopped from outside (`"Ctrl-C"`, `"SIGTERM"`, `"--timeout"`): sent on
/// the `cancel` channel of [`run`]; `None` until then.
pub type StopCause = Option<&'static str>;

/// Runs `plan`: worker `j` talks to `targets[j]` (one per job). `cancel` turning to
/// `Some(cause)` ends the running cases with `error` and starts no new one. A plan given as
/// bare cases is planned here, once (`plan::plan_run` plans before, with file positions).
pub async fn run(
    plan: impl Into<RunPlan>,
    env: CaseEnv,
    targets: Vec<TargetEndpoints>,
    options: RunOptions,
    sink: &mut dyn EventSink,
    mut cancel: watch::Receiver<StopCause>,
) -> RunResult {
    let (plan, plans) = plan.into().into_parts(&env.profile);
    let plans = Arc::new(plans);
    let clock = Clock::start();
    let wall = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let mut result = RunResult::default();
    let mut deliver = |event: &Event, result: &mut RunResult| {
        if let Err(e) = sink.handle(event)
            && result.sink_error.is_none()
        {
            result.sink_error = Some(e.to_string());
        }
    };
    deliver(
        &Event::RunStarted(RunStarted {
            wall_clock_unix_us: u64::try_from(wall.as_micros()).unwrap_or(u64::MAX),
            target: options.target_label.clone(),
            profile: options.profile_path.clone(),
            case_count: plan.len() as u32,
            jobs: targets.len() as u32,
            shard: options.shard,
            declared_wait: super::schedule::declared_wait(&plan, &env.profile, targets.len()),
        }),
        &mut result,
    );
    // With several jobs, the longest cases start first (see schedule.rs); one job keeps the
    // plan order.
    let order: Vec<usize> = if targets.len() > 1 {
        super::schedule::longest_first(&plan, &env.profile)
    } else {
        (0..plan.len()).collect()
    };
    let order = Arc::new(order);
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let lost_in = Arc::new(AtomicU32::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let (stop_tx, stop_rx) = watch::channel::<StopCause>(None);
    let mut workers = tokio::task::JoinSet::new();
    for endpoints in targets {
        let worker = Worker {
            plan: plan.clone(),
            plans: plans.clone(),
            order: order.clone(),
            next: next.clone(),
            stop: stop.clone(),
            unreachable_in_a_row: lost_in.clone(),
            stop_rx: stop_rx.clone(),
            env: env.clone(),
            limits: env.profile.target().recording,
            repeat: options.repeat,
            endpoints,
            clock,
            tx: tx.clone(),
            health: super::health::Health::default(),
        };
        workers.spawn(worker.run());
    }
    drop(tx);
    let mut progress = Progress::default();
    let mut cancelled = cancel.borrow().is_some();
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else { break };
                if let Event::CaseFinished(f) = &event {
                    result.counts.add(f.verdict, f.flaky);
                    progress.case_finished(f, options.fail_fast, &stop, &lost_in);
                }
                deliver(&event, &mut result);
            }
            changed = cancel.changed(), if !cancelled => {
                let cause = if changed.is_err() { Some("the caller went away") } else { *cancel.borrow() };
                if let Some(cause) = cause {
                    cancelled = true;
                    stop.store(true, Ordering::SeqCst);
                    let _ = stop_tx.send(Some(cause));
                    progress.stop_reason = Some(format!("interrupted ({cause})"));
                }
            }
        }
    }
    while workers.join_next().await.is_some() {}
    if progress.lost {
        // The cases never started are in the reports, with the reason.
        let reason = progress.stop_reason.clone().unwrap_or_default();
        for slot in next.load(Ordering::SeqCst).min(order.len())..order.len() {
            let Some(planned) = plan.get(order[slot]) else { continue };
            let case = CaseKey(order[slot] as u32);
            let at = clock.now();
            let started = CaseStarted { case, at, info: planned.info.clone() };
            deliver(&Event::CaseStarted(started), &mut result);
            let finished = not_run_case(case, at, &reason);
            result.counts.add(finished.verdict, false);
            deliver(&Event::CaseFinished(finished), &mut result);
        }
    }
    let Progress { stop_reason, reached, unreachable, lost } = progress;
    let cut_short = lost || (result.counts.total() as usize) < plan.len();
    result.interrupted = (stop_reason.is_some() && cut_short) || cancelled;
    result.unreachable = unreachable && !reached;
    deliver(
        &Event::RunFinished(RunFinished {
            at: clock.now(),
            counts: result.counts,
            interrupted: result.interrupted,
            stop_reason: if result.interrupted { stop_reason } else { None },
        }),
        &mut result,
    );
    result
}

/// What the run loop learns from the cases that finish, and why it stopped early.
#[derive(Default)]
struct Progress {
    stop_reason: Option<String>,
    /// Some case reached the target (passed, failed or was inconclusive).
    reached: bool,
    /// Some case could not connect.
    unreachable: bool,
    /// [`LOST_AFTER`] cases in a row could not connect: the rest were not started.
    lost: bool,
}

impl Progress {
    fn case_finished(
        &mut self,
        f: &CaseFinished,
        fail_fast: bool,
        stop: &AtomicBool,
        unreachable_in_a_row: &AtomicU32,
    ) {
        if f.verdict.is_failure() && fail_fast && self.stop_reason.is_none() {
            stop.store(true, Ordering::SeqCst);
            self.stop_reason = Some("fail-fast after the first failing case".into());
        }
        let message = f.reason.as_ref().map_or("", |r| r.message.as_str());
        if f.verdict == Verdict::Error && message.starts_with(super::UNREACHABLE_PREFIX) {
            self.unreachable = true;
            // The worker that saw the last of them stopped new cases already.
            if unreachable_in_a_row.load(Ordering::SeqCst) >= LOST_AFTER
                && self.stop_reason.is_none()
            {
                self.stop_reason = Some(format!(
                    "the target was lost: {LOST_AFTER} cases in a row could not connect"
                ));
                self.lost = true;
            }
        } else if f.verdict != Verdict::Skipped && f.verdict != Verdict::Error {
            self.reached = true;
        }
    }
}

struct Worker {
    plan: Arc<Vec<SelectedCase>>,
    /// The plan of each case of `plan`, made once for every attempt.
    plans: Arc<Vec<Result<Arc<CasePlan>, String>>>,
    /// Plan indices in the order the jobs take them.
    order: Arc<Vec<usize>>,
    next: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    /// Cases in a row (over every job) that could not connect; at [`LOST_AFTER`] the target is
    /// lost and no further case starts (each would only wait out a connect timeout).
    unreachable_in_a_row: Arc<AtomicU32>,
    stop_rx: watch::Receiver<StopCause>,
    env: CaseEnv,
    limits: RecordLimits,
    /// `RunOptions::repeat`.
    repeat: u32,
    endpoints: TargetEndpoints,
    clock: Clock,
    tx: mpsc::UnboundedSender<Event>,
    /// The target's services as this job last probed them (`runner::health`).
    health: super::health::Health,
}

impl Worker {
    async fn run(mut self) {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            let slot = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(&index) = self.order.get(slot) else { return };
            let plan = self.plan.clone();
            let Some(planned) = plan.get(index) else { return };
            self.run_case(CaseKey(index as u32), planned).await;
        }
    }

    async fn run_case(&mut self, key: CaseKey, planned: &SelectedCase) {
        let rec = Recorder::with_limits(key, self.clock, self.tx.clone(), self.limits);
        let started = rec.now();
        rec.emit(Event::CaseStarted(CaseStarted {
            case: key,
            at: started,
            info: planned.info.clone(),
        }));
        let (verdict, mut reason, attempts, flaky) = match &planned.skip {
            Some(why) => (
                Verdict::Skipped,
                Some(Reason { message: why.clone(), ..Reason::default() }),
                0,
                false,
            ),
            None => self.repetitions(key, planned, &rec).await,
        };
        // An unreachable target says so itself (and its reason's prefix counts lost targets).
        if matches!(verdict, Verdict::Fail | Verdict::Inconclusive)
            && let (Some(blame), Some(r)) = (self.health.blame(planned), reason.as_mut())
        {
            r.message = format!("{blame}: {}", r.message);
        }
        let profile = self.env.profile.clone();
        let needed = if verdict.is_failure() { self.services_still_needed() } else { Vec::new() };
        let lines = self
            .health
            .after_case(
                planned,
                verdict,
                &needed,
                &self.endpoints,
                profile.target(),
                self.clock,
                self.env.connect_timeout,
            )
            .await;
        for line in lines {
            rec.note(line);
        }
        let unreachable = verdict == Verdict::Error
            && reason.as_ref().is_some_and(|r| r.message.starts_with(super::UNREACHABLE_PREFIX));
        if unreachable {
            if self.unreachable_in_a_row.fetch_add(1, Ordering::SeqCst) + 1 >= LOST_AFTER {
                self.stop.store(true, Ordering::SeqCst);
            }
        } else if verdict != Verdict::Skipped {
            self.unreachable_in_a_row.store(0, Ordering::SeqCst);
        }
        let at = rec.now();
        rec.emit(Event::CaseFinished(CaseFinished {
            case: key,
            at,
            verdict,
            reason,
            duration: at.since(started),
            attempts,
            flaky,
            capture: None,
            waiver: None,
        }));
    }

    /// The target's services the cases not yet taken by any job use.
    fn services_still_needed(&self) -> Vec<super::health::Service> {
        let taken = self.next.load(Ordering::SeqCst).min(self.order.len());
        let rest: Vec<&SelectedCase> =
            self.order[taken..].iter().filter_map(|&i| self.plan.get(i)).collect();
        super::health::SERVICES
            .into_iter()
            .filter(|s| rest.iter().any(|p| p.skip.is_none() && s.used_by(p)))
            .collect()
    }

    /// The reason of a case the stop ended: `interrupted (SIGTERM): the case did not finish`.
    fn interrupted(&self) -> Reason {
        let cause = self.stop_rx.borrow().unwrap_or("Ctrl-C");
        Reason {
            message: format!("interrupted ({cause}): the case did not finish"),
            ..Reason::default()
        }
    }

    /// `--repeat N`: the case's attempts N times in a row. Verdicts that differ make the case
    /// flaky with the worst of them (a fail is never hidden by a later pass) and a note that
    /// lists them; the first repetition's reason is kept when all agree.
    async fn repetitions(
        &mut self,
        key: CaseKey,
        planned: &SelectedCase,
        rec: &Recorder,
    ) -> (Verdict, Option<Reason>, u32, bool) {
        let repeat = self.repeat.max(1);
        let mut outcomes = Vec::with_capacity(repeat as usize);
        for round in 1..=repeat {
            if repeat > 1 {
                rec.note(format!("repetition {round} of {repeat}"));
            }
            let outcome = self.attempts(key, planned, rec).await;
            let stopped = self.stop_rx.borrow().is_some();
            outcomes.push(outcome);
            if stopped {
                break;
            }
        }
        let verdicts: Vec<Verdict> = outcomes.iter().map(|o| o.0).collect();
        let attempts = outcomes.iter().map(|o| o.2).sum();
        let differ = verdicts.windows(2).any(|w| w[0] != w[1]);
        let worst = outcomes.into_iter().max_by_key(|o| severity(o.0)).unwrap_or((
            Verdict::Error,
            None,
            0,
            false,
        ));
        if differ {
            let list: Vec<String> = verdicts.iter().map(|v| v.to_string()).collect();
            rec.note(format!(
                "the verdict did not repeat over {} repetitions: {}",
                verdicts.len(),
                list.join(", ")
            ));
        }
        (worst.0, worst.1, attempts, worst.3 || differ)
    }

    async fn attempts(
        &mut self,
        key: CaseKey,
        planned: &SelectedCase,
        rec: &Recorder,
    ) -> (Verdict, Option<Reason>, u32, bool) {
        let retry = planned.case().retry;
        let mut last = Attempt { verdict: Verdict::Error, reason: None, unreachable: false };
        let mut failed_before = false;
        for attempt in 1..=retry.attempts.max(1) {
            if attempt > 1 {
                let why = last.reason.as_ref().map(|r| r.message.clone()).unwrap_or_default();
                rec.note(format!(
                    "attempt {attempt} of {} (the previous one was {}: {why})",
                    retry.attempts, last.verdict
                ));
                if !retry.delay.is_zero() && self.pause(retry.delay).await {
                    return (Verdict::Error, Some(self.interrupted()), attempt - 1, false);
                }
            }
            last = self.attempt(key, planned).await;
            if last.verdict == Verdict::Pass {
                return (Verdict::Pass, None, attempt, failed_before);
            }
            failed_before = true;
            if self.stop_rx.borrow().is_some() || last.unreachable {
                return (last.verdict, last.reason, attempt, false);
            }
        }
        (last.verdict, last.reason, retry.attempts.max(1), false)
    }

    /// Sleeps; `true` when the run was interrupted meanwhile.
    async fn pause(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => false,
            _ = self.stop_rx.wait_for(Option::is_some) => true,
        }
    }

    async fn attempt(&mut self, key: CaseKey, planned: &SelectedCase) -> Attempt {
        let rec = Recorder::with_limits(key, self.clock, self.tx.clone(), self.limits);
        let case_plan = match self.plans.get(key.0 as usize) {
            Some(Ok(p)) => CasePlan::clone(p),
            Some(Err(why)) => return Attempt::error(why.clone()),
            None => return Attempt::error("the case has no plan".to_owned()),
        };
        let mut run = match CaseRun::new(planned, case_plan, &self.env, self.endpoints.clone(), rec)
        {
            Ok(r) => r,
            Err(f) => {
                return Attempt {
                    verdict: Verdict::Error,
                    reason: Some(f.into_reason()),
                    unreachable: false,
                };
            }
        };
        let timeout = super::schedule::time_limit(planned, &self.env.profile);
        let mut stop_rx = self.stop_rx.clone();
        let outcome = tokio::select! {
            a = tokio::time::timeout(timeout, Box::pin(run.run())) => match a {
                Ok(a) => a,
                Err(_) => Attempt {
                    verdict: Verdict::Error,
                    reason: Some(Reason { message: format!("the case exceeded its timeout of {}", crate::suite::value::format_duration(timeout)), ..Reason::default() }),
                    unreachable: false,
                },
            },
            _ = stop_rx.wait_for(Option::is_some) => Attempt { verdict: Verdict::Error, reason: Some(self.interrupted()), unreachable: false },
        };
        run.close_all().await;
        outcome
    }
}

/// The events of a run that could not start because the target was unreachable before the
/// first case (the preflight): every planned case finished with `error` and `reason`, none
/// attempted, so the reports say why nothing ran.
pub fn not_run(plan: &[SelectedCase], options: &RunOptions, reason: &str) -> Vec<Event> {
    let wall = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let mut events = vec![Event::RunStarted(RunStarted {
        wall_clock_unix_us: u64::try_from(wall.as_micros()).unwrap_or(u64::MAX),
        target: options.target_label.clone(),
        profile: options.profile_path.clone(),
        case_count: plan.len() as u32,
        jobs: 1,
        shard: options.shard,
        declared_wait: Duration::ZERO,
    })];
    let mut counts = Counts::default();
    for (i, planned) in plan.iter().enumerate() {
        let case = CaseKey(i as u32);
        let at = RunTime::default();
        events.push(Event::CaseStarted(CaseStarted { case, at, info: planned.info.clone() }));
        let mut finished = not_run_case(case, at, reason);
        if let Some(why) = &planned.skip {
            finished.verdict = Verdict::Skipped;
            finished.reason = Some(Reason { message: why.clone(), ..Reason::default() });
        }
        counts.add(finished.verdict, false);
        events.push(Event::CaseFinished(finished));
    }
    events.push(Event::RunFinished(RunFinished {
        at: RunTime::default(),
        counts,
        interrupted: true,
        stop_reason: Some(reason.to_owned()),
    }));
    events
}

/// The events of a run that selected no case (a shard of a CI matrix with more shards than
/// cases): started and finished, nothing in between, not interrupted.
pub fn nothing_selected(options: &RunOptions) -> Vec<Event> {
    let mut events = not_run(&[], options, "");
    if let Some(Event::RunFinished(finished)) = events.last_mut() {
        finished.interrupted = false;
        finished.stop_reason = None;
    }
    events
}

/// How bad a verdict is, for the worst of several repetitions: a failure of the target
/// first, then ours, then a setup that did not reach its state.
fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::Pass | Verdict::Skipped => 0,
        Verdict::Inconclusive => 1,
        Verdict::Error => 2,
        Verdict::Fail => 3,
    }
}

/// A case the run did not start, with why: `error`, `not run: <reason>`.
fn not_run_case(case: CaseKey, at: RunTime, reason: &str) -> CaseFinished {
    CaseFinished {
        case,
        at,
        verdict: Verdict::Error,
        reason: Some(Reason { message: format!("not run: {reason}"), ..Reason::default() }),
        duration: Duration::ZERO,
        attempts: 0,
        flaky: false,
        capture: None,
        waiver: None,
    }
}
