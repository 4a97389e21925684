//! The order in which parallel jobs take cases: longest first (LPT scheduling), so that with
//! `--jobs N` the run ends close to max(longest case, total / N) instead of waiting for a long
//! timer case picked up last: a run takes what its protocol timers require, no more
//! (docs/architecture.md "Data flow", step 4).
//!
//! A case's length is estimated from the waits its steps declare, resolved against the profile
//! (`wait`, `expect_open` / `expect_none` `for`, `not_before` of expects and `expect_closed`,
//! `udp_expect` `count` x `interval`, the `delay` between `send_raw` chunks, a `can_expect`'s
//! `gap_min` per frame): the time a conformant target cannot shorten. Skipped
//! cases cost nothing. Reports do not depend on the order (every event carries its case key).

use crate::suite::profile::Profile;
use crate::suite::read::CASE_TIME_MARGIN;
use crate::suite::select::SelectedCase;
use crate::suite::steps::WaitValue;
use crate::suite::value::{Expr, to_bytes, to_duration, to_int};
use std::time::Duration;

/// Indices of `plan` in the order jobs should take them: longest estimate first, plan order
/// among equals.
pub fn longest_first(plan: &[SelectedCase], profile: &Profile) -> Vec<usize> {
    let estimates: Vec<Duration> = plan.iter().map(|p| estimate(p, profile)).collect();
    let mut order: Vec<usize> = (0..plan.len()).collect();
    order.sort_by(|a, b| estimates[*b].cmp(&estimates[*a]));
    order
}

/// The least time `plan` can take over `jobs` parallel jobs from its declared waits alone:
/// max(longest case, sum of the cases / jobs), the bound LPT scheduling approaches. Skipped
/// cases count nothing; `jobs` 0 counts as 1.
pub fn declared_wait(plan: &[SelectedCase], profile: &Profile, jobs: usize) -> Duration {
    let estimates: Vec<Duration> = plan.iter().map(|p| estimate(p, profile)).collect();
    let longest = estimates.iter().copied().max().unwrap_or_default();
    let sum: Duration = estimates.iter().sum();
    longest.max(sum / u32::try_from(jobs.max(1)).unwrap_or(u32::MAX))
}

/// How long a case may run before the harness ends it with `error`: its own `timeout:` when
/// it sets one, else the waits it declares under this profile plus a margin for everything
/// else (a case that waits T_TCP_General_Inactivity = 5 min gets 6 min, not a fixed minute).
pub fn time_limit(planned: &SelectedCase, profile: &Profile) -> Duration {
    planned
        .case()
        .timeout
        .unwrap_or_else(|| estimate(planned, profile).saturating_add(CASE_TIME_MARGIN))
}

/// The cases whose own `timeout:` is shorter than the waits they declare under `profile`:
/// they would end in `error` against a conformant target. `(id, timeout, declared)`.
pub fn short_time_limits(
    plan: &[SelectedCase],
    profile: &Profile,
) -> Vec<(String, Duration, Duration)> {
    plan.iter()
        .filter(|p| p.skip.is_none())
        .filter_map(|p| {
            let limit = p.case().timeout?;
            let declared = estimate(p, profile);
            (limit < declared).then(|| (p.info.id.clone(), limit, declared))
        })
        .collect()
}

/// The waits a case's steps declare, summed.
pub fn estimate(planned: &SelectedCase, profile: &Profile) -> Duration {
    if planned.skip.is_some() {
        return Duration::ZERO;
    }
    // A case whose scope does not resolve errors at once: it waits for nothing.
    let Ok(scope) = planned.scope(profile) else {
        return Duration::ZERO;
    };
    let resolve = |e: &Expr| {
        let v = e.resolve(&scope).ok()?;
        match (to_duration(&v), to_int(&v)) {
            (Ok(d), _) => Some(WaitValue::Duration(d)),
            (_, Ok(n)) => Some(WaitValue::Int(n)),
            _ => to_bytes(&v).ok().map(|b| WaitValue::Bytes(b.len())),
        }
    };
    let mut total = Duration::ZERO;
    let mut uses_can = false;
    for step in planned.steps() {
        total += step.kind.declared_wait(&resolve);
        uses_can |= step.kind.medium() == crate::suite::steps::Medium::Can;
    }
    // A case that used the bus ends with `isotp.settle_time` of quiet (`CaseRun::settle_can`).
    if uses_can {
        total += profile.target().isotp.settle_time;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load;
    use crate::suite::select::{self, Filter};

    /// The plan of one suite file with `text`, against `profile`.
    fn plan_of(text: &str, profile: &Profile) -> Vec<SelectedCase> {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("s.yaml");
        std::fs::write(&file, text).expect("write");
        let loaded = load::load_suites(&[file], &[]).unwrap_or_else(|e| panic!("{}", e.render()));
        select::select_cases(&loaded, profile, &Filter::default())
    }

    #[test]
    fn the_longest_declared_waits_go_first_and_equals_keep_plan_order() {
        let profile = Profile::defaults();
        let plan = plan_of(
            "suite: s\ntitle: t\nvars: { long: 2s }\ncases:\n\
             - { id: A, title: a, steps: [ { wait: 10ms } ] }\n\
             - { id: B, title: b, steps: [ { wait: \"${long}\" }, { expect_open: { for: 1s } } ] }\n\
             - { id: C, title: c, steps: [ { expect_closed: { not_before: \"${profile.timing.t_tcp_initial_inactivity}\" } } ] }\n\
             - { id: D, title: d, steps: [ { wait: 10ms } ] }\n\
             - { id: E, title: e, requires: [doip.tls], steps: [ { wait: 9s } ] }\n",
            &profile,
        );
        assert_eq!(estimate(&plan[1], &profile), Duration::from_secs(3));
        assert_eq!(estimate(&plan[2], &profile), Duration::from_secs(2), "profile timer");
        assert_eq!(estimate(&plan[4], &profile), Duration::ZERO, "skipped: the profile lacks TLS");
        assert_eq!(longest_first(&plan, &profile), vec![1, 2, 0, 3, 4]);
    }

    #[test]
    fn declared_wait_is_the_longest_case_or_the_sum_over_the_jobs() {
        let profile = Profile::defaults();
        let plan = plan_of(
            "suite: s\ntitle: t\ncases:\n\
             - { id: A, title: a, steps: [ { wait: 1s } ] }\n\
             - { id: B, title: b, steps: [ { wait: 1s } ] }\n\
             - { id: C, title: c, steps: [ { wait: 3s } ] }\n\
             - { id: D, title: d, steps: [ { wait: 3s } ] }\n\
             - { id: E, title: e, requires: [doip.tls], steps: [ { wait: 9s } ] }\n",
            &profile,
        );
        let s = Duration::from_secs;
        assert_eq!(declared_wait(&plan, &profile, 1), s(8), "one job: the sum (E skipped)");
        assert_eq!(declared_wait(&plan, &profile, 2), s(4), "two jobs, balanced: sum / 2");
        assert_eq!(declared_wait(&plan[..3], &profile, 2), s(3), "two jobs, C dominates 5 / 2");
        assert_eq!(declared_wait(&plan, &profile, 0), s(8), "0 jobs counts as 1");
        assert_eq!(declared_wait(&[], &profile, 2), Duration::ZERO);
    }

    /// Under the standard's 5 min T_TCP_General_Inactivity the shipped TMR-GEN-001 waits 5 min:
    /// its limit follows (no `error` on its own limit), and a case that still sets a shorter
    /// `timeout` is reported.
    #[test]
    fn a_case_limit_follows_its_declared_waits_under_the_profile() {
        let profile = Profile::defaults();
        assert_eq!(profile.target().timers.t_tcp_general_inactivity, Duration::from_secs(300));
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let loaded = load::load_suites(&[root.join("suites/doip/timers.yaml")], &[])
            .unwrap_or_else(|e| panic!("{}", e.render()));
        let plan = select::select_cases(&loaded, &profile, &Filter::default());
        let general = plan.iter().find(|p| p.info.id == "TMR-GEN-001").expect("TMR-GEN-001");
        assert_eq!(time_limit(general, &profile), Duration::from_secs(360));
        assert!(short_time_limits(&plan, &profile).is_empty());
        let short = plan_of(
            "suite: s\ntitle: t\ncases:\n\
             - { id: A, title: a, timeout: 30s, steps: [ { expect_open: { for: \"${profile.timing.t_tcp_general_inactivity}\" } } ] }\n\
             - { id: B, title: b, timeout: 30s, steps: [ { wait: 1s } ] }\n",
            &profile,
        );
        assert_eq!(
            short_time_limits(&short, &profile),
            vec![("A".to_owned(), Duration::from_secs(30), Duration::from_secs(300))]
        );
        assert_eq!(time_limit(&short[1], &profile), Duration::from_secs(30), "a set limit is kept");
    }

    /// `send_raw` pauses `delay` before every piece but the first; pieces follow the chunk
    /// sizes while bytes are left, then the rest.
    #[test]
    fn send_raw_declares_a_delay_per_piece_after_the_first() {
        let profile = Profile::defaults();
        let plan = plan_of(
            "suite: s\ntitle: t\nvars: { gap: 10ms }\ncases:\n\
             - { id: A, title: a, steps: [ { send_raw: { hex: \"01 02 03 04\", chunks: [1, 1], delay: \"${gap}\" } } ] }\n\
             - { id: B, title: b, steps: [ { send_raw: { hex: \"01 02 03 04\", chunks: [1, 1, 1, 1, 1], delay: 10ms } } ] }\n\
             - { id: C, title: c, steps: [ { send_raw: { hex: \"01 02 03 04\", chunks: [9], delay: 10ms } } ] }\n\
             - { id: D, title: d, steps: [ { send_raw: { hex: \"01 02 03 04\", chunks: [1] } } ] }\n",
            &profile,
        );
        let ms = Duration::from_millis;
        assert_eq!(estimate(&plan[0], &profile), ms(20), "1 + 1 + the rest: two pauses");
        assert_eq!(estimate(&plan[1], &profile), ms(30), "four pieces: the bytes ran out");
        assert_eq!(estimate(&plan[2], &profile), ms(0), "one piece");
        assert_eq!(estimate(&plan[3], &profile), ms(0), "no delay");
    }

    /// A frame the target must send at least `gap_min` after its previous one (STmin) takes
    /// that long, each of `count` frames.
    #[test]
    fn can_expect_declares_its_gap_min_per_frame() {
        let profile = Profile::defaults();
        let plan = plan_of(
            "suite: s\ntitle: t\ncases:\n\
             - { id: A, title: a, steps: [ { can_expect: { id: 0x7E8, gap_min: 127ms } } ] }\n\
             - { id: B, title: b, steps: [ { can_expect: { id: 0x7E8, gap_min: 20ms, count: 3, not_before: 50ms } } ] }\n\
             - { id: C, title: c, steps: [ { can_expect: { id: 0x7E8, not_before: 5ms } } ] }\n",
            &profile,
        );
        let settle = profile.target().isotp.settle_time;
        let ms = Duration::from_millis;
        assert_eq!(estimate(&plan[0], &profile), ms(127) + settle);
        assert_eq!(
            estimate(&plan[1], &profile),
            ms(50 + 20 + 20) + settle,
            "not_before, then two gaps"
        );
        assert_eq!(estimate(&plan[2], &profile), ms(5) + settle);
    }
}
