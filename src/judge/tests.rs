//! The checks driven by hand-made reader events: one test per check that it fires on the
//! misconduct and stays silent on the conformant exchange.

use std::time::Duration;

use super::*;
use crate::codec::doip::Message;
use crate::pcap::Side;
use crate::pcap::read::{At, CarriedBy, TcpFlow};

#[derive(Default)]
struct Collect(Vec<Finding>);

impl Report for Collect {
    fn event(&mut self, _: &CaptureEvent<'_>) {}
    fn finding(&mut self, f: &Finding) {
        self.0.push(f.clone());
    }
    fn connection(&mut self, _: &ConnectionSummary) {}
}

fn conn() -> TcpFlow {
    TcpFlow {
        id: 1,
        tester: "127.0.0.1:50000".parse().unwrap(),
        entity: "127.0.0.1:13400".parse().unwrap(),
        handshake: true,
        tls: false,
    }
}

/// Feeds (from, hex message, ms) over one TCP connection, opened first; a `-` message closes
/// that side. Returns (check, packets) of every finding.
fn run(
    script: &[(Side, &str, u64)],
    timing: Option<DeclaredTimes>,
) -> Vec<(&'static str, Vec<u64>)> {
    run_with(Judge::with_timing(Collect::default(), &[], timing), script)
}

/// [`run`] with a judge built by the caller.
fn run_with(
    mut inspector: Judge<Collect>,
    script: &[(Side, &str, u64)],
) -> Vec<(&'static str, Vec<u64>)> {
    let at = |packet: u64, ms: u64| At { packet, time: Duration::from_millis(ms) };
    inspector.event(CaptureEvent::Opened { at: at(1, 0), conn: conn() });
    let messages: Vec<Vec<u8>> = script
        .iter()
        .map(|(_, h, _)| hex::decode(h.replace(' ', "")).unwrap_or_default())
        .collect();
    for (i, ((from, text, ms), bytes)) in script.iter().zip(&messages).enumerate() {
        let at = at(i as u64 + 2, *ms);
        if *text == "-" {
            inspector.event(CaptureEvent::Closed { at, conn: conn(), by: *from, reset: false });
            continue;
        }
        let message = Message::parse(bytes);
        inspector.event(CaptureEvent::Doip {
            at,
            carrier: CarriedBy::Tcp(conn()),
            from: *from,
            bytes,
            message,
        });
    }
    inspector.into_report().0.into_iter().map(|f| (f.rule.id, f.packets)).collect()
}

use Side::{Entity as E, Tester as T};

const ACTIVATE: &str = "02fd 0005 00000007 0e00 00 00000000";
const ACTIVATED: &str = "02fd 0006 00000009 0e00 1000 10 00000000";
const REQUEST: &str = "02fd 8001 00000007 0e00 1000 22f190";
const ACK: &str = "02fd 8002 00000005 1000 0e00 00";
const ANSWER: &str = "02fd 8001 00000007 1000 0e00 62f190";

#[test]
fn a_conformant_exchange_has_no_finding() {
    let script =
        [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, REQUEST, 2), (E, ACK, 3), (E, ANSWER, 4)];
    assert_eq!(run(&script, None), []);
}

#[test]
fn an_invalid_entity_message_is_a_finding_and_an_invalid_tester_one_is_not() {
    let bad_inverse = "02fe 0006 00000009 0e00 1000 10 00000000";
    let alive_over_udp_type = "02fd 4002 00000003 00 01 00";
    let found = run(
        &[
            (T, "02fe 0005 00000007 0e00 00 00000000", 0),
            (E, bad_inverse, 1),
            (E, alive_over_udp_type, 2),
        ],
        None,
    );
    let checks: Vec<_> = found.iter().map(|f| f.0).collect();
    assert_eq!(checks, ["doip.entity_message", "doip.nack_code", "doip.entity_message"]);
}

#[test]
fn a_reply_carries_the_version_of_the_request() {
    let activated_v3 = "03fc 0006 00000009 0e00 1000 10 00000000";
    assert_eq!(
        run(&[(T, ACTIVATE, 0), (E, activated_v3, 1)], None),
        [("doip.reply_version", vec![2, 3])]
    );
    // Refusing a version the entity does not implement is NACK 0x00 in its own version.
    let activate_v3 = "03fc 0005 00000007 0e00 00 00000000";
    assert_eq!(run(&[(T, activate_v3, 0), (E, "02fd 0000 00000001 00", 1), (E, "-", 2)], None), []);
}

#[test]
fn a_rule_with_nothing_to_judge_is_not_counted_as_judged() {
    let mut judge = Judge::new(Collect::default(), &[]);
    let at = At { packet: 1, time: Duration::ZERO };
    judge.event(CaptureEvent::Opened { at, conn: conn() });
    let bytes = hex::decode(ACTIVATED.replace(' ', "")).unwrap();
    let message = Message::parse(&bytes);
    let (carrier, from) = (CarriedBy::Tcp(conn()), Side::Entity);
    judge.event(CaptureEvent::Doip { at, carrier, from, bytes: &bytes, message });
    let judged = judge.judged();
    assert_eq!(judged[rules::DOIP_ENTITY_MESSAGE.index], 1);
    assert_eq!(judged[rules::DOIP_NACK_CODE.index], 0);
    assert_eq!(judged[rules::DOIP_REPLY_VERSION.index], 0, "no request to compare with");
}

#[test]
fn a_bad_header_needs_its_nack_code() {
    let bad = "02fe 0005 00000007 0e00 00 00000000";
    let nack_00 = "02fd 0000 00000001 00";
    let nack_04 = "02fd 0000 00000001 04";
    assert_eq!(run(&[(T, bad, 0), (E, nack_00, 1), (E, "-", 2)], None), []);
    assert_eq!(
        run(&[(T, bad, 0), (E, nack_04, 1), (E, "-", 2)], None),
        [("doip.nack_code", vec![2, 3])]
    );
    assert_eq!(run(&[(T, bad, 0), (E, "-", 1)], None), [("doip.nack_code", vec![2, 3])]);
}

#[test]
fn the_socket_fate_after_a_nack_is_judged() {
    let bad = "02fe 0005 00000007 0e00 00 00000000";
    let nack_00 = "02fd 0000 00000001 00";
    // It must close: sending more, or the tester closing long after, is a finding.
    assert_eq!(
        run(&[(T, bad, 0), (E, nack_00, 1), (E, ACTIVATED, 2)], None),
        [("doip.socket_fate", vec![3, 4])]
    );
    assert_eq!(
        run(&[(T, bad, 0), (E, nack_00, 1), (T, "-", 600)], None),
        [("doip.socket_fate", vec![3, 4])]
    );
    assert_eq!(run(&[(T, bad, 0), (E, nack_00, 1), (T, "-", 100)], None), [], "within the grace");
    // Unknown type: NACK 0x01 keeps the socket open.
    let unknown = "02fd 1234 00000000";
    let nack_01 = "02fd 0000 00000001 01";
    assert_eq!(
        run(&[(T, unknown, 0), (E, nack_01, 1), (E, "-", 2)], None),
        [("doip.socket_fate", vec![3, 4])]
    );
    assert_eq!(run(&[(T, unknown, 0), (E, nack_01, 1), (T, "-", 2), (E, "-", 3)], None), []);
    // Kept open, then the entity checks the tester is alive (another socket wants its
    // address) and closes it when no response came: the alive check's close, not the NACK's.
    let alive_check = "02fd 0007 00000000";
    assert_eq!(
        run(&[(T, unknown, 0), (E, nack_01, 1), (E, alive_check, 2), (E, "-", 502)], None),
        []
    );
}

/// The entity answers in order: the answer to the tester's own alive check request, sent
/// before a bad header, comes before that header's NACK and is not taken for it (the fuzzer's
/// barrier is such a request, and a case's bad header may follow it before the answer).
#[test]
fn an_alive_check_response_to_an_earlier_request_is_not_the_nack_of_a_later_bad_header() {
    let alive_request = "02fd 0007 00000000";
    let alive_response = "02fd 0008 00000002 1000";
    let unknown = "02fd 1234 00000000";
    let nack_01 = "02fd 0000 00000001 01";
    let script = [
        (T, ACTIVATE, 0),
        (E, ACTIVATED, 1),
        (T, alive_request, 2),
        (T, unknown, 3),
        (E, alive_response, 4),
        (E, nack_01, 5),
    ];
    assert_eq!(run(&script, None), []);
    // Without a request of its own, an alive check response is no answer to the bad header.
    let script = [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, unknown, 3), (E, alive_response, 4)];
    assert_eq!(run(&script, None), [("doip.nack_code", vec![4, 5])]);
}

/// Two tester messages in one segment (one packet): the NACK of the first is not the last
/// word on the socket, because the tester went on in the same packet; the entity's close
/// after the second (a diagnostic message before activation, which some entities close on)
/// is about the second, not a socket kept open in breach of the first NACK.
#[test]
fn messages_sharing_a_packet_are_told_apart_for_the_socket_fate() {
    let unknown = hex::decode("02fd123400000000").unwrap();
    let nack_01 = hex::decode("02fd00000000000101").unwrap();
    let request = hex::decode(REQUEST.replace(' ', "")).unwrap();
    let mut judge = Judge::with_timing(Collect::default(), &[], None);
    let at = |packet: u64, ms: u64| At { packet, time: Duration::from_millis(ms) };
    judge.event(CaptureEvent::Opened { at: at(1, 0), conn: conn() });
    for bytes in [&unknown, &request] {
        judge.event(CaptureEvent::Doip {
            at: at(2, 1),
            carrier: CarriedBy::Tcp(conn()),
            from: T,
            bytes,
            message: Message::parse(bytes),
        });
    }
    judge.event(CaptureEvent::Doip {
        at: at(3, 2),
        carrier: CarriedBy::Tcp(conn()),
        from: E,
        bytes: &nack_01,
        message: Message::parse(&nack_01),
    });
    judge.event(CaptureEvent::Closed { at: at(4, 3), conn: conn(), by: E, reset: false });
    let found: Vec<_> = judge.into_report().0.into_iter().map(|f| f.rule.id).collect();
    assert_eq!(found, Vec::<&str>::new());
}

#[test]
fn the_answer_must_not_overtake_the_ack() {
    let script =
        [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, REQUEST, 2), (E, ANSWER, 3), (E, ACK, 4)];
    assert_eq!(run(&script, None), [("doip.diagnostic_ack_order", vec![4, 5])]);
    // Two requests in a row, each acknowledged before its own answer.
    let two = [
        (T, ACTIVATE, 0),
        (E, ACTIVATED, 1),
        (T, REQUEST, 2),
        (T, REQUEST, 2),
        (E, ACK, 3),
        (E, ANSWER, 3),
        (E, ACK, 4),
        (E, ANSWER, 4),
    ];
    assert_eq!(run(&two, None), []);
}

#[test]
fn routing_needs_activation_of_that_source_address() {
    let script = [(T, REQUEST, 0), (E, ACK, 1), (E, ANSWER, 2)];
    assert_eq!(run(&script, None), [("doip.activation_before_diagnostics", vec![2, 3])]);
    let refused = [(T, REQUEST, 0), (E, "02fd 8003 00000005 1000 0e00 02", 1)];
    assert_eq!(run(&refused, None), []);
    let other_sa = "02fd 8001 00000007 0e80 1000 22f190";
    let ack_other = "02fd 8002 00000005 1000 0e80 00";
    let script = [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, other_sa, 2), (E, ack_other, 3)];
    assert_eq!(run(&script, None), [("doip.activation_before_diagnostics", vec![4, 5])]);
}

#[test]
fn answers_are_timed_against_the_declared_values() {
    let timing = DeclaredTimes {
        a_processing_time: Duration::from_secs(2),
        a_doip_diagnostic_message: Duration::from_millis(50),
        p2: Duration::from_millis(50),
        p2_star: Duration::from_secs(5),
        tolerance: Duration::from_millis(10),
    };
    let on_time =
        [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, REQUEST, 100), (E, ACK, 160), (E, ANSWER, 160)];
    assert_eq!(run(&on_time, Some(timing)), []);
    let late =
        [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, REQUEST, 100), (E, ACK, 161), (E, ANSWER, 200)];
    assert_eq!(
        run(&late, Some(timing)),
        [("timing.diagnostic_ack", vec![4, 5]), ("timing.uds_p2", vec![4, 6])]
    );
    assert_eq!(run(&late, None), [], "no profile, no timing checks");
    // NRC 0x78 moves the limit to P2* from the pending answer.
    let pending = "02fd 8001 00000007 1000 0e00 7f2278";
    let script = [
        (T, ACTIVATE, 0),
        (E, ACTIVATED, 1),
        (T, REQUEST, 100),
        (E, ACK, 101),
        (E, pending, 140),
        (E, ANSWER, 4000),
    ];
    assert_eq!(run(&script, Some(timing)), []);
    let script = [
        (T, ACTIVATE, 0),
        (E, ACTIVATED, 1),
        (T, REQUEST, 100),
        (E, ACK, 101),
        (E, pending, 140),
        (E, ANSWER, 5200),
    ];
    assert_eq!(run(&script, Some(timing)), [("timing.uds_p2", vec![6, 7])]);
}

#[test]
fn a_udp_answer_is_timed_from_its_request() {
    let timing = DeclaredTimes {
        a_processing_time: Duration::from_millis(100),
        a_doip_diagnostic_message: Duration::from_millis(50),
        p2: Duration::from_millis(50),
        p2_star: Duration::from_secs(5),
        tolerance: Duration::ZERO,
    };
    let mut inspector = Judge::with_timing(Collect::default(), &[], Some(timing));
    let tester = "127.0.0.1:40000".parse().unwrap();
    let entity = "127.0.0.1:13400".parse().unwrap();
    let request = hex::decode("02fd400100000000").unwrap();
    let answer = hex::decode("02fd400200000003000100").unwrap();
    for (packet, ms, from, bytes, src, dst) in [
        (1, 0, Side::Tester, &request, tester, entity),
        (2, 150, Side::Entity, &answer, entity, tester),
    ] {
        let at = At { packet, time: Duration::from_millis(ms) };
        let message = Message::parse(bytes);
        inspector.event(CaptureEvent::Doip {
            at,
            carrier: CarriedBy::Udp { src, dst },
            from,
            bytes,
            message,
        });
    }
    let found = inspector.into_report().0;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].rule.id, found[0].packets.clone()), ("timing.udp_answer", vec![1, 2]));
}

/// A request every entity answers, then later traffic at `ms`: overdue only past
/// A_Processing_Time plus the tolerance, to the microsecond; a request for another VIN never.
#[test]
fn a_udp_request_left_unanswered_while_the_capture_goes_on_is_overdue_past_its_bound() {
    let timing = DeclaredTimes {
        a_processing_time: Duration::from_millis(100),
        a_doip_diagnostic_message: Duration::from_millis(50),
        p2: Duration::from_millis(50),
        p2_star: Duration::from_secs(5),
        tolerance: Duration::from_millis(10),
    };
    let tester = "127.0.0.1:40000".parse().unwrap();
    let later_tester = "127.0.0.1:40001".parse().unwrap();
    let entity = "127.0.0.1:13400".parse().unwrap();
    let run = |request: &str, later: Duration| {
        let mut judge = Judge::with_timing(Collect::default(), &[], Some(timing));
        let request = hex::decode(request).unwrap();
        let status = hex::decode("02fd400100000000").unwrap();
        for (packet, at, bytes, src) in
            [(1, Duration::ZERO, &request, tester), (2, later, &status, later_tester)]
        {
            let message = Message::parse(bytes);
            judge.event(CaptureEvent::Doip {
                at: At { packet, time: at },
                carrier: CarriedBy::Udp { src, dst: entity },
                from: Side::Tester,
                bytes,
                message,
            });
        }
        judge.into_report().0.iter().map(|f| (f.rule.id, f.packets.clone())).collect::<Vec<_>>()
    };
    let status = "02fd400100000000";
    let identify = "02fd000100000000";
    let bound = Duration::from_millis(110);
    assert_eq!(run(status, bound), []);
    assert_eq!(run(status, bound + Duration::from_micros(1)), [("timing.udp_answer", vec![1, 2])]);
    assert_eq!(
        run(identify, bound + Duration::from_micros(1)),
        [("timing.udp_answer", vec![1, 2])]
    );
    let other_vin = format!("02fd000300000011{}", hex::encode(b"WOTHERVIN00000001"));
    assert_eq!(run(&other_vin, Duration::from_secs(10)), [], "another VIN is rightly ignored");
}

#[test]
fn a_finding_line_names_its_rule_and_reads_back() {
    let f = Finding {
        rule: &rules::DOIP_NACK_CODE,
        packets: vec![3, 4],
        message: "the entity answered: alive check request".into(),
    };
    let line = f.line("frames");
    assert!(line.starts_with("rule doip.nack_code broken (ISO 13400-2"), "{line}");
    assert!(line.contains("(frames 3, 4)"), "{line}");
    assert_eq!(Finding::rule_of_line(&line), Some(&rules::DOIP_NACK_CODE));
    assert_eq!(Finding::rule_of_line("rule of thumb: none"), None);
    assert_eq!(Finding::rule_of_line("rule doip.nope broken (x)"), None);
}

#[test]
fn a_routing_activation_denial_decides_the_socket_fate() {
    let denied = "02fd 0006 00000009 0e00 1000 00 00000000";
    let needs_auth = "02fd 0006 00000009 0e00 1000 04 00000000";
    assert_eq!(run(&[(T, ACTIVATE, 0), (E, denied, 1), (E, "-", 2)], None), []);
    assert_eq!(
        run(&[(T, ACTIVATE, 0), (E, denied, 1), (T, "-", 600)], None),
        [("doip.activation_socket_fate", vec![3, 4])]
    );
    assert_eq!(
        run(&[(T, ACTIVATE, 0), (E, needs_auth, 1), (E, "-", 2)], None),
        [("doip.activation_socket_fate", vec![3, 4])]
    );
    // A close long after is the inactivity timer's, not the response's.
    assert_eq!(run(&[(T, ACTIVATE, 0), (E, needs_auth, 1), (E, "-", 2001)], None), []);
    // Success keeps it open, and the inactivity timers close it later.
    assert_eq!(run(&[(T, ACTIVATE, 0), (E, ACTIVATED, 1), (E, "-", 2)], None), []);
}

#[test]
fn the_activation_response_names_the_requesting_tester() {
    let other_tester = "02fd 0006 00000009 0e80 1000 10 00000000";
    assert_eq!(
        run(&[(T, ACTIVATE, 0), (E, other_tester, 1)], None),
        [("doip.activation_response_address", vec![2, 3])]
    );
}

#[test]
fn a_second_activation_from_another_source_on_an_activated_socket_is_denied_with_0x02() {
    let from_0e80 = "02fd 0005 00000007 0e80 00 00000000";
    let denied_0x02 = "02fd 0006 00000009 0e80 1000 02 00000000";
    let activated_0e80 = "02fd 0006 00000009 0e80 1000 10 00000000";
    let unknown_0x00 = "02fd 0006 00000009 0e80 1000 00 00000000";
    let script = |answer| [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, from_0e80, 2), (E, answer, 3)];
    assert_eq!(run(&[&script(denied_0x02)[..], &[(E, "-", 4)]].concat(), None), []);
    // An earlier check may deny it first with its own code.
    assert_eq!(run(&[&script(unknown_0x00)[..], &[(E, "-", 4)]].concat(), None), []);
    assert_eq!(
        run(&script(activated_0e80), None),
        [("doip.activation_changed_source", vec![4, 5])]
    );
    // The same source again is not a change (Table 25 answers it with 0x10 again).
    assert_eq!(
        run(&[(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, ACTIVATE, 2), (E, ACTIVATED, 3)], None),
        []
    );
}

#[test]
fn a_diagnostic_ack_swaps_the_request_addresses() {
    let unswapped = "02fd 8002 00000005 0e00 1000 00";
    let script =
        [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, REQUEST, 2), (E, unswapped, 3), (E, ANSWER, 4)];
    let found = run(&script, None);
    assert_eq!(found[0], ("doip.diagnostic_ack_addresses", vec![4, 5]));
}

#[test]
fn a_vehicle_identification_answer_carries_the_asked_identity() {
    use crate::judge::live::LiveFeed;
    let tester = "127.0.0.1:40000".parse().unwrap();
    let entity = "127.0.0.1:13400".parse().unwrap();
    let ms = Duration::from_millis;
    let vin_request = |vin: &str| {
        let mut b = hex::decode("02fd000300000011").unwrap();
        b.extend_from_slice(vin.as_bytes());
        b
    };
    let mut answer = hex::decode("02fd000400000021").unwrap();
    answer.extend_from_slice(b"WAUZZZ8V0JA000001");
    answer.extend_from_slice(
        &hex::decode("1000001122334455001122334455 0000".replace(' ', "")).unwrap(),
    );
    let answer: Vec<u8> = answer.into_iter().collect();
    let rules_of = |request: &[u8]| {
        let mut feed = LiveFeed::new(&[]);
        feed.udp(tester, entity, Side::Tester, request, ms(0));
        feed.udp(tester, entity, Side::Entity, &answer, ms(1));
        feed.finish(ms(2)).findings.iter().map(|f| f.rule.id).collect::<Vec<_>>()
    };
    assert_eq!(rules_of(&vin_request("WAUZZZ8V0JA000001")), Vec::<&str>::new());
    assert_eq!(rules_of(&vin_request("WAUZZZ8V0JA999999")), ["doip.vehicle_identification_match"]);
    assert_eq!(rules_of(&hex::decode("ff00000100000000").unwrap()), Vec::<&str>::new());
}

/// The entity as the shipped profile declares it: unknown address 0x0FFF, activation types
/// 0x00 and 0xE0, MCTS 4, MDS 4096.
fn declared_entity() -> EntityDeclares {
    let mut activation_types = [0u64; 4];
    activation_types[0] |= 1;
    activation_types[3] |= 1 << (0xE0 - 192);
    EntityDeclares {
        unknown_address: 0x0FFF,
        activation_types,
        max_sockets: 4,
        max_data_size: Some(4096),
    }
}

fn run_declared(script: &[(Side, &str, u64)]) -> Vec<(&'static str, Vec<u64>)> {
    run_with(Judge::new(Collect::default(), &[]).with_entity(declared_entity()), script)
}

#[test]
fn an_activation_the_entity_must_deny_is_denied_with_its_code() {
    let unknown_sa = "02fd 0005 00000007 0fff 00 00000000";
    let denied_unknown = "02fd 0006 00000009 0fff 1000 00 00000000";
    let accepted_unknown = "02fd 0006 00000009 0fff 1000 10 00000000";
    assert_eq!(run_declared(&[(T, unknown_sa, 0), (E, denied_unknown, 1)]), []);
    assert_eq!(
        run_declared(&[(T, unknown_sa, 0), (E, accepted_unknown, 1)]),
        [("doip.declared_activation", vec![2, 3])]
    );
    let unsupported = "02fd 0005 00000007 0e00 05 00000000";
    let denied_type = "02fd 0006 00000009 0e00 1000 06 00000000";
    assert_eq!(run_declared(&[(T, unsupported, 0), (E, denied_type, 1)]), []);
    assert_eq!(
        run_declared(&[(T, unsupported, 0), (E, ACTIVATED, 1)]),
        [("doip.declared_activation", vec![2, 3])]
    );
    // A supported type from a known tester: nothing owed.
    assert_eq!(run_declared(&[(T, ACTIVATE, 0), (E, ACTIVATED, 1)]), []);
    assert_eq!(run(&[(T, unsupported, 0), (E, ACTIVATED, 1)], None), [], "no profile, no rule");
}

#[test]
fn a_diagnostic_message_to_the_unknown_address_is_nacked_with_0x03() {
    let to_unknown = "02fd 8001 00000006 0e00 0fff 3e00";
    let nack_03 = "02fd 8003 00000005 0fff 0e00 03";
    let nack_06 = "02fd 8003 00000005 0fff 0e00 06";
    let ack = "02fd 8002 00000005 0fff 0e00 00";
    let open = [(T, ACTIVATE, 0), (E, ACTIVATED, 1), (T, to_unknown, 2)];
    let with = |reply: &'static str| {
        let mut script = open.to_vec();
        script.push((E, reply, 3));
        run_declared(&script)
    };
    assert_eq!(with(nack_03), []);
    assert_eq!(with(nack_06), [("doip.declared_target", vec![4, 5])]);
    assert_eq!(with(ack), [("doip.declared_target", vec![4, 5])]);
}

#[test]
fn the_entity_status_reports_the_declared_mcts_and_mds() {
    let status = |hex_text: &str| {
        let bytes = hex::decode(hex_text.replace(' ', "")).unwrap();
        let mut judge = Judge::new(Collect::default(), &[]).with_entity(declared_entity());
        judge.event(CaptureEvent::Doip {
            at: At { packet: 1, time: Duration::ZERO },
            carrier: CarriedBy::Udp {
                src: "127.0.0.1:13400".parse().unwrap(),
                dst: "127.0.0.1:50000".parse().unwrap(),
            },
            from: Side::Entity,
            bytes: &bytes,
            message: Message::parse(&bytes),
        });
        let found: Vec<_> = judge.into_report().0.into_iter().map(|f| f.message).collect();
        found
    };
    // Node type 0x00 (gateway), MCTS 4, NCTS 1, MDS 4096.
    assert_eq!(status("02fd 4002 00000007 00 04 01 00001000"), Vec::<String>::new());
    assert_eq!(
        status("02fd 4002 00000007 00 05 01 00001000"),
        ["the entity status response reports MCTS 5 where the entity declares 4"]
    );
    assert_eq!(
        status("02fd 4002 00000003 00 04 01"),
        ["the entity status response reports no MDS where the entity declares 4096"]
    );
}
