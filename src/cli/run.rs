//! `doipcheck run [PATHS]`: load and validate the suites and the profile (any error: exit 2,
//! nothing runs), plan the cases, run them against `--target` or the built-in simulator, and
//! write the console, JUnit, JSON and capture reports (also after Ctrl-C).

use super::exit;
use super::report::FailOn;
use super::validate::paths_or_default;
use crate::report::{
    CapturePolicy, ConsoleMode, ReportOptions, Reporters, load_baseline, load_waivers,
};
use crate::runner::event::EventSink;
use crate::runner::target::{
    Simulators, TargetSource, known_faults, simulator_config, simulator_config_text,
    simulator_label,
};
use crate::runner::{CaseEnv, RunOptions, TargetEndpoints};
use crate::suite::load;
use crate::suite::select::{self, Filter};
use crate::suite::tags::TagExpr;
use crate::transport::doip::tester::tls::{KeyLogFile, client_config};
use clap::{Args, ValueEnum};
use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Suite files or directories (default: ./suites, else the suites built into doipcheck).
    pub paths: Vec<PathBuf>,
    /// The DoIP entity to test, HOST or HOST:PORT (TCP data port; UDP and TLS ports come from
    /// the profile). Without it, the built-in simulator is tested.
    #[arg(short, long, value_name = "HOST[:PORT]")]
    pub target: Option<String>,
    /// Target profile (default: the simulator's, suites/profile.yaml; with --target, the
    /// standard's defaults when no profile is given: see `doipcheck profile init`).
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// Cases run in parallel (each job gets its own simulator instance; against --target only
    /// with --target-parallel). Default: the number of CPU cores, at most 4.
    #[arg(short, long)]
    pub jobs: Option<u32>,
    /// The --target tolerates parallel connections from several cases.
    #[arg(long)]
    pub target_parallel: bool,
    /// Tag expression: `timing`, `nack and not slow`, `(a|b) & !c`.
    #[arg(long)]
    pub tags: Option<String>,
    /// Run only these case ids (repeatable; globs: `HDR-*`, `TMR-???-001`; an id without
    /// `[...]` selects all its matrix cases).
    #[arg(long = "case", value_name = "ID")]
    pub cases: Vec<String>,
    /// Run the K-th of N shards (1-based), e.g. `--shard 2/4`; a shard with no case writes
    /// empty reports and exits 0.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Run each case N times in a row: a case whose verdicts differ is reported as flaky
    /// with the worst of them and a note listing them (a target or a case that does not
    /// repeat its verdict).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Start no new case after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Where reports go.
    #[arg(short = 'o', long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// JUnit file (default: REPORT_DIR/junit.xml).
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// JSON file (default: REPORT_DIR/report.json).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// HTML report (default: REPORT_DIR/report.html).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Also write a Markdown summary here (it is appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Compare with an earlier run (its report.json or report folder): regressions, fixes,
    /// still failing, newly flaky, added and removed cases and timer drift, on the console,
    /// atop report.html and in the Markdown summary.
    #[arg(long, value_name = "OLD")]
    pub baseline: Option<PathBuf>,
    /// What makes the exit code 1: any failing case (default), or only a regression against
    /// --baseline (a case that did not fail there, or a new case that fails).
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
    /// Accepted deviations (YAML: case or rule, reason, accepted_by, until): a failure one
    /// accepts is reported as `waived` and does not fail the run; an expired waiver whose
    /// case still fails, or one whose cases now pass, does.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Also pack the reports, the captures, the suites and profile used and the doipcheck
    /// version with a SHA-256 manifest into this archive (tar); `doipcheck report --verify`
    /// checks it.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Which cases keep a pcapng capture.
    #[arg(long, value_enum, default_value_t = PcapArg::Failing)]
    pub pcap: PcapArg,
    /// Also append every TLS session's secrets to FILE in the NSS key-log format, for
    /// Wireshark to decrypt your own recordings (doipcheck's captures carry them already).
    #[arg(long, value_name = "FILE")]
    pub tls_keylog: Option<PathBuf>,
    /// Run against a simulator with this fault switched on (repeatable).
    #[arg(long = "sim-fault", alias = "fault", value_name = "NAME")]
    pub sim_faults: Vec<String>,
    /// CAN transport for `can_send` / `can_expect` steps, e.g. `cannelloni:20001@127.0.0.1:20000`
    /// or `memory:NAME` (see "CAN transports").
    #[arg(long, value_name = "SPEC")]
    pub can: Option<String>,
    /// Plain console lines, no progress bar.
    #[arg(long)]
    pub plain: bool,
    /// Bound of the whole run (`30m`): then the running cases end with `error`, the rest are
    /// not started, and the reports are written (exit 1).
    #[arg(long, value_parser = parse_run_timeout)]
    pub timeout: Option<Duration>,
    /// Bound of each TCP connect, and of the check before the first case that --target
    /// answers at all (default: the profile's A_DoIP_Ctrl).
    #[arg(long, value_parser = parse_run_timeout, value_name = "DURATION")]
    pub connect_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PcapArg {
    #[default]
    Failing,
    All,
    None,
}

/// Parses `K/N` with 1 <= K <= N.
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let (k, n) =
        text.split_once('/').ok_or_else(|| format!("--shard `{text}`: write K/N, e.g. 1/4"))?;
    let k: u32 = k.trim().parse().map_err(|_| format!("--shard `{text}`: K is not a number"))?;
    let n: u32 = n.trim().parse().map_err(|_| format!("--shard `{text}`: N is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard `{text}`: need 1 <= K <= N"));
    }
    Ok((k, n))
}

/// `HOST` or `HOST:PORT` (IPv6 as `[::1]:13400`) to an address and an optional port.
pub fn parse_target(text: &str) -> Result<(IpAddr, Option<u16>), String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok((ip, None));
    }
    if let Ok(sa) = text.parse::<std::net::SocketAddr>() {
        return Ok((sa.ip(), Some(sa.port())));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (
            h,
            Some(p.parse::<u16>().map_err(|_| format!("--target `{text}`: `{p}` is not a port"))?),
        ),
        _ => (text, None),
    };
    let ip = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("--target `{text}`: cannot resolve `{host}`: {e}"))?
        .next()
        .ok_or_else(|| format!("--target `{text}`: `{host}` has no address"))?
        .ip();
    Ok((ip, port))
}

/// Runs the command and returns the exit code.
pub fn run(args: RunArgs) -> u8 {
    match run_inner(args) {
        Ok(code) => code,
        Err((code, text)) => {
            eprint!("{text}");
            if !text.ends_with('\n') {
                eprintln!();
            }
            code
        }
    }
}

fn usage(text: impl Into<String>) -> (u8, String) {
    (exit::USAGE, format!("error: {}", text.into()))
}

fn run_inner(args: RunArgs) -> Result<u8, (u8, String)> {
    let shard = args.shard.as_deref().map(parse_shard).transpose().map_err(usage)?;
    let tags = args
        .tags
        .as_deref()
        .map(TagExpr::parse)
        .transpose()
        .map_err(|e| usage(format!("--tags: {e}")))?;
    let jobs = super::jobs(args.jobs).map_err(usage)?;
    if args.fail_on == FailOn::Regression && args.baseline.is_none() {
        return Err(usage("--fail-on regression needs --baseline OLD"));
    }
    let baseline = match &args.baseline {
        Some(path) => {
            Some(Arc::new(load_baseline(path).map_err(|e| usage(format!("--baseline: {e}")))?))
        }
        None => None,
    };
    let waivers = match &args.waivers {
        Some(path) => {
            Some(Arc::new(load_waivers(path, today()).map_err(|e| (exit::USAGE, e.render()))?))
        }
        None => None,
    };
    if args.target.is_some() && !args.sim_faults.is_empty() {
        return Err(usage("--sim-fault applies to the built-in simulator, not to --target"));
    }
    let key_log = args.tls_keylog.as_deref().map(KeyLogFile::open).transpose().map_err(usage)?;
    let key_log = key_log.map(Arc::new);
    let can = match &args.can {
        Some(text) => Some((
            text.clone(),
            text.parse::<crate::transport::can::CanSpec>()
                .map_err(|e| usage(format!("--can: {e}")))?,
        )),
        None => None,
    };
    let profile_path =
        super::validate::profile_choice(args.profile.as_deref(), args.target.is_some());
    let profile =
        load::load_profile(profile_path.as_deref()).map_err(|e| (exit::USAGE, e.render()))?;
    let paths = paths_or_default(&args.paths);
    if paths.first().is_some_and(|p| p.as_path() == crate::suite::builtin::root()) {
        eprintln!(
            "note: no ./suites here: running the suites built into doipcheck (`doipcheck suites export DIR` writes them out)"
        );
    }
    let loaded =
        load::load_suites(&paths, &known_faults()).map_err(|e| (exit::USAGE, e.render()))?;
    let filter = Filter { tags, cases: args.cases.clone(), shard };
    for warning in select::filter_warnings(&loaded, &filter) {
        eprintln!("warning: {warning}");
    }
    let plan = select::select_cases(&loaded, &profile, &filter);
    if plan.is_empty() {
        if let Some((k, n)) = shard
            && !select::select_cases(&loaded, &profile, &Filter { shard: None, ..filter })
                .is_empty()
        {
            // A CI matrix with more shards than cases: this job has nothing to do, which is
            // not a failure; it still leaves (empty) reports for the merge step.
            return Ok(empty_shard(&args, profile_path, (k, n)));
        }
        return Err(usage("no case matches the filters"));
    }
    let mut plan = plan;
    let can_only = args.target.is_none() && can.is_some() && args.sim_faults.is_empty();
    if can_only {
        // A CAN node alone (ISO 15765-2 target, no DoIP): the cases with a DoIP step are
        // skipped with the reason, the rest run on the bus of --can.
        for case in plan.iter_mut().filter(|c| c.skip.is_none() && c.needs_doip()) {
            case.skip = Some(
                "needs a DoIP entity: this run tests a CAN node (--can without --target)"
                    .to_owned(),
            );
        }
    }
    // Planned once: the plans that pass here are the ones the run executes.
    let plan = crate::runner::plan::plan_run(plan, &profile)
        .map_err(|d| (exit::USAGE, load::LoadErrors::from_diagnostics(d).render()))?;
    // The simulator's configuration for --bundle, when the run uses the built-in simulator.
    let mut bundle_simulator = None;
    let (label, targets) = match (&args.target, can.clone()) {
        (None, Some(can)) if args.sim_faults.is_empty() => {
            let label = format!("CAN node on {}", can.0);
            (label, TargetSource::Fixed(vec![TargetEndpoints::can_only(can)]))
        }
        (Some(text), _) => {
            let (ip, explicit_port) = parse_target(text).map_err(usage)?;
            let endpoints = TargetEndpoints {
                ip,
                tcp: explicit_port.unwrap_or(profile.target().ports.tcp),
                udp: profile.target().ports.udp,
                tls: profile.target().ports.tls,
                can: can.clone(),
                simulator: None,
            };
            let parallel = if args.target_parallel { jobs } else { 1 };
            if args.jobs.is_some_and(|asked| parallel < asked) {
                eprintln!(
                    "note: running serially against {text} (add --target-parallel if it tolerates parallel cases)"
                );
            }
            (
                format!("{ip}:{}", endpoints.tcp),
                TargetSource::Fixed(vec![endpoints; parallel as usize]),
            )
        }
        (None, _) => {
            let faults = known_faults();
            if let Some(bad) = args.sim_faults.iter().find(|f| !faults.contains(&f.as_str())) {
                let help = crate::suite::diag::did_you_mean(bad, faults.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(usage(format!(
                    "--sim-fault: unknown fault `{bad}`{help}; `doipcheck sim --list-faults` lists them"
                )));
            }
            if can.is_some() {
                return Err(usage(
                    "--sim-fault: the built-in simulator brings its own CAN bus; --can alone tests the CAN node on that bus",
                ));
            }
            let config = simulator_config(&profile, profile_path.as_deref())
                .map_err(|rendered| (exit::USAGE, rendered))?;
            for warning in
                crate::suite::profile::fit::simulator_mismatches(profile.target(), &config)
            {
                eprintln!("warning: {warning}");
            }
            if args.bundle.is_some() {
                let text =
                    simulator_config_text(&profile, profile_path.as_deref(), &args.sim_faults)
                        .map_err(usage)?;
                bundle_simulator = Some(text);
            }
            let source = TargetSource::Simulator {
                jobs,
                faults: args.sim_faults.clone(),
                config: Box::new(config),
            };
            (simulator_label(&args.sim_faults), source)
        }
    };
    // --connect-timeout, else the profile's A_DoIP_Ctrl (2 s by default).
    let connect_timeout = match args.connect_timeout {
        Some(d) => d,
        None => profile.target().timers.a_doip_ctrl,
    };
    let env = CaseEnv {
        profile: Arc::new(profile),
        tls: client_config(key_log.clone().map(|k| k as Arc<dyn rustls::KeyLog>)).ok(),
        connect_timeout,
    };
    let mut options = report_options(&args);
    options.baseline = baseline;
    options.waivers = waivers;
    let mut suite_files: Vec<PathBuf> =
        plan.cases.iter().map(|c| c.info.suite_file.clone()).collect();
    suite_files.sort();
    suite_files.dedup();
    let json = options.json_path();
    let (bundle_profile, other_reports) =
        (profile_path.clone(), [options.html_path(), options.junit_path()]);
    let mut code = execute(&args, options, env, targets, label, profile_path, plan, shard);
    if let Some(e) = key_log.and_then(|k| k.error()) {
        eprintln!("error: {e}");
        code = code.max(exit::FAILURE);
    }
    let Some(out) = &args.bundle else { return Ok(code) };
    let evidence = Evidence {
        json: &json,
        reports: &other_reports,
        suites: &suite_files,
        profile: bundle_profile.as_deref(),
        simulator: bundle_simulator.as_deref(),
    };
    let digest = bundle(out, &evidence)
        .map_err(|e| (exit::FAILURE, format!("error: --bundle {}: {e}", out.display())))?;
    // The run's page shows the digest; the bundle's copy cannot (the digest covers it).
    crate::report::show_bundle_digest(&other_reports[0], &digest).map_err(|e| {
        (exit::FAILURE, format!("error: {}: the bundle's digest: {e}", other_reports[0].display()))
    })?;
    Ok(code)
}

/// What a run's evidence bundle packs besides the captures report.json names.
struct Evidence<'a> {
    json: &'a std::path::Path,
    /// report.html, junit.xml.
    reports: &'a [PathBuf],
    suites: &'a [PathBuf],
    profile: Option<&'a std::path::Path>,
    /// The built-in simulator's configuration, when the run used it.
    simulator: Option<&'a str>,
}

/// Packs the run's evidence into `out` (see [`crate::report::write_bundle`]): report.json and
/// the other reports, the captures report.json names, the suite files and the profile as they
/// were read, the simulator's configuration, and the version and command line of doipcheck;
/// returns the manifest's SHA-256.
fn bundle(out: &std::path::Path, evidence: &Evidence<'_>) -> Result<String, String> {
    let Evidence { json, reports, suites, profile, simulator } = *evidence;
    let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let report = read(json)?;
    let mut members = vec![("report.json".to_owned(), report.clone())];
    for path in reports {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        members.push((name, read(path)?));
    }
    let loaded =
        crate::report::parse_report(&report).map_err(|e| format!("{}:{e}", json.display()))?;
    for capture in loaded.cases.iter().filter_map(|(_, f)| f.as_ref()?.capture.as_ref()) {
        let name =
            capture.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // A member's name is at most 100 bytes in ustar; the number in front keeps it unique.
        let name = match name.strip_suffix(".pcapng") {
            Some(stem) if name.len() > 100 => {
                format!("{}.pcapng", stem.chars().take(90).collect::<String>())
            }
            _ => name,
        };
        members.push((format!("captures/{name}"), read(capture)?));
    }
    for (i, suite) in suites.iter().enumerate() {
        let text = load::read_text(suite).map_err(|e| format!("{}: {e}", suite.display()))?;
        let name = suite.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        members.push((format!("suites/{:03}-{name}", i + 1), text.into_bytes()));
    }
    if let Some(p) = profile {
        let text = load::read_text(p).map_err(|e| format!("{}: {e}", p.display()))?;
        members.push(("profile.yaml".to_owned(), text.into_bytes()));
    }
    if let Some(text) = simulator {
        members.push(("simulator.yaml".to_owned(), text.as_bytes().to_vec()));
    }
    let about = format!(
        "doipcheck {}\ncommand line: {}\n",
        env!("CARGO_PKG_VERSION"),
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    members.push(("VERSION".to_owned(), about.into_bytes()));
    let digest = crate::report::write_bundle(out, &members).map_err(|e| e.to_string())?;
    eprintln!(
        "{:>12} {} ({} files, manifest SHA-256 {digest})",
        "Bundle",
        out.display(),
        members.len() + 1
    );
    Ok(digest)
}

/// Runs the plan on a fresh runtime with the reporters, and maps the result to an exit code.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    args: &RunArgs,
    mut options: ReportOptions,
    env: CaseEnv,
    targets: TargetSource,
    label: String,
    profile_path: Option<PathBuf>,
    plan: crate::runner::plan::RunPlan,
    shard: Option<(u32, u32)>,
) -> u8 {
    options.capture = match args.pcap {
        PcapArg::Failing => CapturePolicy::Failing,
        PcapArg::All => CapturePolicy::All,
        PcapArg::None => CapturePolicy::None,
    };
    let report_options = options.clone();
    let mut reporters =
        Reporters::new(options, if args.plain { ConsoleMode::Plain } else { ConsoleMode::Auto });
    let run_options = RunOptions {
        target_label: label,
        profile_path,
        fail_fast: args.fail_fast,
        shard,
        repeat: args.repeat,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let (endpoints, sims) = match targets {
            TargetSource::Fixed(endpoints) => {
                if let Some(first) = endpoints.first().filter(|e| e.has_doip())
                    && let Err(why) =
                        crate::runner::target::preflight(first, env.connect_timeout).await
                {
                    // One line, and reports that say why no case ran.
                    let events = crate::runner::run::not_run(&plan.cases, &run_options, &why);
                    let written = crate::report::write_all(&report_options, &events);
                    return Err((
                        exit::UNREACHABLE,
                        match written {
                            Ok(_) => why,
                            Err(e) => format!("{why} (and the reports could not be written: {e})"),
                        },
                    ));
                }
                if let Some(first) = endpoints.first().filter(|e| e.has_doip()) {
                    let mut warnings =
                        crate::suite::profile::fit::target_profile_warnings(env.profile.target());
                    warnings.extend(
                        crate::client::probe::fit_warnings(
                            std::net::SocketAddr::new(first.ip, first.tcp),
                            env.profile.target(),
                            env.connect_timeout,
                        )
                        .await,
                    );
                    for warning in warnings {
                        eprintln!("warning: {warning}");
                    }
                }
                (endpoints, None)
            }
            TargetSource::Simulator { jobs, faults, config } => {
                let (sims, endpoints) = Simulators::start(jobs, &faults, &config)
                    .await
                    .map_err(|e| (exit::FAILURE, e))?;
                (endpoints, Some(sims))
            }
        };
        let ran =
            run_with_signals(plan, env, endpoints, run_options, &mut reporters, args.timeout).await;
        if let Some(sims) = sims {
            sims.shutdown().await;
        }
        Ok::<_, (u8, String)>(ran)
    });
    match result {
        Ok((result, stop)) => {
            let code = finish(&mut reporters, &result, args.fail_on);
            match stop {
                Some(stop @ Stop::Signal { name, .. }) => {
                    eprintln!("doipcheck: stopped by {name}; the reports hold every finished case");
                    stop.exit_code()
                }
                Some(Stop::Timeout) => {
                    eprintln!(
                        "doipcheck: the run exceeded --timeout; the reports hold every finished case"
                    );
                    code.max(Stop::Timeout.exit_code())
                }
                None => code,
            }
        }
        Err((code, e)) => {
            eprintln!("error: {e}");
            code
        }
    }
}

/// Where the reports go, from the arguments and `$GITHUB_STEP_SUMMARY`.
fn report_options(args: &RunArgs) -> ReportOptions {
    let mut options = ReportOptions::new(&args.report_dir);
    options.junit = args.junit.clone();
    options.json = args.json.clone();
    options.html = args.html.clone();
    options.markdown = args.markdown.clone();
    options.step_summary = super::report::step_summary_file();
    options.command_line = std::env::args().collect();
    options.bundle = args.bundle.clone();
    options
}

/// Today (UTC), for judging waivers: the one place `run` reads the calendar.
fn today() -> chrono::NaiveDate {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().date_naive()
}

/// A shard with no case: empty, valid reports (JUnit with no testcase, JSON with zero
/// counts) and exit 0.
fn empty_shard(args: &RunArgs, profile_path: Option<PathBuf>, (k, n): (u32, u32)) -> u8 {
    let options = report_options(args);
    let run_options = RunOptions {
        target_label: args.target.clone().unwrap_or_else(|| simulator_label(&args.sim_faults)),
        profile_path,
        fail_fast: args.fail_fast,
        shard: Some((k, n)),
        repeat: 1,
    };
    let events = crate::runner::run::nothing_selected(&run_options);
    match crate::report::write_all(&options, &events) {
        Ok(written) => {
            eprintln!(
                "shard {k}/{n} has no case (fewer cases than shards); wrote empty reports: {}",
                written.junit.display()
            );
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write the reports: {e}");
            exit::FAILURE
        }
    }
}

/// What ended a run before its last case: a signal (CI cancels and times out jobs with
/// SIGTERM; a closed terminal sends SIGHUP) or the whole-run `--timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Signal { name: &'static str, code: u8 },
    Timeout,
}

impl Stop {
    const SIGINT: Stop = Stop::Signal { name: "SIGINT", code: exit::SIGINT };
    const SIGTERM: Stop = Stop::Signal { name: "SIGTERM", code: exit::SIGTERM };
    const SIGHUP: Stop = Stop::Signal { name: "SIGHUP", code: exit::SIGHUP };

    /// The shell's convention for a process ended by a signal (128 + its number); 1 for the
    /// whole-run timeout.
    pub fn exit_code(self) -> u8 {
        match self {
            Stop::Signal { code, .. } => code,
            Stop::Timeout => exit::FAILURE,
        }
    }
}

/// The first of Ctrl-C, SIGTERM, SIGHUP or the end of `limit`.
async fn stop_requested(limit: Option<Duration>) -> Stop {
    let timeout = async {
        match limit {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut term, mut hup) =
            match (signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
                (Ok(t), Ok(h)) => (t, h),
                // Without the handlers, Ctrl-C and the timeout still stop the run.
                _ => {
                    return tokio::select! {
                        _ = tokio::signal::ctrl_c() => Stop::SIGINT,
                        _ = timeout => Stop::Timeout,
                    };
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => Stop::SIGINT,
            _ = term.recv() => Stop::SIGTERM,
            _ = hup.recv() => Stop::SIGHUP,
            _ = timeout => Stop::Timeout,
        }
    }
    #[cfg(not(unix))]
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Stop::SIGINT,
        _ = timeout => Stop::Timeout,
    }
}

/// Runs with Ctrl-C, SIGTERM, SIGHUP and the whole-run `limit` wired to the cancel signal:
/// the running cases end with `error`, the rest are not started, and the reports are whole.
pub async fn run_with_signals(
    plan: crate::runner::plan::RunPlan,
    env: CaseEnv,
    targets: Vec<TargetEndpoints>,
    options: RunOptions,
    sink: &mut dyn EventSink,
    limit: Option<Duration>,
) -> (crate::runner::RunResult, Option<Stop>) {
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(None);
    let stopper = tokio::spawn(async move {
        let stop = stop_requested(limit).await;
        let _ = cancel_tx.send(Some(match stop {
            Stop::Signal { name: "SIGINT", .. } => "Ctrl-C",
            Stop::Signal { name, .. } => name,
            Stop::Timeout => "--timeout",
        }));
        stop
    });
    let result = crate::runner::run(plan, env, targets, options, sink, cancel_rx).await;
    let stop = if stopper.is_finished() { stopper.await.ok() } else { None };
    (result, stop)
}

fn parse_run_timeout(text: &str) -> Result<Duration, String> {
    crate::notation::parse_duration(text)
}

/// Writes the reports (again, if the run was cut short) and picks the exit code: waived
/// failures do not count; with `FailOn::Regression` only the diff's new failures do.
pub fn finish(reporters: &mut Reporters, result: &crate::runner::RunResult, fail_on: FailOn) -> u8 {
    let written = match reporters.finish() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    if let Some(e) = &result.sink_error {
        eprintln!("error: {e}");
        return exit::FAILURE;
    }
    if result.unreachable {
        return exit::UNREACHABLE;
    }
    let failed = match (fail_on, &written.diff) {
        (FailOn::Regression, Some(diff)) => diff.new_failures() > 0,
        _ => written.counts.any_failure(),
    };
    if failed || !written.waiver_problems.is_empty() || result.interrupted {
        exit::FAILURE
    } else {
        exit::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_and_targets_parse() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(
            parse_shard("5/4").is_err() && parse_shard("0/1").is_err() && parse_shard("x").is_err()
        );
        assert_eq!(parse_target("127.0.0.1"), Ok(("127.0.0.1".parse().unwrap(), None)));
        assert_eq!(
            parse_target("127.0.0.1:13401"),
            Ok(("127.0.0.1".parse().unwrap(), Some(13401)))
        );
        assert_eq!(parse_target("[::1]:13400"), Ok(("::1".parse().unwrap(), Some(13400))));
        assert!(parse_target("localhost:x").is_err());
    }
}
