//! The one YAML writer of imported suites: a small tree ([`Node`]) and a renderer with stable
//! formatting, so the same capture always gives the same text (golden tests, diffs in review).
//!
//! Rules: two spaces of indentation; a map or list is written inline (`{ a: 1 }`, `[1, 2]`)
//! when that fits in [`WIDTH`] columns, else as a block; text is always double-quoted (with
//! escapes), so nothing a capture holds can change the structure of the file; comments are
//! whole lines before a list item.
//!
//! May import: nothing of the crate.

/// The column an inline map or list may reach before it is written as a block.
pub const WIDTH: usize = 100;

/// A YAML value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Written as is: numbers, code names, durations (the constructors keep it safe).
    Plain(String),
    /// Written double-quoted with escapes.
    Text(String),
    Map(Vec<(String, Node)>),
    Seq(Vec<Item>),
}

/// A list item, with comment lines written before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub comments: Vec<String>,
    pub node: Node,
}

impl Node {
    /// A plain scalar: only letters, digits and `_ . - +`, else it is quoted.
    pub fn plain(text: impl Into<String>) -> Node {
        let text = text.into();
        let safe = !text.is_empty()
            && text.chars().all(|c| c.is_ascii_alphanumeric() || "_.-+".contains(c));
        if safe { Node::Plain(text) } else { Node::Text(text) }
    }

    pub fn text(text: impl Into<String>) -> Node {
        Node::Text(text.into())
    }

    /// A map from `(key, value)` pairs, in the given order.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map of one entry (a step: `{ kind: body }`).
    pub fn entry(key: impl Into<String>, value: Node) -> Node {
        Node::Map(vec![(key.into(), value)])
    }

    /// A list without comments.
    pub fn seq(items: impl IntoIterator<Item = Node>) -> Node {
        Node::Seq(items.into_iter().map(|node| Item { comments: Vec::new(), node }).collect())
    }
}

/// The whole document: `header` as comment lines, then `root` (a map) as a block.
pub fn render(header: &[String], root: &Node) -> String {
    let mut out = String::new();
    for line in header {
        comment(&mut out, 0, line);
    }
    block(&mut out, 0, root);
    out
}

/// One list item at `indent` (`- key: ...`), as [`render`] writes each item of a list there:
/// a suite's cases are written one at a time (`indent` 2, under `cases:`).
pub fn render_item(indent: usize, node: &Node) -> String {
    let mut out = String::new();
    push_indent(&mut out, indent);
    out.push_str("- ");
    item_body(&mut out, indent + 2, node);
    out
}

/// Comment lines at column 0 (escaped as in [`render`]).
pub fn render_comments(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        comment(&mut out, 0, line);
    }
    out
}

fn comment(out: &mut String, indent: usize, text: &str) {
    for line in text.lines() {
        push_indent(out, indent);
        out.push_str("# ");
        // A comment ends at the line's end: control characters are written as escapes.
        out.push_str(&escape(line));
        out.push('\n');
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// `node` as block lines at `indent` (a scalar as one line).
fn block(out: &mut String, indent: usize, node: &Node) {
    match node {
        Node::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                push_indent(out, indent);
                entry(out, indent, key, value);
            }
        }
        Node::Seq(items) if !items.is_empty() => {
            for item in items {
                for line in &item.comments {
                    comment(out, indent, line);
                }
                push_indent(out, indent);
                out.push_str("- ");
                item_body(out, indent + 2, &item.node);
            }
        }
        other => {
            push_indent(out, indent);
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// `key: value` (the indentation is written): inline when it fits, else a block below.
fn entry(out: &mut String, indent: usize, key: &str, value: &Node) {
    out.push_str(key);
    out.push(':');
    let text = inline(value);
    let scalar = matches!(value, Node::Plain(_) | Node::Text(_));
    // A list of maps (steps, cases) is always a block: one item per line reads as a script.
    let list_of_maps =
        matches!(value, Node::Seq(items) if items.iter().any(|i| matches!(i.node, Node::Map(_))));
    if scalar || (!list_of_maps && indent + key.len() + 2 + text.len() <= WIDTH) {
        out.push(' ');
        out.push_str(&text);
        out.push('\n');
    } else {
        out.push('\n');
        block(out, indent + 2, value);
    }
}

/// A list item's body after `- `: a map's first entry on the dash's line, the rest below it
/// (`- send: { ... }`, as suites are written by hand).
fn item_body(out: &mut String, indent: usize, node: &Node) {
    match node {
        Node::Map(entries) if !entries.is_empty() => {
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    push_indent(out, indent);
                }
                entry(out, indent, key, value);
            }
        }
        _ => {
            out.push_str(&inline(node));
            out.push('\n');
        }
    }
}

/// The inline form: `{ a: 1, b: [x, y] }`.
fn inline(node: &Node) -> String {
    match node {
        Node::Plain(text) => text.clone(),
        Node::Text(text) => format!("\"{}\"", escape(text)),
        Node::Map(entries) if entries.is_empty() => "{}".into(),
        Node::Map(entries) => {
            let parts: Vec<String> =
                entries.iter().map(|(k, v)| format!("{k}: {}", inline(v))).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Node::Seq(items) => {
            let parts: Vec<String> = items.iter().map(|i| inline(&i.node)).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

/// Double-quoted YAML escapes: `\\`, `\"` and control characters as `\xNN` / `\uNNNN`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if (c as u32) < 0x20 || c == '\u{7F}' => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{FEFF}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_maps_are_inline_long_ones_are_blocks_and_text_is_quoted() {
        let step = |n: usize| {
            Node::entry(
                "send_raw",
                Node::map([("hex", Node::text("02 fd ".repeat(n).trim_end().to_string()))]),
            )
        };
        let root = Node::map([
            ("suite", Node::plain("imported")),
            ("title", Node::text("say \"hi\"\n\u{1b}[2J")),
            (
                "steps",
                Node::Seq(vec![
                    Item { comments: vec!["packet 3".into()], node: step(2) },
                    Item { comments: Vec::new(), node: step(20) },
                ]),
            ),
        ]);
        let text = render(&["imported from x.pcap".into()], &root);
        insta::assert_snapshot!(text, @r#"
        # imported from x.pcap
        suite: imported
        title: "say \"hi\"\x0A\x1B[2J"
        steps:
          # packet 3
          - send_raw: { hex: "02 fd 02 fd" }
          - send_raw:
              hex: "02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd 02 fd"
        "#);
    }

    #[test]
    fn an_item_written_alone_is_the_item_render_writes_in_its_list() {
        let case = Node::map([
            ("id", Node::plain("TCP-1")),
            ("steps", Node::seq([Node::entry("wait", Node::plain("1ms"))])),
        ]);
        let whole = render(&[], &Node::map([("cases", Node::seq([case.clone()]))]));
        assert_eq!(whole, format!("cases:\n{}", render_item(2, &case)));
    }

    #[test]
    fn plain_refuses_anything_yaml_could_read_otherwise() {
        assert_eq!(Node::plain("0x0E80"), Node::Plain("0x0E80".into()));
        assert_eq!(Node::plain("500ms"), Node::Plain("500ms".into()));
        for risky in ["", "a: b", "${profile.x}", "- x", "#c", "[1]"] {
            assert_eq!(Node::plain(risky), Node::Text(risky.into()), "{risky}");
        }
    }

    #[test]
    fn the_output_reads_back_as_the_same_tree() {
        let root = Node::map([
            ("a", Node::seq([Node::plain("1"), Node::text("x\"y")])),
            ("b", Node::map([("c", Node::map(Vec::<(String, Node)>::new()))])),
        ]);
        let text = render(&[], &root);
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(value, serde_json::json!({ "a": [1, "x\"y"], "b": { "c": {} } }));
    }
}
