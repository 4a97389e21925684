//! The reference DoIP entity as a pure state machine (quinn-proto style): the driver hands in
//! what arrived with `handle_*(now, ..)` and drains what to do with `poll_output()`, wakes it at
//! `poll_timeout()` with `handle_timeout(now)`, and may log `poll_event()` lines. No sockets, no
//! clock: a test drives it with a virtual clock and checks every timer at its exact boundary.
//!
//! ```text
//!   driver ── handle_udp / handle_tcp_accept / handle_tcp_data / handle_tcp_closed ──► Entity
//!   driver ◄── poll_output (UDP datagram, TCP bytes, TCP close) / poll_timeout ──────── Entity
//! ```
//!
//! Rules applied here, each with its clause at the place it is applied: generic header
//! handling (tcp.rs), routing activation and alive check (activation.rs), UDP identification,
//! status and announcements (udp.rs), diagnostic message routing (diag.rs). Every named
//! [`Fault`] is applied at exactly one of those places; the gateway to CAN ECUs is can.rs.

mod activation;
mod can;
mod diag;
mod down;
mod tcp;
mod udp;
mod wire;

#[cfg(test)]
mod tests;

use crate::codec::can::CanFrame;
use crate::proto::time::Instant;
use crate::sim::config::SimConfig;
use crate::sim::ecu::EcuNode;
use crate::sim::faults::{Fault, FaultSet};
use crate::sim::gateway::GatewayLink;
use crate::sim::uds::UdsResponder;
use core::net::SocketAddr;
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

pub use down::Liveness;
pub use tcp::ConnId;

/// Something the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send a datagram from the entity's UDP port.
    Udp { to: SocketAddr, bytes: Vec<u8> },
    /// Write bytes to a TCP connection.
    Tcp { conn: ConnId, bytes: Vec<u8> },
    /// Close a TCP connection after writing everything queued before this.
    Close { conn: ConnId },
    /// Put a frame on the CAN bus (the gateway's and the simulated ECUs' ISO-TP traffic).
    Can(CanFrame),
}

/// Who an exchange was with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Udp(SocketAddr),
    Tcp(ConnId),
    /// Announcements and other entity-initiated traffic.
    Entity,
}

/// One log line: what arrived and what the entity did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEvent {
    pub at: Instant,
    pub peer: Peer,
    pub text: String,
}

/// A delayed output (late faults, UDS delays and response-pending sequences).
#[derive(Debug, PartialEq, Eq)]
struct Scheduled {
    at: Instant,
    seq: u64,
    output: Output,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The entity.
pub struct Entity {
    config: SimConfig,
    faults: FaultSet,
    conns: HashMap<ConnId, tcp::Conn>,
    /// Registered (routing-activated) source addresses and the socket each is active on.
    registered: BTreeMap<u16, ConnId>,
    /// Receive-buffer bytes reserved by messages in progress, across all sockets.
    rx_reserved: u64,
    pending_activations: Vec<activation::PendingActivation>,
    outputs: VecDeque<Output>,
    scheduled: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    events: VecDeque<SimEvent>,
    logging: bool,
    announce: udp::Announcer,
    local_uds: UdsResponder,
    /// The simulated CAN ECUs.
    ecus: Vec<EcuNode>,
    /// The gateway's link to each configured ECU.
    links: Vec<GatewayLink>,
    /// Whether a robustness fault has taken the entity down (until a power cycle, i.e. a new
    /// entity).
    liveness: Liveness,
    /// The UDP service died (`udp_dies_on_bad_header`, `udp_dies_on_bad_identification_length`):
    /// datagrams are read and discarded until a power cycle; TCP keeps serving.
    udp_dead: bool,
    /// The TCP service died (`tcp_dies_on_bad_activation_length`): every TCP socket was closed
    /// and new connections are refused until a power cycle; UDP keeps serving.
    tcp_dead: bool,
    /// Closed sockets the entity never released (`leak_socket_on_split_header`): they still
    /// count against MCTS.
    leaked_sockets: usize,
    /// Empty buffers for the next replies (see `wire.rs`); a cell because replies are framed
    /// from `&self`.
    spare: core::cell::RefCell<Vec<Vec<u8>>>,
}

impl Entity {
    /// A fresh entity whose IP address became usable at `now` (announcements start from here,
    /// ISO 13400-2:2019 §9.2).
    pub fn new(config: SimConfig, faults: FaultSet, now: Instant) -> Self {
        let announce = udp::Announcer::new(&config, faults, now);
        let local_uds = UdsResponder::new(&config.uds);
        // Validation guarantees distinct request and response ids, the only way an ISO-TP
        // configuration could be refused; an ECU that still fails is left out (unreachable).
        let mut ecus = Vec::new();
        let mut links = Vec::new();
        for ecu in &config.ecus {
            if ecu.simulated
                && let Ok(node) = EcuNode::new(ecu, faults, config.robustness.isotp_hang_ff_dl)
            {
                ecus.push(node);
            }
            if let Ok(link) = GatewayLink::new(ecu) {
                links.push(link);
            }
        }
        Entity {
            config,
            faults,
            conns: HashMap::new(),
            registered: BTreeMap::new(),
            rx_reserved: 0,
            pending_activations: Vec::new(),
            outputs: VecDeque::new(),
            scheduled: BinaryHeap::new(),
            next_seq: 0,
            events: VecDeque::new(),
            logging: true,
            announce,
            local_uds,
            ecus,
            links,
            liveness: Liveness::Serving,
            udp_dead: false,
            tcp_dead: false,
            leaked_sockets: 0,
            spare: core::cell::RefCell::new(Vec::new()),
        }
    }

    /// The configuration the entity runs.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The active faults.
    pub fn faults(&self) -> FaultSet {
        self.faults
    }

    /// Turns the per-exchange log lines on or off (benchmarks turn them off).
    pub fn set_logging(&mut self, on: bool) {
        self.logging = on;
        if !on {
            self.events.clear();
        }
    }

    /// TCP_DATA sockets currently open (NCTS, ISO 13400-2:2019 Table 11).
    pub fn open_sockets(&self) -> usize {
        self.conns.len()
    }

    /// Receive-buffer bytes held across all sockets (for memory-bound checks).
    pub fn buffered_bytes(&self) -> usize {
        self.conns.values().map(tcp::Conn::buffered).sum()
    }

    /// Sockets with routing activated.
    pub fn registered_sockets(&self) -> usize {
        self.registered.len()
    }

    /// Whether the entity still serves, or a robustness fault has hung or crashed it.
    pub fn liveness(&self) -> Liveness {
        self.liveness
    }

    /// Closed sockets that still count against MCTS (`leak_socket_on_split_header`).
    pub fn leaked_sockets(&self) -> usize {
        self.leaked_sockets
    }

    /// The next thing the driver must do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next log line.
    pub fn poll_event(&mut self) -> Option<SimEvent> {
        self.events.pop_front()
    }

    /// When the driver must call [`Entity::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let serving = self.liveness == Liveness::Serving;
        let mut next = if serving { self.announce.next_at() } else { None };
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        consider(self.scheduled.peek().map(|s| s.0.at));
        consider(self.can_poll_timeout());
        if serving {
            for conn in self.conns.values() {
                consider(conn.next_deadline());
            }
        }
        next
    }

    /// Fires every timer due at `now`: delayed outputs, announcements, TCP timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(top) = self.scheduled.peek() {
            if top.0.at > now {
                break;
            }
            let Some(Reverse(item)) = self.scheduled.pop() else { break };
            self.release(now, item.output);
        }
        if self.liveness == Liveness::Serving {
            self.announce_due(now);
            self.tcp_timers_due(now);
        }
        self.can_timers_due(now);
    }

    /// Queues `output` now, or at `at` when that is later.
    fn emit_at(&mut self, now: Instant, at: Instant, output: Output) {
        if at <= now {
            self.release(now, output);
        } else {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.scheduled.push(Reverse(Scheduled { at, seq, output }));
        }
    }

    /// Releases an output; TCP output for a socket closed meanwhile is dropped, and sent
    /// bytes count as activity for T_TCP_General_Inactivity.
    fn release(&mut self, now: Instant, output: Output) {
        if self.liveness != Liveness::Serving && !matches!(output, Output::Can(_)) {
            // A hung or crashed entity sends nothing on IP (its CAN ECUs are other nodes).
            return;
        }
        match &output {
            Output::Tcp { conn, .. } => match self.conns.get_mut(conn) {
                Some(c) => c.last_activity = now,
                None => return,
            },
            Output::Close { conn } => {
                if !self.conns.contains_key(conn) {
                    return;
                }
            }
            Output::Udp { .. } | Output::Can(_) => {}
        }
        self.outputs.push_back(output);
    }

    fn log(&mut self, now: Instant, peer: Peer, text: impl FnOnce() -> String) {
        if self.logging {
            // A driver that never drains the log must not grow memory without bound.
            if self.events.len() >= 4096 {
                self.events.pop_front();
            }
            self.events.push_back(SimEvent { at: now, peer, text: text() });
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.has(fault)
    }

    /// Table 19 row 1, the pattern: the inverse is version XOR 0xFF, and the version is the
    /// one this entity implements, or 0xFF on a vehicle identification request (0x0001-0x0003).
    /// The codec knows every published version; an entity accepts only its own.
    fn pattern_ok(&self, header: &[u8]) -> bool {
        let [version, inverse, t0, t1, ..] = *header else { return false };
        if inverse != !version {
            return false;
        }
        let vehicle_identification = t0 == 0 && matches!(t1, 0x01..=0x03);
        version == self.config.protocol_version
            || (version == 0xFF
                && (vehicle_identification || self.has(Fault::AcceptsDefaultVersionOnTcp)))
    }

    fn timer(&self, d: crate::sim::config::ConfigDuration) -> Duration {
        d.get()
    }
}
