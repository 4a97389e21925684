//! The simulator's tokio host: binds the TCP_DATA, TLS and UDP_DISCOVERY sockets (127.0.0.1 by
//! default, any port 0 becomes an ephemeral port), and drives one pure
//! [`Entity`] with what arrives (and CAN frames of its ECUs) and the monotonic clock.
//!
//! ```text
//!  accept tasks ──Accepted──► actor (the UDP socket, the CAN transport, the timer)
//!                               │ locks ▼ between awaits; woken by connections when needed
//!  connection tasks ── read ──► Core (the Entity, each connection's write queue)
//!  connection tasks ◄─ their own answers at once; bytes from elsewhere via their queue
//! ```
//!
//! A round trip on one connection costs its task one read and one write system call and no
//! allocation (connection.rs); benches/sim_roundtrip.rs measures it.
//!
//! For the runner, one instance per job:
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use doipcheck::sim::{config::SimConfig, faults::FaultSet};
//! use doipcheck::transport::doip::sim_host::SimHost;
//! let faults = FaultSet::from_names(&["no_close_on_bad_pattern"])?;
//! let host = SimHost::start(SimConfig::ephemeral(), faults).await?;
//! let (tcp, udp, tls) = (host.tcp_addr(), host.udp_addr(), host.tls_addr());
//! // ... run the case against 127.0.0.1 ports tcp / udp / tls ...
//! host.shutdown().await;
//! # Ok(()) }
//! ```

use super::tls::{self, TlsError};
use crate::proto::time::Instant;
use crate::sim::config::SimConfig;
use crate::sim::entity::{ConnId, Entity, Output, SimEvent};
use crate::sim::faults::FaultSet;
use crate::transport::can::memory::MemoryBus;
use crate::transport::can::{
    CanSpec, CanTransport, CanTransportError, NodeOptions, Origin, Received,
};
use crate::transport::timer::PreciseTimer;
use connection::{Core, Shared, run_connection};
pub use lateness::LateLog;
use rustls::pki_types::CertificateDer;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// Called with each log line of the entity (one per exchange), on the host's task.
pub type LogSink = Box<dyn FnMut(&SimEvent) + Send>;

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot bind {what} on {addr}: {source}")]
    Bind { what: &'static str, addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot start the simulator's timer thread: {0}")]
    Timer(std::io::Error),
    #[error("CAN bus `{spec}`: {source}")]
    Can { spec: String, source: CanTransportError },
}

mod connection;
mod lateness;

/// Writes queued for one connection before the host gives up on a peer that does not read.
const WRITE_QUEUE: usize = 256;
/// Accepted connections queued for the actor (the accept task waits when it is full).
const ACCEPT_QUEUE: usize = 64;
/// Longest wait for the UDP socket to take a datagram before it is dropped.
const UDP_SEND_WAIT: Duration = Duration::from_millis(20);
/// Longest TLS handshake the host waits for.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connection accepted (and its TLS handshake done), for the actor.
struct Accepted {
    conn: ConnId,
    tls: bool,
    stream: Box<dyn Stream>,
}

/// A request to a running host from outside its task.
enum Control {
    /// Power cycle: see [`SimControl::power_cycle`].
    PowerCycle { announce_to: SocketAddr, done: oneshot::Sender<()> },
}

/// A handle that restarts a running host's entity (a power cycle), for the runner's
/// `power_cycle` step. Cloning it is cheap; handles of the same host compare equal.
#[derive(Clone)]
pub struct SimControl {
    tx: mpsc::UnboundedSender<Control>,
    late: Arc<LateLog>,
}

impl SimControl {
    /// Restarts the entity as after a power cycle (ISO 13400-2:2019 §9.2: its IP address
    /// becomes usable again): every TCP connection is closed, all state is fresh, and the new
    /// entity sends its A_DoIP_Announce_Num vehicle announcements to `announce_to` (a loopback
    /// address: the simulator never broadcasts) after its A_DoIP_Announce_Wait. Returns once
    /// the new entity runs; an error when the host has stopped.
    pub async fn power_cycle(&self, announce_to: SocketAddr) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Control::PowerCycle { announce_to, done })
            .map_err(|_| "the simulator has stopped".to_string())?;
        wait.await.map_err(|_| "the simulator stopped during the power cycle".to_string())
    }

    /// The most this simulator was late with a timed send (an announcement, a paced frame)
    /// that went out between `from` and `to`, when later than its timer's precision
    /// ([`LateLog`]).
    pub fn late_between(
        &self,
        from: tokio::time::Instant,
        to: tokio::time::Instant,
    ) -> Option<Duration> {
        self.late.late_between(from, to)
    }

    /// A handle of no running host whose lateness is `late` (unit tests of the runner).
    #[cfg(test)]
    pub(crate) fn with_late_log(late: Arc<LateLog>) -> SimControl {
        SimControl { tx: mpsc::unbounded_channel().0, late }
    }
}

impl core::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SimControl")
    }
}

impl PartialEq for SimControl {
    fn eq(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

impl Eq for SimControl {}

/// A running simulator.
pub struct SimHost {
    tcp_addr: SocketAddr,
    udp_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    tls_certificate: Option<CertificateDer<'static>>,
    can_bus: Option<MemoryBus>,
    control: SimControl,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimHost {
    /// Binds the sockets of `config.network` and starts the entity with `faults`.
    pub async fn start(config: SimConfig, faults: FaultSet) -> Result<SimHost, HostError> {
        Self::start_inner(config, faults, None).await
    }

    /// [`SimHost::start`] with every log line of the entity passed to `log`.
    pub async fn start_with_log(
        config: SimConfig,
        faults: FaultSet,
        log: LogSink,
    ) -> Result<SimHost, HostError> {
        Self::start_inner(config, faults, Some(log)).await
    }

    /// The TCP_DATA address.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The UDP_DISCOVERY address.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The TLS TCP_DATA address, when TLS is configured.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// The certificate the TLS port presents (self-signed unless configured).
    pub fn tls_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.tls_certificate.as_ref()
    }

    /// The private in-process CAN bus of the simulated ECUs (when the configuration names no
    /// `can` spec and has ECUs): join it with `bus.node(..)` to reach them over ISO-TP.
    pub fn can_bus(&self) -> Option<&MemoryBus> {
        self.can_bus.as_ref()
    }

    /// A handle that power-cycles this host's entity.
    pub fn control(&self) -> SimControl {
        self.control.clone()
    }

    /// Stops accepting, closes every connection and waits for the host's tasks.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    async fn start_inner(
        config: SimConfig,
        faults: FaultSet,
        log: Option<LogSink>,
    ) -> Result<SimHost, HostError> {
        let ip = config.network.bind.0;
        let bind_tcp = |what, port| async move {
            let addr = SocketAddr::new(ip, port);
            TcpListener::bind(addr).await.map_err(|source| HostError::Bind { what, addr, source })
        };
        let tcp = bind_tcp("TCP_DATA", config.network.tcp_port).await?;
        let udp_bind = SocketAddr::new(ip, config.network.udp_port);
        let udp = UdpSocket::bind(udp_bind).await.map_err(|source| HostError::Bind {
            what: "UDP_DISCOVERY",
            addr: udp_bind,
            source,
        })?;
        let tls = match config.network.tls_port {
            Some(port) => {
                let server = tls::server(
                    config.network.tls_certificate.as_deref(),
                    config.network.tls_private_key.as_deref(),
                )?;
                Some((bind_tcp("TLS TCP_DATA", port).await?, server))
            }
            None => None,
        };
        let local = |l: &TcpListener, what| {
            l.local_addr().map_err(|source| HostError::Bind {
                what,
                addr: SocketAddr::new(ip, 0),
                source,
            })
        };
        let tcp_addr = local(&tcp, "TCP_DATA")?;
        let udp_addr = udp.local_addr().map_err(|source| HostError::Bind {
            what: "UDP_DISCOVERY",
            addr: udp_bind,
            source,
        })?;
        let tls_addr = match &tls {
            Some((l, _)) => Some(local(l, "TLS TCP_DATA")?),
            None => None,
        };
        let tls_certificate = tls.as_ref().map(|(_, s)| s.certificate.clone());
        let (can, can_bus) = open_can(&config).await?;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let (events_tx, events_rx) = mpsc::channel(ACCEPT_QUEUE);
        let next_conn = Arc::new(AtomicU64::new(1));
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(accept(
            tcp,
            None,
            events_tx.clone(),
            next_conn.clone(),
            shutdown_rx.clone(),
        )));
        if let Some((listener, server)) = tls {
            let acceptor = tokio_rustls::TlsAcceptor::from(server.config);
            tasks.push(tokio::spawn(accept(
                listener,
                Some(acceptor),
                events_tx.clone(),
                next_conn,
                shutdown_rx.clone(),
            )));
        }
        let epoch = tokio::time::Instant::now();
        let mut entity = Entity::new(config, faults, Instant::ZERO);
        entity.set_logging(log.is_some());
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let core =
            Core { entity, writers: HashMap::new(), log, for_actor: Vec::new(), armed: None };
        let late = Arc::new(LateLog::default());
        let actor =
            Actor { shared: Arc::new(Shared::new(core, epoch)), udp, can, late: late.clone() };
        // Delayed answers are judged to the millisecond (ISO 13400-2 timing cases, `measure`):
        // tokio's 1 ms timer wheel alone would answer up to 2 ms late.
        let timer = PreciseTimer::new().map_err(HostError::Timer)?;
        tasks.push(tokio::spawn(actor.run(timer, events_rx, control_rx, shutdown_rx)));
        let control = SimControl { tx: control_tx, late };
        Ok(SimHost {
            tcp_addr,
            udp_addr,
            tls_addr,
            tls_certificate,
            can_bus,
            control,
            shutdown,
            tasks,
        })
    }
}

/// The CAN node of the entity: the configured transport, or a private memory bus when there
/// are ECUs and no spec; none without ECUs.
async fn open_can(
    config: &SimConfig,
) -> Result<(Option<CanTransport>, Option<MemoryBus>), HostError> {
    match &config.can {
        Some(text) => {
            let error = |source| HostError::Can { spec: text.clone(), source };
            let spec: CanSpec = text.parse().map_err(|e| error(CanTransportError::Spec(e)))?;
            Ok((Some(CanTransport::open(&spec).await.map_err(error)?), None))
        }
        None if !config.ecus.is_empty() => {
            let bus = MemoryBus::new();
            let node = bus.node(NodeOptions::default());
            Ok((Some(CanTransport::Memory(node)), Some(bus)))
        }
        None => Ok((None, None)),
    }
}

/// The next frame from the bus, or never without one.
async fn recv_can(can: &mut Option<CanTransport>) -> Result<Received, CanTransportError> {
    match can {
        Some(can) => can.recv().await,
        None => std::future::pending().await,
    }
}

/// The actor: accepts connections into the entity, carries out its datagrams and CAN frames,
/// feeds it what arrives on UDP and CAN, and fires its timers.
struct Actor {
    shared: Arc<Shared>,
    udp: UdpSocket,
    can: Option<CanTransport>,
    late: Arc<LateLog>,
}

impl Actor {
    async fn run(
        mut self,
        mut timer: PreciseTimer,
        mut accepted: mpsc::Receiver<Accepted>,
        mut control: mpsc::UnboundedReceiver<Control>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut datagram = vec![0u8; 65536];
        // Announcements may be due at once.
        self.with_entity(|entity, now| entity.handle_timeout(now));
        self.flush().await;
        let epoch = self.shared.epoch;
        loop {
            // One timer, moved only when the entity's next deadline changes (creating a timer
            // per loop turn costs more than the rest of a round trip's bookkeeping). A later
            // deadline set meanwhile by a connection lets it fire early, harmlessly; an earlier
            // one wakes this loop (`Shared::wake_actor`).
            let next = {
                let mut core = self.shared.lock();
                core.armed = core.entity.poll_timeout();
                core.armed
            };
            let due = next.map(|t| epoch + t.since_epoch());
            timer.set(due);
            let mut fired = None;
            tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                accepted = accepted.recv() => match accepted {
                    Some(accepted) => self.accept(accepted),
                    None => break,
                },
                Some(request) = control.recv() => match request {
                    Control::PowerCycle { announce_to, done } => {
                        self.power_cycle(announce_to);
                        self.flush().await;
                        let _ = done.send(());
                    }
                },
                received = self.udp.recv_from(&mut datagram) => {
                    // Errors (an ICMP unreachable reported late) are not the entity's business.
                    if let Ok((n, from)) = received {
                        self.with_entity(|entity, now| entity.handle_udp(now, from, &datagram[..n]));
                    }
                }
                received = recv_can(&mut self.can) => match received {
                    Ok(Received { frame, origin: Origin::Peer, .. }) => {
                        self.with_entity(|entity, now| entity.handle_can_frame(now, &frame));
                    }
                    Ok(_) => {}
                    // A transport that fails for good is dropped; DoIP goes on.
                    Err(_) => self.can = None,
                },
                _ = timer.fired() => {
                    fired = due;
                    self.with_entity(|entity, now| entity.handle_timeout(now));
                }
                _ = self.shared.wake_actor.notified() => {}
            }
            self.flush().await;
            if let Some(due) = fired {
                self.late.record(due, tokio::time::Instant::now());
            }
        }
        // Dropping the writers closes every connection.
        self.shared.lock().writers.clear();
    }

    /// Runs `f` on the entity at the time the lock was taken: a time read before waiting for
    /// the lock would be stale by that wait, and an ECU's STmin would start before its frame
    /// really left (ISO 15765-2:2016 §9.6.5.4: the gap is measured on the bus).
    fn with_entity(&self, f: impl FnOnce(&mut Entity, Instant)) {
        let mut core = self.shared.lock();
        let now = self.shared.now();
        f(&mut core.entity, now);
    }

    /// A fresh entity with the same configuration and faults, announcing to `announce_to`.
    /// Dropping the writers closes every connection; what their tasks still report about them
    /// names connections the new entity never had, which it ignores.
    fn power_cycle(&mut self, announce_to: SocketAddr) {
        let mut core = self.shared.lock();
        let now = self.shared.now();
        core.writers.clear();
        let mut config = core.entity.config().clone();
        config.announce.enabled = true;
        config.announce.destination = crate::sim::config::ConfigSocketAddr(announce_to);
        let faults = core.entity.faults();
        let logging = core.log.is_some();
        core.entity = Entity::new(config, faults, now);
        core.entity.set_logging(logging);
        core.entity.handle_timeout(now);
    }

    fn accept(&mut self, Accepted { conn, tls, stream }: Accepted) {
        let mut core = self.shared.lock();
        let now = self.shared.now();
        if core.entity.handle_tcp_accept(now, conn, tls) {
            let (tx, rx) = mpsc::channel(WRITE_QUEUE);
            core.writers.insert(conn, tx);
            tokio::spawn(run_connection(conn, stream, self.shared.clone(), rx));
        }
        // Refused: dropping the stream closes it.
    }

    /// Carries out what the entity decided: bytes into the connections' queues (`Core::route`),
    /// then the datagrams and CAN frames.
    async fn flush(&mut self) {
        let mut outputs = {
            let mut core = self.shared.lock();
            let now = self.shared.now();
            core.route(now, None, &mut Vec::new());
            std::mem::take(&mut core.for_actor)
        };
        // CAN frames first, right after they were polled: their ECU's STmin runs from then,
        // and a datagram's send may wait (below).
        outputs.sort_by_key(|o| !matches!(o, Output::Can(_)));
        for output in outputs {
            match output {
                Output::Udp { to, bytes } => {
                    // `try_send_to` says WouldBlock until the reactor has seen the socket
                    // writable once (a datagram right after a start was lost so): then wait
                    // for it, briefly. A buffer that stays full drops like a network would.
                    if let Err(e) = self.udp.try_send_to(&bytes, to)
                        && e.kind() == std::io::ErrorKind::WouldBlock
                    {
                        let send = self.udp.send_to(&bytes, to);
                        let _ = tokio::time::timeout(UDP_SEND_WAIT, send).await;
                    }
                }
                Output::Can(frame) => {
                    if let Some(can) = &mut self.can {
                        // A frame the transport cannot carry is lost, as on a real bus.
                        let _ = can.send(&frame).await;
                    }
                }
                // `route` carried these out.
                Output::Tcp { .. } | Output::Close { .. } => {}
            }
        }
        if let Some(can) = &mut self.can {
            let _ = can.flush().await;
        }
    }
}

/// Accepts on `listener` until shutdown; with `tls`, each connection does its handshake on its
/// own task (bounded by [`TLS_HANDSHAKE_TIMEOUT`]) before the entity hears of it.
async fn accept(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    events: mpsc::Sender<Accepted>,
    next_conn: Arc<AtomicU64>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = next_conn.fetch_add(1, Ordering::Relaxed);
                    let Some(acceptor) = &tls else {
                        let event = Accepted { conn, tls: false, stream: Box::new(stream) };
                        if events.send(event).await.is_err() {
                            break;
                        }
                        continue;
                    };
                    let (acceptor, events) = (acceptor.clone(), events.clone());
                    tokio::spawn(async move {
                        let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                        if let Ok(Ok(stream)) = handshake.await {
                            let event = Accepted { conn, tls: true, stream: Box::new(stream) };
                            let _ = events.send(event).await;
                        }
                    });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}
