//! Reading a suite file's YAML tree into the [`model`](super::model), reporting every mistake
//! (unknown keys with "did you mean", missing keys, wrong types, bad literals, unknown names)
//! instead of stopping at the first.

use super::diag::{Diagnostics, did_you_mean};
use super::messages::{self, Codes, FieldType, MessageSpec};
use super::model::*;
use super::spec::{self, KeySpec, MessageKey, StepSpec, Ty};
use super::value::{BytePattern, Expr, ExprKind, parse_duration, parse_hex, parse_int};
use super::yaml::{Key, Pos, Yaml, YamlKind};
use std::path::Path;
use std::time::Duration;

/// Default bound of a whole case.
pub const DEFAULT_CASE_TIMEOUT: Duration = Duration::from_secs(60);

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
    let timeout = match m.get("timeout") {
        Some(t) => literal_duration(t, "timeout", d).unwrap_or(DEFAULT_CASE_TIMEOUT),
        None => DEFAULT_CASE_TIMEOUT,
    };
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

fn check_var_name(k: &Key, d: &mut Diagnostics) {
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
        let help = match y.as_str().and_then(spec::step) {
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
    let Some(spec) = spec::step(&key.name) else {
        unknown(d, key.pos, "step kind", &key.name, spec::STEPS.iter().map(|s| s.name));
        return None;
    };
    let kind = step_kind(spec, key, body, d)?;
    Some(Step { pos: key.pos, kind })
}

fn step_kind(spec: &StepSpec, key: &Key, body: &Yaml, d: &mut Diagnostics) -> Option<StepKind> {
    if spec.name == "wait" {
        let e = expr(body, d)?;
        check_literal(&e, Ty::Duration, "wait", d);
        return Some(StepKind::Wait(e));
    }
    if spec.name == "capture" {
        let YamlKind::Map(entries) = &body.kind else {
            d.error(
                body.pos,
                "`capture` must map names to fields: `{ name: field }`",
                "expected a map",
            );
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            check_var_name(k, d);
            match v.as_str() {
                Some(f) => out.push((k.name.clone(), f.to_owned())),
                None => d.error(v.pos, "a capture names a field of the last matched message, e.g. `entity_logical_address`", "expected a field name"),
            }
        }
        return Some(StepKind::Capture(out));
    }
    // `disconnect:`, `expect_closed:` and `power_cycle:` may be written without a body.
    let empty = Yaml { pos: body.pos, kind: YamlKind::Map(Vec::new()) };
    let body = if matches!(body.kind, YamlKind::Null) { &empty } else { body };
    let what = format!("`{}`", spec.name);
    let m = Map::new(body, &what, d)?;
    // Message keys: any name from the messages table, when the step takes one.
    let message_key = match spec.message {
        MessageKey::None => None,
        MessageKey::Required { matchers } | MessageKey::OrHex { matchers } => Some(matchers),
    };
    let mut message_entry: Option<(&Key, &Yaml)> = None;
    for (k, v) in m.entries {
        if spec.keys.iter().any(|s| s.name == k.name) {
            continue;
        }
        if message_key.is_some() && messages::message(&k.name).is_some() {
            if message_entry.is_some() {
                d.error(
                    k.pos,
                    format!("{what} takes one message, this is a second"),
                    "second message",
                );
            } else {
                message_entry = Some((k, v));
            }
            continue;
        }
        let mut candidates: Vec<&str> = spec.keys.iter().map(|s| s.name).collect();
        if message_key.is_some() {
            candidates.extend(messages::MESSAGES.iter().map(|m| m.name));
        }
        unknown(d, k.pos, &format!("key in {what}"), &k.name, candidates);
    }
    m.check_required(spec.keys, &what, d);
    for ks in spec.keys {
        if let Some(v) = m.get(ks.name) {
            check_typed(v, ks, spec.name, d);
        }
    }
    let connection = m.opt_str("connection", d).unwrap_or_else(|| "main".to_owned());
    let ex = |name: &str, d: &mut Diagnostics| m.get(name).and_then(|v| expr(v, d));
    let timing =
        |d: &mut Diagnostics| Timing { within: ex("within", d), not_before: ex("not_before", d) };
    let kind = match spec.name {
        "connect" => StepKind::Connect {
            connection,
            transport: match m.get("transport").and_then(|t| t.as_str()) {
                Some("tls") => StreamKind::Tls,
                _ => StreamKind::Tcp,
            },
            port: ex("port", d),
        },
        "disconnect" => StepKind::Disconnect { connection },
        "power_cycle" => StepKind::PowerCycle { within: ex("within", d) },
        "activate" => {
            let activation_type = ex("activation_type", d);
            let response_code = ex("response_code", d);
            if let Some(e) = &activation_type {
                check_code(e, Codes::ActivationType, "activation_type", d);
            }
            if let Some(e) = &response_code {
                check_code(e, Codes::RoutingActivationResponse, "response_code", d);
            }
            StepKind::Activate {
                connection,
                source_address: ex("source_address", d),
                activation_type,
                response_code,
                within: ex("within", d),
            }
        }
        "send" => {
            let (mk, mv) = message_entry.or_else(|| {
                missing_message(key, spec, d);
                None
            })?;
            StepKind::Send {
                connection,
                message: send_body(mk, mv, d)?,
                overrides: overrides(m.get("override"), d),
            }
        }
        "send_raw" => StepKind::SendRaw {
            connection,
            hex: ex("hex", d)?,
            chunks: match m.get("chunks") {
                Some(Yaml { kind: YamlKind::Seq(items), .. }) => {
                    items.iter().filter_map(|i| expr(i, d)).collect()
                }
                _ => Vec::new(),
            },
            delay: ex("delay", d),
        },
        "expect" => {
            let (mk, mv) = message_entry.or_else(|| {
                missing_message(key, spec, d);
                None
            })?;
            StepKind::Expect { connection, message: expect_body(mk, mv, d)?, timing: timing(d) }
        }
        "expect_raw" => StepKind::ExpectRaw {
            connection,
            hex: ex("hex", d)?,
            mask: ex("mask", d),
            timing: timing(d),
        },
        "expect_none" => {
            let id = ex("id", d);
            if let Some(y) = m.get("id")
                && connection != "can"
            {
                d.error(y.pos, "`id` names a CAN id: it needs `connection: can`", "not on CAN");
            }
            StepKind::ExpectNone { connection, duration: ex("for", d)?, id }
        }
        "expect_closed" => StepKind::ExpectClosed {
            connection,
            within: ex("within", d),
            not_before: ex("not_before", d),
        },
        "expect_open" => StepKind::ExpectOpen { connection, duration: ex("for", d)? },
        "udp_send" => {
            let payload = udp_payload(message_entry, m.get("hex"), key, spec, d, send_body)?;
            let to = match m.get("to") {
                None => UdpDestination::Unicast,
                Some(t) => match t.as_str() {
                    Some("unicast") => UdpDestination::Unicast,
                    Some("broadcast") => UdpDestination::Broadcast,
                    _ => UdpDestination::Address(expr(t, d)?),
                },
            };
            StepKind::UdpSend { payload, overrides: overrides(m.get("override"), d), to }
        }
        "udp_expect" => {
            let payload = udp_payload(message_entry, m.get("hex"), key, spec, d, expect_body)?;
            StepKind::UdpExpect {
                payload,
                timing: timing(d),
                count: ex("count", d),
                interval: ex("interval", d),
            }
        }
        "can_send" => StepKind::CanSend {
            id: ex("id", d)?,
            data: ex("data", d)?,
            extended: matches!(m.get("extended").map(|v| &v.kind), Some(YamlKind::Bool(true))),
            fd: matches!(m.get("fd").map(|v| &v.kind), Some(YamlKind::Bool(true))),
        },
        "can_expect" => StepKind::CanExpect {
            id: ex("id", d)?,
            data: ex("data", d),
            timing: timing(d),
            gap_min: ex("gap_min", d),
            gap_max: ex("gap_max", d),
            count: ex("count", d),
        },
        "isotp_send" => StepKind::IsotpSend {
            data: ex("data", d)?,
            functional: matches!(m.get("functional").map(|v| &v.kind), Some(YamlKind::Bool(true))),
            within: ex("within", d),
        },
        "isotp_expect" => StepKind::IsotpExpect { data: ex("data", d)?, timing: timing(d) },
        "measure" => {
            StepKind::Measure { name: m.req_str("name", d)?, min: ex("min", d), max: ex("max", d) }
        }
        other => {
            d.error(key.pos, format!("step kind `{other}` has no reader"), "internal error");
            return None;
        }
    };
    Some(kind)
}

fn missing_message(key: &Key, spec: &StepSpec, d: &mut Diagnostics) {
    d.error_help(
        key.pos,
        format!(
            "`{}` needs a message, e.g. `{}: {{ alive_check_request: {{}} }}`",
            spec.name, spec.name
        ),
        "no message",
        format!(
            "messages: {}",
            messages::MESSAGES.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
        ),
    );
}

fn udp_payload<F>(
    message: Option<(&Key, &Yaml)>,
    hex: Option<&Yaml>,
    key: &Key,
    spec: &StepSpec,
    d: &mut Diagnostics,
    body: fn(&Key, &Yaml, &mut Diagnostics) -> Option<MessageBody<F>>,
) -> Option<UdpPayload<F>> {
    match (message, hex) {
        (Some((k, v)), None) => Some(UdpPayload::Message(body(k, v, d)?)),
        (None, Some(h)) => Some(UdpPayload::Hex(expr(h, d)?)),
        (Some((k, _)), Some(_)) => {
            d.error(
                k.pos,
                format!("`{}` takes a message or `hex`, not both", spec.name),
                "both given",
            );
            None
        }
        (None, None) => {
            missing_message(key, spec, d);
            None
        }
    }
}

fn message_spec(k: &Key) -> &'static MessageSpec {
    messages::message(&k.name).expect("the caller found this message in the table")
}

fn fields_map<'a>(k: &Key, v: &'a Yaml, d: &mut Diagnostics) -> Option<&'a [(Key, Yaml)]> {
    match &v.kind {
        YamlKind::Map(entries) => Some(entries),
        YamlKind::Null => Some(&[]),
        _ => {
            d.error(
                v.pos,
                format!("message `{}` takes a map of fields, found {}", k.name, v.describe()),
                "expected `{ field: value }`",
            );
            None
        }
    }
}

fn field_spec(
    msg: &MessageSpec,
    k: &Key,
    d: &mut Diagnostics,
) -> Option<&'static messages::FieldSpec> {
    let f = msg.field(&k.name);
    if f.is_none() {
        if msg.fields.is_empty() {
            d.error(k.pos, format!("message `{}` has no fields", msg.name), "unknown field");
        } else {
            unknown(
                d,
                k.pos,
                &format!("field of `{}`", msg.name),
                &k.name,
                msg.fields.iter().map(|f| f.name),
            );
        }
    }
    f
}

fn send_body(k: &Key, v: &Yaml, d: &mut Diagnostics) -> Option<MessageBody<Expr>> {
    let msg = message_spec(k);
    let entries = fields_map(k, v, d)?;
    let mut fields = Vec::new();
    for (fk, fv) in entries {
        let Some(fs) = field_spec(msg, fk, d) else { continue };
        if let Some(e) = expr(fv, d) {
            check_field_value(&e, fs, d);
            fields.push((fk.name.clone(), fk.pos, e));
        }
    }
    for fs in msg.fields {
        if fs.default.is_none() && !fs.optional && !fields.iter().any(|(n, _, _)| n == fs.name) {
            d.error(
                k.pos,
                format!("`{}` needs field `{}` ({})", msg.name, fs.name, fs.ty.describe()),
                "missing field",
            );
        }
    }
    Some(MessageBody { name: msg.name.to_owned(), pos: k.pos, fields })
}

fn expect_body(k: &Key, v: &Yaml, d: &mut Diagnostics) -> Option<MessageBody<Matcher>> {
    let msg = message_spec(k);
    let entries = fields_map(k, v, d)?;
    let mut fields = Vec::new();
    for (fk, fv) in entries {
        let Some(fs) = field_spec(msg, fk, d) else { continue };
        if let Some(m) = matcher(fv, fs, d) {
            fields.push((fk.name.clone(), fk.pos, m));
        }
    }
    Some(MessageBody { name: msg.name.to_owned(), pos: k.pos, fields })
}

const MATCHER_KEYS: &[&str] = &["one_of", "range", "mask", "value", "hex"];

fn matcher(y: &Yaml, fs: &messages::FieldSpec, d: &mut Diagnostics) -> Option<Matcher> {
    match &y.kind {
        YamlKind::Str(s) if s == "any" => Some(Matcher::Any),
        YamlKind::Str(s) if s == "absent" => {
            if !fs.optional {
                d.error(
                    y.pos,
                    format!("field `{}` is always present; `absent` can never match", fs.name),
                    "not optional",
                );
            }
            Some(Matcher::Absent)
        }
        YamlKind::Map(entries) => {
            let Some((k, v)) = entries.first() else {
                d.error(y.pos, "an empty matcher", "expected e.g. `{ one_of: [...] }`");
                return None;
            };
            match k.name.as_str() {
                "one_of" => match &v.kind {
                    YamlKind::Seq(items) if !items.is_empty() => {
                        let list: Vec<Expr> = items.iter().filter_map(|i| expr(i, d)).collect();
                        list.iter().for_each(|e| check_field_value(e, fs, d));
                        Some(Matcher::OneOf(list))
                    }
                    _ => {
                        d.error(v.pos, "`one_of` needs a non-empty list", "expected a list");
                        None
                    }
                },
                "range" => match &v.kind {
                    YamlKind::Seq(items) if items.len() == 2 => {
                        let (a, b) = (expr(&items[0], d)?, expr(&items[1], d)?);
                        check_field_value(&a, fs, d);
                        check_field_value(&b, fs, d);
                        Some(Matcher::Range(a, b))
                    }
                    _ => {
                        d.error(v.pos, "`range` needs `[min, max]`", "expected two values");
                        None
                    }
                },
                "mask" | "value" => {
                    let get = |n: &str| entries.iter().find(|(k, _)| k.name == n).map(|(_, v)| v);
                    match (get("mask"), get("value")) {
                        (Some(mk), Some(vl)) => {
                            Some(Matcher::Mask { mask: expr(mk, d)?, value: expr(vl, d)? })
                        }
                        _ => {
                            d.error(
                                y.pos,
                                "a mask matcher needs both `mask` and `value`",
                                "incomplete matcher",
                            );
                            None
                        }
                    }
                }
                "hex" => {
                    let e = expr(v, d)?;
                    check_literal(&e, Ty::Pattern, "hex", d);
                    Some(Matcher::Bytes(e))
                }
                _ => {
                    unknown(d, k.pos, "matcher", &k.name, MATCHER_KEYS.iter().copied());
                    None
                }
            }
        }
        _ => {
            let e = expr(y, d)?;
            if matches!(fs.ty, FieldType::Bytes(_)) {
                check_literal(&e, Ty::Pattern, fs.name, d);
                return Some(Matcher::Bytes(e));
            }
            check_field_value(&e, fs, d);
            Some(Matcher::Exact(e))
        }
    }
}

/// Checks a literal value against a message field (range, code name, hex, VIN length).
fn check_field_value(e: &Expr, fs: &messages::FieldSpec, d: &mut Diagnostics) {
    match (&e.kind, fs.ty) {
        (ExprKind::Template(_), _) => {}
        (ExprKind::Int(v), ty) if ty.max().is_some() && *v > ty.max().unwrap_or(u64::MAX) => {
            d.error(
                e.pos,
                format!("field `{}` is {}; {v:#x} does not fit", fs.name, ty.describe()),
                "out of range",
            );
        }
        (ExprKind::Str(s), ty) if ty.max().is_some() => {
            if let Some(codes) = fs.codes
                && codes.value_of(s).is_some()
            {
                return;
            }
            match parse_int(s) {
                Ok(v) if v <= ty.max().unwrap_or(u64::MAX) => {}
                Ok(v) => d.error(
                    e.pos,
                    format!("field `{}` is {}; {v:#x} does not fit", fs.name, ty.describe()),
                    "out of range",
                ),
                Err(_) => match fs.codes {
                    Some(codes) => unknown(
                        d,
                        e.pos,
                        &format!("value for `{}`", fs.name),
                        s,
                        codes.named().into_iter().map(|(n, _)| n),
                    ),
                    None => d.error(
                        e.pos,
                        format!("field `{}` is {}, found `{s}`", fs.name, ty.describe()),
                        "not a number",
                    ),
                },
            }
        }
        (ExprKind::Str(s), FieldType::Bytes(len)) => match parse_hex(s) {
            Ok(b) => {
                if let Some(n) = len
                    && b.len() != n
                {
                    d.error(
                        e.pos,
                        format!("field `{}` has {n} bytes, found {}", fs.name, b.len()),
                        "wrong length",
                    );
                }
            }
            Err(msg) => d.error(e.pos, format!("field `{}`: {msg}", fs.name), "not hex"),
        },
        (ExprKind::Str(s), FieldType::Vin)
            if s.len() != 17 && parse_hex(s).map(|b| b.len()) != Ok(17) =>
        {
            d.error(
                e.pos,
                format!("a VIN has 17 characters, `{s}` has {}", s.chars().count()),
                "wrong length",
            );
        }
        (ExprKind::Int(_), FieldType::Bytes(_) | FieldType::Vin) | (ExprKind::Bool(_), _) => {
            d.error(e.pos, format!("field `{}` is {}", fs.name, fs.ty.describe()), "wrong type");
        }
        _ => {}
    }
}

fn check_code(e: &Expr, codes: Codes, field: &str, d: &mut Diagnostics) {
    if let ExprKind::Str(s) = &e.kind
        && codes.value_of(s).is_none()
        && parse_int(s).is_err()
    {
        unknown(
            d,
            e.pos,
            &format!("value for `{field}`"),
            s,
            codes.named().into_iter().map(|(n, _)| n),
        );
    }
}

fn overrides(y: Option<&Yaml>, d: &mut Diagnostics) -> Overrides {
    let Some(y) = y else { return Overrides::default() };
    let Some(m) = Map::new(y, "`override`", d) else { return Overrides::default() };
    m.check_keys(spec::OVERRIDE_KEYS, "`override`", d);
    for ks in spec::OVERRIDE_KEYS {
        if let Some(v) = m.get(ks.name) {
            check_typed(v, ks, "override", d);
        }
    }
    let ex = |n: &str, d: &mut Diagnostics| m.get(n).and_then(|v| expr(v, d));
    Overrides {
        version: ex("version", d),
        inverse_version: ex("inverse_version", d),
        payload_type: ex("payload_type", d),
        payload_length: ex("payload_length", d),
        truncate: ex("truncate", d),
        append: ex("append", d),
    }
}

/// Checks a key's literal value against its declared type.
fn check_typed(v: &Yaml, ks: &KeySpec, step: &str, d: &mut Diagnostics) {
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
fn check_literal(e: &Expr, ty: Ty, what: &str, d: &mut Diagnostics) {
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

fn expr(y: &Yaml, d: &mut Diagnostics) -> Option<Expr> {
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
struct Map<'y> {
    pos: Pos,
    entries: &'y [(Key, Yaml)],
}

impl<'y> Map<'y> {
    fn new(y: &'y Yaml, what: &str, d: &mut Diagnostics) -> Option<Map<'y>> {
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

    fn get(&self, name: &str) -> Option<&'y Yaml> {
        self.entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v)
    }

    /// Unknown keys (with did you mean) and missing required keys.
    fn check_keys(&self, keys: &[KeySpec], what: &str, d: &mut Diagnostics) {
        for (k, _) in self.entries {
            if !keys.iter().any(|s| s.name == k.name) {
                unknown(d, k.pos, &format!("key in {what}"), &k.name, spec::names(keys));
            }
        }
        self.check_required(keys, what, d);
    }

    fn check_required(&self, keys: &[KeySpec], what: &str, d: &mut Diagnostics) {
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

    fn req_str(&self, name: &str, d: &mut Diagnostics) -> Option<String> {
        let v = self.get(name)?;
        self.to_str(name, v, d)
    }

    fn opt_str(&self, name: &str, d: &mut Diagnostics) -> Option<String> {
        self.get(name).and_then(|v| self.to_str(name, v, d))
    }

    fn to_str(&self, name: &str, v: &Yaml, d: &mut Diagnostics) -> Option<String> {
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

    fn str_list(&self, name: &str, d: &mut Diagnostics) -> Vec<String> {
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
