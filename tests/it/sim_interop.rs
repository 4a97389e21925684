//! Interoperability: python-doipclient 1.2.2 and udsoncan (installed into `.venv` by .ci/run)
//! against the simulator on 127.0.0.1 ephemeral ports, asserting the values of the shipped
//! example configuration (fixtures/sim/sim.yaml).

use doipcheck::sim::config::SimConfig;
use doipcheck::sim::faults::FaultSet;
use doipcheck::transport::doip::sim_host::SimHost;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The venv's python: this checkout's `.venv`, else the main worktree's (a git worktree shares
/// it); `None` (with a notice) when absent outside CI, a panic in CI.
pub fn venv_python() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut candidates = vec![manifest.join(".venv/bin/python3")];
    let common = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .current_dir(manifest)
        .output();
    if let Ok(out) = common
        && out.status.success()
        && let Some(main) = Path::new(String::from_utf8_lossy(&out.stdout).trim()).parent()
    {
        candidates.push(main.join(".venv/bin/python3"));
    }
    if let Some(found) = candidates.into_iter().find(|p| p.exists()) {
        return Some(found);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but no .venv/bin/python3: run .ci/run, which installs the python peers");
    }
    eprintln!("skipped: no .venv/bin/python3 (run .ci/run to install python-doipclient)");
    None
}

/// Runs `cmd`, killing it after `limit`; returns (success, stdout + stderr).
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> (bool, String) {
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn python");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().expect("output");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (status.is_some_and(|s| s.success()), text)
}

#[test]
fn python_doipclient_and_udsoncan_get_the_configured_values() {
    let Some(python) = venv_python() else { return };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(manifest.join("fixtures/sim/sim.yaml")).unwrap();
    let mut config = SimConfig::from_yaml_str(&text).unwrap();
    config.network.tcp_port = 0;
    config.network.udp_port = 0;
    config.network.tls_port = Some(0);
    config.announce.enabled = false;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let host = rt.block_on(SimHost::start(config.clone(), FaultSet::NONE)).unwrap();
    let ascii_dids = |uds: &doipcheck::sim::config::UdsConfig| -> serde_json::Value {
        uds.dids
            .iter()
            .filter_map(|(id, d)| Some((format!("{id:04X}"), d.ascii.clone()?.into())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let ecus: Vec<serde_json::Value> = config
        .ecus
        .iter()
        .map(|e| {
            serde_json::json!({
                "logical_address": e.logical_address.value,
                "ascii_dids": ascii_dids(&e.uds),
            })
        })
        .collect();
    let expect = serde_json::json!({
        "host": "127.0.0.1",
        "tcp_port": host.tcp_addr().port(),
        "udp_port": host.udp_addr().port(),
        "vin": String::from_utf8_lossy(&config.vin.0),
        "logical_address": config.entity_address(),
        "eid": hex::encode(config.eid.0),
        "gid": hex::encode(config.gid.0),
        "tester_address": config.tester_addresses[0],
        "second_tester_address": config.tester_addresses[1],
        "node_type": config.node_type.code(),
        "max_tcp_sockets": config.max_tcp_sockets,
        "max_data_size": config.max_data_size,
        "power_mode": config.power_mode.code(),
        "ascii_dids": ascii_dids(&config.uds),
        "ecus": ecus,
    });
    let (ok, output) = run_bounded(
        Command::new(python)
            .arg(manifest.join("tests/python/sim_interop.py"))
            .arg(expect.to_string()),
        Duration::from_secs(60),
    );
    rt.block_on(host.shutdown());
    eprintln!("{output}");
    assert!(ok, "python-doipclient interop failed:\n{output}");
    assert!(output.contains("0 failure(s)"), "{output}");
}

/// Two UDP ports free on 127.0.0.1 right now.
fn free_udp_ports() -> (u16, u16) {
    let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

#[test]
fn python_can_isotp_over_cannelloni_gets_a_multi_frame_answer_from_a_simulated_ecu() {
    let Some(python) = venv_python() else { return };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (sim_port, peer_port) = free_udp_ports();
    let text = format!(
        "can: cannelloni:{sim_port}@127.0.0.1:{peer_port}\n\
         ecus:\n  - {{ name: engine, logical_address: 0x0011, request_id: 0x7E0, response_id: 0x7E8 }}\n"
    );
    let mut config = SimConfig::from_yaml_str(&text).unwrap();
    let ephemeral = SimConfig::ephemeral();
    config.network = ephemeral.network;
    config.announce = ephemeral.announce;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let host = rt.block_on(SimHost::start(config.clone(), FaultSet::NONE)).unwrap();
    let (ok, output) = run_bounded(
        Command::new(python)
            .arg(manifest.join("tests/python/sim_isotp_uds.py"))
            .args(["--local", &peer_port.to_string(), "--remote", &sim_port.to_string()])
            .args(["--tx-id", "7E0", "--rx-id", "7E8", "--hex", "22F190"]),
        Duration::from_secs(30),
    );
    rt.block_on(host.shutdown());
    eprintln!("{output}");
    assert!(ok, "python can-isotp interop failed:\n{output}");
    let expected = format!("RX 62f190{}", hex::encode(b"WDOIPCHECK0000001"));
    assert!(output.contains(&expected), "{output}");
}
