//! Comments cite docs/ or the standard's clause, never an issue number: an issue is closed and
//! forgotten, the docs and the standard stay.

use std::path::Path;

/// Where `text` (a comment) cites an issue by number: `issue 6`, `issues 5 and 6`,
/// `Issue #16`, `issue 6's`.
fn cites_an_issue(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.match_indices("issue").any(|(at, word)| {
        let before = lower[..at].chars().next_back();
        let rest = lower[at + word.len()..].trim_start_matches('s');
        let rest = rest.trim_start_matches([' ', '#']);
        !before.is_some_and(char::is_alphanumeric) && rest.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// The comment part of a line of Rust (from `//` on), if any. A `//` inside a string counts
/// too: the test would rather be strict.
fn comment(line: &str) -> Option<&str> {
    line.find("//").map(|at| &line[at..])
}

#[test]
fn no_comment_cites_an_issue_number() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "examples", "fuzz/fuzz_targets"] {
        crate::layering::rust_files(&root.join(dir), &mut files);
    }
    // This file shows the checker what a citation looks like.
    files.retain(|f| !f.ends_with("tests/it/comments.rs"));
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if comment(line).is_some_and(cites_an_issue) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "cite docs/ or the clause instead:\n{}", found.join("\n"));
}

#[test]
fn the_checker_knows_an_issue_number_when_it_sees_one() {
    for cited in
        ["// (issue 6: a run)", "//! issues 5 and 6", "/// Issue #16's proof", "// issue16"]
    {
        assert!(comment(cited).is_some_and(cites_an_issue), "{cited}");
    }
    for fine in ["// the issue's yardstick", "// tissue 5", "// ISO 13400-2 §9.6", "let issue = 6;"]
    {
        assert!(!comment(fine).is_some_and(cites_an_issue), "{fine}");
    }
}
