//! What the waiting steps add to the one timing window (`proto::window`): whether a time our
//! own read stamped was spoiled by our lateness, and the sentences of early and late arrivals.
//! The steps measure `elapsed` from the step's start to the read that completed the frame
//! (the run clock, see `runner::record::Clock`).

use std::time::Duration;

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

/// The built-in simulator is our own code on our own machine: when it sent a timed frame
/// (an announcement, a paced consecutive frame) later than the rule's tolerance around the
/// time a rule saw broken, the machine was too busy to tell (`sim_host::LateLog`).
pub fn simulator_late_message(what: &str, late: Duration) -> String {
    format!(
        "{what} broke its timing bound, but the built-in simulator itself sent a timed frame {} late (a busy machine?) around then: whether a conformant entity would have kept it cannot be told",
        measured(late)
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
