//! The evidence that the suites test what they claim, as a library that `cli` (and the tests)
//! call: the selftest matrix (every case passes against the conformant simulator and fails
//! against each fault it lists) and the coverage page (what every payload type, code, timer,
//! fault and ISO-TP item is covered by).
//!
//! May import: `runner`, `suite`, `sim`, `transport`, `judge`, `pcap`, and of `report` only
//! the capture writer (the agreement check reads a case's capture back as `inspect` does);
//! never `cli`.

pub mod agreement;
pub mod coverage;
pub mod selftest;
pub mod unjudged;
