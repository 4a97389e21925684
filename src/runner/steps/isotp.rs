//! ISO-TP steps: whole messages through the harness's conformant ISO-TP stack
//! (`runner::isotp`, ISO 15765-2), every CAN frame it moves recorded; a failed transfer fails
//! the step with its N_Result (ISO 15765-2:2016 §8.3.7).

use super::Execute;
use super::timing::early_message;
use crate::proto::window::Violation;
use crate::runner::arrived::Arrived;
use crate::runner::case::CaseRun;
use crate::runner::event::Direction;
use crate::runner::failure::{Failure, error, fail, mismatch};
use crate::runner::isotp::{IsoTpSession, Outcome};
use crate::suite::step_args::TimeBounds;
use crate::suite::steps::{IsotpExpect, IsotpSend};
use crate::suite::value::{Expr, format_duration};
use crate::transport::can::Origin;
use crate::transport::can::driver::Traffic;
use tokio::time::Instant;

impl Execute for IsotpSend {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.isotp_send(&self.data, self.functional, self.within.as_ref()).await
    }
}

impl Execute for IsotpExpect {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.isotp_expect(&self.data, &self.timing).await
    }
}

impl CaseRun<'_> {
    /// Runs the case's ISO-TP session (opened on first use) until `deadline`: sends `send`
    /// or receives the next message, recording every CAN frame it moves.
    async fn isotp_outcome(
        &mut self,
        deadline: Instant,
        send: Option<(&[u8], bool)>,
    ) -> Result<Outcome, Failure> {
        self.ensure_can().await?;
        if self.isotp.is_none() {
            self.isotp = Some(IsoTpSession::new(self.env.profile.target()).map_err(error)?);
        }
        let bus = self.bus_name();
        let CaseRun { can, isotp, rec, last_can_at, .. } = self;
        let (Some(transport), Some(session)) = (can.as_mut(), isotp.as_mut()) else {
            return Err(error("no CAN transport"));
        };
        let mut flooded = None;
        let mut observe = |traffic: Traffic<'_>| {
            let (at, direction, frame) = match traffic {
                Traffic::Sent { at, frame } => (rec.clock.at_std(at), Direction::Sent, frame),
                Traffic::Received(rx) if rx.origin == Origin::Echo => return,
                Traffic::Received(rx) => (rec.clock.at_std(rx.at), Direction::Received, &rx.frame),
            };
            *last_can_at = Some(at);
            if let Err(e) = rec.can_frame(at, direction, &bus, frame) {
                flooded.get_or_insert(e);
            }
        };
        let deadline = deadline.into_std();
        let outcome = match send {
            Some((payload, functional)) => {
                session.send(transport, payload, functional, deadline, &mut observe).await
            }
            None => session.next_message(transport, deadline, &mut observe).await,
        }
        .map_err(error)?;
        match flooded {
            Some(e) => Err(fail(e)),
            None => Ok(outcome),
        }
    }

    pub(super) async fn isotp_send(
        &mut self,
        data: &Expr,
        functional: bool,
        within: Option<&Expr>,
    ) -> Result<(), Failure> {
        let bytes = self.bytes(data)?;
        let window = self.window(within, None)?;
        let deadline = super::deadline_after(window.wait());
        match self.isotp_outcome(deadline, Some((&bytes, functional))).await? {
            Outcome::Done(_) => {
                self.last_sent_at = Some(self.rec.now());
                Ok(())
            }
            Outcome::Failed(result) => Err(fail(format!(
                "the ISO-TP transmission of {} bytes failed with {result}",
                bytes.len()
            ))),
            Outcome::TimedOut => Err(fail(format!(
                "the ISO-TP transmission of {} bytes did not finish within {}",
                bytes.len(),
                format_duration(window.within)
            ))),
        }
    }

    pub(super) async fn isotp_expect(
        &mut self,
        data: &Expr,
        timing: &TimeBounds,
    ) -> Result<(), Failure> {
        let pattern = self.pattern(data, None)?;
        let first = self.window(timing.within.as_ref(), timing.not_before.as_ref())?;
        let mut deadline = super::deadline_after(first.wait());
        let mut wait = self.answer_wait(&first, self.rec.now());
        loop {
            // The first answer is held to the step's window, one after a 0x78 to P2* from it.
            let window = if wait.pending() == 0 { first } else { wait.window() };
            let start = wait.since();
            let message = match self.isotp_outcome(deadline, None).await? {
                Outcome::Done(message) => message,
                Outcome::Failed(result) => {
                    return Err(fail(format!(
                        "expected an ISO-TP message {pattern}, the reception failed with {result}"
                    )));
                }
                Outcome::TimedOut => {
                    return Err(fail(format!(
                        "expected an ISO-TP message {pattern} within {}, none arrived",
                        format_duration(window.within)
                    )));
                }
            };
            let at = self.rec.now();
            if pattern.matches(&message) {
                let after = at.since(start);
                if let Err(Violation::Early { not_before }) = window.check_not_early(after) {
                    return Err(mismatch(
                        early_message("the ISO-TP message", after, not_before),
                        Arrived::isotp(&message),
                        vec![],
                    ));
                }
                self.last_received_at = Some(at);
                return Ok(());
            }
            if self.response_pending(&message) {
                deadline = self.extend_for_pending(&mut wait, at, &message, " over ISO-TP")?;
                continue;
            }
            return Err(mismatch(
                format!("the ISO-TP message does not match {pattern}"),
                Arrived::isotp(&message),
                vec![],
            )
            .expecting(&pattern));
        }
    }
}
