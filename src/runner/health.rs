//! Health between cases: after a case that did not pass, one bounded probe of each DoIP
//! service of the target the cases still to run use (a TCP connect; a vehicle identification
//! request over UDP, answered within A_DoIP_Ctrl). A service that stopped answering is named in that case's transcript,
//! and a later case that uses it and fails says so, pointing at the case after which it
//! stopped, rather than each failing for "nothing arrived". A later case on that service that
//! passes shows it is back. Probes never change a verdict.
//!
//! Each job has its own health (the built-in simulator runs one instance per job).

use std::net::SocketAddr;
use std::time::Duration;

use super::case::TargetEndpoints;
use super::record::{Clock, Recorder};
use super::udp::{Udp, UdpOutcome};
use crate::codec::doip::{Message, Payload, ProtocolVersion};
use crate::profile::TargetProfile;
use crate::runner::event::{Decoded, Verdict};
use crate::suite::select::SelectedCase;
use crate::suite::steps::Medium;
use crate::transport::doip::tester::{self, NoRecord};

/// The services of the DoIP entity, in the order they are probed.
pub const SERVICES: [Service; 2] = [Service::Tcp, Service::Udp];

/// A service of the DoIP entity a case may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Tcp,
    Udp,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Tcp => "TCP",
            Service::Udp => "UDP",
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
        if verdict == Verdict::Skipped || !target.has_doip() {
            return Vec::new();
        }
        let mut lines = Vec::new();
        for &service in needed {
            if self.down.iter().any(|(s, _)| *s == service) {
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
    }
}
