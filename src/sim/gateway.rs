//! The gateway's side of one CAN ECU link (ISO 13400-2:2019 §9.6 routing to a sub-network):
//! diagnostic requests for the ECU's logical address go out over our ISO-TP stack, and the
//! ECU's answers come back as diagnostic messages to the tester.
//!
//! The positive ACK is sent once the ISO-TP transmission is confirmed; a failed transmission
//! becomes a diagnostic NACK: 0x06 (target unreachable) when no flow control came back
//! (N_TIMEOUT_Bs: nobody is there), 0x08 (transport protocol error) for any other N_Result.
//!
//! The link listens to the ECU's response id only while it waits for an answer, so other
//! testers on the bus (the ISO-TP suites) can talk to the ECU without the gateway's receiver
//! answering their flow control.
//!
//! One request at a time: the next queued request goes to the ECU only after the answer to the
//! last one (its final answer, not NRC 0x78), or after P2server_max without one (P2*server_max
//! after a 0x78, ISO 14229-2). A UDS answer carries no request id, so a link that sent the
//! next request earlier would hand the answer to the wrong tester.

use super::config::EcuConfig;
use super::ecu::{LinkEnd, isotp_config};
use crate::codec::can::CanFrame;
use crate::codec::uds::Nrc;
use crate::proto::isotp::{ConfigError, Endpoint, NResult, TransferEvent};
use crate::proto::time::Instant;
use core::time::Duration;
use std::collections::VecDeque;

/// How long the link keeps listening after the last request or response (P2*server_max
/// 5 s of ISO 14229-2 plus margin).
const LISTEN_FOR: Duration = Duration::from_secs(10);

/// Requests queued per link before the gateway answers NACK 0x05 (out of memory).
pub const MAX_QUEUED_REQUESTS: usize = 8;

/// A diagnostic request on its way to the ECU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The tester connection (opaque to this module).
    pub conn: u64,
    pub tester: u16,
    pub user_data: Vec<u8>,
}

/// What the link reports to the entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// The request was sent on the bus: ACK it.
    Sent(Forward),
    /// The request could not be sent: NACK it with `nack_code`.
    Failed { request: Forward, nack_code: u8, result: NResult },
    /// The ECU answered: a diagnostic message to `tester` on `conn`.
    Response { conn: u64, tester: u16, user_data: Vec<u8> },
}

/// One ECU link of the gateway.
#[derive(Debug)]
pub struct GatewayLink {
    pub ecu_address: u16,
    /// Longest request the ECU takes (larger ones get diagnostic NACK 0x04).
    pub max_request_length: usize,
    endpoint: Endpoint,
    in_flight: Option<Forward>,
    queue: VecDeque<Forward>,
    /// Where answers go: the tester of the last request sent.
    reply_to: Option<(u64, u16)>,
    /// Until when the ECU's answer to the last request sent is awaited: no next request
    /// before it came or this passed.
    awaiting: Option<Instant>,
    /// The ECU's P2server_max and P2*server_max: how long an answer is awaited.
    p2: Duration,
    p2_star: Duration,
    listen_until: Option<Instant>,
    events: VecDeque<LinkEvent>,
}

impl GatewayLink {
    pub fn new(config: &EcuConfig) -> Result<Self, ConfigError> {
        Ok(GatewayLink {
            ecu_address: config.logical_address.value,
            max_request_length: config.uds.max_request_length as usize,
            endpoint: Endpoint::new(isotp_config(config, LinkEnd::Tester))?,
            in_flight: None,
            queue: VecDeque::new(),
            reply_to: None,
            awaiting: None,
            p2: config.uds.p2_server_max.get(),
            p2_star: config.uds.p2_star_server_max.get(),
            listen_until: None,
            events: VecDeque::new(),
        })
    }

    /// Queues a request; `false` when the queue is full.
    pub fn submit(&mut self, now: Instant, request: Forward) -> bool {
        if self.queue.len() >= MAX_QUEUED_REQUESTS {
            return false;
        }
        self.queue.push_back(request);
        self.pump(now);
        true
    }

    /// A frame from the bus; heard only while an answer is awaited.
    pub fn handle_frame(&mut self, now: Instant, frame: &CanFrame) {
        if self.listening(now) || self.in_flight.is_some() {
            self.endpoint.handle_frame(now, frame);
            self.pump(now);
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        if self.awaiting.is_some_and(|t| t <= now) {
            self.awaiting = None;
        }
        if self.listen_until.is_some_and(|t| t <= now) && !self.endpoint.is_receiving() {
            self.listen_until = None;
        }
        self.pump(now);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.endpoint.poll_timeout(), self.listen_until, self.awaiting].into_iter().flatten().min()
    }

    pub fn poll_transmit(&mut self, now: Instant) -> Option<CanFrame> {
        let frame = self.endpoint.poll_transmit();
        self.pump(now);
        frame
    }

    pub fn poll_event(&mut self) -> Option<LinkEvent> {
        self.events.pop_front()
    }

    fn listening(&self, now: Instant) -> bool {
        self.listen_until.is_some_and(|t| now < t)
    }

    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.endpoint.poll_event() {
            match event {
                TransferEvent::MessageSent => {
                    if let Some(request) = self.in_flight.take() {
                        self.reply_to = Some((request.conn, request.tester));
                        self.awaiting = Some(now + self.p2);
                        self.listen_until = Some(now + LISTEN_FOR);
                        self.events.push_back(LinkEvent::Sent(request));
                    }
                }
                TransferEvent::SendFailed { result } => {
                    if let Some(request) = self.in_flight.take() {
                        let nack_code = match result {
                            NResult::TimeoutBs => 0x06,
                            _ => 0x08,
                        };
                        self.events.push_back(LinkEvent::Failed { request, nack_code, result });
                    }
                }
                TransferEvent::MessageReceived { payload, .. } => {
                    let pending = matches!(payload[..], [0x7F, _, code] if Nrc::from_raw(code) == Nrc::ResponsePending);
                    self.listen_until = Some(now + LISTEN_FOR);
                    self.awaiting = pending.then(|| now + self.p2_star);
                    if !pending && self.in_flight.is_none() && self.queue.is_empty() {
                        // The final answer: stop listening so other testers own the ECU.
                        self.listen_until = None;
                    }
                    if let Some((conn, tester)) = self.reply_to {
                        self.events.push_back(LinkEvent::Response {
                            conn,
                            tester,
                            user_data: payload,
                        });
                    }
                }
                _ => {}
            }
        }
        if self.in_flight.is_none()
            && !self.endpoint.is_sending()
            && !self.endpoint.is_receiving()
            && self.awaiting.is_none_or(|t| t <= now)
            && let Some(next) = self.queue.pop_front()
        {
            match self.endpoint.send(now, &next.user_data) {
                Ok(()) => self.in_flight = Some(next),
                Err(_) => self.events.push_back(LinkEvent::Failed {
                    request: next,
                    nack_code: 0x08,
                    result: NResult::Error,
                }),
            }
        }
    }
}
