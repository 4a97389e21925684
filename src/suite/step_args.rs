//! The arguments steps take, as a suite file says them (before substitution): messages and
//! their matchers, `override:`, UDP payloads and destinations, `listen:`, time bounds. The step
//! kinds ([`super::steps`]) are made of them; the suite model ([`super::model`]) holds the steps.

use super::value::{BytePattern, Expr};
use super::yaml::Pos;

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
