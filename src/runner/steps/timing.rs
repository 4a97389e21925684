//! The one timing check of every waiting step: `within` (the latest an answer may come),
//! `not_before` (the earliest) and the profile's `timing.tolerance` as slack on both sides.
//!
//! Pure: durations in, verdicts out. The steps measure `elapsed` from the step's start to the
//! read that completed the frame (the run clock, see `runner::record::Clock`) and ask here.
//! The bounds are inclusive: an answer at exactly `within + tolerance` is in time, one at
//! exactly `not_before - tolerance` is not early (docs/suite-format.md#steps: the tolerance).

use std::time::Duration;

/// When a step's match may arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The latest arrival, measured from the step's start (before tolerance).
    pub within: Duration,
    /// The earliest arrival (before tolerance); `None`: any time.
    pub not_before: Option<Duration>,
    /// Slack granted on both bounds (`profile.timing.tolerance`).
    pub tolerance: Duration,
}

/// How an arrival broke its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// It came before `not_before - tolerance`.
    Early { not_before: Duration },
    /// It came after `within + tolerance`.
    Late { within: Duration },
}

impl Window {
    pub fn new(within: Duration, not_before: Option<Duration>, tolerance: Duration) -> Window {
        Window { within, not_before, tolerance }
    }

    /// How long a step waits for its match: `within` plus the tolerance.
    pub fn wait(&self) -> Duration {
        self.within.saturating_add(self.tolerance)
    }

    /// Judges an arrival `elapsed` after the step started.
    pub fn check(&self, elapsed: Duration) -> Result<(), Violation> {
        if let Some(not_before) = self.not_before
            && elapsed.saturating_add(self.tolerance) < not_before
        {
            return Err(Violation::Early { not_before });
        }
        if elapsed > self.wait() {
            return Err(Violation::Late { within: self.within });
        }
        Ok(())
    }

    /// Only the lower bound: for arrivals already known to be within the wait (a read bounded
    /// by [`Window::wait`] returns no later than it, but a few microseconds of scheduling may
    /// separate the deadline from the time stamp).
    pub fn check_not_early(&self, elapsed: Duration) -> Result<(), Violation> {
        match self.check(elapsed) {
            Err(Violation::Late { .. }) => Ok(()),
            other => other,
        }
    }
}

/// `max` / `min` bounds of a measured value (`measure`, CAN gaps), with the same slack.
pub fn within_bounds(
    value: Duration,
    min: Option<Duration>,
    max: Option<Duration>,
    tolerance: Duration,
) -> Result<(), Violation> {
    let window = Window { within: max.unwrap_or(Duration::MAX), not_before: min, tolerance };
    window.check(value)
}

/// tokio's timer wheel rounds a deadline up to its next 1 ms tick (`transport::timer`): a read
/// that completes up to this long after its deadline is the target's timing, not our delay.
pub const TIMER_ROUNDING: Duration = Duration::from_millis(2);

/// Our own scheduling delay, when it spoils a time stamped by our read (TCP and TLS: no kernel
/// stamp). A read bounded by a deadline that completes after it means our task ran late: on
/// time, the deadline's timer would have ended the read first. The frame may have arrived
/// any time before the read, so when our delay (past the deadline, less the timer's rounding)
/// exceeds the tolerance, whether it came in time cannot be told: `Some(delay)`, and the step
/// is inconclusive rather than failed. Times are measured from the step's start.
pub fn harness_delay(read: Duration, deadline: Duration, tolerance: Duration) -> Option<Duration> {
    let delay = read.checked_sub(deadline)?.checked_sub(TIMER_ROUNDING)?;
    (delay > tolerance).then_some(delay)
}

/// The sentence of a time our own delay spoiled (see [`harness_delay`]).
pub fn harness_delay_message(what: &str, read: Duration, delay: Duration) -> String {
    format!(
        "{what} was read {} after the step started, but the harness itself ran {} late (a busy machine?): whether it came in time cannot be told",
        measured(read),
        measured(delay)
    )
}

/// The sentence of an early arrival: `{what} arrived after 1.2ms, earlier than not_before 2s`.
pub fn early_message(what: &str, elapsed: Duration, not_before: Duration) -> String {
    format!(
        "{what} arrived after {}, earlier than not_before {}",
        measured(elapsed),
        crate::suite::value::format_duration(not_before)
    )
}

/// The sentence of a late arrival: a frame read in the same instant its deadline passed is
/// judged by its time stamp, so the verdict always agrees with the time the report shows.
pub fn late_message(
    what: &str,
    elapsed: Duration,
    within: Duration,
    tolerance: Duration,
) -> String {
    format!(
        "{what} arrived after {}, later than within {} (+{} tolerance)",
        measured(elapsed),
        crate::suite::value::format_duration(within),
        crate::suite::value::format_duration(tolerance)
    )
}

/// A duration measured at run time, in a readable unit (`1.234ms`, `2.000s`, `17us`).
pub fn measured(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.3}s", d.as_secs_f64())
    } else if d >= Duration::from_millis(1) {
        format!("{:.3}ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{}us", d.as_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const US: Duration = Duration::from_micros(1);

    fn window(within_ms: u64, not_before_ms: Option<u64>, tolerance_ms: u64) -> Window {
        let ms = Duration::from_millis;
        Window::new(ms(within_ms), not_before_ms.map(ms), ms(tolerance_ms))
    }

    #[test]
    fn the_upper_bound_is_within_plus_tolerance_inclusive() {
        let w = window(100, None, 50);
        assert_eq!(w.wait(), MS * 150);
        assert_eq!(w.check(MS * 150), Ok(()));
        assert_eq!(w.check(MS * 150 + US), Err(Violation::Late { within: MS * 100 }));
        assert_eq!(w.check(Duration::ZERO), Ok(()));
    }

    #[test]
    fn the_lower_bound_is_not_before_minus_tolerance_inclusive() {
        let w = window(3000, Some(2000), 50);
        assert_eq!(w.check(MS * 1950), Ok(()));
        assert_eq!(w.check(MS * 1950 - US), Err(Violation::Early { not_before: MS * 2000 }));
        assert_eq!(w.check(MS * 2000), Ok(()));
    }

    #[test]
    fn zero_tolerance_makes_both_bounds_exact() {
        let w = window(10, Some(5), 0);
        assert_eq!(w.check(MS * 5 - US), Err(Violation::Early { not_before: MS * 5 }));
        assert_eq!(w.check(MS * 5), Ok(()));
        assert_eq!(w.check(MS * 10), Ok(()));
        assert_eq!(w.check(MS * 10 + US), Err(Violation::Late { within: MS * 10 }));
    }

    #[test]
    fn a_tolerance_larger_than_not_before_never_reports_early() {
        let w = window(100, Some(20), 50);
        assert_eq!(w.check(Duration::ZERO), Ok(()));
    }

    #[test]
    fn huge_bounds_saturate_instead_of_overflowing() {
        let w = Window::new(Duration::MAX, None, Duration::from_secs(1));
        assert_eq!(w.wait(), Duration::MAX);
        assert_eq!(w.check(Duration::MAX), Ok(()));
    }

    #[test]
    fn check_not_early_ignores_the_upper_bound() {
        let w = window(100, Some(50), 0);
        assert_eq!(w.check_not_early(MS * 500), Ok(()));
        assert!(w.check_not_early(MS * 10).is_err());
    }

    #[test]
    fn measured_bounds_share_the_tolerance() {
        let t = MS * 2;
        assert_eq!(within_bounds(MS * 12, None, Some(MS * 10), t), Ok(()));
        assert_eq!(
            within_bounds(MS * 12 + US, None, Some(MS * 10), t),
            Err(Violation::Late { within: MS * 10 })
        );
        assert_eq!(within_bounds(MS * 8, Some(MS * 10), None, t), Ok(()));
        assert_eq!(
            within_bounds(MS * 8 - US, Some(MS * 10), None, t),
            Err(Violation::Early { not_before: MS * 10 })
        );
    }

    #[test]
    fn our_delay_past_the_deadline_beyond_rounding_and_tolerance_is_ours() {
        let (deadline, tolerance) = (MS * 100, MS * 5);
        // Read before the deadline, or late by no more than the timer's rounding plus the
        // tolerance: the target's timing.
        assert_eq!(harness_delay(MS * 99, deadline, tolerance), None);
        assert_eq!(harness_delay(MS * 107, deadline, tolerance), None);
        // Any later and our own delay exceeds the tolerance.
        assert_eq!(harness_delay(MS * 107 + US, deadline, tolerance), Some(MS * 5 + US));
        assert_eq!(harness_delay(MS * 300, deadline, Duration::ZERO), Some(MS * 198));
    }

    #[test]
    fn measured_durations_read_in_a_fitting_unit() {
        assert_eq!(measured(US * 17), "17us");
        assert_eq!(measured(US * 1234), "1.234ms");
        assert_eq!(measured(Duration::from_secs(2)), "2.000s");
    }
}
