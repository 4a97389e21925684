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
        self.key(key);
        push_decimal(self.buf, value);
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
        self.key(key);
        self.buf.push('"');
        push_escaped(self.buf, value);
        self.buf.push('"');
    }

    /// JSON text written as it is (a fragment [`JsonLine`] wrote before, e.g. a cached
    /// `"src":..,"dst":..` pair): `fragment` starts with its key.
    pub(super) fn raw(&mut self, fragment: &str) {
        self.buf.push(',');
        self.buf.push_str(fragment);
    }

    /// A string value written by its Display, escaped on the way (no String in between).
    pub(super) fn text(&mut self, key: &str, value: impl std::fmt::Display) {
        use std::fmt::Write as _;
        self.key(key);
        self.buf.push('"');
        let _ = write!(Escaped(self.buf), "{value}");
        self.buf.push('"');
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

/// `value` in decimal, as `Display` writes it, without the formatting machinery (the
/// transcript writes several numbers a message).
fn push_decimal(buf: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    // The digits are ASCII.
    buf.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// A byte JSON must escape in a string: quote, backslash, control characters (RFC 8259 §7).
fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// `s` into a JSON string, escaped; the runs between escapes are copied whole.
fn push_escaped(buf: &mut String, mut s: &str) {
    use std::fmt::Write as _;
    while let Some(at) = s.bytes().position(needs_escape) {
        buf.push_str(&s[..at]);
        match s.as_bytes()[at] {
            b'"' => buf.push_str("\\\""),
            b'\\' => buf.push_str("\\\\"),
            c => {
                let _ = write!(buf, "\\u{:04x}", c);
            }
        }
        // The escaped byte is ASCII: `at + 1` is a char boundary.
        s = &s[at + 1..];
    }
    buf.push_str(s);
}

/// Writes into a JSON string through [`push_escaped`].
struct Escaped<'b>(&'b mut String);

impl std::fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        push_escaped(self.0, s);
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

    #[test]
    fn numbers_and_escapes_are_written_as_serde_json_writes_them() {
        for n in [0u64, 7, 10, 99, 100, 13400, 1_764_900_000_000_000, u64::MAX] {
            let mut buf = String::new();
            push_decimal(&mut buf, n);
            assert_eq!(buf, serde_json::to_string(&n).unwrap());
        }
        let texts = ["", "plain", "\"", "a\\b", "\u{0}x\u{1f}", "é \" ü\n", "tail\t"];
        for text in texts {
            let mut buf = String::from("\"");
            push_escaped(&mut buf, text);
            buf.push('"');
            let back: String = serde_json::from_str(&buf).unwrap();
            assert_eq!(back, text, "{buf}");
        }
    }
}
