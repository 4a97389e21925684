//! Diagnostic message routing (ISO 13400-2:2019 §9.6, Tables 28-30): source address checks,
//! the ACK (0x8002) or NACK (0x8003) with its code, and the UDS responses of the local
//! responder (its own logical address and the functional address) played out on the clock.

use super::{ConnId, Entity, Liveness, Output, Peer};
use crate::codec::doip::{
    DiagnosticAckCode, DiagnosticMessage, DiagnosticMessageAck, DiagnosticMessageNack,
    DiagnosticNackCode as Nack, Payload,
};
use crate::codec::uds::Nrc;
use crate::proto::time::Instant;
use crate::sim::config::UnactivatedDiagnostic;
use crate::sim::faults::Fault;
use core::time::Duration;

/// How much later than A_DoIP_Diagnostic_Message the `diag_ack_late` fault answers.
const LATE_BY: Duration = Duration::from_millis(500);

impl Entity {
    pub(super) fn handle_diagnostic_message(
        &mut self,
        now: Instant,
        conn: ConnId,
        message: &DiagnosticMessage<'_>,
    ) {
        let hang_above = self.config.robustness.oversized_diag_user_data as usize;
        if message.user_data.len() > hang_above && self.has(Fault::HangAfterOversizedDiag) {
            // A conformant entity ACKs or NACKs it (0x04 when too large) and keeps serving.
            let peer = Peer::Tcp(conn);
            return self.go_down(now, peer, Liveness::Hung, "oversized diagnostic message");
        }
        let Some(active) = self.conns.get(&conn).map(|c| c.source_address) else { return };
        let (sa, ta) = (message.source_address, message.target_address);
        match active {
            None => match self.config.unactivated_diagnostic {
                UnactivatedDiagnostic::Nack => {
                    return self.diag_nack(now, conn, message, Nack::InvalidSourceAddress);
                }
                UnactivatedDiagnostic::Close => {
                    self.log(now, Peer::Tcp(conn), || {
                        format!("rx {message} -> no routing activation, closing")
                    });
                    return self.close(now, conn, "diagnostic message without routing activation");
                }
            },
            // Table 30: the SA must be the one activated on this socket.
            Some(active) if active != sa && !self.has(Fault::DiagAcceptsWrongSa) => {
                return self.diag_nack(now, conn, message, Nack::InvalidSourceAddress);
            }
            Some(_) => {}
        }
        let la = self.config.entity_address();
        let functional = ta == self.config.functional_address;
        if ta != la && !functional {
            if let Some(index) = self.links.iter().position(|l| l.ecu_address == ta) {
                if message.user_data.len() > self.links[index].max_request_length
                    && !self.has(Fault::DiagNoNackTooLarge)
                {
                    return self.diag_nack(now, conn, message, Nack::DiagnosticMessageTooLarge);
                }
                return self.forward_to_ecu(now, conn, index, message);
            }
            let code = if self.has(Fault::DiagWrongNackUnknownTa) {
                Nack::TargetUnreachable
            } else {
                Nack::UnknownTargetAddress
            };
            return self.diag_nack(now, conn, message, code);
        }
        if message.user_data.len() > self.local_uds.max_request_length()
            && !self.has(Fault::DiagNoNackTooLarge)
        {
            return self.diag_nack(now, conn, message, Nack::DiagnosticMessageTooLarge);
        }
        let full = self.scheduled.len() >= self.config.max_pending_outputs as usize;
        if full && !self.has(Fault::DiagNoNackOutOfMemory) {
            // Delayed answers of earlier requests fill the queue: a flood of requests to a
            // slow service cannot grow memory (NACK 0x05, out of memory, Table 30).
            return self.diag_nack(now, conn, message, Nack::OutOfMemory);
        }
        self.diag_ack(now, conn, message);
        if full {
            // The faulty entity acknowledges what it cannot hold and loses the answer.
            self.log(now, Peer::Tcp(conn), || format!("rx {message} -> ACK, answer dropped"));
            return;
        }
        let schedule = self.local_uds.handle_request(&message.user_data);
        let count = schedule.len();
        for response in schedule {
            // ISO 14229-1:2020 §8.7.3: functional requests get no 0x11 / 0x12 / 0x31 NRCs.
            if functional
                && let [0x7F, _, code] = response.bytes[..]
                && matches!(
                    Nrc::from_raw(code),
                    Nrc::ServiceNotSupported
                        | Nrc::SubFunctionNotSupported
                        | Nrc::RequestOutOfRange
                )
            {
                continue;
            }
            let reply = DiagnosticMessage::new(la, sa, response.bytes);
            let bytes = self.reply(Payload::DiagnosticMessage(reply));
            self.emit_at(now, now + response.delay, Output::Tcp { conn, bytes });
        }
        self.log(now, Peer::Tcp(conn), || format!("rx {message} -> ACK, {count} UDS response(s)"));
    }

    /// The positive ACK (Table 28), within A_DoIP_Diagnostic_Message.
    fn diag_ack(&mut self, now: Instant, conn: ConnId, message: &DiagnosticMessage<'_>) {
        let (target, tester) = (message.target_address, message.source_address);
        let Some(bytes) = self.positive_ack(target, tester, &message.user_data) else { return };
        let at = if self.has(Fault::DiagAckLate) {
            now + self.config.timing.a_doip_diagnostic_message.get() + LATE_BY
        } else {
            now
        };
        self.emit_at(now, at, Output::Tcp { conn, bytes });
    }

    /// The NACK (Table 29) with `code`; the socket stays open.
    pub(super) fn diag_nack(
        &mut self,
        now: Instant,
        conn: ConnId,
        message: &DiagnosticMessage<'_>,
        code: Nack,
    ) {
        let nack = DiagnosticMessageNack {
            source_address: message.target_address,
            target_address: message.source_address,
            nack_code: code,
            previous_diagnostic_message: self.echo_bytes(&message.user_data),
        };
        let bytes = self.reply(Payload::DiagnosticMessageNack(nack));
        self.release(now, Output::Tcp { conn, bytes });
        self.log(now, Peer::Tcp(conn), || {
            format!("rx {message} -> NACK 0x{:02X} ({code})", code.raw())
        });
    }

    /// The configured number of leading user data bytes echoed in ACK/NACK.
    /// The positive ACK (ISO 13400-2:2019 Table 28) of a diagnostic message from `tester` to
    /// `target`, sent by the entity itself or for an ECU behind it: source = the addressed node,
    /// target = the tester. `DiagAckMissing` and `DiagAckSwappedAddresses` are applied here,
    /// the one place for local and gateway messages alike; `None`: no ACK is sent.
    pub(super) fn positive_ack(
        &self,
        target: u16,
        tester: u16,
        user_data: &[u8],
    ) -> Option<Vec<u8>> {
        if self.has(Fault::DiagAckMissing) {
            return None;
        }
        let (mut source, mut target) = (target, tester);
        if self.has(Fault::DiagAckSwappedAddresses) {
            core::mem::swap(&mut source, &mut target);
        }
        let ack = DiagnosticMessageAck {
            source_address: source,
            target_address: target,
            ack_code: DiagnosticAckCode::Acknowledged,
            previous_diagnostic_message: self.echo_bytes(user_data),
        };
        Some(self.reply(Payload::DiagnosticMessageAck(ack)))
    }
}
