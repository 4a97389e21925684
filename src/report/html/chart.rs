//! The message sequence chart of one case, as inline SVG: one lane per party (the tester, each
//! DoIP entity address, each CAN ECU), one arrow per recorded frame labelled with the decoded
//! message and its time, connection changes on the lanes, long gaps broken with their duration
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
const LANE_GAP: i64 = 210;
const TOP: i64 = 34;
const ROW: i64 = 26;
/// A gap longer than this is broken (drawn short, its duration written) rather than to scale.
const BREAK_AFTER: Duration = Duration::from_millis(20);
/// Pixels per millisecond for gaps drawn to scale.
const PX_PER_MS: f64 = 0.8;
const LABEL_CHARS: usize = 44;

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
    Frame { from: usize, to: usize, label: String, title: String, transport: FrameTransport },
    Mark { lane: usize, text: String, bad: bool },
    Step { text: String },
    Missing { from: usize, label: String },
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

fn frame_label(f: &FrameEvent) -> String {
    let what = match &f.decoded {
        Decoded::Message { name, .. } => printable(name),
        Decoded::Error { .. } => format!("undecodable ({} bytes)", f.bytes.len()),
        Decoded::Raw => format!("raw {} bytes", f.bytes.len()),
    };
    let what = match f.transport {
        FrameTransport::Tcp => what,
        FrameTransport::Can => {
            let id = f.can.map(|c| c.id).unwrap_or_default();
            format!("[can {id:03X}] {what}")
        }
        t => format!("[{}] {what}", transport_name(t)),
    };
    cut(&what, LABEL_CHARS)
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
    for (at, _) in items {
        let gap = at.saturating_sub(last);
        if gap > BREAK_AFTER {
            breaks.push((y + 4, gap));
            y += 22;
        } else {
            y += (gap.as_secs_f64() * 1000.0 * PX_PER_MS).round() as i64;
        }
        y += ROW;
        ys.push(y);
        last = last.max(*at);
    }
    let height = y + 24;
    let width = Lanes::x(lanes.len().saturating_sub(1)) + 150;
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={"0 0 " (width) " " (height)} role="img" aria-label="message sequence chart" {
            @for (i, label) in lanes.iter().enumerate() {
                text.lane x=(Lanes::x(i)) y="16" text-anchor="middle" { (cut(label, 30)) }
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
                            text x=(Lanes::x(*lane) + 6) y=(y) { (text) }
                        }
                    }
                    Item::Step { text } => {
                        g.step {
                            text x="4" y=(y) { (human(*at)) }
                            text x=(Lanes::x(0) + 6) y=(y) { "▸ " (cut(text, 70)) }
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
    let dir = if x2 >= x1 { 1 } else { -1 };
    let head = format!("{},{} {},{} {},{}", x2, y, x2 - dir * 8, y - 4, x2 - dir * 8, y + 4);
    html! {
        g class={"arrow " (kind) " " (class)} {
            title { (title) }
            text.t x="4" y=(y + 4) { (human(at)) }
            line x1=(x1) y1=(y) x2=(x2 - dir * 2) y2=(y) {}
            polygon points=(head) {}
            text x=((x1 + x2) / 2) y=(y - 4) text-anchor="middle" { (label) }
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
        assert!(
            svg.contains(">missing: expect diagnostic_message_positive_ack within 2s<"),
            "{svg}"
        );
        // The two seconds of silence are broken with their length written, not drawn to scale.
        assert!(svg.contains(">⋯ 2.000s ⋯<"), "{svg}");
        assert!(!svg.contains("class=\"arrow frame"), "no frame was recorded");
    }
}
