//! The reporters over the fixed synthetic run of `report_events`: golden console, JUnit and
//! JSON output (insta), every JUnit file we write accepted by a strict XML parser whatever the
//! target sent, and the captures of a run decoded by tshark.

use std::path::{Path, PathBuf};

use doipcheck::report::{ConsoleReporter, ReportOptions, Written, printable, write_all};
use doipcheck::runner::event::{Decoded, Event, EventSink, FrameTransport};
use proptest::prelude::*;

use crate::report_events::{HOSTILE_TEXT, sample_run};
use crate::tshark;

fn console_output(events: &[Event]) -> String {
    let mut console = ConsoleReporter::plain(Vec::new());
    for e in events {
        console.handle(e).unwrap();
    }
    String::from_utf8(console.into_inner()).unwrap()
}

#[test]
fn console_output_is_golden() {
    insta::assert_snapshot!(console_output(&sample_run(Path::new("reports"), false)));
}

/// Writes the reports of `events` into `dir` and reads JUnit and JSON back, with `dir` shown
/// as `[dir]` so the text is the same on every machine.
fn written_reports(dir: &Path, events: &[Event]) -> (Written, String, String) {
    let written = write_all(&ReportOptions::new(dir), events).unwrap();
    let read =
        |p: &Path| std::fs::read_to_string(p).unwrap().replace(dir.to_str().unwrap(), "[dir]");
    let (junit, json) = (read(&written.junit), read(&written.json));
    (written, junit, json)
}

#[test]
fn junit_is_golden() {
    let dir = tempfile::tempdir().unwrap();
    let (_, junit, _) = written_reports(dir.path(), &sample_run(dir.path(), false));
    insta::assert_snapshot!(junit);
}

#[test]
fn json_is_golden_and_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, json) = written_reports(dir.path(), &sample_run(dir.path(), false));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["cases"].as_array().unwrap().len(), 6);
    assert_eq!(value["counts"]["fail"], 1);
    insta::assert_snapshot!(json);
}

/// Every `.xml` file under `dir`, recursively.
fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            xml_files(&path, out);
        } else if path.to_string_lossy().ends_with(".partial") {
            panic!("a half-written file was left behind: {}", path.display());
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
}

/// Parses `xml` with roxmltree (well-formedness, XML 1.0 characters, no DTD) and returns the
/// document's text for assertions.
fn parse_strictly(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("JUnit is not well-formed XML: {e}\n{xml}"))
}

#[test]
fn every_junit_file_we_write_parses_strictly_and_keeps_hostile_text_visible() {
    let dir = tempfile::tempdir().unwrap();
    let options = ReportOptions::new(dir.path());
    let written = write_all(&options, &sample_run(dir.path(), false)).unwrap();
    assert_eq!(written.junit, dir.path().join("junit.xml"));
    let mut files = Vec::new();
    xml_files(dir.path(), &mut files);
    assert_eq!(
        files,
        std::slice::from_ref(&written.junit),
        "no other XML file, no leftover .partial"
    );

    for file in files {
        let xml = std::fs::read_to_string(&file).unwrap();
        let doc = parse_strictly(&xml);
        let suites: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testsuite")).collect();
        let names: Vec<_> = suites.iter().map(|s| s.attribute("name").unwrap()).collect();
        assert_eq!(names, ["doip-header-handling", "doip-hostile", "doip-discovery", "doip-tls"]);
        let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), 6);

        let hostile = cases
            .iter()
            .find(|c| c.attribute("name") == Some("HOS-001 garbage is survived"))
            .unwrap();
        assert_eq!(hostile.attribute("classname"), Some("doip-hostile"));
        let error = hostile.children().find(|n| n.has_tag_name("error")).unwrap();
        assert_eq!(error.attribute("type"), Some("error"));
        let expected_message =
            printable(&format!("connection reset while waiting; last text: {HOSTILE_TEXT}"));
        assert_eq!(error.attribute("message"), Some(expected_message.as_str()));
        let out =
            hostile.children().find(|n| n.has_tag_name("system-out")).unwrap().text().unwrap();
        assert!(out.contains(&printable(HOSTILE_TEXT)), "{out}");
        assert!(out.contains("<- tcp ff fe 5d 5d 3e 00 1b 5b 32 4a 02 fd"), "{out}");
        let capture = dir.path().join("captures").join("0002-HOS-001.pcapng");
        assert!(out.contains(&format!("capture: {}", capture.display())), "{out}");
        assert!(capture.exists());

        let property = |case: &roxmltree::Node, name: &str| {
            case.descendants()
                .find(|n| n.has_tag_name("property") && n.attribute("name") == Some(name))
                .and_then(|n| n.attribute("value").map(str::to_owned))
        };
        let failing =
            cases.iter().find(|c| c.attribute("name").unwrap().starts_with("HDR-UNK-001")).unwrap();
        assert_eq!(property(failing, "verdict").as_deref(), Some("fail"));
        assert_eq!(property(failing, "clause").as_deref(), Some("ISO 13400-2:2019 Table 19"));
        assert_eq!(property(failing, "target").as_deref(), Some("built-in simulator"));
        assert_eq!(property(failing, "profile").as_deref(), Some("built-in"));
        let failure =
            failing.children().find(|n| n.has_tag_name("failure")).unwrap().text().unwrap();
        assert!(
            failure.contains(
                "generic_nack.code  unknown_payload_type (0x01)  incorrect_pattern_format (0x00)"
            ),
            "{failure}"
        );
        assert!(failure.contains("actual bytes:   02 fd 00 00 00 00 00 01 00"), "{failure}");
    }
}

/// A run whose every target-controlled string is `text`.
fn run_with_text(dir: &Path, text: &str) -> Vec<Event> {
    let mut events = sample_run(dir, false);
    for e in &mut events {
        match e {
            Event::Frame(f) => {
                f.decoded = Decoded::Message { name: text.into(), summary: text.into() };
                f.bytes = text.as_bytes().to_vec();
            }
            Event::Note(n) => n.text = text.into(),
            Event::CaseFinished(c) => {
                if let Some(r) = &mut c.reason {
                    r.message = text.into();
                    r.actual_decoded = Some(Decoded::Error { error: text.into() });
                }
            }
            _ => {}
        }
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn junit_parses_strictly_whatever_text_the_target_sent(
        text in prop::collection::vec(any::<char>(), 0..40).prop_map(|v| v.into_iter().collect::<String>()),
        markup in prop::sample::select(vec!["]]>", "<![CDATA[", "&", "<a>", "\"'", "\r\n", "\u{0}"]),
    ) {
        let text = format!("{text}{markup}{text}");
        let dir = tempfile::tempdir().unwrap();
        let (_, xml, json) = written_reports(dir.path(), &run_with_text(dir.path(), &text));
        prop_assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
        let doc = roxmltree::Document::parse(&xml);
        prop_assert!(doc.is_ok(), "{:?}\n{}", doc.err(), xml);
        let doc = doc.unwrap();
        let failure = doc.descendants().find(|n| n.has_tag_name("failure")).unwrap();
        // The message attribute is one line: tabs and newlines become spaces; printable()
        // escaped every other control character, CR included.
        let expected = printable(&text).replace(['\t', '\n'], " ");
        prop_assert_eq!(failure.attribute("message"), Some(expected.as_str()));
    }
}

/// Whether `bytes` are exactly one DoIP message: a header whose inverse version matches and
/// whose length field covers the rest (ISO 13400-2:2019 Table 16).
fn is_whole_doip_message(bytes: &[u8]) -> bool {
    bytes.len() >= 8
        && bytes[0] ^ bytes[1] == 0xFF
        && u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize == bytes.len() - 8
}

/// The payload types of the DoIP messages a case sent or received over IP, in order: frames
/// that decoded, and raw frames that hold one whole message.
fn doip_types_in(events: &[Event], case: u32) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Frame(f)
                if f.case.0 == case
                    && matches!(f.transport, FrameTransport::Tcp | FrameTransport::Udp)
                    && match f.decoded {
                        Decoded::Message { .. } => true,
                        Decoded::Raw => is_whole_doip_message(&f.bytes),
                        Decoded::Error { .. } => false,
                    } =>
            {
                Some(u16::from_be_bytes([f.bytes[2], f.bytes[3]]))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn tshark_decodes_the_doip_messages_of_every_capture_a_run_writes() {
    if !tshark::tshark_or_skip("tshark_decodes_the_doip_messages_of_every_capture") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let events = sample_run(dir.path(), true);
    let written = write_all(&ReportOptions::new(dir.path()), &events).unwrap();
    let names: Vec<_> = written
        .captures
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "0000-HDR-ACT-001.pcapng",
            "0001-HDR-UNK-001_payload_type_0x0009_.pcapng",
            "0002-HOS-001.pcapng",
            "0003-DIS-001.pcapng",
            "0005-HDR-ALV-001.pcapng"
        ]
    );
    let case_of = [0, 1, 2, 3, 5];
    for (path, case) in written.captures.iter().zip(case_of) {
        let seen: Vec<u16> = tshark::fields(path, "doip", &["doip.type"])
            .into_iter()
            .flat_map(|row| row[0].split(',').map(str::to_owned).collect::<Vec<_>>())
            .map(|t| u16::from_str_radix(t.trim_start_matches("0x"), 16).unwrap())
            .collect();
        let problems = tshark::problems(path);
        if case == 2 {
            // The hostile target's garbage is not DoIP; tshark says so, and the capture says why
            // in a packet comment.
            let comments =
                tshark::fields(path, "frame.comment", &["frame.number", "frame.comment"]);
            assert_eq!(comments.len(), 2, "{comments:?}");
            assert!(
                comments[1][1].contains("could not decode this: protocol_version 0xff"),
                "{comments:?}"
            );
            // Exactly the two garbage segments (after the handshake) are malformed DoIP; the
            // TCP stream itself is clean.
            let frames: Vec<&str> = problems.iter().map(|p| p[0].as_str()).collect();
            assert_eq!(frames, ["4", "5"], "{problems:?}");
            assert!(seen.is_empty());
            continue;
        }
        assert_eq!(seen, doip_types_in(&events, case), "{}", path.display());
        assert_eq!(problems, Vec::<Vec<String>>::new(), "{}", path.display());
    }
    let can =
        tshark::fields(&written.captures[3], "can || canfd", &["frame.interface_name", "can.id"]);
    assert_eq!(can, [["mem0", "2016"], ["mem0", "2024"], ["mem1", "417001744"]]);
}

#[test]
fn file_reports_write_each_capture_when_its_case_ends_and_junit_json_when_the_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let events = sample_run(dir.path(), false);
    let mut files = doipcheck::report::FileReports::new(ReportOptions::new(dir.path()));
    let (last, rest) = events.split_last().unwrap();
    for e in rest {
        files.handle(e).unwrap();
    }
    let captures: Vec<_> = std::fs::read_dir(dir.path().join("captures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        captures,
        [
            "0001-HDR-UNK-001_payload_type_0x0009_.pcapng",
            "0002-HOS-001.pcapng",
            "0005-HDR-ALV-001.pcapng"
        ]
    );
    assert!(!dir.path().join("junit.xml").exists());
    files.handle(last).unwrap();
    assert!(dir.path().join("junit.xml").exists() && dir.path().join("report.json").exists());
}
