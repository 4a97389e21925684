//! Captures written by `doipcheck::pcap` decode in tshark: every DoIP message we wrote is
//! dissected as DoIP, in order, with no malformed packet, no expert error and no TCP sequence
//! complaint; CAN frames decode as SocketCAN with their identifiers.

use std::time::Duration;

use doipcheck::codec::can::{CanFrame, ExtendedId, StandardId};
use doipcheck::pcap::{
    CaptureOptions, Close, Endpoints, PacketDirection, PcapngWriter, PortMapping, Side,
};
use doipcheck::proto::time::Instant;

use crate::tshark;

fn hex(s: &str) -> Vec<u8> {
    doipcheck::notation::parse_hex(s).unwrap()
}

/// A DoIP message: version 2, its inverse, payload type, length, payload.
fn doip(payload_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![0x02, 0xFD];
    m.extend_from_slice(&payload_type.to_be_bytes());
    m.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    m.extend_from_slice(payload);
    m
}

/// Writes a capture with every shape of traffic the runner produces and returns the payload
/// types of the DoIP messages in it, in wire order.
fn write_sample(mapping: PortMapping) -> (Vec<u8>, Vec<u16>) {
    let options = CaptureOptions {
        wall_clock_epoch: Duration::from_secs(1_763_780_000),
        comment: "tshark sample".into(),
        port_mapping: mapping,
    };
    let mut c = PcapngWriter::new(Vec::new(), options).unwrap();
    let mut types = Vec::new();
    let mut t = 0u64;
    let mut at = || {
        t += 1;
        Instant::from_millis(t)
    };

    let tcp = Endpoints {
        tester: "127.0.0.1:51000".parse().unwrap(),
        entity: "127.0.0.1:40123".parse().unwrap(),
    };
    // Writes `msgs` as one TCP read or write and notes their payload types.
    fn send(
        c: &mut PcapngWriter<Vec<u8>>,
        types: &mut Vec<u16>,
        at: Instant,
        dir: PacketDirection,
        ends: Endpoints,
        msgs: &[Vec<u8>],
    ) {
        for m in msgs {
            types.push(u16::from_be_bytes([m[2], m[3]]));
        }
        c.tcp_data(at, ends, dir, &msgs.concat(), None).unwrap();
    }
    c.tcp_open(at(), tcp, false).unwrap();
    let activation = doip(0x0005, &hex("0E00 00 00000000"));
    send(&mut c, &mut types, at(), PacketDirection::Sent, tcp, &[activation]);
    send(
        &mut c,
        &mut types,
        at(),
        PacketDirection::Received,
        tcp,
        &[doip(0x0006, &hex("0E00 1000 10 00000000"))],
    );
    send(
        &mut c,
        &mut types,
        at(),
        PacketDirection::Sent,
        tcp,
        &[doip(0x8001, &hex("0E00 1000 1003"))],
    );
    // Two messages in one read: ACK and response.
    send(
        &mut c,
        &mut types,
        at(),
        PacketDirection::Received,
        tcp,
        &[doip(0x8002, &hex("1000 0E00 00")), doip(0x8001, &hex("1000 0E00 5003 0032 01F4"))],
    );
    // A message dripped in two reads: header first, then the payload.
    let alive = doip(0x0007, &[]);
    types.push(0x0007);
    let response = doip(0x0008, &hex("0E00"));
    c.tcp_data(at(), tcp, PacketDirection::Received, &alive, None).unwrap();
    types.push(0x0008);
    c.tcp_data(at(), tcp, PacketDirection::Sent, &response[..8], Some("header alone")).unwrap();
    c.tcp_data(at(), tcp, PacketDirection::Sent, &response[8..], None).unwrap();
    // A message longer than one MSS (UDS TransferData of 4000 bytes).
    let mut transfer = hex("0E00 1000 3601");
    transfer.extend((0..4000u32).map(|i| i as u8));
    send(&mut c, &mut types, at(), PacketDirection::Sent, tcp, &[doip(0x8001, &transfer)]);
    send(
        &mut c,
        &mut types,
        at(),
        PacketDirection::Received,
        tcp,
        &[doip(0x8002, &hex("1000 0E00 00"))],
    );
    c.tcp_close(at(), tcp, Side::Entity, Close::Fin).unwrap();
    c.tcp_close(at(), tcp, Side::Tester, Close::Fin).unwrap();

    // A TLS connection (its records are what the tap saw: none here) that the entity resets.
    let tls = Endpoints {
        tester: "127.0.0.1:51001".parse().unwrap(),
        entity: "127.0.0.1:40124".parse().unwrap(),
    };
    c.tcp_open(at(), tls, true).unwrap();
    c.tcp_close(at(), tls, Side::Entity, Close::Reset).unwrap();

    // UDP discovery: vehicle identification and entity status.
    let udp = Endpoints {
        tester: "127.0.0.1:51002".parse().unwrap(),
        entity: "127.0.0.1:40125".parse().unwrap(),
    };
    let vin = b"WVWZZZ1JZXW000001".to_vec();
    let mut announcement = vin;
    announcement.extend(hex("1000 001122334455 001122334455 00 00"));
    for (dir, m) in [
        (PacketDirection::Sent, doip(0x0001, &[])),
        (PacketDirection::Received, doip(0x0004, &announcement)),
        (PacketDirection::Sent, doip(0x4001, &[])),
        (PacketDirection::Received, doip(0x4002, &hex("00 10 01 00000FFF"))),
    ] {
        types.push(u16::from_be_bytes([m[2], m[3]]));
        c.udp(at(), udp, dir, &m, None).unwrap();
    }

    // CAN: an ISO-TP single frame on can0, an FD frame with a 29-bit id on can1.
    let sf =
        CanFrame::new(StandardId::new(0x7E0).unwrap(), &hex("02 10 03 CC CC CC CC CC")).unwrap();
    c.can(at(), "can0", PacketDirection::Sent, &sf, None).unwrap();
    let fd = CanFrame::new_fd(ExtendedId::new(0x18DA_F110).unwrap(), &[0x55; 12], true).unwrap();
    c.can(at(), "can1", PacketDirection::Received, &fd, None).unwrap();

    (c.finish(), types)
}

fn doip_types_seen(path: &std::path::Path) -> Vec<u16> {
    tshark::fields(path, "doip", &["doip.type"])
        .into_iter()
        .flat_map(|row| row[0].split(',').map(str::to_owned).collect::<Vec<_>>())
        .map(|t| u16::from_str_radix(t.trim_start_matches("0x"), 16).unwrap())
        .collect()
}

#[test]
fn tshark_decodes_every_doip_message_and_can_frame_with_no_malformed_packet() {
    if !tshark::tshark_or_skip("tshark_decodes_every_doip_message") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.pcapng");
    let (bytes, types) = write_sample(PortMapping::Standard);
    std::fs::write(&path, bytes).unwrap();

    assert_eq!(doip_types_seen(&path), types);
    assert_eq!(tshark::problems(&path), Vec::<Vec<String>>::new());

    // Identifiers print in decimal: 0x7E0 = 2016, 0x18DAF110 = 417001744.
    let can = tshark::fields(
        &path,
        "can || canfd",
        &[
            "frame.interface_name",
            "frame.protocols",
            "can.id",
            "can.len",
            "can.flags.xtd",
            "canfd.flags.brs",
        ],
    );
    let can: Vec<Vec<&str>> = can.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    assert_eq!(
        can,
        [
            vec!["can0", "can:data", "2016", "8", "0", ""],
            vec!["can1", "can:data", "417001744", "12", "1", "1"]
        ]
    );
}

#[test]
fn with_real_ports_tshark_needs_decode_as_and_then_decodes_the_same() {
    if !tshark::tshark_or_skip("with_real_ports_tshark_needs_decode_as") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("as-seen.pcapng");
    let (bytes, types) = write_sample(PortMapping::AsSeen);
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(doip_types_seen(&path), Vec::<u16>::new(), "ephemeral ports are not DoIP ports");
    let out = std::process::Command::new("tshark")
        .args(["-n", "-2", "-r"])
        .arg(&path)
        .args(["-d", "tcp.port==40123,doip", "-d", "tcp.port==40124,doip"])
        .args(["-d", "udp.port==40125,doip", "-Y", "doip", "-T", "fields", "-e", "doip.type"])
        .args(["-E", "occurrence=a", "-E", "aggregator=,"])
        .output()
        .unwrap();
    let seen: Vec<u16> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .flat_map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .map(|t| u16::from_str_radix(t.trim_start_matches("0x"), 16).unwrap())
        .collect();
    assert_eq!(seen, types);
}

#[test]
fn the_problem_filter_catches_a_doip_message_too_short_for_its_fields() {
    if !tshark::tshark_or_skip("the_problem_filter_catches_a_short_doip_message") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.pcapng");
    let mut c = PcapngWriter::new(Vec::new(), CaptureOptions::default()).unwrap();
    let udp = Endpoints {
        tester: "127.0.0.1:51002".parse().unwrap(),
        entity: "127.0.0.1:13400".parse().unwrap(),
    };
    // A routing activation response whose length field (2) is shorter than its fields (9).
    c.udp(Instant::ZERO, udp, PacketDirection::Received, &hex("02FD 0006 00000002 0E00"), None)
        .unwrap();
    std::fs::write(&path, c.finish()).unwrap();
    let problems = tshark::problems(&path);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0][0], "1");
}
