//! Entity status and diagnostic power mode (UDP): 0x4001/0x4002 and 0x4003/0x4004.
//!
//! ```text
//! 0x4002: node type(1) MCTS(1) NCTS(1) [max data size MDS(4)]   3 or 7 bytes
//! 0x4004: diagnostic power mode(1)
//! ```
//!
//! May import: `crate::codec`.

use super::{Error, NodeType, PayloadType, PowerMode, check_payload_len, u32_at};
use core::fmt;

/// Payload type 0x4002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntityStatusResponse {
    /// Gateway or node.
    pub node_type: NodeType,
    /// Max concurrent TCP sockets (MCTS).
    pub max_concurrent_sockets: u8,
    /// Currently open TCP sockets (NCTS).
    pub currently_open_sockets: u8,
    /// Optional max data size (MDS): the largest diagnostic message the entity accepts.
    pub max_data_size: Option<u32>,
}

impl EntityStatusResponse {
    /// Payload length without the max data size.
    pub const LEN_WITHOUT_MDS: usize = 3;

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::EntityStatusResponse, payload)?;
        Ok(Self {
            node_type: NodeType::from_raw(payload[0]),
            max_concurrent_sockets: payload[1],
            currently_open_sockets: payload[2],
            max_data_size: (payload.len() == 7).then(|| u32_at(payload, 3)),
        })
    }

    /// Payload length (3 or 7).
    pub const fn payload_len(&self) -> usize {
        Self::LEN_WITHOUT_MDS + if self.max_data_size.is_some() { 4 } else { 0 }
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[
            self.node_type.raw(),
            self.max_concurrent_sockets,
            self.currently_open_sockets,
        ]);
        if let Some(mds) = self.max_data_size {
            out.extend_from_slice(&mds.to_be_bytes());
        }
    }
}

impl fmt::Display for EntityStatusResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Entity status response, {}, sockets {}/{}",
            self.node_type, self.currently_open_sockets, self.max_concurrent_sockets
        )?;
        if let Some(mds) = self.max_data_size {
            write!(f, ", MDS {mds}")?;
        }
        Ok(())
    }
}

/// Payload type 0x4004.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PowerModeInformationResponse {
    /// Diagnostic power mode.
    pub power_mode: PowerMode,
}

impl PowerModeInformationResponse {
    /// Payload length.
    pub const LEN: usize = 1;

    /// Parses the payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        check_payload_len(PayloadType::PowerModeInformationResponse, payload)?;
        Ok(Self { power_mode: PowerMode::from_raw(payload[0]) })
    }

    /// Appends the payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.power_mode.raw());
    }
}

impl fmt::Display for PowerModeInformationResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Power mode information response: {}", self.power_mode)
    }
}
