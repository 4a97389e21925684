//! Closed pipes, one test per command that prints (src/cli/mod.rs `Command`): `doipcheck
//! inspect big.pcap | head -1` and friends stop at once, without a word, with status 141 (what
//! a shell reports for SIGPIPE), never with a panic, and read no further than they must. `run`
//! and `replay` print their console on stderr: when its reader goes they go on to their
//! verdicts and reports (docs/architecture.md "Verdicts and exit codes").
//!
//! Most tests close the reader before the command writes a byte, so the first write fails
//! whatever its size: deterministic. The commands that print nothing on stdout (`isotp send`,
//! `merge-junit`, `report`) are not here.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client_cli::{Sim, doipcheck};

/// How a command ended.
struct Ended {
    code: Option<i32>,
    stderr: String,
    /// Bytes the process read with read(2) and friends (`rchar` of /proc/PID/io).
    bytes_read: u64,
}

/// Runs `cmd` with stdout a pipe whose reader is closed before the command writes a byte.
fn with_stdout_closed(cmd: &mut Command) -> Ended {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    drop(child.stdout.take());
    ended(child)
}

/// Waits (at most 60 s, then kills it) for `child`, reading its stderr (when piped), and its
/// read count while it is a zombie (before it is reaped, /proc still holds its accounting).
fn ended(mut child: Child) -> Ended {
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let proc = PathBuf::from(format!("/proc/{}", child.id()));
    let started = Instant::now();
    loop {
        let stat = std::fs::read_to_string(proc.join("stat")).expect("/proc/PID/stat");
        // The state follows the command name, which is in parentheses.
        let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
        if state == Some("Z") {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after 60 s: {}", reader.join().unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let io = std::fs::read_to_string(proc.join("io")).expect("/proc/PID/io of a zombie");
    let bytes_read = io
        .lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("rchar");
    let status = child.wait().expect("reaped");
    Ended { code: status.code(), stderr: reader.join().unwrap_or_default(), bytes_read }
}

/// Ended quietly with 141.
#[track_caller]
fn assert_quiet_141(what: &str, ended: &Ended) {
    assert_eq!(ended.code, Some(141), "{what}: stderr: {}", ended.stderr);
    assert!(!ended.stderr.contains("panicked"), "{what}: {}", ended.stderr);
    assert!(!ended.stderr.contains("Broken pipe"), "{what}: {}", ended.stderr);
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `args` with stdout piped, reads one line, closes the pipe, and returns the exit code
/// and what went to stderr.
fn first_line_then_close(args: &[&str], stdin: Option<String>) -> (Option<i32>, String, String) {
    let mut child = doipcheck()
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn doipcheck");
    if let Some(text) = stdin {
        let mut input = child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            let _ = input.write_all(text.as_bytes());
        });
    }
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("a first line");
    drop(out);
    let output = child.wait_with_output().expect("the command ends");
    (output.status.code(), first, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn list_ends_quietly_when_its_reader_goes() {
    let (code, first, stderr) = first_line_then_close(&["list", "suites"], None);
    assert!(!first.is_empty());
    assert_eq!(code, Some(141), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn decode_ends_quietly_when_its_reader_goes() {
    let lines = "02fd8001000000070e00100022f190\n".repeat(20_000);
    let (code, first, stderr) = first_line_then_close(&["decode"], Some(lines));
    assert!(!first.is_empty());
    assert_eq!(code, Some(141), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Decode reads stdin line by line: with nobody reading its output it stops reading its
/// input, so an endless producer (`tshark ... | doipcheck decode | head`) ends too.
#[test]
fn decode_stops_reading_stdin_when_its_reader_goes() {
    const LINE: &[u8] = b"02fd8001000000070e00100022f190\n";
    const LINES: usize = 1_000_000;
    let mut child = doipcheck()
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let mut input = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        (0..LINES).take_while(|_| input.write_all(LINE).is_ok()).count()
    });
    let ended = ended(child);
    assert_quiet_141("decode", &ended);
    let fed = feeder.join().unwrap();
    assert!(fed < LINES / 10, "{fed} of {LINES} lines were taken");
}

/// A classic pcap of at least `size` bytes: the records of fixtures/captures/lo-ethernet.pcap
/// (DoIP on port 23400) again and again (their TCP sequence numbers repeat: the inspector notes that; it does not
/// matter here).
fn big_capture(dir: &Path, size: usize) -> PathBuf {
    let fixture = std::fs::read(root().join("fixtures/captures/lo-ethernet.pcap")).unwrap();
    assert_eq!(&fixture[..4], &[0xD4, 0xC3, 0xB2, 0xA1], "a little-endian classic pcap");
    let (header, records) = fixture.split_at(24);
    let mut out = header.to_vec();
    while out.len() < size {
        out.extend_from_slice(records);
    }
    let path = dir.join("big.pcap");
    std::fs::write(&path, out).unwrap();
    path
}

/// `inspect big.pcap | head`: the transcript stops at the first failed write. A pcap file
/// without CAN frames is not surveyed past its first record, so little of it is read at all;
/// before, both passes read all of it. A pcapng file (which may declare a CAN interface at any
/// point) is surveyed whole: read once, not twice.
#[test]
fn inspect_stops_reading_the_capture_when_its_reader_goes() {
    const SIZE: usize = 8 << 20;
    let dir = tempfile::tempdir().unwrap();
    let capture = big_capture(dir.path(), SIZE);
    for format in [None, Some("--json")] {
        let ended = with_stdout_closed(
            doipcheck().args(["inspect", "--doip-port", "23400"]).arg(&capture).args(format),
        );
        assert_quiet_141("inspect", &ended);
        assert!(
            ended.bytes_read < SIZE as u64 / 4,
            "{format:?}: {} bytes read of a {SIZE}-byte capture",
            ended.bytes_read
        );
    }
}

#[test]
fn import_validate_coverage_and_the_one_shot_printers_end_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let capture = root().join("fixtures/captures/lo-ethernet.pcap");
    let suites = root().join("suites");
    let export = dir.path().join("export");
    let commands: [(&str, Vec<&std::ffi::OsStr>); 7] = [
        ("import", vec!["--doip-port".as_ref(), "23400".as_ref(), capture.as_os_str()]),
        ("validate", vec![suites.as_os_str()]),
        ("coverage", vec![]),
        ("list", vec![suites.as_os_str()]),
        ("profile", vec!["init".as_ref()]),
        ("suites", vec!["export".as_ref(), export.as_os_str()]),
        ("sim", vec!["--list-faults".as_ref()]),
    ];
    for (command, args) in commands {
        let ended = with_stdout_closed(doipcheck().current_dir(root()).arg(command).args(args));
        assert_quiet_141(command, &ended);
    }
    assert!(export.read_dir().unwrap().next().is_some(), "suites export wrote its files first");
}

/// Without a reader for its log the simulator stops (it would otherwise serve until Ctrl-C).
#[test]
fn sim_stops_when_its_reader_goes() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::client_cli::sim_config(dir.path());
    let ended = with_stdout_closed(
        doipcheck().args(["sim", "--port", "0", "--tls-port", "0", "--config"]).arg(config),
    );
    assert_quiet_141("sim", &ended);
}

/// The simulator's log: when its reader goes while it serves, the next log line stops it.
#[test]
fn sim_stops_at_its_next_log_line_when_its_reader_goes() {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::client_cli::sim_config(dir.path());
    let mut child = doipcheck()
        .args(["sim", "--port", "0", "--tls-port", "0", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut banner = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut banner).unwrap();
    let udp = banner.split(" UDP ").nth(1).unwrap().split(' ').next().unwrap().trim().to_owned();
    let udp: std::net::SocketAddr = udp.parse().unwrap_or_else(|e| panic!("{e}: {banner}"));
    // A vehicle identification request: the simulator logs it and its answer.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let ended = feed_until_ended(child, udp.port(), &socket, &[0x02, 0xFD, 0, 1, 0, 0, 0, 0]);
    assert_quiet_141("sim", &ended);
}

#[test]
fn discover_and_request_end_quietly() {
    let (sim, _dir) = Sim::start(&[]);
    let udp = sim.udp.to_string();
    let tcp = sim.tcp.to_string();
    let discover = with_stdout_closed(doipcheck().args(["discover", "-t", &udp]));
    assert_quiet_141("discover", &discover);
    let request = with_stdout_closed(doipcheck().args(["request", "-t", &tcp, "22F190"]));
    assert_quiet_141("request", &request);
}

#[test]
fn fuzz_json_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let ended = with_stdout_closed(
        doipcheck()
            .args(["fuzz", "--cases", "20", "--json", "--findings"])
            .arg(dir.path().join("findings")),
    );
    assert_quiet_141("fuzz", &ended);
}

#[test]
fn selftest_ends_quietly() {
    let ended = with_stdout_closed(
        doipcheck()
            .current_dir(root())
            .args(["selftest", "suites/doip/version.yaml", "--sample", "0", "--sim-fault"])
            .arg(SELFTEST_FAULT),
    );
    assert_quiet_141("selftest", &ended);
}

/// A fault that suites/doip/version.yaml lists in a `detects`.
const SELFTEST_FAULT: &str = "reply_wrong_version";

/// `run` and `replay` (`run 2>&1 | head`): a closed console does not end the run; the
/// verdicts decide the status (a panic would be 101) and the reports are written whole.
#[test]
fn run_and_replay_go_on_to_their_verdicts_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let closed_console = |cmd: &mut Command| {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        drop(child.stdout.take());
        drop(child.stderr.take());
        ended(child)
    };
    let reports = dir.path().join("run");
    let run = closed_console(
        doipcheck()
            .current_dir(root())
            .args(["run", "--plain", "--case", "HDR-*", "-o"])
            .arg(&reports),
    );
    assert_eq!(run.code, Some(0));
    assert!(reports.join("report.json").exists() && reports.join("junit.xml").exists());
    let reports = dir.path().join("replay");
    let replay = closed_console(
        doipcheck()
            .current_dir(root())
            .args(["replay", "fixtures/captures/lo-ethernet.pcap", "--doip-port", "23400"])
            .args(["--plain", "-o"])
            .arg(&reports),
    );
    assert_eq!(replay.code, Some(REPLAY_VERDICT));
    assert!(reports.join("report.json").exists());
}

/// What replaying fixtures/captures/lo-ethernet.pcap against the built-in simulator with its
/// default profile comes to (the fixture was recorded against another simulator configuration,
/// so some answers differ).
const REPLAY_VERDICT: i32 = 1;

/// Resends `datagram` to 127.0.0.1:`port` every 50 ms until `child` ends, then returns how it
/// ended.
fn feed_until_ended(child: Child, port: u16, from: &std::net::UdpSocket, datagram: &[u8]) -> Ended {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let done = done.clone();
        let from = from.try_clone().unwrap();
        let datagram = datagram.to_vec();
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = from.send_to(&datagram, ("127.0.0.1", port));
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let ended = ended(child);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
    ended
}

#[test]
fn isotp_dump_recv_and_request_end_quietly() {
    use doipcheck::codec::can::{CanFrame, StandardId};
    use doipcheck::codec::cannelloni as wire;
    let single = CanFrame::new(StandardId::new(0x7E8).unwrap(), &[0x02, 0x3E, 0x00]).unwrap();
    let datagram = wire::encode(0, &[single]).unwrap();
    for command in [
        vec!["isotp", "dump", "--timeout", "30s"],
        vec!["isotp", "recv", "--tx-id", "7E0", "--rx-id", "7E8", "--timeout", "30s"],
    ] {
        let [ours, theirs] = crate::can_transport::free_udp_ports::<2>();
        let peer = std::net::UdpSocket::bind(("127.0.0.1", theirs)).unwrap();
        let mut child = doipcheck()
            .args(&command)
            .arg("--can")
            .arg(format!("cannelloni:{ours}@127.0.0.1:{theirs}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let ended = feed_until_ended(child, ours, &peer, &datagram);
        assert_quiet_141(command[1], &ended);
    }
    let [sim_port, our_port] = crate::can_transport::free_udp_ports::<2>();
    let _sim = crate::isotp_cli::SimOverCannelloni::start(sim_port, our_port);
    let can = format!("cannelloni:{our_port}@127.0.0.1:{sim_port}");
    let ended = with_stdout_closed(
        doipcheck()
            .args(["isotp", "request", "--can", &can, "--tx-id", "7E0", "--rx-id", "7E8"])
            .args(["--p2", "2s", "22F190"]),
    );
    assert_quiet_141("isotp request", &ended);
}

/// `--help` goes through clap's printer: a closed pipe ends it the same way.
#[test]
fn help_ends_quietly() {
    let ended = with_stdout_closed(doipcheck().args(["inspect", "--help"]));
    assert_quiet_141("--help", &ended);
}

/// `print!` and `println!` panic on a closed pipe and cannot stop the loop that feeds them:
/// stdout goes through `cli::stdout` only. std's `eprint!` and `eprintln!` panic too: cli
/// shadows them with ones that drop what cannot be written (src/cli/mod.rs), so they are used
/// in cli only.
#[test]
fn no_code_in_src_prints_past_the_writer() {
    let mut files = Vec::new();
    crate::layering::rust_files(&root().join("src"), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let in_cli = file.starts_with(root().join("src/cli"));
        for (n, line) in crate::layering::code_lines(file) {
            let uses = |m: &str, not_after: &[char]| {
                line.match_indices(m).any(|(at, _)| !line[..at].ends_with(not_after))
            };
            let printing = uses("print!(", &['e', '_']) || uses("println!(", &['e', '_']);
            let to_stderr = !in_cli && (uses("eprint!(", &['_']) || uses("eprintln!(", &['_']));
            let raw = line.contains("io::stdout()") && !file.ends_with("cli/stdout.rs");
            if printing || to_stderr || raw {
                found.push(format!("{}:{n}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "write through cli::stdout::Stdout instead:\n{}", found.join("\n"));
}

/// Every command of src/cli/mod.rs has its closed-pipe test above, or prints nothing on
/// stdout: a new command must say which.
#[test]
fn every_command_is_tested_or_silent() {
    use clap::CommandFactory;
    const TESTED: &[&str] = &[
        "coverage", "decode", "discover", "fuzz", "import", "inspect", "isotp", "list", "profile",
        "replay", "request", "run", "selftest", "sim", "suites", "validate",
    ];
    // Their output is files; stderr says what was written.
    const SILENT: &[&str] = &["merge-junit", "report"];
    let mut commands: Vec<String> = doipcheck::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .filter(|name| name != "help")
        .collect();
    commands.sort();
    let mut known: Vec<&str> = TESTED.iter().chain(SILENT).copied().collect();
    known.sort_unstable();
    assert_eq!(commands, known);
}
