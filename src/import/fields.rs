//! A decoded DoIP message as the body of a `send` or an `expect`: every field by the codec's
//! names ([`crate::codec::doip::payload_fields`], the names the suite format uses), with the
//! fields that change from run to run matched loosely.
//!
//! May import: `crate::codec`, `crate::notation`.

use crate::codec::doip::fields::{FieldValue, payload_fields};
use crate::codec::doip::{Message, Payload};
use crate::notation::hex_spaced;

use super::yaml::Node;

/// The name that masks the seed of a UDS SecurityAccess answer.
pub const SEED: &str = "seed";

/// Which recorded values an `expect` does not hold the target to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masks {
    /// DoIP field names (`currently_open_sockets`, `vin`, ...) matched with `any`, and
    /// [`SEED`]: the seed bytes of a positive SecurityAccess requestSeed answer (`67 <odd>`,
    /// ISO 14229-1:2020 §10.4) matched with `??`.
    pub names: Vec<String>,
}

impl Masks {
    /// What differs between two runs of the same conversation against the same target: the
    /// seed (random by design) and the open-socket count of an entity status (it counts other
    /// testers' sockets too, ISO 13400-2:2019 Table 11).
    pub fn varying() -> Masks {
        Masks { names: vec![SEED.into(), "currently_open_sockets".into()] }
    }

    /// Every value exactly as recorded.
    pub fn none() -> Masks {
        Masks { names: Vec::new() }
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// The message's id in suites (`diagnostic_message`); `None` for an unknown payload type.
pub fn message_name(message: &Message<'_>) -> Option<&'static str> {
    match message.payload {
        Payload::Unknown(..) => None,
        _ => message.payload.payload_type().id(),
    }
}

/// The fields of a `send`: every field present on the wire, as recorded.
pub fn send_body(message: &Message<'_>) -> Node {
    Node::map(
        payload_fields(&message.payload)
            .into_iter()
            .filter(|f| f.value != FieldValue::Absent)
            .map(|f| (f.name, value(&f.value))),
    )
}

/// The matchers of an `expect`: every field, absent ones as `absent`, masked ones as `any`,
/// and a SecurityAccess seed as `??` bytes.
pub fn expect_body(message: &Message<'_>, masks: &Masks) -> Node {
    let seed = masks.has(SEED);
    Node::map(payload_fields(&message.payload).into_iter().map(|f| {
        let matcher = match f.value {
            _ if masks.has(f.name) => Node::plain("any"),
            FieldValue::Absent => Node::plain("absent"),
            FieldValue::Bytes(bytes) if f.name == "user_data" && seed => {
                Node::text(uds_pattern(bytes, true))
            }
            other => value(&other),
        };
        (f.name, matcher)
    }))
}

/// A UDS message as a byte pattern, with a SecurityAccess seed as `??` when `mask_seed`.
pub fn uds_pattern(bytes: &[u8], mask_seed: bool) -> String {
    match bytes {
        [0x67, level, seed @ ..] if mask_seed && level % 2 == 1 && !seed.is_empty() => {
            let mut text = format!("67 {level:02x}");
            for _ in seed {
                text.push_str(" ??");
            }
            text
        }
        _ => hex_spaced(bytes),
    }
}

fn value(value: &FieldValue<'_>) -> Node {
    match *value {
        FieldValue::Number(n) => Node::plain(n.to_string()),
        FieldValue::Hex(n, width) => hex_number(n, width),
        FieldValue::Code { id: Some(id), .. } => Node::plain(id),
        FieldValue::Code { raw, width, .. } => hex_number(raw, width),
        FieldValue::Bytes(bytes) => Node::text(hex_spaced(bytes)),
        FieldValue::Vin(vin) if vin.iter().all(|b| b.is_ascii_alphanumeric()) => {
            Node::text(String::from_utf8_lossy(vin).into_owned())
        }
        FieldValue::Vin(vin) => Node::text(hex_spaced(vin)),
        FieldValue::Absent => Node::plain("absent"),
    }
}

fn hex_number(n: u64, width: u8) -> Node {
    Node::plain(format!("0x{n:0digits$X}", digits = usize::from(width) * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_masked_only_in_a_positive_request_seed_answer() {
        assert_eq!(uds_pattern(&[0x67, 0x01, 0xAB, 0xCD], true), "67 01 ?? ??");
        assert_eq!(uds_pattern(&[0x67, 0x01, 0xAB, 0xCD], false), "67 01 ab cd");
        // sendKey's answer (even level) and a seed-less answer carry nothing random.
        assert_eq!(uds_pattern(&[0x67, 0x02], true), "67 02");
        assert_eq!(uds_pattern(&[0x67, 0x01], true), "67 01");
        assert_eq!(uds_pattern(&[0x62, 0xF1, 0x90], true), "62 f1 90");
    }
}
