//! Diagnostic messages (TCP): 0x8001 message, 0x8002 positive and 0x8003 negative
//! acknowledge.
//!
//! ```text
//! 0x8001: SA(2) TA(2) user data(>= 1)
//! 0x8002: SA(2) TA(2) ACK code(1)  [previous diagnostic message (any length)]
//! 0x8003: SA(2) TA(2) NACK code(1) [previous diagnostic message (any length)]
//! ```
//! Byte fields borrow from the parsed input ([`Cow::Borrowed`]), so parsing never allocates;
//! build values with owned bytes and call `into_owned` to keep a parsed one.
//!
//! May import: `crate::codec`.

use super::{
    DiagnosticAckCode, DiagnosticNackCode, Error, PayloadType, check_payload_len, fmt_hex, u16_at,
};
use core::fmt;
use std::borrow::Cow;

/// Payload type 0x8001.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiagnosticMessage<'a> {
    /// Sender's logical address.
    pub source_address: u16,
    /// Receiver's logical address.
    pub target_address: u16,
    /// The UDS request or response (at least one byte on the wire).
    pub user_data: Cow<'a, [u8]>,
}

impl<'a> DiagnosticMessage<'a> {
    /// Minimum payload length.
    pub const MIN_LEN: usize = 5;

    /// A message with the given user data (borrowed or owned).
    pub fn new(
        source_address: u16,
        target_address: u16,
        user_data: impl Into<Cow<'a, [u8]>>,
    ) -> Self {
        Self { source_address, target_address, user_data: user_data.into() }
    }

    /// Parses the payload, borrowing the user data.
    #[inline]
    pub fn parse(payload: &'a [u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::DiagnosticMessage, payload)?;
        Ok(Self {
            source_address: u16_at(payload, 0),
            target_address: u16_at(payload, 2),
            user_data: Cow::Borrowed(&payload[4..]),
        })
    }

    /// Payload length.
    pub fn payload_len(&self) -> usize {
        4 + self.user_data.len()
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source_address.to_be_bytes());
        out.extend_from_slice(&self.target_address.to_be_bytes());
        out.extend_from_slice(&self.user_data);
    }

    /// The same message owning its bytes.
    pub fn into_owned(self) -> DiagnosticMessage<'static> {
        DiagnosticMessage { user_data: Cow::Owned(self.user_data.into_owned()), ..self }
    }
}

impl fmt::Display for DiagnosticMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Diagnostic message 0x{:04X} -> 0x{:04X}, {} bytes: {}",
            self.source_address,
            self.target_address,
            self.user_data.len(),
            fmt_hex(&self.user_data)
        )
    }
}

/// Payload type 0x8002.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiagnosticMessageAck<'a> {
    /// The entity's (or ECU's) logical address.
    pub source_address: u16,
    /// The tester's logical address.
    pub target_address: u16,
    /// ACK code (0x00).
    pub ack_code: DiagnosticAckCode,
    /// Optional copy of (the start of) the acknowledged message; empty when absent.
    pub previous_diagnostic_message: Cow<'a, [u8]>,
}

impl<'a> DiagnosticMessageAck<'a> {
    /// Minimum payload length.
    pub const MIN_LEN: usize = 5;

    /// Parses the payload, borrowing the previous diagnostic message.
    pub fn parse(payload: &'a [u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::DiagnosticMessageAck, payload)?;
        Ok(Self {
            source_address: u16_at(payload, 0),
            target_address: u16_at(payload, 2),
            ack_code: DiagnosticAckCode::from_raw(payload[4]),
            previous_diagnostic_message: Cow::Borrowed(&payload[5..]),
        })
    }

    /// Payload length.
    pub fn payload_len(&self) -> usize {
        5 + self.previous_diagnostic_message.len()
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source_address.to_be_bytes());
        out.extend_from_slice(&self.target_address.to_be_bytes());
        out.push(self.ack_code.raw());
        out.extend_from_slice(&self.previous_diagnostic_message);
    }

    /// The same message owning its bytes.
    pub fn into_owned(self) -> DiagnosticMessageAck<'static> {
        DiagnosticMessageAck {
            previous_diagnostic_message: Cow::Owned(self.previous_diagnostic_message.into_owned()),
            ..self
        }
    }
}

impl fmt::Display for DiagnosticMessageAck<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Diagnostic message ACK 0x{:04X} -> 0x{:04X}: {} (0x{:02X})",
            self.source_address,
            self.target_address,
            self.ack_code,
            self.ack_code.raw()
        )?;
        if !self.previous_diagnostic_message.is_empty() {
            write!(f, ", previous: {}", fmt_hex(&self.previous_diagnostic_message))?;
        }
        Ok(())
    }
}

/// Payload type 0x8003.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiagnosticMessageNack<'a> {
    /// The entity's (or ECU's) logical address.
    pub source_address: u16,
    /// The tester's logical address.
    pub target_address: u16,
    /// NACK code.
    pub nack_code: DiagnosticNackCode,
    /// Optional copy of (the start of) the rejected message; empty when absent.
    pub previous_diagnostic_message: Cow<'a, [u8]>,
}

impl<'a> DiagnosticMessageNack<'a> {
    /// Minimum payload length.
    pub const MIN_LEN: usize = 5;

    /// Parses the payload, borrowing the previous diagnostic message.
    pub fn parse(payload: &'a [u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::DiagnosticMessageNack, payload)?;
        Ok(Self {
            source_address: u16_at(payload, 0),
            target_address: u16_at(payload, 2),
            nack_code: DiagnosticNackCode::from_raw(payload[4]),
            previous_diagnostic_message: Cow::Borrowed(&payload[5..]),
        })
    }

    /// Payload length.
    pub fn payload_len(&self) -> usize {
        5 + self.previous_diagnostic_message.len()
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source_address.to_be_bytes());
        out.extend_from_slice(&self.target_address.to_be_bytes());
        out.push(self.nack_code.raw());
        out.extend_from_slice(&self.previous_diagnostic_message);
    }

    /// The same message owning its bytes.
    pub fn into_owned(self) -> DiagnosticMessageNack<'static> {
        DiagnosticMessageNack {
            previous_diagnostic_message: Cow::Owned(self.previous_diagnostic_message.into_owned()),
            ..self
        }
    }
}

impl fmt::Display for DiagnosticMessageNack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Diagnostic message NACK 0x{:04X} -> 0x{:04X}: {} (0x{:02X})",
            self.source_address,
            self.target_address,
            self.nack_code,
            self.nack_code.raw()
        )?;
        if !self.previous_diagnostic_message.is_empty() {
            write!(f, ", previous: {}", fmt_hex(&self.previous_diagnostic_message))?;
        }
        Ok(())
    }
}
