//! Alive check (TCP): request 0x0007 (empty) and response 0x0008 (the tester's source
//! address). A tester may send the response unprompted to keep an idle socket open
//! (ISO 13400-2:2025 §9.6, docs/protocol.md#alive-check).
//!
//! May import: `crate::codec`.

use super::{Error, PayloadType, check_payload_len, u16_at};
use core::fmt;

/// Payload type 0x0008.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AliveCheckResponse {
    /// The tester's logical address.
    pub source_address: u16,
}

impl AliveCheckResponse {
    /// Payload length.
    pub const LEN: usize = 2;

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::AliveCheckResponse, payload)?;
        Ok(Self { source_address: u16_at(payload, 0) })
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source_address.to_be_bytes());
    }
}

impl fmt::Display for AliveCheckResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Alive check response, SA 0x{:04X}", self.source_address)
    }
}
