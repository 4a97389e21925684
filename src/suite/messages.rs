//! The DoIP messages a suite can name in `send`, `expect`, `udp_send` and `udp_expect`, with
//! their fields. Names are the codec's snake_case payload type ids and field names
//! (ISO 13400-2:2019 Table 17 and the payload tables after it), so a suite, a decoded summary
//! and the codec all say the same thing.
//!
//! This table drives validation (unknown message or field, did you mean), the JSON schema and
//! the defaults a `send` fills in from the profile.

/// How a field is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    U8,
    U16,
    U32,
    /// Bytes; `Some(n)` when the length is fixed.
    Bytes(Option<usize>),
    /// 17 ASCII characters (a VIN); written as text or as hex.
    Vin,
}

impl FieldType {
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::U8 => "an 8-bit integer",
            FieldType::U16 => "a 16-bit integer",
            FieldType::U32 => "a 32-bit integer",
            FieldType::Bytes(_) => "hex bytes",
            FieldType::Vin => "a 17-character VIN",
        }
    }

    pub fn max(self) -> Option<u64> {
        match self {
            FieldType::U8 => Some(0xFF),
            FieldType::U16 => Some(0xFFFF),
            FieldType::U32 => Some(0xFFFF_FFFF),
            _ => None,
        }
    }
}

/// Which code vocabulary a field's named values come from (the codec's open enums).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    GenericNack,
    ActivationType,
    RoutingActivationResponse,
    DiagnosticAck,
    DiagnosticNack,
    NodeType,
    PowerMode,
    FurtherAction,
    SyncStatus,
}

impl Codes {
    /// Named values `(id, wire value)`, taken from the codec's open enums (one vocabulary).
    pub fn named(self) -> Vec<(&'static str, u8)> {
        fn list<T: Copy>(
            named: &[T],
            id: fn(T) -> Option<&'static str>,
            raw: fn(T) -> u8,
        ) -> Vec<(&'static str, u8)> {
            named.iter().filter_map(|&c| id(c).map(|n| (n, raw(c)))).collect()
        }
        use crate::codec::doip::codes::*;
        match self {
            Codes::GenericNack => {
                list(GenericNackCode::NAMED, GenericNackCode::id, GenericNackCode::raw)
            }
            Codes::ActivationType => {
                list(ActivationType::NAMED, ActivationType::id, ActivationType::raw)
            }
            Codes::RoutingActivationResponse => list(
                RoutingActivationResponseCode::NAMED,
                RoutingActivationResponseCode::id,
                RoutingActivationResponseCode::raw,
            ),
            Codes::DiagnosticAck => {
                list(DiagnosticAckCode::NAMED, DiagnosticAckCode::id, DiagnosticAckCode::raw)
            }
            Codes::DiagnosticNack => {
                list(DiagnosticNackCode::NAMED, DiagnosticNackCode::id, DiagnosticNackCode::raw)
            }
            Codes::NodeType => list(NodeType::NAMED, NodeType::id, NodeType::raw),
            Codes::PowerMode => list(PowerMode::NAMED, PowerMode::id, PowerMode::raw),
            Codes::FurtherAction => {
                list(FurtherAction::NAMED, FurtherAction::id, FurtherAction::raw)
            }
            Codes::SyncStatus => list(SyncStatus::NAMED, SyncStatus::id, SyncStatus::raw),
        }
    }

    pub fn value_of(self, name: &str) -> Option<u8> {
        self.named().iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }

    pub fn name_of(self, value: u8) -> Option<&'static str> {
        self.named().iter().find(|(_, v)| *v == value).map(|&(n, _)| n)
    }
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    pub codes: Option<Codes>,
    /// May be absent on the wire (an optional trailing field).
    pub optional: bool,
    /// What `send` uses when the suite leaves the field out (an expression, usually from the
    /// profile); `None` means the suite must write it, unless `optional`.
    pub default: Option<&'static str>,
}

const fn f(name: &'static str, ty: FieldType, default: Option<&'static str>) -> FieldSpec {
    FieldSpec { name, ty, codes: None, optional: false, default }
}

const fn code(name: &'static str, codes: Codes, default: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        ty: FieldType::U8,
        codes: Some(codes),
        optional: false,
        default: Some(default),
    }
}

const fn opt(mut s: FieldSpec) -> FieldSpec {
    s.optional = true;
    s
}

/// Whether a message travels on TCP, UDP or both (ISO 13400-2:2019 Table 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Tcp,
    Udp,
    Both,
}

/// One message kind.
#[derive(Debug, Clone, Copy)]
pub struct MessageSpec {
    /// The codec's payload type id.
    pub name: &'static str,
    pub payload_type: u16,
    pub carrier: Carrier,
    pub fields: &'static [FieldSpec],
}

impl MessageSpec {
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const TESTER: Option<&str> = Some("${profile.tester_address}");
const ENTITY: Option<&str> = Some("${profile.entity_address}");
/// Who UDS requests go to and who acknowledges and answers them (`uds.target_address`: the
/// entity itself unless the profile names an ECU behind it).
const UDS_TARGET: Option<&str> = Some("${profile.uds.target_address}");
const ZERO: Option<&str> = Some("0");

/// Every message a suite can name.
pub const MESSAGES: &[MessageSpec] = &[
    MessageSpec {
        name: "generic_nack",
        payload_type: 0x0000,
        carrier: Carrier::Both,
        fields: &[code("nack_code", Codes::GenericNack, "incorrect_pattern_format")],
    },
    MessageSpec {
        name: "vehicle_identification_request",
        payload_type: 0x0001,
        carrier: Carrier::Udp,
        fields: &[],
    },
    MessageSpec {
        name: "vehicle_identification_request_with_eid",
        payload_type: 0x0002,
        carrier: Carrier::Udp,
        fields: &[f("eid", FieldType::Bytes(Some(6)), Some("${profile.eid}"))],
    },
    MessageSpec {
        name: "vehicle_identification_request_with_vin",
        payload_type: 0x0003,
        carrier: Carrier::Udp,
        fields: &[f("vin", FieldType::Vin, Some("${profile.vin}"))],
    },
    MessageSpec {
        name: "vehicle_announcement",
        payload_type: 0x0004,
        carrier: Carrier::Udp,
        fields: &[
            f("vin", FieldType::Vin, Some("${profile.vin}")),
            f("logical_address", FieldType::U16, ENTITY),
            f("eid", FieldType::Bytes(Some(6)), Some("${profile.eid}")),
            f("gid", FieldType::Bytes(Some(6)), Some("${profile.gid}")),
            code("further_action", Codes::FurtherAction, "no_further_action"),
            opt(FieldSpec {
                name: "sync_status",
                ty: FieldType::U8,
                codes: Some(Codes::SyncStatus),
                optional: true,
                default: None,
            }),
        ],
    },
    MessageSpec {
        name: "routing_activation_request",
        payload_type: 0x0005,
        carrier: Carrier::Tcp,
        fields: &[
            f("source_address", FieldType::U16, TESTER),
            code("activation_type", Codes::ActivationType, "default"),
            f("reserved_iso", FieldType::U32, ZERO),
            opt(f("oem_specific", FieldType::U32, None)),
        ],
    },
    MessageSpec {
        name: "routing_activation_response",
        payload_type: 0x0006,
        carrier: Carrier::Tcp,
        fields: &[
            f("tester_logical_address", FieldType::U16, TESTER),
            f("entity_logical_address", FieldType::U16, ENTITY),
            code("response_code", Codes::RoutingActivationResponse, "successfully_activated"),
            f("reserved_iso", FieldType::U32, ZERO),
            opt(f("oem_specific", FieldType::U32, None)),
        ],
    },
    MessageSpec {
        name: "alive_check_request",
        payload_type: 0x0007,
        carrier: Carrier::Tcp,
        fields: &[],
    },
    MessageSpec {
        name: "alive_check_response",
        payload_type: 0x0008,
        carrier: Carrier::Tcp,
        fields: &[f("source_address", FieldType::U16, TESTER)],
    },
    MessageSpec {
        name: "entity_status_request",
        payload_type: 0x4001,
        carrier: Carrier::Udp,
        fields: &[],
    },
    MessageSpec {
        name: "entity_status_response",
        payload_type: 0x4002,
        carrier: Carrier::Udp,
        fields: &[
            code("node_type", Codes::NodeType, "gateway"),
            f("max_concurrent_sockets", FieldType::U8, Some("${profile.max_sockets}")),
            f("currently_open_sockets", FieldType::U8, ZERO),
            opt(f("max_data_size", FieldType::U32, None)),
        ],
    },
    MessageSpec {
        name: "power_mode_information_request",
        payload_type: 0x4003,
        carrier: Carrier::Udp,
        fields: &[],
    },
    MessageSpec {
        name: "power_mode_information_response",
        payload_type: 0x4004,
        carrier: Carrier::Udp,
        fields: &[code("power_mode", Codes::PowerMode, "ready")],
    },
    MessageSpec {
        name: "diagnostic_message",
        payload_type: 0x8001,
        carrier: Carrier::Tcp,
        fields: &[
            f("source_address", FieldType::U16, TESTER),
            f("target_address", FieldType::U16, UDS_TARGET),
            f("user_data", FieldType::Bytes(None), None),
        ],
    },
    MessageSpec {
        name: "diagnostic_message_ack",
        payload_type: 0x8002,
        carrier: Carrier::Tcp,
        fields: &[
            f("source_address", FieldType::U16, UDS_TARGET),
            f("target_address", FieldType::U16, TESTER),
            code("ack_code", Codes::DiagnosticAck, "acknowledged"),
            opt(f("previous_diagnostic_message", FieldType::Bytes(None), None)),
        ],
    },
    MessageSpec {
        name: "diagnostic_message_nack",
        payload_type: 0x8003,
        carrier: Carrier::Tcp,
        fields: &[
            f("source_address", FieldType::U16, UDS_TARGET),
            f("target_address", FieldType::U16, TESTER),
            code("nack_code", Codes::DiagnosticNack, "unknown_target_address"),
            opt(f("previous_diagnostic_message", FieldType::Bytes(None), None)),
        ],
    },
];

/// The message named `name`.
pub fn message(name: &str) -> Option<&'static MessageSpec> {
    MESSAGES.iter().find(|m| m.name == name)
}

/// The message for a payload type.
pub fn message_for_type(payload_type: u16) -> Option<&'static MessageSpec> {
    MESSAGES.iter().find(|m| m.payload_type == payload_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types_are_unique() {
        for (i, a) in MESSAGES.iter().enumerate() {
            for b in &MESSAGES[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.payload_type, b.payload_type);
            }
        }
        assert_eq!(message_for_type(0x8001).map(|m| m.name), Some("diagnostic_message"));
    }

    #[test]
    fn code_names_round_trip() {
        assert_eq!(Codes::RoutingActivationResponse.value_of("successfully_activated"), Some(0x10));
        assert_eq!(Codes::GenericNack.name_of(0x04), Some("invalid_payload_length"));
        assert_eq!(Codes::PowerMode.value_of("nope"), None);
    }
}
