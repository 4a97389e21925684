//! A finding on disk: `DIR/NNNN/` with `repro.yaml` (a suite case `doipcheck run` replays),
//! `finding.json` (seed, case index, state, oracle, timing, the minimized cases) and, once the
//! repro has run, `repro.pcapng` (the capture of that run). Numbers continue after the
//! directories already in DIR, so findings of earlier runs stay.

use super::live::LiveFinding;
use super::model::repro::{ReproInput, repro_yaml};
use crate::notation::hex_spaced;
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

/// Writes `DIR/NNNN/repro.yaml` and `finding.json`; returns the directory.
pub fn write_finding(
    dir: &Path,
    number: u32,
    seed: u64,
    finding: &LiveFinding,
    mid_prefix: &[u8],
) -> std::io::Result<PathBuf> {
    let out = dir.join(format!("{number:04}"));
    std::fs::create_dir_all(&out)?;
    let yaml = repro_yaml(&ReproInput {
        number,
        seed,
        cases: &finding.cases,
        oracle: &finding.oracle,
        detail: &finding.detail,
        mid_message_prefix: mid_prefix,
    });
    std::fs::write(out.join("repro.yaml"), yaml)?;
    let json = finding_json(number, seed, finding, None);
    std::fs::write(out.join("finding.json"), serde_json::to_string_pretty(&json)? + "\n")?;
    Ok(out)
}

/// finding.json's content; `repro` is what running repro.yaml gave (added after the run).
pub fn finding_json(
    number: u32,
    seed: u64,
    f: &LiveFinding,
    repro: Option<serde_json::Value>,
) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = f
        .cases
        .iter()
        .map(|c| {
            serde_json::json!({
                "index": c.index,
                "state": c.state.name(),
                "mutation": c.mutation,
                "payload_type": format!("0x{:04X}", c.payload_type),
                "messages": c.message_count(),
                "actions": c.actions.iter().map(action_text).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut json = serde_json::json!({
        "finding": number,
        "seed": seed,
        "case_index": f.case_index,
        "state": f.state.name(),
        "shape": f.shape,
        "oracle": f.oracle.name(),
        "detail": f.detail,
        "found_after_ms": f.found_after.as_millis() as u64,
        "reproduced": f.reproduced,
        "minimization_trials": f.trials,
        "messages": f.cases.iter().map(|c| c.message_count()).sum::<usize>(),
        "cases": cases,
    });
    if let Some(r) = repro {
        json["repro"] = r;
    }
    json
}

fn action_text(a: &super::model::Action) -> String {
    use super::model::Action;
    match a {
        Action::Send(b) => format!("send {}", hex_spaced(b)),
        Action::Drip { bytes, chunks } => format!("drip {:?} {}", chunks, hex_spaced(bytes)),
        Action::SecondSocket(b) => format!("second socket {}", hex_spaced(b)),
        Action::Close => "close".into(),
        Action::Udp(b) => format!("udp {}", hex_spaced(b)),
    }
}
