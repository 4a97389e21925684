//! Diagnostics for suite and profile files, rendered rustc-style:
//!
//! ```text
//! error: unknown key `tittle` in a case
//!   --> suites/doip/header.yaml:7:5
//!    |
//!  7 |     tittle: header
//!    |     ^^^^^^ unknown key
//!    |
//!    = help: did you mean `title`?
//! ```
//!
//! Loading collects every diagnostic of every file before anything runs.

use super::yaml::Pos;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One mistake in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// `None` when the mistake concerns the whole file (unreadable, too large).
    pub pos: Option<Pos>,
    pub message: String,
    /// Short text under the caret.
    pub label: String,
    pub help: Option<String>,
}

impl Diagnostic {
    /// Renders the diagnostic with the offending source line (from `src`) and a caret.
    pub fn render(&self, src: &str) -> String {
        let mut out = format!("error: {}\n", self.message);
        let Some(pos) = self.pos else {
            let _ = writeln!(out, "  --> {}", self.file.display());
            if let Some(help) = &self.help {
                let _ = writeln!(out, "   = help: {help}");
            }
            return out;
        };
        let line_no = pos.line.to_string();
        let gutter = " ".repeat(line_no.len());
        let _ = writeln!(out, "{gutter}--> {}:{}:{}", self.file.display(), pos.line, pos.column);
        let line = src.lines().nth((pos.line as usize).saturating_sub(1)).unwrap_or("");
        let line = sanitize(line);
        let col = (pos.column as usize).saturating_sub(1);
        let width = token_width(&line, col);
        let _ = writeln!(out, "{gutter} |");
        let _ = writeln!(out, "{line_no} | {line}");
        let indent: String =
            line.chars().take(col).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        let carets = "^".repeat(width.max(1));
        if self.label.is_empty() {
            let _ = writeln!(out, "{gutter} | {indent}{carets}");
        } else {
            let _ = writeln!(out, "{gutter} | {indent}{carets} {}", self.label);
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{gutter} = help: {help}");
        }
        out
    }
}

/// Control characters would garble a terminal; show them as `?`.
fn sanitize(line: &str) -> String {
    line.chars().map(|c| if c.is_control() && c != '\t' { '?' } else { c }).collect()
}

/// Width of the token starting at character `col`: a quoted string to its closing quote, a
/// flow collection to its closing bracket, otherwise up to the next separator.
fn token_width(line: &str, col: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col).collect();
    match rest.first() {
        None => 1,
        Some(&q @ ('"' | '\'')) => {
            rest[1..].iter().position(|&c| c == q).map_or(rest.len(), |i| i + 2)
        }
        Some(&open @ ('{' | '[')) => {
            let close = if open == '{' { '}' } else { ']' };
            let mut depth = 0usize;
            for (i, &c) in rest.iter().enumerate() {
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        return i + 1;
                    }
                }
            }
            rest.len()
        }
        Some(_) => {
            let mut n = 0;
            while n < rest.len() {
                let c = rest[n];
                if c == ',' || c == '}' || c == ']' || c == '#' {
                    break;
                }
                if c == ':' && rest.get(n + 1).is_none_or(|c| c.is_whitespace()) {
                    break;
                }
                n += 1;
            }
            rest[..n].iter().rev().skip_while(|c| c.is_whitespace()).count().max(1)
        }
    }
}

pub use crate::notation::did_you_mean;

/// Diagnostics of one file, collected while reading it.
#[derive(Debug)]
pub struct Diagnostics {
    pub file: PathBuf,
    pub list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file: &Path) -> Self {
        Diagnostics { file: file.to_owned(), list: Vec::new() }
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>, label: impl Into<String>) {
        self.push(Some(pos), message.into(), label.into(), None);
    }

    pub fn error_help(
        &mut self,
        pos: Pos,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Some(pos), message.into(), label.into(), Some(help.into()));
    }

    pub fn push(&mut self, pos: Option<Pos>, message: String, label: String, help: Option<String>) {
        self.list.push(Diagnostic { file: self.file.clone(), pos, message, label, help });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_caret_and_help() {
        let d = Diagnostic {
            file: "s.yaml".into(),
            pos: Some(Pos { line: 2, column: 3 }),
            message: "unknown key `tittle` in a case".into(),
            label: "unknown key".into(),
            help: Some("did you mean `title`?".into()),
        };
        let text = d.render("cases:\n  tittle: x\n");
        assert_eq!(
            text,
            "error: unknown key `tittle` in a case\n --> s.yaml:2:3\n  |\n2 |   tittle: x\n  |   ^^^^^^ unknown key\n  |\n  = help: did you mean `title`?\n"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("tittle", ["title", "tags", "steps"]), Some("title"));
        assert_eq!(did_you_mean("expct", ["expect", "expect_raw"]), Some("expect"));
        assert_eq!(did_you_mean("zzzzzz", ["title", "tags"]), None);
        assert_eq!(did_you_mean("titel", ["title", "tags"]), Some("title"));
    }

    #[test]
    fn token_widths_follow_yaml_tokens() {
        assert_eq!(token_width("  a: \"x y\" # c", 5), 5);
        assert_eq!(token_width("  a: { b: 1 }", 5), 8);
        assert_eq!(token_width("  abc: 1", 2), 3);
        assert_eq!(token_width("  - 2 sec", 4), 5);
    }
}
