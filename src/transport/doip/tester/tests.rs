//! The fates of a tester connection against loopback listeners that reset, close, stay
//! silent or lie about a length: real sockets, because the kernel's RST and FIN are the point.

use super::*;
use std::net::Ipv4Addr;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// What the listener does with each connection it accepts.
#[derive(Clone)]
enum Peer {
    /// SO_LINGER 0 and close at once: RST.
    ResetAtAccept,
    /// Close at once: FIN.
    CloseAtAccept,
    /// Keeps the connection open and sends nothing.
    Silent,
    /// A diagnostic message header declaring 4 GiB - 1 bytes of payload, then silence.
    HugeLength,
    /// An alive check request, then reads what comes back into the channel.
    AliveCheck(tokio::sync::mpsc::UnboundedSender<Vec<u8>>),
}

const WAIT: Duration = Duration::from_secs(2);

async fn listen(peer: Peer) -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let peer = peer.clone();
            tokio::spawn(async move {
                match peer {
                    Peer::ResetAtAccept => {
                        let _ = s.set_zero_linger();
                    }
                    Peer::CloseAtAccept => {}
                    Peer::Silent => tokio::time::sleep(WAIT * 2).await,
                    Peer::HugeLength => {
                        let header = [0x02, 0xFD, 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0E];
                        let _ = s.write_all(&header).await;
                        tokio::time::sleep(WAIT * 2).await;
                    }
                    Peer::AliveCheck(tx) => {
                        let _ = s.write_all(&[0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0]).await;
                        let mut answer = [0u8; 10];
                        if s.read_exact(&mut answer).await.is_ok() {
                            let _ = tx.send(answer.to_vec());
                        }
                        tokio::time::sleep(WAIT * 2).await;
                    }
                }
            });
        }
    });
    addr
}

/// Records what the connection reports, to check that every change and frame is seen.
#[derive(Default)]
struct Log {
    changes: Vec<Change>,
    frames: Vec<(bool, Vec<u8>)>,
}

impl Recording for Log {
    type Sent = ();
    fn describe(_: &Message<'_>) {}
    fn changed(&mut self, _: &Link, _: Instant, change: Change) {
        self.changes.push(change);
    }
    fn sent(&mut self, _: &Link, _: Instant, bytes: &[u8], _: ()) -> Result<(), String> {
        self.frames.push((true, bytes.to_vec()));
        Ok(())
    }
    fn received(
        &mut self,
        _: &Link,
        _: Instant,
        bytes: &[u8],
        _: &Result<Message<'static>, String>,
    ) -> Result<(), String> {
        self.frames.push((false, bytes.to_vec()));
        Ok(())
    }
}

async fn read(c: &mut TesterConnection, rec: &mut Log) -> Read {
    c.read(Instant::now() + WAIT, rec).await.expect("readable")
}

#[tokio::test(flavor = "current_thread")]
async fn a_reset_after_accept_is_the_connections_fate_not_an_unreachable_target() {
    let addr = listen(Peer::ResetAtAccept).await;
    let mut rec = Log::default();
    let mut c = connect(addr, None, WAIT, &mut rec).await.expect("the entity accepted");
    match read(&mut c, &mut rec).await {
        Read::Reset { error, .. } => assert!(error.contains("reset the connection"), "{error}"),
        other => panic!("expected a reset, got {other:?}"),
    }
    assert!(matches!(c.fate(), Fate::Reset { .. }));
    assert_eq!(rec.changes, [Change::Opened, Change::Reset]);
    // A write after it says what the entity did, and is the entity's doing.
    match c.write(&[0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0], (), &mut rec).await {
        Err(Refused::Entity(why)) => assert!(why.contains("entity"), "{why}"),
        Ok(_) => {} // the kernel may take the bytes before it learnt of the RST
        Err(other) => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_close_after_accept_is_read_as_closed_by_the_entity() {
    let addr = listen(Peer::CloseAtAccept).await;
    let mut rec = Log::default();
    let mut c = connect(addr, None, WAIT, &mut rec).await.expect("the entity accepted");
    assert!(matches!(read(&mut c, &mut rec).await, Read::Closed { .. }));
    assert!(matches!(c.fate(), Fate::ClosedByEntity { .. }));
    // The fate stays: a second read says it again at once.
    assert!(matches!(read(&mut c, &mut rec).await, Read::Closed { .. }));
    assert_eq!(rec.changes, [Change::Opened, Change::ClosedByEntity]);
}

#[tokio::test(flavor = "current_thread")]
async fn silence_ends_the_read_at_its_deadline_and_leaves_the_connection_open() {
    let addr = listen(Peer::Silent).await;
    let mut rec = Log::default();
    let mut c = connect(addr, None, WAIT, &mut rec).await.expect("the entity accepted");
    let started = std::time::Instant::now();
    let outcome = c.read(Instant::now() + Duration::from_millis(100), &mut rec).await;
    assert!(matches!(outcome, Ok(Read::Silent)), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(matches!(c.read_ready(&mut rec).await, Ok(Read::Silent)));
    assert!(c.is_open());
    c.abandon(&mut rec);
    assert_eq!(rec.changes, [Change::Opened, Change::Abandoned]);
    assert_eq!(c.read_ready(&mut rec).await.err(), Some(Refused::ClosedByUs));
}

#[tokio::test(flavor = "current_thread")]
async fn a_huge_declared_length_is_handed_over_at_once_without_waiting_for_its_body() {
    let addr = listen(Peer::HugeLength).await;
    let mut rec = Log::default();
    let mut c = connect(addr, None, WAIT, &mut rec).await.expect("the entity accepted");
    let started = std::time::Instant::now();
    let Read::Frame(r) = read(&mut c, &mut rec).await else { panic!("expected the header") };
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(r.bytes.len(), 9);
    let why = r.message.expect_err("a 4 GiB payload is rejected, not allocated");
    assert!(why.to_lowercase().contains("length"), "{why}");
    assert_eq!(rec.frames, [(false, r.bytes.clone())]);
}

#[tokio::test(flavor = "current_thread")]
async fn nobody_listening_is_not_there() {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let mut rec = Log::default();
    let NotThere(why) = connect(addr, None, WAIT, &mut rec).await.err().expect("refused");
    assert!(why.starts_with(&format!("cannot connect to {addr}")), "{why}");
    assert!(rec.changes.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn alive_checks_are_answered_with_the_tester_address_when_asked() {
    let (tx, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let addr = listen(Peer::AliveCheck(tx)).await;
    let mut rec = Log::default();
    let mut c = connect(addr, None, WAIT, &mut rec).await.expect("the entity accepted");
    c.answer_alive_checks(Some(0x0E80));
    let Read::Frame(r) = read(&mut c, &mut rec).await else { panic!("expected the request") };
    assert_eq!(r.answer, Some(Ok(())));
    let answer = answers.recv().await.expect("the entity read the answer");
    assert_eq!(answer, [0x02, 0xFD, 0x00, 0x08, 0, 0, 0, 2, 0x0E, 0x80]);
    assert_eq!(rec.frames.len(), 2, "the request and the answer are both recorded");
}

#[tokio::test(flavor = "current_thread")]
async fn a_tls_handshake_the_entity_resets_is_its_fate() {
    let addr = listen(Peer::ResetAtAccept).await;
    let mut rec = Log::default();
    let config = tls::client_config(None).expect("TLS configuration");
    let mut c = connect(addr, Some(config), WAIT, &mut rec).await.expect("the entity accepted");
    match read(&mut c, &mut rec).await {
        Read::Reset { error, .. } => assert!(error.contains("entity"), "{error}"),
        Read::Closed { .. } => {}
        other => panic!("expected the handshake's end, got {other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_tls_handshake_the_entity_leaves_unanswered_ends_at_the_connect_bound() {
    let addr = listen(Peer::Silent).await;
    let mut rec = Log::default();
    let config = tls::client_config(None).expect("TLS configuration");
    let bound = Duration::from_millis(200);
    let started = std::time::Instant::now();
    let mut c = connect(addr, Some(config), bound, &mut rec).await.expect("the entity accepted");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    match read(&mut c, &mut rec).await {
        Read::Reset { error, .. } => {
            assert!(error.contains("did not complete the TLS handshake within 200ms"), "{error}");
        }
        other => panic!("expected the handshake's silence, got {other:?}"),
    }
    assert_eq!(rec.changes, [Change::Opened, Change::Reset]);
}

#[tokio::test(flavor = "current_thread")]
async fn parts_written_together_arrive_whole_and_are_recorded_one_by_one() {
    let (ours, mut theirs) = tokio::io::duplex(1024);
    let mut rec = Log::default();
    let mut c = TesterConnection::in_memory(ours, &mut rec);
    let alive_check = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0];
    let status = [0x02, 0xFD, 0x40, 0x01, 0, 0, 0, 0];
    let both = [&alive_check[..], &status[..]].concat();
    c.write_parts(&both, &[8, 16], &mut rec).await.expect("written");
    let mut arrived = [0u8; 16];
    theirs.read_exact(&mut arrived).await.expect("both parts");
    assert_eq!(arrived[..], both[..]);
    assert_eq!(rec.frames, [(true, alive_check.to_vec()), (true, status.to_vec())]);
}
