//! The runner against the built-in simulator: the shipped suites pass against the conformant
//! entity, and every case fails against each fault its `detects:` names (a case no fault can
//! fail proves nothing).

use doipcheck::suite::load;
use doipcheck::suite::profile::Profile;
use doipcheck::suite::select::{self, Filter, SelectedCase};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> (Profile, Vec<SelectedCase>) {
    let profile =
        load::load_profile(Some(&root().join("suites/profile.yaml"))).expect("profile loads");
    let faults = doipcheck::runner::target::known_faults();
    let loaded = load::load_suites(&[root().join("suites/doip")], &faults).expect("suites load");
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    (profile, plan)
}

/// The selftest's proof (`doipcheck selftest`): every shipped case passes against the
/// conformant simulator, fails against each fault its `detects:` names, and a sample of other
/// cases does not error against each fault. One simulator per fault runs every case listing
/// it, so this costs one run per fault rather than one per (case, fault) pair.
#[tokio::test(flavor = "current_thread")]
async fn the_shipped_suites_pass_and_catch_every_fault_they_list() {
    let (profile, plan) = shipped();
    let faults: Vec<String> =
        doipcheck::runner::target::known_faults().iter().map(|f| f.to_string()).collect();
    let profile_path = root().join("suites/profile.yaml");
    let sim = doipcheck::runner::target::simulator_config(&profile, Some(&profile_path))
        .expect("the simulator configuration loads");
    let proof = doipcheck::proof::selftest::prove(&plan, &profile, &sim, &faults, 2, 1)
        .await
        .expect("the selftest runs");
    assert_eq!(proof.conformant.len(), plan.len());
    let listed = plan.iter().map(|p| p.info.detects.len()).sum::<usize>();
    assert!(listed >= 10, "the shipped cases claim few faults: {listed}");
    assert!(proof.mismatches().is_empty(), "{}", proof.render());
    crate::isotp_runner::assert_rules_agree(&proof);
}
