//! Raw CAN step kinds: frames sent and expected one by one with their timing, to script an
//! adversarial ISO-TP peer (ISO 15765-2).

use super::reader::StepReader;
use super::stream::{not_before_wait, timing_args, timing_args_mut};
use super::{Arg, ArgMut, ArgType, Medium, StepDef, WaitValue};
use crate::suite::show::show_expr;
use crate::suite::spec::{MessageKey, NOT_BEFORE, StepSpec, Ty, WITHIN, k, req};
use crate::suite::step_args::TimeBounds;
use crate::suite::value::Expr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct CanSend {
    pub id: Expr,
    pub data: Expr,
    pub extended: bool,
    pub fd: bool,
}

impl StepDef for CanSend {
    const SPEC: StepSpec = StepSpec {
        name: "can_send",
        doc: "Send one raw CAN frame on the profile's bus (script an adversarial ISO-TP peer).",
        scalar: None,
        keys: &[
            req("id", Ty::Value, "CAN id."),
            req("data", Ty::Hex, "Frame data (up to 8 bytes, 64 with `fd`)."),
            k("extended", Ty::Bool, "29-bit id."),
            k("fd", Ty::Bool, "CAN FD frame."),
        ],
        message: MessageKey::None,
        bare: false,
    };
    fn medium(&self) -> Medium {
        Medium::Can
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(CanSend {
            id: r.expr("id")?,
            data: r.expr("data")?,
            extended: r.flag("extended"),
            fd: r.flag("fd"),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        vec![Arg::Value(&self.id, ArgType::Int), Arg::Value(&self.data, ArgType::Hex)]
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        vec![ArgMut::Value(&mut self.id, ArgType::Int), ArgMut::Value(&mut self.data, ArgType::Hex)]
    }
    fn summary(&self) -> String {
        format!("can_send {}#{}", show_expr(&self.id), show_expr(&self.data))
    }
}

#[derive(Debug, Clone)]
pub struct CanExpect {
    pub id: Expr,
    pub data: Option<Expr>,
    pub timing: TimeBounds,
    pub gap_min: Option<Expr>,
    pub gap_max: Option<Expr>,
    /// Match this many frames in a row (default 1), e.g. a train of FC WAITs; `within`
    /// bounds each from the previous match, `not_before` the first.
    pub count: Option<Expr>,
}

impl StepDef for CanExpect {
    const SPEC: StepSpec = StepSpec {
        name: "can_expect",
        doc: "Wait for a CAN frame with an id (and data pattern), optionally asserting the gap since the previous frame.",
        scalar: None,
        keys: &[
            req("id", Ty::Value, "CAN id."),
            k("data", Ty::Pattern, "Data pattern."),
            WITHIN,
            NOT_BEFORE,
            k(
                "gap_min",
                Ty::Duration,
                "Least time since the previous frame of the target (e.g. STmin).",
            ),
            k("gap_max", Ty::Duration, "Most time since the previous frame of the target."),
            k(
                "count",
                Ty::Value,
                "Match this many frames in a row (default 1), e.g. a train of FC WAITs; within bounds each from the previous match, not_before the first.",
            ),
        ],
        message: MessageKey::None,
        bare: false,
    };
    fn medium(&self) -> Medium {
        Medium::Can
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(CanExpect {
            id: r.expr("id")?,
            data: r.expr("data"),
            timing: r.timing(),
            gap_min: r.expr("gap_min"),
            gap_max: r.expr("gap_max"),
            count: r.expr("count"),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![Arg::Value(&self.id, ArgType::Int)];
        out.extend(self.data.iter().map(|e| Arg::Value(e, ArgType::Pattern)));
        out.extend(
            self.gap_min
                .iter()
                .chain(self.gap_max.iter())
                .map(|e| Arg::Value(e, ArgType::Duration)),
        );
        out.extend(self.count.iter().map(|e| Arg::Value(e, ArgType::Int)));
        out.extend(timing_args(&self.timing));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![ArgMut::Value(&mut self.id, ArgType::Int)];
        out.extend(self.data.iter_mut().map(|e| ArgMut::Value(e, ArgType::Pattern)));
        out.extend(
            self.gap_min
                .iter_mut()
                .chain(self.gap_max.iter_mut())
                .map(|e| ArgMut::Value(e, ArgType::Duration)),
        );
        out.extend(self.count.iter_mut().map(|e| ArgMut::Value(e, ArgType::Int)));
        out.extend(timing_args_mut(&mut self.timing));
        out
    }
    fn summary(&self) -> String {
        format!("can_expect {}", show_expr(&self.id))
    }
    /// `not_before` bounds the first frame; `gap_min` (an STmin the target must keep) each
    /// frame from the target's previous one, which came before the step began.
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        let gap =
            self.gap_min.as_ref().and_then(resolve).map_or(Duration::ZERO, WaitValue::duration);
        let count = match self.count.as_ref().and_then(resolve) {
            Some(WaitValue::Int(n)) => u32::try_from(n.max(1)).unwrap_or(u32::MAX),
            _ => 1,
        };
        not_before_wait(&self.timing, resolve).max(gap) + gap.saturating_mul(count - 1)
    }
}

/// Reads what the bus still carries until it has been quiet for a while, so that whatever
/// earlier steps set off (an answer, the rest of a transfer, a flow control) is over before
/// the next step; every frame is recorded.
#[derive(Debug, Clone)]
pub struct CanSettle {
    pub quiet: Option<Expr>,
}

impl StepDef for CanSettle {
    const SPEC: StepSpec = StepSpec {
        name: "can_settle",
        doc: "Read and record every CAN frame until the bus has been quiet for `quiet` (default `isotp.settle_time`, at most the longest of N_Bs, N_Cr and P2* in all): what earlier steps set off is over before the next step.",
        scalar: None,
        keys: &[k(
            "quiet",
            Ty::Duration,
            "Quiet time that ends the step (default `isotp.settle_time`).",
        )],
        message: MessageKey::None,
        bare: true,
    };
    fn medium(&self) -> Medium {
        Medium::Can
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(CanSettle { quiet: r.expr("quiet") })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        self.quiet.iter().map(|e| Arg::Value(e, ArgType::Duration)).collect()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        self.quiet.iter_mut().map(|e| ArgMut::Value(e, ArgType::Duration)).collect()
    }
    fn summary(&self) -> String {
        "can_settle".to_string()
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        self.quiet.as_ref().and_then(resolve).map_or(Duration::ZERO, WaitValue::duration)
    }
}
