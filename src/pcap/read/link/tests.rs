//! Link layers down to TCP/UDP: Ethernet with 802.1Q, Linux cooked v1 and v2, raw IP, BSD loopback,
//! fragments and cut headers.

use super::*;
use etherparse::PacketBuilder;

/// An IPv4/TCP packet 10.0.0.1:50000 -> 10.0.0.2:13400 carrying `payload`, without link header.
fn ip_tcp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64).tcp(50000, 13400, 7, 1000);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn expect_tcp(link: RecordPayload<'_>, payload: &[u8]) {
    let RecordPayload::Ip(ip) = link else { panic!("{link:?}") };
    assert_eq!(ip.src.to_string(), "10.0.0.1");
    let IpPayload::Tcp(t) = ip.transport else { panic!() };
    assert_eq!((t.src_port, t.dst_port, t.seq, t.payload), (50000, 13400, 7, payload));
}

#[test]
fn ethernet_with_an_802_1q_tag() {
    let mut frame = vec![0xAA; 12];
    frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
    frame.extend(ip_tcp(b"doip"));
    expect_tcp(decode(1, &frame), b"doip");
}

#[test]
fn linux_cooked_v1_and_v2() {
    let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
    sll.extend(ip_tcp(b"x"));
    expect_tcp(decode(113, &sll), b"x");
    let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0];
    sll2.extend(ip_tcp(b"y"));
    expect_tcp(decode(276, &sll2), b"y");
    assert_eq!(
        decode(276, &sll2[..19]),
        RecordPayload::Malformed("Linux cooked v2 (SLL2) header cut")
    );
}

#[test]
fn raw_ip_and_bsd_loopback_in_either_family_byte_order() {
    expect_tcp(decode(101, &ip_tcp(b"r")), b"r");
    for family in [[2, 0, 0, 0], [0, 0, 0, 2]] {
        let mut null = family.to_vec();
        null.extend(ip_tcp(b"n"));
        expect_tcp(decode(0, &null), b"n");
        expect_tcp(decode(108, &null), b"n");
    }
}

#[test]
fn udp_can_and_the_rest() {
    let b = PacketBuilder::ipv6([1; 16], [2; 16], 64).udp(13400, 40000);
    let mut udp = Vec::new();
    b.write(&mut udp, b"u").unwrap();
    let RecordPayload::Ip(IpPacket { transport: IpPayload::Udp { src_port, payload, .. }, .. }) =
        decode(229, &udp)
    else {
        panic!()
    };
    assert_eq!((src_port, payload), (13400, &b"u"[..]));
    assert_eq!(decode(227, &[1, 2]), RecordPayload::Can(&[1, 2]));
    assert_eq!(decode(147, &[]), RecordPayload::Unsupported(147));
    let mut arp = vec![0; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    assert_eq!(decode(1, &arp), RecordPayload::Other);
    let cut = ip_tcp(b"abcdef");
    assert!(matches!(decode(101, &cut[..cut.len() - 3]), RecordPayload::Malformed(_)));
}

#[test]
fn ip_fragments_are_not_reassembled() {
    let mut ip = ip_tcp(b"frag");
    ip[6] = 0x20; // more fragments
    assert_eq!(decode(101, &ip), RecordPayload::Fragment);
}
