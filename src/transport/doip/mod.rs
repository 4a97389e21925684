//! DoIP over real sockets (TCP, TLS, UDP) with tokio.
//!
//! [`sim_host`] runs the pure simulator entity ([`crate::sim::entity`]) on loopback sockets:
//! it owns the sockets and the clock and nothing else. [`tester`] is the other side: the
//! tester's connection to an entity, which every command that talks to one uses.
//!
//! Never imports `suite`, `runner` or `report`.

pub mod sim_host;
pub mod tester;
pub mod tls;
