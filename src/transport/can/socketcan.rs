//! Raw CAN / CAN FD through a Linux SocketCAN interface (`socketcan:can0`), built only with the
//! `socketcan` cargo feature. One `CAN_RAW` socket in FD mode carries classic and FD frames.
//!
//! The socket is non-blocking and driven by tokio's reactor. A frame is stamped with the
//! kernel's receive time (`SO_TIMESTAMPNS`, converted by `transport::rx_time`), so a frame read
//! late still carries the time it arrived. `echo` here confirms that the kernel accepted the frame for transmission
//! (the write returned), which is as close to a bus confirmation as a raw socket tells without
//! `recvmsg` flags.

use super::{CanTransportError, Origin, Received, TransportStats};
use crate::codec::can::{CanFrame, CanId};
use crate::transport::rx_time;
use socketcan::id::FdFlags;
use socketcan::{
    CanAnyFrame, CanFdFrame, CanFdSocket, EmbeddedFrame, Frame, Socket, SocketOptions,
};
use std::collections::VecDeque;
use std::time::Instant;
use std::time::UNIX_EPOCH;
use tokio::io::unix::AsyncFd;

/// A node on a SocketCAN interface.
#[derive(Debug)]
pub struct SocketCanNode {
    socket: AsyncFd<CanFdSocket>,
    interface: String,
    echo: bool,
    queue_bound: usize,
    queue: VecDeque<Received>,
    stats: TransportStats,
}

impl SocketCanNode {
    /// Opens `interface` (e.g. `can0`, `vcan0`) in CAN FD mode (inside a tokio runtime).
    pub async fn open(
        interface: &str,
        echo: bool,
        queue: usize,
    ) -> Result<Self, CanTransportError> {
        let io = |what: &str, e| CanTransportError::io(format!("socketcan {interface}: {what}"), e);
        let socket = CanFdSocket::open(interface).map_err(|e| io("open", e))?;
        socket.set_nonblocking(true).map_err(|e| io("set non-blocking", e))?;
        socket.set_recv_timestamp(true).map_err(|e| io("enable receive time stamps", e))?;
        // SAFETY: `CanFdSocket` owns its descriptor: it stays open, and `as_raw_fd` returns the
        // same one, until the socket is dropped, which happens only with the `AsyncFd`.
        let socket = unsafe { AsyncFd::register(socket) }
            .map_err(|e| io("register with the reactor", e.into_parts().1))?;
        Ok(SocketCanNode {
            socket,
            interface: interface.to_string(),
            echo,
            queue_bound: queue.max(1),
            queue: VecDeque::new(),
            stats: TransportStats::default(),
        })
    }

    pub fn stats(&self) -> TransportStats {
        self.stats
    }

    /// Writes `frame`, waiting while the socket's transmit queue is full.
    pub async fn send(&mut self, frame: &CanFrame) -> Result<(), CanTransportError> {
        let out = to_socketcan(frame).ok_or(CanTransportError::Unsupported {
            frame: *frame,
            reason: "socketcan refused it",
        })?;
        loop {
            let mut guard =
                self.socket.writable().await.map_err(|e| self.io("wait writable", e))?;
            match guard.try_io(|s| s.get_ref().write_frame(&out)) {
                Ok(Ok(())) => break,
                Ok(Err(e)) => return Err(self.io("write", e)),
                Err(_would_block) => continue,
            }
        }
        self.stats.sent += 1;
        if self.echo {
            if self.queue.len() >= self.queue_bound {
                self.stats.dropped += 1;
            } else {
                self.queue.push_back(Received {
                    frame: *frame,
                    at: Instant::now(),
                    origin: Origin::Echo,
                });
                self.stats.received += 1;
            }
        }
        Ok(())
    }

    /// The next data frame (remote and error frames are counted in `ignored`). Cancel-safe.
    pub async fn recv(&mut self) -> Result<Received, CanTransportError> {
        if let Some(r) = self.queue.pop_front() {
            return Ok(r);
        }
        loop {
            let mut guard =
                self.socket.readable().await.map_err(|e| self.io("wait readable", e))?;
            let read = match guard.try_io(|s| read_stamped(s.get_ref())) {
                Ok(r) => r,
                Err(_would_block) => continue,
            };
            if let Some(r) = self.take(read.map_err(|e| self.io("read", e))?) {
                return Ok(r);
            }
        }
    }

    /// A frame that arrived no later than `by`, if one is queued or in the socket now, without
    /// waiting (see `CanTransport::recv_arrived_by`).
    pub fn recv_arrived_by(&mut self, by: Instant) -> Option<Received> {
        // Bounded: remote and error frames are counted and skipped, at most this many.
        for _ in 0..64 {
            if !self.queue.is_empty() {
                break;
            }
            // The socket is non-blocking: a direct read says WouldBlock when it is empty.
            let Ok(read) = read_stamped(self.socket.get_ref()) else { break };
            if let Some(r) = self.take(read) {
                self.queue.push_back(r);
            }
        }
        match self.queue.front() {
            Some(r) if r.at <= by => self.queue.pop_front(),
            _ => None,
        }
    }

    /// A data frame as received; remote and error frames are counted in `ignored`.
    fn take(&mut self, (any, at): (CanAnyFrame, Instant)) -> Option<Received> {
        match from_socketcan(&any) {
            Some(frame) => {
                self.stats.received += 1;
                Some(Received { frame, at, origin: Origin::Peer })
            }
            None => {
                self.stats.ignored += 1;
                None
            }
        }
    }

    fn io(&self, what: &str, e: std::io::Error) -> CanTransportError {
        CanTransportError::io(format!("socketcan {}: {what}", self.interface), e)
    }
}

/// One frame and when it arrived, by the kernel's stamp.
fn read_stamped(socket: &CanFdSocket) -> std::io::Result<(CanAnyFrame, Instant)> {
    let (any, stamps) = socket.read_frame_with_timestamps()?;
    let kernel = stamps.socket.and_then(|t| t.duration_since(UNIX_EPOCH).ok());
    Ok((any, rx_time::stamp_read_now(kernel).arrived_at()))
}

fn to_embedded_id(id: CanId) -> Option<socketcan::Id> {
    Some(match id {
        CanId::Standard(s) => socketcan::Id::Standard(socketcan::StandardId::new(s.as_raw())?),
        CanId::Extended(e) => socketcan::Id::Extended(socketcan::ExtendedId::new(e.as_raw())?),
    })
}

fn to_socketcan(frame: &CanFrame) -> Option<CanAnyFrame> {
    let id = to_embedded_id(frame.id())?;
    if frame.is_fd() {
        let flags = if frame.brs() { FdFlags::BRS } else { FdFlags::empty() };
        CanFdFrame::with_flags(id, frame.data(), flags).map(CanAnyFrame::Fd)
    } else {
        socketcan::CanDataFrame::new(id, frame.data()).map(CanAnyFrame::Normal)
    }
}

fn from_socketcan(any: &CanAnyFrame) -> Option<CanFrame> {
    let id = |raw: u32, extended: bool| CanId::new(raw, extended);
    match any {
        CanAnyFrame::Normal(f) => CanFrame::new(id(f.raw_id(), f.is_extended())?, f.data()).ok(),
        CanAnyFrame::Fd(f) => {
            CanFrame::new_fd(id(f.raw_id(), f.is_extended())?, f.data(), f.is_brs()).ok()
        }
        CanAnyFrame::Remote(_) | CanAnyFrame::Error(_) => None,
    }
}
