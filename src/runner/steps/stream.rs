//! TCP and TLS steps: connections to the target's data port (opened, closed, reset), typed
//! and raw messages both ways, the connection's fate (closed, open, silent), and `wait`, which keeps every
//! connection read so that handlers answer and arrival times are true.

use super::timing::{
    early_message, harness_delay, harness_delay_message, late_message, measured,
    simulator_late_message,
};
use super::{Execute, deadline_after};
use crate::codec::doip::{Message, Payload};
use crate::proto::uds_wait::{AnswerWait, Answered, MAX_PENDING, UdsTimes, is_response_pending};
use crate::proto::window::{Violation, Window};
use crate::runner::arrived::{Arrived, ReceivedFrame, decoded_message};
use crate::runner::case::CaseRun;
use crate::runner::conn::{self, Connection, ReadOutcome};
use crate::runner::event::{Decoded, Reason, RunTime};
use crate::runner::failure::{
    Failure, broke, describe_mismatches, error, fail, mismatch, too_late,
};
use crate::runner::message as msg;
use crate::suite::model::Handler;
use crate::suite::step_args::{
    Listen, Matcher, MessageBody, OverrideExprs, StreamKind, TimeBounds,
};
use crate::suite::steps::{
    Abort, Activate, Connect, Disconnect, Expect, ExpectClosed, ExpectNone, ExpectOpen, ExpectRaw,
    Send, SendRaw, Wait, chunk_lengths,
};
use crate::suite::value::{Expr, ExprKind, format_duration, parse_template};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

impl Execute for Connect {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.connect(&self.connection, self.transport, self.port.as_ref()).await
    }
}

impl Execute for Disconnect {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.disconnect(&self.connection).await
    }
}

impl Execute for Abort {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        let mut c = run
            .conns
            .remove(&self.connection)
            .ok_or_else(|| error(format!("no connection `{}`", self.connection)))?;
        c.abort(&mut run.rec).map_err(error)
    }
}

impl Execute for Activate {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        let fields =
            [&self.source_address, &self.activation_type, &self.response_code, &self.within];
        run.activate(&self.connection, fields.map(Option::as_ref)).await
    }
}

impl Execute for Send {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.send_message(&self.connection, &self.message, &self.overrides).await
    }
}

impl Execute for SendRaw {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.send_raw(&self.connection, &self.hex, &self.chunks, self.delay.as_ref()).await
    }
}

impl Execute for Expect {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.expect(&self.connection, &self.message, &self.timing).await
    }
}

impl Execute for ExpectRaw {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.expect_raw(&self.connection, &self.hex, self.mask.as_ref(), &self.timing).await
    }
}

impl Execute for ExpectNone {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        let d = run.duration(&self.duration)?;
        match &self.on {
            Listen::Connection(name) => run.expect_none(name, d).await,
            Listen::Udp => run.udp_expect_none(d).await,
            Listen::Can { id } => run.can_expect_none(d, id.as_ref()).await,
        }
    }
}

impl Execute for ExpectClosed {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.expect_closed(&self.connection, self.within.as_ref(), self.not_before.as_ref()).await
    }
}

impl Execute for ExpectOpen {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.expect_open(&self.connection, &self.duration).await
    }
}

impl Execute for Wait {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        let d = run.duration(&self.0)?;
        run.wait(d).await
    }
}

fn conn_mut<'m>(
    conns: &'m mut HashMap<String, Connection>,
    name: &str,
) -> Result<&'m mut Connection, Failure> {
    conns.get_mut(name).ok_or_else(|| {
        error(format!("no connection `{name}`: add a `connect` step before this one"))
    })
}

/// An expression the harness writes itself (the defaults of `activate`).
fn template(text: &str) -> Expr {
    Expr {
        pos: Default::default(),
        kind: parse_template(text).unwrap_or(ExprKind::Str(text.into())),
    }
}

impl CaseRun<'_> {
    pub(super) async fn connect(
        &mut self,
        connection: &str,
        transport: StreamKind,
        port: Option<&Expr>,
    ) -> Result<(), Failure> {
        let port = match port {
            Some(p) => self.int(p)? as u16,
            None if transport == StreamKind::Tls => self.target.tls,
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
        let c = conn::connect(addr, tls, self.env.connect_timeout, &mut self.rec).await.map_err(
            |m| {
                Failure::Unreachable(Box::new(Reason {
                    message: format!("{}{m}", crate::runner::UNREACHABLE_PREFIX),
                    ..Reason::default()
                }))
            },
        )?;
        self.conns.insert(connection.to_owned(), c);
        Ok(())
    }

    pub(super) async fn disconnect(&mut self, connection: &str) -> Result<(), Failure> {
        let mut c = self
            .conns
            .remove(connection)
            .ok_or_else(|| error(format!("no connection `{connection}`")))?;
        c.close(&mut self.rec).await;
        c.abandon(&mut self.rec);
        Ok(())
    }

    /// Macro: a routing activation request from the tester address, then the response with
    /// `response_code` (default `successfully_activated`), ISO 13400-2:2019 §9.4.
    pub(super) async fn activate(
        &mut self,
        connection: &str,
        [source_address, activation_type, response_code, within]: [Option<&Expr>; 4],
    ) -> Result<(), Failure> {
        let sa = source_address.cloned().unwrap_or_else(|| template("${profile.tester_address}"));
        let mut send = MessageBody {
            name: "routing_activation_request".into(),
            pos: Default::default(),
            fields: vec![("source_address".into(), sa.pos, sa)],
        };
        if let Some(at) = activation_type {
            send.fields.push(("activation_type".into(), at.pos, at.clone()));
        }
        self.send_message(connection, &send, &OverrideExprs::default()).await?;
        let code = response_code.cloned().unwrap_or_else(|| template("successfully_activated"));
        let expect = MessageBody {
            name: "routing_activation_response".into(),
            pos: Default::default(),
            fields: vec![("response_code".into(), code.pos, Matcher::Exact(code))],
        };
        self.expect(connection, &expect, &TimeBounds { within: within.cloned(), not_before: None })
            .await
    }

    pub(super) async fn send_message(
        &mut self,
        connection: &str,
        body: &MessageBody<Expr>,
        overrides: &OverrideExprs,
    ) -> Result<(), Failure> {
        let (bytes, decoded) = self.build_message(body, overrides)?;
        let c = conn_mut(&mut self.conns, connection)?;
        let at = c.send(bytes, decoded, &mut self.rec).await?;
        self.last_sent_at = Some(at);
        Ok(())
    }

    /// A typed message's bytes with its `override:` applied, and how the report shows them.
    pub(super) fn build_message(
        &self,
        body: &MessageBody<Expr>,
        overrides: &OverrideExprs,
    ) -> Result<(Vec<u8>, Decoded), Failure> {
        let message =
            msg::build(body, self.settings.protocol_version, &self.scope).map_err(error)?;
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
        Ok((bytes, decoded))
    }

    pub(super) async fn send_raw(
        &mut self,
        connection: &str,
        hex: &Expr,
        chunks: &[Expr],
        delay: Option<&Expr>,
    ) -> Result<(), Failure> {
        let bytes = self.bytes(hex)?;
        let mut sizes = Vec::new();
        for c in chunks {
            sizes.push(self.int(c)? as usize);
        }
        let delay = self.opt_duration(delay)?;
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
            let c = conn_mut(&mut self.conns, connection)?;
            let at = c.send(piece, decoded, &mut self.rec).await?;
            self.last_sent_at = Some(at);
        }
        Ok(())
    }

    /// Answers what an always-active handler covers; `true` when the message was consumed.
    pub(super) async fn handle(
        &mut self,
        connection: &str,
        message: &Message<'_>,
    ) -> Result<bool, Failure> {
        // ISO 13400-2:2019 §9.6: an alive check request is answered with the tester address.
        if matches!(message.payload, Payload::AliveCheckRequest)
            && self.has_handler(Handler::AnswerAliveCheck)
        {
            let reply = Message::new(
                message.protocol_version,
                Payload::AliveCheckResponse(crate::codec::doip::AliveCheckResponse {
                    source_address: self.settings.tester_address,
                }),
            );
            let decoded = decoded_message(&reply);
            let bytes = reply.to_bytes();
            let c = conn_mut(&mut self.conns, connection)?;
            c.send(bytes, decoded, &mut self.rec).await?;
            self.rec.note("handler answer_alive_check: answered an alive check request");
            return Ok(true);
        }
        Ok(false)
    }

    /// The wait of a step's answer (`proto::uds_wait`): the first answer is held to the step's
    /// `window` (the suite's bound for it), the answer after a "response pending" to P2* from
    /// the 0x78 (ISO 14229-2).
    pub(super) fn answer_wait(&self, window: &Window, start: RunTime) -> AnswerWait<RunTime> {
        let times = UdsTimes {
            p2: window.within,
            p2_star: self.settings.p2_star,
            tolerance: window.tolerance,
        };
        AnswerWait::start(times, start)
    }

    /// With `tolerate_response_pending`, whether `uds` is a "response pending" (NRC 0x78,
    /// ISO 14229-1 §8.7.1), which extends the wait by P2*.
    pub(super) fn response_pending(&self, uds: &[u8]) -> bool {
        self.has_handler(Handler::TolerateResponsePending) && is_response_pending(uds)
    }

    /// Notes a "response pending" that came `at` and returns the deadline it extends the wait
    /// to: P2* from it. Past `MAX_PENDING` of them the target fails the step.
    pub(super) fn extend_for_pending(
        &self,
        wait: &mut AnswerWait<RunTime>,
        at: RunTime,
        uds: &[u8],
        over: &str,
    ) -> Result<Instant, Failure> {
        if wait.on_answer(at, uds) == Answered::TooManyPending {
            return Err(fail(format!(
                "the target answered NRC 0x78 (response pending){over} more than {MAX_PENDING} times; the tester stops waiting"
            )));
        }
        self.rec.note(format!(
            "handler tolerate_response_pending: NRC 0x78{over}, waiting up to {} more",
            format_duration(self.settings.p2_star)
        ));
        Ok(self.rec.clock.instant(wait.deadline()))
    }

    /// Records a match: its time (for `measure`) and message (for `capture`), once it is
    /// known not to have come too early or late. `read_deadline`: for a time our read took
    /// (TCP, TLS), the deadline that bounded the read, so that a late arrival our own delay
    /// may have caused is inconclusive (`timing::harness_delay`); `None` for kernel stamps.
    pub(super) fn matched(
        &mut self,
        received: ReceivedFrame,
        start: RunTime,
        window: &Window,
        what: &str,
        read_deadline: Option<RunTime>,
    ) -> Result<(), Failure> {
        let after = received.at.since(start);
        let broken = match window.check(after) {
            Ok(()) => None,
            Err(Violation::Early { not_before }) => Some(early_message(what, after, not_before)),
            Err(Violation::Late { within }) => {
                let ours = read_deadline
                    .and_then(|d| harness_delay(after, d.since(start), window.tolerance));
                if let Some(delay) = ours {
                    return Err(too_late(harness_delay_message(what, after, delay)));
                }
                Some(late_message(what, after, within, window.tolerance))
            }
        };
        if let Some(text) = broken {
            if let Some(late) = self.simulator_late(start, received.at, window.tolerance) {
                return Err(too_late(simulator_late_message(what, late)));
            }
            return Err(mismatch(text, Arrived::doip(&received), vec![]));
        }
        self.last_received_at = Some(received.at);
        self.last_message = received.message.ok();
        Ok(())
    }

    /// The next frame on `connection`; a timeout, close or reset instead fails the wait for
    /// `what` with what the target did.
    async fn next_frame(
        &mut self,
        connection: &str,
        deadline: Instant,
        what: &str,
        within: Duration,
        start: RunTime,
    ) -> Result<ReceivedFrame, Failure> {
        let outcome = conn_mut(&mut self.conns, connection)?.read(deadline, &mut self.rec).await?;
        match outcome {
            ReadOutcome::Frame(r) => Ok(r),
            ReadOutcome::Timeout => Err(fail(format!(
                "expected {what} within {}, nothing arrived",
                format_duration(within)
            ))),
            ReadOutcome::Closed { at } => Err(broke(format!(
                "the entity closed the connection (FIN) after {} while {what} was expected",
                measured(at.since(start))
            ))),
            ReadOutcome::Reset { at, error: e } => Err(broke(format!(
                "{e} after {} while {what} was expected",
                measured(at.since(start))
            ))),
        }
    }

    pub(super) async fn expect(
        &mut self,
        connection: &str,
        expected: &MessageBody<Matcher>,
        timing: &TimeBounds,
    ) -> Result<(), Failure> {
        let first = self.window(timing.within.as_ref(), timing.not_before.as_ref())?;
        let mut deadline = deadline_after(first.wait());
        let mut wait = self.answer_wait(&first, self.rec.now());
        let name = &expected.name;
        loop {
            // The first answer is held to the step's window, one after a 0x78 to P2* from it.
            let window = if wait.pending() == 0 { first } else { wait.window() };
            let start = wait.since();
            let received =
                self.next_frame(connection, deadline, name, window.within, start).await?;
            let message = match &received.message {
                Ok(m) => m.clone(),
                Err(e) => {
                    return Err(mismatch(
                        format!("expected {name}, got bytes that do not decode: {e}"),
                        Arrived::doip(&received),
                        vec![],
                    ));
                }
            };
            let got = message.payload.payload_type().id().unwrap_or("unknown payload type");
            if got != name {
                if self.handle(connection, &message).await? {
                    if Instant::now() >= deadline {
                        return Err(fail(format!(
                            "expected {name} within {}, only messages the handlers answered arrived",
                            format_duration(window.within)
                        )));
                    }
                    continue;
                }
                return Err(mismatch(
                    format!("expected {name}, got {got}"),
                    Arrived::doip(&received),
                    vec![],
                ));
            }
            let mismatches = msg::judge(expected, &message, &self.scope).map_err(error)?;
            if mismatches.is_empty() {
                let read_deadline = Some(self.rec.clock.at(deadline));
                return self.matched(received, start, &window, name, read_deadline);
            }
            if let Payload::DiagnosticMessage(d) = &message.payload
                && self.response_pending(&d.user_data)
            {
                // ISO 14229-2: after NRC 0x78 the answer is due within P2* of it, so the
                // final answer is judged from the 0x78, against P2* (not the step's within).
                deadline = self.extend_for_pending(&mut wait, received.at, &d.user_data, "")?;
                continue;
            }
            let text = format!("{name} does not match: {}", describe_mismatches(&mismatches));
            return Err(mismatch(text, Arrived::doip(&received), mismatches));
        }
    }

    pub(super) async fn expect_raw(
        &mut self,
        connection: &str,
        hex: &Expr,
        mask: Option<&Expr>,
        timing: &TimeBounds,
    ) -> Result<(), Failure> {
        let pattern = self.pattern(hex, mask)?;
        let window = self.window(timing.within.as_ref(), timing.not_before.as_ref())?;
        let start = self.rec.now();
        let deadline = deadline_after(window.wait());
        let outcome = conn_mut(&mut self.conns, connection)?.read(deadline, &mut self.rec).await?;
        match outcome {
            ReadOutcome::Frame(r) if pattern.matches(&r.bytes) => {
                let read_deadline = Some(self.rec.clock.at(deadline));
                self.matched(r, start, &window, "bytes", read_deadline)
                    .map_err(|f| f.expecting(&pattern))
            }
            ReadOutcome::Frame(r) => Err(mismatch(
                format!("bytes do not match the pattern {pattern}"),
                Arrived::doip(&r),
                vec![],
            )
            .expecting(&pattern)),
            ReadOutcome::Timeout => Err(fail(format!(
                "expected bytes {pattern} within {}, nothing arrived",
                format_duration(window.within)
            ))),
            ReadOutcome::Closed { .. } => Err(broke(format!(
                "the entity closed the connection (FIN) while bytes {pattern} were expected"
            ))),
            ReadOutcome::Reset { error: e, .. } => {
                Err(broke(format!("{e} while bytes {pattern} were expected")))
            }
        }
    }

    /// Nothing but what the handlers answer may arrive for `d`; a close or reset ends the
    /// silence without breaking it.
    pub(super) async fn expect_none(
        &mut self,
        connection: &str,
        d: Duration,
    ) -> Result<(), Failure> {
        let start = self.rec.now();
        let deadline = deadline_after(d);
        loop {
            let outcome =
                conn_mut(&mut self.conns, connection)?.read(deadline, &mut self.rec).await?;
            match outcome {
                ReadOutcome::Timeout | ReadOutcome::Closed { .. } | ReadOutcome::Reset { .. } => {
                    return Ok(());
                }
                ReadOutcome::Frame(r) => {
                    if r.at.since(start) > d {
                        // It came after the silence (read as the deadline passed): it is
                        // left for the next step.
                        conn_mut(&mut self.conns, connection)?.queue.push_front(r);
                        return Ok(());
                    }
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
                            measured(r.at.since(start))
                        ),
                        Arrived::doip(&r),
                        vec![],
                    ));
                }
            }
        }
    }

    pub(super) async fn expect_closed(
        &mut self,
        connection: &str,
        within: Option<&Expr>,
        not_before: Option<&Expr>,
    ) -> Result<(), Failure> {
        let window = self.window(within, not_before)?;
        let deadline = deadline_after(window.wait());
        let start = self.rec.now();
        let early = |at: RunTime| match window.check_not_early(at.since(start)) {
            Err(Violation::Early { not_before }) => Err(fail(format!(
                "the target closed the connection after {}, earlier than not_before {}",
                measured(at.since(start)),
                format_duration(not_before)
            ))),
            _ => Ok(()),
        };
        let within = format_duration(window.within);
        loop {
            match conn_mut(&mut self.conns, connection)?.read(deadline, &mut self.rec).await? {
                ReadOutcome::Closed { at } => return early(at),
                ReadOutcome::Reset { at, error: e } => {
                    self.rec.note(format!("the connection was reset rather than closed: {e}"));
                    return early(at);
                }
                ReadOutcome::Timeout => {
                    return Err(fail(format!(
                        "expected the target to close the connection within {within}, it stayed open"
                    )));
                }
                ReadOutcome::Frame(_) if Instant::now() >= deadline => {
                    return Err(fail(format!(
                        "expected the target to close the connection within {within}, it kept sending"
                    )));
                }
                ReadOutcome::Frame(_) => {}
            }
        }
    }

    pub(super) async fn expect_open(
        &mut self,
        connection: &str,
        duration: &Expr,
    ) -> Result<(), Failure> {
        let d = self.duration(duration)?;
        let start = self.rec.now();
        let deadline = deadline_after(d);
        let mut kept = Vec::new();
        let result = loop {
            match conn_mut(&mut self.conns, connection)?.read(deadline, &mut self.rec).await? {
                ReadOutcome::Timeout => break Ok(()),
                ReadOutcome::Closed { at } => {
                    break Err(fail(format!(
                        "expected the connection to stay open for {}, the target closed it after {}",
                        format_duration(d),
                        measured(at.since(start))
                    )));
                }
                ReadOutcome::Reset { at, error: e } => {
                    break Err(fail(format!(
                        "expected the connection to stay open for {}: {e} after {}",
                        format_duration(d),
                        measured(at.since(start))
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
    pub(super) async fn wait(&mut self, d: Duration) -> Result<(), Failure> {
        let deadline = deadline_after(d);
        let names: Vec<String> =
            self.conns.iter().filter(|(_, c)| c.is_open()).map(|(n, _)| n.clone()).collect();
        if names.is_empty() {
            tokio::time::sleep_until(deadline).await;
            return Ok(());
        }
        let slice = Duration::from_millis(if names.len() == 1 { u64::MAX / 4 } else { 10 });
        let mut queued: HashMap<String, Vec<ReceivedFrame>> = HashMap::new();
        while Instant::now() < deadline {
            for name in &names {
                let until = deadline.min(deadline_after(slice));
                let Some(c) = self.conns.get_mut(name) else { continue };
                if !c.is_open() {
                    continue;
                }
                // Fresh bytes only: what is already queued stays where it is.
                let pending = std::mem::take(&mut c.queue);
                let outcome = c.read(until, &mut self.rec).await;
                let c = self.conns.get_mut(name).ok_or_else(|| error("connection vanished"))?;
                c.queue = pending;
                match outcome? {
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
}

/// `bytes` cut into the pieces of [`chunk_lengths`].
fn split_chunks(bytes: &[u8], sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut at = 0;
    chunk_lengths(bytes.len(), sizes)
        .into_iter()
        .map(|n| {
            at += n;
            bytes[at - n..at].to_vec()
        })
        .collect()
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
