//! UDP steps: vehicle identification, entity status and power mode requests to the
//! discovery port (or the profile's broadcast address), the answers and announcements
//! (ISO 13400-2:2019 §9.2, §9.3), and silence on the case's UDP socket.

use super::{Execute, deadline_after};
use crate::codec::doip::{Message, Payload};
use crate::proto::window::Window;
use crate::runner::arrived::{Arrived, ReceivedFrame};
use crate::runner::case::CaseRun;
use crate::runner::event::{Decoded, RunTime};
use crate::runner::failure::{Failure, describe_mismatches, error, mismatch};
use crate::runner::message as msg;
use crate::runner::udp::{Udp, UdpOutcome};
use crate::suite::show::show_expr;
use crate::suite::step_args::{Matcher, OverrideExprs, TimeBounds, UdpDestination, UdpPayload};
use crate::suite::steps::{UdpExpect, UdpSend};
use crate::suite::value::{Expr, Value, format_duration};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

impl Execute for UdpSend {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.udp_send(&self.payload, &self.overrides, &self.to).await
    }
}

impl Execute for UdpExpect {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        let (count, interval) = (self.count.as_ref(), self.interval.as_ref());
        run.udp_expect(&self.payload, &self.timing, count, interval, &self.pass_over).await
    }
}

impl CaseRun<'_> {
    pub(super) async fn ensure_udp(&mut self, broadcast: bool) -> Result<(), Failure> {
        if self.udp.is_none() {
            let target = SocketAddr::new(self.target.ip, self.target.udp);
            self.udp = Some(Udp::bind(target, broadcast, &self.rec).await.map_err(error)?);
        }
        Ok(())
    }

    pub(super) async fn udp_send(
        &mut self,
        payload: &UdpPayload<Expr>,
        overrides: &OverrideExprs,
        to: &UdpDestination,
    ) -> Result<(), Failure> {
        let (bytes, decoded) = match payload {
            UdpPayload::Message(body) => {
                let (bytes, _) = self.build_message(body, overrides)?;
                // Shown as parsed back from the wire, so a malformed-on-purpose datagram says so.
                let decoded = match Message::parse(&bytes) {
                    Ok(parsed) => crate::runner::arrived::decoded_message(&parsed),
                    Err(e) => Decoded::Error { error: format!("malformed on purpose: {e}") },
                };
                (bytes, decoded)
            }
            UdpPayload::Hex(h) => (self.bytes(h)?, Decoded::Raw),
        };
        let (dest, broadcast) = match to {
            UdpDestination::Unicast => (SocketAddr::new(self.target.ip, self.target.udp), false),
            UdpDestination::Broadcast => {
                let ip = match self.scope.get("profile.network.broadcast_address") {
                    Some(Value::Str(s)) => s.parse::<IpAddr>().map_err(|e| {
                        error(format!("profile network.broadcast_address `{s}`: {e}"))
                    })?,
                    _ => return Err(error("the profile names no network.broadcast_address")),
                };
                (SocketAddr::new(ip, self.target.udp), true)
            }
            UdpDestination::Address(e) => {
                let text = self.resolve(e)?.to_string();
                let addr = text
                    .parse::<SocketAddr>()
                    .map_err(|err| error(format!("`to: {text}` is not HOST:PORT: {err}")))?;
                (addr, false)
            }
        };
        self.ensure_udp(broadcast).await?;
        let udp = udp_mut(&mut self.udp)?;
        udp.send(dest, bytes, decoded, &mut self.rec).await?;
        self.last_sent_at = Some(self.rec.now());
        Ok(())
    }

    /// `count` datagrams in a row: the first bounded by `timing`, each further one by
    /// `interval` ± the tolerance after the previous (or by `within` from it). Vehicle
    /// announcements the step does not ask for (an entity may announce at any time after a
    /// start) are recorded and passed over, and so are the kinds of `pass_over`.
    pub(super) async fn udp_expect(
        &mut self,
        payload: &UdpPayload<Matcher>,
        timing: &TimeBounds,
        count: Option<&Expr>,
        interval: Option<&Expr>,
        pass_over: &[&'static str],
    ) -> Result<(), Failure> {
        let count = self.count(count)?;
        let interval = self.opt_duration(interval)?;
        let mut window = self.window(timing.within.as_ref(), timing.not_before.as_ref())?;
        let pattern = match payload {
            UdpPayload::Hex(h) => Some(self.pattern(h, None)?),
            UdpPayload::Message(_) => None,
        };
        let mut start = self.rec.now();
        for n in 1..=count {
            let what = match payload {
                UdpPayload::Message(b) => b.name.clone(),
                UdpPayload::Hex(h) => format!("bytes {}", show_expr(h)),
            };
            let what = if count > 1 { format!("{what} ({n} of {count})") } else { what };
            let one = UdpExpectation { payload, pattern: pattern.as_ref(), what: &what, pass_over };
            start = self.udp_expect_one(&one, &window, start).await?;
            window = Window {
                within: interval.unwrap_or(window.within),
                not_before: interval,
                ..window
            };
        }
        Ok(())
    }

    /// One matching datagram; returns when it arrived.
    async fn udp_expect_one(
        &mut self,
        one: &UdpExpectation<'_>,
        window: &Window,
        start: RunTime,
    ) -> Result<RunTime, Failure> {
        let deadline = deadline_after(window.wait());
        loop {
            let received = match udp_mut(&mut self.udp)?.recv(deadline, &mut self.rec).await? {
                UdpOutcome::Timeout => {
                    return Err(crate::runner::failure::fail(format!(
                        "expected {} over UDP within {}, nothing arrived",
                        one.what,
                        format_duration(window.within)
                    )));
                }
                UdpOutcome::Datagram { received, .. } => received,
            };
            match self.judge_datagram(one, &received)? {
                Datagram::Matches => {}
                Datagram::PassedOver => continue,
            }
            let at = received.at;
            // Kernel stamps: a late arrival is the target's, whenever we read it.
            self.matched(received, start, window, one.what, None)?;
            return Ok(at);
        }
    }

    /// Whether a datagram is the one `one` waits for; vehicle announcements the step does not
    /// ask for are passed over (an entity may announce at any time after a start), and so are
    /// the kinds the step names in `pass_over` (unless it is the kind it waits for).
    fn judge_datagram(
        &self,
        one: &UdpExpectation<'_>,
        received: &ReceivedFrame,
    ) -> Result<Datagram, Failure> {
        let kind = received.message.as_ref().ok().and_then(|m| m.payload.payload_type().id());
        let expected = match one.payload {
            UdpPayload::Message(b) => Some(b.name.as_str()),
            UdpPayload::Hex(_) => None,
        };
        if let Some(kind) = kind.filter(|k| one.pass_over.contains(k) && expected != Some(*k)) {
            self.rec.note(format!("udp_expect: passed over a {kind} (pass_over)"));
            return Ok(Datagram::PassedOver);
        }
        let announcement = matches!(
            &received.message,
            Ok(Message { payload: Payload::VehicleAnnouncement(_), .. })
        );
        match (one.payload, one.pattern) {
            (UdpPayload::Hex(_), Some(pattern)) => {
                if !pattern.matches(&received.bytes) {
                    if announcement {
                        self.rec.note("udp_expect: passed over a vehicle announcement");
                        return Ok(Datagram::PassedOver);
                    }
                    return Err(mismatch(
                        format!("the datagram does not match {pattern}"),
                        Arrived::doip(received),
                        vec![],
                    )
                    .expecting(pattern));
                }
            }
            (UdpPayload::Message(expected), _) => {
                let message = match &received.message {
                    Ok(m) => m.clone(),
                    Err(e) => {
                        return Err(mismatch(
                            format!(
                                "expected {}, got a datagram that does not decode: {e}",
                                one.what
                            ),
                            Arrived::doip(received),
                            vec![],
                        ));
                    }
                };
                let name = message.payload.payload_type().id().unwrap_or("unknown payload type");
                if name != expected.name {
                    if announcement {
                        self.rec.note(format!(
                            "udp_expect: passed over a vehicle announcement while waiting for {}",
                            expected.name
                        ));
                        return Ok(Datagram::PassedOver);
                    }
                    return Err(mismatch(
                        format!("expected {}, got {name}", one.what),
                        Arrived::doip(received),
                        vec![],
                    ));
                }
                let mismatches = msg::judge(expected, &message, &self.scope).map_err(error)?;
                if !mismatches.is_empty() {
                    let text = format!(
                        "{} does not match: {}",
                        expected.name,
                        describe_mismatches(&mismatches)
                    );
                    return Err(mismatch(text, Arrived::doip(received), mismatches));
                }
            }
            (UdpPayload::Hex(_), None) => return Err(error("no pattern")),
        }
        Ok(Datagram::Matches)
    }

    /// `expect_none` on `udp`: no datagram arrives for `d`.
    pub(super) async fn udp_expect_none(&mut self, d: Duration) -> Result<(), Failure> {
        let deadline = deadline_after(d);
        match udp_mut(&mut self.udp)?.recv(deadline, &mut self.rec).await? {
            UdpOutcome::Timeout => Ok(()),
            UdpOutcome::Datagram { received, .. } => Err(mismatch(
                format!("expected no datagram for {}, one arrived", format_duration(d)),
                Arrived::doip(&received),
                vec![],
            )),
        }
    }
}

fn udp_mut(udp: &mut Option<Udp>) -> Result<&mut Udp, Failure> {
    udp.as_mut().ok_or_else(|| error("no UDP socket: add a `udp_send` step before this one"))
}

/// What [`CaseRun::judge_datagram`] found.
enum Datagram {
    Matches,
    PassedOver,
}

/// What one datagram of a `udp_expect` must be.
struct UdpExpectation<'a> {
    payload: &'a UdpPayload<Matcher>,
    pattern: Option<&'a crate::suite::value::BytePattern>,
    what: &'a str,
    pass_over: &'a [&'static str],
}
