//! A finding on disk: `DIR/NNNN/` with `repro.yaml` (a suite case `doipcheck run` replays),
//! `finding.json` (seed, case index, state, oracle, timing, the minimized cases, whether it is
//! confirmed and why) and, once the repro has run, `repro.pcapng` (the capture of that run).
//! Numbers continue after the directories already in DIR, so findings of earlier runs stay.
//!
//! A finding is confirmed only by its own symptom: its repro fails at one of the steps that
//! state its oracle (the same dead service, the same socket rule), or, where no step states
//! it (a reply rule, a flood, the monitor), the fuzzer's replay on a restored target showed
//! the same oracle again. An exit code of 1 alone confirms nothing.

use super::drive::{LiveCase, LiveFinding};
use super::model::repro::Oracle;
use core::ops::Range;
use std::path::{Path, PathBuf};

/// A finding written to its directory, with what its confirmation needs.
#[derive(Debug, Clone)]
pub struct WrittenFinding<C> {
    pub dir: PathBuf,
    pub number: u32,
    pub finding: LiveFinding<C>,
    /// The repro's steps that state the oracle ([`super::model::repro::Repro::symptom_steps`]).
    pub symptom_steps: Option<Range<u32>>,
}

/// What one run of a repro gave, as its report says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReproRun {
    /// Every step passed.
    Passed,
    /// The case failed: at this step of its `steps` (index and kind), with this message.
    Failed { step: Option<(u32, String)>, message: String },
    /// The run gave no pass/fail verdict (inconclusive, error, unreachable): what it said.
    NoVerdict(String),
}

/// Whether a finding is confirmed, and why (finding.json's `confirmation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub confirmed: bool,
    pub why: String,
}

impl Confirmation {
    /// finding.json's `confirmation` object.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "status": if self.confirmed { "confirmed" } else { "unconfirmed" },
            "why": self.why,
        })
    }
}

/// Judges a finding by its symptom: `target` is what its repro gave against the fuzzed target
/// (`None`: not run, `--no-confirm`), `conformant` against the conformant simulator (`None`:
/// not a simulator fault, or not run).
pub fn confirm<C>(
    finding: &LiveFinding<C>,
    symptom_steps: Option<&Range<u32>>,
    target: Option<&ReproRun>,
    conformant: Option<&ReproRun>,
) -> Confirmation {
    let oracle = &finding.oracle;
    let unconfirmed = |why: String| Confirmation { confirmed: false, why };
    if let (Oracle::Rule(id), Some(run)) = (oracle, target) {
        return confirm_rule(id, run, conformant);
    }
    let (Some(steps), Some(run)) = (symptom_steps, target) else {
        // Only the fuzzer's own replay can say: the same oracle again on a restored target.
        let how = match (symptom_steps, target) {
            (_, None) => "repro.yaml not run (--no-confirm)",
            _ => "no step of a suite states it, so repro.yaml replays the traffic only",
        };
        return if finding.cut_short {
            unconfirmed(format!("--duration cut the fuzzer's replay short; {how}"))
        } else if finding.reproduced {
            Confirmation {
                confirmed: true,
                why: format!(
                    "the fuzzer's replay on a restored target showed {oracle} again; {how}"
                ),
            }
        } else {
            unconfirmed(format!(
                "the fuzzer's replay on a restored target did not show {oracle} again; {how}"
            ))
        };
    };
    let symptom = format!("steps {}..{} ({oracle})", steps.start, steps.end);
    match run {
        ReproRun::Passed => unconfirmed("repro.yaml passed against the target".into()),
        ReproRun::NoVerdict(why) => unconfirmed(format!("repro.yaml gave no verdict: {why}")),
        ReproRun::Failed { step: Some((index, kind)), message } if !steps.contains(index) => {
            unconfirmed(format!(
                "repro.yaml failed at step {index} ({kind}: {message}), not at {symptom}: another symptom"
            ))
        }
        ReproRun::Failed { step: None, message } => {
            unconfirmed(format!("repro.yaml failed outside its steps ({message}), not at {symptom}"))
        }
        ReproRun::Failed { step: Some((index, kind)), .. } => match conformant {
            Some(ReproRun::Passed) | None => Confirmation {
                confirmed: true,
                why: format!(
                    "repro.yaml fails against the target at step {index} ({kind}), one of {symptom}"
                ),
            },
            Some(_) => unconfirmed(
                "repro.yaml does not pass against the conformant simulator either: the failure is not the fault's"
                    .into(),
            ),
        },
    }
}

/// A rule of the judge is confirmed when the repro's run (whose judge reads every message of
/// the case) fails on the same rule, by its id, and passes against the conformant simulator.
fn confirm_rule(id: &str, target: &ReproRun, conformant: Option<&ReproRun>) -> Confirmation {
    let unconfirmed = |why: String| Confirmation { confirmed: false, why };
    let broken = |run: &ReproRun| match run {
        ReproRun::Failed { message, .. } => {
            crate::judge::Finding::rule_of_line(message).map(|rule| rule.id)
        }
        _ => None,
    };
    match (target, broken(target)) {
        (_, Some(rule)) if rule == id => match conformant {
            Some(ReproRun::Passed) | None => Confirmation {
                confirmed: true,
                why: format!("repro.yaml breaks rule {id} again against the target"),
            },
            Some(_) => unconfirmed(
                "repro.yaml does not pass against the conformant simulator either: the failure is not the fault's"
                    .into(),
            ),
        },
        (_, Some(other)) => {
            unconfirmed(format!("repro.yaml broke rule {other}, not {id}: another symptom"))
        }
        (ReproRun::Failed { message, .. }, None) => {
            unconfirmed(format!("repro.yaml failed ({message}), not on rule {id}"))
        }
        (ReproRun::Passed, None) => {
            unconfirmed(format!("repro.yaml passed against the target: rule {id} held"))
        }
        (ReproRun::NoVerdict(why), None) => unconfirmed(format!("repro.yaml gave no verdict: {why}")),
    }
}

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
    let json = finding_json(number, seed, finding, None, None);
    std::fs::write(out.join("finding.json"), serde_json::to_string_pretty(&json)? + "\n")?;
    Ok(out)
}

/// finding.json's content; `repro` is what running repro.yaml gave and `confirmation` the
/// judgement (both added after the run).
pub fn finding_json<C: LiveCase>(
    number: u32,
    seed: u64,
    f: &LiveFinding<C>,
    repro: Option<serde_json::Value>,
    confirmation: Option<&Confirmation>,
) -> serde_json::Value {
    let mut json = serde_json::json!({
        "finding": number,
        "seed": seed,
        "case_index": f.case_index,
        "state": f.state,
        "transport": f.transport(),
        "shape": f.shape,
        "oracle": f.oracle.name(),
        "rule": match f.oracle {
            Oracle::Rule(id) => crate::judge::rules::by_id(id).map(|r| serde_json::json!({
                "id": r.id, "clause": r.clause, "requirement": r.requirement,
            })),
            _ => None,
        },
        "detail": f.detail,
        "found_after_ms": f.found_after.as_millis() as u64,
        "reproduced": f.reproduced,
        "minimization_trials": f.trials,
        "minimization_cut_short": f.cut_short,
        "messages": f.message_count(),
        "window_cases": f.window,
        "cases": f.cases.iter().map(LiveCase::json).collect::<Vec<_>>(),
    });
    if let Some(r) = repro {
        json["repro"] = r;
    }
    if let Some(c) = confirmation {
        json["confirmation"] = c.json();
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn finding(oracle: Oracle, reproduced: bool) -> LiveFinding<()> {
        LiveFinding {
            oracle,
            detail: "no answer".into(),
            case_index: 9,
            state: "activated",
            shape: "0x8001/uds_length".into(),
            cases: vec![()],
            window: 1,
            reproduced,
            trials: 3,
            cut_short: false,
            found_after: Duration::from_secs(1),
        }
    }

    fn failed_at(index: u32) -> ReproRun {
        ReproRun::Failed { step: Some((index, "expect".into())), message: "timeout".into() }
    }

    #[test]
    fn only_a_failure_at_the_oracles_steps_confirms() {
        let f = finding(Oracle::TesterPresent(0x0010), true);
        let steps = 5..8;
        let judge = |run: &ReproRun, conformant: Option<&ReproRun>| {
            confirm(&f, Some(&steps), Some(run), conformant)
        };
        assert!(judge(&failed_at(6), None).confirmed);
        assert!(judge(&failed_at(6), Some(&ReproRun::Passed)).confirmed);
        // Exit code 1, another symptom: reaching the state failed, or the probe's activation.
        for index in [1, 4] {
            let c = judge(&failed_at(index), None);
            assert!(!c.confirmed && c.why.contains("another symptom"), "{c:?}");
        }
        assert!(!judge(&ReproRun::Passed, None).confirmed);
        assert!(!judge(&ReproRun::NoVerdict("error: refused".into()), None).confirmed);
        let outside = ReproRun::Failed { step: None, message: "closed".into() };
        assert!(!judge(&outside, None).confirmed);
        // Failing against the conformant simulator too: not the fault's failure.
        assert!(!judge(&failed_at(6), Some(&failed_at(6))).confirmed);
    }

    /// A rule of the judge is confirmed by the same rule id in the repro's failure, not by
    /// any failure: a DoIP rule and an ISO-TP one alike.
    #[test]
    fn a_rule_is_confirmed_only_by_the_same_rule_again() {
        let line = |id: &str| ReproRun::Failed {
            step: None,
            message: format!("rule {id} broken (clause): x (frames 2, 3); the target must: y"),
        };
        for (id, other) in [
            ("doip.nack_code", "doip.socket_fate"),
            ("isotp.defined_flow_control", "isotp.sequence"),
        ] {
            let f = finding(Oracle::Rule(id), true);
            assert!(confirm(&f, None, Some(&line(id)), Some(&ReproRun::Passed)).confirmed);
            let c = confirm(&f, None, Some(&line(other)), None);
            assert!(!c.confirmed && c.why.contains("another symptom"), "{c:?}");
            let c = confirm(&f, None, Some(&line(id)), Some(&line(id)));
            assert!(!c.confirmed && c.why.contains("conformant"), "{c:?}");
            assert!(!confirm(&f, None, Some(&failed_at(2)), None).confirmed);
            assert!(!confirm(&f, None, Some(&ReproRun::Passed), None).confirmed);
            // Not run (--no-confirm): the fuzzer's replay decides, as for any oracle.
            assert!(confirm(&f, None, None, None).confirmed);
        }
    }

    #[test]
    fn without_a_step_that_states_the_oracle_only_the_fuzzers_replay_confirms() {
        for (reproduced, confirmed) in [(true, true), (false, false)] {
            let f = finding(Oracle::Monitor, reproduced);
            let c = confirm(&f, None, Some(&failed_at(2)), None);
            assert_eq!(c.confirmed, confirmed, "{c:?}");
            assert!(c.why.contains("replays the traffic only"), "{c:?}");
            let c = confirm(&f, Some(&(3..5)), None, None);
            assert_eq!(c.confirmed, confirmed, "{c:?}");
            assert!(c.why.contains("--no-confirm"), "{c:?}");
        }
        let cut = LiveFinding { cut_short: true, ..finding(Oracle::Flood, true) };
        assert!(!confirm(&cut, None, None, None).confirmed);
    }
}
