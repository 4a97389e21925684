//! Step kinds that pause or work on what earlier steps saw: `wait`, `capture`, `measure`.

use super::reader::StepReader;
use super::{Arg, ArgMut, ArgType, StepDef, WaitValue};
use crate::suite::show::show_expr;
use crate::suite::spec::{MessageKey, StepSpec, Ty, k, req};
use crate::suite::value::Expr;
use std::time::Duration;

/// Pause (handlers stay active).
#[derive(Debug, Clone)]
pub struct Wait(pub Expr);

impl StepDef for Wait {
    const SPEC: StepSpec = StepSpec {
        name: "wait",
        doc: "Pause (handlers stay active).",
        scalar: Some(Ty::Duration),
        keys: &[],
        message: MessageKey::None,
        bare: false,
    };
    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        r.scalar_expr(Ty::Duration).map(Wait)
    }
    fn args(&self) -> Vec<Arg<'_>> {
        vec![Arg::Value(&self.0, ArgType::Duration)]
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        vec![ArgMut::Value(&mut self.0, ArgType::Duration)]
    }
    fn summary(&self) -> String {
        format!("wait {}", show_expr(&self.0))
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        resolve(&self.0).map(WaitValue::duration).unwrap_or_default()
    }
}

/// `name: field` pairs read from the last message an expect step matched.
#[derive(Debug, Clone)]
pub struct Capture(pub Vec<(String, String)>);

impl StepDef for Capture {
    const SPEC: StepSpec = StepSpec {
        name: "capture",
        doc: "Keep fields of the last matched message as `${name}`: `{ name: field }`.",
        scalar: Some(Ty::Capture),
        keys: &[],
        message: MessageKey::None,
        bare: false,
    };
    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        r.capture_pairs().map(Capture)
    }
    fn args(&self) -> Vec<Arg<'_>> {
        Vec::new()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        Vec::new()
    }
    fn summary(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(n, f)| format!("{n}={f}")).collect();
        format!("capture {}", pairs.join(" "))
    }
}

/// Record the time from the last frame sent to the last frame received as a metric,
/// optionally asserting bounds.
#[derive(Debug, Clone)]
pub struct Measure {
    pub name: String,
    pub min: Option<Expr>,
    pub max: Option<Expr>,
}

impl StepDef for Measure {
    const SPEC: StepSpec = StepSpec {
        name: "measure",
        doc: "Record the time from the last frame sent to the last frame received as a metric.",
        scalar: None,
        keys: &[
            req("name", Ty::Str, "Metric name."),
            k("min", Ty::Duration, "Fail when shorter."),
            k("max", Ty::Duration, "Fail when longer."),
        ],
        message: MessageKey::None,
        bare: false,
    };
    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(Measure { name: r.string("name")?, min: r.expr("min"), max: r.expr("max") })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        self.min.iter().chain(self.max.iter()).map(|e| Arg::Value(e, ArgType::Duration)).collect()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        self.min
            .iter_mut()
            .chain(self.max.iter_mut())
            .map(|e| ArgMut::Value(e, ArgType::Duration))
            .collect()
    }
    fn summary(&self) -> String {
        format!("measure {}", self.name)
    }
}
