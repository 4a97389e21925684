//! `doipcheck run` against an entity that accepts every TCP connection and resets it at once:
//! the entity was there, so what it did is its verdict. Every case that ran is `fail` saying
//! that the entity reset the connection, none is `error`, the target is never "lost", the run
//! exits 1 and the reports are written (docs/architecture.md#the-tester-connection).

use doipcheck::codec::doip::{HeaderView, PayloadType};
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

/// A listener on loopback that resets every connection it accepts (SO_LINGER 0, then close),
/// on its own thread for as long as the test runs.
fn resetting_listener() -> u16 {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_io().build().expect("runtime");
        runtime.block_on(async move {
            listener.set_nonblocking(true).expect("non-blocking");
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            while let Ok((s, _)) = listener.accept().await {
                let _ = s.set_zero_linger();
                drop(s);
            }
        });
    });
    port
}

#[test]
fn an_entity_that_resets_every_accepted_connection_fails_every_case_and_errors_none() {
    let port = resetting_listener();
    let dir = tempfile::tempdir().expect("temp dir");
    let suites = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/doip");
    // With `uds`, the diagnostic suites activate routing in their setup: a reset there is the
    // entity's behaviour too (a fail, not an inconclusive setup).
    let profile = dir.path().join("profile.yaml");
    std::fs::write(&profile, "capabilities: [doip.tcp, uds]\n").expect("profile written");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(dir.path())
        .args(["run", "--plain", "--target"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-p")
        .arg(&profile)
        // The suites that talk TCP only: UDP goes unanswered by this peer, for other reasons.
        .args(
            ["header.yaml", "framing.yaml", "routing.yaml", "alive.yaml", "diagnostic.yaml"]
                .map(|f| suites.join(f)),
        )
        .output()
        .expect("runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(!stderr.contains("target was lost"), "{stderr}");

    let json = std::fs::read_to_string(dir.path().join("reports/report.json")).expect("JSON");
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let cases = report["cases"].as_array().expect("cases");
    let mut failed = 0;
    for case in cases {
        let (id, verdict) = (&case["info"]["id"], case["verdict"].as_str().unwrap_or_default());
        let reason = case["finished"]["reason"]["message"].as_str().unwrap_or_default();
        match verdict {
            "skipped" => continue,
            "fail" => failed += 1,
            other => panic!("{id}: {other}, expected fail: {reason}"),
        }
        assert!(reason.contains("the entity reset the connection"), "{id}: {reason}");
    }
    assert!(failed >= 50, "{failed} failing cases of {}", cases.len());
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).expect("JUnit");
    let doc = roxmltree::Document::parse(&junit).expect("strict XML");
    let failures = doc.descendants().filter(|n| n.has_tag_name("failure")).count();
    let errors = doc.descendants().filter(|n| n.has_tag_name("error")).count();
    assert_eq!((failures, errors), (failed, 0));
    assert!(dir.path().join("reports/report.html").exists());
}

/// `request` reached the entity: routing was not activated because it reset the connection,
/// exit 1 with that reason, not 3 (unreachable).
#[test]
fn request_against_an_entity_that_resets_says_so_and_is_not_unreachable() {
    let port = resetting_listener();
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .args(["request", "-t", &format!("127.0.0.1:{port}"), "3E00"])
        .output()
        .expect("runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("routing not activated"), "{text}");
    assert!(text.contains("the entity reset the connection"), "{text}");
}

/// A peer that answers every other alive check request (and resets the connection of the
/// others): what `run --repeat` calls flaky.
fn alternating_listener() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut alive_checks = 0u32;
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut header = [0u8; 8];
            // The preflight and the fit probe connect too: only alive check requests count.
            let alive_check = |h: &[u8]| {
                HeaderView::new(h).is_ok_and(|v| v.payload_type() == PayloadType::AliveCheckRequest)
            };
            if s.read_exact(&mut header).is_err() || !alive_check(&header) {
                continue;
            }
            alive_checks += 1;
            if alive_checks % 2 == 1 {
                let _ = s.write_all(&[0x02, 0xFD, 0x00, 0x08, 0, 0, 0, 2, 0x0E, 0x80]);
                let _ = s.read(&mut header);
            } else {
                let socket = reset_on_drop(&s);
                drop(socket);
            }
        }
    });
    port
}

/// Resets a std TCP stream on drop (SO_LINGER 0) through tokio's setter.
fn reset_on_drop(s: &std::net::TcpStream) -> Option<tokio::net::TcpStream> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().ok()?;
    let _guard = runtime.enter();
    let clone = s.try_clone().ok()?;
    clone.set_nonblocking(true).ok()?;
    let t = tokio::net::TcpStream::from_std(clone).ok()?;
    t.set_zero_linger().ok()?;
    Some(t)
}

/// `run --repeat 2` against a target whose verdict does not repeat: the case is flaky, its
/// verdict the worse one (fail), and a note lists both verdicts; the counts show it.
#[test]
fn a_case_whose_verdict_does_not_repeat_is_flaky_with_the_worse_verdict() {
    let port = alternating_listener();
    let dir = tempfile::tempdir().expect("temp dir");
    let suite = dir.path().join("alive.yaml");
    std::fs::write(
        &suite,
        "suite: alive\ntitle: alive\ncases:\n  - id: ALIVE-001\n    title: an alive check request is answered\n    steps:\n      - connect: {}\n      - send: { alive_check_request: {} }\n      - expect: { alive_check_response: {}, within: 1s }\n",
    )
    .expect("suite written");
    let out = Command::new(env!("CARGO_BIN_EXE_doipcheck"))
        .current_dir(dir.path())
        .args(["run", "--plain", "--repeat", "2", "--target"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(&suite)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json = std::fs::read_to_string(dir.path().join("reports/report.json")).expect("JSON");
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let case = &report["cases"][0];
    assert_eq!(case["verdict"], "fail", "{case}");
    assert_eq!(case["finished"]["flaky"], true, "{case}");
    assert_eq!(report["counts"]["flaky"], 1, "{}", report["counts"]);
    assert!(json.contains("the verdict did not repeat over 2 repetitions: pass, fail"), "{stderr}");
}
