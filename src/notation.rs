//! The two text notations every input of doipcheck shares (suites, target profiles, the
//! simulator configuration, `--can` spec options and command-line arguments): hex bytes and
//! durations. Each has one grammar and one formatter, here; this module imports nothing else of
//! the crate and does no I/O.
//!
//! # Hex bytes
//!
//! ```text
//! hex       = [ sep ] *( group [ sep ] )
//! group     = [ "0x" | "0X" ] 1*( HEXDIG HEXDIG )     a group holds whole bytes
//! sep       = 1*( whitespace | ":" | "-" | "," | "_" )
//! ```
//!
//! `02 FD 80 01`, `02fd8001`, `0x02FD8001`, `0x02 0xfd 0x80 0x01`, `00:1A:2B`, `00-1a-2b`
//! and `02,FD` all read as bytes; case does not matter; an empty text is no bytes (a caller that
//! needs at least one says so). Refused, with the 1-based column of the culprit in the message:
//! a character that is no hex digit (`02 FZ`: `Z` at column 5), a group with an odd number of
//! digits (`02 FD 0`: the group `0` at column 7; a missing nibble is a typo, never padded),
//! and a `0x` with no digits after it.
//!
//! The formatter, [`hex_spaced`], writes lower-case pairs separated by one space
//! (`02 fd 80 01`), which the grammar reads back.
//!
//! # Durations
//!
//! ```text
//! duration  = "0" | number [ spaces ] unit
//! number    = 1*DIGIT [ "." *DIGIT ] | "." 1*DIGIT     1, 1.5, 0.25, .5, 5.
//! unit      = "us" | "µs" | "ms" | "s" | "m" | "min" | "h"
//! ```
//!
//! `250us`, `1.5ms`, `500ms`, `2s`, `1.5s`, `1m`, `5min`, `5 min`, `0.5h`, and `0` alone. `m`
//! and `min` are both minutes. A bare number other than zero is refused: `2` could mean seconds
//! or milliseconds, and a timer off by a factor of 1000 is the kind of mistake a conformance
//! tool must not make silently. Units are lower case (`MS` is refused); one unit per duration
//! (`1m30s` is refused, write `90s`); no sign.
//!
//! Resolution is one microsecond: a value is rounded to the nearest microsecond, a half
//! rounding up, computed exactly on the decimal digits (no floating point). So `0.0004ms`
//! (0.4 us) is zero, `0.0005ms` is `1us`, `1.0000005s` is `1000001us`. The largest duration is
//! 2^64 - 1 microseconds (about 584 542 years); anything larger is an error, never a wrap.
//!
//! The formatter, [`format_duration`], writes the largest of `s`, `ms`, `us` that is exact
//! (`2s`, `1500ms`, `250us`, `0s`), which the grammar reads back.
//!
//! ```
//! use doipcheck::notation::{format_duration, hex_spaced, parse_duration, parse_hex};
//! use std::time::Duration;
//!
//! assert_eq!(parse_hex("0x02 FD:80-01"), Ok(vec![0x02, 0xFD, 0x80, 0x01]));
//! assert_eq!(hex_spaced(&[0x02, 0xFD]), "02 fd");
//! assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
//! assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
//! assert!(parse_duration("2").unwrap_err().contains("needs a unit"));
//! ```

use core::fmt::Write as _;
use core::time::Duration;

/// Characters that separate hex groups.
fn is_hex_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ':' | '-' | ',' | '_')
}

/// The text as messages quote it: long input (a hostile line can be megabytes) is cut.
fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MAX).collect();
    if chars.next().is_some() { format!("`{head}...`") } else { format!("`{head}`") }
}

/// Reads hex bytes (grammar in the module doc). The error names the column of the problem.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut bytes = Vec::with_capacity(chars.len() / 2);
    let mut i = 0;
    while i < chars.len() {
        if is_hex_separator(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !is_hex_separator(chars[i]) {
            i += 1;
        }
        hex_group(text, &chars, start, i, &mut bytes)?;
    }
    Ok(bytes)
}

/// One group `chars[start..end]`, without separators, appended to `bytes`.
fn hex_group(
    text: &str,
    chars: &[char],
    start: usize,
    end: usize,
    bytes: &mut Vec<u8>,
) -> Result<(), String> {
    let group = &chars[start..end];
    let digits = match group {
        ['0', 'x' | 'X', rest @ ..] => {
            if rest.is_empty() {
                return Err(format!(
                    "hex {}: `{}` at column {} has no digits after it",
                    quoted(text),
                    group.iter().collect::<String>(),
                    start + 1
                ));
            }
            rest
        }
        _ => group,
    };
    let first_digit = end - digits.len();
    let mut nibbles = Vec::with_capacity(digits.len());
    for (k, c) in digits.iter().enumerate() {
        match c.to_digit(16) {
            Some(n) => nibbles.push(n as u8),
            None => {
                return Err(format!(
                    "hex {}: `{}` at column {} is not a hex digit",
                    quoted(text),
                    c.escape_debug(),
                    first_digit + k + 1
                ));
            }
        }
    }
    if !nibbles.len().is_multiple_of(2) {
        return Err(format!(
            "hex {} has an odd number of digits in the group {} at column {} (a byte is two \
             digits)",
            quoted(text),
            quoted(&group.iter().collect::<String>()),
            start + 1
        ));
    }
    bytes.extend(nibbles.chunks_exact(2).map(|pair| (pair[0] << 4) | pair[1]));
    Ok(())
}

/// Bytes as lower-case pairs separated by one space: `02 fd 00 01`.
pub fn hex_spaced(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// A duration unit: microseconds per unit, as `scale * 10^shift` so that a decimal fraction
/// can be multiplied exactly by moving its point and multiplying by a small integer.
struct Unit {
    scale: u8,
    shift: usize,
}

fn unit(name: &str) -> Option<Unit> {
    let (scale, shift) = match name {
        "us" | "µs" | "μs" => (1, 0),
        "ms" => (1, 3),
        "s" => (1, 6),
        "m" | "min" => (6, 7),
        "h" => (36, 8),
        _ => return None,
    };
    Some(Unit { scale, shift })
}

const UNITS: &str = "us, ms, s, min or h";

/// The duration grammar as a regular expression (ECMA-262 and Rust `regex` alike, without
/// anchors), for the suite JSON Schema: what it matches, [`parse_duration`] reads (a test
/// generates strings from it). It allows only spaces between number and unit, where the parser
/// also takes other whitespace.
pub const DURATION_PATTERN: &str = r"0|([0-9]+(\.[0-9]*)?|\.[0-9]+) *(us|µs|μs|ms|s|m|min|h)";

/// Reads a duration (grammar in the module doc). The error says what is wrong and where.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the duration is empty (write e.g. `500ms` or `2s`)".into());
    }
    if t.starts_with('-') {
        return Err(format!("duration {} is negative", quoted(t)));
    }
    let number_end = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, rest) = t.split_at(number_end);
    if number.is_empty() {
        return Err(format!("duration {} must start with a number, e.g. `500ms`", quoted(t)));
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.contains('.') || (whole.is_empty() && fraction.is_empty()) {
        return Err(format!(
            "duration {}: {} at column 1 is not a number",
            quoted(t),
            quoted(number)
        ));
    }
    let unit_text = rest.trim_start();
    let unit_column = t[..t.len() - unit_text.len()].chars().count() + 1;
    let is_zero = whole.chars().chain(fraction.chars()).all(|c| c == '0');
    if unit_text.is_empty() {
        if is_zero {
            return Ok(Duration::ZERO);
        }
        return Err(format!("duration {} needs a unit ({UNITS}), e.g. `{t}ms`", quoted(t)));
    }
    let Some(unit) = unit(unit_text) else {
        return Err(format!(
            "duration {} has an unknown unit {} at column {unit_column} (use {UNITS})",
            quoted(t),
            quoted(unit_text)
        ));
    };
    micros(whole, fraction, &unit)
        .and_then(|us| u64::try_from(us).ok())
        .map(Duration::from_micros)
        .ok_or_else(|| {
            format!(
                "duration {} is too large (at most 2^64 - 1 us, about 584 542 years)",
                quoted(t)
            )
        })
}

/// `whole.fraction` units in microseconds, rounded to the nearest (a half up); `None` when it
/// does not fit in a u128.
fn micros(whole: &str, fraction: &str, unit: &Unit) -> Option<u128> {
    // Move the decimal point `shift` places right: those fraction digits join the integer part
    // (padded with zeros when the fraction is shorter).
    let moved = fraction.len().min(unit.shift);
    let (into_whole, rest) = fraction.split_at(moved);
    let mut integer: u128 = 0;
    for c in whole.bytes().chain(into_whole.bytes()) {
        integer = integer.checked_mul(10)?.checked_add(u128::from(c - b'0'))?;
    }
    for _ in moved..unit.shift {
        integer = integer.checked_mul(10)?;
    }
    // Multiply the remaining fraction by `scale` digit by digit from the right: the carry is
    // its integer part, the first digit of the product decides the rounding.
    let scale = u32::from(unit.scale);
    let mut carry = 0u32;
    let mut first_digit = 0u32;
    for c in rest.bytes().rev() {
        let product = u32::from(c - b'0') * scale + carry;
        first_digit = product % 10;
        carry = product / 10;
    }
    let rounded = u128::from(carry) + u128::from(first_digit >= 5);
    integer.checked_mul(u128::from(unit.scale))?.checked_add(rounded)
}

/// A duration in the largest of `s`, `ms`, `us` that is exact, truncated to the microsecond:
/// `2s`, `1500ms`, `250us`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1000) {
        format!("{}ms", us / 1000)
    } else {
        format!("{us}us")
    }
}

// Names: "did you mean" for a misspelt key, step, fault or case id, shared by every
// reader of user input (suites, profiles, the simulator's configuration, filters).

/// The closest candidate to `word` by edit distance, when it is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment),
/// in characters: `titel` is one edit from `title`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn us(n: u64) -> Result<Duration, String> {
        Ok(Duration::from_micros(n))
    }

    #[test]
    fn hex_takes_every_separator_and_prefix() {
        let fd = Ok(vec![0x02, 0xFD, 0x80, 0x01]);
        for text in [
            "02 FD 80 01",
            "02fd8001",
            "0x02FD8001",
            "0X02fd8001",
            "0x02 0xFD 0x80 0x01",
            "02:FD:80:01",
            "02-fd-80-01",
            "02,FD, 80,01",
            "02_FD_8001",
            "  02\tFD\n80 01  ",
            "0x02FD 8001",
        ] {
            assert_eq!(parse_hex(text), fd, "{text}");
        }
        assert_eq!(parse_hex(""), Ok(vec![]));
        assert_eq!(parse_hex(" : "), Ok(vec![]));
    }

    #[test]
    fn hex_errors_name_the_column() {
        assert_eq!(
            parse_hex("02 FD 0").unwrap_err(),
            "hex `02 FD 0` has an odd number of digits in the group `0` at column 7 (a byte is \
             two digits)"
        );
        assert_eq!(
            parse_hex("02 fz").unwrap_err(),
            "hex `02 fz`: `z` at column 5 is not a hex digit"
        );
        assert_eq!(
            parse_hex("0x").unwrap_err(),
            "hex `0x`: `0x` at column 1 has no digits after it"
        );
        assert!(parse_hex("01 0X").unwrap_err().contains("`0X` at column 4 has no digits"));
        // A prefix in the middle of a group is a bad digit, not a prefix.
        assert!(parse_hex("020x03").unwrap_err().contains("`x` at column 4"));
        // Columns count characters, not bytes.
        assert!(parse_hex("µ 0g").unwrap_err().contains("`µ` at column 1"));
        assert!(parse_hex("ä 0g").unwrap_err().contains("`ä` at column 1"));
        assert!(parse_hex("01 0\u{0}").unwrap_err().contains("`\\0` at column 5"));
        // Nibbles never pair across separators: `0 2` is two half bytes, not 0x02.
        assert!(parse_hex("0 2").unwrap_err().contains("group `0` at column 1"));
        let long = "00 ".repeat(100) + "0";
        let e = parse_hex(&long).unwrap_err();
        assert!(e.contains("...` has an odd") && e.contains("column 301") && e.len() < 150, "{e}");
    }

    #[test]
    fn hex_formats_lower_case_pairs() {
        assert_eq!(hex_spaced(&[]), "");
        assert_eq!(hex_spaced(&[0x02, 0xFD, 0x00]), "02 fd 00");
    }

    #[test]
    fn durations_take_every_unit_and_decimals() {
        assert_eq!(parse_duration("250us"), us(250));
        assert_eq!(parse_duration("250µs"), us(250));
        assert_eq!(parse_duration("1.5ms"), us(1500));
        assert_eq!(parse_duration("500ms"), us(500_000));
        assert_eq!(parse_duration("2s"), us(2_000_000));
        assert_eq!(parse_duration("1.5s"), us(1_500_000));
        assert_eq!(parse_duration("1m"), us(60_000_000));
        assert_eq!(parse_duration("5min"), us(300_000_000));
        assert_eq!(parse_duration(" 5 min "), us(300_000_000));
        assert_eq!(parse_duration("0.5h"), us(1_800_000_000));
        assert_eq!(parse_duration("1.25h"), us(4_500_000_000));
        assert_eq!(parse_duration(".5s"), us(500_000));
        assert_eq!(parse_duration("5.s"), us(5_000_000));
        assert_eq!(parse_duration("0"), us(0));
        assert_eq!(parse_duration("0.0"), us(0));
        assert_eq!(parse_duration("0ms"), us(0));
        assert_eq!(parse_duration("007ms"), us(7000));
    }

    #[test]
    fn durations_round_to_the_nearest_microsecond_a_half_up() {
        assert_eq!(parse_duration("0.0001ms"), us(0));
        assert_eq!(parse_duration("0.0004ms"), us(0));
        assert_eq!(parse_duration("0.0005ms"), us(1));
        assert_eq!(parse_duration("0.4us"), us(0));
        assert_eq!(parse_duration("0.5us"), us(1));
        assert_eq!(parse_duration("1.0000005s"), us(1_000_001));
        assert_eq!(parse_duration("1.00000049999999999999999999999s"), us(1_000_000));
        // 29.88 us; 19 999 999.98 us.
        assert_eq!(parse_duration("0.0000000083h"), us(30));
        assert_eq!(parse_duration("0.333333333min"), us(20_000_000));
        // Many zeros are not many digits of magnitude.
        let zeros = format!("0.{}1s", "0".repeat(10_000));
        assert_eq!(parse_duration(&zeros), us(0));
        assert_eq!(parse_duration(&format!("{}1us", "0".repeat(10_000))), us(1));
    }

    #[test]
    fn huge_durations_are_errors_not_panics() {
        assert_eq!(parse_duration("18446744073709551615us"), us(u64::MAX));
        for text in [
            "18446744073709551616us",
            "99999999999999999999999s",
            "99999999999999999999999999999999999999999999h",
            "6000000000h",
        ] {
            assert!(parse_duration(text).unwrap_err().contains("too large"), "{text}");
        }
    }

    #[test]
    fn duration_errors_say_what_and_where() {
        assert_eq!(
            parse_duration("").unwrap_err(),
            "the duration is empty (write e.g. `500ms` or `2s`)"
        );
        assert_eq!(
            parse_duration("  ").unwrap_err(),
            "the duration is empty (write e.g. `500ms` or `2s`)"
        );
        assert_eq!(
            parse_duration("2").unwrap_err(),
            "duration `2` needs a unit (us, ms, s, min or h), e.g. `2ms`"
        );
        assert_eq!(
            parse_duration("2 sec").unwrap_err(),
            "duration `2 sec` has an unknown unit `sec` at column 3 (use us, ms, s, min or h)"
        );
        assert!(parse_duration("2MS").unwrap_err().contains("unknown unit `MS`"));
        assert!(parse_duration("1m30s").unwrap_err().contains("unknown unit `m30s`"));
        assert!(parse_duration("ms").unwrap_err().contains("must start with a number"));
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
        assert!(parse_duration("+1s").unwrap_err().contains("must start with a number"));
        assert!(
            parse_duration("1.2.3s").unwrap_err().contains("`1.2.3` at column 1 is not a number")
        );
        assert!(parse_duration(".s").unwrap_err().contains("`.` at column 1 is not a number"));
        assert!(parse_duration("inf").unwrap_err().contains("must start with a number"));
    }

    #[test]
    fn durations_format_in_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_secs(300)), "300s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_micros(250)), "250us");
        assert_eq!(format_duration(Duration::from_nanos(1999)), "1us");
    }

    proptest! {
        #[test]
        fn formatted_durations_read_back(n in any::<u64>()) {
            let d = Duration::from_micros(n);
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn formatted_hex_reads_back(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(parse_hex(&hex_spaced(&bytes)), Ok(bytes));
        }

        #[test]
        fn decimals_agree_with_exact_arithmetic(whole in 0u64..1_000_000, milli in 0u64..1000) {
            // `whole.milli` seconds is exactly whole * 10^6 + milli * 10^3 us.
            let text = format!("{whole}.{milli:03}s");
            prop_assert_eq!(parse_duration(&text), us(whole * 1_000_000 + milli * 1000));
        }

        #[test]
        fn what_the_schema_pattern_matches_parses(text in DURATION_PATTERN) {
            if let Err(e) = parse_duration(&text) {
                prop_assert!(e.contains("too large"), "{}: {}", text, e);
            }
        }

        #[test]
        fn any_text_is_a_value_or_an_error(text in "\\PC{0,40}") {
            let _ = parse_duration(&text);
            let _ = parse_hex(&text);
        }
    }
}
