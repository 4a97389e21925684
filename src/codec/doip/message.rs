//! A whole DoIP message (header + payload) and the payload of any type, typed.
//!
//! May import: `crate::codec`.

use super::*;
use core::fmt;
use std::borrow::Cow;

/// The payload of a DoIP message: one variant per payload type of ISO 13400-2:2019, plus
/// `Unknown` so reserved and VM-specific types round-trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload<'a> {
    /// 0x0000.
    GenericNack(GenericNack),
    /// 0x0001 (empty payload).
    VehicleIdentificationRequest,
    /// 0x0002.
    VehicleIdentificationRequestWithEid(VehicleIdentificationRequestWithEid),
    /// 0x0003.
    VehicleIdentificationRequestWithVin(VehicleIdentificationRequestWithVin),
    /// 0x0004.
    VehicleAnnouncement(VehicleAnnouncement),
    /// 0x0005.
    RoutingActivationRequest(RoutingActivationRequest),
    /// 0x0006.
    RoutingActivationResponse(RoutingActivationResponse),
    /// 0x0007 (empty payload).
    AliveCheckRequest,
    /// 0x0008.
    AliveCheckResponse(AliveCheckResponse),
    /// 0x4001 (empty payload).
    EntityStatusRequest,
    /// 0x4002.
    EntityStatusResponse(EntityStatusResponse),
    /// 0x4003 (empty payload).
    PowerModeInformationRequest,
    /// 0x4004.
    PowerModeInformationResponse(PowerModeInformationResponse),
    /// 0x8001.
    DiagnosticMessage(DiagnosticMessage<'a>),
    /// 0x8002.
    DiagnosticMessageAck(DiagnosticMessageAck<'a>),
    /// 0x8003.
    DiagnosticMessageNack(DiagnosticMessageNack<'a>),
    /// Any other payload type (raw value) with its payload bytes, kept as sent.
    Unknown(u16, Cow<'a, [u8]>),
}

impl<'a> Payload<'a> {
    /// Parses `payload` as the payload of `payload_type`. Unknown types become
    /// [`Payload::Unknown`]; known types must have a valid length (else
    /// [`Rule::InvalidPayloadLength`] at the payload length field).
    #[inline]
    pub fn parse(payload_type: PayloadType, payload: &'a [u8]) -> Result<Self, Error> {
        use PayloadType as T;
        Ok(match payload_type {
            T::GenericNack => Payload::GenericNack(GenericNack::parse(payload)?),
            T::VehicleIdentificationRequest => {
                check_payload_len(payload_type, payload)?;
                Payload::VehicleIdentificationRequest
            }
            T::VehicleIdentificationRequestWithEid => Payload::VehicleIdentificationRequestWithEid(
                VehicleIdentificationRequestWithEid::parse(payload)?,
            ),
            T::VehicleIdentificationRequestWithVin => Payload::VehicleIdentificationRequestWithVin(
                VehicleIdentificationRequestWithVin::parse(payload)?,
            ),
            T::VehicleAnnouncement => {
                Payload::VehicleAnnouncement(VehicleAnnouncement::parse(payload)?)
            }
            T::RoutingActivationRequest => {
                Payload::RoutingActivationRequest(RoutingActivationRequest::parse(payload)?)
            }
            T::RoutingActivationResponse => {
                Payload::RoutingActivationResponse(RoutingActivationResponse::parse(payload)?)
            }
            T::AliveCheckRequest => {
                check_payload_len(payload_type, payload)?;
                Payload::AliveCheckRequest
            }
            T::AliveCheckResponse => {
                Payload::AliveCheckResponse(AliveCheckResponse::parse(payload)?)
            }
            T::EntityStatusRequest => {
                check_payload_len(payload_type, payload)?;
                Payload::EntityStatusRequest
            }
            T::EntityStatusResponse => {
                Payload::EntityStatusResponse(EntityStatusResponse::parse(payload)?)
            }
            T::PowerModeInformationRequest => {
                check_payload_len(payload_type, payload)?;
                Payload::PowerModeInformationRequest
            }
            T::PowerModeInformationResponse => {
                Payload::PowerModeInformationResponse(PowerModeInformationResponse::parse(payload)?)
            }
            T::DiagnosticMessage => Payload::DiagnosticMessage(DiagnosticMessage::parse(payload)?),
            T::DiagnosticMessageAck => {
                Payload::DiagnosticMessageAck(DiagnosticMessageAck::parse(payload)?)
            }
            T::DiagnosticMessageNack => {
                Payload::DiagnosticMessageNack(DiagnosticMessageNack::parse(payload)?)
            }
            T::Unknown(raw) => Payload::Unknown(raw, Cow::Borrowed(payload)),
        })
    }

    /// The payload type this payload is sent with.
    pub fn payload_type(&self) -> PayloadType {
        use PayloadType as T;
        match self {
            Payload::GenericNack(_) => T::GenericNack,
            Payload::VehicleIdentificationRequest => T::VehicleIdentificationRequest,
            Payload::VehicleIdentificationRequestWithEid(_) => {
                T::VehicleIdentificationRequestWithEid
            }
            Payload::VehicleIdentificationRequestWithVin(_) => {
                T::VehicleIdentificationRequestWithVin
            }
            Payload::VehicleAnnouncement(_) => T::VehicleAnnouncement,
            Payload::RoutingActivationRequest(_) => T::RoutingActivationRequest,
            Payload::RoutingActivationResponse(_) => T::RoutingActivationResponse,
            Payload::AliveCheckRequest => T::AliveCheckRequest,
            Payload::AliveCheckResponse(_) => T::AliveCheckResponse,
            Payload::EntityStatusRequest => T::EntityStatusRequest,
            Payload::EntityStatusResponse(_) => T::EntityStatusResponse,
            Payload::PowerModeInformationRequest => T::PowerModeInformationRequest,
            Payload::PowerModeInformationResponse(_) => T::PowerModeInformationResponse,
            Payload::DiagnosticMessage(_) => T::DiagnosticMessage,
            Payload::DiagnosticMessageAck(_) => T::DiagnosticMessageAck,
            Payload::DiagnosticMessageNack(_) => T::DiagnosticMessageNack,
            Payload::Unknown(raw, _) => PayloadType::Unknown(*raw),
        }
    }

    /// Payload length in bytes (what the header declares).
    pub fn payload_len(&self) -> usize {
        match self {
            Payload::GenericNack(_) => GenericNack::LEN,
            Payload::VehicleIdentificationRequest
            | Payload::AliveCheckRequest
            | Payload::EntityStatusRequest
            | Payload::PowerModeInformationRequest => 0,
            Payload::VehicleIdentificationRequestWithEid(_) => {
                VehicleIdentificationRequestWithEid::LEN
            }
            Payload::VehicleIdentificationRequestWithVin(_) => {
                VehicleIdentificationRequestWithVin::LEN
            }
            Payload::VehicleAnnouncement(m) => m.payload_len(),
            Payload::RoutingActivationRequest(m) => m.payload_len(),
            Payload::RoutingActivationResponse(m) => m.payload_len(),
            Payload::AliveCheckResponse(_) => AliveCheckResponse::LEN,
            Payload::EntityStatusResponse(m) => m.payload_len(),
            Payload::PowerModeInformationResponse(_) => PowerModeInformationResponse::LEN,
            Payload::DiagnosticMessage(m) => m.payload_len(),
            Payload::DiagnosticMessageAck(m) => m.payload_len(),
            Payload::DiagnosticMessageNack(m) => m.payload_len(),
            Payload::Unknown(_, bytes) => bytes.len(),
        }
    }

    /// Appends the payload bytes (no header) to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            Payload::GenericNack(m) => m.emit(out),
            Payload::VehicleIdentificationRequest
            | Payload::AliveCheckRequest
            | Payload::EntityStatusRequest
            | Payload::PowerModeInformationRequest => {}
            Payload::VehicleIdentificationRequestWithEid(m) => m.emit(out),
            Payload::VehicleIdentificationRequestWithVin(m) => m.emit(out),
            Payload::VehicleAnnouncement(m) => m.emit(out),
            Payload::RoutingActivationRequest(m) => m.emit(out),
            Payload::RoutingActivationResponse(m) => m.emit(out),
            Payload::AliveCheckResponse(m) => m.emit(out),
            Payload::EntityStatusResponse(m) => m.emit(out),
            Payload::PowerModeInformationResponse(m) => m.emit(out),
            Payload::DiagnosticMessage(m) => m.emit(out),
            Payload::DiagnosticMessageAck(m) => m.emit(out),
            Payload::DiagnosticMessageNack(m) => m.emit(out),
            Payload::Unknown(_, bytes) => out.extend_from_slice(bytes),
        }
    }

    /// The same payload owning its bytes (for callers that keep it beyond the input buffer).
    pub fn into_owned(self) -> Payload<'static> {
        match self {
            Payload::GenericNack(m) => Payload::GenericNack(m),
            Payload::VehicleIdentificationRequest => Payload::VehicleIdentificationRequest,
            Payload::VehicleIdentificationRequestWithEid(m) => {
                Payload::VehicleIdentificationRequestWithEid(m)
            }
            Payload::VehicleIdentificationRequestWithVin(m) => {
                Payload::VehicleIdentificationRequestWithVin(m)
            }
            Payload::VehicleAnnouncement(m) => Payload::VehicleAnnouncement(m),
            Payload::RoutingActivationRequest(m) => Payload::RoutingActivationRequest(m),
            Payload::RoutingActivationResponse(m) => Payload::RoutingActivationResponse(m),
            Payload::AliveCheckRequest => Payload::AliveCheckRequest,
            Payload::AliveCheckResponse(m) => Payload::AliveCheckResponse(m),
            Payload::EntityStatusRequest => Payload::EntityStatusRequest,
            Payload::EntityStatusResponse(m) => Payload::EntityStatusResponse(m),
            Payload::PowerModeInformationRequest => Payload::PowerModeInformationRequest,
            Payload::PowerModeInformationResponse(m) => Payload::PowerModeInformationResponse(m),
            Payload::DiagnosticMessage(m) => Payload::DiagnosticMessage(m.into_owned()),
            Payload::DiagnosticMessageAck(m) => Payload::DiagnosticMessageAck(m.into_owned()),
            Payload::DiagnosticMessageNack(m) => Payload::DiagnosticMessageNack(m.into_owned()),
            Payload::Unknown(t, bytes) => Payload::Unknown(t, Cow::Owned(bytes.into_owned())),
        }
    }
}

impl<'a> Payload<'a> {
    /// The one-line summary with the UDS message of a diagnostic message named (as Wireshark's
    /// Info column shows it with the UDS dissector on): `Diagnostic message 0x0E00 -> 0x1000,
    /// 3 bytes: 22 F1 90 [request ReadDataByIdentifier]`.
    pub fn info(&self) -> String {
        self.summary().to_string()
    }

    /// [`Payload::info`] without allocating.
    pub fn summary(&self) -> Summary<'_, 'a> {
        Summary(self)
    }
}

/// The one-line summary of [`Payload::info`], written where it is wanted.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'p, 'a>(&'p Payload<'a>);

impl fmt::Display for Summary<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Payload::DiagnosticMessage(d) => {
                write!(f, "{} [{}]", self.0, crate::codec::uds::Described(&d.user_data))
            }
            other => fmt::Display::fmt(other, f),
        }
    }
}

/// One-line summary in the manner of Wireshark's Info column.
impl fmt::Display for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::GenericNack(m) => m.fmt(f),
            Payload::VehicleIdentificationRequest => f.write_str("Vehicle identification request"),
            Payload::VehicleIdentificationRequestWithEid(m) => m.fmt(f),
            Payload::VehicleIdentificationRequestWithVin(m) => m.fmt(f),
            Payload::VehicleAnnouncement(m) => m.fmt(f),
            Payload::RoutingActivationRequest(m) => m.fmt(f),
            Payload::RoutingActivationResponse(m) => m.fmt(f),
            Payload::AliveCheckRequest => f.write_str("Alive check request"),
            Payload::AliveCheckResponse(m) => m.fmt(f),
            Payload::EntityStatusRequest => f.write_str("Entity status request"),
            Payload::EntityStatusResponse(m) => m.fmt(f),
            Payload::PowerModeInformationRequest => f.write_str("Power mode information request"),
            Payload::PowerModeInformationResponse(m) => m.fmt(f),
            Payload::DiagnosticMessage(m) => m.fmt(f),
            Payload::DiagnosticMessageAck(m) => m.fmt(f),
            Payload::DiagnosticMessageNack(m) => m.fmt(f),
            Payload::Unknown(t, bytes) => write!(
                f,
                "Unknown payload type 0x{t:04X}, {} bytes: {}",
                bytes.len(),
                fmt_hex(bytes)
            ),
        }
    }
}

/// A whole DoIP message: the protocol version it is sent with and its payload. The header's
/// inverse version, type and length follow from these; use
/// [`Overrides`](super::Overrides) to send a header that lies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message<'a> {
    /// Header byte 0.
    pub protocol_version: ProtocolVersion,
    /// Type and payload.
    pub payload: Payload<'a>,
}

impl<'a> Message<'a> {
    /// A message with `payload` sent as `protocol_version`.
    pub const fn new(protocol_version: ProtocolVersion, payload: Payload<'a>) -> Self {
        Message { protocol_version, payload }
    }

    /// Parses exactly one message: `bytes` must hold the header and exactly the declared
    /// payload (a UDP datagram, a hex line). No size limit beyond the input itself; unknown
    /// types become [`Payload::Unknown`]. Payload bytes are borrowed from `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::parse_with(bytes, &HeaderRules::default())
    }

    /// [`Message::parse`] with the header checks of `rules` (limit, transport).
    pub fn parse_with(bytes: &'a [u8], rules: &HeaderRules) -> Result<Self, Error> {
        let header = Header::parse_with(bytes, rules)?;
        let body = &bytes[HEADER_LEN..];
        let declared = usize::try_from(header.payload_length).unwrap_or(usize::MAX);
        if body.len() < declared {
            return Err(Error::at(
                Field::Payload,
                Rule::IncompletePayload { length: header.payload_length, available: body.len() },
            ));
        }
        if body.len() > declared {
            return Err(Error {
                rule: Rule::TrailingBytes { extra: body.len() - declared },
                field: Field::Payload,
                offset: HEADER_LEN + declared,
            });
        }
        Message::from_parts(header, body)
    }

    /// The message for a validated header and exactly its payload bytes.
    #[inline]
    pub(crate) fn from_parts(header: Header, payload: &'a [u8]) -> Result<Self, Error> {
        Ok(Message {
            protocol_version: header.protocol_version,
            payload: Payload::parse(header.payload_type, payload)?,
        })
    }

    /// The header this message is sent with (payload length saturates at `u32::MAX`).
    pub fn header(&self) -> Header {
        Header {
            protocol_version: self.protocol_version,
            payload_type: self.payload.payload_type(),
            payload_length: u32::try_from(self.payload.payload_len()).unwrap_or(u32::MAX),
        }
    }

    /// Header plus payload length.
    pub fn len(&self) -> usize {
        HEADER_LEN + self.payload.payload_len()
    }

    /// Never true: a message has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends header and payload to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.reserve(self.len());
        self.header().emit(out);
        self.payload.emit(out);
    }

    /// Header and payload as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.emit(&mut out);
        out
    }

    /// The same message owning its bytes.
    pub fn into_owned(self) -> Message<'static> {
        Message { protocol_version: self.protocol_version, payload: self.payload.into_owned() }
    }
}

/// The payload's one-line summary.
impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.payload.fmt(f)
    }
}
