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
    /// Suite files or directories (default: ./suites, else the suites built into doipcheck).
    pub paths: Vec<PathBuf>,
    /// Target profile (default: the simulator's, suites/profile.yaml).
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// Cases run in parallel (each job gets its own simulator instance). Default: the number
    /// of CPU cores, at most 4.
    #[arg(short, long)]
    pub jobs: Option<u32>,
    /// Prove only these faults (repeatable; default: the whole catalogue).
    #[arg(long = "sim-fault", alias = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Besides the cases that list a fault, run this many other cases against it.
    #[arg(long, default_value_t = 3)]
    pub sample: usize,
}

/// One cell of the case x fault matrix.
/// Runs the command and returns the exit code.
pub fn run(args: SelftestArgs) -> u8 {
    let jobs = match super::jobs(args.jobs) {
        Ok(jobs) => jobs,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let catalogue = known_faults();
    if let Some(bad) = args.faults.iter().find(|f| !catalogue.contains(&f.as_str())) {
        eprintln!(
            "error: --sim-fault: unknown fault `{bad}`; `doipcheck sim --list-faults` lists them"
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
        Err(rendered) => {
            eprint!("{rendered}");
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
    let proof = match runtime.block_on(prove(&plan, &profile, &sim, &faults, jobs, args.sample)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    let mut text = proof.render();
    if unproven > 0 {
        text.push_str(&format!("{unproven} cases skipped by the profile are not proven\n"));
    }
    if !undetected.is_empty() {
        text.push_str(&format!(
            "cases no fault can fail (empty `detects`): {}\n",
            undetected.join(", ")
        ));
    }
    let (ok, last_line) = proof.conclusion(undetected.len());
    text.push_str(&last_line);
    text.push('\n');
    super::stdout::print(&text, if ok { exit::SUCCESS } else { exit::FAILURE })
}
