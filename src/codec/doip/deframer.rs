//! TCP stream deframer: finds whole DoIP messages in a byte stream that arrives in any
//! chunking, without owning a buffer (sans-I/O, like rustls' deframer).
//!
//! The caller keeps the received bytes and calls [`Deframer::next`] on the unconsumed part:
//!
//! ```
//! use doipcheck::codec::doip::{Deframed, Deframer};
//! let mut deframer = Deframer::new(4096);
//! let mut received: Vec<u8> = Vec::new();
//! received.extend_from_slice(&[0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x0E, 0x00]); // a read
//! received.extend_from_slice(&[0x10, 0x00, 0x22, 0xF1, 0x90, 0x02]); // the next read
//! let mut pos = 0;
//! loop {
//!     match deframer.next(&received[pos..]) {
//!         Deframed::Message { message, len } => {
//!             println!("{message}");
//!             pos += len;
//!         }
//!         Deframed::Skipped { len } => pos += len,
//!         Deframed::NeedMore { .. } => break, // read more, append, call again
//!         Deframed::Rejected(error) => {
//!             // Send a generic NACK with error.nack_code(); then close the socket if
//!             // error.closes_tcp_socket(), else skip the message exactly:
//!             deframer.discard();
//!         }
//!     }
//! }
//! received.drain(..pos); // keep the partial message for the next read
//! assert_eq!(received, [0x02]);
//! ```
//!
//! Rules (ISO 13400-2:2019, docs/protocol.md#header-handling): the header is judged as soon
//! as its 8 bytes are present, before any of the body is waited for; a declared length above
//! the limit is [`Deframed::Rejected`] at once (NACK 0x02) and, after [`Deframer::discard`],
//! skipped exactly by counting, so a 4 GiB claim costs neither memory nor a wait for the body
//! before the verdict. The caller never needs to hold more than header + limit bytes.
//!
//! May import: `crate::codec`.

use super::{Error, HEADER_LEN, Header, HeaderRules, Message};

/// What [`Deframer::next`] found at the front of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deframed<'a> {
    /// A whole valid message, `len` bytes long, at the front of the input: consume them.
    /// Its payload borrows from the input.
    Message {
        /// The message.
        message: Message<'a>,
        /// Bytes it occupies (header + payload).
        len: usize,
    },
    /// No whole message yet: at least `needed` more bytes must arrive. Not an error.
    NeedMore {
        /// Additional bytes needed at least.
        needed: usize,
    },
    /// The header at the front broke a rule; nothing was consumed. Answer with the generic
    /// NACK of [`Error::nack_code`], then close if [`Error::closes_tcp_socket`], else call
    /// [`Deframer::discard`] to skip the message.
    Rejected(Error),
    /// `len` bytes of a discarded message were skipped: consume them.
    Skipped {
        /// Bytes skipped from the front of the input.
        len: usize,
    },
}

/// The deframer state: the header rules and how many bytes of a discarded message remain to be
/// skipped. Does not hold stream bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deframer {
    rules: HeaderRules,
    /// Bytes of a discarded message still to be skipped.
    skip_remaining: u64,
    /// Total length of the message last rejected, for [`Deframer::discard`].
    rejected_len: Option<u64>,
}

impl Deframer {
    /// A deframer that rejects payloads longer than `max_payload_length` (the receiver's
    /// maximum; NACK 0x02) and lets unknown types through as [`Payload::Unknown`](super::Payload::Unknown).
    pub const fn new(max_payload_length: u32) -> Self {
        Self::with_rules(HeaderRules { max_payload_length, transport: None })
    }

    /// A deframer with all header rules given (set `transport` to act as an entity, which
    /// rejects unknown and wrong-transport types with NACK 0x01).
    pub const fn with_rules(rules: HeaderRules) -> Self {
        Deframer { rules, skip_remaining: 0, rejected_len: None }
    }

    /// The header rules in force.
    pub const fn rules(&self) -> &HeaderRules {
        &self.rules
    }

    /// Looks at the front of `input` (the bytes received and not yet consumed).
    #[inline]
    pub fn next<'a>(&mut self, input: &'a [u8]) -> Deframed<'a> {
        if self.skip_remaining > 0 {
            let len = usize::try_from(self.skip_remaining).unwrap_or(usize::MAX).min(input.len());
            if len == 0 {
                let needed = usize::try_from(self.skip_remaining).unwrap_or(usize::MAX);
                return Deframed::NeedMore { needed };
            }
            self.skip_remaining -= len as u64;
            return Deframed::Skipped { len };
        }
        let header = match Header::parse_with(input, &self.rules) {
            Ok(header) => header,
            Err(error) => {
                if input.len() < HEADER_LEN {
                    return Deframed::NeedMore { needed: HEADER_LEN - input.len() };
                }
                // The declared length is readable on any complete header.
                let declared = u32::from_be_bytes([input[4], input[5], input[6], input[7]]);
                self.rejected_len = Some(HEADER_LEN as u64 + u64::from(declared));
                return Deframed::Rejected(error);
            }
        };
        self.rejected_len = None;
        // The limit was checked above, so `len` fits in memory the caller agreed to hold
        // (saturating only matters on 16/32-bit targets with a limit near 4 GiB).
        let len =
            HEADER_LEN.saturating_add(usize::try_from(header.payload_length).unwrap_or(usize::MAX));
        let Some(bytes) = input.get(HEADER_LEN..len) else {
            return Deframed::NeedMore { needed: len - input.len() };
        };
        match Message::from_parts(header, bytes) {
            Ok(message) => Deframed::Message { message, len },
            // Unreachable in practice: the header check enforces every payload length rule.
            Err(error) => {
                self.rejected_len = Some(len as u64);
                Deframed::Rejected(error)
            }
        }
    }

    /// Skips the message last [`Deframed::Rejected`] (header and declared payload), counting
    /// bytes rather than buffering them; later calls to [`Deframer::next`] return
    /// [`Deframed::Skipped`] until it is gone. Returns the number of bytes to skip, or `None`
    /// when nothing was rejected since the last message.
    pub fn discard(&mut self) -> Option<u64> {
        let len = self.rejected_len.take()?;
        self.skip_remaining = len;
        Some(len)
    }

    /// Bytes of a discarded message still to be skipped.
    pub const fn skip_remaining(&self) -> u64 {
        self.skip_remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::doip::{GenericNackCode, Payload, PayloadType, Rule};

    const DIAG: [u8; 15] =
        [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x0E, 0x00, 0x10, 0x00, 0x22, 0xF1, 0x90];

    #[test]
    fn a_whole_message_is_returned_with_its_length() {
        let mut d = Deframer::new(4096);
        let Deframed::Message { message, len } = d.next(&DIAG) else { panic!() };
        assert_eq!(len, 15);
        assert_eq!(message.payload.payload_type(), PayloadType::DiagnosticMessage);
    }

    #[test]
    fn a_partial_header_needs_more() {
        let mut d = Deframer::new(4096);
        assert_eq!(d.next(&DIAG[..3]), Deframed::NeedMore { needed: 5 });
        assert_eq!(d.next(&[]), Deframed::NeedMore { needed: 8 });
    }

    #[test]
    fn a_partial_body_needs_more() {
        let mut d = Deframer::new(4096);
        assert_eq!(d.next(&DIAG[..10]), Deframed::NeedMore { needed: 5 });
    }

    #[test]
    fn a_bad_header_is_rejected_before_the_body_arrives() {
        let mut d = Deframer::new(4096);
        let mut bad = DIAG;
        bad[1] = 0x00;
        let Deframed::Rejected(e) = d.next(&bad[..8]) else { panic!() };
        assert_eq!(e.nack_code(), Some(GenericNackCode::IncorrectPatternFormat));
        assert!(e.closes_tcp_socket());
    }

    #[test]
    fn a_huge_length_is_rejected_at_once_and_skipped_exactly() {
        let mut d = Deframer::new(4096);
        // Header claiming 10 000 bytes of diagnostic payload, then the next message.
        let mut stream = vec![0x02, 0xFD, 0x80, 0x01, 0x00, 0x00, 0x27, 0x10];
        let Deframed::Rejected(e) = d.next(&stream) else { panic!() };
        assert_eq!(e.rule, Rule::MessageTooLarge { length: 10_000, limit: 4096 });
        assert_eq!(e.nack_code(), Some(GenericNackCode::MessageTooLarge));
        assert!(!e.closes_tcp_socket());
        assert_eq!(d.discard(), Some(10_008));
        stream.extend(std::iter::repeat_n(0xAA, 10_000));
        stream.extend_from_slice(&DIAG);
        let mut pos = 0;
        let mut skipped = 0;
        // Feed in 1000-byte reads, as a socket would deliver them.
        loop {
            let end = (pos + 1000).min(stream.len());
            match d.next(&stream[pos..end]) {
                Deframed::Skipped { len } => {
                    skipped += len;
                    pos += len;
                }
                Deframed::Message { message, len } => {
                    assert!(matches!(message.payload, Payload::DiagnosticMessage(_)));
                    pos += len;
                    break;
                }
                other => panic!("{other:?} at {pos}"),
            }
        }
        assert_eq!(skipped, 10_008);
        assert_eq!(pos, stream.len());
    }

    #[test]
    fn skipping_with_no_input_needs_more() {
        let mut d = Deframer::new(10);
        let Deframed::Rejected(_) = d.next(&[0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 20]) else {
            panic!()
        };
        d.discard();
        assert_eq!(d.next(&[]), Deframed::NeedMore { needed: 28 });
        assert_eq!(d.skip_remaining(), 28);
    }

    #[test]
    fn discard_without_a_rejection_does_nothing() {
        let mut d = Deframer::new(4096);
        assert_eq!(d.discard(), None);
        assert!(matches!(d.next(&DIAG), Deframed::Message { .. }));
        assert_eq!(d.discard(), None);
    }

    #[test]
    fn an_entity_deframer_rejects_unknown_types() {
        let mut d = Deframer::with_rules(HeaderRules {
            max_payload_length: 4096,
            transport: Some(crate::codec::doip::Transport::Tcp),
        });
        let Deframed::Rejected(e) = d.next(&[0x02, 0xFD, 0x12, 0x34, 0, 0, 0, 1, 0xAA]) else {
            panic!()
        };
        assert_eq!(e.nack_code(), Some(GenericNackCode::UnknownPayloadType));
        assert_eq!(d.discard(), Some(9));
        assert_eq!(d.next(&[0xAA]), Deframed::Skipped { len: 1 });
        assert_eq!(d.skip_remaining(), 8);
    }
}
