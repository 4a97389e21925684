//! Reading a whole capture from any byte source ([`std::io::Read`]: a file, a slice): gzip
//! detected by its magic and decompressed on the way, records parsed by [`FileParser`] from a
//! buffer that holds at most one record beyond what was handed out. The source is the only
//! thing that does I/O here; [`crate::pcap::source`] opens files for it.
//!
//! May import: `crate::codec` and `crate::pcap`.

use std::io::{self, Read};
use std::ops::ControlFlow;

use super::file::{FileError, FileParser, MAX_RECORD_LEN, Parsed, Record};
use super::gzip::{GZIP_MAGIC, Gunzip, GzipError};

/// Bytes asked of the source at a time.
const READ_CHUNK: usize = 256 * 1024;

/// How reading a capture went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadSummary {
    /// Records handed out.
    pub records: u64,
    /// The input was gzip-compressed.
    pub gzip: bool,
    /// Records passed over, with why (the rest was still read).
    pub skipped: Vec<String>,
    /// Why reading stopped before the end of the input (a broken structure, a truncated last
    /// record, a gzip stream cut short), if it did.
    pub stopped: Option<String>,
}

impl ReadSummary {
    /// Nothing could be read: the input is no capture at all (exit 2 territory).
    pub fn unreadable(&self) -> bool {
        self.records == 0 && self.stopped.is_some()
    }
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
enum StopReason {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Gzip(#[from] GzipError),
    #[error("reading failed: {0}")]
    Io(#[from] io::Error),
}

/// The source's bytes, decompressed when they are gzip.
struct Input<R> {
    source: R,
    gunzip: Option<(Gunzip, Vec<u8>)>,
    /// The source has ended.
    eof: bool,
}

impl<R: Read> Input<R> {
    /// Appends up to `want` bytes to `out`; 0 only at the end of input.
    fn fill(&mut self, out: &mut Vec<u8>, want: usize) -> Result<usize, StopReason> {
        let start = out.len();
        out.resize(start + want, 0);
        let got = match &mut self.gunzip {
            None => read_some(&mut self.source, &mut out[start..])?,
            Some((gunzip, compressed)) => loop {
                let p = gunzip.decompress(compressed, &mut out[start..])?;
                compressed.drain(..p.consumed);
                if p.written > 0 || !p.needs_input {
                    break p.written;
                }
                if self.eof {
                    gunzip.finish()?;
                    break 0;
                }
                let have = compressed.len();
                compressed.resize(have + READ_CHUNK, 0);
                let n = read_some(&mut self.source, &mut compressed[have..])?;
                compressed.truncate(have + n);
                self.eof = n == 0;
            },
        };
        out.truncate(start + got);
        Ok(got)
    }
}

fn read_some(source: &mut impl Read, buf: &mut [u8]) -> Result<usize, io::Error> {
    loop {
        match source.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads every record of the capture in `source`, calling `on_record` for each, until the end
/// of the input or until `on_record` breaks (its output went away: nothing more is read).
pub fn read_records<R: Read>(
    mut source: R,
    mut on_record: impl FnMut(&Record<'_>) -> ControlFlow<()>,
) -> ReadSummary {
    let mut outcome = ReadSummary::default();
    let mut buffer = Vec::with_capacity(READ_CHUNK);
    // Sniff gzip from the first two bytes.
    let mut head = [0u8; 2];
    let mut have = 0;
    while have < 2 {
        match read_some(&mut source, &mut head[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(e) => {
                outcome.stopped = Some(StopReason::Io(e).to_string());
                return outcome;
            }
        }
    }
    let mut input = Input { source, gunzip: None, eof: false };
    if have == 2 && head == GZIP_MAGIC {
        outcome.gzip = true;
        input.gunzip = Some((Gunzip::new(), head.to_vec()));
    } else {
        buffer.extend_from_slice(&head[..have]);
    }
    let mut parser = FileParser::new();
    let mut pos = 0;
    let stop = loop {
        match parser.next(&buffer[pos..]) {
            Parsed::Record { record, len } => {
                outcome.records += 1;
                if on_record(&record).is_break() {
                    break None;
                }
                pos += len;
            }
            Parsed::Header { len } => pos += len,
            Parsed::Skipped { len, why } => {
                outcome.skipped.push(why);
                pos += len;
            }
            Parsed::Fatal(e) => break Some(StopReason::File(e)),
            Parsed::NeedMore { needed } => {
                buffer.drain(..pos);
                pos = 0;
                let want = needed.clamp(READ_CHUNK, MAX_RECORD_LEN + READ_CHUNK);
                match input.fill(&mut buffer, want) {
                    Ok(0) => break parser.finish(&buffer).map(StopReason::File),
                    Ok(_) => {}
                    Err(e) => break Some(e),
                }
            }
        }
    };
    outcome.stopped = stop.map(|s| s.to_string());
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap header (little-endian, microseconds, Ethernet) and one 4-byte record.
    fn tiny_pcap() -> Vec<u8> {
        let mut f = vec![0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&[
            1, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD,
        ]);
        f
    }

    #[test]
    fn a_truncated_last_record_is_reported_after_the_records_before_it() {
        let mut f = tiny_pcap();
        f.extend_from_slice(&[1, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0xAA]);
        let mut seen = Vec::new();
        let outcome = read_records(&f[..], |r| {
            seen.push(r.data.to_vec());
            ControlFlow::Continue(())
        });
        assert_eq!(seen, [vec![0xAA, 0xBB, 0xCC, 0xDD]]);
        assert!(!outcome.unreadable());
        let stopped = outcome.stopped.unwrap();
        assert!(stopped.contains("ends inside the record at byte 44: 17 of 20 bytes"), "{stopped}");
    }

    #[test]
    fn a_break_stops_the_reading_at_once() {
        let mut f = tiny_pcap();
        f.extend_from_within(24..);
        let mut calls = 0;
        let outcome = read_records(&f[..], |_| {
            calls += 1;
            ControlFlow::Break(())
        });
        assert_eq!((calls, outcome.records, outcome.stopped), (1, 1, None));
    }

    #[test]
    fn an_empty_or_foreign_file_is_unreadable() {
        for bytes in [&b""[..], b"GIF89a and so on", b"ab"] {
            let outcome = read_records(bytes, |_| panic!("no record"));
            assert!(outcome.unreadable(), "{bytes:?}: {outcome:?}");
            assert!(outcome.stopped.unwrap().contains("not a pcap or pcapng file"));
        }
    }

    #[test]
    fn a_huge_declared_record_length_stops_without_allocating_it() {
        let mut f = tiny_pcap();
        f.extend_from_slice(&[1, 0, 0, 0, 5, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 4, 0, 0, 0]);
        let outcome = read_records(&f[..], |_| ControlFlow::Continue(()));
        assert_eq!(outcome.records, 1);
        assert!(outcome.stopped.unwrap().contains("above the 4194304-byte limit"));
    }
}
