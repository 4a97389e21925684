//! doipcheck: a conformance and fuzz test harness for DoIP entities (ISO 13400-2) and ISO-TP
//! nodes (ISO 15765-2).
//!
//! # Layering
//!
//! ```text
//!   cli ──► runner ──► report, pcap          (the only event loop owns the clock)
//!            │  │
//!            │  └────► transport             (all sockets: tcp/tls/udp, CAN buses)
//!            ▼
//!          suite                             (YAML model, spans, validation)
//!   ───────────────────────────────────────── pure below: no tokio, no sockets, no files,
//!          sim ──► proto ──► codec           no OS clock; time is an argument
//! ```
//!
//! - `codec` imports no other module of this crate.
//! - `proto` and `sim` import only `codec` (and `sim` may use `proto`).
//! - None of `codec`, `proto`, `sim` touches tokio, sockets, files or the OS clock.
//! - `transport` never imports `suite`, `runner` or `report`; `report` reads only runner events.
//!
//! The rule is enforced by the `layering` test in `tests/it/layering.rs`.

pub mod cli;
pub mod codec;
#[doc(hidden)]
pub mod fuzzing;
pub mod inspect;
pub mod pcap;
pub mod proto;
pub mod report;
pub mod runner;
pub mod sim;
pub mod suite;
pub mod transport;
