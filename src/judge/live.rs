//! The judge fed by a live run: the runner hands over each frame as it sends or reads it
//! (TCP/TLS bytes per connection, UDP datagrams, CAN frames) and each change of a connection;
//! [`LiveFeed`] turns them into the same [`CaptureEvent`]s the capture reader makes, through
//! the same DoIP deframer ([`DoipStream`]) and ISO-TP reassembly ([`IsoTpReader`]), so that
//! `run` and `inspect` of the capture `run` wrote judge the same traffic the same way.
//!
//! Packet numbers in findings are the case's frames in the order fed (1-based), as the case's
//! transcript lists them. Memory is bounded: the open connections of one case, at most
//! [`MAX_FINDINGS`] findings kept (the rest counted).
//!
//! May import: `crate::codec`, `crate::pcap::read` and `crate::judge`.

use core::net::SocketAddr;
use std::time::Duration;

use super::{ConnectionSummary, Finding, Judge, Report};
use crate::codec::can::CanFrame;
use crate::codec::doip::Message;
use crate::pcap::Side;
use crate::pcap::read::{
    At, CaptureEvent, CaptureSink, CarriedBy, DoipStream, FrameAt, IsoTpPair, IsoTpReader, TcpFlow,
};

/// Findings kept per case; more are counted.
pub const MAX_FINDINGS: usize = 32;

/// Longest DoIP message the live deframer holds (the reader's default limit).
const MAX_MESSAGE_LEN: u32 = 1 << 20;

/// Most connections of one case followed at once; a case that opens more is judged on the
/// first ones.
const MAX_CONNECTIONS: usize = 64;

/// Connection changes as the runner sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveChange {
    Opened,
    /// The entity closed its side (end of stream).
    ClosedByEntity,
    /// The connection was reset or failed.
    Reset,
    /// The tester (we) closed its side.
    ClosedByTester,
    /// The case ended with the connection open.
    Abandoned,
}

/// The findings of a case, kept in order.
#[derive(Debug, Default)]
pub struct Collected {
    pub findings: Vec<Finding>,
    /// Findings past [`MAX_FINDINGS`], counted.
    pub more: u64,
}

impl Report for Collected {
    fn event(&mut self, _: &CaptureEvent<'_>) {}
    fn finding(&mut self, finding: &Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(finding.clone());
        } else {
            self.more += 1;
        }
    }
    fn connection(&mut self, _: &ConnectionSummary) {}
}

struct LiveConn {
    flow: TcpFlow,
    /// Index 0: tester -> entity, 1: entity -> tester.
    streams: [DoipStream; 2],
}

/// A live run's frames into the judge.
pub struct LiveFeed {
    judge: Judge<Collected>,
    conns: Vec<LiveConn>,
    next_id: u32,
    frame: u64,
    isotp: IsoTpReader,
}

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFeed")
            .field("connections", &self.conns.len())
            .field("frames", &self.frame)
            .field("findings", &self.judge.findings())
            .finish()
    }
}

impl LiveFeed {
    /// A feed without CAN (a DoIP session).
    pub fn new(pairs: &[IsoTpPair]) -> LiveFeed {
        LiveFeed::with_can(pairs, Duration::ZERO)
    }

    /// A feed for one case; `pairs` say which CAN ids are the ECU's, `st_min_tolerance` is
    /// the slack on STmin gaps (the profile's `can.gap_tolerance`, as `inspect --profile`
    /// reads a capture with).
    pub fn with_can(pairs: &[IsoTpPair], st_min_tolerance: Duration) -> LiveFeed {
        LiveFeed {
            judge: Judge::new(Collected::default(), pairs),
            conns: Vec::new(),
            next_id: 1,
            frame: 0,
            isotp: IsoTpReader::new(pairs, st_min_tolerance),
        }
    }

    fn at(&mut self, time: Duration) -> At {
        self.frame += 1;
        At { packet: self.frame, time }
    }

    fn conn_index(&self, tester: SocketAddr, entity: SocketAddr) -> Option<usize> {
        self.conns.iter().position(|c| c.flow.tester == tester && c.flow.entity == entity)
    }

    /// A TCP (or TLS, with its plaintext) connection from `tester` to `entity` changed.
    pub fn connection(
        &mut self,
        tester: SocketAddr,
        entity: SocketAddr,
        change: LiveChange,
        time: Duration,
    ) {
        let at = At { packet: self.frame, time };
        let index = self.conn_index(tester, entity);
        match (change, index) {
            (LiveChange::Opened, None) if self.conns.len() < MAX_CONNECTIONS => {
                let flow =
                    TcpFlow { id: self.next_id, tester, entity, handshake: true, tls: false };
                self.next_id += 1;
                let streams = [DoipStream::new(MAX_MESSAGE_LEN), DoipStream::new(MAX_MESSAGE_LEN)];
                self.conns.push(LiveConn { flow, streams });
                self.judge.event(CaptureEvent::Opened { at, conn: flow });
            }
            (LiveChange::Opened, _) => {}
            (_, None) => {}
            (LiveChange::ClosedByEntity | LiveChange::Reset, Some(i)) => {
                let reset = change == LiveChange::Reset;
                let conn = self.conns[i].flow;
                self.judge.event(CaptureEvent::Closed { at, conn, by: Side::Entity, reset });
            }
            (LiveChange::ClosedByTester, Some(i)) => {
                let conn = self.conns[i].flow;
                self.judge.event(CaptureEvent::Closed { at, conn, by: Side::Tester, reset: false });
                self.end(i, at);
            }
            (LiveChange::Abandoned, Some(i)) => self.end(i, at),
        }
    }

    fn end(&mut self, i: usize, at: At) {
        let conn = self.conns.swap_remove(i).flow;
        self.judge.event(CaptureEvent::Ended { at, conn, open_at_end: false, evicted: false });
    }

    /// Bytes on a TCP connection, in stream order: `from` the tester (sent) or the entity.
    pub fn tcp(
        &mut self,
        tester: SocketAddr,
        entity: SocketAddr,
        from: Side,
        bytes: &[u8],
        time: Duration,
    ) {
        let at = self.at(time);
        let Some(i) = self.conn_index(tester, entity) else { return };
        let LiveConn { flow, streams } = &mut self.conns[i];
        let conn = *flow;
        let judge = &mut self.judge;
        let stream = &mut streams[usize::from(from == Side::Entity)];
        stream.feed(bytes, &mut |e| judge.event(e.into_capture_event(at, conn, from)));
    }

    /// A UDP datagram between the tester's socket and the entity's.
    pub fn udp(
        &mut self,
        tester: SocketAddr,
        entity: SocketAddr,
        from: Side,
        bytes: &[u8],
        time: Duration,
    ) {
        let at = self.at(time);
        let (src, dst) = match from {
            Side::Tester => (tester, entity),
            Side::Entity => (entity, tester),
        };
        let message = Message::parse(bytes);
        let carrier = CarriedBy::Udp { src, dst };
        self.judge.event(CaptureEvent::Doip { at, carrier, from, bytes, message });
    }

    /// A CAN frame on the bus (either way: the pairs say whose id it is).
    pub fn can(&mut self, frame: &CanFrame, time: Duration) {
        let at = self.at(time);
        self.judge.event(CaptureEvent::Can { at, interface: 0, frame: *frame });
        let judge = &mut self.judge;
        let frame_at = FrameAt { packet: at.packet, time };
        self.isotp.frame(frame, frame_at, &mut |e| judge.event(CaptureEvent::IsoTp(e)));
    }

    /// When the entity owes the connection from `tester` to `entity` a close: the time of its
    /// NACK that closes the socket (ISO 13400-2:2019 Table 19, Table 25), while the socket is
    /// still open. A tester that closes its side later than [`crate::judge::CLOSE_GRACE`]
    /// after it lets the judge see the entity keep it open.
    pub fn close_owed(&self, tester: SocketAddr, entity: SocketAddr) -> Option<Duration> {
        let i = self.conn_index(tester, entity)?;
        self.judge.close_owed(self.conns[i].flow.id)
    }

    /// The findings so far, taken (a connection that goes on, e.g. the fuzzer's kept one,
    /// hands over each case's findings when the case ends); those past [`MAX_FINDINGS`] are
    /// counted in [`Collected::more`] of [`LiveFeed::finish`].
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.judge.report_mut().findings)
    }

    /// The case is over: what the judge found.
    pub fn finish(mut self, time: Duration) -> Collected {
        let at = At { packet: self.frame, time };
        while !self.conns.is_empty() {
            self.end(0, at);
        }
        let judge = &mut self.judge;
        self.isotp.finish(FrameAt { packet: at.packet, time }, &mut |e| {
            judge.event(CaptureEvent::IsoTp(e))
        });
        self.judge.into_report()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        hex::decode(text.replace(' ', "")).unwrap()
    }

    const ACTIVATE: &str = "02fd 0005 00000007 0e00 00 00000000";
    const REQUEST: &str = "02fd 8001 00000007 0e00 1000 22f190";
    const ACK: &str = "02fd 8002 00000005 1000 0e00 00";

    fn ends() -> (SocketAddr, SocketAddr) {
        ("127.0.0.1:50000".parse().unwrap(), "127.0.0.1:13400".parse().unwrap())
    }

    #[test]
    fn a_reply_in_another_version_is_found_in_a_message_split_over_reads() {
        let (t, e) = ends();
        let mut feed = LiveFeed::new(&[]);
        let ms = Duration::from_millis;
        feed.connection(t, e, LiveChange::Opened, ms(0));
        feed.tcp(t, e, Side::Tester, &hex(ACTIVATE), ms(1));
        let wrong = hex("03fc 0006 00000009 0e00 1000 10 00000000");
        feed.tcp(t, e, Side::Entity, &wrong[..5], ms(2));
        feed.tcp(t, e, Side::Entity, &wrong[5..], ms(3));
        feed.connection(t, e, LiveChange::ClosedByTester, ms(4));
        let found = feed.finish(ms(5));
        let rules: Vec<_> = found.findings.iter().map(|f| (f.rule.id, f.packets.clone())).collect();
        assert_eq!(rules, [("doip.reply_version", vec![1, 3])]);
    }

    /// A tester that sends several bad headers before the entity answers (the fuzzer does)
    /// gets each NACK in order: an unknown type (0x01, kept open), a UDP-only type of a wrong
    /// length (0x01 too: the type is checked before the length), then a bad pattern (0x00,
    /// closed). The entity that answers so and closes broke nothing; one that answers the
    /// first with 0x00 and closes did, twice.
    #[test]
    fn pipelined_bad_headers_are_answered_in_order() {
        let (t, e) = ends();
        let ms = Duration::from_millis;
        let run = |answers: &[&str]| {
            let mut feed = LiveFeed::new(&[]);
            feed.connection(t, e, LiveChange::Opened, ms(0));
            let sent = hex("02fd 7777 00000000 02fd 0002 00000001 00 1111 0005 00000000");
            feed.tcp(t, e, Side::Tester, &sent, ms(1));
            for (i, a) in answers.iter().enumerate() {
                feed.tcp(t, e, Side::Entity, &hex(a), ms(2 + i as u64));
            }
            feed.connection(t, e, LiveChange::ClosedByEntity, ms(10));
            feed.finish(ms(11)).findings.iter().map(|f| f.rule.id).collect::<Vec<_>>()
        };
        let nack = |code: &str| format!("02fd 0000 00000001 {code}");
        assert_eq!(run(&[&nack("01"), &nack("01"), &nack("00")]), Vec::<&str>::new());
        // The wrong code for the first, then a close without the second's NACK.
        assert_eq!(run(&[&nack("00")]), ["doip.nack_code", "doip.nack_code"]);
    }

    /// Codes the tables leave reserved are findings; a VM-specific activation code is not.
    /// Findings taken mid-way are not found again at the end.
    #[test]
    fn reserved_codes_are_findings_and_taken_findings_are_gone() {
        let (t, e) = ends();
        let mut feed = LiveFeed::new(&[]);
        let ms = Duration::from_millis;
        feed.connection(t, e, LiveChange::Opened, ms(0));
        feed.tcp(t, e, Side::Tester, &hex(ACTIVATE), ms(1));
        feed.tcp(t, e, Side::Entity, &hex("02fd 0006 00000009 0e00 1000 e5 00000000"), ms(2));
        assert!(feed.take_findings().is_empty());
        feed.tcp(t, e, Side::Tester, &hex(REQUEST), ms(3));
        feed.tcp(t, e, Side::Entity, &hex("02fd 8003 00000005 1000 0e00 01"), ms(4));
        let taken: Vec<_> =
            feed.take_findings().iter().map(|f| (f.rule.id, f.message.clone())).collect();
        assert_eq!(
            taken,
            [(
                "doip.defined_code",
                "the entity sent diagnostic message NACK code 0x01, which is reserved".into()
            )]
        );
        feed.tcp(t, e, Side::Entity, &hex("02fd 0000 00000001 05"), ms(5));
        let rules: Vec<_> = feed.finish(ms(6)).findings.iter().map(|f| f.rule.id).collect();
        assert_eq!(rules, ["doip.defined_code"]);
    }

    #[test]
    fn a_conformant_exchange_finds_nothing_and_findings_are_bounded() {
        let (t, e) = ends();
        let mut feed = LiveFeed::new(&[]);
        let ms = Duration::from_millis;
        feed.connection(t, e, LiveChange::Opened, ms(0));
        feed.tcp(t, e, Side::Tester, &hex(ACTIVATE), ms(1));
        feed.tcp(t, e, Side::Entity, &hex("02fd 0006 00000009 0e00 1000 10 00000000"), ms(2));
        feed.tcp(t, e, Side::Tester, &hex(REQUEST), ms(3));
        feed.tcp(t, e, Side::Entity, &hex(ACK), ms(4));
        assert!(feed.finish(ms(5)).findings.is_empty());

        // An entity that sends garbage headers without end: each is a finding, few are kept.
        let mut feed = LiveFeed::new(&[]);
        feed.connection(t, e, LiveChange::Opened, ms(0));
        for i in 0..100 {
            feed.tcp(t, e, Side::Entity, &hex("02fd 4002 00000003 00 01 00"), ms(i));
        }
        let found = feed.finish(ms(200));
        assert_eq!(found.findings.len(), MAX_FINDINGS);
        assert_eq!(found.more, 100 - MAX_FINDINGS as u64);
    }

    /// Frames on the pair 0x7E0 (tester) / 0x7E8 (ECU), each 1 ms after the last: the rules
    /// the judge found, with their frames.
    fn isotp_rules(frames: &[(u16, &str)]) -> Vec<(&'static str, Vec<u64>)> {
        use crate::codec::can::{CanId, StandardId};
        use crate::codec::isotp::AddressingMode;
        let id = |raw: u16| CanId::Standard(StandardId::new(raw).unwrap());
        let pair = IsoTpPair { tx: id(0x7E0), rx: id(0x7E8), addressing: AddressingMode::Normal };
        let mut feed = LiveFeed::with_can(&[pair], Duration::ZERO);
        for (i, (raw, data)) in frames.iter().enumerate() {
            let frame = CanFrame::new(id(*raw), &hex(data)).unwrap();
            feed.can(&frame, Duration::from_millis(i as u64));
        }
        let found = feed.finish(Duration::from_secs(1));
        found.findings.iter().map(|f| (f.rule.id, f.packets.clone())).collect()
    }

    #[test]
    fn a_flow_control_or_an_answer_to_a_frame_the_ecu_must_ignore_is_a_finding() {
        // FF_DL 1 fits a single frame: the FF must be ignored, not answered with an FC.
        let short_ff = [(0x7E0, "10 01 22 F1 90 F1 8C 01"), (0x7E8, "30 00 00 CC CC CC CC CC")];
        assert_eq!(isotp_rules(&short_ff), [("isotp.ignored_frame", vec![1, 2])]);
        // SF_DL 0 in a classic frame is invalid: no answer to it.
        let bad_sf = [(0x7E0, "00 3E 00 CC CC CC CC CC"), (0x7E8, "02 7E 00 CC CC CC CC CC")];
        assert_eq!(isotp_rules(&bad_sf), [("isotp.ignored_frame", vec![1, 2])]);
        // A CF with the wrong SN aborts the reception (N_WRONG_SN): no answer to it.
        let wrong_sn = [
            (0x7E0, "10 0A 2E F1 90 01 02 03"),
            (0x7E8, "30 00 00 CC CC CC CC CC"),
            (0x7E0, "22 04 05 06 07 CC CC CC"),
            (0x7E8, "03 6E F1 90 CC CC CC CC"),
        ];
        assert_eq!(isotp_rules(&wrong_sn), [("isotp.ignored_frame", vec![3, 4])]);
    }

    #[test]
    fn an_answer_to_an_earlier_request_or_after_a_later_frame_is_not_a_reaction() {
        // The answer to the tester's valid request may come after a frame it must ignore;
        // a response pending does not end that wait.
        let answered_late = [
            (0x7E0, "02 22 F1 CC CC CC CC CC"),
            (0x7E8, "03 7F 22 78 CC CC CC CC"),
            (0x7E0, "00 3E 00 CC CC CC CC CC"),
            (0x7E8, "03 62 F1 00 CC CC CC CC"),
        ];
        assert_eq!(isotp_rules(&answered_late), []);
        // A valid frame after the ignored one: the ECU's frame reacts to that one.
        let superseded = [
            (0x7E0, "00 3E 00 CC CC CC CC CC"),
            (0x7E0, "02 3E 00 CC CC CC CC CC"),
            (0x7E8, "02 7E 00 CC CC CC CC CC"),
        ];
        assert_eq!(isotp_rules(&superseded), []);
        // Silence after an ignored frame is right.
        assert_eq!(isotp_rules(&[(0x7E0, "10 01 22 F1 90 F1 8C 01")]), []);
    }
}
