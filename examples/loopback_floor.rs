//! The floor under `doipcheck fuzz` against the built-in simulator: what loopback TCP alone
//! costs (`benches/support/loopback_floor.rs`). Prints the CPU time (user and kernel,
//! getrusage) of
//!
//! - a round trip on an open connection (16 bytes each way: a case and its barrier's answer),
//! - a connection's whole life: connect, accept, one round trip (the routing activation),
//!   our FIN, the server's end.
//!
//! `cargo run --release --example loopback_floor [round trips] [connections]`. A fuzz case
//! costs at least its round trip plus its share of connections (`doipcheck fuzz --json`
//! counts `connections`; `cargo bench --bench fuzz_live` prices a run's mix with this floor).

#[path = "../benches/support/cpu_time.rs"]
mod cpu_time;
#[path = "../benches/support/loopback_floor.rs"]
mod loopback_floor;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("a count"));
    let trips = args.next().unwrap_or(200_000);
    let connections = args.next().unwrap_or(50_000);
    let floor = loopback_floor::measure(trips, connections);
    for (what, count, cost) in [
        ("round trip on an open connection", trips, floor.round_trip),
        ("connection with one round trip and our FIN", connections, floor.connection),
    ] {
        println!(
            "loopback_floor: {what}: {count} in {:.2} s wall; {:.1} µs CPU each ({:.1} user + {:.1} kernel)",
            cost.wall_s,
            cost.total_us(),
            cost.user_us,
            cost.kernel_us,
        );
    }
}
