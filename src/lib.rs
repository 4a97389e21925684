//! doipcheck: a conformance and fuzz test harness for DoIP entities (ISO 13400-2) and ISO-TP
//! nodes (ISO 15765-2).
//!
//! # Layering
//!
//! ```text
//!   cli ──► runner ══ events ══► report ──► pcap   (the runner owns the clock and emits
//!            │  │                                 events; reports decide files and paths)
//!            │  └────► transport             (all sockets: tcp/tls/udp, CAN buses)
//!            ▼
//!          suite                             (YAML model, spans, validation, step kinds)
//!   ───────────────────────────────────────── pure below: no tokio, no sockets, no files,
//!          sim ──► proto ──► codec           no OS clock; time is an argument
//!
//!   notation        (hex and duration text: any module above codec and proto may use it)
//!   profile         (pure: the typed target profile, read from YAML by `suite::profile`)
//!   pcap::read, judge     (pure: capture bytes or live frames and their times in, events and
//!                          typed findings of the rule catalogue out)
//!   import          (pure: capture events in, a suite's YAML text out)
//!   proof           (the selftest matrix and the coverage page, called by cli)
//!   client          (a tester at the terminal: `discover`, `request`; on runner's connections)
//!   fuzz            (the live fuzzer: `doipcheck fuzz` against a running target)
//!   fuzz_entry      (pure: the entry points the cargo-fuzz targets in fuzz/ call)
//! ```
//!
//! - `codec` and `notation` import no other module of this crate.
//! - `proto` imports only `codec`; `sim` imports `codec`, `proto` and `notation`.
//! - None of `codec`, `proto`, `sim`, `notation` touches tokio, sockets, files or the OS clock.
//! - `transport` never imports `suite`, `runner` or `report`; `report` reads only runner events.
//! - `runner` never imports `report`: it emits events; captures and their paths are the
//!   report's decision.
//!
//! The rule is enforced by the `layering` test in `tests/it/layering.rs`.

pub mod cli;
pub mod client;
pub mod codec;
/// The live fuzzer (`doipcheck fuzz`): seeded cases against a running entity or ISO-TP node.
pub mod fuzz;
/// The entry points of the cargo-fuzz targets in `fuzz/` (and of the corpus replay test): an
/// oracle per target over the pure layers. Not an API.
#[doc(hidden)]
pub mod fuzz_entry;
pub mod import;
pub mod judge;
pub mod notation;
pub mod pcap;
pub mod profile;
pub mod proof;
pub mod proto;
pub mod report;
pub mod runner;
pub mod sim;
pub mod suite;
pub mod transport;
