//! `doipcheck decode`: DoIP messages from hex (pasted from logs) to a summary and every field,
//! for people (default) or machines (`--json`, one object per message per line).
//!
//! Input: the arguments joined as one message, or, without arguments, one message per line of
//! stdin, as hex in the one grammar of `crate::notation` (`:`, `-`, `,`, `_` or spaces between
//! bytes, `0x` prefixes); empty lines and lines starting with `#` are skipped. Exit 0 when every message is valid, 1 when any is not, 2 when there
//! is no input.
//!
//! JSON object per input: `input` (hex), `valid`, then either `summary`, `payload_type` (id or
//! `unknown`), `header` and `fields` (every field by name; codes as `{"value", "name"}`,
//! numbers and addresses as numbers, bytes as lowercase hex, a printable VIN as text, absent
//! optional fields as `null`), or `error` (`rule`, `message`, `field`, `offset`, `nack_code`,
//! `closes_tcp_socket`) with the `header` as sent when 8 bytes are present.

use super::exit;
use super::stdout::{self, Stdout};
use crate::codec::doip::fields::{
    FieldValue, NamedField, header_fields, payload_fields, validated_header_fields,
};
use crate::codec::doip::{Error, HEADER_LEN, HeaderRules, HeaderView, Message, Transport};
use crate::notation;
use clap::Args;
use serde_json::Value;
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write as _};

/// Decode DoIP messages given as hex.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The message as hex (spaces allowed; several arguments are joined). Without it, one
    /// message per line is read from stdin.
    pub hex: Vec<String>,
    /// One JSON object per message (every field by name) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Read each input as a TCP stream: back-to-back messages are split by their payload
    /// length and decoded one by one (a remainder too short for its header or length is
    /// decoded as the last, invalid, message). Without it, an input that is exactly several
    /// whole messages is split too, with a note.
    #[arg(long)]
    pub stream: bool,
}

/// The example the default command decodes (a UDS ReadDataByIdentifier 0xF190 request).
pub const EXAMPLE: &str = "02fd8001000000070e00100022f190";

/// Runs `doipcheck decode`; returns the exit code.
pub fn run(args: DecodeArgs) -> u8 {
    let mut out = Stdout::new();
    let mut printer = Printer { args: &args, out: &mut out, shown: 0, all_valid: true };
    let printed = if !args.hex.is_empty() {
        printer.input(&args.hex.join(" "))
    } else {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!(
                "error: no input. Give the message as hex, e.g. `doipcheck decode {EXAMPLE}`, \
                 or pipe one message per line on stdin."
            );
            return exit::USAGE;
        }
        // Line by line: a closed stdout stops the reading of stdin too.
        let mut printed = Ok(());
        for line in stdin.lock().lines() {
            let line = match line {
                Ok(line) => line,
                Err(e) => {
                    let _ = printer.out.flush();
                    eprintln!("error: reading stdin: {e}");
                    return exit::USAGE;
                }
            };
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            printed = printer.input(&line);
            if printed.is_err() {
                break;
            }
        }
        printed
    };
    let code = if printer.all_valid { exit::SUCCESS } else { exit::FAILURE };
    stdout::exit_code(printed.and_then(|()| out.flush()), code)
}

/// Writes each decoded message as it comes.
struct Printer<'a> {
    args: &'a DecodeArgs,
    out: &'a mut Stdout,
    /// Messages written so far (human output puts an empty line between them).
    shown: usize,
    all_valid: bool,
}

impl Printer<'_> {
    fn input(&mut self, text: &str) -> std::io::Result<()> {
        for decoded in decode_input(text, self.args.stream) {
            self.all_valid &= decoded.is_valid();
            let mut block = String::new();
            if self.args.json {
                block.push_str(&decoded.to_json());
                block.push('\n');
            } else {
                if self.shown > 0 {
                    block.push('\n');
                }
                decoded.write_human(&mut block);
            }
            self.shown += 1;
            self.out.write_all(block.as_bytes())?;
        }
        Ok(())
    }
}

/// One input line, decoded.
pub struct DecodedInput {
    /// The input text.
    pub text: String,
    /// The bytes (or why the text is not hex).
    pub bytes: Result<Vec<u8>, String>,
    /// Where it came from when one input held several messages: `message 2 of 3 of a stream`.
    pub part: Option<String>,
}

/// Decodes one input line.
pub fn decode(text: &str) -> DecodedInput {
    DecodedInput { text: text.trim().to_owned(), bytes: notation::parse_hex(text), part: None }
}

/// One input line as one message or, as a TCP stream (`stream`, or when it is exactly several
/// whole messages), as the messages in it.
pub fn decode_input(text: &str, stream: bool) -> Vec<DecodedInput> {
    let whole = decode(text);
    let Ok(bytes) = &whole.bytes else { return vec![whole] };
    let parts = split_stream(bytes);
    let exact = parts.len() > 1 && parts.iter().all(|p| Message::parse(p).is_ok());
    if !(stream || exact) || parts.len() < 2 {
        return vec![whole];
    }
    let n = parts.len();
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| DecodedInput {
            text: hex::encode(part),
            bytes: Ok(part.to_vec()),
            part: Some(format!(
                "message {} of {n} back-to-back in one input{}",
                i + 1,
                if stream {
                    ""
                } else {
                    " (split by their payload lengths; --stream always splits)"
                }
            )),
        })
        .collect()
}

/// Back-to-back messages of a TCP stream, split by the payload length of each generic header
/// (ISO 13400-2:2019, generic DoIP header structure); what is left when a header or its
/// payload is incomplete is the last part. Bounded by the input: no length is trusted beyond
/// the bytes there are.
fn split_stream(bytes: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let whole = rest.get(4..8).and_then(|l| {
            let length = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
            let end = length.checked_add(HEADER_LEN)?;
            (end <= rest.len()).then_some(end)
        });
        match whole {
            Some(end) => {
                parts.push(&rest[..end]);
                rest = &rest[end..];
            }
            None => {
                parts.push(rest);
                break;
            }
        }
    }
    parts
}

/// What an entity does with a well-formed message of a payload type it does not know: the
/// header rules an entity applies (`HeaderRules::transport`) give the NACK and the socket's
/// fate (ISO 13400-2:2019 Table 19: generic NACK 0x01, the socket stays open).
fn entity_answer(bytes: &[u8]) -> Option<Error> {
    let message = Message::parse(bytes).ok()?;
    if message.payload.payload_type().is_named() {
        return None;
    }
    let rules = HeaderRules { transport: Some(Transport::Tcp), ..HeaderRules::default() };
    Message::parse_with(bytes, &rules).err()
}

/// `an entity answers generic NACK 0x01 (...) and the TCP socket stays open`.
fn answer_text(error: &Error) -> String {
    match error.nack_code() {
        Some(code) => format!(
            "an entity answers generic NACK 0x{:02X} ({code}) and {}",
            code.raw(),
            if error.closes_tcp_socket() {
                "closes the TCP socket"
            } else {
                "the TCP socket stays open"
            }
        ),
        None => "an entity does not answer".to_owned(),
    }
}

impl DecodedInput {
    fn parsed(&self) -> Option<Result<Message<'_>, Error>> {
        self.bytes.as_ref().ok().map(|b| Message::parse(b))
    }

    /// True when the input is hex of exactly one valid message.
    pub fn is_valid(&self) -> bool {
        matches!(self.parsed(), Some(Ok(_)))
    }

    /// Summary line, then the header and payload fields (or the error and the header as
    /// sent).
    pub fn write_human(&self, out: &mut String) {
        let bytes = match &self.bytes {
            Ok(bytes) => bytes,
            Err(why) => {
                let _ = writeln!(out, "{}\n  invalid input: {why}", self.text);
                return;
            }
        };
        let _ = writeln!(out, "{}", hex::encode(bytes));
        if let Some(part) = &self.part {
            let _ = writeln!(out, "  note: {part}");
        }
        match Message::parse(bytes) {
            Ok(message) => {
                let _ = writeln!(out, "  {message}");
                if let Some(answer) = entity_answer(bytes) {
                    let _ = writeln!(
                        out,
                        "  note: a reserved payload type; {} (rule {})",
                        answer_text(&answer),
                        answer.rule.id()
                    );
                }
                write_fields(out, "header", &validated_header_fields(&message.header()));
                write_fields(out, "payload", &payload_fields(&message.payload));
            }
            Err(error) => {
                let _ = writeln!(out, "  invalid: {error}");
                let _ = write!(out, "  rule {}", error.rule.id());
                match error.nack_code() {
                    Some(code) => {
                        let _ = write!(
                            out,
                            "; an entity answers generic NACK 0x{:02X} ({code})",
                            code.raw()
                        );
                        if error.closes_tcp_socket() {
                            out.push_str(" and closes the TCP socket");
                        }
                    }
                    None => out.push_str("; no NACK (too short to be a message)"),
                }
                out.push('\n');
                if let Ok(view) = HeaderView::new(&bytes[..]) {
                    write_fields(out, "header", &header_fields(&view));
                }
            }
        }
    }

    /// One JSON object on one line, keys in a fixed order (see the module docs for the
    /// shape).
    pub fn to_json(&self) -> String {
        let bytes = match &self.bytes {
            Ok(bytes) => bytes,
            Err(why) => {
                return object(&[
                    ("input", json_string(&self.text)),
                    ("valid", "false".into()),
                    (
                        "error",
                        object(&[
                            ("rule", json_string("invalid_hex")),
                            ("message", json_string(why)),
                        ]),
                    ),
                ]);
            }
        };
        let input = json_string(&hex::encode(bytes));
        let part = self.part.as_deref().map_or_else(|| "null".into(), json_string);
        match Message::parse(bytes) {
            Ok(message) => {
                let answer = entity_answer(bytes).map_or_else(
                    || "null".into(),
                    |e| {
                        object(&[
                            ("rule", json_string(e.rule.id())),
                            ("text", json_string(&answer_text(&e))),
                            ("nack_code", nack_json(&e)),
                            ("closes_tcp_socket", e.closes_tcp_socket().to_string()),
                        ])
                    },
                );
                object(&[
                    ("input", input),
                    ("valid", "true".into()),
                    ("part", part),
                    ("summary", json_string(&message.to_string())),
                    (
                        "payload_type",
                        json_string(message.payload.payload_type().id().unwrap_or("unknown")),
                    ),
                    ("entity_answer", answer),
                    ("header", fields_json(&validated_header_fields(&message.header()))),
                    ("fields", fields_json(&payload_fields(&message.payload))),
                ])
            }
            Err(error) => {
                let error_json = object(&[
                    ("rule", json_string(error.rule.id())),
                    ("message", json_string(&error.rule.to_string())),
                    ("field", json_string(error.field.id())),
                    ("offset", error.offset.to_string()),
                    ("nack_code", nack_json(&error)),
                    ("closes_tcp_socket", error.closes_tcp_socket().to_string()),
                ]);
                let mut pairs = vec![
                    ("input", input),
                    ("valid", "false".into()),
                    ("part", part),
                    ("error", error_json),
                ];
                if let Ok(view) = HeaderView::new(&bytes[..]) {
                    pairs.push(("header", fields_json(&header_fields(&view))));
                }
                object(&pairs)
            }
        }
    }
}

/// A JSON object from keys and already-encoded values, keys in the given order (serde_json's
/// map sorts them, which would scatter a message's fields out of wire order).
pub(crate) fn object(pairs: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(key));
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
    out
}

fn nack_json(error: &Error) -> String {
    match error.nack_code() {
        Some(code) => code_json(u64::from(code.raw()), code.id()),
        None => "null".into(),
    }
}

pub(crate) fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

pub(crate) fn code_json(raw: u64, id: Option<&str>) -> String {
    object(&[("value", raw.to_string()), ("name", id.map_or_else(|| "null".into(), json_string))])
}

fn write_fields(out: &mut String, title: &str, fields: &[NamedField<'_>]) {
    for (i, field) in fields.iter().enumerate() {
        let label = if i == 0 { title } else { "" };
        let _ = writeln!(out, "  {label:<8} {:<27} {}", field.name, human_value(&field.value));
    }
}

fn human_value(value: &FieldValue<'_>) -> String {
    match value {
        FieldValue::Number(n) => n.to_string(),
        FieldValue::Hex(v, width) => format!("0x{v:0w$X}", w = usize::from(*width) * 2),
        FieldValue::Code { raw, width, description, .. } => {
            let hex = format!("0x{raw:0w$X}", w = usize::from(*width) * 2);
            match description {
                Some(text) => format!("{hex} {text}"),
                None => format!("{hex} (unknown)"),
            }
        }
        FieldValue::Bytes([]) => "(empty)".into(),
        FieldValue::Bytes(b) => b.iter().map(|x| format!("{x:02X}")).collect::<Vec<_>>().join(" "),
        FieldValue::Vin(vin) => match printable(&vin[..]) {
            Some(text) => text.into(),
            None => format!("{} (not printable)", hex::encode_upper(vin)),
        },
        FieldValue::Absent => "(absent)".into(),
    }
}

fn printable(bytes: &[u8]) -> Option<&str> {
    bytes.iter().all(u8::is_ascii_graphic).then(|| std::str::from_utf8(bytes).ok()).flatten()
}

fn fields_json(fields: &[NamedField<'_>]) -> String {
    let pairs: Vec<(&str, String)> = fields
        .iter()
        .map(|field| {
            let value = match &field.value {
                FieldValue::Number(n) | FieldValue::Hex(n, _) => n.to_string(),
                FieldValue::Code { raw, id, .. } => code_json(*raw, *id),
                FieldValue::Bytes(b) => json_string(&hex::encode(b)),
                FieldValue::Vin(vin) => json_string(
                    &printable(&vin[..]).map_or_else(|| hex::encode(vin), str::to_owned),
                ),
                FieldValue::Absent => "null".into(),
            };
            (field.name, value)
        })
        .collect();
    object(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_read_with_the_one_hex_grammar() {
        assert_eq!(decode("02 fd:80-01,0x00").bytes, Ok(vec![0x02, 0xFD, 0x80, 0x01, 0x00]));
        assert_eq!(decode("  ").bytes, Ok(vec![]));
        assert_eq!(
            decode("02fz").bytes,
            Err("hex `02fz`: `z` at column 4 is not a hex digit".into())
        );
        assert!(decode("02f").bytes.unwrap_err().contains("odd number of digits"));
    }

    #[test]
    fn json_keeps_fields_in_wire_order_and_parses() {
        let line = decode(EXAMPLE).to_json();
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["fields"]["user_data"], "22f190");
        assert_eq!(value["header"]["payload_type"]["name"], "diagnostic_message");
        let source = line.find("source_address").unwrap();
        assert!(source < line.find("target_address").unwrap(), "{line}");
    }

    #[test]
    fn a_reserved_payload_type_names_the_entitys_answer() {
        let reserved = decode_input("02 FD 00 09 00 00 00 00", false);
        let mut text = String::new();
        reserved[0].write_human(&mut text);
        assert!(
            text.contains("an entity answers generic NACK 0x01 (unknown payload type) and the TCP socket stays open"),
            "{text}"
        );
        let json: Value = serde_json::from_str(&reserved[0].to_json()).unwrap();
        assert_eq!(json["entity_answer"]["nack_code"]["value"], 1);
        assert_eq!(json["entity_answer"]["closes_tcp_socket"], false);
        let known: Value = serde_json::from_str(&decode(EXAMPLE).to_json()).unwrap();
        assert!(known["entity_answer"].is_null());
    }

    #[test]
    fn back_to_back_messages_are_split_by_their_lengths() {
        let two = format!("{EXAMPLE}{}", "02fd000500000007 0e80 00 00000000");
        let parts = decode_input(&two, false);
        assert_eq!(parts.len(), 2, "whole messages are split without --stream");
        assert!(parts.iter().all(DecodedInput::is_valid));
        assert!(parts[1].part.as_deref().unwrap().starts_with("message 2 of 2"));
        // A cut-off second message: one invalid input without --stream, split with it.
        let cut = format!("{EXAMPLE}02fd0005000000070e");
        assert_eq!(decode_input(&cut, false).len(), 1);
        let split = decode_input(&cut, true);
        assert_eq!(split.len(), 2);
        assert!(split[0].is_valid() && !split[1].is_valid());
        // A length no input holds is not trusted.
        assert_eq!(split_stream(&[2, 0xFD, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 1]).len(), 1);
    }

    #[test]
    fn the_example_is_valid() {
        assert!(decode(EXAMPLE).is_valid());
    }
}
