//! The wait for the answer to one UDS request, sans-I/O: P2 for the first answer, and after
//! each "response pending" (`7F SID 78`) P2* again, measured from that 0x78 (ISO 14229-2
//! §7.2, P2/P2* server; ISO 14229-1 §8.7.1, NRC 0x78). The runner's steps, the client
//! session (`request`), the ISO-TP fuzzer's probes and the judge's `timing.uds_p2` rule over a
//! capture use this one timer.
//!
//! Time is an argument of any monotonic type (`std::time::Instant`, a capture's offset as a
//! `Duration`, `proto::time::Instant`), so the wait is tested on a virtual clock at its exact
//! bounds. The caller feeds what came ([`AnswerWait::on_answer`]) and asks when to stop
//! waiting ([`AnswerWait::deadline`]); the window says whether an answer came in time.

use super::window::Window;
use crate::codec::uds::Response;
use core::ops::Add;
use core::time::Duration;

/// "Response pending" answers one request may bring: each restarts P2*, so without a bound
/// an entity could keep the tester waiting forever (ISO 14229-1 sets none; 32 x 5 s is over
/// two minutes).
pub const MAX_PENDING: u32 = 32;

/// The server's response times a request is held to, with the tester's tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdsTimes {
    /// P2 server: the first answer after the request.
    pub p2: Duration,
    /// P2* server: the next answer after a response pending.
    pub p2_star: Duration,
    /// Slack on every bound (`timing.tolerance`).
    pub tolerance: Duration,
}

/// What an answer means to the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// `7F SID 78`: not the answer yet; the wait goes on under P2* from it.
    Pending,
    /// The final answer (positive or negative).
    Final,
    /// A response pending beyond [`MAX_PENDING`]: the tester stops waiting.
    TooManyPending,
}

/// True for `7F SID 78` (ISO 14229-1 §8.7.1), whatever follows: the codec's reading of a
/// response.
pub fn is_response_pending(uds: &[u8]) -> bool {
    Response::parse(uds).is_ok_and(|r| r.is_response_pending())
}

/// The wait for one request's answer, from `since` (the request, or the last response
/// pending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerWait<T> {
    times: UdsTimes,
    since: T,
    pending: u32,
}

impl<T: Copy + Add<Duration, Output = T>> AnswerWait<T> {
    /// The wait for the answer to a request that went at `sent`.
    pub fn start(times: UdsTimes, sent: T) -> Self {
        AnswerWait { times, since: sent, pending: 0 }
    }

    /// When the time of the next answer is measured from: the request, or the last 0x78.
    pub fn since(&self) -> T {
        self.since
    }

    /// Response pending answers so far.
    pub fn pending(&self) -> u32 {
        self.pending
    }

    /// The window of the next answer, measured from [`AnswerWait::since`]: P2, or P2* after
    /// a response pending.
    pub fn window(&self) -> Window {
        let within = if self.pending == 0 { self.times.p2 } else { self.times.p2_star };
        Window::new(within, None, self.times.tolerance)
    }

    /// The limit's name, for messages: `P2` or `P2* (after NRC 0x78)`.
    pub fn limit_name(&self) -> &'static str {
        if self.pending == 0 { "P2" } else { "P2* (after NRC 0x78)" }
    }

    /// When the tester stops waiting for the next answer (the window's end).
    pub fn deadline(&self) -> T {
        self.since + self.window().wait()
    }

    /// An answer `uds` came at `at`: a response pending restarts the wait under P2* from it.
    pub fn on_answer(&mut self, at: T, uds: &[u8]) -> Answered {
        if !is_response_pending(uds) {
            return Answered::Final;
        }
        self.pending += 1;
        self.since = at;
        if self.pending > MAX_PENDING { Answered::TooManyPending } else { Answered::Pending }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::window::Violation;

    const MS: Duration = Duration::from_millis(1);
    const US: Duration = Duration::from_micros(1);
    const TIMES: UdsTimes = UdsTimes {
        p2: Duration::from_millis(50),
        p2_star: Duration::from_millis(5000),
        tolerance: Duration::from_millis(10),
    };

    #[test]
    fn the_first_answer_is_due_within_p2_plus_tolerance_inclusive() {
        let wait = AnswerWait::start(TIMES, Duration::ZERO);
        assert_eq!(wait.deadline(), MS * 60);
        assert_eq!(wait.window().check(MS * 60), Ok(()));
        assert_eq!(wait.window().check(MS * 60 + US), Err(Violation::Late { within: MS * 50 }));
        assert_eq!(wait.limit_name(), "P2");
    }

    #[test]
    fn a_response_pending_restarts_the_wait_under_p2_star_from_it() {
        let mut wait = AnswerWait::start(TIMES, MS * 100);
        assert_eq!(wait.on_answer(MS * 140, &[0x7F, 0x22, 0x78]), Answered::Pending);
        assert_eq!(wait.since(), MS * 140);
        assert_eq!(wait.pending(), 1);
        assert_eq!(wait.deadline(), MS * 140 + MS * 5010);
        assert_eq!(wait.limit_name(), "P2* (after NRC 0x78)");
        // The final answer is judged from the 0x78: 5010 ms after it is in time, 1 us more is not.
        assert_eq!(wait.window().check(MS * 5010), Ok(()));
        assert!(wait.window().check(MS * 5010 + US).is_err());
        assert_eq!(wait.on_answer(MS * 200, &[0x62, 0xF1, 0x90]), Answered::Final);
        assert_eq!(wait.on_answer(MS * 200, &[0x7F, 0x22, 0x31]), Answered::Final);
    }

    #[test]
    fn response_pending_is_bounded() {
        let mut wait = AnswerWait::start(TIMES, Duration::ZERO);
        for i in 1..=MAX_PENDING {
            assert_eq!(wait.on_answer(MS * i, &[0x7F, 0x10, 0x78]), Answered::Pending);
        }
        assert_eq!(wait.on_answer(MS * 99, &[0x7F, 0x10, 0x78]), Answered::TooManyPending);
    }

    #[test]
    fn only_7f_sid_78_is_pending() {
        assert!(is_response_pending(&[0x7F, 0x22, 0x78]));
        assert!(is_response_pending(&[0x7F, 0x22, 0x78, 0x00]));
        assert!(!is_response_pending(&[0x7F, 0x78]));
        assert!(!is_response_pending(&[0x78, 0x22, 0x78]));
        assert!(!is_response_pending(&[]));
    }
}
