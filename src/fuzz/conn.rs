//! The fuzzer's view of a tester connection ([`crate::transport::doip::tester`]): the entity's
//! alive check requests answered (ISO 13400-2:2019 §9.6), reads that end at a barrier, a
//! close, a deadline or a flood bound, and every message both ways and every change of the
//! connection fed to the judge ([`crate::judge::live::LiveFeed`], one per connection): the
//! fuzzer's reply checks are the judge's rules (docs/rules.md).

use crate::codec::doip::{PayloadType, payload_type_of};
use crate::judge::Finding;
pub use crate::transport::doip::tester::Judged;
use crate::transport::doip::tester::{self, Read, TesterConnection};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// More replies than this to one case is a flood.
pub const MAX_REPLIES_PER_CASE: usize = 1000;

/// A TCP or TLS connection of the fuzzer.
pub struct FuzzConnection {
    tester: TesterConnection,
    judged: Judged,
    /// Messages queued by [`FuzzConnection::queue`] for the next write, and where each ends
    /// (kept between cases: a kept connection allocates nothing per case).
    pending: Vec<u8>,
    pending_ends: Vec<usize>,
    /// UDS session last entered (for the extended-session state).
    pub extended: bool,
    /// Whether it is a TLS connection (to the TLS data port).
    pub tls: bool,
}

/// How a read ended.
pub enum ReadEnd {
    /// The expected number of barrier answers arrived.
    Barrier,
    /// The entity closed (EOF or reset), or sent bytes that end the stream's framing.
    Closed,
    /// Nothing (more) within the bound.
    Silent,
    /// Too many replies.
    Flood,
}

impl FuzzConnection {
    /// A connection to `addr`, TLS with `tls`'s client configuration (the tester's own,
    /// [`crate::transport::doip::tester::tls::client_config`]: the handshake is done as
    /// `run` does it and not fuzzed). `Err` only when nobody accepted the connection; an
    /// entity that accepts and then resets or closes it (or fails the handshake) is seen by
    /// the reads.
    pub async fn open(
        addr: SocketAddr,
        tls: Option<&Arc<rustls::ClientConfig>>,
        bound: Duration,
    ) -> Result<FuzzConnection, String> {
        let mut judged = Judged::new();
        let tester = tester::connect(addr, tls.cloned(), bound, &mut judged)
            .await
            .map_err(|tester::NotThere(why)| why)?;
        Ok(FuzzConnection {
            tester,
            judged,
            pending: Vec::new(),
            pending_ends: Vec::new(),
            extended: false,
            tls: tls.is_some(),
        })
    }

    /// What the judge found on this connection since the last call (the connection goes on).
    pub fn take_findings(&mut self) -> Vec<Finding> {
        self.judged.feed.take_findings()
    }

    /// Closes our side (the judge sees who closed when: the socket's fate after a NACK is a
    /// rule) and returns what the judge found since [`FuzzConnection::take_findings`].
    pub async fn close(mut self) -> Vec<Finding> {
        let _ = self.flush().await;
        self.tester.close(&mut self.judged).await;
        self.judged.feed.take_findings()
    }

    /// Hands over the whole messages that have already arrived, without waiting.
    pub async fn take_ready(&mut self, mut each: impl FnMut(&[u8])) {
        for _ in 0..=MAX_REPLIES_PER_CASE {
            match self.tester.read_ready(&mut self.judged).await {
                Ok(Read::Frame(r)) => {
                    each(&r.bytes);
                    if r.message.is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.flush().await?;
        self.tester.write(bytes, (), &mut self.judged).await.map(|_| ()).map_err(|r| r.to_string())
    }

    /// Queues `bytes` to go out with what follows in one write ([`FuzzConnection::flush`]):
    /// a case's messages and its barrier need no answer in between, and the judge still sees
    /// each as sent.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        self.pending_ends.push(self.pending.len());
    }

    /// Writes what [`FuzzConnection::queue`] holds, in one write.
    pub async fn flush(&mut self) -> Result<(), String> {
        if self.pending_ends.is_empty() {
            return Ok(());
        }
        let written =
            self.tester.write_parts(&self.pending, &self.pending_ends, &mut self.judged).await;
        self.pending.clear();
        self.pending_ends.clear();
        written.map(|_| ()).map_err(|r| r.to_string())
    }

    /// Our FIN (after what is queued); replies are still read.
    pub async fn finish_sending(&mut self) -> Result<(), String> {
        self.flush().await?;
        self.tester.finish_sending().await
    }

    /// Reads replies until `want` messages satisfy `is_barrier`, the entity closes, `bound`
    /// passes, or the flood bound; every whole message goes to `each`, and so do bytes that
    /// do not decode, which end the read (the stream has no message boundary any more).
    pub async fn read_until(
        &mut self,
        want: usize,
        bound: Duration,
        tester: u16,
        mut is_barrier: impl FnMut(&[u8]) -> bool,
        mut each: impl FnMut(&[u8]),
    ) -> ReadEnd {
        let deadline = Instant::now() + bound;
        // Keep the socket: answer the entity's alive checks (§9.6).
        self.tester.answer_alive_checks(Some(tester));
        let (mut seen, mut count) = (0, 0);
        loop {
            match self.tester.read(deadline, &mut self.judged).await {
                Ok(Read::Frame(r)) => {
                    each(&r.bytes);
                    if r.message.is_err() {
                        return ReadEnd::Closed;
                    }
                    count += 1;
                    if is_barrier(&r.bytes) {
                        seen += 1;
                        if seen >= want {
                            return ReadEnd::Barrier;
                        }
                    }
                    if count > MAX_REPLIES_PER_CASE {
                        return ReadEnd::Flood;
                    }
                }
                Ok(Read::Silent) => return ReadEnd::Silent,
                Ok(Read::Closed { .. } | Read::Reset { .. }) | Err(_) => return ReadEnd::Closed,
            }
        }
    }
}

pub fn is_alive_response(bytes: &[u8]) -> bool {
    payload_type_of(bytes) == Some(PayloadType::AliveCheckResponse)
}

pub fn is_activation_response(bytes: &[u8]) -> bool {
    payload_type_of(bytes) == Some(PayloadType::RoutingActivationResponse)
}

pub fn is_diag_response(bytes: &[u8]) -> bool {
    payload_type_of(bytes) == Some(PayloadType::DiagnosticMessage)
}

/// Writes `bytes` in the pieces `chunks` gives (the rest last), pausing between them.
pub async fn drip(conn: &mut FuzzConnection, bytes: &[u8], chunks: &[usize]) -> Result<(), String> {
    let mut at = 0;
    for &size in chunks {
        let end = (at + size).min(bytes.len());
        if end > at {
            conn.write(&bytes[at..end]).await?;
            pause(DRIP_PAUSE).await;
        }
        at = end;
    }
    if at < bytes.len() {
        conn.write(&bytes[at..]).await?;
    }
    Ok(())
}

/// The pause between dripped pieces: long enough for the entity's read to return the piece
/// alone on loopback, short enough not to slow the loop (the timer wheel's resolution is a
/// millisecond, so the pause yields instead of sleeping). The repro uses
/// [`super::model::repro::DRIP_PAUSE_MS`], which is longer and holds on any link.
const DRIP_PAUSE: Duration = Duration::from_micros(100);

async fn pause(length: Duration) {
    let until = std::time::Instant::now() + length;
    while std::time::Instant::now() < until {
        tokio::task::yield_now().await;
    }
}
