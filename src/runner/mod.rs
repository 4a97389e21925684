//! The only event loop: runs cases over transports, owns the clock, emits events.

pub mod arrived;
pub mod case;
pub mod conn;
pub mod event;
pub mod failure;
pub mod health;
pub mod isotp;
pub mod message;
pub mod plan;
pub mod record;
pub mod run;
pub mod schedule;
pub mod steps;
pub mod target;
pub mod udp;

pub use case::{CaseEnv, TargetEndpoints};
pub use run::{RunOptions, RunResult, StopCause, run};

/// Start of the reason of a case that could not reach the target (exit code 3).
pub const UNREACHABLE_PREFIX: &str = "target unreachable: ";
