//! The protocol oracle: checks every message the entity sends while it is fuzzed. A reply must
//! decode, carry the entity's protocol version, be a payload type an entity sends on TCP, use
//! only defined codes, and the socket's fate must follow the code: closed after a generic NACK
//! 0x00 / 0x04 or a routing activation denial that closes (ISO 13400-2:2019 §8.1.2, Table 19,
//! Table 25), open otherwise.

use crate::codec::doip::{DiagnosticAckCode, DiagnosticNackCode};
use crate::codec::doip::{GenericNackCode, Message, Payload};
use core::fmt;

/// A rule a reply broke. `kind` is stable (it keys de-duplication); `detail` is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyViolation {
    /// Short stable name of the rule, e.g. `undefined_nack_code`.
    pub kind: &'static str,
    /// What was seen, with the clause.
    pub detail: String,
}

impl fmt::Display for ReplyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

fn violation(kind: &'static str, detail: String) -> ReplyViolation {
    ReplyViolation { kind, detail }
}

/// What a reply tells about the socket: the entity announced that it closes it, or that it
/// stays open, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketFate {
    /// The rule says the entity closes the socket after this message.
    Closes,
    /// The rule says the socket stays open.
    StaysOpen,
    /// The message says nothing about the socket.
    Silent,
}

/// Checks one whole message the entity sent on TCP (`bytes`: header and payload) against the
/// entity's `version`, and says what it announces about the socket.
pub fn check_tcp_reply(bytes: &[u8], version: u8) -> Result<SocketFate, ReplyViolation> {
    let message = Message::parse(bytes).map_err(|e| {
        violation(
            "reply_undecodable",
            format!("a reply does not decode: {e} (ISO 13400-2:2019 §8.1.2)"),
        )
    })?;
    if bytes[0] != version {
        return Err(violation(
            "reply_version",
            format!(
                "a reply ({}) has protocol version 0x{:02X}, the entity's is 0x{version:02X} (ISO 13400-2:2019 Table 16)",
                message.payload.payload_type(),
                bytes[0]
            ),
        ));
    }
    match &message.payload {
        Payload::GenericNack(nack) => match nack.nack_code {
            GenericNackCode::Unknown(raw) => Err(violation(
                "undefined_nack_code",
                format!("generic NACK code 0x{raw:02X} is reserved (ISO 13400-2:2019 Table 19)"),
            )),
            // 0x00 incorrect pattern and 0x04 invalid length close the socket; 0x01-0x03
            // discard the message and keep it (Table 19).
            GenericNackCode::IncorrectPatternFormat | GenericNackCode::InvalidPayloadLength => {
                Ok(SocketFate::Closes)
            }
            _ => Ok(SocketFate::StaysOpen),
        },
        Payload::RoutingActivationResponse(r) => {
            let raw = r.response_code.raw();
            match r.response_code.socket_stays_open() {
                Some(false) => Ok(SocketFate::Closes),
                Some(true) => Ok(SocketFate::StaysOpen),
                // 0xE0-0xFE are VM-specific (Table 25): defined, fate unknown.
                None if (0xE0..=0xFE).contains(&raw) => Ok(SocketFate::Silent),
                None => Err(violation(
                    "undefined_activation_code",
                    format!(
                        "routing activation response code 0x{raw:02X} is reserved (ISO 13400-2:2019 Table 25)"
                    ),
                )),
            }
        }
        Payload::DiagnosticMessageAck(ack) => match ack.ack_code {
            DiagnosticAckCode::Unknown(raw) => Err(violation(
                "undefined_diagnostic_ack_code",
                format!(
                    "diagnostic message ACK code 0x{raw:02X} is reserved (ISO 13400-2:2019 Table 29)"
                ),
            )),
            _ => Ok(SocketFate::StaysOpen),
        },
        Payload::DiagnosticMessageNack(nack) => match nack.nack_code {
            DiagnosticNackCode::Unknown(raw) => Err(violation(
                "undefined_diagnostic_nack_code",
                format!(
                    "diagnostic message NACK code 0x{raw:02X} is reserved (ISO 13400-2:2019 Table 30)"
                ),
            )),
            _ => Ok(SocketFate::Silent),
        },
        Payload::AliveCheckRequest
        | Payload::AliveCheckResponse(_)
        | Payload::DiagnosticMessage(_) => Ok(SocketFate::Silent),
        other => Err(violation(
            "reply_wrong_transport",
            format!(
                "the entity sent {} on a TCP_DATA socket: not a message an entity sends there (ISO 13400-2:2019 Table 17)",
                other.payload_type()
            ),
        )),
    }
}

/// Checks one datagram the entity sent from its discovery port.
pub fn check_udp_reply(bytes: &[u8], version: u8) -> Result<(), ReplyViolation> {
    let message = Message::parse(bytes).map_err(|e| {
        violation(
            "reply_undecodable",
            format!("a UDP reply does not decode: {e} (ISO 13400-2:2019 §8.1.2)"),
        )
    })?;
    // A vehicle identification request may be sent with version 0xFF; the answer carries the
    // entity's own version (Table 16).
    if bytes[0] != version {
        return Err(violation(
            "reply_version",
            format!(
                "a UDP reply has protocol version 0x{:02X}, the entity's is 0x{version:02X} (ISO 13400-2:2019 Table 16)",
                bytes[0]
            ),
        ));
    }
    match &message.payload {
        Payload::GenericNack(nack) if !nack.nack_code.is_named() => Err(violation(
            "undefined_nack_code",
            format!(
                "generic NACK code 0x{:02X} is reserved (ISO 13400-2:2019 Table 19)",
                nack.nack_code.raw()
            ),
        )),
        Payload::GenericNack(_)
        | Payload::VehicleAnnouncement(_)
        | Payload::EntityStatusResponse(_)
        | Payload::PowerModeInformationResponse(_) => Ok(()),
        other => Err(violation(
            "reply_wrong_transport",
            format!(
                "the entity sent {} from its discovery port (ISO 13400-2:2019 Table 17)",
                other.payload_type()
            ),
        )),
    }
}

/// The socket-fate rule after a case: `fate` is the last announcement among the replies,
/// `closed` whether the entity closed the connection. A close that nothing announced, or an
/// announced close that does not come, breaks the rule.
pub fn check_socket_fate(
    fate: SocketFate,
    closed: bool,
    announced_by: &str,
) -> Result<(), ReplyViolation> {
    match (fate, closed) {
        (SocketFate::Closes, false) => Err(violation(
            "socket_not_closed",
            format!(
                "after {announced_by} the entity kept the TCP socket open (ISO 13400-2:2019 §8.1.2, Table 19)"
            ),
        )),
        (SocketFate::StaysOpen, true) => Err(violation(
            "socket_closed",
            format!(
                "after {announced_by}, which keeps the socket open, the entity closed it (ISO 13400-2:2019 §8.1.2)"
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::doip::{GenericNack, ProtocolVersion};

    fn nack(code: u8) -> Vec<u8> {
        GenericNack { nack_code: GenericNackCode::from_raw(code) }
            .message(ProtocolVersion::from(0x02))
            .to_bytes()
    }

    #[test]
    fn nack_codes_announce_the_socket_fate() {
        assert_eq!(check_tcp_reply(&nack(0x00), 0x02), Ok(SocketFate::Closes));
        assert_eq!(check_tcp_reply(&nack(0x01), 0x02), Ok(SocketFate::StaysOpen));
        assert_eq!(check_tcp_reply(&nack(0x04), 0x02), Ok(SocketFate::Closes));
        assert_eq!(check_tcp_reply(&nack(0x05), 0x02).unwrap_err().kind, "undefined_nack_code");
        assert_eq!(check_tcp_reply(&nack(0x01), 0x03).unwrap_err().kind, "reply_version");
    }

    #[test]
    fn undecodable_and_wrong_transport_replies_are_violations() {
        assert_eq!(
            check_tcp_reply(&[0x02, 0xFD, 0x00, 0x00], 0x02).unwrap_err().kind,
            "reply_undecodable"
        );
        let status = [0x02, 0xFD, 0x40, 0x01, 0, 0, 0, 0];
        assert_eq!(check_tcp_reply(&status, 0x02).unwrap_err().kind, "reply_wrong_transport");
        let activation =
            [0x02, 0xFD, 0x00, 0x06, 0, 0, 0, 9, 0x0E, 0x80, 0x00, 0x10, 0x09, 0, 0, 0, 0];
        assert_eq!(
            check_tcp_reply(&activation, 0x02).unwrap_err().kind,
            "undefined_activation_code"
        );
        let mut vm = activation;
        vm[12] = 0xE5;
        assert_eq!(check_tcp_reply(&vm, 0x02), Ok(SocketFate::Silent));
        vm[12] = 0x00;
        assert_eq!(check_tcp_reply(&vm, 0x02), Ok(SocketFate::Closes));
    }

    #[test]
    fn the_socket_fate_rule_holds_both_ways() {
        assert!(check_socket_fate(SocketFate::Closes, true, "x").is_ok());
        assert_eq!(
            check_socket_fate(SocketFate::Closes, false, "x").unwrap_err().kind,
            "socket_not_closed"
        );
        assert_eq!(
            check_socket_fate(SocketFate::StaysOpen, true, "x").unwrap_err().kind,
            "socket_closed"
        );
        assert!(check_socket_fate(SocketFate::Silent, true, "x").is_ok());
    }

    #[test]
    fn udp_replies_are_the_discovery_port_s_messages() {
        assert!(check_udp_reply(&nack(0x01), 0x02).is_ok());
        let alive = [0x02, 0xFD, 0x00, 0x07, 0, 0, 0, 0];
        assert_eq!(check_udp_reply(&alive, 0x02).unwrap_err().kind, "reply_wrong_transport");
    }
}
