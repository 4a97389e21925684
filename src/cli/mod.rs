//! Command line: clap arguments -> checked configuration -> dispatch; exit codes live in
//! [`exit`]. Each subcommand has its own file; this module only routes.

/// `eprintln!` without std's panic when stderr is gone (`doipcheck run 2>&1 | head`: the run
/// must still end with its verdicts and write its reports, docs/architecture.md "Verdicts and
/// exit codes"): a message that cannot be written is dropped. Defined before the modules below,
/// it shadows std's macro in all of cli (textual scope); stdout goes through [`stdout`].
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` without the panic: see `eprintln!` above.
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

pub mod coverage;
pub mod decode;
pub mod discover;
pub mod exit;
pub mod fuzz;
mod fuzz_report;
pub mod help;
pub mod import;
pub mod inspect;
pub mod isotp;
pub mod list;
pub mod merge_junit;
pub mod profile;
mod received;
pub mod replay;
pub mod report;
pub mod request;
pub mod run;
pub mod selftest;
pub mod sim;
pub mod stdout;
pub mod suite_files;
pub mod suites;
pub mod validate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Conformance and fuzz test harness for DoIP entities (ISO 13400-2) and ISO-TP nodes
/// (ISO 15765-2).
#[derive(Debug, Parser)]
#[command(name = "doipcheck", version, about, after_help = MAIN_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Colour verdicts on the console: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t, value_name = "WHEN")]
    pub color: crate::report::ColorChoice,
}

const MAIN_HELP: &str = "\
Without a command, `doipcheck` is `doipcheck run`: the suites in ./suites (or, without that
folder, the suites built into doipcheck) against the built-in simulator.

Examples:
  doipcheck                                          # shipped suites, built-in simulator
  doipcheck profile init -o my-ecu.yaml              # a profile for your entity
  doipcheck run -t 192.0.2.10 -p my-ecu.yaml         # the suites against it
  doipcheck run --tags 'routing and not slow' --shard 2/4
  doipcheck inspect trace.pcapng                     # judge a recorded capture
  doipcheck replay trace.pcapng -t 192.0.2.10         # send a recorded conversation again
  doipcheck suites export suites                     # the built-in suites, for editing

Exit codes: 0 pass, 1 a case failed (or a finding), 2 usage or suite error (nothing ran),
3 target unreachable, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP (reports written),
141 the reader of stdout went away (`doipcheck inspect big.pcap | head`).";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode DoIP messages given as hex: summary and every field, or --json.
    #[command(after_help = help::DECODE)]
    Decode(decode::DecodeArgs),
    /// ISO-TP over CAN: send, receive and dump (like can-utils isotpsend/isotprecv/isotpdump).
    #[command(after_help = help::ISOTP)]
    Isotp(isotp::IsotpArgs),
    /// Decode a recorded capture (pcap/pcapng, gzip too) and check what the target did:
    /// transcript, findings with packet numbers, or --json.
    #[command(after_help = help::INSPECT)]
    Inspect(inspect::InspectArgs),
    /// Turn a recorded capture into a suite: one case per TCP connection, the recorded
    /// requests as sends and the target's answers as expectations within the profile's timers.
    #[command(after_help = help::IMPORT)]
    Import(import::ImportArgs),
    /// Import a recorded capture and run it against a target (or the built-in simulator):
    /// the same verdicts and reports as `run`.
    #[command(after_help = help::REPLAY)]
    Replay(Box<replay::ReplayArgs>),
    /// Run suites against a DoIP entity (default: the shipped suites against the built-in
    /// simulator) and write console, JUnit, JSON and capture reports.
    #[command(after_help = help::RUN)]
    Run(Box<run::RunArgs>),
    /// Fuzz a DoIP entity (default: the built-in simulator) with seeded, protocol-aware cases;
    /// liveness checks between batches; each finding minimized to a repro suite case.
    #[command(after_help = help::FUZZ)]
    Fuzz(Box<fuzz::FuzzArgs>),
    /// Check suite files (and a profile): every error of every file, then exit 2.
    #[command(after_help = help::VALIDATE)]
    Validate(validate::ValidateArgs),
    /// List the cases of suites: id, title, tags, clause, requirements.
    #[command(after_help = help::LIST)]
    List(list::ListArgs),
    /// Run the reference DoIP entity (simulator) until Ctrl-C.
    #[command(after_help = help::SIM)]
    Sim(sim::SimArgs),
    /// Prove the suites: every case passes against the conformant simulator and fails against
    /// each fault it lists in `detects`; prints the case x fault matrix.
    #[command(after_help = help::SELFTEST)]
    Selftest(selftest::SelftestArgs),
    /// Write a commented profile for a real entity (`profile init`).
    Profile(profile::ProfileArgs),
    /// The suites built into the binary: `suites export DIR` writes them out for editing.
    Suites(suites::SuitesArgs),
    /// Find DoIP entities (vehicle identification, entity status, power mode): a table or --json.
    #[command(after_help = help::DISCOVER)]
    Discover(discover::DiscoverArgs),
    /// Send UDS requests to a DoIP entity (routing activation, ACK, NRC 0x78) and decode the answers.
    #[command(after_help = help::REQUEST)]
    Request(request::RequestArgs),
    /// Merge the JUnit files of `--shard K/N` runs into one report.
    #[command(after_help = help::MERGE_JUNIT)]
    MergeJunit(merge_junit::MergeJunitArgs),
    /// Rebuild the HTML, JUnit and Markdown reports from the report.json of a run or of its
    /// shards (one page for a sharded CI job).
    #[command(after_help = help::REPORT)]
    Report(report::ReportArgs),
    /// What the suites cover (payload types, codes, timers, faults, ISO-TP items) and what
    /// not yet, with the reason, as Markdown on stdout (or into -o FILE).
    #[command(after_help = help::COVERAGE)]
    Coverage(coverage::CoverageArgs),
}

/// `--jobs`: the number given (at least 1), else the number of CPU cores, at most 4 (the
/// simulator instances and the timing of their cases share those cores).
pub fn jobs(given: Option<u32>) -> Result<u32, String> {
    match given {
        Some(0) => Err("--jobs must be at least 1".into()),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get() as u32).min(4)),
    }
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { exit::SUCCESS };
            return ExitCode::from(stdout::exit_code(e.print(), code));
        }
    };
    crate::report::set_color(cli.color);
    match cli.command {
        // No subcommand: `doipcheck run` with its defaults (the shipped suites against the
        // built-in simulator, reports into reports/).
        None => match Cli::try_parse_from(["doipcheck", "run"]) {
            Ok(Cli { command: Some(Command::Run(args)), .. }) => ExitCode::from(run::run(*args)),
            _ => ExitCode::from(exit::USAGE),
        },
        Some(Command::Decode(args)) => ExitCode::from(decode::run(args)),
        Some(Command::Isotp(args)) => ExitCode::from(isotp::run(args)),
        Some(Command::Inspect(args)) => ExitCode::from(inspect::run(args)),
        Some(Command::Import(args)) => ExitCode::from(import::run(args)),
        Some(Command::Replay(args)) => ExitCode::from(replay::run(*args)),
        Some(Command::Fuzz(args)) => ExitCode::from(fuzz::run(*args)),
        Some(Command::Run(args)) => ExitCode::from(run::run(*args)),
        Some(Command::Validate(args)) => ExitCode::from(validate::run(args)),
        Some(Command::List(args)) => ExitCode::from(list::run(args)),
        Some(Command::Sim(args)) => sim::run(args),
        Some(Command::Selftest(args)) => ExitCode::from(selftest::run(args)),
        Some(Command::Coverage(args)) => ExitCode::from(coverage::run(args)),
        Some(Command::MergeJunit(args)) => ExitCode::from(merge_junit::run(args)),
        Some(Command::Report(args)) => ExitCode::from(report::run(args)),
        Some(Command::Profile(args)) => ExitCode::from(profile::run(args)),
        Some(Command::Suites(args)) => ExitCode::from(suites::run(args)),
        Some(Command::Discover(args)) => ExitCode::from(discover::run(args)),
        Some(Command::Request(args)) => ExitCode::from(request::run(args)),
    }
}
