//! LINKTYPE_CAN_SOCKETCAN (227): the record format of CAN frames in pcap and pcapng files,
//! written by [`super::write`] and read by [`super::read`] from this one definition.
//!
//! A record is Linux's `struct can_frame` (16 bytes) or `struct canfd_frame` (72 bytes):
//!
//! ```text
//! offset 0  can_id (u32)   identifier | CAN_EFF_FLAG (29-bit) | CAN_RTR_FLAG | CAN_ERR_FLAG
//!        4  len (u8)       data length (classic: 0-8, FD: 0-64)
//!        5  flags (u8)     FD: CANFD_BRS, CANFD_ESI, CANFD_FDF; classic: 0 (or len8_dlc)
//!        6  reserved (2)
//!        8  data          8 or 64 bytes, padded
//! ```
//!
//! tcpdump.org's link-layer type 227 stores `can_id` big-endian ("network order"), but some
//! converters of candump logs write it in the little-endian host order of the machine that made
//! them; [`CanByteOrder`] names both, and the reader detects which one a file uses.
//!
//! May import: `crate::codec`.

use crate::codec::can::{CanFrame, CanId, fd_dlc_for_len};

/// `struct can_frame` flag for 29-bit identifiers (linux/can.h `CAN_EFF_FLAG`).
pub(crate) const CAN_EFF_FLAG: u32 = 0x8000_0000;
/// Remote transmission request (linux/can.h `CAN_RTR_FLAG`).
pub(crate) const CAN_RTR_FLAG: u32 = 0x4000_0000;
/// Error message frame (linux/can.h `CAN_ERR_FLAG`).
pub(crate) const CAN_ERR_FLAG: u32 = 0x2000_0000;
/// `struct canfd_frame` flags (linux/can.h): bit rate switch and "this is an FD frame".
pub(crate) const CANFD_BRS: u8 = 0x01;
pub(crate) const CANFD_FDF: u8 = 0x04;
/// Sizes of `struct can_frame` and `struct canfd_frame` (linux/can.h `CAN_MTU`, `CANFD_MTU`).
pub(crate) const CAN_MTU: usize = 16;
pub(crate) const CANFD_MTU: usize = 72;

/// The byte order of the `can_id` word in a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CanByteOrder {
    /// Big-endian, as link-layer type 227 defines it.
    Network,
    /// Little-endian, as some candump converters write it.
    Host,
}

impl CanByteOrder {
    /// `network` or `host`, as in `--can-byte-order` and the JSON summary.
    pub const fn id(self) -> &'static str {
        match self {
            CanByteOrder::Network => "network",
            CanByteOrder::Host => "host",
        }
    }

    /// The `can_id` word of a record read in this order; `None` when fewer than 4 bytes.
    pub fn id_word(self, record: &[u8]) -> Option<u32> {
        let b: [u8; 4] = record.get(..4)?.try_into().ok()?;
        Some(match self {
            CanByteOrder::Network => u32::from_be_bytes(b),
            CanByteOrder::Host => u32::from_le_bytes(b),
        })
    }
}

/// Whether `word`, read as a `can_id`, looks like a data frame a bus carries: an 11-bit id
/// without the 29-bit flag has bits 11-28 clear, and error frames are rare enough that a word
/// with CAN_ERR_FLAG set says the byte order is wrong. Used to vote on the byte order.
pub(crate) fn plausible_id_word(word: u32) -> bool {
    if word & CAN_ERR_FLAG != 0 {
        return false;
    }
    word & CAN_EFF_FLAG != 0 || word & 0x1FFF_F800 == 0
}

/// Why a record is not a CAN data frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SocketCanError {
    /// Shorter than the 8-byte header.
    #[error("SocketCAN record of {len} bytes is shorter than its 8-byte header")]
    TooShort { len: usize },
    /// The length byte says more data than the record holds or a frame can carry.
    #[error("SocketCAN len {len} exceeds the {available} data bytes of the record (or 64)")]
    BadLength { len: usize, available: usize },
    /// An error frame (CAN_ERR_FLAG): bus state, not traffic.
    #[error("CAN error frame (can_id 0x{word:08X})")]
    ErrorFrame { word: u32 },
    /// A remote frame (CAN_RTR_FLAG): ISO-TP never uses them.
    #[error("CAN remote frame (can_id 0x{word:08X})")]
    RemoteFrame { word: u32 },
    /// An 11-bit frame whose identifier needs more than 11 bits.
    #[error("can_id 0x{word:08X} has no 29-bit flag but an identifier above 0x7FF")]
    BadIdentifier { word: u32 },
    /// An FD frame whose length is not a CAN FD length.
    #[error("CAN FD len {len} is not a valid CAN FD data length")]
    BadFdLength { len: usize },
}

/// The record bytes of one frame: identifier word (big-endian, EFF flag for 29-bit ids),
/// payload length, FD flags, two reserved bytes, data padded to 8 or 64 bytes.
pub(crate) fn encode(frame: &CanFrame) -> Vec<u8> {
    encode_with(frame, CanByteOrder::Network)
}

/// [`encode`] with the identifier word in `order` (tests write host-order files with it).
pub fn encode_with(frame: &CanFrame, order: CanByteOrder) -> Vec<u8> {
    let id = frame.id();
    let mut id_word = id.raw();
    if id.is_extended() {
        id_word |= CAN_EFF_FLAG;
    }
    let (mtu, flags) = if frame.is_fd() {
        (CANFD_MTU, CANFD_FDF | if frame.brs() { CANFD_BRS } else { 0 })
    } else {
        (CAN_MTU, 0)
    };
    let mut out = Vec::with_capacity(mtu);
    out.extend_from_slice(&match order {
        CanByteOrder::Network => id_word.to_be_bytes(),
        CanByteOrder::Host => id_word.to_le_bytes(),
    });
    // A CanFrame holds at most 64 bytes, so the length fits a u8.
    out.push(frame.len() as u8);
    out.push(flags);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(frame.data());
    out.resize(mtu, 0);
    out
}

/// The data frame in `record`, its identifier word read in `order`. A record longer than 16
/// bytes, or with CANFD_FDF set, is an FD frame (Linux tells them apart by the MTU).
pub fn decode(record: &[u8], order: CanByteOrder) -> Result<CanFrame, SocketCanError> {
    let Some(word) = order.id_word(record).filter(|_| record.len() >= 8) else {
        return Err(SocketCanError::TooShort { len: record.len() });
    };
    if word & CAN_ERR_FLAG != 0 {
        return Err(SocketCanError::ErrorFrame { word });
    }
    if word & CAN_RTR_FLAG != 0 {
        return Err(SocketCanError::RemoteFrame { word });
    }
    let extended = word & CAN_EFF_FLAG != 0;
    let id =
        CanId::new(word & 0x1FFF_FFFF, extended).ok_or(SocketCanError::BadIdentifier { word })?;
    let len = usize::from(record[4]);
    let flags = record[5];
    let available = record.len() - 8;
    if len > available || len > 64 {
        return Err(SocketCanError::BadLength { len, available });
    }
    let data = &record[8..8 + len];
    let fd = record.len() > CAN_MTU || flags & CANFD_FDF != 0;
    let frame = if fd {
        if fd_dlc_for_len(len).is_none() {
            return Err(SocketCanError::BadFdLength { len });
        }
        CanFrame::new_fd(id, data, flags & CANFD_BRS != 0)
    } else {
        CanFrame::new(id, data)
    };
    frame.map_err(|_| SocketCanError::BadLength { len, available })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::can::{ExtendedId, StandardId};

    #[test]
    fn classic_frame_is_16_bytes_with_a_big_endian_id() {
        let f = CanFrame::new(StandardId::new(0x7E0).unwrap(), &[0x02, 0x10, 0x03]).unwrap();
        assert_eq!(
            encode(&f),
            [0x00, 0x00, 0x07, 0xE0, 3, 0, 0, 0, 0x02, 0x10, 0x03, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn extended_fd_frame_is_72_bytes_with_eff_fdf_and_brs() {
        let id = ExtendedId::new(0x18DA_F110).unwrap();
        let f = CanFrame::new_fd(id, &[0xAA; 12], true).unwrap();
        let b = encode(&f);
        assert_eq!(b.len(), 72);
        assert_eq!(b[..8], [0x98, 0xDA, 0xF1, 0x10, 12, CANFD_FDF | CANFD_BRS, 0, 0]);
        assert_eq!(b[8..20], [0xAA; 12]);
        assert!(b[20..].iter().all(|&x| x == 0));
    }

    #[test]
    fn decode_inverts_encode_in_both_byte_orders() {
        let frames = [
            CanFrame::new(StandardId::new(0x7E8).unwrap(), &[0x03, 0x7F, 0x22, 0x31]).unwrap(),
            CanFrame::new_fd(ExtendedId::new(0x18DA_10F1).unwrap(), &[0x55; 48], false).unwrap(),
        ];
        for order in [CanByteOrder::Network, CanByteOrder::Host] {
            for f in frames {
                assert_eq!(decode(&encode_with(&f, order), order).unwrap(), f, "{order:?}");
            }
        }
    }

    #[test]
    fn the_wrong_byte_order_gives_an_implausible_word() {
        for id in [0x7E0u32, 0x123, 0x001 | CAN_EFF_FLAG, 0x18DA_F110 | CAN_EFF_FLAG] {
            assert!(plausible_id_word(id), "{id:08X}");
            assert!(!plausible_id_word(id.swap_bytes()), "{id:08X} swapped");
        }
    }

    #[test]
    fn hostile_records_are_errors_not_panics() {
        assert_eq!(
            decode(&[0; 7], CanByteOrder::Network),
            Err(SocketCanError::TooShort { len: 7 })
        );
        let mut r = encode(&CanFrame::new(StandardId::new(1).unwrap(), &[1]).unwrap());
        r[4] = 9;
        assert_eq!(
            decode(&r, CanByteOrder::Network),
            Err(SocketCanError::BadLength { len: 9, available: 8 })
        );
        r[4] = 1;
        r[0] = 0x20;
        assert!(matches!(
            decode(&r, CanByteOrder::Network),
            Err(SocketCanError::ErrorFrame { .. })
        ));
        r[0] = 0x40;
        assert!(matches!(
            decode(&r, CanByteOrder::Network),
            Err(SocketCanError::RemoteFrame { .. })
        ));
        r[0] = 0x00;
        r[1] = 0x01;
        assert!(matches!(
            decode(&r, CanByteOrder::Network),
            Err(SocketCanError::BadIdentifier { .. })
        ));
        let mut fd = vec![0u8; 72];
        fd[4] = 13;
        fd[5] = CANFD_FDF;
        assert_eq!(
            decode(&fd, CanByteOrder::Network),
            Err(SocketCanError::BadFdLength { len: 13 })
        );
    }
}
