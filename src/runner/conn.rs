//! A case's TCP or TLS connection: the tester connection ([`crate::transport::doip::tester`]),
//! which owns the socket, the bounded deframing reads and the connection's fate, seen as the
//! steps need it: times on the run's clock, a queue of frames read while another step waited,
//! and what went wrong as a [`Failure`] that says who is to blame.
//!
//! Only a connection nobody accepts is the target's absence (`Unreachable`). Whatever the entity
//! does after accepting (a reset, a close, silence, bytes that do not decode) is its behaviour:
//! the step that needed the connection fails saying what the entity did.

use super::arrived::ReceivedFrame;
use super::failure::{Failure, broke, error, fail};
use super::record::Recorder;
use crate::runner::event::{Decoded, RunTime};
use crate::transport::doip::tester::{self, Read, Refused, TesterConnection};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What a bounded read found.
#[derive(Debug)]
pub enum ReadOutcome {
    Frame(ReceivedFrame),
    /// The target closed the connection (end of stream); nothing buffered is left.
    Closed {
        at: RunTime,
    },
    /// Reset, or the connection broke another way; `error` says what the entity did.
    Reset {
        at: RunTime,
        error: String,
    },
    /// The deadline passed.
    Timeout,
}

/// One TCP or TLS connection of a case.
pub struct Connection {
    tester: TesterConnection,
    /// Messages read while another step waited (a `wait`, handlers), for later expects.
    pub queue: VecDeque<ReceivedFrame>,
}

/// Opens a connection within `timeout`; TLS when `tls` is given. `Err` only when nobody
/// accepted it.
pub async fn connect(
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    rec: &mut Recorder,
) -> Result<Connection, tester::NotThere> {
    let tester = tester::connect(addr, tls, timeout, rec).await?;
    Ok(Connection { tester, queue: VecDeque::new() })
}

impl Connection {
    /// A connection over an in-process pipe (unit tests of the steps).
    #[cfg(test)]
    pub fn in_memory(stream: tokio::io::DuplexStream, rec: &mut Recorder) -> Connection {
        Connection { tester: TesterConnection::in_memory(stream, rec), queue: VecDeque::new() }
    }

    pub fn is_open(&self) -> bool {
        self.tester.is_open()
    }

    /// Writes `bytes` and records them; returns when they were handed to the kernel. A write
    /// the entity refuses (reset, closed, not read for [`tester::WRITE_TIMEOUT`]) is the
    /// entity's doing: `fail`.
    pub async fn send(
        &mut self,
        bytes: Vec<u8>,
        decoded: Decoded,
        rec: &mut Recorder,
    ) -> Result<RunTime, Failure> {
        match self.tester.write(&bytes, decoded, rec).await {
            Ok(at) => Ok(rec.clock.at(at)),
            Err(refused) => Err(self.refused(refused)),
        }
    }

    /// The next frame, or what ended the wait, no later than `deadline`: queued frames first,
    /// then the tester connection's read.
    pub async fn read(
        &mut self,
        deadline: tokio::time::Instant,
        rec: &mut Recorder,
    ) -> Result<ReadOutcome, Failure> {
        if let Some(r) = self.queue.pop_front() {
            return Ok(ReadOutcome::Frame(r));
        }
        let read = self.tester.read(deadline, rec).await.map_err(|r| self.refused(r))?;
        let clock = rec.clock;
        Ok(match read {
            Read::Frame(r) => ReadOutcome::Frame(ReceivedFrame {
                at: clock.at(r.at),
                bytes: r.bytes,
                message: r.message,
            }),
            Read::Closed { at } => ReadOutcome::Closed { at: clock.at(at) },
            Read::Reset { at, error } => ReadOutcome::Reset { at: clock.at(at), error },
            Read::Silent => ReadOutcome::Timeout,
        })
    }

    /// Who is to blame for a refused read or write.
    fn refused(&self, refused: Refused) -> Failure {
        match refused {
            Refused::ClosedByUs => error("the connection was closed by a `disconnect` step"),
            Refused::Recording(why) => fail(why),
            Refused::Entity(why) => broke(format!("sending to {}: {why}", self.tester.link().peer)),
        }
    }

    /// Closes our side (FIN) and records it.
    pub async fn close(&mut self, rec: &mut Recorder) {
        self.tester.close(rec).await;
    }

    /// Resets the connection (the kernel sends RST instead of FIN) and records it as closed
    /// by us.
    pub fn abort(&mut self, rec: &mut Recorder) -> Result<(), String> {
        self.tester.abort(rec)
    }

    /// The case is over with the connection open. When the entity owes it a close (a NACK
    /// that closes the socket, [`Recorder::close_owed`]), wait up to twice
    /// [`crate::judge::CLOSE_GRACE`] from that NACK for the entity's close, reading (and so
    /// recording) what comes, then close our side: the judge sees either the entity's close or
    /// ours late after the NACK, so `run` judges the socket's fate even when the case's steps
    /// do not. Bounded; nothing waits when nothing is owed.
    pub async fn await_owed_close(&mut self, rec: &mut Recorder) {
        if !self.is_open() {
            return;
        }
        let link = *self.tester.link();
        let Some(nack) = rec.close_owed(link.local, link.peer) else { return };
        let deadline = rec.clock.instant(RunTime(nack.0 + crate::judge::CLOSE_GRACE * 2));
        loop {
            match self.read(deadline, rec).await {
                Ok(ReadOutcome::Frame(_)) => continue,
                Ok(ReadOutcome::Timeout) => break,
                Ok(ReadOutcome::Closed { .. } | ReadOutcome::Reset { .. }) | Err(_) => return,
            }
        }
        self.close(rec).await;
    }

    /// The case ended with the connection open: record what was buffered and drop it.
    pub fn abandon(&mut self, rec: &mut Recorder) {
        self.tester.abandon(rec);
    }
}
