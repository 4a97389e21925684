//! The message sequence chart of one case, as inline SVG: one lane per party (the tester, each
//! DoIP entity address, each CAN ECU), one arrow per recorded frame labelled with the decoded
//! one-line summary (as Wireshark's Info column: NACK code and name, addresses, the UDS message,
//! ISO-TP N_PCI with FF_DL/SN/FS) cut to the room the arrow has, and its time, connection changes on the lanes, long gaps broken with their duration
//! written, and the message a failed `expect` waited for drawn dashed where it should have been.

use std::collections::BTreeSet;
use std::time::Duration;

use maud::{Markup, PreEscaped, html};

use super::human;
use crate::report::log::CaseLog;
use crate::report::text::{hex_bytes, printable};
use crate::runner::event::{
    Address, CaseFinished, ConnectionChange, Decoded, Direction, Event, FrameEvent, FrameTransport,
    StepStatus,
};

/// Frames drawn per chart; the rest are counted under it (the transcript and JSON have them).
pub const MAX_CHART_FRAMES: usize = 400;

const LEFT: i64 = 84;
const LANE_GAP: i64 = 300;
const TOP: i64 = 34;
const ROW: i64 = 26;
/// The height of a second label line.
const LINE: i64 = 13;
/// A gap longer than this is broken (drawn short, its duration written) rather than to scale.
const BREAK_AFTER: Duration = Duration::from_millis(20);
/// Pixels per millisecond for gaps drawn to scale.
const PX_PER_MS: f64 = 0.8;
/// Average width of a character of the chart's 11 px font: labels are cut to the room they
/// have (the whole text is in the arrow's title, shown on hover).
const CHAR_PX: i64 = 6;
/// The same for the failure mark's bold text: measured in headless Chromium, 83 bold
/// characters fitted to 6 px each ran 37 px past the chart (tests/it/report_browser.rs).
const BOLD_CHAR_PX: i64 = 7;

/// One party: its lane's key and label.
struct Lanes {
    keys: Vec<String>,
    labels: Vec<String>,
    /// Received CAN ids per bus (`bus#id`), to pair a request id with the ECU that answers.
    can_answers: BTreeSet<(String, u32)>,
}

impl Lanes {
    fn x(i: usize) -> i64 {
        LEFT + 40 + i as i64 * LANE_GAP
    }

    fn lane(&mut self, key: String, label: impl FnOnce() -> String) -> usize {
        if let Some(i) = self.keys.iter().position(|k| *k == key) {
            return i;
        }
        self.keys.push(key);
        self.labels.push(label());
        self.keys.len() - 1
    }

    /// The lane of the other party of a frame or connection.
    fn party(&mut self, direction: Direction, peer: &Address) -> usize {
        match peer {
            Address::Socket(a) => {
                let ip = a.ip();
                self.lane(format!("ip:{ip}"), || format!("entity {ip}"))
            }
            Address::Can { bus, id, extended } => {
                let ecu = match direction {
                    Direction::Received => Some(*id),
                    // A request goes to the ECU that answers on the paired id: +8 for 11-bit
                    // OBD ids, source and target swapped for 29-bit normal fixed addressing.
                    Direction::Sent => [
                        (!extended).then(|| id + 8),
                        (*extended && id & 0xFFFF_0000 == 0x18DA_0000)
                            .then(|| 0x18DA_0000 | (id & 0xFF) << 8 | (id >> 8) & 0xFF),
                    ]
                    .into_iter()
                    .flatten()
                    .find(|a| self.can_answers.contains(&(bus.clone(), *a))),
                };
                match ecu {
                    Some(ecu) => {
                        let shown = Address::Can { bus: bus.clone(), id: ecu, extended: *extended };
                        self.lane(format!("can:{bus}#{ecu}"), || format!("ECU {shown}"))
                    }
                    None => self.lane(format!("can:{bus}"), || format!("CAN {bus}")),
                }
            }
        }
    }
}

enum Item {
    Frame {
        from: usize,
        to: usize,
        label: String,
        title: String,
        transport: FrameTransport,
    },
    Mark {
        lane: usize,
        text: String,
        bad: bool,
    },
    Step {
        text: String,
    },
    /// Where the failing step gave up (its deadline, or the wrong message's arrival): a line
    /// across the chart and what was expected against what was observed.
    Failure {
        text: String,
    },
    Missing {
        from: usize,
        label: String,
    },
}

/// The chart of `case` (its events in order; `finished` to draw what a failed expect missed).
pub fn sequence_chart(case: &CaseLog, finished: Option<&CaseFinished>) -> Markup {
    let mut lanes = Lanes {
        keys: vec!["tester".into()],
        labels: vec!["tester".into()],
        can_answers: case
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Frame(FrameEvent {
                    direction: Direction::Received,
                    peer: Address::Can { bus, id, .. },
                    ..
                }) => Some((bus.clone(), *id)),
                _ => None,
            })
            .collect(),
    };
    let missing = missing_message(case, finished);
    let mut items: Vec<(Duration, Item)> = Vec::new();
    let (mut drawn, mut not_drawn) = (0usize, 0usize);
    for event in &case.events {
        let at = match event {
            Event::Frame(f) => f.at,
            Event::Connection(c) => c.at,
            Event::Step(s) => s.at,
            _ => continue,
        }
        .since(case.started_at);
        let item = match event {
            Event::Frame(f) => {
                if drawn == MAX_CHART_FRAMES {
                    not_drawn += 1;
                    continue;
                }
                drawn += 1;
                let lane = lanes.party(f.direction, &f.peer);
                let (from, to) = match f.direction {
                    Direction::Sent => (0, lane),
                    Direction::Received => (lane, 0),
                };
                let title = format!(
                    "{} {} bytes: {}\n{}",
                    transport_name(f.transport),
                    f.bytes.len(),
                    hex_bytes(&f.bytes, 64),
                    printable(&decoded_full(&f.decoded))
                );
                Item::Frame { from, to, label: frame_label(f), title, transport: f.transport }
            }
            Event::Connection(c) => {
                let lane = lanes.party(Direction::Received, &c.peer);
                let (text, bad) = match c.change {
                    ConnectionChange::Opened => ("opened", false),
                    ConnectionChange::ClosedByUs => ("closed by us", false),
                    ConnectionChange::ClosedByPeer => ("closed by the target", true),
                    ConnectionChange::Reset => ("reset", true),
                    ConnectionChange::Abandoned => ("abandoned", false),
                };
                Item::Mark { lane, text: format!("{} {text}", transport_name(c.transport)), bad }
            }
            Event::Step(s) if s.status == StepStatus::Started && drawn < MAX_CHART_FRAMES => {
                Item::Step { text: printable(&s.summary) }
            }
            _ => continue,
        };
        items.push((at, item));
    }
    if let Some((at, label)) = missing {
        let from =
            if lanes.keys.len() > 1 { 1 } else { lanes.lane("entity".into(), || "entity".into()) };
        items.push((at, Item::Missing { from, label }));
    } else if let Some((at, text)) = failure_mark(case, finished) {
        let pos = items.iter().position(|(t, _)| *t > at).unwrap_or(items.len());
        items.insert(pos, (at, Item::Failure { text }));
    }
    self_closed(draw(&lanes.labels, &items, not_drawn))
}

/// `<line ..></line>` as `<line ../>` (SVG in HTML takes either): a chart is mostly empty
/// elements, and 10 000 cases' charts load faster for the bytes saved. Only markup can match:
/// text is escaped (`&lt;`).
pub(super) fn self_closed(svg: Markup) -> Markup {
    let mut text = svg.into_string();
    for element in ["line", "polygon", "circle", "rect"] {
        text = text.replace(&format!("></{element}>"), "/>");
    }
    PreEscaped(text)
}

/// When the failing step gave up, and why (`expected the connection closed within 500ms, it
/// stayed open`): for every failed step but an `expect` that got nothing (drawn as the
/// missing message).
fn failure_mark(case: &CaseLog, finished: Option<&CaseFinished>) -> Option<(Duration, String)> {
    let reason = finished?.reason.as_ref()?;
    let step = reason.step.as_ref()?;
    let failed_at = case.events.iter().find_map(|e| match e {
        Event::Step(s) if s.step == *step && matches!(s.status, StepStatus::Failed { .. }) => {
            Some(s.at)
        }
        _ => None,
    })?;
    Some((failed_at.since(case.started_at), format!("✗ {}", printable(&reason.message))))
}

/// When the case failed at an `expect` that got nothing: when it gave up, and what it waited for.
fn missing_message(case: &CaseLog, finished: Option<&CaseFinished>) -> Option<(Duration, String)> {
    let reason = finished?.reason.as_ref()?;
    let step = reason.step.as_ref()?;
    let waits_for_message = step.kind.contains("expect")
        && !matches!(step.kind.as_str(), "expect_none" | "expect_closed" | "expect_open");
    if !waits_for_message || reason.actual_bytes.is_some() || !reason.fields.is_empty() {
        return None;
    }
    let mut summary = None;
    let mut failed_at = None;
    for e in &case.events {
        if let Event::Step(s) = e
            && s.step == *step
        {
            match s.status {
                StepStatus::Started => summary = Some(printable(&s.summary)),
                StepStatus::Failed { .. } => failed_at = Some(s.at),
                _ => {}
            }
        }
    }
    let at = failed_at.or(finished.map(|f| f.at))?.since(case.started_at);
    Some((at, format!("missing: {}", summary.unwrap_or_else(|| step.kind.clone()))))
}

fn transport_name(t: FrameTransport) -> &'static str {
    match t {
        FrameTransport::Tcp => "tcp",
        FrameTransport::Tls => "tls",
        FrameTransport::Udp => "udp",
        FrameTransport::Can => "can",
    }
}

fn decoded_full(d: &Decoded) -> String {
    match d {
        Decoded::Message { summary, .. } => summary.clone(),
        Decoded::Error { error } => format!("undecodable: {error}"),
        Decoded::Raw => "raw (not decoded)".into(),
    }
}

/// An arrow's label, whole: the decoded one-line summary (a CAN frame's already names its id,
/// N_PCI and the UDS message of a single frame); for DoIP bytes the codec reads again so a
/// diagnostic message names its UDS message; for bytes that did not decode, the payload type
/// their header names and why.
fn frame_label(f: &FrameEvent) -> String {
    let doip = f.transport != FrameTransport::Can;
    let parsed = || crate::codec::doip::Message::parse(&f.bytes).ok().map(|m| m.payload.info());
    let what = match &f.decoded {
        Decoded::Message { summary, .. } if doip => parsed().unwrap_or_else(|| summary.clone()),
        Decoded::Message { summary, .. } => summary.clone(),
        Decoded::Error { error } => {
            let named = crate::codec::doip::HeaderView::new(&f.bytes[..]).ok().map(|h| {
                let t = h.payload_type();
                t.id().map_or_else(|| format!("payload type 0x{:04X}", t.raw()), str::to_owned)
            });
            match named.filter(|_| doip) {
                Some(name) => format!("{name}, {} bytes, undecodable: {error}", f.bytes.len()),
                None => format!("undecodable ({} bytes): {error}", f.bytes.len()),
            }
        }
        Decoded::Raw => match parsed().filter(|_| doip) {
            Some(info) => info,
            None => format!("{} bytes: {}", f.bytes.len(), hex_bytes(&f.bytes, 16)),
        },
    };
    let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
    match (f.transport, &f.decoded) {
        // A decoded CAN frame's summary starts with its id; raw bytes need it said.
        (FrameTransport::Tcp, _) | (FrameTransport::Can, Decoded::Message { .. }) => {
            printable(&what)
        }
        (FrameTransport::Can, _) => {
            let id = f.can.map(|c| c.id).unwrap_or_default();
            printable(&format!("{id:03X} {what}"))
        }
        (t, _) => printable(&format!("[{}] {what}", transport_name(t))),
    }
}

/// The label of an arrow between lanes `from` and `to` in at most two lines that fit above it:
/// the first broken at a space, the second cut.
fn label_lines(label: &str, from: usize, to: usize) -> (String, Option<String>) {
    let px = (Lanes::x(from) - Lanes::x(to)).abs() - 12;
    let room = usize::try_from(px / CHAR_PX).unwrap_or(0).max(4);
    if label.chars().count() <= room {
        return (label.to_owned(), None);
    }
    let head: String = label.chars().take(room + 1).collect();
    let at = head
        .rfind(' ')
        .filter(|&i| i > 0)
        .unwrap_or_else(|| head.len() - head.chars().last().map_or(0, char::len_utf8));
    let (first, rest) = label.split_at(at);
    (first.to_owned(), Some(fit(rest.trim_start(), px)))
}

/// `s` cut to what `px` pixels hold.
fn fit(s: &str, px: i64) -> String {
    cut(s, usize::try_from(px / CHAR_PX).unwrap_or(0).max(4))
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn draw(lanes: &[String], items: &[(Duration, Item)], not_drawn: usize) -> Markup {
    // Vertical positions: one row per item, plus the gap before it (to scale, or broken).
    let mut ys = Vec::with_capacity(items.len());
    let mut breaks = Vec::new();
    let mut y = TOP + 16;
    let mut last = Duration::ZERO;
    for (at, item) in items {
        let gap = at.saturating_sub(last);
        if gap > BREAK_AFTER {
            breaks.push((y + 4, gap));
            y += 22;
        } else {
            y += (gap.as_secs_f64() * 1000.0 * PX_PER_MS).round() as i64;
        }
        // A label on two lines takes a line's height more above its arrow.
        let two_lines = match item {
            Item::Frame { from, to, label, .. } => label_lines(label, *from, *to).1.is_some(),
            Item::Missing { from, label } => label_lines(label, *from, 0).1.is_some(),
            _ => false,
        };
        y += ROW + if two_lines { LINE } else { 0 };
        ys.push(y);
        last = last.max(*at);
    }
    let height = y + 24;
    let width = Lanes::x(lanes.len().saturating_sub(1)) + 180;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={"0 0 " (width) " " (height)} role="img" aria-label="message sequence chart" {
            @for (i, label) in lanes.iter().enumerate() {
                text.lane x=(Lanes::x(i)) y="16" text-anchor="middle" { (fit(label, LANE_GAP - 20)) }
                line.life x1=(Lanes::x(i)) y1=(TOP - 10) x2=(Lanes::x(i)) y2=(height - 8) {}
            }
            @for (y, gap) in &breaks {
                line.gap x1=(LEFT) y1=(y) x2=(width - 10) y2=(y) {}
                text.gap x=(LEFT + 4) y=(y + 12) { "⋯ " (human(*gap)) " ⋯" }
            }
            @for ((at, item), y) in items.iter().zip(&ys) {
                @match item {
                    Item::Frame { from, to, label, title, transport } => {
                        (arrow(*from, *to, *y, label, title, transport_name(*transport), "frame", *at))
                    }
                    Item::Missing { from, label } => {
                        (arrow(*from, 0, *y, label, "expected here, never arrived", "missing", "missing", *at))
                    }
                    Item::Mark { lane, text, bad } => {
                        g.mark.bad[*bad] {
                            circle cx=(Lanes::x(*lane)) cy=(y - 4) r="3" {}
                            text x=(Lanes::x(*lane) + 6) y=(y) { (fit(text, width - Lanes::x(*lane) - 12)) }
                        }
                    }
                    Item::Failure { text } => {
                        g.failure {
                            title { (text) }
                            line.deadline x1=(LEFT) y1=(y - 4) x2=(width - 10) y2=(y - 4) {}
                            text x=(Lanes::x(0) + 6) y=(y - 7) { (fit(text, (width - Lanes::x(0) - 24) * CHAR_PX / BOLD_CHAR_PX)) }
                        }
                    }
                    Item::Step { text } => {
                        g.step {
                            text x="4" y=(y) { (human(*at)) }
                            text x=(Lanes::x(0) + 6) y=(y) { "▸ " (fit(text, width - Lanes::x(0) - 24)) }
                        }
                    }
                }
            }
            @if not_drawn > 0 {
                text.more x=(LEFT) y=(height - 6) { (not_drawn) " more frames recorded, not drawn (see the transcript and report.json)" }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn arrow(
    from: usize,
    to: usize,
    y: i64,
    label: &str,
    title: &str,
    class: &str,
    kind: &str,
    at: Duration,
) -> Markup {
    let (x1, x2) = (Lanes::x(from), Lanes::x(to));
    let (first, second) = label_lines(label, from, to);
    let dir = if x2 >= x1 { 1 } else { -1 };
    let head = format!("{},{} {},{} {},{}", x2, y, x2 - dir * 8, y - 4, x2 - dir * 8, y + 4);
    html! {
        g class={"arrow " (kind) " " (class)} {
            title { (title) }
            text.t x="4" y=(y + 4) { (human(at)) }
            line x1=(x1) y1=(y) x2=(x2 - dir * 2) y2=(y) {}
            polygon points=(head) {}
            @if let Some(second) = second {
                text x=((x1 + x2) / 2) y=(y - 4 - LINE) text-anchor="middle" { (first) }
                text x=((x1 + x2) / 2) y=(y - 4) text-anchor="middle" { (second) }
            } @else {
                text x=((x1 + x2) / 2) y=(y - 4) text-anchor="middle" { (first) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::event::{
        CaseKey, Phase, Reason, RunTime, SourceLocation, StepEvent, StepRef, Verdict,
    };

    fn at(us: u64) -> RunTime {
        RunTime(Duration::from_micros(us))
    }

    fn can_frame(t: u64, direction: Direction, id: u32) -> Event {
        let node = Address::Can { bus: "mem0".into(), id, extended: false };
        Event::Frame(FrameEvent {
            case: CaseKey(0),
            at: at(t),
            direction,
            transport: FrameTransport::Can,
            local: node.clone(),
            peer: node,
            can: None,
            bytes: vec![2, 0x10, 3],
            decoded: Decoded::Raw,
        })
    }

    fn case(events: Vec<Event>) -> CaseLog {
        CaseLog {
            key: CaseKey(0),
            info: crate::report::log::test_info("C"),
            started_at: at(0),
            events,
        }
    }

    fn doip_frame(direction: Direction, bytes: &[u8], decoded: Decoded) -> Event {
        let tester = Address::Socket(([127, 0, 0, 1], 40000).into());
        let entity = Address::Socket(([127, 0, 0, 1], 13400).into());
        Event::Frame(FrameEvent {
            case: CaseKey(0),
            at: at(10),
            direction,
            transport: FrameTransport::Tcp,
            local: tester,
            peer: entity,
            can: None,
            bytes: bytes.to_vec(),
            decoded,
        })
    }

    /// The texts of the arrows' labels, line by line.
    fn labels(svg: &str) -> Vec<String> {
        svg.split("text-anchor=\"middle\">")
            .skip(1)
            .map(|s| s[..s.find('<').unwrap()].replace("&gt;", ">"))
            .filter(|s| !matches!(s.as_str(), "tester" | "entity 127.0.0.1"))
            .collect()
    }

    #[test]
    fn arrows_say_what_the_message_is_in_lines_that_fit_between_the_lanes() {
        let message =
            |summary: &str| Decoded::Message { name: "x".into(), summary: summary.into() };
        let events = vec![
            // A diagnostic message names its UDS message; a NACK its code and name.
            doip_frame(
                Direction::Sent,
                &[2, 0xFD, 0x80, 1, 0, 0, 0, 7, 0x0E, 0, 0x10, 0, 0x22, 0xF1, 0x90],
                message("diag"),
            ),
            doip_frame(Direction::Received, &[2, 0xFD, 0, 0, 0, 0, 0, 1, 4], message("nack")),
            // Bytes that did not decode: the payload type their header names, and why.
            doip_frame(
                Direction::Sent,
                &[2, 0xFD, 0, 5, 0, 0, 0, 7, 0x0E, 0, 0, 0, 0, 0, 0, 0xFF],
                Decoded::Error { error: "1 more byte than the declared payload length".into() },
            ),
        ];
        let svg = sequence_chart(&case(events), None).into_string();
        let room = ((Lanes::x(1) - Lanes::x(0) - 12) / CHAR_PX) as usize;
        let lines = labels(&svg);
        assert!(lines.iter().all(|l| l.chars().count() <= room), "{lines:?}");
        assert_eq!(
            lines,
            [
                "Diagnostic message 0x0E00 -> 0x1000, 3 bytes: 22",
                "F1 90 [request ReadDataByIdentifier]",
                "Generic header NACK: invalid payload length",
                "(0x04)",
                "routing_activation_request, 16 bytes,",
                "undecodable: 1 more byte than the declared payl…",
            ]
        );
    }

    #[test]
    fn a_failed_expect_closed_is_marked_at_its_deadline_with_what_was_expected() {
        let step = StepRef {
            phase: Phase::Steps,
            index: 2,
            kind: "expect_closed".into(),
            location: SourceLocation { file: "s.yaml".into(), line: 12, column: 7 },
        };
        let step_event = |t, status| {
            Event::Step(StepEvent {
                case: CaseKey(0),
                at: at(t),
                step: step.clone(),
                summary: "expect_closed within 500ms".into(),
                status,
            })
        };
        let mut events = vec![doip_frame(
            Direction::Received,
            &[2, 0xFD, 0, 0, 0, 0, 0, 1, 0],
            Decoded::Message { name: "generic_nack".into(), summary: "x".into() },
        )];
        events.push(step_event(20, StepStatus::Started));
        events
            .push(step_event(500_020, StepStatus::Failed { elapsed: Duration::from_millis(500) }));
        let message = "expected the target to close the connection within 500ms, it stayed open";
        let finished = CaseFinished {
            reason: Some(Reason { message: message.into(), step: Some(step), ..Reason::default() }),
            ..crate::report::log::test_finished(0, Verdict::Fail)
        };
        let svg = sequence_chart(&case(events), Some(&finished)).into_string();
        let mark = &svg[svg.find("<g class=\"failure\">").expect("a failure mark")..];
        assert!(mark.contains(&format!("<title>✗ {message}</title>")), "{mark}");
        assert!(mark.contains("class=\"deadline\""), "{mark}");
        // After the 500 ms of silence, broken with its length.
        assert!(svg.find(">⋯ 500.000ms ⋯<").unwrap() < svg.find("<g class=\"failure\">").unwrap());
    }

    #[test]
    fn a_request_goes_to_the_lane_of_the_ecu_that_answers_and_frames_past_the_cap_are_counted() {
        let mut events = vec![can_frame(10, Direction::Sent, 0x7E0)];
        events.extend(
            (0..MAX_CHART_FRAMES).map(|i| can_frame(20 + i as u64, Direction::Received, 0x7E8)),
        );
        let svg = sequence_chart(&case(events), None).into_string();
        assert_eq!(svg.matches("class=\"lane\"").count(), 2, "tester and one ECU: {svg}");
        assert!(svg.contains(">ECU mem0#7E8<"), "{svg}");
        assert_eq!(svg.matches("class=\"arrow frame can\"").count(), MAX_CHART_FRAMES);
        assert!(svg.contains(">1 more frames recorded, not drawn"), "{svg}");
    }

    #[test]
    fn an_expect_that_got_nothing_draws_the_missing_message_where_it_was_due() {
        let step = StepRef {
            phase: Phase::Steps,
            index: 1,
            kind: "expect".into(),
            location: SourceLocation { file: "s.yaml".into(), line: 9, column: 7 },
        };
        let step_event = |t, status| {
            Event::Step(StepEvent {
                case: CaseKey(0),
                at: at(t),
                step: step.clone(),
                summary: "expect diagnostic_message_positive_ack within 2s".into(),
                status,
            })
        };
        let events = vec![
            step_event(5, StepStatus::Started),
            step_event(2_000_005, StepStatus::Failed { elapsed: Duration::from_secs(2) }),
        ];
        let finished = CaseFinished {
            case: CaseKey(0),
            at: at(2_000_010),
            verdict: Verdict::Fail,
            reason: Some(Reason {
                message: "nothing arrived".into(),
                step: Some(step.clone()),
                ..Reason::default()
            }),
            duration: Duration::from_secs(2),
            attempts: 1,
            flaky: false,
            capture: None,
            waiver: None,
        };
        let svg = sequence_chart(&case(events), Some(&finished)).into_string();
        assert_eq!(svg.matches("class=\"arrow missing missing\"").count(), 1, "{svg}");
        // Too long for one line above the arrow: two, broken at a space.
        assert!(svg.contains(">missing: expect diagnostic_message_positive_ack<"), "{svg}");
        assert!(svg.contains(">within 2s<"), "{svg}");
        // The two seconds of silence are broken with their length written, not drawn to scale.
        assert!(svg.contains(">⋯ 2.000s ⋯<"), "{svg}");
        assert!(!svg.contains("class=\"arrow frame"), "no frame was recorded");
    }
}
