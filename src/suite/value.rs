//! Typed values and the `${...}` expressions that produce them.
//!
//! Substitution happens after parsing, on typed values (docs/suite-format.md): a scalar that
//! is exactly one `${name}` takes the *type* of what it names (an address stays an integer, a
//! duration stays a duration); a scalar mixing text and `${...}` becomes text, each value
//! formatted for its place, e.g. `"02 FD ${payload_type:u16} 00"` puts four hex digits there.
//!
//! Names: `profile.<path>` reads the target profile, any other name a matrix parameter, a suite
//! `vars:` entry or a value captured earlier in the case.

use super::yaml::{Pos, Yaml, YamlKind};
// Thin re-exports: the one hex and duration grammar lives in `crate::notation`.
pub use crate::notation::{format_duration, hex_spaced, parse_duration, parse_hex};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A resolved value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(u64),
    Bool(bool),
    Str(String),
    Duration(Duration),
    Bytes(Vec<u8>),
    List(Vec<Value>),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Bool(_) => "a boolean",
            Value::Str(_) => "a string",
            Value::Duration(_) => "a duration",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "a list",
        }
    }

    /// As text inside a larger string, with an optional width format.
    fn format_in_text(&self, format: Option<IntFormat>) -> String {
        match (self, format) {
            (Value::Int(v), Some(f)) => f.hex(*v),
            (Value::Bytes(b), _) => hex_spaced(b),
            (other, _) => other.to_string(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) if *v > 9 => write!(f, "{v:#x}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => f.write_str(s),
            Value::Duration(d) => f.write_str(&format_duration(*d)),
            Value::Bytes(b) => f.write_str(&hex_spaced(b)),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Parses an integer written as decimal, `0x..` hex or `0b..` binary (also inside strings).
pub fn parse_int(text: &str) -> Result<u64, String> {
    let t = text.trim().replace('_', "");
    let r = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if let Some(b) = t.strip_prefix("0b") {
        u64::from_str_radix(b, 2)
    } else {
        t.parse()
    };
    r.map_err(|_| format!("`{text}` is not an integer"))
}

/// The width a `${name:u16}` format gives an integer inside text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntFormat {
    U8,
    U16,
    U32,
}

impl IntFormat {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "u8" => Some(IntFormat::U8),
            "u16" => Some(IntFormat::U16),
            "u32" => Some(IntFormat::U32),
            _ => None,
        }
    }

    fn hex(self, v: u64) -> String {
        match self {
            IntFormat::U8 => format!("{:02x}", v as u8),
            IntFormat::U16 => format!("{:02x} {:02x}", (v >> 8) as u8, v as u8),
            IntFormat::U32 => {
                let b = (v as u32).to_be_bytes();
                format!("{:02x} {:02x} {:02x} {:02x}", b[0], b[1], b[2], b[3])
            }
        }
    }
}

/// One `${...}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    /// `profile.timing.a_processing_time`, `payload_type`.
    pub name: String,
    pub format: Option<IntFormat>,
}

impl VarRef {
    /// The profile path when this names the profile (`timing.a_processing_time`).
    pub fn profile_path(&self) -> Option<&str> {
        self.name.strip_prefix("profile.")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Var(VarRef),
}

/// A value as written in a suite: a literal or text with `${...}` in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub pos: Pos,
    pub kind: ExprKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(u64),
    Bool(bool),
    Str(String),
    /// Text with at least one `${...}`.
    Template(Vec<Part>),
    /// A template the plan resolved before the run (`runner::plan`): its value, checked.
    Resolved(Value),
}

/// Where `${...}` names are looked up at run time.
pub trait Scope {
    fn lookup(&self, name: &str) -> Option<Value>;
}

impl Scope for BTreeMap<String, Value> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

impl Expr {
    /// Reads a scalar node; `Err` for collections, null and floats.
    pub fn from_yaml(y: &Yaml) -> Result<Expr, String> {
        let kind = match &y.kind {
            YamlKind::Int(i) => ExprKind::Int(
                u64::try_from(*i).map_err(|_| format!("{i} is out of range (0..=2^64-1)"))?,
            ),
            YamlKind::Bool(b) => ExprKind::Bool(*b),
            YamlKind::Str(s) => parse_template(s)?,
            other => return Err(format!("expected a value, found {}", kind_name(other))),
        };
        Ok(Expr { pos: y.pos, kind })
    }

    /// The `${...}` references in this expression.
    pub fn vars(&self) -> Vec<&VarRef> {
        match &self.kind {
            ExprKind::Template(parts) => parts
                .iter()
                .filter_map(|p| if let Part::Var(v) = p { Some(v) } else { None })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Substitutes every `${...}`: a lone reference keeps its value's type, mixed text becomes
    /// a string.
    pub fn resolve(&self, scope: &dyn Scope) -> Result<Value, String> {
        match &self.kind {
            ExprKind::Int(v) => Ok(Value::Int(*v)),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Resolved(v) => Ok(v.clone()),
            ExprKind::Template(parts) => {
                if let [Part::Var(v)] = parts.as_slice() {
                    let value = lookup(scope, v)?;
                    return Ok(match v.format {
                        Some(f) => Value::Str(value.format_in_text(Some(f))),
                        None => value,
                    });
                }
                let mut out = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => out.push_str(t),
                        Part::Var(v) => out.push_str(&lookup(scope, v)?.format_in_text(v.format)),
                    }
                }
                Ok(Value::Str(out))
            }
        }
    }

    /// The expression as written, for summaries.
    pub fn source(&self) -> String {
        match &self.kind {
            ExprKind::Int(v) => Value::Int(*v).to_string(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Str(s) => s.clone(),
            ExprKind::Resolved(v) => v.to_string(),
            ExprKind::Template(parts) => parts
                .iter()
                .map(|p| match p {
                    Part::Text(t) => t.clone(),
                    Part::Var(VarRef { name, format: None }) => format!("${{{name}}}"),
                    Part::Var(VarRef { name, format: Some(f) }) => {
                        format!("${{{name}:{}}}", format!("{f:?}").to_lowercase())
                    }
                })
                .collect(),
        }
    }

    pub fn is_literal(&self) -> bool {
        !matches!(self.kind, ExprKind::Template(_))
    }
}

fn lookup(scope: &dyn Scope, v: &VarRef) -> Result<Value, String> {
    scope.lookup(&v.name).ok_or_else(|| format!("`${{{}}}` is not defined here", v.name))
}

fn kind_name(k: &YamlKind) -> &'static str {
    Yaml { pos: Pos::default(), kind: k.clone() }.describe()
}

/// Splits text into literal parts and `${name}` / `${name:u16}` references.
pub fn parse_template(s: &str) -> Result<ExprKind, String> {
    if !s.contains("${") {
        return Ok(ExprKind::Str(s.to_owned()));
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end =
            after.find('}').ok_or_else(|| format!("`${{` without a closing `}}` in `{s}`"))?;
        let inner = after[..end].trim();
        let (name, format) = match inner.split_once(':') {
            Some((n, f)) => {
                let f = IntFormat::parse(f.trim()).ok_or_else(|| {
                    format!("unknown format `{f}` in `${{{inner}}}` (use u8, u16 or u32)")
                })?;
                (n.trim(), Some(f))
            }
            None => (inner, None),
        };
        let valid = !name.is_empty()
            && name.split('.').all(|seg| {
                !seg.is_empty()
                    && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !valid {
            return Err(format!("`${{{inner}}}` is not a valid name (letters, digits, `_`, dots)"));
        }
        parts.push(Part::Var(VarRef { name: name.to_owned(), format }));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Ok(ExprKind::Template(parts))
}

/// Converts a resolved value to an integer (`"0x10"` strings included).
pub fn to_int(v: &Value) -> Result<u64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Str(s) => parse_int(s),
        other => Err(format!("expected an integer, found {} `{other}`", other.type_name())),
    }
}

/// Converts a resolved value to a duration (`"500ms"` strings included).
pub fn to_duration(v: &Value) -> Result<Duration, String> {
    match v {
        Value::Duration(d) => Ok(*d),
        Value::Str(s) => parse_duration(s),
        // The same grammar as text: `0` is zero, any other bare number needs its unit.
        Value::Int(i) => parse_duration(&i.to_string()),
        other => Err(format!("expected a duration, found {} `{other}`", other.type_name())),
    }
}

/// Converts a resolved value to bytes (`"02 fd"` hex strings included).
pub fn to_bytes(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Str(s) => parse_hex(s),
        other => Err(format!("expected hex bytes, found {} `{other}`", other.type_name())),
    }
}

/// A byte pattern: hex pairs where `??` matches any byte, `?` any nibble, and a trailing `..`
/// any further bytes; an optional mask (same length) selects the bits that must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BytePattern {
    /// (value, mask) per byte: a byte `b` matches when `b & mask == value & mask`.
    pub bytes: Vec<(u8, u8)>,
    /// Any number of further bytes may follow.
    pub open_tail: bool,
}

impl BytePattern {
    pub fn parse(text: &str) -> Result<BytePattern, String> {
        let mut t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let open_tail = t.ends_with("..");
        if open_tail {
            t.truncate(t.len() - 2);
        }
        if t.contains("..") {
            return Err(format!("`..` may only end a pattern, in `{text}`"));
        }
        if !t.len().is_multiple_of(2) {
            return Err(format!("hex pattern `{text}` has an odd number of digits"));
        }
        let chars: Vec<char> = t.chars().collect();
        let mut bytes = Vec::with_capacity(chars.len() / 2);
        for pair in chars.chunks(2) {
            let mut value = 0u8;
            let mut mask = 0u8;
            for &c in pair {
                value <<= 4;
                mask <<= 4;
                if c != '?' {
                    let d = c.to_digit(16).ok_or_else(|| {
                        format!("`{c}` in `{text}` is neither a hex digit nor `?`")
                    })?;
                    value |= d as u8;
                    mask |= 0xF;
                }
            }
            bytes.push((value, mask));
        }
        Ok(BytePattern { bytes, open_tail })
    }

    /// Applies an explicit mask (hex, same length as the pattern).
    pub fn with_mask(mut self, mask: &[u8]) -> Result<BytePattern, String> {
        if mask.len() != self.bytes.len() {
            return Err(format!(
                "mask has {} bytes but the pattern has {}",
                mask.len(),
                self.bytes.len()
            ));
        }
        for ((v, m), extra) in self.bytes.iter_mut().zip(mask) {
            *m &= extra;
            *v &= *m;
        }
        Ok(self)
    }

    pub fn matches(&self, data: &[u8]) -> bool {
        let len_ok = if self.open_tail {
            data.len() >= self.bytes.len()
        } else {
            data.len() == self.bytes.len()
        };
        len_ok && self.bytes.iter().zip(data).all(|(&(v, m), &b)| b & m == v & m)
    }

    /// Bytes a pattern needs at least.
    pub fn min_len(&self) -> usize {
        self.bytes.len()
    }
}

impl fmt::Display for BytePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(v, m)) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for shift in [4u8, 0] {
                if (m >> shift) & 0xF == 0xF {
                    write!(f, "{:x}", (v >> shift) & 0xF)?;
                } else if (m >> shift) & 0xF == 0 {
                    f.write_str("?")?;
                } else {
                    write!(f, "[{:x}/{:x}]", (v >> shift) & 0xF, (m >> shift) & 0xF)?;
                }
            }
        }
        if self.open_tail {
            f.write_str(" ..")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> BTreeMap<String, Value> {
        let mut s = BTreeMap::new();
        s.insert("profile.tester_address".into(), Value::Int(0x0E80));
        s.insert("payload_type".into(), Value::Int(0x0009));
        s.insert(
            "profile.timing.a_processing_time".into(),
            Value::Duration(Duration::from_secs(2)),
        );
        s
    }

    fn expr(s: &str) -> Expr {
        Expr { pos: Pos::default(), kind: parse_template(s).unwrap() }
    }

    #[test]
    fn a_lone_reference_keeps_its_type() {
        assert_eq!(expr("${profile.tester_address}").resolve(&scope()), Ok(Value::Int(0x0E80)));
        assert_eq!(
            expr("${profile.timing.a_processing_time}").resolve(&scope()),
            Ok(Value::Duration(Duration::from_secs(2)))
        );
    }

    #[test]
    fn references_in_text_are_formatted_for_their_place() {
        assert_eq!(
            expr("02 FD ${payload_type:u16} 00").resolve(&scope()),
            Ok(Value::Str("02 FD 00 09 00".into()))
        );
        assert!(
            expr("${nope}").resolve(&scope()).unwrap_err().contains("`${nope}` is not defined")
        );
    }

    #[test]
    fn bad_templates_are_explained() {
        assert!(parse_template("${a").unwrap_err().contains("closing"));
        assert!(parse_template("${a:u12}").unwrap_err().contains("unknown format"));
        assert!(parse_template("${a b}").unwrap_err().contains("not a valid name"));
    }

    #[test]
    fn byte_patterns_match_wildcards_nibbles_masks_and_tails() {
        let p = BytePattern::parse("02 FD ?? 1? ..").unwrap();
        assert!(p.matches(&[2, 0xfd, 0x77, 0x1f, 9, 9]));
        assert!(!p.matches(&[2, 0xfd, 0x77, 0x2f]));
        assert!(!p.matches(&[2, 0xfd, 0x77]));
        let m = BytePattern::parse("10").unwrap().with_mask(&[0xF0]).unwrap();
        assert!(m.matches(&[0x1a]) && !m.matches(&[0x2a]));
        assert_eq!(BytePattern::parse("02 ?? 1?").unwrap().to_string(), "02 ?? 1?");
        assert!(BytePattern::parse("0").is_err() && BytePattern::parse("zz").is_err());
    }

    #[test]
    fn integers_in_strings() {
        assert_eq!(parse_int("0x0E80"), Ok(0x0E80));
        assert_eq!(parse_int("0b101"), Ok(5));
        assert!(parse_int("x").is_err());
    }
}
