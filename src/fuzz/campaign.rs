//! A fuzzing campaign from start to written findings: the target chosen (the built-in
//! simulator with faults, a DoIP entity, the simulator's CAN ECU or a node on a CAN bus), the
//! fuzzer built from the typed profile, the liveness baseline before the first case (the probes
//! the target passes; a known deviation is dropped and said, not a reason to stop), the shared
//! loop ([`super::drive`]) and each finding's directory. `doipcheck fuzz` turns its arguments
//! into a [`Campaign`], calls [`fuzz_doip`] or [`fuzz_can`] and prints what comes back
//! (docs/architecture.md#live-fuzzing).

use super::drive::{CaseOutcome, LiveCase, LiveFinding, LiveReport, LiveTarget, Restore, drive};
use super::findings::{WrittenFinding, next_number, write_finding};
use super::from_profile;
use super::isotp_live::{IsoTpFuzzer, IsoTpSettings};
use super::live::LiveFuzzer;
use super::model::FuzzCase;
use super::model::doip::DoipGenerator;
use super::model::isotp::{CanCase, CanReproInput, IsoTpGenerator, repro_can_yaml};
use super::model::repro::{Oracle, Repro, ReproInput, repro_yaml};
use crate::runner::target::{Simulators, simulator_config, simulator_label};
use crate::suite::profile::Profile;
use crate::transport::can::{CanSpec, CanTransport};
use crate::transport::doip::sim_host::SimControl;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What is fuzzed.
#[derive(Debug, Clone)]
pub enum CampaignTarget {
    /// The built-in simulator's DoIP entity, with these faults switched on.
    Simulator { faults: Vec<String> },
    /// A DoIP entity (`label` names it on the console); `tls` is its TLS data port, used
    /// when the profile has `doip.tls`.
    Entity { tcp: SocketAddr, udp: SocketAddr, tls: Option<SocketAddr>, label: String },
    /// The built-in simulator's CAN ECU, on its private bus, with these faults.
    CanSimulator { faults: Vec<String> },
    /// The ISO-TP node the profile's `isotp.*` ids name, on this bus (`text` as given).
    CanBus { text: String, spec: CanSpec },
}

/// One campaign: the target, the profile that describes it, and its bounds.
pub struct Campaign<'a> {
    pub profile: &'a Profile,
    /// Where the profile was read from (its `simulator` key is relative to it).
    pub profile_path: Option<&'a Path>,
    pub target: CampaignTarget,
    pub seed: u64,
    /// Cases between two liveness checks.
    pub batch: u64,
    /// A command run after each batch whose failure is a finding.
    pub monitor: Option<String>,
    pub duration: Duration,
    pub max_cases: Option<u64>,
    pub max_findings: Option<usize>,
    /// Where the finding directories go.
    pub findings_dir: PathBuf,
    /// Workers against the built-in DoIP simulator, each with its own instance and thread,
    /// taking every `workers`-th case of the seed (1 for any other target).
    pub workers: u64,
    /// Percent of the TCP cases sent over TLS when the profile has `doip.tls`
    /// ([`super::model::doip::over_tls`]).
    pub tls_share: u8,
}

/// Why a campaign did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignError {
    /// The configuration cannot work (a simulator config without a CAN ECU, a bad bus).
    Usage(String),
    /// The target failed the liveness check before the first case.
    Unhealthy(String),
    /// Our side failed (the simulator would not start).
    Harness(String),
}

/// What the campaign tells while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignEvent {
    /// The first liveness check passed; fuzzing starts.
    Started(String),
    /// The live line (cases, rate, findings, coverage).
    Progress(String),
    /// A liveness probe the target fails before the first case, dropped from the oracle.
    ProbeDropped(String),
    /// A finding could not be written.
    WriteFailed(String),
}

/// The loop's report and the findings written: directory, number, finding.
pub struct CampaignOutcome<C> {
    pub report: LiveReport<C>,
    /// The probes the target failed before the first case (the baseline left them out).
    pub dropped_probes: Vec<String>,
    pub written: Vec<WrittenFinding<C>>,
}

/// Fuzzes a DoIP entity (or the built-in simulator's), until `stop` or a bound.
pub async fn fuzz_doip(
    c: &Campaign<'_>,
    stop: Arc<AtomicBool>,
    on_event: &mut dyn FnMut(CampaignEvent),
) -> Result<CampaignOutcome<FuzzCase>, CampaignError> {
    // Workers (`--workers`) only against the built-in simulator: each has its own instance
    // and thread (the cores, with no wake-up across threads per message). A real entity is
    // fuzzed by one tester: two at once would change what is tested.
    let stride = match c.target {
        CampaignTarget::Simulator { .. } => c.workers.max(1),
        _ => 1,
    };
    let progress = Arc::new(WorkerProgress::new(stride));
    let mut others = Vec::new();
    for offset in 1..stride {
        let (done, result) = tokio::sync::oneshot::channel();
        let owned = OwnedCampaign::of(c);
        let (stop, progress) = (stop.clone(), progress.clone());
        let spawned =
            std::thread::Builder::new().name(format!("fuzz-worker-{offset}")).spawn(move || {
                let worker = async {
                    let share = Share { offset, stride, progress };
                    doip_worker(&owned.campaign(), share, stop, &mut |_| {}).await
                };
                let ran = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| CampaignError::Harness(format!("cannot start a worker: {e}")))
                    .and_then(|runtime| runtime.block_on(worker));
                let _ = done.send(ran);
            });
        match spawned {
            Ok(_) => others.push(result),
            Err(e) => return Err(CampaignError::Harness(format!("cannot start a worker: {e}"))),
        }
    }
    let share = Share { offset: 0, stride, progress };
    let first = doip_worker(c, share, stop.clone(), on_event).await;
    if first.is_err() {
        // The others end soon too (the campaign cannot go on), and are waited for.
        stop.store(true, Ordering::Relaxed);
    }
    let mut rest = Vec::new();
    for other in others {
        let lost = || CampaignError::Harness("a fuzz worker ended without a report".into());
        rest.push(other.await.map_err(|_| lost()).and_then(|r| r));
    }
    let (mut report, dropped_probes, mid) = first?;
    for other in rest {
        merge_reports(&mut report, other?.0);
    }
    report.findings.truncate(c.max_findings.unwrap_or(usize::MAX));
    let written = write_findings(c, &report, mid, on_event);
    Ok(CampaignOutcome { report, dropped_probes, written })
}

/// One worker of a DoIP campaign: its simulator (or the entity), its share of the cases, and
/// what it found (the report, the probes its baseline dropped, the mid-message prefix).
async fn doip_worker(
    c: &Campaign<'_>,
    share: Share,
    stop: Arc<AtomicBool>,
    on_event: &mut dyn FnMut(CampaignEvent),
) -> Result<(LiveReport<FuzzCase>, Vec<String>, Vec<u8>), CampaignError> {
    let profile = c.profile.target();
    let mut grammar = from_profile::doip_grammar(profile);
    let (tcp, udp, tls, restore, sims, label) = match &c.target {
        CampaignTarget::Entity { tcp, udp, tls, label } => {
            (*tcp, *udp, *tls, profile_restore(c.profile), None, label.clone())
        }
        CampaignTarget::Simulator { faults } => {
            let (sims, e, control) = start_simulator(c, faults).await?;
            let label = simulator_label(faults);
            (e.tcp, e.udp, e.tls, Restore::Simulator(control), Some(sims), label)
        }
        _ => return Err(CampaignError::Usage("fuzz_doip: a CAN target".into())),
    };
    let tls = from_profile::tls_endpoint(profile, tls);
    grammar.tls_share = if tls.is_some() { c.tls_share } else { 0 };
    let label = match tls {
        Some(addr) => format!("{label}, {} % of the TCP cases over TLS to {addr}", c.tls_share),
        None => label,
    };
    let mut settings =
        from_profile::live_settings(profile, &grammar, tcp, udp, c.batch, c.monitor.clone());
    settings.tls = tls;
    let generator = DoipGenerator::new(grammar, c.seed);
    let mut fuzzer = LiveFuzzer::new(settings, generator, restore);
    let mid = fuzzer.mid_prefix().to_vec();
    let mut target = Strided { inner: &mut fuzzer, offset: share.offset, stride: share.stride };
    let (report, dropped) =
        run_target(c, &share, &mut target, &label, sims, stop, on_event).await?;
    Ok((report, dropped, mid))
}

/// Writes each finding of a DoIP campaign with its repro (`mid`: the bytes of the mid-message
/// state).
fn write_findings(
    c: &Campaign<'_>,
    report: &LiveReport<FuzzCase>,
    mid: Vec<u8>,
    on_event: &mut dyn FnMut(CampaignEvent),
) -> Vec<WrittenFinding<FuzzCase>> {
    let repro = |number: u32, f: &LiveFinding<FuzzCase>| {
        repro_yaml(&ReproInput {
            number,
            seed: c.seed,
            cases: &f.cases,
            oracle: &f.oracle,
            detail: &f.detail,
            mid_message_prefix: &mid,
        })
    };
    write_written(c, report, repro, on_event)
}

/// Fuzzes the ISO-TP node on a CAN bus (or the built-in simulator's CAN ECU).
pub async fn fuzz_can(
    c: &Campaign<'_>,
    stop: Arc<AtomicBool>,
    on_event: &mut dyn FnMut(CampaignEvent),
) -> Result<CampaignOutcome<CanCase>, CampaignError> {
    let profile = c.profile.target();
    let grammar = from_profile::isotp_grammar(profile);
    let isotp = crate::runner::isotp::config(profile).map_err(CampaignError::Usage)?;
    let (p2, p2_star) = from_profile::uds_deadlines(profile);
    let (spec, restore, sims, label) = match &c.target {
        CampaignTarget::CanBus { text, spec } => {
            (spec.clone(), profile_restore(c.profile), None, format!("ISO-TP node on {text}"))
        }
        CampaignTarget::CanSimulator { faults } => {
            let (sims, e, control) = start_simulator(c, faults).await?;
            let Some(spec) = e.can else {
                sims.shutdown().await;
                return Err(CampaignError::Usage(
                    "--can sim: the simulator's configuration has no CAN ECU".into(),
                ));
            };
            let label = format!("{}'s CAN ECU", simulator_label(faults));
            (spec, Restore::Simulator(control), Some(sims), label)
        }
        _ => return Err(CampaignError::Usage("fuzz_can: a DoIP target".into())),
    };
    let transport = match CanTransport::open(&spec).await {
        Ok(t) => t,
        Err(e) => {
            if let Some(s) = sims {
                s.shutdown().await;
            }
            return Err(CampaignError::Usage(format!("--can: {e}")));
        }
    };
    let settings = IsoTpSettings {
        tx_id: isotp.address.tx.id,
        rx_id: isotp.address.rx.id,
        functional_id: isotp.address.functional_tx.map(|a| a.id),
        p2,
        p2_star,
        isotp,
        batch: c.batch,
        monitor: c.monitor.clone(),
        command_bound: Duration::from_secs(60),
        judged_pairs: crate::judge::profile_pairs(profile),
        gap_tolerance: profile.can.gap_tolerance,
    };
    let generator = IsoTpGenerator::new(grammar, c.seed);
    let mut fuzzer = IsoTpFuzzer::new(settings, generator, restore, transport);
    let repro = |number: u32, f: &LiveFinding<CanCase>| {
        repro_can_yaml(&CanReproInput {
            number,
            seed: c.seed,
            cases: &f.cases,
            oracle: &f.oracle,
            detail: &f.detail,
            grammar: &grammar,
        })
    };
    let (report, dropped_probes) =
        run_target(c, &Share::whole(), &mut fuzzer, &label, sims, stop, on_event).await?;
    let written = write_written(c, &report, repro, on_event);
    Ok(CampaignOutcome { report, dropped_probes, written })
}

/// One built-in simulator instance with `faults`: its endpoints and power.
async fn start_simulator(
    c: &Campaign<'_>,
    faults: &[String],
) -> Result<(Simulators, Started, SimControl), CampaignError> {
    let config = simulator_config(c.profile, c.profile_path).map_err(CampaignError::Usage)?;
    let (sims, endpoints) = Simulators::start(1, faults, &config)
        .await
        .map_err(|e| CampaignError::Harness(e.to_string()))?;
    let first = endpoints.into_iter().next();
    match first.as_ref().and_then(|e| e.simulator.clone()).zip(first) {
        Some((control, e)) => Ok((
            sims,
            Started {
                tcp: SocketAddr::new(e.ip, e.tcp),
                udp: SocketAddr::new(e.ip, e.udp),
                tls: (e.tls != 0).then(|| SocketAddr::new(e.ip, e.tls)),
                can: e.can.map(|(_, spec)| spec),
            },
            control,
        )),
        None => {
            sims.shutdown().await;
            Err(CampaignError::Harness("no simulator".into()))
        }
    }
}

/// Where a started simulator answers.
struct Started {
    tcp: SocketAddr,
    udp: SocketAddr,
    /// Its TLS data port, when its configuration serves TLS.
    tls: Option<SocketAddr>,
    /// Its private CAN bus, when its configuration has CAN ECUs.
    can: Option<CanSpec>,
}

/// The profile's power cycle command restores a target, else a reconnect.
fn profile_restore(profile: &Profile) -> Restore {
    match &profile.target().power_cycle_command {
        Some(c) => Restore::Command(c.clone()),
        None => Restore::Reconnect,
    }
}

/// Fuzzes `target` after a first liveness check, then stops the simulators: the report and
/// the probes the baseline dropped.
async fn run_target<T: LiveTarget>(
    c: &Campaign<'_>,
    share: &Share,
    target: &mut T,
    label: &str,
    sims: Option<Simulators>,
    stop: Arc<AtomicBool>,
    on_event: &mut dyn FnMut(CampaignEvent),
) -> Result<(LiveReport<T::Case>, Vec<String>), CampaignError> {
    let dropped_probes = match target.baseline(target.liveness_bound()).await {
        Ok(dropped) => dropped,
        Err((oracle, why)) => {
            if let Some(s) = sims {
                s.shutdown().await;
            }
            return Err(CampaignError::Unhealthy(format!(
                "the target is not healthy before the first case ({oracle}): {why}"
            )));
        }
    };
    for probe in &dropped_probes {
        on_event(CampaignEvent::ProbeDropped(probe.clone()));
    }
    let workers =
        if share.stride > 1 { format!(", {} workers", share.stride) } else { String::new() };
    on_event(CampaignEvent::Started(format!(
        "{label}, seed {}, up to {} or {} cases, liveness every {} cases{workers}",
        c.seed,
        crate::suite::value::format_duration(c.duration),
        c.max_cases.map_or("unbounded".into(), |n| n.to_string()),
        c.batch
    )));
    let max_findings = c.max_findings.unwrap_or(usize::MAX);
    let report = drive(
        target,
        share.max_cases(c.max_cases),
        c.duration,
        |r| stop.load(Ordering::Relaxed) || r.findings.len() >= max_findings,
        |r| {
            share.progress.cases[share.offset as usize].store(r.cases, Ordering::Relaxed);
            on_event(CampaignEvent::Progress(progress_line(r, share.progress.total())))
        },
    )
    .await;
    if let Some(s) = sims {
        s.shutdown().await;
    }
    Ok((report, dropped_probes))
}

/// Writes each finding of `report` with its `repro`.
fn write_written<C: LiveCase>(
    c: &Campaign<'_>,
    report: &LiveReport<C>,
    repro: impl Fn(u32, &LiveFinding<C>) -> Repro,
    on_event: &mut dyn FnMut(CampaignEvent),
) -> Vec<WrittenFinding<C>> {
    let mut written = Vec::new();
    for (number, f) in (next_number(&c.findings_dir)..).zip(&report.findings) {
        let repro = repro(number, f);
        match write_finding(&c.findings_dir, number, c.seed, f, &repro.yaml) {
            Ok(dir) => written.push(WrittenFinding {
                dir,
                number,
                finding: f.clone(),
                symptom_steps: repro.symptom_steps,
            }),
            Err(e) => on_event(CampaignEvent::WriteFailed(format!(
                "writing finding {number:04} in {}: {e}",
                c.findings_dir.display()
            ))),
        }
    }
    written
}

/// The live line; `cases` counts every worker's.
fn progress_line<C>(r: &LiveReport<C>, cases: u64) -> String {
    format!(
        "fuzz: {} cases, {:.0} cases/s, {} finding(s), {} bucket x state pairs covered",
        cases,
        cases as f64 / r.elapsed.as_secs_f64().max(1e-9),
        r.findings.len(),
        r.coverage.len()
    )
}

/// Which cases of the seed a worker runs: `offset`, `offset + stride`, ... (same seed, same
/// cases: a case is a function of its index, whichever worker runs it).
struct Share {
    offset: u64,
    stride: u64,
    progress: Arc<WorkerProgress>,
}

impl Share {
    /// All cases, one worker.
    fn whole() -> Share {
        Share { offset: 0, stride: 1, progress: Arc::new(WorkerProgress::new(1)) }
    }

    /// This worker's part of `--cases`.
    fn max_cases(&self, all: Option<u64>) -> u64 {
        all.map_or(u64::MAX, |n| n / self.stride + u64::from(self.offset < n % self.stride))
    }
}

/// Cases run so far by each worker, for the live line.
struct WorkerProgress {
    cases: Vec<AtomicU64>,
}

impl WorkerProgress {
    fn new(workers: u64) -> WorkerProgress {
        WorkerProgress { cases: (0..workers).map(|_| AtomicU64::new(0)).collect() }
    }

    fn total(&self) -> u64 {
        self.cases.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// A target whose case `i` is the seed's case `offset + i * stride`.
struct Strided<'t, T> {
    inner: &'t mut T,
    offset: u64,
    stride: u64,
}

impl<T: LiveTarget> LiveTarget for Strided<'_, T> {
    type Case = T::Case;

    fn case(&self, index: u64) -> T::Case {
        self.inner.case(self.offset + index * self.stride)
    }

    fn batch(&self) -> u64 {
        self.inner.batch()
    }

    fn liveness_bound(&self) -> Duration {
        self.inner.liveness_bound()
    }

    async fn run_case(&mut self, case: &T::Case) -> CaseOutcome {
        self.inner.run_case(case).await
    }

    async fn liveness(&mut self, bound: Duration) -> Result<Duration, (Oracle, String)> {
        self.inner.liveness(bound).await
    }

    async fn baseline(&mut self, bound: Duration) -> Result<Vec<String>, (Oracle, String)> {
        self.inner.baseline(bound).await
    }

    async fn restore(&mut self) -> Result<(), String> {
        self.inner.restore().await
    }

    fn skip_dead(&mut self, oracle: &Oracle) -> Option<String> {
        self.inner.skip_dead(oracle)
    }

    fn skips(&self, case: &T::Case) -> bool {
        self.inner.skips(case)
    }

    fn hold(&mut self, oracle: Option<&Oracle>) {
        self.inner.hold(oracle)
    }

    fn forget(&mut self) {
        self.inner.forget()
    }
    fn connections_opened(&self) -> u64 {
        self.inner.connections_opened()
    }
}

/// What a worker thread needs of a [`Campaign`], owned.
struct OwnedCampaign {
    profile: Profile,
    profile_path: Option<PathBuf>,
    target: CampaignTarget,
    seed: u64,
    batch: u64,
    monitor: Option<String>,
    duration: Duration,
    max_cases: Option<u64>,
    max_findings: Option<usize>,
    findings_dir: PathBuf,
    workers: u64,
    tls_share: u8,
}

impl OwnedCampaign {
    fn of(c: &Campaign<'_>) -> OwnedCampaign {
        OwnedCampaign {
            profile: c.profile.clone(),
            profile_path: c.profile_path.map(Path::to_path_buf),
            target: c.target.clone(),
            seed: c.seed,
            batch: c.batch,
            monitor: c.monitor.clone(),
            duration: c.duration,
            max_cases: c.max_cases,
            max_findings: c.max_findings,
            findings_dir: c.findings_dir.clone(),
            workers: c.workers,
            tls_share: c.tls_share,
        }
    }

    fn campaign(&self) -> Campaign<'_> {
        Campaign {
            profile: &self.profile,
            profile_path: self.profile_path.as_deref(),
            target: self.target.clone(),
            seed: self.seed,
            batch: self.batch,
            monitor: self.monitor.clone(),
            duration: self.duration,
            max_cases: self.max_cases,
            max_findings: self.max_findings,
            findings_dir: self.findings_dir.clone(),
            workers: self.workers,
            tls_share: self.tls_share,
        }
    }
}

/// Adds another worker's report to `into`: counts and coverage summed, findings appended
/// unless the same symptom (oracle and what it saw, in the same start state) was found
/// already (each worker's simulator has the same faults), rate samples summed at `into`'s
/// times.
fn merge_reports<C: LiveCase>(into: &mut LiveReport<C>, other: LiveReport<C>) {
    let cases_at = |samples: &[(Duration, u64)], at: Duration| {
        samples.iter().take_while(|(t, _)| *t <= at).last().map_or(0, |s| s.1)
    };
    for (at, cases) in &mut into.rate_samples {
        *cases += cases_at(&other.rate_samples, *at);
    }
    if let Some(last) = into.rate_samples.last_mut() {
        // The end of the run: every worker's cases.
        last.1 = into.cases + other.cases;
    }
    into.cases += other.cases;
    into.elapsed = into.elapsed.max(other.elapsed);
    into.healthy_checks += other.healthy_checks;
    into.connections += other.connections;
    into.duplicates += other.duplicates;
    for (key, n) in other.coverage {
        *into.coverage.entry(key).or_default() += n;
    }
    for (key, n) in other.mutations {
        *into.mutations.entry(key).or_default() += n;
    }
    for (key, n) in other.transports {
        *into.transports.entry(key).or_default() += n;
    }
    let symptom = |f: &LiveFinding<C>| (f.oracle.clone(), f.detail.clone(), f.state);
    for finding in other.findings {
        let key = symptom(&finding);
        if into.findings.iter().any(|f| symptom(f) == key) {
            into.duplicates += 1;
        } else {
            into.findings.push(finding);
        }
    }
    into.findings.sort_by_key(|f| f.found_after);
    into.stopped = into.stopped.take().or(other.stopped);
    into.skipped.extend(other.skipped);
}
