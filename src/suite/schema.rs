//! The JSON Schema of suite files (for editor completion), generated from the same tables the
//! reader uses ([`super::spec`], [`super::messages`]). `docs/suite.schema.json` is this
//! output; a test fails when it is out of date (`DOIPCHECK_UPDATE_SCHEMA=1 cargo test --test it
//! schema` rewrites it).

use super::messages::{FieldSpec, FieldType, MESSAGES};
use super::model::Handler;
use super::spec::{self, KeySpec, MessageKey, Ty};
use crate::notation;
use serde_json::{Map, Value, json};

fn ty(t: Ty) -> Value {
    match t {
        Ty::Str => json!({ "type": "string" }),
        Ty::Value => json!({ "$ref": "#/$defs/value" }),
        Ty::Int => json!({ "type": ["integer", "string"] }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Duration => json!({ "$ref": "#/$defs/duration" }),
        Ty::Hex => json!({ "$ref": "#/$defs/hex" }),
        Ty::Pattern => json!({ "$ref": "#/$defs/pattern" }),
        Ty::StrList => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::ValueList => json!({ "type": "array", "items": { "$ref": "#/$defs/value" } }),
        Ty::Steps => json!({ "$ref": "#/$defs/steps" }),
        Ty::Cases => json!({ "type": "array", "items": { "$ref": "#/$defs/case" } }),
        Ty::Matrix => json!({
            "type": "object",
            "additionalProperties": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/value" } }
        }),
        Ty::Retry => json!({ "oneOf": [
            { "type": "integer", "minimum": 1, "maximum": 100 },
            keys_object(spec::RETRY_KEYS),
        ] }),
        Ty::Handlers => json!({
            "type": "array",
            "items": { "enum": Handler::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>() }
        }),
        Ty::Vars => {
            json!({ "type": "object", "additionalProperties": { "$ref": "#/$defs/value" } })
        }
        Ty::Capture => json!({ "type": "object", "additionalProperties": { "type": "string" } }),
        Ty::Overrides => keys_object(spec::OVERRIDE_KEYS),
        Ty::Enum(words) => json!({ "enum": words }),
        Ty::MessageFields { .. } => json!({ "type": "object" }),
    }
}

fn keys_object(keys: &[KeySpec]) -> Value {
    let mut props = Map::new();
    for k in keys {
        let mut v = ty(k.ty);
        if let Value::Object(o) = &mut v {
            o.insert("description".into(), json!(k.doc));
        }
        props.insert(k.name.into(), v);
    }
    let required: Vec<&str> = keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    let mut o = json!({ "type": "object", "additionalProperties": false, "properties": props });
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

fn field(f: &FieldSpec, matchers: bool) -> Value {
    let base = match f.ty {
        FieldType::Bytes(_) => {
            json!({ "$ref": if matchers { "#/$defs/pattern" } else { "#/$defs/hex" } })
        }
        FieldType::Vin => json!({ "type": "string" }),
        _ => match f.codes {
            Some(codes) => json!({ "anyOf": [
                { "enum": codes.named().iter().map(|(n, _)| *n).collect::<Vec<_>>() },
                { "$ref": "#/$defs/value" },
            ] }),
            None => json!({ "$ref": "#/$defs/value" }),
        },
    };
    if matchers { json!({ "anyOf": [base, { "$ref": "#/$defs/matcher" }] }) } else { base }
}

fn message_fields(name: &str, matchers: bool) -> Value {
    let m = MESSAGES.iter().find(|m| m.name == name).expect("message from the table");
    let mut props = Map::new();
    for f in m.fields {
        props.insert(f.name.into(), field(f, matchers));
    }
    json!({ "type": ["object", "null"], "additionalProperties": false, "properties": props })
}

fn step(s: &spec::StepSpec) -> Value {
    let body = if let Some(t) = s.scalar {
        ty(t)
    } else {
        let mut o = keys_object(s.keys);
        if let MessageKey::Required { matchers } | MessageKey::OrHex { matchers } = s.message {
            let props = o["properties"].as_object_mut().expect("an object");
            for m in MESSAGES {
                props.insert(m.name.into(), message_fields(m.name, matchers));
            }
            let names: Vec<&str> = MESSAGES.iter().map(|m| m.name).collect();
            let mut one_of: Vec<Value> = names.iter().map(|n| json!({ "required": [n] })).collect();
            if matches!(s.message, MessageKey::OrHex { .. }) {
                one_of.push(json!({ "required": ["hex"] }));
            }
            o["oneOf"] = json!(one_of);
        }
        if s.bare { json!({ "anyOf": [o, { "type": "null" }] }) } else { o }
    };
    json!({
        "type": "object",
        "description": s.doc,
        "additionalProperties": false,
        "required": [s.name],
        "properties": { s.name: body },
    })
}

/// The schema as a JSON value.
pub fn json_schema() -> Value {
    let steps: Vec<Value> = super::steps::STEPS.iter().map(step).collect();
    let mut suite = keys_object(spec::SUITE_KEYS);
    suite["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    suite["$id"] = json!("https://github.com/doipcheck/doipcheck/docs/suite.schema.json");
    suite["title"] = json!("doipcheck suite");
    suite["description"] = json!("A doipcheck test suite (docs/suite-format.md).");
    suite["$defs"] = json!({
        "value": { "type": ["integer", "string", "boolean"], "description": "A number (0x.. hex allowed), a code name, text, or `${name}`." },
        "duration": { "anyOf": [{ "type": "string", "pattern": format!("^(\\$\\{{[^}}]+\\}}|{})$", notation::DURATION_PATTERN) }, { "const": 0 }], "description": "`500ms`, `1.5s`, `250us`, `5min`, `0`, or `${...}` (docs/suite-format.md, Hex and durations)." },
        "hex": { "type": "string", "description": "Hex bytes, spaces, `:` or `-` allowed: `02 FD 80 01`, `0x02FD`; `${name:u16}` inserts a value." },
        "pattern": { "type": "string", "description": "Hex with `??` (any byte), `?` (any nibble) and a trailing `..` (any rest)." },
        "matcher": { "oneOf": [
            { "enum": ["any", "absent"] },
            { "type": "object", "additionalProperties": false, "required": ["one_of"], "properties": { "one_of": { "type": "array", "items": { "$ref": "#/$defs/value" } } } },
            { "type": "object", "additionalProperties": false, "required": ["range"], "properties": { "range": { "type": "array", "minItems": 2, "maxItems": 2, "items": { "$ref": "#/$defs/value" } } } },
            { "type": "object", "additionalProperties": false, "required": ["mask", "value"], "properties": { "mask": { "$ref": "#/$defs/value" }, "value": { "$ref": "#/$defs/value" } } },
            { "type": "object", "additionalProperties": false, "required": ["hex"], "properties": { "hex": { "$ref": "#/$defs/pattern" } } },
        ] },
        "step": { "oneOf": steps },
        "steps": { "type": "array", "items": { "$ref": "#/$defs/step" } },
        "case": keys_object(spec::CASE_KEYS),
    });
    suite
}

/// The schema file's text: pretty JSON with a final newline.
pub fn schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a JSON value serializes");
    s.push('\n');
    s
}

/// Marks around the generated step table in docs/suite-format.md.
pub const STEP_TABLE_START: &str = "<!-- step-table: generated from suite::steps::STEPS -->";
pub const STEP_TABLE_END: &str = "<!-- end of step-table -->";

/// Every step kind with its keys and what it does, as a Markdown table, from the same
/// [`super::steps::STEPS`] the reader and the schema use: a new step kind appears here
/// without a hand edit.
pub fn step_table() -> String {
    let mut out = String::from("| step | keys (`*` required) | what it does |\n|---|---|---|\n");
    for s in super::steps::STEPS {
        let mut keys: Vec<String> = s
            .keys
            .iter()
            .map(|k| format!("`{}`{}", k.name, if k.required { "*" } else { "" }))
            .collect();
        match s.message {
            MessageKey::None => {}
            MessageKey::Required { .. } => keys.insert(0, "a message*".into()),
            MessageKey::OrHex { .. } => keys.insert(0, "a message or `hex`*".into()),
        }
        if let Some(t) = s.scalar {
            keys = vec![format!("({})", scalar_name(t))];
        }
        out.push_str(&format!("| `{}` | {} | {} |\n", s.name, keys.join(", "), s.doc));
    }
    out
}

fn scalar_name(t: Ty) -> &'static str {
    match t {
        Ty::Duration => "a duration",
        Ty::Capture => "`{ name: field }`",
        _ => "a value",
    }
}

/// `doc` with its step table replaced by the current one; `None` when the marks are missing.
pub fn with_step_table(doc: &str) -> Option<String> {
    replace_between(doc, STEP_TABLE_START, STEP_TABLE_END, &step_table())
}

/// Marks around the generated profile tables in docs/suite-format.md.
pub const PROFILE_TABLE_START: &str =
    "<!-- profile-table: generated from suite::profile::{KEYS, CAPABILITIES} -->";
pub const PROFILE_TABLE_END: &str = "<!-- end of profile-table -->";

/// Every profile key (type, default, meaning) and every capability, as Markdown, from the
/// tables the profile reader uses: a new key is documented without a hand edit.
pub fn profile_tables() -> String {
    use super::profile::{CAPABILITIES, KEYS, KeyType};
    let mut out = String::from("| key | type | default | meaning |\n|---|---|---|---|\n");
    for k in KEYS {
        let ty = match k.ty {
            KeyType::Int { max } if max <= 0xFF => "u8".to_owned(),
            KeyType::Int { max } if max <= 0xFFFF => "u16".to_owned(),
            KeyType::Int { .. } => "u32".to_owned(),
            KeyType::Str => "text".to_owned(),
            KeyType::Bool => "bool".to_owned(),
            KeyType::Duration => "duration".to_owned(),
            KeyType::Bytes { len } => format!("{len} hex bytes"),
            KeyType::BytesBetween { min, max } if min == max => format!("{min} hex bytes"),
            KeyType::BytesBetween { min, max } => format!("{min} to {max} hex bytes"),
            KeyType::Vin => "17 characters".to_owned(),
            KeyType::StrList => "list of names".to_owned(),
            KeyType::IntList { .. } => "list of integers".to_owned(),
        };
        let default = match k.default {
            Some(d) => format!("`{}`", d.replace('|', "\\|")),
            None => "none".to_owned(),
        };
        out.push_str(&format!(
            "| `{}` | {ty} | {default} | {} |\n",
            k.path,
            k.doc.replace('|', "\\|")
        ));
    }
    out.push_str("\n### Capabilities\n\n| capability | the target ... |\n|---|---|\n");
    for (name, doc) in CAPABILITIES {
        out.push_str(&format!("| `{name}` | {doc} |\n"));
    }
    out
}

/// `doc` with its profile tables replaced by the current ones; `None` without the marks.
pub fn with_profile_tables(doc: &str) -> Option<String> {
    replace_between(doc, PROFILE_TABLE_START, PROFILE_TABLE_END, &profile_tables())
}

fn replace_between(doc: &str, start_mark: &str, end_mark: &str, content: &str) -> Option<String> {
    let start = doc.find(start_mark)? + start_mark.len();
    let end = doc[start..].find(end_mark)? + start;
    Some(format!("{}\n{}{}", &doc[..start], content, &doc[end..]))
}
