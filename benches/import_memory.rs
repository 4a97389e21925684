//! `doipcheck import` memory on large synthetic captures: the import streams each
//! conversation's case to its files as the conversation ends and cuts a long one into parts
//! (`MAX_CASE_BYTES`), so its peak memory stays flat as the capture grows.
//!
//! Prints, per capture (10 k and 100 k packets in connections of 100 exchanges; 100 k packets
//! on one connection), the peak RSS of a child process importing it, the cases and files it
//! wrote and the time it took.
//!
//! Run: `cargo bench --bench import_memory`.

use std::io::BufWriter;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use doipcheck::cli::import::{ImportFlags, import_file};
use doipcheck::cli::suite_files::SuiteFiles;

#[path = "support/synthetic_capture.rs"]
mod synthetic_capture;
use synthetic_capture::{Shape, write_capture};

/// Child mode: import `capture` into `out`, print cases, files, bytes written and peak RSS.
fn rss_child(capture: &Path, out: &Path) {
    let mut files = SuiteFiles::new(Some(out));
    let flags = ImportFlags::default();
    let imported = import_file(capture, None, "import-bench", &flags, &mut files)
        .unwrap_or_else(|_| panic!("import of {} failed", capture.display()));
    let bytes: u64 =
        imported.files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("VmHWM: ?");
    println!(
        "{} {} {bytes} {}",
        imported.cases,
        imported.files.len(),
        hwm.split_whitespace().nth(1).unwrap_or("?")
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--rss-child") {
        rss_child(Path::new(&args[at + 1]), Path::new(&args[at + 2]));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let many = Shape { exchanges_per_connection: 100, with_answer: false };
    let one = Shape { exchanges_per_connection: u64::MAX, with_answer: false };
    // A connection of E exchanges is 2 E + 8 packets and 2 E + 2 messages.
    for (label, shape, messages) in [
        ("10 k packets, connections of 100 exchanges", many, 9_700),
        ("100 k packets, connections of 100 exchanges", many, 97_000),
        ("100 k packets on one connection", one, 100_000),
    ] {
        let capture = dir.path().join("capture.pcap");
        let file = BufWriter::new(std::fs::File::create(&capture).unwrap());
        let (_, packets) = write_capture(file, messages, shape);
        let size = std::fs::metadata(&capture).unwrap().len();
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let t0 = Instant::now();
        let child = Command::new(&exe)
            .arg("--rss-child")
            .arg(&capture)
            .arg(out.join("suite.yaml"))
            .output()
            .unwrap();
        let took = t0.elapsed();
        let text = String::from_utf8_lossy(&child.stdout);
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [cases, files, bytes, kb] = fields[..] else {
            panic!("child said {text:?}, {}", String::from_utf8_lossy(&child.stderr));
        };
        println!(
            "{label:<45} {packets:>7} packets ({:.1} MB): peak RSS {kb} kB, {cases} cases in {files} file(s), {:.1} MB of YAML, {:.2} s",
            size as f64 / 1e6,
            bytes.parse::<f64>().unwrap_or(0.0) / 1e6,
            took.as_secs_f64()
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}
