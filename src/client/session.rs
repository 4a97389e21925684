//! One diagnostic session with a DoIP entity, as a tester: connect (TCP or TLS), activate
//! routing, then UDS requests as diagnostic messages, each waiting for the entity's ACK and the
//! answer (ISO 13400-2:2019 §9.6; NRC 0x78 extends the wait to P2*, ISO 14229-1 §8.7.1).
//! Alive check requests from the entity are answered while waiting (§9.4).
//!
//! Everything the entity sends is kept in order, valid or not, with a note when it is not what
//! the tester waited for: the command shows it instead of hiding it.

use crate::codec::doip::{
    ActivationType, DiagnosticMessage, DiagnosticNackCode, Message, Payload, ProtocolVersion,
    RoutingActivationRequest, RoutingActivationResponse, RoutingActivationResponseCode,
};
use crate::codec::uds::{Nrc, Response};
use crate::judge::Finding;
use crate::judge::live::LiveFeed;
use crate::profile::TargetProfile;
use crate::proto::uds_wait::{AnswerWait, Answered, MAX_PENDING, UdsTimes};
use crate::transport::doip::tester::{self, Judged, Read, TesterConnection};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Messages one request (or the activation) may bring at most: past it, an entity that keeps
/// sending things other than the answer ends the request instead of growing its transcript.
pub const MAX_MESSAGES_PER_REQUEST: u32 = 1000;

/// Addresses and timers of a session (from the profile or the standard's defaults).
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub protocol_version: ProtocolVersion,
    pub tester_address: u16,
    /// Where UDS requests go; `None`: the entity's logical address from its routing
    /// activation response.
    pub target_address: Option<u16>,
    pub activation_type: ActivationType,
    /// Bound of the TCP connect and TLS handshake.
    pub connect_timeout: Duration,
    /// Wait for the routing activation response (A_Processing_Time).
    pub activation_timeout: Duration,
    /// Wait for the diagnostic ACK/NACK (A_DoIP_Diagnostic_Message).
    pub ack_timeout: Duration,
    /// Wait for the first UDS answer after the ACK (P2).
    pub p2: Duration,
    /// Wait after each NRC 0x78 (P2*).
    pub p2_star: Duration,
    /// Slack added to every wait (`timing.tolerance`).
    pub tolerance: Duration,
}

impl SessionSettings {
    /// The profile's addresses and timers (a profile of defaults gives the standard's).
    /// `uds.target_address` is taken only when `explicit_target` (a profile was given):
    /// otherwise requests go to the entity's own logical address, learnt at activation.
    pub fn from_profile(profile: &TargetProfile, explicit_target: bool) -> Self {
        SessionSettings {
            protocol_version: ProtocolVersion::from_raw(profile.protocol_version),
            tester_address: profile.addresses.tester,
            target_address: explicit_target.then_some(profile.uds.target_address),
            activation_type: ActivationType::Default,
            connect_timeout: profile.timers.a_doip_ctrl,
            activation_timeout: profile.timers.a_processing_time,
            ack_timeout: profile.timers.a_doip_diagnostic_message,
            p2: profile.uds.p2,
            p2_star: profile.uds.p2_star,
            tolerance: profile.timers.tolerance,
        }
    }
}

/// Something the entity sent, in arrival order.
#[derive(Debug, Clone)]
pub struct SessionMessage {
    /// Since the connection was opened.
    pub at: Duration,
    pub bytes: Vec<u8>,
    /// The message, or the rule its bytes break.
    pub message: Result<Message<'static>, String>,
    /// What the tester made of it, when it was not simply the awaited answer.
    pub note: Option<String>,
}

/// Why no session could be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Nobody accepted the connection: refused, unreachable, no answer (exit 3). An entity
    /// that accepts and then resets or closes is `NotActivated`.
    Unreachable(String),
    /// The entity answered, but routing is not active: a denial code, a broken or missing
    /// response, a closed socket. `received` holds everything it sent.
    NotActivated { why: String, received: Vec<SessionMessage> },
}

/// How one UDS request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// The final UDS answer was positive.
    Positive(Vec<u8>),
    /// The final UDS answer was `7F SID NRC` (not 0x78).
    Negative { bytes: Vec<u8>, nrc: Nrc },
    /// A diagnostic message NACK instead of an ACK.
    Nack(DiagnosticNackCode),
    /// The entity sent neither ACK nor NACK in time.
    NoAck { waited: Duration },
    /// Acknowledged but no answer in time (P2, or P2* after a 0x78).
    NoAnswer { waited: Duration },
    /// The answer is not a UDS response (empty, a request SID, a short 7F).
    NotUds { bytes: Vec<u8>, why: String },
    /// The connection ended (closed, reset, flood).
    Ended(String),
}

impl RequestOutcome {
    pub fn is_positive(&self) -> bool {
        matches!(self, RequestOutcome::Positive(_))
    }
}

/// One UDS request and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Vec<u8>,
    pub target_address: u16,
    pub received: Vec<SessionMessage>,
    /// NRC 0x78 answers before the final one.
    pub pending: u32,
    pub outcome: RequestOutcome,
}

/// An open, routing-activated connection.
pub struct Session {
    conn: TesterConnection,
    judged: Judged,
    settings: SessionSettings,
    opened: Instant,
    /// The routing activation response that activated routing.
    pub activation: RoutingActivationResponse,
    /// What the entity sent while routing was activated (alive checks, a 0x11 first).
    pub activation_received: Vec<SessionMessage>,
    /// Where UDS requests go.
    pub target_address: u16,
    /// Messages the current request may still read ([`MAX_MESSAGES_PER_REQUEST`]).
    budget: u32,
}

/// What a bounded wait found.
enum Next {
    Message(SessionMessage),
    Ended(String),
    Timeout,
}

impl Session {
    /// Connects to `addr` (TLS when `tls` is given) and activates routing.
    pub async fn open(
        addr: SocketAddr,
        tls: Option<Arc<rustls::ClientConfig>>,
        settings: SessionSettings,
    ) -> Result<Session, OpenError> {
        let mut judged = Judged { feed: LiveFeed::new(&[]), start: Instant::now() };
        let mut conn = tester::connect(addr, tls, settings.connect_timeout, &mut judged)
            .await
            .map_err(|tester::NotThere(why)| OpenError::Unreachable(why))?;
        // §9.6: an unanswered alive check request costs the tester its socket.
        conn.answer_alive_checks(Some(settings.tester_address));
        let opened = Instant::now();
        let mut session = Session {
            conn,
            judged,
            target_address: 0,
            activation: RoutingActivationResponse {
                tester_logical_address: settings.tester_address,
                entity_logical_address: 0,
                response_code: RoutingActivationResponseCode::Unknown(0xFF),
                reserved_iso: 0,
                oem_specific: None,
            },
            activation_received: Vec::new(),
            opened,
            settings,
            budget: MAX_MESSAGES_PER_REQUEST,
        };
        session.activate().await?;
        Ok(session)
    }

    async fn activate(&mut self) -> Result<(), OpenError> {
        let request = RoutingActivationRequest::new(
            self.settings.tester_address,
            self.settings.activation_type,
        );
        let not_activated = |why: String, received| Err(OpenError::NotActivated { why, received });
        if let Err(why) = self.send(Payload::RoutingActivationRequest(request)).await {
            return not_activated(why, Vec::new());
        }
        let waited = self.settings.activation_timeout + self.settings.tolerance;
        let deadline = Instant::now() + waited;
        let mut received = Vec::new();
        loop {
            match self.next(deadline, &mut received).await {
                Next::Timeout => {
                    return not_activated(
                        format!("no routing activation response within {waited:?}"),
                        received,
                    );
                }
                Next::Ended(why) => return not_activated(why, received),
                Next::Message(mut r) => {
                    let response = match &r.message {
                        Ok(Message { payload: Payload::RoutingActivationResponse(a), .. }) => *a,
                        Ok(other) => {
                            r.note = Some(format!(
                                "not the routing activation response: {}",
                                other.payload.payload_type()
                            ));
                            received.push(r);
                            continue;
                        }
                        Err(_) => {
                            r.note = Some("instead of the routing activation response".into());
                            received.push(r);
                            continue;
                        }
                    };
                    let code = response.response_code;
                    received.push(r);
                    if code != RoutingActivationResponseCode::SuccessfullyActivated {
                        let name = code.description().unwrap_or("unknown code");
                        return not_activated(
                            format!("routing activation denied: 0x{:02X} {name}", code.raw()),
                            received,
                        );
                    }
                    self.activation = response;
                    self.target_address =
                        self.settings.target_address.unwrap_or(response.entity_logical_address);
                    self.activation_received = received;
                    return Ok(());
                }
            }
        }
    }

    /// A session over `conn` whose routing is taken as active (unit tests drive it on tokio's
    /// paused clock through an in-memory connection).
    #[cfg(test)]
    pub(crate) fn activated_over(mut conn: TesterConnection, settings: SessionSettings) -> Session {
        conn.answer_alive_checks(Some(settings.tester_address));
        let opened = Instant::now();
        Session {
            conn,
            judged: Judged { feed: LiveFeed::new(&[]), start: opened },
            target_address: settings.target_address.unwrap_or(0x0010),
            activation: RoutingActivationResponse {
                tester_logical_address: settings.tester_address,
                entity_logical_address: 0x0010,
                response_code: RoutingActivationResponseCode::SuccessfullyActivated,
                reserved_iso: 0,
                oem_specific: None,
            },
            activation_received: Vec::new(),
            opened,
            settings,
            budget: MAX_MESSAGES_PER_REQUEST,
        }
    }

    /// Sends `uds` as a diagnostic message and waits for the ACK and the final answer.
    pub async fn request(&mut self, uds: &[u8]) -> Exchange {
        let target = self.target_address;
        let mut exchange = Exchange {
            request: uds.to_vec(),
            target_address: target,
            received: Vec::new(),
            pending: 0,
            outcome: RequestOutcome::Ended(String::new()),
        };
        self.budget = MAX_MESSAGES_PER_REQUEST;
        let message = DiagnosticMessage::new(self.settings.tester_address, target, uds.to_vec());
        if let Err(why) = self.send(Payload::DiagnosticMessage(message)).await {
            exchange.outcome = RequestOutcome::Ended(why);
            return exchange;
        }
        let sent = Instant::now();
        exchange.outcome = self.await_answer(uds, sent, &mut exchange).await;
        exchange
    }

    /// The ACK (or NACK), then answers until one is final. A UDS answer that comes before any
    /// ACK is taken as the answer, with a note: the entity broke §9.6, the tester still shows
    /// what the ECU said.
    /// The answer is due within P2 of the request, and within P2* of each NRC 0x78
    /// (`proto::uds_wait`, the timer the judge's `timing.uds_p2` uses too); the ACK within
    /// A_DoIP_Diagnostic_Message of the request.
    async fn await_answer(
        &mut self,
        uds: &[u8],
        sent: Instant,
        exchange: &mut Exchange,
    ) -> RequestOutcome {
        let s = &self.settings;
        let tolerance = s.tolerance;
        let times = UdsTimes { p2: s.p2, p2_star: s.p2_star, tolerance };
        let mut wait = AnswerWait::start(times, sent);
        let mut acknowledged = false;
        let mut waited = s.ack_timeout + tolerance;
        let mut deadline = sent + waited;
        let (tester, target) = (s.tester_address, exchange.target_address);
        loop {
            let mut r = match self.next(deadline, &mut exchange.received).await {
                Next::Timeout if acknowledged => return RequestOutcome::NoAnswer { waited },
                Next::Timeout => return RequestOutcome::NoAck { waited },
                Next::Ended(why) => return RequestOutcome::Ended(why),
                Next::Message(r) => r,
            };
            let payload = match &r.message {
                Ok(m) => m.payload.clone(),
                Err(_) => {
                    r.note = Some("not a DoIP message".into());
                    exchange.received.push(r);
                    continue;
                }
            };
            match payload {
                Payload::DiagnosticMessageAck(ack)
                    if !acknowledged
                        && ack.source_address == target
                        && ack.target_address == tester =>
                {
                    acknowledged = true;
                    waited = wait.window().wait();
                    deadline = wait.deadline();
                    exchange.received.push(r);
                }
                Payload::DiagnosticMessageNack(nack)
                    if !acknowledged
                        && nack.source_address == target
                        && nack.target_address == tester =>
                {
                    exchange.received.push(r);
                    return RequestOutcome::Nack(nack.nack_code);
                }
                Payload::DiagnosticMessage(answer)
                    if answer.source_address == target && answer.target_address == tester =>
                {
                    if !acknowledged {
                        r.note = Some(
                            "a UDS answer before any diagnostic ACK (ISO 13400-2:2019 §9.6)".into(),
                        );
                    }
                    let bytes = answer.user_data.into_owned();
                    let arrived = self.opened + r.at;
                    exchange.received.push(r);
                    let answered = wait.on_answer(arrived, &bytes);
                    exchange.pending = wait.pending();
                    match answered {
                        Answered::TooManyPending => {
                            return RequestOutcome::Ended(format!(
                                "the entity answered NRC 0x78 (response pending) more than {MAX_PENDING} times; the tester stops waiting"
                            ));
                        }
                        Answered::Pending => {
                            acknowledged = true;
                            waited = wait.window().wait();
                            deadline = wait.deadline();
                            continue;
                        }
                        Answered::Final => {}
                    }
                    match Response::parse(&bytes) {
                        Ok(Response::Negative { nrc, .. }) => {
                            return RequestOutcome::Negative { bytes, nrc };
                        }
                        Ok(Response::Positive { .. }) => {
                            if let Some(&sid) = uds.first()
                                && !response_answers(sid, &bytes)
                                && let Some(last) = exchange.received.last_mut()
                            {
                                last.note = Some(format!(
                                    "answers SID 0x{:02X}, not the request's 0x{sid:02X}",
                                    bytes[0].wrapping_sub(0x40)
                                ));
                            }
                            return RequestOutcome::Positive(bytes);
                        }
                        Err(why) => return RequestOutcome::NotUds { bytes, why: why.to_string() },
                    }
                }
                other => {
                    r.note = Some(match other {
                        Payload::DiagnosticMessageAck(a) if acknowledged => {
                            format!(
                                "a second diagnostic ACK (0x{:04X} -> 0x{:04X})",
                                a.source_address, a.target_address
                            )
                        }
                        Payload::DiagnosticMessageAck(a) => format!(
                            "diagnostic ACK with addresses 0x{:04X} -> 0x{:04X}, expected 0x{target:04X} -> 0x{tester:04X}",
                            a.source_address, a.target_address
                        ),
                        Payload::DiagnosticMessageNack(n) => format!(
                            "diagnostic NACK with addresses 0x{:04X} -> 0x{:04X}, expected 0x{target:04X} -> 0x{tester:04X}",
                            n.source_address, n.target_address
                        ),
                        Payload::DiagnosticMessage(d) => format!(
                            "diagnostic message 0x{:04X} -> 0x{:04X}, not an answer to 0x{tester:04X} from 0x{target:04X}",
                            d.source_address, d.target_address
                        ),
                        _ => "not part of this request".into(),
                    });
                    exchange.received.push(r);
                }
            }
        }
    }

    /// Closes the connection (FIN); what the judge found in the session's traffic.
    pub async fn close(mut self) -> Vec<Finding> {
        self.conn.close(&mut self.judged).await;
        let end = self.judged.time(Instant::now());
        self.judged.feed.finish(end).findings
    }

    async fn send(&mut self, payload: Payload<'static>) -> Result<(), String> {
        let message = Message::new(self.settings.protocol_version, payload);
        self.conn
            .write(&message.to_bytes(), (), &mut self.judged)
            .await
            .map(|_| ())
            .map_err(|r| format!("sending to {}: {r}", self.conn.link().peer))
    }

    /// The next message before `deadline`; alive check requests, answered by the connection
    /// on the way, are kept in `seen` with what became of the answer.
    async fn next(&mut self, deadline: Instant, seen: &mut Vec<SessionMessage>) -> Next {
        loop {
            let read = match self.conn.read(deadline, &mut self.judged).await {
                Ok(read) => read,
                Err(refused) => return Next::Ended(refused.to_string()),
            };
            let incoming = match read {
                Read::Silent => return Next::Timeout,
                Read::Closed { .. } => {
                    return Next::Ended("the entity closed the connection".into());
                }
                Read::Reset { error, .. } => return Next::Ended(error),
                Read::Frame(incoming) => incoming,
            };
            if self.budget == 0 {
                return Next::Ended(format!(
                    "the entity sent more than {MAX_MESSAGES_PER_REQUEST} messages without the awaited one"
                ));
            }
            self.budget -= 1;
            let note = match &incoming.answer {
                None => None,
                Some(Ok(())) => Some("answered with an alive check response".to_owned()),
                Some(Err(why)) => Some(format!("could not answer it: {why}")),
            };
            let r = SessionMessage {
                at: incoming.at.saturating_duration_since(self.opened),
                bytes: incoming.bytes,
                message: incoming.message,
                note: None,
            };
            if note.is_some() {
                seen.push(SessionMessage { note, ..r });
                continue;
            }
            return Next::Message(r);
        }
    }
}

/// True when the positive response `answer` answers request SID `sid` (SID + 0x40).
fn response_answers(sid: u8, answer: &[u8]) -> bool {
    crate::codec::uds::is_positive_response(&[sid], answer)
}
