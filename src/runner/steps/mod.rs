//! What each step kind does, one module per family, all sharing the case's state
//! (`runner::case::CaseRun`), the one timing check ([`timing`]) and one way to record frames
//! (`runner::record::Recorder`), whatever the transport:
//!
//! | module     | step kinds |
//! |------------|------------|
//! | [`stream`] | connect, disconnect, activate, send, send_raw, expect, expect_raw, expect_none, expect_closed, expect_open, wait |
//! | [`udp`]    | udp_send, udp_expect, expect_none on `udp` |
//! | [`can`]    | can_send, can_expect, expect_none on `can` |
//! | [`isotp`]  | isotp_send, isotp_expect |
//! | [`power`]  | power_cycle |
//! | [`values`] | capture, measure |
//!
//! Each module implements [`Execute`] for its step kinds; the dispatch is generated from the
//! one list of step kinds (`crate::suite::steps::step_kinds!`).

mod can;
mod isotp;
pub mod power;
mod stream;
#[cfg(test)]
mod tests;
pub mod timing;
mod udp;
mod values;

use super::case::CaseRun;
use super::failure::Failure;
use crate::suite::steps::*;
use std::time::Duration;
use tokio::time::Instant;

/// How the runner carries out one step kind (`crate::suite::steps::StepDef` declares it).
pub(crate) trait Execute {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure>;
}

/// The dispatch, made from the one list of step kinds.
macro_rules! dispatch {
    ($($variant:ident($ty:ident)),* $(,)?) => {
        impl CaseRun<'_> {
            /// Runs one step.
            pub(super) async fn exec(&mut self, kind: &StepKind) -> Result<(), Failure> {
                match kind {
                    $(StepKind::$variant(step) => step.execute(self).await),*
                }
            }
        }
    };
}
crate::suite::steps::step_kinds!(dispatch);

impl CaseRun<'_> {
    /// `count:` of a step (default 1).
    fn count(&self, count: Option<&crate::suite::value::Expr>) -> Result<u64, Failure> {
        Ok(count.map(|c| self.int(c)).transpose()?.unwrap_or(1).max(1))
    }
}

/// The instant `d` from now, saturating far in the future instead of overflowing (a profile
/// may declare a huge timer).
fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}
