//! What a step kind's `read` sees: the step's YAML body, already checked against the kind's
//! [`StepSpec`] (unknown keys with "did you mean", required keys, literal types, at most one
//! message key), with typed getters. Mistakes go to the file's diagnostics; a getter that
//! returns `None` has reported why.

use crate::suite::diag::Diagnostics;
use crate::suite::messages::{self, Codes};
use crate::suite::read::{Map, check_literal, check_typed, check_var_name, expr, unknown};
use crate::suite::read_fields::{
    check_code, expect_body, missing_message, overrides, send_body, udp_payload,
};
use crate::suite::spec::{MessageKey, StepSpec, Ty};
use crate::suite::step_args::{Matcher, MessageBody, OverrideExprs, TimeBounds, UdpPayload};
use crate::suite::value::Expr;
use crate::suite::yaml::{Key, Yaml, YamlKind};

pub struct StepReader<'y, 'd> {
    spec: &'static StepSpec,
    key: &'y Key,
    body: &'y Yaml,
    map: Map<'y>,
    message: Option<(&'y Key, &'y Yaml)>,
    pub d: &'d mut Diagnostics,
}

impl<'y, 'd> StepReader<'y, 'd> {
    /// Checks `body` against `spec`; `None` when it is not even a map.
    pub(in crate::suite) fn new(
        spec: &'static StepSpec,
        key: &'y Key,
        body: &'y Yaml,
        d: &'d mut Diagnostics,
    ) -> Option<StepReader<'y, 'd>> {
        if spec.scalar.is_some() {
            let map = Map { pos: body.pos, entries: &[] };
            return Some(StepReader { spec, key, body, map, message: None, d });
        }
        // A step may be written without a body (`- disconnect:`): an empty map.
        let map = if matches!(body.kind, YamlKind::Null) {
            Map { pos: body.pos, entries: &[] }
        } else {
            Map::new(body, &format!("`{}`", spec.name), d)?
        };
        let mut r = StepReader { spec, key, body, map, message: None, d };
        r.check_keys();
        Some(r)
    }

    /// Unknown keys, the one message key, required keys and literal types.
    fn check_keys(&mut self) {
        let spec = self.spec;
        let what = format!("`{}`", spec.name);
        let takes_message = !matches!(spec.message, MessageKey::None);
        for (k, _v) in self.map.entries {
            if spec.keys.iter().any(|s| s.name == k.name) {
                continue;
            }
            if takes_message && messages::message(&k.name).is_some() {
                if self.message.is_some() {
                    self.d.error(
                        k.pos,
                        format!("{what} takes one message, this is a second"),
                        "second message",
                    );
                } else {
                    self.message = Some((k, _v));
                }
                continue;
            }
            let mut candidates: Vec<&str> = spec.keys.iter().map(|s| s.name).collect();
            if takes_message {
                candidates.extend(messages::MESSAGES.iter().map(|m| m.name));
            }
            unknown(self.d, k.pos, &format!("key in {what}"), &k.name, candidates);
        }
        self.map.check_required(spec.keys, &what, self.d);
        for ks in spec.keys {
            if let Some(v) = self.map.get(ks.name) {
                check_typed(v, ks, spec.name, self.d);
            }
        }
    }

    /// The YAML value of a key.
    pub fn get(&self, name: &str) -> Option<&'y Yaml> {
        self.map.get(name)
    }

    /// A key's expression; `None` when absent (or unreadable, which is reported).
    pub fn expr(&mut self, name: &str) -> Option<Expr> {
        self.map.get(name).and_then(|v| expr(v, self.d))
    }

    /// A list of expressions (`chunks: [1, 2]`); empty when absent.
    pub fn expr_list(&mut self, name: &str) -> Vec<Expr> {
        match self.map.get(name) {
            Some(Yaml { kind: YamlKind::Seq(items), .. }) => {
                items.iter().filter_map(|i| expr(i, self.d)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// A list of message kinds (`pass_over: [generic_nack]`), each one the catalogue knows;
    /// an unknown name is reported with a suggestion. Empty when absent.
    pub fn message_names(&mut self, name: &str) -> Vec<&'static str> {
        let Some(Yaml { kind: YamlKind::Seq(items), .. }) = self.map.get(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(word) = item.as_str() else { continue };
            match messages::message(word) {
                Some(m) => out.push(m.name),
                None => unknown(
                    self.d,
                    item.pos,
                    &format!("message in `{name}`"),
                    word,
                    messages::MESSAGES.iter().map(|m| m.name),
                ),
            }
        }
        out
    }

    /// A word value (`transport: tls`), as written.
    pub fn word(&self, name: &str) -> Option<&'y str> {
        self.map.get(name).and_then(|v| v.as_str())
    }

    /// A boolean key; absent is false.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.map.get(name).map(|v| &v.kind), Some(YamlKind::Bool(true)))
    }

    /// A required string key.
    pub fn string(&mut self, name: &str) -> Option<String> {
        self.map.req_str(name, self.d)
    }

    /// `connection:` (default `main`).
    pub fn connection(&mut self) -> String {
        self.map.opt_str("connection", self.d).unwrap_or_else(|| "main".to_owned())
    }

    /// `within:` and `not_before:`.
    pub fn timing(&mut self) -> TimeBounds {
        TimeBounds { within: self.expr("within"), not_before: self.expr("not_before") }
    }

    /// `override:`.
    pub fn overrides(&mut self) -> OverrideExprs {
        overrides(self.map.get("override"), self.d)
    }

    /// Reports a code name the codec does not know (`activation_type: defualt`).
    pub fn check_code(&mut self, e: &Expr, codes: Codes, field: &str) {
        check_code(e, codes, field, self.d);
    }

    /// The message of a `send`-like step.
    pub fn send_body(&mut self) -> Option<MessageBody<Expr>> {
        match self.message {
            Some((k, v)) => send_body(k, v, self.d),
            None => {
                missing_message(self.key, self.spec, self.d);
                None
            }
        }
    }

    /// The message with matchers of an `expect`-like step.
    pub fn expect_body(&mut self) -> Option<MessageBody<Matcher>> {
        match self.message {
            Some((k, v)) => expect_body(k, v, self.d),
            None => {
                missing_message(self.key, self.spec, self.d);
                None
            }
        }
    }

    /// A typed message or `hex:` (UDP steps that send).
    pub fn udp_send_payload(&mut self) -> Option<UdpPayload<Expr>> {
        let hex = self.map.get("hex");
        udp_payload(self.message, hex, self.key, self.spec, self.d, send_body)
    }

    /// A typed message with matchers or a `hex:` pattern (UDP steps that expect).
    pub fn udp_expect_payload(&mut self) -> Option<UdpPayload<Matcher>> {
        let hex = self.map.get("hex");
        udp_payload(self.message, hex, self.key, self.spec, self.d, expect_body)
    }

    /// The body of a step written as a scalar (`wait: 100ms`), checked as `ty`.
    pub fn scalar_expr(&mut self, ty: Ty) -> Option<Expr> {
        let e = expr(self.body, self.d)?;
        check_literal(&e, ty, self.spec.name, self.d);
        Some(e)
    }

    /// `capture: { name: field }` pairs.
    pub fn capture_pairs(&mut self) -> Option<Vec<(String, String)>> {
        let YamlKind::Map(entries) = &self.body.kind else {
            self.d.error(
                self.body.pos,
                "`capture` must map names to fields: `{ name: field }`",
                "expected a map",
            );
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            check_var_name(k, self.d);
            match v.as_str() {
                Some(f) => out.push((k.name.clone(), f.to_owned())),
                None => self.d.error(
                    v.pos,
                    "a capture names a field of the last matched message, e.g. `entity_logical_address`",
                    "expected a field name",
                ),
            }
        }
        Some(out)
    }
}
