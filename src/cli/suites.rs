//! `doipcheck suites export DIR`: write the suites built into the binary (with their profile
//! and simulator configuration) out for editing (`suite::builtin`).

use super::exit;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SuitesArgs {
    #[command(subcommand)]
    pub command: SuitesCommand,
}

#[derive(Debug, Subcommand)]
pub enum SuitesCommand {
    /// Write the built-in suites, their profile (profile.yaml) and the simulator configuration
    /// (sim.yaml) into DIR.
    #[command(
        after_help = "Examples:\n  doipcheck suites export suites\n  doipcheck run suites/doip --target 192.0.2.10 --profile my-ecu.yaml\n\nExit codes: 0 written, 2 a file exists (without --force) or cannot be written."
    )]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Folder to write into (created if missing).
    pub dir: PathBuf,
    /// Replace files that exist.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: SuitesArgs) -> u8 {
    match args.command {
        SuitesCommand::Export(export) => {
            match crate::suite::builtin::export(&export.dir, export.force) {
                Ok(written) => super::stdout::print(
                    &format!("wrote {} files into {}\n", written.len(), export.dir.display()),
                    exit::SUCCESS,
                ),
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::USAGE
                }
            }
        }
    }
}
