//! What a run talks to: a DoIP endpoint given with `--target`, or the built-in simulator.

use crate::cli::run::RunArgs;
use crate::suite::load::PlannedCase;
use crate::suite::profile::Profile;
use std::path::PathBuf;

/// Names of the built-in simulator's faults a suite's `detects:` may list (empty until the
/// simulator's fault list is wired; an empty list disables the check).
pub const KNOWN_FAULTS: &[&str] = &[];

/// Runs against built-in simulator instances (one per job).
pub fn run_against_simulator(
    _args: RunArgs,
    _profile: Profile,
    _profile_path: Option<PathBuf>,
    _plan: Vec<PlannedCase>,
    _shard: Option<(u32, u32)>,
) -> Result<u8, (u8, String)> {
    Err((
        crate::cli::exit::USAGE,
        "error: the built-in simulator is not in this build yet; give --target HOST[:PORT]\n"
            .into(),
    ))
}
