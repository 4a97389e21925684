//! `doipcheck selftest`: runs the proof (`crate::proof::selftest`) that the shipped suites are
//! worth something, prints the case x fault matrix and exits 1 on any mismatch.

use super::exit;
use super::validate::{default_profile, paths_or_default};
use crate::proof::selftest::prove;
use crate::runner::target::{known_faults, simulator_config};
use crate::suite::load;
use crate::suite::select::{self, Filter};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SelftestArgs {
    /// Suite files or directories (default: suites/).
    pub paths: Vec<PathBuf>,
    /// Target profile (default: suites/profile.yaml, the simulator's).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Cases run in parallel (each job gets its own simulator instance).
    #[arg(long, default_value_t = 2)]
    pub jobs: u32,
    /// Prove only these faults (repeatable; default: the whole catalogue).
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Besides the cases that list a fault, run this many other cases against it.
    #[arg(long, default_value_t = 3)]
    pub sample: usize,
}

/// One cell of the case x fault matrix.
/// Runs the command and returns the exit code.
pub fn run(args: SelftestArgs) -> u8 {
    if args.jobs == 0 {
        eprintln!("error: --jobs must be at least 1");
        return exit::USAGE;
    }
    let catalogue = known_faults();
    if let Some(bad) = args.faults.iter().find(|f| !catalogue.contains(&f.as_str())) {
        eprintln!(
            "error: --fault: unknown fault `{bad}`; `doipcheck sim --list-faults` lists them"
        );
        return exit::USAGE;
    }
    let faults: Vec<String> = if args.faults.is_empty() {
        catalogue.iter().map(|f| f.to_string()).collect()
    } else {
        catalogue
            .iter()
            .filter(|f| args.faults.iter().any(|a| a == *f))
            .map(|f| f.to_string())
            .collect()
    };
    let profile_path = Some(args.profile.clone().unwrap_or_else(default_profile));
    let profile = match load::load_profile(profile_path.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{}", e.render());
            return exit::USAGE;
        }
    };
    let sim = match simulator_config(&profile, profile_path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let loaded = match load::load_suites(&paths_or_default(&args.paths), &catalogue) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{}", e.render());
            return exit::USAGE;
        }
    };
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    // A case the profile skips proves nothing either way; it is counted, not judged.
    let undetected: Vec<&str> = plan
        .iter()
        .filter(|p| p.skip.is_none() && p.info.detects.is_empty())
        .map(|p| p.info.id.as_str())
        .collect();
    let unproven = plan.iter().filter(|p| p.skip.is_some()).count();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return exit::FAILURE;
        }
    };
    let proof =
        match runtime.block_on(prove(&plan, &profile, &sim, &faults, args.jobs, args.sample)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::FAILURE;
            }
        };
    print!("{}", proof.render());
    if unproven > 0 {
        println!("{unproven} cases skipped by the profile are not proven");
    }
    if !undetected.is_empty() {
        println!("cases no fault can fail (empty `detects`): {}", undetected.join(", "));
    }
    if proof.mismatches().is_empty() && undetected.is_empty() {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }
}
