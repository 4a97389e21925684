//! `doipcheck coverage`: prints (or writes with `-o`) the coverage page that
//! `crate::proof::coverage` generates from the suites.

use super::exit;
use super::validate::{default_profile, paths_or_default};
use crate::proof::coverage::generate;
use crate::runner::target::known_faults;
use crate::suite::load;
use crate::suite::select::{self, Filter};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Suite files or directories (default: ./suites, else the suites built into doipcheck).
    pub paths: Vec<PathBuf>,
    /// Target profile (default: suites/profile.yaml).
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// Write here instead of standard output (e.g. docs/coverage.md).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Exit 1 when the file given with --output differs from what would be generated.
    #[arg(long, requires = "output")]
    pub check: bool,
}

/// Runs the command and returns the exit code.
pub fn run(args: CoverageArgs) -> u8 {
    let profile_path = Some(args.profile.clone().unwrap_or_else(default_profile));
    let profile = match load::load_profile(profile_path.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{}", e.render());
            return exit::USAGE;
        }
    };
    let loaded = match load::load_suites(&paths_or_default(&args.paths), &known_faults()) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{}", e.render());
            return exit::USAGE;
        }
    };
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    let text = generate(&plan, &profile);
    match (&args.output, args.check) {
        (None, _) => super::stdout::print(&text, exit::SUCCESS),
        (Some(path), true) => match std::fs::read_to_string(path) {
            Ok(old) if old == text => exit::SUCCESS,
            Ok(_) => {
                eprintln!(
                    "error: {} is out of date: run `doipcheck coverage -o {}`",
                    path.display(),
                    path.display()
                );
                exit::FAILURE
            }
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                exit::FAILURE
            }
        },
        (Some(path), false) => match std::fs::write(path, text) {
            Ok(()) => exit::SUCCESS,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                exit::FAILURE
            }
        },
    }
}
