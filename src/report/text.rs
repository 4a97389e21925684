//! Text shared by the console and JUnit reporters: safe strings, durations, hex, the failure
//! explanation (expected vs actual) and the per-case transcript.
//!
//! Everything that may carry target-controlled text goes through [`printable`], so a hostile
//! target cannot move a terminal's cursor or make a JUnit file ill-formed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::runner::event::{
    CaseFinished, ConnectionChange, Decoded, Direction, Event, FieldMismatch, FrameTransport,
    Phase, Reason, RunTime, StepStatus,
};

/// `850µs`, `12.345ms`, `2.500s`: durations for people.
pub fn human(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{}.{:03}ms", us / 1_000, us % 1_000)
    } else {
        format!("{}.{:03}s", d.as_secs(), d.subsec_millis())
    }
}

/// `s` as text inside a Markdown table cell or list item: one line, no markup, no HTML.
pub(crate) fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in printable(s).chars() {
        match c {
            '\n' | '\t' | '\r' => out.push(' '),
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `s` inside a code span in a table: backslash escapes do not work there, except `\|`, which
/// GitHub's tables need; a backtick would end the span.
pub(crate) fn code(s: &str) -> String {
    printable(s).replace(['\n', '\t', '\r'], " ").replace('`', "'").replace('|', "\\|")
}

/// Bytes of one frame shown in a transcript line; the JSON report has them all.
pub const TRANSCRIPT_HEX_BYTES: usize = 64;

/// Lines of one case's transcript; a flood case is cut with a count of what was left out.
pub const TRANSCRIPT_MAX_LINES: usize = 500;
/// Lines of a transcript's end kept when it is longer than [`TRANSCRIPT_MAX_LINES`].
pub const TRANSCRIPT_TAIL_LINES: usize = 20;

/// `s` with every character a terminal or an XML 1.0 parser would not take as plain text
/// escaped Rust-style: C0 controls other than tab and newline, DEL, C1 controls, and U+FFFE /
/// U+FFFF (not XML `Char`s, XML 1.0 §2.2). Backslashes are kept as they are.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' | '\n' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `1.234s`, with millisecond precision: the console's and the summary's unit.
pub fn seconds(d: Duration) -> String {
    format!("{}.{:03}s", d.as_secs(), d.subsec_millis())
}

/// Lowercase hex, bytes separated by spaces, cut after `max` bytes with the total length.
pub fn hex_bytes(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max) * 3);
    for (i, b) in bytes.iter().take(max).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    if bytes.len() > max {
        let _ = write!(out, " ... ({} bytes)", bytes.len());
    }
    out
}

fn decoded(d: &Decoded) -> String {
    match d {
        Decoded::Message { summary, .. } => printable(summary),
        Decoded::Error { error } => format!("undecodable: {}", printable(error)),
        Decoded::Raw => "raw".to_owned(),
    }
}

fn transport(t: FrameTransport) -> &'static str {
    match t {
        FrameTransport::Tcp => "tcp",
        FrameTransport::Tls => "tls",
        FrameTransport::Udp => "udp",
        FrameTransport::Can => "can",
    }
}

fn phase(p: Phase) -> &'static str {
    match p {
        Phase::SuiteSetup => "suite setup",
        Phase::CaseSetup => "setup",
        Phase::Steps => "steps",
        Phase::CaseFinally => "finally",
        Phase::SuiteFinally => "suite finally",
    }
}

/// The explanation of a verdict other than pass, indented by `indent`: the sentence, the step
/// and where it is written, each mismatching field, expected and actual bytes, the capture.
pub fn explain(finished: &CaseFinished, indent: &str) -> String {
    let mut out = String::new();
    if let Some(reason) = &finished.reason {
        explain_reason(reason, indent, &mut out);
    }
    if finished.attempts > 1 {
        let _ = writeln!(out, "{indent}attempts: {}", finished.attempts);
    }
    if let Some(capture) = &finished.capture {
        let _ = writeln!(out, "{indent}capture: {}", printable(&capture.to_string_lossy()));
    }
    out
}

fn explain_reason(reason: &Reason, indent: &str, out: &mut String) {
    let _ = writeln!(out, "{indent}{}", printable(&reason.message));
    if let Some(step) = &reason.step {
        let _ = writeln!(
            out,
            "{indent}at {} ({} step {} `{}`)",
            printable(&step.location.to_string()),
            phase(step.phase),
            step.index + 1,
            printable(&step.kind)
        );
    }
    if !reason.fields.is_empty() {
        let widest = |f: fn(&FieldMismatch) -> &str, header: &str| {
            reason
                .fields
                .iter()
                .map(|m| printable(f(m)).chars().count())
                .fold(header.len(), usize::max)
        };
        let width = widest(|m| &m.field, "field");
        let ewidth = widest(|m| &m.expected, "expected");
        let _ = writeln!(out, "{indent}{:width$}  {:ewidth$}  actual", "field", "expected");
        for f in &reason.fields {
            let _ = writeln!(
                out,
                "{indent}{:width$}  {:ewidth$}  {}",
                printable(&f.field),
                printable(&f.expected),
                printable(&f.actual)
            );
        }
    }
    if let Some(expected) = &reason.expected_hex {
        let _ = writeln!(out, "{indent}expected bytes: {}", printable(expected));
    }
    if let Some(actual) = &reason.actual_bytes {
        let _ =
            writeln!(out, "{indent}actual bytes:   {}", hex_bytes(actual, TRANSCRIPT_HEX_BYTES));
    }
    if let Some(d) = &reason.actual_decoded {
        let _ = writeln!(out, "{indent}actual decoded: {}", decoded(d));
    }
}

/// One line per event of a case, times relative to the case's start:
/// `+0.001200 -> tcp 02 fd 00 05 ... | routing_activation_request source_address=0x0e80`.
/// At most [`TRANSCRIPT_MAX_LINES`] lines: past that, the first ones, a line counting what is
/// left out, and the last [`TRANSCRIPT_TAIL_LINES`] (how the case ended, and what its
/// recording did not hold, are at its end).
pub fn transcript(start: RunTime, events: &[Event]) -> String {
    let head_max = TRANSCRIPT_MAX_LINES - TRANSCRIPT_TAIL_LINES;
    let mut out = String::new();
    let mut lines = 0usize;
    let mut tail: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    let mut left_out = 0usize;
    for event in events {
        let Some((at, line)) = transcript_line(event) else { continue };
        let rel = at.since(start);
        let line = format!("+{}.{:06} {line}\n", rel.as_secs(), rel.subsec_micros());
        if lines < head_max {
            out.push_str(&line);
            lines += 1;
            continue;
        }
        tail.push_back(line);
        if tail.len() > TRANSCRIPT_TAIL_LINES {
            tail.pop_front();
            left_out += 1;
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "... {left_out} events not shown here (report.json has every recorded one); the last {}:",
            tail.len()
        );
    }
    out.extend(tail);
    out
}

fn transcript_line(event: &Event) -> Option<(RunTime, String)> {
    Some(match event {
        Event::RunStarted(_) | Event::RunFinished(_) | Event::CaseStarted(_) => return None,
        Event::TlsWire(_) | Event::TlsKeys(_) => return None,
        Event::Step(s) => {
            let status = match &s.status {
                StepStatus::Started => {
                    return Some((s.at, format!("step {}", printable(&s.summary))));
                }
                StepStatus::Passed { elapsed } => format!("passed in {elapsed:?}"),
                StepStatus::Failed { elapsed } => format!("FAILED after {elapsed:?}"),
                StepStatus::NotRun => "not run".to_owned(),
            };
            (s.at, format!("step {} {status}", printable(&s.step.kind)))
        }
        Event::Connection(c) => {
            let change = match c.change {
                ConnectionChange::Opened => "opened",
                ConnectionChange::ClosedByUs => "closed by us",
                ConnectionChange::ClosedByPeer => "closed by the target",
                ConnectionChange::Reset => "reset",
                ConnectionChange::Abandoned => "abandoned at case end",
            };
            let (local, peer) = (printable(&c.local.to_string()), printable(&c.peer.to_string()));
            (c.at, format!("{} {local} <-> {peer} {change}", transport(c.transport)))
        }
        Event::Frame(f) => {
            let arrow = match f.direction {
                Direction::Sent => "->",
                Direction::Received => "<-",
            };
            let hex = hex_bytes(&f.bytes, TRANSCRIPT_HEX_BYTES);
            // A CAN frame's identifier is half its meaning: name the sender (`mem0#7E0`).
            let mut via = transport(f.transport).to_owned();
            if f.transport == FrameTransport::Can {
                let sender = match f.direction {
                    Direction::Sent => &f.local,
                    Direction::Received => &f.peer,
                };
                via = format!("can {}", printable(&sender.to_string()));
            }
            (f.at, format!("{arrow} {via} {hex} | {}", decoded(&f.decoded)))
        }
        Event::Note(n) => (n.at, format!("note: {}", printable(&n.text))),
        Event::Metric(m) => (m.at, format!("metric {} = {:?}", printable(&m.name), m.value)),
        Event::CaseFinished(c) => (c.at, format!("verdict {}", c.verdict)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_terminal_and_xml_hostile_characters_and_keeps_the_rest() {
        assert_eq!(printable("a\tb\nc"), "a\tb\nc");
        assert_eq!(printable("\u{1b}[2J\u{0}\r"), "\\u{1b}[2J\\u{0}\\u{d}");
        assert_eq!(printable("\u{85}\u{fffe}\u{ffff}"), "\\u{85}\\u{fffe}\\u{ffff}");
        assert_eq!(printable("VIN ÄÖ ✓ ]]> \u{1fffe}"), "VIN ÄÖ ✓ ]]> \u{1fffe}");
    }

    #[test]
    fn hex_is_cut_with_the_total_length() {
        assert_eq!(hex_bytes(&[0x02, 0xfd], 4), "02 fd");
        assert_eq!(hex_bytes(&[1, 2, 3, 4, 5], 2), "01 02 ... (5 bytes)");
        assert_eq!(hex_bytes(&[], 2), "");
    }

    #[test]
    fn seconds_have_millisecond_precision() {
        assert_eq!(seconds(Duration::from_micros(2_003_999)), "2.003s");
    }
}
