//! The floor under `doipcheck fuzz` against a local target: what loopback TCP alone costs,
//! measured the way the fuzzer uses it (one current-thread runtime with the client and the
//! server taking turns, TCP_NODELAY, every read and write through tokio), with no DoIP, no
//! judge and no simulator. Included by `examples/loopback_floor.rs` and `benches/fuzz_live.rs`
//! (`#[path = "support/loopback_floor.rs"] mod loopback_floor;`, beside `cpu_time`).

use super::cpu_time::{Who, user_and_kernel};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// CPU time (user + kernel, this process) of one operation, and the wall time of them all.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // the bench reads the CPU time only
pub struct Cost {
    pub user_us: f64,
    pub kernel_us: f64,
    pub wall_s: f64,
}

impl Cost {
    pub fn total_us(&self) -> f64 {
        self.user_us + self.kernel_us
    }
}

/// What the floor is made of.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// A round trip on an open connection (16 bytes each way: a case and its barrier's
    /// answer).
    pub round_trip: Cost,
    /// A connection's whole life: connect, accept, one round trip (the routing activation),
    /// our FIN, the server's end.
    pub connection: Cost,
}

/// Echoes what it reads until the peer closes.
async fn serve(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf).await {
        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn round_trip(s: &mut TcpStream) {
    let mut buf = [0u8; 16];
    s.write_all(&[0x5A; 16]).await.expect("write");
    s.read_exact(&mut buf).await.expect("read");
}

fn cost_since(start: (f64, f64, Instant), count: u64) -> Cost {
    let (user, kernel) = user_and_kernel(Who::Me);
    let per = |s: f64| s * 1e6 / count.max(1) as f64;
    Cost {
        user_us: per(user - start.0),
        kernel_us: per(kernel - start.1),
        wall_s: start.2.elapsed().as_secs_f64(),
    }
}

fn mark() -> (f64, f64, Instant) {
    let (u, k) = user_and_kernel(Who::Me);
    (u, k, Instant::now())
}

/// Measures `trips` round trips on one connection, then `connections` connections' lives.
pub fn measure(trips: u64, connections: u64) -> Floor {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s));
            }
        });
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        let start = mark();
        for _ in 0..trips {
            round_trip(&mut s).await;
        }
        let round_trip_cost = cost_since(start, trips);
        drop(s);
        let start = mark();
        for _ in 0..connections {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).expect("nodelay");
            round_trip(&mut s).await;
            s.shutdown().await.expect("FIN");
        }
        let connection = cost_since(start, connections);
        server.abort();
        Floor { round_trip: round_trip_cost, connection }
    })
}
