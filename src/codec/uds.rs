//! A minimal UDS (ISO 14229-1) layer for assertions and the simulator: service ids and
//! negative response codes as open enums, the positive response rule (SID + 0x40), negative
//! responses (`7F <SID> <NRC>`) and "response pending" (NRC 0x78, which extends the wait to
//! P2*).
//!
//! ```
//! use doipcheck::codec::uds::{Nrc, Response, ServiceId};
//! let request = [0x22, 0xF1, 0x90];
//! assert_eq!(Response::parse(&[0x62, 0xF1, 0x90, 0x41]).unwrap(), Response::Positive {
//!     service: ServiceId::ReadDataByIdentifier,
//!     data: &[0xF1, 0x90, 0x41],
//! });
//! let pending = Response::parse(&[0x7F, 0x22, 0x78]).unwrap();
//! assert!(pending.is_response_pending());
//! assert!(pending.answers(request[0]));
//! assert_eq!(Response::parse(&[0x7F, 0x22, 0x31]).unwrap().nrc(), Some(Nrc::RequestOutOfRange));
//! ```
//!
//! May import: `crate::codec`.

use crate::codec::open_enum::open_enum;
use core::fmt;

open_enum! {
    /// UDS service identifier (request SID), ISO 14229-1.
    pub enum ServiceId: u8 {
        /// 0x10.
        DiagnosticSessionControl = 0x10, "diagnostic_session_control", "DiagnosticSessionControl",
        /// 0x11.
        EcuReset = 0x11, "ecu_reset", "ECUReset",
        /// 0x14.
        ClearDiagnosticInformation = 0x14, "clear_diagnostic_information",
            "ClearDiagnosticInformation",
        /// 0x19.
        ReadDtcInformation = 0x19, "read_dtc_information", "ReadDTCInformation",
        /// 0x22.
        ReadDataByIdentifier = 0x22, "read_data_by_identifier", "ReadDataByIdentifier",
        /// 0x23.
        ReadMemoryByAddress = 0x23, "read_memory_by_address", "ReadMemoryByAddress",
        /// 0x27.
        SecurityAccess = 0x27, "security_access", "SecurityAccess",
        /// 0x28.
        CommunicationControl = 0x28, "communication_control", "CommunicationControl",
        /// 0x29.
        Authentication = 0x29, "authentication", "Authentication",
        /// 0x2E.
        WriteDataByIdentifier = 0x2E, "write_data_by_identifier", "WriteDataByIdentifier",
        /// 0x2F.
        InputOutputControlByIdentifier = 0x2F, "input_output_control_by_identifier",
            "InputOutputControlByIdentifier",
        /// 0x31.
        RoutineControl = 0x31, "routine_control", "RoutineControl",
        /// 0x34.
        RequestDownload = 0x34, "request_download", "RequestDownload",
        /// 0x35.
        RequestUpload = 0x35, "request_upload", "RequestUpload",
        /// 0x36.
        TransferData = 0x36, "transfer_data", "TransferData",
        /// 0x37.
        RequestTransferExit = 0x37, "request_transfer_exit", "RequestTransferExit",
        /// 0x3D.
        WriteMemoryByAddress = 0x3D, "write_memory_by_address", "WriteMemoryByAddress",
        /// 0x3E.
        TesterPresent = 0x3E, "tester_present", "TesterPresent",
        /// 0x7F: the negative response SID (not a request).
        NegativeResponse = 0x7F, "negative_response", "NegativeResponse",
        /// 0x85.
        ControlDtcSetting = 0x85, "control_dtc_setting", "ControlDTCSetting",
    }
}

/// Offset from a request SID to its positive response SID (ISO 14229-1).
pub const POSITIVE_RESPONSE_OFFSET: u8 = 0x40;

impl ServiceId {
    /// The positive response SID for this request SID: SID + 0x40 (wrapping, so reserved
    /// values stay representable).
    pub const fn positive_response(self) -> u8 {
        self.raw().wrapping_add(POSITIVE_RESPONSE_OFFSET)
    }
}

open_enum! {
    /// Negative response code (NRC), ISO 14229-1.
    pub enum Nrc: u8 {
        /// 0x10.
        GeneralReject = 0x10, "general_reject", "generalReject",
        /// 0x11.
        ServiceNotSupported = 0x11, "service_not_supported", "serviceNotSupported",
        /// 0x12.
        SubFunctionNotSupported = 0x12, "sub_function_not_supported", "subFunctionNotSupported",
        /// 0x13.
        IncorrectMessageLengthOrInvalidFormat = 0x13, "incorrect_message_length_or_invalid_format",
            "incorrectMessageLengthOrInvalidFormat",
        /// 0x14.
        ResponseTooLong = 0x14, "response_too_long", "responseTooLong",
        /// 0x21.
        BusyRepeatRequest = 0x21, "busy_repeat_request", "busyRepeatRequest",
        /// 0x22.
        ConditionsNotCorrect = 0x22, "conditions_not_correct", "conditionsNotCorrect",
        /// 0x24.
        RequestSequenceError = 0x24, "request_sequence_error", "requestSequenceError",
        /// 0x25.
        NoResponseFromSubnetComponent = 0x25, "no_response_from_subnet_component",
            "noResponseFromSubnetComponent",
        /// 0x26.
        FailurePreventsExecutionOfRequestedAction = 0x26,
            "failure_prevents_execution_of_requested_action",
            "failurePreventsExecutionOfRequestedAction",
        /// 0x31.
        RequestOutOfRange = 0x31, "request_out_of_range", "requestOutOfRange",
        /// 0x33.
        SecurityAccessDenied = 0x33, "security_access_denied", "securityAccessDenied",
        /// 0x35.
        InvalidKey = 0x35, "invalid_key", "invalidKey",
        /// 0x36.
        ExceededNumberOfAttempts = 0x36, "exceeded_number_of_attempts", "exceededNumberOfAttempts",
        /// 0x37.
        RequiredTimeDelayNotExpired = 0x37, "required_time_delay_not_expired",
            "requiredTimeDelayNotExpired",
        /// 0x70.
        UploadDownloadNotAccepted = 0x70, "upload_download_not_accepted",
            "uploadDownloadNotAccepted",
        /// 0x71.
        TransferDataSuspended = 0x71, "transfer_data_suspended", "transferDataSuspended",
        /// 0x72.
        GeneralProgrammingFailure = 0x72, "general_programming_failure",
            "generalProgrammingFailure",
        /// 0x73.
        WrongBlockSequenceCounter = 0x73, "wrong_block_sequence_counter",
            "wrongBlockSequenceCounter",
        /// 0x78: the server needs more time; the client waits P2* (default 5 s) again.
        ResponsePending = 0x78, "response_pending", "requestCorrectlyReceived-ResponsePending",
        /// 0x7E.
        SubFunctionNotSupportedInActiveSession = 0x7E,
            "sub_function_not_supported_in_active_session",
            "subFunctionNotSupportedInActiveSession",
        /// 0x7F.
        ServiceNotSupportedInActiveSession = 0x7F, "service_not_supported_in_active_session",
            "serviceNotSupportedInActiveSession",
    }
}

/// A UDS response, borrowed from the bytes it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Response<'a> {
    /// A positive response: `service` is the *request* SID it answers (response SID - 0x40);
    /// `data` follows the response SID.
    Positive {
        /// The request SID answered.
        service: ServiceId,
        /// Bytes after the response SID.
        data: &'a [u8],
    },
    /// `7F <SID> <NRC>` (bytes after the NRC, if any, are ignored as ISO 14229-1 defines none).
    Negative {
        /// The request SID rejected.
        service: ServiceId,
        /// Why.
        nrc: Nrc,
    },
}

/// Why bytes are not a UDS response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ResponseError {
    /// No bytes at all.
    #[error("empty UDS response")]
    Empty,
    /// `7F` followed by fewer than two bytes.
    #[error("negative response has {len} bytes, needs 3 (7F SID NRC)")]
    ShortNegativeResponse {
        /// Bytes present.
        len: usize,
    },
    /// The first byte is not a response SID (bit 6 clear, so a request SID).
    #[error("0x{sid:02X} is a request SID, not a response")]
    NotAResponse {
        /// The first byte.
        sid: u8,
    },
}

impl<'a> Response<'a> {
    /// Parses a response: `7F SID NRC` is negative; a first byte with bit 6 set (0x40..=0x7E,
    /// 0xC0..=0xFE) is positive for SID - 0x40.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ResponseError> {
        match bytes {
            [] => Err(ResponseError::Empty),
            [0x7F, sid, nrc, ..] => Ok(Response::Negative {
                service: ServiceId::from_raw(*sid),
                nrc: Nrc::from_raw(*nrc),
            }),
            [0x7F, ..] => Err(ResponseError::ShortNegativeResponse { len: bytes.len() }),
            [sid, data @ ..] if sid & POSITIVE_RESPONSE_OFFSET != 0 => Ok(Response::Positive {
                service: ServiceId::from_raw(sid.wrapping_sub(POSITIVE_RESPONSE_OFFSET)),
                data,
            }),
            [sid, ..] => Err(ResponseError::NotAResponse { sid: *sid }),
        }
    }

    /// The request SID this response answers.
    pub const fn service(&self) -> ServiceId {
        match self {
            Response::Positive { service, .. } | Response::Negative { service, .. } => *service,
        }
    }

    /// True when this answers a request with SID `request_sid`.
    pub fn answers(&self, request_sid: u8) -> bool {
        self.service().raw() == request_sid
    }

    /// The NRC of a negative response.
    pub const fn nrc(&self) -> Option<Nrc> {
        match self {
            Response::Negative { nrc, .. } => Some(*nrc),
            Response::Positive { .. } => None,
        }
    }

    /// True for `7F SID 78`: not the final answer; wait P2* for the next response.
    pub fn is_response_pending(&self) -> bool {
        self.nrc() == Some(Nrc::ResponsePending)
    }
}

/// True when `response` is the positive response to `request`: its first byte is the
/// request's SID + 0x40.
pub fn is_positive_response(request: &[u8], response: &[u8]) -> bool {
    match (request.first(), response.first()) {
        (Some(req), Some(resp)) => *resp == req.wrapping_add(POSITIVE_RESPONSE_OFFSET),
        _ => false,
    }
}

/// The bytes of a negative response `7F <SID> <NRC>`.
pub const fn negative_response(service: ServiceId, nrc: Nrc) -> [u8; 3] {
    [0x7F, service.raw(), nrc.raw()]
}

/// A UDS message in words: request, positive or negative response.
pub fn describe(data: &[u8]) -> String {
    Described(data).to_string()
}

/// [`describe`] without allocating: the same words, written where they are wanted (a capture's
/// `--json` transcript writes one per diagnostic message).
#[derive(Debug, Clone, Copy)]
pub struct Described<'a>(pub &'a [u8]);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.0;
        let Some(&sid) = data.first() else { return f.write_str("empty") };
        let name =
            |f: &mut fmt::Formatter<'_>, raw: u8| match ServiceId::from_raw(raw).description() {
                Some(d) => f.write_str(d),
                None => write!(f, "service 0x{raw:02X}"),
            };
        if sid == 0x7F {
            f.write_str("negative response to ")?;
            match data.get(1) {
                Some(s) => name(f, *s)?,
                None => f.write_str("?")?,
            }
            f.write_str(": ")?;
            return match data.get(2) {
                None => f.write_str("?"),
                Some(n) => match Nrc::from_raw(*n).description() {
                    Some(d) => write!(f, "NRC 0x{n:02X} {d}"),
                    None => write!(f, "NRC 0x{n:02X}"),
                },
            };
        }
        let request = sid.wrapping_sub(0x40);
        if sid >= 0x40 && ServiceId::from_raw(request).description().is_some() {
            f.write_str("positive response ")?;
            return name(f, request);
        }
        f.write_str("request ")?;
        name(f, sid)
    }
}

impl fmt::Display for Response<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // ReadDataByIdentifier answers start with the DID they carry (ISO 14229-1).
            Response::Positive { service: ServiceId::ReadDataByIdentifier, data }
                if data.len() >= 2 =>
            {
                write!(
                    f,
                    "positive response to ReadDataByIdentifier, DID 0x{:02X}{:02X} ({} bytes)",
                    data[0],
                    data[1],
                    data.len()
                )
            }
            Response::Positive { service, data } => {
                write!(f, "positive response to {service} ({} bytes)", data.len())
            }
            Response::Negative { service, nrc } => {
                write!(f, "negative response to {service}: {nrc} (0x{:02X})", nrc.raw())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uds_messages_are_named() {
        assert_eq!(describe(&[0x22, 0xF1, 0x90]), "request ReadDataByIdentifier");
        assert_eq!(describe(&[0x62, 0xF1]), "positive response ReadDataByIdentifier");
        assert!(
            describe(&[0x7F, 0x22, 0x31])
                .starts_with("negative response to ReadDataByIdentifier: NRC 0x31")
        );
        assert_eq!(describe(&[]), "empty");
    }

    #[test]
    fn read_data_by_identifier_answers_name_their_did() {
        let r = Response::parse(&[0x62, 0xF1, 0x90, 0x57, 0x44]).unwrap();
        assert_eq!(
            r.to_string(),
            "positive response to ReadDataByIdentifier, DID 0xF190 (4 bytes)"
        );
        let t = Response::parse(&[0x7E, 0x00]).unwrap();
        assert_eq!(t.to_string(), "positive response to TesterPresent (1 bytes)");
    }

    #[test]
    fn positive_response_sid_is_request_sid_plus_0x40() {
        assert_eq!(ServiceId::ReadDataByIdentifier.positive_response(), 0x62);
        assert_eq!(ServiceId::TesterPresent.positive_response(), 0x7E);
        assert!(is_positive_response(&[0x10, 0x03], &[0x50, 0x03, 0x00, 0x32, 0x01, 0xF4]));
        assert!(!is_positive_response(&[0x10, 0x03], &[0x7F, 0x10, 0x12]));
        assert!(!is_positive_response(&[], &[0x50]));
    }

    #[test]
    fn negative_response_parses_sid_and_nrc() {
        let r = Response::parse(&[0x7F, 0x27, 0x35]).unwrap();
        assert_eq!(
            r,
            Response::Negative { service: ServiceId::SecurityAccess, nrc: Nrc::InvalidKey }
        );
        assert!(r.answers(0x27));
        assert!(!r.is_response_pending());
        assert_eq!(r.to_string(), "negative response to SecurityAccess: invalidKey (0x35)");
    }

    #[test]
    fn response_pending_is_nrc_0x78() {
        let bytes = negative_response(ServiceId::RoutineControl, Nrc::ResponsePending);
        let r = Response::parse(&bytes).unwrap();
        assert!(r.is_response_pending());
        assert_eq!(Nrc::from_raw(0x78), Nrc::ResponsePending);
    }

    #[test]
    fn a_short_negative_response_is_an_error() {
        assert_eq!(
            Response::parse(&[0x7F, 0x22]),
            Err(ResponseError::ShortNegativeResponse { len: 2 })
        );
        assert_eq!(Response::parse(&[]), Err(ResponseError::Empty));
    }

    #[test]
    fn a_request_sid_is_not_a_response() {
        assert_eq!(
            Response::parse(&[0x22, 0xF1, 0x90]),
            Err(ResponseError::NotAResponse { sid: 0x22 })
        );
    }

    #[test]
    fn reserved_nrcs_and_sids_round_trip() {
        let r = Response::parse(&[0x7F, 0xBA, 0x99]).unwrap();
        assert_eq!(r.service(), ServiceId::Unknown(0xBA));
        assert_eq!(r.nrc(), Some(Nrc::Unknown(0x99)));
        assert_eq!(Nrc::from_id("request_out_of_range"), Some(Nrc::RequestOutOfRange));
    }
}
