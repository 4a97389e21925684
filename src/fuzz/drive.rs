//! The loop every live fuzzer shares, whatever it talks to (a DoIP entity over TCP/UDP in
//! [`super::live`], an ISO-TP node over CAN in [`super::isotp_live`]): cases one after the
//! other, the liveness oracle between batches and after every anomaly, and on a failed oracle
//! de-duplication, minimization of the cases since the last healthy check (delta debugging,
//! [`super::model::minimize::Ddmin`]) and a restore of the target. A target says how to run one
//! case, check liveness and restore itself ([`LiveTarget`]); the rest is here, once.

use super::model::minimize::Ddmin;
use super::model::repro::Oracle;
pub use super::model::repro::ReplyViolation;
use crate::transport::doip::sim_host::SimControl;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

/// Findings one run writes at most; later ones are counted as duplicates (the reports stay
/// bounded whatever the target does).
pub const MAX_FINDINGS: usize = 100;
/// Trials of one minimization (each restores and re-drives the target).
const MAX_TRIALS: usize = 64;
/// Cases a finding keeps when its replay did not fail again (nothing to minimize against):
/// the last ones before the failed check, so that its repro stays short to run and to read.
pub const MAX_UNREPRODUCED_CASES: usize = 8;

/// How the target is brought back after a failed oracle.
#[derive(Debug, Clone)]
pub enum Restore {
    /// The built-in simulator: its power cycle restarts the entity and its CAN ECUs.
    Simulator(SimControl),
    /// A --target with the profile's `power_cycle_command`.
    Command(String),
    /// A --target without one: reconnect only (a hung target stays hung).
    Reconnect,
}

impl Restore {
    /// Restores the target; `bound` limits the profile's command.
    pub async fn apply(&self, bound: Duration) -> Result<(), String> {
        match self {
            Restore::Simulator(control) => {
                // Announcements after the restart go to a socket we own and drop.
                let sink =
                    tokio::net::UdpSocket::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
                let to = sink.local_addr().map_err(|e| e.to_string())?;
                control.power_cycle(to).await
            }
            Restore::Command(command) => {
                crate::runner::steps::power::shell_command(
                    "the power cycle command",
                    command,
                    bound,
                )
                .await
            }
            Restore::Reconnect => Ok(()),
        }
    }
}

/// `--monitor`: the user's command after each batch; its failure is a finding.
pub async fn run_monitor(monitor: Option<&str>, bound: Duration) -> Result<(), (Oracle, String)> {
    match monitor {
        Some(command) => crate::runner::steps::power::shell_command("--monitor", command, bound)
            .await
            .map_err(|e| (Oracle::Monitor, e)),
        None => Ok(()),
    }
}

/// What the shared loop needs to know of a generated case.
pub trait LiveCase: Clone {
    /// 0-based index in the run (with the seed, it names the case).
    fn index(&self) -> u64;
    /// The start state's name (finding.json, the console, de-duplication).
    fn state_name(&self) -> &'static str;
    /// The coverage column: a payload type (DoIP) or an N_PCI type (ISO-TP); static, so that
    /// counting a case allocates nothing.
    fn bucket(&self) -> &'static str;
    /// The mutation that made the case (the campaign report's heat map).
    fn mutation(&self) -> &'static str;
    /// What the case's bytes travel on (`tcp`, `tls`, `udp`, `can`): a coverage line each.
    fn transport(&self) -> &'static str;
    /// Bucket and mutation, e.g. `0x8001/length_zero` (de-duplication before minimizing); made
    /// only for a case a check failed after.
    fn shape(&self) -> String;
    /// Messages (DoIP) or frames (CAN) the case sends.
    fn message_count(&self) -> usize;
    /// The case in finding.json.
    fn json(&self) -> serde_json::Value;
}

/// What one case did.
pub enum CaseOutcome {
    /// Replies checked, nothing odd.
    Clean,
    /// A reply broke a rule.
    ReplyViolation(ReplyViolation),
    /// Something a liveness check must look at: silence, an unannounced close, a refused
    /// connection, a flood.
    Anomaly(Oracle, String),
}

/// A target the loop can drive. The runtime is single-threaded (the fuzzer and the built-in
/// simulator take turns on one thread), so the futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait LiveTarget {
    /// The cases of this target's generator.
    type Case: LiveCase;
    /// Case `index` of the run's seed.
    fn case(&self, index: u64) -> Self::Case;
    /// Cases between two liveness checks.
    fn batch(&self) -> u64;
    /// The bound of every answer the liveness oracle waits for (from the profile's timers).
    fn liveness_bound(&self) -> Duration;
    /// Reaches the case's start state, sends it, reads and checks what comes back.
    async fn run_case(&mut self, case: &Self::Case) -> CaseOutcome;
    /// The liveness oracle with answers bounded by `bound`: the time it took, or the probe
    /// that failed and what it saw.
    async fn liveness(&mut self, bound: Duration) -> Result<Duration, (Oracle, String)>;
    /// Before the first case: the liveness oracle as this target passes it. A target may fail
    /// some probes for reasons that are not a fault to find (a known deviation); those are
    /// dropped, each said in the returned notes, so that only a change from this baseline is
    /// a finding. `Err` when what fails leaves nothing to check liveness by.
    async fn baseline(&mut self, bound: Duration) -> Result<Vec<String>, (Oracle, String)> {
        self.liveness(bound).await.map(|_| Vec::new())
    }
    /// Brings the target back (power cycle, the profile's command, or a reconnect).
    async fn restore(&mut self) -> Result<(), String>;
    /// Leaves a service that stays dead after a restore out of the rest of the campaign (its
    /// probe, and its cases where it has its own): what is skipped, or `None` when `oracle`
    /// is what every case needs (nothing would be left to fuzz).
    fn skip_dead(&mut self, _oracle: &Oracle) -> Option<String> {
        None
    }
    /// Whether `case` goes to a service left out by [`LiveTarget::skip_dead`] (it is not
    /// sent, and not counted as a case sent).
    fn skips(&self, _case: &Self::Case) -> bool {
        false
    }
    /// Until called with `None`, every liveness check asks the probe `oracle` names (where the
    /// checks take turns, e.g. among ECUs), so that minimization and the check after a restore
    /// ask what failed.
    fn hold(&mut self, _oracle: Option<&Oracle>) {}
    /// Forgets what the hot loop keeps between cases (a connection, a session), so that each
    /// case of a minimization trial starts as the repro starts it.
    fn forget(&mut self) {}
    /// Connections opened so far ([`LiveReport::connections`]); none where there are no
    /// connections (a CAN bus).
    fn connections_opened(&self) -> u64 {
        0
    }
}

/// A finding before it is written: the oracle, what it saw, the minimized cases and the
/// window they came from.
#[derive(Debug, Clone)]
pub struct LiveFinding<C> {
    /// The check that failed.
    pub oracle: Oracle,
    /// Its message.
    pub detail: String,
    /// Index of the case after which the check failed.
    pub case_index: u64,
    /// Start state of that case.
    pub state: &'static str,
    /// Bucket x mutation of that case (de-duplication).
    pub shape: String,
    /// The minimal failing cases; when the replay did not fail again, the last
    /// [`MAX_UNREPRODUCED_CASES`] of the window.
    pub cases: Vec<C>,
    /// Cases since the last healthy check (what minimization started from).
    pub window: usize,
    /// Whether the minimized sequence failed again on a restored target.
    pub reproduced: bool,
    /// Minimization trials.
    pub trials: usize,
    /// Minimization ended when the campaign's duration ran out: `cases` is the smallest
    /// failing set found until then (or the whole window when the replay was cut).
    pub cut_short: bool,
    /// Time from the start of the run to the failed check.
    pub found_after: Duration,
}

impl<C: LiveCase> LiveFinding<C> {
    /// The de-duplication key of a minimized finding: the symptom (oracle and what it saw),
    /// and the start state and bucket of the last culprit case (the one that set the failure
    /// off), so the same failure reached the same way is reported once.
    pub fn culprit_key(&self) -> String {
        let last = self
            .cases
            .last()
            .map_or(String::new(), |c| format!("{}/{}", c.state_name(), c.bucket()));
        format!("{} {} {last}", self.oracle, self.detail)
    }

    /// What the last culprit case (the one that set the failure off) travelled on: `tls`
    /// when the finding was made over TLS.
    pub fn transport(&self) -> Option<&'static str> {
        self.cases.last().map(LiveCase::transport)
    }

    /// Messages (frames) of the minimized cases.
    pub fn message_count(&self) -> usize {
        self.cases.iter().map(LiveCase::message_count).sum()
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct LiveReport<C> {
    /// Cases sent.
    pub cases: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Liveness checks that passed.
    pub healthy_checks: u64,
    /// De-duplicated findings, in the order found.
    pub findings: Vec<LiveFinding<C>>,
    /// Findings dropped as duplicates of an earlier one.
    pub duplicates: u64,
    /// Cases per bucket x state.
    pub coverage: BTreeMap<(&'static str, &'static str), u64>,
    /// Cases per mutation x state.
    pub mutations: BTreeMap<(&'static str, &'static str), u64>,
    /// Cases per transport x state (how many went over TLS, say).
    pub transports: BTreeMap<(&'static str, &'static str), u64>,
    /// Cases sent by then, sampled at the end of batches at least [`RATE_SAMPLE_EVERY`]
    /// apart; bounded (every other sample is dropped when full, and the spacing doubles).
    pub rate_samples: Vec<(Duration, u64)>,
    /// Why the run stopped early, if it did (the target could not be restored).
    pub stopped: Option<String>,
    /// Services left out after they stayed dead through a restore (the campaign went on
    /// with what still answered), each with what its probe saw.
    pub skipped: Vec<Skipped>,
    /// Cases not sent because they go to a service left out.
    pub left_out: u64,
    /// Connections the fuzzer opened (for cases, their start states and liveness checks):
    /// against a local target most of a case's CPU time is the kernel's, and mostly these
    /// (docs/architecture.md#live-fuzzing; `benches/fuzz_live.rs` prices them).
    pub connections: u64,
}

/// A service left out of the rest of a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// What is left out, e.g. "the UDP service (its probe and its cases)".
    pub what: String,
    /// The case after which its probe failed (nothing was sent to it after the restore).
    pub since_case: u64,
    /// The probe that failed and what it saw.
    pub why: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} since case {}: {}", self.what, self.since_case, self.why)
    }
}

impl<C> Default for LiveReport<C> {
    fn default() -> Self {
        LiveReport {
            cases: 0,
            elapsed: Duration::ZERO,
            healthy_checks: 0,
            findings: Vec::new(),
            duplicates: 0,
            coverage: BTreeMap::new(),
            mutations: BTreeMap::new(),
            transports: BTreeMap::new(),
            rate_samples: Vec::new(),
            stopped: None,
            skipped: Vec::new(),
            left_out: 0,
            connections: 0,
        }
    }
}

impl<C> LiveReport<C> {
    /// The transports cases went over, in name order, and `tls` for a DoIP campaign where no
    /// case did (its coverage line says so rather than being absent).
    pub fn transports_seen(&self) -> Vec<&'static str> {
        let mut seen: Vec<&'static str> = self.transports.keys().map(|(t, _)| *t).collect();
        seen.dedup();
        if !seen.is_empty() && !seen.contains(&"tls") && !seen.contains(&"can") {
            seen.push("tls");
        }
        seen.sort_unstable();
        seen
    }

    /// Cases sent over `transport`, in every state.
    pub fn cases_over(&self, transport: &str) -> u64 {
        self.transports.iter().filter(|((t, _), _)| *t == transport).map(|(_, n)| n).sum()
    }

    /// Cases per second over the run.
    pub fn rate(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Records `cases` at `elapsed` when `spacing` has passed since the last sample; keeps at
    /// most [`MAX_RATE_SAMPLES`] by dropping every other one and doubling `spacing`.
    fn sample_rate(&mut self, elapsed: Duration, spacing: &mut Duration) {
        let due = self.rate_samples.last().is_none_or(|(at, _)| elapsed >= *at + *spacing);
        if !due {
            return;
        }
        if self.rate_samples.len() >= MAX_RATE_SAMPLES {
            let mut keep = false;
            self.rate_samples.retain(|_| {
                keep = !keep;
                keep
            });
            *spacing *= 2;
        }
        self.rate_samples.push((elapsed, self.cases));
    }
}

/// The spacing of the first rate samples.
pub const RATE_SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Rate samples a report keeps at most (the report stays bounded over hours).
pub const MAX_RATE_SAMPLES: usize = 512;

/// Runs up to `max_cases` cases of `target` for at most `duration` (and until `stop`, asked
/// before each case with the report so far, says so); `progress` is called after every batch.
/// `duration` bounds everything: cases, liveness checks, minimization and restores alike; what
/// it cut short is said (`LiveReport::stopped`, `LiveFinding::cut_short`).
pub async fn drive<T: LiveTarget>(
    target: &mut T,
    max_cases: u64,
    duration: Duration,
    mut stop: impl FnMut(&LiveReport<T::Case>) -> bool,
    mut progress: impl FnMut(&LiveReport<T::Case>),
) -> LiveReport<T::Case> {
    let start = Instant::now();
    let deadline = start + duration;
    let mut report = LiveReport::default();
    let mut window: Vec<T::Case> = Vec::new();
    let mut seen: HashSet<(String, &'static str)> = HashSet::new();
    let mut culprits: HashSet<String> = HashSet::new();
    // Latency of the last healthy check (bounds the shortened checks of minimization).
    let mut healthy_latency = Duration::from_millis(1);
    let batch = target.batch().max(1);
    let near_end = target.liveness_bound() * 8;
    let mut rate_spacing = RATE_SAMPLE_EVERY;
    let mut index = 0u64;
    while index < max_cases && start.elapsed() < duration && !stop(&report) {
        let case = target.case(index);
        index += 1;
        if target.skips(&case) {
            report.left_out += 1;
            continue;
        }
        *report.coverage.entry((case.bucket(), case.state_name())).or_default() += 1;
        *report.mutations.entry((case.mutation(), case.state_name())).or_default() += 1;
        *report.transports.entry((case.transport(), case.state_name())).or_default() += 1;
        // A case waits at most a few of its answer bounds: far from the deadline it runs
        // without a timer of its own (none registered per case on the hot path).
        let outcome = if deadline.saturating_duration_since(Instant::now()) > near_end {
            target.run_case(&case).await
        } else {
            let Ok(outcome) = tokio::time::timeout_at(deadline, target.run_case(&case)).await
            else {
                report.stopped = Some(format!("--duration ran out during case {}", case.index()));
                break;
            };
            outcome
        };
        report.cases += 1;
        let (state, case_index) = (case.state_name(), case.index());
        window.push(case);
        let suspect = match outcome {
            CaseOutcome::Clean => None,
            CaseOutcome::ReplyViolation(v) => Some((v.oracle, v.detail)),
            CaseOutcome::Anomaly(oracle, why) => Some((oracle, why)),
        };
        let batch_end = report.cases % batch == 0;
        if suspect.is_none() && !batch_end {
            continue;
        }
        // A protocol violation is a finding by itself; an anomaly or the end of a batch asks
        // the liveness oracle.
        let failed = match suspect {
            Some((oracle, why)) if oracle.is_reply_rule() => Some((oracle, why)),
            _ => match tokio::time::timeout_at(deadline, target.liveness(target.liveness_bound()))
                .await
            {
                Err(_) => {
                    report.stopped = Some("--duration ran out during a liveness check".into());
                    break;
                }
                Ok(Ok(latency)) => {
                    healthy_latency = latency;
                    report.healthy_checks += 1;
                    window.clear();
                    None
                }
                Ok(Err(failure)) => Some(failure),
            },
        };
        if let Some((oracle, detail)) = failed {
            let shape = window.last().map(LiveCase::shape).unwrap_or_default();
            // The symptom (the oracle and what it saw) in the state the case started in.
            let key = (format!("{oracle} {detail}"), state);
            let found_after = start.elapsed();
            // Minimization and the check after the restore ask what failed.
            target.hold(Some(&oracle));
            // De-duplicated twice: by the case after which the oracle failed (before the cost
            // of minimizing), then by what minimization kept: the oracle, and the start state
            // and bucket of the last culprit case.
            if report.findings.len() >= MAX_FINDINGS || !seen.insert(key) {
                report.duplicates += 1;
            } else {
                let (cases, reproduced, trials, cut_short) =
                    minimize(target, &oracle, &window, healthy_latency, deadline).await;
                let finding = LiveFinding {
                    oracle,
                    detail,
                    case_index,
                    state,
                    shape,
                    cases,
                    window: window.len(),
                    reproduced,
                    trials,
                    cut_short,
                    found_after,
                };
                if culprits.insert(finding.culprit_key()) {
                    report.findings.push(finding);
                } else {
                    report.duplicates += 1;
                }
            }
            window.clear();
            match tokio::time::timeout_at(deadline, target.restore()).await {
                Err(_) => {
                    report.stopped = Some("--duration ran out while restoring the target".into());
                    break;
                }
                Ok(Err(e)) => {
                    report.stopped = Some(e);
                    break;
                }
                Ok(Ok(())) => {}
            }
            let back = came_back(target, deadline, case_index, &mut report.skipped).await;
            target.hold(None);
            if let Err(why) = back {
                report.stopped = Some(why);
                break;
            }
        }
        if batch_end {
            report.elapsed = start.elapsed();
            report.sample_rate(report.elapsed, &mut rate_spacing);
            progress(&report);
        }
    }
    report.elapsed = start.elapsed();
    // The last sample is the end of the run, however soon after the one before.
    report.rate_samples.push((report.elapsed, report.cases));
    target.forget();
    report.connections = target.connections_opened();
    report
}

/// How many dead services one check after a restore may leave out (each costs a check).
const MAX_SKIPPED_PER_RESTORE: usize = 4;

/// Whether the target came back after a restore: a service still dead is left out and said in
/// `skipped` (the campaign goes on with what answers) when the target can do without it; `Err`
/// says why the campaign cannot go on.
async fn came_back<T: LiveTarget>(
    target: &mut T,
    deadline: Instant,
    since_case: u64,
    skipped: &mut Vec<Skipped>,
) -> Result<(), String> {
    for _ in 0..=MAX_SKIPPED_PER_RESTORE {
        match tokio::time::timeout_at(deadline, target.liveness(target.liveness_bound())).await {
            Err(_) => {
                return Err("--duration ran out while checking that the target came back".into());
            }
            Ok(Ok(_)) => return Ok(()),
            Ok(Err((oracle, why))) => match target.skip_dead(&oracle) {
                Some(what) => {
                    skipped.push(Skipped { what, since_case, why: format!("{oracle}: {why}") })
                }
                None => {
                    return Err(format!(
                        "the target did not come back after a restore: {oracle}: {why}"
                    ));
                }
            },
        }
    }
    Err("the target did not come back after a restore: too many services dead".into())
}

/// The minimal failing subsequence of `window` (its last [`MAX_UNREPRODUCED_CASES`] when a
/// replay does not fail), whether a replay failed, the trials run, and whether `deadline` cut
/// the search short (then the smallest failing set found so far).
async fn minimize<T: LiveTarget>(
    target: &mut T,
    oracle: &Oracle,
    window: &[T::Case],
    healthy_latency: Duration,
    deadline: Instant,
) -> (Vec<T::Case>, bool, usize, bool) {
    let first = tokio::time::timeout_at(deadline, trial(target, window, oracle, healthy_latency));
    let last = &window[window.len().saturating_sub(MAX_UNREPRODUCED_CASES)..];
    match first.await {
        Err(_) => return (last.to_vec(), false, 1, true),
        Ok(false) => return (last.to_vec(), false, 1, false),
        Ok(true) => {}
    }
    let mut search = Ddmin::new(window, MAX_TRIALS);
    let mut cut_short = false;
    while let Some(subset) = search.next_trial() {
        let trial = trial(target, &subset, oracle, healthy_latency);
        match tokio::time::timeout_at(deadline, trial).await {
            Ok(fails) => search.record(fails),
            Err(_) => {
                cut_short = true;
                break;
            }
        }
    }
    let result = search.result();
    (result.items, true, result.trials + 1, cut_short)
}

/// Replays `cases` as the repro does (each from a fresh start) on a restored target, then
/// asks the oracle that failed, with short bounds.
async fn trial<T: LiveTarget>(
    target: &mut T,
    cases: &[T::Case],
    oracle: &Oracle,
    healthy_latency: Duration,
) -> bool {
    if target.restore().await.is_err() {
        return false;
    }
    if oracle.is_reply_rule() {
        // Whether a replay breaks the same rule again.
        for case in cases {
            let outcome = target.run_case(case).await;
            target.forget();
            if matches!(outcome, CaseOutcome::ReplyViolation(v) if v.oracle == *oracle) {
                return true;
            }
        }
        return false;
    }
    for case in cases {
        let _ = target.run_case(case).await;
        target.forget();
    }
    // Minimization trusts short bounds: many times the healthy latency, at least 100 ms (the
    // finding itself was seen with the profile's timers).
    let short = (healthy_latency * 50).max(Duration::from_millis(100));
    let bound = short.min(target.liveness_bound());
    matches!(target.liveness(bound).await, Err((o, _)) if &o == oracle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone)]
    struct Case(u64);

    impl LiveCase for Case {
        fn index(&self) -> u64 {
            self.0
        }
        fn state_name(&self) -> &'static str {
            "idle"
        }
        fn bucket(&self) -> &'static str {
            "0x8001"
        }
        fn mutation(&self) -> &'static str {
            "valid"
        }
        fn transport(&self) -> &'static str {
            "tcp"
        }
        fn shape(&self) -> String {
            format!("0x8001/case{}", self.0)
        }
        fn message_count(&self) -> usize {
            1
        }
        fn json(&self) -> serde_json::Value {
            serde_json::json!(self.0)
        }
    }

    /// A target that hangs after case 3 until restored, and whose restore (a slow power
    /// cycle command) takes `restore_takes`.
    struct Hanging {
        hung: bool,
        restore_takes: Duration,
        restores: u32,
    }

    impl LiveTarget for Hanging {
        type Case = Case;
        fn case(&self, index: u64) -> Case {
            Case(index)
        }
        fn batch(&self) -> u64 {
            4
        }
        fn liveness_bound(&self) -> Duration {
            Duration::from_secs(2)
        }
        async fn run_case(&mut self, case: &Case) -> CaseOutcome {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if case.0 == 3 {
                self.hung = true;
                return CaseOutcome::Anomaly(Oracle::AliveCheck, "silence".into());
            }
            CaseOutcome::Clean
        }
        async fn liveness(&mut self, bound: Duration) -> Result<Duration, (Oracle, String)> {
            if self.hung {
                tokio::time::sleep(bound).await;
                return Err((Oracle::AliveCheck, "no alive check response".into()));
            }
            Ok(Duration::from_millis(1))
        }
        async fn restore(&mut self) -> Result<(), String> {
            self.restores += 1;
            tokio::time::sleep(self.restore_takes).await;
            self.hung = false;
            Ok(())
        }
    }

    /// `--duration` bounds the whole campaign: a restore that takes a minute is cut at the
    /// duration, the finding says its minimization was cut short, and the report says why the
    /// campaign stopped (virtual time: the bound is exact).
    #[tokio::test(start_paused = true)]
    async fn the_duration_bounds_minimization_and_restores_too() {
        let mut target =
            Hanging { hung: false, restore_takes: Duration::from_secs(60), restores: 0 };
        let start = Instant::now();
        let report = drive(&mut target, 1_000, Duration::from_secs(5), |_| false, |_| {}).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5), "{:?}", report.stopped);
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert!(finding.cut_short && !finding.reproduced, "{finding:?}");
        assert_eq!(finding.cases.len(), 4, "the whole window since the last healthy check");
        assert_eq!(finding.window, 4);
        let stopped = report.stopped.as_deref().unwrap_or_default();
        assert!(stopped.starts_with("--duration ran out while restoring"), "{stopped}");
    }

    /// With time to spare, the same target is minimized to the one case that hangs it and the
    /// campaign goes on after the restore.
    #[tokio::test(start_paused = true)]
    async fn with_time_to_spare_the_finding_is_minimized_and_the_campaign_goes_on() {
        let mut target =
            Hanging { hung: false, restore_takes: Duration::from_millis(100), restores: 0 };
        let report = drive(&mut target, 12, Duration::from_secs(600), |_| false, |_| {}).await;
        assert_eq!(report.cases, 12, "{:?}", report.stopped);
        assert_eq!(report.stopped, None);
        let finding = &report.findings[0];
        assert!(!finding.cut_short && finding.reproduced, "{finding:?}");
        assert_eq!(finding.cases.iter().map(|c| c.0).collect::<Vec<_>>(), [3]);
    }

    /// A target whose liveness check fails once, after the first batch of 20, and never
    /// again: no replay fails.
    struct FailsOnce {
        checks: u32,
    }

    impl LiveTarget for FailsOnce {
        type Case = Case;
        fn case(&self, index: u64) -> Case {
            Case(index)
        }
        fn batch(&self) -> u64 {
            20
        }
        fn liveness_bound(&self) -> Duration {
            Duration::from_secs(2)
        }
        async fn run_case(&mut self, _: &Case) -> CaseOutcome {
            CaseOutcome::Clean
        }
        async fn liveness(&mut self, _: Duration) -> Result<Duration, (Oracle, String)> {
            self.checks += 1;
            if self.checks == 1 {
                return Err((Oracle::Monitor, "once".into()));
            }
            Ok(Duration::from_millis(1))
        }
        async fn restore(&mut self) -> Result<(), String> {
            Ok(())
        }
    }

    /// A failure no replay shows again keeps only the last cases before it: its repro stays
    /// bounded however long the batch, and the finding says how many cases it came from.
    #[tokio::test(start_paused = true)]
    async fn a_finding_that_does_not_reproduce_keeps_a_bounded_tail_of_its_window() {
        let mut target = FailsOnce { checks: 0 };
        let report = drive(&mut target, 40, Duration::from_secs(60), |_| false, |_| {}).await;
        let finding = &report.findings[0];
        assert!(!finding.reproduced && !finding.cut_short, "{finding:?}");
        assert_eq!(finding.window, 20);
        let kept: Vec<u64> = finding.cases.iter().map(|c| c.0).collect();
        assert_eq!(kept, (12..20).collect::<Vec<_>>());
    }

    #[test]
    fn rate_samples_stay_bounded_over_a_long_run() {
        let mut report = LiveReport::<Case>::default();
        let mut spacing = RATE_SAMPLE_EVERY;
        for second in 0..10 * 3600u64 {
            report.cases = second * 1000;
            report.sample_rate(Duration::from_secs(second), &mut spacing);
        }
        assert!(report.rate_samples.len() <= MAX_RATE_SAMPLES, "{}", report.rate_samples.len());
        assert!(report.rate_samples.len() > MAX_RATE_SAMPLES / 2);
        assert_eq!(report.rate_samples[0], (Duration::ZERO, 0));
        let (at, cases) = *report.rate_samples.last().unwrap();
        assert!(at > Duration::from_secs(9 * 3600) && cases == at.as_secs() * 1000);
    }

    /// A target whose vehicle identification dies at case 5 for good (a power cycle does not
    /// bring it back), while everything else keeps answering.
    struct UdpDies {
        dead: bool,
        udp_probe: bool,
    }

    impl LiveTarget for UdpDies {
        type Case = Case;
        fn case(&self, index: u64) -> Case {
            Case(index)
        }
        fn batch(&self) -> u64 {
            4
        }
        fn liveness_bound(&self) -> Duration {
            Duration::from_secs(2)
        }
        async fn run_case(&mut self, case: &Case) -> CaseOutcome {
            self.dead |= case.0 == 5;
            CaseOutcome::Clean
        }
        async fn liveness(&mut self, _: Duration) -> Result<Duration, (Oracle, String)> {
            if self.dead && self.udp_probe {
                return Err((Oracle::Identification, "no vehicle announcement".into()));
            }
            Ok(Duration::from_millis(1))
        }
        async fn restore(&mut self) -> Result<(), String> {
            Ok(())
        }
        fn skip_dead(&mut self, oracle: &Oracle) -> Option<String> {
            let udp = *oracle == Oracle::Identification && self.udp_probe;
            self.udp_probe &= !udp;
            udp.then(|| "the UDP service".to_owned())
        }
    }

    /// A dead service is a finding; the campaign goes on with what still answers and says
    /// what it left out, instead of stopping because "the target did not come back".
    #[tokio::test(start_paused = true)]
    async fn a_service_dead_for_good_is_a_finding_then_skipped_and_the_campaign_goes_on() {
        let mut target = UdpDies { dead: false, udp_probe: true };
        let report = drive(&mut target, 40, Duration::from_secs(60), |_| false, |_| {}).await;
        assert_eq!(report.stopped, None);
        assert_eq!(report.cases, 40);
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].oracle, Oracle::Identification);
        assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
        let skipped = &report.skipped[0];
        assert_eq!((skipped.what.as_str(), skipped.since_case), ("the UDP service", 7));
        assert!(skipped.why.starts_with("liveness.vehicle_identification"), "{skipped}");
    }
}
