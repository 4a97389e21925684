//! Simulator throughput and footprint over loopback TCP: diagnostic request/response round
//! trips per second on 1 and on 64 connections, the simulator's own CPU time per round trip
//! (what one core of it can serve), allocations per round trip, the kernel's floor for a
//! ping-pong over loopback on this machine, and the memory of idle connections.
//!
//! `cargo bench --bench sim_roundtrip` prints the figures (targets: >= 100 000 round trips/s
//! on one connection on one core, scaling with connections; < 64 KiB per idle connection).
//!
//! The simulator runs on its own thread with a single-threaded runtime (one core). The one
//! connection's tester is a plain blocking socket on the main thread that allocates nothing,
//! so the allocations counted per round trip are the simulator's. The 64 testers share a
//! single-threaded runtime on the main thread.
//!
//! One connection is a ping-pong bound by the loopback latency between two threads, not by
//! the simulator's CPU: the bench measures that floor with two threads echoing the same bytes
//! over blocking sockets (no simulator, no runtime) and prints it beside the figure. Per round
//! trip the simulator makes the fewest system calls possible (one `epoll_wait`, one `recvfrom`,
//! one `sendto` with the ACK and the answer coalesced; `strace -f -c`), and `perf` puts about
//! four fifths of its thread's time in the kernel's TCP loopback path. What one core of the
//! simulator can serve is its round trips over its own thread's CPU time
//! (`/proc/self/task/TID/stat`), printed as "per core".

use doipcheck::codec::doip::{
    ActivationType, Deframed, Deframer, DiagnosticMessage, Message, Payload, ProtocolVersion,
    RoutingActivationRequest,
};
use doipcheck::sim::config::{ConfigDuration, SimConfig};
use doipcheck::sim::faults::FaultSet;
use doipcheck::transport::doip::sim_host::SimHost;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

const ENTITY: u16 = 0x0010;
const MEASURE_FOR: Duration = Duration::from_secs(3);
/// Bytes the simulator answers a tester present with: the diagnostic ACK echoing `3E`
/// (8 + 5) and the answer `7E 00` (8 + 6).
const ANSWER_LEN: usize = 13 + 14;

fn bytes(payload: Payload<'_>) -> Vec<u8> {
    Message::new(ProtocolVersion::Iso2012, payload).to_bytes()
}

/// Tester present `3E 00` from `sa` to the entity: diagnostic ACK, then `7E 00`.
fn tester_present(sa: u16) -> Vec<u8> {
    bytes(Payload::DiagnosticMessage(DiagnosticMessage::new(sa, ENTITY, vec![0x3E, 0x00])))
}

fn activation(sa: u16) -> Vec<u8> {
    let request = RoutingActivationRequest::new(sa, ActivationType::Default);
    bytes(Payload::RoutingActivationRequest(request))
}

/// Whole messages at the front of `buf`: (count, bytes they take).
fn whole_messages(deframer: &mut Deframer, buf: &[u8]) -> (usize, usize) {
    let (mut count, mut at) = (0, 0);
    loop {
        match deframer.next(&buf[at..]) {
            Deframed::Message { len, .. } => {
                at += len;
                count += 1;
            }
            Deframed::NeedMore { .. } => return (count, at),
            other => panic!("{other:?}"),
        }
    }
}

/// A tester on a blocking socket with fixed buffers: nothing allocated per round trip.
struct BlockingTester {
    stream: std::net::TcpStream,
    buf: [u8; 4096],
    filled: usize,
    deframer: Deframer,
    request: Vec<u8>,
}

impl BlockingTester {
    fn activated(addr: SocketAddr, sa: u16) -> BlockingTester {
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut t = BlockingTester {
            stream,
            buf: [0; 4096],
            filled: 0,
            deframer: Deframer::new(u32::MAX),
            request: tester_present(sa),
        };
        t.stream.write_all(&activation(sa)).expect("write");
        t.messages(1);
        t
    }

    fn messages(&mut self, n: usize) {
        let mut got = 0;
        loop {
            let (count, used) = whole_messages(&mut self.deframer, &self.buf[..self.filled]);
            self.buf.copy_within(used..self.filled, 0);
            self.filled -= used;
            got += count;
            if got >= n {
                return;
            }
            let read = self.stream.read(&mut self.buf[self.filled..]).expect("read");
            assert!(read > 0, "the simulator closed the connection");
            self.filled += read;
        }
    }

    fn round_trip(&mut self) {
        self.stream.write_all(&self.request).expect("write");
        self.messages(2);
    }

    /// `n` requests in one write (a tester may send its next diagnostic message before the
    /// answer to the last, ISO 13400-2:2019 §9.6), then their `n` ACKs and answers.
    fn pipelined(&mut self, batch: &[u8], n: usize) {
        self.stream.write_all(batch).expect("write");
        self.messages(2 * n);
    }
}

struct Tester {
    stream: TcpStream,
    buf: Vec<u8>,
    deframer: Deframer,
    request: Vec<u8>,
}

impl Tester {
    async fn activated(addr: SocketAddr, sa: u16) -> Tester {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut t = Tester {
            stream,
            buf: Vec::new(),
            deframer: Deframer::new(u32::MAX),
            request: tester_present(sa),
        };
        t.stream.write_all(&activation(sa)).await.unwrap();
        t.messages(1).await;
        t
    }

    /// Reads until `n` messages have arrived.
    async fn messages(&mut self, n: usize) {
        let mut got = 0;
        let mut chunk = [0u8; 4096];
        loop {
            let (count, used) = whole_messages(&mut self.deframer, &self.buf);
            self.buf.drain(..used);
            got += count;
            if got >= n {
                return;
            }
            let read = self.stream.read(&mut chunk).await.expect("read");
            assert!(read > 0, "the simulator closed the connection");
            self.buf.extend_from_slice(&chunk[..read]);
        }
    }

    async fn round_trip(&mut self) {
        self.stream.write_all(&self.request).await.unwrap();
        self.messages(2).await;
    }
}

/// CPU time (user + kernel) of thread `tid` of this process so far, from
/// `/proc/self/task/TID/stat` fields 14 and 15 (clock ticks of 1/100 s).
fn thread_cpu(tid: i32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let kernel: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + kernel) * 10))
}

/// What a measurement saw.
struct Figures {
    per_s: f64,
    allocations: f64,
    /// Round trips per second of the simulator thread's CPU time.
    per_core: Option<f64>,
}

impl Figures {
    fn measure(sim_tid: i32, round_trips: impl FnOnce() -> u64) -> Figures {
        let cpu = thread_cpu(sim_tid);
        let allocations = counting_alloc::allocations();
        let start = Instant::now();
        let total = round_trips();
        let elapsed = start.elapsed().as_secs_f64();
        let allocations = counting_alloc::allocations() - allocations;
        let per_core = match (cpu, thread_cpu(sim_tid)) {
            (Some(a), Some(b)) if b > a => Some(total as f64 / (b - a).as_secs_f64()),
            _ => None,
        };
        Figures {
            per_s: total as f64 / elapsed,
            allocations: allocations as f64 / total.max(1) as f64,
            per_core,
        }
    }

    fn print(&self, what: &str) {
        let core = self.per_core.map_or("not measurable".into(), |c| format!("{c:.0}"));
        println!(
            "sim_roundtrip: {what}: {:>7.0} round trips/s; per core of the simulator (its thread's CPU time): {core}/s; {:.1} allocations per round trip",
            self.per_s, self.allocations
        );
    }
}

fn one_connection(addr: SocketAddr, sim_tid: i32) -> Figures {
    let mut tester = BlockingTester::activated(addr, 0x0E00);
    for _ in 0..1000 {
        tester.round_trip();
    }
    Figures::measure(sim_tid, || {
        let start = Instant::now();
        let mut n = 0;
        while start.elapsed() < MEASURE_FOR {
            tester.round_trip();
            n += 1;
        }
        n
    })
}

/// How many requests the pipelined tester keeps in flight on its one connection.
const IN_FLIGHT: usize = 16;

/// One connection whose tester sends [`IN_FLIGHT`] requests at a time: the simulator's work
/// per round trip on one connection, without one loopback latency per round trip.
fn one_connection_pipelined(addr: SocketAddr, sim_tid: i32) -> Figures {
    let mut tester = BlockingTester::activated(addr, 0x0E00);
    let batch = tester.request.repeat(IN_FLIGHT);
    for _ in 0..100 {
        tester.pipelined(&batch, IN_FLIGHT);
    }
    Figures::measure(sim_tid, || {
        let start = Instant::now();
        let mut n = 0;
        while start.elapsed() < MEASURE_FOR {
            tester.pipelined(&batch, IN_FLIGHT);
            n += IN_FLIGHT as u64;
        }
        n
    })
}

fn testers_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn many_connections(addr: SocketAddr, sim_tid: i32, connections: usize) -> Figures {
    let rt = testers_runtime();
    let mut testers = rt.block_on(async {
        let mut testers = Vec::new();
        for i in 0..connections {
            // Tester addresses 0x0E00.. are all allowed by the bench configuration.
            let mut t = Tester::activated(addr, 0x0E01 + i as u16).await;
            for _ in 0..100 {
                t.round_trip().await;
            }
            testers.push(t);
        }
        testers
    });
    Figures::measure(sim_tid, || {
        rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = testers
                .drain(..)
                .map(|mut t| {
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        while start.elapsed() < MEASURE_FOR {
                            t.round_trip().await;
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap();
            }
            total
        })
    })
}

/// The kernel's floor for the one-connection figure: two threads ping-ponging the same bytes
/// over loopback with blocking sockets (15-byte request, 27-byte answer), no simulator.
fn loopback_floor() -> f64 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let echo = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_nodelay(true).expect("nodelay");
        let (mut request, answer) = ([0u8; 15], [0u8; ANSWER_LEN]);
        while s.read_exact(&mut request).is_ok() {
            if s.write_all(&answer).is_err() {
                return;
            }
        }
    });
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_nodelay(true).expect("nodelay");
    let (request, mut answer) = ([0u8; 15], [0u8; ANSWER_LEN]);
    let mut ping = || {
        c.write_all(&request).expect("write");
        c.read_exact(&mut answer).expect("read");
    };
    for _ in 0..1000 {
        ping();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < MEASURE_FOR {
        ping();
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop(c);
    echo.join().expect("echo thread");
    rate
}

/// Resident set size of this process in bytes (Linux /proc/self/statm).
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Bytes of RSS per idle connection (both ends' user-space state in this process).
fn memory_per_idle_connection(addr: SocketAddr, connections: usize) -> Option<f64> {
    let rt = testers_runtime();
    rt.block_on(async {
        let before = rss()?;
        let mut idle = Vec::new();
        for _ in 0..connections {
            let s = TcpStream::connect(addr).await.ok()?;
            idle.push(s);
        }
        // Let the simulator accept and register all of them.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss()?;
        drop(idle);
        Some(after.saturating_sub(before) as f64 / connections as f64)
    })
}

fn main() {
    let mut config = SimConfig::ephemeral();
    config.max_tcp_sockets = 255;
    config.max_connections = 2000;
    config.tester_addresses = (0x0E00..0x0F00).collect();
    config.timing.t_tcp_initial_inactivity = ConfigDuration::from_millis(600_000);
    // The simulator on its own thread with a single-threaded runtime: one core.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let host = SimHost::start(config, FaultSet::NONE).await.expect("start");
            addr_tx.send((host.tcp_addr(), tid)).unwrap();
            let _ = stop_rx.await;
            host.shutdown().await;
        });
    });
    let (addr, sim_tid) = addr_rx.recv().unwrap();
    one_connection(addr, sim_tid).print("1 connection  ");
    println!(
        "sim_roundtrip: loopback floor: {:>7.0} round trips/s (two threads echoing the same bytes over blocking sockets, no simulator)",
        loopback_floor()
    );
    one_connection_pipelined(addr, sim_tid).print(&format!("1 connection, {IN_FLIGHT} in flight"));
    many_connections(addr, sim_tid, 64).print("64 connections");
    match memory_per_idle_connection(addr, 1000) {
        Some(per) => println!(
            "sim_roundtrip: memory per idle connection: {:.1} KiB (RSS delta over 1000, both ends; target < 64 KiB)",
            per / 1024.0
        ),
        None => println!("sim_roundtrip: memory per idle connection: not measurable here"),
    }
    let _ = stop_tx.send(());
    server.join().unwrap();
}
