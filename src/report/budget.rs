//! The run's report budget: a run's report folder stays under [`MAX_REPORT_DIR_BYTES`] whatever
//! the target sends and however many cases run. The runner already bounds what it records of
//! each case (profile `recording.*`); a run of many flooded cases, or of ten thousand small
//! ones, would still add those up. So the file reports count what they have written, and
//! summarise more as the budget is spent ([`Budget::keep`]):
//!
//! | spent | a failing case keeps | a passing or skipped case keeps |
//! |---|---|---|
//! | a quarter | its first [`LATE_FRAMES`] frames; report.json written compact | its line, verdict and timers only (JUnit: no transcript, fewer properties) |
//! | half | its steps, verdict and why, at most 20 notes, no frames | the same |
//! | seven eighths | the same | nothing: it is counted, not listed |
//! | fifteen sixteenths | nothing: counted, not listed (the console listed it) | the same |
//!
//! A failing case whose frames were cut gets a note saying how much; every report's head says
//! what was left out over the run (report.html's "not recorded" row, report.json's
//! `unlisted_cases`, a `not listed` test suite in junit.xml).

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
    /// Cases counted but not listed at all, and how many of them failed.
    pub unlisted: u64,
    pub unlisted_failing: u64,
}

/// What the reports keep of a finished case.
#[derive(Debug)]
pub enum Kept {
    Whole,
    Trimmed(Box<CaseLog>),
    /// Counted in the totals, not listed.
    Counted,
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

    /// What the reports keep of `case` (see the module doc's table).
    pub fn keep(&mut self, case: &CaseLog) -> Kept {
        let failed = !case
            .events
            .iter()
            .any(|e| matches!(e, Event::CaseFinished(f) if !f.verdict.is_failure()));
        let unlisted_from = if failed { self.limit / 16 * 15 } else { self.limit / 8 * 7 };
        if self.written >= unlisted_from {
            self.left_out.unlisted += 1;
            self.left_out.unlisted_failing += u64::from(failed);
            return Kept::Counted;
        }
        match self.trim(case) {
            Some(trimmed) => Kept::Trimmed(Box::new(trimmed)),
            None => Kept::Whole,
        }
    }

    /// A quarter of the budget is spent: report.json writes cases without indentation, and a
    /// case that did not fail keeps its line only.
    pub fn late(&self) -> bool {
        self.written >= self.limit / 4
    }

    /// `case` with its frames (and, late, notes) past what is left cut, and for a failing case
    /// a note saying how much; a passing case late keeps its line, verdict and timers only.
    /// `None`: whole.
    fn trim(&mut self, case: &CaseLog) -> Option<CaseLog> {
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
        // Late, a case that passed keeps what its line, the baseline and the history read.
        let line_only = passed && self.late();
        let (mut frames, mut wire, mut notes) = (0usize, 0usize, 0usize);
        let mut cut = LeftOut::default();
        let mut events = Vec::with_capacity(case.events.len().min(LATE_FRAMES * 2));
        for e in &case.events {
            let dropped = line_only && !matches!(e, Event::Metric(_) | Event::CaseFinished(_));
            match e {
                Event::Frame(f) if dropped || frames >= frames_kept => {
                    cut.frames += 1;
                    cut.bytes += f.bytes.len() as u64;
                    continue;
                }
                Event::Frame(_) => frames += 1,
                // A TLS connection's records are its capture's packets: kept like frames.
                Event::TlsWire(w) if dropped || wire >= frames_kept => {
                    cut.frames += 1;
                    cut.bytes += w.bytes.len() as u64;
                    continue;
                }
                Event::TlsWire(_) => wire += 1,
                Event::Note(_) if dropped || notes >= notes_kept => {
                    cut.notes += 1;
                    continue;
                }
                Event::Step(_) if dropped => {
                    cut.steps += 1;
                    continue;
                }
                // Connections and TLS secrets: only the capture and the chart use them.
                _ if dropped => continue,
                Event::Note(_) => notes += 1,
                Event::CaseFinished(f) if cut != LeftOut::default() && !line_only => {
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
