//! `doipcheck fuzz`: the live fuzzer. [`model`] is pure (cases, generator, ISO-TP frame
//! checks, delta debugging, repro text); [`live`] drives a target over real sockets ([`conn`]:
//! bounded reads, barriers, every message fed to the judge), checks liveness between batches, restores the target and minimizes what
//! failed; [`findings`] writes each finding's directory; [`campaign`] is a whole campaign
//! (target, fuzzer from the typed profile via [`from_profile`], loop, findings), what
//! `doipcheck fuzz` calls (docs/architecture.md#live-fuzzing).

mod bus_judge;
pub mod campaign;
pub mod conn;
pub mod drive;
pub mod findings;
pub mod from_profile;
pub mod isotp_live;
pub mod live;
mod liveness;
pub mod model;
pub mod reply_rules;
