//! The evidence bundle end to end: `run --bundle` packs a run against the simulator, `report
//! --verify` finds it intact (and renders the page again from it), then names the capture in
//! which one byte was changed.

use crate::report_baseline::{doipcheck, root};

#[test]
fn a_bundle_verifies_and_a_byte_changed_in_a_capture_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = root();
    let doipcheck = || doipcheck(dir.path());
    let run = doipcheck()
        .arg("run")
        .arg(root.join("suites/doip/discovery.yaml"))
        .arg("--profile")
        .arg(root.join("suites/profile.yaml"))
        .args(["--plain", "--sim-fault", "answers_mismatched_eid", "--case", "VID-EID-002[eid=00*"])
        .args(["--case", "VID-001", "-o", "r", "--bundle", "evidence.tar"])
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{console}");
    assert!(console.contains("Bundle evidence.tar (9 files, manifest SHA-256 "), "{console}");

    let verify = |html: &[&str]| {
        let out =
            doipcheck().args(["report", "--verify", "evidence.tar"]).args(html).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, text) = verify(&["--html", "again.html"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("evidence.tar: 8 files intact, 0 changed; manifest SHA-256 "), "{text}");
    let again = std::fs::read_to_string(dir.path().join("again.html")).unwrap();
    assert!(again.contains("VID-EID-002[eid=00 00 00 00 00 00]"));

    // One byte of the capture changed: its name, the rest intact.
    let path = dir.path().join("evidence.tar");
    let mut data = std::fs::read(&path).unwrap();
    let capture = "captures/0001-VID-EID-002_eid_00_00_00_00_00_00_.pcapng";
    // Its header: the name at the start of a 512-byte block (report.json names it too).
    let header = (0..data.len())
        .step_by(512)
        .find(|&at| data[at..].starts_with(capture.as_bytes()))
        .unwrap();
    data[header + 512 + 100] ^= 0xFF;
    std::fs::write(&path, &data).unwrap();
    let (code, text) = verify(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("TAMPERED {capture}: changed (SHA-256 ")), "{text}");
    assert!(text.contains("7 files intact, 1 changed"), "{text}");
}
