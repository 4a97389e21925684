//! Passive TCP reassembly (RFC 9293 sequence arithmetic): the segments of each connection, as
//! captured, become the byte stream each side sent, in order, exactly once.
//!
//! - **In order**: a segment at the next expected sequence number is delivered at once, from
//!   the packet's own bytes (no copy).
//! - **Retransmitted / overlapping**: bytes before the next expected number were delivered
//!   already; only the new tail of a segment is delivered, and a wholly old segment is counted.
//! - **Out of order**: a segment beyond the next expected number is copied and held until the
//!   bytes before it arrive.
//! - **Gap**: bytes the capture never saw. Declared when the other side acknowledged data the
//!   capture does not have (the receiver got it, the capture lost it), when the held data
//!   reaches its cap, and when the connection or the file ends with data still held. The
//!   stream then goes on at the next bytes present; [`TcpEvent::Gap`] says how many are missing.
//! - **FIN and RST** are events in stream order (a FIN after a hole waits for the hole).
//!
//! Memory is bounded by the open connections and the out-of-order data they hold, not by the
//! file: at most [`Limits::max_flows`] connections (the least recently active is dropped past
//! it, and reported), each direction holding at most [`Limits::max_held_per_direction`] bytes in
//! at most [`Limits::max_held_segments`] segments, and all of them together at most
//! [`Limits::max_held_total`].
//!
//! May import: `crate::codec` and `crate::pcap`.

use core::net::SocketAddr;
use std::collections::{BTreeMap, HashMap};

use super::link::TcpSegment;

/// Caps on what the reader holds (see the module doc); the defaults suit any capture a person
/// records, tests shrink them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections tracked at once.
    pub max_flows: usize,
    /// Out-of-order bytes held per direction of a connection.
    pub max_held_per_direction: usize,
    /// Out-of-order segments held per direction.
    pub max_held_segments: usize,
    /// Out-of-order bytes held across all connections.
    pub max_held_total: usize,
    /// The longest DoIP message reassembled (header + payload); a longer one is skipped by
    /// counting and reported, never buffered.
    pub max_message_len: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 1024,
            max_held_per_direction: 256 * 1024,
            max_held_segments: 512,
            max_held_total: 64 << 20,
            max_message_len: 1 << 20,
        }
    }
}

/// A direction of a connection: from the client (who sent the SYN, or the side that is not
/// the server port) to the server, or back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    const fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }

    const fn other(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }
}

/// What a connection is: its number (in order of first appearance, from 1) and its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowMeta {
    pub id: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The capture holds the connection's SYN: it starts at its beginning.
    pub handshake: bool,
}

/// What happened on one direction of a connection, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent<'a> {
    /// The connection's first packet (its SYN when `handshake`).
    Opened,
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// `missing` bytes of the stream were never captured; the next data follows the hole.
    Gap { missing: u64 },
    /// The sender closed its direction.
    Fin,
    /// The sender aborted the connection; it is over.
    Reset,
    /// The connection is no longer tracked: both FINs seen (`Closed`), a RST, or dropped for a
    /// newer one past [`Limits::max_flows`] (`evicted`), or the file ended with it open.
    Ended { evicted: bool, open_at_end: bool },
}

/// Counters of what the reassembly saw, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpStats {
    pub segments: u64,
    /// Segments whose bytes had all been delivered already.
    pub retransmissions: u64,
    /// Segments held because they arrived before bytes preceding them.
    pub out_of_order: u64,
    pub gaps: u64,
    pub evicted: u64,
}

/// The state of one direction.
#[derive(Debug, Default)]
struct HalfStream {
    /// The next sequence number expected; `None` until this direction's first segment.
    next: Option<u32>,
    /// The highest sequence number the other side acknowledged, once it did.
    acked: Option<u32>,
    /// Segments beyond `next`, by their distance from `next` at arrival + delivered count.
    held: BTreeMap<u64, Vec<u8>>,
    held_bytes: usize,
    /// Stream offset of `next` (bytes delivered plus bytes declared missing).
    position: u64,
    /// Sequence number of this direction's FIN, once seen.
    fin: Option<u32>,
    fin_delivered: bool,
}

impl HalfStream {
    /// Stream position of sequence number `seq` (nearest to `next`, so wrapping works).
    fn position_of(&self, seq: u32, next: u32) -> u64 {
        let distance = seq.wrapping_sub(next) as i32;
        self.position.saturating_add_signed(i64::from(distance))
    }
}

struct Flow<S> {
    meta: FlowMeta,
    halves: [HalfStream; 2],
    /// Packet number of the last segment, to find the least recently active flow.
    last_seen: u64,
    reset: bool,
    state: S,
}

/// Passive reassembly of every TCP connection in a capture, with per-connection state `S`
/// (the DoIP stream of each direction) handed to the callback beside each event.
pub struct Reassembler<S> {
    limits: Limits,
    flows: HashMap<(SocketAddr, SocketAddr), Flow<S>>,
    next_id: u32,
    held_total: usize,
    stats: TcpStats,
}

/// The callback of [`Reassembler::segment`]: the connection, its state, the direction, what
/// happened.
pub trait TcpSink<S> {
    fn tcp_event(&mut self, flow: &FlowMeta, state: &mut S, dir: Dir, event: TcpEvent<'_>);
    /// Whether `port` is a server's (a DoIP port): says who is who when no SYN shows it.
    fn is_server_port(&self, port: u16) -> bool;
    /// The state of a connection seen for the first time.
    fn new_flow(&mut self, flow: &FlowMeta) -> S;
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

impl<S> Reassembler<S> {
    pub fn new(limits: Limits) -> Self {
        Reassembler {
            limits,
            flows: HashMap::new(),
            next_id: 0,
            held_total: 0,
            stats: TcpStats::default(),
        }
    }

    pub const fn stats(&self) -> &TcpStats {
        &self.stats
    }

    /// Connections tracked now.
    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    /// Out-of-order bytes held now, across all connections.
    pub const fn held_bytes(&self) -> usize {
        self.held_total
    }

    /// One captured segment from `src` to `dst`, packet number `packet`.
    pub fn segment<K: TcpSink<S>>(
        &mut self,
        packet: u64,
        (src, dst): (SocketAddr, SocketAddr),
        seg: &TcpSegment<'_>,
        sink: &mut K,
    ) {
        self.stats.segments += 1;
        let k = key(src, dst);
        // A SYN without ACK on a known pair with another initial sequence number is a new
        // connection reusing the ports: the old one ends here.
        if seg.syn
            && seg.ack.is_none()
            && let Some(flow) = self.flows.get(&k)
            && !(flow.meta.client == src && flow.halves[0].next == Some(seg.seq.wrapping_add(1)))
        {
            self.end_flow(k, false, false, sink);
        }
        if !self.flows.contains_key(&k) {
            // A connection starts with its SYN, or, in a capture that began mid-connection, with
            // its first data. A bare ACK, FIN or RST of a connection already over (the last ACK
            // after both FINs) opens nothing.
            if !seg.syn && seg.payload.is_empty() {
                return;
            }
            if self.flows.len() >= self.limits.max_flows {
                self.evict_oldest(sink);
            }
            self.next_id = self.next_id.wrapping_add(1);
            let client_is_src = if seg.syn {
                seg.ack.is_none()
            } else {
                !sink.is_server_port(src.port()) || sink.is_server_port(dst.port())
            };
            let (client, server) = if client_is_src { (src, dst) } else { (dst, src) };
            let meta = FlowMeta { id: self.next_id, client, server, handshake: seg.syn };
            let mut flow = Flow {
                meta,
                halves: [HalfStream::default(), HalfStream::default()],
                last_seen: packet,
                reset: false,
                state: sink.new_flow(&meta),
            };
            let dir = if client_is_src { Dir::ToServer } else { Dir::ToClient };
            sink.tcp_event(&flow.meta, &mut flow.state, dir, TcpEvent::Opened);
            self.flows.insert(k, flow);
        }
        let Some(flow) = self.flows.get_mut(&k) else { return };
        flow.last_seen = packet;
        let dir = if flow.meta.client == src { Dir::ToServer } else { Dir::ToClient };
        let over = Self::process(
            &self.limits,
            &mut self.held_total,
            &mut self.stats,
            flow,
            dir,
            seg,
            sink,
        );
        if over {
            self.end_flow(k, false, false, sink);
        }
    }

    /// Ends every connection still tracked (the file is over): held data is declared missing
    /// up to it and delivered, then each gets [`TcpEvent::Ended`] with `open_at_end`.
    pub fn finish<K: TcpSink<S>>(&mut self, sink: &mut K) {
        let mut keys: Vec<_> = self.flows.iter().map(|(k, f)| (f.meta.id, *k)).collect();
        keys.sort_unstable();
        for (_, k) in keys {
            self.end_flow(k, false, true, sink);
        }
    }

    fn evict_oldest<K: TcpSink<S>>(&mut self, sink: &mut K) {
        let oldest =
            self.flows.iter().min_by_key(|(_, f)| (f.last_seen, f.meta.id)).map(|(k, _)| *k);
        if let Some(k) = oldest {
            self.stats.evicted += 1;
            self.end_flow(k, true, false, sink);
        }
    }

    fn end_flow<K: TcpSink<S>>(
        &mut self,
        k: (SocketAddr, SocketAddr),
        evicted: bool,
        open_at_end: bool,
        sink: &mut K,
    ) {
        let Some(mut flow) = self.flows.remove(&k) else { return };
        if !flow.reset {
            for dir in [Dir::ToServer, Dir::ToClient] {
                let half = &mut flow.halves[dir.index()];
                while !half.held.is_empty() {
                    Self::skip_to_first_held(
                        &mut self.stats,
                        half,
                        &flow.meta,
                        &mut flow.state,
                        dir,
                        sink,
                    );
                    Self::drain(&mut self.held_total, half, &flow.meta, &mut flow.state, dir, sink);
                }
            }
        }
        self.held_total -= flow.halves.iter().map(|h| h.held_bytes).sum::<usize>();
        let open = open_at_end && !flow.reset && !flow.halves.iter().all(|h| h.fin_delivered);
        sink.tcp_event(
            &flow.meta,
            &mut flow.state,
            Dir::ToServer,
            TcpEvent::Ended { evicted, open_at_end: open },
        );
    }

    /// Applies one segment to `flow`; true when the connection is over (both FINs or a RST).
    fn process<K: TcpSink<S>>(
        limits: &Limits,
        held_total: &mut usize,
        stats: &mut TcpStats,
        flow: &mut Flow<S>,
        dir: Dir,
        seg: &TcpSegment<'_>,
        sink: &mut K,
    ) -> bool {
        if flow.reset {
            return true;
        }
        // The acknowledgement first: it may show the other direction lost bytes.
        if let Some(ack) = seg.ack {
            let other = &mut flow.halves[dir.other().index()];
            if other.acked.is_none_or(|a| ack.wrapping_sub(a) as i32 > 0) {
                other.acked = Some(ack);
            }
            Self::gap_if_acked(
                held_total,
                stats,
                other,
                &flow.meta,
                &mut flow.state,
                dir.other(),
                sink,
            );
        }
        let half = &mut flow.halves[dir.index()];
        let mut seq = seg.seq;
        if seg.syn {
            // The SYN occupies one sequence number (RFC 9293 §3.4); data may follow it.
            if half.next.is_none() {
                half.next = Some(seq.wrapping_add(1));
            }
            seq = seq.wrapping_add(1);
        }
        let next = *half.next.get_or_insert(seq);
        let payload_len = seg.payload.len() as u32;
        if seg.fin && half.fin.is_none() {
            half.fin = Some(seq.wrapping_add(payload_len));
        }
        let distance = seq.wrapping_sub(next) as i32;
        if !seg.payload.is_empty() {
            if distance <= 0 {
                let old = distance.unsigned_abs() as usize;
                if old >= seg.payload.len() {
                    stats.retransmissions += 1;
                } else {
                    let fresh = &seg.payload[old..];
                    Self::deliver(half, fresh, &flow.meta, &mut flow.state, dir, sink);
                    Self::drain(held_total, half, &flow.meta, &mut flow.state, dir, sink);
                }
            } else {
                stats.out_of_order += 1;
                let position = half.position_of(seq, next);
                let len = seg.payload.len();
                let full = |half: &HalfStream, held_total: usize| {
                    half.held_bytes + len > limits.max_held_per_direction
                        || half.held.len() >= limits.max_held_segments
                        || held_total + len > limits.max_held_total
                };
                if full(half, *held_total) && !half.held.is_empty() {
                    // No more room to wait for the hole: it is a gap.
                    Self::skip_to_first_held(stats, half, &flow.meta, &mut flow.state, dir, sink);
                    Self::drain(held_total, half, &flow.meta, &mut flow.state, dir, sink);
                }
                if position <= half.position {
                    // The skip above reached it: what is still new is delivered now.
                    let old = (half.position - position) as usize;
                    if old < len {
                        let fresh = &seg.payload[old..];
                        Self::deliver(half, fresh, &flow.meta, &mut flow.state, dir, sink);
                    }
                } else if full(half, *held_total) {
                    Self::skip_to(stats, half, position, &flow.meta, &mut flow.state, dir, sink);
                    Self::deliver(half, seg.payload, &flow.meta, &mut flow.state, dir, sink);
                } else if half.held.get(&position).is_none_or(|h| h.len() < len) {
                    if let Some(old) = half.held.insert(position, seg.payload.to_vec()) {
                        half.held_bytes -= old.len();
                        *held_total -= old.len();
                    }
                    half.held_bytes += len;
                    *held_total += len;
                }
                Self::gap_if_acked(held_total, stats, half, &flow.meta, &mut flow.state, dir, sink);
                Self::drain(held_total, half, &flow.meta, &mut flow.state, dir, sink);
            }
        }
        Self::fin_if_reached(half, &flow.meta, &mut flow.state, dir, sink);
        if seg.rst {
            flow.reset = true;
            sink.tcp_event(&flow.meta, &mut flow.state, dir, TcpEvent::Reset);
            return true;
        }
        flow.halves.iter().all(|h| h.fin_delivered)
    }

    fn deliver<K: TcpSink<S>>(
        half: &mut HalfStream,
        bytes: &[u8],
        meta: &FlowMeta,
        state: &mut S,
        dir: Dir,
        sink: &mut K,
    ) {
        if let Some(next) = half.next.as_mut() {
            *next = next.wrapping_add(bytes.len() as u32);
        }
        half.position += bytes.len() as u64;
        sink.tcp_event(meta, state, dir, TcpEvent::Data(bytes));
    }

    /// Delivers held segments that the stream has reached.
    fn drain<K: TcpSink<S>>(
        held_total: &mut usize,
        half: &mut HalfStream,
        meta: &FlowMeta,
        state: &mut S,
        dir: Dir,
        sink: &mut K,
    ) {
        while let Some(entry) = half.held.first_entry() {
            let position = *entry.key();
            if position > half.position {
                break;
            }
            let bytes = entry.remove();
            half.held_bytes -= bytes.len();
            *held_total -= bytes.len();
            let old = (half.position - position) as usize;
            if old < bytes.len() {
                Self::deliver(half, &bytes[old..], meta, state, dir, sink);
            }
        }
        Self::fin_if_reached(half, meta, state, dir, sink);
    }

    /// Declares the bytes up to the first held segment missing and moves past them.
    fn skip_to_first_held<K: TcpSink<S>>(
        stats: &mut TcpStats,
        half: &mut HalfStream,
        meta: &FlowMeta,
        state: &mut S,
        dir: Dir,
        sink: &mut K,
    ) {
        let Some((&position, _)) = half.held.first_key_value() else { return };
        Self::skip_to(stats, half, position, meta, state, dir, sink);
    }

    fn skip_to<K: TcpSink<S>>(
        stats: &mut TcpStats,
        half: &mut HalfStream,
        position: u64,
        meta: &FlowMeta,
        state: &mut S,
        dir: Dir,
        sink: &mut K,
    ) {
        if position <= half.position {
            return;
        }
        let missing = position - half.position;
        if let Some(next) = half.next.as_mut() {
            *next = next.wrapping_add(missing as u32);
        }
        half.position = position;
        stats.gaps += 1;
        sink.tcp_event(meta, state, dir, TcpEvent::Gap { missing });
    }

    /// The receiver acknowledged bytes of this direction the capture does not have: they were
    /// sent and lost from the capture. Skip to the first held segment, or to the acknowledged
    /// number when nothing is held but a FIN shows where the stream ends.
    fn gap_if_acked<K: TcpSink<S>>(
        held_total: &mut usize,
        stats: &mut TcpStats,
        half: &mut HalfStream,
        meta: &FlowMeta,
        state: &mut S,
        dir: Dir,
        sink: &mut K,
    ) {
        let (Some(next), Some(acked)) = (half.next, half.acked) else { return };
        let acked_ahead = acked.wrapping_sub(next) as i32;
        if acked_ahead <= 0 {
            return;
        }
        let acked_position = half.position + acked_ahead as u64;
        match half.held.first_key_value() {
            Some((&first, _)) if first <= acked_position => {
                Self::skip_to(stats, half, first, meta, state, dir, sink);
                Self::drain(held_total, half, meta, state, dir, sink);
            }
            Some(_) => {}
            // Nothing held, but the FIN was seen and acknowledged: the bytes before it are lost.
            None => {
                let Some(fin) = half.fin else { return };
                let fin_ahead = fin.wrapping_sub(next) as i32;
                if fin_ahead > 0 && acked_ahead > fin_ahead {
                    Self::skip_to(
                        stats,
                        half,
                        half.position + fin_ahead as u64,
                        meta,
                        state,
                        dir,
                        sink,
                    );
                    Self::fin_if_reached(half, meta, state, dir, sink);
                }
            }
        }
    }

    fn fin_if_reached<K: TcpSink<S>>(
        half: &mut HalfStream,
        meta: &FlowMeta,
        state: &mut S,
        dir: Dir,
        sink: &mut K,
    ) {
        if half.fin_delivered {
            return;
        }
        let (Some(fin), Some(next)) = (half.fin, half.next) else { return };
        if fin == next && half.held.is_empty() {
            half.fin_delivered = true;
            half.next = Some(next.wrapping_add(1));
            sink.tcp_event(meta, state, dir, TcpEvent::Fin);
        }
    }
}

#[cfg(test)]
mod tests;
