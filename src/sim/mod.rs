//! PURE reference DoIP entity / gateway / ECU logic with named fault switches. Driven by thin
//! transport code; time is an argument.
//!
//! May import: `crate::codec`, `crate::proto`. Must not touch tokio, sockets, files or the OS
//! clock.

pub mod config;
pub mod ecu;
pub mod entity;
pub mod faults;
pub mod gateway;
pub mod uds;
