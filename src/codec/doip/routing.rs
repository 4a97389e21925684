//! Routing activation (TCP): request 0x0005 and response 0x0006.
//!
//! ```text
//! 0x0005: SA(2) activation type(1) reserved ISO(4) [OEM-specific(4)]          7 or 11 bytes
//! 0x0006: tester LA(2) entity LA(2) response code(1) reserved ISO(4) [OEM(4)]  9 or 13 bytes
//! ```
//! The ISO reserved field shall be zero; the codec keeps any value so tests can send others.
//!
//! May import: `crate::codec`.

use super::{
    ActivationType, Error, PayloadType, RoutingActivationResponseCode, check_payload_len, u16_at,
    u32_at,
};
use core::fmt;

/// Payload type 0x0005.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoutingActivationRequest {
    /// The tester's logical address.
    pub source_address: u16,
    /// Activation type.
    pub activation_type: ActivationType,
    /// ISO reserved, shall be 0.
    pub reserved_iso: u32,
    /// Optional OEM-specific field (payload length 11 when present).
    pub oem_specific: Option<u32>,
}

impl RoutingActivationRequest {
    /// Payload length without the OEM-specific field.
    pub const LEN_WITHOUT_OEM: usize = 7;

    /// A request with the reserved field zero and no OEM field.
    pub const fn new(source_address: u16, activation_type: ActivationType) -> Self {
        Self { source_address, activation_type, reserved_iso: 0, oem_specific: None }
    }

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::RoutingActivationRequest, payload)?;
        Ok(Self {
            source_address: u16_at(payload, 0),
            activation_type: ActivationType::from_raw(payload[2]),
            reserved_iso: u32_at(payload, 3),
            oem_specific: (payload.len() == 11).then(|| u32_at(payload, 7)),
        })
    }

    /// Payload length (7 or 11).
    pub const fn payload_len(&self) -> usize {
        Self::LEN_WITHOUT_OEM + if self.oem_specific.is_some() { 4 } else { 0 }
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.source_address.to_be_bytes());
        out.push(self.activation_type.raw());
        out.extend_from_slice(&self.reserved_iso.to_be_bytes());
        if let Some(oem) = self.oem_specific {
            out.extend_from_slice(&oem.to_be_bytes());
        }
    }
}

impl fmt::Display for RoutingActivationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Routing activation request, SA 0x{:04X}, activation type {}",
            self.source_address, self.activation_type
        )?;
        if let Some(oem) = self.oem_specific {
            write!(f, ", OEM 0x{oem:08X}")?;
        }
        Ok(())
    }
}

/// Payload type 0x0006.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoutingActivationResponse {
    /// The tester's logical address.
    pub tester_logical_address: u16,
    /// The entity's logical address.
    pub entity_logical_address: u16,
    /// Routing activation response code.
    pub response_code: RoutingActivationResponseCode,
    /// ISO reserved, shall be 0.
    pub reserved_iso: u32,
    /// Optional OEM-specific field (payload length 13 when present).
    pub oem_specific: Option<u32>,
}

impl RoutingActivationResponse {
    /// Payload length without the OEM-specific field.
    pub const LEN_WITHOUT_OEM: usize = 9;

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::RoutingActivationResponse, payload)?;
        Ok(Self {
            tester_logical_address: u16_at(payload, 0),
            entity_logical_address: u16_at(payload, 2),
            response_code: RoutingActivationResponseCode::from_raw(payload[4]),
            reserved_iso: u32_at(payload, 5),
            oem_specific: (payload.len() == 13).then(|| u32_at(payload, 9)),
        })
    }

    /// Payload length (9 or 13).
    pub const fn payload_len(&self) -> usize {
        Self::LEN_WITHOUT_OEM + if self.oem_specific.is_some() { 4 } else { 0 }
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tester_logical_address.to_be_bytes());
        out.extend_from_slice(&self.entity_logical_address.to_be_bytes());
        out.push(self.response_code.raw());
        out.extend_from_slice(&self.reserved_iso.to_be_bytes());
        if let Some(oem) = self.oem_specific {
            out.extend_from_slice(&oem.to_be_bytes());
        }
    }
}

impl fmt::Display for RoutingActivationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Routing activation response, tester 0x{:04X}, entity 0x{:04X}: {} (0x{:02X})",
            self.tester_logical_address,
            self.entity_logical_address,
            self.response_code,
            self.response_code.raw()
        )?;
        if let Some(oem) = self.oem_specific {
            write!(f, ", OEM 0x{oem:08X}")?;
        }
        Ok(())
    }
}
