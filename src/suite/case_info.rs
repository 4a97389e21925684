//! What a selected case is and claims, known before anything runs: the suite it comes from, its
//! id and title, clause, tags, requirements, the faults it detects, its matrix values. Selection
//! ([`super::select`]) makes it; the runner's events carry it (`runner::event` re-exports it) and
//! every report shows it. Plain data: imports nothing of the crate.

use serde::{Deserialize, Serialize, Serializer};
use std::path::PathBuf;

/// Where a case comes from and what it claims; everything a report shows about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseInfo {
    /// The suite file, as given on the command line (relative paths stay relative).
    #[serde(serialize_with = "ser_path")]
    pub suite_file: PathBuf,
    /// The suite's `suite:` name (JUnit classname).
    pub suite: String,
    /// The suite's `title:`.
    pub suite_title: String,
    /// The case id; a matrix case carries its parameters: `HDR-UNK-001[payload_type=0x0009]`.
    pub id: String,
    pub title: String,
    /// The clause the case checks, e.g. `ISO 13400-2:2019 Table 19`.
    pub clause: Option<String>,
    pub tags: Vec<String>,
    /// Profile capabilities the case needs.
    pub requires: Vec<String>,
    /// Simulator faults the case is meant to catch.
    pub detects: Vec<String>,
    /// Matrix parameters of this expansion, in declaration order: `[("payload_type", "0x0009")]`.
    pub matrix: Vec<(String, String)>,
    /// Line of the case's `id:` in the suite file (1-based), to point people at the source.
    pub line: u32,
}

fn ser_path<S: Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}
