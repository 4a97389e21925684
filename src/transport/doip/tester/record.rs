//! The recording hook of a tester connection: every frame sent or received and every change of
//! the connection goes through a [`Recording`] the caller hands to each call. The runner's
//! recorder turns them into events; [`NoRecord`] is the fuzzer's hot loop, where recording is
//! off: static dispatch, `()` for a sent frame's description, no allocation, nothing to pay.

use super::Link;
use super::tap::WireChunk;
use crate::codec::doip::Message;
use tokio::time::Instant;

/// What happened to a connection, as a recording sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The entity accepted it (and the TLS handshake, if any, was tried).
    Opened,
    /// The entity closed it (FIN: end of stream).
    ClosedByEntity,
    /// The entity reset it, or it broke another way; also our own reset ([`super::TesterConnection::abort`]).
    Reset,
    /// We closed it (FIN).
    ClosedByUs,
    /// The caller dropped it while it was open.
    Abandoned,
}

/// Where a tester connection's frames and changes go.
pub trait Recording {
    /// How the caller describes a frame it sends (the runner: how reports show it).
    type Sent;
    /// How a DoIP message the connection itself sends (an alive check response) is described.
    fn describe(message: &Message<'_>) -> Self::Sent;
    fn changed(&mut self, link: &Link, at: Instant, change: Change);
    /// A frame was handed to the kernel at `at`; `Err` stops the caller (a flood bound).
    fn sent(
        &mut self,
        link: &Link,
        at: Instant,
        bytes: &[u8],
        sent: Self::Sent,
    ) -> Result<(), String>;
    /// Bytes arrived, read at `at`: a message, or the rule they break; `Err` as for `sent`.
    fn received(
        &mut self,
        link: &Link,
        at: Instant,
        bytes: &[u8],
        message: &Result<Message<'static>, String>,
    ) -> Result<(), String>;

    /// Whether this recording wants a TLS connection's bytes on the wire and its secrets
    /// ([`Recording::tls_wire`], [`Recording::tls_keys`]); off, the connection keeps neither.
    const TAPS_TLS: bool = false;
    /// Bytes that went over the TCP socket of a TLS connection (records, handshake included);
    /// `untapped` counts bytes the tap could not hold ([`super::tap::MAX_HELD`]).
    fn tls_wire(&mut self, _link: &Link, _chunks: Vec<WireChunk>, _untapped: u64) {}
    /// The NSS key-log lines of a TLS connection's session, once its handshake ended.
    fn tls_keys(&mut self, _link: &Link, _at: Instant, _lines: Vec<String>) {}
}

/// Recording off.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRecord;

impl Recording for NoRecord {
    type Sent = ();

    #[inline(always)]
    fn describe(_: &Message<'_>) {}

    #[inline(always)]
    fn changed(&mut self, _: &Link, _: Instant, _: Change) {}

    #[inline(always)]
    fn sent(&mut self, _: &Link, _: Instant, _: &[u8], _: ()) -> Result<(), String> {
        Ok(())
    }

    #[inline(always)]
    fn received(
        &mut self,
        _: &Link,
        _: Instant,
        _: &[u8],
        _: &Result<Message<'static>, String>,
    ) -> Result<(), String> {
        Ok(())
    }
}
