//! CAN transports: where frames of the pure ISO-TP stack, the simulator and the runner go.
//!
//! - [`memory`]: an in-process bus for any number of nodes (tests, the built-in simulator).
//! - [`cannelloni`]: CAN over UDP in the cannelloni v2 format (processes and third-party tools
//!   meeting over loopback).
//! - `socketcan`: raw CAN / CAN FD sockets (Linux, behind the `socketcan` cargo feature).
//!
//! All of them are opened from one spec string ([`CanSpec`], grammar in [`spec`]) and used
//! through [`CanTransport`]: `send` a frame, `recv` the next [`Received`] frame. `recv` is
//! cancel-safe, so a driver can `select!` it against a timer. Every frame that comes in is
//! stamped on the monotonic clock when it arrived: the kernel's receive time for cannelloni
//! (`transport::rx_time`), the send for the memory bus, the read for SocketCAN. Queues are bounded:
//! what does not fit is dropped and counted in [`TransportStats`], never buffered without end.
//!
//! Frames a node sent itself come back only when the spec asks for `echo`, marked
//! [`Origin::Echo`]: a transmit confirmation (the moment the frame was on the bus, or handed
//! to the socket for UDP and SocketCAN).
//!
//! May import `codec` and `proto`; never `suite`, `runner` or `report`.

pub mod cannelloni;
pub mod driver;
pub mod memory;
#[cfg(feature = "socketcan")]
pub mod socketcan;
pub mod spec;

pub use spec::{CanSpec, NodeOptions, SpecError};

use crate::codec::can::CanFrame;
use std::time::Instant;

/// Who put a received frame on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Another node.
    Peer,
    /// This node: the echo of one of its own frames (transmit confirmation).
    Echo,
}

/// A frame as a node received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub frame: CanFrame,
    /// Monotonic time at which the transport took the frame in.
    pub at: Instant,
    pub origin: Origin,
}

/// Counters of one node; `dropped` and `malformed` are what a bounded, hostile-input-proof
/// transport could not deliver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Frames this node sent.
    pub sent: u64,
    /// Frames delivered to this node's queue (echoes included).
    pub received: u64,
    /// Frames lost because this node's receive queue was full.
    pub dropped: u64,
    /// Datagrams refused as malformed, or from a sender that is not the configured remote.
    pub malformed: u64,
    /// Remote and error frames received: ISO-TP has no use for them, so they are counted only.
    pub ignored: u64,
    /// Datagrams missing according to the sender's sequence numbers (cannelloni).
    pub lost_datagrams: u64,
}

/// Why a transport could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum CanTransportError {
    /// The spec string is wrong.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The operating system refused (bind, send, receive).
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The transport cannot carry this frame (e.g. CAN FD on a classic-only socket).
    #[error("cannot send {frame}: {reason}")]
    Unsupported { frame: CanFrame, reason: &'static str },
}

impl CanTransportError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        CanTransportError::Io { what: what.into(), source }
    }
}

/// One node on a CAN bus, whichever transport carries it.
#[derive(Debug)]
pub enum CanTransport {
    Memory(memory::MemoryNode),
    /// Boxed: the node holds its batch encoder and queues inline.
    Cannelloni(Box<cannelloni::CannelloniNode>),
    #[cfg(feature = "socketcan")]
    SocketCan(socketcan::SocketCanNode),
}

impl CanTransport {
    /// Opens the node `spec` describes (binds sockets; joins or creates a named memory bus).
    pub async fn open(spec: &CanSpec) -> Result<Self, CanTransportError> {
        Ok(match spec {
            CanSpec::Memory { name, options } => {
                CanTransport::Memory(memory::MemoryBus::named(name).node(*options))
            }
            CanSpec::Cannelloni { local, remote, batch, options } => {
                CanTransport::Cannelloni(Box::new(
                    cannelloni::CannelloniNode::bind(cannelloni::CannelloniConfig {
                        local: *local,
                        remote: *remote,
                        batch: *batch,
                        echo: options.echo,
                        queue: options.queue,
                        max_datagram: cannelloni::DEFAULT_MAX_DATAGRAM,
                    })
                    .await?,
                ))
            }
            #[cfg(feature = "socketcan")]
            CanSpec::SocketCan { interface, options } => CanTransport::SocketCan(
                socketcan::SocketCanNode::open(interface, options.echo, options.queue).await?,
            ),
            #[cfg(not(feature = "socketcan"))]
            CanSpec::SocketCan { .. } => return Err(SpecError::SocketCanDisabled.into()),
        })
    }

    /// Puts `frame` on the bus (or into the batch, for cannelloni with batching on).
    pub async fn send(&mut self, frame: &CanFrame) -> Result<(), CanTransportError> {
        match self {
            CanTransport::Memory(n) => {
                n.send(frame);
                Ok(())
            }
            CanTransport::Cannelloni(n) => n.send(frame).await,
            #[cfg(feature = "socketcan")]
            CanTransport::SocketCan(n) => n.send(frame).await,
        }
    }

    /// The next frame; waits as long as it takes (bound it with a timeout). Cancel-safe.
    pub async fn recv(&mut self) -> Result<Received, CanTransportError> {
        match self {
            CanTransport::Memory(n) => Ok(n.recv().await),
            CanTransport::Cannelloni(n) => n.recv().await,
            #[cfg(feature = "socketcan")]
            CanTransport::SocketCan(n) => n.recv().await,
        }
    }

    /// A frame that arrived no later than `by` (its stamp), if one is there now, without
    /// waiting: a task that woke late at a deadline takes what arrived in time before it
    /// judges silence or lets a protocol timer expire. Frames that arrived later stay queued.
    pub fn recv_arrived_by(&mut self, by: Instant) -> Option<Received> {
        match self {
            CanTransport::Memory(n) => n.recv_arrived_by(by),
            CanTransport::Cannelloni(n) => n.recv_arrived_by(by),
            #[cfg(feature = "socketcan")]
            CanTransport::SocketCan(n) => n.recv_arrived_by(by),
        }
    }

    /// Sends whatever a batching transport still holds (a no-op for the others).
    pub async fn flush(&mut self) -> Result<(), CanTransportError> {
        match self {
            CanTransport::Memory(_) => Ok(()),
            CanTransport::Cannelloni(n) => n.flush().await,
            #[cfg(feature = "socketcan")]
            CanTransport::SocketCan(_) => Ok(()),
        }
    }

    pub fn stats(&self) -> TransportStats {
        match self {
            CanTransport::Memory(n) => n.stats(),
            CanTransport::Cannelloni(n) => n.stats(),
            #[cfg(feature = "socketcan")]
            CanTransport::SocketCan(n) => n.stats(),
        }
    }
}
