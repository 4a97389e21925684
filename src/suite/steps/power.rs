//! `power_cycle`: the target starts again (ISO 13400-2:2019 §9.2: announcements after start).

use super::reader::StepReader;
use super::{Arg, ArgMut, ArgType, Medium, StepDef};
use crate::suite::spec::{MessageKey, StepSpec, Ty, k};
use crate::suite::value::Expr;

/// The built-in simulator restarts its entity and announces to the case's UDP socket; a
/// --target runs the profile's `power_cycle_command`.
#[derive(Debug, Clone)]
pub struct PowerCycle {
    pub within: Option<Expr>,
}

impl StepDef for PowerCycle {
    const SPEC: StepSpec = StepSpec {
        name: "power_cycle",
        doc: "The target starts again (power cycle): the built-in simulator restarts its entity and announces to the case's UDP socket; a --target runs the profile's power_cycle_command.",
        scalar: None,
        keys: &[k(
            "within",
            Ty::Duration,
            "Bound of the restart (the power_cycle_command against --target; default 30s).",
        )],
        message: MessageKey::None,
        bare: true,
    };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(PowerCycle { within: r.expr("within") })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        self.within.iter().map(|e| Arg::Value(e, ArgType::Duration)).collect()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        self.within.iter_mut().map(|e| ArgMut::Value(e, ArgType::Duration)).collect()
    }
    fn summary(&self) -> String {
        "power cycle the target".to_string()
    }
}
