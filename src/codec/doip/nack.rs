//! Generic DoIP header negative acknowledge, payload type 0x0000 (UDP and TCP): one byte,
//! the NACK code.
//!
//! May import: `crate::codec`.

use super::{Error, GenericNackCode, PayloadType, check_payload_len};
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
}

impl fmt::Display for GenericNack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Generic header NACK: {} (0x{:02X})", self.nack_code, self.nack_code.raw())
    }
}
