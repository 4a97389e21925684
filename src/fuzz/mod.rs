//! `doipcheck fuzz`: the live fuzzer. [`model`] is pure (cases, generator, delta debugging,
//! repro text); [`live`] drives a DoIP target over real sockets ([`conn`]: bounded reads,
//! barriers, every message fed to the judge) and [`isotp_live`] an ISO-TP node (every frame
//! fed to the judge through `bus_judge`); their reply checks are the judge's rules
//! ([`reply_rules`]); both check liveness between batches, restore the target and minimize
//! what failed; [`findings`] writes each finding's directory; [`campaign`] is a whole campaign
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
