//! Raw CAN / CAN FD through a Linux SocketCAN interface (`socketcan:can0`), built only with the
//! `socketcan` cargo feature. One `CAN_RAW` socket in FD mode carries classic and FD frames.
//!
//! The socket is non-blocking and driven by tokio's reactor. A frame is stamped when it is read
//! from the socket. `echo` here confirms that the kernel accepted the frame for transmission
//! (the write returned), which is as close to a bus confirmation as a raw socket tells without
//! `recvmsg` flags.

use super::{CanTransportError, Origin, Received, TransportStats};
use crate::codec::can::{CanFrame, CanId};
use socketcan::id::FdFlags;
use socketcan::{CanAnyFrame, CanFdFrame, CanFdSocket, EmbeddedFrame, Frame, Socket};
use std::collections::VecDeque;
use std::time::Instant;
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
            let read = match guard.try_io(|s| s.get_ref().read_frame()) {
                Ok(r) => r,
                Err(_would_block) => continue,
            };
            let at = Instant::now();
            let any = read.map_err(|e| self.io("read", e))?;
            match from_socketcan(&any) {
                Some(frame) => {
                    self.stats.received += 1;
                    return Ok(Received { frame, at, origin: Origin::Peer });
                }
                None => self.stats.ignored += 1,
            }
        }
    }

    fn io(&self, what: &str, e: std::io::Error) -> CanTransportError {
        CanTransportError::io(format!("socketcan {}: {what}", self.interface), e)
    }
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
