//! The live ISO-TP fuzzer (`doipcheck fuzz --can`): raw frames of
//! [`super::model::isotp`]'s cases to the node the profile's `isotp.*` ids name, on the bus of
//! `--can`, every frame both ways fed to the judge ([`super::bus_judge`]: its findings, less
//! the rules a fuzzed stream cannot be held to, are the case's violations, named by the rule's
//! id), and the loop of [`super::drive`] around it.
//!
//! After each case a barrier, TesterPresent as a single frame, is answered once the node has
//! dealt with everything before it: a single frame during a reception ends that reception and
//! is processed (N_UNEXP_PDU, ISO 15765-2:2016 §9.8.3), and a transfer of the node still open
//! is released with FC CTS (BS 0) so its answer can follow. So a case's frames are attributed
//! to it without a timer, and no case inherits the last one's transfer. The liveness oracle
//! then asks three things, each within the profile's UDS timers: TesterPresent (P2, sent once
//! more, then P2*), a segmented request through the harness's conformant stack, and a
//! segmented answer (reading `uds.did`).

use super::bus_judge::BusJudge;
use super::drive::{CaseOutcome, LiveCase, LiveTarget, Restore};
use super::model::isotp::{CanCase, IsoTpGenerator, Reply};
use super::model::repro::Oracle;
use crate::codec::can::{CanFrame, CanId};
use crate::notation::hex_spaced;
use crate::pcap::read::IsoTpPair;
use crate::proto::isotp::IsoTpConfig;
use crate::proto::uds_wait::{AnswerWait, Answered, MAX_PENDING, UdsTimes};
use crate::runner::isotp::{IsoTpSession, Outcome};
use crate::transport::can::{CanTransport, Origin};
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// Frames of the node read after one case at most before it counts as a flood.
const MAX_FRAMES_PER_CASE: usize = 4096;
/// Silence after which a transfer of the node still open is released again with FC CTS: the
/// node may have been inside a block (BS from a case's FC) when the first one came, and a
/// node that holds no transfer ignores an FC (ISO 15765-2:2016 §9.8.3). Longer than the
/// longest STmin (127 ms, Table 20), so a sender pausing between CFs is not taken for one
/// waiting for an FC.
const NUDGE: Duration = Duration::from_millis(150);
/// FC CTS sent at most to release one transfer.
const MAX_NUDGES: u32 = 4;

/// The node and the timers the fuzzer runs with (from the profile).
#[derive(Debug, Clone)]
pub struct IsoTpSettings {
    /// Our frames go on this id (`isotp.tx_id`).
    pub tx_id: CanId,
    /// The node answers on this id (`isotp.rx_id`).
    pub rx_id: CanId,
    /// Functionally addressed frames go on this id (`isotp.functional_id`).
    pub functional_id: Option<CanId>,
    /// UDS P2 (+ tolerance): the first answer to a request.
    pub p2: Duration,
    /// UDS P2* (+ tolerance): after NRC 0x78 or a repeated request.
    pub p2_star: Duration,
    /// The harness's conformant ISO-TP end (the liveness probes).
    pub isotp: IsoTpConfig,
    /// Cases between liveness checks.
    pub batch: u64,
    /// `--monitor`: a command whose failure is a finding.
    pub monitor: Option<String>,
    /// Bound of one `--monitor` or restore command.
    pub command_bound: Duration,
    /// The id pair the judge reassembles (`judge::profile_pairs`, as `run` judges).
    pub judged_pairs: Vec<IsoTpPair>,
    /// Slack on STmin gaps (`can.gap_tolerance`).
    pub gap_tolerance: Duration,
}

/// The ISO-TP fuzzer's state.
pub struct IsoTpFuzzer {
    settings: IsoTpSettings,
    generator: IsoTpGenerator,
    restore: Restore,
    can: CanTransport,
    judge: BusJudge,
}

/// A transfer of the node we are reading: the bytes it still owes.
#[derive(Debug, Clone, Copy)]
struct OpenTransfer {
    remaining: u64,
}

impl IsoTpFuzzer {
    pub fn new(
        settings: IsoTpSettings,
        generator: IsoTpGenerator,
        restore: Restore,
        can: CanTransport,
    ) -> IsoTpFuzzer {
        let judge = BusJudge::new(settings.judged_pairs.clone(), settings.gap_tolerance);
        IsoTpFuzzer { settings, generator, restore, can, judge }
    }

    async fn send(&mut self, data: &[u8], fd: bool, functional: bool) -> Result<(), String> {
        let id = match (functional, self.settings.functional_id) {
            (true, Some(id)) => id,
            _ => self.settings.tx_id,
        };
        let frame = if fd { CanFrame::new_fd(id, data, false) } else { CanFrame::new(id, data) }
            .map_err(|e| format!("frame [{}]: {e:?}", hex_spaced(data)))?;
        let at = std::time::Instant::now();
        self.can.send(&frame).await.map_err(|e| e.to_string())?;
        self.judge.sent(&frame, at);
        self.can.flush().await.map_err(|e| e.to_string())
    }

    /// The node's next frame before `deadline` (other ids and our echoes passed over); each
    /// frame read goes to the judge.
    async fn next_frame(&mut self, deadline: Instant) -> Option<CanFrame> {
        loop {
            match timeout_at(deadline, self.can.recv()).await {
                Ok(Ok(rx)) => {
                    self.judge.received(&rx);
                    if rx.origin == Origin::Peer && rx.frame.id() == self.settings.rx_id {
                        return Some(rx.frame);
                    }
                }
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// The node's next frame if one has already arrived (no timer: a deadline of "now" would
    /// still wait for the runtime's next 1 ms tick).
    async fn ready_frame(&mut self) -> Option<CanFrame> {
        loop {
            let received = tokio::select! {
                biased;
                rx = self.can.recv() => rx,
                _ = std::future::ready(()) => return None,
            };
            match received {
                Ok(rx) => {
                    self.judge.received(&rx);
                    if rx.origin == Origin::Peer && rx.frame.id() == self.settings.rx_id {
                        return Some(rx.frame);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Frames that already arrived (late ones of an earlier case), judged and dropped.
    async fn drain(&mut self) {
        for _ in 0..MAX_FRAMES_PER_CASE {
            if self.ready_frame().await.is_none() {
                break;
            }
        }
    }

    /// Reaches the case's start state: the open transfer of the node it leaves, if any.
    async fn reach(&mut self, case: &CanCase) -> Result<Option<OpenTransfer>, CaseOutcome> {
        use super::model::isotp::CanState;
        let g = *self.generator.grammar();
        let (request, oracle, what) = match case.state {
            CanState::Idle => return Ok(None),
            CanState::MidReception => {
                (g.reception_first_frame(), Oracle::IsoTpReception, "flow control")
            }
            CanState::MidTransmission => match g.transmission_request() {
                Some(r) => (r, Oracle::IsoTpTransmission, "first frame of the answer"),
                None => return Ok(None),
            },
        };
        self.send(&request, false, false)
            .await
            .map_err(|e| CaseOutcome::Anomaly(oracle.clone(), e))?;
        let deadline = Instant::now() + self.settings.p2;
        let Some(frame) = self.next_frame(deadline).await else {
            return Err(CaseOutcome::Anomaly(
                oracle,
                format!("no {what} within {:?} after [{}]", self.settings.p2, hex_spaced(&request)),
            ));
        };
        match Reply::of(frame.data()) {
            Some(Reply::First { ff_dl, carried }) => Ok(Some(OpenTransfer {
                remaining: u64::from(ff_dl).saturating_sub(carried as u64),
            })),
            _ => Ok(None),
        }
    }

    /// The barrier after a case: TesterPresent, answered once per valid TesterPresent the case
    /// held and once for ours; the node's first frames are answered with FC CTS, its open
    /// transfer released.
    async fn barrier(&mut self, case: &CanCase, mut open: Option<OpenTransfer>) -> CaseOutcome {
        let g = *self.generator.grammar();
        let expected = 1 + case.tester_presents();
        if let Err(e) = self.send(&g.tester_present(), false, false).await {
            return CaseOutcome::Anomaly(Oracle::IsoTpTesterPresent, e);
        }
        if open.is_some() {
            let _ = self.send(&g.continue_to_send(), false, false).await;
        }
        let started = Instant::now();
        // A conformant node answers within P2 of taking the request, and may first finish a
        // transfer (each frame of it is progress); in all at most P2* + P2.
        let hard = started + self.settings.p2_star + self.settings.p2;
        let (mut answers, mut frames, mut nudges) = (0usize, 0usize, 0u32);
        let mut wait = self.settings.p2;
        while answers < expected {
            let bound = if open.is_some() { NUDGE } else { wait };
            let Some(frame) = self.next_frame((Instant::now() + bound).min(hard)).await else {
                if open.is_some() && nudges < MAX_NUDGES && Instant::now() < hard {
                    nudges += 1;
                    let _ = self.send(&g.continue_to_send(), false, false).await;
                    continue;
                }
                return CaseOutcome::Anomaly(
                    Oracle::IsoTpTesterPresent,
                    format!(
                        "no answer 7E 00 to the TesterPresent after the case within {:?}",
                        self.settings.p2
                    ),
                );
            };
            frames += 1;
            if frames > MAX_FRAMES_PER_CASE {
                return CaseOutcome::Anomaly(
                    Oracle::Flood,
                    format!("more than {MAX_FRAMES_PER_CASE} frames in answer to one case"),
                );
            }
            wait = self.settings.p2;
            match Reply::of(frame.data()) {
                Some(Reply::First { ff_dl, carried }) => {
                    open = Some(OpenTransfer {
                        remaining: u64::from(ff_dl).saturating_sub(carried as u64),
                    });
                    let _ = self.send(&g.continue_to_send(), false, false).await;
                }
                Some(Reply::Consecutive { carried }) => {
                    if let Some(t) = &mut open {
                        t.remaining = t.remaining.saturating_sub(carried as u64);
                        if t.remaining == 0 {
                            open = None;
                        }
                    }
                }
                Some(Reply::Single { len: 2, first: [0x7E, 0x00, _] }) => answers += 1,
                Some(Reply::Single { len: 3, first: [0x7F, 0x3E, 0x78] }) => {
                    wait = self.settings.p2_star;
                }
                _ => {}
            }
        }
        CaseOutcome::Clean
    }

    /// TesterPresent as a single frame: `7E 00` within P2, else sent once more and within P2*
    /// (both capped by `bound`); other answers (late ones of earlier cases) passed over.
    async fn probe_tester_present(&mut self, bound: Duration) -> Result<(), (Oracle, String)> {
        let request = self.generator.grammar().tester_present();
        let times = UdsTimes {
            p2: self.settings.p2.min(bound),
            p2_star: self.settings.p2_star.min(bound),
            tolerance: Duration::ZERO,
        };
        // The first request waits P2, the repeat P2*; each NRC 0x78 P2* from it
        // (proto::uds_wait).
        for first in [times.p2, times.p2_star] {
            self.send(&request, false, false).await.map_err(|e| (Oracle::IsoTpTesterPresent, e))?;
            let mut wait = AnswerWait::start(UdsTimes { p2: first, ..times }, Instant::now());
            while let Some(frame) = self.next_frame(wait.deadline()).await {
                match Reply::of(frame.data()) {
                    Some(Reply::Single { len: 2, first: [0x7E, 0x00, _] }) => return Ok(()),
                    Some(Reply::Single { len: 3, first: [0x7F, 0x3E, 0x78] }) => {
                        let pending = [0x7F, 0x3E, 0x78];
                        if wait.on_answer(Instant::now(), &pending) == Answered::TooManyPending {
                            break;
                        }
                    }
                    Some(Reply::First { .. }) => {
                        // A late segmented answer: take it, so the node's sender is free.
                        let cts = self.generator.grammar().continue_to_send();
                        let _ = self.send(&cts, false, false).await;
                    }
                    _ => {}
                }
            }
        }
        Err((
            Oracle::IsoTpTesterPresent,
            format!(
                "no answer 7E 00 to TesterPresent (02 3E 00), sent twice, within P2 and then P2* ({:?})",
                self.settings.p2_star.min(bound)
            ),
        ))
    }

    /// A message through the harness's conformant stack, then any answer to it within P2.
    async fn probe_exchange(
        &mut self,
        request: &[u8],
        oracle: Oracle,
        bound: Duration,
    ) -> Result<(), (Oracle, String)> {
        let mut session =
            IsoTpSession::new_with(self.settings.isotp).map_err(|e| (oracle.clone(), e))?;
        let (can, judge) = (&mut self.can, &mut self.judge);
        let mut observe = |t: crate::transport::can::driver::Traffic<'_>| judge.traffic(t);
        let send_deadline = std::time::Instant::now() + self.settings.p2_star.min(bound);
        match session.send(can, request, false, send_deadline, &mut observe).await {
            Ok(Outcome::Done(_)) => {}
            Ok(Outcome::Failed(result)) => {
                return Err((
                    oracle,
                    format!("sending [{}] over ISO-TP failed with {result}", hex_spaced(request)),
                ));
            }
            Err(e) => return Err((oracle, e)),
            Ok(Outcome::TimedOut) => {
                return Err((
                    oracle,
                    format!(
                        "sending [{}] over ISO-TP did not finish within {:?}",
                        hex_spaced(request),
                        self.settings.p2_star.min(bound)
                    ),
                ));
            }
        }
        // P2, then P2* from each NRC 0x78 (proto::uds_wait; the settings hold the tolerance).
        let times = UdsTimes {
            p2: self.settings.p2.min(bound),
            p2_star: self.settings.p2_star.min(bound),
            tolerance: Duration::ZERO,
        };
        let mut wait = AnswerWait::start(times, std::time::Instant::now());
        let sid = request.first().copied().unwrap_or(0);
        loop {
            match session.next_message(can, wait.deadline(), &mut observe).await {
                // Only an answer to this request counts (positive: SID + 0x40; negative:
                // 7F SID); 0x78 extends the wait by P2* (ISO 14229-1 §8.7.1).
                Ok(Outcome::Done(m)) if m.first() == Some(&(sid | 0x40)) => return Ok(()),
                Ok(Outcome::Done(m)) if m.len() >= 3 && m[0] == 0x7F && m[1] == sid => {
                    match wait.on_answer(std::time::Instant::now(), &m) {
                        Answered::Final => return Ok(()),
                        Answered::Pending => {}
                        Answered::TooManyPending => {
                            return Err((
                                oracle,
                                format!(
                                    "more than {MAX_PENDING} response pending (NRC 0x78) to [{}]",
                                    hex_spaced(request)
                                ),
                            ));
                        }
                    }
                }
                Ok(Outcome::Done(_)) => {}
                Ok(Outcome::Failed(result)) => {
                    return Err((oracle, format!("the answer's reception failed with {result}")));
                }
                Err(e) => return Err((oracle, e)),
                Ok(Outcome::TimedOut) => {
                    return Err((
                        oracle,
                        format!(
                            "no answer to [{}] within {:?} ({})",
                            hex_spaced(request),
                            wait.window().within,
                            wait.limit_name()
                        ),
                    ));
                }
            }
        }
    }
}

impl LiveTarget for IsoTpFuzzer {
    type Case = CanCase;

    fn case(&self, index: u64) -> CanCase {
        self.generator.case(index)
    }

    fn batch(&self) -> u64 {
        self.settings.batch
    }

    fn liveness_bound(&self) -> Duration {
        self.settings.p2_star
    }

    /// The case's frames, the barrier, then what the judge found in every frame since the
    /// last case (late frames of that one included): a finding of a rule judged when fuzzing
    /// is the case's violation, before any anomaly.
    async fn run_case(&mut self, case: &CanCase) -> CaseOutcome {
        self.drain().await;
        let outcome = match self.reach(case).await {
            Ok(open) => {
                for frame in &case.frames {
                    // A frame the transport cannot carry (CAN FD on a classic bus) is not sent.
                    let _ = self.send(&frame.data, frame.fd, frame.functional).await;
                }
                self.barrier(case, open).await
            }
            Err(outcome) => outcome,
        };
        match self.judge.violation() {
            Some(v) => CaseOutcome::ReplyViolation(v),
            None => outcome,
        }
    }

    /// TesterPresent, a segmented request and a segmented answer through the harness's
    /// conformant stack, then `--monitor`. The probes' frames are judged too (the judge's
    /// reassembly follows the bus), but what it finds in them is dropped, like the late
    /// frames drained first: the probes answer to the liveness oracle, and a finding must
    /// name the case that caused it.
    async fn liveness(&mut self, bound: Duration) -> Result<Duration, (Oracle, String)> {
        let checked = self.probes(bound).await;
        let _ = self.judge.violation();
        checked
    }

    async fn restore(&mut self) -> Result<(), String> {
        self.restore.apply(self.settings.command_bound).await?;
        // A restored node holds nothing of what it was doing.
        self.judge.restart();
        self.drain().await;
        Ok(())
    }
}

impl IsoTpFuzzer {
    /// The liveness oracle's probes.
    async fn probes(&mut self, bound: Duration) -> Result<Duration, (Oracle, String)> {
        let start = Instant::now();
        self.drain().await;
        self.probe_tester_present(bound).await?;
        let g = *self.generator.grammar();
        if g.max_request_length >= 8 {
            let mut request = vec![0x3E, 0x00];
            request.resize(g.reception_length(), 0);
            self.probe_exchange(&request, Oracle::IsoTpReception, bound).await?;
        }
        if g.transmission_request().is_some() {
            let [hi, lo] = g.did.to_be_bytes();
            self.probe_exchange(&[0x22, hi, lo], Oracle::IsoTpTransmission, bound).await?;
        }
        super::drive::run_monitor(self.settings.monitor.as_deref(), self.settings.command_bound)
            .await?;
        Ok(start.elapsed())
    }
}

impl LiveCase for CanCase {
    fn index(&self) -> u64 {
        self.index
    }

    fn state_name(&self) -> &'static str {
        self.state.name()
    }

    fn bucket(&self) -> &'static str {
        self.pci_bucket()
    }

    fn transport(&self) -> &'static str {
        "can"
    }

    fn mutation(&self) -> &'static str {
        self.mutation
    }
    fn shape(&self) -> String {
        format!("{}/{}", self.pci_bucket(), self.mutation)
    }

    fn message_count(&self) -> usize {
        self.frames.len()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "index": self.index,
            "state": self.state.name(),
            "mutation": self.mutation,
            "n_pci": self.pci_bucket(),
            "frames": self.frames.iter().map(|f| format!(
                "{}{}{}",
                if f.functional { "functional " } else { "" },
                if f.fd { "fd " } else { "" },
                hex_spaced(&f.data)
            )).collect::<Vec<_>>(),
        })
    }
}
