//! Typed messages of a suite, through the codec: building what `send` describes (fields from
//! the step, defaults from the profile, header broken by `override`) and judging what arrived
//! against `expect` matchers, field by field.

use crate::codec::doip::codes::*;
use crate::codec::doip::fields::{FieldValue, payload_fields};
use crate::codec::doip::{
    AliveCheckResponse, DiagnosticMessage, DiagnosticMessageAck, DiagnosticMessageNack,
    EntityStatusResponse, GenericNack, Message, Overrides as CodecOverrides, Payload,
    PowerModeInformationResponse, ProtocolVersion, RoutingActivationRequest,
    RoutingActivationResponse, VehicleAnnouncement, VehicleIdentificationRequestWithEid,
    VehicleIdentificationRequestWithVin,
};
use crate::runner::event::FieldMismatch;
use crate::suite::messages::{self, Codes, FieldSpec, FieldType, MessageSpec};
use crate::suite::step_args::{Matcher, MessageBody, OverrideExprs};
use crate::suite::value::{
    BytePattern, Expr, Scope, Value, hex_spaced, parse_template, to_bytes, to_int,
};

/// Resolves a field value to an integer: numbers, numeric strings and code names.
fn field_int(v: &Value, fs: &FieldSpec) -> Result<u64, String> {
    if let (Value::Str(s), Some(codes)) = (v, fs.codes)
        && let Some(code) = codes.value_of(s)
    {
        return Ok(u64::from(code));
    }
    let n = to_int(v).map_err(|e| format!("field `{}`: {e}", fs.name))?;
    match fs.ty.max() {
        Some(max) if n > max => {
            Err(format!("field `{}` is {}; {n:#x} does not fit", fs.name, fs.ty.describe()))
        }
        _ => Ok(n),
    }
}

/// Resolves a field value to bytes: hex, or text for a VIN.
fn field_bytes(v: &Value, fs: &FieldSpec) -> Result<Vec<u8>, String> {
    let bytes = match (fs.ty, v) {
        (FieldType::Vin, Value::Str(s)) if s.len() == 17 => s.as_bytes().to_vec(),
        _ => to_bytes(v).map_err(|e| format!("field `{}`: {e}", fs.name))?,
    };
    let want = match fs.ty {
        FieldType::Vin => Some(17),
        FieldType::Bytes(n) => n,
        _ => None,
    };
    match want {
        Some(n) if bytes.len() != n => {
            Err(format!("field `{}` has {n} bytes, got {}", fs.name, bytes.len()))
        }
        _ => Ok(bytes),
    }
}

/// The value of field `name` for a `send`: as written, else the table's default.
struct Fields<'a> {
    spec: &'static MessageSpec,
    given: &'a [(String, crate::suite::yaml::Pos, Expr)],
    scope: &'a dyn Scope,
}

impl Fields<'_> {
    fn value(&self, name: &str) -> Result<Option<Value>, String> {
        let fs = self.spec.field(name).ok_or_else(|| format!("no field `{name}`"))?;
        if let Some((_, _, e)) = self.given.iter().find(|(n, _, _)| n == name) {
            return e.resolve(self.scope).map(Some);
        }
        match fs.default {
            Some(text) => {
                let kind = parse_template(text)?;
                let e = Expr { pos: Default::default(), kind };
                // A default is a code name or a number or a profile reference.
                let v = e.resolve(self.scope)?;
                Ok(Some(v))
            }
            None => Ok(None),
        }
    }

    fn int(&self, name: &str) -> Result<u64, String> {
        let fs = self.spec.field(name).ok_or_else(|| format!("no field `{name}`"))?;
        match self.value(name)? {
            Some(v) => field_int(&v, fs),
            None => Err(format!("`{}` needs field `{name}`", self.spec.name)),
        }
    }

    fn opt_int(&self, name: &str) -> Result<Option<u64>, String> {
        let fs = self.spec.field(name).ok_or_else(|| format!("no field `{name}`"))?;
        self.value(name)?.map(|v| field_int(&v, fs)).transpose()
    }

    fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        let fs = self.spec.field(name).ok_or_else(|| format!("no field `{name}`"))?;
        match self.value(name)? {
            Some(v) => field_bytes(&v, fs),
            None if fs.optional => Ok(Vec::new()),
            None => Err(format!("`{}` needs field `{name}`", self.spec.name)),
        }
    }

    fn array<const N: usize>(&self, name: &str) -> Result<[u8; N], String> {
        let b = self.bytes(name)?;
        b.try_into().map_err(|_| format!("field `{name}` needs {N} bytes"))
    }
}

/// Builds the message a `send` / `udp_send` describes. One arm per payload type, each
/// reading that message's fields: long, but one flat table to read against the codec's.
pub fn build(
    body: &MessageBody<Expr>,
    version: u8,
    scope: &dyn Scope,
) -> Result<Message<'static>, String> {
    let spec =
        messages::message(&body.name).ok_or_else(|| format!("unknown message `{}`", body.name))?;
    let f = Fields { spec, given: &body.fields, scope };
    let u8_ = |n: &str| f.int(n).map(|v| v as u8);
    let u16_ = |n: &str| f.int(n).map(|v| v as u16);
    let u32_ = |n: &str| f.int(n).map(|v| v as u32);
    let payload = match spec.name {
        "generic_nack" => Payload::GenericNack(GenericNack {
            nack_code: GenericNackCode::from_raw(u8_("nack_code")?),
        }),
        "vehicle_identification_request" => Payload::VehicleIdentificationRequest,
        "vehicle_identification_request_with_eid" => {
            Payload::VehicleIdentificationRequestWithEid(VehicleIdentificationRequestWithEid {
                eid: f.array("eid")?,
            })
        }
        "vehicle_identification_request_with_vin" => {
            Payload::VehicleIdentificationRequestWithVin(VehicleIdentificationRequestWithVin {
                vin: f.array("vin")?,
            })
        }
        "vehicle_announcement" => Payload::VehicleAnnouncement(VehicleAnnouncement {
            vin: f.array("vin")?,
            logical_address: u16_("logical_address")?,
            eid: f.array("eid")?,
            gid: f.array("gid")?,
            further_action: FurtherAction::from_raw(u8_("further_action")?),
            sync_status: f.opt_int("sync_status")?.map(|v| SyncStatus::from_raw(v as u8)),
        }),
        "routing_activation_request" => {
            Payload::RoutingActivationRequest(RoutingActivationRequest {
                source_address: u16_("source_address")?,
                activation_type: ActivationType::from_raw(u8_("activation_type")?),
                reserved_iso: u32_("reserved_iso")?,
                oem_specific: f.opt_int("oem_specific")?.map(|v| v as u32),
            })
        }
        "routing_activation_response" => {
            Payload::RoutingActivationResponse(RoutingActivationResponse {
                tester_logical_address: u16_("tester_logical_address")?,
                entity_logical_address: u16_("entity_logical_address")?,
                response_code: RoutingActivationResponseCode::from_raw(u8_("response_code")?),
                reserved_iso: u32_("reserved_iso")?,
                oem_specific: f.opt_int("oem_specific")?.map(|v| v as u32),
            })
        }
        "alive_check_request" => Payload::AliveCheckRequest,
        "alive_check_response" => Payload::AliveCheckResponse(AliveCheckResponse {
            source_address: u16_("source_address")?,
        }),
        "entity_status_request" => Payload::EntityStatusRequest,
        "entity_status_response" => Payload::EntityStatusResponse(EntityStatusResponse {
            node_type: NodeType::from_raw(u8_("node_type")?),
            max_concurrent_sockets: u8_("max_concurrent_sockets")?,
            currently_open_sockets: u8_("currently_open_sockets")?,
            max_data_size: f.opt_int("max_data_size")?.map(|v| v as u32),
        }),
        "power_mode_information_request" => Payload::PowerModeInformationRequest,
        "power_mode_information_response" => {
            Payload::PowerModeInformationResponse(PowerModeInformationResponse {
                power_mode: PowerMode::from_raw(u8_("power_mode")?),
            })
        }
        "diagnostic_message" => Payload::DiagnosticMessage(DiagnosticMessage::new(
            u16_("source_address")?,
            u16_("target_address")?,
            f.bytes("user_data")?,
        )),
        "diagnostic_message_ack" => Payload::DiagnosticMessageAck(DiagnosticMessageAck {
            source_address: u16_("source_address")?,
            target_address: u16_("target_address")?,
            ack_code: DiagnosticAckCode::from_raw(u8_("ack_code")?),
            previous_diagnostic_message: f.bytes("previous_diagnostic_message")?.into(),
        }),
        "diagnostic_message_nack" => Payload::DiagnosticMessageNack(DiagnosticMessageNack {
            source_address: u16_("source_address")?,
            target_address: u16_("target_address")?,
            nack_code: DiagnosticNackCode::from_raw(u8_("nack_code")?),
            previous_diagnostic_message: f.bytes("previous_diagnostic_message")?.into(),
        }),
        other => return Err(format!("message `{other}` cannot be built")),
    };
    Ok(Message::new(ProtocolVersion::from_raw(version), payload))
}

/// The codec's malformed-message overrides for a step's `override:`.
pub fn overrides(o: &OverrideExprs, scope: &dyn Scope) -> Result<CodecOverrides, String> {
    let int = |e: &Option<Expr>, what: &str, max: u64| -> Result<Option<u64>, String> {
        e.as_ref()
            .map(|e| {
                let v =
                    to_int(&e.resolve(scope)?).map_err(|m| format!("override `{what}`: {m}"))?;
                if v > max {
                    return Err(format!("override `{what}`: {v:#x} is larger than {max:#x}"));
                }
                Ok(v)
            })
            .transpose()
    };
    Ok(CodecOverrides {
        protocol_version: int(&o.version, "version", 0xFF)?.map(|v| v as u8),
        inverse_protocol_version: int(&o.inverse_version, "inverse_version", 0xFF)?
            .map(|v| v as u8),
        payload_type: int(&o.payload_type, "payload_type", 0xFFFF)?.map(|v| v as u16),
        payload_length: int(&o.payload_length, "payload_length", 0xFFFF_FFFF)?.map(|v| v as u32),
        truncate_to: int(&o.truncate, "truncate", 1 << 24)?.map(|v| v as usize),
        append: match &o.append {
            Some(e) => {
                to_bytes(&e.resolve(scope)?).map_err(|m| format!("override `append`: {m}"))?
            }
            None => Vec::new(),
        },
    })
}

/// A field's received value, in the terms matchers compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actual {
    Int(u64),
    Bytes(Vec<u8>),
    Absent,
}

impl Actual {
    fn from_field(v: &FieldValue<'_>) -> Actual {
        match *v {
            FieldValue::Number(n) | FieldValue::Hex(n, _) => Actual::Int(n),
            FieldValue::Code { raw, .. } => Actual::Int(raw),
            FieldValue::Bytes(b) => Actual::Bytes(b.to_vec()),
            FieldValue::Vin(v) => Actual::Bytes(v.to_vec()),
            FieldValue::Absent => Actual::Absent,
        }
    }

    /// As people read it: codes by name, VINs as text.
    pub fn show(&self, fs: &FieldSpec) -> String {
        match self {
            Actual::Int(n) => match fs.codes.and_then(|c| c.name_of(*n as u8)) {
                Some(name) => format!("{name} ({n:#04x})"),
                None => format!("{n:#x}"),
            },
            Actual::Bytes(b)
                if fs.ty == FieldType::Vin && b.iter().all(|c| c.is_ascii_graphic()) =>
            {
                String::from_utf8_lossy(b).into_owned()
            }
            Actual::Bytes(b) => hex_spaced(b),
            Actual::Absent => "absent".to_owned(),
        }
    }
}

/// The value a field of the last matched message holds, for `capture`.
pub fn capture_field(message: &Message<'_>, field: &str) -> Option<Value> {
    let name = field.rsplit('.').next().unwrap_or(field);
    payload_fields(&message.payload).iter().find(|f| f.name == name).and_then(|f| {
        match Actual::from_field(&f.value) {
            Actual::Int(n) => Some(Value::Int(n)),
            Actual::Bytes(b) => Some(Value::Bytes(b)),
            Actual::Absent => None,
        }
    })
}

/// Compares a message with an expectation; every mismatching field is listed.
pub fn judge(
    expected: &MessageBody<Matcher>,
    message: &Message<'_>,
    scope: &dyn Scope,
) -> Result<Vec<FieldMismatch>, String> {
    let spec = messages::message(&expected.name)
        .ok_or_else(|| format!("unknown message `{}`", expected.name))?;
    let fields = payload_fields(&message.payload);
    let mut mismatches = Vec::new();
    for (name, _, matcher) in &expected.fields {
        let fs = spec.field(name).ok_or_else(|| format!("no field `{name}` in `{}`", spec.name))?;
        let actual = fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| Actual::from_field(&f.value))
            .unwrap_or(Actual::Absent);
        let (ok, shown) = judge_field(matcher, &actual, fs, scope)?;
        if !ok {
            mismatches.push(FieldMismatch {
                field: format!("{}.{name}", spec.name),
                expected: shown,
                actual: actual.show(fs),
            });
        }
    }
    Ok(mismatches)
}

/// Whether `actual` satisfies `matcher`, and the matcher as people read it. One arm per
/// matcher form.
fn judge_field(
    m: &Matcher,
    actual: &Actual,
    fs: &FieldSpec,
    scope: &dyn Scope,
) -> Result<(bool, String), String> {
    let int = |e: &Expr| -> Result<u64, String> { field_int(&e.resolve(scope)?, fs) };
    let show_int = |v: u64| Actual::Int(v).show(fs);
    Ok(match m {
        Matcher::Any => (!matches!(actual, Actual::Absent), "any value".into()),
        Matcher::Absent => (matches!(actual, Actual::Absent), "absent".into()),
        Matcher::Exact(e) => match fs.ty {
            FieldType::Bytes(_) | FieldType::Vin => {
                let want = field_bytes(&e.resolve(scope)?, fs)?;
                let shown = Actual::Bytes(want.clone()).show(fs);
                (*actual == Actual::Bytes(want), shown)
            }
            _ => {
                let want = int(e)?;
                (*actual == Actual::Int(want), show_int(want))
            }
        },
        Matcher::Range(a, b) => {
            let (lo, hi) = (int(a)?, int(b)?);
            let ok = matches!(actual, Actual::Int(n) if (lo..=hi).contains(n));
            (ok, format!("{} ..= {}", show_int(lo), show_int(hi)))
        }
        Matcher::OneOf(list) => {
            let values: Vec<u64> = list.iter().map(int).collect::<Result<_, _>>()?;
            let ok = matches!(actual, Actual::Int(n) if values.contains(n));
            let shown: Vec<String> = values.iter().map(|v| show_int(*v)).collect();
            (ok, format!("one of [{}]", shown.join(", ")))
        }
        Matcher::Mask { mask, value } => {
            let (m, v) = (to_int(&mask.resolve(scope)?)?, to_int(&value.resolve(scope)?)?);
            let ok = matches!(actual, Actual::Int(n) if n & m == v & m);
            (ok, format!("{v:#x} under mask {m:#x}"))
        }
        Matcher::Bytes(e) => {
            let pattern = match e.resolve(scope)? {
                Value::Bytes(b) => {
                    BytePattern { bytes: b.iter().map(|&x| (x, 0xFF)).collect(), open_tail: false }
                }
                Value::Str(s) => BytePattern::parse(&s)?,
                other => {
                    return Err(format!(
                        "field `{}`: expected a hex pattern, found {}",
                        fs.name,
                        other.type_name()
                    ));
                }
            };
            let ok = matches!(actual, Actual::Bytes(b) if pattern.matches(b));
            (ok, pattern.to_string())
        }
    })
}

/// `Codes` named in messages, re-exported for the runner's summaries.
pub fn code_name(codes: Codes, raw: u8) -> Option<&'static str> {
    codes.name_of(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::value::ExprKind;
    use crate::suite::yaml::Pos;

    /// A value for every field of `spec`, optional ones included, as a suite would write it.
    fn every_field(spec: &MessageSpec) -> MessageBody<Expr> {
        let fields = spec
            .fields
            .iter()
            .map(|fs| {
                let kind = match (fs.ty, fs.codes) {
                    (_, Some(codes)) => {
                        ExprKind::Int(u64::from(codes.named().first().map_or(0, |(_, v)| *v)))
                    }
                    (FieldType::Bytes(Some(n)), _) => ExprKind::Str("11 ".repeat(n)),
                    (FieldType::Bytes(None), _) => ExprKind::Str("3E 00".into()),
                    (FieldType::Vin, _) => ExprKind::Str("WVWZZZ1JZXW000001".into()),
                    _ => ExprKind::Int(1),
                };
                (fs.name.to_owned(), Pos::default(), Expr { pos: Pos::default(), kind })
            })
            .collect();
        MessageBody { name: spec.name.to_owned(), pos: Pos::default(), fields }
    }

    /// The field names of the suite's message table (what a suite may write), of the codec's
    /// field listing (what reports show and `judge` / `capture` read) and of the runner's
    /// builder (what `send` puts on the wire) agree for every message kind.
    #[test]
    fn the_suite_the_codec_and_the_runner_name_the_same_fields() {
        let scope: std::collections::BTreeMap<String, Value> =
            crate::suite::profile::Profile::defaults().scope_entries().collect();
        for spec in messages::MESSAGES {
            let body = every_field(spec);
            let message = build(&body, 2, &scope)
                .unwrap_or_else(|e| panic!("{}: the runner cannot build it: {e}", spec.name));
            assert_eq!(
                message.payload.payload_type().id(),
                Some(spec.name),
                "{}: built as another payload type",
                spec.name
            );
            let codec: Vec<&str> =
                payload_fields(&message.payload).iter().map(|f| f.name).collect();
            let suite: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            assert_eq!(suite, codec, "{}: suite fields vs codec fields (wire order)", spec.name);
            for name in &suite {
                assert!(
                    capture_field(&message, name).is_some(),
                    "{}: `capture` cannot read field `{name}`",
                    spec.name
                );
            }
            let any = MessageBody {
                name: spec.name.to_owned(),
                pos: Pos::default(),
                fields: suite
                    .iter()
                    .map(|n| ((*n).to_owned(), Pos::default(), Matcher::Any))
                    .collect(),
            };
            assert_eq!(judge(&any, &message, &scope), Ok(Vec::new()), "{}: judge", spec.name);
        }
    }
}
