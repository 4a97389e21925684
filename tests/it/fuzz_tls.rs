//! Fuzzing over TLS: with `doip.tls` in the profile a share of the TCP cases goes over TLS to
//! `ports.tls` (the handshake done as `run` does it, not fuzzed), a planted fault hit over TLS
//! is found and confirmed by a repro that replays over TLS, the TLS service is its own service
//! for the liveness oracle, and without `doip.tls` no case goes over TLS. All on loopback
//! against the built-in simulator (docs/architecture.md#live-fuzzing).

use super::fuzz_live::{finds_the_robustness_fault_in, fuzz};
use super::fuzz_services::{campaign, entity, profile};
use doipcheck::fuzz::campaign::{CampaignEvent, CampaignTarget, fuzz_doip};
use doipcheck::fuzz::model::repro::Oracle;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Every TCP case over TLS (`--tls-share 100`): the entity hung by an oversized diagnostic
/// message that came over TLS is a finding whose culprit went over TLS, whose repro connects
/// over TLS, and which is confirmed (it fails against the fault, passes without it).
#[test]
fn a_fault_hit_over_tls_is_found_and_confirmed_by_a_repro_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings");
    let finding = finds_the_robustness_fault_in(
        &findings,
        "hang_after_oversized_diag",
        &["--tls-share", "100"],
    );
    assert_eq!(finding["transport"], "tls", "{finding}");
    let cases = finding["cases"].as_array().unwrap();
    assert!(cases.iter().all(|c| c["transport"] == "tls"), "{finding}");
    let repro = std::fs::read_to_string(findings.join("0001/repro.yaml")).unwrap();
    assert!(repro.contains("- connect: { transport: tls, connection: case1 }"), "{repro}");
    assert!(repro.contains("doip.tls"), "{repro}");
    // The repro's run against the target went over TLS.
    let run = std::fs::read_to_string(findings.join("0001/run/report.json")).unwrap();
    assert!(run.contains("\"transport\": \"tls\""), "{run}");
    let html = std::fs::read_to_string(findings.join("report.html")).unwrap();
    assert!(html.contains(" over tls (confirmed)"), "the finding's title names TLS");
}

/// The shipped profile has `doip.tls`: TLS cases run, a line of their own on the console, in
/// the JSON summary and in report.html's heat map. Without `doip.tls` (or with a share of 0)
/// not one case goes over TLS, and the same seed sends the same number of cases.
#[test]
fn tls_cases_run_with_doip_tls_and_none_without() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--cases", "700", "--batch", "100", "--no-confirm"];
    let (code, with, stderr) = fuzz(&dir.path().join("with"), &args);
    assert_eq!(code, 0, "{stderr}");
    let over_tls = with["cases_over_tls"].as_u64().unwrap();
    // At the default share, block 9 of 64 cases (but its UDP cases) of the 700.
    assert!(over_tls > 0 && over_tls <= 64, "{with}");
    let per_state: u64 =
        with["transports"]["tls"].as_object().unwrap().values().filter_map(|n| n.as_u64()).sum();
    assert_eq!(per_state, over_tls, "{with}");
    assert!(stderr.contains(&format!(", tls {over_tls},")), "{stderr}");
    let html = std::fs::read_to_string(dir.path().join("with/report.html")).unwrap();
    assert!(html.contains("<td>tls</td>"), "no TLS row in the heat map");

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read_to_string(root.join("suites/profile.yaml")).unwrap();
    assert!(shipped.contains("\n  - doip.tls\n"));
    let plain = dir.path().join("profile.yaml");
    std::fs::write(&plain, shipped.replace("\n  - doip.tls\n", "\n")).unwrap();
    std::fs::copy(root.join("suites/sim.yaml"), dir.path().join("sim.yaml")).unwrap();
    let plain = plain.to_str().unwrap();
    let (code, without, stderr) =
        fuzz(&dir.path().join("without"), &[&args[..], &["-p", plain]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        (&without["cases"], &without["cases_over_tls"]),
        (&700.into(), &0.into()),
        "{without}"
    );
    assert!(without["transports"].get("tls").is_none(), "{without}");
    assert!(stderr.contains(", tls 0,"), "the TLS line says none went over TLS: {stderr}");
    let (_, none, _) = fuzz(&dir.path().join("none"), &[&args[..], &["--tls-share", "0"]].concat());
    assert_eq!(none["cases_over_tls"], 0, "{none}");
}

/// The TLS service dies for good a moment into the campaign (its port stops accepting, the
/// TCP and UDP services go on): a finding on the TLS service (its probe fails, whichever
/// cases came before), its probe and cases left out since then, and the TCP and UDP cases go
/// on to the end. The TLS port is a second entity's,
/// shut down once the campaign starts.
#[tokio::test(flavor = "current_thread")]
async fn a_tls_service_dead_for_good_is_a_finding_and_the_other_cases_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), None);
    let host = entity(dir.path(), &profile, &[], false).await;
    let tls_host = entity(dir.path(), &profile, &[], true).await;
    let mut c = campaign(&profile, &host, &dir.path().join("findings"));
    let CampaignTarget::Entity { tls, .. } = &mut c.target else { unreachable!() };
    *tls = tls_host.tls_addr();
    assert!(tls.is_some());
    c.max_cases = Some(1000);
    let stop = Arc::new(AtomicBool::new(false));
    let mut tls_host = Some(tls_host);
    let mut killed = None;
    let outcome = fuzz_doip(&c, stop, &mut |event| {
        if let (CampaignEvent::Started(_), Some(h)) = (&event, tls_host.take()) {
            killed = Some(tokio::spawn(h.shutdown()));
        }
    })
    .await
    .expect("the campaign runs");
    host.shutdown().await;
    killed.expect("the campaign started").await.expect("the TLS service was shut down");
    let r = &outcome.report;
    assert_eq!(r.stopped, None, "{:?}", r.skipped);
    let oracles: Vec<&Oracle> = r.findings.iter().map(|f| &f.oracle).collect();
    assert_eq!(oracles, [&Oracle::TlsActivation], "{:?}", r.findings);
    let skipped: Vec<String> = r.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].starts_with("the TLS service (its probe and its cases) since case"));
    assert!(skipped[0].contains("liveness.tls_activation"), "{skipped:?}");
    assert_eq!(r.cases + r.left_out, 1000, "{} sent, {} left out", r.cases, r.left_out);
    assert!(r.left_out > 0 && r.cases_over("tcp") > 500 && r.cases_over("udp") > 0, "{r:?}");
}

/// A TLS data port nobody serves (the profile declares `doip.tls`, the entity does not serve
/// it): a deviation the baseline reports, not a reason to stop; the TLS cases are left out and
/// counted, everything else is fuzzed, and nothing is a finding.
#[tokio::test(flavor = "current_thread")]
async fn a_tls_port_nobody_serves_is_dropped_before_the_first_case() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), None);
    let host = entity(dir.path(), &profile, &[], false).await;
    let mut c = campaign(&profile, &host, &dir.path().join("findings"));
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let CampaignTarget::Entity { tls, .. } = &mut c.target else { unreachable!() };
    *tls = Some(free);
    c.max_cases = Some(700);
    let stop = Arc::new(AtomicBool::new(false));
    let outcome = fuzz_doip(&c, stop, &mut |_| {}).await.expect("the campaign runs");
    host.shutdown().await;
    let r = &outcome.report;
    let dropped = &outcome.dropped_probes;
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert!(dropped[0].starts_with("liveness.tls_activation: cannot connect"), "{dropped:?}");
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.cases_over("tls"), 0);
    assert_eq!(r.cases + r.left_out, 700);
    assert!(r.left_out > 0, "the TLS cases are counted as left out");
}
