//! PURE reference DoIP entity / gateway / ECU logic with named fault switches. Driven by thin
//! transport code (`transport::doip::sim_host`); time is an argument.
//!
//! - [`config`]: the YAML configuration with standard defaults, loaded from a `&str` with
//!   line:column errors.
//! - [`entity`]: the DoIP entity state machine (`handle_*(now, ..)` / `poll_*()`).
//! - [`uds`]: the UDS responder of the entity and of each simulated ECU.
//! - [`ecu`], [`gateway`]: simulated CAN ECUs on our ISO-TP stack and the gateway's links to
//!   them.
//! - [`faults`]: the fault catalogue; each fault breaks exactly one rule.
//!
//! May import: `crate::codec`, `crate::proto`. Must not touch tokio, sockets, files or the OS
//! clock.

pub mod config;
pub mod ecu;
pub mod ecu_faults;
pub mod entity;
pub mod faults;
pub mod gateway;
pub mod uds;
