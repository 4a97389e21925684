//! The pure half of the live fuzzer (`doipcheck fuzz`): what a fuzz case is, the seeded DoIP
//! generator, the checks every reply gets, delta debugging, and the suite case a finding
//! becomes. No I/O and no clock: the same seed gives the same cases on every machine, and each
//! part is tested without a target (docs/architecture.md#live-fuzzing).
//!
//! May import: `crate::codec`, `crate::notation`, `crate::import` (its YAML writer).

pub mod doip;
pub mod isotp;
pub mod minimize;
pub mod repro;

use crate::codec::doip::{Deframed, Deframer, HeaderRules, Transport};
use core::fmt;
use rand::{RngExt, SeedableRng, rngs::Xoshiro256PlusPlus};

/// A small wrapper over the seeded generator with the draws this module needs.
struct Dice(Xoshiro256PlusPlus);

impl Dice {
    /// The draws of case `index` of `seed`: seed_from_u64 runs SplitMix64 over its input, so
    /// neighbouring indexes give unrelated streams.
    fn for_case(seed: u64, index: u64) -> Dice {
        Dice(Xoshiro256PlusPlus::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
    }

    fn below(&mut self, n: usize) -> usize {
        if n <= 1 { 0 } else { self.0.random_range(0..n) }
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.0.random_ratio(percent.min(100), 100)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn u8(&mut self) -> u8 {
        self.0.random()
    }
    fn u16(&mut self) -> u16 {
        self.0.random()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.0.fill(&mut v[..]);
        v
    }
}

/// Where a case starts: the fuzzer reaches this state (with valid messages) before it sends
/// the case, so that the parser behind each state is reached, not only the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StartState {
    /// A fresh TCP connection, nothing sent yet (the header parser and routing activation).
    Connected,
    /// Routing activated with the profile's tester address (diagnostic messages reach UDS).
    Activated,
    /// Activated, and the entity's UDS server switched to the extended session (`10 03`).
    ExtendedSession,
    /// Activated, and the first half of a valid diagnostic message sent: the case's bytes
    /// land in the middle of a message the entity is still reading.
    MidMessage,
    /// No TCP connection: the case is UDP datagrams to the discovery port.
    Udp,
}

impl StartState {
    /// Every state, in the order reports list them.
    pub const ALL: [StartState; 5] = [
        StartState::Connected,
        StartState::Activated,
        StartState::ExtendedSession,
        StartState::MidMessage,
        StartState::Udp,
    ];

    /// The name used in finding.json and the console.
    pub const fn name(self) -> &'static str {
        match self {
            StartState::Connected => "connected",
            StartState::Activated => "activated",
            StartState::ExtendedSession => "extended_session",
            StartState::MidMessage => "mid_message",
            StartState::Udp => "udp",
        }
    }

    /// Whether reaching the state includes a routing activation.
    pub const fn activated(self) -> bool {
        matches!(self, StartState::Activated | StartState::ExtendedSession | StartState::MidMessage)
    }
}

impl fmt::Display for StartState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing the fuzzer does to the target within a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// Bytes written at once on the case's connection (one TCP segment on loopback).
    Send(Vec<u8>),
    /// Bytes written in pieces of these sizes (the rest last), with a pause between them so
    /// that each piece is its own segment: framing across segments.
    Drip {
        /// The bytes.
        bytes: Vec<u8>,
        /// Sizes of the leading pieces.
        chunks: Vec<usize>,
    },
    /// Bytes on a second, fresh connection opened for them (sockets interleaved).
    SecondSocket(Vec<u8>),
    /// Our side closes the case's connection (FIN) after what was sent.
    Close,
    /// One datagram to the entity's discovery port.
    Udp(Vec<u8>),
}

impl Action {
    /// The bytes this action puts on the case's main TCP connection.
    pub fn main_stream_bytes(&self) -> &[u8] {
        match self {
            Action::Send(b) | Action::Drip { bytes: b, .. } => b,
            _ => &[],
        }
    }

    /// How many DoIP messages (whole or not) the action carries, for "the repro has at most
    /// three messages": headers counted by the deframer, a fragment counts as one.
    pub fn message_count(&self) -> usize {
        match self {
            Action::Send(b)
            | Action::Drip { bytes: b, .. }
            | Action::SecondSocket(b)
            | Action::Udp(b) => count_messages(b),
            Action::Close => 0,
        }
    }
}

/// One generated case: its number in the run, its start state, the mutation that made it (for
/// coverage and de-duplication) and the payload type it is built on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuzzCase {
    /// 0-based index in the run (with the seed, it names the case).
    pub index: u64,
    /// The state reached before the actions.
    pub state: StartState,
    /// The mutation that made the case, e.g. `length_mds_plus_1`.
    pub mutation: &'static str,
    /// The payload type the case's first message was built on (before mutation).
    pub payload_type: u16,
    /// What is done, in order.
    pub actions: Vec<Action>,
    /// The case's connections are TLS ones to the TLS data port (ISO 13400-2:2019 §9.1.1):
    /// the handshake is not fuzzed, the DoIP bytes inside it are.
    pub tls: bool,
}

impl FuzzCase {
    /// Appends the bytes of the main connection, in order, to `out` (for the stream
    /// prediction; the caller's buffer is reused from case to case).
    pub fn append_main_stream(&self, out: &mut Vec<u8>) {
        for action in &self.actions {
            out.extend_from_slice(action.main_stream_bytes());
        }
    }

    /// Whether the case closes its connection itself.
    pub fn closes(&self) -> bool {
        self.actions.iter().any(|a| matches!(a, Action::Close))
    }

    /// The transport the case's bytes travel on: `tcp`, `tls` or `udp` (coverage, finding.json).
    pub fn transport(&self) -> &'static str {
        match (self.state, self.tls) {
            (StartState::Udp, _) => "udp",
            (_, true) => "tls",
            (_, false) => "tcp",
        }
    }

    /// Messages the case sends (see [`Action::message_count`]).
    pub fn message_count(&self) -> usize {
        self.actions.iter().map(Action::message_count).sum()
    }
}

/// What a conformant entity does with a byte stream on a TCP_DATA socket, by the generic
/// header rules alone (ISO 13400-2:2019 §8.1.2, Table 19): whether it ends exactly at a
/// message boundary (so the next message we send is read as a new message), and whether some
/// header in it is answered with a NACK that closes the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFate {
    /// Every message is whole and nothing is left to skip.
    pub on_boundary: bool,
    /// A NACK 0x00 or 0x04 ends the connection (the entity closes after it).
    pub closes: bool,
    /// Messages the header rules reject (each answered with a generic NACK).
    pub rejected: usize,
}

/// [`StreamFate`] of `bytes` sent after `prefix` (the bytes of the start state still inside a
/// message, e.g. half a diagnostic message), with the entity's payload limit.
pub fn stream_fate(prefix: &[u8], bytes: &[u8], max_payload_length: u32) -> StreamFate {
    let mut deframer =
        Deframer::with_rules(HeaderRules { max_payload_length, transport: Some(Transport::Tcp) });
    let stream: std::borrow::Cow<[u8]> = if prefix.is_empty() {
        bytes.into()
    } else {
        prefix.iter().chain(bytes).copied().collect::<Vec<u8>>().into()
    };
    let mut at = 0;
    let mut rejected = 0;
    loop {
        match deframer.next(&stream[at..]) {
            Deframed::Message { len, .. } | Deframed::Skipped { len } => at += len,
            Deframed::NeedMore { .. } => {
                let on_boundary = at == stream.len() && deframer.skip_remaining() == 0;
                return StreamFate { on_boundary, closes: false, rejected };
            }
            Deframed::Rejected(error) => {
                rejected += 1;
                if error.closes_tcp_socket() {
                    return StreamFate { on_boundary: false, closes: true, rejected };
                }
                if deframer.discard().is_none() {
                    return StreamFate { on_boundary: false, closes: false, rejected };
                }
            }
        }
        if at >= stream.len() && deframer.skip_remaining() == 0 {
            return StreamFate { on_boundary: true, closes: false, rejected };
        }
    }
}

/// Headers in `bytes` as the deframer walks them without limits (a trailing fragment counts).
fn count_messages(bytes: &[u8]) -> usize {
    let mut deframer = Deframer::new(u32::MAX);
    let (mut at, mut count) = (0, 0);
    while at < bytes.len() {
        match deframer.next(&bytes[at..]) {
            Deframed::Message { len, .. } => {
                at += len;
                count += 1;
            }
            Deframed::Skipped { len } => at += len,
            Deframed::NeedMore { .. } => return count + 1,
            Deframed::Rejected(_) => {
                count += 1;
                if deframer.discard().is_none() {
                    return count;
                }
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALIVE: [u8; 8] = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0];

    #[test]
    fn the_main_stream_is_what_goes_over_the_main_connection_appended_in_order() {
        let case = FuzzCase {
            index: 0,
            state: StartState::Activated,
            mutation: "valid",
            payload_type: 0x0007,
            actions: vec![
                Action::Send(ALIVE[..5].to_vec()),
                Action::SecondSocket(vec![0xEE]),
                Action::Drip { bytes: ALIVE[5..].to_vec(), chunks: vec![1] },
                Action::Udp(vec![0xDD]),
                Action::Close,
            ],
            tls: false,
        };
        let mut stream = vec![0xAA];
        case.append_main_stream(&mut stream);
        assert_eq!(stream, [&[0xAA][..], &ALIVE[..]].concat());
    }

    #[test]
    fn a_whole_message_ends_on_a_boundary_and_a_half_one_does_not() {
        let fate = stream_fate(&[], &ALIVE, 4096);
        assert_eq!(fate, StreamFate { on_boundary: true, closes: false, rejected: 0 });
        assert!(!stream_fate(&[], &ALIVE[..5], 4096).on_boundary);
        assert!(stream_fate(&ALIVE[..5], &ALIVE[5..], 4096).on_boundary);
    }

    #[test]
    fn a_bad_pattern_closes_and_an_unknown_type_is_skipped() {
        let mut bad = ALIVE;
        bad[1] = 0;
        assert!(stream_fate(&[], &bad, 4096).closes);
        let unknown = [0x02, 0xFD, 0x00, 0x09, 0, 0, 0, 2, 0xAA, 0xBB];
        let fate = stream_fate(&[], &unknown, 4096);
        assert_eq!(fate, StreamFate { on_boundary: true, closes: false, rejected: 1 });
    }

    #[test]
    fn a_length_above_mds_leaves_bytes_to_skip() {
        // Declares 5000 bytes against an MDS of 4096: NACK 0x02, and the entity skips 5000
        // bytes, so what follows is not read as a message.
        let big = [0x02, 0xFD, 0x80, 0x01, 0, 0, 0x13, 0x88];
        let fate = stream_fate(&[], &big, 4096);
        assert!(!fate.on_boundary && !fate.closes);
        assert_eq!(fate.rejected, 1);
    }

    #[test]
    fn messages_are_counted_with_fragments() {
        let two: Vec<u8> = ALIVE.iter().chain(&ALIVE).copied().collect();
        assert_eq!(Action::Send(two.clone()).message_count(), 2);
        assert_eq!(Action::Send(two[..11].to_vec()).message_count(), 2);
        assert_eq!(Action::Close.message_count(), 0);
    }
}
