//! Runner overhead and timing accuracy against the in-process simulator.
//!
//! `cargo bench --bench runner_overhead` prints:
//! 1. microseconds per step (median and mean) over 10 000 alive-check send/expect pairs on one
//!    connection (20 000 steps), events going to a sink that only reads step times: what the
//!    harness adds per step, loopback round trip and simulator included;
//! 2. the latency `measure` reports for a UDS request the simulator answers after 150 ms,
//!    over 20 cases: how far the measured value is from 150 ms (the simulator's own error is
//!    its timer's, see `transport::timer`, plus one loopback round trip);
//! 3. the same against an OS-thread peer that answers exactly 150 ms after reading: the
//!    harness's own measurement error.

use doipcheck::runner::event::{Event, EventSink, MetricEvent, StepStatus};
use doipcheck::runner::{CaseEnv, RunOptions, TargetEndpoints, run};
use doipcheck::sim::config::{ServiceTiming, SimConfig};
use doipcheck::sim::faults::FaultSet;
use doipcheck::suite::load;
use doipcheck::suite::model::Suite;
use doipcheck::suite::select::{self, Filter};
use doipcheck::transport::doip::sim_host::SimHost;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PAIRS: usize = 10_000;

/// Keeps the elapsed time of every passed step of the `steps` phase and every metric.
#[derive(Default)]
struct Timings {
    steps_us: Vec<u64>,
    metrics_us: Vec<u64>,
    verdicts: Vec<String>,
}

impl EventSink for Timings {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::Step(s) => {
                if let (StepStatus::Passed { elapsed }, doipcheck::runner::event::Phase::Steps) =
                    (&s.status, s.step.phase)
                {
                    self.steps_us.push(elapsed.as_micros() as u64);
                }
            }
            Event::Metric(MetricEvent { value, .. }) => {
                self.metrics_us.push(value.as_micros() as u64)
            }
            Event::CaseFinished(f) => self.verdicts.push(f.verdict.to_string()),
            _ => {}
        }
        Ok(())
    }
}

fn suite_file(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write suite");
    p
}

fn options() -> RunOptions {
    RunOptions {
        target_label: "built-in simulator".into(),
        profile_path: None,
        fail_fast: false,
        shard: None,
        repeat: 1,
    }
}

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

async fn start(config: SimConfig) -> (SimHost, TargetEndpoints) {
    let host = SimHost::start(config, FaultSet::NONE).await.expect("simulator starts");
    let tcp = host.tcp_addr();
    let endpoints = TargetEndpoints {
        ip: tcp.ip(),
        tcp: tcp.port(),
        udp: host.udp_addr().port(),
        tls: 0,
        can: None,
        simulator: None,
    };
    (host, endpoints)
}

/// Runs `plan` against `endpoints` with one job, events into a [`Timings`].
async fn run_plan(
    profile: &doipcheck::suite::profile::Profile,
    plan: Vec<doipcheck::suite::select::SelectedCase>,
    endpoints: TargetEndpoints,
) -> (Timings, doipcheck::runner::RunResult) {
    let env = CaseEnv {
        profile: Arc::new(profile.clone()),
        tls: None,
        connect_timeout: Duration::from_secs(2),
    };
    let mut sink = Timings::default();
    let (_c, cancel) = tokio::sync::watch::channel(None);
    let result = run(plan, env, vec![endpoints], options(), &mut sink, cancel).await;
    (sink, result)
}

async fn overhead(dir: &std::path::Path, profile: &doipcheck::suite::profile::Profile) {
    let file = suite_file(
        dir,
        "alive.yaml",
        "suite: bench-alive\ntitle: alive checks\ncases:\n  - id: BENCH-ALIVE\n    title: alive check pairs\n    timeout: 10m\n    setup:\n      - connect: {}\n    steps:\n      - send: { alive_check_request: {} }\n      - expect: { alive_check_response: {}, within: 1s }\n",
    );
    let loaded = load::load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    // 10 000 pairs: the two steps repeated in the model (a YAML file that long would exceed
    // the loader's size limit, rightly).
    let mut suite: Suite = (*loaded.suites[0]).clone();
    let pair = suite.cases[0].steps.clone();
    suite.cases[0].steps = pair.iter().cycle().take(2 * PAIRS).cloned().collect();
    let loaded = load::Loaded { suites: vec![Arc::new(suite)] };
    let plan = select::select_cases(&loaded, profile, &Filter::default());
    let (host, endpoints) = start(SimConfig::ephemeral()).await;
    let started = Instant::now();
    let (mut sink, result) = run_plan(profile, plan, endpoints).await;
    let wall = started.elapsed();
    host.shutdown().await;
    assert_eq!(sink.verdicts, ["pass"], "{result:?}");
    let n = sink.steps_us.len();
    let mean = sink.steps_us.iter().sum::<u64>() as f64 / n as f64;
    let med = median(&mut sink.steps_us);
    let p99 = sink.steps_us[n * 99 / 100];
    println!(
        "runner overhead: {PAIRS} alive-check send/expect pairs = {n} steps against the in-process simulator"
    );
    println!(
        "  per step: median {med} us, mean {mean:.1} us, p99 {p99} us (target: median < 50 us)"
    );
    println!(
        "  per send+expect round trip: {:.1} us; whole run {:.3} s",
        wall.as_secs_f64() * 1e6 / PAIRS as f64,
        wall.as_secs_f64()
    );
}

/// Cases measured for timing accuracy.
const ACCURACY_CASES: usize = 20;

/// The plan of a suite `name` of [`ACCURACY_CASES`] cases, each running `steps` (YAML list
/// items indented for a case) after the suite's `setup` steps.
fn repeated_cases(
    dir: &std::path::Path,
    profile: &doipcheck::suite::profile::Profile,
    name: &str,
    setup: &str,
    steps: &str,
) -> Vec<doipcheck::suite::select::SelectedCase> {
    let mut cases = String::new();
    for i in 0..ACCURACY_CASES {
        cases.push_str(&format!("  - id: {name}-{i:02}\n    title: {name}\n    steps:\n{steps}"));
    }
    let text = format!("suite: {name}\ntitle: timing accuracy\nsetup:\n{setup}cases:\n{cases}");
    let file = suite_file(dir, &format!("{name}.yaml"), &text);
    let loaded = load::load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    select::select_cases(&loaded, profile, &Filter::default())
}

async fn accuracy(dir: &std::path::Path, profile: &doipcheck::suite::profile::Profile) {
    let plan = repeated_cases(
        dir,
        profile,
        "BENCH-DELAY",
        "  - connect: {}\n  - activate: {}\n",
        "      - send: { diagnostic_message: { user_data: \"22 F1 90\" } }\n      - expect: { diagnostic_message_ack: {} }\n      - expect: { diagnostic_message: { user_data: \"62 F1 90 ..\" }, within: 1s }\n      - measure: { name: read_did_latency }\n",
    );
    let mut config = SimConfig::ephemeral();
    config.uds.services.insert(
        0x22,
        ServiceTiming {
            delay: doipcheck::sim::config::ConfigDuration::from_millis(150),
            ..ServiceTiming::default()
        },
    );
    let (host, endpoints) = start(config).await;
    let errors = latency_errors(profile, plan, endpoints).await;
    host.shutdown().await;
    println!(
        "timing accuracy: simulator answers 0x22 after 150 ms, {} cases, measured minus 150 ms:",
        errors.len()
    );
    println!(
        "  min {} us, median {} us, max {} us; worst |error| {} us (target: within 1000 us)",
        errors[0],
        errors[errors.len() / 2],
        errors[errors.len() - 1],
        errors.iter().map(|e| e.abs()).max().unwrap_or(0)
    );
}

/// Runs `plan` (every case passes) and returns each measured latency minus 150 ms, in
/// microseconds, sorted.
async fn latency_errors(
    profile: &doipcheck::suite::profile::Profile,
    plan: Vec<doipcheck::suite::select::SelectedCase>,
    endpoints: TargetEndpoints,
) -> Vec<i64> {
    let (sink, _) = run_plan(profile, plan, endpoints).await;
    assert!(sink.verdicts.iter().all(|v| v == "pass"), "{:?}", sink.verdicts);
    let mut errors: Vec<i64> = sink.metrics_us.iter().map(|&us| us as i64 - 150_000).collect();
    errors.sort_unstable();
    errors
}

/// A peer on its own OS thread that answers each request exactly 150 ms after reading it (a
/// sleep, then a spin for the last millisecond), to separate the harness's measurement error
/// from the simulator's timer error.
fn precise_peer() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let _ = s.set_nodelay(true);
            let mut buf = [0u8; 64];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let target = Instant::now() + Duration::from_millis(150);
                std::thread::sleep(Duration::from_millis(149));
                while Instant::now() < target {
                    std::hint::spin_loop();
                }
                let response =
                    [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x00, 0x10, 0x0E, 0x80, 0x62, 0xF1, 0x90];
                if s.write_all(&response).is_err() {
                    break;
                }
            }
        }
    });
    port
}

async fn accuracy_precise(dir: &std::path::Path, profile: &doipcheck::suite::profile::Profile) {
    let plan = repeated_cases(
        dir,
        profile,
        "BENCH-PRECISE",
        "  - connect: {}\n",
        "      - send: { diagnostic_message: { user_data: \"22 F1 90\" } }\n      - expect: { diagnostic_message: { user_data: \"62 F1 90\" }, within: 1s }\n      - measure: { name: latency }\n",
    );
    let port = precise_peer();
    let endpoints = TargetEndpoints {
        ip: std::net::Ipv4Addr::LOCALHOST.into(),
        tcp: port,
        udp: port,
        tls: port,
        can: None,
        simulator: None,
    };
    let errors = latency_errors(profile, plan, endpoints).await;
    println!(
        "timing accuracy: an OS-thread peer answering exactly 150 ms after it reads, {} cases, measured minus 150 ms:",
        errors.len()
    );
    println!(
        "  min {} us, median {} us, max {} us (loopback both ways included; target: within 1000 us)",
        errors[0],
        errors[errors.len() / 2],
        errors[errors.len() - 1]
    );
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let profile = load::load_profile(Some(&root.join("suites/profile.yaml")))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        overhead(dir.path(), &profile).await;
        accuracy(dir.path(), &profile).await;
        accuracy_precise(dir.path(), &profile).await;
    });
}
