//! Health between cases: after a case that did not pass, one bounded probe of each service of
//! the target the cases still to run use: a TCP connect; a vehicle identification request over
//! UDP, answered within A_DoIP_Ctrl; for the CAN node, a TesterPresent (`3E 00`, ISO 14229-1
//! §10.5) as a single frame on the profile's `isotp.tx_id`, answered on `isotp.rx_id` within
//! N_Bs + P2 (any answer, a negative one too, shows the node alive). A service that stopped
//! answering is named in that case's transcript,
//! and a later case that uses it and fails says so, pointing at the case after which it
//! stopped, rather than each failing for "nothing arrived". A later case on that service that
//! passes shows it is back. Probes never change a verdict.
//!
//! Each job has its own health (the built-in simulator runs one instance per job).

use std::net::SocketAddr;
use std::time::Duration;

use super::case::TargetEndpoints;
use super::isotp::{IsoTpSession, Outcome};
use super::record::{Clock, Recorder};
use super::udp::{Udp, UdpOutcome};
use crate::codec::doip::{Message, Payload, ProtocolVersion};
use crate::profile::TargetProfile;
use crate::runner::event::{Decoded, Verdict};
use crate::suite::select::SelectedCase;
use crate::suite::steps::Medium;
use crate::transport::can::driver::Traffic;
use crate::transport::can::{CanSpec, CanTransport};
use crate::transport::doip::tester::{self, NoRecord};

/// The services of the target, in the order they are probed.
pub const SERVICES: [Service; 3] = [Service::Tcp, Service::Udp, Service::Can];

/// A service of the target a case may use: the DoIP entity's TCP and UDP, the ISO-TP node on
/// CAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Tcp,
    Udp,
    Can,
}

/// The request of the CAN node's probe: TesterPresent with a response (ISO 14229-1 §10.5).
const TESTER_PRESENT: [u8; 2] = [0x3E, 0x00];

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Tcp => "TCP",
            Service::Udp => "UDP",
            Service::Can => "ISO-TP (CAN)",
        }
    }

    /// Whether `target` has this service to probe.
    fn offered_by(self, target: &TargetEndpoints) -> bool {
        match self {
            Service::Tcp | Service::Udp => target.has_doip(),
            Service::Can => target.can.is_some(),
        }
    }

    /// Whether a step of `planned` uses this service.
    pub fn used_by(self, planned: &SelectedCase) -> bool {
        planned.steps().any(|step| step.kind.medium() == self.medium())
    }

    fn medium(self) -> Medium {
        match self {
            Service::Tcp => Medium::Doip,
            Service::Udp => Medium::DoipUdp,
            Service::Can => Medium::Can,
        }
    }
}

/// What one job knows of the target's services.
#[derive(Debug, Default)]
pub struct Health {
    /// Services that stopped answering, with the case after which they did.
    down: Vec<(Service, String)>,
}

impl Health {
    /// A case of `planned` ended with `verdict`: a case that used a service down and passed
    /// shows it is back; one that did not pass has the services in `needed` (those the cases
    /// still to run use) probed. Returns the transcript lines to add to the case.
    #[allow(clippy::too_many_arguments)]
    pub async fn after_case(
        &mut self,
        planned: &SelectedCase,
        verdict: Verdict,
        needed: &[Service],
        target: &TargetEndpoints,
        profile: &TargetProfile,
        clock: Clock,
        connect_timeout: Duration,
    ) -> Vec<String> {
        if verdict == Verdict::Pass {
            self.down.retain(|(s, _)| !s.used_by(planned));
            return Vec::new();
        }
        if verdict == Verdict::Skipped {
            return Vec::new();
        }
        let mut lines = Vec::new();
        for &service in needed {
            if self.down.iter().any(|(s, _)| *s == service) || !service.offered_by(target) {
                continue;
            }
            if let Err(why) = probe(service, target, profile, clock, connect_timeout).await {
                lines.push(format!(
                    "health: the target's {} service stopped answering after this case ({why})",
                    service.name()
                ));
                self.down.push((service, planned.info.id.clone()));
            }
        }
        lines
    }

    /// Why a failing case of `planned` may have failed: a service it uses stopped answering
    /// after an earlier case.
    pub fn blame(&self, planned: &SelectedCase) -> Option<String> {
        let (service, after) = self.down.iter().find(|(s, _)| s.used_by(planned))?;
        Some(format!(
            "the target's {} service stopped answering after case {after} (health probe)",
            service.name()
        ))
    }
}

/// One bounded probe of `service`: `Err` says what did not answer.
async fn probe(
    service: Service,
    target: &TargetEndpoints,
    profile: &TargetProfile,
    clock: Clock,
    connect_timeout: Duration,
) -> Result<(), String> {
    match service {
        Service::Tcp => {
            let addr = SocketAddr::new(target.ip, target.tcp);
            let mut conn = tester::connect(addr, None, connect_timeout, &mut NoRecord)
                .await
                .map_err(|tester::NotThere(why)| format!("TCP connect to {addr}: {why}"))?;
            conn.close(&mut NoRecord).await;
            Ok(())
        }
        Service::Udp => {
            let addr = SocketAddr::new(target.ip, target.udp);
            let wait = profile.timers.a_doip_ctrl + profile.timers.tolerance;
            let mut rec = Recorder::quiet(clock);
            let mut udp = Udp::bind(addr, false, &rec).await?;
            let version = ProtocolVersion::from(profile.protocol_version);
            let request = Message::new(version, Payload::VehicleIdentificationRequest).to_bytes();
            let unanswered = || {
                format!(
                    "a vehicle identification request to {addr} got no answer within {} ms",
                    wait.as_millis()
                )
            };
            udp.send(addr, request, Decoded::Raw, &mut rec).await.map_err(|_| unanswered())?;
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                match udp.recv(deadline, &mut rec).await {
                    Ok(UdpOutcome::Datagram { from, .. }) if from == addr => return Ok(()),
                    Ok(UdpOutcome::Datagram { .. }) => continue,
                    _ => return Err(unanswered()),
                }
            }
        }
        Service::Can => match &target.can {
            Some((_, spec)) => probe_can(spec, profile).await,
            None => Ok(()),
        },
    }
}

/// TesterPresent to the CAN node through the harness's ISO-TP stack on a node of its own:
/// sent within N_Bs (a single frame needs no flow control), answered within P2 of it.
async fn probe_can(spec: &CanSpec, profile: &TargetProfile) -> Result<(), String> {
    let (tx, rx) = (profile.isotp.tx_id, profile.isotp.rx_id);
    let wait = profile.isotp.n_bs + profile.uds.p2 + profile.timers.tolerance;
    let unanswered = || {
        format!(
            "a TesterPresent (3E 00) on 0x{tx:X} got no answer on 0x{rx:X} within {} ms",
            wait.as_millis()
        )
    };
    let mut node = CanTransport::open(spec).await.map_err(|e| format!("CAN node: {e}"))?;
    let mut session = IsoTpSession::new(profile)?;
    let deadline = std::time::Instant::now() + wait;
    let mut quiet = |_: Traffic<'_>| {};
    match session.send(&mut node, &TESTER_PRESENT, false, deadline, &mut quiet).await? {
        Outcome::Done(_) => {}
        _ => return Err(unanswered()),
    }
    match session.next_message(&mut node, deadline, &mut quiet).await? {
        Outcome::Done(_) => Ok(()),
        _ => Err(unanswered()),
    }
}
