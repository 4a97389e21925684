//! The one CAN transport spec string every command takes (`--can SPEC`).
//!
//! ```text
//! spec       = memory | cannelloni | socketcan
//! memory     = "memory:" NAME [ "?" options ]              memory:bench
//! cannelloni = "cannelloni:" LOCAL "@" REMOTE [ "?" options ]
//!              LOCAL  = PORT | IPV4:PORT | [IPV6]:PORT      cannelloni:20001@127.0.0.1:20000
//!              REMOTE = IPV4:PORT | [IPV6]:PORT | localhost:PORT
//! socketcan  = "socketcan:" IFACE [ "?" options ]          socketcan:can0
//! options    = option *( "&" option )
//! option     = "echo"            deliver this node's own frames back as transmit confirmations
//!            | "queue=" N        receive queue bound in frames (1..=1048576, default 4096)
//!            | "batch=" DURATION cannelloni only: gather frames for up to DURATION into one
//!                                datagram (e.g. 2ms, 500us; default off: a datagram per frame)
//! ```
//! DURATION is the one duration grammar of `crate::notation` (`2ms`, `0.5ms`, `500us`, `0`).
//! NAME is letters, digits, `_`, `-` and `.`. A memory bus is shared by every node of this
//! process that names it. cannelloni is point to point, like the tool: each side names the
//! other (`cannelloni:20001@127.0.0.1:20000` here, `cannelloni:20000@127.0.0.1:20001` there).
//! A bare local PORT binds the loopback address when REMOTE is loopback, else all addresses of
//! REMOTE's family; port 0 binds any free port (the peer must then learn it some other way).

use crate::notation;
use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// The grammar in one line, repeated in every error so the fix is on screen.
pub const SPEC_FORMS: &str = "expected memory:NAME, cannelloni:LOCAL_PORT@HOST:PORT or \
socketcan:IFACE, optionally followed by ?echo, ?queue=N or (cannelloni) ?batch=2ms, joined by &";

/// Default bound of a node's receive queue, in frames.
pub const DEFAULT_QUEUE: usize = 4096;
/// The largest receive queue a spec may ask for.
pub const MAX_QUEUE: usize = 1 << 20;

/// Options every transport takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeOptions {
    /// Deliver this node's own frames back, marked as echoes (transmit confirmation).
    pub echo: bool,
    /// Receive queue bound in frames; frames beyond it are dropped and counted.
    pub queue: usize,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions { echo: false, queue: DEFAULT_QUEUE }
    }
}

/// A parsed transport spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanSpec {
    Memory {
        name: String,
        options: NodeOptions,
    },
    Cannelloni {
        local: SocketAddr,
        remote: SocketAddr,
        batch: Option<Duration>,
        options: NodeOptions,
    },
    SocketCan {
        interface: String,
        options: NodeOptions,
    },
}

impl CanSpec {
    pub fn options(&self) -> NodeOptions {
        match self {
            CanSpec::Memory { options, .. }
            | CanSpec::Cannelloni { options, .. }
            | CanSpec::SocketCan { options, .. } => *options,
        }
    }
}

/// What is wrong with a spec string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("invalid CAN transport `{input}`: {problem}; {SPEC_FORMS}")]
    Invalid { input: String, problem: String },
    #[error(
        "socketcan transports need doipcheck built with `--features socketcan` (Linux only); \
         use memory:NAME or cannelloni:LOCAL_PORT@HOST:PORT here"
    )]
    SocketCanDisabled,
}

impl FromStr for CanSpec {
    type Err = SpecError;

    fn from_str(input: &str) -> Result<Self, SpecError> {
        let fail = |problem: String| SpecError::Invalid { input: input.to_string(), problem };
        let Some((scheme, rest)) = input.split_once(':') else {
            return Err(fail("no transport kind before a `:`".into()));
        };
        let (target, query) = match rest.split_once('?') {
            Some((t, q)) => (t, Some(q)),
            None => (rest, None),
        };
        let (options, batch) = parse_options(query).map_err(fail)?;
        match scheme {
            "memory" => {
                check_name(target, "bus name").map_err(fail)?;
                no_batch(batch, "memory").map_err(fail)?;
                Ok(CanSpec::Memory { name: target.to_string(), options })
            }
            "socketcan" => {
                check_name(target, "interface name").map_err(fail)?;
                // Linux interface names are at most IFNAMSIZ - 1 = 15 bytes.
                if target.len() > 15 {
                    return Err(fail(format!("interface name `{target}` is longer than 15 bytes")));
                }
                no_batch(batch, "socketcan").map_err(fail)?;
                Ok(CanSpec::SocketCan { interface: target.to_string(), options })
            }
            "cannelloni" => {
                let Some((local, remote)) = target.split_once('@') else {
                    return Err(fail(format!(
                        "`{target}` lacks the `@` between the local port and the remote HOST:PORT"
                    )));
                };
                let remote = parse_remote(remote).map_err(fail)?;
                let local = parse_local(local, remote).map_err(fail)?;
                if local.is_ipv4() != remote.is_ipv4() {
                    return Err(fail(format!(
                        "local {local} and remote {remote} are of different IP families"
                    )));
                }
                Ok(CanSpec::Cannelloni { local, remote, batch, options })
            }
            other => Err(fail(format!("unknown transport kind `{other}`"))),
        }
    }
}

impl fmt::Display for CanSpec {
    /// The canonical spec string: parsing it gives the same spec.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (options, batch) = match self {
            CanSpec::Memory { name, options } => {
                write!(f, "memory:{name}")?;
                (options, None)
            }
            CanSpec::Cannelloni { local, remote, batch, options } => {
                write!(f, "cannelloni:{local}@{remote}")?;
                (options, *batch)
            }
            CanSpec::SocketCan { interface, options } => {
                write!(f, "socketcan:{interface}")?;
                (options, None)
            }
        };
        let mut sep = '?';
        let mut next = |f: &mut fmt::Formatter<'_>| {
            let s = sep;
            sep = '&';
            write!(f, "{s}")
        };
        if options.echo {
            next(f)?;
            write!(f, "echo")?;
        }
        if options.queue != DEFAULT_QUEUE {
            next(f)?;
            write!(f, "queue={}", options.queue)?;
        }
        if let Some(b) = batch {
            next(f)?;
            write!(f, "batch={}", notation::format_duration(b))?;
        }
        Ok(())
    }
}

fn check_name(name: &str, what: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "_-.".contains(*c))) {
        return Err(format!(
            "the {what} `{name}` contains `{c}` (allowed: letters, digits, _ - .)"
        ));
    }
    Ok(())
}

fn no_batch(batch: Option<Duration>, kind: &str) -> Result<(), String> {
    match batch {
        Some(_) => Err(format!("`batch` applies to cannelloni only, not to {kind}")),
        None => Ok(()),
    }
}

fn parse_options(query: Option<&str>) -> Result<(NodeOptions, Option<Duration>), String> {
    let mut options = NodeOptions::default();
    let mut batch = None;
    let Some(query) = query else { return Ok((options, batch)) };
    for item in query.split('&') {
        let (key, value) = match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        };
        match (key, value) {
            ("echo", None) => options.echo = true,
            ("queue", Some(v)) => {
                options.queue = match v.parse::<usize>() {
                    Ok(n) if (1..=MAX_QUEUE).contains(&n) => n,
                    _ => {
                        return Err(format!("queue=`{v}` is not a frame count in 1..={MAX_QUEUE}"));
                    }
                }
            }
            ("batch", Some(v)) => {
                let d = notation::parse_duration(v)
                    .map_err(|e| format!("batch=`{v}`: {e} (0 turns batching off)"))?;
                if d > Duration::from_secs(1) {
                    return Err(format!("batch={v} is above the 1s limit"));
                }
                batch = (!d.is_zero()).then_some(d);
            }
            ("echo", Some(_)) => return Err("`echo` takes no value".into()),
            ("queue" | "batch", None) => return Err(format!("`{key}` needs a value: {key}=...")),
            _ => {
                return Err(format!(
                    "unknown option `{item}` (known: echo, queue=N, batch=DURATION)"
                ));
            }
        }
    }
    Ok((options, batch))
}

fn parse_remote(s: &str) -> Result<SocketAddr, String> {
    let addr = if let Some(port) = s.strip_prefix("localhost:") {
        port.parse::<u16>().ok().map(|p| SocketAddr::from((Ipv4Addr::LOCALHOST, p)))
    } else {
        s.parse::<SocketAddr>().ok()
    };
    match addr {
        Some(a) if a.port() == 0 => Err(format!("remote `{s}` has port 0")),
        Some(a) if a.ip().is_unspecified() || is_broadcast(a.ip()) || a.ip().is_multicast() => {
            Err(format!("remote `{s}` is not a unicast address"))
        }
        Some(a) => Ok(a),
        None => Err(format!(
            "remote `{s}` is not HOST:PORT with an IP address (IPv6 in brackets: [::1]:20000)"
        )),
    }
}

fn is_broadcast(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

fn parse_local(s: &str, remote: SocketAddr) -> Result<SocketAddr, String> {
    if let Ok(port) = s.parse::<u16>() {
        // Stay on loopback when the peer is on loopback: nothing else can then reach the port.
        let ip = match (remote.ip().is_loopback(), remote.is_ipv4()) {
            (true, true) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            (true, false) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            (false, true) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (false, false) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        return Ok(SocketAddr::new(ip, port));
    }
    s.parse::<SocketAddr>().map_err(|_| {
        format!("local `{s}` is neither a port (0-65535) nor IP:PORT (IPv6 in brackets)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> CanSpec {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn problem(s: &str) -> String {
        match s.parse::<CanSpec>().unwrap_err() {
            SpecError::Invalid { problem, .. } => problem,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn memory_spec_with_options() {
        assert_eq!(
            parse("memory:bench-1?echo&queue=16"),
            CanSpec::Memory {
                name: "bench-1".into(),
                options: NodeOptions { echo: true, queue: 16 }
            }
        );
    }

    #[test]
    fn cannelloni_bare_local_port_binds_loopback_for_a_loopback_remote() {
        let CanSpec::Cannelloni { local, remote, batch, .. } =
            parse("cannelloni:20001@127.0.0.1:20000?batch=2ms")
        else {
            panic!()
        };
        assert_eq!(local, "127.0.0.1:20001".parse().unwrap());
        assert_eq!(remote, "127.0.0.1:20000".parse().unwrap());
        assert_eq!(batch, Some(Duration::from_millis(2)));
        let CanSpec::Cannelloni { local, .. } = parse("cannelloni:0@[::1]:20000") else { panic!() };
        assert_eq!(local, "[::1]:0".parse().unwrap());
        let CanSpec::Cannelloni { local, .. } = parse("cannelloni:5@192.0.2.1:20000") else {
            panic!()
        };
        assert_eq!(local, "0.0.0.0:5".parse().unwrap());
    }

    #[test]
    fn cannelloni_explicit_local_address_and_localhost() {
        let CanSpec::Cannelloni { local, remote, batch, .. } =
            parse("cannelloni:127.0.0.2:7@localhost:9?batch=0")
        else {
            panic!()
        };
        assert_eq!(
            (local.to_string(), remote.to_string(), batch),
            ("127.0.0.2:7".into(), "127.0.0.1:9".into(), None)
        );
    }

    #[test]
    fn socketcan_spec() {
        assert_eq!(
            parse("socketcan:can0"),
            CanSpec::SocketCan { interface: "can0".into(), options: NodeOptions::default() }
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "memory:x",
            "memory:x?echo&queue=7",
            "cannelloni:127.0.0.1:1@127.0.0.1:2?batch=1500us",
            "cannelloni:127.0.0.1:1@127.0.0.1:2?batch=2ms",
            "cannelloni:[::1]:1@[::1]:2?echo",
            "socketcan:vcan0?queue=9",
        ] {
            let spec = parse(s);
            assert_eq!(spec.to_string(), s);
            assert_eq!(parse(&spec.to_string()), spec);
        }
    }

    #[test]
    fn errors_name_what_is_wrong_and_show_the_forms() {
        let e = "can0".parse::<CanSpec>().unwrap_err().to_string();
        assert!(e.contains("no transport kind") && e.contains(SPEC_FORMS), "{e}");
        assert_eq!(problem("udp:x"), "unknown transport kind `udp`");
        assert_eq!(problem("memory:"), "the bus name is empty");
        assert!(problem("memory:a/b").contains("contains `/`"));
        assert!(problem("cannelloni:127.0.0.1:20000").contains("lacks the `@`"));
        assert!(problem("cannelloni:1@127.0.0.1").contains("not HOST:PORT"));
        assert!(problem("cannelloni:1@127.0.0.1:0").contains("port 0"));
        assert!(problem("cannelloni:1@255.255.255.255:5").contains("not a unicast"));
        assert!(problem("cannelloni:x@127.0.0.1:5").contains("local `x`"));
        assert!(problem("cannelloni:127.0.0.1:1@[::1]:5").contains("different IP families"));
        assert!(problem("memory:a?batch=1ms").contains("cannelloni only"));
        assert!(problem("memory:a?queue=0").contains("queue=`0`"));
        assert!(problem("memory:a?queue").contains("needs a value"));
        assert!(problem("memory:a?echo=1").contains("no value"));
        assert!(problem("memory:a?loud").contains("unknown option `loud`"));
        assert!(problem("cannelloni:1@127.0.0.1:2?batch=3d").contains("batch=`3d`"));
        assert!(problem("cannelloni:1@127.0.0.1:2?batch=3h").contains("1s limit"));
        assert!(problem("cannelloni:1@127.0.0.1:2?batch=2s").contains("1s limit"));
        assert!(problem("socketcan:averyveryverylongname").contains("15 bytes"));
    }
}
