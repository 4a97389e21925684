//! What a TLS connection put on the wire: the TCP bytes under TLS (records, handshake
//! included) and the session's secrets, for a capture that shows the connection as it was
//! (docs/reports.md#tls-captures). Only a [`Recording`](super::Recording) that asks for them
//! ([`Recording::TAPS_TLS`](super::Recording::TAPS_TLS)) pays for either.
//!
//! - [`Tap`] sits between rustls and the TCP socket and keeps each chunk read or written, with
//!   the time, in a [`WireLog`] the connection empties into the recording after each call. What it holds
//!   between two hand-overs is bounded ([`MAX_HELD`]); the rest is counted, never kept.
//! - [`SessionKeys`] is the connection's own `KeyLog` (rustls calls it during the handshake):
//!   it keeps the NSS key-log lines of this connection and passes each on to the key log the
//!   configuration had (`--tls-keylog`).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Most bytes a tap holds between two hand-overs to the recording: far above what a read of the
/// connection takes (one chunk plus a TLS record), so only a peer that keeps a single read busy
/// with records that carry no data reaches it.
pub const MAX_HELD: usize = 1 << 20;

/// Bytes that went over the TCP socket under TLS, in one read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireChunk {
    pub at: Instant,
    /// Written by the tester (else read from the entity).
    pub from_tester: bool,
    pub bytes: Vec<u8>,
}

/// The chunks a [`Tap`] kept and has not handed over yet. Shared between the tap (inside
/// rustls's stream) and the connection, which takes them after each call, also after a
/// handshake that failed or ran out of time (when rustls keeps or drops the stream).
#[derive(Debug, Default)]
pub struct WireLog {
    chunks: Vec<WireChunk>,
    held: usize,
    /// Bytes past [`MAX_HELD`] since the last hand-over.
    untapped: u64,
}

/// A [`WireLog`] as the tap and its connection share it.
pub type SharedWireLog = Arc<Mutex<WireLog>>;

impl WireLog {
    /// The chunks kept since the last call, and the bytes that were not.
    pub fn take(log: &SharedWireLog) -> (Vec<WireChunk>, u64) {
        let Ok(mut log) = log.lock() else { return (Vec::new(), 0) };
        log.held = 0;
        (std::mem::take(&mut log.chunks), std::mem::take(&mut log.untapped))
    }

    fn keep(&mut self, from_tester: bool, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.held + bytes.len() > MAX_HELD {
            self.untapped += bytes.len() as u64;
            return;
        }
        self.held += bytes.len();
        self.chunks.push(WireChunk { at: Instant::now(), from_tester, bytes: bytes.to_vec() });
    }
}

/// A TCP stream whose bytes go to a [`WireLog`] (none: it only passes them on).
#[derive(Debug)]
pub struct Tap<S> {
    inner: S,
    log: Option<SharedWireLog>,
}

impl<S> Tap<S> {
    pub fn new(inner: S, log: Option<SharedWireLog>) -> Tap<S> {
        Tap { inner, log }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn keep(&self, from_tester: bool, bytes: &[u8]) {
        if let Some(Ok(mut log)) = self.log.as_ref().map(|l| l.lock()) {
            log.keep(from_tester, bytes);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.keep(false, &buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.keep(true, &buf[..n.min(buf.len())]);
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The key log of one connection: its NSS key-log lines (`LABEL CLIENT_RANDOM SECRET`, hex),
/// each also given to the key log the configuration had.
#[derive(Debug)]
pub struct SessionKeys {
    lines: Mutex<Vec<String>>,
    also: Arc<dyn rustls::KeyLog>,
}

/// Most key-log lines of one connection: a TLS 1.3 handshake logs five, TLS 1.2 one.
const MAX_LINES: usize = 16;

impl SessionKeys {
    pub fn new(also: Arc<dyn rustls::KeyLog>) -> SessionKeys {
        SessionKeys { lines: Mutex::new(Vec::new()), also }
    }

    /// The lines logged since the last call.
    pub fn take(&self) -> Vec<String> {
        self.lines.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
    }
}

impl rustls::KeyLog for SessionKeys {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.also.log(label, client_random, secret);
        if let Ok(mut lines) = self.lines.lock()
            && lines.len() < MAX_LINES
        {
            lines.push(nss_key_log_line(label, client_random, secret));
        }
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

/// One line of the NSS key-log format (no line end), as Wireshark's `tls.keylog_file` and a
/// pcapng Decryption Secrets Block of type TLSK read it.
pub fn nss_key_log_line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    format!("{label} {} {}", hex::encode(client_random), hex::encode(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(flavor = "current_thread")]
    async fn a_tap_keeps_what_went_each_way_and_counts_what_it_cannot_hold() {
        let (a, mut b) = tokio::io::duplex(4 * MAX_HELD);
        let log = SharedWireLog::default();
        let mut tap = Tap::new(a, Some(log.clone()));
        tap.write_all(b"hello").await.expect("write");
        b.write_all(b"world").await.expect("write");
        let mut got = [0u8; 5];
        tap.read_exact(&mut got).await.expect("read");
        let (chunks, untapped) = WireLog::take(&log);
        let seen: Vec<(bool, &[u8])> =
            chunks.iter().map(|c| (c.from_tester, c.bytes.as_slice())).collect();
        assert_eq!(seen, [(true, &b"hello"[..]), (false, &b"world"[..])]);
        assert_eq!(untapped, 0);

        let big = vec![7u8; MAX_HELD];
        tap.write_all(&big).await.expect("write");
        tap.write_all(b"more").await.expect("write");
        let (chunks, untapped) = WireLog::take(&log);
        assert_eq!(chunks.iter().map(|c| c.bytes.len()).sum::<usize>(), MAX_HELD);
        assert_eq!(untapped, 4);
        assert_eq!(WireLog::take(&log), (Vec::new(), 0), "a hand-over empties the log");
    }

    #[derive(Debug, Default)]
    struct Lines(Mutex<Vec<String>>);

    impl rustls::KeyLog for Lines {
        fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
            self.0.lock().unwrap().push(nss_key_log_line(label, client_random, secret));
        }
    }

    #[test]
    fn session_keys_are_kept_as_nss_lines_and_passed_on() {
        let also = Arc::new(Lines::default());
        let keys = SessionKeys::new(also.clone());
        rustls::KeyLog::log(&keys, "CLIENT_RANDOM", &[0xAB, 0x01], &[0xFF]);
        let line = "CLIENT_RANDOM ab01 ff".to_owned();
        assert_eq!(keys.take(), std::slice::from_ref(&line));
        assert_eq!(*also.0.lock().unwrap(), [line]);
        assert!(keys.take().is_empty());
    }
}
