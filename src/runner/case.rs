//! Running one case: fresh connections, the steps of every phase in order, handlers while a
//! step waits, and the verdict with the first failure's reason (design.md "Runner").
//!
//! Phases and verdicts: a failure in the suite's or case's `setup` makes the case
//! `inconclusive`; in `steps`, `fail`; in `finally` (which always runs) `error` when the case
//! had passed. Harness and transport problems (cannot connect, a `${...}` that does not
//! resolve) are `error` in any phase. A timing bound (`within`, `not_before`, `max`) gets the
//! profile's `timing.tolerance` as slack.

use super::conn::{self, Connection, ReadOutcome, Received};
use super::message::{self as msg, show_expr, show_matcher};
use super::record::{Recorder, decoded_message};
use super::udp::{Udp, UdpOutcome};
use crate::codec::doip::{Message, Payload};
use crate::runner::event::*;
use crate::suite::load::PlannedCase;
use crate::suite::model::*;
use crate::suite::profile::Profile;
use crate::suite::value::{
    BytePattern, Expr, Value, format_duration, hex_spaced, to_bytes, to_duration, to_int,
};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Where the target listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub ip: IpAddr,
    pub tcp: u16,
    pub udp: u16,
    pub tls: u16,
    /// The CAN transport of `can_*` / `isotp_*` steps, as shown in reports and parsed
    /// (`--can SPEC`, or the built-in simulator's bus); each case opens its own node on it.
    pub can: Option<(String, crate::transport::can::CanSpec)>,
    /// The built-in simulator instance behind these endpoints (its `power_cycle` restarts
    /// it); `None` for a --target, which the profile's `power_cycle_command` restarts.
    pub simulator: Option<crate::transport::doip::sim_host::SimControl>,
}

/// What every case of a run shares.
#[derive(Clone)]
pub struct CaseEnv {
    pub profile: Arc<Profile>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Bound on connection setup.
    pub connect_timeout: Duration,
}

/// How a step did not hold.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The target broke a rule.
    Fail(Box<Reason>),
    /// A harness or transport problem.
    Error(Box<Reason>),
    /// The target could not be reached at all.
    Unreachable(Box<Reason>),
}

impl Failure {
    fn reason_mut(&mut self) -> &mut Reason {
        match self {
            Failure::Fail(r) | Failure::Error(r) | Failure::Unreachable(r) => r,
        }
    }

    /// The reason, whatever the kind.
    pub fn into_reason(self) -> Reason {
        match self {
            Failure::Fail(r) | Failure::Error(r) | Failure::Unreachable(r) => *r,
        }
    }
}

fn fail(message: impl Into<String>) -> Failure {
    Failure::Fail(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

fn error(message: impl Into<String>) -> Failure {
    Failure::Error(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub verdict: Verdict,
    pub reason: Option<Reason>,
    pub unreachable: bool,
}

/// One attempt of one case.
/// What one `can_expect` frame must be (resolved once for every frame of a `count`).
struct CanExpectation {
    id: u64,
    pattern: Option<BytePattern>,
    gap_min: Option<Duration>,
    gap_max: Option<Duration>,
}

pub struct CaseRun<'a> {
    planned: &'a PlannedCase,
    env: &'a CaseEnv,
    target: Endpoints,
    pub rec: Recorder,
    scope: BTreeMap<String, Value>,
    conns: HashMap<String, Connection>,
    udp: Option<Udp>,
    can: Option<crate::transport::can::CanTransport>,
    /// The ISO-TP connection of `isotp_*` steps, opened by the first one.
    isotp: Option<super::isotp::IsoTpSession>,
    /// When the last CAN frame was seen on the bus (sent or received), for gap assertions.
    last_can_at: Option<RunTime>,
    handlers: Vec<Handler>,
    last_message: Option<Message<'static>>,
    last_sent_at: Option<RunTime>,
    last_received_at: Option<RunTime>,
    tolerance: Duration,
    /// Slack of CAN gap assertions (`can.gap_tolerance`).
    gap_tolerance: Duration,
    default_within: Duration,
    p2_star: Duration,
    version: u8,
    tester_address: u16,
}

impl<'a> CaseRun<'a> {
    pub fn new(
        planned: &'a PlannedCase,
        env: &'a CaseEnv,
        target: Endpoints,
        rec: Recorder,
    ) -> Result<CaseRun<'a>, Failure> {
        let profile = &env.profile;
        let mut scope: BTreeMap<String, Value> = profile.scope_entries().collect();
        for (name, e) in &planned.suite.vars {
            let v = e.resolve(&scope).map_err(|m| error(format!("suite var `{name}`: {m}")))?;
            scope.insert(name.clone(), v);
        }
        for (name, e) in &planned.params {
            let v = e.resolve(&scope).map_err(|m| error(format!("matrix `{name}`: {m}")))?;
            scope.insert(name.clone(), v);
        }
        let dur = |k: &str, d: Duration| match profile.get(k) {
            Some(Value::Duration(v)) => *v,
            _ => d,
        };
        let int = |k: &str, d: u64| match profile.get(k) {
            Some(Value::Int(v)) => *v,
            _ => d,
        };
        let mut handlers = planned.suite.handlers.clone();
        handlers.extend(planned.case().handlers.iter().copied());
        Ok(CaseRun {
            planned,
            env,
            target,
            rec,
            scope,
            conns: HashMap::new(),
            udp: None,
            can: None,
            isotp: None,
            last_can_at: None,
            handlers,
            last_message: None,
            last_sent_at: None,
            last_received_at: None,
            tolerance: dur("timing.tolerance", Duration::from_millis(50)),
            gap_tolerance: dur("can.gap_tolerance", Duration::from_millis(2)),
            default_within: dur("timing.a_doip_ctrl", Duration::from_secs(2)),
            p2_star: dur("uds.p2_star", Duration::from_secs(5)),
            version: int("protocol_version", 2) as u8,
            tester_address: int("tester_address", 0x0E80) as u16,
        })
    }

    /// Runs every phase; returns the attempt's verdict. Connections are closed at the end.
    pub async fn run(&mut self) -> Attempt {
        let suite = self.planned.suite.clone();
        let case = self.planned.case().clone();
        let mut verdict = Verdict::Pass;
        let mut reason = None;
        let mut unreachable = false;
        let phases = [
            (Phase::SuiteSetup, &suite.setup),
            (Phase::CaseSetup, &case.setup),
            (Phase::Steps, &case.steps),
        ];
        'outer: for (phase, steps) in phases {
            for (i, step) in steps.iter().enumerate() {
                if let Err(f) = self.run_step(phase, i, step).await {
                    let setup = phase != Phase::Steps;
                    let (v, r) = match f {
                        Failure::Fail(r) if setup => (Verdict::Inconclusive, *r),
                        Failure::Fail(r) => (Verdict::Fail, *r),
                        Failure::Error(r) => (Verdict::Error, *r),
                        Failure::Unreachable(r) => {
                            unreachable = true;
                            (Verdict::Error, *r)
                        }
                    };
                    verdict = v;
                    reason = Some(r);
                    break 'outer;
                }
            }
        }
        for (phase, steps) in
            [(Phase::CaseFinally, &case.finally), (Phase::SuiteFinally, &suite.finally)]
        {
            for (i, step) in steps.iter().enumerate() {
                if let Err(f) = self.run_step(phase, i, step).await {
                    if verdict == Verdict::Pass {
                        verdict = Verdict::Error;
                        reason = Some(f.into_reason());
                    }
                    break;
                }
            }
        }
        self.close_all().await;
        Attempt { verdict, reason, unreachable }
    }

    /// Drops every connection, recording what was left.
    pub async fn close_all(&mut self) {
        for (_, mut c) in self.conns.drain() {
            c.abandon(&mut self.rec);
        }
        if let Some(u) = self.udp.take() {
            u.close(&self.rec);
        }
    }

    fn step_ref(&self, phase: Phase, index: usize, step: &Step) -> StepRef {
        StepRef {
            phase,
            index: index as u32,
            kind: step.name().to_owned(),
            location: SourceLocation {
                file: self.planned.suite.file.clone(),
                line: step.pos.line,
                column: step.pos.column,
            },
        }
    }

    async fn run_step(&mut self, phase: Phase, index: usize, step: &Step) -> Result<(), Failure> {
        let step_ref = self.step_ref(phase, index, step);
        let summary = summary(&step.kind);
        let started = self.rec.now();
        self.rec.emit(Event::Step(StepEvent {
            case: self.rec.case,
            at: started,
            step: step_ref.clone(),
            summary: summary.clone(),
            status: StepStatus::Started,
        }));
        let result = Box::pin(self.exec(&step.kind)).await;
        let at = self.rec.now();
        let elapsed = at.since(started);
        let status = if result.is_ok() {
            StepStatus::Passed { elapsed }
        } else {
            StepStatus::Failed { elapsed }
        };
        self.rec.emit(Event::Step(StepEvent {
            case: self.rec.case,
            at,
            step: step_ref.clone(),
            summary,
            status,
        }));
        result.map_err(|mut f| {
            f.reason_mut().step = Some(step_ref);
            f
        })
    }

    fn resolve(&self, e: &Expr) -> Result<Value, Failure> {
        e.resolve(&self.scope).map_err(|m| error(format!("{m} (at line {})", e.pos.line)))
    }

    fn duration(&self, e: &Expr) -> Result<Duration, Failure> {
        to_duration(&self.resolve(e)?).map_err(|m| error(format!("{m} (at line {})", e.pos.line)))
    }

    fn int(&self, e: &Expr) -> Result<u64, Failure> {
        to_int(&self.resolve(e)?).map_err(|m| error(format!("{m} (at line {})", e.pos.line)))
    }

    /// The bound of a wait: `within` (or the default) plus the tolerance.
    fn bound(&self, within: Option<&Expr>) -> Result<(Duration, Instant), Failure> {
        let d = match within {
            Some(e) => self.duration(e)?,
            None => self.default_within,
        };
        Ok((d, Instant::now() + d + self.tolerance))
    }

    async fn exec(&mut self, kind: &StepKind) -> Result<(), Failure> {
        match kind {
            StepKind::Connect { connection, transport, port } => {
                let port = match port {
                    Some(p) => self.int(p)? as u16,
                    None if *transport == StreamKind::Tls => self.target.tls,
                    None => self.target.tcp,
                };
                let addr = SocketAddr::new(self.target.ip, port);
                let tls = match transport {
                    StreamKind::Tcp => None,
                    StreamKind::Tls => {
                        Some(self.env.tls.clone().ok_or_else(|| error("TLS is not configured"))?)
                    }
                };
                if let Some(mut old) = self.conns.remove(connection) {
                    old.abandon(&mut self.rec);
                }
                let c = conn::connect(addr, tls, self.env.connect_timeout, &self.rec)
                    .await
                    .map_err(|m| {
                        Failure::Unreachable(Box::new(Reason {
                            message: format!("{}{m}", super::UNREACHABLE_PREFIX),
                            ..Reason::default()
                        }))
                    })?;
                self.conns.insert(connection.clone(), c);
                Ok(())
            }
            StepKind::Disconnect { connection } => {
                let mut c = self
                    .conns
                    .remove(connection)
                    .ok_or_else(|| error(format!("no connection `{connection}`")))?;
                c.close(&self.rec).await;
                c.abandon(&mut self.rec);
                Ok(())
            }
            StepKind::Activate {
                connection,
                source_address,
                activation_type,
                response_code,
                within,
            } => {
                let sa = match source_address {
                    Some(e) => e.clone(),
                    None => literal_template("${profile.tester_address}", source_address),
                };
                let mut send = MessageBody {
                    name: "routing_activation_request".into(),
                    pos: Default::default(),
                    fields: vec![("source_address".into(), sa.pos, sa)],
                };
                if let Some(at) = activation_type {
                    send.fields.push(("activation_type".into(), at.pos, at.clone()));
                }
                self.send_message(connection, &send, &Overrides::default()).await?;
                let code = response_code.clone().unwrap_or_else(|| Expr {
                    pos: Default::default(),
                    kind: crate::suite::value::ExprKind::Str("successfully_activated".into()),
                });
                let expect = MessageBody {
                    name: "routing_activation_response".into(),
                    pos: Default::default(),
                    fields: vec![("response_code".into(), code.pos, Matcher::Exact(code))],
                };
                self.expect(
                    connection,
                    &expect,
                    &Timing { within: within.clone(), not_before: None },
                )
                .await
            }
            StepKind::Send { connection, message, overrides } => {
                self.send_message(connection, message, overrides).await
            }
            StepKind::SendRaw { connection, hex, chunks, delay } => {
                let bytes = to_bytes(&self.resolve(hex)?).map_err(error)?;
                let mut sizes = Vec::new();
                for c in chunks {
                    sizes.push(self.int(c)? as usize);
                }
                let delay = delay.as_ref().map(|d| self.duration(d)).transpose()?;
                let pieces = split_chunks(&bytes, &sizes);
                let whole = pieces.len() == 1;
                for (i, piece) in pieces.into_iter().enumerate() {
                    if i > 0
                        && let Some(d) = delay
                    {
                        tokio::time::sleep(d).await;
                    }
                    let decoded = match (whole, Message::parse(&piece)) {
                        (true, Ok(m)) => decoded_message(&m),
                        _ => Decoded::Raw,
                    };
                    let c = self.conns.get_mut(connection).ok_or_else(|| {
                        error(format!(
                            "no connection `{connection}`: add a `connect` step before this one"
                        ))
                    })?;
                    let at = c.send(piece, decoded, &mut self.rec).await.map_err(error)?;
                    self.last_sent_at = Some(at);
                }
                Ok(())
            }
            StepKind::Expect { connection, message, timing } => {
                self.expect(connection, message, timing).await
            }
            StepKind::ExpectRaw { connection, hex, mask, timing } => {
                self.expect_raw(connection, hex, mask.as_ref(), timing).await
            }
            StepKind::ExpectNone { connection, duration, id } => {
                self.expect_none(connection, duration, id.as_ref()).await
            }
            StepKind::ExpectClosed { connection, within, not_before } => {
                self.expect_closed(connection, within.as_ref(), not_before.as_ref()).await
            }
            StepKind::ExpectOpen { connection, duration } => {
                self.expect_open(connection, duration).await
            }
            StepKind::UdpSend { payload, overrides, to } => {
                self.udp_send(payload, overrides, to).await
            }
            StepKind::UdpExpect { payload, timing, count, interval } => {
                let count = match count {
                    Some(c) => self.int(c)?,
                    None => 1,
                };
                let interval = interval.as_ref().map(|e| self.duration(e)).transpose()?;
                self.udp_expect(payload, timing, count, interval).await
            }
            StepKind::PowerCycle { within } => self.power_cycle(within.as_ref()).await,
            StepKind::CanSend { id, data, extended, fd } => {
                self.can_send(id, data, *extended, *fd).await
            }
            StepKind::CanExpect { id, data, timing, gap_min, gap_max, count } => {
                let count = match count {
                    Some(c) => self.int(c)?,
                    None => 1,
                };
                let gaps = (gap_min.as_ref(), gap_max.as_ref());
                self.can_expect(id, data.as_ref(), timing, gaps, count).await
            }
            StepKind::IsotpSend { data, functional, within } => {
                self.isotp_send(data, *functional, within.as_ref()).await
            }
            StepKind::IsotpExpect { data, timing } => self.isotp_expect(data, timing).await,
            StepKind::Wait(d) => {
                let d = self.duration(d)?;
                self.wait(d).await
            }
            StepKind::Capture(pairs) => {
                let m = self.last_message.as_ref().ok_or_else(|| {
                    error("`capture` needs a message matched by an earlier `expect`")
                })?;
                let mut values = Vec::new();
                for (name, field) in pairs {
                    let v = msg::capture_field(m, field).ok_or_else(|| {
                        error(format!(
                            "the last matched message ({}) has no field `{field}`",
                            m.payload.payload_type().id().unwrap_or("unknown")
                        ))
                    })?;
                    values.push((name.clone(), v));
                }
                for (name, v) in values {
                    self.rec.note(format!("captured {name} = {v}"));
                    self.scope.insert(name, v);
                }
                Ok(())
            }
            StepKind::Measure { name, min, max } => {
                let (Some(sent), Some(received)) = (self.last_sent_at, self.last_received_at)
                else {
                    return Err(error(
                        "`measure` needs a frame sent and a message matched before it",
                    ));
                };
                let value = received.since(sent);
                self.rec.emit(Event::Metric(MetricEvent {
                    case: self.rec.case,
                    at: self.rec.now(),
                    name: name.clone(),
                    value,
                }));
                if let Some(max) = max {
                    let max = self.duration(max)?;
                    if value > max + self.tolerance {
                        return Err(fail(format!(
                            "{name} took {}, more than the allowed {} (+{} tolerance)",
                            us(value),
                            format_duration(max),
                            format_duration(self.tolerance)
                        )));
                    }
                }
                if let Some(min) = min {
                    let min = self.duration(min)?;
                    if value + self.tolerance < min {
                        return Err(fail(format!(
                            "{name} took {}, less than the required {}",
                            us(value),
                            format_duration(min)
                        )));
                    }
                }
                Ok(())
            }
        }
    }

    async fn send_message(
        &mut self,
        connection: &str,
        body: &MessageBody<Expr>,
        overrides: &Overrides,
    ) -> Result<(), Failure> {
        let message = msg::build(body, self.version, &self.scope).map_err(error)?;
        let ov = msg::overrides(overrides, &self.scope).map_err(error)?;
        let bytes = ov.to_bytes(&message);
        let decoded = if ov.is_empty() {
            decoded_message(&message)
        } else {
            match Message::parse(&bytes) {
                Ok(m) => decoded_message(&m),
                Err(e) => Decoded::Error { error: format!("malformed on purpose: {e}") },
            }
        };
        let c = conn_mut(&mut self.conns, connection)?;
        let at = c.send(bytes, decoded, &mut self.rec).await.map_err(error)?;
        self.last_sent_at = Some(at);
        Ok(())
    }

    /// Answers what an always-active handler covers; `true` when the message was consumed.
    async fn handle(&mut self, connection: &str, message: &Message<'_>) -> Result<bool, Failure> {
        if matches!(message.payload, Payload::AliveCheckRequest)
            && self.handlers.contains(&Handler::AnswerAliveCheck)
        {
            let reply = Message::new(
                message.protocol_version,
                Payload::AliveCheckResponse(crate::codec::doip::AliveCheckResponse {
                    source_address: self.tester_address,
                }),
            );
            let decoded = decoded_message(&reply);
            let bytes = reply.to_bytes();
            let c = conn_mut(&mut self.conns, connection)?;
            c.send(bytes, decoded, &mut self.rec).await.map_err(error)?;
            self.rec.note("handler answer_alive_check: answered an alive check request");
            return Ok(true);
        }
        Ok(false)
    }

    /// Whether a diagnostic message is a UDS "response pending" (NRC 0x78, ISO 14229-1).
    fn is_response_pending(&self, message: &Message<'_>) -> bool {
        self.handlers.contains(&Handler::TolerateResponsePending)
            && matches!(&message.payload, Payload::DiagnosticMessage(d) if d.user_data.len() == 3 && d.user_data[0] == 0x7F && d.user_data[2] == 0x78)
    }

    async fn expect(
        &mut self,
        connection: &str,
        expected: &MessageBody<Matcher>,
        timing: &Timing,
    ) -> Result<(), Failure> {
        let (within, mut deadline) = self.bound(timing.within.as_ref())?;
        let not_before = timing.not_before.as_ref().map(|e| self.duration(e)).transpose()?;
        let start = self.rec.now();
        loop {
            let outcome = conn_mut(&mut self.conns, connection)?
                .read(deadline, &mut self.rec)
                .await
                .map_err(error)?;
            let received = match outcome {
                ReadOutcome::Frame(r) => r,
                ReadOutcome::Timeout => {
                    return Err(fail(format!(
                        "expected {} within {}, nothing arrived",
                        expected.name,
                        format_duration(within)
                    )));
                }
                ReadOutcome::Closed { at } => {
                    return Err(fail(format!(
                        "expected {}, the target closed the connection after {}",
                        expected.name,
                        us(at.since(start))
                    )));
                }
                ReadOutcome::Reset { at, error: e } => {
                    return Err(fail(format!(
                        "expected {}, the connection was reset after {}: {e}",
                        expected.name,
                        us(at.since(start))
                    )));
                }
            };
            let message = match &received.message {
                Ok(m) => m.clone(),
                Err(e) => {
                    return Err(mismatch(
                        format!("expected {}, got bytes that do not decode: {e}", expected.name),
                        &received,
                        vec![],
                    ));
                }
            };
            let name = message.payload.payload_type().id().unwrap_or("unknown payload type");
            if name != expected.name {
                if self.handle(connection, &message).await? {
                    if Instant::now() >= deadline {
                        return Err(fail(format!(
                            "expected {} within {}, only messages the handlers answered arrived",
                            expected.name,
                            format_duration(within)
                        )));
                    }
                    continue;
                }
            } else {
                let mismatches = msg::judge(expected, &message, &self.scope).map_err(error)?;
                if mismatches.is_empty() {
                    return self.matched(received, message, start, not_before, &expected.name);
                }
                if self.is_response_pending(&message) {
                    deadline = Instant::now() + self.p2_star + self.tolerance;
                    self.rec.note(format!(
                        "handler tolerate_response_pending: NRC 0x78, waiting up to {} more",
                        format_duration(self.p2_star)
                    ));
                    continue;
                }
                let text = format!(
                    "{} does not match: {}",
                    expected.name,
                    describe_mismatches(&mismatches)
                );
                return Err(mismatch(text, &received, mismatches));
            }
            return Err(mismatch(
                format!("expected {}, got {name}", expected.name),
                &received,
                vec![],
            ));
        }
    }

    fn matched(
        &mut self,
        received: Received,
        message: Message<'static>,
        start: RunTime,
        not_before: Option<Duration>,
        what: &str,
    ) -> Result<(), Failure> {
        let after = received.at.since(start);
        if let Some(nb) = not_before
            && after + self.tolerance < nb
        {
            return Err(mismatch(
                format!(
                    "{what} arrived after {}, earlier than not_before {}",
                    us(after),
                    format_duration(nb)
                ),
                &received,
                vec![],
            ));
        }
        self.last_received_at = Some(received.at);
        self.last_message = Some(message);
        Ok(())
    }

    async fn expect_raw(
        &mut self,
        connection: &str,
        hex: &Expr,
        mask: Option<&Expr>,
        timing: &Timing,
    ) -> Result<(), Failure> {
        let pattern = self.pattern(hex, mask)?;
        let (within, deadline) = self.bound(timing.within.as_ref())?;
        let not_before = timing.not_before.as_ref().map(|e| self.duration(e)).transpose()?;
        let start = self.rec.now();
        let outcome = conn_mut(&mut self.conns, connection)?
            .read(deadline, &mut self.rec)
            .await
            .map_err(error)?;
        let shown = pattern.to_string();
        match outcome {
            ReadOutcome::Frame(r) => {
                if pattern.matches(&r.bytes) {
                    let after = r.at.since(start);
                    if let Some(nb) = not_before
                        && after + self.tolerance < nb
                    {
                        let mut f = mismatch(
                            format!(
                                "bytes arrived after {}, earlier than not_before {}",
                                us(after),
                                format_duration(nb)
                            ),
                            &r,
                            vec![],
                        );
                        f.reason_mut().expected_hex = Some(shown);
                        return Err(f);
                    }
                    self.last_received_at = Some(r.at);
                    self.last_message = r.message.ok();
                    Ok(())
                } else {
                    let mut f =
                        mismatch(format!("bytes do not match the pattern {shown}"), &r, vec![]);
                    f.reason_mut().expected_hex = Some(shown);
                    Err(f)
                }
            }
            ReadOutcome::Timeout => Err(fail(format!(
                "expected bytes {shown} within {}, nothing arrived",
                format_duration(within)
            ))),
            ReadOutcome::Closed { .. } => {
                Err(fail(format!("expected bytes {shown}, the target closed the connection")))
            }
            ReadOutcome::Reset { error: e, .. } => {
                Err(fail(format!("expected bytes {shown}, the connection was reset: {e}")))
            }
        }
    }

    fn pattern(&self, hex: &Expr, mask: Option<&Expr>) -> Result<BytePattern, Failure> {
        let text = match self.resolve(hex)? {
            Value::Str(s) => s,
            Value::Bytes(b) => hex_spaced(&b),
            other => {
                return Err(error(format!("a hex pattern is text, found {}", other.type_name())));
            }
        };
        let mut p = BytePattern::parse(&text).map_err(error)?;
        if let Some(m) = mask {
            let m = to_bytes(&self.resolve(m)?).map_err(error)?;
            p = p.with_mask(&m).map_err(error)?;
        }
        Ok(p)
    }

    async fn expect_none(
        &mut self,
        connection: &str,
        duration: &Expr,
        id: Option<&Expr>,
    ) -> Result<(), Failure> {
        let d = self.duration(duration)?;
        if connection == "can" {
            let id = id.map(|e| self.int(e)).transpose()?;
            return self.can_expect_none(d, id).await;
        }
        if connection == "udp" {
            let deadline = Instant::now() + d;
            let udp = self
                .udp
                .as_mut()
                .ok_or_else(|| error("no UDP socket: add a `udp_send` step before this one"))?;
            return match udp.recv(deadline, &mut self.rec).await.map_err(error)? {
                UdpOutcome::Timeout => Ok(()),
                UdpOutcome::Datagram { received, .. } => Err(mismatch(
                    format!("expected no datagram for {}, one arrived", format_duration(d)),
                    &received,
                    vec![],
                )),
            };
        }
        let start = self.rec.now();
        let deadline = Instant::now() + d;
        loop {
            let outcome = conn_mut(&mut self.conns, connection)?
                .read(deadline, &mut self.rec)
                .await
                .map_err(error)?;
            match outcome {
                ReadOutcome::Timeout | ReadOutcome::Closed { .. } | ReadOutcome::Reset { .. } => {
                    return Ok(());
                }
                ReadOutcome::Frame(r) => {
                    if let Ok(m) = &r.message
                        && self.handle(connection, &m.clone()).await?
                    {
                        if Instant::now() >= deadline {
                            return Ok(());
                        }
                        continue;
                    }
                    return Err(mismatch(
                        format!(
                            "expected nothing for {}, got a frame after {}",
                            format_duration(d),
                            us(r.at.since(start))
                        ),
                        &r,
                        vec![],
                    ));
                }
            }
        }
    }

    async fn expect_closed(
        &mut self,
        connection: &str,
        within: Option<&Expr>,
        not_before: Option<&Expr>,
    ) -> Result<(), Failure> {
        let (within, deadline) = self.bound(within)?;
        let not_before = not_before.map(|e| self.duration(e)).transpose()?;
        let start = self.rec.now();
        let early = |at: RunTime, tolerance: Duration| match not_before {
            Some(nb) if at.since(start) + tolerance < nb => Err(fail(format!(
                "the target closed the connection after {}, earlier than not_before {}",
                us(at.since(start)),
                format_duration(nb)
            ))),
            _ => Ok(()),
        };
        loop {
            match conn_mut(&mut self.conns, connection)?
                .read(deadline, &mut self.rec)
                .await
                .map_err(error)?
            {
                ReadOutcome::Closed { at } => return early(at, self.tolerance),
                ReadOutcome::Reset { at, error: e } => {
                    self.rec.note(format!("the connection was reset rather than closed: {e}"));
                    return early(at, self.tolerance);
                }
                ReadOutcome::Timeout => {
                    return Err(fail(format!(
                        "expected the target to close the connection within {}, it stayed open",
                        format_duration(within)
                    )));
                }
                ReadOutcome::Frame(_) if Instant::now() >= deadline => {
                    return Err(fail(format!(
                        "expected the target to close the connection within {}, it kept sending",
                        format_duration(within)
                    )));
                }
                ReadOutcome::Frame(_) => {}
            }
        }
    }

    async fn expect_open(&mut self, connection: &str, duration: &Expr) -> Result<(), Failure> {
        let d = self.duration(duration)?;
        let start = self.rec.now();
        let deadline = Instant::now() + d;
        let mut kept = Vec::new();
        let result = loop {
            match conn_mut(&mut self.conns, connection)?
                .read(deadline, &mut self.rec)
                .await
                .map_err(error)?
            {
                ReadOutcome::Timeout => break Ok(()),
                ReadOutcome::Closed { at } => {
                    break Err(fail(format!(
                        "expected the connection to stay open for {}, the target closed it after {}",
                        format_duration(d),
                        us(at.since(start))
                    )));
                }
                ReadOutcome::Reset { at, error: e } => {
                    break Err(fail(format!(
                        "expected the connection to stay open for {}, it was reset after {}: {e}",
                        format_duration(d),
                        us(at.since(start))
                    )));
                }
                ReadOutcome::Frame(r) => {
                    if let Ok(m) = &r.message
                        && self.handle(connection, &m.clone()).await?
                    {
                        if Instant::now() >= deadline {
                            break Ok(());
                        }
                        continue;
                    }
                    kept.push(r);
                    if Instant::now() >= deadline {
                        break Ok(());
                    }
                }
            }
        };
        // Messages that arrived meanwhile stay for later expects, in order.
        if let Some(c) = self.conns.get_mut(connection) {
            for r in kept.into_iter().rev() {
                c.queue.push_front(r);
            }
        }
        result
    }

    /// Pauses while reading every connection, so that handlers answer and arrival times are
    /// taken when the bytes come.
    async fn wait(&mut self, d: Duration) -> Result<(), Failure> {
        let deadline = Instant::now() + d;
        let names: Vec<String> =
            self.conns.iter().filter(|(_, c)| c.is_open()).map(|(n, _)| n.clone()).collect();
        if names.is_empty() {
            tokio::time::sleep_until(deadline).await;
            return Ok(());
        }
        let slice = Duration::from_millis(if names.len() == 1 { u64::MAX / 4 } else { 10 });
        let mut queued: HashMap<String, Vec<Received>> = HashMap::new();
        while Instant::now() < deadline {
            for name in &names {
                let until = deadline.min(Instant::now() + slice);
                let Some(c) = self.conns.get_mut(name) else { continue };
                if !c.is_open() {
                    continue;
                }
                // Fresh bytes only: what is already queued stays where it is.
                let pending = std::mem::take(&mut c.queue);
                let outcome = c.read(until, &mut self.rec).await;
                let c = self.conns.get_mut(name).ok_or_else(|| error("connection vanished"))?;
                c.queue = pending;
                match outcome.map_err(error)? {
                    ReadOutcome::Frame(r) => {
                        if let Ok(m) = &r.message
                            && self.handle(name, &m.clone()).await?
                        {
                            continue;
                        }
                        queued.entry(name.clone()).or_default().push(r);
                    }
                    ReadOutcome::Timeout
                    | ReadOutcome::Closed { .. }
                    | ReadOutcome::Reset { .. } => {}
                }
            }
            if names.iter().all(|n| self.conns.get(n).is_none_or(|c| !c.is_open())) {
                tokio::time::sleep_until(deadline).await;
            }
        }
        for (name, items) in queued {
            if let Some(c) = self.conns.get_mut(&name) {
                c.queue.extend(items);
            }
        }
        Ok(())
    }

    fn bus_name(&self) -> String {
        self.target.can.as_ref().map(|(text, _)| text.clone()).unwrap_or_default()
    }

    async fn ensure_can(&mut self) -> Result<(), Failure> {
        if self.can.is_none() {
            let (_, spec) = self
                .target
                .can
                .as_ref()
                .ok_or_else(|| error("CAN steps need a CAN transport: give --can SPEC"))?;
            let t = crate::transport::can::CanTransport::open(spec)
                .await
                .map_err(|e| error(format!("cannot open the CAN transport: {e}")))?;
            self.can = Some(t);
        }
        Ok(())
    }

    async fn can_send(
        &mut self,
        id: &Expr,
        data: &Expr,
        extended: bool,
        fd: bool,
    ) -> Result<(), Failure> {
        use crate::codec::can::{CanFrame, CanId};
        let raw = self.int(id)?;
        let can_id =
            u32::try_from(raw).ok().and_then(|r| CanId::new(r, extended)).ok_or_else(|| {
                error(format!(
                    "CAN id {raw:#x} does not fit {} bits",
                    if extended { 29 } else { 11 }
                ))
            })?;
        let bytes = to_bytes(&self.resolve(data)?).map_err(error)?;
        let frame = if fd {
            CanFrame::new_fd(can_id, &bytes, false)
        } else {
            CanFrame::new(can_id, &bytes)
        }
        .map_err(|e| error(format!("CAN frame: {e:?}")))?;
        self.ensure_can().await?;
        let bus = self.bus_name();
        let t = self.can.as_mut().ok_or_else(|| error("no CAN transport"))?;
        t.send(&frame).await.map_err(|e| error(format!("sending on CAN: {e}")))?;
        let at = self.rec.now();
        self.rec.can_frame(at, Direction::Sent, &bus, &frame).map_err(error)?;
        self.last_can_at = Some(at);
        self.last_sent_at = Some(at);
        Ok(())
    }

    /// `count` matching frames in a row: `within` bounds each from the previous match (the
    /// first from the step's start), `not_before` bounds the first.
    async fn can_expect(
        &mut self,
        id: &Expr,
        data: Option<&Expr>,
        timing: &Timing,
        (gap_min, gap_max): (Option<&Expr>, Option<&Expr>),
        count: u64,
    ) -> Result<(), Failure> {
        let frame = CanExpectation {
            id: self.int(id)?,
            pattern: data.map(|d| self.pattern(d, None)).transpose()?,
            gap_min: gap_min.map(|g| self.duration(g)).transpose()?,
            gap_max: gap_max.map(|g| self.duration(g)).transpose()?,
        };
        let mut not_before = timing.not_before.as_ref().map(|e| self.duration(e)).transpose()?;
        self.ensure_can().await?;
        for _ in 0..count.max(1) {
            let (within, deadline) = self.bound(timing.within.as_ref())?;
            self.can_expect_one(&frame, within, deadline, not_before.take()).await?;
        }
        Ok(())
    }

    async fn can_expect_one(
        &mut self,
        frame: &CanExpectation,
        within: Duration,
        deadline: Instant,
        not_before: Option<Duration>,
    ) -> Result<(), Failure> {
        let CanExpectation { id: want, ref pattern, gap_min, gap_max } = *frame;
        let bus = self.bus_name();
        let start = self.rec.now();
        loop {
            let t = self.can.as_mut().ok_or_else(|| error("no CAN transport"))?;
            let rx = match tokio::time::timeout_at(deadline, t.recv()).await {
                Err(_) => {
                    return Err(fail(format!(
                        "expected a CAN frame with id {want:#x} within {}, none arrived",
                        format_duration(within)
                    )));
                }
                Ok(Err(e)) => return Err(error(format!("receiving on CAN: {e}"))),
                Ok(Ok(rx)) => rx,
            };
            if rx.origin == crate::transport::can::Origin::Echo {
                continue;
            }
            let at = self.rec.clock.at(rx.at);
            self.rec.can_frame(at, Direction::Received, &bus, &rx.frame).map_err(error)?;
            let previous = self.last_can_at.replace(at);
            if u64::from(rx.frame.id().raw()) != want {
                continue;
            }
            let received = Received {
                at,
                bytes: rx.frame.data().to_vec(),
                message: Err("a CAN frame".into()),
            };
            if let Some(p) = &pattern
                && !p.matches(rx.frame.data())
            {
                let mut f = mismatch(
                    format!("CAN frame {want:#x} data does not match {p}"),
                    &received,
                    vec![],
                );
                f.reason_mut().expected_hex = Some(p.to_string());
                return Err(f);
            }
            if let Some(prev) = previous {
                let gap = at.since(prev);
                if let Some(min) = gap_min
                    && gap + self.gap_tolerance < min
                {
                    return Err(mismatch(
                        format!(
                            "CAN frame {want:#x} came {} after the previous frame, less than gap_min {}",
                            us(gap),
                            format_duration(min)
                        ),
                        &received,
                        vec![],
                    ));
                }
                if let Some(max) = gap_max
                    && gap > max + self.gap_tolerance
                {
                    return Err(mismatch(
                        format!(
                            "CAN frame {want:#x} came {} after the previous frame, more than gap_max {}",
                            us(gap),
                            format_duration(max)
                        ),
                        &received,
                        vec![],
                    ));
                }
            }
            if let Some(nb) = not_before
                && at.since(start) + self.tolerance < nb
            {
                return Err(mismatch(
                    format!(
                        "CAN frame {want:#x} arrived after {}, earlier than not_before {}",
                        us(at.since(start)),
                        format_duration(nb)
                    ),
                    &received,
                    vec![],
                ));
            }
            self.last_received_at = Some(at);
            return Ok(());
        }
    }

    /// Runs the case's ISO-TP session (opened on first use) with `run`, recording every CAN
    /// frame it moves.
    async fn isotp_outcome(
        &mut self,
        deadline: Instant,
        send: Option<(&[u8], bool)>,
    ) -> Result<super::isotp::Outcome, Failure> {
        use crate::transport::can::driver::Traffic;
        self.ensure_can().await?;
        if self.isotp.is_none() {
            self.isotp = Some(super::isotp::IsoTpSession::new(&self.env.profile).map_err(error)?);
        }
        let bus = self.bus_name();
        let CaseRun { can, isotp, rec, last_can_at, .. } = self;
        let (Some(transport), Some(session)) = (can.as_mut(), isotp.as_mut()) else {
            return Err(error("no CAN transport"));
        };
        let mut flooded = None;
        let mut observe = |traffic: Traffic<'_>| {
            let (at, direction, frame) = match traffic {
                Traffic::Sent { at, frame } => (rec.clock.at(at), Direction::Sent, frame),
                Traffic::Received(rx) if rx.origin == crate::transport::can::Origin::Echo => {
                    return;
                }
                Traffic::Received(rx) => (rec.clock.at(rx.at), Direction::Received, &rx.frame),
            };
            *last_can_at = Some(at);
            if let Err(e) = rec.can_frame(at, direction, &bus, frame) {
                flooded.get_or_insert(e);
            }
        };
        let deadline = deadline.into_std();
        let outcome = match send {
            Some((payload, functional)) => {
                session.send(transport, payload, functional, deadline, &mut observe).await
            }
            None => session.next_message(transport, deadline, &mut observe).await,
        }
        .map_err(error)?;
        match flooded {
            Some(e) => Err(error(e)),
            None => Ok(outcome),
        }
    }

    async fn isotp_send(
        &mut self,
        data: &Expr,
        functional: bool,
        within: Option<&Expr>,
    ) -> Result<(), Failure> {
        use super::isotp::Outcome;
        let bytes = to_bytes(&self.resolve(data)?).map_err(error)?;
        let (within, deadline) = self.bound(within)?;
        match self.isotp_outcome(deadline, Some((&bytes, functional))).await? {
            Outcome::Done(_) => {
                self.last_sent_at = Some(self.rec.now());
                Ok(())
            }
            // ISO 15765-2:2016 §8.3.7: the N_Result of N_USData.confirm names the cause.
            Outcome::Failed(result) => Err(fail(format!(
                "the ISO-TP transmission of {} bytes failed with {result}",
                bytes.len()
            ))),
            Outcome::TimedOut => Err(fail(format!(
                "the ISO-TP transmission of {} bytes did not finish within {}",
                bytes.len(),
                format_duration(within)
            ))),
        }
    }

    async fn isotp_expect(&mut self, data: &Expr, timing: &Timing) -> Result<(), Failure> {
        use super::isotp::Outcome;
        let pattern = self.pattern(data, None)?;
        let (within, mut deadline) = self.bound(timing.within.as_ref())?;
        let not_before = timing.not_before.as_ref().map(|e| self.duration(e)).transpose()?;
        let start = self.rec.now();
        loop {
            let message = match self.isotp_outcome(deadline, None).await? {
                Outcome::Done(message) => message,
                Outcome::Failed(result) => {
                    return Err(fail(format!(
                        "expected an ISO-TP message {pattern}, the reception failed with {result}"
                    )));
                }
                Outcome::TimedOut => {
                    return Err(fail(format!(
                        "expected an ISO-TP message {pattern} within {}, none arrived",
                        format_duration(within)
                    )));
                }
            };
            let at = self.rec.now();
            let received =
                Received { at, bytes: message.clone(), message: Err("a UDS message".into()) };
            if pattern.matches(&message) {
                if let Some(nb) = not_before
                    && at.since(start) + self.tolerance < nb
                {
                    return Err(mismatch(
                        format!(
                            "the ISO-TP message arrived after {}, earlier than not_before {}",
                            us(at.since(start)),
                            format_duration(nb)
                        ),
                        &received,
                        vec![],
                    ));
                }
                self.last_received_at = Some(at);
                return Ok(());
            }
            // ISO 14229-1 §8.7.1: NRC 0x78 (response pending) extends the wait by P2*.
            if self.handlers.contains(&Handler::TolerateResponsePending)
                && matches!(message[..], [0x7F, _, 0x78])
            {
                deadline = Instant::now() + self.p2_star + self.tolerance;
                self.rec.note(format!(
                    "handler tolerate_response_pending: NRC 0x78 over ISO-TP, waiting up to {} more",
                    format_duration(self.p2_star)
                ));
                continue;
            }
            let mut f =
                mismatch(format!("the ISO-TP message does not match {pattern}"), &received, vec![]);
            f.reason_mut().expected_hex = Some(pattern.to_string());
            return Err(f);
        }
    }

    /// `expect_none: { connection: can }`: no frame with the profile's `isotp.rx_id` (the
    /// target's) arrives for `d`; frames with other ids are recorded and passed over.
    async fn can_expect_none(&mut self, d: Duration, id: Option<u64>) -> Result<(), Failure> {
        let want = match (id, self.env.profile.get("isotp.rx_id")) {
            (Some(id), _) => id,
            (None, Some(Value::Int(v))) => *v,
            _ => {
                return Err(error(
                    "`expect_none` on `can` needs an `id` or the profile's isotp.rx_id",
                ));
            }
        };
        self.ensure_can().await?;
        let bus = self.bus_name();
        let start = self.rec.now();
        let deadline = Instant::now() + d;
        loop {
            let t = self.can.as_mut().ok_or_else(|| error("no CAN transport"))?;
            let rx = match tokio::time::timeout_at(deadline, t.recv()).await {
                Err(_) => return Ok(()),
                Ok(Err(e)) => return Err(error(format!("receiving on CAN: {e}"))),
                Ok(Ok(rx)) => rx,
            };
            if rx.origin == crate::transport::can::Origin::Echo {
                continue;
            }
            let at = self.rec.clock.at(rx.at);
            self.rec.can_frame(at, Direction::Received, &bus, &rx.frame).map_err(error)?;
            self.last_can_at = Some(at);
            if u64::from(rx.frame.id().raw()) == want {
                let received = Received {
                    at,
                    bytes: rx.frame.data().to_vec(),
                    message: Err("a CAN frame".into()),
                };
                return Err(mismatch(
                    format!(
                        "expected no CAN frame with id {want:#x} for {}, one arrived after {}",
                        format_duration(d),
                        us(at.since(start))
                    ),
                    &received,
                    vec![],
                ));
            }
        }
    }

    async fn ensure_udp(&mut self, broadcast: bool) -> Result<(), Failure> {
        if self.udp.is_none() {
            let target = SocketAddr::new(self.target.ip, self.target.udp);
            self.udp = Some(Udp::bind(target, broadcast, &self.rec).await.map_err(error)?);
        }
        Ok(())
    }

    async fn udp_send(
        &mut self,
        payload: &UdpPayload<Expr>,
        overrides: &Overrides,
        to: &UdpDestination,
    ) -> Result<(), Failure> {
        let (bytes, decoded) = match payload {
            UdpPayload::Message(body) => {
                let m = msg::build(body, self.version, &self.scope).map_err(error)?;
                let ov = msg::overrides(overrides, &self.scope).map_err(error)?;
                let bytes = ov.to_bytes(&m);
                let decoded = match Message::parse(&bytes) {
                    Ok(parsed) => decoded_message(&parsed),
                    Err(e) => Decoded::Error { error: format!("malformed on purpose: {e}") },
                };
                (bytes, decoded)
            }
            UdpPayload::Hex(h) => (to_bytes(&self.resolve(h)?).map_err(error)?, Decoded::Raw),
        };
        let (dest, broadcast) = match to {
            UdpDestination::Unicast => (SocketAddr::new(self.target.ip, self.target.udp), false),
            UdpDestination::Broadcast => {
                let ip = match self.scope.get("profile.network.broadcast_address") {
                    Some(Value::Str(s)) => s.parse::<IpAddr>().map_err(|e| {
                        error(format!("profile network.broadcast_address `{s}`: {e}"))
                    })?,
                    _ => return Err(error("the profile names no network.broadcast_address")),
                };
                (SocketAddr::new(ip, self.target.udp), true)
            }
            UdpDestination::Address(e) => {
                let text = self.resolve(e)?.to_string();
                let addr = text
                    .parse::<SocketAddr>()
                    .map_err(|err| error(format!("`to: {text}` is not HOST:PORT: {err}")))?;
                (addr, false)
            }
        };
        self.ensure_udp(broadcast).await?;
        let udp = self.udp.as_mut().ok_or_else(|| error("no UDP socket"))?;
        udp.send(dest, bytes, decoded, &mut self.rec).await.map_err(error)?;
        self.last_sent_at = Some(self.rec.now());
        Ok(())
    }

    /// `count` datagrams in a row: the first bounded by `timing`, each further one by
    /// `interval` ± the tolerance after the previous (or by `within` from it). Vehicle
    /// announcements the step does not ask for (an entity may announce at any time after a
    /// start) are recorded and passed over.
    async fn udp_expect(
        &mut self,
        payload: &UdpPayload<Matcher>,
        timing: &Timing,
        count: u64,
        interval: Option<Duration>,
    ) -> Result<(), Failure> {
        let (mut within, mut deadline) = self.bound(timing.within.as_ref())?;
        let mut not_before = timing.not_before.as_ref().map(|e| self.duration(e)).transpose()?;
        let mut start = self.rec.now();
        let count = count.max(1);
        for n in 1..=count {
            let what = match payload {
                UdpPayload::Message(b) => b.name.clone(),
                UdpPayload::Hex(h) => format!("bytes {}", show_expr(h)),
            };
            let what = if count > 1 { format!("{what} ({n} of {count})") } else { what };
            let at =
                self.udp_expect_one(payload, &what, within, deadline, start, not_before).await?;
            start = at;
            match interval {
                Some(iv) => {
                    within = iv;
                    not_before = Some(iv);
                }
                None => not_before = None,
            }
            deadline = Instant::now() + within + self.tolerance;
        }
        Ok(())
    }

    /// One matching datagram; returns when it arrived.
    async fn udp_expect_one(
        &mut self,
        payload: &UdpPayload<Matcher>,
        what: &str,
        within: Duration,
        deadline: Instant,
        start: RunTime,
        not_before: Option<Duration>,
    ) -> Result<RunTime, Failure> {
        let pattern = match payload {
            UdpPayload::Hex(h) => Some(self.pattern(h, None)?),
            UdpPayload::Message(_) => None,
        };
        loop {
            let udp = self
                .udp
                .as_mut()
                .ok_or_else(|| error("no UDP socket: add a `udp_send` step before this one"))?;
            let received = match udp.recv(deadline, &mut self.rec).await.map_err(error)? {
                UdpOutcome::Timeout => {
                    return Err(fail(format!(
                        "expected {what} over UDP within {}, nothing arrived",
                        format_duration(within)
                    )));
                }
                UdpOutcome::Datagram { received, .. } => received,
            };
            let announcement = matches!(
                &received.message,
                Ok(Message { payload: Payload::VehicleAnnouncement(_), .. })
            );
            match payload {
                UdpPayload::Hex(_) => {
                    let pattern = pattern.as_ref().ok_or_else(|| error("no pattern"))?;
                    if !pattern.matches(&received.bytes) {
                        if announcement {
                            self.rec.note("udp_expect: passed over a vehicle announcement");
                            continue;
                        }
                        let mut f = mismatch(
                            format!("the datagram does not match {pattern}"),
                            &received,
                            vec![],
                        );
                        f.reason_mut().expected_hex = Some(pattern.to_string());
                        return Err(f);
                    }
                    let after = received.at.since(start);
                    if let Some(nb) = not_before
                        && after + self.tolerance < nb
                    {
                        return Err(mismatch(
                            format!(
                                "{what} arrived after {}, earlier than not_before {}",
                                us(after),
                                format_duration(nb)
                            ),
                            &received,
                            vec![],
                        ));
                    }
                    let at = received.at;
                    self.last_received_at = Some(at);
                    self.last_message = received.message.ok();
                    return Ok(at);
                }
                UdpPayload::Message(expected) => {
                    let message = match &received.message {
                        Ok(m) => m.clone(),
                        Err(e) => {
                            return Err(mismatch(
                                format!(
                                    "expected {what}, got a datagram that does not decode: {e}"
                                ),
                                &received,
                                vec![],
                            ));
                        }
                    };
                    let name =
                        message.payload.payload_type().id().unwrap_or("unknown payload type");
                    if name != expected.name {
                        if announcement {
                            self.rec.note(format!(
                                "udp_expect: passed over a vehicle announcement while waiting for {}",
                                expected.name
                            ));
                            continue;
                        }
                        return Err(mismatch(
                            format!("expected {what}, got {name}"),
                            &received,
                            vec![],
                        ));
                    }
                    let mismatches = msg::judge(expected, &message, &self.scope).map_err(error)?;
                    if !mismatches.is_empty() {
                        let text = format!(
                            "{} does not match: {}",
                            expected.name,
                            describe_mismatches(&mismatches)
                        );
                        return Err(mismatch(text, &received, mismatches));
                    }
                    let at = received.at;
                    self.matched(received, message, start, not_before, what)?;
                    return Ok(at);
                }
            }
        }
    }

    /// The target starts again. The built-in simulator restarts its entity at once and sends
    /// its announcements to this case's UDP socket over loopback; a --target runs the profile's
    /// `power_cycle_command` (bounded by `within`), with the case's UDP socket on the discovery
    /// port so that the target's announcements reach it. `measure` afterwards counts from here.
    async fn power_cycle(&mut self, within: Option<&Expr>) -> Result<(), Failure> {
        let bound = match within {
            Some(e) => self.duration(e)?,
            None => POWER_CYCLE_BOUND,
        };
        match self.target.simulator.clone() {
            Some(sim) => {
                self.ensure_udp(false).await?;
                let port = self.udp.as_ref().map_or(0, |u| u.local.port());
                // The simulator binds loopback (or the address it was given): announce there.
                let to = SocketAddr::new(self.target.ip, port);
                tokio::time::timeout(bound, sim.power_cycle(to))
                    .await
                    .map_err(|_| error("the built-in simulator did not restart in time"))?
                    .map_err(error)?;
                self.rec.note(format!(
                    "power cycle: the built-in simulator restarted its entity, announcing to {to}"
                ));
            }
            None => {
                let Some(Value::Str(command)) = self.scope.get("profile.power_cycle_command")
                else {
                    return Err(error(
                        "power_cycle against --target needs the profile's power_cycle_command",
                    ));
                };
                let command = command.clone();
                if self.udp.is_none() {
                    let target = SocketAddr::new(self.target.ip, self.target.udp);
                    let udp = super::udp::Udp::bind_port(target, self.target.udp, false, &self.rec)
                        .await
                        .map_err(error)?;
                    self.udp = Some(udp);
                }
                let mut child = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&command)
                    .stdin(std::process::Stdio::null())
                    .spawn()
                    .map_err(|e| error(format!("power_cycle_command `{command}`: {e}")))?;
                // Polled, not awaited: tokio's process support is not among the features used.
                let deadline = Instant::now() + bound;
                let status = loop {
                    match child.try_wait() {
                        Ok(Some(status)) => break status,
                        Ok(None) if Instant::now() >= deadline => {
                            let _ = child.kill();
                            let _ = child.wait();
                            return Err(error(format!(
                                "power_cycle_command `{command}` did not finish within {}",
                                format_duration(bound)
                            )));
                        }
                        Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
                        Err(e) => {
                            return Err(error(format!("power_cycle_command `{command}`: {e}")));
                        }
                    }
                };
                if !status.success() {
                    return Err(error(format!("power_cycle_command `{command}` failed: {status}")));
                }
                self.rec.note(format!("power cycle: ran `{command}`"));
            }
        }
        self.last_sent_at = Some(self.rec.now());
        Ok(())
    }
}

/// Default bound of a `power_cycle` step.
const POWER_CYCLE_BOUND: Duration = Duration::from_secs(30);

fn conn_mut<'m>(
    conns: &'m mut HashMap<String, Connection>,
    name: &str,
) -> Result<&'m mut Connection, Failure> {
    conns.get_mut(name).ok_or_else(|| {
        error(format!("no connection `{name}`: add a `connect` step before this one"))
    })
}

fn literal_template(text: &str, _hint: &Option<Expr>) -> Expr {
    Expr {
        pos: Default::default(),
        kind: crate::suite::value::parse_template(text)
            .unwrap_or(crate::suite::value::ExprKind::Str(text.into())),
    }
}

/// A failure with what arrived instead.
fn mismatch(message: String, received: &Received, fields: Vec<FieldMismatch>) -> Failure {
    let actual_decoded = Some(match &received.message {
        Ok(m) => decoded_message(m),
        Err(e) => Decoded::Error { error: e.clone() },
    });
    Failure::Fail(Box::new(Reason {
        message,
        step: None,
        fields,
        expected_hex: None,
        actual_bytes: Some(received.bytes.clone()),
        actual_decoded,
    }))
}

fn describe_mismatches(m: &[FieldMismatch]) -> String {
    m.iter()
        .map(|f| format!("{} is {}, expected {}", f.field, f.actual, f.expected))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A duration measured at run time, in a readable unit.
fn us(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.3}s", d.as_secs_f64())
    } else if d >= Duration::from_millis(1) {
        format!("{:.3}ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{}us", d.as_micros())
    }
}

/// `bytes` cut into pieces of the given sizes; the rest is the last piece.
fn split_chunks(bytes: &[u8], sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for &n in sizes {
        if rest.is_empty() {
            break;
        }
        let n = n.clamp(1, rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_vec());
    }
    out
}

/// One line describing a step, for events and transcripts.
pub fn summary(kind: &StepKind) -> String {
    let conn = |c: &str| if c == "main" { String::new() } else { format!(" on {c}") };
    let timing = |t: &Timing| {
        let mut s = String::new();
        if let Some(w) = &t.within {
            s.push_str(&format!(" within {}", show_expr(w)));
        }
        if let Some(n) = &t.not_before {
            s.push_str(&format!(" not before {}", show_expr(n)));
        }
        s
    };
    match kind {
        StepKind::Connect { connection, transport, .. } => format!(
            "connect {}{}",
            if *transport == StreamKind::Tls { "tls" } else { "tcp" },
            conn(connection)
        ),
        StepKind::Disconnect { connection } => format!("disconnect{}", conn(connection)),
        StepKind::Activate { connection, .. } => format!("activate routing{}", conn(connection)),
        StepKind::Send { connection, message, overrides } => {
            let mut s =
                format!("send {}{}", msg::describe_body(message, show_expr), conn(connection));
            if overrides.version.is_some()
                || overrides.inverse_version.is_some()
                || overrides.payload_type.is_some()
                || overrides.payload_length.is_some()
                || overrides.truncate.is_some()
                || overrides.append.is_some()
            {
                s.push_str(" (malformed)");
            }
            s
        }
        StepKind::SendRaw { connection, hex, chunks, .. } => {
            let chunked = if chunks.is_empty() {
                String::new()
            } else {
                format!(" in {} chunks", chunks.len() + 1)
            };
            format!("send_raw {}{chunked}{}", show_expr(hex), conn(connection))
        }
        StepKind::Expect { connection, message, timing: t } => format!(
            "expect {}{}{}",
            msg::describe_body(message, show_matcher),
            timing(t),
            conn(connection)
        ),
        StepKind::ExpectRaw { connection, hex, timing: t, .. } => {
            format!("expect_raw {}{}{}", show_expr(hex), timing(t), conn(connection))
        }
        StepKind::ExpectNone { connection, duration, id } => format!(
            "expect nothing{} for {}{}",
            id.as_ref().map(|i| format!(" on id {}", show_expr(i))).unwrap_or_default(),
            show_expr(duration),
            conn(connection)
        ),
        StepKind::ExpectClosed { connection, within, not_before } => format!(
            "expect closed{}{}{}",
            within.as_ref().map(|w| format!(" within {}", show_expr(w))).unwrap_or_default(),
            not_before
                .as_ref()
                .map(|n| format!(" not before {}", show_expr(n)))
                .unwrap_or_default(),
            conn(connection)
        ),
        StepKind::ExpectOpen { connection, duration } => {
            format!("expect open for {}{}", show_expr(duration), conn(connection))
        }
        StepKind::UdpSend { payload, .. } => match payload {
            UdpPayload::Message(m) => format!("udp_send {}", msg::describe_body(m, show_expr)),
            UdpPayload::Hex(h) => format!("udp_send {}", show_expr(h)),
        },
        StepKind::PowerCycle { .. } => "power cycle the target".to_string(),
        StepKind::UdpExpect { payload, timing: t, .. } => match payload {
            UdpPayload::Message(m) => {
                format!("udp_expect {}{}", msg::describe_body(m, show_matcher), timing(t))
            }
            UdpPayload::Hex(h) => format!("udp_expect {}{}", show_expr(h), timing(t)),
        },
        StepKind::CanSend { id, data, .. } => {
            format!("can_send {}#{}", show_expr(id), show_expr(data))
        }
        StepKind::CanExpect { id, .. } => format!("can_expect {}", show_expr(id)),
        StepKind::IsotpSend { data, functional, .. } => format!(
            "isotp_send {}{}",
            show_expr(data),
            if *functional { " (functional)" } else { "" }
        ),
        StepKind::IsotpExpect { data, .. } => format!("isotp_expect {}", show_expr(data)),
        StepKind::Wait(d) => format!("wait {}", show_expr(d)),
        StepKind::Capture(pairs) => format!(
            "capture {}",
            pairs.iter().map(|(n, f)| format!("{n}={f}")).collect::<Vec<_>>().join(" ")
        ),
        StepKind::Measure { name, .. } => format!("measure {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_and_keep_the_rest() {
        assert_eq!(split_chunks(&[1, 2, 3, 4, 5], &[1, 2]), vec![vec![1], vec![2, 3], vec![4, 5]]);
        assert_eq!(split_chunks(&[1, 2], &[5]), vec![vec![1, 2]]);
        assert_eq!(split_chunks(&[], &[]), vec![Vec::<u8>::new()]);
    }
}
