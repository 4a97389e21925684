//! What a run talks to: a DoIP endpoint given with `--target`, or the built-in simulator.

/// Names of the built-in simulator's faults a suite's `detects:` may list (empty until the
/// simulator's fault list is wired; an empty list disables the check).
pub const KNOWN_FAULTS: &[&str] = &[];
