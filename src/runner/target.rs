//! What a run talks to: a DoIP endpoint given with `--target` (the same endpoints for every
//! job), or the built-in simulator: one instance per job on ephemeral loopback ports, so
//! parallel cases never share an entity's state.

use super::case::TargetEndpoints;
use crate::sim::config::SimConfig;
use crate::sim::faults::{Fault, FaultSet};
use crate::suite::profile::Profile;
use crate::transport::doip::sim_host::SimHost;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Names of the built-in simulator's faults, which a suite's `detects:` may list.
pub fn known_faults() -> Vec<&'static str> {
    Fault::ALL.iter().map(|f| f.name()).collect()
}

/// Where a run's jobs send their cases.
#[derive(Debug, Clone)]
pub enum TargetSource {
    /// A real target: the same endpoints for every job.
    Fixed(Vec<TargetEndpoints>),
    /// Built-in simulator instances, one per job, with these faults switched on.
    Simulator { jobs: u32, faults: Vec<String>, config: Box<SimConfig> },
}

/// The configuration of the built-in simulator: the file the profile's `simulator` key names
/// (relative to the profile), or the simulator's defaults when the profile names none. The
/// error is every mistake of that file, rendered with its positions (`LoadErrors::render`).
pub fn simulator_config(
    profile: &Profile,
    profile_path: Option<&Path>,
) -> Result<SimConfig, String> {
    let Some(path) = simulator_config_path(profile, profile_path) else {
        return Ok(SimConfig::default());
    };
    crate::suite::load::load_sim_config(&path).map_err(|e| e.render())
}

/// The simulator configuration file the profile names (`simulator:`, relative to the profile).
fn simulator_config_path(profile: &Profile, profile_path: Option<&Path>) -> Option<PathBuf> {
    let file = profile.target().simulator.as_ref()?;
    let base = profile_path.and_then(Path::parent).unwrap_or(Path::new("."));
    Some(base.join(file))
}

/// The simulator configuration a run used, as a file for its evidence bundle: the file the
/// profile names as it was read, or else the built-in defaults written out; the faults
/// switched on in a comment.
pub fn simulator_config_text(
    profile: &Profile,
    profile_path: Option<&Path>,
    faults: &[String],
) -> Result<String, String> {
    let mut text = match faults {
        [] => String::new(),
        _ => format!("# faults switched on (--sim-fault): {}\n", faults.join(", ")),
    };
    match simulator_config_path(profile, profile_path) {
        Some(path) => text.push_str(&crate::suite::load::read_text(&path)?),
        None => {
            text.push_str(
                "# the built-in simulator's defaults (the profile names no simulator file)\n",
            );
            text.push_str(
                &serde_saphyr::to_string(&SimConfig::default()).map_err(|e| e.to_string())?,
            );
        }
    }
    Ok(text)
}

/// Tells simulator instances' private CAN buses apart in this process's bus registry.
static NEXT_BUS: AtomicU64 = AtomicU64::new(0);

/// Running simulator instances; shut them down after the run.
pub struct Simulators {
    hosts: Vec<SimHost>,
}

impl Simulators {
    /// Starts `jobs` instances of the simulator `config` describes, with `faults`, on
    /// ephemeral loopback ports. Its CAN ECUs (if any) sit on a bus of their own per instance,
    /// which the instance's cases join for `can_*` and `isotp_*` steps.
    pub async fn start(
        jobs: u32,
        faults: &[String],
        config: &SimConfig,
    ) -> Result<(Simulators, Vec<TargetEndpoints>), String> {
        let faults = FaultSet::from_names(faults).map_err(|e| e.to_string())?;
        let mut hosts = Vec::new();
        let mut endpoints = Vec::new();
        for _ in 0..jobs.max(1) {
            let mut config = config.clone();
            config.network.tcp_port = 0;
            config.network.udp_port = 0;
            config.network.tls_port = config.network.tls_port.map(|_| 0);
            config.announce.enabled = false;
            let can = match &config.can {
                _ if config.ecus.is_empty() => None,
                Some(text) => Some(text.clone()),
                None => Some(format!(
                    "memory:doipcheck-sim-{}-{}",
                    std::process::id(),
                    NEXT_BUS.fetch_add(1, Ordering::Relaxed)
                )),
            };
            config.can = can.clone();
            let can = can
                .map(|text| {
                    let spec = text.parse().map_err(|e| format!("simulator CAN `{text}`: {e}"))?;
                    Ok::<_, String>((text, spec))
                })
                .transpose()?;
            let host = SimHost::start(config, faults)
                .await
                .map_err(|e| format!("cannot start the built-in simulator: {e}"))?;
            let tcp = host.tcp_addr();
            endpoints.push(TargetEndpoints {
                ip: tcp.ip(),
                tcp: tcp.port(),
                udp: host.udp_addr().port(),
                tls: host.tls_addr().map_or(0, |a| a.port()),
                can,
                simulator: Some(host.control()),
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

/// Before the first case: the entity accepts a connection to its data port within `timeout`,
/// so that an unreachable target costs one timeout and one line (exit 3), not one per case.
/// An entity that accepts and then resets or closes is there: the cases judge what it does.
pub async fn preflight(
    target: &TargetEndpoints,
    timeout: std::time::Duration,
) -> Result<(), String> {
    use crate::transport::doip::tester::{self, NoRecord};
    let addr = std::net::SocketAddr::new(target.ip, target.tcp);
    match tester::connect(addr, None, timeout, &mut NoRecord).await {
        Ok(mut conn) => {
            conn.close(&mut NoRecord).await;
            Ok(())
        }
        Err(tester::NotThere(why)) => Err(format!("{}{why}", crate::runner::UNREACHABLE_PREFIX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_simulator_configuration_is_written_so_that_it_reads_back() {
        let profile = Profile::defaults();
        let faults = vec!["no_alive_check_answer".to_owned()];
        let text = simulator_config_text(&profile, None, &faults).unwrap();
        assert!(text.starts_with("# faults switched on (--sim-fault): no_alive_check_answer\n"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("simulator.yaml");
        std::fs::write(&path, &text).unwrap();
        let read = crate::suite::load::load_sim_config(&path).map_err(|e| e.render()).unwrap();
        let written = serde_saphyr::to_string(&read).unwrap();
        assert_eq!(written, serde_saphyr::to_string(&SimConfig::default()).unwrap());
    }
}
