//! How a step does not hold, and what arrived instead.
//!
//! Who is to blame decides the kind: the target broke a rule ([`Failure::Fail`]), the harness
//! or its transport could not do its part ([`Failure::Error`]), or the target was never
//! reached ([`Failure::Unreachable`]). The case turns the kind into a verdict by phase
//! (`runner::case`). What arrived is kept as [`Arrived`]: bytes with how the harness reads them,
//! a DoIP message, a CAN frame or an ISO-TP message each as itself, never as a decode error.

use super::conn::Incoming;
use super::record::decoded_message;
use crate::codec::can::CanFrame;
use crate::codec::isotp::AddressingMode;
use crate::runner::event::{Decoded, FieldMismatch, Reason};

/// How a step did not hold.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The target broke a rule.
    Fail(Box<Reason>),
    /// A harness or transport problem.
    Error(Box<Reason>),
    /// The target could not be reached at all.
    Unreachable(Box<Reason>),
}

impl Failure {
    pub fn reason_mut(&mut self) -> &mut Reason {
        match self {
            Failure::Fail(r) | Failure::Error(r) | Failure::Unreachable(r) => r,
        }
    }

    /// The reason, whatever the kind.
    pub fn into_reason(self) -> Reason {
        match self {
            Failure::Fail(r) | Failure::Error(r) | Failure::Unreachable(r) => *r,
        }
    }

    /// Adds the pattern the step expected.
    pub fn expecting(mut self, pattern: impl ToString) -> Failure {
        self.reason_mut().expected_hex = Some(pattern.to_string());
        self
    }
}

/// The target broke a rule.
pub fn fail(message: impl Into<String>) -> Failure {
    Failure::Fail(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

/// The harness could not do its part.
pub fn error(message: impl Into<String>) -> Failure {
    Failure::Error(Box::new(Reason { message: message.into(), ..Reason::default() }))
}

/// What arrived instead of what a step expected.
#[derive(Debug, Clone)]
pub struct Arrived {
    pub bytes: Vec<u8>,
    pub decoded: Decoded,
}

impl Arrived {
    /// A DoIP frame read from a connection or a datagram.
    pub fn doip(received: &Incoming) -> Arrived {
        let decoded = match &received.message {
            Ok(m) => decoded_message(m),
            Err(e) => Decoded::Error { error: e.clone() },
        };
        Arrived { bytes: received.bytes.clone(), decoded }
    }

    /// A CAN frame, read as an ISO-TP N_PDU in `mode` (ISO 15765-2 §9.6).
    pub fn can(frame: &CanFrame, mode: AddressingMode) -> Arrived {
        let mut summary = crate::codec::isotp::describe_frame(frame, mode);
        // A single frame carries a whole UDS message (ISO 14229-1): name it on top of the
        // N_PCI, as the ISO-TP messages are (`7E 00` reads "TesterPresent positive ...").
        if let Ok((_, crate::codec::isotp::IsoTpPdu::SingleFrame { data, .. })) =
            crate::codec::isotp::IsoTpPdu::parse(frame.data(), mode)
            && let Ok(uds) = crate::codec::uds::Response::parse(data)
        {
            summary.push_str(&format!("  UDS: {uds}"));
        }
        Arrived {
            bytes: frame.data().to_vec(),
            decoded: Decoded::Message { name: "can_frame".into(), summary },
        }
    }

    /// A whole message reassembled by the ISO-TP stack, read as UDS (ISO 14229-1).
    pub fn isotp(message: &[u8]) -> Arrived {
        let summary = match crate::codec::uds::Response::parse(message) {
            Ok(r) => r.to_string(),
            Err(_) => crate::suite::value::hex_spaced(message),
        };
        Arrived {
            bytes: message.to_vec(),
            decoded: Decoded::Message { name: "isotp_message".into(), summary },
        }
    }
}

/// The target broke a rule; `actual` is what it sent.
pub fn mismatch(message: String, actual: Arrived, fields: Vec<FieldMismatch>) -> Failure {
    Failure::Fail(Box::new(Reason {
        message,
        step: None,
        fields,
        expected_hex: None,
        actual_bytes: Some(actual.bytes),
        actual_decoded: Some(actual.decoded),
    }))
}

/// `field is X, expected Y; ...` for a failure sentence.
pub fn describe_mismatches(m: &[FieldMismatch]) -> String {
    m.iter()
        .map(|f| format!("{} is {}, expected {}", f.field, f.actual, f.expected))
        .collect::<Vec<_>>()
        .join("; ")
}
