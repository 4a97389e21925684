//! Figures for the HTML report at scale: writes the reports of a synthetic run of 10 000 cases
//! (most pass with a handful of frames, some fail, one floods: 2000 frames recorded and a note
//! of what was not), prints the time to write them and the size of each report against the
//! bound of the report folder, then loads the page in headless chromium (when installed) and
//! prints the load time.
//!
//! `cargo run --release --example report_10k [-- CASES [DIR]]` (DIR defaults to a temp folder).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use doipcheck::report::{MAX_REPORT_DIR_BYTES, ReportOptions, size, write_all};
use doipcheck::runner::event::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: u32 = args.next().map(|a| a.parse().expect("CASES is a number")).unwrap_or(10_000);
    let temp = tempfile::tempdir().expect("a temp folder");
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| temp.path().to_owned());
    let events = synthetic_run(cases);
    let frames = events.iter().filter(|e| matches!(e, Event::Frame(_))).count();

    let mut options = ReportOptions::new(&dir);
    options.capture = doipcheck::report::CapturePolicy::None;
    let started = Instant::now();
    let written = write_all(&options, &events).expect("reports written");
    let took = started.elapsed();
    let file = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or_default();
    let (json, junit) = (file(&written.json), file(&written.junit));
    let total = written.html_bytes + json + junit;
    println!(
        "{cases} cases, {frames} frames: reports written in {took:.2?}; report folder {} ({total} bytes, bound {}): report.html {}, report.json {}, junit.xml {}",
        size(total),
        size(MAX_REPORT_DIR_BYTES),
        size(written.html_bytes),
        size(json),
        size(junit),
    );
    let html = std::fs::read_to_string(&written.html).unwrap_or_default();
    if let Some(at) = html.find("id=\"unlisted\">") {
        let text = &html[at + 14..];
        println!("report.html says: {}", &text[..text.find('<').unwrap_or(text.len())]);
    }
    let profile = tempfile::tempdir().expect("a temp folder");
    let started = Instant::now();
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}#verdict=fail", written.html.display()))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let dom = String::from_utf8_lossy(&out.stdout);
            let shown = dom.matches("<details class=\"case\"").count();
            println!(
                "headless chromium: loaded, filtered by the hash and dumped the DOM ({shown} case sections) in {:.2?}",
                started.elapsed()
            );
        }
        Ok(out) => println!("chromium failed: {}", out.status),
        Err(e) => println!("chromium not run ({e}): apt-get install chromium for the load time"),
    }
}

/// A run of `cases` cases: 1 in 50 fails (a wrong NACK code), the rest pass with 3 request and
/// response pairs, and case 7 floods (2000 frames recorded, a note of the rest).
fn synthetic_run(cases: u32) -> Vec<Event> {
    let tester = Address::Socket(SocketAddr::from(([127, 0, 0, 1], 50_000)));
    let entity = Address::Socket(SocketAddr::from(([127, 0, 0, 1], 13_400)));
    let mut events = vec![Event::RunStarted(RunStarted {
        wall_clock_unix_us: 1_763_780_000_000_000,
        target: "built-in simulator".into(),
        profile: None,
        case_count: cases,
        jobs: 1,
        shard: None,
        declared_wait: Duration::from_secs(60),
    })];
    let mut t = 0u64;
    let mut at = |advance: u64| {
        t += advance;
        RunTime(Duration::from_micros(t))
    };
    let mut counts = Counts::default();
    for n in 0..cases {
        let case = CaseKey(n);
        let start = at(10);
        let suite = format!("suite-{}", n % 20);
        let info = CaseInfo {
            suite_file: PathBuf::from(format!("suites/{suite}.yaml")),
            suite: suite.clone(),
            suite_title: format!("{suite} title"),
            id: format!("GEN-{n:05}"),
            title: format!("generated case {n}"),
            clause: Some("ISO 13400-2:2019 Table 19".into()),
            tags: vec![["header", "routing", "timing"][n as usize % 3].into()],
            requires: vec![],
            detects: vec![],
            matrix: vec![],
            line: n + 1,
        };
        events.push(Event::CaseStarted(CaseStarted { case, at: start, info }));
        let frame = |at: RunTime, direction, bytes: Vec<u8>, name: &str| {
            Event::Frame(FrameEvent {
                case,
                at,
                direction,
                transport: FrameTransport::Tcp,
                local: tester.clone(),
                peer: entity.clone(),
                can: None,
                bytes,
                decoded: Decoded::Message { name: name.into(), summary: format!("{name} ok") },
            })
        };
        let pairs = if n == 7 { 1000 } else { 3 };
        for _ in 0..pairs {
            events.push(frame(at(20), Direction::Sent, vec![2, 0xfd, 0, 5, 0, 0, 0, 7], "request"));
            events.push(frame(
                at(900),
                Direction::Received,
                vec![2, 0xfd, 0, 6, 0, 0, 0, 9],
                "response",
            ));
        }
        if n == 7 {
            events.push(Event::Note(NoteEvent {
                case,
                at: at(1),
                text: "recording limit reached: 98000 more frames (392000 bytes) not recorded"
                    .into(),
            }));
        }
        let verdict = if n % 50 == 3 || n == 7 { Verdict::Fail } else { Verdict::Pass };
        let reason = (verdict == Verdict::Fail).then(|| Reason {
            message:
                "expected generic_nack code=unknown_payload_type, got incorrect_pattern_format"
                    .into(),
            fields: vec![FieldMismatch {
                field: "generic_nack.code".into(),
                expected: "unknown_payload_type (0x01)".into(),
                actual: "incorrect_pattern_format (0x00)".into(),
            }],
            expected_hex: Some("02 fd 00 00 00 00 00 01 01".into()),
            actual_bytes: Some(vec![2, 0xfd, 0, 0, 0, 0, 0, 1, 0]),
            ..Reason::default()
        });
        counts.add(verdict, false);
        let end = at(5);
        events.push(Event::CaseFinished(CaseFinished {
            case,
            at: end,
            verdict,
            reason,
            duration: end.since(start),
            attempts: 1,
            flaky: false,
            capture: None,
            waiver: None,
        }));
    }
    let end = at(10);
    events.push(Event::RunFinished(RunFinished {
        at: end,
        counts,
        interrupted: false,
        stop_reason: None,
    }));
    events
}
