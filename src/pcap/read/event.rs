//! What the reader reports: [`CaptureEvent`]s in packet order, each naming where it happened
//! ([`At`]) and, for TCP, the [`TcpFlow`] with its tester and entity ends.
//!
//! May import: `crate::codec` and `crate::pcap`.

use core::net::SocketAddr;
use std::time::Duration;

use crate::codec::can::CanFrame;
use crate::codec::doip::{HEADER_LEN, Message};
use crate::pcap::Side;
use crate::pcap::socketcan::SocketCanError;

use super::isotp::IsoTpEvent;

/// Where something happened: the packet number (1-based, Wireshark's) and its timestamp
/// (time since 1970-01-01 UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub packet: u64,
    pub time: Duration,
}

/// A TCP connection as the events name it: its number and which end is which. The entity is
/// the end on a DoIP (or TLS) port; without one, the end that received the SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFlow {
    pub id: u32,
    pub tester: SocketAddr,
    pub entity: SocketAddr,
    /// The capture holds the SYN: the connection is seen from its start.
    pub handshake: bool,
    /// On a TLS port: the payload is encrypted.
    pub tls: bool,
}

/// How a DoIP message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarriedBy {
    Tcp(TcpFlow),
    Udp { src: SocketAddr, dst: SocketAddr },
}

/// Something the capture shows, in packet order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureEvent<'a> {
    /// A TCP connection's first packet.
    Opened { at: At, conn: TcpFlow },
    /// `by` closed its direction (FIN) or aborted the connection (RST).
    Closed { at: At, conn: TcpFlow, by: Side, reset: bool },
    /// The connection is no longer followed: `open_at_end` when the file ended first,
    /// `evicted` when too many connections were open.
    Ended { at: At, conn: TcpFlow, open_at_end: bool, evicted: bool },
    /// The capture lost `missing` bytes that `from` sent.
    Gap { at: At, conn: TcpFlow, from: Side, missing: u64 },
    /// `from`'s DoIP stream was found again after `skipped` bytes.
    Resynced { at: At, conn: TcpFlow, from: Side, skipped: u64 },
    /// Bytes of a connection in stream order, as the reassembly delivered them (one TCP
    /// segment, or several when out-of-order ones filled a hole): the recorded segmentation,
    /// which `import` replays. The DoIP messages in them follow as [`CaptureEvent::Doip`].
    Data { at: At, conn: TcpFlow, from: Side, bytes: &'a [u8] },
    /// A DoIP message: its bytes and the codec's verdict (a UDP datagram that is no valid
    /// message is `Err` with its whole payload; a rejected TCP header is `Err` with the
    /// bytes present of it).
    Doip {
        at: At,
        carrier: CarriedBy,
        from: Side,
        bytes: &'a [u8],
        message: Result<Message<'a>, crate::codec::doip::Error>,
    },
    /// A DoIP message longer than the reader holds, skipped undecoded.
    DoipTooLong { at: At, conn: TcpFlow, from: Side, header: [u8; HEADER_LEN], declared: u32 },
    /// TLS payload bytes on a connection to a TLS port.
    Encrypted { at: At, conn: TcpFlow, from: Side, bytes: usize },
    /// A CAN data frame on `interface`.
    Can { at: At, interface: u32, frame: CanFrame },
    /// A CAN record that is no data frame (error or remote frame, broken record).
    CanRecord { at: At, interface: u32, error: SocketCanError },
    /// What the ISO-TP reassembly found.
    IsoTp(IsoTpEvent<'a>),
    /// A record the reader passed over: its reason (link type, fragment, broken headers).
    Skipped { at: At, why: SkipReason },
    /// DoIP was found by its header on a port not configured for it (in a UDP datagram when
    /// `udp`, else a TCP segment): the entity's `port` is read as DoIP, TCP and UDP, from this
    /// packet on.
    DoipPortFound { at: At, port: u16, udp: bool },
}

impl CaptureEvent<'_> {
    /// Where the event happened; `None` for ISO-TP events, which name their frames.
    pub fn at(&self) -> Option<At> {
        match self {
            CaptureEvent::Opened { at, .. }
            | CaptureEvent::Closed { at, .. }
            | CaptureEvent::Ended { at, .. }
            | CaptureEvent::Gap { at, .. }
            | CaptureEvent::Resynced { at, .. }
            | CaptureEvent::Data { at, .. }
            | CaptureEvent::Doip { at, .. }
            | CaptureEvent::DoipTooLong { at, .. }
            | CaptureEvent::Encrypted { at, .. }
            | CaptureEvent::Can { at, .. }
            | CaptureEvent::CanRecord { at, .. }
            | CaptureEvent::Skipped { at, .. }
            | CaptureEvent::DoipPortFound { at, .. } => Some(*at),
            CaptureEvent::IsoTp(_) => None,
        }
    }
}

/// Why a record was passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    UnsupportedLinkType(u32),
    IpFragment,
    Malformed(&'static str),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::UnsupportedLinkType(t) => write!(f, "link type {t} is not decoded"),
            SkipReason::IpFragment => f.write_str("IP fragment (fragments are not reassembled)"),
            SkipReason::Malformed(why) => f.write_str(why),
        }
    }
}

/// The receiver of a [`Reader`]'s events.
pub trait CaptureSink {
    fn event(&mut self, event: CaptureEvent<'_>);
}

impl<F: FnMut(CaptureEvent<'_>)> CaptureSink for F {
    fn event(&mut self, event: CaptureEvent<'_>) {
        self(event)
    }
}
