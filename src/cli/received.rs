//! How `discover` and `request` show what an entity sent: a valid message as its one-line
//! summary, anything else decoded as `doipcheck decode` does (the rule it breaks, the NACK an
//! entity would answer, the header as sent), never dropped. JSON: the `decode --json` object
//! plus `at_ms` and `note`.

use super::decode::{DecodedInput, json_string, object};
use crate::client::session::SessionMessage;
use crate::report::printable;
use std::fmt::Write as _;

/// `  < 0.012s  summary  (note)`, or the decode of broken bytes indented below the line.
pub fn write_received(out: &mut String, r: &SessionMessage) {
    let note = r.note.as_deref().map(|n| format!("  ({})", printable(n))).unwrap_or_default();
    match &r.message {
        Ok(message) => {
            let _ = writeln!(
                out,
                "  < {:>7.3}s {}{note}",
                r.at.as_secs_f64(),
                printable(&message.to_string())
            );
        }
        Err(why) => {
            let _ =
                writeln!(out, "  < {:>7.3}s BROKEN: {}{note}", r.at.as_secs_f64(), printable(why));
            let mut decoded = String::new();
            as_input(&r.bytes).write_human(&mut decoded);
            for line in decoded.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
}

/// The `decode --json` object of the bytes, with when it came and the note.
pub fn received_json(r: &SessionMessage) -> String {
    let decoded = as_input(&r.bytes).to_json();
    let mut pairs = vec![("at_ms", format!("{:.3}", r.at.as_secs_f64() * 1000.0))];
    if let Err(why) = &r.message {
        // The connection's reading, when the bytes alone decode (a desynchronised stream).
        pairs.push(("problem", json_string(why)));
    }
    pairs.push(("note", r.note.as_deref().map_or_else(|| "null".into(), json_string)));
    pairs.push(("message", decoded));
    object(&pairs)
}

fn as_input(bytes: &[u8]) -> DecodedInput {
    DecodedInput { text: hex::encode(bytes), bytes: Ok(bytes.to_vec()), part: None }
}

/// A rule the entity broke (`crate::judge`), as `request` and `discover` print it: a line of
/// text naming rule, clause and messages, or a JSON object.
pub fn finding_text(f: &crate::judge::Finding) -> String {
    format!("finding: {}", printable(&f.line("messages")))
}

/// See [`finding_text`].
pub fn finding_json(f: &crate::judge::Finding) -> String {
    object(&[
        ("event", json_string("finding")),
        ("rule", json_string(f.rule.id)),
        ("clause", json_string(f.rule.clause)),
        ("expected", json_string(f.rule.requirement)),
        ("message", json_string(&f.message)),
    ])
}
