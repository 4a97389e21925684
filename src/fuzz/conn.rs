//! The fuzzer's TCP connection: a bounded receive buffer, replies deframed as they arrive,
//! the entity's alive check requests answered (ISO 13400-2:2019 §9.6), and reads that end at a
//! barrier, a close, a deadline or a flood bound.

use super::model::doip::frame;
use crate::codec::doip::{Deframed, Deframer, HEADER_LEN};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Replies larger than this are not buffered (a reply an entity sends is small: the largest,
/// a diagnostic response, is bounded by its MDS).
const MAX_REPLY: u32 = 64 * 1024;
/// More replies than this to one case is a flood.
pub const MAX_REPLIES_PER_CASE: usize = 1000;

/// A TCP connection of the fuzzer with its receive buffer.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    deframer: Deframer,
    /// UDS session last entered (for the extended-session state).
    pub extended: bool,
}

/// How a read ended.
pub enum ReadEnd {
    /// The expected number of barrier answers arrived.
    Barrier,
    /// The entity closed (EOF or reset).
    Closed,
    /// Nothing (more) within the bound.
    Silent,
    /// Too many replies.
    Flood,
}

impl Conn {
    pub async fn open(addr: SocketAddr, bound: Duration) -> Result<Conn, String> {
        match timeout(bound, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                Ok(Conn {
                    stream,
                    buf: Vec::new(),
                    deframer: Deframer::new(MAX_REPLY),
                    extended: false,
                })
            }
            Ok(Err(e)) => Err(format!("cannot connect to {addr}: {e}")),
            Err(_) => Err(format!("no TCP connection to {addr} within {bound:?}")),
        }
    }

    /// Hands over the whole messages that have already arrived, without waiting.
    pub fn take_ready(&mut self, mut each: impl FnMut(&[u8])) {
        let mut chunk = [0u8; 4096];
        while self.buf.len() < MAX_REPLY as usize {
            match self.stream.try_read(&mut chunk) {
                Ok(n) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                _ => break,
            }
        }
        while let Deframed::Message { len, .. } = self.deframer.next(&self.buf) {
            let bytes: Vec<u8> = self.buf.drain(..len).collect();
            each(&bytes);
        }
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream.write_all(bytes).await.map_err(|e| crate::runner::conn::target_io_error(&e))
    }

    /// Reads replies until `want` messages satisfy `is_barrier`, the entity closes, `bound`
    /// passes, or the flood bound; every whole message goes to `each`.
    pub async fn read_until(
        &mut self,
        want: usize,
        bound: Duration,
        tester: u16,
        mut is_barrier: impl FnMut(&[u8]) -> bool,
        mut each: impl FnMut(&[u8]),
    ) -> ReadEnd {
        let deadline = Instant::now() + bound;
        let (mut seen, mut count) = (0, 0);
        let mut chunk = [0u8; 4096];
        loop {
            // Whole messages already buffered first.
            loop {
                match self.deframer.next(&self.buf) {
                    Deframed::Message { len, .. } => {
                        let bytes: Vec<u8> = self.buf.drain(..len).collect();
                        count += 1;
                        if bytes[2..4] == [0x00, 0x07] {
                            // Keep the socket: answer the entity's alive check (§9.6).
                            let answer = frame(bytes[0], 0x0008, &tester.to_be_bytes());
                            let _ = self.stream.write_all(&answer).await;
                        }
                        each(&bytes);
                        if is_barrier(&bytes) {
                            seen += 1;
                            if seen >= want {
                                return ReadEnd::Barrier;
                            }
                        }
                        if count > MAX_REPLIES_PER_CASE {
                            return ReadEnd::Flood;
                        }
                    }
                    Deframed::Rejected(_) => {
                        // Undecodable reply header: hand it over as it is, then stop
                        // trusting the stream.
                        let bytes: Vec<u8> = self.buf.drain(..).collect();
                        each(&bytes);
                        return ReadEnd::Closed;
                    }
                    Deframed::Skipped { len } => {
                        self.buf.drain(..len);
                    }
                    Deframed::NeedMore { .. } => break,
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return ReadEnd::Silent;
            }
            match timeout(left, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    if !self.buf.is_empty() {
                        let rest: Vec<u8> = self.buf.drain(..).collect();
                        each(&rest);
                    }
                    return ReadEnd::Closed;
                }
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => return ReadEnd::Silent,
            }
        }
    }
}

pub fn is_alive_response(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN && bytes[2..4] == [0x00, 0x08]
}

pub fn is_activation_response(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN && bytes[2..4] == [0x00, 0x06]
}

pub fn is_diag_response(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN && bytes[2..4] == [0x80, 0x01]
}

/// Writes `bytes` in the pieces `chunks` gives (the rest last), pausing between them.
pub async fn drip(conn: &mut Conn, bytes: &[u8], chunks: &[usize]) -> Result<(), String> {
    let mut at = 0;
    for &size in chunks {
        let end = (at + size).min(bytes.len());
        if end > at {
            conn.write(&bytes[at..end]).await?;
            conn.stream.flush().await.map_err(|e| e.to_string())?;
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
