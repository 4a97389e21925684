//! Payload types (ISO 13400-2:2019 generic header, payload type field) as an open enum, and the
//! payload length each type must declare.
//!
//! May import: `crate::codec`.

use crate::codec::open_enum::open_enum;
use core::fmt;

open_enum! {
    /// The 16 payload types of ISO 13400-2:2019; every other value is reserved or
    /// VM-specific and still representable as `Unknown(raw)`.
    pub enum PayloadType: u16 {
        /// 0x0000, UDP and TCP.
        GenericNack = 0x0000, "generic_nack", "generic DoIP header negative acknowledge",
        /// 0x0001, UDP.
        VehicleIdentificationRequest = 0x0001, "vehicle_identification_request",
            "vehicle identification request",
        /// 0x0002, UDP.
        VehicleIdentificationRequestWithEid = 0x0002, "vehicle_identification_request_with_eid",
            "vehicle identification request with EID",
        /// 0x0003, UDP.
        VehicleIdentificationRequestWithVin = 0x0003, "vehicle_identification_request_with_vin",
            "vehicle identification request with VIN",
        /// 0x0004, UDP.
        VehicleAnnouncement = 0x0004, "vehicle_announcement",
            "vehicle announcement / identification response",
        /// 0x0005, TCP.
        RoutingActivationRequest = 0x0005, "routing_activation_request",
            "routing activation request",
        /// 0x0006, TCP.
        RoutingActivationResponse = 0x0006, "routing_activation_response",
            "routing activation response",
        /// 0x0007, TCP.
        AliveCheckRequest = 0x0007, "alive_check_request", "alive check request",
        /// 0x0008, TCP.
        AliveCheckResponse = 0x0008, "alive_check_response", "alive check response",
        /// 0x4001, UDP.
        EntityStatusRequest = 0x4001, "entity_status_request", "DoIP entity status request",
        /// 0x4002, UDP.
        EntityStatusResponse = 0x4002, "entity_status_response", "DoIP entity status response",
        /// 0x4003, UDP.
        PowerModeInformationRequest = 0x4003, "power_mode_information_request",
            "diagnostic power mode information request",
        /// 0x4004, UDP.
        PowerModeInformationResponse = 0x4004, "power_mode_information_response",
            "diagnostic power mode information response",
        /// 0x8001, TCP.
        DiagnosticMessage = 0x8001, "diagnostic_message", "diagnostic message",
        /// 0x8002, TCP.
        DiagnosticMessageAck = 0x8002, "diagnostic_message_ack",
            "diagnostic message positive acknowledge",
        /// 0x8003, TCP.
        DiagnosticMessageNack = 0x8003, "diagnostic_message_nack",
            "diagnostic message negative acknowledge",
    }
}

impl PayloadType {
    /// The payload length this type must declare; `None` for an unknown type (any length).
    #[inline]
    pub const fn length_rule(self) -> Option<LengthRule> {
        length_rule_of(self.raw())
    }

    /// True for 0x0001-0x0003, the only types that may carry the default version 0xFF.
    pub const fn is_vehicle_identification_request(self) -> bool {
        matches!(self.raw(), 0x0001..=0x0003)
    }
}

/// The length rule of a raw payload type (docs/protocol.md#payload-types), matched on the wire
/// value so the header check on the parse path needs no enum round trip.
#[inline]
pub(crate) const fn length_rule_of(raw: u16) -> Option<LengthRule> {
    use LengthRule::*;
    Some(match raw {
        0x0000 => Exact(1), // generic NACK: the NACK code
        0x0001 => Exact(0),
        0x0002 => Exact(6),
        0x0003 => Exact(17),
        // Vehicle announcement: 33 with the VIN/GID sync status byte, 32 without.
        0x0004 => OneOf(32, 33),
        // Routing activation request / response: + 4 with the OEM-specific field.
        0x0005 => OneOf(7, 11),
        0x0006 => OneOf(9, 13),
        0x0007 => Exact(0),
        0x0008 => Exact(2),
        0x4001 => Exact(0),
        // Entity status response: 7 with the optional max data size.
        0x4002 => OneOf(3, 7),
        0x4003 => Exact(0),
        0x4004 => Exact(1),
        // Diagnostic message / ACK / NACK: SA(2) TA(2) and at least one byte.
        0x8001..=0x8003 => AtLeast(5),
        _ => return None,
    })
}

/// The payload lengths a payload type allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LengthRule {
    /// Exactly this many bytes.
    Exact(u32),
    /// One of two lengths: without and with an optional field.
    OneOf(u32, u32),
    /// At least this many bytes.
    AtLeast(u32),
}

impl LengthRule {
    /// True when `length` satisfies the rule.
    #[inline]
    pub const fn allows(self, length: u32) -> bool {
        match self {
            LengthRule::Exact(n) => length == n,
            LengthRule::OneOf(a, b) => length == a || length == b,
            LengthRule::AtLeast(n) => length >= n,
        }
    }
}

impl fmt::Display for LengthRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LengthRule::Exact(n) => write!(f, "{n}"),
            LengthRule::OneOf(a, b) => write!(f, "{a} or {b}"),
            LengthRule::AtLeast(n) => write!(f, "at least {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_sixteen_payload_types_are_named() {
        assert_eq!(PayloadType::NAMED.len(), 16);
        for t in PayloadType::NAMED {
            assert!(t.length_rule().is_some(), "{t}");
        }
    }

    #[test]
    fn exactly_the_named_types_have_a_length_rule() {
        for raw in 0..=u16::MAX {
            assert_eq!(
                length_rule_of(raw).is_some(),
                PayloadType::from_raw(raw).is_named(),
                "{raw:#06x}"
            );
        }
    }

    #[test]
    fn reserved_payload_types_have_no_length_rule() {
        assert_eq!(PayloadType::from_raw(0x0009).length_rule(), None);
        assert_eq!(PayloadType::from_raw(0xFFFF), PayloadType::Unknown(0xFFFF));
    }

    #[test]
    fn optional_fields_allow_two_lengths() {
        let rule = PayloadType::RoutingActivationRequest.length_rule().unwrap();
        assert!(rule.allows(7) && rule.allows(11) && !rule.allows(8));
        assert_eq!(rule.to_string(), "7 or 11");
        assert!(LengthRule::AtLeast(5).allows(u32::MAX));
    }

    #[test]
    fn only_types_1_to_3_are_vehicle_identification_requests() {
        assert!(!PayloadType::GenericNack.is_vehicle_identification_request());
        assert!(
            PayloadType::VehicleIdentificationRequestWithVin.is_vehicle_identification_request()
        );
        assert!(!PayloadType::VehicleAnnouncement.is_vehicle_identification_request());
    }
}
