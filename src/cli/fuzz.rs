//! `doipcheck fuzz`: live fuzzing of a DoIP entity (or the built-in simulator, with faults),
//! then each finding written to `--findings DIR/NNNN/` and its repro run through `run`
//! against the same target (and, for the built-in simulator, against the conformant one).

use super::exit;
use super::run::{PcapArg, RunArgs, parse_target};
use super::stdout::{self, Stdout};
use crate::fuzz::campaign::{
    Campaign, CampaignError, CampaignEvent, CampaignOutcome, CampaignTarget, fuzz_can, fuzz_doip,
};
use crate::fuzz::drive::LiveCase;
use crate::fuzz::findings::{ReproRun, confirm, finding_json};
use crate::fuzz::model::StartState;
use crate::fuzz::model::doip::DEFAULT_TLS_SHARE_PERCENT;
use crate::fuzz::model::isotp::CanState;
use crate::runner::target::known_faults;
use crate::suite::load;
use crate::suite::profile::Profile;
use crate::transport::can::CanSpec;
use clap::Args;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct FuzzArgs {
    /// The DoIP entity to fuzz, HOST or HOST:PORT (TCP data port; the UDP and TLS ports come
    /// from the profile). Without it, the built-in simulator (with the faults of --sim-fault)
    /// is fuzzed on loopback.
    #[arg(short, long, value_name = "HOST[:PORT]")]
    pub target: Option<String>,
    /// Target profile (addresses, timers, capabilities; default: the built-in simulator's).
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// Fuzz the built-in simulator with this fault switched on (repeatable).
    #[arg(long = "sim-fault", alias = "fault", value_name = "NAME")]
    pub sim_faults: Vec<String>,
    /// Fuzz an ISO-TP node over CAN instead of a DoIP entity: `sim` for the built-in
    /// simulator's CAN ECU (with the faults of --sim-fault), or a bus (memory:NAME,
    /// cannelloni:LOCAL@HOST:PORT, socketcan:IFACE) with the node the profile's `isotp.*` ids
    /// name.
    #[arg(long, value_name = "SPEC|sim")]
    pub can: Option<String>,
    /// Stop after this long (`10m`, `30s`).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop after this many cases.
    #[arg(long, value_name = "N")]
    pub cases: Option<u64>,
    /// Stop after this many findings (at most 100 are written in any case).
    #[arg(long, value_name = "N")]
    pub max_findings: Option<usize>,
    /// The seed: the same seed gives the same cases.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Cases between two liveness checks.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
    /// Where findings go (one directory per finding, numbered).
    #[arg(long, default_value = "fuzz-findings")]
    pub findings: PathBuf,
    /// A command run after each batch (`sh -c`); its failure is a finding (an ECU log check,
    /// a process check).
    #[arg(long, value_name = "CMD")]
    pub monitor: Option<String>,
    /// Fuzz the built-in simulator with this many workers, each with its own simulator
    /// instance on its own thread taking every N-th case of the seed (not with --target,
    /// --can or --monitor, which fuzz or watch one shared target). Default: one more than
    /// the cores against the built-in DoIP simulator (at most 16), else 1.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_WORKERS))]
    pub workers: Option<u64>,
    /// When the profile has `doip.tls`: percent of the TCP cases sent over TLS to
    /// `ports.tls` instead, in blocks of 64 cases (100: every TCP case; 0: none). The TLS
    /// handshake is not fuzzed (it is done as `run` does it); the DoIP messages inside the
    /// TLS stream are, with the same generator and checks as over TCP. The TLS service is
    /// probed by the liveness oracle as a service of its own.
    #[arg(long, value_name = "PERCENT", default_value_t = DEFAULT_TLS_SHARE_PERCENT,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub tls_share: u8,
    /// Do not run each finding's repro.yaml after the fuzzing (faster; no repro.pcapng).
    #[arg(long)]
    pub no_confirm: bool,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::notation::parse_duration(text).map_err(|e| e.to_string())
}

pub fn run(args: FuzzArgs) -> u8 {
    match run_inner(args) {
        Ok(code) => code,
        Err((code, text)) => {
            eprintln!("{}", text.trim_end());
            code
        }
    }
}

fn usage(text: impl Into<String>) -> (u8, String) {
    (exit::USAGE, format!("error: {}", text.into()))
}

/// What the confirmation of a finding needs to know about the target.
struct TargetChoice {
    profile_path: Option<PathBuf>,
    target: Option<String>,
    faults: Vec<String>,
    /// `--can SPEC` of a CAN node (not `sim`).
    can: Option<String>,
}

/// The CAN side of `--can`.
enum CanChoice {
    /// The built-in simulator's CAN ECUs, on its private bus.
    Simulator,
    /// A bus with the node on it (the text and its parse).
    Bus(String, CanSpec),
}

fn run_inner(args: FuzzArgs) -> Result<u8, (u8, String)> {
    if args.target.is_some() && !args.sim_faults.is_empty() {
        return Err(usage("--sim-fault applies to the built-in simulator, not to --target"));
    }
    if args.workers.is_some_and(|w| w > 1) && !own_simulators(&args) {
        return Err(usage(
            "--workers applies to the built-in DoIP simulator without --monitor (one instance per worker)",
        ));
    }
    let faults = known_faults();
    if let Some(bad) = args.sim_faults.iter().find(|f| !faults.contains(&f.as_str())) {
        return Err(usage(format!(
            "--sim-fault: unknown fault `{bad}`; `doipcheck sim --list-faults` lists them"
        )));
    }
    let profile_path =
        super::validate::profile_choice(args.profile.as_deref(), args.target.is_some());
    let can = match args.can.as_deref() {
        None => None,
        Some(_) if args.target.is_some() => {
            return Err(usage(
                "--can fuzzes the ISO-TP node on a CAN bus and --target a DoIP entity: give one of them",
            ));
        }
        Some("sim") => Some(CanChoice::Simulator),
        Some(_) if !args.sim_faults.is_empty() => {
            return Err(usage(
                "--sim-fault: the built-in simulator brings its own CAN bus; give --can sim",
            ));
        }
        Some(text) => Some(CanChoice::Bus(
            text.to_owned(),
            text.parse::<CanSpec>().map_err(|e| usage(format!("--can: {e}")))?,
        )),
    };
    let profile =
        load::load_profile(profile_path.as_deref()).map_err(|e| (exit::USAGE, e.render()))?;
    let choice = TargetChoice {
        profile_path: profile_path.clone(),
        target: args.target.clone(),
        faults: args.sim_faults.clone(),
        can: match &can {
            Some(CanChoice::Bus(text, _)) => Some(text.clone()),
            _ => None,
        },
    };
    let target = match (can, &args.target) {
        (Some(CanChoice::Simulator), _) => {
            CampaignTarget::CanSimulator { faults: args.sim_faults.clone() }
        }
        (Some(CanChoice::Bus(text, spec)), _) => CampaignTarget::CanBus { text, spec },
        (None, Some(text)) => {
            let (ip, explicit) = parse_target(text).map_err(usage)?;
            let ports = profile.target().ports;
            CampaignTarget::Entity {
                tcp: SocketAddr::new(ip, explicit.unwrap_or(ports.tcp)),
                udp: SocketAddr::new(ip, ports.udp),
                tls: Some(SocketAddr::new(ip, ports.tls)),
                label: text.clone(),
            }
        }
        (None, None) => CampaignTarget::Simulator { faults: args.sim_faults.clone() },
    };
    let is_can =
        matches!(target, CampaignTarget::CanSimulator { .. } | CampaignTarget::CanBus { .. });
    let c = campaign_of(&args, &profile, profile_path.as_deref(), target);
    let stop = Arc::new(AtomicBool::new(false));
    let tty = std::io::stderr().is_terminal();
    let mut on_event = console(tty);
    let runtime = runtime()?;
    if is_can {
        let result = runtime.block_on(async {
            spawn_signal_watch(stop.clone());
            fuzz_can(&c, stop, &mut on_event).await
        });
        Ok(finish(&args, &choice, &outcome(result, tty)?, &CanState::ALL.map(CanState::name)))
    } else {
        let result = runtime.block_on(async {
            spawn_signal_watch(stop.clone());
            fuzz_doip(&c, stop, &mut on_event).await
        });
        Ok(finish(&args, &choice, &outcome(result, tty)?, &StartState::ALL.map(StartState::name)))
    }
}

/// Confirms each written finding (unless --no-confirm), prints the summary, and gives the
/// exit code: 0 without a finding, 1 with one.
fn finish<C: LiveCase>(
    args: &FuzzArgs,
    choice: &TargetChoice,
    outcome: &CampaignOutcome<C>,
    states: &[&str],
) -> u8 {
    let (report, written) = (&outcome.report, &outcome.written);
    let mut summaries = Vec::new();
    let mut confirmations = Vec::new();
    for w in written {
        let (finding, symptom) = (&w.finding, w.symptom_steps.as_ref());
        let (repro, confirmation) = if args.no_confirm {
            (None, confirm(finding, symptom, None, None))
        } else {
            let runs = run_repro(&w.dir, choice);
            let c = confirm(finding, symptom, Some(&runs.target), runs.conformant.as_ref());
            (Some(runs.json), c)
        };
        let json = finding_json(w.number, args.seed, finding, repro.clone(), Some(&confirmation));
        let _ = std::fs::write(
            w.dir.join("finding.json"),
            serde_json::to_string_pretty(&json).unwrap_or_default() + "\n",
        );
        summaries.push(serde_json::json!({
            "dir": w.dir.display().to_string(),
            "oracle": finding.oracle.name(),
            "state": finding.state,
            "transport": finding.transport(),
            "messages": finding.message_count(),
            "reproduced": finding.reproduced,
            "found_after_ms": finding.found_after.as_millis() as u64,
            "repro": repro,
            "confirmation": confirmation.json(),
        }));
        confirmations.push(confirmation);
    }
    let line = format!(
        "{} cases in {:.1} s ({:.0} cases/s), seed {}, {} liveness checks passed, {} finding(s)",
        report.cases,
        report.elapsed.as_secs_f64(),
        report.rate(),
        args.seed,
        report.healthy_checks,
        report.findings.len()
    );
    let reports = super::fuzz_report::write_campaign_report(
        &args.findings,
        outcome,
        &confirmations,
        states,
        line,
    );
    let mut summary = summary_json(args, outcome, summaries, states);
    match &reports {
        Ok((html, junit)) => {
            summary["report_html"] = html.display().to_string().into();
            summary["junit"] = junit.display().to_string().into();
        }
        Err(e) => {
            eprintln!("error: writing the campaign report in {}: {e}", args.findings.display())
        }
    }
    let printed = if args.json {
        Stdout::new().line(&serde_json::to_string(&summary).unwrap_or_default())
    } else {
        Ok(())
    };
    eprintln!(
        "fuzz: {} cases in {:.1} s ({:.0} cases/s), {} liveness checks passed, {} finding(s){}",
        report.cases,
        report.elapsed.as_secs_f64(),
        report.rate(),
        report.healthy_checks,
        report.findings.len(),
        if report.duplicates > 0 {
            format!(" (+{} duplicates)", report.duplicates)
        } else {
            String::new()
        }
    );
    let transports = transport_line(report);
    if !transports.is_empty() {
        eprintln!("fuzz: cases per transport: {transports}");
    }
    for (w, c) in written.iter().zip(&confirmations) {
        let f = &w.finding;
        let over = f.transport().map_or(String::new(), |t| format!(" over {t}"));
        eprintln!("  {}: {} in state {}{over} ({})", w.dir.display(), f.oracle, f.state, f.detail);
        let status = if c.confirmed { "confirmed" } else { "UNCONFIRMED" };
        eprintln!("    {status}: {}", c.why);
    }
    if let Some(why) = &report.stopped {
        eprintln!("fuzz: stopped early: {why}");
    }
    for skipped in &report.skipped {
        eprintln!("fuzz: dead after a restore, went on without it: {skipped}");
    }
    if report.left_out > 0 {
        eprintln!("fuzz: {} cases to a service left out were not sent", report.left_out);
    }
    if let Ok((html, junit)) = &reports {
        eprintln!("fuzz: report {} and {}", html.display(), junit.display());
    }
    stdout::exit_code(
        printed,
        if report.findings.is_empty() { exit::SUCCESS } else { exit::FAILURE },
    )
}

/// Most workers `--workers` takes.
const MAX_WORKERS: u64 = 16;

/// Whether workers apply: the built-in DoIP simulator, one instance per worker, with no
/// `--monitor` (which watches one shared target).
fn own_simulators(args: &FuzzArgs) -> bool {
    args.target.is_none() && args.can.is_none() && args.monitor.is_none()
}

/// The cores this process may run on (1 when that cannot be told).
fn cores() -> u64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
}

/// The workers of the campaign: `--workers`, else one more than the cores against the built-in
/// DoIP simulator (a worker's thread idles while its liveness check waits on an ECU behind
/// the gateway and on UDP answers; with two workers on 2 cores, 1.6 to 1.7 cores were busy
/// and three gave 8 to 27 % more cases/s, four less than three), else 1.
fn workers_of(args: &FuzzArgs) -> u64 {
    match args.workers {
        Some(n) => n,
        None if own_simulators(args) => (cores() + 1).min(MAX_WORKERS),
        None => 1,
    }
}

/// The campaign the arguments describe.
fn campaign_of<'a>(
    args: &FuzzArgs,
    profile: &'a Profile,
    profile_path: Option<&'a Path>,
    target: CampaignTarget,
) -> Campaign<'a> {
    Campaign {
        profile,
        profile_path,
        target,
        seed: args.seed,
        batch: args.batch,
        monitor: args.monitor.clone(),
        duration: args.duration,
        max_cases: args.cases,
        max_findings: args.max_findings,
        findings_dir: args.findings.clone(),
        workers: workers_of(args),
        tls_share: args.tls_share,
    }
}

/// One thread: the fuzzer and the built-in simulator take turns on it, which measured faster
/// than two workers (8.6k against 6.7k cases/s: no wake-ups across threads).
fn runtime() -> Result<tokio::runtime::Runtime, (u8, String)> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (exit::FAILURE, format!("error: cannot start the runtime: {e}")))
}

/// The console side of a campaign: its start line, the live line (every 250 ms on a
/// terminal, every 10 s in a log) and what could not be written.
fn console(tty: bool) -> impl FnMut(CampaignEvent) {
    let mut last_line = std::time::Instant::now();
    move |event| match event {
        CampaignEvent::Started(text) => eprintln!("fuzz: {text}"),
        CampaignEvent::Progress(line) => {
            let due = if tty { Duration::from_millis(250) } else { Duration::from_secs(10) };
            if last_line.elapsed() >= due {
                last_line = std::time::Instant::now();
                if tty {
                    eprint!("\r{line}\x1b[K");
                } else {
                    eprintln!("{line}");
                }
            }
        }
        CampaignEvent::ProbeDropped(probe) => eprintln!(
            "fuzz: the target fails this probe before the first case; it is left out of the liveness check: {probe}"
        ),
        CampaignEvent::WriteFailed(why) => eprintln!("error: {why}"),
    }
}

/// The campaign's outcome as the command's: its report and findings, or the exit code and
/// the message.
fn outcome<C>(
    result: Result<CampaignOutcome<C>, CampaignError>,
    tty: bool,
) -> Result<CampaignOutcome<C>, (u8, String)> {
    if tty {
        eprintln!();
    }
    match result {
        Ok(o) => Ok(o),
        Err(CampaignError::Usage(why)) => Err(usage(why)),
        Err(CampaignError::Unhealthy(why)) => Err((exit::UNREACHABLE, format!("error: {why}"))),
        Err(CampaignError::Harness(why)) => Err((exit::FAILURE, format!("error: {why}"))),
    }
}

/// SIGINT, SIGTERM and SIGHUP end the fuzzing; the findings so far are written.
fn spawn_signal_watch(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) =
            (signal(SignalKind::terminate()), signal(SignalKind::hangup()))
        else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        stop.store(true, Ordering::Relaxed);
    });
}

/// What the repro's runs gave: finding.json's `repro`, and each run as its report says.
struct ReproRuns {
    json: serde_json::Value,
    target: ReproRun,
    /// Against the conformant simulator, when a simulator fault was fuzzed.
    conformant: Option<ReproRun>,
}

/// Runs `dir/repro.yaml` through `run` against the fuzzed target (and the conformant
/// simulator when a fault was fuzzed), keeps the capture as `repro.pcapng`, and says what
/// each run gave.
fn run_repro(dir: &Path, choice: &TargetChoice) -> ReproRuns {
    let repro = dir.join("repro.yaml");
    let run_dir = dir.join("run");
    eprintln!("fuzz: confirming {} against the fuzzed target", repro.display());
    let code = super::run::run(RunArgs {
        paths: vec![repro.clone()],
        target: choice.target.clone(),
        can: choice.can.clone(),
        profile: choice.profile_path.clone(),
        sim_faults: choice.faults.clone(),
        report_dir: run_dir.clone(),
        pcap: PcapArg::All,
        plain: true,
        jobs: Some(1),
        ..RunArgs::default()
    });
    if let Some(capture) = first_pcapng(&run_dir) {
        let _ = std::fs::copy(capture, dir.join("repro.pcapng"));
    }
    let mut json = serde_json::json!({ "against_target": verdict_of(code) });
    let target = repro_run(code, &run_dir);
    let mut conformant = None;
    if choice.target.is_none() && !choice.faults.is_empty() {
        let report_dir = dir.join("conformant");
        let code = super::run::run(RunArgs {
            paths: vec![repro],
            profile: choice.profile_path.clone(),
            report_dir: report_dir.clone(),
            pcap: PcapArg::None,
            plain: true,
            jobs: Some(1),
            ..RunArgs::default()
        });
        json["against_conformant_simulator"] = verdict_of(code).into();
        conformant = Some(repro_run(code, &report_dir));
    }
    ReproRuns { json, target, conformant }
}

/// What a repro's run gave: its exit `code`, and for a failure the step that failed, read
/// from the run's report.json in `report_dir`.
fn repro_run(code: u8, report_dir: &Path) -> ReproRun {
    use crate::runner::event::{Phase, Verdict};
    if code == exit::SUCCESS {
        return ReproRun::Passed;
    }
    let report = match crate::report::load_report(&report_dir.join("report.json")) {
        Ok(r) => r,
        Err(e) => return ReproRun::NoVerdict(format!("{} ({e})", verdict_of(code))),
    };
    let Some(finished) = report.cases.into_iter().find_map(|(_, finished)| finished) else {
        return ReproRun::NoVerdict(format!("{}: the case did not finish", verdict_of(code)));
    };
    let message = finished.reason.as_ref().map_or(String::new(), |r| r.message.clone());
    match finished.verdict {
        Verdict::Pass => ReproRun::Passed,
        Verdict::Fail => {
            let step = finished.reason.and_then(|r| r.step);
            let step = step.filter(|s| s.phase == Phase::Steps).map(|s| (s.index, s.kind));
            ReproRun::Failed { step, message }
        }
        other => ReproRun::NoVerdict(format!("{}: {message}", other.as_str())),
    }
}

fn verdict_of(code: u8) -> &'static str {
    match code {
        exit::SUCCESS => "pass",
        exit::FAILURE => "fail",
        exit::UNREACHABLE => "unreachable",
        _ => "error",
    }
}

fn first_pcapng(dir: &Path) -> Option<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcapng") {
                return Some(p);
            }
        }
    }
    None
}

/// The cases per transport, e.g. `tcp 1204, tls 412, udp 96` (TLS also when none went over
/// it: a user who expects TLS cases sees there were none; `LiveReport::transports_seen`).
fn transport_line<C>(report: &crate::fuzz::drive::LiveReport<C>) -> String {
    let parts: Vec<String> =
        report.transports_seen().iter().map(|t| format!("{t} {}", report.cases_over(t))).collect();
    parts.join(", ")
}

fn summary_json<C>(
    args: &FuzzArgs,
    outcome: &CampaignOutcome<C>,
    findings: Vec<serde_json::Value>,
    states: &[&str],
) -> serde_json::Value {
    let r = &outcome.report;
    let mut coverage = serde_json::Map::new();
    for ((payload_type, state), n) in &r.coverage {
        let entry =
            coverage.entry(payload_type.to_string()).or_insert_with(|| serde_json::json!({}));
        entry[*state] = (*n).into();
    }
    let mut transports = serde_json::Map::new();
    for ((transport, state), n) in &r.transports {
        let entry = transports.entry(*transport).or_insert_with(|| serde_json::json!({}));
        entry[*state] = (*n).into();
    }
    serde_json::json!({
        "cases": r.cases,
        "cases_per_s": (r.rate() * 10.0).round() / 10.0,
        "elapsed_s": (r.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "seed": args.seed,
        "healthy_checks": r.healthy_checks,
        "workers": workers_of(args),
        "connections": r.connections,
        "findings": r.findings.len(),
        "duplicates": r.duplicates,
        "states": states,
        "coverage": coverage,
        "transports": transports,
        "cases_over_tls": r.cases_over("tls"),
        "finding_dirs": findings,
        "stopped": r.stopped,
        "skipped": r.skipped.iter().map(|s| serde_json::json!({
            "what": s.what, "since_case": s.since_case, "why": s.why,
        })).collect::<Vec<_>>(),
        "cases_left_out": r.left_out,
        "dropped_probes": outcome.dropped_probes,
    })
}
