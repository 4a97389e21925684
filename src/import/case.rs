//! Conversations to cases: the steps of each, in recorded order, with the tester's pauses
//! (`--pace recorded`) and the profile timer bounding each answer.
//!
//! May import: `crate::codec`, `crate::pcap`, `crate::notation`.

use std::time::Duration;

use crate::codec::doip::{Message, Payload};
use crate::codec::uds::Response;
use crate::notation::{format_duration, hex_spaced};
use crate::pcap::Side;
use crate::pcap::read::{At, IsoTpPair};

use super::fields::{expect_body, message_name, send_body, uds_pattern};
use super::yaml::{Item, Node, render};
use super::{Connection, Happening, ImportOptions, Pace, Seen};

/// The handler that takes UDS "response pending" answers (`7F <SID> 78`, ISO 14229-1): the
/// recorded ones are not expected, since their number and timing are the target's choice.
const PENDING_HANDLER: &str = "tolerate_response_pending";

/// Connections that overlap in time, in capture order, each group one case; TLS connections
/// (not replayable: encrypted) and connections that carried nothing and were not seen from
/// their start (a stray ACK after the close) are left out. Returns the groups and how many
/// TLS connections were left out.
pub(crate) fn group_connections(connections: Vec<Connection>) -> (Vec<Vec<Connection>>, usize) {
    let tls = connections.iter().filter(|c| c.tls).count();
    let mut groups: Vec<Vec<Connection>> = Vec::new();
    let mut group_end = 0u64;
    for c in connections {
        let carried = c
            .seen
            .iter()
            .any(|s| matches!(s.what, Happening::TesterData(_) | Happening::EntityMessage { .. }));
        if c.tls || (!c.handshake && !carried) {
            continue;
        }
        let first = c.seen.first().map_or(c.last.packet, |s| s.at.packet);
        match groups.last_mut() {
            Some(group) if first <= group_end => {
                group_end = group_end.max(c.last.packet);
                group.push(c);
            }
            _ => {
                group_end = c.last.packet;
                groups.push(vec![c]);
            }
        }
    }
    (groups, tls)
}

/// The whole suite.
pub(crate) fn suite(options: &ImportOptions, cases: Vec<Node>, tls_left_out: usize) -> String {
    let mut header = vec![
        format!("Imported by `doipcheck import` from {}.", options.source),
        "Each case is one recorded conversation: the tester's side is sent again, the entity's answers are expected as recorded.".into(),
        format!(
            "Pace: {}. Masked (matched with any / ??): {}.",
            match options.pace {
                Pace::Recorded => "recorded (the tester's pauses are waits)",
                Pace::Fast => "fast (no waits)",
            },
            if options.masks.names.is_empty() { "nothing".into() } else { options.masks.names.join(", ") }
        ),
    ];
    if tls_left_out > 0 {
        header.push(format!(
            "{tls_left_out} TLS connection(s) left out: their payload is encrypted."
        ));
    }
    let root = Node::map([
        ("suite", Node::plain(options.name.clone())),
        ("title", Node::text(format!("Recorded conversations of {}", options.source))),
        ("cases", Node::seq(cases)),
    ]);
    render(&header, &root)
}

/// Builds one case's steps.
struct Steps<'o> {
    options: &'o ImportOptions,
    steps: Vec<Item>,
    /// Comments for the next step.
    comments: Vec<String>,
    /// When the last step's event happened: pauses and answer delays count from it.
    last: Duration,
    pending_handler: bool,
    /// A response pending was passed over: the next UDS answer is bounded by P2*.
    after_pending: bool,
    first: Option<At>,
    end: At,
}

impl<'o> Steps<'o> {
    fn new(options: &'o ImportOptions) -> Self {
        Steps {
            options,
            steps: Vec::new(),
            comments: Vec::new(),
            last: Duration::ZERO,
            pending_handler: false,
            after_pending: false,
            first: None,
            end: At { packet: 0, time: Duration::ZERO },
        }
    }

    fn seen(&mut self, at: At) {
        if self.first.is_none() {
            self.first = Some(at);
            self.last = at.time;
        }
        self.end = at;
    }

    fn push(&mut self, comment: String, node: Node) {
        let mut comments = std::mem::take(&mut self.comments);
        comments.push(comment);
        self.steps.push(Item { comments, node });
    }

    /// A tester action at `at`: after a `wait` for the recorded pause (whole milliseconds,
    /// none below 1 ms) when pacing as recorded.
    fn action(&mut self, at: At, comment: String, node: Node) {
        self.seen(at);
        if self.options.pace == Pace::Recorded {
            let pause = at.time.saturating_sub(self.last);
            let ms = (pause.as_micros() + 500) / 1000;
            if ms >= 1 {
                let wait = Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
                self.steps.push(Item {
                    comments: Vec::new(),
                    node: Node::entry("wait", Node::plain(format_duration(wait))),
                });
            }
        }
        self.push(comment, node);
        self.last = at.time;
    }

    /// An answer at `at`: `body` gets `within`, the profile timer that bounds it.
    fn answer(&mut self, at: At, kind: &str, comment: String, mut body: Vec<(String, Node)>) {
        self.seen(at);
        let delay = at.time.saturating_sub(self.last);
        let uds = matches!(kind, "diagnostic_message" | "isotp");
        // After "response pending" the server has P2* for its answer (ISO 14229-2).
        let preferred =
            if uds && self.after_pending { "uds.p2_star" } else { preferred_timer(kind) };
        self.after_pending &= !uds;
        if kind == "close" {
            body.extend(self.close_bounds(delay));
        } else {
            body.push(("within".into(), self.bound(preferred, delay)));
        }
        self.push(comment, Node::entry(kind_step(kind), Node::Map(body)));
        self.last = at.time;
    }

    /// The preferred timer when the recorded delay fits it (with the tolerance the runner
    /// grants), else the smallest profile timer it fits, else the delay rounded up to 100 ms.
    fn bound(&self, preferred: &str, delay: Duration) -> Node {
        let tolerance = self.options.tolerance;
        let fits = |t: &&super::Timer| t.value.saturating_add(tolerance) >= delay;
        let timers = &self.options.timers;
        let chosen = timers
            .iter()
            .find(|t| t.key == preferred)
            .filter(fits)
            .or_else(|| timers.iter().filter(fits).min_by_key(|t| t.value));
        match chosen {
            Some(t) => Node::text(format!("${{profile.{}}}", t.key)),
            None => {
                let tenths = delay.as_millis().div_ceil(100).max(1);
                let rounded =
                    Duration::from_millis(u64::try_from(tenths * 100).unwrap_or(u64::MAX));
                Node::plain(format_duration(rounded))
            }
        }
    }

    /// A UDP request the entity did not answer (a VIN or EID not its own, ISO 13400-2:2019
    /// §9.2): nothing may come for A_DoIP_Ctrl, or until the tester's next datagram when that
    /// came sooner.
    fn udp_silence(&mut self, sent: At, next: Option<At>) {
        let ctrl = "timing.a_doip_ctrl";
        let ctrl_value = self.options.timers.iter().find(|t| t.key == ctrl).map(|t| t.value);
        let gap = next.map(|n| n.time.saturating_sub(sent.time));
        let (span, node) = match (ctrl_value, gap) {
            (Some(c), Some(g)) if g < c => {
                let ms = Duration::from_millis(u64::try_from(g.as_millis()).unwrap_or(u64::MAX));
                (ms, Node::plain(format_duration(ms)))
            }
            (Some(c), _) => (c, Node::text(format!("${{profile.{ctrl}}}"))),
            (None, _) => (Duration::from_secs(2), Node::plain("2s")),
        };
        let body = Node::map([("connection", Node::plain("udp")), ("for", node)]);
        self.push("no answer was recorded".into(), Node::entry("expect_none", body));
        self.last = self.last.max(sent.time.saturating_add(span));
    }

    /// A close: one a timer caused (the recorded delay is that timer, give or take the
    /// tolerance and a tenth) is expected at that timer from both sides (`not_before` and
    /// `within`: a timer that fires early or never fails); any other close was the entity's
    /// reaction to the last message, and is expected within twice its recorded delay (at
    /// least 100 ms), well before an inactivity timer would close the socket instead.
    fn close_bounds(&self, delay: Duration) -> Vec<(String, Node)> {
        let slack = |t: Duration| self.options.tolerance.saturating_add(t / 10);
        let timer = self.options.timers.iter().find(|t| {
            t.key.starts_with("timing.t_tcp") && delay.abs_diff(t.value) <= slack(t.value)
        });
        match timer {
            Some(t) => {
                let value = Node::text(format!("${{profile.{}}}", t.key));
                vec![("not_before".into(), value.clone()), ("within".into(), value)]
            }
            None => {
                let tenths = (delay.as_millis() * 2).div_ceil(100).max(1);
                let bound = Duration::from_millis(u64::try_from(tenths * 100).unwrap_or(u64::MAX));
                vec![("within".into(), Node::plain(format_duration(bound)))]
            }
        }
    }

    /// The case: `id`, `title`, `requires`, handlers, a timeout when the recording is long.
    fn case(self, id: String, title: String, requires: &str) -> Node {
        let mut entries = vec![
            ("id".to_string(), Node::plain(id)),
            ("title".to_string(), Node::text(title)),
            ("requires".to_string(), Node::seq([Node::plain(requires)])),
        ];
        if self.pending_handler {
            entries.push(("handlers".into(), Node::seq([Node::plain(PENDING_HANDLER)])));
        }
        // The default case timeout is 60 s (docs/suite-format.md, case keys): a longer
        // recording gets twice its length.
        let span = self.end.time.saturating_sub(self.first.map_or(Duration::ZERO, |a| a.time));
        if span > Duration::from_secs(20) {
            let secs = span.as_secs().saturating_mul(2).saturating_add(10);
            entries.push(("timeout".into(), Node::plain(format!("{secs}s"))));
        }
        let mut steps = self.steps;
        if !self.comments.is_empty() {
            // Notes after the last step: kept on an empty wait so they are not lost.
            steps.push(Item {
                comments: self.comments,
                node: Node::entry("wait", Node::plain("0")),
            });
        }
        entries.push(("steps".into(), Node::Seq(steps)));
        Node::Map(entries)
    }
}

/// The step a kind of answer is expected with.
fn kind_step(kind: &str) -> &'static str {
    match kind {
        "close" => "expect_closed",
        "raw" => "expect_raw",
        "udp" | "udp_raw" => "udp_expect",
        "isotp" => "isotp_expect",
        _ => "expect",
    }
}

/// The timer that governs an answer (ISO 13400-2:2019 Table 39; ISO 14229-2 for UDS).
pub(crate) fn preferred_timer(kind: &str) -> &'static str {
    match kind {
        "diagnostic_message_ack" | "diagnostic_message_nack" => "timing.a_doip_diagnostic_message",
        "diagnostic_message" | "isotp" => "uds.p2",
        "udp" | "udp_raw" | "raw" => "timing.a_doip_ctrl",
        _ => "timing.a_processing_time",
    }
}

/// True when `bytes` end at a DoIP message boundary (headers walked by their length field).
fn at_message_boundary(bytes: &[u8]) -> bool {
    let mut offset = 0usize;
    while let Some(len) = bytes.get(offset + 4..offset + 8) {
        let payload = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        let Some(next) = usize::try_from(payload).ok().and_then(|p| offset.checked_add(8 + p))
        else {
            return false;
        };
        offset = next;
    }
    offset == bytes.len()
}

/// A message `send` / `udp_send` writes exactly as recorded: decoded, of a known type, in
/// the profile's protocol version, and encoded back to the same bytes.
fn typed<'b>(bytes: &'b [u8], options: &ImportOptions) -> Option<(&'static str, Message<'b>)> {
    let message = Message::parse(bytes).ok()?;
    let name = message_name(&message)?;
    (message.protocol_version.raw() == options.protocol_version && message.to_bytes() == bytes)
        .then_some((name, message))
}

fn is_response_pending(user_data: &[u8]) -> bool {
    Response::parse(user_data).is_ok_and(|r| r.is_response_pending())
}

fn packets(first: u64, last: u64) -> String {
    if first == last { format!("packet {first}") } else { format!("packets {first}-{last}") }
}

/// Per connection of a case: its name in the steps and what is left of it.
struct ConnState {
    name: Option<String>,
    /// Tester segments not yet at a message boundary.
    pending: Vec<(At, Vec<u8>)>,
    closed: bool,
}

impl ConnState {
    fn with_connection(&self, mut body: Vec<(String, Node)>) -> Vec<(String, Node)> {
        if let Some(name) = &self.name {
            body.push(("connection".into(), Node::plain(name.clone())));
        }
        body
    }
}

/// The case of a group of overlapping TCP connections.
pub(crate) fn tcp_case(group: &[Connection], options: &ImportOptions) -> Node {
    let mut steps = Steps::new(options);
    let mut states: Vec<ConnState> = group
        .iter()
        .enumerate()
        .map(|(i, c)| ConnState {
            name: (i > 0).then(|| format!("conn{}", c.id)),
            pending: Vec::new(),
            closed: false,
        })
        .collect();
    let mut order: Vec<(u64, usize, usize)> = group
        .iter()
        .enumerate()
        .flat_map(|(ci, c)| c.seen.iter().enumerate().map(move |(si, s)| (s.at.packet, ci, si)))
        .collect();
    order.sort_unstable();
    for (_, ci, si) in order {
        let seen = &group[ci].seen[si];
        // What another connection held is sent before this connection's event, as recorded.
        for (other, state) in states.iter_mut().enumerate() {
            if other != ci {
                flush(&mut steps, state);
            }
        }
        let state = &mut states[ci];
        match &seen.what {
            Happening::TesterData(bytes) => {
                if !state.closed {
                    state.pending.push((seen.at, bytes.clone()));
                    let all: Vec<u8> = state.pending.iter().flat_map(|(_, b)| b.clone()).collect();
                    if at_message_boundary(&all) {
                        flush(&mut steps, state);
                    }
                }
            }
            other => {
                flush(&mut steps, state);
                tcp_happening(&mut steps, state, &group[ci], seen.at, other);
            }
        }
    }
    for state in &mut states {
        flush(&mut steps, state);
    }
    let first = &group[0];
    let ids: Vec<String> = group.iter().map(|c| c.id.to_string()).collect();
    let span = packets(
        group.iter().filter_map(|c| c.seen.first()).map(|s| s.at.packet).min().unwrap_or(0),
        group.iter().map(|c| c.last.packet).max().unwrap_or(0),
    );
    let title = if group.len() == 1 {
        format!("connection {} ({span}): {} to {}", first.id, first.tester, first.entity)
    } else {
        format!(
            "connections {} at once ({span}): {} to {}",
            ids.join(", "),
            first.tester,
            first.entity
        )
    };
    steps.case(format!("TCP-{}", ids.join("-")), title, "doip.tcp")
}

fn tcp_happening(
    steps: &mut Steps<'_>,
    state: &mut ConnState,
    conn: &Connection,
    at: At,
    what: &Happening,
) {
    let here = format!("packet {}", at.packet);
    match what {
        Happening::Opened => {
            if !conn.handshake {
                steps.comments.push(format!(
                    "connection {}: the capture starts inside it (no SYN): the replay opens it anew",
                    conn.id
                ));
            }
            steps.action(
                at,
                here,
                Node::entry("connect", Node::Map(state.with_connection(Vec::new()))),
            );
        }
        Happening::EntityMessage { .. } | Happening::Closed { .. } if state.closed => {}
        Happening::EntityMessage { bytes, complete } => {
            let decoded = Message::parse(bytes).ok().filter(|_| *complete);
            match decoded.as_ref().and_then(|m| message_name(m).map(|n| (n, m))) {
                Some((_, m)) if matches!(&m.payload, Payload::DiagnosticMessage(d) if is_response_pending(&d.user_data)) =>
                {
                    steps.pending_handler = true;
                    steps.after_pending = true;
                    steps.seen(at);
                }
                Some((name, m)) => {
                    let body = vec![(name.to_string(), expect_body(m, &steps.options.masks))];
                    steps.answer(at, name, here, state.with_connection(body));
                }
                None => {
                    let mut pattern = hex_spaced(bytes);
                    if !complete {
                        pattern.push_str(" ..");
                    }
                    let body = vec![("hex".to_string(), Node::text(pattern))];
                    steps.answer(at, "raw", here, state.with_connection(body));
                }
            }
        }
        Happening::Closed { by: Side::Tester, reset } => {
            let kind = if *reset { "abort" } else { "disconnect" };
            steps.action(at, here, Node::entry(kind, Node::Map(state.with_connection(Vec::new()))));
            state.closed = true;
        }
        Happening::Closed { by: Side::Entity, .. } => {
            steps.answer(at, "close", here, state.with_connection(Vec::new()));
            state.closed = true;
        }
        Happening::Note(text) => steps.comments.push(text.clone()),
        Happening::TesterData(_) | Happening::UdpTester(_) | Happening::IsoTp { .. } => {}
    }
}

/// Sends the tester segments held for `state`: one typed `send` for a segment that is one
/// message, else one `send_raw` in the recorded pieces.
fn flush(steps: &mut Steps<'_>, state: &mut ConnState) {
    let pieces = std::mem::take(&mut state.pending);
    let Some((first_at, first_bytes)) = pieces.first() else { return };
    let last_packet = pieces.last().map_or(first_at.packet, |(at, _)| at.packet);
    let comment = packets(first_at.packet, last_packet);
    if pieces.len() == 1
        && let Some((name, message)) = typed(first_bytes, steps.options)
    {
        let body = state.with_connection(vec![(name.to_string(), send_body(&message))]);
        steps.action(*first_at, comment, Node::entry("send", Node::Map(body)));
        return;
    }
    let all: Vec<u8> = pieces.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let mut body = vec![("hex".to_string(), Node::text(hex_spaced(&all)))];
    if pieces.len() > 1 {
        let chunks =
            pieces[..pieces.len() - 1].iter().map(|(_, b)| Node::plain(b.len().to_string()));
        body.push(("chunks".into(), Node::seq(chunks)));
        let gap = pieces.windows(2).map(|w| w[1].0.time.saturating_sub(w[0].0.time)).max();
        let ms = gap.map_or(0, |g| g.as_millis());
        if steps.options.pace == Pace::Recorded && ms >= 1 {
            let delay = Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
            body.push(("delay".into(), Node::plain(format_duration(delay))));
        }
    }
    steps.action(
        *first_at,
        comment,
        Node::entry("send_raw", Node::Map(state.with_connection(body))),
    );
    if let Some((last_at, _)) = pieces.last() {
        steps.last = steps.last.max(last_at.time);
    }
}

/// The case of the UDP exchanges: the tester's datagrams and the answers sent back to it.
pub(crate) fn udp_case(seen: &[Seen], options: &ImportOptions) -> Node {
    let mut steps = Steps::new(options);
    for (i, s) in seen.iter().enumerate() {
        let here = format!("packet {}", s.at.packet);
        match &s.what {
            Happening::UdpTester(bytes) => {
                let body = match typed(bytes, options) {
                    Some((name, message)) => Node::entry(name, send_body(&message)),
                    None => Node::entry("hex", Node::text(hex_spaced(bytes))),
                };
                steps.action(s.at, here, Node::entry("udp_send", body));
                if !matches!(
                    seen.get(i + 1),
                    Some(Seen { what: Happening::EntityMessage { .. }, .. })
                ) {
                    steps.udp_silence(s.at, seen.get(i + 1).map(|n| n.at));
                }
            }
            Happening::EntityMessage { bytes, .. } => {
                let decoded = Message::parse(bytes).ok();
                match decoded.as_ref().and_then(|m| message_name(m).map(|n| (n, m))) {
                    Some((name, m)) => {
                        let body = vec![(name.to_string(), expect_body(m, &options.masks))];
                        steps.answer(s.at, "udp", here, body);
                    }
                    None => {
                        let body = vec![("hex".to_string(), Node::text(hex_spaced(bytes)))];
                        steps.answer(s.at, "udp_raw", here, body);
                    }
                }
            }
            _ => {}
        }
    }
    let first = seen.first().map_or(0, |s| s.at.packet);
    let last = seen.last().map_or(0, |s| s.at.packet);
    let title = format!("the UDP exchanges ({})", packets(first, last));
    steps.case("UDP".into(), title, "doip.udp")
}

/// The entity's start-up announcements (ISO 13400-2:2019 §9.3, Table 39): a power cycle, then
/// the first burst of identical announcements as one `udp_expect` with its count, bounded by
/// A_DoIP_Announce_Wait and spaced by A_DoIP_Announce_Interval.
pub(crate) fn announcement_case(seen: &[Seen], options: &ImportOptions) -> Node {
    let mut steps = Steps::new(options);
    let Some(first) = seen.first() else {
        return steps.case("ANNOUNCE".into(), String::new(), "power_cycle");
    };
    let first_bytes = match &first.what {
        Happening::EntityMessage { bytes, .. } => bytes.as_slice(),
        _ => &[],
    };
    let count = seen
        .iter()
        .take_while(
            |s| matches!(&s.what, Happening::EntityMessage { bytes, .. } if bytes == first_bytes),
        )
        .count();
    steps.comments.push(format!(
        "{} announcement(s) nobody asked for: the entity started; the replay restarts it",
        seen.len()
    ));
    steps.action(
        first.at,
        format!("before packet {}", first.at.packet),
        Node::entry("power_cycle", Node::map(Vec::<(String, Node)>::new())),
    );
    let mut body = match Message::parse(first_bytes) {
        Ok(m) => vec![("vehicle_announcement".to_string(), expect_body(&m, &options.masks))],
        Err(_) => vec![("hex".to_string(), Node::text(hex_spaced(first_bytes)))],
    };
    body.push(("count".into(), Node::plain(count.to_string())));
    body.push(("within".into(), Node::text("${profile.timing.a_doip_announce_wait}")));
    if count > 1 {
        body.push(("interval".into(), Node::text("${profile.timing.a_doip_announce_interval}")));
    }
    let last = seen[count.saturating_sub(1)].at.packet;
    steps.push(packets(first.at.packet, last), Node::entry("udp_expect", Node::Map(body)));
    let title = format!("the start-up announcements ({})", packets(first.at.packet, last));
    let mut case = steps.case("ANNOUNCE".into(), title, "power_cycle");
    if let Node::Map(entries) = &mut case
        && let Some((_, requires)) = entries.iter_mut().find(|(k, _)| k == "requires")
    {
        *requires = Node::seq([Node::plain("power_cycle"), Node::plain("doip.announcements")]);
    }
    case
}

/// The case of one ISO-TP id pair: requests through the harness's stack, answers expected.
pub(crate) fn isotp_case(pair: &IsoTpPair, seen: &[Seen], options: &ImportOptions) -> Node {
    let mut steps = Steps::new(options);
    steps.comments.push(format!(
        "recorded on request id {} / response id {}: the replay uses the profile's isotp.tx_id / isotp.rx_id",
        can_id(pair.tx),
        can_id(pair.rx)
    ));
    for s in seen {
        let here = format!("packet {}", s.at.packet);
        match &s.what {
            Happening::IsoTp { tester: true, data } => {
                let body = Node::map([("data", Node::text(hex_spaced(data)))]);
                steps.action(s.at, here, Node::entry("isotp_send", body));
            }
            Happening::IsoTp { tester: false, data } if is_response_pending(data) => {
                steps.pending_handler = true;
                steps.after_pending = true;
                steps.seen(s.at);
            }
            Happening::IsoTp { tester: false, data } => {
                let mask = options.masks.names.iter().any(|n| n == super::fields::SEED);
                let body = vec![("data".to_string(), Node::text(uds_pattern(data, mask)))];
                steps.answer(s.at, "isotp", here, body);
            }
            _ => {}
        }
    }
    let first = seen.first().map_or(0, |s| s.at.packet);
    let last = seen.last().map_or(0, |s| s.at.packet);
    let (tx, rx) = (can_id(pair.tx), can_id(pair.rx));
    let title = format!("ISO-TP {tx} / {rx} ({})", packets(first, last));
    steps.case(format!("ISOTP-{}-{}", &tx[2..], &rx[2..]), title, "isotp")
}

fn can_id(id: crate::codec::can::CanId) -> String {
    if id.is_extended() { format!("0x{:08X}", id.raw()) } else { format!("0x{:03X}", id.raw()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_boundaries_follow_the_length_fields() {
        let alive = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0];
        assert!(at_message_boundary(&alive));
        assert!(at_message_boundary(&[alive, alive].concat()));
        assert!(!at_message_boundary(&alive[..5]));
        assert!(!at_message_boundary(&[&alive[..], &alive[..3]].concat()));
        // A length no segment can complete never reaches a boundary (and does not overflow).
        assert!(!at_message_boundary(&[0x02, 0xFD, 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF]));
        assert!(at_message_boundary(&[]));
    }
}
