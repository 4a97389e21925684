//! Container parsing: pcap in both byte orders and resolutions, pcapng with several interfaces, and
//! one test per broken-structure rule.

use super::*;
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapTsResolution, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption, InterfaceTsResolution,
};
use pcap_file::pcapng::blocks::section_header::SectionHeaderBlock;

fn pcap(endianness: Endianness, ts_resolution: PcapTsResolution) -> Vec<u8> {
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        endianness,
        ts_resolution,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    let t = Duration::new(1_700_000_000, 123_456_789);
    w.write_packet(&PcapPacket::new(t, 3, &[1, 2, 3][..]).unwrap()).unwrap();
    w.write_packet(&PcapPacket::new(t, 10, &[4][..]).unwrap()).unwrap();
    w.into_inner()
}

/// Every record of `bytes`, parsed from one buffer.
/// (number, interface, link type, time, data)
type Rec = (u64, u32, u32, Duration, Vec<u8>);

fn records(bytes: &[u8]) -> (Vec<Rec>, Vec<String>) {
    let mut p = FileParser::new();
    let mut pos = 0;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    loop {
        match p.next(&bytes[pos..]) {
            Parsed::Record { record: r, len } => {
                out.push((r.number, r.interface, r.linktype, r.time, r.data.to_vec()));
                pos += len;
            }
            Parsed::Header { len } => pos += len,
            Parsed::Skipped { len, why } => {
                skipped.push(why);
                pos += len;
            }
            Parsed::NeedMore { .. } => {
                assert!(p.finish(&bytes[pos..]).is_none());
                return (out, skipped);
            }
            Parsed::Fatal(e) => panic!("{e}"),
        }
    }
}

#[test]
fn pcap_in_either_byte_order_and_resolution_reads_the_same() {
    for endianness in [Endianness::Big, Endianness::Little] {
        for res in [PcapTsResolution::MicroSecond, PcapTsResolution::NanoSecond] {
            let (recs, _) = records(&pcap(endianness, res));
            let expected_ns =
                if res == PcapTsResolution::NanoSecond { 123_456_789 } else { 123_456_000 };
            assert_eq!(recs.len(), 2, "{endianness:?} {res:?}");
            assert_eq!(recs[0].3, Duration::new(1_700_000_000, expected_ns));
            assert_eq!((recs[0].0, recs[0].2, recs[0].4.clone()), (1, 1, vec![1, 2, 3]));
            assert_eq!((recs[1].0, recs[1].4.clone()), (2, vec![4]));
        }
    }
}

fn pcapng(endianness: Endianness) -> Vec<u8> {
    let section = SectionHeaderBlock { endianness, ..Default::default() };
    let mut w = PcapNgWriter::with_section_header(Vec::new(), section).unwrap();
    for (linktype, resolution) in [
        (DataLink::ETHERNET, InterfaceTsResolution::MICRO),
        (DataLink::CAN_SOCKETCAN, InterfaceTsResolution::NANO),
    ] {
        let options = vec![InterfaceDescriptionOption::IfTsResol(resolution)];
        w.write_pcapng_block(InterfaceDescriptionBlock { linktype, snaplen: 0, options }).unwrap();
    }
    for (interface_id, data) in [(1u32, &[9u8, 9][..]), (0, &[7][..])] {
        let block = EnhancedPacketBlock {
            interface_id,
            timestamp: Duration::new(5, 1_000),
            original_len: data.len() as u32,
            data: data.into(),
            options: vec![],
        };
        w.write_pcapng_block(block).unwrap();
    }
    w.into_inner()
}

#[test]
fn pcapng_with_two_interfaces_gives_each_packet_its_link_type() {
    for endianness in [Endianness::Big, Endianness::Little] {
        let (recs, skipped) = records(&pcapng(endianness));
        assert!(skipped.is_empty());
        let got: Vec<_> = recs.iter().map(|r| (r.0, r.1, r.2, r.3, r.4.clone())).collect();
        assert_eq!(
            got,
            [
                (1, 1, 227, Duration::new(5, 1_000), vec![9, 9]),
                (2, 0, 1, Duration::new(5, 1_000), vec![7])
            ],
            "{endianness:?}"
        );
    }
}

#[test]
fn a_packet_on_an_undescribed_interface_is_skipped_and_counted() {
    let mut bytes = pcapng(Endianness::Little);
    // Point the first packet (after SHB 28 bytes, two IDBs of 32 bytes) at interface 9.
    let epb = 28 + 32 + 32;
    bytes[epb + 8] = 9;
    let (recs, skipped) = records(&bytes);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].0, 2, "the skipped packet keeps its number");
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].starts_with("packet 1:"), "{skipped:?}");
}

#[test]
fn a_pcap_record_with_a_bad_timestamp_is_skipped_and_the_next_read() {
    let mut bytes = pcap(Endianness::Little, PcapTsResolution::MicroSecond);
    // ts_frac of the first record: 2 000 000 us is not a fraction of a second.
    bytes[24 + 4..24 + 8].copy_from_slice(&2_000_000u32.to_le_bytes());
    let (recs, skipped) = records(&bytes);
    assert_eq!(recs.iter().map(|r| r.0).collect::<Vec<_>>(), [2]);
    assert_eq!(skipped.len(), 1);
}

#[test]
fn a_cut_file_is_truncated_at_the_offset_of_its_last_record() {
    let bytes = pcapng(Endianness::Big);
    let cut = &bytes[..bytes.len() - 3];
    let mut p = FileParser::new();
    let mut pos = 0;
    while let Parsed::Record { len, .. } | Parsed::Header { len } = p.next(&cut[pos..]) {
        pos += len;
    }
    match p.finish(&cut[pos..]) {
        Some(FileError::Truncated { offset, available, needed }) => {
            assert_eq!(offset, pos as u64);
            assert_eq!(needed - available, 3);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_broken_block_length_is_fatal_with_its_offset() {
    let mut bytes = pcapng(Endianness::Big);
    // The first IDB's length: 13 is not a multiple of 4.
    bytes[28 + 7] = 13;
    let mut p = FileParser::new();
    let Parsed::Header { len } = p.next(&bytes) else { panic!() };
    match p.next(&bytes[len..]) {
        Parsed::Fatal(FileError::Broken { offset, .. }) => assert_eq!(offset, 28),
        other => panic!("{other:?}"),
    }
}
