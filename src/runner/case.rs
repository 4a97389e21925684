//! Running one case: fresh connections, the steps of every phase in order, handlers while a step
//! waits, and the verdict with the first failure's reason
//! (docs/architecture.md#runner-and-reports).
//!
//! Phases and verdicts: a failure in the suite's or case's `setup` makes the case
//! `inconclusive`; in `steps`, `fail`; in `finally` (which always runs) `error` when the case
//! had passed. Harness and transport problems (cannot connect, a `${...}` that does not
//! resolve) are `error` in any phase. What each step kind does lives in `runner::steps`, one
//! module per family; this module owns the case's state and the phases.

use super::conn::Connection;
use super::failure::{Failure, error};
use super::plan::PlannedStep;
use super::record::Recorder;
use super::udp::Udp;
use crate::codec::doip::Message;
use crate::judge::Finding;
use crate::runner::event::*;
use crate::suite::model::{Handler, Step};
use crate::suite::profile::{Profile, TargetProfile};
use crate::suite::select::SelectedCase;
use crate::suite::value::{BytePattern, Expr, Value, hex_spaced, to_bytes, to_duration, to_int};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Where the target listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEndpoints {
    pub ip: IpAddr,
    pub tcp: u16,
    pub udp: u16,
    pub tls: u16,
    /// The CAN transport of `can_*` / `isotp_*` steps, as shown in reports and parsed
    /// (`--can SPEC`, or the built-in simulator's bus); each case opens its own node on it.
    pub can: Option<(String, crate::transport::can::CanSpec)>,
    /// The built-in simulator instance behind these endpoints (its `power_cycle` restarts
    /// it); `None` for a --target, which the profile's `power_cycle_command` restarts.
    pub simulator: Option<crate::transport::doip::sim_host::SimControl>,
}

impl TargetEndpoints {
    /// A CAN node alone (`--can` without `--target`): no DoIP endpoint at all.
    pub fn can_only(can: (String, crate::transport::can::CanSpec)) -> TargetEndpoints {
        TargetEndpoints {
            ip: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            tcp: 0,
            udp: 0,
            tls: 0,
            can: Some(can),
            simulator: None,
        }
    }

    /// Whether there is a DoIP entity behind these endpoints (port 0: none, a CAN node alone).
    pub fn has_doip(&self) -> bool {
        self.tcp != 0
    }
}

/// What every case of a run shares.
#[derive(Clone)]
pub struct CaseEnv {
    pub profile: Arc<Profile>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Bound on connection setup.
    pub connect_timeout: Duration,
}

/// The profile values every step reads, typed once per case from the profile (whose keys and
/// defaults are declared once, in `suite::profile::KEYS`).
#[derive(Debug, Clone, Copy)]
pub struct StepSettings {
    /// Slack of every `within` / `not_before` / `max` (`timing.tolerance`).
    pub tolerance: Duration,
    /// Slack of CAN gap assertions (`can.gap_tolerance`).
    pub gap_tolerance: Duration,
    /// `within` of a step that gives none (`timing.a_doip_ctrl`).
    pub default_within: Duration,
    /// How long a UDS "response pending" extends a wait (`uds.p2_star`).
    pub p2_star: Duration,
    pub protocol_version: u8,
    pub tester_address: u16,
    /// Quiet time on the bus that ends a case that used CAN (`isotp.settle_time`).
    pub settle_quiet: Duration,
    /// The longest a node may keep the bus busy after a case: the longest of its N_Bs, N_Cr
    /// and P2* (a sender waiting for FC, a receiver waiting for CF, a pending answer).
    pub settle_bound: Duration,
}

impl StepSettings {
    pub fn from_profile(profile: &TargetProfile) -> StepSettings {
        StepSettings {
            tolerance: profile.timers.tolerance,
            gap_tolerance: profile.can.gap_tolerance,
            default_within: profile.timers.a_doip_ctrl,
            p2_star: profile.uds.p2_star,
            protocol_version: profile.protocol_version,
            tester_address: profile.addresses.tester,
            settle_quiet: profile.isotp.settle_time,
            settle_bound: profile.can_settle_bound(),
        }
    }
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    pub unreachable: bool,
}

impl Attempt {
    /// An attempt that could not start for a reason of ours.
    pub fn error(message: String) -> Attempt {
        Attempt {
            verdict: Verdict::Error,
            reason: Some(Reason { message, ..Reason::default() }),
            unreachable: false,
        }
    }
}

/// One attempt of one case: its connections, sockets and CAN node, what the steps have seen
/// so far, and the scope `${...}` resolves against.
pub struct CaseRun<'a> {
    pub(super) planned: &'a SelectedCase,
    pub(super) env: &'a CaseEnv,
    pub(super) target: TargetEndpoints,
    pub rec: Recorder,
    pub(super) scope: BTreeMap<String, Value>,
    pub(super) conns: HashMap<String, Connection>,
    pub(super) udp: Option<Udp>,
    pub(super) can: Option<crate::transport::can::CanTransport>,
    /// The ISO-TP connection of `isotp_*` steps, opened by the first one.
    pub(super) isotp: Option<super::isotp::IsoTpSession>,
    /// When the last CAN frame was seen on the bus (sent or received), for gap assertions.
    pub(super) last_can_at: Option<RunTime>,
    pub(super) handlers: Vec<Handler>,
    /// The message the last `expect`-like step matched (for `capture`).
    pub(super) last_message: Option<Message<'static>>,
    /// When the last frame was sent and the last match received (for `measure`).
    pub(super) last_sent_at: Option<RunTime>,
    pub(super) last_received_at: Option<RunTime>,
    pub(super) settings: StepSettings,
    /// The steps, resolved against the profile before the run (`runner::plan`).
    plan: super::plan::CasePlan,
}

impl<'a> CaseRun<'a> {
    pub fn new(
        planned: &'a SelectedCase,
        mut plan: super::plan::CasePlan,
        env: &'a CaseEnv,
        target: TargetEndpoints,
        mut rec: Recorder,
    ) -> Result<CaseRun<'a>, Failure> {
        let settings = StepSettings::from_profile(env.profile.target());
        let typed = env.profile.target();
        let pairs = crate::judge::profile_pairs(typed);
        rec.judge_with(crate::judge::live::LiveFeed::with_can(&pairs, typed.can.gap_tolerance));
        let scope = std::mem::take(&mut plan.scope);
        let mut handlers = planned.suite.handlers.clone();
        handlers.extend(planned.case().handlers.iter().copied());
        Ok(CaseRun {
            planned,
            env,
            target,
            rec,
            scope,
            conns: HashMap::new(),
            udp: None,
            can: None,
            isotp: None,
            last_can_at: None,
            handlers,
            last_message: None,
            last_sent_at: None,
            last_received_at: None,
            settings,
            plan,
        })
    }

    /// Runs every phase; returns the attempt's verdict. Connections are closed at the end.
    pub async fn run(&mut self) -> Attempt {
        let phases = std::mem::take(&mut self.plan.phases);
        let mut verdict = Verdict::Pass;
        let mut reason = None;
        let mut unreachable = false;
        let mut phases = phases.iter();
        'main: for (phase, steps) in phases.by_ref() {
            for (i, step) in steps.iter().enumerate() {
                if let Err(f) = self.run_step(*phase, i, step).await {
                    let setup = *phase != Phase::Steps;
                    let (v, r) = match f {
                        Failure::Fail(r) if setup => (Verdict::Inconclusive, *r),
                        Failure::Fail(r) | Failure::Broke(r) => (Verdict::Fail, *r),
                        Failure::TooLate(r) => (Verdict::Inconclusive, *r),
                        Failure::Error(r) => (Verdict::Error, *r),
                        Failure::Unreachable(r) => {
                            unreachable = true;
                            (Verdict::Error, *r)
                        }
                    };
                    verdict = v;
                    reason = Some(r);
                    break 'main;
                }
            }
            if *phase == Phase::Steps {
                break;
            }
        }
        // `finally` always runs; a failure there errors a case that had passed.
        for (phase, steps) in
            phases.filter(|(p, _)| matches!(p, Phase::CaseFinally | Phase::SuiteFinally))
        {
            for (i, step) in steps.iter().enumerate() {
                if let Err(f) = self.run_step(*phase, i, step).await {
                    if verdict == Verdict::Pass {
                        verdict = Verdict::Error;
                        reason = Some(f.into_reason());
                    }
                    break;
                }
            }
        }
        self.settle_can().await;
        for conn in self.conns.values_mut() {
            conn.await_owed_close(&mut self.rec).await;
        }
        self.close_all().await;
        if let Some(broken) = self.judge_traffic()
            && verdict == Verdict::Pass
        {
            verdict = Verdict::Fail;
            reason = Some(broken);
        }
        self.rec.note_unrecorded();
        Attempt { verdict, reason, unreachable }
    }

    /// What the judge found in the case's traffic, each finding a note in the transcript; the
    /// first not in the case's `provokes` as the reason that fails a case whose steps all
    /// passed (docs/rules.md).
    fn judge_traffic(&mut self) -> Option<Reason> {
        let judged = self.rec.judge_findings();
        let provoked = |f: &&Finding| self.planned.case().provokes.iter().any(|r| r == f.rule.id);
        for f in &judged.findings {
            let line = f.line("frames");
            if provoked(&f) {
                self.rec.note(format!("{line} (the case provokes this on purpose)"));
            } else {
                self.rec.note(line);
            }
        }
        if judged.more > 0 {
            self.rec.note(format!("and {} more findings of the rules", judged.more));
        }
        let first = judged.findings.iter().find(|f| !provoked(f))?;
        Some(Reason { message: first.line("frames"), ..Reason::default() })
    }

    /// How late the built-in simulator sent a timed frame between `from` (less `tolerance`,
    /// for the frame a gap starts at) and `to`, when later than `tolerance`: a timing rule
    /// broken then is our busy machine's doing, not the target's (`None` for a --target).
    pub(super) fn simulator_late(
        &self,
        from: RunTime,
        to: RunTime,
        tolerance: Duration,
    ) -> Option<Duration> {
        let sim = self.target.simulator.as_ref()?;
        let from = self.rec.clock.instant(RunTime(from.0.saturating_sub(tolerance)));
        let late = sim.late_between(from, self.rec.clock.instant(to))?;
        (late > tolerance).then_some(late)
    }

    /// Drops every connection, recording what was left.
    pub async fn close_all(&mut self) {
        for (_, mut c) in self.conns.drain() {
            c.abandon(&mut self.rec);
        }
        if let Some(u) = self.udp.take() {
            u.close(&self.rec);
        }
    }

    fn step_ref(&self, phase: Phase, index: usize, step: &Step) -> StepRef {
        StepRef {
            phase,
            index: index as u32,
            kind: step.name().to_owned(),
            location: SourceLocation {
                file: self.planned.suite.file.clone(),
                line: step.pos.line,
                column: step.pos.column,
            },
        }
    }

    async fn run_step(
        &mut self,
        phase: Phase,
        index: usize,
        step: &PlannedStep,
    ) -> Result<(), Failure> {
        let step_ref = self.step_ref(phase, index, &step.written);
        // Resolved: a transcript shows the values sent (`${profile.*}` as the profile gave it).
        let summary = step.kind.summary();
        let started = self.rec.now();
        self.rec.emit(Event::Step(StepEvent {
            case: self.rec.case,
            at: started,
            step: step_ref.clone(),
            summary: summary.clone(),
            status: StepStatus::Started,
        }));
        let result = Box::pin(self.exec(&step.kind)).await;
        let at = self.rec.now();
        let elapsed = at.since(started);
        let status = if result.is_ok() {
            StepStatus::Passed { elapsed }
        } else {
            StepStatus::Failed { elapsed }
        };
        self.rec.emit(Event::Step(StepEvent {
            case: self.rec.case,
            at,
            step: step_ref.clone(),
            summary,
            status,
        }));
        result.map_err(|mut f| {
            f.reason_mut().step = Some(step_ref);
            f
        })
    }

    // Resolving the step's expressions against the case's scope. A value that does not
    // resolve or has the wrong type is the suite's fault: `error`, never `fail`.

    pub(super) fn resolve(&self, e: &Expr) -> Result<Value, Failure> {
        e.resolve(&self.scope).map_err(|m| error(format!("{m} (at line {})", e.pos.line)))
    }

    pub(super) fn duration(&self, e: &Expr) -> Result<Duration, Failure> {
        to_duration(&self.resolve(e)?).map_err(|m| error(format!("{m} (at line {})", e.pos.line)))
    }

    pub(super) fn opt_duration(&self, e: Option<&Expr>) -> Result<Option<Duration>, Failure> {
        e.map(|e| self.duration(e)).transpose()
    }

    pub(super) fn int(&self, e: &Expr) -> Result<u64, Failure> {
        to_int(&self.resolve(e)?).map_err(|m| error(format!("{m} (at line {})", e.pos.line)))
    }

    pub(super) fn bytes(&self, e: &Expr) -> Result<Vec<u8>, Failure> {
        to_bytes(&self.resolve(e)?).map_err(error)
    }

    /// A byte pattern (`62 F1 90 ..`) with an optional bit mask.
    pub(super) fn pattern(&self, hex: &Expr, mask: Option<&Expr>) -> Result<BytePattern, Failure> {
        let text = match self.resolve(hex)? {
            Value::Str(s) => s,
            Value::Bytes(b) => hex_spaced(&b),
            other => {
                return Err(error(format!("a hex pattern is text, found {}", other.type_name())));
            }
        };
        let mut p = BytePattern::parse(&text).map_err(error)?;
        if let Some(m) = mask {
            p = p.with_mask(&self.bytes(m)?).map_err(error)?;
        }
        Ok(p)
    }

    /// The window of a waiting step: its `within` (or A_DoIP_Ctrl), its `not_before`, and the
    /// profile's tolerance.
    pub(super) fn window(
        &self,
        within: Option<&Expr>,
        not_before: Option<&Expr>,
    ) -> Result<crate::proto::window::Window, Failure> {
        let within = self.opt_duration(within)?.unwrap_or(self.settings.default_within);
        let not_before = self.opt_duration(not_before)?;
        Ok(crate::proto::window::Window::new(within, not_before, self.settings.tolerance))
    }

    pub(super) fn has_handler(&self, handler: Handler) -> bool {
        self.handlers.contains(&handler)
    }
}
