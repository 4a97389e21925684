//! The suite model: what a suite file says, after reading and validation, before substitution.
//!
//! Values that may hold `${...}` are [`Expr`]s and are resolved per case at run time; everything
//! else (names, structure, literal values of the right type) was checked at load time.

use super::value::{BytePattern, Expr};
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

/// TCP or TLS for `connect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Tcp,
    Tls,
}

/// A typed message with its fields as written (values or matchers).
#[derive(Debug, Clone)]
pub struct MessageBody<F> {
    /// The codec's payload type id (`routing_activation_request`).
    pub name: String,
    pub pos: Pos,
    pub fields: Vec<(String, Pos, F)>,
}

/// `override:` of a `send`: break the header or payload on purpose.
#[derive(Debug, Clone, Default)]
pub struct OverrideExprs {
    pub version: Option<Expr>,
    pub inverse_version: Option<Expr>,
    pub payload_type: Option<Expr>,
    pub payload_length: Option<Expr>,
    /// Cut the whole message (header included) to this many bytes.
    pub truncate: Option<Expr>,
    /// Bytes appended after the payload (the header length is not changed by this).
    pub append: Option<Expr>,
}

impl OverrideExprs {
    /// Every expression of the overrides.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        [
            &self.version,
            &self.inverse_version,
            &self.payload_type,
            &self.payload_length,
            &self.truncate,
            &self.append,
        ]
        .into_iter()
        .flatten()
    }

    /// The same, to substitute resolved values in.
    pub fn exprs_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        [
            &mut self.version,
            &mut self.inverse_version,
            &mut self.payload_type,
            &mut self.payload_length,
            &mut self.truncate,
            &mut self.append,
        ]
        .into_iter()
        .flatten()
    }

    /// No override: the message goes out as the codec builds it.
    pub fn is_empty(&self) -> bool {
        self.exprs().next().is_none()
    }
}

/// A field matcher of `expect`.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// The value (a number, a code name, hex bytes, text, `${...}`).
    Exact(Expr),
    /// Present with any value.
    Any,
    /// An optional field that must not be on the wire.
    Absent,
    /// `{ range: [min, max] }`, inclusive.
    Range(Expr, Expr),
    /// `{ one_of: [a, b] }`.
    OneOf(Vec<Expr>),
    /// `{ mask: 0xF0, value: 0x10 }`: `actual & mask == value & mask`.
    Mask { mask: Expr, value: Expr },
    /// A byte pattern for byte fields: `"62 F1 90 .."`.
    Bytes(Expr),
}

impl Matcher {
    /// Every expression of the matcher.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Matcher::Exact(e) | Matcher::Bytes(e) => vec![e],
            Matcher::Any | Matcher::Absent => Vec::new(),
            Matcher::Range(a, b) => vec![a, b],
            Matcher::OneOf(v) => v.iter().collect(),
            Matcher::Mask { mask, value } => vec![mask, value],
        }
    }

    /// The same, to substitute resolved values in.
    pub fn exprs_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Matcher::Exact(e) | Matcher::Bytes(e) => vec![e],
            Matcher::Any | Matcher::Absent => Vec::new(),
            Matcher::Range(a, b) => vec![a, b],
            Matcher::OneOf(v) => v.iter_mut().collect(),
            Matcher::Mask { mask, value } => vec![mask, value],
        }
    }
}

/// What a UDP step sends or expects: a typed message or raw hex.
#[derive(Debug, Clone)]
pub enum UdpPayload<F> {
    Message(MessageBody<F>),
    Hex(Expr),
}

/// Where `udp_send` sends.
#[derive(Debug, Clone)]
pub enum UdpDestination {
    /// The target's address and discovery port (default).
    Unicast,
    /// The broadcast address the profile names (`network.broadcast_address`).
    Broadcast,
    /// An explicit `host:port`.
    Address(Expr),
}

/// What an `expect_none` listens on (`connection:` names a TCP/TLS connection, or `udp` /
/// `can` for the case's UDP socket / CAN node).
#[derive(Debug, Clone)]
pub enum Listen {
    Connection(String),
    Udp,
    /// The CAN id that must stay silent (default the profile's `isotp.rx_id`).
    Can {
        id: Option<Expr>,
    },
}

impl Listen {
    /// The `connection:` name it was written with.
    pub fn connection_name(&self) -> &str {
        match self {
            Listen::Connection(name) => name,
            Listen::Udp => "udp",
            Listen::Can { .. } => "can",
        }
    }
}

/// Time bounds of an `expect`-like step.
#[derive(Debug, Clone, Default)]
pub struct TimeBounds {
    /// Fail when nothing matching arrives in this time (default: `profile.timing.a_doip_ctrl`).
    pub within: Option<Expr>,
    /// Fail when the match arrives earlier than this after the step started.
    pub not_before: Option<Expr>,
}

/// A literal byte pattern, checked at load time when it has no `${...}`.
pub fn literal_pattern(e: &Expr) -> Option<Result<BytePattern, String>> {
    match &e.kind {
        super::value::ExprKind::Str(s) => Some(BytePattern::parse(s)),
        _ => None,
    }
}
