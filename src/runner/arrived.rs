//! What arrived from the target, as the runner keeps it: a DoIP frame read from a connection or
//! a datagram ([`ReceivedFrame`]), and how a failure shows what came instead of what a step
//! expected ([`Arrived`]). A leaf of the runner: the connection, the recorder and the failures
//! build on it, and it imports none of them.

use crate::codec::can::CanFrame;
use crate::codec::doip::Message;
use crate::codec::isotp::AddressingMode;
use crate::runner::event::{Decoded, RunTime};

/// A DoIP frame that arrived.
#[derive(Debug, Clone)]
pub struct ReceivedFrame {
    /// When the read that completed it returned.
    pub at: RunTime,
    pub bytes: Vec<u8>,
    /// The message, or why the bytes are not one.
    pub message: Result<Message<'static>, String>,
}

/// What arrived instead of what a step expected.
#[derive(Debug, Clone)]
pub struct Arrived {
    pub bytes: Vec<u8>,
    pub decoded: Decoded,
}

impl Arrived {
    /// A DoIP frame read from a connection or a datagram.
    pub fn doip(received: &ReceivedFrame) -> Arrived {
        Arrived { bytes: received.bytes.clone(), decoded: decoded(&received.message) }
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

/// How the harness shows a decoded DoIP message in events.
pub fn decoded_message(message: &crate::codec::doip::Message<'_>) -> Decoded {
    let name = message.payload.payload_type().id().unwrap_or("unknown_payload_type").to_owned();
    Decoded::Message { name, summary: message.to_string() }
}

/// How the harness shows received bytes in events: the message, or the rule they break.
pub fn decoded(message: &Result<Message<'_>, String>) -> Decoded {
    match message {
        Ok(m) => decoded_message(m),
        Err(e) => Decoded::Error { error: e.clone() },
    }
}
