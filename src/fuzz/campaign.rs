//! A fuzzing campaign from start to written findings: the target chosen (the built-in
//! simulator with faults, a DoIP entity, the simulator's CAN ECU or a node on a CAN bus), the
//! fuzzer built from the typed profile, the liveness baseline before the first case (the probes
//! the target passes; a known deviation is dropped and said, not a reason to stop), the shared
//! loop ([`super::drive`]) and each finding's directory. `doipcheck fuzz` turns its arguments
//! into a [`Campaign`], calls [`fuzz_doip`] or [`fuzz_can`] and prints what comes back
//! (docs/architecture.md#live-fuzzing).

use super::drive::{LiveFinding, LiveReport, LiveTarget, Restore, drive};
use super::findings::{WrittenFinding, next_number, write_finding};
use super::from_profile;
use super::isotp_live::{IsoTpFuzzer, IsoTpSettings};
use super::live::LiveFuzzer;
use super::model::FuzzCase;
use super::model::doip::DoipGenerator;
use super::model::isotp::{CanCase, CanReproInput, IsoTpGenerator, repro_can_yaml};
use super::model::repro::{Repro, ReproInput, repro_yaml};
use crate::runner::target::{Simulators, simulator_config, simulator_label};
use crate::suite::profile::Profile;
use crate::transport::can::{CanSpec, CanTransport};
use crate::transport::doip::sim_host::SimControl;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What is fuzzed.
#[derive(Debug, Clone)]
pub enum CampaignTarget {
    /// The built-in simulator's DoIP entity, with these faults switched on.
    Simulator { faults: Vec<String> },
    /// A DoIP entity (`label` names it on the console).
    Entity { tcp: SocketAddr, udp: SocketAddr, label: String },
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
    let profile = c.profile.target();
    let grammar = from_profile::doip_grammar(profile);
    let (tcp, udp, restore, sims, label) = match &c.target {
        CampaignTarget::Entity { tcp, udp, label } => {
            (*tcp, *udp, profile_restore(c.profile), None, label.clone())
        }
        CampaignTarget::Simulator { faults } => {
            let (sims, e, control) = start_simulator(c, faults).await?;
            (e.tcp, e.udp, Restore::Simulator(control), Some(sims), simulator_label(faults))
        }
        _ => return Err(CampaignError::Usage("fuzz_doip: a CAN target".into())),
    };
    let settings =
        from_profile::live_settings(profile, &grammar, tcp, udp, c.batch, c.monitor.clone());
    let generator = DoipGenerator::new(grammar, c.seed);
    let mut fuzzer = LiveFuzzer::new(settings, generator, restore);
    let mid = fuzzer.mid_prefix().to_vec();
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
    fuzz_target(c, &mut fuzzer, &label, sims, stop, repro, on_event).await
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
    fuzz_target(c, &mut fuzzer, &label, sims, stop, repro, on_event).await
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

/// Fuzzes `target` after a first liveness check, then stops the simulators and writes each
/// finding with its `repro`.
async fn fuzz_target<T: LiveTarget>(
    c: &Campaign<'_>,
    target: &mut T,
    label: &str,
    sims: Option<Simulators>,
    stop: Arc<AtomicBool>,
    repro: impl Fn(u32, &LiveFinding<T::Case>) -> Repro,
    on_event: &mut dyn FnMut(CampaignEvent),
) -> Result<CampaignOutcome<T::Case>, CampaignError> {
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
    on_event(CampaignEvent::Started(format!(
        "{label}, seed {}, up to {} or {} cases, liveness every {} cases",
        c.seed,
        crate::suite::value::format_duration(c.duration),
        c.max_cases.map_or("unbounded".into(), |n| n.to_string()),
        c.batch
    )));
    let max_findings = c.max_findings.unwrap_or(usize::MAX);
    let report = drive(
        target,
        c.max_cases.unwrap_or(u64::MAX),
        c.duration,
        |r| stop.load(Ordering::Relaxed) || r.findings.len() >= max_findings,
        |r| on_event(CampaignEvent::Progress(progress_line(r))),
    )
    .await;
    if let Some(s) = sims {
        s.shutdown().await;
    }
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
    Ok(CampaignOutcome { report, dropped_probes, written })
}

fn progress_line<C>(r: &LiveReport<C>) -> String {
    format!(
        "fuzz: {} cases, {:.0} cases/s, {} finding(s), {} bucket x state pairs covered",
        r.cases,
        r.rate(),
        r.findings.len(),
        r.coverage.len()
    )
}
