//! Raw CAN steps: frames sent and expected one by one with their timing, to script an
//! adversarial ISO-TP peer (ISO 15765-2), and silence on a CAN id. Every frame seen on the
//! bus is recorded as a CAN frame event, whether a step wanted it or not.

use super::Execute;
use super::timing::{early_message, measured, simulator_late_message};
use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::AddressingMode;
use crate::proto::window::{Violation, Window, within_bounds};
use crate::runner::arrived::Arrived;
use crate::runner::case::CaseRun;
use crate::runner::event::{Direction, RunTime};
use crate::runner::failure::{Failure, error, fail, mismatch, too_late};
use crate::suite::step_args::TimeBounds;
use crate::suite::steps::{CanExpect, CanSend, CanSettle};
use crate::suite::value::{BytePattern, Expr, format_duration};
use crate::transport::can::{CanTransport, Origin, Received as CanRx};
use std::time::Duration;
use tokio::time::Instant;

/// What one `can_expect` frame must be (resolved once for every frame of a `count`).
struct CanExpectation {
    id: u64,
    pattern: Option<BytePattern>,
    gap_min: Option<Duration>,
    gap_max: Option<Duration>,
}

/// How frames are read in failure messages: the harness's ISO-TP node uses normal
/// addressing (the profile's `isotp.*` ids).
const SHOWN_AS: AddressingMode = AddressingMode::Normal;

impl Execute for CanSend {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.can_send(&self.id, &self.data, self.extended, self.fd).await
    }
}

impl Execute for CanExpect {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        let gaps = (self.gap_min.as_ref(), self.gap_max.as_ref());
        run.can_expect(&self.id, self.data.as_ref(), &self.timing, gaps, self.count.as_ref()).await
    }
}

impl Execute for CanSettle {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        let quiet = match &self.quiet {
            Some(e) => run.duration(e)?,
            None => run.settings.settle_quiet,
        };
        run.ensure_can().await?;
        run.read_until_quiet(quiet).await;
        Ok(())
    }
}

impl CaseRun<'_> {
    pub(super) fn bus_name(&self) -> String {
        self.target.can.as_ref().map(|(text, _)| text.clone()).unwrap_or_default()
    }

    pub(super) async fn ensure_can(&mut self) -> Result<(), Failure> {
        if self.can.is_none() {
            let (_, spec) = self
                .target
                .can
                .as_ref()
                .ok_or_else(|| error("CAN steps need a CAN transport: give --can SPEC"))?;
            let t = CanTransport::open(spec)
                .await
                .map_err(|e| error(format!("cannot open the CAN transport: {e}")))?;
            self.can = Some(t);
        }
        Ok(())
    }

    pub(super) async fn can_send(
        &mut self,
        id: &Expr,
        data: &Expr,
        extended: bool,
        fd: bool,
    ) -> Result<(), Failure> {
        let raw = self.int(id)?;
        let can_id =
            u32::try_from(raw).ok().and_then(|r| CanId::new(r, extended)).ok_or_else(|| {
                error(format!(
                    "CAN id {raw:#x} does not fit {} bits",
                    if extended { 29 } else { 11 }
                ))
            })?;
        let bytes = self.bytes(data)?;
        let frame = if fd {
            CanFrame::new_fd(can_id, &bytes, false)
        } else {
            CanFrame::new(can_id, &bytes)
        }
        .map_err(|e| error(format!("CAN frame: {e:?}")))?;
        self.ensure_can().await?;
        let bus = self.bus_name();
        let t = self.can.as_mut().ok_or_else(|| error("no CAN transport"))?;
        t.send(&frame).await.map_err(|e| error(format!("sending on CAN: {e}")))?;
        let at = self.rec.now();
        self.rec.can_frame(at, Direction::Sent, &bus, &frame).map_err(fail)?;
        self.last_can_at = Some(at);
        self.last_sent_at = Some(at);
        Ok(())
    }

    /// The next frame from the target (own echoes skipped), recorded; `None` at `deadline`.
    async fn can_receive(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<(RunTime, CanRx)>, Failure> {
        let bus = self.bus_name();
        loop {
            let t = self.can.as_mut().ok_or_else(|| error("no CAN transport"))?;
            let rx = match tokio::time::timeout_at(deadline, t.recv()).await {
                // Woken at the deadline, perhaps late on a busy machine: a frame that arrived
                // by then (its stamp) is still in time.
                Err(_) => match t.recv_arrived_by(deadline.into_std()) {
                    Some(rx) => rx,
                    None => return Ok(None),
                },
                Ok(Err(e)) => return Err(error(format!("receiving on CAN: {e}"))),
                Ok(Ok(rx)) => rx,
            };
            if rx.origin == Origin::Echo {
                continue;
            }
            let at = self.rec.clock.at_std(rx.at);
            self.rec.can_frame(at, Direction::Received, &bus, &rx.frame).map_err(fail)?;
            return Ok(Some((at, rx)));
        }
    }

    /// After the last step of a case that used the bus: read until the bus has been quiet
    /// for `isotp.settle_time` (at most the longest of N_Bs, N_Cr and P2*), recording every
    /// frame in this case, so that a late answer or the rest of a transfer belongs to the
    /// case that caused it and the next case starts on a quiet bus. A busy node is noted.
    pub(crate) async fn settle_can(&mut self) {
        if self.can.is_none() {
            return;
        }
        let started = Instant::now();
        let hard = started + self.settings.settle_bound;
        let (frames, last) = self.read_until_quiet(self.settings.settle_quiet).await;
        let Some(last) = last else { return };
        let busy = last.duration_since(started);
        let still = if Instant::now() >= hard {
            format!(
                ", and was still sending after {} (the longest of N_Bs, N_Cr and P2*)",
                format_duration(self.settings.settle_bound)
            )
        } else {
            String::new()
        };
        self.rec.note(format!(
            "after the last step the node kept the bus busy for {}: {frames} frame{} recorded in this case, not matched by the next{still}",
            measured(busy),
            if frames == 1 { "" } else { "s" }
        ));
    }

    /// Reads (and records) frames until none came for `quiet`, at most `isotp.settle_time`'s
    /// bound in all: the frames read and when the last came.
    pub(super) async fn read_until_quiet(&mut self, quiet: Duration) -> (u32, Option<Instant>) {
        let hard = Instant::now() + self.settings.settle_bound;
        let (mut frames, mut last) = (0u32, None);
        loop {
            let deadline = (Instant::now() + quiet).min(hard);
            match self.can_receive(deadline).await {
                Ok(Some(_)) => {
                    frames += 1;
                    last = Some(Instant::now());
                    if Instant::now() >= hard {
                        break;
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        (frames, last)
    }

    /// `count` matching frames in a row: `within` bounds each from the previous match (the
    /// first from the step's start), `not_before` bounds the first.
    pub(super) async fn can_expect(
        &mut self,
        id: &Expr,
        data: Option<&Expr>,
        timing: &TimeBounds,
        (gap_min, gap_max): (Option<&Expr>, Option<&Expr>),
        count: Option<&Expr>,
    ) -> Result<(), Failure> {
        let count = self.count(count)?;
        let frame = CanExpectation {
            id: self.int(id)?,
            pattern: data.map(|d| self.pattern(d, None)).transpose()?,
            gap_min: self.opt_duration(gap_min)?,
            gap_max: self.opt_duration(gap_max)?,
        };
        let mut window = self.window(timing.within.as_ref(), timing.not_before.as_ref())?;
        self.ensure_can().await?;
        for _ in 0..count {
            self.can_expect_one(&frame, &window).await?;
            window.not_before = None;
        }
        Ok(())
    }

    /// One frame with the expected id: data pattern, gap since the previous frame on the bus
    /// (gap_min / gap_max with `can.gap_tolerance`), then `not_before`; frames with other ids
    /// are recorded and passed over. Each check has its own sentence.
    async fn can_expect_one(
        &mut self,
        frame: &CanExpectation,
        window: &Window,
    ) -> Result<(), Failure> {
        let CanExpectation { id: want, ref pattern, gap_min, gap_max } = *frame;
        let start = self.rec.now();
        let deadline = super::deadline_after(window.wait());
        loop {
            let Some((at, rx)) = self.can_receive(deadline).await? else {
                return Err(fail(format!(
                    "expected a CAN frame with id {want:#x} within {}, none arrived",
                    format_duration(window.within)
                )));
            };
            let previous = self.last_can_at.replace(at);
            if u64::from(rx.frame.id().raw()) != want {
                continue;
            }
            let actual = || Arrived::can(&rx.frame, SHOWN_AS);
            if let Some(p) = pattern
                && !p.matches(rx.frame.data())
            {
                return Err(mismatch(
                    format!("CAN frame {want:#x} data does not match {p}"),
                    actual(),
                    vec![],
                )
                .expecting(p));
            }
            if let Some(prev) = previous {
                let gap = at.since(prev);
                let tolerance = self.settings.gap_tolerance;
                let bound = match within_bounds(gap, gap_min, gap_max, tolerance) {
                    Ok(()) => None,
                    Err(Violation::Early { not_before }) => {
                        Some(format!("less than gap_min {}", format_duration(not_before)))
                    }
                    Err(Violation::Late { within }) => {
                        Some(format!("more than gap_max {}", format_duration(within)))
                    }
                };
                if let Some(bound) = bound {
                    if let Some(late) = self.simulator_late(prev, at, tolerance) {
                        let what = format!("CAN frame {want:#x}");
                        return Err(too_late(simulator_late_message(&what, late)));
                    }
                    return Err(mismatch(
                        format!(
                            "CAN frame {want:#x} came {} after the previous frame, {bound}",
                            measured(gap)
                        ),
                        actual(),
                        vec![],
                    ));
                }
            }
            if let Err(Violation::Early { not_before }) = window.check_not_early(at.since(start)) {
                return Err(mismatch(
                    early_message(&format!("CAN frame {want:#x}"), at.since(start), not_before),
                    actual(),
                    vec![],
                ));
            }
            self.last_received_at = Some(at);
            return Ok(());
        }
    }

    /// `expect_none` on `can`: no frame with `id` (default the profile's `isotp.rx_id`, the
    /// target's) arrives for `d`; frames with other ids are recorded and passed over.
    pub(super) async fn can_expect_none(
        &mut self,
        d: Duration,
        id: Option<&Expr>,
    ) -> Result<(), Failure> {
        let want = match id {
            Some(e) => self.int(e)?,
            None => u64::from(self.env.profile.target().isotp.rx_id),
        };
        self.ensure_can().await?;
        let start = self.rec.now();
        let deadline = super::deadline_after(d);
        while let Some((at, rx)) = self.can_receive(deadline).await? {
            self.last_can_at = Some(at);
            if u64::from(rx.frame.id().raw()) == want {
                return Err(mismatch(
                    format!(
                        "expected no CAN frame with id {want:#x} for {}, one arrived after {}",
                        format_duration(d),
                        measured(at.since(start))
                    ),
                    Arrived::can(&rx.frame, SHOWN_AS),
                    vec![],
                ));
            }
        }
        Ok(())
    }
}
