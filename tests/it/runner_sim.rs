//! The runner against the built-in simulator: the shipped suites pass against the conformant
//! entity, and every case fails against each fault its `detects:` names (a case no fault can
//! fail proves nothing).

use doipcheck::runner::event::{CollectingSink, Event, Verdict};
use doipcheck::runner::target::Simulators;
use doipcheck::runner::{CaseEnv, RunOptions, run};
use doipcheck::suite::load::{self, Filter, PlannedCase};
use doipcheck::suite::profile::Profile;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> (Profile, Vec<PlannedCase>) {
    let profile =
        load::load_profile(Some(&root().join("suites/profile.yaml"))).expect("profile loads");
    let faults = doipcheck::runner::target::known_faults();
    let loaded = load::load_suites(&[root().join("suites/doip")], &faults).expect("suites load");
    let plan = load::plan(&loaded, &profile, &Filter::default());
    (profile, plan)
}

fn env(profile: Profile) -> CaseEnv {
    CaseEnv {
        profile: Arc::new(profile),
        tls: doipcheck::runner::tls::client_config().ok(),
        connect_timeout: Duration::from_secs(2),
        can: None,
    }
}

fn options() -> RunOptions {
    RunOptions {
        target_label: "built-in simulator".into(),
        profile_path: None,
        fail_fast: false,
        capture: doipcheck::report::CapturePolicy::None,
        report_dir: std::env::temp_dir(),
        shard: None,
    }
}

/// Runs `plan` against `jobs` simulator instances with `faults`; the verdict of every case.
async fn run_plan(
    profile: &Profile,
    plan: Vec<PlannedCase>,
    jobs: u32,
    faults: &[String],
) -> Vec<(String, Verdict, String)> {
    let (sims, endpoints) = Simulators::start(jobs, faults).await.expect("simulators start");
    let ids: Vec<String> = plan.iter().map(|p| p.info.id.clone()).collect();
    let mut sink = CollectingSink::default();
    let (_cancel, cancel_rx) = tokio::sync::watch::channel(false);
    let result = run(plan, env(profile.clone()), endpoints, options(), &mut sink, cancel_rx).await;
    sims.shutdown().await;
    assert!(result.sink_error.is_none());
    sink.events
        .iter()
        .filter_map(|e| match e {
            Event::CaseFinished(f) => Some((
                ids[f.case.0 as usize].clone(),
                f.verdict,
                f.reason.as_ref().map(|r| r.message.clone()).unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn the_shipped_suites_pass_against_the_conformant_simulator() {
    let (profile, plan) = shipped();
    let n = plan.len();
    let verdicts = run_plan(&profile, plan, 3, &[]).await;
    assert_eq!(verdicts.len(), n);
    for (id, verdict, reason) in &verdicts {
        assert_eq!(*verdict, Verdict::Pass, "{id}: {reason}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_case_fails_against_each_fault_it_detects() {
    let (profile, plan) = shipped();
    let mut pairs: Vec<(String, PlannedCase)> = Vec::new();
    for p in &plan {
        for fault in &p.info.detects {
            pairs.push((fault.clone(), p.clone()));
        }
    }
    assert!(pairs.len() >= 10, "the shipped cases claim few faults: {}", pairs.len());
    let mut missed = Vec::new();
    for (fault, case) in pairs {
        let id = case.info.id.clone();
        let verdicts = run_plan(&profile, vec![case], 1, std::slice::from_ref(&fault)).await;
        if verdicts[0].1 != Verdict::Fail {
            missed.push(format!(
                "{id} does not catch {fault}: {:?} {}",
                verdicts[0].1, verdicts[0].2
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}
