//! ISO-TP throughput: frames per second through sender -> memory bus -> receiver on one core,
//! and heap allocations per message (a counting global allocator).
//!
//! `cargo bench --bench isotp_throughput` prints the figures. The target is at least
//! 2 M frames/s with STmin 0 and BS 0. The loop is the one a driver runs, minus tokio: the pure
//! endpoints exchange frames through memory-bus nodes (`try_recv`), and time comes from the
//! bus's receive stamps, so every frame pays for a real clock read.
//!
//! Optional arguments (after `--`): seconds per scenario (default 2).

use doipcheck::codec::can::{CanId, StandardId};
use doipcheck::codec::isotp::{FrameFormat, Padding, StMin, TxDl};
use doipcheck::proto::isotp::{
    Endpoint, IsoTpAddress, IsoTpConfig, ReceiverProfile, TransferEvent,
};
use doipcheck::proto::time::Instant as ProtoInstant;
use doipcheck::transport::can::NodeOptions;
use doipcheck::transport::can::memory::{MemoryBus, MemoryNode};
use std::time::{Duration, Instant};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

fn id(raw: u16) -> CanId {
    CanId::Standard(StandardId::new(raw).unwrap())
}

/// Frames one side may put on the bus per turn (well under the node queue bound).
const BURST: u64 = 1024;

/// One side of the link: a pure endpoint and its bus node.
struct Side {
    endpoint: Endpoint,
    node: MemoryNode,
}

struct Scenario {
    name: &'static str,
    message_len: usize,
    tx_dl: TxDl,
    fd: bool,
}

/// CPU time this thread has run (Linux `/proc/thread-self/schedstat`, nanoseconds): the
/// machine is shared, so rates per CPU-second say what one core does; wall-clock rates are
/// printed beside them.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Wall-clock and CPU time of a measured stretch.
#[derive(Clone, Copy)]
struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    fn start() -> Self {
        Stopwatch { wall: Instant::now(), cpu: thread_cpu_time() }
    }

    /// (wall seconds, CPU seconds or wall seconds when CPU time is unavailable).
    fn seconds(&self) -> (f64, f64) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = match (self.cpu, thread_cpu_time()) {
            (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64(),
            _ => wall,
        };
        (wall, cpu)
    }
}

struct Figures {
    messages: u64,
    frames: u64,
    wall_secs: f64,
    cpu_secs: f64,
    allocations: u64,
    allocated_bytes: u64,
}

fn config(tx: u16, rx: u16, s: &Scenario) -> IsoTpConfig {
    let mut c = IsoTpConfig::new(IsoTpAddress::normal(id(tx), id(rx)));
    c.tx_dl = s.tx_dl;
    c.format = FrameFormat { fd: s.fd, brs: s.fd, padding: Padding::padded(0xCC) };
    c.receiver = ReceiverProfile {
        block_size: 0,
        st_min: StMin::ZERO,
        max_receive_size: 1 << 20,
        ..ReceiverProfile::default()
    };
    c
}

/// Feeds every queued frame of `side`'s node into its endpoint, then sends what it produces;
/// returns the number of frames it put on the bus.
fn step(side: &mut Side, epoch: Instant, now: &mut ProtoInstant) -> u64 {
    while let Some(rx) = side.node.try_recv() {
        *now = (*now).max(ProtoInstant::from_epoch(rx.at.saturating_duration_since(epoch)));
        side.endpoint.handle_frame(*now, &rx.frame);
    }
    side.endpoint.handle_timeout(*now);
    // Hand over at most a burst per turn, as a driver alternating with its peer would: the
    // bus queues are bounded and a 64 KiB message at BS 0 is 9000+ frames.
    let mut sent = 0;
    while sent < BURST {
        let Some(frame) = side.endpoint.poll_transmit() else { break };
        side.node.send(&frame);
        sent += 1;
    }
    sent
}

fn run(s: &Scenario, budget: Duration) -> Figures {
    let bus = MemoryBus::new();
    let mut sender = Side {
        endpoint: Endpoint::new(config(0x7E0, 0x7E8, s)).unwrap(),
        node: bus.node(NodeOptions::default()),
    };
    let mut receiver = Side {
        endpoint: Endpoint::new(config(0x7E8, 0x7E0, s)).unwrap(),
        node: bus.node(NodeOptions::default()),
    };
    let payload: Vec<u8> = (0..s.message_len).map(|i| i as u8).collect();
    let epoch = Instant::now();
    let mut now = ProtoInstant::ZERO;
    let mut frames = 0u64;
    let mut messages = 0u64;
    // One warm-up message so queues and buffers reach their steady size before counting.
    let mut counting_from: Option<(u64, u64, Stopwatch, u64)> = None;
    loop {
        if messages == 1 && counting_from.is_none() {
            // The stopwatch reads a /proc file (allocating): start it before the counters.
            let stopwatch = Stopwatch::start();
            counting_from = Some((
                counting_alloc::allocations(),
                counting_alloc::allocated_bytes(),
                stopwatch,
                frames,
            ));
        }
        if let Some((_, _, start, _)) = counting_from
            && start.wall.elapsed() >= budget
        {
            break;
        }
        now = now.max(ProtoInstant::from_epoch(epoch.elapsed()));
        sender.endpoint.send(now, &payload).expect("sender idle");
        let (mut sent, mut received) = (false, false);
        let mut idle_turns = 0;
        while !(sent && received) {
            let moved = step(&mut sender, epoch, &mut now) + step(&mut receiver, epoch, &mut now);
            frames += moved;
            idle_turns = if moved == 0 { idle_turns + 1 } else { 0 };
            assert!(idle_turns < 1_000_000, "no frame moved for a million turns: transfer stuck");
            while let Some(e) = sender.endpoint.poll_event() {
                match e {
                    TransferEvent::MessageSent => sent = true,
                    other => panic!("sender: unexpected {other:?}"),
                }
            }
            while let Some(e) = receiver.endpoint.poll_event() {
                match e {
                    TransferEvent::MessageReceived { payload: got, .. } => {
                        assert_eq!(got.len(), payload.len());
                        received = true;
                    }
                    TransferEvent::FirstFrameReceived { .. } => {}
                    other => panic!("receiver: unexpected {other:?}"),
                }
            }
        }
        messages += 1;
    }
    let (allocs0, bytes0, start, frames0) = counting_from.expect("at least one message");
    let dropped = sender.node.stats().dropped + receiver.node.stats().dropped;
    assert_eq!(dropped, 0, "the bus dropped frames");
    let allocations = counting_alloc::allocations() - allocs0;
    let allocated_bytes = counting_alloc::allocated_bytes() - bytes0;
    let (wall_secs, cpu_secs) = start.seconds();
    Figures {
        messages: messages - 1,
        frames: frames - frames0,
        wall_secs,
        cpu_secs,
        allocations,
        allocated_bytes,
    }
}

/// The bus alone: one node sends, the other takes, same frame count as the ISO-TP runs.
fn bus_only(budget: Duration) -> (u64, f64, f64) {
    let bus = MemoryBus::new();
    let a = bus.node(NodeOptions::default());
    let b = bus.node(NodeOptions::default());
    let frame = doipcheck::codec::can::CanFrame::new(id(0x7E0), &[0x21; 8]).unwrap();
    let start = Stopwatch::start();
    let mut frames = 0u64;
    while start.wall.elapsed() < budget {
        for _ in 0..1024 {
            a.send(&frame);
            std::hint::black_box(b.try_recv());
        }
        frames += 1024;
    }
    let (wall, cpu) = start.seconds();
    (frames, wall, cpu)
}

fn main() {
    let seconds: f64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    let scenarios = [
        Scenario {
            name: "classic, 4095-byte messages",
            message_len: 4095,
            tx_dl: TxDl::CLASSIC,
            fd: false,
        },
        Scenario {
            name: "classic, 64 KiB messages",
            message_len: 65_536,
            tx_dl: TxDl::CLASSIC,
            fd: false,
        },
        Scenario {
            name: "CAN FD TX_DL 64, 4095-byte messages",
            message_len: 4095,
            tx_dl: TxDl::FD_MAX,
            fd: true,
        },
    ];
    println!(
        "isotp_throughput: sender -> memory bus -> receiver, BS 0, STmin 0, one thread \
         (rates per CPU-second of this thread; wall-clock rate in brackets)"
    );
    for s in &scenarios {
        let f = run(s, budget);
        println!(
            "{:<38} {:>6.2} M frames/s [{:.2} wall]  {:>7.1} MB/s payload  {:>6} messages  \
             {:.2} allocations/message ({:.0} bytes/message)",
            s.name,
            f.frames as f64 / f.cpu_secs / 1e6,
            f.frames as f64 / f.wall_secs / 1e6,
            (f.messages * s.message_len as u64) as f64 / f.cpu_secs / 1e6,
            f.messages,
            f.allocations as f64 / f.messages as f64,
            f.allocated_bytes as f64 / f.messages as f64,
        );
    }
    let (frames, wall, cpu) = bus_only(budget);
    println!(
        "{:<38} {:>6.2} M frames/s [{:.2} wall]  (memory bus send + try_recv alone)",
        "bus only",
        frames as f64 / cpu / 1e6,
        frames as f64 / wall / 1e6,
    );
}
