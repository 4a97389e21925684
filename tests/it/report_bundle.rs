//! The evidence bundle end to end: `run --bundle` packs a run against the simulator (its
//! configuration too) and the run's page shows the manifest's digest, `report --verify` finds
//! it intact (and renders the page again from it, with the digest), then names the capture, and
//! the simulator configuration, in which one byte was changed.

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
    let given = "Bundle evidence.tar (10 files, manifest SHA-256 ";
    let at = console.find(given).map(|at| at + given.len()).expect(&console);
    let digest = &console[at..at + 64];
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{console}");
    // The run's page shows the digest given beside the bundle; the bundle's copy cannot.
    let page = std::fs::read_to_string(dir.path().join("r/report.html")).unwrap();
    assert!(page.contains(&format!("<code id=\"bundle-digest\">{digest}</code>")));
    let listing = tar_members(&dir.path().join("evidence.tar"));
    assert!(listing.iter().any(|m| m == "simulator.yaml"), "{listing:?}");

    let verify = |html: &[&str]| {
        let out =
            doipcheck().args(["report", "--verify", "evidence.tar"]).args(html).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, text) = verify(&["--html", "again.html"]);
    assert_eq!(code, Some(0), "{text}");
    let intact = format!("evidence.tar: 9 files intact, 0 changed; manifest SHA-256 {digest}");
    assert!(text.contains(&intact), "{text}");
    let again = std::fs::read_to_string(dir.path().join("again.html")).unwrap();
    assert!(again.contains("VID-EID-002[eid=00 00 00 00 00 00]"));
    assert!(again.contains(&format!("<code id=\"bundle-digest\">{digest}</code> (verified")));

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
    assert!(text.contains("8 files intact, 1 changed"), "{text}");

    // The simulator's configuration is a member like the others: a changed byte is named.
    let mut data = std::fs::read(&path).unwrap();
    data[header + 512 + 100] ^= 0xFF;
    let sim = (0..data.len()).step_by(512).find(|&at| data[at..].starts_with(b"simulator.yaml"));
    data[sim.unwrap() + 512 + 2] ^= 0x01;
    std::fs::write(&path, &data).unwrap();
    let (code, text) = verify(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("TAMPERED simulator.yaml: changed (SHA-256 "), "{text}");
    assert!(text.contains("8 files intact, 1 changed"), "{text}");
}

/// The member names of a ustar archive, in order.
fn tar_members(path: &std::path::Path) -> Vec<String> {
    let data = std::fs::read(path).unwrap();
    let mut names = Vec::new();
    let mut at = 0;
    while at + 512 <= data.len() && data[at] != 0 {
        let name = &data[at..at + 100];
        let name =
            String::from_utf8_lossy(&name[..name.iter().position(|&b| b == 0).unwrap_or(100)]);
        let size = std::str::from_utf8(&data[at + 124..at + 135]).unwrap().trim_matches('\0');
        let size = usize::from_str_radix(size.trim(), 8).unwrap();
        names.push(name.into_owned());
        at += 512 + size.div_ceil(512) * 512;
    }
    names
}
