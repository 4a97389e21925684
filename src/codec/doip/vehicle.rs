//! Vehicle identification (UDP): requests 0x0001 (plain), 0x0002 (with EID), 0x0003 (with
//! VIN), and the vehicle announcement / identification response 0x0004.
//!
//! ```text
//! 0x0004: VIN(17) LA(2) EID(6) GID(6) further action(1) [VIN/GID sync status(1)]
//! ```
//! "Not set" VIN/EID/GID are all 0x00 or all 0xFF; the codec keeps whatever was sent.
//!
//! May import: `crate::codec`.

use super::{Error, FurtherAction, PayloadType, SyncStatus, check_payload_len, fmt_id};
use core::fmt;

/// A vehicle identification number: 17 bytes, normally ASCII (kept raw: targets send junk).
pub type Vin = [u8; 17];
/// An entity identification (usually the MAC address).
pub type Eid = [u8; 6];
/// A group identification.
pub type Gid = [u8; 6];

/// Payload type 0x0002: vehicle identification request with EID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VehicleIdentificationRequestWithEid {
    /// The EID whose entity shall answer.
    pub eid: Eid,
}

impl VehicleIdentificationRequestWithEid {
    /// Payload length.
    pub const LEN: usize = 6;

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::VehicleIdentificationRequestWithEid, payload)?;
        Ok(Self { eid: array(payload, 0) })
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.eid);
    }
}

impl fmt::Display for VehicleIdentificationRequestWithEid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vehicle identification request, EID {}", fmt_id(&self.eid))
    }
}

/// Payload type 0x0003: vehicle identification request with VIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VehicleIdentificationRequestWithVin {
    /// The VIN whose entities shall answer.
    pub vin: Vin,
}

impl VehicleIdentificationRequestWithVin {
    /// Payload length.
    pub const LEN: usize = 17;

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::VehicleIdentificationRequestWithVin, payload)?;
        Ok(Self { vin: array(payload, 0) })
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.vin);
    }
}

impl fmt::Display for VehicleIdentificationRequestWithVin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vehicle identification request, VIN {}", FmtVin(&self.vin))
    }
}

/// Payload type 0x0004: vehicle announcement / vehicle identification response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VehicleAnnouncement {
    /// VIN (17 bytes).
    pub vin: Vin,
    /// The entity's logical address.
    pub logical_address: u16,
    /// Entity identification.
    pub eid: Eid,
    /// Group identification.
    pub gid: Gid,
    /// Further action required.
    pub further_action: FurtherAction,
    /// Optional VIN/GID synchronisation status (payload length 33 when present, 32 without).
    pub sync_status: Option<SyncStatus>,
}

impl VehicleAnnouncement {
    /// Payload length without the sync status byte.
    pub const LEN_WITHOUT_SYNC_STATUS: usize = 32;

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::VehicleAnnouncement, payload)?;
        Ok(Self {
            vin: array(payload, 0),
            logical_address: u16::from_be_bytes(array(payload, 17)),
            eid: array(payload, 19),
            gid: array(payload, 25),
            further_action: FurtherAction::from_raw(payload[31]),
            sync_status: payload.get(32).map(|&b| SyncStatus::from_raw(b)),
        })
    }

    /// Payload length (32 or 33).
    pub const fn payload_len(&self) -> usize {
        Self::LEN_WITHOUT_SYNC_STATUS + self.sync_status.is_some() as usize
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.vin);
        out.extend_from_slice(&self.logical_address.to_be_bytes());
        out.extend_from_slice(&self.eid);
        out.extend_from_slice(&self.gid);
        out.push(self.further_action.raw());
        if let Some(sync) = self.sync_status {
            out.push(sync.raw());
        }
    }
}

impl fmt::Display for VehicleAnnouncement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Vehicle announcement, VIN {}, LA 0x{:04X}, EID {}, GID {}, {}",
            FmtVin(&self.vin),
            self.logical_address,
            fmt_id(&self.eid),
            fmt_id(&self.gid),
            self.further_action
        )?;
        if let Some(sync) = self.sync_status {
            write!(f, ", {sync}")?;
        }
        Ok(())
    }
}

/// `N` bytes at `at`; callers checked the payload length first.
fn array<const N: usize>(payload: &[u8], at: usize) -> [u8; N] {
    payload.get(at..at + N).and_then(|s| s.try_into().ok()).unwrap_or([0; N])
}

/// A VIN as text when it is printable ASCII, else as hex.
pub(crate) struct FmtVin<'a>(pub &'a Vin);

impl fmt::Display for FmtVin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.iter().all(|b| b.is_ascii_graphic()) {
            // All bytes are ASCII, so this is valid UTF-8.
            f.write_str(core::str::from_utf8(self.0).unwrap_or_default())
        } else {
            for b in self.0 {
                write!(f, "{b:02X}")?;
            }
            Ok(())
        }
    }
}
