//! Every field of a message by name, in wire order: one description that human output,
//! `--json` and field matchers can all walk, so no printer forgets a field.
//!
//! Names are snake_case and match the struct fields (and the suite format). Optional fields
//! that are absent are listed as [`FieldValue::Absent`].
//!
//! May import: `crate::codec`.

use super::{Header, HeaderView, Payload};

/// The value of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// A count or size.
    Number(u64),
    /// A number shown in hex of the given width in bytes (addresses, reserved fields, types).
    Hex(u64, u8),
    /// A code: its raw value, width in bytes, and snake_case id / description when named.
    Code {
        /// Wire value.
        raw: u64,
        /// Width in bytes.
        width: u8,
        /// Stable id, `None` for an unnamed value.
        id: Option<&'static str>,
        /// The standard's name, `None` for an unnamed value.
        description: Option<&'static str>,
    },
    /// Raw bytes (user data, EID, GID, unknown payloads).
    Bytes(&'a [u8]),
    /// A VIN: shown as text when printable ASCII.
    Vin(&'a [u8; 17]),
    /// An optional field that is not present.
    Absent,
}

/// A field name and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedField<'a> {
    /// snake_case name.
    pub name: &'static str,
    /// The value.
    pub value: FieldValue<'a>,
}

macro_rules! code {
    ($value:expr, $width:expr) => {{
        let v = $value;
        FieldValue::Code {
            raw: u64::from(v.raw()),
            width: $width,
            id: v.id(),
            description: v.description(),
        }
    }};
}

fn field<'a>(name: &'static str, value: FieldValue<'a>) -> NamedField<'a> {
    NamedField { name, value }
}

fn addr(a: u16) -> FieldValue<'static> {
    FieldValue::Hex(u64::from(a), 2)
}

fn opt_u32(v: Option<u32>, hex: bool) -> FieldValue<'static> {
    match v {
        None => FieldValue::Absent,
        Some(v) if hex => FieldValue::Hex(u64::from(v), 4),
        Some(v) => FieldValue::Number(u64::from(v)),
    }
}

/// The four header fields as sent (from a view: valid or not).
pub fn header_fields<T: AsRef<[u8]>>(view: &HeaderView<T>) -> [NamedField<'static>; 4] {
    [
        field("protocol_version", code!(view.protocol_version(), 1)),
        field(
            "inverse_protocol_version",
            FieldValue::Hex(u64::from(view.inverse_protocol_version()), 1),
        ),
        field("payload_type", code!(view.payload_type(), 2)),
        field("payload_length", FieldValue::Number(u64::from(view.payload_length()))),
    ]
}

/// The header fields of a validated header.
pub fn validated_header_fields(header: &Header) -> [NamedField<'static>; 4] {
    let bytes = header.to_bytes();
    match HeaderView::new(&bytes[..]) {
        Ok(view) => header_fields(&view),
        Err(_) => [field("payload_length", FieldValue::Absent); 4],
    }
}

/// Every payload field, in wire order.
pub fn payload_fields<'p>(payload: &'p Payload<'_>) -> Vec<NamedField<'p>> {
    use FieldValue::*;
    match payload {
        Payload::GenericNack(m) => vec![field("nack_code", code!(m.nack_code, 1))],
        Payload::VehicleIdentificationRequest
        | Payload::AliveCheckRequest
        | Payload::EntityStatusRequest
        | Payload::PowerModeInformationRequest => Vec::new(),
        Payload::VehicleIdentificationRequestWithEid(m) => vec![field("eid", Bytes(&m.eid))],
        Payload::VehicleIdentificationRequestWithVin(m) => vec![field("vin", Vin(&m.vin))],
        Payload::VehicleAnnouncement(m) => vec![
            field("vin", Vin(&m.vin)),
            field("logical_address", addr(m.logical_address)),
            field("eid", Bytes(&m.eid)),
            field("gid", Bytes(&m.gid)),
            field("further_action", code!(m.further_action, 1)),
            field(
                "sync_status",
                match m.sync_status {
                    Some(s) => code!(s, 1),
                    None => Absent,
                },
            ),
        ],
        Payload::RoutingActivationRequest(m) => vec![
            field("source_address", addr(m.source_address)),
            field("activation_type", code!(m.activation_type, 1)),
            field("reserved_iso", Hex(u64::from(m.reserved_iso), 4)),
            field("oem_specific", opt_u32(m.oem_specific, true)),
        ],
        Payload::RoutingActivationResponse(m) => vec![
            field("tester_logical_address", addr(m.tester_logical_address)),
            field("entity_logical_address", addr(m.entity_logical_address)),
            field("response_code", code!(m.response_code, 1)),
            field("reserved_iso", Hex(u64::from(m.reserved_iso), 4)),
            field("oem_specific", opt_u32(m.oem_specific, true)),
        ],
        Payload::AliveCheckResponse(m) => vec![field("source_address", addr(m.source_address))],
        Payload::EntityStatusResponse(m) => vec![
            field("node_type", code!(m.node_type, 1)),
            field("max_concurrent_sockets", Number(u64::from(m.max_concurrent_sockets))),
            field("currently_open_sockets", Number(u64::from(m.currently_open_sockets))),
            field("max_data_size", opt_u32(m.max_data_size, false)),
        ],
        Payload::PowerModeInformationResponse(m) => {
            vec![field("power_mode", code!(m.power_mode, 1))]
        }
        Payload::DiagnosticMessage(m) => vec![
            field("source_address", addr(m.source_address)),
            field("target_address", addr(m.target_address)),
            field("user_data", Bytes(&m.user_data)),
        ],
        Payload::DiagnosticMessageAck(m) => vec![
            field("source_address", addr(m.source_address)),
            field("target_address", addr(m.target_address)),
            field("ack_code", code!(m.ack_code, 1)),
            field("previous_diagnostic_message", prev(&m.previous_diagnostic_message)),
        ],
        Payload::DiagnosticMessageNack(m) => vec![
            field("source_address", addr(m.source_address)),
            field("target_address", addr(m.target_address)),
            field("nack_code", code!(m.nack_code, 1)),
            field("previous_diagnostic_message", prev(&m.previous_diagnostic_message)),
        ],
        Payload::Unknown(_, bytes) => vec![field("payload", Bytes(bytes))],
    }
}

fn prev(bytes: &[u8]) -> FieldValue<'_> {
    if bytes.is_empty() { FieldValue::Absent } else { FieldValue::Bytes(bytes) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::doip::{Message, RoutingActivationRequest};

    #[test]
    fn absent_optional_fields_are_listed_as_absent() {
        let p = Payload::RoutingActivationRequest(RoutingActivationRequest::new(
            0x0E00,
            crate::codec::doip::ActivationType::Default,
        ));
        let fields = payload_fields(&p);
        let names: Vec<_> = fields.iter().map(|f| f.name).collect();
        assert_eq!(names, ["source_address", "activation_type", "reserved_iso", "oem_specific"]);
        assert_eq!(fields[3].value, FieldValue::Absent);
    }

    #[test]
    fn header_fields_read_an_invalid_header() {
        let view = HeaderView::new(&[0x07u8, 0x00, 0x12, 0x34, 0, 0, 0, 1][..]).unwrap();
        let f = header_fields(&view);
        assert_eq!(f[0].value, FieldValue::Code { raw: 7, width: 1, id: None, description: None });
        assert_eq!(f[3].value, FieldValue::Number(1));
        let m = Message::parse(&[0x02, 0xFD, 0, 7, 0, 0, 0, 0]).unwrap();
        assert_eq!(validated_header_fields(&m.header())[1].value, FieldValue::Hex(0xFD, 1));
    }
}
