//! The container: records of a pcap or pcapng file, parsed with pcap-file's sans-I/O parsers
//! and handed out one at a time, like the DoIP [`Deframer`](crate::codec::doip::Deframer):
//! the caller keeps the bytes and calls [`FileParser::next`] on the unconsumed part.
//!
//! - pcap: either byte order, microsecond or nanosecond magic; one link type per file.
//! - pcapng: either byte order per section, several sections, several interfaces each with its
//!   link type, `if_tsresol` and `if_tsoffset`; enhanced, simple and obsolete packet blocks.
//!   Other blocks (statistics, name resolution, custom) are skipped.
//! - No record is held: a record longer than [`MAX_RECORD_LEN`] is an error, so the caller never
//!   buffers more than that. A record whose contents break a rule is skipped and reported; a
//!   file that ends inside a record is reported by [`FileParser::finish`] with the offset.
//!
//! May import: `crate::codec` (nothing from it yet) and `crate::pcap`.

use std::time::Duration;

use pcap_file::Endianness;
use pcap_file::pcap::{PcapParseError, PcapParser};
use pcap_file::pcapng::blocks::{ENHANCED_PACKET_BLOCK, PACKET_BLOCK, SIMPLE_PACKET_BLOCK};
use pcap_file::pcapng::{Block, PcapNgParseError, PcapNgParser};

/// The longest record (pcap record header + data, or pcapng block) the parser accepts: far above
/// any snap length tcpdump uses (262 144), far below what would hurt to hold.
pub const MAX_RECORD_LEN: usize = 4 << 20;

/// One packet of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// 1-based packet number, as Wireshark counts them (blocks that are not packets do not count).
    pub number: u64,
    /// The pcapng interface (0 for pcap).
    pub interface: u32,
    /// The link type of that interface (tcpdump.org LINKTYPE_* value).
    pub linktype: u32,
    /// Time since 1970-01-01 UTC (zero for pcapng simple packet blocks, which carry none).
    pub time: Duration,
    /// The captured bytes, link-layer header first.
    pub data: &'a [u8],
    /// The length on the wire (larger than `data` when the snap length cut it).
    pub original_len: u32,
    /// Every record of the file has this link type: a pcap file has one, in its header (a
    /// pcapng file may declare interfaces of other types at any point).
    pub one_link_type: bool,
}

/// What [`FileParser::next`] found at the front of the input.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// A packet, `len` bytes of input: consume them.
    Record { record: Record<'a>, len: usize },
    /// The file header or a non-packet block, `len` bytes: consume them.
    Header { len: usize },
    /// A record that breaks a rule of the format, `len` bytes: consume them and report `why`.
    Skipped { len: usize, why: String },
    /// At least `needed` more bytes must arrive (not an error until the input ends).
    NeedMore { needed: usize },
    /// The input cannot be read further: report and stop.
    Fatal(FileError),
}

/// Why a capture file cannot be read (further).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The first bytes are no pcap or pcapng magic number.
    #[error("not a pcap or pcapng file: the file starts with {start}")]
    NotACapture { start: String },
    /// A record or block declares more than [`MAX_RECORD_LEN`] bytes.
    #[error("record at byte {offset} declares {len} bytes, above the {MAX_RECORD_LEN}-byte limit")]
    RecordTooLong { offset: u64, len: u64 },
    /// The pcap or pcapng structure is broken where it cannot be skipped.
    #[error("broken capture structure at byte {offset}: {why}")]
    Broken { offset: u64, why: String },
    /// The file ends inside a record.
    #[error(
        "the file ends inside the record at byte {offset}: {available} of {needed} bytes present \
         (a truncated last record; everything before it was read)"
    )]
    Truncated { offset: u64, available: usize, needed: usize },
}

/// The file's container format: pcap or pcapng, known from its first 4 bytes.
enum Container {
    /// Not yet known: the first 4 bytes decide.
    Unknown,
    Pcap {
        parser: PcapParser,
        linktype: u32,
        big_endian: bool,
    },
    PcapNg {
        parser: PcapNgParser,
    },
}

/// The container parser: which format, how far, how many packets.
pub struct FileParser {
    format: Container,
    /// Byte offset of the next record in the file.
    offset: u64,
    packets: u64,
}

impl Default for FileParser {
    fn default() -> Self {
        Self::new()
    }
}

const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xA1, 0xB2, 0xC3, 0xD4],
    [0xD4, 0xC3, 0xB2, 0xA1],
    [0xA1, 0xB2, 0x3C, 0x4D],
    [0x4D, 0x3C, 0xB2, 0xA1],
];

impl FileParser {
    pub const fn new() -> Self {
        FileParser { format: Container::Unknown, offset: 0, packets: 0 }
    }

    /// Packets handed out so far.
    pub const fn packets(&self) -> u64 {
        self.packets
    }

    /// Byte offset of the next record.
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// Looks at the front of `input` (the file bytes not yet consumed).
    pub fn next<'a>(&mut self, input: &'a [u8]) -> Parsed<'a> {
        let parsed = match self.format {
            Container::Unknown => self.header(input),
            Container::Pcap { .. } => self.pcap_record(input),
            Container::PcapNg { .. } => self.pcapng_block(input),
        };
        match &parsed {
            Parsed::Record { len, .. } | Parsed::Header { len } | Parsed::Skipped { len, .. } => {
                self.offset += *len as u64;
            }
            Parsed::NeedMore { .. } | Parsed::Fatal(_) => {}
        }
        parsed
    }

    /// Called when the input has ended with `remaining` bytes unconsumed: the truncation, if
    /// the file ended inside a record (an empty file is not a capture).
    pub fn finish(&mut self, remaining: &[u8]) -> Option<FileError> {
        if matches!(self.format, Container::Unknown) && remaining.len() < 4 {
            return Some(FileError::NotACapture { start: hex_start(remaining) });
        }
        if remaining.is_empty() {
            return None;
        }
        match self.next(remaining) {
            Parsed::NeedMore { needed } => Some(FileError::Truncated {
                offset: self.offset,
                available: remaining.len(),
                needed: remaining.len().saturating_add(needed),
            }),
            Parsed::Fatal(e) => Some(e),
            _ => None,
        }
    }

    fn header<'a>(&mut self, input: &'a [u8]) -> Parsed<'a> {
        let Some(magic) = input.get(..4) else {
            return Parsed::NeedMore { needed: 4 - input.len() };
        };
        if magic == PCAPNG_MAGIC {
            return match PcapNgParser::new(input) {
                Ok((rest, parser)) => {
                    self.format = Container::PcapNg { parser };
                    Parsed::Header { len: input.len() - rest.len() }
                }
                Err(e) => Parsed::from_pcapng_error(self.offset, e),
            };
        }
        if !PCAP_MAGICS.iter().any(|m| m == magic) {
            return Parsed::Fatal(FileError::NotACapture { start: hex_start(input) });
        }
        match PcapParser::new(input) {
            Ok((rest, parser)) => {
                let header = parser.header();
                self.format = Container::Pcap {
                    linktype: u32::from(header.datalink),
                    big_endian: header.endianness == Endianness::Big,
                    parser,
                };
                Parsed::Header { len: input.len() - rest.len() }
            }
            Err(PcapParseError::IncompleteBuffer(needed, got)) => {
                Parsed::NeedMore { needed: needed.saturating_sub(got).max(1) }
            }
            Err(e) => Parsed::Fatal(self.broken(e.to_string())),
        }
    }

    fn pcap_record<'a>(&mut self, input: &'a [u8]) -> Parsed<'a> {
        let Container::Pcap { parser, linktype, big_endian } = &self.format else {
            return Parsed::Fatal(self.broken("internal: not a pcap file".into()));
        };
        let Some(len_bytes) = input.get(8..12) else {
            return Parsed::NeedMore { needed: 16 - input.len() };
        };
        let len_bytes: [u8; 4] = [len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]];
        let incl_len =
            if *big_endian { u32::from_be_bytes(len_bytes) } else { u32::from_le_bytes(len_bytes) };
        let total = 16 + u64::from(incl_len);
        if total > MAX_RECORD_LEN as u64 {
            return Parsed::Fatal(FileError::RecordTooLong { offset: self.offset, len: total });
        }
        let total = total as usize;
        if input.len() < total {
            return Parsed::NeedMore { needed: total - input.len() };
        }
        match parser.next_packet(&input[..total]) {
            Ok((_, packet)) => {
                self.packets += 1;
                let record = Record {
                    number: self.packets,
                    interface: 0,
                    linktype: *linktype,
                    time: packet.timestamp(),
                    original_len: packet.orig_len(),
                    data: &input[16..total],
                    one_link_type: true,
                };
                Parsed::Record { record, len: total }
            }
            // The length framing held, so the next record starts after this one: skip it. It
            // still counts as a packet, so later packet numbers match Wireshark's.
            Err(e) => {
                self.packets += 1;
                Parsed::Skipped { len: total, why: format!("packet {}: {e}", self.packets) }
            }
        }
    }

    fn pcapng_block<'a>(&mut self, input: &'a [u8]) -> Parsed<'a> {
        let Container::PcapNg { parser } = &mut self.format else {
            return Parsed::Fatal(self.broken("internal: not a pcapng file".into()));
        };
        if input.len() < 8 {
            return Parsed::NeedMore { needed: 8 - input.len() };
        }
        // A section header announces its own byte order in its magic; other blocks use the
        // order of the section they are in.
        let big_endian = if input[..4] == PCAPNG_MAGIC {
            input.get(8..12).map(|m| m == [0x1A, 0x2B, 0x3C, 0x4D])
        } else {
            Some(parser.section().endianness == Endianness::Big)
        };
        let Some(big_endian) = big_endian else {
            return Parsed::NeedMore { needed: 12 - input.len() };
        };
        let len_bytes = [input[4], input[5], input[6], input[7]];
        let total =
            if big_endian { u32::from_be_bytes(len_bytes) } else { u32::from_le_bytes(len_bytes) };
        if total as usize > MAX_RECORD_LEN {
            return Parsed::Fatal(FileError::RecordTooLong {
                offset: self.offset,
                len: u64::from(total),
            });
        }
        let total = total as usize;
        if total >= 12 && total.is_multiple_of(4) && input.len() < total {
            return Parsed::NeedMore { needed: total - input.len() };
        }
        let raw = match parser.next_raw_block(input) {
            Ok((_, raw)) => raw,
            Err(e) => return Parsed::from_pcapng_error(self.offset, e),
        };
        let packet_block =
            matches!(raw.type_, ENHANCED_PACKET_BLOCK | SIMPLE_PACKET_BLOCK | PACKET_BLOCK);
        if !packet_block {
            return Parsed::Header { len: total };
        }
        self.packets += 1;
        let number = self.packets;
        let block = match raw.try_into_block(parser.state()) {
            Ok(block) => block,
            Err(e) => {
                return Parsed::Skipped { len: total, why: format!("packet {number}: {e}") };
            }
        };
        let interfaces = parser.interfaces();
        let linktype_of = |id: u32| interfaces.get(id as usize).map(|i| u32::from(i.linktype));
        let (interface, time, original_len, data) = match block {
            Block::EnhancedPacket(p) => (p.interface_id, p.timestamp, p.original_len, p.data),
            Block::Packet(p) => (u32::from(p.interface_id), p.timestamp, p.original_len, p.data),
            Block::SimplePacket(p) => (0, Duration::ZERO, p.original_len, p.data),
            _ => return Parsed::Header { len: total },
        };
        let Some(linktype) = linktype_of(interface) else {
            return Parsed::Skipped {
                len: total,
                why: format!("packet {number}: interface {interface} was never described"),
            };
        };
        // A block parsed from borrowed bytes borrows its data; pcap-file never copies it.
        let std::borrow::Cow::Borrowed(data) = data else {
            return Parsed::Skipped {
                len: total,
                why: format!("packet {number}: data was copied"),
            };
        };
        let record =
            Record { number, interface, linktype, time, data, original_len, one_link_type: false };
        Parsed::Record { record, len: total }
    }

    fn broken(&self, why: String) -> FileError {
        FileError::Broken { offset: self.offset, why }
    }
}

impl Parsed<'_> {
    fn from_pcapng_error(offset: u64, e: PcapNgParseError) -> Self {
        match e {
            PcapNgParseError::IncompleteBuffer(needed, got) => {
                Parsed::NeedMore { needed: needed.saturating_sub(got).max(1) }
            }
            // Framing errors leave no next block to find; a section header or interface
            // description that does not decode would shift the interface numbering of every
            // packet after it. Either way reading stops here.
            e => Parsed::Fatal(FileError::Broken { offset, why: describe_pcapng(&e) }),
        }
    }
}

fn describe_pcapng(e: &PcapNgParseError) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The first bytes as hex, for "not a capture" messages.
fn hex_start(input: &[u8]) -> String {
    if input.is_empty() {
        return "nothing (empty file)".into();
    }
    input.iter().take(8).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
