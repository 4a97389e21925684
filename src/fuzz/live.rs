//! The live DoIP fuzzer: drives a target case by case over real sockets, reads every reply
//! through the reply checks of [`super::model::replies`], runs the liveness oracle between
//! batches and after every anomaly, and on a failed oracle restores the target and narrows
//! the cases since the last healthy check with [`super::model::minimize::ddmin`].
//!
//! The hot loop keeps one activated connection and reuses it while cases end on a message
//! boundary. After each case a barrier, an alive check request, is answered only once the
//! entity has read everything before it (ISO 13400-2:2019 §9.6: an entity answers an alive
//! check request on any TCP_DATA socket), so replies are attributed to the case that caused
//! them without waiting for a timer. Every read is bounded in bytes, messages and time.

use super::conn::{Conn, MAX_REPLIES_PER_CASE, ReadEnd, drip, is_alive_response, is_diag_response};
use super::model::doip::{DoipGenerator, frame};
use super::model::minimize::Ddmin;
use super::model::replies::{
    SocketFate, Violation, check_socket_fate, check_tcp_reply, check_udp_reply,
};
use super::model::repro::Oracle;
use super::model::{Action, FuzzCase, StartState, stream_fate};
use crate::codec::doip::{Deframed, Deframer, HEADER_LEN};
use crate::transport::doip::sim_host::SimControl;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout};

/// Findings one run writes at most; later ones are counted as duplicates (the reports stay
/// bounded whatever the target does).
const MAX_FINDINGS: usize = 100;
/// Trials of one minimization (each restores and re-drives the target).
const MAX_TRIALS: usize = 64;

/// How the target is brought back after a failed oracle.
#[derive(Debug, Clone)]
pub enum Restore {
    /// The built-in simulator: its power cycle restarts the entity.
    Simulator(SimControl),
    /// A --target with the profile's `power_cycle_command`.
    Command(String),
    /// A --target without one: reconnect only (a hung target stays hung).
    Reconnect,
}

/// The timers and facts the fuzzer runs with (from the profile).
#[derive(Debug, Clone)]
pub struct LiveSettings {
    /// TCP data port and UDP discovery port of the target.
    pub tcp: SocketAddr,
    /// UDP discovery port.
    pub udp: SocketAddr,
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
    /// TesterPresent targets.
    pub tester_present: Vec<u16>,
    /// Cases between liveness checks.
    pub batch: u64,
    /// `--monitor`: a command whose failure is a finding.
    pub monitor: Option<String>,
    /// Bound of one `--monitor` or restore command.
    pub command_bound: Duration,
}

/// A finding before it is written: the oracle, what it saw, the minimized cases and the
/// window they came from.
#[derive(Debug, Clone)]
pub struct LiveFinding {
    /// The check that failed.
    pub oracle: Oracle,
    /// Its message.
    pub detail: String,
    /// Index of the case after which the check failed.
    pub case_index: u64,
    /// Start state of that case.
    pub state: StartState,
    /// Payload type x mutation of that case (de-duplication).
    pub shape: String,
    /// The minimal failing cases (all of the window when minimization could not reproduce).
    pub cases: Vec<FuzzCase>,
    /// Whether the minimized sequence failed again on a restored target.
    pub reproduced: bool,
    /// Minimization trials.
    pub trials: usize,
    /// Time from the start of the run to the failed check.
    pub found_after: Duration,
}

impl LiveFinding {
    /// The de-duplication key of a minimized finding: the symptom (oracle and what it saw),
    /// and the start state and payload type of the last culprit case (the one that set the
    /// failure off), so the same failure reached the same way is reported once.
    pub fn culprit_key(&self) -> String {
        let last = self.cases.last().map_or(String::new(), |c| {
            format!("{}/{}", c.state, super::live::type_bucket(c.payload_type))
        });
        format!("{} {} {last}", self.oracle, self.detail)
    }
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct LiveReport {
    /// Cases sent.
    pub cases: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Liveness checks that passed.
    pub healthy_checks: u64,
    /// De-duplicated findings, in the order found.
    pub findings: Vec<LiveFinding>,
    /// Findings dropped as duplicates of an earlier one.
    pub duplicates: u64,
    /// Cases per payload type (`0x8001`, or `reserved` for every unnamed one) x state.
    pub coverage: BTreeMap<(String, StartState), u64>,
    /// Why the run stopped early, if it did (the target could not be restored).
    pub stopped: Option<String>,
}

/// What one case did.
enum CaseOutcome {
    /// Replies checked, nothing odd.
    Clean,
    /// A reply broke a rule.
    Violation(Violation),
    /// Something a liveness check must look at: silence, an unannounced close, a refused
    /// connection, a flood.
    Anomaly(Oracle, String),
}

/// The live fuzzer's state.
pub struct LiveFuzzer {
    pub(super) settings: LiveSettings,
    generator: DoipGenerator,
    restore: Restore,
    pub(super) activated: Option<Conn>,
    pub(super) udp: Option<UdpSocket>,
    /// Latency of the last healthy check (bounds the shortened checks of minimization).
    healthy_latency: Duration,
    /// The first half of a diagnostic message (the mid-message state).
    mid_prefix: Vec<u8>,
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
        LiveFuzzer {
            settings,
            generator,
            restore,
            activated: None,
            udp: None,
            healthy_latency: Duration::from_millis(1),
            mid_prefix,
        }
    }

    /// The bytes of the mid-message state (for the repro).
    pub fn mid_prefix(&self) -> &[u8] {
        &self.mid_prefix
    }

    /// Runs up to `max_cases` cases for at most `duration` (and until `stop`, asked before
    /// each case with the report so far, says so);
    /// `progress` is called after every batch.
    pub async fn run(
        &mut self,
        max_cases: u64,
        duration: Duration,
        mut stop: impl FnMut(&LiveReport) -> bool,
        mut progress: impl FnMut(&LiveReport),
    ) -> LiveReport {
        let start = Instant::now();
        let mut report = LiveReport::default();
        let mut window: Vec<FuzzCase> = Vec::new();
        let mut seen: std::collections::HashSet<(String, StartState, String)> = Default::default();
        let mut culprits: std::collections::HashSet<String> = Default::default();
        let mut index = 0u64;
        while index < max_cases && start.elapsed() < duration && !stop(&report) {
            let case = self.generator.case(index);
            index += 1;
            *report.coverage.entry((type_bucket(case.payload_type), case.state)).or_default() += 1;
            let outcome = self.run_case(&case).await;
            report.cases += 1;
            let state = case.state;
            let shape = format!("0x{:04X}/{}", case.payload_type, case.mutation);
            let case_index = case.index;
            window.push(case);
            let suspect = match outcome {
                CaseOutcome::Clean => None,
                CaseOutcome::Violation(v) => Some((Oracle::Protocol(v.kind), v.detail)),
                CaseOutcome::Anomaly(oracle, why) => Some((oracle, why)),
            };
            let batch_end = report.cases % self.settings.batch.max(1) == 0;
            if suspect.is_none() && !batch_end {
                continue;
            }
            // A protocol violation is a finding by itself; an anomaly or the end of a batch
            // asks the liveness oracle.
            let failed = match suspect {
                Some((oracle @ Oracle::Protocol(_), why)) => Some((oracle, why)),
                _ => match self.liveness(self.settings.ctrl).await {
                    Ok(latency) => {
                        self.healthy_latency = latency;
                        report.healthy_checks += 1;
                        window.clear();
                        None
                    }
                    Err(failure) => Some(failure),
                },
            };
            if let Some((oracle, detail)) = failed {
                // The symptom (the oracle and what it saw) in the state the case started in.
                let key = (format!("{oracle} {detail}"), state, String::new());
                let found_after = start.elapsed();
                // De-duplicated twice: by the case after which the oracle failed (before the
                // cost of minimizing), then by what minimization kept: the oracle, and the
                // start state and shape of each culprit case.
                if report.findings.len() >= MAX_FINDINGS {
                    report.duplicates += 1;
                } else if seen.insert(key) {
                    let finding = self
                        .minimize(oracle, detail, &window, case_index, state, shape, found_after)
                        .await;
                    if culprits.insert(finding.culprit_key()) {
                        report.findings.push(finding);
                    } else {
                        report.duplicates += 1;
                    }
                } else {
                    report.duplicates += 1;
                }
                window.clear();
                if let Err(e) = self.restore_target().await {
                    report.stopped = Some(e);
                    break;
                }
                if let Err((oracle, why)) = self.liveness(self.settings.ctrl).await {
                    report.stopped = Some(format!(
                        "the target did not come back after a restore: {oracle}: {why}"
                    ));
                    break;
                }
            }
            if batch_end {
                report.elapsed = start.elapsed();
                progress(&report);
            }
        }
        report.elapsed = start.elapsed();
        self.activated = None;
        report
    }

    /// Reaches the case's start state, sends it, reads and checks what comes back.
    async fn run_case(&mut self, case: &FuzzCase) -> CaseOutcome {
        if case.state == StartState::Udp {
            return self.run_udp_case(case).await;
        }
        let mut conn = match self.reach(case.state).await {
            Ok(c) => c,
            Err(outcome) => return outcome,
        };
        let prefix: &[u8] =
            if case.state == StartState::MidMessage { &self.mid_prefix } else { &[] };
        if !prefix.is_empty()
            && let Err(e) = conn.write(prefix).await
        {
            return CaseOutcome::Anomaly(
                Oracle::Activation,
                format!("sending the mid-message state: {e}"),
            );
        }
        let mut second: Option<Conn> = None;
        let mut write_failed = None;
        for action in &case.actions {
            let sent = match action {
                Action::Send(bytes) => conn.write(bytes).await,
                Action::Drip { bytes, chunks } => drip(&mut conn, bytes, chunks).await,
                Action::SecondSocket(bytes) => {
                    match Conn::open(self.settings.tcp, self.settings.ctrl).await {
                        Ok(mut c) => {
                            let r = c.write(bytes).await;
                            second = Some(c);
                            r
                        }
                        Err(e) => return CaseOutcome::Anomaly(Oracle::Activation, e),
                    }
                }
                Action::Close => conn.stream.shutdown().await.map_err(|e| e.to_string()),
                Action::Udp(_) => Ok(()),
            };
            if let Err(e) = sent {
                // The entity closed while we were sending: what it said before decides.
                write_failed = Some(e);
                break;
            }
        }
        let stream = case.main_stream();
        let fate = stream_fate(prefix, &stream, self.settings.max_data_size);
        let version = self.settings.version;
        let mut violation: Option<Violation> = None;
        let mut last = (SocketFate::Silent, String::new());
        let mut check = |bytes: &[u8]| match check_tcp_reply(bytes, version) {
            Ok(SocketFate::Silent) => {}
            Ok(f) => last = (f, describe(bytes)),
            Err(v) => {
                violation.get_or_insert(v);
            }
        };
        let barrier_ok = fate.on_boundary && !case.closes() && write_failed.is_none();
        let end = if barrier_ok {
            let expected = 1 + alive_requests_in(prefix, &stream);
            if conn.write(&frame(version, 0x0007, &[])).await.is_err() {
                conn.take_ready(&mut check);
                ReadEnd::Closed
            } else {
                conn.read_until(
                    expected,
                    self.settings.ctrl,
                    self.settings.tester_address,
                    is_alive_response,
                    &mut check,
                )
                .await
            }
        } else if fate.closes {
            // The entity must close after its NACK: wait for it (bounded).
            conn.read_until(
                usize::MAX,
                self.settings.ctrl,
                self.settings.tester_address,
                |_| false,
                &mut check,
            )
            .await
        } else {
            // Half a message is pending or we closed: take what has arrived, then drop the
            // connection (waiting for a timer here would cost a millisecond per case).
            conn.take_ready(&mut check);
            ReadEnd::Closed
        };
        if let Some(mut c) = second {
            // The second socket's replies are checked, but its socket fate is its own.
            c.take_ready(|bytes| {
                if let Err(v) = check_tcp_reply(bytes, version) {
                    violation.get_or_insert(v);
                }
            });
        }
        if let Some(v) = violation {
            return CaseOutcome::Violation(v);
        }
        match end {
            ReadEnd::Barrier => {
                if last.0 == SocketFate::Closes {
                    // It answered after announcing the close: the socket stayed open.
                    if let Err(v) = check_socket_fate(SocketFate::Closes, false, &last.1) {
                        return CaseOutcome::Violation(v);
                    }
                }
                if case.state.activated() {
                    self.activated = Some(conn);
                }
                CaseOutcome::Clean
            }
            // After our own FIN, what the entity does with the rest is not governed (an
            // entity may close at once and drop what it had still to send).
            ReadEnd::Closed if case.closes() => CaseOutcome::Clean,
            ReadEnd::Closed if barrier_ok || fate.closes => {
                if let Err(v) = check_socket_fate(last.0, true, &last.1) {
                    return CaseOutcome::Violation(v);
                }
                if last.0 == SocketFate::Silent && barrier_ok {
                    return CaseOutcome::Anomaly(
                        Oracle::Activation,
                        "the entity closed the connection without a NACK or response that closes it".into(),
                    );
                }
                CaseOutcome::Clean
            }
            ReadEnd::Closed => CaseOutcome::Clean,
            ReadEnd::Silent if fate.closes && last.0 == SocketFate::Closes => {
                match check_socket_fate(SocketFate::Closes, false, &last.1) {
                    Err(v) => CaseOutcome::Violation(v),
                    Ok(()) => CaseOutcome::Clean,
                }
            }
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

    /// A connection in `state`: a fresh one for `Connected`, else the kept activated one
    /// (opened and activated when there is none), switched to the session the state needs.
    async fn reach(&mut self, state: StartState) -> Result<Conn, CaseOutcome> {
        if state == StartState::Connected {
            return Conn::open(self.settings.tcp, self.settings.ctrl)
                .await
                .map_err(|e| CaseOutcome::Anomaly(Oracle::Activation, e));
        }
        let mut conn = match self.activated.take() {
            Some(c) => c,
            None => self
                .open_activated(self.settings.ctrl)
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
        let socket = match self.udp_socket().await {
            Ok(s) => s,
            Err(e) => return CaseOutcome::Anomaly(Oracle::Identification, e),
        };
        let version = self.settings.version;
        let mut expected = 0usize;
        for action in &case.actions {
            if let Action::Udp(bytes) = action {
                let _ = socket.send_to(bytes, self.settings.udp).await;
                expected += usize::from(is_entity_status_request(bytes, version));
            }
        }
        // The barrier: an entity status request, answered once the entity has read what came
        // before it (each valid one in the case is answered too). Without entity status, a
        // short window; a datagram late for it is read (and checked) by the next UDP case.
        let bound = if self.settings.entity_status {
            let _ = socket.send_to(&frame(version, 0x4001, &[]), self.settings.udp).await;
            expected += 1;
            self.settings.ctrl
        } else {
            Duration::from_millis(2)
        };
        let mut buf = vec![0u8; 4096];
        let deadline = Instant::now() + bound;
        let (mut count, mut answers) = (0usize, 0usize);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, socket.recv_from(&mut buf)).await {
                Ok(Ok((n, _))) => {
                    count += 1;
                    if let Err(v) = check_udp_reply(&buf[..n], version) {
                        return CaseOutcome::Violation(v);
                    }
                    if n >= HEADER_LEN && buf[2..4] == [0x40, 0x02] {
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
        self.udp = Some(socket);
        CaseOutcome::Clean
    }

    pub(super) async fn udp_socket(&mut self) -> Result<UdpSocket, String> {
        if let Some(s) = self.udp.take() {
            return Ok(s);
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
        UdpSocket::bind(local).await.map_err(|e| format!("cannot bind a UDP socket: {e}"))
    }

    /// Brings the target back: the simulator's power cycle, the profile's command, or a
    /// reconnect; our connections start over in every case.
    async fn restore_target(&mut self) -> Result<(), String> {
        self.activated = None;
        self.udp = None;
        match &self.restore {
            Restore::Simulator(control) => {
                // Announcements after the restart go to a socket we own and drop.
                let sink = UdpSocket::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
                let to = sink.local_addr().map_err(|e| e.to_string())?;
                control.power_cycle(to).await
            }
            Restore::Command(command) => {
                crate::runner::steps::power::shell_command(
                    "power_cycle_command",
                    command,
                    self.settings.command_bound,
                )
                .await
            }
            Restore::Reconnect => Ok(()),
        }
    }

    /// Replays `cases` as the repro does (each on its own connection, closed at its end)
    /// on a restored target, then asks the oracle with short bounds.
    async fn trial(&mut self, cases: &[FuzzCase], oracle: &Oracle) -> bool {
        if let Oracle::Protocol(kind) = oracle {
            return self.replays_violation(cases, kind).await;
        }
        if self.restore_target().await.is_err() {
            return false;
        }
        for case in cases {
            let _ = self.run_case(case).await;
            self.activated = None;
        }
        // Minimization trusts short bounds: many times the healthy latency, at least 100 ms
        // (the finding itself was seen with the profile's timers).
        let short = (self.healthy_latency * 50).max(Duration::from_millis(100));
        let ctrl = short.min(self.settings.ctrl);
        matches!(self.liveness(ctrl).await, Err((o, _)) if &o == oracle)
    }

    /// Whether replaying `cases` (on a restored target) shows the violation `kind` again.
    async fn replays_violation(&mut self, cases: &[FuzzCase], kind: &str) -> bool {
        if self.restore_target().await.is_err() {
            return false;
        }
        for case in cases {
            if let CaseOutcome::Violation(v) = self.run_case(case).await
                && v.kind == kind
            {
                self.activated = None;
                return true;
            }
            self.activated = None;
        }
        false
    }

    #[allow(clippy::too_many_arguments)]
    async fn minimize(
        &mut self,
        oracle: Oracle,
        detail: String,
        window: &[FuzzCase],
        case_index: u64,
        state: StartState,
        shape: String,
        found_after: Duration,
    ) -> LiveFinding {
        let reproduced = self.trial(window, &oracle).await;
        let (cases, trials) = if reproduced {
            let mut search = Ddmin::new(window, MAX_TRIALS);
            while let Some(subset) = search.next_trial() {
                let fails = self.trial(&subset, &oracle).await;
                search.record(fails);
            }
            let result = search.result();
            (result.items, result.trials + 1)
        } else {
            (window.to_vec(), 1)
        };
        LiveFinding {
            oracle,
            detail,
            case_index,
            state,
            shape,
            cases,
            reproduced,
            trials,
            found_after,
        }
    }
}

/// Valid alive check requests in the stream (each is answered like our barrier).
fn alive_requests_in(prefix: &[u8], bytes: &[u8]) -> usize {
    let stream: Vec<u8> = prefix.iter().chain(bytes).copied().collect();
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
pub(super) fn type_bucket(payload_type: u16) -> String {
    if crate::codec::doip::PayloadType::from(payload_type).is_named() {
        format!("0x{payload_type:04X}")
    } else {
        "reserved".into()
    }
}

fn describe(bytes: &[u8]) -> String {
    match crate::codec::doip::Message::parse(bytes) {
        Ok(m) => m.to_string(),
        Err(_) => crate::notation::hex_spaced(bytes),
    }
}
