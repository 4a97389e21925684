//! The live DoIP fuzzer: drives a target case by case over real sockets, feeds every message
//! both ways (TCP per connection, UDP) to the judge ([`crate::judge`], docs/rules.md) so that
//! a reply that breaks a rule is a finding named by the rule's id, runs the liveness oracle between
//! batches and after every anomaly, and on a failed oracle restores the target and narrows
//! the cases since the last healthy check, through the loop of [`super::drive`].
//!
//! The hot loop keeps one activated connection and reuses it while cases end on a message
//! boundary. After each case a barrier, an alive check request, is answered only once the
//! entity has read everything before it (ISO 13400-2:2019 §9.6: an entity answers an alive
//! check request on any TCP_DATA socket), so replies are attributed to the case that caused
//! them without waiting for a timer. Every read is bounded in bytes, messages and time.

use super::conn::{
    FuzzConnection, Judged, MAX_REPLIES_PER_CASE, ReadEnd, drip, is_alive_response,
    is_diag_response,
};
use super::drive::{CaseOutcome, LiveCase, LiveTarget, Restore};
use super::model::doip::{DoipGenerator, frame};
use super::model::repro::Oracle;
use super::model::{Action, FuzzCase, StartState, stream_fate};
use super::reply_rules::violation_in;
use crate::codec::doip::{Deframed, Deframer, HEADER_LEN};
use crate::codec::doip::{PayloadType, payload_type_of};
use crate::notation::hex_spaced;
use crate::pcap::Side;
use crate::transport::doip::tester::tls;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout};

/// The timers and facts the fuzzer runs with (from the profile).
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// TCP data port and UDP discovery port of the target.
    pub tcp: SocketAddr,
    /// UDP discovery port.
    pub udp: SocketAddr,
    /// The TLS data port (ISO 13400-2:2019 §9.1.1), when the profile has `doip.tls` and the
    /// target serves it: the grammar's share of the TCP cases goes there, and the liveness
    /// oracle probes it as a service of its own.
    pub tls: Option<SocketAddr>,
    /// Protocol version, tester address, activation type and entity address.
    pub version: u8,
    /// Our source address.
    pub tester_address: u16,
    /// The activation type the state setup uses.
    pub activation_type: u8,
    /// The entity's MDS (for the stream prediction).
    pub max_data_size: u32,
    /// A_DoIP_Ctrl (+ tolerance): the bound of every answer the oracle waits for.
    pub ctrl: Duration,
    /// UDS P2 (+ tolerance): the bound of the first answer to TesterPresent.
    pub p2: Duration,
    /// UDS P2* (+ tolerance): the bound after NRC 0x78 or a repeated request.
    pub p2_star: Duration,
    /// Liveness probes: alive check (`doip.alive_check`), UDP identification (`doip.udp`),
    /// tester present to these addresses (`uds`).
    pub alive_check: bool,
    /// UDP identification probe.
    pub identification: bool,
    /// The entity answers entity status requests (`doip.entity_status`): the UDP barrier.
    pub entity_status: bool,
    /// TesterPresent targets asked in every check (the entity's own UDS server).
    pub tester_present: Vec<u16>,
    /// The ECUs the profile names: one of them asked per check, in turn, so that a check stays
    /// bounded however many there are and every one is asked over consecutive checks.
    pub ecus: Vec<u16>,
    /// The barrier after each case is an alive check request (ISO 13400-2:2019 §9.6); for an
    /// entity that does not answer one (its baseline dropped the probe), the replies of `p2`
    /// after the case are taken instead.
    pub alive_check_barrier: bool,
    /// How often a probe that waits long on one connection sends something (half of
    /// T_TCP_General_Inactivity: the entity would close a socket idle that long).
    pub keep_alive: Duration,
    /// Cases between liveness checks.
    pub batch: u64,
    /// `--monitor`: a command whose failure is a finding.
    pub monitor: Option<String>,
    /// Bound of one `--monitor` or restore command.
    pub command_bound: Duration,
}

/// The live fuzzer's state.
pub struct LiveFuzzer {
    pub(super) settings: LiveSettings,
    generator: DoipGenerator,
    restore: Restore,
    pub(super) activated: Option<FuzzConnection>,
    /// The UDP socket and its local address (asked of the kernel once, when bound).
    pub(super) udp: Option<(UdpSocket, SocketAddr)>,
    /// The buffer UDP replies are read into (kept: a UDP case allocates nothing).
    udp_buf: Vec<u8>,
    /// The entity status request each UDP case ends with (Table 17), as bytes.
    entity_status_request: Vec<u8>,
    /// The first half of a diagnostic message (the mid-message state).
    mid_prefix: Vec<u8>,
    /// The alive check request sent after each case as its barrier (ISO 13400-2:2019 §9.6).
    barrier: Vec<u8>,
    /// The bytes a case sends on its main connection, prefix included (kept between cases).
    stream: Vec<u8>,
    /// The UDP service stayed dead after a restore: its cases are not sent any more.
    udp_dead: bool,
    /// The UDP cases' datagrams into the judge.
    udp_judged: Judged,
    /// The TCP service stayed dead after a restore (the UDP or TLS service still answers):
    /// its probes and cases are left out.
    pub(super) tcp_dead: bool,
    /// The tester's TLS client configuration, made once (its session cache resumes the
    /// sessions of later connections), when `settings.tls` is set.
    pub(super) tls_config: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// The TLS service failed its probe before the first case, or stayed dead after a
    /// restore: its probe and its cases are left out.
    pub(super) tls_dead: bool,
    /// The ECU (index in `settings.ecus`) the next liveness check asks.
    pub(super) next_ecu: usize,
    /// The ECU every check asks until released ([`LiveTarget::hold`]).
    pub(super) held_ecu: Option<u16>,
    /// When the next check may ask an ECU (their probes keep to a share of the time).
    pub(super) ecu_due: Instant,
    /// Connections opened ([`LiveTarget::connections_opened`]).
    opened: std::cell::Cell<u64>,
}

impl LiveFuzzer {
    /// A fuzzer of `settings`' target with `generator`'s cases.
    pub fn new(settings: LiveSettings, generator: DoipGenerator, restore: Restore) -> LiveFuzzer {
        let g = generator.grammar();
        let mut diag = g.tester_address.to_be_bytes().to_vec();
        diag.extend(g.entity_address.to_be_bytes());
        diag.extend([0x22, 0xF1, 0x90]);
        let whole = frame(settings.version, 0x8001, &diag);
        let mid_prefix = whole[..HEADER_LEN + 2].to_vec();
        // Without a configuration there is nothing to connect with: the TLS service is left
        // out as if it were dead (said by the baseline's probe).
        let tls_config = settings.tls.and_then(|_| tls::client_config(None).ok());
        let barrier = frame(settings.version, 0x0007, &[]);
        let entity_status_request = frame(settings.version, 0x4001, &[]);
        LiveFuzzer {
            tls_dead: settings.tls.is_none() || tls_config.is_none(),
            tls_config,
            settings,
            generator,
            restore,
            activated: None,
            udp: None,
            udp_buf: vec![0u8; UDP_READ],
            entity_status_request,
            mid_prefix,
            barrier,
            stream: Vec::new(),
            udp_dead: false,
            udp_judged: Judged::new(),
            tcp_dead: false,
            next_ecu: 0,
            held_ecu: None,
            ecu_due: Instant::now(),
            opened: std::cell::Cell::new(0),
        }
    }

    /// The bytes of the mid-message state (for the repro).
    pub fn mid_prefix(&self) -> &[u8] {
        &self.mid_prefix
    }

    /// Reaches the case's start state, sends it, reads and checks what comes back.
    async fn run_doip_case(&mut self, case: &FuzzCase) -> CaseOutcome {
        if case.state == StartState::Udp {
            return self.run_udp_case(case).await;
        }
        let mut conn = match self.reach(case.state, case.tls).await {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
        let prefix: &[u8] =
            if case.state == StartState::MidMessage { &self.mid_prefix } else { &[] };
        // The prefix, the case's messages and its barrier go out in as few writes as the case
        // allows (a drip, a second socket or our FIN flush what is queued first).
        if !prefix.is_empty() {
            conn.queue(prefix);
        }
        let mut second: Option<FuzzConnection> = None;
        let mut write_failed = None;
        for action in &case.actions {
            let sent = match action {
                Action::Send(bytes) => {
                    conn.queue(bytes);
                    Ok(())
                }
                Action::Drip { bytes, chunks } => drip(&mut conn, bytes, chunks).await,
                Action::SecondSocket(bytes) => {
                    if let Err(e) = conn.flush().await {
                        write_failed = Some(e);
                        break;
                    }
                    match self.open(case.tls, self.settings.ctrl).await {
                        Ok(mut c) => {
                            let r = c.write(bytes).await;
                            second = Some(c);
                            r
                        }
                        Err(e) => return CaseOutcome::Anomaly(e.0, e.1),
                    }
                }
                Action::Close => conn.finish_sending().await,
                Action::Udp(_) => Ok(()),
            };
            if let Err(e) = sent {
                // The entity closed while we were sending: what it said before decides.
                write_failed = Some(e);
                break;
            }
        }
        // The main connection's bytes, in a buffer kept between cases.
        let mut stream = std::mem::take(&mut self.stream);
        stream.clear();
        stream.extend_from_slice(prefix);
        case.append_main_stream(&mut stream);
        let fate = stream_fate(&[], &stream, self.settings.max_data_size);
        let barrier_due = fate.on_boundary && !case.closes() && write_failed.is_none();
        let alive_barrier = barrier_due && self.settings.alive_check_barrier;
        // Our barrier, and each valid alive check request of the case, is answered.
        let alive_answers = if alive_barrier { 1 + alive_requests_in(&stream) } else { 0 };
        self.stream = stream;
        if alive_barrier {
            conn.queue(&self.barrier);
        }
        if write_failed.is_none()
            && let Err(e) = conn.flush().await
        {
            // The entity closed while we were sending: what it said before decides.
            write_failed = Some(e);
        }
        // Whether a reply announced the close (a NACK or denial that closes, Tables 19 and
        // 25): a close without one is an anomaly for the liveness oracle; the rules on the
        // socket's fate are the judge's.
        let mut close_announced = false;
        let mut note = |bytes: &[u8]| close_announced |= announces_close(bytes);
        let barrier_ok = barrier_due && write_failed.is_none();
        let quiet_barrier = barrier_ok && !self.settings.alive_check_barrier;
        let end = if quiet_barrier {
            // No alive check answered: what arrives within P2 is this case's (a reply later
            // than that may be counted with the next case).
            match conn
                .read_until(
                    usize::MAX,
                    self.settings.p2,
                    self.settings.tester_address,
                    |_| false,
                    &mut note,
                )
                .await
            {
                ReadEnd::Silent => ReadEnd::Barrier,
                other => other,
            }
        } else if barrier_ok {
            // The barrier went out with the case (queued above).
            conn.read_until(
                alive_answers,
                self.settings.ctrl,
                self.settings.tester_address,
                is_alive_response,
                &mut note,
            )
            .await
        } else if fate.closes {
            // The entity must close after its NACK: wait for it (bounded).
            conn.read_until(
                usize::MAX,
                self.settings.ctrl,
                self.settings.tester_address,
                |_| false,
                &mut note,
            )
            .await
        } else {
            // Half a message is pending or we closed: take what has arrived, then drop the
            // connection (waiting for a timer here would cost a millisecond per case).
            conn.take_ready(&mut note).await;
            ReadEnd::Closed
        };
        // The judge's findings of the case: on the kept connection so far, else once we
        // closed it (the socket's fate after a NACK is judged by who closed when).
        let keep = matches!(end, ReadEnd::Barrier) && case.state.activated();
        let mut findings = if keep {
            let found = conn.take_findings();
            self.activated = Some(conn);
            found
        } else {
            conn.close().await
        };
        if let Some(mut c) = second {
            // The second socket's replies are judged on their own connection.
            c.take_ready(|_| {}).await;
            findings.extend(c.close().await);
        }
        if let Some(v) = violation_in(&findings) {
            return CaseOutcome::ReplyViolation(v);
        }
        match end {
            ReadEnd::Barrier => CaseOutcome::Clean,
            // After our own FIN, what the entity does with the rest is not governed (an
            // entity may close at once and drop what it had still to send).
            ReadEnd::Closed if case.closes() => CaseOutcome::Clean,
            ReadEnd::Closed if barrier_ok && !close_announced => CaseOutcome::Anomaly(
                activation_oracle(case.tls),
                "the entity closed the connection without a NACK or response that closes it".into(),
            ),
            ReadEnd::Closed => CaseOutcome::Clean,
            // It kept the socket after a NACK that closes it: the judge said so above.
            ReadEnd::Silent if fate.closes && close_announced => CaseOutcome::Clean,
            ReadEnd::Silent => CaseOutcome::Anomaly(
                Oracle::AliveCheck,
                format!(
                    "no answer to an alive check request within {:?} after the case",
                    self.settings.ctrl
                ),
            ),
            ReadEnd::Flood => CaseOutcome::Anomaly(
                Oracle::Flood,
                format!("more than {MAX_REPLIES_PER_CASE} messages in answer to one case"),
            ),
        }
    }

    /// A fresh connection to the TCP data port, or with `tls` to the TLS data port; `Err`
    /// names the service's activation oracle when nobody accepted it.
    pub(super) async fn open(
        &self,
        tls: bool,
        bound: Duration,
    ) -> Result<FuzzConnection, (Oracle, String)> {
        let (addr, config) = match (tls, self.settings.tls, &self.tls_config) {
            (false, ..) => (self.settings.tcp, None),
            (true, Some(addr), Some(config)) => (addr, Some(config)),
            (true, ..) => {
                return Err((Oracle::TlsActivation, "the target has no TLS data port".into()));
            }
        };
        self.opened.set(self.opened.get() + 1);
        FuzzConnection::open(addr, config, bound).await.map_err(|e| (activation_oracle(tls), e))
    }

    /// A connection in `state` (over TLS with `tls`): a fresh one for `Connected`, else the
    /// kept activated one (opened and activated when there is none, or when the kept one is
    /// of the other transport), switched to the session the state needs.
    async fn reach(&mut self, state: StartState, tls: bool) -> Result<FuzzConnection, CaseOutcome> {
        if state == StartState::Connected {
            return self
                .open(tls, self.settings.ctrl)
                .await
                .map_err(|(o, e)| CaseOutcome::Anomaly(o, e));
        }
        // The tester address is active on one socket at a time (ISO 13400-2:2019 Table 25,
        // code 0x03): the kept connection of the other transport is closed first.
        let kept = self.activated.take().filter(|c| c.tls == tls);
        let mut conn = match kept {
            Some(c) => c,
            None => self
                .open_activated(tls, self.settings.ctrl)
                .await
                .map_err(|(o, e)| CaseOutcome::Anomaly(o, e))?,
        };
        let want_extended = state == StartState::ExtendedSession;
        if conn.extended != want_extended {
            let session = if want_extended { 0x03 } else { 0x01 };
            let mut diag = self.settings.tester_address.to_be_bytes().to_vec();
            diag.extend(self.generator.grammar().entity_address.to_be_bytes());
            diag.extend([0x10, session]);
            let bound = self.settings.p2_star;
            let ok = conn.write(&frame(self.settings.version, 0x8001, &diag)).await.is_ok()
                && matches!(
                    conn.read_until(
                        1,
                        bound,
                        self.settings.tester_address,
                        is_diag_response,
                        |_| {}
                    )
                    .await,
                    ReadEnd::Barrier
                );
            if !ok {
                return Err(CaseOutcome::Anomaly(
                    Oracle::TesterPresent(self.generator.grammar().entity_address),
                    format!(
                        "no answer to DiagnosticSessionControl 0x{session:02X} within {bound:?}"
                    ),
                ));
            }
            conn.extended = want_extended;
        }
        Ok(conn)
    }

    async fn run_udp_case(&mut self, case: &FuzzCase) -> CaseOutcome {
        let (socket, ours) = match self.udp_socket().await {
            Ok(s) => s,
            Err(e) => return CaseOutcome::Anomaly(Oracle::Identification, e),
        };
        let version = self.settings.version;
        let entity = self.settings.udp;
        let judged = &mut self.udp_judged;
        let mut expected = 0usize;
        for action in &case.actions {
            if let Action::Udp(bytes) = action {
                let _ = socket.send_to(bytes, entity).await;
                judged.feed.udp(ours, entity, Side::Tester, bytes, judged.time(Instant::now()));
                expected += usize::from(is_entity_status_request(bytes, version));
            }
        }
        // The barrier: an entity status request, answered once the entity has read what came
        // before it (each valid one in the case is answered too). Without entity status, a
        // short window; a datagram late for it is read (and judged) by the next UDP case.
        let bound = if self.settings.entity_status {
            let status = &self.entity_status_request;
            let _ = socket.send_to(status, entity).await;
            judged.feed.udp(ours, entity, Side::Tester, status, judged.time(Instant::now()));
            expected += 1;
            self.settings.ctrl
        } else {
            Duration::from_millis(2)
        };
        let buf = &mut self.udp_buf;
        let deadline = Instant::now() + bound;
        let (mut count, mut answers) = (0usize, 0usize);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, socket.recv_from(buf)).await {
                Ok(Ok((n, _))) => {
                    count += 1;
                    let at = judged.time(Instant::now());
                    judged.feed.udp(ours, entity, Side::Entity, &buf[..n], at);
                    let findings = judged.feed.take_findings();
                    if let Some(v) = violation_in(&findings) {
                        return CaseOutcome::ReplyViolation(v);
                    }
                    if payload_type_of(&buf[..n]) == Some(PayloadType::EntityStatusResponse) {
                        answers += 1;
                        if answers >= expected {
                            break;
                        }
                    }
                    if count > MAX_REPLIES_PER_CASE {
                        return CaseOutcome::Anomaly(Oracle::Flood, "UDP flood".into());
                    }
                }
                _ if self.settings.entity_status => {
                    return CaseOutcome::Anomaly(
                        Oracle::Identification,
                        format!("no entity status response within {bound:?} after a UDP case"),
                    );
                }
                _ => break,
            }
        }
        self.udp = Some((socket, ours));
        CaseOutcome::Clean
    }

    /// The kept UDP socket and its local address, or a new one.
    pub(super) async fn udp_socket(&mut self) -> Result<(UdpSocket, SocketAddr), String> {
        if let Some(kept) = self.udp.take() {
            return Ok(kept);
        }
        // Loopback for a loopback target (its answers never leave the host), else any.
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        let ip: IpAddr = match (self.settings.udp.ip().is_loopback(), self.settings.udp.is_ipv4()) {
            (true, true) => Ipv4Addr::LOCALHOST.into(),
            (true, false) => Ipv6Addr::LOCALHOST.into(),
            (false, true) => Ipv4Addr::UNSPECIFIED.into(),
            (false, false) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let local = SocketAddr::new(ip, 0);
        let socket =
            UdpSocket::bind(local).await.map_err(|e| format!("cannot bind a UDP socket: {e}"))?;
        let ours = socket.local_addr().unwrap_or(local);
        Ok((socket, ours))
    }
}

impl LiveTarget for LiveFuzzer {
    type Case = FuzzCase;

    fn case(&self, index: u64) -> FuzzCase {
        self.generator.case(index)
    }

    fn batch(&self) -> u64 {
        self.settings.batch
    }

    fn liveness_bound(&self) -> Duration {
        self.settings.ctrl
    }

    async fn run_case(&mut self, case: &FuzzCase) -> CaseOutcome {
        self.run_doip_case(case).await
    }

    /// Drops each probe the entity fails before the first case: the alive check (then the
    /// barrier after each case is a quiet P2), TesterPresent to an address, the vehicle
    /// identification. A failed routing activation or `--monitor` leaves nothing to fuzz.
    async fn baseline(&mut self, bound: Duration) -> Result<Vec<String>, (Oracle, String)> {
        let mut dropped = Vec::new();
        // The barrier after every case is an alive check request: it is probed here whatever
        // the profile declares, and kept as a probe only where the profile declares it.
        let declared = self.settings.alive_check;
        self.settings.alive_check = true;
        self.ecu_baseline(bound, &mut dropped).await;
        let probes = 3 + self.settings.tester_present.len() + self.settings.ecus.len();
        for _ in 0..=probes {
            let (oracle, why) = match self.check_liveness(bound).await {
                Ok(_) => {
                    self.settings.alive_check &= declared;
                    return Ok(dropped);
                }
                Err(failure) => failure,
            };
            let s = &mut self.settings;
            match oracle {
                Oracle::AliveCheck if s.alive_check => {
                    s.alive_check = false;
                    s.alive_check_barrier = false;
                }
                Oracle::TesterPresent(address)
                    if s.tester_present.contains(&address) || s.ecus.contains(&address) =>
                {
                    s.tester_present.retain(|a| *a != address);
                    s.ecus.retain(|a| *a != address);
                }
                Oracle::Identification if s.identification => s.identification = false,
                // A TLS service that fails before the first case is left out, its cases too
                // (counted as cases to a service left out).
                Oracle::TlsActivation if !self.tls_dead => self.tls_dead = true,
                _ => return Err((oracle, why)),
            }
            dropped.push(format!("{}: {why}", oracle.name()));
        }
        self.settings.alive_check &= declared;
        self.check_liveness(bound).await.map(|_| dropped)
    }

    async fn liveness(&mut self, bound: Duration) -> Result<Duration, (Oracle, String)> {
        self.check_liveness(bound).await
    }

    /// The simulator's power cycle, the profile's command, or a reconnect; our connections
    /// start over in every case.
    async fn restore(&mut self) -> Result<(), String> {
        self.forget();
        self.udp = None;
        self.restore.apply(self.settings.command_bound).await
    }

    /// The UDP service (its identification probe and its cases), the TCP service (its probes
    /// and cases), the TLS service (its probe and cases) and TesterPresent to one address
    /// (the entity's or an ECU's) can be left out, each while another service still answers
    /// (with none left there is nothing to fuzz). With the TCP service left out, the probes
    /// that need an activated socket go over TLS.
    fn skip_dead(&mut self, oracle: &Oracle) -> Option<String> {
        let tls_alive = !self.tls_dead;
        let s = &mut self.settings;
        match *oracle {
            Oracle::Identification if s.identification && (!self.tcp_dead || tls_alive) => {
                s.identification = false;
                self.udp_dead = true;
                Some("the UDP service (its probe and its cases)".into())
            }
            Oracle::Activation if (s.identification || tls_alive) && !self.tcp_dead => {
                self.tcp_dead = true;
                self.activated = None;
                Some("the TCP service (its probes and its cases)".into())
            }
            Oracle::TlsActivation if tls_alive && (s.identification || !self.tcp_dead) => {
                self.tls_dead = true;
                self.activated = None;
                Some("the TLS service (its probe and its cases)".into())
            }
            Oracle::TesterPresent(address) if s.tester_present.contains(&address) => {
                s.tester_present.retain(|a| *a != address);
                Some(format!("TesterPresent to the entity 0x{address:04X}"))
            }
            Oracle::TesterPresent(address) if s.ecus.contains(&address) => {
                s.ecus.retain(|a| *a != address);
                Some(format!("TesterPresent to the ECU 0x{address:04X}"))
            }
            _ => None,
        }
    }

    fn skips(&self, case: &FuzzCase) -> bool {
        match case.transport() {
            "udp" => self.udp_dead,
            "tls" => self.tls_dead,
            _ => self.tcp_dead,
        }
    }

    fn hold(&mut self, oracle: Option<&Oracle>) {
        self.held_ecu = match oracle {
            Some(Oracle::TesterPresent(address)) => Some(*address),
            _ => None,
        };
    }

    fn forget(&mut self) {
        self.activated = None;
    }

    fn connections_opened(&self) -> u64 {
        self.opened.get()
    }
}

impl LiveCase for FuzzCase {
    fn index(&self) -> u64 {
        self.index
    }

    fn state_name(&self) -> &'static str {
        self.state.name()
    }

    fn bucket(&self) -> &'static str {
        type_bucket(self.payload_type)
    }

    fn mutation(&self) -> &'static str {
        self.mutation
    }

    fn transport(&self) -> &'static str {
        FuzzCase::transport(self)
    }

    fn shape(&self) -> String {
        format!("0x{:04X}/{}", self.payload_type, self.mutation)
    }

    fn message_count(&self) -> usize {
        FuzzCase::message_count(self)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "index": self.index,
            "state": self.state.name(),
            "transport": FuzzCase::transport(self),
            "mutation": self.mutation,
            "payload_type": format!("0x{:04X}", self.payload_type),
            "messages": FuzzCase::message_count(self),
            "actions": self.actions.iter().map(action_text).collect::<Vec<_>>(),
        })
    }
}

fn action_text(a: &Action) -> String {
    match a {
        Action::Send(b) => format!("send {}", hex_spaced(b)),
        Action::Drip { bytes, chunks } => format!("drip {:?} {}", chunks, hex_spaced(bytes)),
        Action::SecondSocket(b) => format!("second socket {}", hex_spaced(b)),
        Action::Close => "close".into(),
        Action::Udp(b) => format!("udp {}", hex_spaced(b)),
    }
}

/// The oracle of a failed connection or activation: the TCP or the TLS service's.
pub(super) fn activation_oracle(tls: bool) -> Oracle {
    if tls { Oracle::TlsActivation } else { Oracle::Activation }
}

/// Bytes of one datagram a UDP case reads (a longer one is cut to this).
const UDP_READ: usize = 4096;

/// Valid alive check requests in the stream (each is answered like our barrier).
fn alive_requests_in(stream: &[u8]) -> usize {
    let mut deframer = Deframer::new(u32::MAX);
    let (mut at, mut count) = (0, 0);
    while at < stream.len() {
        match deframer.next(&stream[at..]) {
            Deframed::Message { len, message } => {
                if matches!(message.payload, crate::codec::doip::Payload::AliveCheckRequest)
                    && crate::codec::doip::Message::parse(&stream[at..at + len]).is_ok()
                {
                    count += 1;
                }
                at += len;
            }
            Deframed::Skipped { len } => at += len,
            _ => break,
        }
    }
    count
}

/// A request the entity answers with an entity status response (Table 17: no payload, the
/// entity's version).
fn is_entity_status_request(bytes: &[u8], version: u8) -> bool {
    bytes.len() == HEADER_LEN
        && bytes[0] == version
        && bytes[1] == !version
        && bytes[2..8] == [0x40, 0x01, 0, 0, 0, 0]
}

/// The coverage bucket of a payload type: its number, or `reserved` for every unnamed one.
/// The numbers are written once per process, so that counting a case allocates nothing.
pub(super) fn type_bucket(payload_type: u16) -> &'static str {
    static NAMED: std::sync::OnceLock<std::collections::HashMap<u16, String>> =
        std::sync::OnceLock::new();
    let named = NAMED.get_or_init(|| {
        (0..=u16::MAX)
            .filter(|t| PayloadType::from(*t).is_named())
            .map(|t| (t, format!("0x{t:04X}")))
            .collect()
    });
    named.get(&payload_type).map_or("reserved", String::as_str)
}

/// Whether the entity's message says it closes the socket: a generic NACK 0x00 or 0x04
/// (Table 19), a routing activation denial that closes (Table 25).
fn announces_close(bytes: &[u8]) -> bool {
    match crate::codec::doip::Message::parse(bytes).map(|m| m.payload) {
        Ok(crate::codec::doip::Payload::GenericNack(n)) => n.nack_code.closes_tcp_socket(),
        Ok(crate::codec::doip::Payload::RoutingActivationResponse(r)) => {
            r.response_code.closes_socket() == Some(true)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::type_bucket;

    #[test]
    fn a_payload_types_bucket_is_its_number_or_reserved_and_is_made_once() {
        assert_eq!(type_bucket(0x8001), "0x8001");
        assert_eq!(type_bucket(0x0005), "0x0005");
        assert_eq!(type_bucket(0x1234), "reserved");
        // The same text each time: counting a case allocates nothing.
        assert!(std::ptr::eq(type_bucket(0x8001), type_bucket(0x8001)));
    }
}
