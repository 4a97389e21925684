//! A finding as a suite case that `doipcheck run` replays: each minimized fuzz case on its own
//! connection (reaching its start state with the suite's own steps), its bytes as `send_raw`
//! with the recorded segmentation, then the oracle that failed as ordinary steps (a fresh
//! connection and routing activation, an alive check, a vehicle identification, a tester
//! present), so that the case fails against the target that broke and passes against a
//! conformant one.

use super::{Action, FuzzCase, StartState};
use crate::import::yaml::{Node, render};
use crate::notation::hex_spaced as format_hex;
use core::fmt;
use core::ops::Range;

/// The pause between the pieces of a dripped message, in the fuzzer and in the repro: long
/// enough for the entity to read each piece on its own.
pub const DRIP_PAUSE_MS: u64 = 2;

/// The check that failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Oracle {
    /// A fresh TCP connection and routing activation did not succeed.
    Activation,
    /// A fresh TLS connection (to the TLS data port, ISO 13400-2:2019 §9.1.1) and routing
    /// activation on it did not succeed: the TLS service, tracked apart from the TCP one.
    TlsActivation,
    /// An alive check request on an activated socket got no alive check response.
    AliveCheck,
    /// A vehicle identification request over UDP got no vehicle announcement.
    Identification,
    /// UDS TesterPresent (`3E 00`) to this logical address got no `7E 00`.
    TesterPresent(u16),
    /// ISO-TP: TesterPresent (`3E 00`) as a single frame got no `7E 00`.
    IsoTpTesterPresent,
    /// ISO-TP: a segmented request (first frame, flow control, consecutive frames) was not
    /// taken and answered.
    IsoTpReception,
    /// ISO-TP: a segmented answer (the node's first frame, our flow control, its consecutive
    /// frames) did not arrive whole.
    IsoTpTransmission,
    /// A reply broke a rule of the judge (its id in [`crate::judge::RULES`], docs/rules.md).
    Rule(&'static str),
    /// More messages than a bound after one case (a flood).
    Flood,
    /// The user's `--monitor` command failed.
    Monitor,
}

/// A reply that broke a rule: the oracle naming it (a rule of the judge, docs/rules.md) and
/// what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyViolation {
    pub oracle: Oracle,
    pub detail: String,
}

impl Oracle {
    /// Stable name (finding.json, de-duplication, console).
    pub fn name(&self) -> String {
        match self {
            Oracle::Activation => "liveness.activation".into(),
            Oracle::TlsActivation => "liveness.tls_activation".into(),
            Oracle::AliveCheck => "liveness.alive_check".into(),
            Oracle::Identification => "liveness.vehicle_identification".into(),
            Oracle::TesterPresent(a) => format!("liveness.tester_present.0x{a:04X}"),
            Oracle::IsoTpTesterPresent => "liveness.isotp.tester_present".into(),
            Oracle::IsoTpReception => "liveness.isotp.segmented_request".into(),
            Oracle::IsoTpTransmission => "liveness.isotp.segmented_answer".into(),
            Oracle::Rule(id) => (*id).to_owned(),
            Oracle::Flood => "flood".into(),
            Oracle::Monitor => "monitor".into(),
        }
    }

    /// Whether the oracle is a rule a reply broke (a finding by itself, without a liveness
    /// check).
    pub fn is_reply_rule(&self) -> bool {
        matches!(self, Oracle::Rule(_))
    }

    /// Whether the oracle is a liveness check (restoring the target is then needed).
    pub fn is_liveness(&self) -> bool {
        matches!(
            self,
            Oracle::Activation
                | Oracle::TlsActivation
                | Oracle::AliveCheck
                | Oracle::Identification
                | Oracle::TesterPresent(_)
                | Oracle::IsoTpTesterPresent
                | Oracle::IsoTpReception
                | Oracle::IsoTpTransmission
        )
    }
}

impl fmt::Display for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// What the repro needs besides the cases.
#[derive(Debug, Clone)]
pub struct ReproInput<'a> {
    /// Finding number (the directory name).
    pub number: u32,
    /// The run's seed.
    pub seed: u64,
    /// The minimized cases, in order.
    pub cases: &'a [FuzzCase],
    /// The oracle that failed, and what it saw.
    pub oracle: &'a Oracle,
    /// The oracle's message.
    pub detail: &'a str,
    /// The first half of the diagnostic message a `MidMessage` case starts in.
    pub mid_message_prefix: &'a [u8],
}

/// A finding as a suite file, and which of its steps state the symptom the fuzzer saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repro {
    /// The suite file (YAML text).
    pub yaml: String,
    /// Indexes (in the case's `steps`) of the steps that state the oracle: a run of the repro
    /// shows the finding's symptom only when it fails at one of these (an earlier step that
    /// fails, e.g. reaching a start state, is another symptom). `None` when no step states it
    /// (a reply rule without a step, a flood, the monitor): the repro replays the traffic only.
    pub symptom_steps: Option<Range<u32>>,
}

impl Repro {
    /// The repro of `steps`, whose symptom steps run from `symptom_from` to the end.
    pub(super) fn new(yaml: String, symptom_from: Option<usize>, steps: usize) -> Self {
        let symptom_steps =
            symptom_from.filter(|&from| from < steps).map(|from| from as u32..steps as u32);
        Repro { yaml, symptom_steps }
    }
}

/// The suite file of a finding.
pub fn repro_yaml(input: &ReproInput<'_>) -> Repro {
    let mut steps = Vec::new();
    let mut requires = vec!["doip.tcp"];
    let mut uses_udp = false;
    for (k, case) in input.cases.iter().enumerate() {
        let conn = format!("case{}", k + 1);
        case_steps(case, &conn, input.mid_message_prefix, &mut steps, &mut uses_udp);
        if case.tls {
            requires.push("doip.tls");
        }
    }
    let mut handlers = Vec::new();
    // The last case's connection, when it is still open at its end (ours to close).
    let last = input.cases.last().filter(|c| c.state != StartState::Udp && !c.closes());
    let last = last.map(|_| format!("case{}", input.cases.len()));
    let symptom_from = oracle_steps(
        input.oracle,
        last.as_deref(),
        &mut steps,
        &mut requires,
        &mut uses_udp,
        &mut handlers,
    );
    let step_count = steps.len();
    if uses_udp {
        requires.push("doip.udp");
    }
    requires.sort_unstable();
    requires.dedup();
    let id = format!("FUZZ-{:04}", input.number);
    let mut indexes: Vec<String> =
        input.cases.iter().take(5).map(|c| c.index.to_string()).collect();
    if input.cases.len() > 5 {
        indexes.push("...".into());
    }
    let title = format!(
        "{} after {} fuzz case(s) (seed {}, case {})",
        input.oracle,
        input.cases.len(),
        input.seed,
        indexes.join(", ")
    );
    let mut case = vec![
        ("id".to_string(), Node::plain(id)),
        ("title".to_string(), Node::text(title)),
        ("tags".to_string(), Node::seq([Node::plain("fuzz")])),
        ("requires".to_string(), Node::seq(requires.iter().map(|r| Node::plain(*r)))),
    ];
    if !handlers.is_empty() {
        case.push(("handlers".into(), Node::seq(handlers.into_iter().map(Node::plain))));
    }
    case.push(("steps".into(), Node::seq(steps)));
    let first = format!(
        "Finding {:04} of `doipcheck fuzz --seed {}`: {}",
        input.number, input.seed, input.oracle
    );
    let yaml =
        finding_suite(input.number, input.detail, first, "[--target HOST --profile P]", case);
    Repro::new(yaml, symptom_from, step_count)
}

/// The suite file of finding `number` with its one `case`, under a header of `first` (which
/// run found it, with what oracle), what the oracle saw, and how to replay it (`replay_args`).
pub(super) fn finding_suite(
    number: u32,
    detail: &str,
    first: String,
    replay_args: &str,
    case: Vec<(String, Node)>,
) -> String {
    let root = Node::map([
        ("suite", Node::plain(format!("fuzz-finding-{number:04}"))),
        ("title", Node::text(format!("doipcheck fuzz finding {number:04}: {detail}"))),
        ("cases", Node::seq([Node::Map(case)])),
    ]);
    let header = vec![
        first,
        format!("What the oracle saw: {detail}"),
        format!("Replay: doipcheck run THIS_FILE {replay_args}"),
    ];
    render(&header, &root)
}

fn with_conn(conn: &str, mut entries: Vec<(String, Node)>) -> Node {
    entries.push(("connection".into(), Node::plain(conn)));
    Node::Map(entries)
}

/// `connect` of `conn`, over TLS to the TLS data port when `tls` (the suite's
/// `transport: tls`, as `run` connects for `requires: [doip.tls]` cases).
fn connect(conn: &str, tls: bool) -> Node {
    let transport = tls.then(|| ("transport".to_string(), Node::plain("tls")));
    Node::entry("connect", with_conn(conn, transport.into_iter().collect()))
}

fn case_steps(
    case: &FuzzCase,
    conn: &str,
    prefix: &[u8],
    steps: &mut Vec<Node>,
    uses_udp: &mut bool,
) {
    if case.state != StartState::Udp {
        steps.push(connect(conn, case.tls));
    }
    if case.state.activated() {
        steps.push(Node::entry("activate", with_conn(conn, vec![])));
    }
    if case.state == StartState::ExtendedSession {
        let diag = Node::map([("user_data", Node::text("10 03"))]);
        steps.push(Node::entry("send", with_conn(conn, vec![("diagnostic_message".into(), diag)])));
        steps.push(Node::entry("wait", Node::text("${profile.uds.p2}")));
    }
    if case.state == StartState::MidMessage {
        steps.push(send_raw(conn, prefix, &[], 0));
    }
    // Consecutive writes on the case's connection become one send_raw with their boundaries
    // as chunks, so that a close by the entity between them cannot fail a later step.
    let mut pending: Vec<u8> = Vec::new();
    let mut chunks: Vec<usize> = Vec::new();
    let flush = |pending: &mut Vec<u8>, chunks: &mut Vec<usize>, steps: &mut Vec<Node>| {
        if !pending.is_empty() {
            chunks.pop();
            steps.push(send_raw(conn, pending, chunks, 0));
        }
        pending.clear();
        chunks.clear();
    };
    for action in &case.actions {
        match action {
            Action::Send(bytes) => {
                pending.extend(bytes);
                chunks.push(bytes.len());
            }
            Action::Drip { bytes, chunks: pieces } => {
                flush(&mut pending, &mut chunks, steps);
                steps.push(send_raw(conn, bytes, pieces, DRIP_PAUSE_MS));
            }
            Action::SecondSocket(bytes) => {
                flush(&mut pending, &mut chunks, steps);
                let second = format!("{conn}b");
                steps.push(connect(&second, case.tls));
                steps.push(send_raw(&second, bytes, &[], 0));
            }
            Action::Close => {
                flush(&mut pending, &mut chunks, steps);
                steps.push(Node::entry("disconnect", with_conn(conn, vec![])));
            }
            Action::Udp(bytes) => {
                flush(&mut pending, &mut chunks, steps);
                *uses_udp = true;
                steps.push(Node::entry(
                    "udp_send",
                    Node::map([("hex", Node::text(format_hex(bytes)))]),
                ));
            }
        }
    }
    flush(&mut pending, &mut chunks, steps);
}

/// The answers an entity gives over UDP other than the announcement (ISO 13400-2:2019
/// Table 17): what the fuzz case's datagrams may draw before the identification probe's.
const UDP_ANSWERS_PASSED_OVER: &[&str] =
    &["generic_nack", "entity_status_response", "power_mode_information_response"];

fn send_raw(conn: &str, bytes: &[u8], chunks: &[usize], delay_ms: u64) -> Node {
    let mut body = vec![("hex".to_string(), Node::text(format_hex(bytes)))];
    if !chunks.is_empty() {
        body.push(("chunks".into(), Node::seq(chunks.iter().map(|c| Node::plain(c.to_string())))));
    }
    if delay_ms > 0 {
        body.push(("delay".into(), Node::plain(format!("{delay_ms}ms"))));
    }
    Node::entry("send_raw", with_conn(conn, body))
}

/// Appends the steps that ask `oracle`; returns the index of the first step whose failure is
/// the oracle's symptom (after the probe's own connection and activation, for the probes that
/// need one), or `None` when no step states it.
fn oracle_steps(
    oracle: &Oracle,
    last_conn: Option<&str>,
    steps: &mut Vec<Node>,
    requires: &mut Vec<&'static str>,
    uses_udp: &mut bool,
    handlers: &mut Vec<&'static str>,
) -> Option<usize> {
    let probe = "probe";
    let activated_over = |steps: &mut Vec<Node>, tls: bool| {
        steps.push(connect(probe, tls));
        steps.push(Node::entry("activate", with_conn(probe, vec![])));
    };
    let activated = |steps: &mut Vec<Node>| activated_over(steps, false);
    let first = steps.len();
    match oracle {
        Oracle::Activation => {
            activated(steps);
            Some(first)
        }
        Oracle::TlsActivation => {
            requires.push("doip.tls");
            activated_over(steps, true);
            Some(first)
        }
        Oracle::AliveCheck => {
            requires.push("doip.alive_check");
            activated(steps);
            let symptom = steps.len();
            steps.push(Node::entry(
                "send",
                with_conn(
                    probe,
                    vec![("alive_check_request".into(), Node::map(Vec::<(String, Node)>::new()))],
                ),
            ));
            steps.push(Node::entry(
                "expect",
                with_conn(
                    probe,
                    vec![("alive_check_response".into(), Node::map(Vec::<(String, Node)>::new()))],
                ),
            ));
            Some(symptom)
        }
        Oracle::Identification => {
            // The fuzz case's own datagrams share the case's UDP socket: a conformant entity
            // answers them (a generic NACK for a malformed one), and the probe, as the
            // fuzzer's, waits for the announcement past those answers.
            let mut expect =
                vec![("vehicle_announcement".to_string(), Node::map(Vec::<(String, Node)>::new()))];
            if *uses_udp {
                let kinds = UDP_ANSWERS_PASSED_OVER.iter().map(|k| Node::plain(*k));
                expect.push(("pass_over".into(), Node::seq(kinds)));
            }
            *uses_udp = true;
            steps.push(Node::entry(
                "udp_send",
                Node::map([(
                    "vehicle_identification_request",
                    Node::map(Vec::<(String, Node)>::new()),
                )]),
            ));
            steps.push(Node::entry("udp_expect", Node::Map(expect)));
            Some(first)
        }
        Oracle::TesterPresent(address) => {
            requires.push("uds");
            handlers.push("tolerate_response_pending");
            activated(steps);
            let symptom = steps.len();
            let target = Node::plain(format!("0x{address:04X}"));
            steps.push(Node::entry(
                "send",
                with_conn(
                    probe,
                    vec![(
                        "diagnostic_message".into(),
                        Node::map([
                            ("target_address", target.clone()),
                            ("user_data", Node::text("3E 00")),
                        ]),
                    )],
                ),
            ));
            steps.push(Node::entry(
                "expect",
                with_conn(
                    probe,
                    vec![(
                        "diagnostic_message_ack".into(),
                        Node::map(Vec::<(String, Node)>::new()),
                    )],
                ),
            ));
            steps.push(Node::entry(
                "expect",
                with_conn(
                    probe,
                    vec![
                        (
                            "diagnostic_message".into(),
                            Node::map([
                                ("source_address", target),
                                ("user_data", Node::text("7E 00")),
                            ]),
                        ),
                        ("within".into(), Node::text("${profile.uds.p2}")),
                    ],
                ),
            ));
            Some(symptom)
        }
        // The judge of `run` states a rule: the repro replays the traffic, and the run fails
        // with the rule's id when the target breaks it again. A socket's fate is judged by
        // who closes when: the case waits past the judge's grace, then closes its side.
        Oracle::Rule(id) => {
            if id.ends_with("socket_fate")
                && let Some(conn) = last_conn
            {
                let wait = crate::judge::CLOSE_GRACE * 2;
                steps.push(Node::entry("wait", Node::plain(format!("{}ms", wait.as_millis()))));
                steps.push(Node::entry("disconnect", with_conn(conn, vec![])));
            }
            None
        }
        // A flood and the user's monitor have no step that states them for any target: the
        // repro replays the traffic, and its capture shows the replies.
        Oracle::Flood | Oracle::Monitor => None,
        // ISO-TP oracles are written by `isotp::repro_can_yaml`.
        Oracle::IsoTpTesterPresent | Oracle::IsoTpReception | Oracle::IsoTpTransmission => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repro_of(oracle: &Oracle) -> Repro {
        let case = FuzzCase {
            index: 7,
            state: StartState::Activated,
            mutation: "uds_length",
            payload_type: 0x8001,
            actions: vec![Action::Send(vec![0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 0])],
            tls: false,
        };
        repro_of_case(case, oracle)
    }

    fn repro_of_case(case: FuzzCase, oracle: &Oracle) -> Repro {
        repro_yaml(&ReproInput {
            number: 1,
            seed: 0,
            cases: &[case],
            oracle,
            detail: "silence",
            mid_message_prefix: &[],
        })
    }

    /// A case that went over TLS is replayed over TLS (each of its connections), and the
    /// repro requires `doip.tls`; the TLS service's probe is a TLS connection and activation.
    #[test]
    fn a_tls_case_and_the_tls_probe_are_replayed_over_tls() {
        let case = FuzzCase {
            index: 64,
            state: StartState::Connected,
            mutation: "second_socket",
            payload_type: 0x0005,
            actions: vec![
                Action::Send(vec![0x02, 0xFD, 0, 7, 0, 0, 0, 0]),
                Action::SecondSocket(vec![0x02, 0xFD, 0, 7, 0, 0, 0, 0]),
            ],
            tls: true,
        };
        let repro = repro_of_case(case.clone(), &Oracle::AliveCheck);
        let yaml = &repro.yaml;
        assert!(yaml.contains("- connect: { transport: tls, connection: case1 }"), "{yaml}");
        assert!(yaml.contains("- connect: { transport: tls, connection: case1b }"), "{yaml}");
        assert!(yaml.contains("- connect: { connection: probe }"), "{yaml}");
        assert!(yaml.contains("doip.tls"), "{yaml}");
        let repro = repro_of_case(case, &Oracle::TlsActivation);
        assert!(
            repro.yaml.contains("- connect: { transport: tls, connection: probe }"),
            "{}",
            repro.yaml
        );
        // The case's two connects, then the probe's connect and activate state the symptom.
        assert_eq!(repro.symptom_steps, Some(4..6));
        let plain = repro_of(&Oracle::Activation).yaml;
        assert!(!plain.contains("tls"), "{plain}");
    }

    #[test]
    fn the_symptom_is_the_oracles_own_steps_not_reaching_the_state_or_the_probe() {
        // The case: connect, activate, send_raw (0..3); the probe: connect, activate (3..5);
        // then what the oracle asks.
        assert_eq!(repro_of(&Oracle::TesterPresent(0x0010)).symptom_steps, Some(5..8));
        assert_eq!(repro_of(&Oracle::AliveCheck).symptom_steps, Some(5..7));
        assert_eq!(repro_of(&Oracle::Activation).symptom_steps, Some(3..5));
        assert_eq!(repro_of(&Oracle::Identification).symptom_steps, Some(3..5));
        // No step states a rule of the judge (the run's judge does, by its id), a flood or
        // the monitor.
        for oracle in [Oracle::Rule("doip.defined_code"), Oracle::Flood, Oracle::Monitor] {
            assert_eq!(repro_of(&oracle).symptom_steps, None, "{oracle}");
        }
    }

    /// A socket's fate is judged by who closes when: its repro waits past the judge's grace
    /// before the case ends and closes our side.
    #[test]
    fn a_socket_fate_repro_waits_past_the_judges_grace() {
        let grace = crate::judge::CLOSE_GRACE.as_millis() * 2;
        let fate = repro_of(&Oracle::Rule("doip.socket_fate")).yaml;
        assert!(fate.contains(&format!("- wait: {grace}ms")), "{fate}");
        assert!(fate.contains("- disconnect: { connection: case1 }"), "{fate}");
        assert!(!repro_of(&Oracle::Rule("doip.nack_code")).yaml.contains("wait"));
    }
}
