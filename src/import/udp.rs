//! UDP: the tester's datagrams and the answers sent back to it, and the entity's start-up
//! announcements nobody asked for.
//!
//! May import: `crate::codec`, `crate::notation`, `crate::pcap`.

use crate::codec::doip::Message;
use crate::notation::hex_spaced;

use super::case::{Steps, packets, part_id, part_title, typed};
use super::fields::{expect_body, message_name, send_body};
use super::yaml::Node;
use super::{Happening, ImportOptions, Seen};

/// The case of the UDP exchanges: the tester's datagrams and the answers sent back to it.
pub(super) fn udp_case(seen: &[Seen], options: &ImportOptions, part: u32) -> Node {
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
    let title = format!("the UDP exchanges ({}{})", packets(first, last), part_title(part));
    steps.case(part_id("UDP".into(), part), title, "doip.udp")
}

/// The entity's start-up announcements (ISO 13400-2:2019 §9.3, Table 39): a power cycle, then
/// the first burst of identical announcements as one `udp_expect` with its count, bounded by
/// A_DoIP_Announce_Wait and spaced by A_DoIP_Announce_Interval.
pub(super) fn announcement_case(seen: &[Seen], total: usize, options: &ImportOptions) -> Node {
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
        "{total} announcement(s) nobody asked for: the entity started; the replay restarts it"
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
