//! The tester's side of DoIP over TCP and TLS: the one place a tester connects to an entity's
//! data port and reads and writes it. The runner's cases, `request`, the routing activation
//! probe and the pre-flight check of `run`, and the live fuzzer all use it
//! (docs/architecture.md#the-tester-connection).
//!
//! - **Connecting** ([`connect`]): only a connection nobody accepts is an error, [`NotThere`].
//!   After the entity accepted, what it does is its behaviour and becomes the connection's
//!   [`Fate`]; reads report it ([`Read`]), writes say it.
//! - **Bounded reads**: every read has a deadline, takes at most a chunk, and goes through the
//!   codec's deframer, which judges a header before waiting for its body and rejects a declared
//!   length above [`MAX_RECEIVED_PAYLOAD`] at once (never allocated, never waited for). After a
//!   rejected header the stream has no message boundary any more: every later byte is handed
//!   over raw, with that reason.
//! - **Alive checks**: with [`TesterConnection::answer_alive_checks`], an alive check request
//!   of the entity is answered on the way with the tester's address (ISO 13400-2:2019 §9.6) and
//!   still handed to the caller, marked [`EntityFrame::answer`].
//! - **Recording**: every frame and change goes through the [`Recording`] given to each call;
//!   [`NoRecord`] costs nothing. A recording that taps TLS ([`Recording::TAPS_TLS`]) also gets
//!   a TLS connection's bytes on the wire and its session secrets ([`tap`]).
//!
//! Never imports `suite`, `runner` or `report`.

mod connect;
mod read;
mod record;
pub mod tap;
#[cfg(test)]
mod tests;
pub mod tls;
mod words;

mod judged;
pub use connect::{NotThere, connect};
pub use judged::Judged;
pub use record::{Change, NoRecord, Recording};
pub use words::{as_text, entity_io_error};

use crate::codec::doip::{Deframer, Message};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Largest DoIP payload a tester accepts from an entity; larger declared lengths are reported
/// at once (never allocated, never waited for).
pub const MAX_RECEIVED_PAYLOAD: u32 = 1024 * 1024;
/// Bound on a single write (an entity that stops reading must not hang the tester).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
const READ_CHUNK: usize = 64 * 1024;
/// Bound on our FIN.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(200);

/// The two ends of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub tls: bool,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

/// What became of a connection the entity accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Open,
    /// The entity closed it (FIN: end of stream).
    ClosedByEntity {
        at: Instant,
    },
    /// The entity reset it, or it broke another way (a TLS handshake that failed or stayed
    /// silent): `error` says what the entity did.
    Reset {
        at: Instant,
        error: String,
    },
    /// We closed, reset or dropped it.
    ClosedByUs,
}

/// Something the entity sent.
#[derive(Debug, Clone)]
pub struct EntityFrame {
    /// When the read that completed it returned.
    pub at: Instant,
    pub bytes: Vec<u8>,
    /// The message, or why the bytes are not one.
    pub message: Result<Message<'static>, String>,
    /// An alive check request answered on the way: whether the answer went out.
    pub answer: Option<Result<(), String>>,
}

/// What a bounded read found.
#[derive(Debug)]
pub enum Read {
    Frame(EntityFrame),
    /// The entity closed the connection; nothing buffered is left.
    Closed {
        at: Instant,
    },
    /// The entity reset the connection or it broke; `error` says how.
    Reset {
        at: Instant,
        error: String,
    },
    /// Nothing (more) arrived before the deadline.
    Silent,
}

/// Why a read or write was not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// We had closed the connection.
    ClosedByUs,
    /// The recording refused the frame (the case's flood bound).
    Recording(String),
    /// The entity did not take the bytes: it reset or closed the connection, or stopped
    /// reading for [`WRITE_TIMEOUT`].
    Entity(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::ClosedByUs => f.write_str("the connection was closed by the tester"),
            Refused::Recording(why) | Refused::Entity(why) => f.write_str(why),
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tap::Tap<TcpStream>>>),
    /// No usable stream: the entity ended the connection while it was being opened.
    Gone,
    /// An in-process pipe: unit tests drive steps on tokio's paused clock through it.
    #[cfg(test)]
    Memory(tokio::io::DuplexStream),
}

/// One TCP or TLS connection of a tester to an entity.
pub struct TesterConnection {
    link: Link,
    stream: Stream,
    buf: Vec<u8>,
    deframer: Deframer,
    desynced: bool,
    /// Bytes of an incomplete message at the end of the stream, handed over before the fate.
    partial: Option<EntityFrame>,
    fate: Fate,
    last_read_at: Instant,
    /// The tester address alive check requests are answered with, if they are.
    alive_check_answer: Option<u16>,
    /// A TLS connection's wire bytes and secrets not handed to the recording yet.
    tls_tap: Option<TlsTap>,
}

/// What a tapped TLS connection keeps for its recording.
struct TlsTap {
    wire: Option<tap::SharedWireLog>,
    keys: Option<Arc<tap::SessionKeys>>,
}

impl TesterConnection {
    fn opened<R: Recording>(stream: Stream, link: Link, rec: &mut R) -> TesterConnection {
        TesterConnection::opened_at(stream, link, Instant::now(), None, rec)
    }

    /// A connection open since `at` (for TLS: since the TCP connection, before the handshake).
    fn opened_at<R: Recording>(
        stream: Stream,
        link: Link,
        at: Instant,
        tls_tap: Option<TlsTap>,
        rec: &mut R,
    ) -> TesterConnection {
        rec.changed(&link, at, Change::Opened);
        TesterConnection {
            link,
            stream,
            buf: Vec::new(),
            deframer: Deframer::new(MAX_RECEIVED_PAYLOAD),
            desynced: false,
            partial: None,
            fate: Fate::Open,
            last_read_at: at,
            alive_check_answer: None,
            tls_tap,
        }
    }

    /// Hands what the TLS tap kept (wire bytes, then new secrets) to a recording that taps TLS.
    fn hand_over_tls<R: Recording>(&mut self, rec: &mut R) {
        let Some(tap) = self.tls_tap.as_ref().filter(|_| R::TAPS_TLS) else { return };
        if let Some(wire) = &tap.wire {
            let (chunks, untapped) = tap::WireLog::take(wire);
            if !chunks.is_empty() || untapped > 0 {
                rec.tls_wire(&self.link, chunks, untapped);
            }
        }
        if let Some(keys) = &tap.keys {
            let lines = keys.take();
            if !lines.is_empty() {
                rec.tls_keys(&self.link, Instant::now(), lines);
            }
        }
    }

    /// A connection the entity accepted and broke before it could be used.
    fn ended<R: Recording>(link: Link, error: String, rec: &mut R) -> TesterConnection {
        let mut c = TesterConnection::opened(Stream::Gone, link, rec);
        let at = Instant::now();
        rec.changed(&c.link, at, Change::Reset);
        c.fate = Fate::Reset { at, error };
        c
    }

    /// A connection over an in-process pipe (unit tests).
    #[cfg(test)]
    pub fn in_memory<R: Recording>(
        stream: tokio::io::DuplexStream,
        rec: &mut R,
    ) -> TesterConnection {
        let link = Link {
            tls: false,
            local: SocketAddr::from(([127, 0, 0, 1], 40000)),
            peer: SocketAddr::from(([127, 0, 0, 1], 13400)),
        };
        TesterConnection::opened(Stream::Memory(stream), link, rec)
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    pub fn fate(&self) -> &Fate {
        &self.fate
    }

    pub fn is_open(&self) -> bool {
        self.fate == Fate::Open
    }

    /// Answer the entity's alive check requests with `tester` (`None`: hand them over only).
    pub fn answer_alive_checks(&mut self, tester: Option<u16>) {
        self.alive_check_answer = tester;
    }

    /// Writes `bytes` whole and records them; returns when they were handed to the kernel.
    pub async fn write<R: Recording>(
        &mut self,
        bytes: &[u8],
        sent: R::Sent,
        rec: &mut R,
    ) -> Result<Instant, Refused> {
        let at = self.write_unrecorded(bytes, rec).await?;
        rec.sent(&self.link, at, bytes, sent).map_err(Refused::Recording)?;
        Ok(at)
    }

    /// Writes `bytes` whole in one call and records them as the messages they hold, each ending
    /// at one of `ends` (ascending, the last `bytes.len()`), all at the time the call returned:
    /// what needs no answer in between (a fuzz case and its barrier) costs one system call, and
    /// the recording still sees every message on its own.
    pub async fn write_parts<R: Recording<Sent = ()>>(
        &mut self,
        bytes: &[u8],
        ends: &[usize],
        rec: &mut R,
    ) -> Result<Instant, Refused> {
        let at = self.write_unrecorded(bytes, rec).await?;
        let mut start = 0;
        for &end in ends {
            let part = &bytes[start.min(end)..end.min(bytes.len())];
            rec.sent(&self.link, at, part, ()).map_err(Refused::Recording)?;
            start = end;
        }
        Ok(at)
    }

    /// Writes `bytes` whole (bounded by [`WRITE_TIMEOUT`]); the caller records them.
    async fn write_unrecorded<R: Recording>(
        &mut self,
        bytes: &[u8],
        rec: &mut R,
    ) -> Result<Instant, Refused> {
        match (&self.fate, &self.stream) {
            (Fate::ClosedByUs, _) => return Err(Refused::ClosedByUs),
            (Fate::Reset { error, .. }, Stream::Gone) => {
                return Err(Refused::Entity(error.clone()));
            }
            (_, Stream::Gone) => {
                return Err(Refused::Entity("the entity had closed the connection".into()));
            }
            _ => {}
        }
        let write = async {
            match &mut self.stream {
                Stream::Tcp(s) => write_all(s, bytes).await,
                Stream::Tls(s) => write_all(s.as_mut(), bytes).await,
                #[cfg(test)]
                Stream::Memory(s) => write_all(s, bytes).await,
                Stream::Gone => Ok(()),
            }
        };
        let result = timeout(WRITE_TIMEOUT, write).await;
        let at = Instant::now();
        self.hand_over_tls(rec);
        match result {
            Ok(Ok(())) => Ok(at),
            Ok(Err(e)) => Err(Refused::Entity(entity_io_error(&e))),
            Err(_) => Err(Refused::Entity(format!(
                "the entity did not read for {}",
                crate::notation::format_duration(WRITE_TIMEOUT)
            ))),
        }
    }

    /// Our FIN: we send nothing more; what the entity sends is still read.
    pub async fn finish_sending(&mut self) -> Result<(), String> {
        let shutdown = async {
            match &mut self.stream {
                Stream::Tcp(s) => s.shutdown().await,
                Stream::Tls(s) => s.shutdown().await,
                #[cfg(test)]
                Stream::Memory(s) => s.shutdown().await,
                Stream::Gone => Ok(()),
            }
        };
        match timeout(SHUTDOWN_TIMEOUT, shutdown).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(entity_io_error(&e)),
            Err(_) => Err("our FIN could not be sent in time".into()),
        }
    }

    /// Closes our side (FIN) and records it; nothing is read after.
    pub async fn close<R: Recording>(&mut self, rec: &mut R) {
        if self.fate == Fate::ClosedByUs {
            return;
        }
        let was_open = self.is_open();
        // After the entity's FIN or reset, dropping the socket says all there is to say (a
        // FIN where one is still due); a shutdown first would only cost a system call.
        if was_open {
            let _ = self.finish_sending().await;
        }
        // TLS: the close_notify alert went out before our FIN.
        self.hand_over_tls(rec);
        self.fate = Fate::ClosedByUs;
        if was_open {
            rec.changed(&self.link, Instant::now(), Change::ClosedByUs);
        }
    }

    /// Resets the connection (SO_LINGER 0: dropping it sends RST instead of FIN) and records
    /// it.
    pub fn abort<R: Recording>(&mut self, rec: &mut R) -> Result<(), String> {
        let tcp = match &self.stream {
            Stream::Tcp(s) => Some(s),
            Stream::Tls(s) => Some(s.get_ref().0.get_ref()),
            _ => None,
        };
        if let Some(tcp) = tcp {
            tcp.set_zero_linger().map_err(|e| format!("cannot reset the connection: {e}"))?;
        }
        if self.is_open() {
            rec.changed(&self.link, Instant::now(), Change::Reset);
        }
        self.fate = Fate::ClosedByUs;
        Ok(())
    }

    /// The caller is done with the connection: what was buffered is recorded as an
    /// incomplete message, and an open connection as abandoned.
    pub fn abandon<R: Recording>(&mut self, rec: &mut R) {
        self.hand_over_tls(rec);
        let at = Instant::now();
        if !self.buf.is_empty() && self.fate != Fate::ClosedByUs {
            let bytes = std::mem::take(&mut self.buf);
            let error =
                format!("{} bytes of an incomplete message when the case ended", bytes.len());
            let _ = rec.received(&self.link, at, &bytes, &Err(error));
        }
        if self.is_open() {
            rec.changed(&self.link, at, Change::Abandoned);
        }
        self.fate = Fate::ClosedByUs;
    }
}

async fn write_all<S: AsyncWrite + AsyncRead + Unpin + ?Sized>(
    s: &mut S,
    bytes: &[u8],
) -> std::io::Result<()> {
    s.write_all(bytes).await?;
    s.flush().await
}
