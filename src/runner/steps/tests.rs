//! Steps on a virtual clock: a case runs against an in-process peer on tokio's paused
//! clock, so answers arrive at exact microseconds and `within` / `not_before` / tolerance
//! are checked at their boundaries without sleeping (as the ISO-TP timers in `proto` are).
//!
//! The profile is `Profile::defaults()`: tolerance 50 ms, A_DoIP_Ctrl 2 s.

use crate::runner::case::{Attempt, CaseEnv, CaseRun, TargetEndpoints};
use crate::runner::conn::Connection;
use crate::runner::event::{CaseKey, Event, Verdict};
use crate::runner::record::{Clock, Recorder};
use crate::suite::diag::Diagnostics;
use crate::suite::load::Loaded;
use crate::suite::profile::Profile;
use crate::suite::select::{Filter, SelectedCase, select_cases};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// A routing activation response from entity 0x1000 to tester 0x0E80, code 0x10 (activated).
const ACTIVATED: [u8; 17] =
    [0x02, 0xFD, 0x00, 0x06, 0, 0, 0, 9, 0x0E, 0x80, 0x10, 0x00, 0x10, 0, 0, 0, 0];

fn planned(steps: &str) -> SelectedCase {
    planned_with("[]", steps)
}

/// A case of `steps` in a suite with `handlers` (YAML list).
fn planned_with(handlers: &str, steps: &str) -> SelectedCase {
    let text = format!(
        "suite: t\ntitle: t\nhandlers: {handlers}\ncases:\n  - id: T-1\n    title: t\n    steps:\n{steps}"
    );
    let tree = crate::suite::yaml::parse(&text).expect("test YAML parses");
    let mut d = Diagnostics::new(Path::new("t.yaml"));
    let suite = crate::suite::read::read_suite(Path::new("t.yaml"), &tree, &mut d);
    assert!(d.is_empty(), "{:?}", d.list);
    let loaded = Loaded { suites: vec![Arc::new(suite.expect("the suite reads"))] };
    select_cases(&loaded, &Profile::defaults(), &Filter::default()).remove(0)
}

/// What the peer does once it has read the harness's first message.
enum Peer {
    /// Answer `bytes` this long after the request.
    AnswerAfter(Duration, &'static [u8]),
    /// Close the connection this long after the request.
    CloseAfter(Duration),
    /// Never answer (the clock then runs to the step's deadline by itself).
    Silent,
    /// Answer `bytes` this long after the request, then move the clock on by `stall` before
    /// the harness's task runs again: the answer came in time, the harness read it late (a
    /// busy machine).
    AnswerThenStall(Duration, &'static [u8], Duration),
    /// Answers each of these, each its delay after the one before.
    Answers(&'static [(Duration, &'static [u8])]),
}

/// Runs `steps` on the paused clock against `peer`; the verdict and every event.
async fn run(steps: &str, peer: Peer) -> (Attempt, Vec<Event>) {
    run_planned(planned(steps), peer).await
}

async fn run_planned(planned: SelectedCase, peer: Peer) -> (Attempt, Vec<Event>) {
    run_against(planned, peer, None).await
}

/// [`run_planned`] against the built-in simulator behind `simulator`.
async fn run_against(
    planned: SelectedCase,
    peer: Peer,
    simulator: Option<crate::transport::doip::sim_host::SimControl>,
) -> (Attempt, Vec<Event>) {
    let env = CaseEnv {
        profile: Arc::new(Profile::defaults()),
        tls: None,
        connect_timeout: Duration::from_secs(1),
    };
    let endpoints = TargetEndpoints {
        ip: [127, 0, 0, 1].into(),
        tcp: 13400,
        udp: 13400,
        tls: 3496,
        can: None,
        simulator,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let rec = Recorder::new(CaseKey(0), Clock::start(), tx);
    let plan = crate::runner::plan::plan_case(&planned, &env.profile).expect("planned");
    let mut case = CaseRun::new(&planned, plan, &env, endpoints, rec).expect("the case starts");
    let (ours, mut theirs): (DuplexStream, DuplexStream) = tokio::io::duplex(4096);
    let conn = Connection::in_memory(ours, &mut case.rec);
    case.conns.insert("main".into(), conn);
    // The peer moves the paused clock itself (`advance` is exact to the nanosecond, where
    // timers are rounded to milliseconds), so an answer lands at the very microsecond.
    let peer = async move {
        let mut request = [0u8; 64];
        let _ = theirs.read(&mut request).await;
        match peer {
            Peer::AnswerAfter(d, bytes) => {
                tokio::time::advance(d).await;
                let _ = theirs.write_all(bytes).await;
                Some(theirs)
            }
            Peer::CloseAfter(d) => {
                tokio::time::advance(d).await;
                None
            }
            Peer::Silent => Some(theirs),
            Peer::AnswerThenStall(d, bytes, stall) => {
                tokio::time::advance(d).await;
                let _ = theirs.write_all(bytes).await;
                tokio::time::advance(stall).await;
                Some(theirs)
            }
            Peer::Answers(answers) => {
                for (d, bytes) in answers {
                    tokio::time::advance(*d).await;
                    let _ = theirs.write_all(bytes).await;
                    tokio::task::yield_now().await;
                }
                Some(theirs)
            }
        }
    };
    let (attempt, open) = tokio::join!(case.run(), peer);
    drop((case, open));
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (attempt, events)
}

const MS: Duration = Duration::from_millis(1);
const US: Duration = Duration::from_micros(1);

const ACTIVATE_WITHIN_100MS: &str = "      - send: { routing_activation_request: {} }
      - expect: { routing_activation_response: { response_code: successfully_activated }, within: 100ms }
";

fn reason(a: &Attempt) -> String {
    a.reason.as_ref().map(|r| r.message.clone()).unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn an_answer_just_inside_within_plus_tolerance_passes() {
    let (a, _) = run(ACTIVATE_WITHIN_100MS, Peer::AnswerAfter(MS * 150 - US, &ACTIVATED)).await;
    assert_eq!(a.verdict, Verdict::Pass, "{}", reason(&a));
}

#[tokio::test(start_paused = true)]
async fn an_answer_just_after_within_plus_tolerance_fails_as_late() {
    let (a, _) = run(ACTIVATE_WITHIN_100MS, Peer::AnswerAfter(MS * 150 + US, &ACTIVATED)).await;
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(
        reason(&a),
        "routing_activation_response arrived after 150.001ms, later than within 100ms (+50ms tolerance)"
    );
    let (a, _) = run(ACTIVATE_WITHIN_100MS, Peer::Silent).await;
    assert_eq!(reason(&a), "expected routing_activation_response within 100ms, nothing arrived");
}

/// Against the built-in simulator, a late answer is the simulator's only when it did not run
/// late itself: a timed send of its that went out 60 ms late (more than the 50 ms tolerance)
/// while the step waited makes the step inconclusive; 40 ms late (within it), the answer fails.
#[tokio::test(start_paused = true)]
async fn a_late_answer_while_the_built_in_simulator_ran_late_itself_is_inconclusive() {
    use crate::transport::doip::sim_host::{LateLog, SimControl};
    let late_by = |late: Duration| {
        let log = Arc::new(LateLog::default());
        let sent = tokio::time::Instant::now() + MS * 120;
        log.record(sent - late, sent);
        Some(SimControl::with_late_log(log))
    };
    let planned = || planned(ACTIVATE_WITHIN_100MS);
    let answer = || Peer::AnswerAfter(MS * 150 + US, &ACTIVATED);
    let (a, _) = run_against(planned(), answer(), late_by(MS * 60)).await;
    assert_eq!(a.verdict, Verdict::Inconclusive, "{}", reason(&a));
    assert!(reason(&a).contains("the built-in simulator itself sent a timed frame 60.000ms late"));
    let (a, _) = run_against(planned(), answer(), late_by(MS * 40)).await;
    assert_eq!(a.verdict, Verdict::Fail, "{}", reason(&a));
}

/// The diagnostic message ACK from 0x1000 to 0x0E80, a UDS "response pending" (7F 22 78)
/// and the answer 62 F1 90.
const ACK: [u8; 13] = [0x02, 0xFD, 0x80, 0x02, 0, 0, 0, 5, 0x10, 0x00, 0x0E, 0x80, 0x00];
const PENDING: [u8; 15] =
    [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x10, 0x00, 0x0E, 0x80, 0x7F, 0x22, 0x78];
const ANSWER: [u8; 15] =
    [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x10, 0x00, 0x0E, 0x80, 0x62, 0xF1, 0x90];
const READ_WITHIN_100MS: &str = "      - send: { routing_activation_request: {} }
      - expect: { routing_activation_response: {}, within: 100ms }
      - send: { diagnostic_message: { user_data: \"22 F1 90\" } }
      - expect: { diagnostic_message_ack: {}, within: 100ms }
      - expect: { diagnostic_message: { user_data: \"62 F1 90\" }, within: 100ms }
";

/// After NRC 0x78 the answer is due within P2* (5 s by default) of the 0x78, not within the
/// step's own `within` (ISO 14229-2): 90 ms + 3 s passes, 90 ms + P2* + tolerance + 1 us fails.
#[tokio::test(start_paused = true)]
async fn an_answer_after_response_pending_is_judged_against_p2_star_from_the_0x78() {
    let handlers = "[tolerate_response_pending]";
    const IN_TIME: &[(Duration, &[u8])] = &[
        (Duration::from_millis(1), &ACTIVATED),
        (Duration::from_millis(10), &ACK),
        (Duration::from_millis(80), &PENDING),
        (Duration::from_secs(3), &ANSWER),
    ];
    let (a, _) =
        run_planned(planned_with(handlers, READ_WITHIN_100MS), Peer::Answers(IN_TIME)).await;
    assert_eq!(a.verdict, Verdict::Pass, "{}", reason(&a));
    const LATE: &[(Duration, &[u8])] = &[
        (Duration::from_millis(1), &ACTIVATED),
        (Duration::from_millis(10), &ACK),
        (Duration::from_millis(80), &PENDING),
        (Duration::from_micros(5_050_001), &ANSWER),
    ];
    let (a, _) = run_planned(planned_with(handlers, READ_WITHIN_100MS), Peer::Answers(LATE)).await;
    assert_eq!(a.verdict, Verdict::Fail, "{}", reason(&a));
    assert!(reason(&a).contains("later than within 5s (+50ms tolerance)"), "{}", reason(&a));
}

/// TCP has no kernel receive stamp: an answer our own task read long after the deadline may
/// have come in time, so the case is inconclusive, never failed.
#[tokio::test(start_paused = true)]
async fn an_answer_read_late_by_our_own_delay_is_inconclusive_not_failed() {
    let stalled = Peer::AnswerThenStall(MS * 10, &ACTIVATED, MS * 500);
    let (a, _) = run(ACTIVATE_WITHIN_100MS, stalled).await;
    assert_eq!(a.verdict, Verdict::Inconclusive, "{}", reason(&a));
    assert_eq!(
        reason(&a),
        "routing_activation_response was read 510.000ms after the step started, but the harness itself ran 358.000ms late (a busy machine?): whether it came in time cannot be told"
    );
    // A stall within the tolerance (and the timer's rounding) is not ours to excuse.
    let (a, _) =
        run(ACTIVATE_WITHIN_100MS, Peer::AnswerThenStall(MS * 10, &ACTIVATED, MS * 190)).await;
    assert_eq!(a.verdict, Verdict::Fail, "{}", reason(&a));
}

const ACTIVATE_NOT_BEFORE_1S: &str = "      - send: { routing_activation_request: {} }
      - expect: { routing_activation_response: {}, within: 2s, not_before: 1s }
";

#[tokio::test(start_paused = true)]
async fn not_before_minus_tolerance_is_the_earliest_allowed_arrival() {
    let (a, _) = run(ACTIVATE_NOT_BEFORE_1S, Peer::AnswerAfter(MS * 950, &ACTIVATED)).await;
    assert_eq!(a.verdict, Verdict::Pass, "{}", reason(&a));
    let (a, _) = run(ACTIVATE_NOT_BEFORE_1S, Peer::AnswerAfter(MS * 950 - US, &ACTIVATED)).await;
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(
        reason(&a),
        "routing_activation_response arrived after 949.999ms, earlier than not_before 1s"
    );
}

#[tokio::test(start_paused = true)]
async fn measure_records_the_exact_virtual_round_trip() {
    let steps = format!("{ACTIVATE_WITHIN_100MS}      - measure: {{ name: rtt, max: 80ms }}\n");
    let (a, events) = run(&steps, Peer::AnswerAfter(MS * 123 + US * 456, &ACTIVATED)).await;
    let metric = events.iter().find_map(|e| match e {
        Event::Metric(m) => Some(m.value),
        _ => None,
    });
    assert_eq!(metric, Some(MS * 123 + US * 456));
    // 123.456 ms is within max 80 ms + the 50 ms tolerance.
    assert_eq!(a.verdict, Verdict::Pass, "{}", reason(&a));
    let steps = format!("{ACTIVATE_WITHIN_100MS}      - measure: {{ name: rtt, max: 70ms }}\n");
    let (a, _) = run(&steps, Peer::AnswerAfter(MS * 120 + US, &ACTIVATED)).await;
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(reason(&a), "rtt took 120.001ms, more than the allowed 70ms (+50ms tolerance)");
}

const CLOSED_NOT_BEFORE_2S: &str = "      - send: { routing_activation_request: {} }
      - expect_closed: { within: 3s, not_before: 2s }
";

#[tokio::test(start_paused = true)]
async fn a_close_before_not_before_minus_tolerance_is_early() {
    let (a, _) = run(CLOSED_NOT_BEFORE_2S, Peer::CloseAfter(MS * 1950)).await;
    assert_eq!(a.verdict, Verdict::Pass, "{}", reason(&a));
    let (a, _) = run(CLOSED_NOT_BEFORE_2S, Peer::CloseAfter(MS * 1950 - US)).await;
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(
        reason(&a),
        "the target closed the connection after 1.950s, earlier than not_before 2s"
    );
}

#[tokio::test(start_paused = true)]
async fn expect_none_fails_on_a_frame_inside_its_time_and_passes_after_it() {
    let steps = "      - send: { routing_activation_request: {} }
      - expect_none: { for: 500ms }
";
    let (a, _) = run(steps, Peer::AnswerAfter(MS * 500 - US, &ACTIVATED)).await;
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(reason(&a), "expected nothing for 500ms, got a frame after 499.999ms");
    let (a, _) = run(steps, Peer::AnswerAfter(MS * 500 + US, &ACTIVATED)).await;
    assert_eq!(a.verdict, Verdict::Pass, "{}", reason(&a));
}

/// `abort` (the step kind added by following docs/adding-a-step-kind.md): the
/// peer sees a reset, not an orderly close. Real loopback TCP: the RST is the point.
#[tokio::test]
async fn abort_resets_the_connection_instead_of_closing_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let port = listener.local_addr().expect("local address").port();
    let planned = planned("      - connect: {}\n      - abort: {}\n");
    let env = CaseEnv {
        profile: Arc::new(Profile::defaults()),
        tls: None,
        connect_timeout: Duration::from_secs(5),
    };
    let endpoints = TargetEndpoints {
        ip: [127, 0, 0, 1].into(),
        tcp: port,
        udp: 0,
        tls: 0,
        can: None,
        simulator: None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let rec = Recorder::new(CaseKey(0), Clock::start(), tx);
    let plan = crate::runner::plan::plan_case(&planned, &env.profile).expect("planned");
    let mut case = CaseRun::new(&planned, plan, &env, endpoints, rec).expect("the case starts");
    let peer = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 16];
        tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf)).await
    });
    let attempt = case.run().await;
    assert_eq!(attempt.verdict, Verdict::Pass, "{}", reason(&attempt));
    let read = peer.await.expect("the peer task ends").expect("the peer hears within 5 s");
    let error = read.expect_err("a reset, not an end of stream");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    drop(case);
    let mut changes = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::Connection(c) = e {
            changes.push(c.change);
        }
    }
    use crate::runner::event::ConnectionChange;
    assert_eq!(changes, vec![ConnectionChange::Opened, ConnectionChange::Reset]);
}
