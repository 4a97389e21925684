//! The runner against deliberately hostile in-test peers: garbage, a 4 GiB length, drips,
//! resets, floods, silence, nobody listening. Each yields a verdict within its bound, never
//! a hang or a panic.

use doipcheck::runner::event::{CollectingSink, Event, Verdict};
use doipcheck::runner::{CaseEnv, RunOptions, RunResult, TargetEndpoints, run};
use doipcheck::suite::load;
use doipcheck::suite::select::{self, Filter};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the peer does with each connection.
#[derive(Clone, Copy)]
enum Peer {
    Garbage,
    HugeLength,
    Drip,
    Reset,
    Flood,
    Silence,
    /// Resets every connection as soon as it is accepted, before reading anything.
    ResetAtAccept,
    /// Reads the request, then shuts its sending side (FIN) and keeps reading.
    HalfClose,
    /// Answers with a web server's text.
    Text,
}

async fn behave(peer: Peer, mut s: TcpStream) {
    let mut sink = [0u8; 1024];
    match peer {
        Peer::Garbage => {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\xff\x13").await;
            let _ = s.read(&mut sink).await;
        }
        Peer::HugeLength => {
            // A diagnostic message claiming 4 GiB - 1 of payload, then nothing.
            let _ = s.write_all(&[0x02, 0xFD, 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0E]).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        Peer::Drip => {
            // A header announcing 1000 bytes, then one byte every 50 ms.
            let _ = s.write_all(&[0x02, 0xFD, 0x80, 0x01, 0x00, 0x00, 0x03, 0xE8]).await;
            for _ in 0..200 {
                if s.write_all(&[0x00]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Peer::Reset => {
            let _ = s.read(&mut sink).await;
            let _ = s.set_zero_linger();
            drop(s);
        }
        Peer::Flood => {
            let alive = [0x02u8, 0xFD, 0x00, 0x07, 0, 0, 0, 0];
            let burst: Vec<u8> = alive.iter().copied().cycle().take(8 * 512).collect();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if s.write_all(&burst).await.is_err() {
                    return;
                }
            }
        }
        Peer::Silence => {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        Peer::ResetAtAccept => {
            let _ = s.set_zero_linger();
            drop(s);
        }
        Peer::HalfClose => {
            let _ = s.read(&mut sink).await;
            let _ = s.shutdown().await;
            let _ = s.read(&mut sink).await;
        }
        Peer::Text => {
            let _ = s.read(&mut sink).await;
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nServer: test\r\n\r\n").await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    }
}

async fn start(peer: Peer) -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(behave(peer, s));
        }
    });
    port
}

const SUITE: &str = r#"
suite: hostile
title: one case against a hostile peer
handlers: HANDLERS
cases:
  - id: HOSTILE-001
    title: routing activation against a hostile peer
    timeout: 20s
    steps:
      - connect: {}
      - send: { routing_activation_request: {} }
      - expect: { routing_activation_response: {}, within: 1s }
"#;

/// Runs the suite `text` against `port`; the result, every event and the time it took.
async fn run_suite(text: &str, port: u16) -> (RunResult, Vec<Event>, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("hostile.yaml");
    std::fs::write(&file, text).expect("write suite");
    let loaded = load::load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    let profile = doipcheck::suite::profile::Profile::defaults();
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    let env =
        CaseEnv { profile: Arc::new(profile), tls: None, connect_timeout: Duration::from_secs(2) };
    let endpoints = TargetEndpoints {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        tcp: port,
        udp: port,
        tls: port,
        can: None,
        simulator: None,
    };
    let options = RunOptions {
        target_label: "hostile peer".into(),
        profile_path: None,
        fail_fast: false,
        shard: None,
        repeat: 1,
    };
    let mut sink = CollectingSink::default();
    let (_cancel, cancel_rx) = tokio::sync::watch::channel(None);
    let started = Instant::now();
    let result = run(plan, env, vec![endpoints], options, &mut sink, cancel_rx).await;
    (result, sink.events, started.elapsed())
}

/// Runs the one-case suite against `port`; the verdict, the reason and the time it took.
async fn run_against(port: u16, handlers: &str) -> (Verdict, String, Duration, RunResult) {
    let (result, events, took) = run_suite(&SUITE.replace("HANDLERS", handlers), port).await;
    let finished = events
        .iter()
        .find_map(|e| if let Event::CaseFinished(f) = e { Some(f.clone()) } else { None })
        .expect("the case finished");
    assert!(matches!(events.last(), Some(Event::RunFinished(_))));
    let reason = finished.reason.map(|r| r.message).unwrap_or_default();
    (finished.verdict, reason, took, result)
}

#[tokio::test(flavor = "current_thread")]
async fn garbage_fails_the_expectation_at_once() {
    let port = start(Peer::Garbage).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("do not decode"), "{reason}");
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_4_gib_length_is_judged_without_waiting_for_the_body() {
    let port = start(Peer::HugeLength).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("do not decode"), "{reason}");
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_drip_that_never_completes_times_out_within_the_bound() {
    let port = start(Peer::Drip).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("nothing arrived"), "{reason}");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_reset_is_a_failure_not_a_hang() {
    let port = start(Peer::Reset).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("reset") || reason.contains("closed"), "{reason}");
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_unexpected_messages_fails_at_the_first() {
    let port = start(Peer::Flood).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("got alive_check_request"), "{reason}");
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_flood_answered_by_the_handler_still_ends_within_the_bound() {
    let port = start(Peer::Flood).await;
    let (verdict, reason, took, _) = run_against(port, "[answer_alive_check]").await;
    assert!(matches!(verdict, Verdict::Fail | Verdict::Error), "{verdict:?} {reason}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn silence_times_out() {
    let port = start(Peer::Silence).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains("nothing arrived"), "{reason}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn nobody_listening_is_an_unreachable_target() {
    // Bind and drop to find a port nobody listens on.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let (verdict, reason, _, result) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Error, "{reason}");
    assert!(reason.starts_with(doipcheck::runner::UNREACHABLE_PREFIX), "{reason}");
    assert!(result.unreachable);
}

#[tokio::test(flavor = "current_thread")]
async fn cancelling_ends_the_running_case_with_error_and_finishes_the_run() {
    let port = start(Peer::Silence).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("slow.yaml");
    let text = SUITE.replace("HANDLERS", "[]").replace("within: 1s", "within: 30s");
    let text = format!(
        "{text}  - id: HOSTILE-002\n    title: never started\n    steps:\n      - wait: 1ms\n"
    );
    std::fs::write(&file, text).expect("write suite");
    let loaded = load::load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    let profile = doipcheck::suite::profile::Profile::defaults();
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    let env =
        CaseEnv { profile: Arc::new(profile), tls: None, connect_timeout: Duration::from_secs(2) };
    let endpoints = TargetEndpoints {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        tcp: port,
        udp: port,
        tls: port,
        can: None,
        simulator: None,
    };
    let options = RunOptions {
        target_label: "hostile peer".into(),
        profile_path: None,
        fail_fast: false,
        shard: None,
        repeat: 1,
    };
    let mut sink = CollectingSink::default();
    let (cancel, cancel_rx) = tokio::sync::watch::channel(None);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = cancel.send(Some("Ctrl-C"));
    });
    let started = Instant::now();
    let result = run(plan, env, vec![endpoints], options, &mut sink, cancel_rx).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(result.interrupted);
    let finished: Vec<_> = sink
        .events
        .iter()
        .filter_map(|e| if let Event::CaseFinished(f) = e { Some(f) } else { None })
        .collect();
    assert_eq!(finished.len(), 1, "only the running case is reported");
    assert_eq!(finished[0].verdict, Verdict::Error);
    assert!(finished[0].reason.as_ref().is_some_and(|r| r.message.contains("interrupted")));
    let Some(Event::RunFinished(end)) = sink.events.last() else { panic!("no RunFinished") };
    assert!(end.interrupted && end.stop_reason.as_deref() == Some("interrupted (Ctrl-C)"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_case_that_passes_on_retry_is_reported_flaky() {
    // The peer stays silent on its first connection and answers from the second on.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut s, _)) = listener.accept().await {
            n += 1;
            let answer = n > 1;
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                let _ = s.read(&mut buf).await;
                if answer {
                    let response = [
                        0x02, 0xFD, 0x00, 0x06, 0, 0, 0, 9, 0x0E, 0x80, 0x10, 0x00, 0x10, 0, 0, 0,
                        0,
                    ];
                    let _ = s.write_all(&response).await;
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            });
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("retry.yaml");
    let text = SUITE
        .replace("HANDLERS", "[]")
        .replace("within: 1s", "within: 200ms")
        .replace("    timeout: 20s\n", "    timeout: 20s\n    retry: 3\n");
    std::fs::write(&file, text).expect("write suite");
    let loaded = load::load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    let profile = doipcheck::suite::profile::Profile::defaults();
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    let env =
        CaseEnv { profile: Arc::new(profile), tls: None, connect_timeout: Duration::from_secs(2) };
    let endpoints = TargetEndpoints {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        tcp: port,
        udp: port,
        tls: port,
        can: None,
        simulator: None,
    };
    let options = RunOptions {
        target_label: "flaky peer".into(),
        profile_path: None,
        fail_fast: false,
        shard: None,
        repeat: 1,
    };
    let mut sink = CollectingSink::default();
    let (_cancel, cancel_rx) = tokio::sync::watch::channel(None);
    let result = run(plan, env, vec![endpoints], options, &mut sink, cancel_rx).await;
    let finished = sink
        .events
        .iter()
        .find_map(|e| if let Event::CaseFinished(f) = e { Some(f.clone()) } else { None })
        .expect("finished");
    assert_eq!(
        (finished.verdict, finished.attempts, finished.flaky),
        (Verdict::Pass, 2, true),
        "{:?}",
        finished.reason
    );
    assert_eq!((result.counts.pass, result.counts.flaky), (1, 1));
    assert!(
        sink.events
            .iter()
            .any(|e| matches!(e, Event::Note(n) if n.text.starts_with("attempt 2 of 3")))
    );
}

/// A scripted ISO-TP peer on an in-process CAN bus: it answers a first frame with a flow
/// control 20 ms later; the case checks the answer and the gap.
#[tokio::test(flavor = "current_thread")]
async fn can_steps_send_and_expect_frames_with_gap_assertions() {
    use doipcheck::codec::can::{CanFrame, StandardId};
    use doipcheck::transport::can::{CanSpec, CanTransport};
    let spec_text = "memory:runner-can-steps";
    let spec: CanSpec = spec_text.parse().expect("spec");
    let mut peer = CanTransport::open(&spec).await.expect("peer node");
    tokio::spawn(async move {
        while let Ok(rx) = peer.recv().await {
            if rx.frame.id().raw() == 0x7E0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let fc = CanFrame::new(
                    StandardId::new(0x7E8).expect("id"),
                    &[0x30, 0x00, 0x05, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC],
                )
                .expect("frame");
                let _ = peer.send(&fc).await;
            }
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("can.yaml");
    let text = "suite: can\ntitle: can\ncases:\n  - id: CAN-001\n    title: flow control after a first frame\n    steps:\n      - can_send: { id: 0x7E0, data: \"10 14 22 F1 90 00 00 00\" }\n      - can_expect: { id: 0x7E8, data: \"30 ?? 05 ..\", within: 500ms, gap_min: 15ms, gap_max: 200ms }\n  - id: CAN-002\n    title: the gap bound fails a late flow control\n    steps:\n      - can_send: { id: 0x7E0, data: \"10 14 22 F1 90 00 00 00\" }\n      - can_expect: { id: 0x7E8, within: 500ms, gap_max: 1ms }\n";
    std::fs::write(&file, text).expect("write suite");
    let loaded = load::load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    let profile = doipcheck::suite::profile::Profile::from_yaml_str("timing: { tolerance: 0ms }\n")
        .unwrap_or_else(|d| panic!("{:?}", d.list));
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    let env =
        CaseEnv { profile: Arc::new(profile), tls: None, connect_timeout: Duration::from_secs(2) };
    let endpoints = TargetEndpoints {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        tcp: 1,
        udp: 1,
        tls: 1,
        can: Some((spec_text.into(), spec)),
        simulator: None,
    };
    let options = RunOptions {
        target_label: "can peer".into(),
        profile_path: None,
        fail_fast: false,
        shard: None,
        repeat: 1,
    };
    let mut sink = CollectingSink::default();
    let (_cancel, cancel_rx) = tokio::sync::watch::channel(None);
    run(plan, env, vec![endpoints], options, &mut sink, cancel_rx).await;
    let finished: Vec<_> = sink
        .events
        .iter()
        .filter_map(|e| if let Event::CaseFinished(f) = e { Some(f.clone()) } else { None })
        .collect();
    assert_eq!(finished[0].verdict, Verdict::Pass, "{:?}", finished[0].reason);
    assert_eq!(finished[1].verdict, Verdict::Fail, "{:?}", finished[1].reason);
    assert!(finished[1].reason.as_ref().is_some_and(|r| r.message.contains("more than gap_max")));
    let can_frames =
        sink.events.iter().filter(|e| matches!(e, Event::Frame(f) if f.can.is_some())).count();
    assert!(can_frames >= 4, "{can_frames} CAN frame events");
}

/// What the target does is the target's verdict: a reset before anything was read is `fail`
/// (the entity reset the connection), never the harness's `error`.
#[tokio::test(flavor = "current_thread")]
async fn a_reset_right_after_accept_is_the_targets_failure() {
    let port = start(Peer::ResetAtAccept).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(
        reason.contains("reset the connection (RST)") || reason.contains("closed the connection"),
        "{reason}"
    );
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_half_close_while_an_answer_is_expected_fails_naming_the_fin() {
    let port = start(Peer::HalfClose).await;
    let (verdict, reason, took, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(
        reason.starts_with("the entity closed the connection (FIN) after ")
            && reason.ends_with(" while routing_activation_response was expected"),
        "{reason}"
    );
    assert!(took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_text_answer_is_shown_as_text() {
    let port = start(Peer::Text).await;
    let (verdict, reason, _, _) = run_against(port, "[]").await;
    assert_eq!(verdict, Verdict::Fail, "{reason}");
    assert!(reason.contains(r#"the target sent text "HTTP/1.1 400 Bad Request""#), "{reason}");
}

/// A target lost mid-run (it answered the first case, then refuses connections) stops the run
/// after three cases in a row could not connect; the rest are reported as not run.
#[tokio::test(flavor = "current_thread")]
async fn a_target_lost_mid_run_stops_the_run_and_reports_the_rest_as_not_run() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        // One connection, answered; then the listener is gone (connects are refused).
        if let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(&[
                    0x02, 0xFD, 0x00, 0x06, 0, 0, 0, 9, 0x0E, 0x80, 0x10, 0x00, 0x10, 0, 0, 0, 0,
                ])
                .await;
        }
    });
    let mut text = String::from("suite: lost\ntitle: a target that goes away\ncases:\n");
    for i in 1..=8 {
        text.push_str(&format!(
            "  - id: LOST-{i}\n    title: activation {i}\n    steps:\n      - connect: {{}}\n      - send: {{ routing_activation_request: {{}} }}\n      - expect: {{ routing_activation_response: {{}}, within: 1s }}\n"
        ));
    }
    let (result, events, took) = run_suite(&text, port).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    let finished: Vec<(Verdict, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::CaseFinished(f) => {
                Some((f.verdict, f.reason.clone().map(|r| r.message).unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 8, "{finished:?}");
    assert_eq!(finished[0].0, Verdict::Pass, "{finished:?}");
    for (verdict, reason) in &finished[1..4] {
        assert_eq!(*verdict, Verdict::Error);
        assert!(reason.starts_with(doipcheck::runner::UNREACHABLE_PREFIX), "{reason}");
    }
    for (verdict, reason) in &finished[4..] {
        assert_eq!(*verdict, Verdict::Error);
        assert_eq!(reason, "not run: the target was lost: 3 cases in a row could not connect");
    }
    assert!(!result.unreachable, "the target was reached once: a failure, not exit 3");
    let Some(Event::RunFinished(end)) = events.last() else { panic!("no RunFinished") };
    assert_eq!(end.counts.total(), 8);
}

/// A UDP service that dies mid-run (it answers one vehicle identification request, then
/// nothing): the case after which it stopped answering says so from the health probe, and a
/// later case on UDP fails pointing at that case, not just "nothing arrived". The TCP service
/// still accepts and is not blamed.
#[tokio::test(flavor = "current_thread")]
async fn a_udp_service_that_dies_is_named_with_the_case_after_which_it_stopped() {
    let port = start(Peer::Silence).await;
    let udp = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).await.expect("bind udp");
    let mut announcement = hex::decode("02fd000400000021").unwrap();
    announcement.extend_from_slice(b"WDOIPCHECK0000001");
    announcement.extend_from_slice(
        &hex::decode("1000001122334455001122334455 0000".replace(' ', "")).unwrap(),
    );
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        if let Ok((_, from)) = udp.recv_from(&mut buf).await {
            let _ = udp.send_to(&announcement, from).await;
        }
        // Dead from here on: datagrams are read and dropped.
        while udp.recv_from(&mut buf).await.is_ok() {}
    });
    let case = |i: u32| {
        format!(
            "  - id: UDP-{i}\n    title: identification {i}\n    steps:\n      - udp_send: {{ vehicle_identification_request: {{}} }}\n      - udp_expect: {{ vehicle_announcement: {{}}, within: 300ms }}\n"
        )
    };
    let text = format!(
        "suite: dying\ntitle: a UDP service that dies\ncases:\n{}{}{}",
        case(1),
        case(2),
        case(3)
    );
    let (_, events, _) = run_suite(&text, port).await;
    let finished: Vec<_> = events
        .iter()
        .filter_map(|e| if let Event::CaseFinished(f) = e { Some(f.clone()) } else { None })
        .collect();
    let verdicts: Vec<Verdict> = finished.iter().map(|f| f.verdict).collect();
    assert_eq!(verdicts, [Verdict::Pass, Verdict::Fail, Verdict::Fail]);
    let notes: Vec<(u32, String)> = events
        .iter()
        .filter_map(
            |e| if let Event::Note(n) = e { Some((n.case.0, n.text.clone())) } else { None },
        )
        .filter(|(_, t)| t.starts_with("health:"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].0, finished[1].case.0, "the note is on the case after which it died");
    assert!(notes[0].1.contains("UDP service stopped answering after this case"), "{notes:?}");
    let second = finished[1].reason.as_ref().unwrap().message.clone();
    assert!(
        !second.contains("health probe"),
        "the case that saw it die is not blamed on it: {second}"
    );
    let third = finished[2].reason.as_ref().unwrap().message.clone();
    assert!(
        third.starts_with(
            "the target's UDP service stopped answering after case UDP-2 (health probe): "
        ),
        "{third}"
    );
}
