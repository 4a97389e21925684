//! Fuzz entry point `cannelloni_datagram`: any bytes as a cannelloni v2 datagram, with oracles:
//! - an error names an offset inside the datagram (or its end) and a frame index below the
//!   declared count;
//! - a datagram that decodes yields exactly `count` frames;
//! - if every frame is a data frame, encoding them again gives a datagram of the same length
//!   that decodes to the same frames and sequence number, and the very same bytes when no FD
//!   flags byte carries bits other than BRS (the only flag a frame keeps).
//!
//! May import `crate::codec`.

use crate::codec::can::CanFrame;
use crate::codec::cannelloni::{self, DecodeError, FD_FLAG_BRS, TunnelFrame};

pub fn cannelloni_datagram(data: &[u8]) {
    let datagram = match cannelloni::decode(data) {
        Ok(d) => d,
        Err(e) => return check_error(&e, data.len()),
    };
    let frames: Vec<TunnelFrame> = datagram.frames().collect();
    assert_eq!(frames.len(), datagram.count() as usize, "frames() disagrees with count");
    let data_frames: Vec<CanFrame> = frames
        .iter()
        .filter_map(|f| match f {
            TunnelFrame::Data(frame) => Some(*frame),
            _ => None,
        })
        .collect();
    if data_frames.len() != frames.len() {
        return;
    }
    let again = cannelloni::encode(datagram.seq(), &data_frames).expect("a decoded datagram fits");
    assert_eq!(again.len(), data.len(), "re-encoding changed the length");
    let back = cannelloni::decode(&again).expect("our own encoding decodes");
    assert_eq!(back.seq(), datagram.seq());
    assert!(back.frames().eq(frames.iter().copied()), "re-encoding changed the frames");
    if only_brs_flags(data, datagram.count()) {
        assert_eq!(again, data, "canonical input did not round-trip byte for byte");
    }
}

fn check_error(e: &DecodeError, len: usize) {
    let (offset, index, count) = match *e {
        DecodeError::ShortHeader { len: l } => (l, 0, 1),
        DecodeError::Version { .. } | DecodeError::OpCode { .. } => (0, 0, 1),
        DecodeError::Truncated { index, count, offset, needed, available } => {
            assert!(needed > available, "truncated but {needed} <= {available}");
            (offset, index, count)
        }
        DecodeError::ClassicLength { index, offset, .. }
        | DecodeError::FdLength { index, offset, .. }
        | DecodeError::StandardIdRange { index, offset, .. }
        | DecodeError::RemoteFd { index, offset } => (offset, index, u16::MAX),
        DecodeError::TrailingBytes { offset, extra, .. } => {
            assert_eq!(offset + extra, len, "trailing bytes miscounted");
            (offset, 0, 1)
        }
    };
    assert!(offset <= len, "{e}: offset {offset} beyond the {len}-byte datagram");
    assert!(index < count.max(1), "{e}: frame index {index} not below count {count}");
}

/// True when every FD flags byte of a valid datagram holds at most the BRS bit.
fn only_brs_flags(data: &[u8], count: u16) -> bool {
    let mut at = cannelloni::HEADER_LEN;
    for _ in 0..count {
        let len_byte = data[at + 4];
        at += cannelloni::FRAME_BASE_LEN;
        if len_byte & cannelloni::LEN_FD_FLAG != 0 {
            if data[at] & !FD_FLAG_BRS != 0 {
                return false;
            }
            at += 1;
        }
        at += usize::from(len_byte & !cannelloni::LEN_FD_FLAG);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oracle_accepts_valid_and_invalid_datagrams() {
        cannelloni_datagram(&[2, 0, 9, 0, 1, 0, 0, 0x07, 0xE0, 2, 0x10, 0x01]);
        cannelloni_datagram(&[2, 0, 9, 0, 1, 0, 0, 0x07, 0xE0, 0x82, 0x06, 0x10, 0x01]);
        cannelloni_datagram(&[2, 0, 0, 0xFF, 0xFF, 1]);
        cannelloni_datagram(&[]);
    }
}
