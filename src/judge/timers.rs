//! The entity's own timers, as far as a recording shows them (with declared values from
//! `--profile`, [`TimerValues`]):
//!
//! | check | rule |
//! |---|---|
//! | `timing.alive_check` | after its alive check request, the entity closes a socket that gave no response within T_TCP_Alive_Check, and not one that answered in time (ISO 13400-2:2019 §9.4, Table 39) |
//! | `timing.announce_interval` | unsolicited vehicle announcements of one entity are A_DoIP_Announce_Interval apart (Table 39) |
//! | `timing.announce_count` | a burst of them has A_DoIP_Announce_Num announcements (Table 39) |
//!
//! Each bound gets `timing.tolerance` on both sides. A_DoIP_Announce_Wait counts from the
//! entity's start (its IP address), which a capture of DoIP does not show: not checked. A burst
//! is judged only when the capture shows its whole: it did not start with the capture, and the
//! capture goes on past the interval after its last announcement.
//!
//! May import: `crate::codec` and `crate::pcap`.

use crate::codec::doip::{PayloadType, payload_type_of};
use core::net::SocketAddr;
use std::time::Duration;

use super::rules;
use super::{Finding, Found};
use crate::codec::doip::Payload;
use crate::pcap::Side;
use crate::pcap::read::{At, CaptureEvent, CarriedBy};
use crate::proto::window::Window;

/// The declared values these checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerValues {
    pub t_tcp_alive_check: Duration,
    pub announce_interval: Duration,
    pub announce_num: u32,
    pub tolerance: Duration,
}

/// An alive check request waiting for its response (or for the entity's verdict).
struct AliveCheck {
    conn: u32,
    request: At,
    response: Option<At>,
}

/// A burst of unsolicited announcements of one entity.
struct Burst {
    entity: SocketAddr,
    first: At,
    last: At,
    count: u32,
    /// It began with the capture (its start may be missing).
    at_capture_start: bool,
}

pub(super) struct TimerChecks {
    values: TimerValues,
    alive: Vec<AliveCheck>,
    bursts: Vec<Burst>,
    /// Testers that asked for vehicle identification and await the answer.
    identifying: Vec<SocketAddr>,
    capture_start: Option<Duration>,
}

/// At most this many entities and open alive checks are followed (memory bound).
const MAX_TRACKED: usize = 64;

impl TimerChecks {
    pub(super) fn new(values: TimerValues) -> Self {
        TimerChecks {
            values,
            alive: Vec::new(),
            bursts: Vec::new(),
            identifying: Vec::new(),
            capture_start: None,
        }
    }

    pub(super) fn check(&mut self, event: &CaptureEvent<'_>, found: &mut Found) {
        let Some(at) = event.at() else { return };
        let start = *self.capture_start.get_or_insert(at.time);
        self.close_bursts(at, found);
        match event {
            CaptureEvent::Doip { carrier: CarriedBy::Tcp(conn), from, message: Ok(m), .. } => {
                match (from, &m.payload) {
                    (Side::Entity, Payload::AliveCheckRequest) => {
                        self.alive.retain(|a| a.conn != conn.id);
                        if self.alive.len() < MAX_TRACKED {
                            self.alive.push(AliveCheck {
                                conn: conn.id,
                                request: at,
                                response: None,
                            });
                        }
                    }
                    (Side::Tester, Payload::AliveCheckResponse(_)) => {
                        if let Some(a) = self.alive.iter_mut().find(|a| a.conn == conn.id) {
                            a.response.get_or_insert(at);
                            self.alive_late(conn.id, at, found);
                        }
                    }
                    _ => self.alive_late(conn.id, at, found),
                }
            }
            CaptureEvent::Doip { carrier: CarriedBy::Tcp(conn), .. }
            | CaptureEvent::Data { conn, .. } => self.alive_late(conn.id, at, found),
            CaptureEvent::Closed { conn, by: Side::Entity, .. } => {
                self.alive_closed(conn.id, at, found)
            }
            CaptureEvent::Closed { conn, .. } | CaptureEvent::Ended { conn, .. } => {
                self.alive.retain(|a| a.conn != conn.id);
            }
            CaptureEvent::Doip { carrier: CarriedBy::Udp { src, dst }, from, bytes, .. } => {
                let payload_type = payload_type_of(bytes);
                let announcement = payload_type == Some(PayloadType::VehicleAnnouncement);
                match from {
                    Side::Tester
                        if payload_type
                            .is_some_and(PayloadType::is_vehicle_identification_request)
                            && !self.identifying.contains(src)
                            && self.identifying.len() < MAX_TRACKED =>
                    {
                        self.identifying.push(*src);
                    }
                    Side::Entity if announcement => {
                        if let Some(i) = self.identifying.iter().position(|t| t == dst) {
                            self.identifying.remove(i);
                        } else {
                            self.announcement(*src, at, start, found);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Anything on `conn` after T_TCP_Alive_Check (+ tolerance) with no response in time: the
    /// entity should have closed the socket.
    fn alive_late(&mut self, conn: u32, at: At, found: &mut Found) {
        let window = self.alive_window();
        let Some(i) = self.alive.iter().position(|a| a.conn == conn) else { return };
        let a = &self.alive[i];
        if !window.is_late(at.time.saturating_sub(a.request.time)) {
            return;
        }
        found.judged(&rules::TIMING_ALIVE_CHECK);
        // The window is over: kept open is right only for a socket that answered in time.
        let answered_in_time =
            a.response.is_some_and(|r| !window.is_late(r.time.saturating_sub(a.request.time)));
        if !answered_in_time {
            found.push(Finding {
                rule: &rules::TIMING_ALIVE_CHECK,
                packets: vec![a.request.packet, at.packet],
                message: format!(
                    "the socket gave no alive check response within T_TCP_Alive_Check ({} ms +{} ms tolerance), yet the entity kept it open ({} ms after its request)",
                    self.values.t_tcp_alive_check.as_millis(),
                    self.values.tolerance.as_millis(),
                    at.time.saturating_sub(a.request.time).as_millis()
                ),
            });
        }
        self.alive.remove(i);
    }

    /// The entity closed `conn` with an alive check open: not a socket that answered in
    /// time. (Closing one that did not answer, at T_TCP_Alive_Check, is right. An early close
    /// is not judged: a capture written by a tester that reads an idle socket only later,
    /// as `run`'s are, shows the request at the close.)
    fn alive_closed(&mut self, conn: u32, at: At, found: &mut Found) {
        let Some(i) = self.alive.iter().position(|a| a.conn == conn) else { return };
        let a = self.alive.remove(i);
        found.judged(&rules::TIMING_ALIVE_CHECK);
        let window = self.alive_window();
        if let Some(r) =
            a.response.filter(|r| !window.is_late(r.time.saturating_sub(a.request.time)))
        {
            found.push(Finding {
                rule: &rules::TIMING_ALIVE_CHECK,
                packets: vec![a.request.packet, r.packet, at.packet],
                message: format!(
                    "the socket answered the alive check {} ms after the request, within T_TCP_Alive_Check ({} ms +{} ms tolerance), yet the entity closed it",
                    r.time.saturating_sub(a.request.time).as_millis(),
                    self.values.t_tcp_alive_check.as_millis(),
                    self.values.tolerance.as_millis()
                ),
            });
        }
    }

    /// The window of an alive check response: T_TCP_Alive_Check (ISO 13400-2:2019 Table 40).
    fn alive_window(&self) -> Window {
        Window::new(self.values.t_tcp_alive_check, None, self.values.tolerance)
    }

    /// The window of the next announcement of a burst: not before A_DoIP_Announce_Interval,
    /// and the burst is over when none came by its end (ISO 13400-2:2019 Table 39).
    fn announce_window(&self) -> Window {
        let interval = self.values.announce_interval;
        Window::new(interval, Some(interval), self.values.tolerance)
    }

    fn announcement(&mut self, entity: SocketAddr, at: At, start: Duration, found: &mut Found) {
        let (interval, tolerance) = (self.values.announce_interval, self.values.tolerance);
        let window = self.announce_window();
        let room = self.bursts.len() < MAX_TRACKED;
        match self.bursts.iter_mut().find(|b| b.entity == entity) {
            Some(burst) => {
                found.judged(&rules::TIMING_ANNOUNCE_INTERVAL);
                let gap = at.time.saturating_sub(burst.last.time);
                if window.is_early(gap) {
                    found.push(Finding {
                        rule: &rules::TIMING_ANNOUNCE_INTERVAL,
                        packets: vec![burst.last.packet, at.packet],
                        message: format!(
                            "a vehicle announcement came {} ms after the previous one, A_DoIP_Announce_Interval is {} ms (-{} ms tolerance)",
                            gap.as_millis(),
                            interval.as_millis(),
                            tolerance.as_millis()
                        ),
                    });
                }
                burst.count += 1;
                burst.last = at;
                if burst.count == self.values.announce_num + 1 {
                    found.push(Finding {
                        rule: &rules::TIMING_ANNOUNCE_COUNT,
                        packets: vec![burst.first.packet, at.packet],
                        message: format!(
                            "the entity sent more than A_DoIP_Announce_Num ({}) vehicle announcements in a row",
                            self.values.announce_num
                        ),
                    });
                }
            }
            None if room => {
                let at_capture_start = !window.is_late(at.time.saturating_sub(start));
                self.bursts.push(Burst { entity, first: at, last: at, count: 1, at_capture_start });
            }
            None => {}
        }
    }

    /// Bursts whose interval has passed are over: too few announcements is a finding when the
    /// capture shows the whole burst.
    fn close_bursts(&mut self, now: At, found: &mut Found) {
        let window = self.announce_window();
        let num = self.values.announce_num;
        self.bursts.retain(|b| {
            if !window.is_late(now.time.saturating_sub(b.last.time)) {
                return true;
            }
            if !b.at_capture_start {
                found.judged(&rules::TIMING_ANNOUNCE_COUNT);
            }
            if b.count < num && !b.at_capture_start {
                found.push(Finding {
                    rule: &rules::TIMING_ANNOUNCE_COUNT,
                    packets: vec![b.first.packet, b.last.packet],
                    message: format!(
                        "the entity sent {} vehicle announcement(s) in a row, A_DoIP_Announce_Num is {num}",
                        b.count
                    ),
                });
            }
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_bytes(text: &str) -> Result<Vec<u8>, hex::FromHexError> {
        hex::decode(text.replace(' ', ""))
    }
    use crate::codec::doip::Message;
    use crate::pcap::read::TcpFlow;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn values() -> TimerValues {
        TimerValues {
            t_tcp_alive_check: MS(500),
            announce_interval: MS(500),
            announce_num: 3,
            tolerance: MS(10),
        }
    }

    fn conn() -> TcpFlow {
        TcpFlow {
            id: 1,
            tester: "127.0.0.1:50000".parse().unwrap(),
            entity: "127.0.0.1:13400".parse().unwrap(),
            handshake: true,
            tls: false,
        }
    }

    fn at(packet: u64, us: u64) -> At {
        At { packet, time: Duration::from_micros(us) }
    }

    fn tcp(checks: &mut TimerChecks, from: Side, hex: &str, at: At, found: &mut Found) {
        let bytes = hex_bytes(hex).unwrap();
        let message = Message::parse(&bytes);
        let carrier = CarriedBy::Tcp(conn());
        checks.check(&CaptureEvent::Doip { at, carrier, from, bytes: &bytes, message }, found);
    }

    const REQUEST: &str = "02 fd 00 07 00 00 00 00";
    const RESPONSE: &str = "02 fd 00 08 00 00 00 02 0e 80";
    const DIAG: &str = "02 fd 80 01 00 00 00 06 00 10 0e 80 7e 00";

    /// Request at 0, then `script` of (who, what, microseconds); the findings' packets.
    fn alive(script: &[(Side, &str, u64)]) -> Vec<Vec<u64>> {
        let mut checks = TimerChecks::new(values());
        let mut found = Found::default();
        tcp(&mut checks, Side::Entity, REQUEST, at(1, 0), &mut found);
        for (i, (side, what, us)) in script.iter().enumerate() {
            let at = at(i as u64 + 2, *us);
            if *what == "close" {
                let event = CaptureEvent::Closed { at, conn: conn(), by: *side, reset: false };
                checks.check(&event, &mut found);
            } else {
                tcp(&mut checks, *side, what, at, &mut found);
            }
        }
        assert!(found.findings().iter().all(|f| f.rule.id == "timing.alive_check"));
        found.findings().iter().map(|f| f.packets.clone()).collect()
    }

    #[test]
    fn an_unanswered_socket_must_be_closed_at_t_tcp_alive_check() {
        use Side::*;
        // Still open at exactly T + tolerance (510 ms): in time; 1 us later: kept open.
        assert_eq!(alive(&[(Entity, DIAG, 510_000)]), Vec::<Vec<u64>>::new());
        assert_eq!(alive(&[(Entity, DIAG, 510_001)]), [vec![1, 2]]);
        // Closed after T: right.
        assert_eq!(alive(&[(Entity, "close", 510_001)]), Vec::<Vec<u64>>::new());
        // A response at exactly T + tolerance keeps the socket; closing it then is a finding.
        assert_eq!(
            alive(&[(Tester, RESPONSE, 510_000), (Entity, DIAG, 900_000)]),
            Vec::<Vec<u64>>::new()
        );
        assert_eq!(
            alive(&[(Tester, RESPONSE, 510_000), (Entity, "close", 510_000)]),
            [vec![1, 2, 3]]
        );
        // A response 1 us too late: the entity should have closed before it arrived.
        assert_eq!(alive(&[(Tester, RESPONSE, 510_001)]), [vec![1, 2]]);
    }

    fn announce(times_ms: &[u64], then_ms: Option<u64>) -> Vec<(&'static str, Vec<u64>)> {
        let mut checks = TimerChecks::new(values());
        let mut found = Found::default();
        let entity: SocketAddr = "127.0.0.1:13400".parse().unwrap();
        let to: SocketAddr = "127.0.0.1:13400".parse().unwrap();
        let mut bytes = hex_bytes("02 fd 00 04 00 00 00 20").unwrap();
        bytes.extend([0x30; 17].iter().chain(&[0x00, 0x10]).chain(&[0; 13]));
        // The capture starts a second before the first announcement: bursts are whole.
        let opened =
            CaptureEvent::Skipped { at: at(1, 0), why: crate::pcap::read::SkipReason::IpFragment };
        checks.check(&opened, &mut found);
        for (i, ms) in times_ms.iter().enumerate() {
            let at = at(i as u64 + 2, 1_000_000 + ms * 1000);
            let message = Message::parse(&bytes);
            let carrier = CarriedBy::Udp { src: entity, dst: to };
            let event =
                CaptureEvent::Doip { at, carrier, from: Side::Entity, bytes: &bytes, message };
            checks.check(&event, &mut found);
        }
        if let Some(ms) = then_ms {
            let later = at(99, 1_000_000 + ms * 1000);
            checks.check(
                &CaptureEvent::Skipped {
                    at: later,
                    why: crate::pcap::read::SkipReason::IpFragment,
                },
                &mut found,
            );
        }
        found.findings().iter().map(|f| (f.rule.id, f.packets.clone())).collect()
    }

    #[test]
    fn announcements_keep_their_interval_and_count() {
        // Three, 490 ms apart (interval - tolerance): in time; 489.999 ms would be early.
        assert_eq!(announce(&[0, 490, 980], Some(2000)), []);
        let early = announce(&[0, 489, 978], Some(2000));
        assert_eq!(early[0], ("timing.announce_interval", vec![2, 3]));
        // 510 ms apart is still the burst; the fourth one is one too many.
        assert_eq!(
            announce(&[0, 510, 1020, 1530], Some(3000)),
            [("timing.announce_count", vec![2, 5])]
        );
        // Two in a burst that the capture shows whole: too few, named when the burst is over
        // (more than interval + tolerance after the last one), not before.
        assert_eq!(announce(&[0, 500], Some(1010)), []);
        assert_eq!(announce(&[0, 500], Some(1011)), [("timing.announce_count", vec![2, 3])]);
    }
}
