//! Protocol time: a monotonic instant handed in by the caller, so every pure state machine
//! (ISO-TP, the simulator's DoIP timers) is driven by a real clock in production and by a
//! virtual clock in tests, where a timeout is checked at its exact boundary without sleeping.
//!
//! An [`Instant`] is a [`Duration`] since an epoch the driver chooses (its start, usually).

use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point on the driver's monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Duration);

impl Instant {
    /// The driver's epoch.
    pub const ZERO: Instant = Instant(Duration::ZERO);

    /// The instant `since_epoch` after the driver's epoch.
    pub const fn from_epoch(since_epoch: Duration) -> Self {
        Instant(since_epoch)
    }

    /// Convenience for tests and virtual clocks.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(Duration::from_millis(ms))
    }

    /// Convenience for tests and virtual clocks.
    pub const fn from_micros(us: u64) -> Self {
        Instant(Duration::from_micros(us))
    }

    pub const fn since_epoch(self) -> Duration {
        self.0
    }

    /// Time from `earlier` to `self`, zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self + d`, saturating instead of overflowing (a hostile timer value cannot panic).
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating: huge configured timers mean "never", not a panic.
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturating at zero, like [`Instant::saturating_duration_since`].
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_huge_duration_saturates_instead_of_panicking() {
        let t = Instant::from_millis(5) + Duration::MAX;
        assert_eq!(t.since_epoch(), Duration::MAX);
    }

    #[test]
    fn subtraction_saturates_at_zero() {
        assert_eq!(Instant::from_millis(1) - Instant::from_millis(3), Duration::ZERO);
        assert_eq!(Instant::from_millis(3) - Instant::from_millis(1), Duration::from_millis(2));
    }
}
