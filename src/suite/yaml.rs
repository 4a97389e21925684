//! Reading YAML into a tree of positioned nodes, with limits against hostile files.
//!
//! serde-saphyr parses (it keeps the line and column of every node through
//! [`serde_saphyr::Spanned`]); the tree is then read by hand in [`super::read`] so that *every*
//! mistake in a file is reported, not just the first one serde would stop at.
//!
//! Limits: a file over [`MAX_FILE_BYTES`] is refused before parsing; nesting deeper than
//! [`MAX_DEPTH`], more than [`MAX_ALIASES`] aliases or a large alias expansion (a "billion
//! laughs" YAML bomb) are refused by the parser's budget; duplicate keys are an error.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// Largest suite or profile file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Deepest nesting of collections accepted.
pub const MAX_DEPTH: usize = 32;
/// Most aliases (`*name`) accepted in one file.
pub const MAX_ALIASES: usize = 256;
/// Most parser events (nodes) accepted in one file, aliases expanded.
pub const MAX_EVENTS: usize = 200_000;

/// A position in a source file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML node with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Yaml {
    pub pos: Pos,
    pub kind: YamlKind,
}

/// A map key: always a string in our files (other keys are reported as errors).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub pos: Pos,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum YamlKind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(Key, Yaml)>),
}

impl Yaml {
    /// What the node is, for error messages: "a string", "a map".
    pub fn describe(&self) -> &'static str {
        match self.kind {
            YamlKind::Null => "null",
            YamlKind::Bool(_) => "a boolean",
            YamlKind::Int(_) => "an integer",
            YamlKind::Float(_) => "a float",
            YamlKind::Str(_) => "a string",
            YamlKind::Seq(_) => "a list",
            YamlKind::Map(_) => "a map",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            YamlKind::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A YAML syntax error or a limit breach, with where it happened when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Parses `src` into a positioned tree, within the limits of this module.
pub fn parse(src: &str) -> Result<Yaml, YamlError> {
    if src.len() > MAX_FILE_BYTES {
        return Err(YamlError {
            pos: None,
            message: format!(
                "file is {} bytes, larger than the limit of {MAX_FILE_BYTES} bytes",
                src.len()
            ),
        });
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    budget.max_events = MAX_EVENTS;
    budget.max_recorded_anchor_bytes = MAX_FILE_BYTES;
    budget.max_recorded_anchor_events = MAX_EVENTS;
    budget.max_documents = 1;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // Only `true` and `false` are booleans: a key `y` or a value `no` stays text (YAML 1.1's
    // yes/no/on/off/y/n booleans surprise people).
    options.strict_booleans = true;
    options.alias_limits.max_total_replayed_events = MAX_EVENTS;
    options.alias_limits.max_alias_expansions_per_anchor = MAX_ALIASES;
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(src, options) {
        Ok(node) => Ok(convert(node)),
        Err(e) => {
            let pos = e
                .location()
                .filter(|l| l.line() > 0)
                .map(|l| Pos { line: clamp(l.line()), column: clamp(l.column()) });
            Err(YamlError { pos, message: plain_message(&e) })
        }
    }
}

fn clamp(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The parser's message without its own location suffix or snippet (we render our own).
fn plain_message(e: &serde_saphyr::Error) -> String {
    let rendered = e.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    });
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 2 column 2: illegal placement of ':' indicator" -> the text after the location.
    let text = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map(|(_, t)| t).unwrap_or(first),
        None => first,
    };
    let text = text.split(" at line ").next().unwrap_or(text);
    let text = text.split(", set DuplicateKeyPolicy").next().unwrap_or(text);
    if text.starts_with("budget breached") || text.contains("recursion limit") {
        return format!(
            "refused by the loading limits ({text}): at most {MAX_EVENTS} YAML nodes after alias expansion, {MAX_ALIASES} aliases and {MAX_DEPTH} levels of nesting"
        );
    }
    text.to_owned()
}

fn pos_of(l: &serde_saphyr::Location) -> Pos {
    Pos { line: clamp(l.line()), column: clamp(l.column()) }
}

fn convert(node: Spanned<RawNode>) -> Yaml {
    let pos = pos_of(&node.referenced);
    let kind = match node.value {
        RawNode::Null => YamlKind::Null,
        RawNode::Bool(b) => YamlKind::Bool(b),
        RawNode::Int(i) => YamlKind::Int(i),
        RawNode::Float(f) => YamlKind::Float(f),
        RawNode::Str(s) => YamlKind::Str(s),
        RawNode::Seq(items) => YamlKind::Seq(items.into_iter().map(convert).collect()),
        RawNode::Map(entries) => YamlKind::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let kpos = pos_of(&k.referenced);
                    let name = match k.value {
                        RawNode::Str(s) => s,
                        RawNode::Int(i) => i.to_string(),
                        RawNode::Bool(b) => b.to_string(),
                        RawNode::Null => "null".to_owned(),
                        RawNode::Float(f) => f.to_string(),
                        RawNode::Seq(_) | RawNode::Map(_) => "<collection>".to_owned(),
                    };
                    (Key { pos: kpos, name }, convert(v))
                })
                .collect(),
        ),
    };
    Yaml { pos, kind }
}

/// The raw serde tree; positions live in the `Spanned` wrappers.
#[derive(Debug)]
enum RawNode {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawNodeVisitor)
    }
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::Int(i128::from(v)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawNode, E> {
        i128::try_from(v).map(RawNode::Int).map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<RawNode, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = a.next_element::<Spanned<RawNode>>()? {
            v.push(x);
        }
        Ok(RawNode::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<RawNode, A::Error> {
        let mut v = Vec::new();
        while let Some(entry) = a.next_entry::<Spanned<RawNode>, Spanned<RawNode>>()? {
            v.push(entry);
        }
        Ok(RawNode::Map(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_line_and_column() {
        let y = parse("suite: x\ncases:\n  - id: A\n    steps: [ { wait: 5ms } ]\n").unwrap();
        let YamlKind::Map(top) = &y.kind else { panic!("{y:?}") };
        assert_eq!(top[1].0.name, "cases");
        assert_eq!(top[1].0.pos, Pos { line: 2, column: 1 });
        let YamlKind::Seq(cases) = &top[1].1.kind else { panic!() };
        let YamlKind::Map(case) = &cases[0].kind else { panic!() };
        assert_eq!(case[0].0.pos, Pos { line: 3, column: 5 });
        assert_eq!(case[0].1.kind, YamlKind::Str("A".into()));
    }

    #[test]
    fn syntax_errors_have_a_position_and_a_plain_message() {
        let e = parse("a: [1, 2\nb: c").unwrap_err();
        assert_eq!(e.pos, Some(Pos { line: 2, column: 2 }));
        assert!(!e.message.contains("line"), "{}", e.message);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let e = parse(&"[".repeat(100)).unwrap_err();
        assert!(e.message.contains("limit") || e.message.contains("depth"), "{}", e.message);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&y).is_err());
    }

    #[test]
    fn huge_files_are_refused_before_parsing() {
        let e = parse(&"#".repeat(MAX_FILE_BYTES + 1)).unwrap_err();
        assert!(e.message.contains("larger than the limit"), "{}", e.message);
    }
}
