//! The sequence bookkeeping of one synthesized TCP connection (RFC 9293): which segments a
//! handshake, a write or a close becomes, with sequence and acknowledgement numbers that
//! Wireshark's TCP analysis finds consistent. No bytes, no I/O: [`super::link`] builds packets.

use super::link::SegmentHeader;

/// An end of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Tester,
    Entity,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Tester => Side::Entity,
            Side::Entity => Side::Tester,
        }
    }
}

/// How a TCP connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// An orderly close (FIN).
    Fin,
    /// An abort (RST).
    Reset,
}

const fn segment(seq: u32, ack: Option<u32>) -> SegmentHeader {
    SegmentHeader { seq, ack, syn: false, fin: false, rst: false, psh: false }
}

/// The state of one connection: the next sequence number of each side, and who sent a FIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TcpSequencer {
    tester_next: u32,
    entity_next: u32,
    tester_fin: bool,
    entity_fin: bool,
}

impl TcpSequencer {
    /// A connection with these initial sequence numbers and its three-way handshake.
    pub fn open(tester_isn: u32, entity_isn: u32) -> (TcpSequencer, [(Side, SegmentHeader); 3]) {
        let flow = TcpSequencer {
            tester_next: tester_isn.wrapping_add(1),
            entity_next: entity_isn.wrapping_add(1),
            tester_fin: false,
            entity_fin: false,
        };
        let syn = SegmentHeader { syn: true, ..segment(tester_isn, None) };
        let syn_ack = SegmentHeader { syn: true, ..segment(entity_isn, Some(flow.tester_next)) };
        let ack = segment(flow.tester_next, Some(flow.entity_next));
        (flow, [(Side::Tester, syn), (Side::Entity, syn_ack), (Side::Tester, ack)])
    }

    fn next(&mut self, side: Side) -> &mut u32 {
        match side {
            Side::Tester => &mut self.tester_next,
            Side::Entity => &mut self.entity_next,
        }
    }

    fn fin_sent(&mut self, side: Side) -> &mut bool {
        match side {
            Side::Tester => &mut self.tester_fin,
            Side::Entity => &mut self.entity_fin,
        }
    }

    /// The PSH/ACK segment carrying `len` bytes from `from` (at most one MSS, so `u32`).
    pub fn data(&mut self, from: Side, len: u32) -> SegmentHeader {
        let ack = *self.next(from.other());
        let seq = self.next(from);
        let s = SegmentHeader { psh: true, ..segment(*seq, Some(ack)) };
        *seq = seq.wrapping_add(len);
        s
    }

    /// The segments of `by` closing its side, and whether the connection is now over. A FIN is
    /// acknowledged by the other side; a second FIN from the same side writes nothing.
    pub fn close(&mut self, by: Side, how: Close) -> (Vec<(Side, SegmentHeader)>, bool) {
        let seq = *self.next(by);
        let ack = *self.next(by.other());
        match how {
            Close::Reset => {
                (vec![(by, SegmentHeader { rst: true, ..segment(seq, Some(ack)) })], true)
            }
            Close::Fin => {
                if std::mem::replace(self.fin_sent(by), true) {
                    return (Vec::new(), self.tester_fin && self.entity_fin);
                }
                // The FIN occupies one sequence number (RFC 9293 §3.4).
                *self.next(by) = seq.wrapping_add(1);
                let fin = SegmentHeader { fin: true, ..segment(seq, Some(ack)) };
                let ack_of_fin = segment(ack, Some(seq.wrapping_add(1)));
                (vec![(by, fin), (by.other(), ack_of_fin)], self.tester_fin && self.entity_fin)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_wrap_instead_of_overflowing() {
        let (mut flow, hs) = TcpSequencer::open(u32::MAX, u32::MAX - 1);
        assert_eq!(hs[1].1.ack, Some(0));
        assert_eq!(flow.data(Side::Tester, 10).seq, 0);
        assert_eq!(flow.data(Side::Tester, 1).seq, 10);
        let s = flow.data(Side::Entity, 5);
        assert_eq!((s.seq, s.ack), (u32::MAX, Some(11)));
        assert_eq!(flow.data(Side::Tester, 0).ack, Some(4));
    }

    #[test]
    fn the_connection_is_over_after_both_fins_or_one_reset() {
        let (mut flow, _) = TcpSequencer::open(0, 100);
        let (segs, over) = flow.close(Side::Entity, Close::Fin);
        assert!(!over);
        assert_eq!(segs[0], (Side::Entity, SegmentHeader { fin: true, ..segment(101, Some(1)) }));
        assert_eq!(segs[1], (Side::Tester, segment(1, Some(102))));
        assert_eq!(flow.close(Side::Entity, Close::Fin), (Vec::new(), false));
        let (segs, over) = flow.close(Side::Tester, Close::Fin);
        assert!(over);
        assert_eq!(segs[0].1.ack, Some(102));
        let (_, over) = TcpSequencer::open(0, 0).0.close(Side::Tester, Close::Reset);
        assert!(over);
    }
}
