//! The second pass: [`Reader`] turns every record into [`CaptureEvent`]s, through the link layer,
//! TCP reassembly and the DoIP streams, UDP datagrams, and the SocketCAN / ISO-TP path.
//!
//! May import: `crate::codec` and `crate::pcap`.

use crate::codec::doip::payload_type_of;
use core::net::SocketAddr;
use std::time::Duration;

use crate::codec::doip::{HEADER_LEN, Message};
use crate::pcap::Side;
use crate::pcap::socketcan::{self, CanByteOrder};

use super::doip::DoipStream;
use super::event::{At, CaptureEvent, CaptureSink, CarriedBy, SkipReason, TcpFlow};
use super::file::Record;
use super::isotp::{FrameAt, IsoTpReader};
use super::link::{self, RecordPayload};
use super::survey::IsoTpPair;
use super::tcp::{self, Dir, FlowMeta, Limits, TcpEvent, TcpStats};

/// What the reader needs to know before it starts.
#[derive(Debug, Clone)]
pub struct ReadConfig {
    /// TCP and UDP ports DoIP is read on (13400 and any `--doip-port`).
    pub doip_ports: Vec<u16>,
    /// TCP ports of DoIP over TLS: counted, not decoded.
    pub tls_ports: Vec<u16>,
    /// Find DoIP on other ports too, by a whole valid message at the start of a datagram or
    /// segment (at most [`MAX_FOUND_PORTS`] ports).
    pub find_doip_ports: bool,
    /// From the survey (or `--can-byte-order`); network order when the file has no CAN.
    pub can_byte_order: CanByteOrder,
    /// ISO-TP id pairs to reassemble (from the survey or `--isotp`).
    pub isotp_pairs: Vec<IsoTpPair>,
    /// Allowance on STmin for capture timestamp jitter.
    pub st_min_tolerance: Duration,
    pub limits: Limits,
    /// The MDS the entity declares (the profile's `max_data_size`): a tester's message
    /// declaring more payload is judged by its header rule (NACK 0x02), not only skipped.
    pub entity_max_data_size: Option<u32>,
}

impl Default for ReadConfig {
    fn default() -> Self {
        ReadConfig {
            doip_ports: vec![crate::pcap::DOIP_PORT],
            tls_ports: vec![crate::pcap::DOIP_TLS_PORT],
            find_doip_ports: true,
            can_byte_order: CanByteOrder::Network,
            isotp_pairs: Vec::new(),
            st_min_tolerance: Duration::from_micros(500),
            limits: Limits::default(),
            entity_max_data_size: None,
        }
    }
}

/// Most ports [`ReadConfig::find_doip_ports`] adds: a capture of many services cannot make the
/// reader follow every connection.
pub const MAX_FOUND_PORTS: usize = 16;

/// The entity's port, when `payload` (a datagram, or a segment's start) is one whole valid
/// DoIP message: the end that sends this payload type (ISO 13400-2:2019 payload type table)
/// is the entity or the tester; for types either end sends, the lower port is the entity's.
fn doip_entity_port(src: u16, dst: u16, payload: &[u8], udp: bool) -> Option<u16> {
    let header = crate::codec::doip::HeaderView::new(payload).ok()?;
    let len = usize::try_from(header.payload_length()).ok()?.checked_add(HEADER_LEN)?;
    let whole =
        if udp { (len == payload.len()).then_some(payload)? } else { payload.get(..len)? };
    let message = Message::parse(whole).ok()?;
    use crate::codec::doip::Payload as P;
    let from_entity = match message.payload {
        P::VehicleIdentificationRequest
        | P::VehicleIdentificationRequestWithEid(_)
        | P::VehicleIdentificationRequestWithVin(_)
        | P::RoutingActivationRequest(_)
        | P::AliveCheckResponse(_)
        | P::EntityStatusRequest
        | P::PowerModeInformationRequest => Some(false),
        P::VehicleAnnouncement(_)
        | P::RoutingActivationResponse(_)
        | P::AliveCheckRequest
        | P::EntityStatusResponse(_)
        | P::PowerModeInformationResponse(_)
        | P::DiagnosticMessageAck(_)
        | P::DiagnosticMessageNack(_) => Some(true),
        _ => None,
    };
    Some(match from_entity {
        Some(true) => src,
        Some(false) => dst,
        None => src.min(dst),
    })
}

/// Counters for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub packets: u64,
    pub doip_messages: u64,
    pub can_frames: u64,
    pub udp_datagrams: u64,
    pub encrypted_bytes: u64,
    pub skipped: u64,
    pub tcp: TcpStats,
}

/// Per-connection state: the connection as events name it and the DoIP stream of each way.
struct FlowState {
    conn: TcpFlow,
    /// Index 0: tester -> entity, 1: entity -> tester.
    streams: [DoipStream; 2],
}

/// The second pass: every record decoded into events.
pub struct Reader {
    config: ReadConfig,
    tcp: tcp::Reassembler<FlowState>,
    isotp: IsoTpReader,
    stats: ReadStats,
    /// The packet being read, for events raised inside the layers.
    at: At,
    /// Ports added by [`ReadConfig::find_doip_ports`].
    found_ports: usize,
}

impl Reader {
    pub fn new(config: ReadConfig) -> Self {
        let isotp = IsoTpReader::new(&config.isotp_pairs, config.st_min_tolerance);
        let tcp = tcp::Reassembler::new(config.limits);
        Reader {
            config,
            tcp,
            isotp,
            stats: ReadStats::default(),
            at: At { packet: 0, time: Duration::ZERO },
            found_ports: 0,
        }
    }

    pub const fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Connections followed now (for the memory bound).
    pub fn open_flows(&self) -> usize {
        self.tcp.open_flows()
    }

    /// Out-of-order TCP bytes held now, across all connections (for the memory bound).
    pub fn held_bytes(&self) -> usize {
        self.tcp.held_bytes()
    }

    /// One record of the file.
    pub fn record(&mut self, record: &Record<'_>, sink: &mut impl CaptureSink) {
        self.stats.packets += 1;
        self.at = At { packet: record.number, time: record.time };
        let at = self.at;
        match link::decode(record.linktype, record.data) {
            RecordPayload::Ip(ip) => match ip.transport {
                link::IpPayload::Tcp(seg) => self.tcp_segment(ip.src, ip.dst, &seg, sink),
                link::IpPayload::Udp { src_port, dst_port, payload } => {
                    let src = SocketAddr::new(ip.src, src_port);
                    let dst = SocketAddr::new(ip.dst, dst_port);
                    self.udp(src, dst, payload, sink);
                }
            },
            RecordPayload::Can(bytes) => self.can(record.interface, bytes, sink),
            RecordPayload::Other => {}
            RecordPayload::Fragment => self.skip(at, SkipReason::IpFragment, sink),
            RecordPayload::Unsupported(t) => {
                self.skip(at, SkipReason::UnsupportedLinkType(t), sink)
            }
            RecordPayload::Malformed(why) => self.skip(at, SkipReason::Malformed(why), sink),
        }
    }

    /// The file is over: open connections and ISO-TP receptions are reported.
    pub fn finish(&mut self, sink: &mut impl CaptureSink) {
        let mut adapter =
            TcpAdapter { at: self.at, config: &self.config, stats: &mut self.stats, sink };
        self.tcp.finish(&mut adapter);
        let at = FrameAt { packet: self.at.packet, time: self.at.time };
        self.isotp.finish(at, &mut |e| sink.event(CaptureEvent::IsoTp(e)));
        self.stats.tcp = *self.tcp.stats();
    }

    fn skip(&mut self, at: At, why: SkipReason, sink: &mut impl CaptureSink) {
        self.stats.skipped += 1;
        sink.event(CaptureEvent::Skipped { at, why });
    }

    /// Whether `payload` between ports `src` and `dst` shows DoIP on a port of its own; the
    /// port is added and reported.
    fn find_port(
        &mut self,
        src: u16,
        dst: u16,
        payload: &[u8],
        udp: bool,
        sink: &mut impl CaptureSink,
    ) -> bool {
        if !self.config.find_doip_ports || self.found_ports >= MAX_FOUND_PORTS {
            return false;
        }
        let Some(port) = doip_entity_port(src, dst, payload, udp) else { return false };
        self.found_ports += 1;
        self.config.doip_ports.push(port);
        sink.event(CaptureEvent::DoipPortFound { at: self.at, port, udp });
        true
    }

    fn is_doip_port(&self, port: u16) -> bool {
        self.config.doip_ports.contains(&port)
    }

    fn tcp_segment(
        &mut self,
        src: core::net::IpAddr,
        dst: core::net::IpAddr,
        seg: &link::TcpSegment<'_>,
        sink: &mut impl CaptureSink,
    ) {
        let src = SocketAddr::new(src, seg.src_port);
        let dst = SocketAddr::new(dst, seg.dst_port);
        let is_server =
            |c: &ReadConfig, p: u16| c.doip_ports.contains(&p) || c.tls_ports.contains(&p);
        if !is_server(&self.config, src.port()) && !is_server(&self.config, dst.port()) {
            let found = self.find_port(src.port(), dst.port(), seg.payload, false, sink);
            if !found {
                return;
            }
        }
        let config = &self.config;
        let mut adapter = TcpAdapter { at: self.at, config, stats: &mut self.stats, sink };
        self.tcp.segment(self.at.packet, (src, dst), seg, &mut adapter);
    }

    fn udp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        sink: &mut impl CaptureSink,
    ) {
        if !self.is_doip_port(dst.port()) && !self.is_doip_port(src.port()) {
            let found = self.find_port(src.port(), dst.port(), payload, true, sink);
            if !found {
                return;
            }
        }
        let (from, to_entity) = if self.is_doip_port(dst.port()) {
            (Side::Tester, true)
        } else {
            (Side::Entity, false)
        };
        // Announcements go from the entity's port 13400 to 13400, and some testers send from
        // 13400 too: with both ends on DoIP ports the message type says who sent it (the
        // entity sends announcements, status and power mode responses, and generic NACKs).
        let from = if to_entity && self.is_doip_port(src.port()) {
            use crate::codec::doip::PayloadType as T;
            match payload_type_of(payload) {
                Some(
                    T::VehicleAnnouncement
                    | T::GenericNack
                    | T::EntityStatusResponse
                    | T::PowerModeInformationResponse,
                ) => Side::Entity,
                _ => from,
            }
        } else {
            from
        };
        self.stats.udp_datagrams += 1;
        self.stats.doip_messages += 1;
        let message = Message::parse(payload);
        sink.event(CaptureEvent::Doip {
            at: self.at,
            carrier: CarriedBy::Udp { src, dst },
            from,
            bytes: payload,
            message,
        });
    }

    fn can(&mut self, interface: u32, bytes: &[u8], sink: &mut impl CaptureSink) {
        let at = self.at;
        match socketcan::decode(bytes, self.config.can_byte_order) {
            Ok(frame) => {
                self.stats.can_frames += 1;
                sink.event(CaptureEvent::Can { at, interface, frame });
                let frame_at = FrameAt { packet: at.packet, time: at.time };
                self.isotp.frame(&frame, frame_at, &mut |e| sink.event(CaptureEvent::IsoTp(e)));
            }
            Err(error) => sink.event(CaptureEvent::CanRecord { at, interface, error }),
        }
    }
}

/// Turns the reassembly's per-direction events into reader events, feeding DoIP streams.
struct TcpAdapter<'s, K> {
    at: At,
    config: &'s ReadConfig,
    stats: &'s mut ReadStats,
    sink: &'s mut K,
}

impl<K: CaptureSink> tcp::TcpSink<FlowState> for TcpAdapter<'_, K> {
    fn is_server_port(&self, port: u16) -> bool {
        self.config.doip_ports.contains(&port) || self.config.tls_ports.contains(&port)
    }

    fn new_flow(&mut self, meta: &FlowMeta) -> FlowState {
        let max_message_len = self.config.limits.max_message_len;
        FlowState {
            conn: TcpFlow {
                id: meta.id,
                tester: meta.client,
                entity: meta.server,
                handshake: meta.handshake,
                tls: self.config.tls_ports.contains(&meta.server.port()),
            },
            streams: [
                DoipStream::new(max_message_len)
                    .toward_entity_with_mds(self.config.entity_max_data_size),
                DoipStream::new(max_message_len),
            ],
        }
    }

    fn tcp_event(
        &mut self,
        _flow: &FlowMeta,
        state: &mut FlowState,
        dir: Dir,
        event: TcpEvent<'_>,
    ) {
        let at = self.at;
        let conn = state.conn;
        let from = match dir {
            Dir::ToServer => Side::Tester,
            Dir::ToClient => Side::Entity,
        };
        let stream = &mut state.streams[dir as usize];
        match event {
            TcpEvent::Opened => self.sink.event(CaptureEvent::Opened { at, conn }),
            TcpEvent::Data(bytes) if conn.tls => {
                self.stats.encrypted_bytes += bytes.len() as u64;
                self.sink.event(CaptureEvent::Encrypted { at, conn, from, bytes: bytes.len() });
            }
            TcpEvent::Data(bytes) => {
                self.sink.event(CaptureEvent::Data { at, conn, from, bytes });
                let stats = &mut *self.stats;
                let sink = &mut *self.sink;
                stream.feed(bytes, &mut |e| {
                    stats.doip_messages += u64::from(e.is_message());
                    sink.event(e.into_capture_event(at, conn, from));
                });
            }
            TcpEvent::Gap { missing } => {
                stream.gap();
                self.sink.event(CaptureEvent::Gap { at, conn, from, missing });
            }
            TcpEvent::Fin => {
                self.sink.event(CaptureEvent::Closed { at, conn, by: from, reset: false })
            }
            TcpEvent::Reset => {
                self.sink.event(CaptureEvent::Closed { at, conn, by: from, reset: true })
            }
            TcpEvent::Ended { evicted, open_at_end } => {
                self.sink.event(CaptureEvent::Ended { at, conn, open_at_end, evicted })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    /// An Ethernet/IPv4 TCP (or UDP when `udp`) packet between 10.0.0.1 and 10.0.0.2.
    fn packet(sport: u16, dport: u16, udp: bool, seq: u32, payload: &[u8]) -> Vec<u8> {
        let ip = PacketBuilder::ethernet2([2; 6], [4; 6]).ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64);
        let mut out = Vec::new();
        if udp {
            ip.udp(sport, dport).write(&mut out, payload).unwrap();
        } else {
            ip.tcp(sport, dport, seq, 1000).write(&mut out, payload).unwrap();
        }
        out
    }

    /// Reads `packets` (Ethernet) and lists the events as short text.
    fn read(packets: &[Vec<u8>]) -> Vec<String> {
        let mut reader = Reader::new(ReadConfig::default());
        let mut out = Vec::new();
        let mut sink = |e: CaptureEvent<'_>| {
            out.push(match e {
                CaptureEvent::Opened { conn, .. } => format!("open {} tls={}", conn.id, conn.tls),
                CaptureEvent::Encrypted { from, bytes, .. } => format!("tls {from:?} {bytes}"),
                CaptureEvent::Doip { from, message, carrier, .. } => {
                    let via = if matches!(carrier, CarriedBy::Udp { .. }) { "udp" } else { "tcp" };
                    format!("{via} {from:?} {}", message.map(|m| m.to_string()).unwrap_or_default())
                }
                CaptureEvent::Ended { .. } => "ended".into(),
                CaptureEvent::Data { bytes, .. } => format!("data {}", bytes.len()),
                other => format!("{other:?}"),
            })
        };
        for (i, data) in packets.iter().enumerate() {
            let record = Record {
                number: i as u64 + 1,
                interface: 0,
                linktype: 1,
                time: Duration::ZERO,
                data,
                original_len: data.len() as u32,
                one_link_type: true,
            };
            reader.record(&record, &mut sink);
        }
        reader.finish(&mut sink);
        out
    }

    #[test]
    fn tls_on_its_port_is_counted_and_not_decoded() {
        let events = read(&[packet(50000, 3496, false, 1, &[0x16, 3, 3, 0, 5, 1, 2, 3, 4, 5])]);
        assert_eq!(events, ["open 1 tls=true", "tls Tester 10", "ended"]);
    }

    #[test]
    fn tcp_data_is_reported_as_delivered_before_its_messages() {
        let alive = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0];
        let events = read(&[
            packet(50000, 13400, false, 1, &alive[..3]),
            packet(50000, 13400, false, 4, &alive[3..]),
        ]);
        assert_eq!(
            events,
            ["open 1 tls=false", "data 3", "data 5", "tcp Tester Alive check request", "ended"]
        );
    }

    #[test]
    fn tcp_on_no_doip_port_is_ignored_unless_it_starts_with_a_whole_doip_message() {
        let alive = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0];
        assert!(read(&[packet(50000, 8080, false, 1, b"GET / HTTP/1.1\r\n\r\n")]).is_empty());
        assert!(read(&[packet(50000, 8080, false, 1, &alive[..7])]).is_empty(), "not whole");
        // An alive check request is the entity's: the port it comes from is the entity's.
        let found = read(&[packet(8080, 50000, false, 1, &alive)]);
        assert!(found[0].starts_with("DoipPortFound"), "{found:?}");
        assert!(found[0].contains("port: 8080"), "{found:?}");
        assert_eq!(
            found[1..],
            ["open 1 tls=false", "data 8", "tcp Entity Alive check request", "ended"]
        );
        assert_eq!(
            read(&[packet(13400, 50000, false, 1, &alive)]),
            ["open 1 tls=false", "data 8", "tcp Entity Alive check request", "ended"]
        );
    }

    #[test]
    fn udp_direction_comes_from_the_port_and_announcements_from_their_type() {
        let request = [0x02, 0xFD, 0x00, 0x01, 0, 0, 0, 0];
        let mut announcement = vec![0x02, 0xFD, 0x00, 0x04, 0, 0, 0, 32];
        announcement.extend_from_slice(&[0x30; 17]);
        announcement.extend_from_slice(&[0x10, 0x00]);
        announcement.extend_from_slice(&[0; 13]);
        let events = read(&[
            packet(40000, 13400, true, 0, &request),
            packet(13400, 13400, true, 0, &announcement),
        ]);
        assert_eq!(events[0], "udp Tester Vehicle identification request");
        assert!(events[1].starts_with("udp Entity Vehicle announcement"), "{events:?}");
    }
}
