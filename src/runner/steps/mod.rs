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
//! The dispatch below is the only place that lists them; each arm is one call into its family.

mod can;
mod isotp;
mod power;
mod stream;
mod summary;
#[cfg(test)]
mod tests;
pub mod timing;
mod udp;
mod values;

pub use summary::summary;

use super::case::CaseRun;
use super::failure::Failure;
use crate::suite::model::{Listen, StepKind};
use std::time::Duration;
use tokio::time::Instant;

impl CaseRun<'_> {
    /// Runs one step.
    pub(super) async fn exec(&mut self, kind: &StepKind) -> Result<(), Failure> {
        match kind {
            StepKind::Connect { connection, transport, port } => {
                self.connect(connection, *transport, port.as_ref()).await
            }
            StepKind::Disconnect { connection } => self.disconnect(connection).await,
            StepKind::Activate {
                connection,
                source_address,
                activation_type,
                response_code,
                within,
            } => {
                let fields = [source_address, activation_type, response_code, within];
                self.activate(connection, fields.map(Option::as_ref)).await
            }
            StepKind::Send { connection, message, overrides } => {
                self.send_message(connection, message, overrides).await
            }
            StepKind::SendRaw { connection, hex, chunks, delay } => {
                self.send_raw(connection, hex, chunks, delay.as_ref()).await
            }
            StepKind::Expect { connection, message, timing } => {
                self.expect(connection, message, timing).await
            }
            StepKind::ExpectRaw { connection, hex, mask, timing } => {
                self.expect_raw(connection, hex, mask.as_ref(), timing).await
            }
            StepKind::ExpectNone { on, duration } => {
                let d = self.duration(duration)?;
                match on {
                    Listen::Connection(name) => self.expect_none(name, d).await,
                    Listen::Udp => self.udp_expect_none(d).await,
                    Listen::Can { id } => self.can_expect_none(d, id.as_ref()).await,
                }
            }
            StepKind::ExpectClosed { connection, within, not_before } => {
                self.expect_closed(connection, within.as_ref(), not_before.as_ref()).await
            }
            StepKind::ExpectOpen { connection, duration } => {
                self.expect_open(connection, duration).await
            }
            StepKind::UdpSend { payload, overrides, to } => {
                self.udp_send(payload, overrides, to).await
            }
            StepKind::UdpExpect { payload, timing, count, interval } => {
                self.udp_expect(payload, timing, count.as_ref(), interval.as_ref()).await
            }
            StepKind::PowerCycle { within } => self.power_cycle(within.as_ref()).await,
            StepKind::CanSend { id, data, extended, fd } => {
                self.can_send(id, data, *extended, *fd).await
            }
            StepKind::CanExpect { id, data, timing, gap_min, gap_max, count } => {
                let gaps = (gap_min.as_ref(), gap_max.as_ref());
                self.can_expect(id, data.as_ref(), timing, gaps, count.as_ref()).await
            }
            StepKind::IsotpSend { data, functional, within } => {
                self.isotp_send(data, *functional, within.as_ref()).await
            }
            StepKind::IsotpExpect { data, timing } => self.isotp_expect(data, timing).await,
            StepKind::Wait(d) => {
                let d = self.duration(d)?;
                self.wait(d).await
            }
            StepKind::Capture(pairs) => self.capture(pairs),
            StepKind::Measure { name, min, max } => self.measure(name, min.as_ref(), max.as_ref()),
        }
    }

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
