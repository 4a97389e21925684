//! The cannelloni v2 UDP datagram: CAN frames tunnelled over IP, so that processes without
//! SocketCAN (and third-party tools such as cannelloni itself) meet on one bus.
//!
//! ```text
//! datagram = version(u8 = 2) op(u8: 0 DATA) seq(u8) count(u16 BE) frame*count
//! frame    = can_id(u32 BE) len(u8) [fd_flags(u8) when len & 0x80] data(len & 0x7F bytes)
//! can_id   = bit 31 EFF (29-bit id), bit 30 RTR (no data follows), bit 29 ERR (error frame)
//! ```
//! Layout and rules as in the cannelloni repository's `parser.cpp` (`parseFrames`,
//! `buildPacket`) and its `doc/udp_format.md`: everything big-endian, RTR frames carry a length
//! but no data bytes, and the FD flags byte exists only when bit 0x80 of `len` is set.
//!
//! Hostile input: [`decode`] checks the whole datagram before it yields a single frame. A
//! datagram that claims more frames or bytes than it holds, a classic frame longer than 8 bytes,
//! an FD length that no DLC encodes, or bytes after the declared frames is an error naming the
//! frame and byte offset; nothing here allocates or panics.
//!
//! May import only `codec`.

use crate::codec::can::{CanFrame, CanId, ExtendedId, fd_dlc_for_len};

/// The only datagram version this module speaks.
pub const VERSION: u8 = 2;
/// Operation code of a data datagram (`enum op_codes {DATA, ACK, NACK}` in cannelloni.h).
pub const OP_DATA: u8 = 0;
/// version + op + seq + count.
pub const HEADER_LEN: usize = 5;
/// can_id + len: the smallest encoded frame.
pub const FRAME_BASE_LEN: usize = 5;
/// The largest payload of one UDP datagram over IPv4.
pub const MAX_DATAGRAM_LEN: usize = 65_507;

/// `can_id` flag: 29-bit identifier (`CAN_EFF_FLAG`).
pub const EFF_FLAG: u32 = 0x8000_0000;
/// `can_id` flag: remote transmission request (`CAN_RTR_FLAG`).
pub const RTR_FLAG: u32 = 0x4000_0000;
/// `can_id` flag: error frame (`CAN_ERR_FLAG`).
pub const ERR_FLAG: u32 = 0x2000_0000;
/// `len` flag: an FD flags byte follows and the frame is CAN FD (`CANFD_FRAME`).
pub const LEN_FD_FLAG: u8 = 0x80;
/// FD flags byte: bit rate switch (`CANFD_BRS`).
pub const FD_FLAG_BRS: u8 = 0x01;

/// Why a datagram was refused. Offsets count from the first byte of the datagram; frame
/// indices from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer than the 5 header bytes.
    #[error("cannelloni header needs 5 bytes, the datagram has {len}")]
    ShortHeader { len: usize },
    /// `version` is not 2.
    #[error("cannelloni version is {found}, only version 2 is supported")]
    Version { found: u8 },
    /// `op` is not DATA (ACK/NACK belong to cannelloni's SCTP mode).
    #[error("cannelloni op code is {found}, only 0 (DATA) is supported")]
    OpCode { found: u8 },
    /// The datagram ends inside a frame the header's `count` promised.
    #[error(
        "frame {index} of {count} at offset {offset} needs {needed} bytes, only {available} remain"
    )]
    Truncated { index: u16, count: u16, offset: usize, needed: usize, available: usize },
    /// A classic frame's `len` is above 8.
    #[error("frame {index} at offset {offset}: classic CAN len {len} is above 8")]
    ClassicLength { index: u16, offset: usize, len: u8 },
    /// An FD frame's length is not one of 0-8, 12, 16, 20, 24, 32, 48, 64.
    #[error("frame {index} at offset {offset}: CAN FD len {len} is not a valid FD length")]
    FdLength { index: u16, offset: usize, len: u8 },
    /// An 11-bit frame's identifier has bits above 0x7FF.
    #[error("frame {index} at offset {offset}: 11-bit can_id 0x{raw:X} is above 0x7FF")]
    StandardIdRange { index: u16, offset: usize, raw: u32 },
    /// RTR does not exist on CAN FD.
    #[error("frame {index} at offset {offset}: RTR flag on a CAN FD frame")]
    RemoteFd { index: u16, offset: usize },
    /// Bytes follow the last frame the header's `count` declared.
    #[error("{extra} bytes follow the {count} declared frames (datagram offset {offset})")]
    TrailingBytes { count: u16, offset: usize, extra: usize },
}

/// One frame of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelFrame {
    /// A classic or FD data frame.
    Data(CanFrame),
    /// A remote frame: an identifier and a DLC, no data (ISO-TP never sends these).
    Remote { id: CanId, dlc: u8 },
    /// A SocketCAN error frame: `class` is the `can_id` without flags, `data` the error details.
    Error { class: u32, len: u8, data: [u8; 8] },
}

/// A datagram whose every frame has been checked; iterate with [`Datagram::frames`].
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    seq: u8,
    count: u16,
    body: &'a [u8],
}

impl<'a> Datagram<'a> {
    /// The sender's sequence number (wraps at 255; a gap means lost datagrams).
    pub fn seq(&self) -> u8 {
        self.seq
    }

    /// How many frames the datagram holds.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// The frames in datagram order.
    pub fn frames(&self) -> Frames<'a> {
        Frames { rest: self.body, left: self.count }
    }
}

/// Iterator over the frames of a checked [`Datagram`].
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    rest: &'a [u8],
    left: u16,
}

impl Iterator for Frames<'_> {
    type Item = TunnelFrame;

    fn next(&mut self) -> Option<TunnelFrame> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // `decode` has checked every frame; a failure here would mean the two passes disagree,
        // which the round-trip tests rule out. Stop rather than panic on it.
        match read_frame(self.rest, 0, 0) {
            Ok((frame, used)) => {
                self.rest = &self.rest[used..];
                Some(frame)
            }
            Err(_) => {
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// Checks a whole datagram: header, then every declared frame, then that nothing follows.
pub fn decode(datagram: &[u8]) -> Result<Datagram<'_>, DecodeError> {
    if datagram.len() < HEADER_LEN {
        return Err(DecodeError::ShortHeader { len: datagram.len() });
    }
    if datagram[0] != VERSION {
        return Err(DecodeError::Version { found: datagram[0] });
    }
    if datagram[1] != OP_DATA {
        return Err(DecodeError::OpCode { found: datagram[1] });
    }
    let seq = datagram[2];
    let count = u16::from_be_bytes([datagram[3], datagram[4]]);
    let body = &datagram[HEADER_LEN..];
    let mut offset = HEADER_LEN;
    for index in 0..count {
        let (_, used) = read_frame(&datagram[offset..], offset, index).map_err(|e| match e {
            FrameError::Truncated { needed, available } => {
                DecodeError::Truncated { index, count, offset, needed, available }
            }
            FrameError::Other(e) => e,
        })?;
        offset += used;
    }
    if offset != datagram.len() {
        return Err(DecodeError::TrailingBytes { count, offset, extra: datagram.len() - offset });
    }
    Ok(Datagram { seq, count, body })
}

enum FrameError {
    Truncated { needed: usize, available: usize },
    Other(DecodeError),
}

/// Reads one frame at the start of `bytes` (`offset` and `index` only label errors).
fn read_frame(bytes: &[u8], offset: usize, index: u16) -> Result<(TunnelFrame, usize), FrameError> {
    let truncated = |needed: usize| FrameError::Truncated { needed, available: bytes.len() };
    if bytes.len() < FRAME_BASE_LEN {
        return Err(truncated(FRAME_BASE_LEN));
    }
    let can_id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let len_byte = bytes[4];
    let fd = len_byte & LEN_FD_FLAG != 0;
    let len = len_byte & !LEN_FD_FLAG;
    let mut at = FRAME_BASE_LEN;
    let mut fd_flags = 0;
    if fd {
        if bytes.len() < at + 1 {
            return Err(truncated(at + 1));
        }
        fd_flags = bytes[at];
        at += 1;
    }
    let other = FrameError::Other;
    let extended = can_id & EFF_FLAG != 0;
    let raw_id = can_id & ExtendedId::MAX.as_raw();
    if can_id & ERR_FLAG != 0 {
        // Error frames carry CAN_ERR_DLC (8) data bytes in SocketCAN.
        if fd || len > 8 {
            return Err(other(DecodeError::ClassicLength { index, offset, len }));
        }
        let end = at + len as usize;
        if bytes.len() < end {
            return Err(truncated(end));
        }
        let mut data = [0u8; 8];
        data[..len as usize].copy_from_slice(&bytes[at..end]);
        return Ok((TunnelFrame::Error { class: raw_id, len, data }, end));
    }
    // An 11-bit frame with higher id bits set is malformed (SocketCAN never emits one).
    let Some(id) = CanId::new(raw_id, extended) else {
        return Err(other(DecodeError::StandardIdRange { index, offset, raw: raw_id }));
    };
    if can_id & RTR_FLAG != 0 {
        // "RTR Frames have no data section although they have a dlc" (cannelloni parser.cpp).
        if fd {
            return Err(other(DecodeError::RemoteFd { index, offset }));
        }
        if len > 8 {
            return Err(other(DecodeError::ClassicLength { index, offset, len }));
        }
        return Ok((TunnelFrame::Remote { id, dlc: len }, at));
    }
    let end = at + len as usize;
    let frame = if fd {
        if fd_dlc_for_len(len as usize).is_none() {
            return Err(other(DecodeError::FdLength { index, offset, len }));
        }
        if bytes.len() < end {
            return Err(truncated(end));
        }
        CanFrame::new_fd(id, &bytes[at..end], fd_flags & FD_FLAG_BRS != 0)
    } else {
        if len > 8 {
            return Err(other(DecodeError::ClassicLength { index, offset, len }));
        }
        if bytes.len() < end {
            return Err(truncated(end));
        }
        CanFrame::new(id, &bytes[at..end])
    };
    // The length checks above are exactly CanFrame's rules, so this cannot fail; map it anyway.
    match frame {
        Ok(frame) => Ok((TunnelFrame::Data(frame), end)),
        Err(_) => Err(other(DecodeError::FdLength { index, offset, len })),
    }
}

/// The encoded size of one data frame.
pub fn encoded_frame_len(frame: &CanFrame) -> usize {
    FRAME_BASE_LEN + usize::from(frame.is_fd()) + frame.len()
}

/// Builds datagrams: push frames until [`Encoder::push`] says the datagram is full, then
/// [`Encoder::finish`]. The buffer is reused, so a steady stream does not allocate.
#[derive(Debug, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
    count: u16,
    max_len: usize,
}

impl Encoder {
    /// An encoder whose datagrams never exceed `max_len` bytes (clamped to hold at least one
    /// 64-byte FD frame and at most [`MAX_DATAGRAM_LEN`]).
    pub fn new(max_len: usize) -> Self {
        let max_len = max_len.clamp(HEADER_LEN + FRAME_BASE_LEN + 1 + 64, MAX_DATAGRAM_LEN);
        let mut buf = Vec::with_capacity(max_len);
        buf.extend_from_slice(&[VERSION, OP_DATA, 0, 0, 0]);
        Self { buf, count: 0, max_len }
    }

    /// Frames pushed since the last [`Encoder::finish`].
    pub fn count(&self) -> u16 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends `frame`; `false` (and nothing appended) when it would not fit.
    pub fn push(&mut self, frame: &CanFrame) -> bool {
        if self.count == u16::MAX || self.buf.len() + encoded_frame_len(frame) > self.max_len {
            return false;
        }
        let mut can_id = frame.id().raw();
        if frame.id().is_extended() {
            can_id |= EFF_FLAG;
        }
        self.buf.extend_from_slice(&can_id.to_be_bytes());
        if frame.is_fd() {
            self.buf.push(frame.len() as u8 | LEN_FD_FLAG);
            self.buf.push(if frame.brs() { FD_FLAG_BRS } else { 0 });
        } else {
            self.buf.push(frame.len() as u8);
        }
        self.buf.extend_from_slice(frame.data());
        self.count += 1;
        true
    }

    /// Writes the header with `seq` and returns the datagram; the next push starts a new one.
    pub fn finish(&mut self, seq: u8) -> &[u8] {
        self.buf[2] = seq;
        self.buf[3..5].copy_from_slice(&self.count.to_be_bytes());
        self.count = 0;
        &self.buf
    }

    /// Empties the encoder for the next datagram (after the caller sent [`Encoder::finish`]'s
    /// bytes).
    pub fn clear(&mut self) {
        self.buf.truncate(HEADER_LEN);
        self.count = 0;
    }
}

/// Encodes one datagram holding `frames` into a new vector (tests and tools; the transport
/// reuses an [`Encoder`]). `None` if they do not fit one datagram.
pub fn encode(seq: u8, frames: &[CanFrame]) -> Option<Vec<u8>> {
    let mut enc = Encoder::new(MAX_DATAGRAM_LEN);
    for f in frames {
        if !enc.push(f) {
            return None;
        }
    }
    Some(enc.finish(seq).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::can::StandardId;

    fn std_frame(id: u16, data: &[u8]) -> CanFrame {
        CanFrame::new(StandardId::new(id).unwrap(), data).unwrap()
    }

    /// One classic 11-bit frame and one FD 29-bit frame with BRS, byte by byte.
    const TWO_FRAMES: &[u8] = &[
        0x02, 0x00, 0x07, 0x00, 0x02, // version 2, DATA, seq 7, count 2
        0x00, 0x00, 0x07, 0xE0, 0x03, 0x02, 0x10, 0x01, // 7E0 len 3
        0x98, 0xDA, 0xF1, 0x10, 0x8C, 0x01, // EFF 18DAF110, FD len 12, BRS
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];

    fn two_frames() -> [CanFrame; 2] {
        let fd_data: Vec<u8> = (1..=12).collect();
        [
            std_frame(0x7E0, &[0x02, 0x10, 0x01]),
            CanFrame::new_fd(ExtendedId::new(0x18DA_F110).unwrap(), &fd_data, true).unwrap(),
        ]
    }

    #[test]
    fn decode_reads_classic_and_fd_frames() {
        let d = decode(TWO_FRAMES).unwrap();
        assert_eq!(d.seq(), 7);
        assert_eq!(d.count(), 2);
        let frames: Vec<_> = d.frames().collect();
        let [a, b] = two_frames();
        assert_eq!(frames, vec![TunnelFrame::Data(a), TunnelFrame::Data(b)]);
    }

    #[test]
    fn encode_writes_the_same_bytes() {
        assert_eq!(encode(7, &two_frames()).unwrap(), TWO_FRAMES);
    }

    #[test]
    fn empty_datagram_is_valid() {
        assert_eq!(decode(&[2, 0, 0, 0, 0]).unwrap().frames().count(), 0);
    }

    #[test]
    fn remote_frame_has_no_data_bytes() {
        let d = decode(&[2, 0, 0, 0, 1, 0x40, 0, 0x01, 0x23, 4]).unwrap();
        let id = CanId::Standard(StandardId::new(0x123).unwrap());
        assert_eq!(d.frames().next(), Some(TunnelFrame::Remote { id, dlc: 4 }));
    }

    #[test]
    fn error_frame_is_reported_with_its_class() {
        let mut bytes = vec![2, 0, 0, 0, 1, 0x20, 0, 0, 0x04, 8];
        bytes.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7]);
        let TunnelFrame::Error { class, len, data } =
            decode(&bytes).unwrap().frames().next().unwrap()
        else {
            panic!("not an error frame")
        };
        assert_eq!((class, len, data[7]), (4, 8, 7));
    }

    #[test]
    fn count_larger_than_the_frames_present_is_truncated() {
        let mut bytes = TWO_FRAMES.to_vec();
        bytes[4] = 3;
        assert_eq!(
            decode(&bytes).unwrap_err(),
            DecodeError::Truncated {
                index: 2,
                count: 3,
                offset: TWO_FRAMES.len(),
                needed: 5,
                available: 0
            }
        );
    }

    #[test]
    fn count_of_65535_on_a_short_datagram_is_an_error_not_a_loop_or_panic() {
        assert!(matches!(
            decode(&[2, 0, 0, 0xFF, 0xFF, 0, 0, 0, 1, 0]).unwrap_err(),
            DecodeError::Truncated { index: 1, count: 0xFFFF, .. }
        ));
    }

    #[test]
    fn data_shorter_than_len_is_truncated() {
        let bytes = &TWO_FRAMES[..TWO_FRAMES.len() - 1];
        assert_eq!(
            decode(bytes).unwrap_err(),
            DecodeError::Truncated { index: 1, count: 2, offset: 13, needed: 18, available: 17 }
        );
    }

    #[test]
    fn fd_flags_byte_missing_is_truncated() {
        let bytes = [2, 0, 0, 0, 1, 0, 0, 0, 1, 0x88];
        assert!(matches!(
            decode(&bytes).unwrap_err(),
            DecodeError::Truncated { needed: 6, available: 5, .. }
        ));
    }

    #[test]
    fn classic_len_above_8_is_refused() {
        let mut bytes = vec![2, 0, 0, 0, 1, 0, 0, 0, 1, 9];
        bytes.extend_from_slice(&[0; 9]);
        assert_eq!(
            decode(&bytes).unwrap_err(),
            DecodeError::ClassicLength { index: 0, offset: 5, len: 9 }
        );
    }

    #[test]
    fn fd_len_without_a_dlc_is_refused() {
        let mut bytes = vec![2, 0, 0, 0, 1, 0, 0, 0, 1, 0x80 | 9, 0];
        bytes.extend_from_slice(&[0; 9]);
        assert_eq!(
            decode(&bytes).unwrap_err(),
            DecodeError::FdLength { index: 0, offset: 5, len: 9 }
        );
        // 0x7F + FD flag: 127 bytes claimed, more than any FD frame.
        assert!(matches!(
            decode(&[2, 0, 0, 0, 1, 0, 0, 0, 1, 0xFF, 0]).unwrap_err(),
            DecodeError::FdLength { len: 127, .. }
        ));
    }

    #[test]
    fn standard_id_above_11_bits_is_refused() {
        assert!(matches!(
            decode(&[2, 0, 0, 0, 1, 0, 0, 0x08, 0x00, 0]).unwrap_err(),
            DecodeError::StandardIdRange { raw: 0x800, .. }
        ));
    }

    #[test]
    fn remote_fd_frame_is_refused() {
        assert!(matches!(
            decode(&[2, 0, 0, 0, 1, 0x40, 0, 0, 1, 0x80, 0]).unwrap_err(),
            DecodeError::RemoteFd { .. }
        ));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = TWO_FRAMES.to_vec();
        bytes.push(0);
        assert_eq!(
            decode(&bytes).unwrap_err(),
            DecodeError::TrailingBytes { count: 2, offset: TWO_FRAMES.len(), extra: 1 }
        );
    }

    #[test]
    fn wrong_version_op_and_short_header_are_refused() {
        assert_eq!(decode(&[2, 0, 0]).unwrap_err(), DecodeError::ShortHeader { len: 3 });
        assert_eq!(decode(&[1, 0, 0, 0, 0]).unwrap_err(), DecodeError::Version { found: 1 });
        assert_eq!(decode(&[2, 1, 0, 0, 0]).unwrap_err(), DecodeError::OpCode { found: 1 });
    }

    #[test]
    fn encoder_refuses_a_frame_that_would_overflow_the_datagram() {
        let mut enc = Encoder::new(0); // clamped to one 64-byte FD frame
        let big = CanFrame::new_fd(StandardId::new(1).unwrap(), &[0; 64], false).unwrap();
        assert!(enc.push(&big));
        assert!(!enc.push(&std_frame(1, &[])));
        assert_eq!(enc.finish(1).len(), HEADER_LEN + FRAME_BASE_LEN + 1 + 64);
        enc.clear();
        assert!(enc.is_empty());
        assert!(enc.push(&std_frame(1, &[])));
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        fn any_frame() -> impl Strategy<Value = CanFrame> {
            (
                any::<bool>(),
                0u32..0x2000_0000,
                any::<bool>(),
                any::<bool>(),
                0usize..16,
                any::<[u8; 64]>(),
            )
                .prop_map(|(ext, raw, fd, brs, dlc, data)| {
                    let id = CanId::new(if ext { raw } else { raw & 0x7FF }, ext).unwrap();
                    if fd {
                        let len = crate::codec::can::fd_len_for_dlc(dlc as u8);
                        CanFrame::new_fd(id, &data[..len], brs).unwrap()
                    } else {
                        CanFrame::new(id, &data[..dlc.min(8)]).unwrap()
                    }
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn frames_round_trip(seq: u8, frames in proptest::collection::vec(any_frame(), 0..20)) {
                let bytes = encode(seq, &frames).unwrap();
                let d = decode(&bytes).unwrap();
                prop_assert_eq!(d.seq(), seq);
                let back: Vec<_> = d.frames().collect();
                let want: Vec<_> = frames.into_iter().map(TunnelFrame::Data).collect();
                prop_assert_eq!(back, want);
            }

            #[test]
            fn arbitrary_bytes_never_panic_and_iterate_to_count(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
                if let Ok(d) = decode(&bytes) {
                    prop_assert_eq!(d.frames().count(), d.count() as usize);
                }
            }

            #[test]
            fn every_truncation_of_a_valid_datagram_is_an_error(frames in proptest::collection::vec(any_frame(), 1..5), cut in any::<prop::sample::Index>()) {
                let bytes = encode(0, &frames).unwrap();
                let cut = cut.index(bytes.len());
                prop_assert!(decode(&bytes[..cut]).is_err());
            }
        }
    }
}
