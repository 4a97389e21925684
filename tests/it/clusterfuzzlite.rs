//! .clusterfuzzlite/ and examples/ci/clusterfuzzlite.yml: the build script builds and copies
//! exactly the cargo-fuzz targets of fuzz/Cargo.toml (a target added there and forgotten here
//! would never be fuzzed at scale; one named here and gone there breaks the build), the
//! project file says Rust, and the example PR workflow parses and fuzzes in code-change mode
//! for a bounded time.

use doipcheck::suite::yaml::{self, Yaml, YamlKind};
use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The `name` of every `[[bin]]` table of a cargo manifest.
fn bin_targets(manifest: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name") {
            let value = value.trim_start().trim_start_matches('=').trim();
            names.insert(value.trim_matches('"').to_owned());
        }
    }
    names
}

/// The words of the build script's `FUZZ_TARGETS="..."` line.
fn script_targets(script: &str) -> BTreeSet<String> {
    let line = script
        .lines()
        .find_map(|l| l.trim().strip_prefix("FUZZ_TARGETS="))
        .expect("build.sh sets FUZZ_TARGETS");
    line.trim_matches('"').split_whitespace().map(str::to_owned).collect()
}

fn get<'a>(y: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match &y.kind {
        YamlKind::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

#[test]
fn build_sh_builds_and_copies_exactly_the_fuzz_targets() {
    let manifest = read("fuzz/Cargo.toml");
    let bins = bin_targets(&manifest);
    assert!(bins.len() >= 6, "fuzz/Cargo.toml has its targets: {bins:?}");
    for bin in &bins {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("fuzz/fuzz_targets/{bin}.rs"))
                .is_file(),
            "{bin} has its source"
        );
    }
    let script = read(".clusterfuzzlite/build.sh");
    assert_eq!(script_targets(&script), bins, "build.sh FUZZ_TARGETS vs fuzz/Cargo.toml [[bin]]");
    assert!(script.contains("cargo fuzz build -O"), "optimised cargo-fuzz build");
    assert!(script.contains("cp \"$BUILD_DIR/$target\" \"$OUT/\""), "each binary goes to $OUT");
    assert!(script.starts_with("#!/bin/bash -eu"), "fails on the first error");
}

#[test]
fn the_project_file_and_dockerfile_use_the_rust_builder() {
    let project = yaml::parse(&read(".clusterfuzzlite/project.yaml")).expect("project.yaml parses");
    assert_eq!(get(&project, "language").and_then(Yaml::as_str), Some("rust"));
    let dockerfile = read(".clusterfuzzlite/Dockerfile");
    assert!(dockerfile.contains("FROM gcr.io/oss-fuzz-base/base-builder-rust"), "{dockerfile}");
    assert!(dockerfile.contains("COPY .clusterfuzzlite/build.sh $SRC/"), "{dockerfile}");
}

#[test]
fn the_example_pr_workflow_fuzzes_code_changes_for_a_bounded_time() {
    let text = read("examples/ci/clusterfuzzlite.yml");
    let workflow = yaml::parse(&text).expect("the workflow is YAML");
    let jobs = get(&workflow, "jobs").expect("jobs");
    let YamlKind::Map(jobs) = &jobs.kind else { panic!("jobs is a map") };
    let (_, job) = jobs.first().expect("one job");
    assert!(matches!(get(job, "timeout-minutes").map(|t| &t.kind), Some(YamlKind::Int(1..=60))));
    let YamlKind::Seq(steps) = &get(job, "steps").expect("steps").kind else { panic!("steps") };
    let uses: Vec<&str> =
        steps.iter().filter_map(|s| get(s, "uses").and_then(Yaml::as_str)).collect();
    assert!(uses.iter().any(|u| u.starts_with("google/clusterfuzzlite/actions/build_fuzzers@")));
    assert!(uses.iter().any(|u| u.starts_with("google/clusterfuzzlite/actions/run_fuzzers@")));
    let with: Vec<&Yaml> = steps.iter().filter_map(|s| get(s, "with")).collect();
    assert!(with.iter().any(|w| get(w, "language").and_then(Yaml::as_str) == Some("rust")));
    let run = with.iter().find(|w| get(w, "mode").is_some()).expect("run_fuzzers sets mode");
    assert_eq!(get(run, "mode").and_then(Yaml::as_str), Some("code-change"));
    assert!(
        matches!(get(run, "fuzz-seconds").map(|t| &t.kind), Some(YamlKind::Int(1..=600))),
        "fuzz-seconds bounded"
    );
}
