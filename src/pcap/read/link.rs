//! Link layer and IP: the bytes of one record, by its link type, down to a TCP segment, a UDP
//! datagram or a SocketCAN record. Headers are read with etherparse (zero-copy slices);
//! checksums are not verified, because loopback captures carry offloaded, unfinished ones.
//!
//! | link type | header |
//! |---|---|
//! | 1 ETHERNET | Ethernet II, 802.1Q / 802.1ad tags (etherparse) |
//! | 113 LINUX_SLL | cooked v1, 16 bytes, protocol at offset 14 (`tcpdump -i any`, older) |
//! | 276 LINUX_SLL2 | cooked v2, 20 bytes, protocol at offset 0 (`tcpdump -i any`) |
//! | 0 NULL, 108 LOOP | BSD loopback: 4-byte address family, then IP |
//! | 101 RAW, 228 IPV4, 229 IPV6 | IP header first |
//! | 227 CAN_SOCKETCAN | `struct can_frame` / `canfd_frame` ([`crate::pcap::socketcan`]) |
//!
//! Link-type numbers are pcap-file's [`DataLink`] constants.
//!
//! May import: `crate::codec` and `crate::pcap`.

use core::net::IpAddr;

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_file::DataLink;

/// What one record carries, as far as inspection cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPayload<'a> {
    /// An IP packet with a TCP or UDP payload.
    Ip(IpPacket<'a>),
    /// A SocketCAN record (decoded once the file's byte order is known).
    Can(&'a [u8]),
    /// Traffic that carries no DoIP or CAN (ARP, ICMP, another transport): counted, not shown.
    Other,
    /// A fragment of an IP datagram: fragments are not reassembled.
    Fragment,
    /// A link type this reader does not decode.
    Unsupported(u32),
    /// The headers are cut or broken.
    Malformed(&'static str),
}

/// The addresses and transport of an IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: IpPayload<'a>,
}

/// A TCP segment or UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpPayload<'a> {
    Tcp(TcpSegment<'a>),
    Udp { src_port: u16, dst_port: u16, payload: &'a [u8] },
}

/// The fields of a TCP segment the reassembly needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    /// The acknowledgement number when the ACK flag is set.
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
}

/// Linux cooked capture v1 header length; the protocol (EtherType) is at offset 14.
const SLL_LEN: usize = 16;
/// Linux cooked capture v2 header length; the protocol is at offset 0.
const SLL2_LEN: usize = 20;
/// BSD loopback: a 4-byte address family before the IP header.
const NULL_LEN: usize = 4;

/// Decodes the record `data` captured on a `linktype` interface.
pub fn decode(linktype: u32, data: &[u8]) -> RecordPayload<'_> {
    let sliced = match DataLink::from(linktype) {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data),
        DataLink::LINUX_SLL => match data.get(14..SLL_LEN) {
            Some(p) => ether_type(u16::from_be_bytes([p[0], p[1]]), &data[SLL_LEN..]),
            None => return RecordPayload::Malformed("Linux cooked (SLL) header cut"),
        },
        DataLink::LINUX_SLL2 => match data.get(..SLL2_LEN) {
            Some(h) => ether_type(u16::from_be_bytes([h[0], h[1]]), &data[SLL2_LEN..]),
            None => return RecordPayload::Malformed("Linux cooked v2 (SLL2) header cut"),
        },
        // The address family is in the byte order of the machine that wrote the file (NULL)
        // or big-endian (LOOP), and its IPv6 value differs between BSDs: the IP version
        // nibble says the same thing without either doubt.
        DataLink::NULL | DataLink::LOOP => match data.get(NULL_LEN..) {
            Some(ip) => SlicedPacket::from_ip(ip),
            None => return RecordPayload::Malformed("BSD loopback header cut"),
        },
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data),
        DataLink::CAN_SOCKETCAN => return RecordPayload::Can(data),
        _ => return RecordPayload::Unsupported(linktype),
    };
    match sliced {
        Ok(packet) => from_sliced(&packet),
        Err(_) => RecordPayload::Malformed("IP, TCP or UDP header cut or invalid"),
    }
}

fn ether_type(
    value: u16,
    payload: &[u8],
) -> Result<SlicedPacket<'_>, etherparse::err::packet::SliceError> {
    SlicedPacket::from_ether_type(EtherType(value), payload)
}

fn from_sliced<'a>(packet: &SlicedPacket<'a>) -> RecordPayload<'a> {
    let (src, dst, fragment) = match &packet.net {
        Some(NetSlice::Ipv4(ip)) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
            ip.payload().fragmented,
        ),
        Some(NetSlice::Ipv6(ip)) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
            ip.payload().fragmented,
        ),
        _ => return RecordPayload::Other,
    };
    if fragment {
        return RecordPayload::Fragment;
    }
    let transport = match &packet.transport {
        Some(TransportSlice::Tcp(tcp)) => IpPayload::Tcp(TcpSegment {
            src_port: tcp.source_port(),
            dst_port: tcp.destination_port(),
            seq: tcp.sequence_number(),
            ack: tcp.ack().then(|| tcp.acknowledgment_number()),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            payload: tcp.payload(),
        }),
        Some(TransportSlice::Udp(udp)) => IpPayload::Udp {
            src_port: udp.source_port(),
            dst_port: udp.destination_port(),
            payload: udp.payload(),
        },
        _ => return RecordPayload::Other,
    };
    RecordPayload::Ip(IpPacket { src, dst, transport })
}

#[cfg(test)]
mod tests;
