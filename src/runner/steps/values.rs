//! Steps that work on what earlier steps saw: `capture` (fields of the last matched message
//! become `${name}`) and `measure` (the time from the last frame sent to the last match).

use super::Execute;
use super::timing::measured;
use crate::proto::window::{Violation, within_bounds};
use crate::runner::case::CaseRun;
use crate::runner::event::{Event, MetricEvent};
use crate::runner::failure::{Failure, error, fail};
use crate::runner::message as msg;
use crate::suite::steps::{Capture, Measure};
use crate::suite::value::{Expr, format_duration};

impl Execute for Capture {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.capture(&self.0)
    }
}

impl Execute for Measure {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.measure(&self.name, self.min.as_ref(), self.max.as_ref())
    }
}

impl CaseRun<'_> {
    pub(super) fn capture(&mut self, pairs: &[(String, String)]) -> Result<(), Failure> {
        let m = self
            .last_message
            .as_ref()
            .ok_or_else(|| error("`capture` needs a message matched by an earlier `expect`"))?;
        let mut values = Vec::new();
        for (name, field) in pairs {
            let v = msg::capture_field(m, field).ok_or_else(|| {
                error(format!(
                    "the last matched message ({}) has no field `{field}`",
                    m.payload.payload_type().id().unwrap_or("unknown")
                ))
            })?;
            values.push((name.clone(), v));
        }
        for (name, v) in values {
            self.rec.note(format!("captured {name} = {v}"));
            self.scope.insert(name, v);
        }
        Ok(())
    }

    /// Records the metric, then judges it against `min` / `max` (± the tolerance).
    pub(super) fn measure(
        &mut self,
        name: &str,
        min: Option<&Expr>,
        max: Option<&Expr>,
    ) -> Result<(), Failure> {
        let (Some(sent), Some(received)) = (self.last_sent_at, self.last_received_at) else {
            return Err(error("`measure` needs a frame sent and a message matched before it"));
        };
        let value = received.since(sent);
        let (min, max) = (self.opt_duration(min), self.opt_duration(max));
        let tolerance = self.settings.tolerance;
        // The bounds travel with the value, so reports can plot it against its window.
        self.rec.emit(Event::Metric(MetricEvent {
            case: self.rec.case,
            at: self.rec.now(),
            name: name.to_owned(),
            value,
            min: min.as_ref().ok().copied().flatten(),
            max: max.as_ref().ok().copied().flatten(),
            tolerance,
        }));
        let (min, max) = (min?, max?);
        match within_bounds(value, min, max, tolerance) {
            Ok(()) => Ok(()),
            Err(Violation::Late { within }) => Err(fail(format!(
                "{name} took {}, more than the allowed {} (+{} tolerance)",
                measured(value),
                format_duration(within),
                format_duration(tolerance)
            ))),
            Err(Violation::Early { not_before }) => Err(fail(format!(
                "{name} took {}, less than the required {}",
                measured(value),
                format_duration(not_before)
            ))),
        }
    }
}
