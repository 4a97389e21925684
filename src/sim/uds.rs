//! The simulator's UDS responder (ISO 14229-1): a pure function of the request bytes and the
//! responder's state (session, security, DID values). Used by the entity for its own address
//! and by every simulated CAN ECU.
//!
//! An answer is a schedule of responses, each with its delay after the request, so per-service
//! delays and response-pending (NRC 0x78) sequences are data the driver plays out on its clock.

use super::config::{ServiceTiming, UdsConfig};
use crate::codec::uds::{Nrc, ServiceId, negative_response};
use core::time::Duration;
use std::collections::BTreeMap;

/// "suppressPosRspMsgIndicationBit" of a sub-function byte (ISO 14229-1:2020 §8.2.2).
const SUPPRESS_POSITIVE_RESPONSE: u8 = 0x80;

/// One scheduled response: `delay` after the request was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledResponse {
    pub delay: Duration,
    pub bytes: Vec<u8>,
}

/// A UDS server with its state.
#[derive(Debug, Clone)]
pub struct UdsResponder {
    config: UdsConfig,
    session: u8,
    /// Unlocked security level (the odd requestSeed sub-function), 0 = locked.
    unlocked: u8,
    /// Level whose seed was sent and awaits its key.
    seed_sent_for: Option<u8>,
    dids: BTreeMap<u16, Vec<u8>>,
}

impl UdsResponder {
    pub fn new(config: &UdsConfig) -> Self {
        UdsResponder {
            dids: config.dids.iter().map(|(id, d)| (*id, d.value())).collect(),
            config: config.clone(),
            session: 0x01,
            unlocked: 0,
            seed_sent_for: None,
        }
    }

    /// The active diagnostic session (0x01 default).
    pub fn session(&self) -> u8 {
        self.session
    }

    /// Longest request this responder accepts (larger ones get DoIP NACK 0x04).
    pub fn max_request_length(&self) -> usize {
        self.config.max_request_length as usize
    }

    /// Handles one request; the schedule is empty when no response is due (an empty request,
    /// or a suppressed positive response).
    pub fn handle_request(&mut self, request: &[u8]) -> Vec<ScheduledResponse> {
        let Some(&service) = request.first() else { return Vec::new() };
        let final_response = self.respond(service, request);
        let Some(final_response) = final_response else { return Vec::new() };
        let timing = self.config.services.get(&service).copied().unwrap_or_default();
        schedule(service, final_response, timing)
    }

    /// The final response, or `None` when a positive response is suppressed.
    fn respond(&mut self, service: u8, request: &[u8]) -> Option<Vec<u8>> {
        let result = match ServiceId::from_raw(service) {
            ServiceId::DiagnosticSessionControl => self.session_control(request),
            ServiceId::EcuReset => self.ecu_reset(request),
            ServiceId::ReadDataByIdentifier => self.read_dids(request),
            ServiceId::WriteDataByIdentifier => self.write_did(request),
            ServiceId::TesterPresent => tester_present(request),
            ServiceId::SecurityAccess if self.config.security.is_some() => {
                self.security_access(request)
            }
            _ => Err(Nrc::ServiceNotSupported),
        };
        match result {
            Ok(Some(body)) => {
                let mut response = Vec::with_capacity(1 + body.len());
                response.push(ServiceId::from_raw(service).positive_response());
                response.extend_from_slice(&body);
                Some(response)
            }
            Ok(None) => None,
            Err(code) => Some(negative(service, code)),
        }
    }

    /// 0x10 (ISO 14229-1:2020 §10.2): `10 <session>` -> `50 <session> <P2 ms:2> <P2* 10ms:2>`.
    fn session_control(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>, Nrc> {
        let [_, sub] = request else { return Err(Nrc::IncorrectMessageLengthOrInvalidFormat) };
        let session = sub & !SUPPRESS_POSITIVE_RESPONSE;
        if !self.config.sessions.contains(&session) {
            return Err(Nrc::SubFunctionNotSupported);
        }
        self.session = session;
        // A session change relocks security (ISO 14229-1:2020 §10.4.1).
        self.unlocked = 0;
        self.seed_sent_for = None;
        if sub & SUPPRESS_POSITIVE_RESPONSE != 0 {
            return Ok(None);
        }
        let p2 = u16::try_from(self.config.p2_server_max.get().as_millis()).unwrap_or(u16::MAX);
        let p2_star = u16::try_from(self.config.p2_star_server_max.get().as_millis() / 10)
            .unwrap_or(u16::MAX);
        let mut body = vec![session];
        body.extend_from_slice(&p2.to_be_bytes());
        body.extend_from_slice(&p2_star.to_be_bytes());
        Ok(Some(body))
    }

    /// 0x11 (ISO 14229-1:2020 §10.3): `11 <type>` -> `51 <type>`; the reset returns to the
    /// default session and relocks.
    fn ecu_reset(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>, Nrc> {
        let [_, sub] = request else { return Err(Nrc::IncorrectMessageLengthOrInvalidFormat) };
        let reset_type = sub & !SUPPRESS_POSITIVE_RESPONSE;
        if !self.config.reset_types.contains(&reset_type) {
            return Err(Nrc::SubFunctionNotSupported);
        }
        self.session = 0x01;
        self.unlocked = 0;
        self.seed_sent_for = None;
        if sub & SUPPRESS_POSITIVE_RESPONSE != 0 {
            return Ok(None);
        }
        Ok(Some(vec![reset_type]))
    }

    /// 0x22 (ISO 14229-1:2020 §11.2): `22 (<did:2>)+` -> `62 (<did:2> <data>)+`. Unknown DIDs are
    /// skipped; when none is known the answer is NRC 0x31.
    fn read_dids(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>, Nrc> {
        let ids = &request[1..];
        if ids.is_empty() || !ids.len().is_multiple_of(2) {
            return Err(Nrc::IncorrectMessageLengthOrInvalidFormat);
        }
        let mut body = Vec::new();
        for pair in ids.chunks_exact(2) {
            let did = u16::from_be_bytes([pair[0], pair[1]]);
            if let Some(value) = self.dids.get(&did) {
                body.extend_from_slice(pair);
                body.extend_from_slice(value);
            }
        }
        if body.is_empty() { Err(Nrc::RequestOutOfRange) } else { Ok(Some(body)) }
    }

    /// 0x2E (ISO 14229-1:2020 §11.7): `2E <did:2> <data>` -> `6E <did:2>`.
    fn write_did(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>, Nrc> {
        if request.len() < 4 {
            return Err(Nrc::IncorrectMessageLengthOrInvalidFormat);
        }
        let did = u16::from_be_bytes([request[1], request[2]]);
        let Some(config) = self.config.dids.get(&did) else {
            return Err(Nrc::RequestOutOfRange);
        };
        if !config.writable {
            return Err(Nrc::RequestOutOfRange);
        }
        let data = &request[3..];
        // The record has a fixed length: the length of its configured value.
        if data.len() != config.value().len() {
            return Err(Nrc::IncorrectMessageLengthOrInvalidFormat);
        }
        if let Some(level) = config.write_security_level
            && self.unlocked != level
        {
            return Err(Nrc::SecurityAccessDenied);
        }
        self.dids.insert(did, data.to_vec());
        Ok(Some(request[1..3].to_vec()))
    }

    /// 0x27 (ISO 14229-1:2020 §10.4): odd sub-function = requestSeed, even = sendKey with
    /// key = seed XOR key_mask. A seed of zeros means "already unlocked".
    fn security_access(&mut self, request: &[u8]) -> Result<Option<Vec<u8>>, Nrc> {
        let Some(security) = &self.config.security else { return Err(Nrc::ServiceNotSupported) };
        let Some(&sub) = request.get(1) else {
            return Err(Nrc::IncorrectMessageLengthOrInvalidFormat);
        };
        let level_fn = sub & !SUPPRESS_POSITIVE_RESPONSE;
        if level_fn % 2 == 1 {
            if !security.levels.contains(&level_fn) {
                return Err(Nrc::SubFunctionNotSupported);
            }
            if request.len() != 2 {
                return Err(Nrc::IncorrectMessageLengthOrInvalidFormat);
            }
            let mut body = vec![level_fn];
            if self.unlocked == level_fn {
                body.extend(core::iter::repeat_n(0u8, security.seed.0.len()));
                self.seed_sent_for = None;
            } else {
                body.extend_from_slice(&security.seed.0);
                self.seed_sent_for = Some(level_fn);
            }
            Ok(Some(body))
        } else {
            let level = level_fn.wrapping_sub(1);
            if level_fn == 0 || !security.levels.contains(&level) {
                return Err(Nrc::SubFunctionNotSupported);
            }
            if request.len() < 3 {
                return Err(Nrc::IncorrectMessageLengthOrInvalidFormat);
            }
            if self.seed_sent_for != Some(level) {
                return Err(Nrc::RequestSequenceError);
            }
            self.seed_sent_for = None;
            let expected: Vec<u8> =
                security.seed.0.iter().zip(&security.key_mask.0).map(|(s, m)| s ^ m).collect();
            if request[2..] != expected[..] {
                return Err(Nrc::InvalidKey);
            }
            self.unlocked = level;
            if sub & SUPPRESS_POSITIVE_RESPONSE != 0 {
                return Ok(None);
            }
            Ok(Some(vec![level_fn]))
        }
    }
}

/// 0x3E (ISO 14229-1:2020 §10.5): `3E 00` -> `7E 00`; `3E 80` -> no response.
fn tester_present(request: &[u8]) -> Result<Option<Vec<u8>>, Nrc> {
    let [_, sub] = request else { return Err(Nrc::IncorrectMessageLengthOrInvalidFormat) };
    if sub & !SUPPRESS_POSITIVE_RESPONSE != 0x00 {
        return Err(Nrc::SubFunctionNotSupported);
    }
    if sub & SUPPRESS_POSITIVE_RESPONSE != 0 { Ok(None) } else { Ok(Some(vec![0x00])) }
}

/// `7F <service> <nrc>`.
pub fn negative(service: u8, code: Nrc) -> Vec<u8> {
    negative_response(ServiceId::from_raw(service), code).to_vec()
}

/// The final response after `timing.delay`, preceded by `timing.pending` NRC 0x78 answers
/// `pending_interval` apart (the first one after `delay`).
fn schedule(service: u8, final_response: Vec<u8>, timing: ServiceTiming) -> Vec<ScheduledResponse> {
    let mut out = Vec::with_capacity(usize::from(timing.pending) + 1);
    let mut at = timing.delay.get();
    for _ in 0..timing.pending {
        out.push(ScheduledResponse { delay: at, bytes: negative(service, Nrc::ResponsePending) });
        at = at.saturating_add(timing.pending_interval.get());
    }
    out.push(ScheduledResponse { delay: at, bytes: final_response });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::{ConfigDuration, DidConfig, HexBytes};

    fn responder() -> UdsResponder {
        UdsResponder::new(&UdsConfig::default())
    }

    fn once(r: &mut UdsResponder, request: &[u8]) -> Vec<u8> {
        let mut s = r.handle_request(request);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].delay, Duration::ZERO);
        s.remove(0).bytes
    }

    #[test]
    fn read_did_returns_the_configured_value() {
        let mut r = responder();
        let mut expected = vec![0x62, 0xF1, 0x90];
        expected.extend_from_slice(b"WDOIPCHECK0000001");
        assert_eq!(once(&mut r, &[0x22, 0xF1, 0x90]), expected);
    }

    #[test]
    fn read_of_several_dids_skips_unknown_ones_and_all_unknown_is_out_of_range() {
        let mut r = responder();
        let got = once(&mut r, &[0x22, 0x01, 0x00, 0x99, 0x99, 0xF1, 0x8C]);
        let mut expected = vec![0x62, 0x01, 0x00, 0x00, 0x00, 0xF1, 0x8C];
        expected.extend_from_slice(b"SIM-0001");
        assert_eq!(got, expected);
        assert_eq!(once(&mut r, &[0x22, 0x99, 0x99]), vec![0x7F, 0x22, 0x31]);
    }

    #[test]
    fn bad_lengths_get_nrc_0x13() {
        let mut r = responder();
        for request in [
            &[0x22][..],
            &[0x22, 0xF1],
            &[0x22, 0xF1, 0x90, 0x00],
            &[0x10],
            &[0x10, 0x01, 0x00],
            &[0x11],
            &[0x3E, 0x00, 0x00],
            &[0x2E, 0x01, 0x00],
            &[0x2E, 0x01, 0x00, 0x01],
            &[0x27],
        ] {
            assert_eq!(once(&mut r, request), vec![0x7F, request[0], 0x13], "{request:02X?}");
        }
    }

    #[test]
    fn unsupported_services_get_nrc_0x11() {
        let mut r = responder();
        assert_eq!(once(&mut r, &[0x31, 0x01, 0x02, 0x03]), vec![0x7F, 0x31, 0x11]);
        let mut without_security =
            UdsResponder::new(&UdsConfig { security: None, ..UdsConfig::default() });
        assert_eq!(once(&mut without_security, &[0x27, 0x01]), vec![0x7F, 0x27, 0x11]);
    }

    #[test]
    fn an_empty_request_gets_no_answer() {
        assert!(responder().handle_request(&[]).is_empty());
    }

    #[test]
    fn session_control_reports_p2_timings_and_rejects_unknown_sessions() {
        let mut r = responder();
        assert_eq!(once(&mut r, &[0x10, 0x03]), vec![0x50, 0x03, 0x00, 0x32, 0x01, 0xF4]);
        assert_eq!(r.session(), 0x03);
        assert_eq!(once(&mut r, &[0x10, 0x05]), vec![0x7F, 0x10, 0x12]);
        assert!(r.handle_request(&[0x10, 0x81]).is_empty(), "suppressed positive response");
        assert_eq!(r.session(), 0x01);
    }

    #[test]
    fn tester_present_and_ecu_reset() {
        let mut r = responder();
        assert_eq!(once(&mut r, &[0x3E, 0x00]), vec![0x7E, 0x00]);
        assert!(r.handle_request(&[0x3E, 0x80]).is_empty());
        assert_eq!(once(&mut r, &[0x3E, 0x01]), vec![0x7F, 0x3E, 0x12]);
        once(&mut r, &[0x10, 0x03]);
        assert_eq!(once(&mut r, &[0x11, 0x01]), vec![0x51, 0x01]);
        assert_eq!(r.session(), 0x01, "a reset returns to the default session");
        assert_eq!(once(&mut r, &[0x11, 0x04]), vec![0x7F, 0x11, 0x12]);
    }

    #[test]
    fn write_then_read_a_writable_did() {
        let mut r = responder();
        assert_eq!(once(&mut r, &[0x2E, 0x01, 0x00, 0xAB, 0xCD]), vec![0x6E, 0x01, 0x00]);
        assert_eq!(once(&mut r, &[0x22, 0x01, 0x00]), vec![0x62, 0x01, 0x00, 0xAB, 0xCD]);
        assert_eq!(once(&mut r, &[0x2E, 0xF1, 0x90, 0x41]), vec![0x7F, 0x2E, 0x31], "read-only");
        assert_eq!(once(&mut r, &[0x2E, 0x55, 0x55, 0x41]), vec![0x7F, 0x2E, 0x31], "unknown");
    }

    #[test]
    fn security_access_seed_key_and_protected_write() {
        let mut config = UdsConfig::default();
        config.dids.insert(
            0x0200,
            DidConfig {
                hex: Some(HexBytes(vec![0])),
                writable: true,
                write_security_level: Some(0x01),
                ..DidConfig::default()
            },
        );
        let mut r = UdsResponder::new(&config);
        assert_eq!(once(&mut r, &[0x2E, 0x02, 0x00, 0x07]), vec![0x7F, 0x2E, 0x33]);
        assert_eq!(once(&mut r, &[0x27, 0x02, 0, 0, 0, 0]), vec![0x7F, 0x27, 0x24], "no seed yet");
        assert_eq!(once(&mut r, &[0x27, 0x01]), vec![0x67, 0x01, 0x12, 0x34, 0x56, 0x78]);
        assert_eq!(once(&mut r, &[0x27, 0x02, 0, 0, 0, 0]), vec![0x7F, 0x27, 0x35], "wrong key");
        once(&mut r, &[0x27, 0x01]);
        assert_eq!(once(&mut r, &[0x27, 0x02, 0xB7, 0x91, 0xF3, 0xDD]), vec![0x67, 0x02]);
        assert_eq!(once(&mut r, &[0x27, 0x01]), vec![0x67, 0x01, 0, 0, 0, 0], "already unlocked");
        assert_eq!(once(&mut r, &[0x2E, 0x02, 0x00, 0x07]), vec![0x6E, 0x02, 0x00]);
        assert_eq!(once(&mut r, &[0x27, 0x03]), vec![0x7F, 0x27, 0x12], "unsupported level");
    }

    #[test]
    fn delays_and_response_pending_sequences_are_scheduled() {
        let mut config = UdsConfig::default();
        config.services.insert(
            0x22,
            ServiceTiming {
                delay: ConfigDuration::from_millis(10),
                pending: 2,
                pending_interval: ConfigDuration::from_millis(100),
            },
        );
        let mut r = UdsResponder::new(&config);
        let s = r.handle_request(&[0x22, 0x01, 0x00]);
        let got: Vec<_> = s.iter().map(|r| (r.delay.as_millis(), r.bytes.clone())).collect();
        assert_eq!(
            got,
            vec![
                (10, vec![0x7F, 0x22, 0x78]),
                (110, vec![0x7F, 0x22, 0x78]),
                (210, vec![0x62, 0x01, 0x00, 0x00, 0x00]),
            ]
        );
    }
}
