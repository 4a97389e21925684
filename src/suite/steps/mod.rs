//! Every step kind, declared once.
//!
//! A step kind is a struct in its family's module (`stream`, `udp`, `can`, `isotp`, `power`,
//! `control`) that implements [`StepDef`]: its [`StepSpec`] (name, keys with their types and
//! docs), how it is read from YAML, its expressions (for `${...}` checks and the plan), its
//! one-line summary and the waits it declares. The list in [`step_kinds!`] makes the
//! [`StepKind`] enum, the [`STEPS`] table that drives the reader's "did you mean", the JSON
//! Schema and the generated docs, and (through the same macro) the runner's dispatch, which
//! finds each kind's `Execute` impl in `runner::steps`. docs/adding-a-step-kind.md
//! is the recipe: one struct here, one line in the list, one `Execute` impl in the runner.

mod can;
mod control;
mod isotp;
mod power;
pub mod reader;
mod stream;
mod udp;

pub use can::{CanExpect, CanSend, CanSettle};
pub use control::{Capture, Measure, Wait};
pub use isotp::{IsotpExpect, IsotpSend};
pub use power::PowerCycle;
pub use reader::StepReader;
pub use stream::{
    Abort, Activate, Connect, Disconnect, Expect, ExpectClosed, ExpectNone, ExpectOpen, ExpectRaw,
    Send, SendRaw, chunk_lengths,
};
pub use udp::{UdpExpect, UdpSend};

use super::spec::StepSpec;
use super::step_args::{Matcher, MessageBody, OverrideExprs};
use super::value::Expr;
use std::time::Duration;

/// What a step kind declares about itself.
pub trait StepDef: Sized {
    /// Name, documentation and keys: the reader, the schema and the docs read it.
    const SPEC: StepSpec;
    /// Builds the step from its checked YAML (unknown keys, required keys and literal types
    /// were checked against [`StepDef::SPEC`] before).
    fn read(r: &mut StepReader<'_, '_>) -> Option<Self>;
    /// Every expression of the step, with what it must be (for `${...}` checks and the plan).
    fn args(&self) -> Vec<Arg<'_>>;
    /// The same, to substitute resolved values in (the plan).
    fn args_mut(&mut self) -> Vec<ArgMut<'_>>;
    /// One line for events, transcripts and the console.
    fn summary(&self) -> String;
    /// The time a conformant target cannot shorten (`wait`, `for`, `not_before`), for the
    /// longest-first schedule; `resolve` reads an expression as a duration or an integer.
    fn declared_wait(&self, _resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        Duration::ZERO
    }
    /// What the step talks to: a run against a CAN node alone (`--can` without `--target`)
    /// skips the cases with a DoIP step.
    fn medium(&self) -> Medium {
        Medium::None
    }
}

/// What a step talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// Nothing (`wait`, `capture`, `measure`).
    None,
    /// The DoIP entity over TCP or TLS, or its power.
    Doip,
    /// The DoIP entity's UDP service (discovery, status).
    DoipUdp,
    /// The CAN bus: frames or ISO-TP messages.
    Can,
}

impl Medium {
    /// A DoIP entity's service, TCP or UDP.
    pub fn is_doip(self) -> bool {
        matches!(self, Medium::Doip | Medium::DoipUdp)
    }
}

/// A resolved value a wait estimate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitValue {
    Duration(Duration),
    Int(u64),
    /// Bytes (hex), by their length.
    Bytes(usize),
}

impl WaitValue {
    pub fn duration(self) -> Duration {
        match self {
            WaitValue::Duration(d) => d,
            WaitValue::Int(_) | WaitValue::Bytes(_) => Duration::ZERO,
        }
    }
}

/// What an expression of a step must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgType {
    Duration,
    /// An integer.
    Int,
    /// An integer or a code name the codec knows (`activation_type: default`).
    Code,
    /// Hex bytes.
    Hex,
    /// A byte pattern (`62 F1 ?? ..`).
    Pattern,
    /// `HOST:PORT` or any text.
    Text,
}

/// One expression of a step, or a message whose fields are expressions.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Value(&'a Expr, ArgType),
    Send(&'a MessageBody<Expr>),
    Expect(&'a MessageBody<Matcher>),
    OverrideExprs(&'a OverrideExprs),
}

/// [`Arg`] with mutable access.
#[derive(Debug)]
pub enum ArgMut<'a> {
    Value(&'a mut Expr, ArgType),
    Send(&'a mut MessageBody<Expr>),
    Expect(&'a mut MessageBody<Matcher>),
    OverrideExprs(&'a mut OverrideExprs),
}

/// Every expression in `args`, flattened (messages, matchers and overrides opened up).
pub fn exprs<'a>(args: &[Arg<'a>]) -> Vec<&'a Expr> {
    let mut out = Vec::new();
    for a in args {
        match *a {
            Arg::Value(e, _) => out.push(e),
            Arg::Send(b) => out.extend(b.fields.iter().map(|(_, _, e)| e)),
            Arg::Expect(b) => {
                for (_, _, m) in &b.fields {
                    out.extend(m.exprs());
                }
            }
            Arg::OverrideExprs(o) => out.extend(o.exprs()),
        }
    }
    out
}

/// The one list of step kinds, in documentation order. `$m` is called with every
/// `Variant(Type)`: this makes [`StepKind`] here and the runner's dispatch there.
#[macro_export]
#[doc(hidden)]
macro_rules! step_kinds {
    ($m:ident) => {
        $m! {
            Connect(Connect),
            Disconnect(Disconnect),
            Abort(Abort),
            Activate(Activate),
            Send(Send),
            SendRaw(SendRaw),
            Expect(Expect),
            ExpectRaw(ExpectRaw),
            ExpectNone(ExpectNone),
            ExpectClosed(ExpectClosed),
            ExpectOpen(ExpectOpen),
            UdpSend(UdpSend),
            UdpExpect(UdpExpect),
            PowerCycle(PowerCycle),
            CanSend(CanSend),
            CanExpect(CanExpect),
            CanSettle(CanSettle),
            IsotpSend(IsotpSend),
            IsotpExpect(IsotpExpect),
            Wait(Wait),
            Capture(Capture),
            Measure(Measure),
        }
    };
}
pub use step_kinds;

macro_rules! define_step_kind {
    ($($variant:ident($ty:ident)),* $(,)?) => {
        /// Every kind of step (see [`step_kinds!`]).
        #[derive(Debug, Clone)]
        pub enum StepKind {
            $($variant($ty)),*
        }

        /// Every step kind's spec, in the order of [`step_kinds!`].
        pub const STEPS: &[StepSpec] = &[$(<$ty as StepDef>::SPEC),*];

        impl StepKind {
            pub fn name(&self) -> &'static str {
                match self {
                    $(StepKind::$variant(_) => <$ty as StepDef>::SPEC.name),*
                }
            }

            /// Reads the step kind `name` (its spec was found in [`STEPS`]).
            pub fn read(name: &str, r: &mut StepReader<'_, '_>) -> Option<StepKind> {
                $(if name == <$ty as StepDef>::SPEC.name {
                    return <$ty as StepDef>::read(r).map(StepKind::$variant);
                })*
                None
            }

            pub fn args(&self) -> Vec<Arg<'_>> {
                match self {
                    $(StepKind::$variant(s) => s.args()),*
                }
            }

            pub fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
                match self {
                    $(StepKind::$variant(s) => s.args_mut()),*
                }
            }

            /// Every expression in the step, for checking `${...}` references at load time.
            pub fn exprs(&self) -> Vec<&Expr> {
                exprs(&self.args())
            }

            pub fn summary(&self) -> String {
                match self {
                    $(StepKind::$variant(s) => s.summary()),*
                }
            }

            pub fn medium(&self) -> Medium {
                match self {
                    $(StepKind::$variant(s) => s.medium()),*
                }
            }

            pub fn declared_wait(
                &self,
                resolve: &dyn Fn(&Expr) -> Option<WaitValue>,
            ) -> Duration {
                match self {
                    $(StepKind::$variant(s) => s.declared_wait(resolve)),*
                }
            }
        }
    };
}
step_kinds!(define_step_kind);

/// The spec of the step kind `name`.
pub fn spec(name: &str) -> Option<&'static StepSpec> {
    STEPS.iter().find(|s| s.name == name)
}

/// ` on NAME` for a connection other than `main`, for summaries.
pub(crate) fn on_connection(c: &str) -> String {
    if c == "main" { String::new() } else { format!(" on {c}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), STEPS.len());
    }

    #[test]
    fn every_step_kind_is_found_by_its_name() {
        for s in STEPS {
            assert_eq!(spec(s.name).map(|f| f.name), Some(s.name));
        }
        assert!(spec("expct").is_none());
    }
}
