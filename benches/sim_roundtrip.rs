//! Simulator throughput and footprint over loopback TCP: diagnostic request/response round
//! trips per second on 1 and on 64 connections (the simulator runs on one single-threaded
//! runtime, i.e. one core; the testers on another thread), and the memory of idle connections.
//!
//! `cargo bench --bench sim_roundtrip` prints the figures and the allocations per round trip
//! (both ends, counted by a global allocator; targets: >= 100 000 round trips/s on one core,
//! < 64 KiB per idle connection).
//!
//! One connection is a ping-pong bound by loopback latency, not by the simulator's CPU: per
//! round trip the simulator makes the fewest system calls possible (one `epoll_wait`, one
//! `recvfrom`, one `sendto` with the ACK and the answer coalesced; seen with `strace -f`), and
//! `perf` puts about two thirds of its thread's time and most of the tester's in the kernel's
//! TCP loopback path. With 64 connections the simulator's core is the limit.
//!
//! On a virtual machine a ping-pong between two cores also pays the hypervisor's wake-up of the
//! idle core on every message: on one such 2-core machine two plain Python processes echoing
//! 15 bytes over loopback made 10 200 round trips/s pinned to different cores and 137 000 in
//! one process, and this bench 10 000-11 500 on one connection. `taskset -c 0` (tester and
//! simulator on one core, the target's "on one core") measures the simulator instead: 96 700.
//!
//! Where the time goes (measured again on a 2-core VM with a load average of 7 from other
//! builds, where the figures themselves were 24 000-26 000 and 26 000-34 000): `strace -f -c`
//! counts per round trip, both ends together, 2.0 `sendto`, 2.1 `recvfrom`, 1.5 `epoll_wait` and
//! 0.6 `futex` (the testers' multi-thread runtime waking its worker); `perf record -g` puts 78%
//! of all samples in the kernel (loopback TCP, scheduling: `finish_task_switch` alone 10%), and
//! the entity's own work, robustness-fault bookkeeping included, below 1.5%
//! (`handle_tcp_data` 0.6%, `poll_timeout` 0.4%). 7 allocations per round trip, both ends.

use doipcheck::codec::doip::{
    ActivationType, Deframed, Deframer, DiagnosticMessage, Message, Payload, ProtocolVersion,
    RoutingActivationRequest,
};
use doipcheck::sim::config::{ConfigDuration, SimConfig};
use doipcheck::sim::faults::FaultSet;
use doipcheck::transport::doip::sim_host::SimHost;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

const ENTITY: u16 = 0x0010;
const MEASURE_FOR: Duration = Duration::from_secs(3);

fn bytes(payload: Payload<'_>) -> Vec<u8> {
    Message::new(ProtocolVersion::Iso2012, payload).to_bytes()
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
        let request =
            bytes(Payload::DiagnosticMessage(DiagnosticMessage::new(sa, ENTITY, vec![0x3E, 0x00])));
        let mut t = Tester { stream, buf: Vec::new(), deframer: Deframer::new(u32::MAX), request };
        let activation = RoutingActivationRequest::new(sa, ActivationType::Default);
        t.stream.write_all(&bytes(Payload::RoutingActivationRequest(activation))).await.unwrap();
        t.messages(1).await;
        t
    }

    /// Reads until `n` messages have arrived.
    async fn messages(&mut self, n: usize) {
        let mut got = 0;
        let mut chunk = [0u8; 4096];
        loop {
            loop {
                match self.deframer.next(&self.buf) {
                    Deframed::Message { len, .. } => {
                        self.buf.drain(..len);
                        got += 1;
                        if got == n {
                            return;
                        }
                    }
                    Deframed::NeedMore { .. } => break,
                    other => panic!("{other:?}"),
                }
            }
            let read = self.stream.read(&mut chunk).await.expect("read");
            assert!(read > 0, "the simulator closed the connection");
            self.buf.extend_from_slice(&chunk[..read]);
        }
    }

    /// Tester present `3E 00`: diagnostic ACK, then `7E 00`.
    async fn round_trip(&mut self) {
        self.stream.write_all(&self.request).await.unwrap();
        self.messages(2).await;
    }
}

fn testers_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

/// Round trips per second with `connections` testers each looping request -> answer, and the
/// allocations per round trip (both ends, this process).
fn round_trips(addr: SocketAddr, connections: usize) -> (f64, f64) {
    let rt = testers_runtime();
    rt.block_on(async {
        let mut testers = Vec::new();
        for i in 0..connections {
            // Tester addresses 0x0E00.. are all allowed by the bench configuration.
            testers.push(Tester::activated(addr, 0x0E00 + i as u16).await);
        }
        // Warm up.
        for t in &mut testers {
            for _ in 0..100 {
                t.round_trip().await;
            }
        }
        let start = Instant::now();
        let allocations = counting_alloc::allocations();
        let mut tasks = Vec::new();
        for mut t in testers {
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < MEASURE_FOR {
                    t.round_trip().await;
                    n += 1;
                }
                n
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        let allocations = counting_alloc::allocations() - allocations;
        (total as f64 / start.elapsed().as_secs_f64(), allocations as f64 / total.max(1) as f64)
    })
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
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let host = SimHost::start(config, FaultSet::NONE).await.expect("start");
            addr_tx.send(host.tcp_addr()).unwrap();
            let _ = stop_rx.await;
            host.shutdown().await;
        });
    });
    let addr = addr_rx.recv().unwrap();
    let (one, one_allocs) = round_trips(addr, 1);
    println!(
        "sim_roundtrip: 1 connection:   {one:>9.0} round trips/s, {one_allocs:.1} allocations per round trip (target >= 100000 on one core)"
    );
    let (many, many_allocs) = round_trips(addr, 64);
    println!(
        "sim_roundtrip: 64 connections: {many:>9.0} round trips/s, {many_allocs:.1} allocations per round trip"
    );
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
