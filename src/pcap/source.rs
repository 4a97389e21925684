//! Opening capture files: the thin, impure part of reading. A file is handed
//! to the pure [`read::stream::read_records`](super::read::stream::read_records); nothing else
//! happens here.
//!
//! May import: `crate::pcap`.

use std::fs::File;
use std::io::{self, BufReader};
use std::ops::ControlFlow;
use std::path::Path;

use super::read::Record;
use super::read::stream::{ReadSummary, read_records};

/// Reads every record of the capture at `path` (gzip or not), until `on_record` breaks.
pub fn read_file(
    path: &Path,
    on_record: impl FnMut(&Record<'_>) -> ControlFlow<()>,
) -> io::Result<ReadSummary> {
    let file = File::open(path)?;
    Ok(read_records(BufReader::with_capacity(1 << 16, file), on_record))
}
