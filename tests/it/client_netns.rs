//! `doipcheck discover` by IPv4 broadcast, IPv6 `ff02::1` and with `--listen`, inside two
//! network namespaces this test creates (a veth pair between them): the simulator in one, the
//! tester in the other, so a broadcast never leaves the test's own network. The namespaces are deleted when the guard drops, also when
//! an assertion fails. Without `ip netns` (no root, no CAP_SYS_ADMIN) the test fails under CI
//! (CI=true) and says why it did not run elsewhere.

use super::client_cli::{Sim, sim_config};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

const SIM_IP: &str = "10.213.7.1";
const TESTER_IP: &str = "10.213.7.2";
const BROADCAST: &str = "10.213.7.255";

/// Two namespaces joined by a veth pair (`veth0` in the simulator's, `veth1` in the tester's).
struct Namespaces {
    sim: String,
    tester: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Namespaces {
    fn create() -> Result<Namespaces, String> {
        let id = std::process::id();
        let ns = Namespaces { sim: format!("dc-sim-{id}"), tester: format!("dc-tester-{id}") };
        // From here on, dropping `ns` deletes whatever was created.
        ip(&["netns", "add", &ns.sim])?;
        ip(&["netns", "add", &ns.tester])?;
        for name in [&ns.sim, &ns.tester] {
            // New interfaces skip duplicate address detection, so that their IPv6 link-local
            // address is usable at once (a tentative one cannot send to ff02::1).
            let sysctl = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    name,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.default.accept_dad=0",
                ])
                .status()
                .map_err(|e| format!("sysctl: {e}"))?;
            if !sysctl.success() {
                return Err(format!("sysctl accept_dad in {name} failed"));
            }
        }
        ip(&[
            "-n", &ns.sim, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
            "netns", &ns.tester,
        ])?;
        for (name, dev, addr) in [(&ns.sim, "veth0", SIM_IP), (&ns.tester, "veth1", TESTER_IP)] {
            ip(&["-n", name, "addr", "add", &format!("{addr}/24"), "brd", "+", "dev", dev])?;
            ip(&["-n", name, "link", "set", dev, "up"])?;
            ip(&["-n", name, "link", "set", "lo", "up"])?;
        }
        Ok(ns)
    }

    /// `doipcheck ARGS` inside namespace `name`.
    fn doipcheck(name: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", name, env!("CARGO_BIN_EXE_doipcheck")]).args(args);
        cmd
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        // Deleting a namespace removes its end of the veth pair, and with it the other end.
        for name in [&self.sim, &self.tester] {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// The namespaces, or `None` (with the reason printed) where they cannot be made; under CI
/// that is a failure, never a silent skip.
fn namespaces() -> Option<Namespaces> {
    match Namespaces::create() {
        Ok(ns) => Some(ns),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("network namespaces are needed for the broadcast test: {why}")
        }
        Err(why) => {
            eprintln!("client_netns: not run here: {why} (CI=true makes this a failure)");
            None
        }
    }
}

#[test]
fn discover_broadcasts_multicasts_and_hears_announcements_in_the_tests_own_namespaces() {
    let Some(ns) = namespaces() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The simulator's configuration with announcements to the tester (unicast, inside the
    // namespace pair), bound to every address of its namespace so that it hears broadcasts.
    let config = sim_config(dir.path());
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("  enabled: false", "  enabled: true")
        .replace("destination: 127.0.0.1:13400", &format!("destination: {TESTER_IP}:13400"));
    std::fs::write(&config, text).unwrap();

    // The tester listens first; then the simulator starts and announces.
    let listener = Namespaces::doipcheck(
        &ns.tester,
        &["discover", "--interface", "veth1", "--listen", "--timeout", "3s", "--json"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let config = config.to_str().unwrap();
    let sim = Sim::spawn(Namespaces::doipcheck(
        &ns.sim,
        &["sim", "--config", config, "--bind", "0.0.0.0", "--tls-port", "0"],
    ));
    let out = listener.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let sent = lines[0]["sent"].to_string();
    assert!(sent.contains(&format!("{BROADCAST}:13400")), "the interface's broadcast: {sent}");
    let entity = &lines[1];
    assert_eq!(entity["address"], format!("{SIM_IP}:13400"));
    assert!(entity["announcements"].as_u64().unwrap() >= 1, "{entity}");
    assert_eq!(entity["vin"], "WDOIPCHECK0000001");
    assert_eq!(entity["power_mode"]["name"], "ready", "asked after the announcement: {entity}");

    // With the simulator up: a directed broadcast to the namespace's subnet is answered.
    let out = Namespaces::doipcheck(
        &ns.tester,
        &["discover", "--broadcast", BROADCAST, "--timeout", "1s"],
    )
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains(&format!("sent Vehicle identification request to {BROADCAST}:13400")),
        "{text}"
    );
    let row = text.lines().find(|l| l.starts_with(SIM_IP)).unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("WDOIPCHECK0000001") && row.contains("0x01 ready"), "{row}");
    drop(sim);

    // IPv6: a simulator on every address of its namespace answers ff02::1 on the link.
    let quiet = sim_config(dir.path());
    let _sim = Sim::spawn(Namespaces::doipcheck(
        &ns.sim,
        &["sim", "--config", quiet.to_str().unwrap(), "--bind", "::", "--tls-port", "0"],
    ));
    let out = Namespaces::doipcheck(
        &ns.tester,
        &["discover", "--interface", "veth1", "--timeout", "1s", "--json"],
    )
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["send_errors"], serde_json::json!([]), "{text}");
    let over_v6 = lines[1..]
        .iter()
        .find(|e| e["address"].as_str().unwrap().starts_with("[fe80::"))
        .unwrap_or_else(|| panic!("no answer to ff02::1: {text}"));
    assert_eq!(over_v6["vin"], "WDOIPCHECK0000001", "{over_v6}");
    assert_eq!(over_v6["power_mode"]["name"], "ready", "status asked over IPv6: {over_v6}");
}
