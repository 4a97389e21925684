//! The transport rule as data: which payload types belong on UDP and which on TCP
//! (ISO 13400-2:2019 payload type table; docs/protocol.md#payload-types).
//!
//! A message on the wrong transport is answered like an unknown payload type (generic NACK
//! 0x01): a real ECU trace shows this (docs/protocol.md#payload-types). The check lives in
//! [`Header::check_transport`](super::Header::check_transport).
//!
//! May import: `crate::codec`.

use super::PayloadType;
use core::fmt;

/// The two DoIP transports. TLS on TCP port 3496 counts as [`Transport::Tcp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP port 13400: discovery, status, power mode.
    Udp,
    /// TCP port 13400 (or TLS 3496): routing activation, alive check, diagnostics.
    Tcp,
}

impl Transport {
    /// `udp` or `tcp`.
    pub const fn id(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        })
    }
}

impl PayloadType {
    /// The transports this type belongs on; empty for an unknown type.
    pub const fn transports(self) -> &'static [Transport] {
        use PayloadType::*;
        match Self::from_raw(self.raw()) {
            GenericNack => &[Transport::Udp, Transport::Tcp],
            VehicleIdentificationRequest
            | VehicleIdentificationRequestWithEid
            | VehicleIdentificationRequestWithVin
            | VehicleAnnouncement
            | EntityStatusRequest
            | EntityStatusResponse
            | PowerModeInformationRequest
            | PowerModeInformationResponse => &[Transport::Udp],
            RoutingActivationRequest
            | RoutingActivationResponse
            | AliveCheckRequest
            | AliveCheckResponse
            | DiagnosticMessage
            | DiagnosticMessageAck
            | DiagnosticMessageNack => &[Transport::Tcp],
            Unknown(_) => &[],
        }
    }

    /// True when this type belongs on `transport`.
    pub const fn allowed_on(self, transport: Transport) -> bool {
        let allowed = self.transports();
        let mut i = 0;
        while i < allowed.len() {
            if allowed[i] as u8 == transport as u8 {
                return true;
            }
            i += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_nack_belongs_on_both_transports() {
        assert!(PayloadType::GenericNack.allowed_on(Transport::Udp));
        assert!(PayloadType::GenericNack.allowed_on(Transport::Tcp));
    }

    #[test]
    fn alive_check_belongs_on_tcp_only() {
        assert!(PayloadType::AliveCheckRequest.allowed_on(Transport::Tcp));
        assert!(!PayloadType::AliveCheckRequest.allowed_on(Transport::Udp));
    }

    #[test]
    fn vehicle_identification_belongs_on_udp_only() {
        assert_eq!(PayloadType::VehicleIdentificationRequest.transports(), &[Transport::Udp]);
        assert!(!PayloadType::EntityStatusResponse.allowed_on(Transport::Tcp));
    }

    #[test]
    fn unknown_types_belong_nowhere() {
        assert!(PayloadType::from_raw(0x1234).transports().is_empty());
    }

    #[test]
    fn every_named_type_belongs_somewhere() {
        for t in PayloadType::NAMED {
            assert!(!t.transports().is_empty(), "{t}");
        }
    }
}
