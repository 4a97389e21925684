//! PURE wire formats: bytes <-> messages for DoIP, UDS, CAN and ISO-TP.
//!
//! May import: `core`/`std` data types and `thiserror`. Must not import any other module of
//! this crate, tokio, sockets, files or the OS clock.

pub mod can;
pub mod cannelloni;
pub mod doip;
pub mod isotp;
mod open_enum;
pub mod uds;
