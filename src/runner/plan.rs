//! The plan stage, between loading and running: each selected case becomes a [`CasePlan`],
//! its steps with every `${...}` resolved against the profile, the suite's `vars:` and the
//! case's matrix, and every value checked as the step will use it (a duration, an integer, hex
//! bytes, a byte pattern, a message the codec can build). A `${profile.*}` typo or a bad value
//! is a load error with file:line:col, never a run-time one. Only what depends on a value
//! `capture:` takes while the case runs is left to the run.
//!
//! ```text
//!  suite files ─► load (model, spans) ─► plan (filters, matrix) ─► CasePlan ─► runner ─► events
//! ```

use super::message as msg;
use crate::runner::event::Phase;
use crate::suite::diag::Diagnostic;
use crate::suite::model::Step;
use crate::suite::profile::Profile;
use crate::suite::select::SelectedCase;
use crate::suite::steps::{ArgMut, ArgType, StepKind};
use crate::suite::value::{BytePattern, Expr, ExprKind, Value, to_bytes, to_duration, to_int};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// A step ready to run.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// The step as written (source positions).
    pub written: Step,
    /// The step with its values resolved (what runs, and what summaries show).
    pub kind: StepKind,
}

/// One case ready to run: its phases in order, and the names its expressions resolved
/// against (what `capture:` adds to while it runs).
#[derive(Debug, Clone)]
pub struct CasePlan {
    pub phases: Vec<(Phase, Vec<PlannedStep>)>,
    pub scope: BTreeMap<String, Value>,
}

/// The cases of a run with their plans, made once before the first case and shared by every
/// attempt of every job.
pub struct RunPlan {
    pub cases: Vec<SelectedCase>,
    /// One entry per case: its plan, or why it has none (skipped, or its planning failed).
    /// `None` until planned: [`crate::runner::run`] plans a plan given as bare cases.
    plans: Option<Vec<Result<Arc<CasePlan>, String>>>,
}

impl From<Vec<SelectedCase>> for RunPlan {
    fn from(cases: Vec<SelectedCase>) -> RunPlan {
        RunPlan { cases, plans: None }
    }
}

impl RunPlan {
    /// The cases and the plan of each (made now unless they were made before).
    pub fn into_parts(
        self,
        profile: &Profile,
    ) -> (Vec<SelectedCase>, Vec<Result<Arc<CasePlan>, String>>) {
        let plans = match self.plans {
            Some(plans) => plans,
            None => self.cases.iter().map(|c| plan_or_reason(c, profile)).collect(),
        };
        (self.cases, plans)
    }
}

fn plan_or_reason(case: &SelectedCase, profile: &Profile) -> Result<Arc<CasePlan>, String> {
    if let Some(why) = &case.skip {
        return Err(why.clone());
    }
    plan_case(case, profile).map(Arc::new).map_err(|diags| {
        let text: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
        format!("the case cannot be planned: {}", text.join("; "))
    })
}

/// Plans every case that will run (skipped cases are not planned: their profile keys may be
/// missing on purpose), once; the plans go to the run. All errors of all cases, each once.
pub fn plan_run(cases: Vec<SelectedCase>, profile: &Profile) -> Result<RunPlan, Vec<Diagnostic>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut plans = Vec::with_capacity(cases.len());
    for case in &cases {
        if let Some(why) = &case.skip {
            plans.push(Err(why.clone()));
            continue;
        }
        match plan_case(case, profile) {
            Ok(plan) => plans.push(Ok(Arc::new(plan))),
            Err(diags) => {
                for d in diags {
                    if seen.insert((
                        d.file.clone(),
                        d.pos.map(|p| (p.line, p.column)),
                        d.message.clone(),
                    )) {
                        out.push(d);
                    }
                }
            }
        }
    }
    if out.is_empty() { Ok(RunPlan { cases, plans: Some(plans) }) } else { Err(out) }
}

/// [`plan_run`] for its errors only (`validate`).
pub fn check(cases: &[SelectedCase], profile: &Profile) -> Result<(), Vec<Diagnostic>> {
    plan_run(cases.to_vec(), profile).map(|_| ())
}

/// The plan of one case.
pub fn plan_case(case: &SelectedCase, profile: &Profile) -> Result<CasePlan, Vec<Diagnostic>> {
    let file = case.suite.file.as_path();
    let mut planner = Planner {
        file,
        case_id: &case.info.id,
        version: profile.target().protocol_version,
        scope: BTreeMap::new(),
        captured: BTreeSet::new(),
        errors: Vec::new(),
    };
    match case.scope(profile) {
        Ok(scope) => planner.scope = scope,
        Err(m) => {
            let pos = Some(case.case().pos);
            planner.error(pos, format!("case `{}`: {m}", case.info.id), "does not resolve");
            return Err(planner.errors);
        }
    }
    let (suite, c) = (&case.suite, case.case());
    let phases = [
        (Phase::SuiteSetup, &suite.setup),
        (Phase::CaseSetup, &c.setup),
        (Phase::Steps, &c.steps),
        (Phase::CaseFinally, &c.finally),
        (Phase::SuiteFinally, &suite.finally),
    ];
    let mut out = Vec::new();
    for (phase, steps) in phases {
        let planned = steps.iter().map(|s| planner.step(s)).collect();
        out.push((phase, planned));
    }
    if planner.errors.is_empty() {
        Ok(CasePlan { phases: out, scope: planner.scope })
    } else {
        Err(planner.errors)
    }
}

struct Planner<'a> {
    file: &'a Path,
    case_id: &'a str,
    version: u8,
    scope: BTreeMap<String, Value>,
    /// Names `capture:` steps before this one define: resolved at run time.
    captured: BTreeSet<String>,
    errors: Vec<Diagnostic>,
}

impl Planner<'_> {
    fn error(&mut self, pos: Option<crate::suite::yaml::Pos>, message: String, label: &str) {
        self.errors.push(Diagnostic {
            file: self.file.to_owned(),
            pos,
            message,
            label: label.into(),
            help: None,
        });
    }

    /// Whether `e` waits for a value the run captures.
    fn deferred(&self, e: &Expr) -> bool {
        e.vars().iter().any(|v| self.captured.contains(&v.name))
    }

    fn step(&mut self, step: &Step) -> PlannedStep {
        let mut kind = step.kind.clone();
        for arg in kind.args_mut() {
            match arg {
                ArgMut::Value(e, ty) => self.value(e, ty),
                ArgMut::Send(body) => {
                    for (_, _, e) in &mut body.fields {
                        self.value(e, ArgType::Text);
                    }
                    if body.fields.iter().all(|(_, _, e)| !self.deferred(e))
                        && let Err(m) = msg::build(body, self.version, &self.scope)
                    {
                        let text = format!("{}: {m} (case `{}`)", body.name, self.case_id);
                        self.error(Some(body.pos), text, "the codec cannot build it");
                    }
                }
                ArgMut::Expect(body) => {
                    for (_, _, m) in &mut body.fields {
                        for e in m.exprs_mut() {
                            self.value(e, ArgType::Text);
                        }
                    }
                }
                ArgMut::OverrideExprs(o) => {
                    for e in o.exprs_mut() {
                        self.value(e, ArgType::Text);
                    }
                    if o.exprs().all(|e| !self.deferred(e))
                        && let Err(m) = msg::overrides(o, &self.scope)
                    {
                        let text = format!("override: {m} (case `{}`)", self.case_id);
                        self.error(Some(step.pos), text, "cannot be applied");
                    }
                }
            }
        }
        if let StepKind::Capture(c) = &step.kind {
            self.captured.extend(c.0.iter().map(|(n, _)| n.clone()));
        }
        PlannedStep { written: step.clone(), kind }
    }

    /// Resolves `e` in place and checks it as `ty`.
    fn value(&mut self, e: &mut Expr, ty: ArgType) {
        if self.deferred(e) {
            return;
        }
        let value = match e.resolve(&self.scope) {
            Ok(v) => v,
            Err(m) => {
                let text = format!("{m} (case `{}`)", self.case_id);
                self.error(Some(e.pos), text, "does not resolve");
                return;
            }
        };
        if let Err(m) = check_value(&value, ty) {
            let text = format!("`{}` is `{value}`: {m} (case `{}`)", e.source(), self.case_id);
            let label = match ty {
                ArgType::Duration => "expected a duration",
                ArgType::Int => "expected an integer",
                ArgType::Hex => "expected hex bytes",
                ArgType::Pattern => "expected a byte pattern",
                ArgType::Code | ArgType::Text => "invalid value",
            };
            self.error(Some(e.pos), text, label);
            return;
        }
        if !e.is_literal() {
            e.kind = ExprKind::Resolved(value);
        }
    }
}

/// Whether `v` is what a step of `ty` can use, as the step will read it.
fn check_value(v: &Value, ty: ArgType) -> Result<(), String> {
    match ty {
        ArgType::Duration => to_duration(v).map(drop),
        ArgType::Int => to_int(v).map(drop),
        ArgType::Hex => to_bytes(v).map(drop),
        ArgType::Pattern => match v {
            Value::Str(s) => BytePattern::parse(s).map(drop),
            Value::Bytes(_) => Ok(()),
            other => Err(format!("a byte pattern is text, found {}", other.type_name())),
        },
        ArgType::Code | ArgType::Text => Ok(()),
    }
}
