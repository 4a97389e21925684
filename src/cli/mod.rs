//! Command line: clap arguments -> checked configuration -> dispatch; exit codes live in
//! [`exit`]. Each subcommand has its own file; this module only routes.

pub mod coverage;
pub mod decode;
pub mod exit;
pub mod inspect;
pub mod isotp;
pub mod list;
pub mod merge_junit;
pub mod profile;
pub mod run;
pub mod selftest;
pub mod sim;
pub mod suites;
pub mod validate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Conformance and fuzz test harness for DoIP entities (ISO 13400-2) and ISO-TP nodes
/// (ISO 15765-2).
#[derive(Debug, Parser)]
#[command(name = "doipcheck", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode DoIP messages given as hex: summary and every field, or --json.
    Decode(decode::DecodeArgs),
    /// ISO-TP over CAN: send, receive and dump (like can-utils isotpsend/isotprecv/isotpdump).
    Isotp(isotp::IsotpArgs),
    /// Decode a recorded capture (pcap/pcapng, gzip too) and check what the target did:
    /// transcript, findings with packet numbers, or --json.
    Inspect(inspect::InspectArgs),
    /// Run suites against a DoIP entity (default: the shipped suites against the built-in
    /// simulator) and write console, JUnit, JSON and capture reports.
    Run(Box<run::RunArgs>),
    /// Check suite files (and a profile): every error of every file, then exit 2.
    Validate(validate::ValidateArgs),
    /// List the cases of suites: id, title, tags, clause, requirements.
    List(list::ListArgs),
    /// Run the reference DoIP entity (simulator) until Ctrl-C.
    Sim(sim::SimArgs),
    /// Prove the suites: every case passes against the conformant simulator and fails against
    /// each fault it lists in `detects`; prints the case x fault matrix.
    Selftest(selftest::SelftestArgs),
    /// Write a commented profile for a real entity (`profile init`).
    Profile(profile::ProfileArgs),
    /// The suites built into the binary: `suites export DIR` writes them out for editing.
    Suites(suites::SuitesArgs),
    /// Merge the JUnit files of `--shard K/N` runs into one report.
    MergeJunit(merge_junit::MergeJunitArgs),
    /// Write docs/coverage.md: what the suites cover (payload types, codes, timers, faults,
    /// ISO-TP items) and what not yet, with the reason.
    Coverage(coverage::CoverageArgs),
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { exit::SUCCESS });
        }
    };
    match cli.command {
        // No subcommand: `doipcheck run` with its defaults (the shipped suites against the
        // built-in simulator, reports into reports/).
        None => match Cli::try_parse_from(["doipcheck", "run"]) {
            Ok(Cli { command: Some(Command::Run(args)) }) => ExitCode::from(run::run(*args)),
            _ => ExitCode::from(exit::USAGE),
        },
        Some(Command::Decode(args)) => ExitCode::from(decode::run(args)),
        Some(Command::Isotp(args)) => ExitCode::from(isotp::run(args)),
        Some(Command::Inspect(args)) => ExitCode::from(inspect::run(args)),
        Some(Command::Run(args)) => ExitCode::from(run::run(*args)),
        Some(Command::Validate(args)) => ExitCode::from(validate::run(args)),
        Some(Command::List(args)) => ExitCode::from(list::run(args)),
        Some(Command::Sim(args)) => sim::run(args),
        Some(Command::Selftest(args)) => ExitCode::from(selftest::run(args)),
        Some(Command::Coverage(args)) => ExitCode::from(coverage::run(args)),
        Some(Command::MergeJunit(args)) => ExitCode::from(merge_junit::run(args)),
        Some(Command::Profile(args)) => ExitCode::from(profile::run(args)),
        Some(Command::Suites(args)) => ExitCode::from(suites::run(args)),
    }
}

/// `doipcheck list | head`: std's print macros panic when the reader of stdout has gone
/// (Rust ignores SIGPIPE). That one panic ends the program quietly with the status a shell
/// gives a process killed by SIGPIPE ([`exit::CLOSED_PIPE`]); every other panic keeps the
/// default report. `run` never gets here: its console goes quiet and the run writes its
/// reports (`report::console`).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(i32::from(exit::CLOSED_PIPE));
        }
        default(info);
    }));
}
