//! Captures: writing pcapng files of what a run did ([`write`]) and reading pcap / pcapng files
//! of what someone recorded ([`read`]), on one definition of the formats they share
//! ([`socketcan`], the DoIP ports).
//!
//! The reader is the mirror of the writer: file -> link layer -> IP -> TCP reassembly / UDP ->
//! DoIP deframer; SocketCAN frames -> passive ISO-TP reassembly. [`read`] is pure (bytes and
//! timestamps in, events out; no files, no clock); [`source`] is the thin part that opens a
//! file (gzip or not) and feeds it.
//!
//! May import `codec` and `proto::time` (the writer's timestamps); never `runner`, `suite` or
//! `report`: the report layer feeds the writer from runner events, and `inspect` judges what
//! the reader finds.

pub mod read;
pub mod socketcan;
pub mod source;
mod write;

pub use write::{
    CaptureError, CaptureOptions, Close, Endpoints, PacketDirection, PcapngWriter, PortMapping,
    Side, SynthesisError,
};

/// The DoIP port of ISO 13400-2:2019 Table 48 (`TCP_DATA` and `UDP_DISCOVERY`), the one
/// Wireshark's DoIP dissector listens on.
pub const DOIP_PORT: u16 = 13400;

/// The port of DoIP over TLS (ISO 13400-2:2019 Table 48, `TCP_DATA` secured).
pub const DOIP_TLS_PORT: u16 = 3496;
