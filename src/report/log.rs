//! [`CaseLog`]: one case and the events it produced, kept while the case runs so its capture,
//! transcript and JSON can be rendered when it ends.

use crate::runner::event::{CaseInfo, CaseKey, Event, RunTime};

/// One case and everything it produced so far.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLog {
    pub key: CaseKey,
    pub info: CaseInfo,
    pub started_at: RunTime,
    /// Every event of the case after its `CaseStarted`, its `CaseFinished` included.
    pub events: Vec<Event>,
}
