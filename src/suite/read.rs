//! Reading a suite file's YAML tree into the [`model`](super::model), reporting every mistake
//! (unknown keys with "did you mean", missing keys, wrong types, bad literals, unknown names)
//! instead of stopping at the first.

use super::diag::{Diagnostics, did_you_mean};
use super::model::*;
use super::spec::{self, KeySpec, Ty};
use super::steps::{self, StepReader};
use super::value::{BytePattern, Expr, ExprKind, parse_duration, parse_hex, parse_int};
use super::yaml::{Key, Pos, Yaml, YamlKind};
use std::path::Path;
use std::time::Duration;

/// Bound of a whole case beyond the waits it declares (`runner::schedule::time_limit`).
pub const CASE_TIME_MARGIN: Duration = Duration::from_secs(60);

/// Reads a suite tree; returns `None` only when the file is not a map at all.
pub fn read_suite(file: &Path, y: &Yaml, d: &mut Diagnostics) -> Option<Suite> {
    let m = Map::new(y, "the suite file", d)?;
    m.check_keys(spec::SUITE_KEYS, "the suite", d);
    let name = m.req_str("suite", d).unwrap_or_default();
    let title = m.req_str("title", d).unwrap_or_default();
    let spec_text = m.opt_str("spec", d);
    let requires = m.str_list("requires", d);
    check_requires(&m, d);
    let tags = m.str_list("tags", d);
    let handlers = m.get("handlers").map(|y| handlers(y, d)).unwrap_or_default();
    let vars = m.get("vars").map(|y| vars(y, d)).unwrap_or_default();
    let setup = m.get("setup").map(|y| steps(y, d)).unwrap_or_default();
    let finally = m.get("finally").map(|y| steps(y, d)).unwrap_or_default();
    let mut cases = Vec::new();
    match m.get("cases").map(|y| (y, &y.kind)) {
        Some((_, YamlKind::Seq(items))) => {
            for item in items {
                if let Some(c) = case(item, d) {
                    cases.push(c);
                }
            }
        }
        Some((y, _)) => d.error(
            y.pos,
            format!("`cases` must be a list, found {}", y.describe()),
            "expected a list of cases",
        ),
        None => {}
    }
    Some(Suite {
        file: file.to_owned(),
        name,
        title,
        spec: spec_text,
        requires,
        tags,
        handlers,
        vars,
        setup,
        finally,
        cases,
    })
}

fn case(y: &Yaml, d: &mut Diagnostics) -> Option<Case> {
    let m = Map::new(y, "a case", d)?;
    m.check_keys(spec::CASE_KEYS, "a case", d);
    let id = m.req_str("id", d).unwrap_or_default();
    if let Some(idy) = m.get("id")
        && !id.is_empty()
        && !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        d.error(
            idy.pos,
            format!("case id `{id}` may only hold letters, digits, `-`, `_` and `.`"),
            "invalid id",
        );
    }
    let title = m.req_str("title", d).unwrap_or_default();
    check_requires(&m, d);
    let retry = m.get("retry").map(|y| retry(y, d)).unwrap_or_default();
    let timeout = m.get("timeout").and_then(|t| literal_duration(t, "timeout", d));
    let steps_list = m.get("steps").map(|y| steps(y, d)).unwrap_or_default();
    if m.get("steps").is_some_and(|s| matches!(&s.kind, YamlKind::Seq(v) if v.is_empty())) {
        d.error(
            m.get("steps").map_or(y.pos, |s| s.pos),
            format!("case `{id}` has no steps"),
            "empty list",
        );
    }
    Some(Case {
        pos: m.get("id").map_or(y.pos, |i| i.pos),
        id,
        title,
        clause: m.opt_str("clause", d),
        tags: m.str_list("tags", d),
        requires: m.str_list("requires", d),
        detects: m.str_list("detects", d),
        provokes: m.str_list("provokes", d),
        matrix: m.get("matrix").map(|y| matrix(y, d)).unwrap_or_default(),
        retry,
        handlers: m.get("handlers").map(|y| handlers(y, d)).unwrap_or_default(),
        timeout,
        setup: m.get("setup").map(|y| steps(y, d)).unwrap_or_default(),
        steps: steps_list,
        finally: m.get("finally").map(|y| steps(y, d)).unwrap_or_default(),
    })
}

fn literal_duration(y: &Yaml, what: &str, d: &mut Diagnostics) -> Option<Duration> {
    let text = match &y.kind {
        YamlKind::Str(s) => Some(s.clone()),
        YamlKind::Int(i) => Some(i.to_string()),
        _ => None,
    };
    match text {
        Some(text) => match parse_duration(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                d.error(y.pos, format!("`{what}`: {e}"), "not a duration");
                None
            }
        },
        None => {
            d.error(
                y.pos,
                format!("`{what}` must be a duration like `2s`, found {}", y.describe()),
                "not a duration",
            );
            None
        }
    }
}

fn retry(y: &Yaml, d: &mut Diagnostics) -> Retry {
    let attempts = |y: &Yaml, d: &mut Diagnostics| match &y.kind {
        YamlKind::Int(i) if (1..=100).contains(i) => *i as u32,
        _ => {
            d.error(y.pos, "`retry` attempts must be an integer from 1 to 100", "invalid attempts");
            1
        }
    };
    match &y.kind {
        YamlKind::Map(_) => {
            let Some(m) = Map::new(y, "`retry`", d) else { return Retry::default() };
            m.check_keys(spec::RETRY_KEYS, "`retry`", d);
            let n = m.get("attempts").map_or(1, |a| attempts(a, d));
            if m.get("attempts").is_none() {
                d.error(y.pos, "`retry` needs `attempts`", "missing `attempts`");
            }
            let delay =
                m.get("delay").and_then(|t| literal_duration(t, "delay", d)).unwrap_or_default();
            Retry { attempts: n, delay }
        }
        _ => Retry { attempts: attempts(y, d), delay: Duration::ZERO },
    }
}

fn handlers(y: &Yaml, d: &mut Diagnostics) -> Vec<Handler> {
    let YamlKind::Seq(items) = &y.kind else {
        d.error(
            y.pos,
            format!("`handlers` must be a list, found {}", y.describe()),
            "expected a list",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let name = item.as_str().unwrap_or("");
        match Handler::ALL.iter().find(|(n, _)| *n == name) {
            Some((_, h)) => out.push(*h),
            None => unknown(d, item.pos, "handler", name, Handler::ALL.iter().map(|(n, _)| *n)),
        }
    }
    out
}

fn vars(y: &Yaml, d: &mut Diagnostics) -> Vec<(String, Expr)> {
    let YamlKind::Map(entries) = &y.kind else {
        d.error(y.pos, format!("`vars` must be a map, found {}", y.describe()), "expected a map");
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| {
            check_var_name(k, d);
            expr(v, d).map(|e| (k.name.clone(), e))
        })
        .collect()
}

pub(super) fn check_var_name(k: &Key, d: &mut Diagnostics) {
    let ok = !k.name.is_empty()
        && k.name != "profile"
        && k.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        d.error(
            k.pos,
            format!("`{}` is not a variable name (letters, digits, `_`; not `profile`)", k.name),
            "invalid name",
        );
    }
}

fn matrix(y: &Yaml, d: &mut Diagnostics) -> Vec<(String, Vec<Expr>)> {
    let YamlKind::Map(entries) = &y.kind else {
        d.error(
            y.pos,
            format!("`matrix` must be a map of lists, found {}", y.describe()),
            "expected a map",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        check_var_name(k, d);
        match &v.kind {
            YamlKind::Seq(items) if !items.is_empty() => {
                out.push((k.name.clone(), items.iter().filter_map(|i| expr(i, d)).collect()));
            }
            _ => d.error(
                v.pos,
                format!("matrix parameter `{}` needs a non-empty list of values", k.name),
                "expected a list",
            ),
        }
    }
    out
}

fn steps(y: &Yaml, d: &mut Diagnostics) -> Vec<Step> {
    let YamlKind::Seq(items) = &y.kind else {
        d.error(
            y.pos,
            format!("steps must be a list, found {}", y.describe()),
            "expected a list of steps",
        );
        return Vec::new();
    };
    items.iter().filter_map(|i| step(i, d)).collect()
}

fn step(y: &Yaml, d: &mut Diagnostics) -> Option<Step> {
    let YamlKind::Map(entries) = &y.kind else {
        let help = match y.as_str().and_then(steps::spec) {
            Some(s) => format!("write `- {}: ...` with its arguments", s.name),
            None => "a step is a map with one key, the step kind: `- expect: { ... }`".to_owned(),
        };
        d.error_help(
            y.pos,
            format!("a step must be a map, found {}", y.describe()),
            "not a step",
            help,
        );
        return None;
    };
    let [(key, body)] = entries.as_slice() else {
        let label = if entries.is_empty() { "empty step" } else { "more than one key" };
        let help = "each step is a map with exactly one key (its kind); check the indentation of the lines after it";
        d.error_help(
            y.pos,
            format!("a step must have exactly one key, found {}", entries.len()),
            label,
            help,
        );
        return None;
    };
    let Some(spec) = steps::spec(&key.name) else {
        unknown(d, key.pos, "step kind", &key.name, steps::STEPS.iter().map(|s| s.name));
        return None;
    };
    let mut reader = StepReader::new(spec, key, body, d)?;
    let kind = StepKind::read(spec.name, &mut reader)?;
    Some(Step { pos: key.pos, kind })
}

/// Checks a key's literal value against its declared type.
pub(super) fn check_typed(v: &Yaml, ks: &KeySpec, step: &str, d: &mut Diagnostics) {
    match ks.ty {
        Ty::Enum(words) => match v.as_str() {
            Some(s) if words.contains(&s) => {}
            Some(s) => {
                unknown(d, v.pos, &format!("value for `{}`", ks.name), s, words.iter().copied())
            }
            None => d.error(
                v.pos,
                format!("`{}` must be one of {}", ks.name, words.join(", ")),
                "wrong type",
            ),
        },
        Ty::Bool if !matches!(v.kind, YamlKind::Bool(_)) => {
            d.error(
                v.pos,
                format!("`{}` must be true or false, found {}", ks.name, v.describe()),
                "not a boolean",
            );
        }
        Ty::Str if v.as_str().is_none() => {
            d.error(
                v.pos,
                format!("`{}` must be a string, found {}", ks.name, v.describe()),
                "not a string",
            );
        }
        Ty::ValueList if !matches!(v.kind, YamlKind::Seq(_)) => {
            d.error(
                v.pos,
                format!("`{}` must be a list, found {}", ks.name, v.describe()),
                "not a list",
            );
        }
        Ty::Duration | Ty::Hex | Ty::Pattern | Ty::Value | Ty::Int => {
            if let Ok(e) = Expr::from_yaml(v) {
                check_literal(&e, ks.ty, &format!("{step}.{}", ks.name), d);
            }
        }
        _ => {}
    }
}

/// Checks that a literal (no `${...}`) expression parses as `ty`.
pub(super) fn check_literal(e: &Expr, ty: Ty, what: &str, d: &mut Diagnostics) {
    let r: Result<(), String> = match (&e.kind, ty) {
        (ExprKind::Template(_), _) => Ok(()),
        (ExprKind::Str(s), Ty::Duration) => parse_duration(s).map(drop),
        (ExprKind::Int(i), Ty::Duration) => parse_duration(&i.to_string()).map(drop),
        (ExprKind::Str(s), Ty::Hex) => parse_hex(s).map(drop),
        (ExprKind::Str(s), Ty::Pattern) => BytePattern::parse(s).map(drop),
        (ExprKind::Str(s), Ty::Int) => parse_int(s).map(drop),
        (ExprKind::Int(_), Ty::Hex | Ty::Pattern) => {
            Err("hex bytes must be quoted: `\"01 02\"`".into())
        }
        (ExprKind::Bool(_), Ty::Duration | Ty::Hex | Ty::Pattern | Ty::Int | Ty::Value) => {
            Err("found a boolean".to_string())
        }
        _ => Ok(()),
    };
    if let Err(msg) = r {
        d.error(e.pos, format!("`{what}`: {msg}"), "invalid value");
    }
}

pub(super) fn expr(y: &Yaml, d: &mut Diagnostics) -> Option<Expr> {
    match Expr::from_yaml(y) {
        Ok(e) => Some(e),
        Err(msg) => {
            d.error(y.pos, msg, "invalid value");
            None
        }
    }
}

/// Reports an unknown name with the closest known one.
/// `what` is a noun with an optional context: `step kind`, `key in a case`, `field of `x``.
pub fn unknown<'a>(
    d: &mut Diagnostics,
    pos: Pos,
    what: &str,
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) {
    let known: Vec<&str> = known.into_iter().collect();
    let help = match did_you_mean(name, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if known.len() <= 16 => format!("expected one of: {}", known.join(", ")),
        None => format!("expected one of {} names (see docs/suite-format.md)", known.len()),
    };
    let message = [" in ", " of ", " for "]
        .iter()
        .find_map(|sep| {
            what.split_once(sep).map(|(noun, ctx)| format!("unknown {noun} `{name}`{sep}{ctx}"))
        })
        .unwrap_or_else(|| format!("unknown {what} `{name}`"));
    d.error_help(pos, message, "unknown", help);
}

/// Reports unknown capability names in a `requires:` list.
fn check_requires(m: &Map, d: &mut Diagnostics) {
    if let Some(Yaml { kind: YamlKind::Seq(items), .. }) = m.get("requires") {
        for item in items {
            if let Some(name) = item.as_str() {
                super::profile::check_capability(name, item.pos, d);
            }
        }
    }
}

/// A map node being read.
pub(super) struct Map<'y> {
    pub(super) pos: Pos,
    pub(super) entries: &'y [(Key, Yaml)],
}

impl<'y> Map<'y> {
    pub(super) fn new(y: &'y Yaml, what: &str, d: &mut Diagnostics) -> Option<Map<'y>> {
        match &y.kind {
            YamlKind::Map(entries) => Some(Map { pos: y.pos, entries }),
            _ => {
                d.error(
                    y.pos,
                    format!("{what} must be a map, found {}", y.describe()),
                    "expected a map",
                );
                None
            }
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&'y Yaml> {
        self.entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v)
    }

    /// Unknown keys (with did you mean) and missing required keys.
    pub(super) fn check_keys(&self, keys: &[KeySpec], what: &str, d: &mut Diagnostics) {
        for (k, _) in self.entries {
            if !keys.iter().any(|s| s.name == k.name) {
                unknown(d, k.pos, &format!("key in {what}"), &k.name, spec::names(keys));
            }
        }
        self.check_required(keys, what, d);
    }

    pub(super) fn check_required(&self, keys: &[KeySpec], what: &str, d: &mut Diagnostics) {
        for ks in keys.iter().filter(|k| k.required) {
            if self.get(ks.name).is_none() {
                d.error(
                    self.pos,
                    format!("{what} needs `{}` ({})", ks.name, ks.doc),
                    format!("missing `{}`", ks.name),
                );
            }
        }
    }

    pub(super) fn req_str(&self, name: &str, d: &mut Diagnostics) -> Option<String> {
        let v = self.get(name)?;
        self.to_str(name, v, d)
    }

    pub(super) fn opt_str(&self, name: &str, d: &mut Diagnostics) -> Option<String> {
        self.get(name).and_then(|v| self.to_str(name, v, d))
    }

    pub(super) fn to_str(&self, name: &str, v: &Yaml, d: &mut Diagnostics) -> Option<String> {
        match &v.kind {
            YamlKind::Str(s) => Some(s.clone()),
            _ => {
                d.error(
                    v.pos,
                    format!("`{name}` must be a string, found {}", v.describe()),
                    "not a string",
                );
                None
            }
        }
    }

    pub(super) fn str_list(&self, name: &str, d: &mut Diagnostics) -> Vec<String> {
        let Some(v) = self.get(name) else { return Vec::new() };
        match &v.kind {
            YamlKind::Seq(items) => items
                .iter()
                .filter_map(|i| match i.as_str() {
                    Some(s) => Some(s.to_owned()),
                    None => {
                        d.error(
                            i.pos,
                            format!("`{name}` holds strings, found {}", i.describe()),
                            "not a string",
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                d.error(
                    v.pos,
                    format!("`{name}` must be a list, found {}", v.describe()),
                    "not a list",
                );
                Vec::new()
            }
        }
    }
}
