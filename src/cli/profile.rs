//! `doipcheck profile init [-o FILE]`: write a commented profile for a real entity
//! (`suite::profile::init`).

use super::exit;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(subcommand)]
    pub command: ProfileCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Write a commented profile for a real DoIP entity: every key documented, the standard's
    /// defaults, no simulator-only capability.
    #[command(
        after_help = "Examples:\n  doipcheck profile init -o my-ecu.yaml\n  doipcheck profile init --can -o my-node.yaml\n  doipcheck validate --profile my-ecu.yaml --target 192.0.2.10\n  doipcheck run --target 192.0.2.10 --profile my-ecu.yaml\n\nExit codes: 0 written, 2 the file exists (without --force) or cannot be written."
    )]
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// A profile for a CAN node without DoIP (ISO-TP and UDS), for
    /// `doipcheck run suites/isotp --can SPEC`.
    #[arg(long)]
    pub can: bool,
}

pub fn run(args: ProfileArgs) -> u8 {
    match args.command {
        ProfileCommand::Init(init) => {
            use crate::suite::profile::init::{Unit, template};
            let unit = if init.can { Unit::CanNode } else { Unit::DoipEntity };
            let text = template(env!("CARGO_PKG_VERSION"), unit);
            let Some(path) = init.output else {
                return super::stdout::print(&text, exit::SUCCESS);
            };
            if path.exists() && !init.force {
                eprintln!("error: {} exists; pass --force to replace it", path.display());
                return exit::USAGE;
            }
            match std::fs::write(&path, text) {
                Ok(()) => {
                    eprintln!(
                        "wrote {}: edit it for your unit, then `doipcheck validate --profile {} --target HOST`",
                        path.display(),
                        path.display()
                    );
                    exit::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    exit::USAGE
                }
            }
        }
    }
}
