//! Imports of hand-made event sequences: segmentation, overlapping connections, masks,
//! response pending, the bounds.

use super::*;
use crate::codec::doip::Message;
use crate::profile::timer_key;
use core::net::SocketAddr;

const TESTER: &str = "127.0.0.1:50000";
const ENTITY: &str = "127.0.0.1:13400";

fn options() -> ImportOptions {
    let timer = |key: &str, ms: u64| Timer { key: key.into(), value: Duration::from_millis(ms) };
    ImportOptions {
        name: "import-test".into(),
        source: "test.pcap".into(),
        pace: Pace::Recorded,
        masks: Masks::varying(),
        timers: vec![
            timer(timer_key::A_PROCESSING_TIME, 2000),
            timer(timer_key::A_DOIP_DIAGNOSTIC_MESSAGE, 50),
            timer(timer_key::P2, 50),
            timer(timer_key::P2_STAR, 5000),
            timer(timer_key::T_TCP_GENERAL_INACTIVITY, 300_000),
        ],
        tolerance: Duration::from_millis(10),
        protocol_version: 0x02,
        isotp_pairs: Vec::new(),
    }
}

fn flow(id: u32, tester_port: u16) -> TcpFlow {
    let mut tester: SocketAddr = TESTER.parse().unwrap();
    tester.set_port(tester_port);
    TcpFlow { id, tester, entity: ENTITY.parse().unwrap(), handshake: true, tls: false }
}

fn at(packet: u64, ms: u64) -> At {
    At { packet, time: Duration::from_millis(ms) }
}

fn hex(text: &str) -> Vec<u8> {
    crate::notation::parse_hex(text).unwrap()
}

/// Feeds events to an importer; `entity` messages are parsed as the reader would.
struct Feed {
    importer: Importer,
}

impl Feed {
    fn new(options: ImportOptions) -> Self {
        Feed { importer: Importer::new(options) }
    }

    fn open(&mut self, conn: TcpFlow, at: At) {
        self.importer.event(CaptureEvent::Opened { at, conn });
    }

    fn tester(&mut self, conn: TcpFlow, at: At, bytes: &str) {
        let bytes = hex(bytes);
        self.importer.event(CaptureEvent::Data { at, conn, from: Side::Tester, bytes: &bytes });
    }

    fn entity(&mut self, conn: TcpFlow, at: At, bytes: &str) {
        let bytes = hex(bytes);
        let message = Message::parse(&bytes);
        let carrier = CarriedBy::Tcp(conn);
        self.importer.event(CaptureEvent::Doip {
            at,
            carrier,
            from: Side::Entity,
            bytes: &bytes,
            message,
        });
    }

    fn close(&mut self, conn: TcpFlow, at: At, by: Side) {
        self.importer.event(CaptureEvent::Closed { at, conn, by, reset: false });
    }

    fn yaml(self) -> String {
        self.importer.finish_text().unwrap().0
    }
}

const ACTIVATION: &str = "02 fd 00 05 00 00 00 07 0e 80 00 00 00 00 00";
const ACTIVATED: &str = "02 fd 00 06 00 00 00 09 0e 80 00 10 10 00 00 00 00";
const TESTER_PRESENT: &str = "02 fd 80 01 00 00 00 06 0e 80 00 10 3e 00";
const ACK: &str = "02 fd 80 02 00 00 00 05 00 10 0e 80 00";

#[test]
fn segments_are_replayed_as_recorded_and_answers_bounded_by_their_timer() {
    let c = flow(1, 50000);
    let mut feed = Feed::new(options());
    feed.open(c, at(1, 0));
    feed.tester(c, at(3, 10), ACTIVATION);
    feed.entity(c, at(4, 11), ACTIVATED);
    // One message over two segments 20 ms apart, then two messages in one segment.
    feed.tester(c, at(5, 30), &TESTER_PRESENT[..14]);
    feed.tester(c, at(6, 50), &TESTER_PRESENT[15..]);
    feed.entity(c, at(7, 51), ACK);
    feed.tester(c, at(8, 60), &format!("{TESTER_PRESENT} {TESTER_PRESENT}"));
    feed.entity(c, at(9, 61), "02 fd 80 01 00 00 00 07 00 10 0e 80 7f 3e 78");
    // An answer later than P2 and A_DoIP_Diagnostic_Message: bounded by P2*.
    feed.entity(c, at(10, 1061), "02 fd 80 01 00 00 00 08 00 10 0e 80 67 01 aa bb");
    feed.close(c, at(11, 1100), Side::Tester);
    feed.close(c, at(12, 1101), Side::Entity);
    insta::assert_snapshot!(feed.yaml());
}

#[test]
fn overlapping_connections_share_a_case_and_later_ones_get_their_own() {
    let (a, b, c) = (flow(1, 50000), flow(2, 50001), flow(3, 50002));
    let mut feed = Feed::new(ImportOptions { pace: Pace::Fast, ..options() });
    feed.open(a, at(1, 0));
    feed.tester(a, at(2, 1), ACTIVATION);
    feed.open(b, at(3, 2));
    feed.tester(b, at(4, 3), ACTIVATION);
    feed.entity(a, at(5, 4), "02 fd 00 07 00 00 00 00");
    feed.tester(a, at(6, 5), "02 fd 00 08 00 00 00 02 0e 80");
    feed.close(b, at(7, 6), Side::Entity);
    feed.close(a, at(8, 7), Side::Tester);
    feed.open(c, at(9, 8));
    feed.close(c, at(10, 9), Side::Tester);
    let yaml = feed.yaml();
    assert!(yaml.contains("id: TCP-1-2") && yaml.contains("id: TCP-3"), "{yaml}");
    assert!(yaml.contains("- expect: { alive_check_request: {}"), "{yaml}");
    assert!(yaml.contains("connection: conn2"), "{yaml}");
    assert!(!yaml.contains("wait:"), "fast pace has no waits: {yaml}");
    // The activation held on connection 1 goes out before connection 2 opens.
    let send_a = yaml.find("packet 2\n").unwrap();
    let open_b = yaml.find("packet 3\n").unwrap();
    assert!(send_a < open_b, "{yaml}");
}

#[test]
fn exact_keeps_the_seed_and_masks_add_fields() {
    let entity_status = "02 fd 40 02 00 00 00 07 00 04 01 00 00 10 00";
    let run = |masks: Masks| {
        let c = flow(1, 50000);
        let mut feed = Feed::new(ImportOptions { masks, ..options() });
        feed.open(c, at(1, 0));
        feed.entity(c, at(2, 1), "02 fd 80 01 00 00 00 08 00 10 0e 80 67 01 aa bb");
        feed.entity(c, at(3, 2), entity_status);
        feed.yaml()
    };
    let exact = run(Masks::none());
    assert!(exact.contains("\"67 01 aa bb\"") && exact.contains("currently_open_sockets: 1"));
    let masked = run(Masks { names: vec![SEED.into(), "max_concurrent_sockets".into()] });
    assert!(masked.contains("\"67 01 ?? ??\""), "{masked}");
    assert!(masked.contains("max_concurrent_sockets: any"), "{masked}");
}

#[test]
fn nothing_to_import_is_an_error() {
    assert_eq!(Importer::new(options()).finish().unwrap_err(), ImportError::Empty);
}

#[test]
fn a_long_connection_is_cut_into_parts_of_bounded_size_and_each_is_written_when_full() {
    let c = flow(1, 50000);
    let mut feed = Feed::new(ImportOptions { pace: Pace::Fast, ..options() });
    feed.open(c, at(1, 0));
    let big = vec![0u8; MAX_CASE_BYTES / 2];
    let mut written = Vec::new();
    for packet in 2..=6 {
        let at = at(packet, packet);
        feed.importer.event(CaptureEvent::Data { at, conn: c, from: Side::Tester, bytes: &big });
        written.extend(feed.importer.take_ready());
    }
    // Two halves fill a part: the next tester action starts the next part.
    assert_eq!(written.len(), 2);
    assert!(written[0].contains("id: TCP-1\n") && written[1].contains("id: TCP-1.part2\n"));
    assert!(written.iter().all(|case| case.len() < 4 * MAX_CASE_BYTES), "bounded");
    // A part opens the connection anew and says why.
    assert!(written[1].contains("goes on from the case before"));
    assert!(written[1].contains("- connect: {}"));
    let rest = feed.importer.finish().unwrap();
    assert_eq!(rest.count, 3);
    assert_eq!(rest.cases.len(), 1);
    assert!(rest.cases[0].contains("id: TCP-1.part3\n"));
}

#[test]
fn a_case_is_written_when_its_connections_are_over_and_a_straggler_makes_none() {
    let (a, b) = (flow(1, 50000), flow(2, 50001));
    let mut feed = Feed::new(ImportOptions { pace: Pace::Fast, ..options() });
    feed.open(a, at(1, 0));
    feed.tester(a, at(2, 1), ACTIVATION);
    feed.close(a, at(3, 2), Side::Tester);
    assert!(feed.importer.take_ready().is_empty(), "written when the next one opens");
    feed.open(b, at(4, 3));
    let written = feed.importer.take_ready();
    assert_eq!(written.len(), 1);
    assert!(written[0].contains("id: TCP-1\n"), "{}", written[0]);
    // The entity's FIN of connection 1 after connection 2 opened.
    feed.close(a, at(5, 4), Side::Entity);
    feed.tester(b, at(6, 5), ACTIVATION);
    let rest = feed.importer.finish().unwrap();
    assert_eq!(rest.count, 2);
    assert!(rest.cases[0].contains("id: TCP-2\n"), "{}", rest.cases[0]);
}

#[test]
fn a_tls_connection_is_left_out_and_said_so() {
    let mut c = flow(1, 50000);
    c.tls = true;
    let mut feed = Feed::new(options());
    feed.open(c, at(1, 0));
    feed.importer.event(CaptureEvent::Encrypted {
        at: at(2, 1),
        conn: c,
        from: Side::Tester,
        bytes: 50,
    });
    assert_eq!(feed.importer.finish().unwrap_err(), ImportError::Empty);
}

#[test]
fn frames_that_form_no_message_replay_as_frames_and_silence_is_expected() {
    use crate::codec::can::{CanFrame, CanId, StandardId};
    use crate::codec::isotp::AddressingMode;
    let id = |raw| CanId::Standard(StandardId::new(raw).unwrap());
    let pair = IsoTpPair { tx: id(0x7E0), rx: id(0x7E8), addressing: AddressingMode::Normal };
    let frames = |list: &[(u16, &str)]| {
        let mut importer = Importer::new(ImportOptions { isotp_pairs: vec![pair], ..options() });
        for (i, (raw, data)) in list.iter().enumerate() {
            let frame = CanFrame::new(id(*raw), &hex(data)).unwrap();
            let at = at(i as u64 + 1, i as u64);
            importer.event(CaptureEvent::Can { at, interface: 0, frame });
        }
        importer.finish_text().unwrap().0
    };
    // An SF with SF_DL 0 (a receiver ignores it) and no answer.
    let ignored = frames(&[(0x7E0, "00 3e 00 cc cc cc cc cc")]);
    assert!(
        ignored.contains("- can_send: { id: 0x7E0, data: \"00 3e 00 cc cc cc cc cc\" }"),
        "{ignored}"
    );
    assert!(
        ignored.contains(
            "expect_none: { connection: can, id: 0x7E8, for: \"${profile.isotp.reaction_time}\" }"
        ),
        "{ignored}"
    );
    // A first frame the ECU answers with FC overflow: expected as sent, no silence after it.
    let overflow =
        frames(&[(0x7E0, "10 00 00 01 00 00 22 f1"), (0x7E8, "32 00 00 cc cc cc cc cc")]);
    assert!(
        overflow.contains("- can_expect: { id: 0x7E8, data: \"32 00 00 cc cc cc cc cc\""),
        "{overflow}"
    );
    assert!(!overflow.contains("expect_none"), "{overflow}");
}
