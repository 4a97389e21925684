//! Every DoIP code as an open enum: generic header NACK, activation type, routing activation
//! response, diagnostic ACK/NACK, node type, power mode, further action, VIN/GID sync status. Names
//! follow docs/protocol.md (ISO 13400-2:2019). Unnamed values are `Unknown(raw)`; each enum has
//! `from_raw`, `raw`, `id` (snake_case), `description` and `From` both ways.
//!
//! May import: `crate::codec`.

use crate::codec::open_enum::open_enum;

open_enum! {
    /// Generic DoIP header negative acknowledge code (payload of type 0x0000),
    /// (ISO 13400-2:2019).
    pub enum GenericNackCode: u8 {
        /// Wrong version or inverse version: TCP socket is closed.
        IncorrectPatternFormat = 0x00, "incorrect_pattern_format", "incorrect pattern format",
        /// The payload type is unknown or unsupported: message discarded.
        UnknownPayloadType = 0x01, "unknown_payload_type", "unknown payload type",
        /// The length exceeds what the entity can ever process.
        MessageTooLarge = 0x02, "message_too_large", "message too large",
        /// The length exceeds what the entity can buffer now.
        OutOfMemory = 0x03, "out_of_memory", "out of memory",
        /// The length is wrong for the payload type: TCP socket is closed.
        InvalidPayloadLength = 0x04, "invalid_payload_length", "invalid payload length",
    }
}

open_enum! {
    /// Routing activation type (routing activation request) (ISO 13400-2:2019).
    /// 0x02-0xDF reserved, 0xE1-0xFF OEM-specific.
    pub enum ActivationType: u8 {
        /// Default activation.
        Default = 0x00, "default", "default",
        /// WWH-OBD (regulation).
        WwhObd = 0x01, "wwh_obd", "WWH-OBD",
        /// Central security (python-doipclient wrongly uses 0xE1).
        CentralSecurity = 0xE0, "central_security", "central security",
    }
}

open_enum! {
    /// Routing activation response code (ISO 13400-2:2019). 0x08-0x0F reserved,
    /// 0xE0-0xFE VM-specific.
    pub enum RoutingActivationResponseCode: u8 {
        /// Denied: unknown source address.
        UnknownSourceAddress = 0x00, "unknown_source_address",
            "denied: unknown source address",
        /// Denied: all sockets registered and active.
        AllSocketsRegistered = 0x01, "all_sockets_registered",
            "denied: all sockets registered and active",
        /// Denied: SA differs from the one already activated on this socket.
        DifferentSourceAddress = 0x02, "different_source_address",
            "denied: SA differs from the one already activated on this socket",
        /// Denied: SA already registered and active on a different socket.
        SourceAddressAlreadyActive = 0x03, "source_address_already_active",
            "denied: SA already registered and active on a different socket",
        /// Denied: missing authentication.
        MissingAuthentication = 0x04, "missing_authentication", "denied: missing authentication",
        /// Denied: rejected confirmation.
        RejectedConfirmation = 0x05, "rejected_confirmation", "denied: rejected confirmation",
        /// Denied: unsupported activation type.
        UnsupportedActivationType = 0x06, "unsupported_activation_type",
            "denied: unsupported activation type",
        /// Denied: activation type requires TLS (2019).
        TlsRequired = 0x07, "tls_required", "denied: activation type requires TLS",
        /// Routing successfully activated.
        SuccessfullyActivated = 0x10, "successfully_activated", "routing successfully activated",
        /// Routing will be activated; confirmation required.
        ConfirmationRequired = 0x11, "confirmation_required",
            "will be activated, confirmation required",
    }
}

impl GenericNackCode {
    /// Whether the entity closes the TCP socket after this NACK: incorrect pattern (0x00) and
    /// invalid payload length (0x04) close it, the others discard the message and keep it
    /// (ISO 13400-2:2019 §8.1.2, Table 19).
    pub const fn closes_tcp_socket(self) -> bool {
        matches!(
            self,
            GenericNackCode::IncorrectPatternFormat | GenericNackCode::InvalidPayloadLength
        )
    }
}

impl RoutingActivationResponseCode {
    /// Whether the entity closes the socket after sending this code (ISO 13400-2:2019 Table
    /// 25; docs/protocol.md): `None` for reserved and manufacturer codes.
    pub const fn closes_socket(self) -> Option<bool> {
        match self.raw() {
            0x00..=0x03 | 0x05 | 0x06 => Some(true),
            0x04 | 0x07 | 0x10 | 0x11 => Some(false),
            _ => None,
        }
    }
}

impl RoutingActivationResponseCode {
    /// Whether the code is defined: a named one, or a vehicle-manufacturer-specific one
    /// (0xE0-0xFE, ISO 13400-2:2019 Table 25); the rest is reserved.
    pub const fn is_defined(self) -> bool {
        self.is_named() || matches!(self.raw(), 0xE0..=0xFE)
    }
}

impl ActivationType {
    /// Whether the type is in the reserved range 0x02-0xDF (ISO 13400-2:2019 §9.3;
    /// 0xE1-0xFF are OEM-specific, not reserved; docs/protocol.md#routing-activation).
    pub const fn is_reserved(self) -> bool {
        matches!(self.raw(), 0x02..=0xDF)
    }
}

open_enum! {
    /// Diagnostic message positive acknowledge code (ISO 13400-2:2019).
    pub enum DiagnosticAckCode: u8 {
        /// Routing confirmation acknowledge.
        Acknowledged = 0x00, "acknowledged", "routing confirmation acknowledge",
    }
}

open_enum! {
    /// Diagnostic message negative acknowledge code (ISO 13400-2:2019).
    pub enum DiagnosticNackCode: u8 {
        /// Invalid source address.
        InvalidSourceAddress = 0x02, "invalid_source_address", "invalid source address",
        /// Unknown target address.
        UnknownTargetAddress = 0x03, "unknown_target_address", "unknown target address",
        /// Diagnostic message too large.
        DiagnosticMessageTooLarge = 0x04, "diagnostic_message_too_large",
            "diagnostic message too large",
        /// Out of memory.
        OutOfMemory = 0x05, "out_of_memory", "out of memory",
        /// Target unreachable.
        TargetUnreachable = 0x06, "target_unreachable", "target unreachable",
        /// Unknown network.
        UnknownNetwork = 0x07, "unknown_network", "unknown network",
        /// Transport protocol error.
        TransportProtocolError = 0x08, "transport_protocol_error", "transport protocol error",
    }
}

open_enum! {
    /// Node type (entity status response) (ISO 13400-2:2019).
    pub enum NodeType: u8 {
        /// DoIP gateway.
        Gateway = 0x00, "gateway", "DoIP gateway",
        /// DoIP node.
        Node = 0x01, "node", "DoIP node",
    }
}

open_enum! {
    /// Diagnostic power mode (power mode information response) (ISO 13400-2:2019).
    pub enum PowerMode: u8 {
        /// Not ready.
        NotReady = 0x00, "not_ready", "not ready",
        /// Ready.
        Ready = 0x01, "ready", "ready",
        /// Not supported.
        NotSupported = 0x02, "not_supported", "not supported",
    }
}

open_enum! {
    /// Further action required (vehicle announcement) (ISO 13400-2:2019).
    /// 0x11-0xFF VM-specific.
    pub enum FurtherAction: u8 {
        /// No further action required.
        NoFurtherAction = 0x00, "no_further_action", "no further action required",
        /// Routing activation required to initiate central security.
        RoutingActivationRequired = 0x10, "routing_activation_required",
            "routing activation required for central security",
    }
}

open_enum! {
    /// VIN/GID synchronisation status (optional last byte of the vehicle announcement),
    /// (ISO 13400-2:2019).
    pub enum SyncStatus: u8 {
        /// VIN and/or GID are synchronized.
        Synchronized = 0x00, "synchronized", "VIN/GID synchronized",
        /// Incomplete: VIN and/or GID are not synchronized.
        Incomplete = 0x10, "incomplete", "VIN/GID not synchronized",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_the_open_enum() {
        for raw in 0..=u8::MAX {
            assert_eq!(GenericNackCode::from(raw).raw(), raw);
            assert_eq!(RoutingActivationResponseCode::from(raw).raw(), raw);
            assert_eq!(u8::from(DiagnosticNackCode::from(raw)), raw);
        }
    }

    #[test]
    fn named_values_have_ids_that_parse_back() {
        for code in RoutingActivationResponseCode::NAMED {
            let id = code.id().unwrap();
            assert_eq!(RoutingActivationResponseCode::from_id(id), Some(*code));
        }
        assert_eq!(GenericNackCode::from_raw(0x02), GenericNackCode::MessageTooLarge);
        assert_eq!(GenericNackCode::from_raw(0x05), GenericNackCode::Unknown(0x05));
    }

    #[test]
    fn unnamed_values_display_their_raw_value() {
        assert_eq!(GenericNackCode::from_raw(0x05).to_string(), "unknown (0x05)");
        assert_eq!(GenericNackCode::from_raw(0x00).to_string(), "incorrect pattern format");
        // A hand-built Unknown holding a named value still reads as the named value.
        assert_eq!(GenericNackCode::Unknown(0x01).id(), Some("unknown_payload_type"));
    }

    #[test]
    fn routing_activation_codes_say_whether_the_socket_closes() {
        use RoutingActivationResponseCode::*;
        assert_eq!(SuccessfullyActivated.closes_socket(), Some(false));
        assert_eq!(MissingAuthentication.closes_socket(), Some(false));
        assert_eq!(UnknownSourceAddress.closes_socket(), Some(true));
        assert_eq!(from_raw(0xE0).closes_socket(), None);
    }

    fn from_raw(raw: u8) -> RoutingActivationResponseCode {
        RoutingActivationResponseCode::from_raw(raw)
    }
}
