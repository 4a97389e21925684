//! Malformed messages on purpose: any [`Message`] emitted with its header's version, inverse
//! version, type or length overridden, truncated, or with bytes appended. Negative tests are
//! most of conformance testing, so this is a first-class API.
//!
//! ```
//! use doipcheck::codec::doip::{Message, Payload, ProtocolVersion};
//! let alive = Message::new(ProtocolVersion::Iso2012, Payload::AliveCheckRequest);
//! let bytes = alive.malformed().inverse_protocol_version(0x00).to_bytes();
//! assert_eq!(bytes, [0x02, 0x00, 0x00, 0x07, 0, 0, 0, 0]);
//! ```
//!
//! Order of application: emit the message, overwrite header fields, truncate, append.
//! Overriding the version alone also writes its inverse (so the header tests the version, not
//! the pattern); override the inverse too to break both.
//!
//! May import: `crate::codec`.

use super::{HEADER_LEN, HeaderView, Message};

/// What to break in an emitted message. All `None`/empty emits the message unchanged. Plain
/// data, so suite files can describe it field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Overrides {
    /// Header byte 0 (and byte 1 = its inverse, unless `inverse_protocol_version` is set).
    pub protocol_version: Option<u8>,
    /// Header byte 1.
    pub inverse_protocol_version: Option<u8>,
    /// Header bytes 2-3.
    pub payload_type: Option<u16>,
    /// Header bytes 4-7 (the payload itself is unchanged).
    pub payload_length: Option<u32>,
    /// Keep only the first this many bytes of the message (header included).
    pub truncate_to: Option<usize>,
    /// Bytes added after the (possibly truncated) message.
    pub append: Vec<u8>,
}

impl Overrides {
    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// Appends `message` with these overrides applied to `out`.
    pub fn emit(&self, message: &Message<'_>, out: &mut Vec<u8>) {
        let start = out.len();
        message.emit(out);
        {
            // The emitted message has a full header, so the view exists.
            if let Ok(mut header) = HeaderView::new(&mut out[start..]) {
                if let Some(version) = self.protocol_version {
                    header.set_protocol_version(version);
                    header.set_inverse_protocol_version(!version);
                }
                if let Some(inverse) = self.inverse_protocol_version {
                    header.set_inverse_protocol_version(inverse);
                }
                if let Some(payload_type) = self.payload_type {
                    header.set_payload_type(payload_type);
                }
                if let Some(length) = self.payload_length {
                    header.set_payload_length(length);
                }
            }
        }
        if let Some(keep) = self.truncate_to {
            out.truncate(start.saturating_add(keep));
        }
        out.extend_from_slice(&self.append);
    }

    /// `message` with these overrides applied, as a new vector.
    pub fn to_bytes(&self, message: &Message<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(message.len() + self.append.len());
        self.emit(message, &mut out);
        out
    }
}

/// Builder returned by [`Message::malformed`].
#[derive(Debug, Clone)]
pub struct Malformed<'m, 'a> {
    message: &'m Message<'a>,
    overrides: Overrides,
}

impl<'a> Message<'a> {
    /// Starts a malformed copy of this message (see the [module docs](self::super::malformed)).
    pub fn malformed(&self) -> Malformed<'_, 'a> {
        Malformed { message: self, overrides: Overrides::default() }
    }
}

impl Malformed<'_, '_> {
    /// Header byte 0 (and its inverse in byte 1, unless overridden too).
    pub fn protocol_version(mut self, version: u8) -> Self {
        self.overrides.protocol_version = Some(version);
        self
    }

    /// Header byte 1.
    pub fn inverse_protocol_version(mut self, inverse: u8) -> Self {
        self.overrides.inverse_protocol_version = Some(inverse);
        self
    }

    /// Header bytes 2-3.
    pub fn payload_type(mut self, payload_type: u16) -> Self {
        self.overrides.payload_type = Some(payload_type);
        self
    }

    /// Header bytes 4-7.
    pub fn payload_length(mut self, length: u32) -> Self {
        self.overrides.payload_length = Some(length);
        self
    }

    /// Keep only the first `len` bytes (header included).
    pub fn truncate_to(mut self, len: usize) -> Self {
        self.overrides.truncate_to = Some(len);
        self
    }

    /// Cut the payload: keep the header and the first `len` payload bytes.
    pub fn truncate_payload_to(self, len: usize) -> Self {
        self.truncate_to(HEADER_LEN + len)
    }

    /// Add `bytes` after the message.
    pub fn append(mut self, bytes: &[u8]) -> Self {
        self.overrides.append.extend_from_slice(bytes);
        self
    }

    /// Replace all overrides at once.
    pub fn with_overrides(mut self, overrides: Overrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// The overrides collected so far.
    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// Appends the malformed message to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        self.overrides.emit(self.message, out);
    }

    /// The malformed message as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.overrides.to_bytes(self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::doip::{
        AliveCheckResponse, DiagnosticMessage, GenericNackCode, Payload, ProtocolVersion, Rule,
    };

    fn alive_response() -> Message<'static> {
        Message::new(
            ProtocolVersion::Iso2012,
            Payload::AliveCheckResponse(AliveCheckResponse { source_address: 0x0E00 }),
        )
    }

    #[test]
    fn no_overrides_emit_the_message_unchanged() {
        let m = alive_response();
        assert_eq!(m.malformed().to_bytes(), m.to_bytes());
        assert!(Overrides::default().is_empty());
    }

    #[test]
    fn overriding_the_version_writes_its_inverse_too() {
        let bytes = alive_response().malformed().protocol_version(0x05).to_bytes();
        assert_eq!(&bytes[..2], &[0x05, 0xFA]);
        let e = Message::parse(&bytes).unwrap_err();
        assert_eq!(e.rule, Rule::UnsupportedVersion { version: 5 });
    }

    #[test]
    fn overriding_the_inverse_breaks_the_pattern() {
        let bytes = alive_response().malformed().inverse_protocol_version(0xFF).to_bytes();
        assert_eq!(bytes, [0x02, 0xFF, 0x00, 0x08, 0, 0, 0, 2, 0x0E, 0x00]);
        let e = Message::parse(&bytes).unwrap_err();
        assert_eq!(e.nack_code(), Some(GenericNackCode::IncorrectPatternFormat));
    }

    #[test]
    fn overriding_the_type_keeps_the_payload() {
        let bytes = alive_response().malformed().payload_type(0x0009).to_bytes();
        assert_eq!(bytes, [0x02, 0xFD, 0x00, 0x09, 0, 0, 0, 2, 0x0E, 0x00]);
    }

    #[test]
    fn overriding_the_length_keeps_the_payload() {
        let bytes = alive_response().malformed().payload_length(3).to_bytes();
        assert_eq!(bytes, [0x02, 0xFD, 0x00, 0x08, 0, 0, 0, 3, 0x0E, 0x00]);
        assert_eq!(
            Message::parse(&bytes).unwrap_err().nack_code(),
            Some(GenericNackCode::InvalidPayloadLength)
        );
    }

    #[test]
    fn truncate_then_append() {
        let m = Message::new(
            ProtocolVersion::Iso2019,
            Payload::DiagnosticMessage(DiagnosticMessage::new(0x0E00, 0x1000, &[0x3E, 0x00][..])),
        );
        let bytes = m.malformed().truncate_payload_to(4).append(&[0xAB]).to_bytes();
        assert_eq!(bytes, [0x03, 0xFC, 0x80, 0x01, 0, 0, 0, 6, 0x0E, 0x00, 0x10, 0x00, 0xAB]);
        let cut = m.malformed().truncate_to(3).to_bytes();
        assert_eq!(cut, [0x03, 0xFC, 0x80]);
        // Truncating beyond the end changes nothing.
        assert_eq!(m.malformed().truncate_to(100).to_bytes(), m.to_bytes());
    }
}
