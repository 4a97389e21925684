//! The liveness oracle: is the target still serving? A fresh TCP connection and routing
//! activation, an alive check on it (ISO 13400-2:2019 §9.6), UDS TesterPresent to each address
//! the profile names (ISO 14229-1; P2, P2* after NRC 0x78), a fresh TLS connection and routing
//! activation when the target serves TLS (§9.1.1: its own service), a vehicle identification
//! over UDP (§9.3), then the user's `--monitor` command. Each within the profile's timers.

use super::conn::{
    FuzzConnection, ReadEnd, is_activation_response, is_alive_response, is_diag_response,
};
use super::live::{LiveFuzzer, activation_oracle};
use super::model::doip::frame;
use super::model::repro::Oracle;
use crate::codec::doip::HEADER_LEN;
use crate::codec::doip::{PayloadType, payload_type_of};
use crate::proto::uds_wait::{AnswerWait, Answered, MAX_PENDING, UdsTimes, is_response_pending};
use std::time::Duration;
use tokio::time::{Instant, timeout};

impl LiveFuzzer {
    /// A new connection (TLS with `tls`) with routing activated (response code 0x10); a
    /// failure is the oracle of that service's activation.
    pub(super) async fn open_activated(
        &self,
        tls: bool,
        bound: Duration,
    ) -> Result<FuzzConnection, (Oracle, String)> {
        let mut conn = self.open(tls, bound).await?;
        let oracle = activation_oracle(tls);
        let mut ra = self.settings.tester_address.to_be_bytes().to_vec();
        ra.extend([self.settings.activation_type, 0, 0, 0, 0]);
        conn.write(&frame(self.settings.version, 0x0005, &ra))
            .await
            .map_err(|e| (oracle.clone(), e))?;
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
            (_, Some(c)) => {
                Err((oracle, format!("routing activation answered with code 0x{c:02X}, not 0x10")))
            }
            (ReadEnd::Closed, None) => Err((
                oracle,
                "the entity closed the connection instead of answering the routing activation"
                    .into(),
            )),
            _ => Err((oracle, format!("no routing activation response within {bound:?}"))),
        }
    }

    /// The liveness oracle: a fresh connection and routing activation, an alive check on it,
    /// TesterPresent to the entity and to one ECU (in turn, [`LiveSettings::ecus`]), a fresh
    /// TLS connection and routing activation, a vehicle identification over UDP, then
    /// `--monitor`; a service left out ([`LiveFuzzer::tcp_dead`], [`LiveFuzzer::tls_dead`]) is
    /// not asked, and with the TCP service left out the alive check and TesterPresent go over
    /// the TLS connection. Returns the time it took, or the first probe
    /// that failed (the next check asks the same ECU again; only a passing one moves on).
    ///
    /// [`LiveSettings::ecus`]: super::live::LiveSettings::ecus
    pub(super) async fn check_liveness(
        &mut self,
        ctrl: Duration,
    ) -> Result<Duration, (Oracle, String)> {
        let start = Instant::now();
        // Our own activated socket would count against the entity's MCTS: with it open, the
        // probe's activation makes the entity alive-check it first (T_TCP_Alive_Check).
        self.activated = None;
        let ecus = &self.settings.ecus;
        // The ECU in turn, when its probes have not used more than their share of the time
        // (a gateway serves an ECU's queued requests one after the other: behind a fuzz
        // batch's requests to a slow ECU, TesterPresent may wait seconds).
        let ecu = match self.held_ecu.filter(|a| ecus.contains(a)) {
            Some(held) => Some(held),
            None if start >= self.ecu_due => ecus.get(self.next_ecu % ecus.len().max(1)).copied(),
            None => None,
        };
        // One service after the other: the tester address is active on one socket at a time
        // (Table 25, code 0x03), so each probe's connection is closed before the next opens.
        let tls = !self.tls_dead;
        for over_tls in [false, true] {
            let (service, probes) = match over_tls {
                false => (!self.tcp_dead, !self.tcp_dead),
                true => (tls, tls && self.tcp_dead),
            };
            if !service {
                continue;
            }
            let mut conn = self.open_activated(over_tls, ctrl).await?;
            if !probes {
                continue;
            }
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
            for address in self.settings.tester_present.clone() {
                self.tester_present(&mut conn, address, true).await?;
            }
            if let Some(address) = ecu {
                let asked = Instant::now();
                self.tester_present(&mut conn, address, true).await?;
                let took = asked.elapsed();
                self.ecu_due = Instant::now() + took * (ECU_PROBE_SHARE_DENOMINATOR - 1);
            }
        }
        if self.settings.identification {
            let (socket, ours) =
                self.udp_socket().await.map_err(|e| (Oracle::Identification, e))?;
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
            self.udp = Some((socket, ours));
            if !answered {
                return Err((
                    Oracle::Identification,
                    format!("no vehicle announcement within {ctrl:?}"),
                ));
            }
        }
        super::drive::run_monitor(self.settings.monitor.as_deref(), self.settings.command_bound)
            .await?;
        if self.held_ecu.is_none() && ecu.is_some() {
            self.next_ecu = self.next_ecu.wrapping_add(1);
        }
        Ok(start.elapsed())
    }

    /// Before the first case: TesterPresent to every ECU once, on one connection, each within
    /// P2 (not sent again): an ECU that does not answer now is not asked later, and said in
    /// `dropped` (an address nothing answers at, or a deviation; not a finding).
    pub(super) async fn ecu_baseline(&mut self, bound: Duration, dropped: &mut Vec<String>) {
        if self.settings.ecus.is_empty() {
            return;
        }
        // A failed activation is the oracle's to report (the baseline's next check).
        let Ok(mut conn) = self.open_activated(false, bound).await else { return };
        for address in self.settings.ecus.clone() {
            if let Err((oracle, why)) = self.tester_present(&mut conn, address, false).await {
                self.settings.ecus.retain(|a| *a != address);
                dropped.push(format!("{}: {why}", oracle.name()));
            }
        }
    }

    /// UDS TesterPresent (`3E 00`) to `address` on `conn`: `7E 00` within P2, or P2* after each
    /// NRC 0x78 (ISO 14229-2). With `patient` (every check but the baseline's):
    /// - a request unanswered within P2 is sent once more (a server busy with an earlier
    ///   case's request may lose ours), and so is one unanswered for P2 after its ACK (P2*
    ///   after an NRC 0x78: the ACK says it was forwarded, ISO 14229-2 P2client); a
    ///   negative answer is waited past (a late answer to an earlier case's TesterPresent with
    ///   other bytes: `3E 00` itself is always valid);
    /// - a gateway holds a request for an ECU until the ECU's earlier requests are done and
    ///   ACKs it once forwarded (ISO 13400-2:2019 §9.6), or NACKs 0x05 while its queue is
    ///   full: until it ACKs ours, silence and 0x05 are its queue's, waited for (and 0x05 sent
    ///   again after P2) up to [`ECU_QUEUE_WAIT`] P2* in all.
    ///
    /// Any other diagnostic NACK for that address (unknown or unreachable target, Table 30),
    /// or silence after an ACK once the sends are used up, fails.
    async fn tester_present(
        &self,
        conn: &mut FuzzConnection,
        address: u16,
        patient: bool,
    ) -> Result<(), (Oracle, String)> {
        let (p2, p2_star) = (self.settings.p2, self.settings.p2_star);
        let mut diag = self.settings.tester_address.to_be_bytes().to_vec();
        diag.extend(address.to_be_bytes());
        diag.extend([0x3E, 0x00]);
        let request = frame(self.settings.version, 0x8001, &diag);
        let fail = |what: String| Err((Oracle::TesterPresent(address), what));
        let send = async |conn: &mut FuzzConnection| {
            conn.write(&request).await.map_err(|e| (Oracle::TesterPresent(address), e))
        };
        send(conn).await?;
        let total = if patient { p2 + p2_star * ECU_QUEUE_WAIT } else { p2 };
        let deadline = Instant::now() + total;
        // P2, then P2* after each NRC 0x78, at most MAX_PENDING of them: the one UDS wait
        // (`proto::uds_wait`); on top of it the probe's patience with a gateway's queue.
        let times = UdsTimes { p2, p2_star, tolerance: Duration::ZERO };
        let mut wait = AnswerWait::start(times, Instant::now());
        let (mut sent, mut acked) = (1u32, false);
        // Sends again after silence; a full queue's NACK 0x05 is asked again apart from these.
        let mut resent_after_silence = 0u32;
        let mut negative: Option<String> = None;
        // The last sign of progress (our send, its ACK, an NRC 0x78): P2 / P2* run from it.
        let mut progress = Instant::now();
        // Only what answers this request counts: a diagnostic message from this address with
        // 7E or 7F 3E, or a diagnostic ACK or NACK from it. Anything else is a late answer to
        // an earlier case's request (the entity routes it to the socket of our tester address).
        let from_address =
            |b: &[u8]| b.get(HEADER_LEN..HEADER_LEN + 2) == Some(&address.to_be_bytes());
        let is_ack = |b: &[u8]| {
            payload_type_of(b) == Some(PayloadType::DiagnosticMessageAck) && from_address(b)
        };
        let is_nack = |b: &[u8]| {
            payload_type_of(b) == Some(PayloadType::DiagnosticMessageNack) && from_address(b)
        };
        let is_answer = |b: &[u8]| {
            (is_diag_response(b)
                && from_address(b)
                && b.len() >= HEADER_LEN + 5
                && (b[HEADER_LEN + 4] == 0x7E
                    || b.get(HEADER_LEN + 4..HEADER_LEN + 6) == Some(&[0x7F, 0x3E])))
                || is_nack(b)
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let silent = |sent: u32, acked: bool| {
                fail(format!(
                    "no answer 7E 00 to TesterPresent from 0x{address:04X} (sent {sent} time(s), {}{}) within {total:?}",
                    if acked { "acknowledged" } else { "never acknowledged" },
                    negative.as_ref().map_or(String::new(), |n| format!(", answered {n}")),
                ))
            };
            if left.is_zero() {
                return silent(sent, acked);
            }
            // The answer is due P2 (P2* after an NRC 0x78) after the request went, or after the
            // gateway's ACK said it was forwarded (ISO 14229-2 P2client; a gateway that still
            // queues ours has not started that clock). Short reads while we wait on: between
            // them our alive check requests keep the socket from T_TCP_General_Inactivity
            // (ISO 13400-2:2019 §9.4).
            let first = sent == 1 && wait.pending() == 0;
            let due_in = wait.window().within.saturating_sub(progress.elapsed());
            let window =
                if first || acked { due_in } else { p2_star }.min(self.settings.keep_alive);
            // The UDS answer, or the entity's NACK code.
            let mut answer: Option<Result<Vec<u8>, u8>> = None;
            // The read ends at the answer, or at the ACK that starts its P2.
            let was_acked = acked;
            let ends = |b: &[u8]| is_answer(b) || (!was_acked && is_ack(b));
            let end = conn
                .read_until(1, window.min(left), self.settings.tester_address, ends, |b| {
                    if is_ack(b) && !acked {
                        acked = true;
                        progress = Instant::now();
                    }
                    if is_nack(b) {
                        answer = Some(Err(b.get(HEADER_LEN + 4).copied().unwrap_or(0)));
                    } else if is_answer(b) {
                        answer = Some(Ok(b[HEADER_LEN + 4..].to_vec()));
                    }
                })
                .await;
            let again = patient && resent_after_silence < MAX_RESENDS_AFTER_SILENCE;
            let overdue = progress.elapsed() >= wait.window().within;
            match (end, answer.as_ref().map(|a| a.as_deref())) {
                (ReadEnd::Barrier, Some(Ok([0x7E, 0x00, ..]))) => return Ok(()),
                // Our request's ACK: its answer is waited for from it.
                (ReadEnd::Barrier, None) => {}
                (ReadEnd::Barrier, Some(Ok(uds))) if is_response_pending(uds) => {
                    if wait.on_answer(Instant::now(), uds) == Answered::TooManyPending {
                        return fail(format!(
                            "TesterPresent to 0x{address:04X} answered NRC 0x78 (response pending) more than {MAX_PENDING} times"
                        ));
                    }
                    progress = wait.since();
                }
                // A full queue is the gateway's state, not a refusal of this address: asked
                // again every P2 until it takes ours, bounded by the deadline, and not counted
                // among the sends after silence (under a loaded campaign the queue may stay
                // full for more than 8 P2; counted, they left none for a request the ECU then
                // lost: a false finding of a 10-minute campaign against the congested ECU).
                (ReadEnd::Barrier, Some(Err(0x05))) if patient && !acked => {
                    negative = Some("diagnostic NACK 0x05 (queue full)".into());
                    tokio::time::sleep(p2.min(left)).await;
                    sent += 1;
                    send(conn).await?;
                    progress = Instant::now();
                    wait = AnswerWait::start(times, progress);
                }
                (ReadEnd::Barrier, Some(Err(code))) => {
                    return fail(format!(
                        "TesterPresent to 0x{address:04X} was refused with diagnostic NACK 0x{code:02X}"
                    ));
                }
                // `3E 00` itself is always valid: a negative answer is a late one to an earlier
                // case's TesterPresent with other bytes (UDS answers carry no request id, a
                // gateway hands the ECU's answer to its latest request's tester). Remembered,
                // and waited on.
                (ReadEnd::Barrier, Some(Ok(other))) if patient => {
                    negative = Some(crate::notation::hex_spaced(other));
                }
                (ReadEnd::Barrier, Some(Ok(other))) => {
                    return fail(format!(
                        "TesterPresent to 0x{address:04X} answered {}",
                        crate::notation::hex_spaced(other)
                    ));
                }
                (ReadEnd::Silent, _) if !patient => return silent(sent, acked),
                (ReadEnd::Silent, _) if first && again => {
                    sent += 1;
                    resent_after_silence += 1;
                    send(conn).await?;
                    progress = Instant::now();
                    wait = AnswerWait::start(times, progress);
                }
                // Acknowledged (forwarded), then P2 (P2* after an NRC 0x78) of silence: the ECU
                // may have been busy with an earlier case's request and dropped ours; asked
                // again while the deadline allows. Waiting P2* here instead held every check
                // seconds behind an ECU that answers late (the simulator's congested ECU).
                (ReadEnd::Silent, _) if acked && overdue && again => {
                    sent += 1;
                    resent_after_silence += 1;
                    acked = false;
                    send(conn).await?;
                    progress = Instant::now();
                    wait = AnswerWait::start(times, progress);
                }
                (ReadEnd::Silent, _) if acked && overdue => {
                    return silent(sent, acked);
                }
                // Still queued at the gateway, or within P2*: wait on, up to the deadline.
                (ReadEnd::Silent, _) => {
                    conn.write(&frame(self.settings.version, 0x0007, &[]))
                        .await
                        .map_err(|e| (Oracle::TesterPresent(address), e))?;
                }
                _ => {
                    return fail(format!(
                        "the entity closed the connection during TesterPresent to 0x{address:04X}"
                    ));
                }
            }
        }
    }
}

/// The ECUs' TesterPresent probes take at most one part in this of the campaign's time: after
/// a probe that took `d`, the next ECU is asked `d * (this - 1)` later (checks between ask the
/// entity only). The rate stays that of a campaign without ECU probes within this share.
const ECU_PROBE_SHARE_DENOMINATOR: u32 = 10;

/// How many P2* a TesterPresent waits at most for a gateway to forward it past an ECU's
/// earlier requests (the simulator's gateway queues 8; a segmented one to a slow ECU takes
/// N_Bs, 1 s by default).
const ECU_QUEUE_WAIT: u32 = 3;

/// TesterPresent sent again at most this often in one probe after silence (unacknowledged
/// after P2, or acknowledged and unanswered): 8 sends when nothing else comes back. A full
/// queue's NACK 0x05 is asked again every P2 up to the probe's deadline, apart from these.
const MAX_RESENDS_AFTER_SILENCE: u32 = 7;

#[cfg(test)]
mod tests {
    use super::super::drive::Restore;
    use super::super::from_profile::{doip_grammar, live_settings};
    use super::super::model::doip::DoipGenerator;
    use super::*;
    use crate::codec::doip::{Deframed, Deframer};
    use crate::suite::profile::Profile;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What the scripted gateway does with one TesterPresent request to the ECU 0x0011.
    #[derive(Clone, Copy)]
    enum Reply {
        /// Nothing (held in a queue, never forwarded).
        Drop,
        /// Diagnostic NACK 0x05: its queue is full.
        QueueFull,
        /// ACK (forwarded), and the ECU loses it: no answer.
        AckOnly,
        /// ACK and `7E 00`.
        Answer,
    }

    /// A scripted gateway on loopback: activates routing, answers alive checks, and treats the
    /// n-th TesterPresent to the ECU 0x0011 as `script[n]` says (`Answer` past its end).
    /// Returns its address and how many TesterPresent requests it got.
    async fn scripted_gateway(
        script: Vec<Reply>,
    ) -> (std::net::SocketAddr, tokio::task::JoinHandle<usize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let (mut asked, mut buf) = (0usize, Vec::new());
            let mut deframer = Deframer::new(4096);
            let mut chunk = [0u8; 512];
            while let Ok(n) = s.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Deframed::Message { len, .. } = deframer.next(&buf) {
                    let msg: Vec<u8> = buf.drain(..len).collect();
                    let ack = frame(2, 0x8002, &[0x00, 0x11, 0x0E, 0x80, 0x00]);
                    let reply = match payload_type_of(&msg) {
                        Some(PayloadType::RoutingActivationRequest) => {
                            vec![frame(2, 0x0006, &[0x0E, 0x80, 0x00, 0x10, 0x10, 0, 0, 0, 0])]
                        }
                        Some(PayloadType::AliveCheckRequest) => {
                            vec![frame(2, 0x0008, &[0x0E, 0x80])]
                        }
                        Some(PayloadType::DiagnosticMessage) => {
                            asked += 1;
                            match script.get(asked - 1).copied().unwrap_or(Reply::Answer) {
                                Reply::Drop => vec![],
                                Reply::QueueFull => {
                                    vec![frame(2, 0x8003, &[0x00, 0x11, 0x0E, 0x80, 0x05])]
                                }
                                Reply::AckOnly => vec![ack],
                                Reply::Answer => vec![
                                    ack,
                                    frame(2, 0x8001, &[0x00, 0x11, 0x0E, 0x80, 0x7E, 0x00]),
                                ],
                            }
                        }
                        _ => vec![],
                    };
                    for r in reply {
                        s.write_all(&r).await.expect("reply");
                    }
                }
            }
            asked
        });
        (addr, task)
    }

    /// TesterPresent to 0x0011 through `script`, with the shipped P2 (50 ms) and P2* (5 s):
    /// whether it was answered, how long it took, how many requests the gateway got.
    async fn probe(script: Vec<Reply>) -> (bool, Duration, usize) {
        let p = Profile::from_yaml_str(
            "tester_address: 0x0E80\nentity_address: 0x0010\nuds:\n  p2: 50ms\n  p2_star: 5s\n\
             capabilities: [doip.tcp, uds]\n",
        )
        .map_err(|d| format!("{:?}", d.list))
        .expect("profile");
        let (addr, gateway) = scripted_gateway(script).await;
        let g = doip_grammar(p.target());
        let settings = live_settings(p.target(), &g, addr, addr, 64, None);
        assert_eq!(settings.p2_star, Duration::from_millis(5000) + p.target().timers.tolerance);
        let fuzzer = LiveFuzzer::new(settings, DoipGenerator::new(g, 0), Restore::Reconnect);
        let mut conn =
            fuzzer.open_activated(false, Duration::from_secs(2)).await.expect("activated");
        let start = Instant::now();
        let answered = fuzzer.tester_present(&mut conn, 0x0011, true).await.is_ok();
        let took = start.elapsed();
        drop(conn);
        (answered, took, gateway.await.expect("gateway"))
    }

    /// An ACK says the gateway forwarded the request: its answer is due within P2 from then
    /// (P2* only after an NRC 0x78, ISO 14229-2). Silence past P2 after the ACK asks again
    /// at once; waiting P2* (5 s here) held every liveness check behind a late ECU.
    #[tokio::test(flavor = "current_thread")]
    async fn an_acknowledged_tester_present_unanswered_within_p2_is_asked_again_not_after_p2_star()
    {
        // Held in the queue, then forwarded and lost, then answered.
        let (answered, took, asked) = probe(vec![Reply::Drop, Reply::AckOnly]).await;
        assert!(answered);
        assert_eq!(asked, 3, "asked three times");
        // Twice P2 (50 ms + tolerance) and the round trips; far from P2* (5 s).
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    /// A gateway whose queue stays full for longer than the sends after silence allow, then
    /// forwards ours and loses it: the NACK 0x05 sends do not use up those the lost request
    /// needs (counted together, the probe gave up: a false finding of a 10-minute campaign).
    #[tokio::test(flavor = "current_thread")]
    async fn a_full_queue_does_not_use_up_the_sends_a_lost_request_needs() {
        let mut script = vec![Reply::QueueFull; MAX_RESENDS_AFTER_SILENCE as usize + 2];
        script.push(Reply::AckOnly);
        let (answered, took, asked) = probe(script).await;
        assert!(answered, "took {took:?}");
        assert_eq!(asked, MAX_RESENDS_AFTER_SILENCE as usize + 4);
    }
}
