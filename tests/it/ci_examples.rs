//! examples/ci/: the nightly jobs the README promises (GitHub Actions, GitLab CI). Each file
//! is YAML, shards the run, merges the JUnit files and keeps the reports; and every doipcheck
//! command it names parses with the real argument definitions.

use clap::Parser;
use doipcheck::cli::Cli;
use doipcheck::suite::yaml::{self, Yaml, YamlKind};
use std::path::Path;

/// Every string of the tree, with the path of keys that leads to it.
fn strings(y: &Yaml, path: &str, out: &mut Vec<(String, String)>) {
    match &y.kind {
        YamlKind::Str(s) => out.push((path.to_owned(), s.clone())),
        YamlKind::Seq(items) => items.iter().for_each(|i| strings(i, path, out)),
        YamlKind::Map(entries) => {
            for (k, v) in entries {
                strings(v, &format!("{path}.{}", k.name), out);
            }
        }
        _ => {}
    }
}

/// A CI variable or expression as the runner would fill it in for the first shard of four.
fn substitute(command: &str) -> String {
    let mut out = command.replace("$CI_NODE_INDEX", "1").replace("$CI_NODE_TOTAL", "4");
    while let Some(start) = out.find("${{") {
        let Some(end) = out[start..].find("}}") else { break };
        out.replace_range(start..start + end + 2, "1");
    }
    out
}

fn check(file: &str, script_keys: &[&str]) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci").join(file);
    let text = std::fs::read_to_string(&path).expect("the example exists");
    let tree = yaml::parse(&text).unwrap_or_else(|e| panic!("{file} is not YAML: {e:?}"));
    let mut all = Vec::new();
    strings(&tree, "", &mut all);
    let mut commands = Vec::new();
    for (key, value) in &all {
        if !script_keys.iter().any(|k| key.ends_with(k)) {
            continue;
        }
        for line in value.lines().map(str::trim).filter(|l| l.starts_with("doipcheck ")) {
            let words = super::help::examples(&substitute(line));
            let words = words.first().expect("one command");
            Cli::try_parse_from(words)
                .unwrap_or_else(|e| panic!("{file}: `{line}` does not parse: {e}"));
            commands.push(words.join(" "));
        }
    }
    commands
}

#[test]
fn the_github_actions_nightly_shards_merges_and_keeps_reports() {
    let commands = check("github-nightly.yml", &[".run"]);
    assert!(commands.iter().any(|c| c.contains("run --plain --shard 1/4")), "{commands:?}");
    assert!(commands.iter().any(|c| c.starts_with("doipcheck merge-junit")), "{commands:?}");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/github-nightly.yml"),
    )
    .expect("read");
    assert!(text.contains("actions/upload-artifact") && text.contains("if: always()"));
}

#[test]
fn the_gitlab_nightly_shards_merges_and_keeps_reports() {
    let commands = check("gitlab-ci.yml", &[".script", ".before_script"]);
    assert!(commands.iter().any(|c| c.contains("run --plain --shard 1/4")), "{commands:?}");
    assert!(commands.iter().any(|c| c.starts_with("doipcheck merge-junit")), "{commands:?}");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/gitlab-ci.yml"),
    )
    .expect("read");
    assert!(text.contains("parallel: 4") && text.contains("junit: junit.xml"));
}
