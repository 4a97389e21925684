//! An in-process CAN bus for any number of nodes: tests, the built-in simulator and the runner
//! put their ISO-TP endpoints on it without sockets.
//!
//! Like a real bus it is one medium with one order: a send delivers the frame to every other
//! node's queue under one lock, so all nodes see all frames in the same (send) order. The frame
//! is stamped once, when it is on the bus, on the monotonic clock; that stamp is the receive time
//! of every node and, with `echo`, the sender's transmit confirmation. Sending never blocks and
//! never fails: a node whose queue is full loses the frame (counted in its `dropped`), as a CAN
//! controller with a full receive FIFO would.
//!
//! A named bus ([`MemoryBus::named`], the `memory:NAME` spec) lives while a node or handle to it
//! does; the name then refers to a fresh bus.

use super::spec::NodeOptions;
use super::{Origin, Received, TransportStats};
use crate::codec::can::CanFrame;
use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// A handle to a bus; cheap to clone. Nodes join with [`MemoryBus::node`].
#[derive(Clone)]
pub struct MemoryBus {
    shared: Arc<BusShared>,
}

struct BusShared {
    name: String,
    nodes: Mutex<Vec<Arc<Inbox>>>,
    next_node: AtomicU64,
}

struct Inbox {
    id: u64,
    options: NodeOptions,
    state: Mutex<InboxState>,
}

struct InboxState {
    queue: VecDeque<Received>,
    waker: Option<Waker>,
    stats: TransportStats,
}

/// Named buses of this process. Weak, so a bus nobody uses any more is freed.
static REGISTRY: Mutex<Vec<(String, Weak<BusShared>)>> = Mutex::new(Vec::new());

/// A poisoned lock only means another thread panicked while holding it; the queue is still
/// consistent (every update is a single push or pop), so carry on rather than panic too.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryBus {
    /// A new, unnamed bus.
    pub fn new() -> Self {
        Self::with_name(String::new())
    }

    fn with_name(name: String) -> Self {
        MemoryBus {
            shared: Arc::new(BusShared {
                name,
                nodes: Mutex::new(Vec::new()),
                next_node: AtomicU64::new(0),
            }),
        }
    }

    /// The bus called `name` in this process, created on first use.
    pub fn named(name: &str) -> Self {
        let mut registry = lock(&REGISTRY);
        registry.retain(|(_, weak)| weak.strong_count() > 0);
        if let Some(shared) =
            registry.iter().find(|(n, _)| n == name).and_then(|(_, weak)| weak.upgrade())
        {
            return MemoryBus { shared };
        }
        let bus = Self::with_name(name.to_string());
        registry.push((name.to_string(), Arc::downgrade(&bus.shared)));
        bus
    }

    /// The name given to [`MemoryBus::named`] (empty for [`MemoryBus::new`]).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Joins the bus: the node sees every frame sent after this call.
    pub fn node(&self, options: NodeOptions) -> MemoryNode {
        let inbox = Arc::new(Inbox {
            id: self.shared.next_node.fetch_add(1, Ordering::Relaxed),
            options: NodeOptions { queue: options.queue.max(1), ..options },
            state: Mutex::new(InboxState {
                queue: VecDeque::new(),
                waker: None,
                stats: TransportStats::default(),
            }),
        });
        lock(&self.shared.nodes).push(inbox.clone());
        MemoryNode { bus: self.clone(), inbox }
    }

    /// How many nodes are on the bus now.
    pub fn node_count(&self) -> usize {
        lock(&self.shared.nodes).len()
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBus").field("name", &self.shared.name).finish_non_exhaustive()
    }
}

/// One node on a [`MemoryBus`]; leaves the bus when dropped.
pub struct MemoryNode {
    bus: MemoryBus,
    inbox: Arc<Inbox>,
}

impl MemoryNode {
    /// Puts `frame` on the bus: every other node (and this one with `echo`) gets it, stamped
    /// now. Never blocks; a full queue drops the frame for that node only.
    pub fn send(&self, frame: &CanFrame) {
        let nodes = lock(&self.bus.shared.nodes);
        let at = Instant::now();
        for inbox in nodes.iter() {
            let own = inbox.id == self.inbox.id;
            let mut state = lock(&inbox.state);
            if own {
                state.stats.sent += 1;
                if !inbox.options.echo {
                    continue;
                }
            }
            if state.queue.len() >= inbox.options.queue {
                state.stats.dropped += 1;
                continue;
            }
            let origin = if own { Origin::Echo } else { Origin::Peer };
            state.queue.push_back(Received { frame: *frame, at, origin });
            state.stats.received += 1;
            let waker = state.waker.take();
            drop(state);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// The oldest queued frame, if any, without waiting.
    pub fn try_recv(&self) -> Option<Received> {
        lock(&self.inbox.state).queue.pop_front()
    }

    /// The oldest queued frame if it arrived no later than `by`, without waiting.
    pub fn recv_arrived_by(&self, by: std::time::Instant) -> Option<Received> {
        let mut state = lock(&self.inbox.state);
        match state.queue.front() {
            Some(r) if r.at <= by => state.queue.pop_front(),
            _ => None,
        }
    }

    /// Polls for the next frame, registering `cx`'s waker when there is none.
    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Received> {
        let mut state = lock(&self.inbox.state);
        match state.queue.pop_front() {
            Some(r) => Poll::Ready(r),
            None => {
                match &mut state.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// The next frame; waits without bound (wrap it in a timeout). Cancel-safe: a frame is
    /// taken from the queue only when this returns it.
    pub async fn recv(&self) -> Received {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Frames waiting in this node's queue.
    pub fn queued(&self) -> usize {
        lock(&self.inbox.state).queue.len()
    }

    pub fn stats(&self) -> TransportStats {
        lock(&self.inbox.state).stats
    }

    pub fn bus(&self) -> &MemoryBus {
        &self.bus
    }
}

impl Drop for MemoryNode {
    fn drop(&mut self) {
        lock(&self.bus.shared.nodes).retain(|inbox| inbox.id != self.inbox.id);
    }
}

impl fmt::Debug for MemoryNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryNode")
            .field("bus", &self.bus.shared.name)
            .field("id", &self.inbox.id)
            .field("options", &self.inbox.options)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::can::StandardId;

    fn frame(id: u16, data: &[u8]) -> CanFrame {
        CanFrame::new(StandardId::new(id).unwrap(), data).unwrap()
    }

    fn drain(node: &MemoryNode) -> Vec<(u16, Origin)> {
        std::iter::from_fn(|| node.try_recv())
            .map(|r| (r.frame.id().raw() as u16, r.origin))
            .collect()
    }

    #[test]
    fn every_node_sees_the_others_frames_in_send_order() {
        let bus = MemoryBus::new();
        let [a, b, c] = [(); 3].map(|_| bus.node(NodeOptions::default()));
        a.send(&frame(1, &[]));
        b.send(&frame(2, &[]));
        a.send(&frame(3, &[]));
        c.send(&frame(4, &[]));
        assert_eq!(drain(&a), vec![(2, Origin::Peer), (4, Origin::Peer)]);
        assert_eq!(drain(&b), vec![(1, Origin::Peer), (3, Origin::Peer), (4, Origin::Peer)]);
        assert_eq!(drain(&c), vec![(1, Origin::Peer), (2, Origin::Peer), (3, Origin::Peer)]);
    }

    #[test]
    fn echo_puts_own_frames_in_the_same_order_as_the_others_see_them() {
        let bus = MemoryBus::new();
        let a = bus.node(NodeOptions { echo: true, ..NodeOptions::default() });
        let b = bus.node(NodeOptions::default());
        a.send(&frame(1, &[]));
        b.send(&frame(2, &[]));
        a.send(&frame(3, &[]));
        assert_eq!(drain(&a), vec![(1, Origin::Echo), (2, Origin::Peer), (3, Origin::Echo)]);
        assert_eq!(a.stats().sent, 2);
    }

    #[test]
    fn echo_and_peer_copies_carry_the_same_timestamp_in_nondecreasing_order() {
        let bus = MemoryBus::new();
        let a = bus.node(NodeOptions { echo: true, ..NodeOptions::default() });
        let b = bus.node(NodeOptions::default());
        for i in 0..10 {
            a.send(&frame(i, &[]));
        }
        let ea: Vec<_> = std::iter::from_fn(|| a.try_recv()).map(|r| r.at).collect();
        let eb: Vec<_> = std::iter::from_fn(|| b.try_recv()).map(|r| r.at).collect();
        assert_eq!(ea, eb);
        assert!(ea.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_affecting_other_nodes() {
        let bus = MemoryBus::new();
        let a = bus.node(NodeOptions::default());
        let small = bus.node(NodeOptions { queue: 2, ..NodeOptions::default() });
        let big = bus.node(NodeOptions::default());
        for i in 0..5 {
            a.send(&frame(i, &[i as u8]));
        }
        assert_eq!(drain(&small).len(), 2);
        let s = small.stats();
        assert_eq!((s.received, s.dropped), (2, 3));
        assert_eq!(drain(&big).len(), 5);
        assert_eq!(big.stats().dropped, 0);
    }

    #[test]
    fn a_node_sees_only_frames_sent_after_it_joined_and_leaves_on_drop() {
        let bus = MemoryBus::new();
        let a = bus.node(NodeOptions::default());
        a.send(&frame(1, &[]));
        let b = bus.node(NodeOptions::default());
        a.send(&frame(2, &[]));
        assert_eq!(drain(&b), vec![(2, Origin::Peer)]);
        assert_eq!(bus.node_count(), 2);
        drop(b);
        assert_eq!(bus.node_count(), 1);
    }

    #[test]
    fn named_buses_are_shared_by_name_and_freed_when_unused() {
        let a = MemoryBus::named("memory-test-shared").node(NodeOptions::default());
        let b = MemoryBus::named("memory-test-shared").node(NodeOptions::default());
        let other = MemoryBus::named("memory-test-other").node(NodeOptions::default());
        a.send(&frame(7, &[]));
        assert_eq!(drain(&b), vec![(7, Origin::Peer)]);
        assert!(other.try_recv().is_none());
        drop((a, b));
        assert_eq!(MemoryBus::named("memory-test-shared").node_count(), 0);
    }

    #[test]
    fn recv_wakes_a_waiting_task() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let bus = MemoryBus::new();
            let a = bus.node(NodeOptions::default());
            let b = bus.node(NodeOptions::default());
            let waiter = tokio::spawn(async move { b.recv().await.frame });
            tokio::task::yield_now().await;
            a.send(&frame(0x42, &[1, 2]));
            let got = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
                .await
                .expect("recv was not woken")
                .unwrap();
            assert_eq!(got, frame(0x42, &[1, 2]));
        });
    }
}
