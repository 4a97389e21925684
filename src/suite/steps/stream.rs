//! TCP and TLS step kinds: connections to the target's data port, typed and raw DoIP
//! messages both ways, and the connection's fate (ISO 13400-2:2019 §9.1, §9.4, Table 19).

use super::reader::StepReader;
use super::{Arg, ArgMut, ArgType, Medium, StepDef, WaitValue, on_connection};
use crate::suite::show::{describe_body, show_expr, show_matcher};
use crate::suite::spec::{
    CONNECTION, MessageKey, NOT_BEFORE, OVERRIDE, StepSpec, Ty, WITHIN, k, req,
};
use crate::suite::step_args::{
    Listen, Matcher, MessageBody, OverrideExprs, StreamKind, TimeBounds,
};
use crate::suite::value::Expr;
use std::time::Duration;

const fn spec(
    name: &'static str,
    doc: &'static str,
    keys: &'static [crate::suite::spec::KeySpec],
) -> StepSpec {
    StepSpec { name, doc, scalar: None, keys, message: MessageKey::None, bare: false }
}

#[derive(Debug, Clone)]
pub struct Connect {
    pub connection: String,
    pub transport: StreamKind,
    pub port: Option<Expr>,
}

impl StepDef for Connect {
    const SPEC: StepSpec = StepSpec {
        bare: true,
        ..spec(
            "connect",
            "Open a TCP (or TLS) connection to the target's data port.",
            &[
                k("transport", Ty::Enum(&["tcp", "tls"]), "`tcp` (default) or `tls`."),
                CONNECTION,
                k(
                    "port",
                    Ty::Value,
                    "Port (default `${profile.ports.tcp}` / `${profile.ports.tls}`).",
                ),
            ],
        )
    };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        let transport = match r.word("transport") {
            Some("tls") => StreamKind::Tls,
            _ => StreamKind::Tcp,
        };
        Some(Connect { connection: r.connection(), transport, port: r.expr("port") })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        self.port.iter().map(|e| Arg::Value(e, ArgType::Int)).collect()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        self.port.iter_mut().map(|e| ArgMut::Value(e, ArgType::Int)).collect()
    }
    fn summary(&self) -> String {
        let t = if self.transport == StreamKind::Tls { "tls" } else { "tcp" };
        format!("connect {t}{}", on_connection(&self.connection))
    }
}

#[derive(Debug, Clone)]
pub struct Disconnect {
    pub connection: String,
}

impl StepDef for Disconnect {
    const SPEC: StepSpec =
        StepSpec { bare: true, ..spec("disconnect", "Close a connection (FIN).", &[CONNECTION]) };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(Disconnect { connection: r.connection() })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        Vec::new()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        Vec::new()
    }
    fn summary(&self) -> String {
        format!("disconnect{}", on_connection(&self.connection))
    }
}

/// Ends a connection with a TCP reset instead of a FIN: how a tester that crashes or is
/// unplugged looks to the entity, which must then free the socket and its routing
/// activation (ISO 13400-2:2019 §9.4, a closed TCP_DATA socket ends the activation).
#[derive(Debug, Clone)]
pub struct Abort {
    pub connection: String,
}

impl StepDef for Abort {
    const SPEC: StepSpec = StepSpec {
        bare: true,
        ..spec(
            "abort",
            "Reset a connection (RST instead of FIN), as a tester that crashes.",
            &[CONNECTION],
        )
    };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(Abort { connection: r.connection() })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        Vec::new()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        Vec::new()
    }
    fn summary(&self) -> String {
        format!("abort (RST){}", on_connection(&self.connection))
    }
}

/// Macro: routing activation request, expect the response with `response_code`.
#[derive(Debug, Clone)]
pub struct Activate {
    pub connection: String,
    pub source_address: Option<Expr>,
    pub activation_type: Option<Expr>,
    pub response_code: Option<Expr>,
    pub within: Option<Expr>,
}

impl StepDef for Activate {
    const SPEC: StepSpec = StepSpec {
        bare: true,
        ..spec(
            "activate",
            "Routing activation: send the request and expect the response code (a setup macro).",
            &[
                CONNECTION,
                k(
                    "source_address",
                    Ty::Value,
                    "Tester address (default `${profile.tester_address}`).",
                ),
                k("activation_type", Ty::Value, "Activation type (default `default`)."),
                k(
                    "response_code",
                    Ty::Value,
                    "Expected response code (default `successfully_activated`).",
                ),
                WITHIN,
            ],
        )
    };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        use crate::suite::messages::Codes;
        let activation_type = r.expr("activation_type");
        let response_code = r.expr("response_code");
        if let Some(e) = &activation_type {
            r.check_code(e, Codes::ActivationType, "activation_type");
        }
        if let Some(e) = &response_code {
            r.check_code(e, Codes::RoutingActivationResponse, "response_code");
        }
        Some(Activate {
            connection: r.connection(),
            source_address: r.expr("source_address"),
            activation_type,
            response_code,
            within: r.expr("within"),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out: Vec<Arg<'_>> =
            [&self.source_address, &self.activation_type, &self.response_code]
                .into_iter()
                .flatten()
                .map(|e| Arg::Value(e, ArgType::Code))
                .collect();
        out.extend(self.within.iter().map(|e| Arg::Value(e, ArgType::Duration)));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out: Vec<ArgMut<'_>> =
            [&mut self.source_address, &mut self.activation_type, &mut self.response_code]
                .into_iter()
                .flatten()
                .map(|e| ArgMut::Value(e, ArgType::Code))
                .collect();
        out.extend(self.within.iter_mut().map(|e| ArgMut::Value(e, ArgType::Duration)));
        out
    }
    fn summary(&self) -> String {
        format!("activate routing{}", on_connection(&self.connection))
    }
}

#[derive(Debug, Clone)]
pub struct Send {
    pub connection: String,
    pub message: MessageBody<Expr>,
    pub overrides: OverrideExprs,
}

impl StepDef for Send {
    const SPEC: StepSpec = StepSpec {
        message: MessageKey::Required { matchers: false },
        ..spec(
            "send",
            "Send a typed DoIP message; omitted fields come from the profile; `override` breaks it.",
            &[CONNECTION, OVERRIDE],
        )
    };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(Send { connection: r.connection(), message: r.send_body()?, overrides: r.overrides() })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        vec![Arg::Send(&self.message), Arg::OverrideExprs(&self.overrides)]
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        vec![ArgMut::Send(&mut self.message), ArgMut::OverrideExprs(&mut self.overrides)]
    }
    fn summary(&self) -> String {
        let mut s = format!(
            "send {}{}",
            describe_body(&self.message, show_expr),
            on_connection(&self.connection)
        );
        if !self.overrides.is_empty() {
            s.push_str(" (malformed)");
        }
        s
    }
}

/// The lengths of the pieces `send_raw` writes `len` bytes in: the given sizes (each at least
/// one byte, while bytes are left), then the rest; one piece when nothing is cut.
pub fn chunk_lengths(len: usize, sizes: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = len;
    for &n in sizes {
        if rest == 0 {
            break;
        }
        let n = n.clamp(1, rest);
        out.push(n);
        rest -= n;
    }
    if rest > 0 || out.is_empty() {
        out.push(rest);
    }
    out
}

#[derive(Debug, Clone)]
pub struct SendRaw {
    pub connection: String,
    pub hex: Expr,
    pub chunks: Vec<Expr>,
    pub delay: Option<Expr>,
}

impl StepDef for SendRaw {
    const SPEC: StepSpec = spec(
        "send_raw",
        "Send bytes as written, optionally in chunks with delays (framing tests).",
        &[
            req("hex", Ty::Hex, "The bytes."),
            k(
                "chunks",
                Ty::ValueList,
                "Sizes of the pieces written one by one (the rest goes last).",
            ),
            k("delay", Ty::Duration, "Pause between chunks."),
            CONNECTION,
        ],
    );
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        let Some(delay) = self.delay.as_ref().and_then(resolve).map(WaitValue::duration) else {
            return Duration::ZERO;
        };
        let Some(WaitValue::Bytes(len)) = resolve(&self.hex) else { return Duration::ZERO };
        let mut sizes = Vec::new();
        for c in &self.chunks {
            match resolve(c) {
                Some(WaitValue::Int(n)) => sizes.push(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => return Duration::ZERO,
            }
        }
        // The pause comes before every piece but the first.
        let pauses = chunk_lengths(len, &sizes).len().saturating_sub(1);
        delay.saturating_mul(u32::try_from(pauses).unwrap_or(u32::MAX))
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(SendRaw {
            connection: r.connection(),
            hex: r.expr("hex")?,
            chunks: r.expr_list("chunks"),
            delay: r.expr("delay"),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![Arg::Value(&self.hex, ArgType::Hex)];
        out.extend(self.chunks.iter().map(|e| Arg::Value(e, ArgType::Int)));
        out.extend(self.delay.iter().map(|e| Arg::Value(e, ArgType::Duration)));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![ArgMut::Value(&mut self.hex, ArgType::Hex)];
        out.extend(self.chunks.iter_mut().map(|e| ArgMut::Value(e, ArgType::Int)));
        out.extend(self.delay.iter_mut().map(|e| ArgMut::Value(e, ArgType::Duration)));
        out
    }
    fn summary(&self) -> String {
        let chunked = if self.chunks.is_empty() {
            String::new()
        } else {
            format!(" in {} chunks", self.chunks.len() + 1)
        };
        format!("send_raw {}{chunked}{}", show_expr(&self.hex), on_connection(&self.connection))
    }
}

/// `within` / `not_before` of a waiting step as arguments.
pub(super) fn timing_args(t: &TimeBounds) -> impl Iterator<Item = Arg<'_>> {
    t.within.iter().chain(t.not_before.iter()).map(|e| Arg::Value(e, ArgType::Duration))
}

pub(super) fn timing_args_mut(t: &mut TimeBounds) -> impl Iterator<Item = ArgMut<'_>> {
    t.within.iter_mut().chain(t.not_before.iter_mut()).map(|e| ArgMut::Value(e, ArgType::Duration))
}

/// ` within X not before Y` of a summary.
pub(super) fn show_timing(t: &TimeBounds) -> String {
    let mut s = String::new();
    if let Some(w) = &t.within {
        s.push_str(&format!(" within {}", show_expr(w)));
    }
    if let Some(n) = &t.not_before {
        s.push_str(&format!(" not before {}", show_expr(n)));
    }
    s
}

/// The `not_before` a step declares, for the schedule.
pub(super) fn not_before_wait(
    t: &TimeBounds,
    resolve: &dyn Fn(&Expr) -> Option<WaitValue>,
) -> Duration {
    t.not_before.as_ref().and_then(resolve).map(WaitValue::duration).unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub connection: String,
    pub message: MessageBody<Matcher>,
    pub timing: TimeBounds,
}

impl StepDef for Expect {
    const SPEC: StepSpec = StepSpec {
        message: MessageKey::Required { matchers: true },
        ..spec(
            "expect",
            "Wait for a typed DoIP message whose fields match; other messages fail the step.",
            &[CONNECTION, WITHIN, NOT_BEFORE],
        )
    };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(Expect { connection: r.connection(), message: r.expect_body()?, timing: r.timing() })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![Arg::Expect(&self.message)];
        out.extend(timing_args(&self.timing));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![ArgMut::Expect(&mut self.message)];
        out.extend(timing_args_mut(&mut self.timing));
        out
    }
    fn summary(&self) -> String {
        format!(
            "expect {}{}{}",
            describe_body(&self.message, show_matcher),
            show_timing(&self.timing),
            on_connection(&self.connection)
        )
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        not_before_wait(&self.timing, resolve)
    }
}

#[derive(Debug, Clone)]
pub struct ExpectRaw {
    pub connection: String,
    pub hex: Expr,
    pub mask: Option<Expr>,
    pub timing: TimeBounds,
}

impl StepDef for ExpectRaw {
    const SPEC: StepSpec = spec(
        "expect_raw",
        "Wait for one DoIP message (or the bytes available) matching a hex pattern.",
        &[
            req(
                "hex",
                Ty::Pattern,
                "Pattern: hex, `??` any byte, `?` any nibble, trailing `..` any rest.",
            ),
            k("mask", Ty::Hex, "Bits that must match, one mask byte per pattern byte."),
            CONNECTION,
            WITHIN,
            NOT_BEFORE,
        ],
    );
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(ExpectRaw {
            connection: r.connection(),
            hex: r.expr("hex")?,
            mask: r.expr("mask"),
            timing: r.timing(),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![Arg::Value(&self.hex, ArgType::Pattern)];
        out.extend(self.mask.iter().map(|e| Arg::Value(e, ArgType::Hex)));
        out.extend(timing_args(&self.timing));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![ArgMut::Value(&mut self.hex, ArgType::Pattern)];
        out.extend(self.mask.iter_mut().map(|e| ArgMut::Value(e, ArgType::Hex)));
        out.extend(timing_args_mut(&mut self.timing));
        out
    }
    fn summary(&self) -> String {
        format!(
            "expect_raw {}{}{}",
            show_expr(&self.hex),
            show_timing(&self.timing),
            on_connection(&self.connection)
        )
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        not_before_wait(&self.timing, resolve)
    }
}

#[derive(Debug, Clone)]
pub struct ExpectNone {
    pub on: Listen,
    pub duration: Expr,
}

impl StepDef for ExpectNone {
    const SPEC: StepSpec = spec(
        "expect_none",
        "Nothing may arrive for a time (the connection may stay open or close).",
        &[
            req("for", Ty::Duration, "How long to listen."),
            CONNECTION,
            k(
                "id",
                Ty::Value,
                "On `connection: can`: the CAN id that must stay silent (default the profile's isotp.rx_id).",
            ),
        ],
    );
    fn medium(&self) -> Medium {
        match self.on {
            Listen::Can { .. } => Medium::Can,
            Listen::Connection(_) => Medium::Doip,
            Listen::Udp => Medium::DoipUdp,
        }
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        let connection = r.connection();
        let id = r.expr("id");
        if let Some(y) = r.get("id")
            && connection != "can"
        {
            let pos = y.pos;
            r.d.error(pos, "`id` names a CAN id: it needs `connection: can`", "not on CAN");
        }
        let on = match connection.as_str() {
            "can" => Listen::Can { id },
            "udp" => Listen::Udp,
            _ => Listen::Connection(connection),
        };
        Some(ExpectNone { on, duration: r.expr("for")? })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![Arg::Value(&self.duration, ArgType::Duration)];
        if let Listen::Can { id: Some(id) } = &self.on {
            out.push(Arg::Value(id, ArgType::Int));
        }
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![ArgMut::Value(&mut self.duration, ArgType::Duration)];
        if let Listen::Can { id: Some(id) } = &mut self.on {
            out.push(ArgMut::Value(id, ArgType::Int));
        }
        out
    }
    fn summary(&self) -> String {
        let id = match &self.on {
            Listen::Can { id: Some(i) } => format!(" on id {}", show_expr(i)),
            _ => String::new(),
        };
        format!(
            "expect nothing{id} for {}{}",
            show_expr(&self.duration),
            on_connection(self.on.connection_name())
        )
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        resolve(&self.duration).map(WaitValue::duration).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct ExpectClosed {
    pub connection: String,
    pub within: Option<Expr>,
    /// Fail when the close comes earlier than this after the step started (a timer that
    /// must not fire early, e.g. T_TCP_General_Inactivity).
    pub not_before: Option<Expr>,
}

impl StepDef for ExpectClosed {
    const SPEC: StepSpec = StepSpec {
        bare: true,
        ..spec(
            "expect_closed",
            "The target closes the connection (bytes before the close are recorded and allowed).",
            &[CONNECTION, WITHIN, NOT_BEFORE],
        )
    };
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(ExpectClosed {
            connection: r.connection(),
            within: r.expr("within"),
            not_before: r.expr("not_before"),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        self.within
            .iter()
            .chain(self.not_before.iter())
            .map(|e| Arg::Value(e, ArgType::Duration))
            .collect()
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        self.within
            .iter_mut()
            .chain(self.not_before.iter_mut())
            .map(|e| ArgMut::Value(e, ArgType::Duration))
            .collect()
    }
    fn summary(&self) -> String {
        let timing =
            TimeBounds { within: self.within.clone(), not_before: self.not_before.clone() };
        format!("expect closed{}{}", show_timing(&timing), on_connection(&self.connection))
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        self.not_before.as_ref().and_then(resolve).map(WaitValue::duration).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub struct ExpectOpen {
    pub connection: String,
    pub duration: Expr,
}

impl StepDef for ExpectOpen {
    const SPEC: StepSpec = spec(
        "expect_open",
        "The connection stays open for a time (bytes may arrive).",
        &[req("for", Ty::Duration, "How long it must stay open."), CONNECTION],
    );
    fn medium(&self) -> Medium {
        Medium::Doip
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(ExpectOpen { connection: r.connection(), duration: r.expr("for")? })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        vec![Arg::Value(&self.duration, ArgType::Duration)]
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        vec![ArgMut::Value(&mut self.duration, ArgType::Duration)]
    }
    fn summary(&self) -> String {
        format!("expect open for {}{}", show_expr(&self.duration), on_connection(&self.connection))
    }
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        resolve(&self.duration).map(WaitValue::duration).unwrap_or_default()
    }
}
