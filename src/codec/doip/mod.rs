//! DoIP (ISO 13400-2) wire format: bytes <-> typed messages. Pure: no I/O, no clock.
//!
//! # The contract
//!
//! - **Header.** [`HeaderView`] reads and writes any field of any 8 bytes, valid or not (what a
//!   target really sent). [`Header::parse`] / [`Header::parse_with`] validate in the order an
//!   entity must: pattern (version 0x01-0x04, or 0xFF on 0x0001-0x0003 only; inverse =
//!   version XOR 0xFF) -> unknown type / wrong transport (only with [`HeaderRules::transport`])
//!   -> size limit -> length rule of the type.
//! - **Messages.** [`Message`] = [`ProtocolVersion`] + [`Payload`]. `Payload` has one variant
//!   per payload type (16) with every field, optional ones as `Option` (or an empty previous
//!   diagnostic message), plus `Unknown(type, bytes)` so reserved types round-trip.
//!   [`Message::parse`] takes exactly one message (a datagram, a hex line);
//!   [`Message::emit`] / [`Message::to_bytes`] write it. Parsing is zero-copy: byte fields are
//!   `Cow::Borrowed` from the input; `into_owned()` gives a `'static` value to keep.
//! - **Codes.** Every code is an open enum with `Unknown(raw)`, `from_raw`/`raw`, `From` both
//!   ways, a stable snake_case `id()` and the standard's `description()` ([`codes`]).
//! - **Errors.** [`Error`] = [`Rule`] (with the values that broke it) + [`Field`] + byte offset;
//!   [`Error::nack_code`] is the generic NACK an entity answers with and
//!   [`Error::closes_tcp_socket`] whether it then closes the socket.
//! - **Transport rule.** [`PayloadType::transports`] / [`PayloadType::allowed_on`] say which
//!   types belong on UDP and TCP; [`Header::check_transport`] applies it.
//! - **TCP streams.** [`Deframer`] (see [`deframer`]) finds messages in any chunking, judges
//!   the header before the body, rejects a length above its limit at once and skips it
//!   exactly without buffering it.
//! - **Malformed messages.** [`Message::malformed`] / [`Overrides`] (see [`malformed`]).
//! - **Display.** Every message prints a one-line summary, like Wireshark's Info column.
//!   [`fields`] lists every field by name for human and JSON output.
//!
//! ```
//! use doipcheck::codec::doip::{DiagnosticMessage, Message, Payload, ProtocolVersion};
//! let bytes = [0x02, 0xFD, 0x80, 0x01, 0, 0, 0, 7, 0x0E, 0x00, 0x10, 0x00, 0x22, 0xF1, 0x90];
//! let message = Message::parse(&bytes).unwrap();
//! let Payload::DiagnosticMessage(diag) = &message.payload else { unreachable!() };
//! assert_eq!((diag.source_address, diag.target_address), (0x0E00, 0x1000));
//! assert_eq!(&diag.user_data[..], [0x22, 0xF1, 0x90]);
//! assert_eq!(message.to_string(), "Diagnostic message 0x0E00 -> 0x1000, 3 bytes: 22 F1 90");
//! let built = Message::new(
//!     ProtocolVersion::Iso2012,
//!     Payload::DiagnosticMessage(DiagnosticMessage::new(0x0E00, 0x1000, vec![0x22, 0xF1, 0x90])),
//! );
//! assert_eq!(built.to_bytes(), bytes);
//! ```
//!
//! May import: `crate::codec` only.

pub mod codes;
pub mod deframer;
pub mod fields;
pub mod malformed;

mod alive;
mod diagnostic;
mod error;
mod header;
mod message;
mod nack;
mod payload_type;
mod routing;
mod status;
mod transport;
mod vehicle;

pub use alive::AliveCheckResponse;
pub use codes::{
    ActivationType, DiagnosticAckCode, DiagnosticNackCode, FurtherAction, GenericNackCode,
    NodeType, PowerMode, RoutingActivationResponseCode, SyncStatus,
};
pub use deframer::{Deframed, Deframer};
pub use diagnostic::{DiagnosticMessage, DiagnosticMessageAck, DiagnosticMessageNack};
pub use error::{Error, Field, Rule};
pub use header::{HEADER_LEN, Header, HeaderRules, HeaderView, ProtocolVersion, payload_type_of};
pub use malformed::{Malformed, Overrides};
pub use message::{Message, Payload};
pub use nack::GenericNack;
pub use payload_type::{LengthRule, PayloadType};
pub use routing::{RoutingActivationRequest, RoutingActivationResponse};
pub use status::{EntityStatusResponse, PowerModeInformationResponse};
pub use transport::Transport;
pub use vehicle::{
    Eid, Gid, VehicleAnnouncement, VehicleIdentificationRequestWithEid,
    VehicleIdentificationRequestWithVin, Vin,
};

use core::fmt;

/// `Err(InvalidPayloadLength)` unless `payload.len()` satisfies the length rule of `payload_type`.
#[inline]
fn check_payload_len(payload_type: PayloadType, payload: &[u8]) -> Result<(), Error> {
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    match payload_type::length_rule_of(payload_type.raw()) {
        Some(expected) if !expected.allows(length) => Err(Error::at(
            Field::PayloadLength,
            Rule::InvalidPayloadLength { payload_type, length, expected },
        )),
        _ => Ok(()),
    }
}

/// Big-endian u16 at `at`; callers checked the payload length first.
#[inline]
fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// Big-endian u32 at `at`; callers checked the payload length first.
#[inline]
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// At most this many bytes are shown by the one-line summaries.
const SUMMARY_BYTES: usize = 16;

/// Bytes as spaced upper-case hex, cut after [`SUMMARY_BYTES`] with an ellipsis.
fn fmt_hex(bytes: &[u8]) -> impl fmt::Display + '_ {
    struct Hex<'a>(&'a [u8]);
    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for (i, b) in self.0.iter().take(SUMMARY_BYTES).enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{b:02X}")?;
            }
            if self.0.len() > SUMMARY_BYTES {
                f.write_str(" ...")?;
            }
            Ok(())
        }
    }
    Hex(bytes)
}

/// An EID/GID as colon-separated hex, like a MAC address.
fn fmt_id(bytes: &[u8]) -> impl fmt::Display + '_ {
    struct Id<'a>(&'a [u8]);
    impl fmt::Display for Id<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for (i, b) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str(":")?;
                }
                write!(f, "{b:02X}")?;
            }
            Ok(())
        }
    }
    Id(bytes)
}

#[cfg(test)]
mod tests;
