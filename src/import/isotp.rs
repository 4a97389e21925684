//! ISO-TP conversations: one case per id pair, requests through the harness's stack
//! (`isotp_send`), answers expected (`isotp_expect`).
//!
//! May import: `crate::codec`, `crate::notation`, `crate::pcap`.

use crate::codec::can::CanId;
use crate::notation::hex_spaced;
use crate::pcap::read::IsoTpPair;

use super::case::{Steps, is_response_pending, packets, part_id, part_title};
use super::fields::uds_pattern;
use super::yaml::Node;
use super::{Happening, ImportOptions, Seen};

/// The case of one ISO-TP id pair: requests through the harness's stack, answers expected.
pub(super) fn isotp_case(
    pair: &IsoTpPair,
    seen: &[Seen],
    options: &ImportOptions,
    part: u32,
) -> Node {
    let mut steps = Steps::new(options);
    steps.comments.push(format!(
        "recorded on request id {tx} / response id {rx}: isotp_send and isotp_expect use the \
         profile's ids; to replay on the recorded ones set isotp.tx_id: {tx} and isotp.rx_id: \
         {rx}{}",
        if pair.tx.is_extended() { " and isotp.extended_ids: true" } else { "" },
        tx = can_id(pair.tx),
        rx = can_id(pair.rx)
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
    let title = format!("ISO-TP {tx} / {rx} ({}{})", packets(first, last), part_title(part));
    steps.case(part_id(format!("ISOTP-{}-{}", &tx[2..], &rx[2..]), part), title, "isotp")
}

/// A pair whose frames form no whole message: the frames themselves, the tester's as
/// `can_send`, the ECU's as `can_expect`; when the ECU stayed silent after the tester's last
/// frame, `expect_none` on its id for `isotp.reaction_time` (frames a receiver must ignore,
/// ISO 15765-2:2016 §9.8).
pub(super) fn frame_case(
    pair: &IsoTpPair,
    seen: &[Seen],
    options: &ImportOptions,
    part: u32,
) -> Node {
    let mut steps = Steps::new(options);
    let (tx, rx) = (can_id(pair.tx), can_id(pair.rx));
    steps.comments.push(format!(
        "the frames of {tx} / {rx} form no whole ISO-TP message: they are replayed as frames"
    ));
    let id_body = |id: CanId, hex: String| {
        let mut body = vec![
            ("id".to_string(), Node::plain(can_id(id))),
            ("data".to_string(), Node::text(hex)),
        ];
        if id.is_extended() {
            body.push(("extended".into(), Node::plain("true")));
        }
        body
    };
    for s in seen {
        let here = format!("packet {}", s.at.packet);
        let Happening::CanFrame { tester, fd, data } = &s.what else { continue };
        if *tester {
            let mut body = id_body(pair.tx, hex_spaced(data));
            if *fd {
                body.push(("fd".into(), Node::plain("true")));
            }
            steps.action(s.at, here, Node::entry("can_send", Node::Map(body)));
        } else {
            steps.answer(s.at, "can", here, id_body(pair.rx, hex_spaced(data)));
        }
    }
    if matches!(seen.last(), Some(Seen { what: Happening::CanFrame { tester: true, .. }, .. })) {
        let body = Node::map([
            ("connection", Node::plain("can")),
            ("id", Node::plain(can_id(pair.rx))),
            ("for", Node::text("${profile.isotp.reaction_time}")),
        ]);
        steps.push("the ECU stayed silent".into(), Node::entry("expect_none", body));
    }
    let first = seen.first().map_or(0, |s| s.at.packet);
    let last = seen.last().map_or(0, |s| s.at.packet);
    let title = format!("CAN frames {tx} / {rx} ({}{})", packets(first, last), part_title(part));
    steps.case(part_id(format!("CAN-{}-{}", &tx[2..], &rx[2..]), part), title, "isotp")
}

fn can_id(id: CanId) -> String {
    if id.is_extended() { format!("0x{:08X}", id.raw()) } else { format!("0x{:03X}", id.raw()) }
}
