//! `doipcheck fuzz --target` restores a target that a case took down through the profile's
//! `power_cycle_command`, as a security team's rig would: here the command kills a
//! `doipcheck sim` process hung by its robustness fault and starts a fresh one on the same
//! port. The fuzzer's replay on the restored target shows the finding again, so it is
//! confirmed, and every restart is the command's.

use super::client_cli::doipcheck;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The simulator process the command restarts; killed when the test ends, whatever happens.
struct SimProcess {
    pid_file: std::path::PathBuf,
    first: Child,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.first.kill();
        let _ = self.first.wait();
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Waits until the simulator accepts on `port` (at most 5 s).
fn wait_listening(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "the simulator did not start on {port}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_target_hung_by_a_case_is_restored_through_the_power_cycle_command() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let port = free_tcp_port();
    let bin = env!("CARGO_BIN_EXE_doipcheck");
    let config = root.join("fixtures/sim/sim.yaml");
    let start = format!(
        "'{bin}' sim -c '{}' -p {port} --tls-port 0 --fault hang_after_oversized_diag",
        config.display()
    );
    let pid_file = dir.path().join("pid");
    let restarts = dir.path().join("restarts");
    let script = dir.path().join("power-cycle.sh");
    std::fs::write(
        &script,
        format!(
            "kill $(cat '{pid}') 2>/dev/null\nsleep 0.1\n{start} >/dev/null 2>&1 &\necho $! > '{pid}'\necho restarted >> '{restarts}'\nsleep 0.3\n",
            pid = pid_file.display(),
            restarts = restarts.display()
        ),
    )
    .unwrap();
    let first = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {start}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the simulator starts");
    std::fs::write(&pid_file, first.id().to_string()).unwrap();
    let _sim = SimProcess { pid_file, first };
    wait_listening(port);

    let profile = dir.path().join("profile.yaml");
    let shipped = std::fs::read_to_string(root.join("suites/profile.yaml")).unwrap();
    std::fs::write(
        &profile,
        format!("{shipped}\npower_cycle_command: \"sh '{}'\"\n", script.display()),
    )
    .unwrap();
    let findings = dir.path().join("findings");
    let target = format!("127.0.0.1:{port}");
    let out = doipcheck()
        .args(["fuzz", "-t", &target, "-p"])
        .arg(&profile)
        .args(["--duration", "60s", "--max-findings", "1", "--no-confirm", "--json"])
        .arg("--findings")
        .arg(&findings)
        .output()
        .expect("doipcheck fuzz runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stderr}"));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(summary["findings"], 1, "{summary}");
    let finding: Value = serde_json::from_str(
        &std::fs::read_to_string(findings.join("0001").join("finding.json")).unwrap(),
    )
    .unwrap();
    assert!(finding["oracle"].as_str().unwrap().starts_with("liveness."), "{finding}");
    assert_eq!(finding["confirmation"]["status"], "confirmed", "{finding}");
    assert!(
        finding["confirmation"]["why"].as_str().unwrap().contains("on a restored target"),
        "{finding}"
    );
    let restarted = std::fs::read_to_string(&restarts).unwrap_or_default().lines().count();
    assert!(restarted >= 1, "the power cycle command restored the target: {stderr}");
    // The restored simulator serves again: a new process on the same port.
    wait_listening(port);
}
