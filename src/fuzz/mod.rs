//! `doipcheck fuzz`: the live fuzzer. [`model`] is pure (cases, generator, reply checks,
//! delta debugging, repro text); [`live`] drives a target through real sockets with the
//! runner's bounded connections, checks liveness between batches, restores the target and
//! minimizes what failed; [`findings`] writes each finding's directory.

pub mod findings;
pub mod live;
pub mod model;
