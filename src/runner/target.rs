//! What a run talks to: a DoIP endpoint given with `--target` (the same endpoints for every
//! job), or the built-in simulator: one instance per job on ephemeral loopback ports, so
//! parallel cases never share an entity's state.

use super::case::Endpoints;
use crate::sim::config::SimConfig;
use crate::sim::faults::{Fault, FaultSet};
use crate::transport::doip::sim_host::SimHost;

/// Names of the built-in simulator's faults, which a suite's `detects:` may list.
pub fn known_faults() -> Vec<&'static str> {
    Fault::ALL.iter().map(|f| f.name()).collect()
}

/// Where a run's jobs send their cases.
#[derive(Debug, Clone)]
pub enum TargetSource {
    /// A real target: the same endpoints for every job.
    Fixed(Vec<Endpoints>),
    /// Built-in simulator instances, one per job, with these faults switched on.
    Simulator { jobs: u32, faults: Vec<String> },
}

/// Running simulator instances; shut them down after the run.
pub struct Simulators {
    hosts: Vec<SimHost>,
}

impl Simulators {
    /// Starts `jobs` instances of the default simulator with `faults`.
    pub async fn start(
        jobs: u32,
        faults: &[String],
    ) -> Result<(Simulators, Vec<Endpoints>), String> {
        let faults = FaultSet::from_names(faults).map_err(|e| e.to_string())?;
        let mut hosts = Vec::new();
        let mut endpoints = Vec::new();
        for _ in 0..jobs.max(1) {
            let host = SimHost::start(SimConfig::ephemeral(), faults)
                .await
                .map_err(|e| format!("cannot start the built-in simulator: {e}"))?;
            let tcp = host.tcp_addr();
            endpoints.push(Endpoints {
                ip: tcp.ip(),
                tcp: tcp.port(),
                udp: host.udp_addr().port(),
                tls: host.tls_addr().map_or(0, |a| a.port()),
            });
            hosts.push(host);
        }
        Ok((Simulators { hosts }, endpoints))
    }

    pub async fn shutdown(self) {
        for h in self.hosts {
            h.shutdown().await;
        }
    }
}

/// The label reports show for a simulator run.
pub fn simulator_label(faults: &[String]) -> String {
    if faults.is_empty() {
        "built-in simulator".into()
    } else {
        format!("built-in simulator (fault: {})", faults.join(", "))
    }
}
