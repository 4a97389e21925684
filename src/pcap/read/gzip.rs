//! gzip (RFC 1952) decompression, streaming and sans-I/O: compressed bytes in, capture bytes
//! out, with the deflate window (32 KiB) as the only state, so a `.pcap.gz` costs no more memory
//! than the plain file. The deflate stream itself is miniz_oxide's (already in the dependency
//! tree through `backtrace`); the member header is read here.
//!
//! Several members one after another (what `cat a.gz b.gz` makes) are read as one stream, as
//! gzip does. The CRC-32 of each member is not checked: the capture's own structure catches
//! corrupted contents, and a broken deflate stream is an error.
//!
//! May import: nothing of this crate.

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// The first two bytes of every gzip member (RFC 1952 §2.3.1 ID1, ID2).
pub const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];

/// Header flags (RFC 1952 §2.3.1 FLG).
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
/// CRC-32 and ISIZE after each member's deflate stream.
const TRAILER_LEN: usize = 8;

/// Why the compressed stream cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    #[error("gzip member at byte {offset}: {why}")]
    Header { offset: u64, why: &'static str },
    #[error("gzip deflate stream broken near compressed byte {offset} ({why})")]
    Deflate { offset: u64, why: String },
    #[error("gzip stream ends inside a member (at compressed byte {offset})")]
    Truncated { offset: u64 },
}

enum State {
    /// Reading a member header; `Some` once the whole header is known to be in the input.
    Header,
    Body,
    Trailer {
        remaining: usize,
    },
    /// Between members: more input starts another member; the end of input is fine.
    Between,
}

/// One decompression in progress.
pub struct Gunzip {
    inflate: Box<InflateState>,
    state: State,
    /// Compressed bytes consumed so far.
    offset: u64,
}

/// What one [`Gunzip::decompress`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decompressed {
    /// Compressed bytes consumed.
    pub consumed: usize,
    /// Decompressed bytes written.
    pub written: usize,
    /// More compressed input is needed to go on (the output is not full).
    pub needs_input: bool,
}

impl Default for Gunzip {
    fn default() -> Self {
        Self::new()
    }
}

impl Gunzip {
    pub fn new() -> Self {
        Gunzip {
            inflate: InflateState::new_boxed(DataFormat::Raw),
            state: State::Header,
            offset: 0,
        }
    }

    /// Decompresses from `input` into `output`. Call again with the unconsumed input (plus
    /// more) while `needs_input`, or with more output room when `output` filled up.
    pub fn decompress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<Decompressed, GzipError> {
        let mut consumed = 0;
        let mut written = 0;
        loop {
            let rest = &input[consumed..];
            match self.state {
                State::Header | State::Between => {
                    if rest.is_empty() {
                        return Ok(Decompressed { consumed, written, needs_input: true });
                    }
                    match member_header_len(rest) {
                        Ok(Some(len)) => {
                            consumed += len;
                            self.offset += len as u64;
                            self.inflate.reset(DataFormat::Raw);
                            self.state = State::Body;
                        }
                        Ok(None) => {
                            return Ok(Decompressed { consumed, written, needs_input: true });
                        }
                        Err(why) => return Err(GzipError::Header { offset: self.offset, why }),
                    }
                }
                State::Body => {
                    if written == output.len() {
                        return Ok(Decompressed { consumed, written, needs_input: false });
                    }
                    let r = inflate(&mut self.inflate, rest, &mut output[written..], MZFlush::None);
                    consumed += r.bytes_consumed;
                    written += r.bytes_written;
                    self.offset += r.bytes_consumed as u64;
                    match r.status {
                        Ok(MZStatus::StreamEnd) => {
                            self.state = State::Trailer { remaining: TRAILER_LEN };
                        }
                        Ok(_) | Err(MZError::Buf) => {
                            if r.bytes_consumed == 0 && r.bytes_written == 0 {
                                let needs_input = written < output.len();
                                return Ok(Decompressed { consumed, written, needs_input });
                            }
                        }
                        Err(e) => {
                            return Err(GzipError::Deflate {
                                offset: self.offset,
                                why: format!("{e:?}"),
                            });
                        }
                    }
                }
                State::Trailer { remaining } => {
                    let take = remaining.min(rest.len());
                    consumed += take;
                    self.offset += take as u64;
                    if take == remaining {
                        self.state = State::Between;
                    } else {
                        self.state = State::Trailer { remaining: remaining - take };
                        return Ok(Decompressed { consumed, written, needs_input: true });
                    }
                }
            }
        }
    }

    /// Called when the compressed input has ended: an error if it ended inside a member.
    pub fn finish(&self) -> Result<(), GzipError> {
        match self.state {
            State::Between => Ok(()),
            _ => Err(GzipError::Truncated { offset: self.offset }),
        }
    }
}

/// The length of the member header at the front of `input`, `None` if it is not all there yet.
fn member_header_len(input: &[u8]) -> Result<Option<usize>, &'static str> {
    if input.len() < 10 {
        if !GZIP_MAGIC.starts_with(&input[..input.len().min(2)]) {
            return Err("not a gzip member (magic 1f 8b missing)");
        }
        return Ok(None);
    }
    if input[..2] != GZIP_MAGIC {
        return Err("not a gzip member (magic 1f 8b missing)");
    }
    // RFC 1952 §2.3.1: CM 8 is deflate, the only method defined.
    if input[2] != 8 {
        return Err("compression method is not deflate (CM 8)");
    }
    let flags = input[3];
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let Some(xlen) = input.get(at..at + 2) else { return Ok(None) };
        at += 2 + usize::from(u16::from_le_bytes([xlen[0], xlen[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(tail) = input.get(at..) else { return Ok(None) };
            match tail.iter().position(|&b| b == 0) {
                Some(end) => at += end + 1,
                // A name longer than the whole input so far: wait, but not forever.
                None if tail.len() < 64 * 1024 => return Ok(None),
                None => return Err("file name or comment longer than 64 KiB"),
            }
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    Ok((input.len() >= at).then_some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "hello, capture\n" compressed by `gzip -n` (no name, no time).
    const HELLO_GZ: [u8; 35] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
        0xd7, 0x51, 0x48, 0x4e, 0x2c, 0x28, 0x29, 0x2d, 0x4a, 0xe5, 0x02, 0x00, 0x43, 0x1b, 0xa9,
        0x78, 0x0f, 0x00, 0x00, 0x00,
    ];

    fn gunzip_all(input: &[u8], chunk: usize, out_room: usize) -> Result<Vec<u8>, GzipError> {
        let mut g = Gunzip::new();
        let mut out = Vec::new();
        let mut buf = vec![0; out_room];
        let mut pending: Vec<u8> = Vec::new();
        for piece in input.chunks(chunk) {
            pending.extend_from_slice(piece);
            loop {
                let p = g.decompress(&pending, &mut buf)?;
                out.extend_from_slice(&buf[..p.written]);
                pending.drain(..p.consumed);
                if p.needs_input {
                    break;
                }
            }
        }
        g.finish()?;
        Ok(out)
    }

    #[test]
    fn decompresses_in_any_chunking_and_output_room() {
        for (chunk, room) in [(1000, 1000), (1, 3), (7, 1)] {
            assert_eq!(gunzip_all(&HELLO_GZ, chunk, room).unwrap(), b"hello, capture\n");
        }
    }

    #[test]
    fn two_members_read_as_one_stream() {
        let two = [HELLO_GZ, HELLO_GZ].concat();
        assert_eq!(gunzip_all(&two, 5, 4).unwrap(), b"hello, capture\nhello, capture\n");
    }

    #[test]
    fn a_cut_stream_is_truncated_and_garbage_is_an_error() {
        assert_eq!(gunzip_all(&HELLO_GZ[..20], 100, 100), Err(GzipError::Truncated { offset: 20 }));
        let mut bad = HELLO_GZ;
        bad[2] = 7;
        assert!(matches!(gunzip_all(&bad, 100, 100), Err(GzipError::Header { offset: 0, .. })));
        let mut bad = HELLO_GZ;
        bad[10] = 0xFF;
        assert!(matches!(gunzip_all(&bad, 100, 100), Err(GzipError::Deflate { .. })));
    }

    #[test]
    fn a_file_name_without_end_is_refused_after_64_kib() {
        let mut g = HELLO_GZ[..10].to_vec();
        g[3] = FNAME;
        g.extend(std::iter::repeat_n(b'a', 70 * 1024));
        let mut out = [0u8; 16];
        let err = Gunzip::new().decompress(&g, &mut out).unwrap_err();
        assert!(matches!(err, GzipError::Header { offset: 0, .. }), "{err}");
        // Shorter than that, it waits for the rest of the name.
        let p = Gunzip::new().decompress(&g[..1000], &mut out).unwrap();
        assert!(p.needs_input && p.consumed == 0);
    }

    #[test]
    fn optional_header_fields_are_skipped() {
        // FEXTRA (2 bytes), FNAME "a", FCOMMENT "", FHCRC.
        let mut g = HELLO_GZ[..10].to_vec();
        g[3] = FEXTRA | FNAME | FCOMMENT | FHCRC;
        g.extend_from_slice(&[2, 0, 0xAA, 0xBB, b'a', 0, 0, 0x12, 0x34]);
        g.extend_from_slice(&HELLO_GZ[10..]);
        assert_eq!(gunzip_all(&g, 3, 16).unwrap(), b"hello, capture\n");
    }
}
