//! ALL sockets: DoIP over TCP/TLS/UDP, CAN over the in-memory bus, cannelloni UDP and
//! SocketCAN (behind the `socketcan` feature).
//!
//! Never imports `suite`, `runner` or `report`.

pub mod can;
pub mod doip;
pub mod rx_time;
pub mod timer;
