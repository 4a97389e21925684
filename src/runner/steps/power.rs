//! `power_cycle`: the target starts again, so that a case sees its start-up (vehicle
//! announcements, ISO 13400-2:2019 §9.2).

use super::Execute;
use crate::runner::case::CaseRun;
use crate::runner::failure::{Failure, error};
use crate::runner::udp::Udp;
use crate::suite::steps::PowerCycle;
use crate::suite::value::{Expr, format_duration};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// Default bound of a `power_cycle` step.
const POWER_CYCLE_BOUND: Duration = Duration::from_secs(30);

impl Execute for PowerCycle {
    async fn execute(&self, run: &mut CaseRun<'_>) -> Result<(), Failure> {
        run.power_cycle(self.within.as_ref()).await
    }
}

impl CaseRun<'_> {
    /// The built-in simulator restarts its entity at once and sends its announcements to this
    /// case's UDP socket over loopback; a --target runs the profile's `power_cycle_command`
    /// (bounded by `within`), with the case's UDP socket on the discovery port so that the
    /// target's announcements reach it. `measure` afterwards counts from here.
    pub(super) async fn power_cycle(&mut self, within: Option<&Expr>) -> Result<(), Failure> {
        let bound = self.opt_duration(within)?.unwrap_or(POWER_CYCLE_BOUND);
        match self.target.simulator.clone() {
            Some(sim) => {
                self.ensure_udp(false).await?;
                let port = self.udp.as_ref().map_or(0, |u| u.local.port());
                // The simulator binds loopback (or the address it was given): announce there.
                let to = SocketAddr::new(self.target.ip, port);
                tokio::time::timeout(bound, sim.power_cycle(to))
                    .await
                    .map_err(|_| error("the built-in simulator did not restart in time"))?
                    .map_err(error)?;
                self.rec.note(format!(
                    "power cycle: the built-in simulator restarted its entity, announcing to {to}"
                ));
            }
            None => {
                let command = self
                    .env
                    .profile
                    .target()
                    .power_cycle_command
                    .as_deref()
                    .ok_or_else(|| {
                        error(
                            "power_cycle against --target needs the profile's power_cycle_command",
                        )
                    })?
                    .to_owned();
                if self.udp.is_none() {
                    let target = SocketAddr::new(self.target.ip, self.target.udp);
                    let udp = Udp::bind_port(target, self.target.udp, false, &self.rec)
                        .await
                        .map_err(error)?;
                    self.udp = Some(udp);
                }
                run_command(&command, bound).await?;
                self.rec.note(format!("power cycle: ran `{command}`"));
            }
        }
        self.last_sent_at = Some(self.rec.now());
        Ok(())
    }
}

/// Runs the profile's `power_cycle_command`, bounded by `bound`.
async fn run_command(command: &str, bound: Duration) -> Result<(), Failure> {
    shell_command("the power cycle command", command, bound).await.map_err(error)
}

/// Runs `command` in a shell, bounded by `bound` (killed when it overruns); the error names
/// it as `what` (`power_cycle_command`, `--monitor`). Shared with the fuzzer's restore and
/// monitor.
pub async fn shell_command(what: &str, command: &str, bound: Duration) -> Result<(), String> {
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{what} `{command}`: {e}"))?;
    // Polled, not awaited: tokio's process support is not among the features used.
    let deadline = Instant::now() + bound;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{what} `{command}` did not finish within {}",
                    format_duration(bound)
                ));
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => return Err(format!("{what} `{command}`: {e}")),
        }
    };
    if !status.success() {
        return Err(format!("{what} `{command}` failed: {status}"));
    }
    Ok(())
}
