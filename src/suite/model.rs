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

/// One case as written (a `matrix:` case expands into several planned cases).
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
    /// Upper bound for the whole case (every step also has its own bound).
    pub timeout: Duration,
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
pub struct Overrides {
    pub version: Option<Expr>,
    pub inverse_version: Option<Expr>,
    pub payload_type: Option<Expr>,
    pub payload_length: Option<Expr>,
    /// Cut the whole message (header included) to this many bytes.
    pub truncate: Option<Expr>,
    /// Bytes appended after the payload (the header length is not changed by this).
    pub append: Option<Expr>,
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
pub struct Timing {
    /// Fail when nothing matching arrives in this time (default: `profile.timing.a_doip_ctrl`).
    pub within: Option<Expr>,
    /// Fail when the match arrives earlier than this after the step started.
    pub not_before: Option<Expr>,
}

/// Every kind of step.
#[derive(Debug, Clone)]
pub enum StepKind {
    Connect {
        connection: String,
        transport: StreamKind,
        port: Option<Expr>,
    },
    Disconnect {
        connection: String,
    },
    /// Macro: routing activation request, expect the response with `response_code`.
    Activate {
        connection: String,
        source_address: Option<Expr>,
        activation_type: Option<Expr>,
        response_code: Option<Expr>,
        within: Option<Expr>,
    },
    Send {
        connection: String,
        message: MessageBody<Expr>,
        overrides: Overrides,
    },
    SendRaw {
        connection: String,
        hex: Expr,
        chunks: Vec<Expr>,
        delay: Option<Expr>,
    },
    Expect {
        connection: String,
        message: MessageBody<Matcher>,
        timing: Timing,
    },
    ExpectRaw {
        connection: String,
        hex: Expr,
        mask: Option<Expr>,
        timing: Timing,
    },
    ExpectNone {
        on: Listen,
        duration: Expr,
    },
    ExpectClosed {
        connection: String,
        within: Option<Expr>,
        /// Fail when the close comes earlier than this after the step started (a timer that
        /// must not fire early, e.g. T_TCP_General_Inactivity).
        not_before: Option<Expr>,
    },
    ExpectOpen {
        connection: String,
        duration: Expr,
    },
    UdpSend {
        payload: UdpPayload<Expr>,
        overrides: Overrides,
        to: UdpDestination,
    },
    UdpExpect {
        payload: UdpPayload<Matcher>,
        timing: Timing,
        /// Match this many datagrams in a row (default 1); `timing` bounds the first.
        count: Option<Expr>,
        /// With `count`: each further datagram comes this long after the previous one
        /// (± the tolerance), e.g. A_DoIP_Announce_Interval.
        interval: Option<Expr>,
    },
    /// The target starts again (power cycle / ignition): the built-in simulator restarts its
    /// entity and announces to the case's UDP socket; a --target runs the profile's
    /// `power_cycle_command`.
    PowerCycle {
        within: Option<Expr>,
    },
    CanSend {
        id: Expr,
        data: Expr,
        extended: bool,
        fd: bool,
    },
    CanExpect {
        id: Expr,
        data: Option<Expr>,
        timing: Timing,
        gap_min: Option<Expr>,
        gap_max: Option<Expr>,
        /// Match this many frames in a row (default 1), e.g. a train of FC WAITs; `within`
        /// bounds each from the previous match, `not_before` the first.
        count: Option<Expr>,
    },
    IsotpSend {
        data: Expr,
        /// A single frame on the functional id instead of a physical transfer.
        functional: bool,
        /// Bound of the whole transmission.
        within: Option<Expr>,
    },
    IsotpExpect {
        data: Expr,
        timing: Timing,
    },
    Wait(Expr),
    /// `name: field` pairs read from the last message an expect step matched.
    Capture(Vec<(String, String)>),
    /// Record the time from the last frame sent to the last frame received as a metric,
    /// optionally asserting bounds.
    Measure {
        name: String,
        min: Option<Expr>,
        max: Option<Expr>,
    },
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Connect { .. } => "connect",
            StepKind::Disconnect { .. } => "disconnect",
            StepKind::Activate { .. } => "activate",
            StepKind::Send { .. } => "send",
            StepKind::SendRaw { .. } => "send_raw",
            StepKind::Expect { .. } => "expect",
            StepKind::ExpectRaw { .. } => "expect_raw",
            StepKind::ExpectNone { .. } => "expect_none",
            StepKind::ExpectClosed { .. } => "expect_closed",
            StepKind::ExpectOpen { .. } => "expect_open",
            StepKind::UdpSend { .. } => "udp_send",
            StepKind::UdpExpect { .. } => "udp_expect",
            StepKind::PowerCycle { .. } => "power_cycle",
            StepKind::CanSend { .. } => "can_send",
            StepKind::CanExpect { .. } => "can_expect",
            StepKind::IsotpSend { .. } => "isotp_send",
            StepKind::IsotpExpect { .. } => "isotp_expect",
            StepKind::Wait(_) => "wait",
            StepKind::Capture(_) => "capture",
            StepKind::Measure { .. } => "measure",
        }
    }

    /// Every expression in the step, for checking `${...}` references at load time.
    pub fn exprs(&self) -> Vec<&Expr> {
        fn body<'a>(b: &'a MessageBody<Expr>, out: &mut Vec<&'a Expr>) {
            out.extend(b.fields.iter().map(|(_, _, e)| e));
        }
        fn matchers<'a>(b: &'a MessageBody<Matcher>, out: &mut Vec<&'a Expr>) {
            for (_, _, m) in &b.fields {
                match m {
                    Matcher::Exact(e) | Matcher::Bytes(e) => out.push(e),
                    Matcher::Any | Matcher::Absent => {}
                    Matcher::Range(a, b) => out.extend([a, b]),
                    Matcher::OneOf(v) => out.extend(v.iter()),
                    Matcher::Mask { mask, value } => out.extend([mask, value]),
                }
            }
        }
        fn timing<'a>(t: &'a Timing, out: &mut Vec<&'a Expr>) {
            out.extend(t.within.iter().chain(t.not_before.iter()));
        }
        fn overrides<'a>(o: &'a Overrides, out: &mut Vec<&'a Expr>) {
            out.extend(
                [
                    &o.version,
                    &o.inverse_version,
                    &o.payload_type,
                    &o.payload_length,
                    &o.truncate,
                    &o.append,
                ]
                .into_iter()
                .flatten(),
            );
        }
        let mut out = Vec::new();
        match self {
            StepKind::Connect { port, .. } => out.extend(port.iter()),
            StepKind::Disconnect { .. } | StepKind::Capture(_) => {}
            StepKind::Activate {
                source_address, activation_type, response_code, within, ..
            } => out.extend(
                [source_address, activation_type, response_code, within].into_iter().flatten(),
            ),
            StepKind::Send { message, overrides: o, .. } => {
                body(message, &mut out);
                overrides(o, &mut out);
            }
            StepKind::SendRaw { hex, chunks, delay, .. } => {
                out.push(hex);
                out.extend(chunks.iter());
                out.extend(delay.iter());
            }
            StepKind::Expect { message, timing: t, .. } => {
                matchers(message, &mut out);
                timing(t, &mut out);
            }
            StepKind::ExpectRaw { hex, mask, timing: t, .. } => {
                out.push(hex);
                out.extend(mask.iter());
                timing(t, &mut out);
            }
            StepKind::ExpectNone { duration, on } => {
                out.push(duration);
                if let Listen::Can { id: Some(id) } = on {
                    out.push(id);
                }
            }
            StepKind::ExpectOpen { duration, .. } => out.push(duration),
            StepKind::ExpectClosed { within, not_before, .. } => {
                out.extend(within.iter().chain(not_before.iter()))
            }
            StepKind::UdpSend { payload, overrides: o, to } => {
                match payload {
                    UdpPayload::Message(m) => body(m, &mut out),
                    UdpPayload::Hex(h) => out.push(h),
                }
                overrides(o, &mut out);
                if let UdpDestination::Address(a) = to {
                    out.push(a);
                }
            }
            StepKind::UdpExpect { payload, timing: t, count, interval } => {
                match payload {
                    UdpPayload::Message(m) => matchers(m, &mut out),
                    UdpPayload::Hex(h) => out.push(h),
                }
                timing(t, &mut out);
                out.extend(count.iter().chain(interval.iter()));
            }
            StepKind::PowerCycle { within } => out.extend(within.iter()),
            StepKind::CanSend { id, data, .. } => out.extend([id, data]),
            StepKind::CanExpect { id, data, timing: t, gap_min, gap_max, count } => {
                out.push(id);
                out.extend(data.iter().chain(gap_min.iter()).chain(gap_max.iter()));
                out.extend(count.iter());
                timing(t, &mut out);
            }
            StepKind::IsotpSend { data, within, .. } => {
                out.push(data);
                out.extend(within.iter());
            }
            StepKind::IsotpExpect { data, timing: t } => {
                out.push(data);
                timing(t, &mut out);
            }
            StepKind::Wait(d) => out.push(d),
            StepKind::Measure { min, max, .. } => out.extend(min.iter().chain(max.iter())),
        }
        out
    }
}

/// A literal byte pattern, checked at load time when it has no `${...}`.
pub fn literal_pattern(e: &Expr) -> Option<Result<BytePattern, String>> {
    match &e.kind {
        super::value::ExprKind::Str(s) => Some(BytePattern::parse(s)),
        _ => None,
    }
}
