//! TCP and TLS connections to the target's data port, as a case sees them: whole DoIP
//! messages out of any chunking (the codec's deframer), every byte recorded as a frame event
//! with the time of the read that completed it, and every wait bounded by a deadline.
//!
//! A header the deframer rejects (garbage, a 4 GiB length) is not waited on: its bytes become
//! one frame with the decode error, and the stream is treated as desynchronised from then on
//! (every later read is reported as raw bytes), because nothing marks where a next message
//! would start.

use super::failure::{Failure, error, fail};
use super::record::{Recorder, decoded_message};
use crate::codec::doip::{Deframed, Deframer, Message};
use crate::runner::event::{
    Address, ConnectionChange, Decoded, Direction, FrameTransport, RunTime,
};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

/// Largest DoIP payload the harness accepts from a target; larger declared lengths are
/// reported at once (never allocated, never waited for).
pub const MAX_RECEIVED_PAYLOAD: u32 = 1024 * 1024;
/// Bound on a single write (a target that stops reading must not hang a case).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
const READ_CHUNK: usize = 64 * 1024;

/// Something that arrived.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// When the read that completed it returned.
    pub at: RunTime,
    pub bytes: Vec<u8>,
    /// The message, or why the bytes are not one.
    pub message: Result<Message<'static>, String>,
}

/// What a bounded read found.
#[derive(Debug)]
pub enum ReadOutcome {
    Frame(Incoming),
    /// The target closed the connection (end of stream); nothing buffered is left.
    Closed {
        at: RunTime,
    },
    /// Reset or another I/O error.
    Reset {
        at: RunTime,
        error: String,
    },
    /// The deadline passed.
    Timeout,
}

enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    /// An in-process pipe: unit tests drive steps on tokio's paused clock through it.
    #[cfg(test)]
    Memory(tokio::io::DuplexStream),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    ClosedByPeer(RunTime),
    Failed(RunTime),
    ClosedByUs,
}

/// One TCP or TLS connection of a case.
pub struct Connection {
    pub transport: FrameTransport,
    pub local: SocketAddr,
    pub peer: SocketAddr,
    stream: Stream,
    buf: Vec<u8>,
    /// Where reads land (on the heap: futures holding it stay small).
    chunk: Vec<u8>,
    deframer: Deframer,
    desynced: bool,
    /// Messages read while another step waited (a `wait`, handlers), for later expects.
    pub queue: VecDeque<Incoming>,
    state: State,
    reset_error: String,
    last_read_at: RunTime,
}

/// Opens a connection within `timeout`; TLS when `tls` is given.
pub async fn connect(
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    rec: &Recorder,
) -> Result<Connection, String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let tcp = match timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("cannot connect to {addr}: {e}")),
        Err(_) => return Err(format!("cannot connect to {addr}: no answer within {timeout:?}")),
    };
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().map_err(|e| format!("local address: {e}"))?;
    let (stream, transport) = match tls {
        None => (Stream::Tcp(tcp), FrameTransport::Tcp),
        Some(config) => {
            let connector = tokio_rustls::TlsConnector::from(config);
            let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
            match timeout_at(deadline, connector.connect(name, tcp)).await {
                Ok(Ok(s)) => (Stream::Tls(Box::new(s)), FrameTransport::Tls),
                Ok(Err(e)) => return Err(format!("TLS handshake with {addr} failed: {e}")),
                Err(_) => {
                    return Err(format!("TLS handshake with {addr}: no answer within {timeout:?}"));
                }
            }
        }
    };
    Ok(Connection::opened(stream, transport, local, addr, rec))
}

impl Connection {
    fn opened(
        stream: Stream,
        transport: FrameTransport,
        local: SocketAddr,
        peer: SocketAddr,
        rec: &Recorder,
    ) -> Connection {
        let at = rec.now();
        rec.connection(
            at,
            transport,
            Address::Socket(local),
            Address::Socket(peer),
            ConnectionChange::Opened,
        );
        Connection {
            transport,
            local,
            peer,
            stream,
            buf: Vec::new(),
            chunk: vec![0; READ_CHUNK],
            deframer: Deframer::new(MAX_RECEIVED_PAYLOAD),
            desynced: false,
            queue: VecDeque::new(),
            state: State::Open,
            reset_error: String::new(),
            last_read_at: at,
        }
    }

    /// A connection over an in-process pipe (unit tests of the steps).
    #[cfg(test)]
    pub fn in_memory(stream: tokio::io::DuplexStream, rec: &Recorder) -> Connection {
        let local = SocketAddr::from(([127, 0, 0, 1], 40000));
        let peer = SocketAddr::from(([127, 0, 0, 1], 13400));
        Connection::opened(Stream::Memory(stream), FrameTransport::Tcp, local, peer, rec)
    }
}

impl Connection {
    fn endpoints(&self) -> (Address, Address) {
        (Address::Socket(self.local), Address::Socket(self.peer))
    }

    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Writes `bytes` and records them; returns when they were handed to the kernel. A write
    /// the entity refuses (reset, closed, not read for [`WRITE_TIMEOUT`]) is the entity's doing:
    /// `fail`.
    pub async fn send(
        &mut self,
        bytes: Vec<u8>,
        decoded: Decoded,
        rec: &mut Recorder,
    ) -> Result<RunTime, Failure> {
        if self.state == State::ClosedByUs {
            return Err(error("the connection was closed by a `disconnect` step"));
        }
        let write = async {
            match &mut self.stream {
                Stream::Tcp(s) => write_all(s, &bytes).await,
                Stream::Tls(s) => write_all(s.as_mut(), &bytes).await,
                #[cfg(test)]
                Stream::Memory(s) => write_all(s, &bytes).await,
            }
        };
        let result = tokio::time::timeout(WRITE_TIMEOUT, write).await;
        let at = rec.now();
        let (local, peer) = self.endpoints();
        match result {
            Ok(Ok(())) => {
                rec.frame(at, Direction::Sent, self.transport, local, peer, bytes, decoded)
                    .map_err(fail)?;
                Ok(at)
            }
            Ok(Err(e)) => Err(fail(format!("sending to {}: {}", self.peer, target_io_error(&e)))),
            Err(_) => Err(fail(format!(
                "sending to {}: the entity did not read for {WRITE_TIMEOUT:?}",
                self.peer
            ))),
        }
    }

    /// The next frame, or what ended the wait, no later than `deadline`. Queued frames first,
    /// then whole frames already buffered, then the connection's fate, then one bounded read:
    /// the order is the contract, so it stays in one function.
    pub async fn read(
        &mut self,
        deadline: tokio::time::Instant,
        rec: &mut Recorder,
    ) -> Result<ReadOutcome, Failure> {
        loop {
            if let Some(r) = self.queue.pop_front() {
                return Ok(ReadOutcome::Frame(r));
            }
            if let Some(r) = self.take_frame(rec).map_err(fail)? {
                return Ok(ReadOutcome::Frame(r));
            }
            match self.state {
                State::ClosedByPeer(at) => return Ok(ReadOutcome::Closed { at }),
                State::Failed(at) => {
                    return Ok(ReadOutcome::Reset { at, error: self.reset_error.clone() });
                }
                State::ClosedByUs => {
                    return Err(error("the connection was closed by a `disconnect` step"));
                }
                State::Open => {}
            }
            // A peer that keeps the socket readable must not stretch the wait.
            if tokio::time::Instant::now() >= deadline {
                return Ok(ReadOutcome::Timeout);
            }
            let chunk = &mut self.chunk;
            let read = async {
                match &mut self.stream {
                    Stream::Tcp(s) => s.read(chunk).await,
                    Stream::Tls(s) => s.read(chunk).await,
                    #[cfg(test)]
                    Stream::Memory(s) => s.read(chunk).await,
                }
            };
            let result = timeout_at(deadline, read).await;
            // The time the bytes were read: taken before anything else is done with them.
            let at = rec.now();
            match result {
                Err(_) => return Ok(ReadOutcome::Timeout),
                Ok(Ok(0)) => {
                    self.state = State::ClosedByPeer(at);
                    let (l, p) = self.endpoints();
                    self.flush_partial(at, rec).map_err(fail)?;
                    rec.connection(at, self.transport, l, p, ConnectionChange::ClosedByPeer);
                }
                Ok(Ok(n)) => {
                    self.buf.extend_from_slice(&self.chunk[..n]);
                    self.last_read_at = at;
                }
                Ok(Err(e)) => {
                    self.state = State::Failed(at);
                    self.reset_error = target_io_error(&e);
                    let (l, p) = self.endpoints();
                    self.flush_partial(at, rec).map_err(fail)?;
                    rec.connection(at, self.transport, l, p, ConnectionChange::Reset);
                }
            }
        }
    }

    /// A whole frame from the buffer, if one is there.
    fn take_frame(&mut self, rec: &mut Recorder) -> Result<Option<Incoming>, String> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let at = self.last_read_at;
        if self.desynced {
            let bytes = std::mem::take(&mut self.buf);
            let error =
                "bytes after an undecodable header (the stream has no message boundary any more)"
                    .to_owned();
            return self.record(at, bytes, Err(error), rec).map(Some);
        }
        match self.deframer.next(&self.buf) {
            Deframed::Message { message, len } => {
                let message = message.into_owned();
                let bytes: Vec<u8> = self.buf.drain(..len).collect();
                self.record(at, bytes, Ok(message), rec).map(Some)
            }
            Deframed::NeedMore { .. } => Ok(None),
            Deframed::Skipped { len } => {
                self.buf.drain(..len);
                Ok(None)
            }
            Deframed::Rejected(rule) => {
                self.desynced = true;
                let bytes = std::mem::take(&mut self.buf);
                let why = match as_text(&bytes) {
                    Some(text) => format!("not DoIP: the target sent text {text}"),
                    None => rule.to_string(),
                };
                self.record(at, bytes, Err(why), rec).map(Some)
            }
        }
    }

    /// Bytes of an incomplete message when the stream ends.
    fn flush_partial(&mut self, at: RunTime, rec: &mut Recorder) -> Result<(), String> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.buf);
        let error =
            format!("incomplete message: the stream ended after {} bytes of it", bytes.len());
        let r = self.record(at, bytes, Err(error), rec)?;
        self.queue.push_back(r);
        Ok(())
    }

    fn record(
        &self,
        at: RunTime,
        bytes: Vec<u8>,
        message: Result<Message<'static>, String>,
        rec: &mut Recorder,
    ) -> Result<Incoming, String> {
        let decoded = match &message {
            Ok(m) => decoded_message(m),
            Err(e) => Decoded::Error { error: e.clone() },
        };
        let (l, p) = self.endpoints();
        rec.frame(at, Direction::Received, self.transport, l, p, bytes.clone(), decoded)?;
        Ok(Incoming { at, bytes, message })
    }

    /// Closes our side (FIN) and records it.
    pub async fn close(&mut self, rec: &Recorder) {
        if self.state == State::ClosedByUs {
            return;
        }
        let shutdown = async {
            match &mut self.stream {
                Stream::Tcp(s) => s.shutdown().await,
                Stream::Tls(s) => s.shutdown().await,
                #[cfg(test)]
                Stream::Memory(s) => s.shutdown().await,
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(200), shutdown).await;
        let was_open = self.state == State::Open;
        self.state = State::ClosedByUs;
        if was_open {
            let (l, p) = self.endpoints();
            rec.connection(rec.now(), self.transport, l, p, ConnectionChange::ClosedByUs);
        }
    }

    /// Resets the connection (SO_LINGER 0, then close: the kernel sends RST instead of FIN)
    /// and records it as closed by us.
    pub fn abort(&mut self, rec: &Recorder) -> Result<(), String> {
        if let Stream::Tcp(s) = &self.stream {
            s.set_zero_linger().map_err(|e| format!("cannot reset the connection: {e}"))?;
        }
        if let Stream::Tls(s) = &self.stream {
            let (tcp, _) = s.get_ref();
            tcp.set_zero_linger().map_err(|e| format!("cannot reset the connection: {e}"))?;
        }
        if self.state == State::Open {
            let (l, p) = self.endpoints();
            rec.connection(rec.now(), self.transport, l, p, ConnectionChange::Reset);
        }
        self.state = State::ClosedByUs;
        Ok(())
    }

    /// The case ended with the connection open: record what was buffered and drop it.
    pub fn abandon(&mut self, rec: &mut Recorder) {
        let at = rec.now();
        if !self.buf.is_empty() && self.state != State::ClosedByUs {
            let bytes = std::mem::take(&mut self.buf);
            let (l, p) = self.endpoints();
            let error =
                format!("{} bytes of an incomplete message when the case ended", bytes.len());
            let _ = rec.frame(
                at,
                Direction::Received,
                self.transport,
                l,
                p,
                bytes,
                Decoded::Error { error },
            );
        }
        if self.state == State::Open {
            let (l, p) = self.endpoints();
            rec.connection(at, self.transport, l, p, ConnectionChange::Abandoned);
        }
        self.state = State::ClosedByUs;
    }
}

/// What an I/O error on the entity's socket means, in its words: a reset, a close, or the
/// OS's text.
pub fn target_io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionReset => "the entity reset the connection (RST)".into(),
        ErrorKind::BrokenPipe => "the entity had closed the connection".into(),
        ErrorKind::ConnectionAborted => "the connection was aborted".into(),
        _ => e.to_string(),
    }
}

/// Bytes that read as text (a web server or a shell on the port): their first line, quoted
/// and cut at 80 characters; `None` for binary.
pub fn as_text(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let printable = head
        .iter()
        .filter(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\r' | b'\n' | b'\t'))
        .count();
    // Text: at least 8 bytes, nearly all printable, starting with a letter (`HTTP/1.1`, `SSH-`).
    if head.len() < 8 || printable * 10 < head.len() * 9 || !head[0].is_ascii_alphabetic() {
        return None;
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or(head);
    let line: String = String::from_utf8_lossy(line).trim_end().chars().take(80).collect();
    Some(format!("{line:?}"))
}

async fn write_all<S: AsyncWrite + AsyncRead + Unpin + ?Sized>(
    s: &mut S,
    bytes: &[u8],
) -> std::io::Result<()> {
    s.write_all(bytes).await?;
    s.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_recognised_by_its_first_line() {
        let http = b"HTTP/1.1 400 Bad Request\r\nServer: x\r\n\r\n";
        assert_eq!(as_text(http).as_deref(), Some(r#""HTTP/1.1 400 Bad Request""#));
        assert_eq!(
            as_text(b"SSH-2.0-OpenSSH_9.2\r\n").as_deref(),
            Some(r#""SSH-2.0-OpenSSH_9.2""#)
        );
    }

    #[test]
    fn binary_and_short_input_are_not_text() {
        // A DoIP header with a wrong inverse version: binary.
        assert_eq!(as_text(&[0x02, 0xFE, 0x00, 0x06, 0, 0, 0, 7, 0x0E, 0x80]), None);
        assert_eq!(as_text(b"HTTP"), None);
        assert_eq!(as_text(b"\x00\x01HTTP/1.1 400 Bad Request"), None);
    }

    #[test]
    fn long_text_is_cut_at_80_characters() {
        let long = [b'a'; 300];
        assert_eq!(as_text(&long).map(|t| t.len()), Some(82));
    }

    #[test]
    fn resets_and_closes_are_told_in_the_entitys_words() {
        use std::io::{Error, ErrorKind};
        let reset = Error::from(ErrorKind::ConnectionReset);
        assert_eq!(target_io_error(&reset), "the entity reset the connection (RST)");
        let pipe = Error::from(ErrorKind::BrokenPipe);
        assert_eq!(target_io_error(&pipe), "the entity had closed the connection");
    }
}
