//! The Markdown summary (`--markdown FILE`, and appended to `$GITHUB_STEP_SUMMARY` when that
//! is set): counts, every failure in one line, the slowest cases. GitHub renders it on the
//! job's page; it is kept short (failures and slow cases are capped).

use std::fmt::Write as _;

use super::diff::RunDiff;
use super::junit::JunitCase;
use super::text::human;
use super::text::{cell, code};
use super::waivers::shown_status;
use crate::runner::event::{Counts, Verdict};

/// Failures listed one per line; more are counted.
pub const MAX_FAILURES_LISTED: usize = 50;
/// Slowest cases listed.
pub const SLOWEST_LISTED: usize = 5;

/// The summary of `cases` (finished cases; `target` for the heading).
/// `diff`, against a baseline, follows the counts.
pub fn markdown_summary<'a>(
    target: Option<&str>,
    cases: impl IntoIterator<Item = &'a JunitCase>,
    diff: Option<&RunDiff>,
) -> String {
    let cases: Vec<&JunitCase> = cases.into_iter().collect();
    let mut counts = Counts::default();
    for c in &cases {
        counts.add_case(&c.finished);
    }
    let mut out = String::new();
    let outcome = if counts.any_failure() { "❌ failed" } else { "✅ passed" };
    let _ = write!(out, "### doipcheck: {outcome}");
    if let Some(t) = target {
        let _ = write!(out, " against {}", cell(t));
    }
    out.push_str("\n\n| pass | fail | error | inconclusive | skipped | flaky |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        counts.pass, counts.fail, counts.error, counts.inconclusive, counts.skipped, counts.flaky
    );
    if counts.waived > 0 {
        let _ = writeln!(
            out,
            "\n{} failures waived (accepted deviations, `--waivers`).",
            counts.waived
        );
    }
    if let Some(d) = diff {
        out.push_str(&d.markdown());
    }
    // Failures first, then the waived ones (accepted, still in sight), each capped.
    for waived in [false, true] {
        let listed: Vec<&&JunitCase> = cases
            .iter()
            .filter(|c| c.finished.verdict.is_failure())
            .filter(|c| (shown_status(Some(&c.finished)) == "waived") == waived)
            .collect();
        if listed.is_empty() {
            continue;
        }
        let title = if waived { "Waived" } else { "Failures" };
        let _ = writeln!(out, "\n#### {title} ({})\n", listed.len());
        for c in listed.iter().take(MAX_FAILURES_LISTED) {
            let mut why = c.finished.reason.as_ref().map(|r| r.message.clone()).unwrap_or_default();
            if let Some(w) = &c.finished.waiver {
                why = format!(
                    "{why} (waived: {}, accepted by {} until {})",
                    w.reason, w.accepted_by, w.until
                );
            }
            let _ = writeln!(
                out,
                "- **{}** `{}` {} ({}:{}): {}",
                c.finished.verdict,
                code(&c.info.id),
                cell(&c.info.title),
                cell(&c.info.suite_file.to_string_lossy()),
                c.info.line,
                cell(&why)
            );
        }
        if listed.len() > MAX_FAILURES_LISTED {
            let _ = writeln!(out, "- … {} more", listed.len() - MAX_FAILURES_LISTED);
        }
    }
    let mut slowest: Vec<&&JunitCase> =
        cases.iter().filter(|c| c.finished.verdict != Verdict::Skipped).collect();
    slowest.sort_by_key(|c| std::cmp::Reverse(c.finished.duration));
    if !slowest.is_empty() {
        out.push_str("\n#### Slowest cases\n\n| case | duration |\n|---|---:|\n");
        for c in slowest.iter().take(SLOWEST_LISTED) {
            let _ = writeln!(out, "| `{}` | {} |", code(&c.info.id), human(c.finished.duration));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::event::{CaseFinished, CaseKey, Reason, RunTime};
    use std::time::Duration;

    fn case(id: &str, verdict: Verdict, ms: u64, why: &str) -> JunitCase {
        JunitCase {
            info: super::super::log::test_info(id),
            finished: CaseFinished {
                case: CaseKey(0),
                at: RunTime::ZERO,
                verdict,
                reason: (!why.is_empty())
                    .then(|| Reason { message: why.into(), ..Reason::default() }),
                duration: Duration::from_millis(ms),
                attempts: 1,
                flaky: false,
                capture: None,
                waiver: None,
            },
            started_at: RunTime::ZERO,
            transcript: String::new(),
            metrics: vec![],
            lean: false,
        }
    }

    #[test]
    fn counts_failures_in_one_line_each_and_the_slowest_first() {
        let cases = [
            case("A-1", Verdict::Pass, 5, ""),
            case("A-2", Verdict::Fail, 1, "got generic_nack | <b>x</b>\nsecond line"),
            case("A-3", Verdict::Pass, 900, ""),
        ];
        let md = markdown_summary(Some("built-in simulator"), &cases, None);
        assert!(md.starts_with("### doipcheck: ❌ failed against built-in simulator"), "{md}");
        assert!(md.contains("| 2 | 1 | 0 | 0 | 0 | 0 |"), "{md}");
        assert!(
            md.contains(
                "- **fail** `A-2` t (s.yaml:1): got generic\\_nack \\| \\<b\\>x\\</b\\> second line\n"
            ),
            "{md}"
        );
        let slow = md.split("Slowest").nth(1).unwrap();
        assert!(slow.find("A-3").unwrap() < slow.find("A-1").unwrap(), "{md}");
    }
}
