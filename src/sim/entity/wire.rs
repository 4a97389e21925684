//! Framing of the entity's replies with the codec, and the two reply-header faults (applied
//! here and nowhere else).

use super::Entity;
use crate::codec::doip::{Message, Payload, ProtocolVersion};
use crate::sim::faults::Fault;

impl Entity {
    /// A whole reply message in the entity's protocol version.
    pub(super) fn reply(&self, payload: Payload<'_>) -> Vec<u8> {
        let version = self.config.protocol_version;
        let mut bytes = Message::new(ProtocolVersion::from_raw(version), payload).to_bytes();
        if self.has(Fault::ReplyWrongVersion) {
            let wrong = version.wrapping_add(1);
            bytes[0] = wrong;
            bytes[1] = !wrong;
        }
        if self.has(Fault::ReplyWrongInverse) {
            // Anything but !version: a byte is never its own inverse.
            bytes[1] = bytes[0];
        }
        bytes
    }
}
