//! Validation errors: which rule broke, in which field, at which byte offset of the message,
//! and which generic header NACK code an entity answers with (docs/protocol.md#header-handling:
//! pattern 0x00, unknown type 0x01, too large 0x02, invalid length
//! 0x04).
//!
//! May import: `crate::codec`.

use super::{GenericNackCode, LengthRule, PayloadType, Transport};
use core::fmt;

/// The field of a DoIP message an [`Error`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Header byte 0.
    ProtocolVersion,
    /// Header byte 1.
    InverseProtocolVersion,
    /// Header bytes 2-3.
    PayloadType,
    /// Header bytes 4-7.
    PayloadLength,
    /// The bytes after the header.
    Payload,
}

impl Field {
    /// snake_case name, as in `--json` output.
    pub const fn id(self) -> &'static str {
        match self {
            Field::ProtocolVersion => "protocol_version",
            Field::InverseProtocolVersion => "inverse_protocol_version",
            Field::PayloadType => "payload_type",
            Field::PayloadLength => "payload_length",
            Field::Payload => "payload",
        }
    }

    /// Offset of the field from the start of the message.
    pub const fn offset(self) -> usize {
        match self {
            Field::ProtocolVersion => 0,
            Field::InverseProtocolVersion => 1,
            Field::PayloadType => 2,
            Field::PayloadLength => 4,
            Field::Payload => 8,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A rule of ISO 13400-2:2019 that a message broke, with the values that broke it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Rule {
    /// Fewer than the 8 header bytes are present.
    #[error("a DoIP header is 8 bytes, only {available} present")]
    IncompleteHeader {
        /// Bytes present.
        available: usize,
    },
    /// Inverse protocol version is not version XOR 0xFF.
    #[error(
        "inverse protocol version 0x{inverse:02X} is not the inverse of version 0x{version:02X}"
    )]
    InverseVersionMismatch {
        /// Header byte 0.
        version: u8,
        /// Header byte 1.
        inverse: u8,
    },
    /// The protocol version is none of 0x01-0x04 and 0xFF.
    #[error("protocol version 0x{version:02X} is not supported")]
    UnsupportedVersion {
        /// Header byte 0.
        version: u8,
    },
    /// Version 0xFF ("default") on a type other than the vehicle identification requests.
    #[error(
        "default protocol version 0xFF is allowed only on payload types 0x0001-0x0003, not on 0x{:04X}",
        payload_type.raw()
    )]
    DefaultVersionNotAllowed {
        /// The payload type that carried it.
        payload_type: PayloadType,
    },
    /// A payload type this codec does not know (reserved or VM-specific).
    #[error("payload type 0x{:04X} is unknown", payload_type.raw())]
    UnknownPayloadType {
        /// The type.
        payload_type: PayloadType,
    },
    /// A known payload type on the transport it does not belong on.
    #[error("payload type 0x{:04X} ({payload_type}) does not belong on {transport}", payload_type.raw())]
    WrongTransport {
        /// The type.
        payload_type: PayloadType,
        /// Where it arrived.
        transport: Transport,
    },
    /// The declared payload length is above what the receiver can ever process.
    #[error("payload length {length} exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Declared payload length.
        length: u32,
        /// The receiver's limit.
        limit: u32,
    },
    /// The declared payload length is wrong for the payload type.
    #[error(
        "payload length {length} is invalid for payload type 0x{:04X}: must be {expected}",
        payload_type.raw()
    )]
    InvalidPayloadLength {
        /// The type.
        payload_type: PayloadType,
        /// Declared payload length.
        length: u32,
        /// What the type allows.
        expected: LengthRule,
    },
    /// The input ends before the declared payload length.
    #[error("payload length {length} declared, only {available} payload bytes present")]
    IncompletePayload {
        /// Declared payload length.
        length: u32,
        /// Payload bytes present.
        available: usize,
    },
    /// Bytes follow the declared payload (a datagram or a hex line holds more than one
    /// message's worth).
    #[error("the input holds {extra} more byte(s) than the declared payload length")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

impl Rule {
    /// Stable snake_case id of the rule (JSON, suites, reports).
    pub const fn id(&self) -> &'static str {
        match self {
            Rule::IncompleteHeader { .. } => "incomplete_header",
            Rule::InverseVersionMismatch { .. } => "inverse_version_mismatch",
            Rule::UnsupportedVersion { .. } => "unsupported_version",
            Rule::DefaultVersionNotAllowed { .. } => "default_version_not_allowed",
            Rule::UnknownPayloadType { .. } => "unknown_payload_type",
            Rule::WrongTransport { .. } => "wrong_transport",
            Rule::MessageTooLarge { .. } => "message_too_large",
            Rule::InvalidPayloadLength { .. } => "invalid_payload_length",
            Rule::IncompletePayload { .. } => "incomplete_payload",
            Rule::TrailingBytes { .. } => "trailing_bytes",
        }
    }

    /// The generic header NACK code an entity answers with. `None` for an incomplete header:
    /// on TCP the entity waits for more bytes, on UDP it discards the datagram.
    pub const fn nack_code(&self) -> Option<GenericNackCode> {
        Some(match self {
            Rule::IncompleteHeader { .. } => return None,
            Rule::InverseVersionMismatch { .. }
            | Rule::UnsupportedVersion { .. }
            | Rule::DefaultVersionNotAllowed { .. } => GenericNackCode::IncorrectPatternFormat,
            Rule::UnknownPayloadType { .. } | Rule::WrongTransport { .. } => {
                GenericNackCode::UnknownPayloadType
            }
            Rule::MessageTooLarge { .. } => GenericNackCode::MessageTooLarge,
            Rule::InvalidPayloadLength { .. }
            | Rule::IncompletePayload { .. }
            | Rule::TrailingBytes { .. } => GenericNackCode::InvalidPayloadLength,
        })
    }

    /// Whether an entity closes the TCP socket after the NACK (pattern and length errors) or
    /// discards the message and keeps it open (unknown type, too large: skip exactly the
    /// declared length). On UDP the datagram is discarded either way.
    pub const fn closes_tcp_socket(&self) -> bool {
        match self.nack_code() {
            Some(code) => code.closes_tcp_socket(),
            None => false,
        }
    }
}

/// A DoIP message broke a rule: which, in which field, at which offset of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{rule} ({field} at offset {offset})")]
pub struct Error {
    /// The rule and the values that broke it.
    pub rule: Rule,
    /// The field that broke it.
    pub field: Field,
    /// Byte offset of that field from the start of the message.
    pub offset: usize,
}

impl Error {
    /// An error about `field`, located at the field's offset.
    pub const fn at(field: Field, rule: Rule) -> Self {
        Error { rule, field, offset: field.offset() }
    }

    /// See [`Rule::nack_code`].
    pub const fn nack_code(&self) -> Option<GenericNackCode> {
        self.rule.nack_code()
    }

    /// See [`Rule::closes_tcp_socket`].
    pub const fn closes_tcp_socket(&self) -> bool {
        self.rule.closes_tcp_socket()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_errors_are_nacked_with_0x00_and_close_the_socket() {
        let e = Error::at(
            Field::InverseProtocolVersion,
            Rule::InverseVersionMismatch { version: 2, inverse: 0 },
        );
        assert_eq!(e.nack_code(), Some(GenericNackCode::IncorrectPatternFormat));
        assert!(e.closes_tcp_socket());
        assert_eq!(e.offset, 1);
        assert_eq!(
            e.to_string(),
            "inverse protocol version 0x00 is not the inverse of version 0x02 \
             (inverse_protocol_version at offset 1)"
        );
    }

    #[test]
    fn too_large_is_nacked_with_0x02_and_keeps_the_socket() {
        let rule = Rule::MessageTooLarge { length: 5000, limit: 4096 };
        assert_eq!(rule.nack_code(), Some(GenericNackCode::MessageTooLarge));
        assert!(!rule.closes_tcp_socket());
    }

    #[test]
    fn unknown_type_is_nacked_with_0x01_and_keeps_the_socket() {
        let rule = Rule::UnknownPayloadType { payload_type: PayloadType::from_raw(9) };
        assert_eq!(rule.nack_code(), Some(GenericNackCode::UnknownPayloadType));
        assert!(!rule.closes_tcp_socket());
    }

    #[test]
    fn an_incomplete_header_has_no_nack() {
        assert_eq!(Rule::IncompleteHeader { available: 3 }.nack_code(), None);
    }
}
