//! PURE protocol state machines with time as an argument (`handle_*(now, ..)`, `poll_*()`),
//! in the manner of quinn-proto: ISO-TP sender/receiver, DoIP socket rules.
//!
//! May import: `crate::codec`. Must not touch tokio, sockets, files or the OS clock.
pub mod isotp;
pub mod time;
pub mod uds_wait;
pub mod window;
