//! Runs tshark (Wireshark 4.x, installed by .ci/run) over captures we write.
//!
//! Shared by the capture tests: [`tshark_or_skip`] finds the binary (a missing tshark is a
//! failure under CI=true and a printed skip elsewhere), [`fields`] lists dissected fields.

use std::path::Path;
use std::process::Command;

/// True when tshark can run. Panics when it cannot and CI=true; otherwise prints why the
/// calling test is skipped.
pub fn tshark_or_skip(test: &str) -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: tshark is not installed (.ci/run installs it)");
    }
    eprintln!("SKIP {test}: tshark is not installed (apt-get install tshark)");
    false
}

/// The values of `fields` for every packet `filter` matches, in two-pass mode (so TCP analysis
/// and reassembly see the whole file). Each row has one string per field; a field occurring
/// several times in a packet (two DoIP messages in one segment) is comma-separated.
pub fn fields(capture: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-2").arg("-r").arg(capture).args(["-Y", filter, "-T", "fields"]);
    cmd.args(["-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("tshark prints UTF-8")
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Packets tshark calls malformed or flags with an error-level expert note, and TCP segments
/// its sequence analysis flags (lost, out of order, retransmitted, ACKed unseen...): each row is
/// frame number and protocol stack.
pub fn problems(capture: &Path) -> Vec<Vec<String>> {
    fields(
        capture,
        "_ws.malformed || _ws.expert.severity >= error || tcp.analysis.flags",
        &["frame.number", "frame.protocols", "_ws.expert.message"],
    )
}
