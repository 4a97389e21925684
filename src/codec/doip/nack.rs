//! Generic DoIP header negative acknowledge, payload type 0x0000 (UDP and TCP): one byte,
//! the NACK code.
//!
//! May import: `crate::codec`.

use super::{
    Error, GenericNackCode, Message, Payload, PayloadType, ProtocolVersion, check_payload_len,
};
use core::fmt;

/// Payload type 0x0000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GenericNack {
    /// Why the header was rejected.
    pub nack_code: GenericNackCode,
}

impl GenericNack {
    /// Payload length.
    pub const LEN: usize = 1;

    /// Parses the payload (the bytes after the header).
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::GenericNack, payload)?;
        Ok(GenericNack { nack_code: GenericNackCode::from_raw(payload[0]) })
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.nack_code.raw());
    }

    /// The NACK an entity answers a rejected header with (`None` when the rule has no NACK:
    /// an incomplete header).
    pub fn answering(error: &Error) -> Option<Self> {
        error.nack_code().map(|nack_code| GenericNack { nack_code })
    }

    /// The whole NACK message, sent as `version` (the entity's own protocol version).
    pub fn message(self, version: ProtocolVersion) -> Message<'static> {
        Message::new(version, Payload::GenericNack(self))
    }
}

impl fmt::Display for GenericNack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Generic header NACK: {} (0x{:02X})", self.nack_code, self.nack_code.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_header_is_answered_with_its_nack_message() {
        let error = Message::parse(&[0x02, 0x00, 0x00, 0x07, 0, 0, 0, 0]).unwrap_err();
        let nack = GenericNack::answering(&error).unwrap().message(ProtocolVersion::Iso2012);
        assert_eq!(nack.to_bytes(), [0x02, 0xFD, 0x00, 0x00, 0, 0, 0, 1, 0x00]);
        assert_eq!(GenericNack::answering(&Message::parse(&[2]).unwrap_err()), None);
    }
}
