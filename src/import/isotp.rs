//! ISO-TP conversations: one case per id pair, requests through the harness's stack
//! (`isotp_send`), answers expected (`isotp_expect`).
//!
//! May import: `crate::codec`, `crate::notation`, `crate::pcap`.

use crate::notation::hex_spaced;
use crate::pcap::read::IsoTpPair;

use super::case::{Steps, is_response_pending, packets};
use super::fields::uds_pattern;
use super::yaml::Node;
use super::{Happening, ImportOptions, Seen};

/// The case of one ISO-TP id pair: requests through the harness's stack, answers expected.
pub(super) fn isotp_case(pair: &IsoTpPair, seen: &[Seen], options: &ImportOptions) -> Node {
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
