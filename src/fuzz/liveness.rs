//! The liveness oracle: is the target still serving? A fresh TCP connection and routing
//! activation, an alive check on it (ISO 13400-2:2019 §9.6), UDS TesterPresent to each address
//! the profile names (ISO 14229-1; P2, P2* after NRC 0x78), a vehicle identification over UDP
//! (§9.3), then the user's `--monitor` command. Each within the profile's timers.

use super::conn::{
    FuzzConnection, ReadEnd, is_activation_response, is_alive_response, is_diag_response,
};
use super::live::LiveFuzzer;
use super::model::doip::frame;
use super::model::repro::Oracle;
use crate::codec::doip::HEADER_LEN;
use crate::codec::doip::{PayloadType, payload_type_of};
use std::time::Duration;
use tokio::time::{Instant, timeout};

impl LiveFuzzer {
    /// A new connection with routing activated (response code 0x10).
    pub(super) async fn open_activated(
        &self,
        bound: Duration,
    ) -> Result<FuzzConnection, (Oracle, String)> {
        let mut conn = FuzzConnection::open(self.settings.tcp, bound)
            .await
            .map_err(|e| (Oracle::Activation, e))?;
        let mut ra = self.settings.tester_address.to_be_bytes().to_vec();
        ra.extend([self.settings.activation_type, 0, 0, 0, 0]);
        conn.write(&frame(self.settings.version, 0x0005, &ra))
            .await
            .map_err(|e| (Oracle::Activation, e))?;
        let mut code = None;
        let end = conn
            .read_until(1, bound, self.settings.tester_address, is_activation_response, |b| {
                if is_activation_response(b) && b.len() > HEADER_LEN + 4 {
                    code = Some(b[HEADER_LEN + 4]);
                }
            })
            .await;
        match (end, code) {
            (ReadEnd::Barrier, Some(0x10)) => Ok(conn),
            (_, Some(c)) => Err((
                Oracle::Activation,
                format!("routing activation answered with code 0x{c:02X}, not 0x10"),
            )),
            (ReadEnd::Closed, None) => Err((
                Oracle::Activation,
                "the entity closed the connection instead of answering the routing activation"
                    .into(),
            )),
            _ => Err((
                Oracle::Activation,
                format!("no routing activation response within {bound:?}"),
            )),
        }
    }

    /// The liveness oracle: a fresh connection and routing activation, an alive check on it,
    /// TesterPresent to each address, a vehicle identification over UDP, then `--monitor`.
    /// Returns the time it took, or the first probe that failed.
    pub(super) async fn check_liveness(
        &mut self,
        ctrl: Duration,
    ) -> Result<Duration, (Oracle, String)> {
        let start = Instant::now();
        // Our own activated socket would count against the entity's MCTS: with it open, the
        // probe's activation makes the entity alive-check it first (T_TCP_Alive_Check).
        self.activated = None;
        let mut conn = self.open_activated(ctrl).await?;
        if self.settings.alive_check {
            conn.write(&frame(self.settings.version, 0x0007, &[]))
                .await
                .map_err(|e| (Oracle::AliveCheck, e))?;
            match conn
                .read_until(1, ctrl, self.settings.tester_address, is_alive_response, |_| {})
                .await
            {
                ReadEnd::Barrier => {}
                _ => {
                    return Err((
                        Oracle::AliveCheck,
                        format!("no alive check response within {ctrl:?}"),
                    ));
                }
            }
        }
        for &address in &self.settings.tester_present.clone() {
            let mut diag = self.settings.tester_address.to_be_bytes().to_vec();
            diag.extend(address.to_be_bytes());
            diag.extend([0x3E, 0x00]);
            let request = frame(self.settings.version, 0x8001, &diag);
            conn.write(&request).await.map_err(|e| (Oracle::TesterPresent(address), e))?;
            let mut positive = false;
            let mut pending = 0;
            let mut repeated = false;
            // The ACK comes within A_DoIP_Diagnostic_Message; the answer within P2, or P2*
            // after each 0x78 (ISO 14229-2), at most 32 of them.
            loop {
                let mut answer: Option<Vec<u8>> = None;
                // P2 for the first answer, P2* after a 0x78 or for a repeated request: a
                // server (or the gateway in front of it) busy with an earlier case's request
                // may lose ours, so a request without an answer within P2 is sent once more,
                // and only a server silent for P2* after that is not serving (ISO 14229-2).
                let bound = if pending == 0 && !repeated {
                    self.settings.p2
                } else {
                    self.settings.p2_star
                };
                // Only the answer to this request counts: a diagnostic message from this
                // address with 7E or 7F 3E. Anything else is a late answer to an earlier
                // case's request (the entity routes it to the socket of our tester address).
                let is_answer = |b: &[u8]| {
                    is_diag_response(b)
                        && b.len() >= HEADER_LEN + 5
                        && b[HEADER_LEN..HEADER_LEN + 2] == address.to_be_bytes()
                        && (b[HEADER_LEN + 4] == 0x7E
                            || b.get(HEADER_LEN + 4..HEADER_LEN + 6) == Some(&[0x7F, 0x3E]))
                };
                let end = conn
                    .read_until(1, bound, self.settings.tester_address, is_answer, |b| {
                        if is_answer(b) {
                            answer = Some(b[HEADER_LEN + 4..].to_vec());
                        }
                    })
                    .await;
                match (end, answer.as_deref()) {
                    (ReadEnd::Barrier, Some([0x7E, 0x00, ..])) => positive = true,
                    (ReadEnd::Barrier, Some([0x7F, 0x3E, 0x78])) if pending < 32 => {
                        pending += 1;
                        continue;
                    }
                    (ReadEnd::Barrier, Some(other)) => {
                        return Err((
                            Oracle::TesterPresent(address),
                            format!(
                                "TesterPresent to 0x{address:04X} answered {}",
                                crate::notation::hex_spaced(other)
                            ),
                        ));
                    }
                    (ReadEnd::Silent, None) if !repeated && pending == 0 => {
                        repeated = true;
                        conn.write(&request)
                            .await
                            .map_err(|e| (Oracle::TesterPresent(address), e))?;
                        continue;
                    }
                    _ => {}
                }
                break;
            }
            if !positive {
                return Err((
                    Oracle::TesterPresent(address),
                    format!(
                        "no answer 7E 00 to TesterPresent from 0x{address:04X}, sent twice, within P2 and then P2* ({:?})",
                        self.settings.p2_star
                    ),
                ));
            }
        }
        drop(conn);
        if self.settings.identification {
            let socket = self.udp_socket().await.map_err(|e| (Oracle::Identification, e))?;
            let request = frame(self.settings.version, 0x0001, &[]);
            socket
                .send_to(&request, self.settings.udp)
                .await
                .map_err(|e| (Oracle::Identification, e.to_string()))?;
            let mut buf = vec![0u8; 4096];
            let deadline = Instant::now() + ctrl;
            let mut answered = false;
            while let Ok(Ok((n, _))) = timeout(
                deadline.saturating_duration_since(Instant::now()),
                socket.recv_from(&mut buf),
            )
            .await
            {
                if payload_type_of(&buf[..n]) == Some(PayloadType::VehicleAnnouncement) {
                    answered = true;
                    break;
                }
            }
            self.udp = Some(socket);
            if !answered {
                return Err((
                    Oracle::Identification,
                    format!("no vehicle announcement within {ctrl:?}"),
                ));
            }
        }
        super::drive::run_monitor(self.settings.monitor.as_deref(), self.settings.command_bound)
            .await?;
        Ok(start.elapsed())
    }
}
