//! Reading the fields of typed messages (`send`, `expect`, `udp_*`): every field checked
//! against the codec's field table ([`super::messages`]) with its type and range, matchers
//! (`any`, `absent`, `one_of`, `range`, `mask`, `hex`), and `override:`.

use super::diag::Diagnostics;
use super::messages::{self, Codes, FieldType, MessageSpec};
use super::read::{Map, check_literal, check_typed, expr, unknown};
use super::spec::{self, StepSpec, Ty};
use super::step_args::{Matcher, MessageBody, OverrideExprs, UdpPayload};
use super::value::{Expr, ExprKind, parse_hex, parse_int};
use super::yaml::{Key, Yaml, YamlKind};

pub(super) fn missing_message(key: &Key, spec: &StepSpec, d: &mut Diagnostics) {
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

pub(super) fn udp_payload<F>(
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

pub(super) fn send_body(k: &Key, v: &Yaml, d: &mut Diagnostics) -> Option<MessageBody<Expr>> {
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

pub(super) fn expect_body(k: &Key, v: &Yaml, d: &mut Diagnostics) -> Option<MessageBody<Matcher>> {
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

/// A field's matcher: `any`, `absent`, `{ one_of }`, `{ range }`, `{ mask, value }`, `{ hex }`
/// or a value. One arm per matcher form, each with its own mistakes to explain.
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

/// Checks a literal value against a message field (range, code name, hex, VIN length). One
/// arm per field type and value form, each naming the rule it breaks.
pub(super) fn check_field_value(e: &Expr, fs: &messages::FieldSpec, d: &mut Diagnostics) {
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

pub(super) fn check_code(e: &Expr, codes: Codes, field: &str, d: &mut Diagnostics) {
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

pub(super) fn overrides(y: Option<&Yaml>, d: &mut Diagnostics) -> OverrideExprs {
    let Some(y) = y else { return OverrideExprs::default() };
    let Some(m) = Map::new(y, "`override`", d) else { return OverrideExprs::default() };
    m.check_keys(spec::OVERRIDE_KEYS, "`override`", d);
    for ks in spec::OVERRIDE_KEYS {
        if let Some(v) = m.get(ks.name) {
            check_typed(v, ks, "override", d);
        }
    }
    let ex = |n: &str, d: &mut Diagnostics| m.get(n).and_then(|v| expr(v, d));
    OverrideExprs {
        version: ex("version", d),
        inverse_version: ex("inverse_version", d),
        payload_type: ex("payload_type", d),
        payload_length: ex("payload_length", d),
        truncate: ex("truncate", d),
        append: ex("append", d),
    }
}
