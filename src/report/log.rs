//! [`RunLog`]: the events of a run grouped by case, in plan order, which the file reports
//! (JUnit, JSON, captures) are rendered from.

use std::collections::BTreeMap;

use crate::runner::event::{
    CaseFinished, CaseInfo, CaseKey, Event, RunFinished, RunStarted, RunTime,
};

/// One case and everything it produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLog {
    pub key: CaseKey,
    pub info: CaseInfo,
    pub started_at: RunTime,
    /// Every event of the case after its `CaseStarted`, its `CaseFinished` included.
    pub events: Vec<Event>,
    /// `None` while the case runs (or when the run stopped before it ended).
    pub finished: Option<CaseFinished>,
}

/// The run so far. Feed it every event with [`RunLog::record`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunLog {
    pub started: Option<RunStarted>,
    /// By case key, which is the plan order whatever order parallel jobs finished in.
    pub cases: BTreeMap<CaseKey, CaseLog>,
    pub finished: Option<RunFinished>,
}

impl RunLog {
    /// A log of `events` (a whole run, or the part of it that happened).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut log = RunLog::default();
        for e in events {
            log.record(e);
        }
        log
    }

    /// Adds one event. Case events for a case that never started are dropped: the runner's
    /// contract says they cannot happen, and a report must not invent a case.
    pub fn record(&mut self, event: &Event) {
        match event {
            Event::RunStarted(s) => self.started = Some(s.clone()),
            Event::RunFinished(f) => self.finished = Some(f.clone()),
            Event::CaseStarted(s) => {
                self.cases.insert(
                    s.case,
                    CaseLog {
                        key: s.case,
                        info: s.info.clone(),
                        started_at: s.at,
                        events: Vec::new(),
                        finished: None,
                    },
                );
            }
            other => {
                let Some(key) = other.case() else { return };
                let Some(case) = self.cases.get_mut(&key) else { return };
                if let Event::CaseFinished(f) = other {
                    case.finished = Some(f.clone());
                }
                case.events.push(other.clone());
            }
        }
    }

    /// Cases that ended, in plan order: the ones the reports show.
    pub fn finished_cases(&self) -> impl Iterator<Item = (&CaseLog, &CaseFinished)> {
        self.cases.values().filter_map(|c| c.finished.as_ref().map(|f| (c, f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::event::{CaseStarted, NoteEvent};
    use std::path::PathBuf;

    fn started(key: u32) -> Event {
        Event::CaseStarted(CaseStarted {
            case: CaseKey(key),
            at: RunTime::ZERO,
            info: CaseInfo {
                suite_file: PathBuf::from("s.yaml"),
                suite: "s".into(),
                suite_title: "S".into(),
                id: format!("C-{key}"),
                title: "t".into(),
                clause: None,
                tags: vec![],
                requires: vec![],
                detects: vec![],
                matrix: vec![],
                line: 1,
            },
        })
    }

    fn note(key: u32) -> Event {
        Event::Note(NoteEvent { case: CaseKey(key), at: RunTime::ZERO, text: "n".into() })
    }

    #[test]
    fn cases_are_kept_in_plan_order_whatever_order_they_ran_in() {
        let log = RunLog::from_events(&[started(2), started(0), note(2), note(0), note(0)]);
        let keys: Vec<u32> = log.cases.keys().map(|k| k.0).collect();
        assert_eq!(keys, [0, 2]);
        assert_eq!(log.cases[&CaseKey(0)].events.len(), 2);
        assert_eq!(log.finished_cases().count(), 0, "no case finished");
    }

    #[test]
    fn events_of_a_case_that_never_started_are_dropped() {
        let log = RunLog::from_events(&[note(7)]);
        assert!(log.cases.is_empty());
    }
}
