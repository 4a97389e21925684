//! `doipcheck fuzz`: the live fuzzer. [`model`] is pure (cases, generator, reply checks,
//! delta debugging, repro text); [`live`] drives a target over real sockets ([`conn`]: bounded
//! reads, barriers), checks liveness between batches, restores the target and minimizes what
//! failed; [`findings`] writes each finding's directory (docs/architecture.md#live-fuzzing).

pub mod conn;
pub mod drive;
pub mod findings;
pub mod from_profile;
pub mod isotp_live;
pub mod live;
mod liveness;
pub mod model;
