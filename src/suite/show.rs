//! Suite values as written, for step summaries and transcripts: expressions keep their
//! `${...}` references readable.

use super::step_args::{Matcher, MessageBody};
use super::value::{Expr, ExprKind};

/// One line describing a send step's message, for step summaries.
pub fn describe_body<T>(body: &MessageBody<T>, show: impl Fn(&T) -> String) -> String {
    let mut s = body.name.clone();
    for (n, _, v) in &body.fields {
        s.push_str(&format!(" {n}={}", show(v)));
    }
    s
}

/// An expression as written, for summaries.
pub fn show_expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Str(s) => s.clone(),
        _ => e.source(),
    }
}

/// A matcher as written, for summaries.
pub fn show_matcher(m: &Matcher) -> String {
    match m {
        Matcher::Exact(e) | Matcher::Bytes(e) => show_expr(e),
        Matcher::Any => "any".into(),
        Matcher::Absent => "absent".into(),
        Matcher::Range(a, b) => format!("{}..={}", show_expr(a), show_expr(b)),
        Matcher::OneOf(v) => format!("[{}]", v.iter().map(show_expr).collect::<Vec<_>>().join("|")),
        Matcher::Mask { mask, value } => format!("{}&{}", show_expr(value), show_expr(mask)),
    }
}
