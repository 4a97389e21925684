//! `doipcheck run` against an entity that accepts every TCP connection and resets it at once:
//! the entity was there, so what it did is its verdict. Every case that ran is `fail` saying
//! that the entity reset the connection, none is `error`, the target is never "lost", the run
//! exits 1 and the reports are written (docs/architecture.md#the-tester-connection).

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
