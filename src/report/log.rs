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

/// A finished case `key` with `verdict` and nothing else, for the reporters' unit tests.
#[cfg(test)]
pub(crate) fn test_finished(
    key: u32,
    verdict: crate::runner::event::Verdict,
) -> crate::runner::event::CaseFinished {
    crate::runner::event::CaseFinished {
        case: CaseKey(key),
        at: RunTime::ZERO,
        verdict,
        reason: None,
        duration: std::time::Duration::ZERO,
        attempts: 1,
        flaky: false,
        capture: None,
        waiver: None,
    }
}

/// A case of suite `s` (file `s.yaml`, title `t`) with id `id`, for the reporters' unit tests.
#[cfg(test)]
pub(crate) fn test_info(id: &str) -> CaseInfo {
    CaseInfo {
        suite_file: std::path::PathBuf::from("s.yaml"),
        suite: "s".into(),
        suite_title: "S".into(),
        id: id.into(),
        title: "t".into(),
        clause: None,
        tags: vec![],
        requires: vec![],
        detects: vec![],
        matrix: vec![],
        line: 1,
    }
}
