//! `report --history` over 30 nightly runs: one real run against the simulator, copied 30
//! times with its start moved a day back each copy (so the folder order is the reverse of the
//! time order) and VID-001 failing every fifth night; the page orders the runs by their own
//! start and shows the case's strip and the timer against its limit.

use crate::report_baseline::{doipcheck, root};

#[test]
fn a_history_of_30_runs_is_ordered_by_their_start_and_shows_each_case_and_timer() {
    let dir = tempfile::tempdir().unwrap();
    let root = root();
    let doipcheck = || doipcheck(dir.path());
    let run = doipcheck()
        .arg("run")
        .arg(root.join("suites/doip/discovery.yaml"))
        .arg("--profile")
        .arg(root.join("suites/profile.yaml"))
        .args([
            "--plain",
            "--pcap",
            "none",
            "--case",
            "VID-001",
            "--case",
            "VID-EID-001",
            "-o",
            "r",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r/report.json")).unwrap()).unwrap();
    let day = 86_400_000_000u64;
    let start = report["run"]["wall_clock_unix_us"].as_u64().unwrap();
    for night in 0..30u64 {
        let mut copy = report.clone();
        // Folder 00 is the latest night.
        copy["run"]["wall_clock_unix_us"] = (start - night * day).into();
        let fails = night % 5 == 0;
        for case in copy["cases"].as_array_mut().unwrap() {
            if case["info"]["id"] == "VID-001" && fails {
                case["verdict"] = "fail".into();
                case["finished"]["verdict"] = "fail".into();
            }
        }
        let folder = dir.path().join(format!("nightly/{night:02}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("report.json"), serde_json::to_vec(&copy).unwrap()).unwrap();
    }
    let out =
        doipcheck().args(["report", "--history", "nightly", "--html", "h.html"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(dir.path().join("h.html")).unwrap();
    assert!(page.contains(r#"<span id="runs">30</span>"#), "{page}");
    // VID-001 changed status, so it comes first; oldest night first: nights 29..0, failing
    // at 25, 20, ..., 0.
    let strip = &page[page.find("<code>VID-001</code>").unwrap()..];
    let cells: Vec<&str> =
        strip.split("class=\"c ").skip(1).take(30).map(|s| &s[..s.find('"').unwrap()]).collect();
    let expected: Vec<&str> =
        (0..30).rev().map(|night| if night % 5 == 0 { "fail" } else { "pass" }).collect();
    assert_eq!(cells, expected);
    assert!(page.find("<code>VID-001</code>") < page.find("<code>VID-EID-001</code>"));
    assert_eq!(page.matches("class=\"bar failing\"").count(), 6);
    assert!(page.contains(r#"data-timer="vehicle_identification_latency""#), "{page}");
    assert!(page.contains("class=\"limit\""), "the timer's limit is drawn");
}
