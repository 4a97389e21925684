//! The generic DoIP header (ISO 13400-2:2019, generic DoIP header structure): 8 bytes,
//! big-endian.
//!
//! ```text
//! offset 0  protocol version          0x01-0x04, 0xFF default (vehicle identification only)
//!        1  inverse protocol version  version XOR 0xFF
//!        2  payload type (u16)
//!        4  payload length (u32)      payload only, header excluded
//! ```
//!
//! Two levels, as everywhere in this codec: [`HeaderView`] reads (and writes) any field of any 8
//! bytes, valid or not, so tests can look at what a target really sent; [`Header`] is the validated
//! value, built by [`Header::parse`] which applies the rules in the order an entity must
//! (docs/protocol.md#header-handling): pattern (version, inverse, 0xFF only on 0x0001-0x0003), then
//! size limit, then the length rule of the payload type.
//!
//! May import: `crate::codec`.

use super::payload_type::length_rule_of;
use super::{Error, Field, PayloadType, Rule, Transport};
use crate::codec::open_enum::open_enum;

/// Length of the generic header.
pub const HEADER_LEN: usize = 8;

open_enum! {
    /// Protocol version (header byte 0).
    pub enum ProtocolVersion: u8 {
        /// ISO/DIS 13400-2:2010.
        Iso2010 = 0x01, "iso2010", "ISO/DIS 13400-2:2010",
        /// ISO 13400-2:2012.
        Iso2012 = 0x02, "iso2012", "ISO 13400-2:2012",
        /// ISO 13400-2:2019.
        Iso2019 = 0x03, "iso2019", "ISO 13400-2:2019",
        /// ISO 13400-2:2019/Amd1 (seen in Wireshark and scapy).
        Iso2019Amd1 = 0x04, "iso2019_amd1", "ISO 13400-2:2019/Amd1",
        /// "Default": valid only in vehicle identification requests 0x0001-0x0003.
        Default = 0xFF, "default", "default (vehicle identification only)",
    }
}

impl ProtocolVersion {
    /// The inverse version byte that belongs with this version.
    #[inline]
    pub const fn inverse(self) -> u8 {
        !self.raw()
    }
}

mod field {
    pub const VERSION: usize = 0;
    pub const INVERSE: usize = 1;
    pub const TYPE: core::ops::Range<usize> = 2..4;
    pub const LENGTH: core::ops::Range<usize> = 4..8;
}

/// A view over the first 8 bytes of a buffer; accessors never panic and read any value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> HeaderView<T> {
    /// A view, if `buffer` holds at least [`HEADER_LEN`] bytes.
    pub fn new(buffer: T) -> Result<Self, Error> {
        let available = buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::at(Field::ProtocolVersion, Rule::IncompleteHeader { available }));
        }
        Ok(HeaderView { buffer })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    fn bytes(&self) -> &[u8; HEADER_LEN] {
        // `new` checked the length, so the first 8 bytes exist.
        self.buffer.as_ref()[..HEADER_LEN].try_into().unwrap_or(&[0; HEADER_LEN])
    }

    /// Header byte 0.
    #[inline]
    pub fn protocol_version(&self) -> ProtocolVersion {
        ProtocolVersion::from_raw(self.bytes()[field::VERSION])
    }

    /// Header byte 1, as sent (not necessarily the inverse of byte 0).
    #[inline]
    pub fn inverse_protocol_version(&self) -> u8 {
        self.bytes()[field::INVERSE]
    }

    /// Header bytes 2-3.
    #[inline]
    pub fn payload_type(&self) -> PayloadType {
        let b = self.bytes();
        PayloadType::from_raw(u16::from_be_bytes([b[field::TYPE.start], b[field::TYPE.start + 1]]))
    }

    /// Header bytes 4-7, as declared (may be a lie).
    #[inline]
    pub fn payload_length(&self) -> u32 {
        let b = self.bytes();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }

    /// Payload bytes present after the header (at most the declared length).
    pub fn payload(&self) -> &[u8] {
        let rest = &self.buffer.as_ref()[HEADER_LEN..];
        let declared = usize::try_from(self.payload_length()).unwrap_or(usize::MAX);
        &rest[..rest.len().min(declared)]
    }
}

/// The payload type a message's header names, read through [`HeaderView`] without judging it;
/// `None` when `bytes` are shorter than a header. For code that sorts raw messages by type.
pub fn payload_type_of(bytes: &[u8]) -> Option<PayloadType> {
    HeaderView::new(bytes).ok().map(|h| h.payload_type())
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> HeaderView<T> {
    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[..HEADER_LEN]
    }

    /// Writes header byte 0 only (the inverse is left as is).
    pub fn set_protocol_version(&mut self, version: u8) {
        self.bytes_mut()[field::VERSION] = version;
    }

    /// Writes header byte 1.
    pub fn set_inverse_protocol_version(&mut self, inverse: u8) {
        self.bytes_mut()[field::INVERSE] = inverse;
    }

    /// Writes header bytes 2-3.
    pub fn set_payload_type(&mut self, payload_type: u16) {
        self.bytes_mut()[field::TYPE].copy_from_slice(&payload_type.to_be_bytes());
    }

    /// Writes header bytes 4-7.
    pub fn set_payload_length(&mut self, length: u32) {
        self.bytes_mut()[field::LENGTH].copy_from_slice(&length.to_be_bytes());
    }
}

/// A validated generic header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// A supported version; 0xFF only with types 0x0001-0x0003.
    pub protocol_version: ProtocolVersion,
    /// Any type, known or not.
    pub payload_type: PayloadType,
    /// Within the limit and the length rule of a known type.
    pub payload_length: u32,
}

impl Header {
    /// Parses and validates the first 8 bytes of `bytes` (the rest is not looked at), with
    /// `max_payload_length` as the receiver's limit (its maximum data size; `u32::MAX` for
    /// none). Unknown payload types pass (see [`Header::parse_with`] to reject them).
    #[inline]
    pub fn parse(bytes: &[u8], max_payload_length: u32) -> Result<Header, Error> {
        Self::parse_with(bytes, &HeaderRules { max_payload_length, transport: None })
    }

    /// Parses and validates the first 8 bytes of `bytes` in the order an entity must check them
    /// (docs/protocol.md#header-handling): pattern (NACK 0x00), then, if `rules.transport` is set,
    /// unknown type or wrong transport (0x01), then size limit (0x02), then the length rule of the
    /// payload type (0x04). The first error is the one an entity NACKs.
    #[inline]
    pub fn parse_with(bytes: &[u8], rules: &HeaderRules) -> Result<Header, Error> {
        let max_payload_length = rules.max_payload_length;
        let Some(b) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(Error::at(
                Field::ProtocolVersion,
                Rule::IncompleteHeader { available: bytes.len() },
            ));
        };
        let version = b[field::VERSION];
        let inverse = b[field::INVERSE];
        let raw_type = u16::from_be_bytes([b[2], b[3]]);
        let payload_type = PayloadType::from_raw(raw_type);
        let payload_length = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        // ISO 13400-2:2019 generic header handling: the pattern check comes first; a failure
        // is NACKed with 0x00 and closes the TCP socket.
        if inverse != !version {
            return Err(Error::at(
                Field::InverseProtocolVersion,
                Rule::InverseVersionMismatch { version, inverse },
            ));
        }
        let protocol_version = ProtocolVersion::from_raw(version);
        match protocol_version {
            ProtocolVersion::Unknown(_) => {
                return Err(Error::at(
                    Field::ProtocolVersion,
                    Rule::UnsupportedVersion { version },
                ));
            }
            // 0xFF ("default") is valid only in vehicle identification requests 0x0001-0x0003.
            ProtocolVersion::Default if !matches!(raw_type, 0x0001..=0x0003) => {
                return Err(Error::at(
                    Field::ProtocolVersion,
                    Rule::DefaultVersionNotAllowed { payload_type },
                ));
            }
            _ => {}
        }
        if let Some(transport) = rules.transport {
            check_transport(payload_type, transport)?;
        }
        if payload_length > max_payload_length {
            return Err(Error::at(
                Field::PayloadLength,
                Rule::MessageTooLarge { length: payload_length, limit: max_payload_length },
            ));
        }
        if let Some(expected) = length_rule_of(raw_type)
            && !expected.allows(payload_length)
        {
            return Err(Error::at(
                Field::PayloadLength,
                Rule::InvalidPayloadLength { payload_type, length: payload_length, expected },
            ));
        }
        Ok(Header { protocol_version, payload_type, payload_length })
    }

    /// The 8 header bytes.
    #[inline]
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let v = self.protocol_version.raw();
        let t = self.payload_type.raw().to_be_bytes();
        let l = self.payload_length.to_be_bytes();
        [v, !v, t[0], t[1], l[0], l[1], l[2], l[3]]
    }

    /// Appends the 8 header bytes to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    /// Header plus payload length.
    pub const fn message_len(&self) -> u64 {
        HEADER_LEN as u64 + self.payload_length as u64
    }

    /// The transport rule: `Err` (generic NACK 0x01) when the type is unknown or does not
    /// belong on `transport`.
    pub fn check_transport(&self, transport: Transport) -> Result<(), Error> {
        check_transport(self.payload_type, transport)
    }
}

/// What [`Header::parse_with`] checks beyond the pattern and the length rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HeaderRules {
    /// The receiver's limit on the payload length (NACK 0x02 above it).
    pub max_payload_length: u32,
    /// When set, unknown types and types of the other transport are rejected (NACK 0x01),
    /// as an entity does; when `None`, they pass, as a tester that records everything wants.
    pub transport: Option<Transport>,
}

impl Default for HeaderRules {
    /// No limit, no transport check.
    fn default() -> Self {
        HeaderRules { max_payload_length: u32::MAX, transport: None }
    }
}

#[inline]
fn check_transport(payload_type: PayloadType, transport: Transport) -> Result<(), Error> {
    if !payload_type.is_named() {
        return Err(Error::at(Field::PayloadType, Rule::UnknownPayloadType { payload_type }));
    }
    if !payload_type.allowed_on(transport) {
        return Err(Error::at(
            Field::PayloadType,
            Rule::WrongTransport { payload_type, transport },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::doip::{GenericNackCode, LengthRule};

    const DIAG: [u8; 8] = [0x02, 0xFD, 0x80, 0x01, 0x00, 0x00, 0x00, 0x07];

    #[test]
    fn view_deconstructs_any_header() {
        let view = HeaderView::new(&DIAG[..]).unwrap();
        assert_eq!(view.protocol_version(), ProtocolVersion::Iso2012);
        assert_eq!(view.inverse_protocol_version(), 0xFD);
        assert_eq!(view.payload_type(), PayloadType::DiagnosticMessage);
        assert_eq!(view.payload_length(), 7);
        let bad = [0x07, 0x00, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF];
        let view = HeaderView::new(&bad[..]).unwrap();
        assert_eq!(view.protocol_version(), ProtocolVersion::Unknown(0x07));
        assert_eq!(view.payload_type(), PayloadType::Unknown(0x1234));
        assert_eq!(view.payload_length(), u32::MAX);
        assert!(view.payload().is_empty());
    }

    #[test]
    fn view_construct_writes_every_field() {
        let mut buf = [0u8; 8];
        let mut view = HeaderView::new(&mut buf[..]).unwrap();
        view.set_protocol_version(0x02);
        view.set_inverse_protocol_version(0xFD);
        view.set_payload_type(0x8001);
        view.set_payload_length(7);
        assert_eq!(buf, DIAG);
    }

    #[test]
    fn view_needs_eight_bytes() {
        let e = HeaderView::new(&DIAG[..7]).unwrap_err();
        assert_eq!(e.rule, Rule::IncompleteHeader { available: 7 });
    }

    #[test]
    fn parse_and_emit_a_valid_header() {
        let h = Header::parse(&DIAG, u32::MAX).unwrap();
        assert_eq!(
            h,
            Header {
                protocol_version: ProtocolVersion::Iso2012,
                payload_type: PayloadType::DiagnosticMessage,
                payload_length: 7,
            }
        );
        assert_eq!(h.to_bytes(), DIAG);
        assert_eq!(h.message_len(), 15);
    }

    fn parse_err(bytes: [u8; 8]) -> Error {
        Header::parse(&bytes, 4096).unwrap_err()
    }

    #[test]
    fn inverse_version_mismatch_is_a_pattern_error_at_offset_1() {
        let e = parse_err([0x02, 0x00, 0x80, 0x01, 0, 0, 0, 7]);
        assert_eq!(e.rule, Rule::InverseVersionMismatch { version: 2, inverse: 0 });
        assert_eq!((e.field, e.offset), (Field::InverseProtocolVersion, 1));
        assert_eq!(e.nack_code(), Some(GenericNackCode::IncorrectPatternFormat));
    }

    #[test]
    fn unsupported_version_with_a_correct_inverse_is_a_pattern_error_at_offset_0() {
        let e = parse_err([0x05, 0xFA, 0x80, 0x01, 0, 0, 0, 7]);
        assert_eq!(e.rule, Rule::UnsupportedVersion { version: 5 });
        assert_eq!(e.offset, 0);
        assert_eq!(e.nack_code(), Some(GenericNackCode::IncorrectPatternFormat));
    }

    #[test]
    fn default_version_is_accepted_on_vehicle_identification_requests() {
        for t in [0x01u8, 0x02, 0x03] {
            let len = [0u8, 6, 17][usize::from(t - 1)];
            let h = Header::parse(&[0xFF, 0x00, 0, t, 0, 0, 0, len], 4096).unwrap();
            assert_eq!(h.protocol_version, ProtocolVersion::Default);
        }
    }

    #[test]
    fn default_version_is_rejected_on_other_types() {
        let e = parse_err([0xFF, 0x00, 0x00, 0x04, 0, 0, 0, 33]);
        assert_eq!(
            e.rule,
            Rule::DefaultVersionNotAllowed { payload_type: PayloadType::VehicleAnnouncement }
        );
        assert_eq!(e.nack_code(), Some(GenericNackCode::IncorrectPatternFormat));
    }

    #[test]
    fn a_length_above_the_limit_is_too_large_before_the_length_rule() {
        // A 4 GiB alive check request: too large (0x02) is judged before invalid length (0x04).
        let e = parse_err([0x02, 0xFD, 0x00, 0x07, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(e.rule, Rule::MessageTooLarge { length: u32::MAX, limit: 4096 });
        assert_eq!((e.field, e.offset), (Field::PayloadLength, 4));
        assert_eq!(e.nack_code(), Some(GenericNackCode::MessageTooLarge));
    }

    #[test]
    fn a_length_wrong_for_the_type_is_an_invalid_length() {
        let e = parse_err([0x02, 0xFD, 0x00, 0x08, 0, 0, 0, 3]);
        assert_eq!(
            e.rule,
            Rule::InvalidPayloadLength {
                payload_type: PayloadType::AliveCheckResponse,
                length: 3,
                expected: LengthRule::Exact(2),
            }
        );
        assert_eq!(e.nack_code(), Some(GenericNackCode::InvalidPayloadLength));
    }

    #[test]
    fn unknown_types_pass_the_header_check_with_any_length() {
        let h = Header::parse(&[0x02, 0xFD, 0x12, 0x34, 0, 0, 0, 3], 4096).unwrap();
        assert_eq!(h.payload_type, PayloadType::Unknown(0x1234));
    }

    #[test]
    fn an_entity_rejects_an_unknown_type_before_judging_its_size() {
        let rules = HeaderRules { max_payload_length: 4096, transport: Some(Transport::Tcp) };
        let e = Header::parse_with(&[0x02, 0xFD, 0x12, 0x34, 0xFF, 0, 0, 0], &rules).unwrap_err();
        assert_eq!(e.nack_code(), Some(GenericNackCode::UnknownPayloadType));
        let e = Header::parse_with(&[0x02, 0xFD, 0x00, 0x01, 0, 0, 0, 0], &rules).unwrap_err();
        assert_eq!(
            e.rule,
            Rule::WrongTransport {
                payload_type: PayloadType::VehicleIdentificationRequest,
                transport: Transport::Tcp
            }
        );
    }

    #[test]
    fn transport_check_rejects_unknown_types_and_wrong_transports() {
        let h = Header::parse(&[0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0], 4096).unwrap();
        assert!(h.check_transport(Transport::Tcp).is_ok());
        let e = h.check_transport(Transport::Udp).unwrap_err();
        assert_eq!(e.nack_code(), Some(GenericNackCode::UnknownPayloadType));
        assert_eq!(e.offset, 2);
        let h = Header::parse(&[0x02, 0xFD, 0x00, 0x09, 0, 0, 0, 0], 4096).unwrap();
        assert_eq!(
            h.check_transport(Transport::Tcp).unwrap_err().rule,
            Rule::UnknownPayloadType { payload_type: PayloadType::Unknown(9) }
        );
    }
}
