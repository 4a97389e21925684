//! CAN identifiers and frames (classic CAN 2.0 and CAN FD), named as in embedded-can.
//!
//! Pure data: no I/O. A [`CanFrame`] owns at most 64 data bytes inline (no heap), so frames can
//! be moved through buses and stacks without allocating.

use core::fmt;

/// An 11-bit identifier, 0..=0x7FF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StandardId(u16);

impl StandardId {
    pub const MAX: StandardId = StandardId(0x7FF);

    /// `None` when `raw` does not fit 11 bits.
    pub const fn new(raw: u16) -> Option<Self> {
        if raw <= 0x7FF { Some(Self(raw)) } else { None }
    }

    pub const fn as_raw(self) -> u16 {
        self.0
    }
}

/// A 29-bit identifier, 0..=0x1FFF_FFFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedId(u32);

impl ExtendedId {
    pub const MAX: ExtendedId = ExtendedId(0x1FFF_FFFF);

    /// `None` when `raw` does not fit 29 bits.
    pub const fn new(raw: u32) -> Option<Self> {
        if raw <= 0x1FFF_FFFF { Some(Self(raw)) } else { None }
    }

    pub const fn as_raw(self) -> u32 {
        self.0
    }
}

/// A CAN identifier of either width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CanId {
    Standard(StandardId),
    Extended(ExtendedId),
}

impl CanId {
    /// The numeric identifier without any width flag.
    pub const fn raw(self) -> u32 {
        match self {
            CanId::Standard(id) => id.as_raw() as u32,
            CanId::Extended(id) => id.as_raw(),
        }
    }

    pub const fn is_extended(self) -> bool {
        matches!(self, CanId::Extended(_))
    }

    /// An 11-bit id when `raw` fits and `extended` is false, a 29-bit id when `extended` is true.
    pub const fn new(raw: u32, extended: bool) -> Option<Self> {
        if extended {
            match ExtendedId::new(raw) {
                Some(id) => Some(CanId::Extended(id)),
                None => None,
            }
        } else if raw <= 0x7FF {
            Some(CanId::Standard(StandardId(raw as u16)))
        } else {
            None
        }
    }
}

impl From<StandardId> for CanId {
    fn from(id: StandardId) -> Self {
        CanId::Standard(id)
    }
}

impl From<ExtendedId> for CanId {
    fn from(id: ExtendedId) -> Self {
        CanId::Extended(id)
    }
}

impl fmt::Display for CanId {
    /// candump style: 3 hex digits for 11-bit ids, 8 for 29-bit ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanId::Standard(id) => write!(f, "{:03X}", id.as_raw()),
            CanId::Extended(id) => write!(f, "{:08X}", id.as_raw()),
        }
    }
}

/// The data lengths a CAN FD frame can carry, indexed by DLC (ISO 11898-1): DLC 0-8 are the
/// length itself, DLC 9-15 are 12, 16, 20, 24, 32, 48, 64 bytes.
pub const FD_LENGTHS: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/// The DLC that encodes exactly `len` data bytes, if `len` is a valid CAN FD length.
pub fn fd_dlc_for_len(len: usize) -> Option<u8> {
    FD_LENGTHS.iter().position(|&l| l as usize == len).map(|dlc| dlc as u8)
}

/// The number of data bytes a DLC stands for on CAN FD (`dlc & 0x0F`).
pub fn fd_len_for_dlc(dlc: u8) -> usize {
    FD_LENGTHS[(dlc & 0x0F) as usize] as usize
}

/// The smallest valid CAN FD length that holds `len` bytes (`None` above 64): the length an FD
/// frame must be padded to.
pub fn fd_padded_len(len: usize) -> Option<usize> {
    FD_LENGTHS.iter().map(|&l| l as usize).find(|&l| l >= len)
}

/// Why a frame could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A classic frame carries at most 8 data bytes.
    #[error("classic CAN frame data is {0} bytes, at most 8 are allowed")]
    ClassicTooLong(usize),
    /// An FD frame carries 0-8, 12, 16, 20, 24, 32, 48 or 64 data bytes.
    #[error("CAN FD frame data is {0} bytes, not a valid CAN FD length (0-8,12,16,20,24,32,48,64)")]
    FdInvalidLength(usize),
}

/// A classic or FD data frame. Remote and error frames are not modelled: ISO-TP never uses them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CanFrame {
    id: CanId,
    fd: bool,
    /// Bit rate switch (FD only).
    brs: bool,
    len: u8,
    data: [u8; 64],
}

impl CanFrame {
    /// A classic CAN frame with up to 8 data bytes.
    pub fn new(id: impl Into<CanId>, data: &[u8]) -> Result<Self, FrameError> {
        if data.len() > 8 {
            return Err(FrameError::ClassicTooLong(data.len()));
        }
        Ok(Self::build(id.into(), false, false, data))
    }

    /// A CAN FD frame; `data.len()` must be a valid FD length (see [`fd_padded_len`]).
    pub fn new_fd(id: impl Into<CanId>, data: &[u8], brs: bool) -> Result<Self, FrameError> {
        if fd_dlc_for_len(data.len()).is_none() {
            return Err(FrameError::FdInvalidLength(data.len()));
        }
        Ok(Self::build(id.into(), true, brs, data))
    }

    fn build(id: CanId, fd: bool, brs: bool, data: &[u8]) -> Self {
        let mut buf = [0u8; 64];
        buf[..data.len()].copy_from_slice(data);
        Self { id, fd, brs, len: data.len() as u8, data: buf }
    }

    pub fn id(&self) -> CanId {
        self.id
    }

    pub fn is_fd(&self) -> bool {
        self.fd
    }

    pub fn brs(&self) -> bool {
        self.brs
    }

    pub fn data(&self) -> &[u8] {
        &self.data[..self.len as usize]
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The DLC on the wire: the length for classic frames, the FD code for FD frames.
    pub fn dlc(&self) -> u8 {
        if self.fd { fd_dlc_for_len(self.len as usize).unwrap_or(15) } else { self.len }
    }
}

impl fmt::Debug for CanFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for CanFrame {
    /// candump style: `7E0#0210010000000000`, `##` plus a flags digit for FD frames.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.fd {
            write!(f, "{}##{}", self.id, if self.brs { 1 } else { 0 })?;
        } else {
            write!(f, "{}#", self.id)?;
        }
        for b in self.data() {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_id_rejects_more_than_11_bits() {
        assert!(StandardId::new(0x7FF).is_some());
        assert!(StandardId::new(0x800).is_none());
    }

    #[test]
    fn extended_id_rejects_more_than_29_bits() {
        assert!(ExtendedId::new(0x1FFF_FFFF).is_some());
        assert!(ExtendedId::new(0x2000_0000).is_none());
    }

    #[test]
    fn fd_dlc_maps_both_ways() {
        for dlc in 0..16u8 {
            let len = fd_len_for_dlc(dlc);
            assert_eq!(fd_dlc_for_len(len), Some(dlc));
        }
        assert_eq!(fd_dlc_for_len(9), None);
        assert_eq!(fd_padded_len(9), Some(12));
        assert_eq!(fd_padded_len(63), Some(64));
        assert_eq!(fd_padded_len(65), None);
    }

    #[test]
    fn classic_frame_longer_than_8_is_refused() {
        let id = StandardId::new(0x7E0).unwrap();
        assert_eq!(CanFrame::new(id, &[0; 9]), Err(FrameError::ClassicTooLong(9)));
    }

    #[test]
    fn fd_frame_with_invalid_length_is_refused() {
        let id = StandardId::new(0x7E0).unwrap();
        assert_eq!(CanFrame::new_fd(id, &[0; 9], false), Err(FrameError::FdInvalidLength(9)));
        assert_eq!(CanFrame::new_fd(id, &[0; 64], true).unwrap().dlc(), 15);
    }

    #[test]
    fn display_is_candump_style() {
        let f = CanFrame::new(StandardId::new(0x7E0).unwrap(), &[0x02, 0x10, 0x01]).unwrap();
        assert_eq!(f.to_string(), "7E0#021001");
        let f = CanFrame::new_fd(ExtendedId::new(0x18DA_F110).unwrap(), &[0xAA; 12], true).unwrap();
        assert_eq!(f.to_string(), "18DAF110##1AAAAAAAAAAAAAAAAAAAAAAAA");
    }
}
