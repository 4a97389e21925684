//! DoIP codec throughput: deframe and fully parse (a) 1 M copies of the 15-byte diagnostic
//! message `02 fd 80 01 00 00 00 07 0e 00 10 00 22 f1 90`, and of an alive check response, and
//! (b) 20 000 diagnostic messages with 4096 bytes of user data. Prints messages/s, MB/s and
//! heap allocations per message (a counting global allocator proves the parse path borrows
//! payloads from the stream buffer instead of allocating).
//!
//! Run: `cargo bench --bench doip_codec`. Targets: at least 40 M small messages/s,
//! at least 18 GB/s on (b), zero allocations per message.

use doipcheck::codec::doip::{Deframed, Deframer, Message, Payload};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

const DIAG: [u8; 15] =
    [0x02, 0xFD, 0x80, 0x01, 0x00, 0x00, 0x00, 0x07, 0x0E, 0x00, 0x10, 0x00, 0x22, 0xF1, 0x90];
const ALIVE_RESPONSE: [u8; 10] = [0x02, 0xFD, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x0E, 0x00];
/// Runs per case; the best is reported (the machine is shared). "wall" is elapsed time, "cpu"
/// the time this thread was on a CPU (the same on an idle machine; lower on a loaded one).
const RUNS: usize = 7;

/// Deframes and fully parses `stream`, touching every field; returns (messages, checksum).
#[inline(never)]
fn deframe_and_parse(stream: &[u8], deframer: &mut Deframer) -> (u64, u64) {
    let mut pos = 0;
    let mut messages = 0u64;
    let mut checksum = 0u64;
    loop {
        match deframer.next(&stream[pos..]) {
            Deframed::Message { message, len } => {
                checksum = checksum.wrapping_add(summarize(&message));
                messages += 1;
                pos += len;
            }
            Deframed::NeedMore { .. } => break,
            other => panic!("unexpected {other:?} at {pos}"),
        }
    }
    assert_eq!(pos, stream.len());
    (messages, checksum)
}

#[inline(always)]
fn summarize(message: &Message<'_>) -> u64 {
    match &message.payload {
        Payload::DiagnosticMessage(d) => {
            let data = black_box(&d.user_data[..]);
            u64::from(d.source_address) ^ u64::from(d.target_address) ^ data.len() as u64
        }
        Payload::AliveCheckResponse(a) => u64::from(a.source_address),
        other => other.payload_len() as u64,
    }
}

/// The time this thread has spent on a CPU (`CLOCK_THREAD_CPUTIME_ID`), so a shared, loaded
/// machine does not count other processes' time against us. Linux only; `None` elsewhere.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

fn bench(name: &str, stream: &[u8], expected: u64) {
    let mut best_wall = Duration::MAX;
    let mut best_cpu = Duration::MAX;
    let mut allocations = 0;
    for _ in 0..RUNS {
        let mut deframer = Deframer::new(u32::MAX);
        let cpu_start = thread_cpu_time();
        let before = counting_alloc::allocations();
        let start = Instant::now();
        let (messages, checksum) = deframe_and_parse(black_box(stream), &mut deframer);
        let wall = start.elapsed();
        allocations = counting_alloc::allocations() - before;
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_time()) {
            best_cpu = best_cpu.min(b.saturating_sub(a));
        }
        black_box(checksum);
        assert_eq!(messages, expected);
        best_wall = best_wall.min(wall);
    }
    let report = |clock: &str, d: Duration| {
        let secs = d.as_secs_f64().max(1e-9);
        println!(
            "{name:<50} {clock:<4} {expected:>8} msgs {:>9.3} ms {:>7.1} M msg/s {:>10.1} MB/s",
            secs * 1e3,
            expected as f64 / secs / 1e6,
            stream.len() as f64 / secs / 1e6,
        );
    };
    report("wall", best_wall);
    if best_cpu != Duration::MAX {
        report("cpu", best_cpu);
    }
    println!("{name:<50} allocations per message: {}", allocations as f64 / expected as f64);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: both run it.
    let small = 1_000_000;
    let diag_stream = DIAG.repeat(small);
    bench("(a) 1 M diagnostic messages, 15 B", &diag_stream, small as u64);
    let alive_stream = ALIVE_RESPONSE.repeat(small);
    bench("(a) 1 M alive check responses, 10 B", &alive_stream, small as u64);
    let mixed: Vec<u8> = DIAG.iter().chain(ALIVE_RESPONSE.iter()).copied().collect();
    bench("(a) 1 M diagnostic + alive check, interleaved", &mixed.repeat(small / 2), small as u64);

    let large = 20_000;
    let big = Message::new(
        doipcheck::codec::doip::ProtocolVersion::Iso2012,
        Payload::DiagnosticMessage(doipcheck::codec::doip::DiagnosticMessage::new(
            0x0E00,
            0x1000,
            (0..4096u32).map(|i| i as u8).collect::<Vec<u8>>(),
        )),
    )
    .to_bytes();
    bench("(b) 20 000 diagnostic messages, 4096 B user data", &big.repeat(large), large as u64);
}
