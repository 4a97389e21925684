//! How late the built-in simulator sent what its timers scheduled (announcements, an ECU's
//! consecutive frames paced by STmin, delayed answers). The simulator is the harness's own
//! code on the harness's machine: when that machine is busy, the simulator sends late, and a
//! timing rule the case then sees broken is our lateness, not the target's. The runner asks
//! this log before it fails a timing rule against the built-in simulator, and makes the step
//! inconclusive instead when the simulator ran later than the rule's tolerance.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Lateness below this is the timer's own precision, not a busy machine.
const RECORDED_ABOVE: Duration = Duration::from_millis(1);

/// At most this many late sends are remembered (the oldest go first): a case asks about the
/// last few hundred milliseconds.
const CAPACITY: usize = 256;

/// The late sends of one simulator instance: when each went out and how late it was.
#[derive(Debug, Default)]
pub struct LateLog {
    sends: Mutex<VecDeque<(Instant, Duration)>>,
}

impl LateLog {
    /// A timer due at `due` fired and its outputs went out at `sent`.
    pub fn record(&self, due: Instant, sent: Instant) {
        let late = sent.saturating_duration_since(due);
        if late <= RECORDED_ABOVE {
            return;
        }
        let mut sends = self.sends.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if sends.len() == CAPACITY {
            sends.pop_front();
        }
        sends.push_back((sent, late));
    }

    /// The most the simulator was late with a send that went out between `from` and `to`.
    pub fn late_between(&self, from: Instant, to: Instant) -> Option<Duration> {
        let sends = self.sends.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sends.iter().filter(|(at, _)| (from..=to).contains(at)).map(|(_, late)| *late).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sends_later_than_the_timer_precision_are_kept_and_asked_by_window() {
        let log = LateLog::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        log.record(t0, t0 + ms(1));
        log.record(t0 + ms(10), t0 + ms(40));
        log.record(t0 + ms(100), t0 + ms(105));
        assert_eq!(log.late_between(t0, t0 + ms(20)), None);
        assert_eq!(log.late_between(t0, t0 + ms(40)), Some(ms(30)));
        assert_eq!(log.late_between(t0 + ms(41), t0 + ms(200)), Some(ms(5)));
        for i in 0..CAPACITY as u64 + 10 {
            log.record(t0 + ms(1000 + i), t0 + ms(1010 + i));
        }
        assert_eq!(log.sends.lock().unwrap().len(), CAPACITY);
        assert_eq!(log.late_between(t0, t0 + ms(200)), None, "the oldest went first");
    }
}
