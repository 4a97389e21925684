//! The CAN side of the gateway: frames between the gateway links, the simulated ECUs and the
//! bus. Every frame an internal node sends is delivered to the other internal nodes (the bus
//! does not echo a node's own frames) and handed to the driver for the bus.

use super::{ConnId, Entity, Output, Peer};
use crate::codec::can::CanFrame;
use crate::codec::doip::{DiagnosticMessage, DiagnosticMessageNack, DiagnosticNackCode, Payload};
use crate::proto::time::Instant;
use crate::sim::faults::Fault;
use crate::sim::gateway::{Forward, LinkEvent};
use std::borrow::Cow;

/// Rounds of frame exchange per call at most (a configuration whose ECUs answer each other
/// cannot spin forever).
const MAX_ROUNDS: usize = 10_000;

impl Entity {
    /// A frame from the CAN bus.
    pub fn handle_can_frame(&mut self, now: Instant, frame: &CanFrame) {
        self.deliver_can(now, frame, None);
        self.pump_can(now);
    }

    /// Hands `frame` to every internal node but the ECU that sent it (`from`): a node does not
    /// receive its own frames.
    fn deliver_can(&mut self, now: Instant, frame: &CanFrame, from: Option<usize>) {
        for (i, ecu) in self.ecus.iter_mut().enumerate() {
            if Some(i) != from {
                ecu.handle_frame(now, frame);
            }
        }
        for link in &mut self.links {
            link.handle_frame(now, frame);
        }
    }

    pub(super) fn can_timers_due(&mut self, now: Instant) {
        for ecu in &mut self.ecus {
            ecu.handle_timeout(now);
        }
        for link in &mut self.links {
            link.handle_timeout(now);
        }
        self.pump_can(now);
    }

    pub(super) fn can_poll_timeout(&self) -> Option<Instant> {
        let ecus = self.ecus.iter().filter_map(|e| e.poll_timeout());
        let links = self.links.iter().filter_map(|l| l.poll_timeout());
        ecus.chain(links).min()
    }

    /// Moves frames between the internal nodes until all are quiet, and turns link events
    /// into DoIP messages.
    pub(super) fn pump_can(&mut self, now: Instant) {
        for _ in 0..MAX_ROUNDS {
            let mut frames = Vec::new();
            for link in &mut self.links {
                while let Some(frame) = link.poll_transmit(now) {
                    frames.push((None, frame));
                }
            }
            for (i, ecu) in self.ecus.iter_mut().enumerate() {
                while let Some(frame) = ecu.poll_transmit(now) {
                    frames.push((Some(i), frame));
                }
            }
            self.link_events(now);
            if frames.is_empty() {
                return;
            }
            for (from, frame) in frames {
                self.outputs.push_back(Output::Can(frame));
                self.deliver_can(now, &frame, from);
            }
        }
    }

    fn link_events(&mut self, now: Instant) {
        for i in 0..self.links.len() {
            while let Some(event) = self.links[i].poll_event() {
                let ecu = self.links[i].ecu_address;
                match event {
                    LinkEvent::Sent(request) => {
                        // ISO 13400-2:2019 §9.6: the gateway ACKs once the message is passed on.
                        if let Some(bytes) =
                            self.positive_ack(ecu, request.tester, &request.user_data)
                        {
                            self.release(now, Output::Tcp { conn: request.conn, bytes });
                        }
                    }
                    LinkEvent::Failed { request, nack_code, result } => {
                        let nack_code = match nack_code {
                            0x06 if self.has(Fault::DiagWrongNackUnreachable) => 0x08,
                            0x08 if self.has(Fault::DiagWrongNackTransportError) => 0x06,
                            code => code,
                        };
                        let nack = DiagnosticMessageNack {
                            source_address: ecu,
                            target_address: request.tester,
                            nack_code: DiagnosticNackCode::from_raw(nack_code),
                            previous_diagnostic_message: self.echo_bytes(&request.user_data),
                        };
                        let bytes = self.reply(Payload::DiagnosticMessageNack(nack));
                        self.release(now, Output::Tcp { conn: request.conn, bytes });
                        self.log(now, Peer::Tcp(request.conn), || {
                            format!("ISO-TP to ECU 0x{ecu:04X} failed ({result}) -> NACK 0x{nack_code:02X}")
                        });
                    }
                    LinkEvent::Response { conn, tester, user_data } => {
                        let len = user_data.len();
                        let message = DiagnosticMessage::new(ecu, tester, user_data);
                        let bytes = self.reply(Payload::DiagnosticMessage(message));
                        self.release(now, Output::Tcp { conn, bytes });
                        self.log(now, Peer::Tcp(conn), || {
                            format!("ECU 0x{ecu:04X} answered {len} bytes over ISO-TP")
                        });
                    }
                }
            }
        }
    }

    /// Routes a diagnostic message to the ECU behind link `index` (checks done by the caller).
    pub(super) fn forward_to_ecu(
        &mut self,
        now: Instant,
        conn: ConnId,
        index: usize,
        message: &DiagnosticMessage<'_>,
    ) {
        let request =
            Forward { conn, tester: message.source_address, user_data: message.user_data.to_vec() };
        if self.links[index].submit(now, request) {
            self.log(now, Peer::Tcp(conn), || format!("rx {message} -> forwarded over ISO-TP"));
            self.pump_can(now);
        } else {
            self.diag_nack(now, conn, message, DiagnosticNackCode::OutOfMemory);
        }
    }

    pub(super) fn echo_bytes(&self, user_data: &[u8]) -> Cow<'static, [u8]> {
        let n = usize::from(self.config.ack_echo_bytes).min(user_data.len());
        Cow::Owned(user_data[..n].to_vec())
    }
}
