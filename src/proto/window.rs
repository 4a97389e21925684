//! The one timing window of the project: the latest an answer may come (`within`), the
//! earliest (`not_before`), and a tolerance as slack on both sides. Every caller that judges
//! a time uses it: the runner's waiting steps, the P2/P2* wait of a UDS request
//! ([`super::uds_wait`]), the judge's timing rules over a capture, the client and the fuzzers.
//!
//! Pure: durations in, verdicts out. The bounds are inclusive: an answer at exactly
//! `within + tolerance` is in time, one at exactly `not_before - tolerance` is not early
//! (docs/suite-format.md#steps: the tolerance).

use core::time::Duration;

/// When an answer may arrive, measured from what it answers (a step's start, a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The latest arrival (before tolerance).
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

    /// How long a caller waits: `within` plus the tolerance.
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

    /// True when an arrival `elapsed` after the start is past `within + tolerance`.
    pub fn is_late(&self, elapsed: Duration) -> bool {
        elapsed > self.wait()
    }

    /// True when an arrival `elapsed` after the start is before `not_before - tolerance`.
    pub fn is_early(&self, elapsed: Duration) -> bool {
        matches!(self.check(elapsed), Err(Violation::Early { .. }))
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
}
