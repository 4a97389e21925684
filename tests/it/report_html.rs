//! The HTML report and `doipcheck report` over the fixed synthetic run of `report_events`: a
//! golden page (insta, volatile values masked), hostile text escaped, and JSON rebuilt into
//! HTML, JUnit and Markdown, also from shards.

use std::path::Path;
use std::process::Command;

use doipcheck::report::{ReportOptions, Written, load_report, write_all};
use doipcheck::runner::event::Event;

use crate::report_events::{HOSTILE_TEXT, sample_run};

/// Writes the reports of the sample run into `dir`.
pub fn sample_reports(dir: &Path) -> Written {
    let mut options = ReportOptions::new(dir);
    options.command_line = vec!["doipcheck".into(), "run".into(), "-o".into(), "reports".into()];
    write_all(&options, &sample_run(dir, false)).unwrap()
}

/// The page with what changes between machines and versions masked, style and script cut
/// out (they are constants), and a line break between elements so the snapshot reads.
fn masked(html: &str, dir: &Path) -> String {
    let mut text = html.replace(dir.to_str().unwrap(), "[dir]");
    text = text.replace(&format!(">{}<", env!("CARGO_PKG_VERSION")), ">[version]<");
    // The page's own script is the last one (the cases' data blocks come before it).
    for (open, close) in [("<style>", "</style>"), ("<script>", "</script>")] {
        let (a, b) = (text.rfind(open).unwrap(), text.rfind(close).unwrap());
        text.replace_range(a + open.len()..b, "[constant]");
    }
    text.replace("><", ">\n<")
}

#[test]
fn html_is_golden() {
    let dir = tempfile::tempdir().unwrap();
    let written = sample_reports(dir.path());
    assert_eq!(written.html, dir.path().join("report.html"));
    let html = std::fs::read_to_string(&written.html).unwrap();
    assert_eq!(written.html_bytes, html.len() as u64);
    insta::assert_snapshot!(masked(&html, dir.path()));
}

#[test]
fn hostile_text_is_escaped_and_nothing_is_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(sample_reports(dir.path()).html).unwrap();
    // The hostile target's text is in the page, but as text: no `]]>`, NUL or ESC as they came,
    // no markup it wrote.
    assert!(!html.contains('\u{0}') && !html.contains('\u{1b}'));
    assert!(HOSTILE_TEXT.contains("<x a=") && !html.contains("<x a="), "markup from the target");
    assert!(html.contains("&lt;x a=&quot;&amp;amp;"), "the target's markup is shown as text");
    assert!(html.contains("\\u{1b}[31mEVIL"), "the escape is shown, escaped");
    assert!(html.contains("content=\"default-src 'none';"), "a strict Content-Security-Policy");
    for attr in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!html.contains(attr), "external reference {attr}");
    }
}

fn doipcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_doipcheck"))
}

#[test]
fn report_rebuilds_html_junit_and_markdown_from_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("shard-1"), dir.path().join("shard-2"));
    let events = sample_run(&one, false);
    // Shard 1: the first three cases; shard 2: the rest (the same run cut in two).
    let split =
        events.iter().position(|e| matches!(e, Event::CaseStarted(s) if s.case.0 == 3)).unwrap();
    let mut first: Vec<Event> = events[..split].to_vec();
    first.push(events.last().unwrap().clone());
    let mut second = vec![events[0].clone()];
    second.extend_from_slice(&events[split..]);
    write_all(&ReportOptions::new(&one), &first).unwrap();
    write_all(&ReportOptions::new(&two), &second).unwrap();

    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "before\n").unwrap();
    let (html, junit, md) =
        (dir.path().join("all.html"), dir.path().join("all.xml"), dir.path().join("all.md"));
    let out = doipcheck()
        .arg("report")
        .arg("--from")
        .args([one.join("report.json"), two.join("report.json")])
        .arg("--html")
        .arg(&html)
        .arg("--junit")
        .arg(&junit)
        .arg("--markdown")
        .arg(&md)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("6 cases from 2 reports (3 failing)"), "{stderr}");
    assert!(stderr.contains(&format!("{} (", html.display())), "the size is printed: {stderr}");

    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<details class=\"case\"").count(), 6);
    assert!(page.contains("<th>shards</th><td>2</td>"), "two shards shown");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 6);
    let first_case = cases[0];
    assert_eq!(first_case.attribute("file"), Some("suites/doip/header.yaml"));
    assert_eq!(first_case.attribute("line"), Some("10"));
    let measured = first_case
        .descendants()
        .find(|n| n.attribute("name") == Some("measure.activation_time_us"))
        .and_then(|n| n.attribute("value"));
    assert_eq!(measured, Some("1200"));
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains("| 2 | 1 | 1 | 1 | 1 | 1 |"), "{markdown}");
    assert!(markdown.contains("- **fail** `HDR-UNK-001[payload_type=0x0009]`"), "{markdown}");
    let appended = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(appended, format!("before\n{markdown}"));

    // One shard alone, no output named: report.html beside it.
    let out =
        doipcheck().arg("report").arg("--from").arg(one.join("report.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(one.join("report.html").exists());
}

#[test]
fn report_names_a_bad_input_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("report.json");
    std::fs::write(&bad, "{\"format\": \"doipcheck-report/2\",\n \"cases\": 7}").unwrap();
    let html = dir.path().join("out.html");
    let out = doipcheck()
        .arg("report")
        .arg("--from")
        .arg(&bad)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:2:", bad.display())), "{stderr}");
    assert!(!html.exists());
}

#[test]
fn the_json_report_reads_back_as_the_events_it_was_written_from() {
    let dir = tempfile::tempdir().unwrap();
    let events = sample_run(dir.path(), false);
    let written = write_all(&ReportOptions::new(dir.path()), &events).unwrap();
    let loaded = load_report(&written.json).unwrap();
    let case_events: Vec<&Event> = events
        .iter()
        .filter(|e| e.case().is_some() && !matches!(e, Event::CaseStarted(_)))
        .collect();
    let read: Vec<&Event> = loaded.cases.iter().flat_map(|(log, _)| &log.events).collect();
    assert_eq!(read.len(), case_events.len());
    for e in case_events {
        assert!(read.contains(&e), "{e:?} did not read back");
    }
}

/// A run's transcripts show the values the steps used: `${profile.*}` resolved, in the
/// JUnit transcript and in the HTML page; the page and the Markdown summary are written.
#[test]
fn a_run_shows_resolved_profile_values_and_writes_html_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("resolved.yaml");
    std::fs::write(
        &suite,
        "suite: resolved\ntitle: resolved values\nsetup:\n  - connect: {}\ncases:\n  - id: R-1\n    title: profile values in the transcript\n    steps:\n      - send: { alive_check_request: {} }\n      - expect: { alive_check_response: { source_address: \"${profile.entity_address}\" }, within: \"${profile.timing.a_processing_time}\" }\n      - measure: { name: alive_answer, max: \"${profile.timing.a_processing_time}\" }\n",
    )
    .unwrap();
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/profile.yaml");
    let out = doipcheck()
        .current_dir(dir.path())
        .args(["run", "--plain", "--jobs", "1", "--markdown", "summary.md", "--profile"])
        .arg(&profile)
        .arg(&suite)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("reports/report.html ("), "the page and its size: {stderr}");
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    assert!(!junit.contains("${profile."), "{junit}");
    assert!(
        junit.contains("step expect alive_check_response source_address=0x10 within 2s"),
        "{junit}"
    );
    assert!(junit.contains("<property name=\"measure.alive_answer_us\""), "{junit}");
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).unwrap();
    assert!(!html.contains("${profile."));
    assert!(html.contains("<b>alive_answer<\\/b> = "), "the timing plot of the measure");
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(md.starts_with("### doipcheck: ✅ passed"), "{md}");
}
