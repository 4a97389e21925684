//! Entry points shared by the cargo-fuzz targets in `fuzz/` and by the corpus replay test in
//! `tests/it/`, so CI gets the regression value of the corpus without cargo-fuzz. Each
//! function checks an oracle (e.g. parse then emit gives the input back), not only "no panic".
//!
//! May import: `crate::codec`, `crate::proto`, `crate::sim`, `crate::pcap::read` and
//! `crate::inspect` (pure modules only).

pub mod cannelloni;
pub mod capture;
pub mod doip;
pub mod isotp;
pub mod sim;
