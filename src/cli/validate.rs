//! `doipcheck validate [PATHS]`: load every suite (and the profile), plan every case against
//! the profile, and report every error of every file, rustc-style; exit 2 when there is any, 0
//! otherwise.

use super::exit;
use crate::suite::value::format_duration;
use crate::suite::{load, select};
use clap::Args;
use std::path::{Path, PathBuf};

/// Suites checked when no path is given.
pub const DEFAULT_SUITES: &str = "suites";

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Suite files or directories (default: ./suites, else the suites built into doipcheck).
    pub paths: Vec<PathBuf>,
    /// Target profile to check as well.
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// Check the profile for this --target (not contacted): refuses what holds only for the
    /// built-in simulator (capability `sim`, key `simulator`) and `power_cycle` without
    /// `power_cycle_command`.
    #[arg(short, long, value_name = "HOST[:PORT]")]
    pub target: Option<String>,
}

/// Paths given, else `./suites` when there is one, else the suites built into the binary
/// (so that an installed doipcheck runs from any directory).
pub fn paths_or_default(paths: &[PathBuf]) -> Vec<PathBuf> {
    if !paths.is_empty() {
        return paths.to_vec();
    }
    if Path::new(DEFAULT_SUITES).is_dir() {
        vec![PathBuf::from(DEFAULT_SUITES)]
    } else {
        vec![crate::suite::builtin::root()]
    }
}

/// The profile of the default suites: `./suites/profile.yaml` when `./suites` is there, else
/// the built-in simulator's.
pub fn default_profile() -> PathBuf {
    let local = Path::new(DEFAULT_SUITES);
    if local.is_dir() {
        let p = local.join("profile.yaml");
        if p.exists() {
            return p;
        }
    }
    crate::suite::builtin::profile()
}

/// The profile a command uses: the given one, else the built-in simulator's
/// ([`default_profile`]) when no --target is given, else the standard's defaults (`None`).
/// `validate`, `run`, `replay` and `fuzz` choose alike, so what validates is what runs.
pub fn profile_choice(profile: Option<&Path>, has_target: bool) -> Option<PathBuf> {
    match (profile, has_target) {
        (Some(p), _) => Some(p.to_path_buf()),
        (None, false) => Some(default_profile()),
        (None, true) => None,
    }
}

/// Runs the command; the text to print goes to the returned string (stdout on success,
/// stderr on error) so that tests can check it.
pub fn validate(args: &ValidateArgs) -> (u8, String) {
    let paths = paths_or_default(&args.paths);
    let mut text = String::new();
    let mut code = exit::SUCCESS;
    let chosen = profile_choice(args.profile.as_deref(), args.target.is_some());
    let loaded_profile = if args.target.is_some() {
        load::load_profile_for_target(chosen.as_deref())
    } else {
        load::load_profile(chosen.as_deref())
    };
    let profile = match loaded_profile {
        Ok(p) => Some(p),
        Err(e) => {
            text.push_str(&e.render());
            code = exit::USAGE;
            None
        }
    };
    match load::load_suites(&paths, &crate::runner::target::known_faults()) {
        Ok(loaded) => {
            // Every case that would run against the profile is planned: a value that does not
            // resolve or fit is an error here, not at run time.
            if let Some(profile) = &profile {
                let planned = select::select_cases(&loaded, profile, &select::Filter::default());
                if let Err(d) = crate::runner::plan::check(&planned, profile) {
                    text.push_str(&load::LoadErrors::from_diagnostics(d).render());
                    code = exit::USAGE;
                }
                for (id, limit, declared) in
                    crate::runner::schedule::short_time_limits(&planned, profile)
                {
                    text.push_str(&format!(
                        "warning: case {id}: `timeout: {}` is shorter than the {} its steps wait under this profile; it would end in error against a conformant target (leave `timeout` out to derive it)\n",
                        format_duration(limit),
                        format_duration(declared)
                    ));
                }
            }
            if code == exit::SUCCESS {
                // Counted as `list` counts them: a matrix case is one case per combination.
                let definitions: usize = loaded.suites.iter().map(|s| s.cases.len()).sum();
                let cases = select::expanded_case_count(&loaded);
                text.push_str(&format!(
                    "ok: {} suites, {cases} cases ({definitions} definitions before matrix expansion)\n",
                    loaded.suites.len()
                ));
            }
        }
        Err(e) => {
            text.push_str(&e.render());
            code = exit::USAGE;
        }
    }
    (code, text)
}

pub fn run(args: ValidateArgs) -> u8 {
    let (code, text) = validate(&args);
    if code == exit::SUCCESS {
        return super::stdout::print(&text, code);
    }
    eprint!("{text}");
    code
}
