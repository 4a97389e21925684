//! The protocol version of the entity's replies (ISO 13400-2:2019 §8.1.1), for TCP and UDP
//! alike.
//!
//! May import: `crate::codec`, `crate::pcap::read` and `crate::judge`.

use super::{Finding, Found, rules};
use crate::codec::doip::{Error, Message, Payload, ProtocolVersion};
use crate::pcap::read::At;

/// The version of an entity message that answers in the tester's version: any valid message
/// but a generic NACK (an entity refuses a version it does not implement with NACK 0x00, in
/// its own version).
pub(super) fn answer_version(parsed: &Result<Message<'_>, Error>) -> Option<ProtocolVersion> {
    match parsed {
        Ok(m) if !matches!(m.payload, Payload::GenericNack(_)) => Some(m.protocol_version),
        _ => None,
    }
}

/// The entity's message at `at` answers (or follows) a tester message sent as `asked`: it
/// carries that version, unless the tester used the default 0xFF (vehicle identification
/// requests), which any version answers (ISO 13400-2:2019 §8.1.1: the entity answers with the
/// version it implements).
pub(super) fn reply_version(
    asked: ProtocolVersion,
    request: u64,
    sent: ProtocolVersion,
    at: At,
    found: &mut Found,
) {
    if asked == ProtocolVersion::Default {
        return;
    }
    found.judged(&rules::DOIP_REPLY_VERSION);
    if sent != asked {
        found.push(Finding {
            rule: &rules::DOIP_REPLY_VERSION,
            packets: vec![request, at.packet],
            message: format!(
                "the tester's message carried protocol version 0x{:02X}, the entity answered with \
                 0x{:02X}",
                asked.raw(),
                sent.raw()
            ),
        });
    }
}
