//! Opening a tester connection. Only a connection nobody accepts is an error ([`NotThere`]):
//! refused, unreachable, or no answer within the bound. Once the entity accepted, whatever it
//! does (a reset at once, a close, a TLS handshake that fails or stays silent) is its
//! behaviour: the connection comes back with that [`Fate`], and the reads and writes that
//! need it say what the entity did.

use super::record::{Change, Recording};
use super::tap::{SessionKeys, SharedWireLog, Tap};
use super::words::{accepted_then_ended, entity_io_error};
use super::{Fate, Link, Stream, TesterConnection, TlsTap};
use crate::notation::format_duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Nobody accepted the connection: the target is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotThere(pub String);

impl std::fmt::Display for NotThere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Opens a connection to `addr` within `timeout`; TLS when `tls` is given (ISO 13400-2:2019
/// §9.1.1, port 3496; [`super::tls::client_config`]).
pub async fn connect<R: Recording>(
    addr: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    rec: &mut R,
) -> Result<TesterConnection, NotThere> {
    let deadline = Instant::now() + timeout;
    let tcp = match timeout_at(deadline, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) if accepted_then_ended(&e) => {
            let link = Link { tls: tls.is_some(), local: unknown_local(addr), peer: addr };
            let error = match e.kind() {
                std::io::ErrorKind::ConnectionReset => {
                    "the entity reset the connection right after accepting it (RST)".to_owned()
                }
                _ => format!("the entity ended the connection right after accepting it: {e}"),
            };
            return Ok(TesterConnection::ended(link, error, rec));
        }
        Ok(Err(e)) => return Err(NotThere(format!("cannot connect to {addr}: {e}"))),
        Err(_) => {
            return Err(NotThere(format!(
                "cannot connect to {addr}: no answer within {}",
                format_duration(timeout)
            )));
        }
    };
    let _ = tcp.set_nodelay(true);
    let local = tcp.local_addr().unwrap_or_else(|_| unknown_local(addr));
    let link = Link { tls: tls.is_some(), local, peer: addr };
    let Some(config) = tls else {
        return Ok(TesterConnection::opened(Stream::Tcp(tcp), link, rec));
    };
    // The TCP connection is open from here; the TLS handshake's records follow it on the wire.
    let opened_at = Instant::now();
    let (config, wire, keys) = tapped(config, R::TAPS_TLS);
    let connector = tokio_rustls::TlsConnector::from(config);
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let handshake =
        timeout_at(deadline, connector.connect(name, Tap::new(tcp, wire.clone())).into_fallible())
            .await;
    let tap = TlsTap { wire, keys };
    let ended = |error: String| Fate::Reset { at: Instant::now(), error };
    let (stream, fate) = match handshake {
        Ok(Ok(s)) => (Stream::Tls(Box::new(s)), Fate::Open),
        Ok(Err((e, _))) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            (Stream::Gone, Fate::ClosedByEntity { at: Instant::now() })
        }
        Ok(Err((e, _))) if accepted_then_ended(&e) => {
            (Stream::Gone, ended(format!("{} during the TLS handshake", entity_io_error(&e))))
        }
        Ok(Err((e, _))) => {
            (Stream::Gone, ended(format!("the TLS handshake with the entity failed: {e}")))
        }
        Err(_) => (
            Stream::Gone,
            ended(format!(
                "the entity accepted the connection but did not complete the TLS handshake within {}",
                format_duration(timeout)
            )),
        ),
    };
    let mut c = TesterConnection::opened_at(stream, link, opened_at, Some(tap), rec);
    // The handshake's records and secrets come before what became of it.
    c.hand_over_tls(rec);
    let change = match &fate {
        Fate::Open => return Ok(c),
        Fate::ClosedByEntity { at } => (Change::ClosedByEntity, *at),
        Fate::Reset { at, .. } => (Change::Reset, *at),
        Fate::ClosedByUs => (Change::ClosedByUs, Instant::now()),
    };
    c.fate = fate;
    rec.changed(&c.link, change.1, change.0);
    Ok(c)
}

/// `config` with this connection's own key log when the recording taps TLS, and the tap's log.
fn tapped(
    config: Arc<rustls::ClientConfig>,
    on: bool,
) -> (Arc<rustls::ClientConfig>, Option<SharedWireLog>, Option<Arc<SessionKeys>>) {
    if !on {
        return (config, None, None);
    }
    let keys = Arc::new(SessionKeys::new(config.key_log.clone()));
    let mut own = (*config).clone();
    own.key_log = keys.clone();
    (Arc::new(own), Some(SharedWireLog::default()), Some(keys))
}

/// The local end of a connection whose socket the OS did not hand over.
fn unknown_local(peer: SocketAddr) -> SocketAddr {
    let ip = match peer.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}
