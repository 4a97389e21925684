//! The suite model: what a suite file says, after reading and validation, before substitution.
//!
//! Values that may hold `${...}` are [`Expr`]s and are resolved per case at run time; everything
//! else (names, structure, literal values of the right type) was checked at load time.

use super::value::Expr;
use super::yaml::Pos;
use std::path::PathBuf;
use std::time::Duration;

/// One suite file.
#[derive(Debug, Clone)]
pub struct Suite {
    pub file: PathBuf,
    /// `suite:` name (JUnit classname).
    pub name: String,
    pub title: String,
    /// The standard it checks, e.g. `ISO 13400-2:2019`.
    pub spec: Option<String>,
    /// Capabilities every case needs.
    pub requires: Vec<String>,
    /// Tags every case gets.
    pub tags: Vec<String>,
    pub handlers: Vec<Handler>,
    /// Suite constants, usable as `${name}`.
    pub vars: Vec<(String, Expr)>,
    pub setup: Vec<Step>,
    pub finally: Vec<Step>,
    pub cases: Vec<Case>,
}

/// One case as written (a `matrix:` case expands into several selected cases).
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub pos: Pos,
    pub title: String,
    pub clause: Option<String>,
    pub tags: Vec<String>,
    pub requires: Vec<String>,
    pub detects: Vec<String>,
    /// Rules of the judge (`judge::rules` ids) this case makes the target break on purpose:
    /// their findings are noted in the transcript but do not fail the case.
    pub provokes: Vec<String>,
    /// Parameter name -> values; the case runs once per combination.
    pub matrix: Vec<(String, Vec<Expr>)>,
    pub retry: Retry,
    pub handlers: Vec<Handler>,
    /// Upper bound for the whole case as written (every step also has its own bound);
    /// `None`: derived from the waits the case declares under the profile in use
    /// (`runner::schedule::time_limit`).
    pub timeout: Option<Duration>,
    pub setup: Vec<Step>,
    pub steps: Vec<Step>,
    pub finally: Vec<Step>,
}

/// `retry:` a case that fails is run again, up to `attempts` times in all; passing after a
/// failure is reported as flaky (venom's retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { attempts: 1, delay: Duration::ZERO }
    }
}

/// Always-active behaviours while a step waits (TTCN-3 "default" altsteps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Handler {
    /// Answer an entity's alive check request (0x0007) with an alive check response carrying
    /// the tester address (ISO 13400-2:2019 §9.6).
    AnswerAliveCheck,
    /// While waiting for a diagnostic response, a UDS negative response with NRC 0x78
    /// (response pending) extends the wait by P2* (ISO 14229-1 §8.7.1).
    TolerateResponsePending,
}

impl Handler {
    pub const ALL: &'static [(&'static str, Handler)] = &[
        ("answer_alive_check", Handler::AnswerAliveCheck),
        ("tolerate_response_pending", Handler::TolerateResponsePending),
    ];

    pub fn name(self) -> &'static str {
        Handler::ALL.iter().find(|(_, h)| *h == self).map_or("?", |(n, _)| n)
    }
}

pub use super::steps::StepKind;

/// A step with where it was written.
#[derive(Debug, Clone)]
pub struct Step {
    pub pos: Pos,
    pub kind: StepKind,
}

impl Step {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}
