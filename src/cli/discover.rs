//! `doipcheck discover`: which DoIP entities answer vehicle identification, with their
//! addresses, VIN/EID/GID, entity status and power mode, as a table or JSON lines (the logic is
//! `crate::client::discovery`). Broken answers are shown decoded with the rule they break, and
//! each rule of the judge (docs/rules.md) the answers broke is a `finding:` line.
//!
//! Exit 0 when an entity identified itself and broke no rule, 1 when none did or one broke a
//! rule (the output says what was sent where), 2 on usage errors.

use super::decode::{code_json, json_string, object};
use super::exit;
use super::received::{finding_json, finding_text, received_json, write_received};
use crate::client::discovery::{
    DiscoveredEntity, Discovery, DiscoverySettings, IdentificationRequest, discover,
};
use crate::codec::doip::{Eid, ProtocolVersion, Vin};
use crate::notation::{self, format_duration};
use crate::suite::load;
use clap::Args;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Send to the IPv4 broadcast address of this interface and to ff02::1 on it.
    #[arg(short, long, value_name = "IF", conflicts_with_all = ["broadcast", "target"])]
    pub interface: Option<String>,
    /// Send to this broadcast (or multicast) address, ADDR or ADDR:PORT.
    #[arg(short, long, value_name = "ADDR", conflicts_with = "target")]
    pub broadcast: Option<String>,
    /// Ask one entity by unicast, HOST or HOST:PORT.
    #[arg(short, long, value_name = "HOST[:PORT]")]
    pub target: Option<String>,
    /// How long to wait for answers (default: the profile's A_DoIP_Ctrl, 2s).
    #[arg(long, value_parser = notation::parse_duration)]
    pub timeout: Option<Duration>,
    /// Also collect vehicle announcements on the UDP_DISCOVERY port (ports.udp, 13400).
    #[arg(long)]
    pub listen: bool,
    /// Also send a vehicle identification request with this EID (12 hex digits).
    #[arg(long, value_name = "EID")]
    pub eid: Option<String>,
    /// Also send a vehicle identification request with this VIN (17 characters).
    #[arg(long, value_name = "VIN")]
    pub vin: Option<String>,
    /// Profile for ports, timers and protocol version (and its vin/eid for the requests with
    /// VIN and EID); default: the standard's values.
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// One JSON object per line: what was sent, then one per entity.
    #[arg(long)]
    pub json: bool,
}

/// Runs `doipcheck discover`; returns the exit code.
pub fn run(args: DiscoverArgs) -> u8 {
    let settings = match prepare(&args) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    let found = match runtime.block_on(discover(&settings)) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    let identified = found.entities.iter().any(|e| e.identification.is_some());
    let mut out = if args.json { json_lines(&settings, &found) } else { table(&settings, &found) };
    for f in &found.findings {
        out.push_str(&if args.json { finding_json(f) } else { finding_text(f) });
        out.push('\n');
    }
    let clean = identified && found.findings.is_empty();
    super::stdout::print(&out, if clean { exit::SUCCESS } else { exit::FAILURE })
}

fn prepare(args: &DiscoverArgs) -> Result<DiscoverySettings, String> {
    let profile = load::load_profile(args.profile.as_deref()).map_err(|e| e.render())?;
    let declared = profile.target();
    let port = declared.ports.udp;
    let destinations = if let Some(name) = &args.interface {
        interface_destinations(name, port)?
    } else if let Some(text) = &args.broadcast {
        vec![broadcast_destination(text, port)?]
    } else if let Some(text) = &args.target {
        let (ip, given) = super::run::parse_target(text)?;
        vec![SocketAddr::new(ip, given.unwrap_or(port))]
    } else {
        return Err("give --interface, --broadcast or --target".into());
    };
    let mut requests = vec![IdentificationRequest::Plain];
    let eid = match &args.eid {
        Some(text) => Some(parse_eid(text)?),
        None if args.profile.is_some() => Some(declared.identity.eid),
        None => None,
    };
    let vin = match &args.vin {
        Some(text) => Some(parse_vin(text)?),
        None if args.profile.is_some() => Some(parse_vin(&declared.identity.vin)?),
        None => None,
    };
    requests.extend(eid.map(IdentificationRequest::WithEid));
    requests.extend(vin.map(IdentificationRequest::WithVin));
    let timeout = match args.timeout {
        Some(t) => t,
        None => declared.timers.a_doip_ctrl,
    };
    Ok(DiscoverySettings {
        destinations,
        requests,
        request_version: ProtocolVersion::Default,
        protocol_version: ProtocolVersion::from_raw(declared.protocol_version),
        listen_port: args.listen.then_some(port),
        timeout,
    })
}

fn parse_eid(text: &str) -> Result<Eid, String> {
    let bytes = notation::parse_hex(text).map_err(|e| format!("--eid: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("--eid `{text}`: {} bytes, an EID has 6", b.len()))
}

fn parse_vin(text: &str) -> Result<Vin, String> {
    text.as_bytes()
        .try_into()
        .map_err(|_| format!("VIN `{text}`: {} characters, a VIN has 17", text.chars().count()))
}

/// `ADDR` or `ADDR:PORT`; IPv6 as `ff02::1%IFINDEX` or `[ff02::1%IFINDEX]:PORT`.
fn broadcast_destination(text: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    if let Ok(addr) = format!("[{text}]:{port}").parse::<SocketAddr>() {
        return Ok(addr);
    }
    Err(format!("--broadcast `{text}`: not an address (e.g. 192.168.0.255 or ff02::1%2)"))
}

/// The interface's IPv4 broadcast address (from `ip -o -4 addr show dev IF`) and ff02::1 on
/// it (ISO 13400-2:2019 §9.2 allows either; IPv6 entities listen on the all-nodes group).
fn interface_destinations(name: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let index: u32 = std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| format!("--interface `{name}`: no such network interface"))?;
    let mut out = Vec::new();
    let shown = std::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show", "dev", name])
        .output()
        .map_err(|e| format!("--interface `{name}`: cannot run `ip` to read its address: {e}"))?;
    let text = String::from_utf8_lossy(&shown.stdout);
    out.extend(
        text.split_whitespace()
            .skip_while(|w| *w != "brd")
            .nth(1)
            .and_then(|b| b.parse::<IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, port)),
    );
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    out.push(SocketAddr::V6(SocketAddrV6::new(all_nodes, port, 0, index)));
    Ok(out)
}

fn sent_text(found: &Discovery) -> String {
    let mut out = String::new();
    for (to, what) in &found.sent {
        let _ = writeln!(out, "sent {what} to {to}");
    }
    for e in &found.send_errors {
        let _ = writeln!(out, "could not send: {e}");
    }
    out
}

fn table(settings: &DiscoverySettings, found: &Discovery) -> String {
    let mut out = sent_text(found);
    let _ = writeln!(
        out,
        "waited {}{}",
        format_duration(settings.timeout),
        settings
            .listen_port
            .map(|p| format!(", listening for announcements on UDP port {p}"))
            .unwrap_or_default()
    );
    if found.entities.is_empty() {
        out.push_str("nothing found: no entity answered\n");
        return out;
    }
    let header = [
        "address",
        "logical",
        "VIN",
        "EID",
        "GID",
        "further action",
        "sync",
        "node type",
        "MCTS/NCTS/MDS",
        "power mode",
        "version",
    ];
    let rows: Vec<[String; 11]> = found.entities.iter().map(row).collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (cell, w) in cells.iter().zip(widths) {
            let _ = write!(l, "{cell:<w$}  ");
        }
        l.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(header.to_vec()));
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    for entity in &found.entities {
        let remarkable = entity.received.iter().any(|r| r.note.is_some() || r.message.is_err());
        if remarkable || entity.identification.is_none() {
            let _ = writeln!(out, "from {}:", entity.address);
            entity.received.iter().for_each(|r| write_received(&mut out, r));
        }
        if entity.dropped > 0 {
            let _ = writeln!(
                out,
                "  ({} more datagrams from {} not shown)",
                entity.dropped, entity.address
            );
        }
    }
    if found.ignored_sources > 0 {
        let _ = writeln!(out, "{} datagrams from further sources ignored", found.ignored_sources);
    }
    if !found.entities.iter().any(|e| e.identification.is_some()) {
        out.push_str("nothing found: no valid vehicle identification response\n");
    }
    out
}

fn row(e: &DiscoveredEntity) -> [String; 11] {
    let absent = || "-".to_owned();
    let id = e.identification.as_ref();
    let code = |raw: u8, name: Option<&str>| format!("0x{raw:02X} {}", name.unwrap_or("unknown"));
    [
        e.address.to_string(),
        id.map_or_else(absent, |i| format!("0x{:04X}", i.logical_address)),
        id.map_or_else(absent, |i| printable_vin(&i.vin)),
        id.map_or_else(absent, |i| colon_hex(&i.eid)),
        id.map_or_else(absent, |i| colon_hex(&i.gid)),
        id.map_or_else(absent, |i| code(i.further_action.raw(), i.further_action.id())),
        id.and_then(|i| i.sync_status).map_or_else(absent, |s| code(s.raw(), s.id())),
        e.status.map_or_else(absent, |s| code(s.node_type.raw(), s.node_type.id())),
        e.status.map_or_else(absent, |s| {
            let mds = s.max_data_size.map_or_else(|| "absent".to_owned(), |m| m.to_string());
            format!("{}/{}/{mds}", s.max_concurrent_sockets, s.currently_open_sockets)
        }),
        e.power_mode.map_or_else(absent, |p| code(p.power_mode.raw(), p.power_mode.id())),
        e.protocol_version.map_or_else(absent, |v| format!("0x{:02X}", v.raw())),
    ]
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The VIN as text when it is printable ASCII, else as hex.
fn printable_vin(vin: &Vin) -> String {
    if vin.iter().all(u8::is_ascii_graphic) {
        String::from_utf8_lossy(vin).into_owned()
    } else {
        format!("{} (hex)", hex::encode_upper(vin))
    }
}

fn json_lines(settings: &DiscoverySettings, found: &Discovery) -> String {
    let sent: Vec<String> = found
        .sent
        .iter()
        .map(|(to, what)| {
            object(&[("to", json_string(&to.to_string())), ("message", json_string(what))])
        })
        .collect();
    let errors: Vec<String> = found.send_errors.iter().map(|e| json_string(e)).collect();
    let mut out = object(&[
        ("event", json_string("sent")),
        ("sent", format!("[{}]", sent.join(","))),
        ("send_errors", format!("[{}]", errors.join(","))),
        ("timeout_ms", settings.timeout.as_millis().to_string()),
        ("listen_port", settings.listen_port.map_or("null".into(), |p| p.to_string())),
    ]);
    out.push('\n');
    for e in &found.entities {
        out.push_str(&entity_json(e));
        out.push('\n');
    }
    out
}

fn entity_json(e: &DiscoveredEntity) -> String {
    let null = || "null".to_owned();
    let id = e.identification.as_ref();
    let received: Vec<String> = e.received.iter().map(received_json).collect();
    object(&[
        ("event", json_string("entity")),
        ("address", json_string(&e.address.to_string())),
        ("logical_address", id.map_or_else(null, |i| i.logical_address.to_string())),
        ("vin", id.map_or_else(null, |i| json_string(&printable_vin(&i.vin)))),
        ("eid", id.map_or_else(null, |i| json_string(&hex::encode(i.eid)))),
        ("gid", id.map_or_else(null, |i| json_string(&hex::encode(i.gid)))),
        (
            "further_action",
            id.map_or_else(null, |i| {
                code_json(i.further_action.raw().into(), i.further_action.id())
            }),
        ),
        (
            "sync_status",
            id.and_then(|i| i.sync_status).map_or_else(null, |s| code_json(s.raw().into(), s.id())),
        ),
        (
            "node_type",
            e.status.map_or_else(null, |s| code_json(s.node_type.raw().into(), s.node_type.id())),
        ),
        ("mcts", e.status.map_or_else(null, |s| s.max_concurrent_sockets.to_string())),
        ("ncts", e.status.map_or_else(null, |s| s.currently_open_sockets.to_string())),
        ("mds", e.status.and_then(|s| s.max_data_size).map_or_else(null, |m| m.to_string())),
        (
            "power_mode",
            e.power_mode
                .map_or_else(null, |p| code_json(p.power_mode.raw().into(), p.power_mode.id())),
        ),
        ("protocol_version", e.protocol_version.map_or_else(null, |v| v.raw().to_string())),
        ("announcements", e.announcements.to_string()),
        ("received", format!("[{}]", received.join(","))),
        ("dropped", e.dropped.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_addresses_take_a_port_or_the_default() {
        assert_eq!(
            broadcast_destination("10.0.0.255", 13400),
            Ok("10.0.0.255:13400".parse().unwrap())
        );
        assert_eq!(
            broadcast_destination("10.0.0.255:13401", 13400),
            Ok("10.0.0.255:13401".parse().unwrap())
        );
        let v6 = broadcast_destination("ff02::1%3", 13400).unwrap();
        assert_eq!(v6, SocketAddr::V6(SocketAddrV6::new("ff02::1".parse().unwrap(), 13400, 0, 3)));
        assert!(broadcast_destination("nowhere", 13400).unwrap_err().contains("not an address"));
    }

    #[test]
    fn eid_and_vin_are_checked_for_their_length() {
        assert_eq!(parse_eid("00:1A:2B:3C:4D:5E"), Ok([0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E]));
        assert!(parse_eid("00 1A").unwrap_err().contains("2 bytes, an EID has 6"));
        assert_eq!(parse_vin("WDOIPCHECK0000001").map(|v| v.len()), Ok(17));
        assert!(parse_vin("SHORT").unwrap_err().contains("5 characters"));
    }

    #[test]
    fn an_unprintable_vin_is_shown_as_hex() {
        let mut vin = *b"WDOIPCHECK0000001";
        assert_eq!(printable_vin(&vin), "WDOIPCHECK0000001");
        vin[0] = 0x1B;
        assert!(printable_vin(&vin).ends_with("(hex)"));
    }
}
