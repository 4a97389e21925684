//! Every service, every ECU: a campaign against an entity that cannot be power-cycled (a
//! `--target` without `power_cycle_command`: a restore is a reconnect) whose TCP or UDP service, or
//! one ECU behind it, dies for good. The death is a finding naming the service (or the ECU),
//! the campaign goes on with what still answers, and its report says what it left out since
//! which case. The entity is the built-in simulator's code, hosted in the test on loopback.

use doipcheck::fuzz::campaign::{Campaign, CampaignTarget, fuzz_doip};
use doipcheck::fuzz::model::repro::Oracle;
use doipcheck::sim::faults::FaultSet;
use doipcheck::suite::load;
use doipcheck::transport::doip::sim_host::SimHost;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// The shipped profile with a short P2* (the simulated ECUs answer in microseconds), so that
/// a dead ECU is told within a second, naming `ecus` (when given); written to `dir`.
pub(super) fn profile(dir: &Path, ecus: Option<&str>) -> doipcheck::suite::profile::Profile {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("suites/profile.yaml")).expect("profile");
    assert!(text.contains("p2_star: 5s"));
    let path = dir.join("profile.yaml");
    let mut text = text.replace("p2_star: 5s", "p2_star: 250ms");
    if let Some(ecus) = ecus {
        let line = text.lines().find(|l| l.starts_with("ecu_addresses:")).expect("ECUs");
        text = text.replace(line, &format!("ecu_addresses: {ecus}"));
    }
    std::fs::write(&path, text).expect("write");
    std::fs::copy(root.join("suites/sim.yaml"), dir.join("sim.yaml")).expect("copy sim.yaml");
    load::load_profile(Some(&path)).unwrap_or_else(|e| panic!("{}", e.render()))
}

/// sim.yaml on ephemeral loopback ports, with `faults`; with `tls`, its TLS data port too.
pub(super) async fn entity(
    dir: &Path,
    profile: &doipcheck::suite::profile::Profile,
    faults: &[&str],
    tls: bool,
) -> SimHost {
    let path = dir.join("profile.yaml");
    let mut config =
        doipcheck::runner::target::simulator_config(profile, Some(&path)).expect("sim.yaml");
    config.network.tcp_port = 0;
    config.network.udp_port = 0;
    config.network.tls_port = tls.then_some(0);
    config.announce.enabled = false;
    let faults = FaultSet::from_names(faults).expect("fault");
    SimHost::start(config, faults).await.expect("the entity starts")
}

pub(super) fn campaign<'a>(
    profile: &'a doipcheck::suite::profile::Profile,
    host: &SimHost,
    findings: &Path,
) -> Campaign<'a> {
    let target = CampaignTarget::Entity {
        tcp: host.tcp_addr(),
        udp: host.udp_addr(),
        tls: None,
        label: "an entity without power cycle".into(),
    };
    Campaign {
        profile,
        profile_path: None,
        target,
        seed: 0,
        batch: 50,
        monitor: None,
        duration: Duration::from_secs(60),
        max_cases: Some(1500),
        max_findings: None,
        findings_dir: findings.to_path_buf(),
        workers: 1,
        tls_share: doipcheck::fuzz::model::doip::DEFAULT_TLS_SHARE_PERCENT,
    }
}

/// A campaign of 1500 cases against an entity with `fault`, which kills one service for good:
/// its one finding is `oracle`, and that service alone (`service`) is left out since the case
/// after which it died. Returns the campaign's report.
async fn one_service_dies(
    fault: &str,
    oracle: Oracle,
    service: &str,
) -> doipcheck::fuzz::drive::LiveReport<doipcheck::fuzz::model::FuzzCase> {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), None);
    let host = entity(dir.path(), &profile, &[fault], false).await;
    let c = campaign(&profile, &host, &dir.path().join("findings"));
    let stop = Arc::new(AtomicBool::new(false));
    let outcome = fuzz_doip(&c, stop, &mut |_| {}).await.expect("the campaign runs");
    host.shutdown().await;
    let r = outcome.report;
    assert_eq!(r.stopped, None, "{:?}", r.skipped);
    let oracles: Vec<Oracle> = r.findings.iter().map(|f| f.oracle.clone()).collect();
    assert_eq!(oracles, std::slice::from_ref(&oracle), "{r:?}");
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    let skipped = &r.skipped[0];
    assert!(skipped.what.starts_with(service), "{skipped}");
    assert_eq!(skipped.since_case, r.findings[0].case_index, "{skipped}");
    assert!(skipped.why.starts_with(&oracle.name()), "{skipped}");
    // Every case was drawn: the dead service's after the death left out, the others sent.
    assert_eq!(r.cases + r.left_out, 1500, "{} sent, {} left out", r.cases, r.left_out);
    r
}

/// The UDP service dies on a vehicle identification request of the wrong length and a
/// reconnect does not bring it back: one finding on the UDP service, its probe and cases left
/// out since the case after which it died, and the TCP cases go on to the end.
#[tokio::test(flavor = "current_thread")]
async fn a_udp_service_dead_for_good_is_a_finding_and_the_tcp_cases_go_on() {
    let r = one_service_dies(
        "udp_dies_on_bad_identification_length",
        Oracle::Identification,
        "the UDP service",
    )
    .await;
    assert!(r.left_out > 0);
    let tcp_after: u64 = r.coverage.iter().filter(|((_, s), _)| *s != "udp").map(|(_, n)| n).sum();
    assert!(tcp_after + r.left_out > 1400, "{tcp_after}");
    assert!(r.healthy_checks >= 1500 / 50 - 5, "{}", r.healthy_checks);
}

/// The mirror image: the TCP service dies on a routing activation request of the wrong length
/// and a reconnect does not bring it back. One finding on the TCP service (its activation
/// probe), its cases left out since the case after which it died, and the UDP cases go on to
/// the end with their identification probe.
#[tokio::test(flavor = "current_thread")]
async fn a_tcp_service_dead_for_good_is_a_finding_and_the_udp_cases_go_on() {
    let r = one_service_dies(
        "tcp_dies_on_bad_activation_length",
        Oracle::Activation,
        "the TCP service",
    )
    .await;
    assert!(r.left_out > 1000, "{} left out", r.left_out);
    let died = r.findings[0].case_index;
    assert!(r.cases > died + 50, "{} sent, the TCP service died at case {died}", r.cases);
    // A check every 50 cases sent; those after the death ask the UDP service only.
    assert!(r.healthy_checks + 1 >= r.cases / 50, "{} checks, {} sent", r.healthy_checks, r.cases);
}

/// One ECU behind the gateway (0x0011, the engine) hangs for good a moment into the campaign
/// (a 2100-byte request sent by another tester: above the fault's FF_DL threshold): the round
/// robin over the profile's ECUs (three that answer at once, so that it comes round within
/// the bound) reaches it, the finding names it, it is left out and the campaign goes on with
/// the entity and the other ECUs.
#[tokio::test(flavor = "current_thread")]
async fn one_ecu_dead_for_good_is_a_finding_naming_it_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(dir.path(), Some("[0x0011, 0x0013, 0x0016]"));
    let host = entity(dir.path(), &profile, &["isotp_hang_on_large_ff_dl"], false).await;
    let tcp = host.tcp_addr();
    let mut c = campaign(&profile, &host, &dir.path().join("findings"));
    c.max_cases = Some(1000);
    let stop = Arc::new(AtomicBool::new(false));
    let mut killer = None;
    let outcome = fuzz_doip(&c, stop, &mut |event| {
        if matches!(event, doipcheck::fuzz::campaign::CampaignEvent::Started(_)) {
            killer = Some(tokio::spawn(hang_the_engine(tcp)));
        }
    })
    .await
    .expect("the campaign runs");
    host.shutdown().await;
    killer.expect("the campaign started").await.expect("the killer ran");
    let r = &outcome.report;
    assert_eq!(r.stopped, None, "{:?}", r.skipped);
    let engine = Oracle::TesterPresent(0x0011);
    assert!(r.findings.iter().any(|f| f.oracle == engine), "{:?}", r.findings);
    let left_out: Vec<String> = r.skipped.iter().map(ToString::to_string).collect();
    assert!(
        left_out.iter().any(|s| s.starts_with("TesterPresent to the ECU 0x0011 since case")),
        "{left_out:?}"
    );
    // The entity's own UDS server and the UDP service were never left out.
    assert!(left_out.iter().all(|s| !s.contains("entity") && !s.contains("UDP")), "{left_out:?}");
    assert_eq!(r.cases, 1000, "every case was sent");
}

/// A second tester (0x0E00) sends the engine ECU a 2100-byte request, whose first frame
/// announces an FF_DL above 2048.
async fn hang_the_engine(tcp: std::net::SocketAddr) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let frame = |payload_type: u16, payload: &[u8]| {
        let mut m = vec![0x02, 0xFD];
        m.extend(payload_type.to_be_bytes());
        m.extend((payload.len() as u32).to_be_bytes());
        m.extend(payload);
        m
    };
    let mut s = tokio::net::TcpStream::connect(tcp).await.expect("connect");
    s.write_all(&frame(0x0005, &[0x0E, 0x00, 0x00, 0, 0, 0, 0])).await.expect("activate");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
    assert!(matches!(n, Ok(Ok(n)) if n >= 13 && buf[12] == 0x10), "activation: {n:?}");
    let mut diag = vec![0x0E, 0x00, 0x00, 0x11, 0x2E, 0xF1, 0x90];
    diag.resize(4 + 2100, 0x55);
    s.write_all(&frame(0x8001, &diag)).await.expect("send");
    // The gateway ACKs once its first frame is out.
    let _ = tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await;
}
