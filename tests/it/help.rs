//! Every command's `--help` ends with examples and its exit codes; the examples parse with
//! the real argument definitions (a renamed flag breaks this test, not a user's script).

use clap::{CommandFactory, Parser};
use doipcheck::cli::Cli;

/// Splits an example line as a shell would (single and double quotes; no expansion).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// The example command lines of a help text: `doipcheck ...` up to a `#` comment or a
/// redirection.
pub fn examples(help: &str) -> Vec<Vec<String>> {
    help.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("doipcheck"))
        .map(|l| {
            let l = l.split(" #").next().unwrap_or(l);
            let l = l.split(['<', '>']).next().unwrap_or(l);
            words(l)
        })
        .collect()
}

#[test]
fn every_command_has_examples_and_exit_codes_that_parse() {
    let cli = Cli::command();
    let mut text = String::new();
    let mut checked = 0;
    let mut abouts = std::collections::HashSet::new();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        // `doipcheck --help` lists each command with its about line; an empty one (or one
        // that is another command's) leaves a user guessing.
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        assert!(!about.trim().is_empty(), "`{name}` has no description in `doipcheck --help`");
        assert!(abouts.insert(about.clone()), "`{name}` repeats another command's description");
        let leading = about.split_whitespace().next().unwrap_or_default().to_lowercase();
        // These three were once shifted by one (import showed run's text, run had none).
        let expected = match name {
            "run" => "run",
            "import" => "turn",
            "replay" => "import",
            _ => leading.as_str(),
        };
        assert_eq!(leading, expected, "`{name}`'s description is {about:?}");
        let help = sub.get_after_help().map(|h| h.to_string()).unwrap_or_default();
        let nested: Vec<String> = sub
            .get_subcommands()
            .filter_map(|s| s.get_after_help().map(|h| h.to_string()))
            .collect();
        let all = std::iter::once(help.clone()).chain(nested).collect::<Vec<_>>().join("\n");
        assert!(all.contains("Examples:"), "`{name} --help` has no examples");
        assert!(all.contains("Exit codes:"), "`{name} --help` names no exit codes");
        for example in examples(&all) {
            if let Err(e) = Cli::try_parse_from(&example) {
                panic!("example `{}` of `{name}` does not parse: {e}", example.join(" "));
            }
            checked += 1;
            for pair in example.windows(2) {
                if matches!(pair[0].as_str(), "--sim-fault" | "--fault") {
                    assert!(
                        doipcheck::runner::target::known_faults().contains(&pair[1].as_str()),
                        "example of `{name}` names unknown fault {}",
                        pair[1]
                    );
                }
            }
        }
        text.push_str(&format!("== {name}\n{all}\n"));
    }
    assert!(checked >= 20, "{checked} examples");
    let main = cli.get_after_help().map(|h| h.to_string()).unwrap_or_default();
    for example in examples(&main) {
        Cli::try_parse_from(&example).unwrap_or_else(|e| panic!("{}: {e}", example.join(" ")));
    }
    insta::assert_snapshot!(format!("== doipcheck\n{main}\n{text}"));
}
