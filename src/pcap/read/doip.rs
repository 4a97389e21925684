//! The DoIP stream of one direction of a TCP connection: reassembled bytes in, messages out,
//! through the codec's [`Deframer`] (the same one the runner and the simulator use).
//!
//! The reader holds at most one partial message (header + [`Limits::max_message_len`]); a
//! message declaring more is skipped by counting, never buffered. A header the codec rejects is
//! reported with its rule; then the stream goes on as an entity would read it: a header whose
//! pattern is valid (unknown type, wrong length for the type) is skipped by its declared
//! length, and a header that is no DoIP header at all (version or inverse wrong) makes the
//! reader look for the next plausible header. After a gap in the capture the stream is lost
//! too: the next plausible header is searched, and how many bytes were passed over is reported.
//!
//! A plausible header: a version 0x01-0x04 with its inverse (0xFF only on 0x0001-0x0003), a
//! payload type the codec knows, and a length its rule allows and the reader holds.
//!
//! May import: `crate::codec` and `crate::pcap`.
//!
//! [`Limits::max_message_len`]: super::tcp::Limits::max_message_len

use super::event::{At, CaptureEvent, CarriedBy, TcpFlow};
use crate::codec::doip::{
    Deframed, Deframer, Error, HEADER_LEN, Header, HeaderRules, Message, PayloadType, Rule,
};
use crate::pcap::Side;

/// What the stream found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoipEvent<'a> {
    /// A whole message: its bytes and what the codec made of them.
    Message { bytes: &'a [u8], message: Message<'a> },
    /// A header the codec rejects, with the bytes present of it (at most the header and the
    /// payload the reader holds).
    Rejected { bytes: &'a [u8], error: Error },
    /// A message longer than the reader holds: its header, skipped without decoding.
    TooLong { header: [u8; HEADER_LEN], declared: u32 },
    /// The stream was lost (after a gap or a header that is no DoIP header) and found again at
    /// a plausible header after `skipped` bytes.
    Resynced { skipped: u64 },
}

impl<'a> DoipEvent<'a> {
    /// The reader's event for this finding of `from`'s stream on `conn` at `at` (a capture's
    /// and a live run's TCP go through the same mapping).
    pub fn into_capture_event(self, at: At, conn: TcpFlow, from: Side) -> CaptureEvent<'a> {
        let carrier = CarriedBy::Tcp(conn);
        match self {
            DoipEvent::Message { bytes, message } => {
                CaptureEvent::Doip { at, carrier, from, bytes, message: Ok(message) }
            }
            DoipEvent::Rejected { bytes, error } => {
                CaptureEvent::Doip { at, carrier, from, bytes, message: Err(error) }
            }
            DoipEvent::TooLong { header, declared } => {
                CaptureEvent::DoipTooLong { at, conn, from, header, declared }
            }
            DoipEvent::Resynced { skipped } => CaptureEvent::Resynced { at, conn, from, skipped },
        }
    }

    /// Whether the event is a DoIP message (whole, rejected or too long), for counts.
    pub fn is_message(&self) -> bool {
        !matches!(self, DoipEvent::Resynced { .. })
    }
}

/// One direction's DoIP reading state.
#[derive(Debug)]
pub struct DoipStream {
    deframer: Deframer,
    /// Bytes of a partial message (or of a search for a header).
    buffer: Vec<u8>,
    /// `Some(n)`: looking for a plausible header, `n` bytes passed over so far.
    searching: Option<u64>,
    /// The tester's stream toward an entity that declares its MDS: a message declaring more
    /// payload breaks a header rule of the standard (NACK 0x02, ISO 13400-2:2019 Table 19),
    /// not only the reader's hold.
    entity_mds: Option<u32>,
}

impl DoipStream {
    /// A stream holding messages of at most `max_message_len` bytes.
    pub fn new(max_message_len: u32) -> Self {
        let max_payload_length = max_message_len.saturating_sub(HEADER_LEN as u32);
        DoipStream {
            deframer: Deframer::with_rules(HeaderRules { max_payload_length, transport: None }),
            buffer: Vec::new(),
            searching: None,
            entity_mds: None,
        }
    }

    /// The stream of a tester toward an entity whose MDS is `mds` (the profile's
    /// `max_data_size`): a header declaring a longer payload is reported as the header rule
    /// it breaks (`Rejected`, message too large) and its message skipped, as the entity skips it.
    pub fn toward_entity_with_mds(mut self, mds: Option<u32>) -> Self {
        if let Some(mds) = mds {
            let rules = *self.deframer.rules();
            let max_payload_length = rules.max_payload_length.min(mds);
            self.deframer = Deframer::with_rules(HeaderRules { max_payload_length, ..rules });
            self.entity_mds = Some(mds);
        }
        self
    }

    /// Bytes held now.
    pub fn held(&self) -> usize {
        self.buffer.len()
    }

    /// The capture lost bytes of this stream: whatever is held is dropped and the next
    /// plausible header searched.
    pub fn gap(&mut self) {
        let dropped = self.buffer.len() as u64;
        self.buffer.clear();
        self.deframer = Deframer::with_rules(*self.deframer.rules());
        self.searching = Some(self.searching.unwrap_or(0) + dropped);
    }

    /// The next bytes of the stream.
    pub fn feed(&mut self, data: &[u8], sink: &mut impl FnMut(DoipEvent<'_>)) {
        if self.buffer.is_empty() {
            // The common case: whole messages inside one segment are read in place.
            let used = self.read(data, sink);
            self.buffer.extend_from_slice(&data[used..]);
        } else {
            self.buffer.extend_from_slice(data);
            let buffer = std::mem::take(&mut self.buffer);
            let used = self.read(&buffer, sink);
            self.buffer = buffer;
            self.buffer.drain(..used);
        }
    }

    /// Reads what it can of `input`; returns the bytes consumed (the rest is a partial message).
    fn read(&mut self, input: &[u8], sink: &mut impl FnMut(DoipEvent<'_>)) -> usize {
        let mut pos = 0;
        loop {
            if let Some(skipped) = self.searching {
                match find_plausible_header(&input[pos..], self.deframer.rules()) {
                    Some(at) => {
                        pos += at;
                        self.searching = None;
                        sink(DoipEvent::Resynced { skipped: skipped + at as u64 });
                    }
                    None => {
                        // Keep the last 7 bytes: a header may start among them.
                        let keep = (input.len() - pos).min(HEADER_LEN - 1);
                        let passed = input.len() - pos - keep;
                        self.searching = Some(skipped + passed as u64);
                        return input.len() - keep;
                    }
                }
            }
            match self.deframer.next(&input[pos..]) {
                Deframed::Message { message, len } => {
                    sink(DoipEvent::Message { bytes: &input[pos..pos + len], message });
                    pos += len;
                }
                Deframed::Skipped { len } => pos += len,
                Deframed::NeedMore { .. } => return pos,
                Deframed::Rejected(error) => {
                    let rest = &input[pos..];
                    if let Rule::MessageTooLarge { length, .. } = error.rule
                        && self.entity_mds.is_some_and(|mds| length > mds)
                    {
                        // Above the entity's MDS: the entity NACKs it 0x02 and skips it.
                        sink(DoipEvent::Rejected { bytes: &rest[..HEADER_LEN], error });
                        self.deframer.discard();
                        continue;
                    }
                    if let Rule::MessageTooLarge { length, .. } = error.rule {
                        // Above what the reader holds, which is no rule of the standard: judge
                        // the header without that limit before skipping it.
                        let unlimited =
                            HeaderRules { max_payload_length: u32::MAX, transport: None };
                        match Header::parse_with(&rest[..HEADER_LEN], &unlimited) {
                            Ok(_) => {
                                let mut header = [0; HEADER_LEN];
                                header.copy_from_slice(&rest[..HEADER_LEN]);
                                sink(DoipEvent::TooLong { header, declared: length });
                            }
                            Err(error) => {
                                sink(DoipEvent::Rejected { bytes: &rest[..HEADER_LEN], error })
                            }
                        }
                        self.deframer.discard();
                        continue;
                    }
                    let declared = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
                    let present = rest.len().min(HEADER_LEN + declared as usize);
                    sink(DoipEvent::Rejected { bytes: &rest[..present], error });
                    if matches!(
                        error.rule,
                        Rule::InverseVersionMismatch { .. }
                            | Rule::UnsupportedVersion { .. }
                            | Rule::DefaultVersionNotAllowed { .. }
                    ) {
                        // Not a DoIP header: its length means nothing. Search from the next byte.
                        self.searching = Some(1);
                        pos += 1;
                    } else {
                        self.deframer.discard();
                    }
                }
            }
        }
    }
}

/// The offset of the first plausible header in `input` (see the module doc).
fn find_plausible_header(input: &[u8], rules: &HeaderRules) -> Option<usize> {
    let last = input.len().checked_sub(HEADER_LEN)?;
    (0..=last).find(|&at| {
        let candidate = &input[at..at + HEADER_LEN];
        // Cheap pre-check before the codec: version byte and its inverse.
        if candidate[0] ^ candidate[1] != 0xFF {
            return false;
        }
        match Header::parse_with(candidate, rules) {
            Ok(h) => !matches!(h.payload_type, PayloadType::Unknown(_)),
            Err(_) => false,
        }
    })
}

#[cfg(test)]
mod tests;
