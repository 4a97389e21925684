//! The session's waits on tokio's paused clock, through an in-memory connection: the entity's
//! side writes at exact virtual times, nothing sleeps for real.

use super::session::{RequestOutcome, Session, SessionSettings};
use crate::codec::doip::{
    ActivationType, DiagnosticAckCode, DiagnosticMessage, DiagnosticMessageAck, Message, Payload,
    ProtocolVersion,
};
use crate::transport::doip::tester::{NoRecord, TesterConnection};
use std::borrow::Cow;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

const TESTER: u16 = 0x0E80;
const ENTITY: u16 = 0x0010;
const P2: Duration = Duration::from_millis(50);
const P2_STAR: Duration = Duration::from_secs(5);
const TOLERANCE: Duration = Duration::from_millis(50);
const MS: Duration = Duration::from_millis(1);

fn settings() -> SessionSettings {
    SessionSettings {
        protocol_version: ProtocolVersion::Iso2012,
        tester_address: TESTER,
        target_address: Some(ENTITY),
        activation_type: ActivationType::Default,
        connect_timeout: Duration::from_secs(2),
        activation_timeout: Duration::from_secs(2),
        ack_timeout: Duration::from_millis(50),
        p2: P2,
        p2_star: P2_STAR,
        tolerance: TOLERANCE,
    }
}

fn session() -> (Session, DuplexStream) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let conn = TesterConnection::in_memory(ours, &mut NoRecord);
    (Session::activated_over(conn, settings()), theirs)
}

fn wire(payload: Payload<'static>) -> Vec<u8> {
    Message::new(ProtocolVersion::Iso2012, payload).to_bytes()
}

fn ack() -> Vec<u8> {
    wire(Payload::DiagnosticMessageAck(DiagnosticMessageAck {
        source_address: ENTITY,
        target_address: TESTER,
        ack_code: DiagnosticAckCode::Acknowledged,
        previous_diagnostic_message: Cow::Borrowed(&[]),
    }))
}

fn answer(uds: &[u8]) -> Vec<u8> {
    wire(Payload::DiagnosticMessage(DiagnosticMessage::new(ENTITY, TESTER, uds.to_vec())))
}

/// The entity: reads the request, then writes each `(delay since the previous, bytes)`.
async fn entity(mut stream: DuplexStream, script: Vec<(Duration, Vec<u8>)>) -> DuplexStream {
    let mut request = [0u8; 64];
    let _ = stream.read(&mut request).await.unwrap();
    for (delay, bytes) in script {
        tokio::time::sleep(delay).await;
        stream.write_all(&bytes).await.unwrap();
    }
    stream
}

#[tokio::test(start_paused = true)]
async fn an_answer_just_inside_p2_is_taken_and_just_outside_is_none() {
    let (mut s, theirs) = session();
    let script = vec![(Duration::ZERO, ack()), (P2 + TOLERANCE - MS, answer(&[0x7E, 0x00]))];
    let task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x3E, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::Positive(vec![0x7E, 0x00]));
    drop(task.await.unwrap());

    let (mut s, theirs) = session();
    let script = vec![(Duration::ZERO, ack()), (P2 + TOLERANCE + MS, answer(&[0x7E, 0x00]))];
    let _task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x3E, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::NoAnswer { waited: P2 + TOLERANCE });
}

/// P2 runs from the request, as the judge's `timing.uds_p2` measures it, not from the ACK: a
/// late ACK leaves less of P2 for the answer.
#[tokio::test(start_paused = true)]
async fn p2_runs_from_the_request_not_from_the_ack() {
    let late_ack = MS * 30;
    let (mut s, theirs) = session();
    let script = vec![(late_ack, ack()), (P2 + TOLERANCE - late_ack - MS, answer(&[0x7E, 0x00]))];
    let task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x3E, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::Positive(vec![0x7E, 0x00]));
    drop(task.await.unwrap());

    let (mut s, theirs) = session();
    let script = vec![(late_ack, ack()), (P2 + TOLERANCE - late_ack + MS, answer(&[0x7E, 0x00]))];
    let _task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x3E, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::NoAnswer { waited: P2 + TOLERANCE });
}

#[tokio::test(start_paused = true)]
async fn response_pending_extends_the_wait_to_p2_star_each_time() {
    let (mut s, theirs) = session();
    let script = vec![
        (Duration::ZERO, ack()),
        (P2, answer(&[0x7F, 0x31, 0x78])),
        (P2_STAR + TOLERANCE - MS, answer(&[0x7F, 0x31, 0x78])),
        (P2_STAR + TOLERANCE - MS, answer(&[0x71, 0x01, 0xFF, 0x00])),
    ];
    let _task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x31, 0x01, 0xFF, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::Positive(vec![0x71, 0x01, 0xFF, 0x00]));
    assert_eq!(exchange.pending, 2);

    let (mut s, theirs) = session();
    let script = vec![
        (Duration::ZERO, ack()),
        (P2, answer(&[0x7F, 0x31, 0x78])),
        (P2_STAR + TOLERANCE + MS, answer(&[0x71, 0x01, 0xFF, 0x00])),
    ];
    let _task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x31, 0x01, 0xFF, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::NoAnswer { waited: P2_STAR + TOLERANCE });
    assert_eq!(exchange.pending, 1);
}

#[tokio::test(start_paused = true)]
async fn no_ack_within_a_doip_diagnostic_message_is_reported_as_such() {
    let (mut s, theirs) = session();
    let _task = tokio::spawn(entity(theirs, vec![(Duration::from_secs(1), ack())]));
    let exchange = s.request(&[0x3E, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::NoAck { waited: Duration::from_millis(100) });
}

#[tokio::test(start_paused = true)]
async fn an_alive_check_while_waiting_is_answered_and_shown() {
    let (mut s, mut theirs) = session();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let _ = theirs.read(&mut buf).await.unwrap();
        theirs.write_all(&wire(Payload::AliveCheckRequest)).await.unwrap();
        let mut alive = [0u8; 10];
        theirs.read_exact(&mut alive).await.unwrap();
        theirs.write_all(&ack()).await.unwrap();
        theirs.write_all(&answer(&[0x7E, 0x00])).await.unwrap();
        alive
    });
    let exchange = s.request(&[0x3E, 0x00]).await;
    let alive = task.await.unwrap();
    // Alive check response (0x0008) from the tester's address (ISO 13400-2:2019 Table 28).
    assert_eq!(alive, [0x02, 0xFD, 0x00, 0x08, 0, 0, 0, 2, 0x0E, 0x80]);
    assert_eq!(exchange.outcome, RequestOutcome::Positive(vec![0x7E, 0x00]));
    assert_eq!(exchange.received[0].note.as_deref(), Some("answered with an alive check response"));
}

#[tokio::test(start_paused = true)]
async fn garbage_is_kept_with_its_rule_and_the_wait_goes_on() {
    let (mut s, theirs) = session();
    let mut broken = ack();
    broken[1] = 0x02; // inverse version no longer version XOR 0xFF
    let script = vec![(Duration::ZERO, broken)];
    let _task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x3E, 0x00]).await;
    assert_eq!(exchange.outcome, RequestOutcome::NoAck { waited: Duration::from_millis(100) });
    let kept = &exchange.received[0];
    assert!(kept.message.as_ref().unwrap_err().contains("inverse"), "{kept:?}");
    assert_eq!(kept.bytes[..4], [0x02, 0x02, 0x80, 0x02]);
}

#[tokio::test(start_paused = true)]
async fn response_pending_forever_ends_after_max_pending() {
    use crate::proto::uds_wait::MAX_PENDING;
    let (mut s, theirs) = session();
    let mut script = vec![(Duration::ZERO, ack())];
    script.extend((0..MAX_PENDING + 5).map(|_| (P2, answer(&[0x7F, 0x31, 0x78]))));
    let _task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x31, 0x01, 0xFF, 0x00]).await;
    assert_eq!(exchange.pending, MAX_PENDING + 1);
    assert!(
        matches!(&exchange.outcome, RequestOutcome::Ended(why) if why.contains("more than 32 times")),
        "{:?}",
        exchange.outcome
    );
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_other_messages_ends_the_request_at_its_budget() {
    use super::session::MAX_MESSAGES_PER_REQUEST;
    let (mut s, theirs) = session();
    let stray =
        wire(Payload::DiagnosticMessage(DiagnosticMessage::new(0x0BAD, TESTER, vec![0x7E, 0x00])));
    let mut script = vec![(Duration::ZERO, ack())];
    script.extend((0..MAX_MESSAGES_PER_REQUEST + 10).map(|_| (Duration::ZERO, stray.clone())));
    let _task = tokio::spawn(entity(theirs, script));
    let exchange = s.request(&[0x3E, 0x00]).await;
    assert_eq!(exchange.received.len() as u32, MAX_MESSAGES_PER_REQUEST);
    assert!(
        matches!(&exchange.outcome, RequestOutcome::Ended(why) if why.contains("more than 1000 messages"))
    );
}
