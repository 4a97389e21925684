//! One `--json` line written field by field into a reused buffer: the transcript of a large
//! capture is the hot path, and building `serde_json` values per message costs more than the
//! whole reading.
//!
//! May import: nothing of this crate.

/// One JSON object built field by field into a reused buffer, ending with a newline. Keys are
/// fixed identifiers; string values are escaped (RFC 8259 §7).
pub(super) struct JsonLine<'b> {
    buf: &'b mut String,
}

impl<'b> JsonLine<'b> {
    pub(super) fn start(buf: &'b mut String, kind: &str) -> Self {
        buf.clear();
        buf.push_str("{\"kind\":\"");
        buf.push_str(kind);
        buf.push('"');
        JsonLine { buf }
    }

    pub(super) fn key(&mut self, key: &str) {
        self.buf.push_str(",\"");
        self.buf.push_str(key);
        self.buf.push_str("\":");
    }

    pub(super) fn num(&mut self, key: &str, value: u64) {
        use std::fmt::Write as _;
        self.key(key);
        let _ = write!(self.buf, "{value}");
    }

    pub(super) fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf.push_str(if value { "true" } else { "false" });
    }

    pub(super) fn null(&mut self, key: &str) {
        self.key(key);
        self.buf.push_str("null");
    }

    pub(super) fn str(&mut self, key: &str, value: &str) {
        use std::fmt::Write as _;
        self.key(key);
        self.buf.push('"');
        let _ = Escaped(self.buf).write_str(value);
        self.buf.push('"');
    }

    /// A string value written by its Display, escaped on the way (no String in between).
    pub(super) fn text(&mut self, key: &str, value: impl std::fmt::Display) {
        use std::fmt::Write as _;
        self.key(key);
        self.buf.push('"');
        let _ = write!(Escaped(self.buf), "{value}");
        self.buf.push('"');
    }

    /// A value whose Display needs no escaping (addresses).
    pub(super) fn display(&mut self, key: &str, value: impl std::fmt::Display) {
        use std::fmt::Write as _;
        self.key(key);
        let _ = write!(self.buf, "\"{value}\"");
    }

    pub(super) fn hex(&mut self, key: &str, bytes: &[u8]) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        self.key(key);
        self.buf.push('"');
        for b in bytes {
            self.buf.push(DIGITS[usize::from(b >> 4)] as char);
            self.buf.push(DIGITS[usize::from(b & 0x0F)] as char);
        }
        self.buf.push('"');
    }

    pub(super) fn end(self) {
        self.buf.push_str("}\n");
    }
}

/// Writes into a JSON string: quote, backslash and control characters escaped (RFC 8259 §7).
struct Escaped<'b>(&'b mut String);

impl std::fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                c if (c as u32) < 0x20 => write!(self.0, "\\u{:04x}", c as u32)?,
                c => self.0.push(c),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn json_lines_escape_strings_and_parse() {
        let mut buf = String::new();
        let mut j = JsonLine::start(&mut buf, "doip");
        j.str("summary", "quote \" back \\ bell \u{7} é");
        j.hex("data", &[0x00, 0xAB]);
        j.null("error");
        j.end();
        let v: Value = serde_json::from_str(&buf).unwrap();
        assert_eq!(v["summary"], "quote \" back \\ bell \u{7} é");
        assert_eq!(v["data"], "00ab");
        assert!(buf.ends_with("}\n"));
    }
}
