//! The entity state the host's tasks share, and the task of one TCP_DATA connection.
//!
//! A connection's task hands what it reads to the entity itself and writes the entity's answer
//! to its own socket at once, the diagnostic ACK and the UDS answer in one write: no hop through
//! another task or channel per message, and no allocation (the entity takes the written
//! buffers back). Bytes the entity sends on other connections go into their queues; datagrams,
//! CAN frames, and a deadline earlier than the one the actor sleeps towards wake the actor,
//! which owns the UDP socket, the CAN transport and the timer.

use super::{LogSink, Stream};
use crate::proto::time::Instant;
use crate::sim::entity::{ConnId, Entity, Output};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, mpsc};

/// Bytes one connection reads at a time (the only per-connection buffer of the host).
const READ_CHUNK: usize = 4096;
/// The write buffer a connection keeps between writes; a larger one is freed after use.
const WRITE_KEEP: usize = 65536;

/// The entity and what routes its outputs. Locked only between awaits, never across one.
pub(super) struct Core {
    pub entity: Entity,
    /// The queue of each open connection, for bytes the entity sends it from elsewhere
    /// (timers, other connections); dropping a sender closes its connection.
    pub writers: HashMap<ConnId, mpsc::Sender<Vec<u8>>>,
    pub log: Option<LogSink>,
    /// Outputs only the actor can carry out (datagrams, CAN frames).
    pub for_actor: Vec<Output>,
    /// The deadline the actor's timer is set to.
    pub armed: Option<Instant>,
}

/// What the host's tasks share.
pub(super) struct Shared {
    core: Mutex<Core>,
    /// Wakes the actor: outputs for it, or an earlier deadline.
    pub wake_actor: Notify,
    pub epoch: tokio::time::Instant,
}

impl Shared {
    pub fn new(core: Core, epoch: tokio::time::Instant) -> Shared {
        Shared { core: Mutex::new(core), wake_actor: Notify::new(), epoch }
    }

    pub fn now(&self) -> Instant {
        Instant::from_epoch(self.epoch.elapsed())
    }

    /// The core; a task that panicked while holding it left a consistent entity behind (every
    /// entity call completes before the lock is released), so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived on `conn`: what its queue held, then the entity's answers, go to `out`.
    /// Returns whether the entity closes `conn` (after `out` is written).
    fn handle_data(
        &self,
        conn: ConnId,
        data: &[u8],
        queue: &mut mpsc::Receiver<Vec<u8>>,
        out: &mut Vec<u8>,
    ) -> bool {
        let mut core = self.lock();
        let now = self.now();
        // Bytes queued earlier for this connection go out before the answers to `data`.
        while let Ok(bytes) = queue.try_recv() {
            core.append(out, bytes);
        }
        core.entity.handle_tcp_data(now, conn, data);
        let closing = core.route(now, Some(conn), out);
        self.wake_actor_if_needed(core);
        closing
    }

    /// The peer closed `conn` or writing to it failed.
    fn peer_closed(&self, conn: ConnId) {
        let mut core = self.lock();
        let now = self.now();
        core.writers.remove(&conn);
        core.entity.handle_tcp_closed(now, conn);
        core.route(now, None, &mut Vec::new());
        self.wake_actor_if_needed(core);
    }

    fn wake_actor_if_needed(&self, core: MutexGuard<'_, Core>) {
        let earlier = match (core.entity.poll_timeout(), core.armed) {
            (Some(next), Some(armed)) => next < armed,
            (next, _) => next.is_some(),
        };
        let wake = earlier || !core.for_actor.is_empty();
        drop(core);
        if wake {
            self.wake_actor.notify_one();
        }
    }
}

impl Core {
    fn append(&mut self, out: &mut Vec<u8>, bytes: Vec<u8>) {
        out.extend_from_slice(&bytes);
        self.entity.recycle(bytes);
    }

    /// Carries out the entity's outputs that need no waiting: bytes for `own` are appended to
    /// `out`, bytes for other connections go into their queues, datagrams and CAN frames are
    /// kept for the actor, log lines go to the sink. Returns whether the entity closes `own`.
    pub fn route(&mut self, now: Instant, own: Option<ConnId>, out: &mut Vec<u8>) -> bool {
        let mut own_closed = false;
        while let Some(output) = self.entity.poll_output() {
            match output {
                Output::Tcp { conn, bytes } if Some(conn) == own => self.append(out, bytes),
                Output::Close { conn } if Some(conn) == own => {
                    self.writers.remove(&conn);
                    own_closed = true;
                }
                Output::Tcp { conn, bytes } => {
                    let Some(writer) = self.writers.get(&conn) else {
                        self.entity.recycle(bytes);
                        continue;
                    };
                    if let Err(full) = writer.try_send(bytes) {
                        // The peer does not read (queue full) or is gone: memory stays bounded.
                        self.entity.recycle(full.into_inner());
                        self.writers.remove(&conn);
                        self.entity.handle_tcp_closed(now, conn);
                    }
                }
                // Its task writes what is queued, then sees the end and closes.
                Output::Close { conn } => drop(self.writers.remove(&conn)),
                output @ (Output::Udp { .. } | Output::Can(_)) => self.for_actor.push(output),
            }
        }
        if let Some(log) = &mut self.log {
            while let Some(event) = self.entity.poll_event() {
                log(&event);
            }
        }
        own_closed
    }
}

/// One connection: hands what it reads to the entity and writes its answers, coalescing what
/// is ready into one system call. Ends (closing the socket) when the entity closes it or drops
/// its queue, and tells the entity when the peer goes away.
pub(super) async fn run_connection(
    conn: ConnId,
    stream: Box<dyn Stream>,
    shared: std::sync::Arc<Shared>,
    mut queue: mpsc::Receiver<Vec<u8>>,
) {
    let (mut reader, mut writer) = tokio::io::split(stream);
    // On the heap and never zeroed: in the task's state, a buffer this size would be copied
    // each time the task is moved into the runtime and zeroed for every connection.
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::new();
    loop {
        buf.clear();
        let closing = tokio::select! {
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) | Err(_) => return shared.peer_closed(conn),
                Ok(n) => shared.handle_data(conn, &buf[..n], &mut queue, &mut out),
            },
            queued = queue.recv() => match queued {
                Some(bytes) => {
                    let mut core = shared.lock();
                    core.append(&mut out, bytes);
                    while out.len() < WRITE_KEEP {
                        match queue.try_recv() {
                            Ok(more) => core.append(&mut out, more),
                            Err(_) => break,
                        }
                    }
                    false
                }
                None => true,
            },
        };
        if !out.is_empty() && writer.write_all(&out).await.is_err() {
            return shared.peer_closed(conn);
        }
        out.clear();
        if out.capacity() > WRITE_KEEP {
            out = Vec::new();
        }
        if closing {
            let _ = writer.shutdown().await;
            return;
        }
    }
}
