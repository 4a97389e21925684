//! docs/suite.schema.json is generated from the suite model; it must be current.
//! `DOIPCHECK_UPDATE_SCHEMA=1 cargo test --test it schema` rewrites it.

use std::path::PathBuf;

#[test]
fn the_shipped_schema_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/suite.schema.json");
    let generated = doipcheck::suite::schema::schema_text();
    if std::env::var_os("DOIPCHECK_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the schema");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "docs/suite.schema.json is out of date: run `DOIPCHECK_UPDATE_SCHEMA=1 cargo test --test it schema`"
    );
}

/// The step table of docs/suite-format.md comes from the same step specs; the same variable
/// rewrites it.
#[test]
fn the_step_table_of_the_suite_format_doc_is_current() {
    use doipcheck::suite::schema::with_step_table;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/suite-format.md");
    let doc = std::fs::read_to_string(&path).expect("the doc exists");
    let current = with_step_table(&doc).expect("docs/suite-format.md has the step-table marks");
    if std::env::var_os("DOIPCHECK_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &current).expect("write the doc");
    }
    assert!(
        doc == current,
        "the step table of docs/suite-format.md is out of date: run `DOIPCHECK_UPDATE_SCHEMA=1 cargo test --test it schema`"
    );
}

/// The profile key and capability tables of docs/suite-format.md come from the tables the
/// profile reader uses; the same variable rewrites them.
#[test]
fn the_profile_tables_of_the_suite_format_doc_are_current() {
    use doipcheck::suite::schema::with_profile_tables;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/suite-format.md");
    let doc = std::fs::read_to_string(&path).expect("the doc exists");
    let current =
        with_profile_tables(&doc).expect("docs/suite-format.md has the profile-table marks");
    if std::env::var_os("DOIPCHECK_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &current).expect("write the doc");
    }
    assert!(
        doc == current,
        "the profile tables of docs/suite-format.md are out of date: run `DOIPCHECK_UPDATE_SCHEMA=1 cargo test --test it schema`"
    );
}

#[test]
fn the_schema_names_every_step_kind_and_message() {
    let schema = doipcheck::suite::schema::json_schema();
    let text = schema.to_string();
    for s in doipcheck::suite::steps::STEPS {
        assert!(text.contains(&format!("\"required\":[\"{}\"]", s.name)), "step {}", s.name);
    }
    for m in doipcheck::suite::messages::MESSAGES {
        assert!(text.contains(&format!("\"{}\"", m.name)), "message {}", m.name);
    }
}

/// Every YAML example in docs/suite-format.md is a valid suite, case or step list.
#[test]
fn every_example_in_the_suite_format_doc_validates() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/suite-format.md")).expect("the doc exists");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().expect("open block")),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(blocks.len() >= 18, "examples found: {}", blocks.len());
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, block) in blocks.iter().enumerate() {
        let text = if block.starts_with("suite:") {
            block.clone()
        } else if block.starts_with("  - id:") {
            format!("suite: example-{i}\ntitle: example\ncases:\n{block}")
        } else {
            let steps: String = block.lines().map(|l| format!("      {l}\n")).collect();
            format!(
                "suite: example-{i}\ntitle: example\ncases:\n  - id: EX-{i}\n    title: example\n    steps:\n{steps}"
            )
        };
        std::fs::write(dir.path().join(format!("example-{i:02}.yaml")), text).expect("write");
    }
    let faults = doipcheck::runner::target::known_faults();
    if let Err(e) = doipcheck::suite::load::load_suites(&[dir.path().to_owned()], &faults) {
        panic!("{}", e.render());
    }
}

/// docs/rules.md is the judge's rule catalogue; the same variable rewrites it. Every profile
/// key a rule needs is a key the profile reader knows.
#[test]
fn the_rule_catalogue_doc_is_current_and_names_real_profile_keys() {
    use doipcheck::judge::{RULES, rules};
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let generated = rules::markdown();
    if std::env::var_os("DOIPCHECK_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write the doc");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == generated,
        "docs/rules.md is out of date: run `DOIPCHECK_UPDATE_SCHEMA=1 cargo test --test it schema`"
    );
    let keys: Vec<&str> = doipcheck::suite::profile::KEYS.iter().map(|k| k.path).collect();
    for rule in RULES {
        for need in rule.needs {
            assert!(keys.contains(need), "{}: {need} is no profile key", rule.id);
        }
    }
}
