//! [`PcapngWriter`]: a pcapng file written while a case's frames are fed to it, one call per
//! connection change or frame, in time order.
//!
//! Interfaces are declared when first used: `doip` (Ethernet, for all TCP and UDP traffic) and
//! one LINKTYPE_CAN_SOCKETCAN interface per CAN bus name. Nothing is buffered beyond the TCP
//! sequence state of open connections, so a flood costs disk, not memory.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriteError;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption, InterfaceTsResolution,
};
use pcap_file::pcapng::blocks::opt_common::CommonOption;
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::blocks::unknown::UnknownBlock;

use super::link::{
    self, ENTITY_MAC, SegmentHeader, SynthesisError, TCP_MSS, TESTER_MAC, UDP_MAX_PAYLOAD,
};
use super::tcp::{Close, Side, TcpSequencer};
use crate::codec::can::CanFrame;
use crate::pcap::{DOIP_PORT, DOIP_TLS_PORT, socketcan};
use crate::proto::time::Instant;

/// pcapng block type of a Decryption Secrets Block.
pub const DECRYPTION_SECRETS_BLOCK: u32 = 0x0000_000A;
/// Its secrets type for a TLS key log in the NSS format ("TLSK").
pub const TLS_KEY_LOG_SECRETS: u32 = 0x544C_534B;
/// Most bytes of key-log lines one capture holds: far below the block size readers accept.
pub const MAX_SECRETS_LEN: usize = 1 << 20;

/// Which way a frame went, seen from the harness (the tester, or the CAN node it plays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketDirection {
    /// From the harness to the target.
    Sent,
    /// From the target to the harness.
    Received,
}

/// The two ends of a DoIP connection or datagram exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// The harness's socket address.
    pub tester: SocketAddr,
    /// The DoIP entity's socket address.
    pub entity: SocketAddr,
}

/// Which entity ports the capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PortMapping {
    /// The entity's TCP and UDP port is written as 13400 whatever it really was, so Wireshark
    /// decodes DoIP without any setting (the built-in simulator listens on ephemeral ports).
    /// The real port is named in a comment on the first packet of each connection.
    #[default]
    Standard,
    /// Ports as they were; DoIP on another port needs Wireshark's "Decode As".
    AsSeen,
}

/// What a capture says about itself.
#[derive(Debug, Clone, Default)]
pub struct CaptureOptions {
    /// The wall-clock time (since 1970-01-01 UTC) of [`Instant::ZERO`], the runner's epoch:
    /// packet timestamps are this plus each frame's monotonic time.
    pub wall_clock_epoch: Duration,
    /// The section comment: which case, suite, target.
    pub comment: String,
    pub port_mapping: PortMapping,
}

/// Why a capture could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("writing the pcapng capture failed: {0}")]
    Write(#[from] PcapNgWriteError),
    #[error(transparent)]
    Synthesis(#[from] SynthesisError),
}

/// A pcapng capture being written to `W`.
pub struct PcapngWriter<W: Write> {
    writer: PcapNgWriter<W>,
    options: CaptureOptions,
    /// Interface id of the Ethernet interface, once declared.
    ethernet: Option<u32>,
    /// Interface ids of CAN buses, by bus name.
    can_buses: Vec<(String, u32)>,
    next_interface: u32,
    flows: HashMap<Endpoints, TcpSequencer>,
    /// Connections that carry TLS: their entity port is written as the TLS port.
    tls_flows: HashSet<Endpoints>,
    /// Connections opened so far: makes each initial sequence number distinct and deterministic.
    connections: u32,
    /// IPv4 identification of the next packet.
    ip_id: u16,
    packets: u64,
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a capture: writes the section header to `writer`.
    pub fn new(writer: W, options: CaptureOptions) -> Result<Self, CaptureError> {
        let mut section_options = vec![SectionHeaderOption::UserApplication(
            concat!("doipcheck ", env!("CARGO_PKG_VERSION")).into(),
        )];
        let mut comment = options.comment.clone();
        if options.port_mapping == PortMapping::Standard {
            if !comment.is_empty() {
                comment.push('\n');
            }
            comment.push_str(
                "The DoIP entity's TCP and UDP port is written as 13400 (TLS: 3496) so that \
                 Wireshark decodes DoIP; each connection's first packet names the real port. TLS \
                 connections are written as they went over the wire, with their session keys in \
                 a Decryption Secrets Block.",
            );
        }
        if !comment.is_empty() {
            section_options
                .push(SectionHeaderOption::Common(CommonOption::Comment(comment.into())));
        }
        let section = SectionHeaderBlock { options: section_options, ..Default::default() };
        let writer = PcapNgWriter::with_section_header(writer, section)?;
        Ok(PcapngWriter {
            writer,
            options,
            ethernet: None,
            can_buses: Vec::new(),
            next_interface: 0,
            flows: HashMap::new(),
            tls_flows: HashSet::new(),
            connections: 0,
            ip_id: 0,
            packets: 0,
        })
    }

    /// Number of packets written so far (synthesized handshakes included).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// A TCP connection from the tester to the entity was established at `at`: writes the
    /// three-way handshake. `tls` says its payload is TLS records (the entity port is then
    /// written as [`DOIP_TLS_PORT`] under [`PortMapping::Standard`]).
    pub fn tcp_open(
        &mut self,
        at: Instant,
        ends: Endpoints,
        tls: bool,
    ) -> Result<(), CaptureError> {
        self.connections = self.connections.wrapping_add(1);
        // Distinct, reproducible initial sequence numbers; Wireshark shows them relative anyway.
        let tester_isn = self.connections.wrapping_mul(0x0100_0000);
        let (flow, handshake) = TcpSequencer::open(tester_isn, tester_isn ^ 0x8000_0000);
        let mut comment = format!(
            "{} tester {} -> entity {}",
            if tls { "TLS" } else { "TCP" },
            ends.tester,
            ends.entity
        );
        let port = if tls { DOIP_TLS_PORT } else { DOIP_PORT };
        if self.options.port_mapping == PortMapping::Standard && ends.entity.port() != port {
            comment.push_str(&format!(" (entity port written as {port})"));
        }
        if tls {
            self.tls_flows.insert(ends);
        } else {
            self.tls_flows.remove(&ends);
        }
        self.flows.insert(ends, flow);
        let mut comment = Some(comment);
        for (from, segment) in handshake {
            self.tcp_segment(at, ends, from, segment, &[], comment.take())?;
        }
        Ok(())
    }

    /// Bytes went over the TCP connection `ends` at `at`: written as PSH/ACK segments of at
    /// most one MSS each. A connection not opened before is opened first (a handshake at `at`).
    pub fn tcp_data(
        &mut self,
        at: Instant,
        ends: Endpoints,
        direction: PacketDirection,
        bytes: &[u8],
        comment: Option<&str>,
    ) -> Result<(), CaptureError> {
        if !self.flows.contains_key(&ends) {
            self.tcp_open(at, ends, false)?;
        }
        let from = match direction {
            PacketDirection::Sent => Side::Tester,
            PacketDirection::Received => Side::Entity,
        };
        let mut comment = comment.map(str::to_owned);
        // An empty write still becomes one (empty) segment, so the event stays visible.
        let mut offset = 0;
        loop {
            let end = bytes.len().min(offset + TCP_MSS);
            let chunk = &bytes[offset..end];
            let Some(flow) = self.flows.get_mut(&ends) else { break };
            // A chunk is at most one MSS, so its length fits u32.
            let segment = flow.data(from, chunk.len() as u32);
            self.tcp_segment(at, ends, from, segment, chunk, comment.take())?;
            offset = end;
            if offset >= bytes.len() {
                break;
            }
        }
        Ok(())
    }

    /// The connection `ends` was closed by `by` at `at`. A FIN is acknowledged by the other side
    /// (which may still send until it closes too); a reset ends the connection at once. Closing
    /// a connection the capture does not know writes nothing.
    pub fn tcp_close(
        &mut self,
        at: Instant,
        ends: Endpoints,
        by: Side,
        how: Close,
    ) -> Result<(), CaptureError> {
        let Some(flow) = self.flows.get_mut(&ends) else { return Ok(()) };
        let (segments, over) = flow.close(by, how);
        if over {
            self.flows.remove(&ends);
        }
        for (from, segment) in segments {
            self.tcp_segment(at, ends, from, segment, &[], None)?;
        }
        Ok(())
    }

    /// TLS session keys as NSS key-log lines (`LABEL CLIENT_RANDOM SECRET`), in a Decryption
    /// Secrets Block (pcapng block type 0x0000000A, secrets type 0x544c534b "TLSK";
    /// draft-ietf-opsawg-pcapng §4.7): Wireshark and tshark decrypt the TLS packets that
    /// follow it without a key file. Write it before the packets of the sessions it names.
    /// Lines past [`MAX_SECRETS_LEN`] bytes are left out (some thousand sessions); returns how
    /// many were written.
    pub fn decryption_secrets(&mut self, nss_lines: &[String]) -> Result<usize, CaptureError> {
        let mut secrets = String::new();
        let mut written = 0;
        for line in nss_lines {
            if secrets.len() + line.len() + 1 > MAX_SECRETS_LEN {
                break;
            }
            secrets.push_str(line);
            secrets.push('\n');
            written += 1;
        }
        let endianness = self.writer.section().endianness;
        let u32_bytes = |v: u32| match endianness {
            pcap_file::Endianness::Big => v.to_be_bytes(),
            pcap_file::Endianness::Little => v.to_le_bytes(),
        };
        // At most MAX_SECRETS_LEN, so it fits.
        let len = secrets.len() as u32;
        let mut body = Vec::with_capacity(8 + secrets.len());
        body.extend_from_slice(&u32_bytes(TLS_KEY_LOG_SECRETS));
        body.extend_from_slice(&u32_bytes(len));
        body.extend_from_slice(secrets.as_bytes());
        // The block writer adds the header, the padding to 32 bits and the trailing length.
        let block = UnknownBlock::new(DECRYPTION_SECRETS_BLOCK, 0, &body);
        self.writer.write_pcapng_block(block)?;
        Ok(written)
    }

    /// A UDP datagram between tester and entity at `at`. A payload longer than one IPv4
    /// datagram can hold (impossible on a real socket) is cut, and the cut is commented.
    pub fn udp(
        &mut self,
        at: Instant,
        ends: Endpoints,
        direction: PacketDirection,
        bytes: &[u8],
        comment: Option<&str>,
    ) -> Result<(), CaptureError> {
        let (src, dst) = self.addresses(
            ends,
            match direction {
                PacketDirection::Sent => Side::Tester,
                PacketDirection::Received => Side::Entity,
            },
        );
        let mut comment = comment.map(str::to_owned);
        let payload = if bytes.len() > UDP_MAX_PAYLOAD {
            let note = format!("UDP payload of {} bytes cut to {UDP_MAX_PAYLOAD}", bytes.len());
            comment = Some(match comment {
                Some(c) => format!("{c}; {note}"),
                None => note,
            });
            &bytes[..UDP_MAX_PAYLOAD]
        } else {
            bytes
        };
        let id = self.next_ip_id();
        let data = link::udp_packet(src, dst, id, payload)?;
        let interface = self.ethernet_interface()?;
        self.write_packet(interface, at, direction, data, comment)
    }

    /// A CAN frame on bus `bus` at `at`.
    pub fn can(
        &mut self,
        at: Instant,
        bus: &str,
        direction: PacketDirection,
        frame: &CanFrame,
        comment: Option<&str>,
    ) -> Result<(), CaptureError> {
        let interface = self.can_interface(bus)?;
        self.write_packet(
            interface,
            at,
            direction,
            socketcan::encode(frame),
            comment.map(str::to_owned),
        )
    }

    /// Ends the capture and hands back the writer (flushing is the caller's, as with any
    /// `Write`). Connections still open stay open in the file: that is what happened.
    pub fn finish(self) -> W {
        self.writer.into_inner()
    }

    /// The addresses (with MACs) of a packet sent by `from`, ports mapped per the options.
    fn addresses(
        &self,
        ends: Endpoints,
        from: Side,
    ) -> ((SocketAddr, [u8; 6]), (SocketAddr, [u8; 6])) {
        let mut entity = ends.entity;
        if self.options.port_mapping == PortMapping::Standard {
            entity.set_port(if self.tls_flows.contains(&ends) { DOIP_TLS_PORT } else { DOIP_PORT });
        }
        let tester = (ends.tester, TESTER_MAC);
        let entity = (entity, ENTITY_MAC);
        match from {
            Side::Tester => (tester, entity),
            Side::Entity => (entity, tester),
        }
    }

    fn tcp_segment(
        &mut self,
        at: Instant,
        ends: Endpoints,
        from: Side,
        segment: SegmentHeader,
        payload: &[u8],
        comment: Option<String>,
    ) -> Result<(), CaptureError> {
        let (src, dst) = self.addresses(ends, from);
        let id = self.next_ip_id();
        let data = link::tcp_packet(src, dst, id, segment, payload)?;
        let interface = self.ethernet_interface()?;
        let direction = match from {
            Side::Tester => PacketDirection::Sent,
            Side::Entity => PacketDirection::Received,
        };
        self.write_packet(interface, at, direction, data, comment)
    }

    fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    fn ethernet_interface(&mut self) -> Result<u32, CaptureError> {
        if let Some(id) = self.ethernet {
            return Ok(id);
        }
        let id = self.declare_interface(
            DataLink::ETHERNET,
            "doip",
            "DoIP over synthesized Ethernet/IP",
        )?;
        self.ethernet = Some(id);
        Ok(id)
    }

    fn can_interface(&mut self, bus: &str) -> Result<u32, CaptureError> {
        if let Some((_, id)) = self.can_buses.iter().find(|(name, _)| name == bus) {
            return Ok(*id);
        }
        let id =
            self.declare_interface(DataLink::CAN_SOCKETCAN, bus, "CAN bus (SocketCAN frames)")?;
        self.can_buses.push((bus.to_owned(), id));
        Ok(id)
    }

    fn declare_interface(
        &mut self,
        linktype: DataLink,
        name: &str,
        description: &str,
    ) -> Result<u32, CaptureError> {
        let block = InterfaceDescriptionBlock {
            linktype,
            snaplen: 0,
            options: vec![
                InterfaceDescriptionOption::IfName(name.to_owned().into()),
                InterfaceDescriptionOption::IfDescription(description.into()),
                InterfaceDescriptionOption::IfTsResol(InterfaceTsResolution::NANO),
            ],
        };
        self.writer.write_pcapng_block(block)?;
        let id = self.next_interface;
        self.next_interface += 1;
        Ok(id)
    }

    fn write_packet(
        &mut self,
        interface_id: u32,
        at: Instant,
        direction: PacketDirection,
        data: Vec<u8>,
        comment: Option<String>,
    ) -> Result<(), CaptureError> {
        // Nanosecond timestamps are a u64: beyond year 2554 (a saturated hostile time) clamp.
        let timestamp = self
            .options
            .wall_clock_epoch
            .saturating_add(at.since_epoch())
            .min(Duration::from_nanos(u64::MAX));
        // pcapng epb_flags bits 0-1: 01 inbound, 10 outbound (draft-ietf-opsawg-pcapng §4.3.1).
        let flags = match direction {
            PacketDirection::Received => 0b01,
            PacketDirection::Sent => 0b10,
        };
        let mut options = vec![EnhancedPacketOption::Flags(flags)];
        if let Some(c) = comment {
            options.push(EnhancedPacketOption::Common(CommonOption::Comment(c.into())));
        }
        let block = EnhancedPacketBlock {
            interface_id,
            timestamp,
            // Synthesized packets are far below 4 GiB (one MSS or one datagram).
            original_len: data.len() as u32,
            data: data.into(),
            options,
        };
        self.writer.write_pcapng_block(block)?;
        self.packets += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::can::StandardId;
    use etherparse::{SlicedPacket, TransportSlice};
    use pcap_file::pcapng::{Block, PcapNgReader};

    /// One packet read back: interface link type, timestamp, bytes, epb_flags, comment.
    #[derive(Debug)]
    struct Read {
        linktype: DataLink,
        timestamp: Duration,
        data: Vec<u8>,
        flags: Option<u32>,
        comment: Option<String>,
    }

    fn read_back(bytes: &[u8]) -> (Option<String>, Vec<Read>) {
        let mut reader = PcapNgReader::new(bytes).unwrap();
        let mut section_comment = None;
        for opt in &reader.section().options {
            if let SectionHeaderOption::Common(CommonOption::Comment(c)) = opt {
                section_comment = Some(c.to_string());
            }
        }
        let mut packets = Vec::new();
        while let Some(block) = reader.next_block() {
            let (block, state) = block.unwrap();
            if let Block::EnhancedPacket(p) = block {
                let linktype = state.interfaces()[p.interface_id as usize].linktype;
                let mut read = Read {
                    linktype,
                    timestamp: p.timestamp,
                    data: p.data.to_vec(),
                    flags: None,
                    comment: None,
                };
                for o in p.options {
                    match o {
                        EnhancedPacketOption::Flags(f) => read.flags = Some(f),
                        EnhancedPacketOption::Common(CommonOption::Comment(c)) => {
                            read.comment = Some(c.to_string())
                        }
                        _ => {}
                    }
                }
                packets.push(read);
            }
        }
        (section_comment, packets)
    }

    /// (src port, dst port, seq, ack or None, flags "SAFRP", payload length)
    fn tcp_fields(data: &[u8]) -> (u16, u16, u32, Option<u32>, String, usize) {
        let p = SlicedPacket::from_ethernet(data).unwrap();
        let Some(TransportSlice::Tcp(t)) = p.transport else { panic!("not TCP") };
        let mut flags = String::new();
        for (set, c) in
            [(t.syn(), 'S'), (t.ack(), 'A'), (t.fin(), 'F'), (t.rst(), 'R'), (t.psh(), 'P')]
        {
            if set {
                flags.push(c);
            }
        }
        let ack = t.ack().then(|| t.acknowledgment_number());
        (t.source_port(), t.destination_port(), t.sequence_number(), ack, flags, t.payload().len())
    }

    fn ends() -> Endpoints {
        Endpoints {
            tester: "127.0.0.1:50001".parse().unwrap(),
            entity: "127.0.0.1:40123".parse().unwrap(),
        }
    }

    fn capture(mapping: PortMapping) -> PcapngWriter<Vec<u8>> {
        let options = CaptureOptions {
            wall_clock_epoch: Duration::from_secs(1_700_000_000),
            comment: "case HDR-001".into(),
            port_mapping: mapping,
        };
        PcapngWriter::new(Vec::new(), options).unwrap()
    }

    #[test]
    fn handshake_data_and_fins_have_consistent_sequence_and_ack_numbers() {
        let mut c = capture(PortMapping::Standard);
        let e = ends();
        c.tcp_open(Instant::from_millis(1), e, false).unwrap();
        c.tcp_data(Instant::from_millis(2), e, PacketDirection::Sent, &[1; 10], None).unwrap();
        c.tcp_data(Instant::from_millis(3), e, PacketDirection::Received, &[2; 7], Some("reply"))
            .unwrap();
        c.tcp_close(Instant::from_millis(4), e, Side::Entity, Close::Fin).unwrap();
        c.tcp_close(Instant::from_millis(5), e, Side::Tester, Close::Fin).unwrap();
        let (_, packets) = read_back(&c.finish());
        let f: Vec<_> = packets.iter().map(|p| tcp_fields(&p.data)).collect();
        let (ti, ei) = (f[0].2, f[1].2);
        let expected = vec![
            (50001, 13400, ti, None, "S".to_string(), 0),
            (13400, 50001, ei, Some(ti + 1), "SA".into(), 0),
            (50001, 13400, ti + 1, Some(ei + 1), "A".into(), 0),
            (50001, 13400, ti + 1, Some(ei + 1), "AP".into(), 10),
            (13400, 50001, ei + 1, Some(ti + 11), "AP".into(), 7),
            (13400, 50001, ei + 8, Some(ti + 11), "AF".into(), 0),
            (50001, 13400, ti + 11, Some(ei + 9), "A".into(), 0),
            (50001, 13400, ti + 11, Some(ei + 9), "AF".into(), 0),
            (13400, 50001, ei + 9, Some(ti + 12), "A".into(), 0),
        ];
        assert_eq!(f, expected);
        assert_eq!(packets[4].comment.as_deref(), Some("reply"));
        assert_eq!(packets[4].flags, Some(0b01), "received is inbound");
        assert_eq!(packets[3].flags, Some(0b10), "sent is outbound");
    }

    #[test]
    fn first_packet_names_the_real_entity_port_and_the_section_says_why() {
        let mut c = capture(PortMapping::Standard);
        c.tcp_open(Instant::ZERO, ends(), true).unwrap();
        let (section, packets) = read_back(&c.finish());
        let section = section.unwrap();
        assert!(section.starts_with("case HDR-001\n"), "{section}");
        assert!(section.contains("written as 13400"), "{section}");
        let first = packets[0].comment.as_deref().unwrap();
        assert_eq!(
            first,
            "TLS tester 127.0.0.1:50001 -> entity 127.0.0.1:40123 (entity port written as 3496)"
        );
    }

    #[test]
    fn as_seen_mapping_keeps_the_real_ports() {
        let mut c = capture(PortMapping::AsSeen);
        c.tcp_data(Instant::ZERO, ends(), PacketDirection::Sent, b"x", None).unwrap();
        c.udp(Instant::ZERO, ends(), PacketDirection::Received, b"y", None).unwrap();
        let (section, packets) = read_back(&c.finish());
        assert_eq!(section.as_deref(), Some("case HDR-001"));
        assert_eq!(tcp_fields(&packets[3].data).1, 40123);
        let p = SlicedPacket::from_ethernet(&packets[4].data).unwrap();
        let Some(TransportSlice::Udp(u)) = p.transport else { panic!("not UDP") };
        assert_eq!((u.source_port(), u.destination_port()), (40123, 50001));
    }

    #[test]
    fn data_without_open_gets_a_handshake_and_long_data_is_split_at_the_mss() {
        let mut c = capture(PortMapping::Standard);
        let data: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
        c.tcp_data(Instant::ZERO, ends(), PacketDirection::Sent, &data, Some("big")).unwrap();
        let (_, packets) = read_back(&c.finish());
        assert_eq!(packets.len(), 3 + 3);
        let segs: Vec<_> = packets[3..].iter().map(|p| tcp_fields(&p.data)).collect();
        assert_eq!(segs.iter().map(|s| s.5).collect::<Vec<_>>(), [1460, 1460, 1080]);
        assert_eq!(segs[1].2, segs[0].2 + 1460);
        assert_eq!(segs[2].2, segs[1].2 + 1460);
        assert_eq!(packets[3].comment.as_deref(), Some("big"));
        assert_eq!(packets[4].comment, None, "the comment goes on the first segment only");
        let mut payload = Vec::new();
        for p in &packets[3..] {
            let s = SlicedPacket::from_ethernet(&p.data).unwrap();
            let Some(TransportSlice::Tcp(t)) = s.transport else { panic!() };
            payload.extend_from_slice(t.payload());
        }
        assert_eq!(payload, data);
    }

    #[test]
    fn empty_data_is_one_empty_segment() {
        let mut c = capture(PortMapping::Standard);
        c.tcp_open(Instant::ZERO, ends(), false).unwrap();
        c.tcp_data(Instant::ZERO, ends(), PacketDirection::Received, &[], None).unwrap();
        assert_eq!(c.packets(), 4);
    }

    #[test]
    fn reset_ends_the_connection_and_later_data_reopens_it() {
        let mut c = capture(PortMapping::Standard);
        let e = ends();
        c.tcp_open(Instant::ZERO, e, false).unwrap();
        c.tcp_close(Instant::ZERO, e, Side::Entity, Close::Reset).unwrap();
        c.tcp_close(Instant::ZERO, e, Side::Tester, Close::Fin).unwrap();
        c.tcp_data(Instant::ZERO, e, PacketDirection::Sent, b"again", None).unwrap();
        let (_, packets) = read_back(&c.finish());
        let flags: Vec<_> = packets.iter().map(|p| tcp_fields(&p.data).4).collect();
        assert_eq!(flags, ["S", "SA", "A", "AR", "S", "SA", "A", "AP"]);
        assert_ne!(tcp_fields(&packets[0].data).2, tcp_fields(&packets[4].data).2, "new ISN");
    }

    #[test]
    fn a_second_fin_from_the_same_side_writes_nothing() {
        let mut c = capture(PortMapping::Standard);
        c.tcp_open(Instant::ZERO, ends(), false).unwrap();
        c.tcp_close(Instant::ZERO, ends(), Side::Tester, Close::Fin).unwrap();
        c.tcp_close(Instant::ZERO, ends(), Side::Tester, Close::Fin).unwrap();
        assert_eq!(c.packets(), 5);
    }

    #[test]
    fn timestamps_are_the_wall_clock_epoch_plus_the_monotonic_time_and_never_overflow() {
        let mut c = capture(PortMapping::Standard);
        let frame = CanFrame::new(StandardId::new(0x7E0).unwrap(), &[1]).unwrap();
        c.can(Instant::from_micros(1_234_567), "can0", PacketDirection::Sent, &frame, None)
            .unwrap();
        c.can(Instant::from_epoch(Duration::MAX), "can0", PacketDirection::Received, &frame, None)
            .unwrap();
        let (_, packets) = read_back(&c.finish());
        assert_eq!(packets[0].timestamp, Duration::new(1_700_000_001, 234_567_000));
        assert_eq!(packets[1].timestamp, Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn each_can_bus_gets_its_own_socketcan_interface_beside_ethernet() {
        let mut c = capture(PortMapping::Standard);
        let frame = CanFrame::new(StandardId::new(0x123).unwrap(), &[9]).unwrap();
        c.can(Instant::ZERO, "can0", PacketDirection::Sent, &frame, None).unwrap();
        c.udp(Instant::ZERO, ends(), PacketDirection::Sent, b"u", None).unwrap();
        c.can(Instant::ZERO, "can1", PacketDirection::Received, &frame, None).unwrap();
        c.can(Instant::ZERO, "can0", PacketDirection::Received, &frame, None).unwrap();
        let bytes = c.finish();
        let (_, packets) = read_back(&bytes);
        let kinds: Vec<_> = packets.iter().map(|p| p.linktype).collect();
        use DataLink::{CAN_SOCKETCAN as C, ETHERNET as E};
        assert_eq!(kinds, [C, E, C, C]);
        let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
        while reader.next_block().is_some() {}
        assert_eq!(reader.interfaces().len(), 3, "can0, doip, can1");
    }

    #[test]
    fn an_impossibly_long_udp_payload_is_cut_and_the_cut_is_commented() {
        let mut c = capture(PortMapping::Standard);
        c.udp(Instant::ZERO, ends(), PacketDirection::Received, &vec![0; 70_000], Some("flood"))
            .unwrap();
        let (_, packets) = read_back(&c.finish());
        assert_eq!(packets[0].data.len(), 14 + 20 + 8 + UDP_MAX_PAYLOAD);
        assert_eq!(
            packets[0].comment.as_deref(),
            Some("flood; UDP payload of 70000 bytes cut to 65507")
        );
    }

    #[test]
    fn a_decryption_secrets_block_holds_the_key_log_padded_and_tls_goes_on_the_tls_port() {
        let mut c = capture(PortMapping::Standard);
        let lines = ["CLIENT_RANDOM 0a0b 0c".to_owned(), "X".repeat(MAX_SECRETS_LEN)];
        assert_eq!(c.decryption_secrets(&lines).unwrap(), 1, "past the bound: left out");
        c.tcp_open(Instant::from_millis(1), ends(), true).unwrap();
        let bytes = c.finish();
        let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
        let big = reader.section().endianness == pcap_file::Endianness::Big;
        let u32_at = |b: &[u8], at: usize| {
            let four: [u8; 4] = b[at..at + 4].try_into().unwrap();
            if big { u32::from_be_bytes(four) } else { u32::from_le_bytes(four) }
        };
        let Some(Ok((Block::Unknown(dsb), _))) = reader.next_block() else {
            panic!("the secrets come first")
        };
        assert_eq!(dsb.type_, DECRYPTION_SECRETS_BLOCK);
        assert_eq!(u32_at(&dsb.value, 0), TLS_KEY_LOG_SECRETS);
        let text = "CLIENT_RANDOM 0a0b 0c\n";
        assert_eq!(u32_at(&dsb.value, 4) as usize, text.len());
        assert_eq!(&dsb.value[8..8 + text.len()], text.as_bytes());
        assert_eq!(dsb.value.len() % 4, 0, "padded to 32 bits");
        assert!(dsb.value[8 + text.len()..].iter().all(|&b| b == 0));

        let (_, packets) = read_back(&bytes);
        let ports: Vec<(u16, u16)> =
            packets.iter().map(|p| tcp_fields(&p.data)).map(|t| (t.0, t.1)).collect();
        assert_eq!(ports[0], (50001, DOIP_TLS_PORT), "{ports:?}");
    }
}
