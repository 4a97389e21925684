//! `doipcheck inspect` throughput and memory on a large synthetic capture: 1 M DoIP messages in
//! TCP (target: at least 2 M DoIP messages/s on one core; memory flat as the file grows).
//!
//! The capture is a pcap file of Ethernet/IPv4/TCP as tcpdump writes them: connections of 1000
//! exchanges, each a routing activation and then, per exchange, a tester segment with a
//! diagnostic message (ReadDataByIdentifier 0xF190) and an entity segment with the diagnostic
//! ACK and the 20-byte answer (3 messages in 2 packets).
//!
//! Prints, best of several runs on one thread: (a) the engine (the CAN survey pass, the reader
//! and every rule of the judge, no output), (b) the same with the `--json` transcript written
//! to a sink, (c) `--findings-only`; then the peak RSS of a child process inspecting 1x and 10x files from disk.
//!
//! Run: `cargo bench --bench inspect_throughput`.

use std::io::{self, BufWriter};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use doipcheck::cli::inspect::output::Format;
use doipcheck::cli::inspect::{Settings, inspect_file};
use doipcheck::judge::{ConnectionSummary, Finding, Judge, Report};
use doipcheck::pcap::read::stream::read_records;
use doipcheck::pcap::read::{CaptureEvent, ReadConfig, Reader, Survey};

#[path = "support/synthetic_capture.rs"]
mod synthetic_capture;
use synthetic_capture::{Shape, write_capture};

const MESSAGES: u64 = 1_000_000;
/// Connections of 1000 exchanges, each a request, its ACK and its answer.
const MANY: Shape = Shape { exchanges_per_connection: 1000, with_answer: true };
/// The capture: 200 000 diagnostic request/ACK pairs on one TCP connection.
const ONE_CONNECTION: Shape = Shape { exchanges_per_connection: 200_000, with_answer: false };
const ONE_CONNECTION_MESSAGES: u64 = 400_000;
/// The goals on [`ONE_CONNECTION`], on one core (DoIP messages/s).
const JSON_GOAL: f64 = 1e6;
const FINDINGS_ONLY_GOAL: f64 = 2e6;
const RUNS: usize = 5;

/// Counts and discards; the checks still run in the inspector.
struct Null(u64);

impl Report for Null {
    fn event(&mut self, event: &CaptureEvent<'_>) {
        if let CaptureEvent::Doip { bytes, .. } = event {
            self.0 += bytes.len() as u64;
        }
    }
    fn finding(&mut self, _: &Finding) {}
    fn connection(&mut self, _: &ConnectionSummary) {}
}

/// The engine over `bytes`: survey, reader, checks. Returns (DoIP messages, findings).
fn engine(bytes: &[u8]) -> (u64, u64) {
    let mut survey = Survey::new(None);
    read_records(bytes, |r| {
        if r.linktype == 227 {
            survey.record(r.data, r.time);
        }
        ControlFlow::Continue(())
    });
    let surveyed = survey.finish();
    let config = ReadConfig { isotp_pairs: surveyed.pairs, ..ReadConfig::default() };
    let mut inspector = Judge::new(Null(0), &config.isotp_pairs);
    let mut reader = Reader::new(config);
    read_records(bytes, |r| {
        reader.record(r, &mut inspector);
        ControlFlow::Continue(())
    });
    reader.finish(&mut inspector);
    (reader.stats().doip_messages, inspector.findings())
}

#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// Best wall and CPU time of `f` over [`RUNS`].
fn best(mut f: impl FnMut()) -> (Duration, Option<Duration>) {
    let mut wall = Duration::MAX;
    let mut cpu: Option<Duration> = None;
    for _ in 0..RUNS {
        let c0 = thread_cpu_time();
        let t0 = Instant::now();
        f();
        wall = wall.min(t0.elapsed());
        if let (Some(a), Some(b)) = (c0, thread_cpu_time()) {
            let d = b.saturating_sub(a);
            cpu = Some(cpu.map_or(d, |c| c.min(d)));
        }
    }
    (wall, cpu)
}

/// Prints the rate; returns it by the thread's CPU time where the system has it (one core,
/// whatever else the machine runs), else by the wall clock (DoIP messages/s).
fn rate(what: &str, messages: u64, bytes: usize, (wall, cpu): (Duration, Option<Duration>)) -> f64 {
    let per_s = |d: Duration| messages as f64 / d.as_secs_f64();
    print!(
        "{what:<34} wall {:>8.1} ms  {:>6.2} M DoIP msg/s  {:>7.1} MB/s",
        wall.as_secs_f64() * 1e3,
        per_s(wall) / 1e6,
        bytes as f64 / wall.as_secs_f64() / 1e6
    );
    if let Some(cpu) = cpu {
        print!("   cpu {:>8.1} ms  {:>6.2} M msg/s", cpu.as_secs_f64() * 1e3, per_s(cpu) / 1e6);
    }
    println!();
    per_s(cpu.unwrap_or(wall))
}

/// `inspect --json` and `--findings-only` from a file into a sink, against their goals.
fn one_connection(dir: &Path) {
    let path = dir.join("one-connection.pcap");
    let file = BufWriter::new(std::fs::File::create(&path).unwrap());
    let (messages, packets) = write_capture(file, ONE_CONNECTION_MESSAGES, ONE_CONNECTION);
    let bytes = std::fs::metadata(&path).unwrap().len() as usize;
    println!(
        "one connection: {messages} DoIP messages (200 000 request/ACK pairs), {packets} packets, {:.1} MB pcap",
        bytes as f64 / 1e6
    );
    let goal = |name: &str, got: f64, goal: f64| {
        let verdict = if got >= goal { "met" } else { "NOT met" };
        println!(
            "  goal {name} (one core, by CPU time): {:.2} M/s >= {:.1} M/s: {verdict}",
            got / 1e6,
            goal / 1e6
        );
    };
    let json = rate(
        "  inspect --json to a sink (file)",
        messages,
        bytes,
        best(|| {
            let t = inspect_file(&path, &Settings::default(), Format::Json, &mut io::sink());
            assert_eq!(t.unwrap().stats.doip_messages, messages);
        }),
    );
    goal("--json", json, JSON_GOAL);
    let findings_only = rate(
        "  inspect --findings-only (file)",
        messages,
        bytes,
        best(|| {
            let settings = Settings { findings_only: true, ..Settings::default() };
            let t = inspect_file(&path, &settings, Format::Console, &mut io::sink());
            assert_eq!(t.unwrap().stats.doip_messages, messages);
        }),
    );
    goal("--findings-only", findings_only, FINDINGS_ONLY_GOAL);
}

/// Child mode: inspect `path` with the --json transcript into a sink, print peak RSS.
fn rss_child(path: &Path) {
    let totals = inspect_file(path, &Settings::default(), Format::Json, &mut io::sink()).unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("VmHWM: ?");
    println!(
        "{} {} {}",
        totals.stats.doip_messages,
        totals.findings,
        hwm.split_whitespace().nth(1).unwrap_or("?")
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--rss-child") {
        rss_child(Path::new(&args[at + 1]));
        return;
    }
    let mut bytes = Vec::new();
    let (messages, _) = write_capture(&mut bytes, MESSAGES, MANY);
    println!(
        "synthetic capture: {messages} DoIP messages, {:.1} MB pcap",
        bytes.len() as f64 / 1e6
    );
    let (found, findings) = engine(&bytes);
    assert_eq!((found, findings), (messages, 0), "the engine reads every message, no finding");
    rate(
        "engine (survey + reader + checks)",
        messages,
        bytes.len(),
        best(|| {
            std::hint::black_box(engine(&bytes));
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1x.pcap");
    std::fs::write(&path, &bytes).unwrap();
    rate(
        "inspect --json to a sink (file)",
        messages,
        bytes.len(),
        best(|| {
            let mut sink = io::sink();
            let t = inspect_file(&path, &Settings::default(), Format::Json, &mut sink).unwrap();
            assert_eq!(t.stats.doip_messages, messages);
        }),
    );
    rate(
        "inspect --findings-only to a sink (file)",
        messages,
        bytes.len(),
        best(|| {
            let mut sink = io::sink();
            let settings = Settings { findings_only: true, ..Settings::default() };
            let t = inspect_file(&path, &settings, Format::Console, &mut sink).unwrap();
            assert_eq!(t.stats.doip_messages, messages);
        }),
    );
    drop(bytes);
    one_connection(dir.path());
    // Peak memory of a process inspecting the 1x file and a 10x file.
    let ten = dir.path().join("10x.pcap");
    let ten_messages =
        write_capture(BufWriter::new(std::fs::File::create(&ten).unwrap()), 10 * MESSAGES, MANY).0;
    let exe = std::env::current_exe().unwrap();
    for (label, file) in [("1x", &path), ("10x", &ten)] {
        let size = std::fs::metadata(file).unwrap().len();
        let out = Command::new(&exe).arg("--rss-child").arg(file).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut parts = text.split_whitespace();
        let (msgs, _findings, kb) =
            (parts.next().unwrap_or("?"), parts.next(), parts.next().unwrap_or("?"));
        println!(
            "peak RSS {label:>3}: {kb} kB inspecting {:.0} MB ({msgs} DoIP messages{})",
            size as f64 / 1e6,
            if label == "10x" { format!(", {ten_messages} written") } else { String::new() }
        );
    }
}
