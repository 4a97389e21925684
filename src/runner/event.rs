//! The event model: everything a run produces, as plain data. Reporters (console, JUnit, JSON,
//! pcapng captures) consume these events and nothing else (docs/architecture.md#runner-and-reports).
//!
//! # Contract
//!
//! - One [`Event::RunStarted`] first and one [`Event::RunFinished`] last.
//! - Every case of the plan gets exactly one [`Event::CaseStarted`] and, later, exactly one
//!   [`Event::CaseFinished`] (also for skipped cases, also on Ctrl-C: the running case then ends
//!   with [`Verdict::Error`] and cases that never started are not reported at all).
//! - Every case-scoped event carries the [`CaseKey`] of its case. The events of one case arrive
//!   in order, between its `CaseStarted` and its `CaseFinished`; with `--jobs N > 1` the events
//!   of different cases interleave. A `retry:` case keeps one `CaseStarted`/`CaseFinished`
//!   pair; each new attempt is announced by a [`NoteEvent`] and its steps follow.
//! - Times are [`RunTime`]: a monotonic duration since the run started (the wall clock at that
//!   moment is [`RunStarted::wall_clock_unix_us`]), taken where the bytes were read or written.
//! - Every byte that crossed a connection appears in exactly one [`FrameEvent`], in order, per
//!   connection, and every connection is bracketed by [`ConnectionEvent`]s (opened first; closed,
//!   reset or abandoned last). That is what a capture writer needs to synthesise consistent TCP
//!   sequence numbers and handshakes.
//! - A TLS connection's [`FrameEvent`]s hold the DoIP bytes inside TLS. What went over its TCP
//!   socket (the records, handshake included) is in [`TlsWireEvent`]s, and its session's secrets
//!   in a [`TlsKeysEvent`], both between its `opened` (the TCP connect) and its last change: a
//!   capture shows the connection as it was on the wire (docs/reports.md#tls-captures).
//! - A received TCP frame is one deframed DoIP message when the bytes framed; otherwise it is the
//!   bytes as read, with [`Decoded::Error`] saying why they did not decode.
//!
//! Serialization (serde, for the JSON reporter and `doipcheck report --from`): each event is an
//! object with an `"event"` tag, time fields are integer microseconds named `*_us` (`at_us`;
//! the names of format 1, `at`, are read too), bytes are lowercase hex strings.
//!
//! This module imports nothing else from the crate but [`CaseInfo`], a plain-data leaf of the
//! suite layer (what a case claims is known before anything runs), so reporters depend on it
//! alone.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// One thing that happened during a run. See the module doc for ordering guarantees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted(RunStarted),
    CaseStarted(CaseStarted),
    Step(StepEvent),
    Connection(ConnectionEvent),
    Frame(FrameEvent),
    TlsWire(TlsWireEvent),
    TlsKeys(TlsKeysEvent),
    Note(NoteEvent),
    Metric(MetricEvent),
    CaseFinished(CaseFinished),
    RunFinished(RunFinished),
}

impl Event {
    /// The case an event belongs to; `None` for run-level events.
    pub fn case(&self) -> Option<CaseKey> {
        match self {
            Event::RunStarted(_) | Event::RunFinished(_) => None,
            Event::CaseStarted(e) => Some(e.case),
            Event::Step(e) => Some(e.case),
            Event::Connection(e) => Some(e.case),
            Event::Frame(e) => Some(e.case),
            Event::TlsWire(e) => Some(e.case),
            Event::TlsKeys(e) => Some(e.case),
            Event::Note(e) => Some(e.case),
            Event::Metric(e) => Some(e.case),
            Event::CaseFinished(e) => Some(e.case),
        }
    }
}

impl Event {
    /// What only a capture shows: a TLS connection's bytes on the wire and its secrets. The
    /// other reports show the DoIP frames inside; the JSON report leaves these out.
    pub fn is_capture_only(&self) -> bool {
        matches!(self, Event::TlsWire(_) | Event::TlsKeys(_))
    }
}

/// Receives the events of a run, in order, on one thread. Console, JUnit, JSON and capture
/// writers implement this; the runner calls every sink with every event.
pub trait EventSink: Send {
    /// Handle one event. An error (a report file that cannot be written) is remembered by the
    /// runner, which keeps running the other sinks and reports the first error at the end.
    fn handle(&mut self, event: &Event) -> std::io::Result<()>;
}

/// A sink that keeps every event, for tests and for tools that post-process a run.
#[derive(Debug, Default, Clone)]
pub struct CollectingSink {
    pub events: Vec<Event>,
}

impl EventSink for CollectingSink {
    fn handle(&mut self, event: &Event) -> std::io::Result<()> {
        self.events.push(event.clone());
        Ok(())
    }
}

/// Monotonic time since the run started. Serialized as integer microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RunTime(pub Duration);

impl RunTime {
    pub const ZERO: RunTime = RunTime(Duration::ZERO);

    pub fn as_micros(self) -> u64 {
        u64::try_from(self.0.as_micros()).unwrap_or(u64::MAX)
    }

    /// Time from `earlier` to `self`, zero when `earlier` is later.
    pub fn since(self, earlier: RunTime) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::ops::Add<Duration> for RunTime {
    type Output = RunTime;
    fn add(self, d: Duration) -> RunTime {
        RunTime(self.0.saturating_add(d))
    }
}

impl Serialize for RunTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.as_micros())
    }
}

impl<'de> Deserialize<'de> for RunTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64::deserialize(d).map(|us| RunTime(Duration::from_micros(us)))
    }
}

/// Identifies a case within one run: its position in the run plan (after matrix expansion,
/// filtering and sharding), starting at 0. Stable for the whole run, unique per case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseKey(pub u32);

/// The outcome of a case (docs/suite-format.md#verdicts). Ordered from best to worst, so the
/// verdict of a run is the maximum of its cases'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A `requires` the profile lacks (or a filter); nothing was sent.
    Skipped,
    /// Every step held.
    Pass,
    /// Setup could not reach the state the case needs; nothing was judged.
    Inconclusive,
    /// The target broke a rule the case checks.
    Fail,
    /// A harness or transport problem (also: interrupted by Ctrl-C).
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Skipped => "skipped",
            Verdict::Pass => "pass",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }

    /// Whether this verdict makes the run exit with `exit::FAILURE`.
    pub fn is_failure(self) -> bool {
        matches!(self, Verdict::Inconclusive | Verdict::Fail | Verdict::Error)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The run begins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    /// Wall clock (microseconds since the Unix epoch) at [`RunTime::ZERO`]; absolute frame
    /// times for captures are this plus the frame's [`RunTime`].
    pub wall_clock_unix_us: u64,
    /// What is tested, for people: `"built-in simulator"`, `"192.0.2.10:13400"`, with the
    /// simulator fault when one is set (`"built-in simulator (fault: no_close_on_bad_pattern)"`).
    pub target: String,
    /// The target profile file, `None` for the simulator's built-in profile.
    #[serde(serialize_with = "ser_opt_path")]
    pub profile: Option<PathBuf>,
    /// How many cases the plan holds (all will get a `CaseFinished`, unless interrupted).
    pub case_count: u32,
    /// Parallel jobs.
    pub jobs: u32,
    /// `(k, n)` of `--shard K/N`, when sharded.
    pub shard: Option<(u32, u32)>,
    /// The least time the run can take: the waits its cases declare (protocol timers, silence
    /// windows), over `jobs` (see `runner::schedule::declared_wait`). Compare the run's
    /// duration with it.
    #[serde(rename = "declared_wait_us", with = "duration_us")]
    pub declared_wait: Duration,
}

pub use crate::suite::case_info::CaseInfo;

/// A case begins (after filtering; also emitted for cases that will be skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseStarted {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub info: CaseInfo,
}

/// Which part of a case a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The suite's `setup:` (failure -> inconclusive).
    SuiteSetup,
    /// The case's `setup:` (failure -> inconclusive).
    CaseSetup,
    /// The case's `steps:` (failure -> fail).
    Steps,
    /// The case's `finally:` (always runs; failure -> error unless the case already failed).
    CaseFinally,
    /// The suite's `finally:` (always runs, after the case's).
    SuiteFinally,
}

/// Where a step is written in its suite file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceLocation {
    #[serde(serialize_with = "ser_path")]
    pub file: PathBuf,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Identifies a step within its case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepRef {
    pub phase: Phase,
    /// 0-based position in its phase's list.
    pub index: u32,
    /// The step kind as written: `send`, `expect_raw`, `udp_expect`, ...
    pub kind: String,
    pub location: SourceLocation,
}

/// A step began or ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepEvent {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub step: StepRef,
    /// One line for people, with variables substituted: `send routing_activation_request
    /// source_address=0x0e80`.
    pub summary: String,
    pub status: StepStatus,
}

/// The state a [`StepEvent`] reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Started,
    /// The step held; `elapsed` from its start.
    Passed {
        #[serde(rename = "elapsed_us", alias = "elapsed", with = "duration_us")]
        elapsed: Duration,
    },
    /// The step did not hold; the case's [`Reason`] tells why (the first failure only).
    Failed {
        #[serde(rename = "elapsed_us", alias = "elapsed", with = "duration_us")]
        elapsed: Duration,
    },
    /// Not run, because an earlier step ended the case.
    NotRun,
}

/// The transport a frame or connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameTransport {
    Tcp,
    /// TCP with TLS (ISO 13400-2:2019, port 3496); frame bytes are the plaintext DoIP bytes.
    Tls,
    Udp,
    Can,
}

/// One end of a link: an IP socket address, or a CAN node on a named bus.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Address {
    Socket(SocketAddr),
    /// A CAN participant: the bus name (`mem0`, `cannelloni:127.0.0.1:20000`) and the CAN id it
    /// transmits on.
    Can {
        bus: String,
        id: u32,
        extended: bool,
    },
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Socket(a) => write!(f, "{a}"),
            Address::Can { bus, id, extended: true } => write!(f, "{bus}#{id:08X}"),
            Address::Can { bus, id, extended: false } => write!(f, "{bus}#{id:03X}"),
        }
    }
}

/// Direction of a frame, seen from the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Harness -> target.
    Sent,
    /// Target -> harness.
    Received,
}

/// A connection (TCP/TLS stream or UDP socket) changed state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionEvent {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub transport: FrameTransport,
    pub local: Address,
    pub peer: Address,
    pub change: ConnectionChange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionChange {
    /// TCP handshake done (TLS: the TLS handshake follows, in [`TlsWireEvent`]s) / UDP
    /// socket bound.
    Opened,
    /// The harness closed its side (FIN).
    ClosedByUs,
    /// The target closed its side (read returned end of stream).
    ClosedByPeer,
    /// The connection was reset (RST) or failed with an I/O error.
    Reset,
    /// The case ended with the connection still open; the harness dropped it.
    Abandoned,
}

/// Bytes sent to or received from the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameEvent {
    pub case: CaseKey,
    /// When the bytes were written, or when the last byte of the frame was read.
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub direction: Direction,
    pub transport: FrameTransport,
    pub local: Address,
    pub peer: Address,
    /// CAN frame details (id, flags) for `FrameTransport::Can`, `None` otherwise.
    pub can: Option<CanFrameMeta>,
    #[serde(with = "hex_bytes")]
    pub bytes: Vec<u8>,
    pub decoded: Decoded,
}

/// Bytes that went over the TCP socket of a TLS connection in one read or write: TLS records
/// (or parts of them), the handshake's included. Only captures use them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsWireEvent {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub direction: Direction,
    pub local: Address,
    pub peer: Address,
    #[serde(with = "hex_bytes")]
    pub bytes: Vec<u8>,
}

/// The secrets of a TLS connection's session as NSS key-log lines (`LABEL CLIENT_RANDOM
/// SECRET`), logged by rustls during the handshake. Only captures use them (a pcapng Decryption
/// Secrets Block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsKeysEvent {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub local: Address,
    pub peer: Address,
    pub lines: Vec<String>,
}

/// What a CAN frame looked like on the bus (for LINKTYPE_CAN_SOCKETCAN captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CanFrameMeta {
    pub id: u32,
    pub extended: bool,
    /// CAN FD frame (`bytes` may be up to 64 long).
    pub fd: bool,
    /// CAN FD bit rate switch.
    pub brs: bool,
}

/// How the harness understood a frame's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoded {
    /// A message that decoded: `name` is the message kind as a suite names it
    /// (`routing_activation_response`), `summary` one line of its fields.
    Message { name: String, summary: String },
    /// The bytes did not decode; `error` names the field and the rule.
    Error { error: String },
    /// Not decoded on purpose (raw chunks of a `send_raw`, CAN frames of a raw step).
    Raw,
}

/// Something people should see in the transcript: a handler answered an alive check, a UDS
/// 0x78 extended the wait, a retry began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEvent {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub text: String,
}

/// How the note ends that a case gets when the recording limits (profile `recording.*`) left
/// frames out: `N frames (B bytes) were exchanged but not recorded`. Reports count such cases.
pub const UNRECORDED_NOTE_END: &str = "were exchanged but not recorded";

/// A value recorded by a `measure` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricEvent {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub name: String,
    #[serde(rename = "value_us", alias = "value", with = "duration_us")]
    pub value: Duration,
    /// The step's `min:` (fail when shorter), resolved; `None` when not given.
    #[serde(rename = "min_us", with = "opt_duration_us", default)]
    pub min: Option<Duration>,
    /// The step's `max:` (fail when longer), resolved; `None` when not given.
    #[serde(rename = "max_us", with = "opt_duration_us", default)]
    pub max: Option<Duration>,
    /// `timing.tolerance`: slack allowed past `max`.
    #[serde(rename = "tolerance_us", with = "duration_us", default)]
    pub tolerance: Duration,
}

/// Why a case did not pass: the first failure only (later ones are consequences).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reason {
    /// One sentence: `expected routing_activation_response within 2s, got generic_nack`.
    pub message: String,
    /// The step that failed, when a step did.
    pub step: Option<StepRef>,
    /// Field by field, what the step expected and what arrived (empty when not about fields).
    pub fields: Vec<FieldMismatch>,
    /// The expected bytes as a pattern (`02 fd 00 00 ?? ?? ?? ??`), when the step had one.
    pub expected_hex: Option<String>,
    /// The bytes that arrived instead, when some did.
    #[serde(with = "opt_hex_bytes")]
    pub actual_bytes: Option<Vec<u8>>,
    /// How the harness decoded `actual_bytes`.
    pub actual_decoded: Option<Decoded>,
}

/// One field that did not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMismatch {
    /// Dotted path: `routing_activation_response.response_code`.
    pub field: String,
    /// The matcher, as written after substitution: `0x10`, `one_of [0x10, 0x11]`, `any`.
    pub expected: String,
    /// The value that arrived, or `absent`.
    pub actual: String,
}

/// A case ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFinished {
    pub case: CaseKey,
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub verdict: Verdict,
    /// Why, for every verdict except `pass` (for `skipped`: the missing requirement).
    pub reason: Option<Reason>,
    /// From `CaseStarted` to now, over all attempts.
    #[serde(rename = "duration_us", alias = "duration", with = "duration_us")]
    pub duration: Duration,
    /// Attempts made (1 without `retry:`).
    pub attempts: u32,
    /// Passed only after an earlier attempt failed.
    pub flaky: bool,
    /// Where the capture of this case is written. The runner leaves it `None`: the report
    /// stage owns the capture policy (`--pcap`: failing cases, all, none) and fills it in
    /// (`report::FileReports`) before any reporter sees the event; the capture sink writes
    /// exactly there.
    #[serde(serialize_with = "ser_opt_path")]
    pub capture: Option<PathBuf>,
    /// The waiver that accepts this failure (`--waivers`): like `capture`, the report stage
    /// fills it in before any reporter sees the event. The verdict stays what the target
    /// earned; reports show the case as `waived` and count it apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverRef>,
}

/// A waiver as the reports name it (docs/reports.md#waivers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverRef {
    /// What the waiver names: a case id (glob) or a rule.
    pub matches: String,
    pub reason: String,
    pub accepted_by: String,
    /// The last day it holds, `YYYY-MM-DD`.
    pub until: String,
}

/// How many cases ended with each verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub pass: u32,
    pub fail: u32,
    pub inconclusive: u32,
    pub error: u32,
    pub skipped: u32,
    /// Passed after a retry (also counted in `pass`).
    pub flaky: u32,
    /// Failures a waiver accepts (not counted in `fail`, `error` or `inconclusive`).
    #[serde(default)]
    pub waived: u32,
}

impl Counts {
    pub fn add(&mut self, verdict: Verdict, flaky: bool) {
        let slot = match verdict {
            Verdict::Pass => &mut self.pass,
            Verdict::Fail => &mut self.fail,
            Verdict::Inconclusive => &mut self.inconclusive,
            Verdict::Error => &mut self.error,
            Verdict::Skipped => &mut self.skipped,
        };
        *slot = slot.saturating_add(1);
        if flaky {
            self.flaky = self.flaky.saturating_add(1);
        }
    }

    /// Counts a finished case: a waived failure as `waived`, anything else by its verdict.
    pub fn add_case(&mut self, f: &CaseFinished) {
        if f.waiver.is_some() && f.verdict.is_failure() {
            self.waived = self.waived.saturating_add(1);
        } else {
            self.add(f.verdict, f.flaky);
        }
    }

    pub fn total(&self) -> u32 {
        self.pass
            .saturating_add(self.waived)
            .saturating_add(self.fail)
            .saturating_add(self.inconclusive)
            .saturating_add(self.error)
            .saturating_add(self.skipped)
    }

    /// Whether the run should exit with `exit::FAILURE`.
    pub fn any_failure(&self) -> bool {
        self.fail > 0 || self.inconclusive > 0 || self.error > 0
    }
}

/// The run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinished {
    #[serde(rename = "at_us", alias = "at")]
    pub at: RunTime,
    pub counts: Counts,
    /// Ctrl-C or `--fail-fast` stopped the run before every planned case ran.
    pub interrupted: bool,
    /// Why it stopped early, when it did: `interrupted (SIGTERM)`, `fail-fast after the first failing case`.
    pub stop_reason: Option<String>,
}

/// `Duration` as integer microseconds (what every `*_us` field holds).
mod duration_us {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_micros)
    }
}

/// `Option<Duration>` as integer microseconds or `null`.
mod opt_duration_us {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_micros))
    }
}

/// Bytes as one lowercase hex string.
mod hex_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// Optional bytes as one lowercase hex string or `null`.
mod opt_hex_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        text.map(|t| hex::decode(t.as_bytes()).map_err(serde::de::Error::custom)).transpose()
    }
}

fn ser_path<S: Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

fn ser_opt_path<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(&p.to_string_lossy()),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_info() -> CaseInfo {
        CaseInfo {
            suite_file: PathBuf::from("suites/doip/header.yaml"),
            suite: "doip-header-handling".into(),
            suite_title: "Generic header handling".into(),
            id: "HDR-INV-001".into(),
            title: "inverse version mismatch is NACKed".into(),
            clause: Some("ISO 13400-2:2019 Table 19".into()),
            tags: vec!["nack".into()],
            requires: vec!["doip.tcp".into()],
            detects: vec![],
            matrix: vec![],
            line: 12,
        }
    }

    #[test]
    fn events_serialize_with_tag_micros_and_hex() {
        let local: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:13400".parse().unwrap();
        let events = [
            Event::CaseStarted(CaseStarted {
                case: CaseKey(0),
                at: RunTime(Duration::from_micros(1500)),
                info: sample_info(),
            }),
            Event::Frame(FrameEvent {
                case: CaseKey(0),
                at: RunTime(Duration::from_millis(2)),
                direction: Direction::Received,
                transport: FrameTransport::Tcp,
                local: Address::Socket(local),
                peer: Address::Socket(peer),
                can: None,
                bytes: vec![0x02, 0xfd, 0x00, 0x00, 0, 0, 0, 1, 0],
                decoded: Decoded::Message {
                    name: "generic_nack".into(),
                    summary: "generic_nack code=incorrect_pattern_format".into(),
                },
            }),
            Event::CaseFinished(CaseFinished {
                case: CaseKey(0),
                at: RunTime(Duration::from_millis(3)),
                verdict: Verdict::Fail,
                reason: Some(Reason {
                    message: "socket stayed open".into(),
                    actual_bytes: Some(vec![0xab]),
                    ..Reason::default()
                }),
                duration: Duration::from_micros(1500),
                attempts: 1,
                flaky: false,
                capture: Some(PathBuf::from("reports/captures/HDR-INV-001.pcapng")),
                waiver: None,
            }),
        ];
        let json: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        assert!(
            json[0].starts_with(r#"{"event":"case_started","case":0,"at_us":1500,"#),
            "{}",
            json[0]
        );
        assert!(json[1].contains(r#""bytes":"02fd00000000000100""#), "{}", json[1]);
        assert!(json[1].contains(r#""local":{"socket":"127.0.0.1:50000"}"#), "{}", json[1]);
        assert!(json[2].contains(r#""verdict":"fail""#), "{}", json[2]);
        assert!(json[2].contains(r#""actual_bytes":"ab""#), "{}", json[2]);
        assert!(json[2].contains(r#""duration_us":1500"#), "{}", json[2]);
        // The JSON reads back as the same events (`doipcheck report --from`).
        for (text, event) in json.iter().zip(&events) {
            assert_eq!(&serde_json::from_str::<Event>(text).unwrap(), event, "{text}");
        }
        // Format 1 named times without their unit; those names still read.
        let v1 = json[0].replace("\"at_us\"", "\"at\"");
        assert_eq!(serde_json::from_str::<Event>(&v1).unwrap(), events[0]);
    }

    #[test]
    fn verdicts_order_from_best_to_worst() {
        let mut v =
            [Verdict::Error, Verdict::Pass, Verdict::Fail, Verdict::Skipped, Verdict::Inconclusive];
        v.sort();
        assert_eq!(
            v,
            [Verdict::Skipped, Verdict::Pass, Verdict::Inconclusive, Verdict::Fail, Verdict::Error]
        );
        assert!(!Verdict::Skipped.is_failure() && !Verdict::Pass.is_failure());
        assert!(Verdict::Inconclusive.is_failure());
    }

    #[test]
    fn counts_add_up_and_flag_failures() {
        let mut c = Counts::default();
        c.add(Verdict::Pass, true);
        c.add(Verdict::Skipped, false);
        assert_eq!((c.total(), c.flaky), (2, 1));
        assert!(!c.any_failure());
        c.add(Verdict::Inconclusive, false);
        assert!(c.any_failure());
    }
}
