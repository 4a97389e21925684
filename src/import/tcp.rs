//! TCP conversations: connections that overlap in time make one case (named connections,
//! grouped as they come by [`super::Importer`]);
//! the tester's bytes go out in their recorded segmentation.
//!
//! May import: `crate::codec`, `crate::notation`, `crate::pcap`.

use crate::codec::doip::{Message, Payload};
use crate::notation::{format_duration, hex_spaced};
use crate::pcap::Side;
use crate::pcap::read::At;
use std::time::Duration;

use super::case::{Steps, is_response_pending, packets, part_id, part_title, typed};
use super::fields::{expect_body, message_name, send_body};
use super::yaml::Node;
use super::{Happening, ImportOptions, Pace, RecordedConnection};

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
pub(super) fn tcp_case(group: &[RecordedConnection], options: &ImportOptions, part: u32) -> Node {
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
    let span = format!("{span}{}", part_title(part));
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
    steps.case(part_id(format!("TCP-{}", ids.join("-")), part), title, "doip.tcp")
}

fn tcp_happening(
    steps: &mut Steps<'_>,
    state: &mut ConnState,
    conn: &RecordedConnection,
    at: At,
    what: &Happening,
) {
    let here = format!("packet {}", at.packet);
    match what {
        Happening::Opened => {
            if conn.continued {
                steps.comments.push(format!(
                    "connection {} goes on from the case before (a conversation is cut into \
                     cases of bounded size): the replay opens it anew, without what the part \
                     before set up (a routing activation)",
                    conn.id
                ));
            } else if !conn.handshake {
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
            // The recording shows the entity kept the socket open until the tester closed it
            // (after a NACK 0x01, say, it must: ISO 13400-2:2019 §8.1.2): the pause before the
            // close is expected open, not just waited.
            let pause = at.time.saturating_sub(steps.last);
            let ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
            if steps.options.pace == Pace::Recorded && ms >= 1 {
                let open = Node::plain(format_duration(Duration::from_millis(ms)));
                let body = state.with_connection(vec![("for".to_string(), open)]);
                steps.push(
                    format!("until packet {}", at.packet),
                    Node::entry("expect_open", Node::Map(body)),
                );
                steps.last = at.time;
            }
            let kind = if *reset { "abort" } else { "disconnect" };
            steps.action(at, here, Node::entry(kind, Node::Map(state.with_connection(Vec::new()))));
            state.closed = true;
        }
        Happening::Closed { by: Side::Entity, .. } => {
            steps.answer(at, "close", here, state.with_connection(Vec::new()));
            state.closed = true;
        }
        Happening::Note(text) => steps.comments.push(text.clone()),
        Happening::TesterData(_)
        | Happening::UdpTester(_)
        | Happening::IsoTp { .. }
        | Happening::CanFrame { .. } => {}
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
