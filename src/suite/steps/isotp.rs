//! ISO-TP step kinds: whole messages through the harness's conformant ISO-TP stack
//! (ISO 15765-2), configured by the profile's `isotp.*` keys.

use super::reader::StepReader;
use super::stream::{not_before_wait, timing_args, timing_args_mut};
use super::{Arg, ArgMut, ArgType, Medium, StepDef, WaitValue};
use crate::suite::show::show_expr;
use crate::suite::spec::{MessageKey, StepSpec, Ty, WITHIN, k, req};
use crate::suite::step_args::TimeBounds;
use crate::suite::value::Expr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct IsotpSend {
    pub data: Expr,
    /// A single frame on the functional id instead of a physical transfer.
    pub functional: bool,
    /// Bound of the whole transmission.
    pub within: Option<Expr>,
}

impl StepDef for IsotpSend {
    const SPEC: StepSpec = StepSpec {
        name: "isotp_send",
        doc: "Send a message through the conformant ISO-TP stack (profile `isotp.*`); a failed transfer fails the step with its N_Result.",
        scalar: None,
        keys: &[
            req("data", Ty::Hex, "The message."),
            k("functional", Ty::Bool, "Send it as a single frame on `isotp.functional_id`."),
            k("within", Ty::Duration, "Bound of the whole transmission (default: A_DoIP_Ctrl)."),
        ],
        message: MessageKey::None,
        bare: false,
    };
    fn medium(&self) -> Medium {
        Medium::Can
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(IsotpSend {
            data: r.expr("data")?,
            functional: r.flag("functional"),
            within: r.expr("within"),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![Arg::Value(&self.data, ArgType::Hex)];
        out.extend(self.within.iter().map(|e| Arg::Value(e, ArgType::Duration)));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![ArgMut::Value(&mut self.data, ArgType::Hex)];
        out.extend(self.within.iter_mut().map(|e| ArgMut::Value(e, ArgType::Duration)));
        out
    }
    fn summary(&self) -> String {
        format!(
            "isotp_send {}{}",
            show_expr(&self.data),
            if self.functional { " (functional)" } else { "" }
        )
    }
}

#[derive(Debug, Clone)]
pub struct IsotpExpect {
    pub data: Expr,
    pub timing: TimeBounds,
}

impl StepDef for IsotpExpect {
    const SPEC: StepSpec = StepSpec {
        name: "isotp_expect",
        doc: "Receive a message through the ISO-TP stack and match it; a failed reception fails the step with its N_Result.",
        scalar: None,
        keys: &[req("data", Ty::Pattern, "Pattern for the message."), WITHIN],
        message: MessageKey::None,
        bare: false,
    };
    fn medium(&self) -> Medium {
        Medium::Can
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(IsotpExpect { data: r.expr("data")?, timing: r.timing() })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![Arg::Value(&self.data, ArgType::Pattern)];
        out.extend(timing_args(&self.timing));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![ArgMut::Value(&mut self.data, ArgType::Pattern)];
        out.extend(timing_args_mut(&mut self.timing));
        out
    }
    fn summary(&self) -> String {
        format!("isotp_expect {}", show_expr(&self.data))
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        not_before_wait(&self.timing, resolve)
    }
}
