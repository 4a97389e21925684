//! The run's report budget: a run's report folder stays under [`MAX_REPORT_DIR_BYTES`] whatever
//! the target sends. The runner already bounds what it records of each case (profile
//! `recording.*`); a run of many flooded cases would still add those bounds up. So the file
//! reports count what they have written, and once a quarter of the budget is spent a case
//! keeps its first [`LATE_FRAMES`] frames in the reports, once half is spent none, and a case
//! that passed or was skipped keeps no steps either (a failing case keeps its steps, verdict
//! and why); what was left out is said in a note on the case and counted for the page's head.
//! What every case keeps (its line, verdict and why in each report, about 3 KiB) is not cut:
//! a run of more than some 5 000 cases goes over the bound by that much (10 000 synthetic
//! cases: 40 MiB, `examples/report_10k.rs`).

use super::log::CaseLog;
use crate::runner::event::{Event, NoteEvent};

/// The bound of a run's whole report folder (JSON, HTML, JUnit, captures).
pub const MAX_REPORT_DIR_BYTES: u64 = 32 * 1024 * 1024;
/// Frames a case keeps once half the budget is spent.
pub const LATE_FRAMES: usize = 50;
/// Notes a case keeps once three quarters of the budget are spent.
const LAST_NOTES: usize = 20;

/// What the budget left out of the reports, over the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    pub cases: u64,
    pub frames: u64,
    pub bytes: u64,
    pub notes: u64,
    pub steps: u64,
}

/// Bytes written so far and what was left out.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    pub written: u64,
    pub limit: u64,
    pub left_out: LeftOut,
}

impl Budget {
    pub fn new(limit: u64) -> Self {
        Budget { written: 0, limit, left_out: LeftOut::default() }
    }

    /// `case` as the reports keep it: whole while the budget allows, else with its frames
    /// (and, late, notes) past what is left cut, and a note saying how much. `None`: whole.
    pub fn trim(&mut self, case: &CaseLog) -> Option<CaseLog> {
        let (frames_kept, notes_kept) = if self.written >= self.limit / 2 {
            (0, LAST_NOTES)
        } else if self.written >= self.limit / 4 {
            (LATE_FRAMES, usize::MAX)
        } else {
            return None;
        };
        let passed = case
            .events
            .iter()
            .any(|e| matches!(e, Event::CaseFinished(f) if !f.verdict.is_failure()));
        let steps_kept = !(passed && frames_kept == 0);
        let (mut frames, mut wire, mut notes) = (0usize, 0usize, 0usize);
        let mut cut = LeftOut::default();
        let mut events = Vec::with_capacity(case.events.len().min(LATE_FRAMES * 2));
        for e in &case.events {
            match e {
                Event::Frame(f) if frames >= frames_kept => {
                    cut.frames += 1;
                    cut.bytes += f.bytes.len() as u64;
                    continue;
                }
                Event::Frame(_) => frames += 1,
                // A TLS connection's records are its capture's packets: kept like frames.
                Event::TlsWire(w) if wire >= frames_kept => {
                    cut.frames += 1;
                    cut.bytes += w.bytes.len() as u64;
                    continue;
                }
                Event::TlsWire(_) => wire += 1,
                Event::Note(_) if notes >= notes_kept => {
                    cut.notes += 1;
                    continue;
                }
                Event::Note(_) => notes += 1,
                Event::Step(_) if !steps_kept => {
                    cut.steps += 1;
                    continue;
                }
                Event::CaseFinished(f) if cut != LeftOut::default() => {
                    events.push(Event::Note(NoteEvent {
                        case: case.key,
                        at: f.at,
                        text: format!(
                            "{} frames ({} bytes), {} notes and {} steps of this case were left out of the reports: the run's reports stay under {} MiB",
                            cut.frames,
                            cut.bytes,
                            cut.notes,
                            cut.steps,
                            self.limit >> 20
                        ),
                    }));
                }
                _ => {}
            }
            events.push(e.clone());
        }
        if cut == LeftOut::default() {
            return None;
        }
        self.left_out.cases += 1;
        self.left_out.frames += cut.frames;
        self.left_out.bytes += cut.bytes;
        self.left_out.notes += cut.notes;
        self.left_out.steps += cut.steps;
        Some(CaseLog { events, ..case.clone() })
    }
}
