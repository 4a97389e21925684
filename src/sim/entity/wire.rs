//! Framing of the entity's replies with the codec, the two reply-header faults (applied
//! here and nowhere else), and the buffers replies are written into: the driver hands each
//! written buffer back ([`Entity::recycle`]), so a steady exchange allocates none.

use super::Entity;
use crate::codec::doip::{Message, Payload, ProtocolVersion};
use crate::sim::faults::Fault;

impl Entity {
    /// A whole reply message in the entity's protocol version.
    pub(super) fn reply(&self, payload: Payload<'_>) -> Vec<u8> {
        let version = self.config.protocol_version;
        let spare = self.spare.borrow_mut().pop();
        let mut bytes = spare.unwrap_or_else(|| Vec::with_capacity(NEW_CAPACITY));
        Message::new(ProtocolVersion::from_raw(version), payload).emit(&mut bytes);
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

    /// Takes back the buffer of an output the driver has written (or dropped), for the next
    /// reply. Keeps at most [`SPARE_BUFFERS`] of at most [`SPARE_CAPACITY`] bytes each.
    pub fn recycle(&mut self, mut bytes: Vec<u8>) {
        let spare = self.spare.get_mut();
        if spare.len() < SPARE_BUFFERS && bytes.capacity() <= SPARE_CAPACITY {
            bytes.clear();
            spare.push(bytes);
        }
    }
}

/// Spare reply buffers kept: more than the replies of one exchange (an ACK, a pending NRC
/// and an answer), few enough to stay small.
const SPARE_BUFFERS: usize = 16;
/// The capacity of a new reply buffer: most replies fit, so a recycled buffer takes the next
/// reply without growing (a reallocation is an allocation too).
const NEW_CAPACITY: usize = 64;
/// A buffer larger than this (a long answer) is freed rather than kept.
const SPARE_CAPACITY: usize = 4096;
