//! How a step does not hold, and what arrived instead.
//!
//! Who is to blame decides the kind: the target broke a rule ([`Failure::Fail`]), the entity
//! ended or broke a connection it had accepted ([`Failure::Broke`]), the harness or its
//! transport could not do its part ([`Failure::Error`]), or the target was never reached
//! ([`Failure::Unreachable`]). The case turns the kind into a verdict by phase
//! (`runner::case`). What arrived is kept as [`Arrived`]: bytes with how the harness reads them,
//! a DoIP message, a CAN frame or an ISO-TP message each as itself, never as a decode error
//! (`runner::arrived`).

use super::arrived::Arrived;
use crate::runner::event::{FieldMismatch, Reason};

/// How a step did not hold.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The target broke a rule.
    Fail(Box<Reason>),
    /// The entity reset or closed a connection it had accepted while a step needed it: its
    /// behaviour whatever the phase (a `fail` in setup too, where a rule the step checks
    /// leaves the case inconclusive: a profile that does not fit can cause that, not this).
    Broke(Box<Reason>),
    /// A harness or transport problem.
    Error(Box<Reason>),
    /// The harness was too late itself to judge a timing rule (a busy machine): whether the
    /// target kept it cannot be told, so the case is `inconclusive`, never a `fail` the target
    /// did not earn.
    TooLate(Box<Reason>),
    /// The target could not be reached at all.
    Unreachable(Box<Reason>),
}

impl Failure {
    pub fn reason_mut(&mut self) -> &mut Reason {
        match self {
            Failure::Fail(r)
            | Failure::Broke(r)
            | Failure::Error(r)
            | Failure::TooLate(r)
            | Failure::Unreachable(r) => r,
        }
    }

    /// The reason, whatever the kind.
    pub fn into_reason(self) -> Reason {
        match self {
            Failure::Fail(r)
            | Failure::Broke(r)
            | Failure::Error(r)
            | Failure::TooLate(r)
            | Failure::Unreachable(r) => *r,
        }
    }

    /// Adds the pattern the step expected.
    pub fn expecting(mut self, pattern: impl ToString) -> Failure {
        self.reason_mut().expected_hex = Some(pattern.to_string());
        self
    }
}

/// The target broke a rule.
pub fn fail(message: impl Into<String>) -> Failure {
    Failure::Fail(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

/// The entity reset or closed a connection it had accepted.
pub fn broke(message: impl Into<String>) -> Failure {
    Failure::Broke(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

/// The harness could not do its part.
pub fn error(message: impl Into<String>) -> Failure {
    Failure::Error(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

/// The harness ran too late to judge a timing rule.
pub fn too_late(message: impl Into<String>) -> Failure {
    Failure::TooLate(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

/// The target broke a rule; `actual` is what it sent.
pub fn mismatch(message: String, actual: Arrived, fields: Vec<FieldMismatch>) -> Failure {
    Failure::Fail(Box::new(Reason {
        message,
        step: None,
        fields,
        expected_hex: None,
        actual_bytes: Some(actual.bytes),
        actual_decoded: Some(actual.decoded),
    }))
}

/// `field is X, expected Y; ...` for a failure sentence.
pub fn describe_mismatches(m: &[FieldMismatch]) -> String {
    m.iter()
        .map(|f| format!("{} is {}, expected {}", f.field, f.actual, f.expected))
        .collect::<Vec<_>>()
        .join("; ")
}
