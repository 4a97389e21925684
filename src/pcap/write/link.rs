//! Link-layer synthesis: the bytes of one captured packet.
//!
//! DoIP over IP becomes Ethernet II / IPv4 (or IPv6) / TCP or UDP, built with etherparse so that
//! lengths and checksums are right and Wireshark has nothing to flag. CAN frames are written by
//! [`crate::pcap::socketcan`], the format definition the reader shares.

use std::net::{IpAddr, SocketAddr};

use etherparse::{
    IpHeaders, Ipv4Extensions, Ipv4Header, Ipv6Extensions, Ipv6Header, PacketBuilder, TcpHeader,
    TcpOptionElement,
};

/// Locally administered MAC of the harness (bit 1 of the first octet set: never a real vendor).
pub(crate) const TESTER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
/// Locally administered MAC of the entity under test.
pub(crate) const ENTITY_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/// The TCP maximum segment size of a 1500-byte Ethernet MTU: a longer DoIP message is written
/// as several segments, which Wireshark reassembles as it would on a real link.
pub(crate) const TCP_MSS: usize = 1460;

/// The largest UDP payload one IPv4 datagram can carry (65535 - 20 - 8).
pub(crate) const UDP_MAX_PAYLOAD: usize = 65_507;

/// The receive window every synthesized segment advertises.
const TCP_WINDOW: u16 = 65_535;

const TTL: u8 = 64;

/// Why a packet could not be synthesized (only reachable with sizes the callers already bound).
#[derive(Debug, thiserror::Error)]
#[error("cannot synthesize the {what} packet: {reason}")]
pub struct SynthesisError {
    what: &'static str,
    reason: String,
}

/// The fields of one TCP segment; ports and addresses come from the endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub seq: u32,
    /// `Some(n)` sets the ACK flag with acknowledgement number `n`.
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// Both addresses in one family: IPv4 when both are IPv4, otherwise IPv6 with IPv4-mapped
/// addresses (a mixed pair cannot occur on a real socket, but must not panic here either).
fn ip_headers(src: IpAddr, dst: IpAddr, identification: u16) -> IpHeaders {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = Ipv4Header {
                time_to_live: TTL,
                source: s.octets(),
                destination: d.octets(),
                ..Default::default()
            };
            h.identification = identification;
            h.dont_fragment = true;
            IpHeaders::Ipv4(h, Ipv4Extensions::default())
        }
        (s, d) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            let h = Ipv6Header {
                hop_limit: TTL,
                source: v6(s).octets(),
                destination: v6(d).octets(),
                ..Default::default()
            };
            IpHeaders::Ipv6(h, Ipv6Extensions::default())
        }
    }
}

/// One Ethernet/IP/TCP packet from `src` to `dst`.
pub(crate) fn tcp_packet(
    src: (SocketAddr, [u8; 6]),
    dst: (SocketAddr, [u8; 6]),
    identification: u16,
    segment: SegmentHeader,
    payload: &[u8],
) -> Result<Vec<u8>, SynthesisError> {
    let mut tcp = TcpHeader::new(src.0.port(), dst.0.port(), segment.seq, TCP_WINDOW);
    tcp.syn = segment.syn;
    tcp.fin = segment.fin;
    tcp.rst = segment.rst;
    tcp.psh = segment.psh;
    if let Some(ack) = segment.ack {
        tcp.ack = true;
        tcp.acknowledgment_number = ack;
    }
    if segment.syn {
        // RFC 9293 §3.7.1: the MSS option is sent in SYN segments; it tells the reader of the
        // capture why long messages are split.
        tcp.set_options(&[TcpOptionElement::MaximumSegmentSize(TCP_MSS as u16)])
            .map_err(|e| SynthesisError { what: "TCP SYN", reason: e.to_string() })?;
    }
    let builder = PacketBuilder::ethernet2(src.1, dst.1)
        .ip(ip_headers(src.0.ip(), dst.0.ip(), identification))
        .tcp_header(tcp);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut out, payload)
        .map_err(|e| SynthesisError { what: "TCP", reason: e.to_string() })?;
    Ok(out)
}

/// One Ethernet/IP/UDP packet from `src` to `dst`; `payload` must fit one datagram.
pub(crate) fn udp_packet(
    src: (SocketAddr, [u8; 6]),
    dst: (SocketAddr, [u8; 6]),
    identification: u16,
    payload: &[u8],
) -> Result<Vec<u8>, SynthesisError> {
    let builder = PacketBuilder::ethernet2(src.1, dst.1)
        .ip(ip_headers(src.0.ip(), dst.0.ip(), identification))
        .udp(src.0.port(), dst.0.port());
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut out, payload)
        .map_err(|e| SynthesisError { what: "UDP", reason: e.to_string() })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{IpNumber, NetSlice, SlicedPacket, TransportSlice};

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tcp_packet_round_trips_through_a_parser_with_valid_lengths_and_flags() {
        let seg = SegmentHeader {
            seq: 1000,
            ack: Some(77),
            syn: false,
            fin: false,
            rst: false,
            psh: true,
        };
        let bytes = tcp_packet(
            (addr("127.0.0.1:50000"), TESTER_MAC),
            (addr("127.0.0.1:13400"), ENTITY_MAC),
            7,
            seg,
            b"\x02\xfd\x00\x07\x00\x00\x00\x00",
        )
        .unwrap();
        let p = SlicedPacket::from_ethernet(&bytes).unwrap();
        let Some(NetSlice::Ipv4(ip)) = p.net else { panic!("not IPv4") };
        assert_eq!(ip.header().protocol(), IpNumber::TCP);
        assert_eq!(ip.header().identification(), 7);
        assert_eq!(usize::from(ip.header().total_len()), bytes.len() - 14);
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert_eq!((tcp.source_port(), tcp.destination_port()), (50000, 13400));
        assert_eq!((tcp.sequence_number(), tcp.acknowledgment_number()), (1000, 77));
        assert!(tcp.psh() && tcp.ack() && !tcp.syn());
        assert_eq!(tcp.payload(), b"\x02\xfd\x00\x07\x00\x00\x00\x00");
    }

    #[test]
    fn syn_carries_the_mss_option() {
        let seg =
            SegmentHeader { seq: 1, ack: None, syn: true, fin: false, rst: false, psh: false };
        let bytes =
            tcp_packet((addr("[::1]:5"), TESTER_MAC), (addr("[::1]:6"), ENTITY_MAC), 0, seg, &[])
                .unwrap();
        let p = SlicedPacket::from_ethernet(&bytes).unwrap();
        assert!(matches!(p.net, Some(NetSlice::Ipv6(_))));
        let Some(TransportSlice::Tcp(tcp)) = p.transport else { panic!("not TCP") };
        assert!(tcp.syn() && !tcp.ack());
        assert_eq!(tcp.options(), &[2, 4, 0x05, 0xB4]);
    }

    #[test]
    fn mixed_address_families_become_ipv6_instead_of_failing() {
        let bytes = udp_packet(
            (addr("127.0.0.1:1"), TESTER_MAC),
            (addr("[::1]:13400"), ENTITY_MAC),
            0,
            b"x",
        )
        .unwrap();
        let p = SlicedPacket::from_ethernet(&bytes).unwrap();
        let Some(NetSlice::Ipv6(ip)) = p.net else { panic!("not IPv6") };
        assert_eq!(ip.header().source_addr().to_string(), "::ffff:127.0.0.1");
    }

    #[test]
    fn udp_payload_of_the_largest_datagram_fits_and_one_more_byte_does_not() {
        let ends = ((addr("127.0.0.1:1"), TESTER_MAC), (addr("127.0.0.1:2"), ENTITY_MAC));
        assert!(udp_packet(ends.0, ends.1, 0, &vec![0; UDP_MAX_PAYLOAD]).is_ok());
        assert!(udp_packet(ends.0, ends.1, 0, &vec![0; UDP_MAX_PAYLOAD + 1]).is_err());
    }
}
