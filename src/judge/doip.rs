//! The DoIP checks: each entity message judged by the codec, the entity's reaction to a bad
//! tester header (NACK code, socket fate), ACK before answer, activation before diagnostics.
//! State is kept per open TCP connection and dropped when it ends.
//!
//! May import: `crate::codec` and `crate::pcap`.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::rules::{self, Rule};
use super::timing::{DeclaredTimes, Late};
use super::udp::UdpChecks;
use super::version::{answer_version, reply_version};
use super::{Finding, Found};
use crate::codec::doip::{
    Error, GenericNackCode, Header, HeaderRules, Message, Payload, ProtocolVersion,
    RoutingActivationResponseCode, Transport,
};
use crate::pcap::Side;
use crate::pcap::read::{At, CaptureEvent, CarriedBy, TcpFlow};
use crate::proto::uds_wait::{AnswerWait, Answered};

/// How long after a NACK that closes the socket the tester may close first without it being
/// the entity's fault (it may simply be faster). An entity closes at once; a tester that waited
/// this long saw it not do so.
pub const CLOSE_GRACE: Duration = Duration::from_millis(250);

/// What went over one TCP connection, for its summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSummary {
    pub conn: TcpFlow,
    pub at: At,
    /// DoIP messages from the tester and from the entity.
    pub tester_messages: u64,
    pub entity_messages: u64,
    pub activated: bool,
    /// Who closed first, and whether with a reset.
    pub closed_by: Option<(Side, bool)>,
    pub gaps: u64,
    pub encrypted_bytes: u64,
    pub open_at_end: bool,
}

/// A bad tester header waiting for the entity's answer.
#[derive(Debug, Clone, Copy)]
struct ExpectNack {
    packet: u64,
    /// Which tester message it was (several may share a packet: one write, one segment).
    message: u64,
    code: GenericNackCode,
    closes: bool,
}

/// What the entity must do with the socket after a message of its own that decides it (a
/// generic NACK, a routing activation response), and the rule that says so.
#[derive(Debug, Clone, Copy)]
enum AfterNack {
    /// The entity must close: no more messages, and not wait for the tester.
    MustClose { nack: At, rule: &'static Rule, what: &'static str },
    /// The entity must keep the socket open.
    KeepOpen { nack: At, rule: &'static Rule, what: &'static str },
}

/// A close later than this after a message that keeps the socket open is a timer's doing
/// (T_TCP_Initial_Inactivity and the like), not the message's.
const KEEP_OPEN_WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct ConnState {
    summary: ConnectionSummary,
    /// Bad tester headers waiting for their NACK, oldest first (a tester may send several
    /// before the entity answers the first; it answers in order).
    expect_nack: VecDeque<ExpectNack>,
    after_nack: Option<AfterNack>,
    /// Tester diagnostic messages not yet answered, oldest first.
    requests: Vec<Request>,
    /// The packet of the first tester diagnostic message before activation.
    diag_before_activation: Option<u64>,
    /// The tester address the entity activated routing for on this socket.
    activated_address: Option<u16>,
    /// A tester diagnostic message from another source address: (address, packet).
    foreign_source: Option<(u16, u64)>,
    /// The version and packet of the tester's last message the entity accepted: the entity's
    /// messages carry that version (the default 0xFF is for UDP only).
    tester_version: Option<(ProtocolVersion, u64)>,
    /// The source address, packet and tester message number of the tester's routing
    /// activation requests not yet answered.
    activation_request: VecDeque<(u16, u64, u64)>,
    /// The tester message numbers of its alive check requests not yet answered (a tester
    /// may ask, §9.6; the fuzzer's barrier does).
    alive_requests: VecDeque<u64>,
}

/// A tester diagnostic message waiting for its ACK and its answer.
#[derive(Debug, Clone, Copy)]
struct Request {
    tester: u16,
    target: u16,
    packet: u64,
    /// When the request (or the last NRC 0x78 about it) went over the wire.
    at: At,
    acknowledged: bool,
    /// P2, or P2* from the last NRC 0x78 (`proto::uds_wait`; zero times without a profile,
    /// when no timing rule runs).
    wait: AnswerWait<Duration>,
}

/// Per-connection DoIP check state.
#[derive(Debug, Default)]
pub struct DoipChecks {
    conns: HashMap<u32, ConnState>,
    ended: Vec<ConnectionSummary>,
    /// The declared timing values, when a profile gave them.
    timing: Option<DeclaredTimes>,
    /// UDP requests waiting for the entity's answer.
    udp: UdpChecks,
}

/// At most this many unacknowledged requests are remembered per connection.
const MAX_UNACKNOWLEDGED: usize = 64;

impl DoipChecks {
    pub fn new(timing: Option<DeclaredTimes>) -> Self {
        DoipChecks { timing, ..DoipChecks::default() }
    }

    /// When the entity sent a NACK on connection `conn` that closes the socket, while the
    /// socket is still open: a live tester that wants the socket's fate judged waits past
    /// [`CLOSE_GRACE`] from then before it closes its side.
    pub fn close_owed(&self, conn: u32) -> Option<Duration> {
        match self.conns.get(&conn)?.after_nack {
            Some(AfterNack::MustClose { nack, .. }) => Some(nack.time),
            _ => None,
        }
    }

    fn state(&mut self, conn: &TcpFlow, at: At) -> &mut ConnState {
        self.conns.entry(conn.id).or_insert_with(|| ConnState {
            summary: ConnectionSummary {
                conn: *conn,
                at,
                tester_messages: 0,
                entity_messages: 0,
                activated: false,
                closed_by: None,
                gaps: 0,
                encrypted_bytes: 0,
                open_at_end: false,
            },
            expect_nack: VecDeque::new(),
            after_nack: None,
            requests: Vec::new(),
            diag_before_activation: None,
            activated_address: None,
            foreign_source: None,
            tester_version: None,
            activation_request: VecDeque::new(),
            alive_requests: VecDeque::new(),
        })
    }

    /// The summary of connection `id`, once it ended.
    pub fn summary(&mut self, id: u32) -> Option<ConnectionSummary> {
        let at = self.ended.iter().position(|s| s.conn.id == id)?;
        Some(self.ended.swap_remove(at))
    }

    pub fn check(&mut self, event: &CaptureEvent<'_>, found: &mut Found) {
        match event {
            CaptureEvent::Opened { at, conn } => {
                self.state(conn, *at);
            }
            CaptureEvent::Doip { at, carrier, from, bytes, message } => match carrier {
                CarriedBy::Udp { src, dst } => {
                    if *from == Side::Entity {
                        judge_entity_message(*at, bytes, message, Transport::Udp, found);
                        if let Ok(m) = message {
                            self.udp.entity(*dst, *at, m, self.timing.as_ref(), found);
                        }
                    } else if let Ok(m) = message {
                        self.udp.tester(*src, *at, m);
                    }
                }
                CarriedBy::Tcp(conn) => {
                    let timing = self.timing;
                    let state = self.state(conn, *at);
                    match from {
                        Side::Tester => tester_message(state, timing.as_ref(), *at, bytes, message),
                        Side::Entity => {
                            entity_message(state, timing.as_ref(), *at, bytes, message, found)
                        }
                    }
                }
            },
            CaptureEvent::DoipTooLong { at, conn, from, .. } => {
                let state = self.state(conn, *at);
                match from {
                    Side::Tester => state.summary.tester_messages += 1,
                    Side::Entity => state.summary.entity_messages += 1,
                }
            }
            CaptureEvent::Gap { at, conn, .. } => {
                let state = self.state(conn, *at);
                state.summary.gaps += 1;
                // What was lost may hold the answer: expectations cannot be judged any more.
                state.expect_nack.clear();
                state.after_nack = None;
                state.requests.clear();
            }
            CaptureEvent::Encrypted { at, conn, bytes, .. } => {
                self.state(conn, *at).summary.encrypted_bytes += *bytes as u64;
            }
            CaptureEvent::Closed { at, conn, by, reset } => {
                let state = self.state(conn, *at);
                if state.summary.closed_by.is_none() {
                    state.summary.closed_by = Some((*by, *reset));
                }
                closed(state, *at, *by, found);
            }
            CaptureEvent::Ended { at, conn, open_at_end, .. } => {
                if let Some(mut state) = self.conns.remove(&conn.id) {
                    state.summary.at = *at;
                    state.summary.open_at_end = *open_at_end;
                    self.ended.push(state.summary);
                }
            }
            _ => {}
        }
        // After the event's own answer was matched: a request still unanswered at this time
        // is overdue (the capture went on past its deadline).
        if let Some(at) = event.at() {
            self.udp.overdue(at, self.timing.as_ref(), found);
        }
    }
}

/// The codec's verdict on a message as the entity's receiver would judge it: the header with
/// the transport rule, then the payload.
fn verdict(
    bytes: &[u8],
    parsed: &Result<Message<'_>, Error>,
    transport: Transport,
) -> Result<(), Error> {
    // The header first (pattern, payload type on this transport, length bound), then the
    // payload, in the order an entity checks them (ISO 13400-2:2019 §8.1.2).
    let rules = HeaderRules { max_payload_length: u32::MAX, transport: Some(transport) };
    Header::parse_with(bytes, &rules)?;
    parsed.as_ref().map(|_| ()).map_err(|e| *e)
}

fn judge_entity_message(
    at: At,
    bytes: &[u8],
    parsed: &Result<Message<'_>, Error>,
    transport: Transport,
    found: &mut Found,
) {
    found.judged(&rules::DOIP_ENTITY_MESSAGE);
    if let Ok(message) = parsed
        && let Some(code) = undefined_code(&message.payload)
    {
        found.push(Finding {
            rule: &rules::DOIP_DEFINED_CODE,
            packets: vec![at.packet],
            message: format!("the entity sent {code}, which is reserved"),
        });
    } else if parsed.is_ok() {
        found.judged(&rules::DOIP_DEFINED_CODE);
    }
    if let Err(error) = verdict(bytes, parsed, transport) {
        found.push(Finding {
            rule: &rules::DOIP_ENTITY_MESSAGE,
            packets: vec![at.packet],
            message: format!(
                "the entity sent an invalid DoIP message: {error} [{}]",
                error.rule.id()
            ),
        });
    }
}

/// The reserved code a message of the entity carries, named, if any (Tables 19, 25, 29, 30).
fn undefined_code(payload: &Payload<'_>) -> Option<String> {
    let (what, raw) = match payload {
        Payload::GenericNack(n) if !n.nack_code.is_named() => {
            ("generic NACK code", n.nack_code.raw())
        }
        Payload::RoutingActivationResponse(r) if !r.response_code.is_defined() => {
            ("routing activation response code", r.response_code.raw())
        }
        Payload::DiagnosticMessageAck(a) if !a.ack_code.is_named() => {
            ("diagnostic message ACK code", u8::from(a.ack_code))
        }
        Payload::DiagnosticMessageNack(n) if !n.nack_code.is_named() => {
            ("diagnostic message NACK code", u8::from(n.nack_code))
        }
        _ => return None,
    };
    Some(format!("{what} 0x{raw:02X}"))
}

fn tester_message(
    state: &mut ConnState,
    timing: Option<&DeclaredTimes>,
    at: At,
    bytes: &[u8],
    parsed: &Result<Message<'_>, Error>,
) {
    state.summary.tester_messages += 1;
    if let Some(AfterNack::KeepOpen { .. }) = state.after_nack {
        // The tester went on: whatever the entity does next is about this message.
        state.after_nack = None;
    }
    match verdict(bytes, parsed, Transport::Tcp) {
        Err(error) => {
            if let Some(code) = error.nack_code() {
                let closes = error.closes_tcp_socket();
                if state.expect_nack.len() < MAX_UNACKNOWLEDGED {
                    let message = state.summary.tester_messages;
                    let expect = ExpectNack { packet: at.packet, message, code, closes };
                    state.expect_nack.push_back(expect);
                }
            }
        }
        Ok(()) => {
            if let Ok(message) = parsed {
                state.tester_version = Some((message.protocol_version, at.packet));
                if let Payload::RoutingActivationRequest(r) = &message.payload
                    && state.activation_request.len() < MAX_UNACKNOWLEDGED
                {
                    let message = state.summary.tester_messages;
                    state.activation_request.push_back((r.source_address, at.packet, message));
                }
                if let Payload::AliveCheckRequest = &message.payload
                    && state.alive_requests.len() < MAX_UNACKNOWLEDGED
                {
                    state.alive_requests.push_back(state.summary.tester_messages);
                }
            }
            if let Ok(message) = parsed
                && let Payload::DiagnosticMessage(d) = &message.payload
            {
                if state.requests.len() < MAX_UNACKNOWLEDGED {
                    state.requests.push(Request {
                        tester: d.source_address,
                        target: d.target_address,
                        packet: at.packet,
                        at,
                        acknowledged: false,
                        wait: AnswerWait::start(
                            timing.map(DeclaredTimes::uds_times).unwrap_or_default(),
                            at.time,
                        ),
                    });
                }
                if !state.summary.activated
                    && state.summary.conn.handshake
                    && state.diag_before_activation.is_none()
                {
                    state.diag_before_activation = Some(at.packet);
                }
                if let Some(activated) = state.activated_address
                    && activated != d.source_address
                {
                    state.foreign_source = Some((d.source_address, at.packet));
                }
            }
        }
    }
}

fn entity_message(
    state: &mut ConnState,
    timing: Option<&DeclaredTimes>,
    at: At,
    bytes: &[u8],
    parsed: &Result<Message<'_>, Error>,
    found: &mut Found,
) {
    state.summary.entity_messages += 1;
    judge_entity_message(at, bytes, parsed, Transport::Tcp, found);
    if let Some(AfterNack::MustClose { nack, rule, what }) = state.after_nack {
        found.push(Finding {
            rule,
            packets: vec![nack.packet, at.packet],
            message: format!(
                "the entity sent another message after {what}, which closes the socket"
            ),
        });
        state.after_nack = None;
    }
    if let (
        Some(AfterNack::KeepOpen { .. }),
        Ok(Message { payload: Payload::AliveCheckRequest, .. }),
    ) = (state.after_nack, parsed)
    {
        // The entity asks whether the tester is still there (another socket wants its address
        // or a slot, §9.4): closing it after T_TCP_Alive_Check unanswered is the alive check's
        // doing, judged by `timing.alive_check`, no longer the kept-open NACK's.
        state.after_nack = None;
    }
    if let (Some(sent), Some((asked, packet)), true) =
        (answer_version(parsed), state.tester_version, state.expect_nack.is_empty())
    {
        reply_version(asked, packet, sent, at, found);
    }
    let Ok(message) = parsed else {
        if let Some(expect) = state.expect_nack.pop_front() {
            found.push(Finding {
                rule: &rules::DOIP_NACK_CODE,
                packets: vec![expect.packet, at.packet],
                message: format!(
                    "the tester's bad header calls for generic NACK 0x{:02X} ({}), the entity \
                     answered with an invalid message",
                    expect.code.raw(),
                    expect.code
                ),
            });
        }
        return;
    };
    // A message that answers what the tester sent before its bad header (a diagnostic ACK,
    // NACK or answer while requests are open, the routing activation response), or the
    // entity's own alive check request, is not the answer to that header: the NACK may
    // follow it (the entity reads and answers in order, §8.1.2).
    let answers_earlier = match &message.payload {
        Payload::DiagnosticMessageAck(_)
        | Payload::DiagnosticMessageNack(_)
        | Payload::DiagnosticMessage(_) => state
            .expect_nack
            .front()
            .is_some_and(|e| state.requests.iter().any(|r| r.packet <= e.packet)),
        Payload::RoutingActivationResponse(_) => state.expect_nack.front().is_some_and(|e| {
            state.activation_request.front().is_some_and(|(_, _, m)| *m <= e.message)
        }),
        Payload::AliveCheckRequest => true,
        // The answer to the tester's own alive check request sent before the bad header.
        Payload::AliveCheckResponse(_) => state
            .expect_nack
            .front()
            .is_some_and(|e| state.alive_requests.front().is_some_and(|asked| *asked < e.message)),
        _ => false,
    };
    if let Payload::AliveCheckResponse(_) = &message.payload {
        state.alive_requests.pop_front();
    }
    if !answers_earlier && let Some(expect) = state.expect_nack.pop_front() {
        found.judged(&rules::DOIP_NACK_CODE);
        match &message.payload {
            Payload::GenericNack(n) if n.nack_code == expect.code => {
                // Its fate (closed or kept open) is judged from here on.
                found.judged(&rules::DOIP_SOCKET_FATE);
                let (rule, what) = (&rules::DOIP_SOCKET_FATE, "a generic NACK");
                if expect.closes {
                    // What the tester sent after it is never read.
                    state.expect_nack.clear();
                    state.after_nack = Some(AfterNack::MustClose { nack: at, rule, what });
                } else if state.summary.tester_messages == expect.message {
                    // Kept open, unless the tester went on (then the rest is about that).
                    state.after_nack = Some(AfterNack::KeepOpen { nack: at, rule, what });
                }
                return;
            }
            other => found.push(Finding {
                rule: &rules::DOIP_NACK_CODE,
                packets: vec![expect.packet, at.packet],
                message: format!(
                    "the tester's bad header calls for generic NACK 0x{:02X} ({}), the entity \
                     answered: {other}",
                    expect.code.raw(),
                    expect.code
                ),
            }),
        }
    }
    // Whether the tester sent more after the request this response answers (then what the
    // entity does with the socket next is about that).
    let mut tester_went_on = false;
    if let Payload::RoutingActivationResponse(r) = &message.payload
        && let Some((source, request, sent_as)) = state.activation_request.pop_front()
    {
        tester_went_on = state.summary.tester_messages != sent_as;
        if let Some(active) = state.activated_address.filter(|a| *a != source) {
            changed_source(active, source, r.response_code, [request, at.packet], found);
        }
        found.judged(&rules::DOIP_ACTIVATION_RESPONSE_ADDRESS);
        if r.tester_logical_address != source {
            found.push(Finding {
                rule: &rules::DOIP_ACTIVATION_RESPONSE_ADDRESS,
                packets: vec![request, at.packet],
                message: format!(
                    "the routing activation response names tester 0x{:04X}, the request came from \
                     0x{source:04X}",
                    r.tester_logical_address
                ),
            });
        }
    }
    if let Payload::RoutingActivationResponse(r) = &message.payload {
        let (rule, what) = (&rules::DOIP_ACTIVATION_SOCKET_FATE, "a routing activation denial");
        match r.response_code.closes_socket() {
            Some(true) => {
                found.judged(rule);
                state.after_nack = Some(AfterNack::MustClose { nack: at, rule, what });
            }
            // Success keeps the socket open too, but then the inactivity timers decide.
            Some(false)
                if r.response_code != RoutingActivationResponseCode::SuccessfullyActivated
                    && !tester_went_on =>
            {
                found.judged(rule);
                let what = "a routing activation response that keeps the socket open";
                state.after_nack = Some(AfterNack::KeepOpen { nack: at, rule, what });
            }
            _ => {}
        }
    }
    match &message.payload {
        Payload::RoutingActivationResponse(r)
            if r.response_code == RoutingActivationResponseCode::SuccessfullyActivated =>
        {
            state.summary.activated = true;
            state.activated_address = Some(r.tester_logical_address);
        }
        Payload::DiagnosticMessageAck(a) => {
            ack_addresses(state, a.source_address, a.target_address, at, found);
            let request = acknowledge(state, a.target_address, a.source_address, false);
            ack_timing(timing, request, at, found);
            routed_before_activation(state, at, "a positive diagnostic ACK", found);
            if let Some((source, request)) = state.foreign_source
                && a.target_address == source
            {
                state.foreign_source = None;
                found.push(Finding {
                    rule: &rules::DOIP_ACTIVATION_BEFORE_DIAGNOSTICS,
                    packets: vec![request, at.packet],
                    message: format!(
                        "the entity acknowledged a diagnostic message from source address                          0x{source:04X}, which is not the one activated on this socket (0x{:04X});                          it calls for diagnostic NACK 0x02",
                        state.activated_address.unwrap_or_default()
                    ),
                });
            }
        }
        Payload::DiagnosticMessageNack(n) => {
            // A NACKed request gets no answer.
            ack_addresses(state, n.source_address, n.target_address, at, found);
            let request = acknowledge(state, n.target_address, n.source_address, true);
            ack_timing(timing, request, at, found);
            if state.foreign_source.is_some_and(|(source, _)| source == n.target_address) {
                state.foreign_source = None;
            }
        }
        Payload::DiagnosticMessage(d) => {
            // An answer from `source` to `target` answers the oldest request from `target` to
            // `source`; it must have been acknowledged first.
            let oldest = state
                .requests
                .iter()
                .position(|r| r.tester == d.target_address && r.target == d.source_address);
            if let Some(i) = oldest {
                found.judged(&rules::DOIP_DIAGNOSTIC_ACK_ORDER);
                let mut request = state.requests.remove(i);
                if let Some(timing) = timing {
                    let late = Late {
                        rule: &rules::TIMING_UDS_P2,
                        from: request.at,
                        to: at,
                        window: request.wait.window(),
                        what: "the UDS answer",
                        limit_name: request.wait.limit_name(),
                    };
                    timing.check(late, found);
                }
                // "Response pending" (7F SID 78) keeps the request open under P2* from it.
                if request.wait.on_answer(at.time, &d.user_data) != Answered::Final {
                    state.requests.insert(i, Request { at, acknowledged: true, ..request });
                }
                if !request.acknowledged {
                    found.push(Finding {
                        rule: &rules::DOIP_DIAGNOSTIC_ACK_ORDER,
                        packets: vec![request.packet, at.packet],
                        message: format!(
                            "the answer from 0x{:04X} came before the diagnostic message ACK of \
                             the request",
                            d.source_address
                        ),
                    });
                }
            }
            routed_before_activation(state, at, "an answer to a diagnostic message", found);
        }
        _ => {}
    }
}

/// A diagnostic ACK or NACK from `source` to `target` answers a request from `target` to
/// `source`: one that names the request's own addresses instead did not swap them.
fn ack_addresses(state: &ConnState, source: u16, target: u16, at: At, found: &mut Found) {
    let waiting = |tester: u16, ecu: u16| {
        state.requests.iter().find(|r| r.tester == tester && r.target == ecu && !r.acknowledged)
    };
    if waiting(target, source).is_some() {
        found.judged(&rules::DOIP_DIAGNOSTIC_ACK_ADDRESSES);
    } else if let Some(request) = waiting(source, target) {
        found.push(Finding {
            rule: &rules::DOIP_DIAGNOSTIC_ACK_ADDRESSES,
            packets: vec![request.packet, at.packet],
            message: format!(
                "the acknowledgement goes from 0x{source:04X} to 0x{target:04X}, the request's own \
                 addresses; it must go from 0x{target:04X} to 0x{source:04X}"
            ),
        });
    }
}

/// Marks the oldest unacknowledged request from `tester` to `target` acknowledged, or drops it
/// when it was refused (`nack`); returns when it was sent.
fn acknowledge(state: &mut ConnState, tester: u16, target: u16, nack: bool) -> Option<At> {
    let i = state
        .requests
        .iter()
        .position(|r| r.tester == tester && r.target == target && !r.acknowledged)?;
    let at = state.requests[i].at;
    if nack {
        state.requests.remove(i);
    } else {
        state.requests[i].acknowledged = true;
    }
    Some(at)
}

fn ack_timing(timing: Option<&DeclaredTimes>, request: Option<At>, at: At, found: &mut Found) {
    let (Some(timing), Some(request)) = (timing, request) else { return };
    let late = Late {
        rule: &rules::TIMING_DIAGNOSTIC_ACK,
        from: request,
        to: at,
        window: timing.window(timing.a_doip_diagnostic_message),
        what: "the diagnostic message ACK/NACK",
        limit_name: "A_DoIP_Diagnostic_Message",
    };
    timing.check(late, found);
}

/// A routing activation request from `source` on a socket already activated for `active`
/// must be denied (Table 25: 0x02). An earlier check of the activation handler may deny it
/// first with its own code (0x00 for an address the entity does not know, 0x06 for a type it
/// does not support), so only an activation (0x10) or a pending confirmation (0x11) breaks it.
fn changed_source(
    active: u16,
    source: u16,
    code: RoutingActivationResponseCode,
    packets: [u64; 2],
    found: &mut Found,
) {
    found.judged(&rules::DOIP_ACTIVATION_CHANGED_SOURCE);
    use RoutingActivationResponseCode as Code;
    if code == Code::SuccessfullyActivated || code == Code::ConfirmationRequired {
        found.push(Finding {
            rule: &rules::DOIP_ACTIVATION_CHANGED_SOURCE,
            packets: packets.to_vec(),
            message: format!(
                "the socket is activated for tester 0x{active:04X}; the request from 0x{source:04X} \
                 got code 0x{:02X} ({code}), not a denial (0x02)",
                code.raw()
            ),
        });
    }
}

fn routed_before_activation(state: &mut ConnState, at: At, what: &str, found: &mut Found) {
    if state.summary.conn.handshake {
        found.judged(&rules::DOIP_ACTIVATION_BEFORE_DIAGNOSTICS);
    }
    if state.summary.activated {
        return;
    }
    if let Some(request) = state.diag_before_activation.take() {
        found.push(Finding {
            rule: &rules::DOIP_ACTIVATION_BEFORE_DIAGNOSTICS,
            packets: vec![request, at.packet],
            message: format!(
                "the entity sent {what} on a socket without routing activation (the capture \
                 holds the connection from its SYN)"
            ),
        });
    }
}

fn closed(state: &mut ConnState, at: At, by: Side, found: &mut Found) {
    match (state.after_nack.take(), by) {
        (Some(AfterNack::KeepOpen { nack, rule, what }), Side::Entity)
            if at.time.saturating_sub(nack.time) <= KEEP_OPEN_WINDOW =>
        {
            found.push(Finding {
                rule,
                packets: vec![nack.packet, at.packet],
                message: format!("the entity closed the socket after {what}, which keeps it open"),
            })
        }
        (Some(AfterNack::MustClose { nack, rule, what }), Side::Tester)
            if at.time.saturating_sub(nack.time) > CLOSE_GRACE =>
        {
            found.push(Finding {
                rule,
                packets: vec![nack.packet, at.packet],
                message: format!(
                    "the entity kept the socket open after {what}, which closes it; the tester \
                     closed it {} ms later",
                    at.time.saturating_sub(nack.time).as_millis()
                ),
            });
        }
        _ => {}
    }
    if by == Side::Entity
        && let Some(expect) = state.expect_nack.pop_front()
    {
        found.push(Finding {
            rule: &rules::DOIP_NACK_CODE,
            packets: vec![expect.packet, at.packet],
            message: format!(
                "the entity closed the socket without the generic NACK 0x{:02X} ({}) the \
                 tester's bad header calls for",
                expect.code.raw(),
                expect.code
            ),
        });
    }
}
