//! CAN over UDP in the cannelloni v2 format ([`crate::codec::cannelloni`]): a point-to-point
//! tunnel between this node and one remote (another doipcheck, the simulator in its own process,
//! the cannelloni tool, our python can-isotp bridge).
//!
//! Sending: one datagram per frame by default, so timing (STmin gaps) survives the tunnel. With
//! `batch` set, frames gather for at most that long (or until a datagram is full) and go out
//! together, as the cannelloni tool does; the batch is flushed while the owner awaits
//! [`CannelloniNode::recv`] or calls [`CannelloniNode::flush`].
//!
//! Receiving: datagrams from any address other than the configured remote, and malformed
//! datagrams, are dropped whole and counted (`malformed`); a datagram is stamped once, with the
//! kernel's receive time (`transport::rx_time`: when it entered the socket, not when we read
//! it), and its frames are queued (bounded, overflow counted in `dropped`).

use super::{CanTransportError, Origin, Received, TransportStats};
use crate::codec::can::CanFrame;
use crate::codec::cannelloni::{self as wire, Encoder, TunnelFrame};
use crate::transport::rx_time::{self, RxStamp};
use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// Ethernet MTU 1500 - IPv4 header 20 - UDP header 8: batches never fragment on a real link.
pub const DEFAULT_MAX_DATAGRAM: usize = 1472;

/// Datagrams [`CannelloniNode::recv_arrived_by`] reads at most without yielding.
const MAX_DATAGRAMS_AT_ONCE: usize = 64;

/// How a cannelloni node is set up (from the spec string's fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CannelloniConfig {
    /// Address to bind; port 0 picks a free port ([`CannelloniNode::local_addr`]).
    pub local: SocketAddr,
    /// The only peer frames are sent to and accepted from.
    pub remote: SocketAddr,
    /// Gather frames for at most this long into one datagram; `None` sends each at once.
    pub batch: Option<Duration>,
    /// Deliver own frames back as [`Origin::Echo`] once their datagram was sent.
    pub echo: bool,
    /// Receive queue bound in frames.
    pub queue: usize,
    /// Largest datagram this node sends.
    pub max_datagram: usize,
}

/// One end of a cannelloni tunnel.
#[derive(Debug)]
pub struct CannelloniNode {
    socket: UdpSocket,
    config: CannelloniConfig,
    encoder: Encoder,
    /// Frames in the unsent batch, kept for their echoes.
    batch_frames: Vec<CanFrame>,
    batch_deadline: Option<Instant>,
    seq: u8,
    expected_seq: Option<u8>,
    rx_buf: Box<[u8]>,
    queue: VecDeque<Received>,
    stats: TransportStats,
}

enum Wake {
    Datagram(std::io::Result<(usize, SocketAddr, RxStamp)>),
    BatchDue,
}

impl CannelloniNode {
    /// Binds `config.local`.
    pub async fn bind(config: CannelloniConfig) -> Result<Self, CanTransportError> {
        let socket = UdpSocket::bind(config.local)
            .await
            .map_err(|e| CanTransportError::io(format!("cannelloni: bind {}", config.local), e))?;
        rx_time::enable(&socket)
            .map_err(|e| CanTransportError::io("cannelloni: enable receive time stamps", e))?;
        Ok(CannelloniNode {
            socket,
            encoder: Encoder::new(config.max_datagram),
            batch_frames: Vec::new(),
            batch_deadline: None,
            seq: 0,
            expected_seq: None,
            rx_buf: vec![0u8; wire::MAX_DATAGRAM_LEN + 1].into_boxed_slice(),
            queue: VecDeque::new(),
            stats: TransportStats::default(),
            config: CannelloniConfig { queue: config.queue.max(1), ..config },
        })
    }

    /// The bound address (the actual port when bound to port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, CanTransportError> {
        self.socket.local_addr().map_err(|e| CanTransportError::io("cannelloni: local address", e))
    }

    pub fn config(&self) -> &CannelloniConfig {
        &self.config
    }

    pub fn stats(&self) -> TransportStats {
        self.stats
    }

    /// Sends `frame` now, or adds it to the batch when batching is on.
    pub async fn send(&mut self, frame: &CanFrame) -> Result<(), CanTransportError> {
        if !self.encoder.push(frame) {
            self.flush().await?;
            // An empty encoder always takes one frame: its size is at least one FD frame.
            self.encoder.push(frame);
        }
        self.batch_frames.push(*frame);
        match self.config.batch {
            None => self.flush().await,
            Some(window) => {
                if self.batch_deadline.is_none() {
                    self.batch_deadline = Some(Instant::now() + window);
                }
                Ok(())
            }
        }
    }

    /// Sends the pending batch, if any.
    pub async fn flush(&mut self) -> Result<(), CanTransportError> {
        if self.encoder.is_empty() {
            return Ok(());
        }
        let datagram = self.encoder.finish(self.seq);
        match self.socket.send_to(datagram, self.config.remote).await {
            Ok(_) => {}
            // A previous datagram's ICMP port-unreachable: nobody listens yet, and frames on a
            // bus without listeners are simply gone.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
            Err(e) => {
                self.encoder.clear();
                self.batch_frames.clear();
                self.batch_deadline = None;
                return Err(CanTransportError::io(
                    format!("cannelloni: send to {}", self.config.remote),
                    e,
                ));
            }
        }
        self.encoder.clear();
        self.seq = self.seq.wrapping_add(1);
        self.batch_deadline = None;
        self.stats.sent += self.batch_frames.len() as u64;
        let at = Instant::now();
        for frame in self.batch_frames.drain(..) {
            if self.config.echo {
                Self::enqueue(
                    &mut self.queue,
                    &mut self.stats,
                    self.config.queue,
                    Received { frame, at, origin: Origin::Echo },
                );
            }
        }
        Ok(())
    }

    /// The next frame; waits without bound (wrap it in a timeout). Cancel-safe: datagrams are
    /// taken from the socket whole and their frames queued before anything is returned.
    pub async fn recv(&mut self) -> Result<Received, CanTransportError> {
        loop {
            if let Some(r) = self.queue.pop_front() {
                return Ok(r);
            }
            let deadline = self.batch_deadline;
            let wake = tokio::select! {
                r = rx_time::recv_from(&self.socket, &mut self.rx_buf) => Wake::Datagram(r),
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now).into()),
                    if deadline.is_some() => Wake::BatchDue,
            };
            match wake {
                Wake::BatchDue => self.flush().await?,
                Wake::Datagram(Ok((len, from, stamp))) => self.take_datagram(len, from, stamp),
                // ICMP errors for earlier sends surface here on some systems: not fatal.
                Wake::Datagram(Err(e))
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
                    ) => {}
                Wake::Datagram(Err(e)) => {
                    return Err(CanTransportError::io("cannelloni: receive", e));
                }
            }
        }
    }

    /// A frame that arrived no later than `by`, if one is queued or in the socket now, without
    /// waiting: for a task that woke late at its deadline (a busy machine), so that what
    /// arrived in time is judged in time. A frame that arrived later stays queued.
    pub fn recv_arrived_by(&mut self, by: Instant) -> Option<Received> {
        // Bounded: a flood of datagrams that queue nothing (strangers, malformed) cannot
        // hold the caller here.
        for _ in 0..MAX_DATAGRAMS_AT_ONCE {
            if !self.queue.is_empty() {
                break;
            }
            match rx_time::recv_now(&self.socket, &mut self.rx_buf) {
                Ok((len, from, stamp)) => self.take_datagram(len, from, stamp),
                Err(_) => break,
            }
        }
        match self.queue.front() {
            Some(r) if r.at <= by => self.queue.pop_front(),
            _ => None,
        }
    }

    fn take_datagram(&mut self, len: usize, from: SocketAddr, stamp: RxStamp) {
        let at = stamp.arrived_at();
        if from != self.config.remote {
            tracing::debug!(%from, remote = %self.config.remote, "cannelloni: datagram from a stranger dropped");
            self.stats.malformed += 1;
            return;
        }
        let datagram = match wire::decode(&self.rx_buf[..len.min(self.rx_buf.len())]) {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(%from, error = %e, "cannelloni: malformed datagram dropped");
                self.stats.malformed += 1;
                return;
            }
        };
        if let Some(expected) = self.expected_seq {
            let gap = datagram.seq().wrapping_sub(expected);
            // A small forward gap is loss; a large one is reordering or a restarted peer.
            if gap < 128 {
                self.stats.lost_datagrams += u64::from(gap);
            }
        }
        self.expected_seq = Some(datagram.seq().wrapping_add(1));
        for frame in datagram.frames() {
            match frame {
                TunnelFrame::Data(frame) => Self::enqueue(
                    &mut self.queue,
                    &mut self.stats,
                    self.config.queue,
                    Received { frame, at, origin: Origin::Peer },
                ),
                TunnelFrame::Remote { .. } | TunnelFrame::Error { .. } => self.stats.ignored += 1,
            }
        }
    }

    fn enqueue(
        queue: &mut VecDeque<Received>,
        stats: &mut TransportStats,
        bound: usize,
        r: Received,
    ) {
        if queue.len() >= bound {
            stats.dropped += 1;
        } else {
            queue.push_back(r);
            stats.received += 1;
        }
    }
}
