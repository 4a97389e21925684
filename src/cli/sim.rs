//! `doipcheck sim`: the reference DoIP entity as its own process, bound to 127.0.0.1 unless the
//! configuration says otherwise, one log line per exchange on stdout, until Ctrl-C.

use super::exit;
use super::stdout::{self, Stdout};
use crate::sim::config::SimConfig;
use crate::sim::entity::{Peer, SimEvent};
use crate::sim::faults::{Fault, FaultSet};
use crate::transport::doip::sim_host::SimHost;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run the reference DoIP entity (simulator).
#[derive(Debug, Args)]
pub struct SimArgs {
    /// YAML configuration (see fixtures/sim/sim.yaml); defaults match ISO 13400-2.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Break one rule on purpose (repeatable); see --list-faults.
    #[arg(long = "fault", alias = "sim-fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Address to bind, overriding the configuration's `network.bind` (default 127.0.0.1).
    #[arg(short, long, value_name = "IP")]
    pub bind: Option<std::net::IpAddr>,
    /// TCP_DATA and UDP_DISCOVERY port, overriding the configuration (default 13400; 0 picks
    /// free ports, printed at start).
    #[arg(short, long, value_name = "PORT")]
    pub port: Option<u16>,
    /// TLS port, overriding the configuration (default 3496).
    #[arg(long, value_name = "PORT")]
    pub tls_port: Option<u16>,
    /// The CAN bus of the simulated ECUs, overriding the configuration's `can`
    /// (e.g. `cannelloni:20000@127.0.0.1:20001`).
    #[arg(long, value_name = "SPEC")]
    pub can: Option<String>,
    /// Print every fault with the rule it breaks, then exit.
    #[arg(long)]
    pub list_faults: bool,
}

pub fn run(args: SimArgs) -> ExitCode {
    if args.list_faults {
        return ExitCode::from(stdout::print(&fault_list(), exit::SUCCESS));
    }
    let mut config = match &args.config {
        None => SimConfig::default(),
        Some(path) => match crate::suite::load::load_sim_config(path) {
            Ok(config) => config,
            Err(errors) => {
                eprint!("{}", errors.render());
                return ExitCode::from(exit::USAGE);
            }
        },
    };
    if let Some(spec) = args.can {
        config.can = Some(spec);
    }
    if let Some(ip) = args.bind {
        config.network.bind = crate::sim::config::ConfigIpAddr(ip);
    }
    if let Some(port) = args.port {
        config.network.tcp_port = port;
        config.network.udp_port = port;
    }
    if let Some(port) = args.tls_port {
        config.network.tls_port = Some(port);
    }
    let faults = match FaultSet::from_names(&args.faults) {
        Ok(faults) => faults,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    runtime.block_on(serve(config, faults))
}

async fn serve(config: SimConfig, faults: FaultSet) -> ExitCode {
    // Listen for Ctrl-C before anything else, so a signal during start-up is not lost.
    let mut stop = match stop_signal() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("error: cannot listen for Ctrl-C: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    // The log goes to stdout from the simulator's tasks; its first write error (the reader
    // went away) stops the simulator like Ctrl-C, with the exit code of that error.
    let (failed_tx, mut failed) = tokio::sync::mpsc::unbounded_channel::<std::io::Error>();
    let mut log_out = Stdout::new();
    let log = Box::new(move |event: &SimEvent| {
        if failed_tx.is_closed() {
            return;
        }
        if let Err(e) = log_out.line(&log_line(event)) {
            let _ = failed_tx.send(e);
        }
    });
    let host = match SimHost::start_with_log(config.clone(), faults, log).await {
        Ok(host) => host,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let mut banner = format!(
        "doipcheck sim: entity 0x{:04X} VIN {} on TCP {} UDP {}{}\n",
        config.entity_address(),
        String::from_utf8_lossy(&config.vin.0),
        host.tcp_addr(),
        host.udp_addr(),
        host.tls_addr().map(|a| format!(" TLS {a}")).unwrap_or_default()
    );
    for ecu in &config.ecus {
        banner.push_str(&format!(
            "ECU {} 0x{:04X}: CAN request id 0x{:X}, response id 0x{:X} on {}\n",
            ecu.name,
            ecu.logical_address.value,
            ecu.request_id,
            ecu.response_id,
            config.can.as_deref().unwrap_or("a private in-process bus")
        ));
    }
    for fault in faults.iter() {
        banner.push_str(&format!("fault {}: breaks \"{}\"\n", fault.name(), fault.rule()));
    }
    banner.push_str("Ctrl-C stops");
    let mut out = Stdout::new();
    let code = match out.line(&banner) {
        Err(e) => stdout::write_failed(&e),
        Ok(()) => tokio::select! {
            _ = stop.recv() => exit::SUCCESS,
            Some(e) = failed.recv() => stdout::write_failed(&e),
        },
    };
    failed.close();
    host.shutdown().await;
    if code == exit::SUCCESS {
        return ExitCode::from(stdout::exit_code(out.line("stopped"), code));
    }
    ExitCode::from(code)
}

/// SIGINT (Ctrl-C), registered now rather than at the first poll.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
}

/// Ctrl-C where there are no unix signals.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<CtrlC> {
    Ok(CtrlC)
}

#[cfg(not(unix))]
struct CtrlC;

#[cfg(not(unix))]
impl CtrlC {
    async fn recv(&mut self) -> Option<()> {
        tokio::signal::ctrl_c().await.ok()
    }
}

/// `   12.345678s tcp#3  rx ... -> ...`
pub fn log_line(event: &SimEvent) -> String {
    let peer = match event.peer {
        Peer::Udp(addr) => format!("udp {addr}"),
        Peer::Tcp(conn) => format!("tcp#{conn}"),
        Peer::Entity => "entity".to_string(),
    };
    format!("{:>12.6}s {peer:<22} {}", event.at.since_epoch().as_secs_f64(), event.text)
}

/// The `--list-faults` text: one fault per line with the rule it breaks.
pub fn fault_list() -> String {
    let width = Fault::ALL.iter().map(|f| f.name().len()).max().unwrap_or(0);
    Fault::ALL.iter().map(|f| format!("{:<width$}  {}\n", f.name(), f.rule())).collect()
}
