//! A target that floods: every connection it accepts gets alive check requests as fast as
//! loopback takes them, for 5 s. `cargo bench --bench flood` runs the shipped framing and
//! alive-check suites (28 cases) against it, with the file reports, and prints the verdicts,
//! the time, the peak RSS of this process and the size of the reports: recording is bounded
//! per case (profile `recording.*`), so memory and reports stay small whatever the target
//! sends, and every case still ends with `fail`.

use doipcheck::report::{FileReports, MAX_REPORT_DIR_BYTES, ReportOptions};
use doipcheck::runner::{CaseEnv, RunOptions, TargetEndpoints, run};
use doipcheck::suite::{load, select};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// Alive check requests (ISO 13400-2:2019 payload type 0x0007), 512 per write.
fn burst() -> Vec<u8> {
    [0x02u8, 0xFD, 0x00, 0x07, 0, 0, 0, 0].iter().copied().cycle().take(8 * 512).collect()
}

async fn flooding_peer() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("bind loopback");
    let port = listener.local_addr().expect("local address").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let burst = burst();
                let end = Instant::now() + Duration::from_secs(5);
                while Instant::now() < end {
                    if s.write_all(&burst).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Peak resident set size of this process (VmHWM), in kB.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let suites = [root.join("suites/doip/framing.yaml"), root.join("suites/doip/alive.yaml")];
    let profile = load::load_profile(Some(&root.join("suites/profile.yaml")))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let loaded = load::load_suites(&suites, &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    let cases = select::select_cases(&loaded, &profile, &select::Filter::default());
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let result = runtime.block_on(async {
        let port = flooding_peer().await;
        let endpoints = TargetEndpoints {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tcp: port,
            udp: port,
            tls: port,
            can: None,
            simulator: None,
        };
        let env = CaseEnv {
            profile: Arc::new(profile),
            tls: None,
            connect_timeout: Duration::from_secs(2),
        };
        let options = RunOptions {
            target_label: "flooding peer".into(),
            profile_path: None,
            fail_fast: false,
            shard: None,
            repeat: 1,
        };
        let mut files = FileReports::new(ReportOptions::new(dir.path()));
        let (_cancel, cancel_rx) = tokio::sync::watch::channel(None);
        run(cases, env, vec![endpoints], options, &mut files, cancel_rx).await
    });
    let took = started.elapsed();
    let c = result.counts;
    println!(
        "flood: {} cases in {:.1} s: {} passed, {} failed, {} inconclusive, {} errors, {} skipped",
        c.total(),
        took.as_secs_f64(),
        c.pass,
        c.fail,
        c.inconclusive,
        c.error,
        c.skipped
    );
    println!(
        "  peak RSS {:.1} MB; reports {:.1} MiB (junit.xml {:.1} KiB, report.json {:.1} MiB, captures {:.1} MiB) (targets: under 64 MiB RSS, under 32 MiB of reports)",
        peak_rss_kb() as f64 / 1024.0,
        size_of(dir.path()) as f64 / 1048576.0,
        size_of(&dir.path().join("junit.xml")) as f64 / 1024.0,
        size_of(&dir.path().join("report.json")) as f64 / 1048576.0,
        size_of(&dir.path().join("captures")) as f64 / 1048576.0
    );
    assert_eq!(c.error, 0, "a flood is the target's doing: fail, never error");
    assert!(size_of(dir.path()) < MAX_REPORT_DIR_BYTES, "the report folder is over its bound");
}
