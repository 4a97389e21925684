//! The steps of one case, whatever carried the conversation: the tester's actions after
//! its recorded pauses (`--pace recorded`), the answers bounded by the profile timer that
//! governs them, and the suite around the cases. The conversations themselves are in
//! [`super::tcp`], [`super::udp`] and [`super::isotp`].
//!
//! May import: `crate::codec`, `crate::notation`, `crate::pcap`.

use crate::profile::timer_key;
use std::time::Duration;

use crate::codec::doip::Message;
use crate::codec::uds::Response;
use crate::notation::format_duration;
use crate::pcap::read::At;

use super::fields::message_name;
use super::yaml::{Item, Node, render, render_comments, render_item};
use super::{ImportOptions, Pace};

/// The handler that takes UDS "response pending" answers (`7F <SID> 78`, ISO 14229-1): the
/// recorded ones are not expected, since their number and timing are the target's choice.
pub(super) const PENDING_HANDLER: &str = "tolerate_response_pending";

/// The suite's head: comment lines, `suite`, `title` and `cases:`. The cases follow one at a
/// time ([`case_text`]) as their conversations end, then [`suite_tail`]: an import streams.
pub fn suite_head(options: &ImportOptions, name: &str) -> String {
    let header = vec![
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
    let root = Node::map([
        ("suite", Node::plain(name.to_string())),
        ("title", Node::text(format!("Recorded conversations of {}", options.source))),
    ]);
    let mut text = render(&header, &root);
    text.push_str("cases:\n");
    text
}

/// One case as an item of the suite's `cases` list.
pub(crate) fn case_text(case: &Node) -> String {
    render_item(2, case)
}

/// What follows the last case: the TLS connections left out, as comment lines.
pub fn suite_tail(tls_left_out: usize) -> String {
    if tls_left_out == 0 {
        return String::new();
    }
    render_comments(&[format!(
        "{tls_left_out} TLS connection(s) left out: their payload is encrypted."
    )])
}

/// Builds one case's steps.
pub(super) struct Steps<'o> {
    pub(super) options: &'o ImportOptions,
    pub(super) steps: Vec<Item>,
    /// Comments for the next step.
    pub(super) comments: Vec<String>,
    /// When the last step's event happened: pauses and answer delays count from it.
    pub(super) last: Duration,
    pub(super) pending_handler: bool,
    /// A response pending was passed over: the next UDS answer is bounded by P2*.
    pub(super) after_pending: bool,
    pub(super) first: Option<At>,
    pub(super) end: At,
}

impl<'o> Steps<'o> {
    pub(super) fn new(options: &'o ImportOptions) -> Self {
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

    pub(super) fn seen(&mut self, at: At) {
        if self.first.is_none() {
            self.first = Some(at);
            self.last = at.time;
        }
        self.end = at;
    }

    pub(super) fn push(&mut self, comment: String, node: Node) {
        let mut comments = std::mem::take(&mut self.comments);
        comments.push(comment);
        self.steps.push(Item { comments, node });
    }

    /// A tester action at `at`: after a `wait` for the recorded pause (whole milliseconds,
    /// none below 1 ms) when pacing as recorded.
    pub(super) fn action(&mut self, at: At, comment: String, node: Node) {
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
    pub(super) fn answer(
        &mut self,
        at: At,
        kind: &str,
        comment: String,
        mut body: Vec<(String, Node)>,
    ) {
        self.seen(at);
        let delay = at.time.saturating_sub(self.last);
        let uds = matches!(kind, "diagnostic_message" | "isotp");
        // After "response pending" the server has P2* for its answer (ISO 14229-2).
        let preferred =
            if uds && self.after_pending { timer_key::P2_STAR } else { preferred_timer(kind) };
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
    pub(super) fn bound(&self, preferred: &str, delay: Duration) -> Node {
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
    pub(super) fn udp_silence(&mut self, sent: At, next: Option<At>) {
        let ctrl = timer_key::A_DOIP_CTRL;
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
    pub(super) fn close_bounds(&self, delay: Duration) -> Vec<(String, Node)> {
        let slack = |t: Duration| self.options.tolerance.saturating_add(t / 10);
        let timer = self.options.timers.iter().find(|t| {
            t.key.starts_with(timer_key::TCP_INACTIVITY_PREFIX)
                && delay.abs_diff(t.value) <= slack(t.value)
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
    pub(super) fn case(self, id: String, title: String, requires: &str) -> Node {
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
pub(super) fn kind_step(kind: &str) -> &'static str {
    match kind {
        "close" => "expect_closed",
        "raw" => "expect_raw",
        "udp" | "udp_raw" => "udp_expect",
        "isotp" => "isotp_expect",
        "can" => "can_expect",
        _ => "expect",
    }
}

/// The timer that governs an answer (ISO 13400-2:2019 Table 39; ISO 14229-2 for UDS).
pub(crate) fn preferred_timer(kind: &str) -> &'static str {
    match kind {
        "diagnostic_message_ack" | "diagnostic_message_nack" => {
            timer_key::A_DOIP_DIAGNOSTIC_MESSAGE
        }
        "diagnostic_message" | "isotp" | "can" => timer_key::P2,
        "udp" | "udp_raw" | "raw" => timer_key::A_DOIP_CTRL,
        _ => timer_key::A_PROCESSING_TIME,
    }
}

/// A message `send` / `udp_send` writes exactly as recorded: decoded, of a known type, in
/// the profile's protocol version, and encoded back to the same bytes.
pub(super) fn typed<'b>(
    bytes: &'b [u8],
    options: &ImportOptions,
) -> Option<(&'static str, Message<'b>)> {
    let message = Message::parse(bytes).ok()?;
    let name = message_name(&message)?;
    (message.protocol_version.raw() == options.protocol_version && message.to_bytes() == bytes)
        .then_some((name, message))
}

pub(super) fn is_response_pending(user_data: &[u8]) -> bool {
    Response::parse(user_data).is_ok_and(|r| r.is_response_pending())
}

/// A case's id, with `.partN` from the second part of a conversation cut at
/// [`super::MAX_CASE_BYTES`] on.
pub(super) fn part_id(id: String, part: u32) -> String {
    if part == 0 { id } else { format!("{id}.part{}", part + 1) }
}

/// `, part N` in a title from the second part on.
pub(super) fn part_title(part: u32) -> String {
    if part == 0 { String::new() } else { format!(", part {}", part + 1) }
}

pub(super) fn packets(first: u64, last: u64) -> String {
    if first == last { format!("packet {first}") } else { format!("packets {first}-{last}") }
}
