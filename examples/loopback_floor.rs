//! The floor under `doipcheck fuzz` against the built-in simulator: what loopback TCP alone
//! costs, measured the way the fuzzer uses it (one current-thread runtime with the client and
//! the server taking turns, TCP_NODELAY, every read and write through tokio), with no DoIP, no
//! judge and no simulator. Prints the CPU time (user and kernel, getrusage) of
//!
//! - a round trip on an open connection (16 bytes each way: a case and its barrier's answer),
//! - a connection's whole life: connect, accept, one round trip (the routing activation),
//!   our FIN, the server's end.
//!
//! `cargo run --release --example loopback_floor [round trips] [connections]`. A fuzz case
//! costs at least its round trips plus its share of connections (`doipcheck fuzz --json`
//! counts neither; docs/architecture.md#live-fuzzing gives the mix).

#[path = "../benches/support/cpu_time.rs"]
mod cpu_time;

use cpu_time::{Who, user_and_kernel};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Echoes 16-byte messages until the peer closes.
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

fn report(what: &str, count: u64, start: (f64, f64, Instant)) {
    let (user, kernel) = user_and_kernel(Who::Me);
    let (user, kernel) = (user - start.0, kernel - start.1);
    let per = |s: f64| s * 1e6 / count as f64;
    println!(
        "loopback_floor: {what}: {count} in {:.2} s wall; {:.1} µs CPU each ({:.1} user + {:.1} kernel)",
        start.2.elapsed().as_secs_f64(),
        per(user + kernel),
        per(user),
        per(kernel),
    );
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("a count"));
    let trips = args.next().unwrap_or(200_000);
    let connections = args.next().unwrap_or(50_000);
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s));
            }
        });
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        let (u, k) = user_and_kernel(Who::Me);
        let start = (u, k, Instant::now());
        for _ in 0..trips {
            round_trip(&mut s).await;
        }
        report("round trip on an open connection", trips, start);
        drop(s);
        let (u, k) = user_and_kernel(Who::Me);
        let start = (u, k, Instant::now());
        for _ in 0..connections {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).expect("nodelay");
            round_trip(&mut s).await;
            s.shutdown().await.expect("FIN");
        }
        report("connection with one round trip and our FIN", connections, start);
    });
}
