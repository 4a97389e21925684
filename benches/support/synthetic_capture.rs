//! Synthetic pcap captures of DoIP over Ethernet/IPv4/TCP as tcpdump writes them, for the
//! benches that read large captures (`inspect_throughput`, `import_memory`): connections of
//! a routing activation and then, per exchange, a tester segment with a diagnostic message
//! (ReadDataByIdentifier 0xF190) and an entity segment with the diagnostic ACK (and, with
//! [`Shape::with_answer`], the 20-byte answer).

use std::io::Write;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

const TESTER: [u8; 4] = [192, 0, 2, 1];
const ENTITY: [u8; 4] = [192, 0, 2, 2];

fn doip(payload_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut m = vec![0x02, 0xFD];
    m.extend_from_slice(&payload_type.to_be_bytes());
    m.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    m.extend_from_slice(payload);
    m
}

/// What a synthetic capture holds.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Diagnostic exchanges per TCP connection (each after a routing activation).
    pub exchanges_per_connection: u64,
    /// Each answer holds the diagnostic ACK and the 20-byte answer (3 messages an exchange);
    /// else only the ACK (2 messages an exchange: request/ACK pairs).
    pub with_answer: bool,
}

/// Writes a capture of at least `messages` DoIP messages of `shape` to `out`; returns the
/// messages and the packets written.
pub fn write_capture(out: impl Write, messages: u64, shape: Shape) -> (u64, u64) {
    let header = PcapHeader { datalink: DataLink::ETHERNET, ..PcapHeader::default() };
    let mut w = PcapWriter::with_header(out, header).unwrap();
    let request = doip(0x8001, &[0x0E, 0x00, 0x10, 0x00, 0x22, 0xF1, 0x90]);
    let mut answer = doip(0x8002, &[0x10, 0x00, 0x0E, 0x00, 0x00]);
    let mut response = vec![0x10, 0x00, 0x0E, 0x00, 0x62, 0xF1, 0x90];
    response.extend_from_slice(b"WDOIPCHECK0000001");
    if shape.with_answer {
        answer.extend(doip(0x8001, &response));
    }
    let per_exchange = if shape.with_answer { 3 } else { 2 };
    let mut packets = 0u64;
    let activation = doip(0x0005, &[0x0E, 0x00, 0x00, 0, 0, 0, 0]);
    let activated = doip(0x0006, &[0x0E, 0x00, 0x10, 0x00, 0x10, 0, 0, 0, 0]);
    let mut time = Duration::from_secs(1_764_900_000);
    let mut packet = |w: &mut PcapWriter<_>,
                      from_tester: bool,
                      port: u16,
                      seq: u32,
                      ack: u32,
                      flags: &str,
                      payload: &[u8]| {
        let (src, dst, sp, dp) =
            if from_tester { (TESTER, ENTITY, port, 13400) } else { (ENTITY, TESTER, 13400, port) };
        let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, seq, 65535);
        if flags.contains('S') {
            b = b.syn();
        }
        if flags.contains('F') {
            b = b.fin();
        }
        if flags.contains('A') {
            b = b.ack(ack);
        }
        if flags.contains('P') {
            b = b.psh();
        }
        let mut bytes = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut bytes, payload).unwrap();
        time += Duration::from_micros(50);
        packets += 1;
        w.write_packet(&PcapPacket::new(time, bytes.len() as u32, &bytes[..]).unwrap()).unwrap();
    };
    let mut written = 0;
    let mut connection = 0u16;
    while written < messages {
        connection = connection.wrapping_add(1);
        let port = 20000 + connection % 40000;
        let (mut t, mut e) = (1000u32, 5000u32);
        packet(&mut w, true, port, t - 1, 0, "S", &[]);
        packet(&mut w, false, port, e - 1, t, "SA", &[]);
        packet(&mut w, true, port, t, e, "A", &[]);
        packet(&mut w, true, port, t, e, "AP", &activation);
        t += activation.len() as u32;
        packet(&mut w, false, port, e, t, "AP", &activated);
        e += activated.len() as u32;
        written += 2;
        for _ in 0..shape.exchanges_per_connection {
            packet(&mut w, true, port, t, e, "AP", &request);
            t += request.len() as u32;
            packet(&mut w, false, port, e, t, "AP", &answer);
            e += answer.len() as u32;
            written += per_exchange;
            if written >= messages {
                break;
            }
        }
        packet(&mut w, true, port, t, e, "AF", &[]);
        packet(&mut w, false, port, e, t + 1, "AF", &[]);
        packet(&mut w, true, port, t + 1, e + 1, "A", &[]);
    }
    w.into_inner();
    (written, packets)
}
