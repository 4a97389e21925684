//! docs/coverage.md is what `doipcheck coverage` generates from the shipped suites today
//! (docs/coverage.md is generated from the suites by a command and checked in CI to be current).

use doipcheck::proof::coverage::generate;
use doipcheck::suite::load;
use doipcheck::suite::select::{self, Filter};
use std::path::PathBuf;

#[test]
fn the_checked_in_coverage_page_is_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let profile =
        load::load_profile(Some(&root.join("suites/profile.yaml"))).expect("profile loads");
    let faults = doipcheck::runner::target::known_faults();
    let loaded = load::load_suites(&[root.join("suites")], &faults).expect("suites load");
    let plan = select::select_cases(&loaded, &profile, &Filter::default());
    let fresh = generate(&plan, &profile);
    let checked_in = std::fs::read_to_string(root.join("docs/coverage.md")).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "docs/coverage.md is out of date: run `cargo run --release -- coverage -o docs/coverage.md`"
    );
    // The page states what the issue requires of the suites.
    assert!(fresh.contains("## Payload types (16/16 covered)"), "{fresh}");
    assert!(fresh.contains("## Generic NACK codes"), "{fresh}");
}
