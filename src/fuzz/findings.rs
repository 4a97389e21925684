//! A finding on disk: `DIR/NNNN/` with `repro.yaml` (a suite case `doipcheck run` replays),
//! `finding.json` (seed, case index, state, oracle, timing, the minimized cases) and, once the
//! repro has run, `repro.pcapng` (the capture of that run). Numbers continue after the
//! directories already in DIR, so findings of earlier runs stay.

use super::drive::{LiveCase, LiveFinding};
use std::path::{Path, PathBuf};

/// The first free finding number in `dir`.
pub fn next_number(dir: &Path) -> u32 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 1 };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .max()
        .map_or(1, |n| n + 1)
}

/// Writes `DIR/NNNN/repro.yaml` (the text `repro`) and `finding.json`; returns the directory.
pub fn write_finding<C: LiveCase>(
    dir: &Path,
    number: u32,
    seed: u64,
    finding: &LiveFinding<C>,
    repro: &str,
) -> std::io::Result<PathBuf> {
    let out = dir.join(format!("{number:04}"));
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("repro.yaml"), repro)?;
    let json = finding_json(number, seed, finding, None);
    std::fs::write(out.join("finding.json"), serde_json::to_string_pretty(&json)? + "\n")?;
    Ok(out)
}

/// finding.json's content; `repro` is what running repro.yaml gave (added after the run).
pub fn finding_json<C: LiveCase>(
    number: u32,
    seed: u64,
    f: &LiveFinding<C>,
    repro: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut json = serde_json::json!({
        "finding": number,
        "seed": seed,
        "case_index": f.case_index,
        "state": f.state,
        "shape": f.shape,
        "oracle": f.oracle.name(),
        "detail": f.detail,
        "found_after_ms": f.found_after.as_millis() as u64,
        "reproduced": f.reproduced,
        "minimization_trials": f.trials,
        "minimization_cut_short": f.cut_short,
        "messages": f.message_count(),
        "cases": f.cases.iter().map(LiveCase::json).collect::<Vec<_>>(),
    });
    if let Some(r) = repro {
        json["repro"] = r;
    }
    json
}
