//! Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing
//! Input", 2002): the smallest subsequence of what was sent since the last healthy check that
//! still makes the oracle fail. A state machine ([`Ddmin`]) that asks for one trial at a time,
//! so that an async caller can drive a live target between questions; [`ddmin`] drives it with
//! a plain closure. Generic over the item, so the DoIP and the ISO-TP fuzzers share it, and
//! bounded by a number of trials, since each trial restores and re-drives a target.

/// The result: the smallest failing subsequence found, and whether the bound on trials
/// stopped the search before it was 1-minimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minimized<T> {
    /// Items (in their original order) that still fail.
    pub items: Vec<T>,
    /// Trials run.
    pub trials: usize,
    /// The trial bound was reached: `items` fails but may not be minimal.
    pub exhausted: bool,
}

/// Where the search is.
#[derive(Debug, Clone)]
enum Phase {
    /// Trying the last items alone, newest first (the last case before a failed check is the
    /// usual culprit): the offset from the end.
    Singles(usize),
    /// ddmin proper: granularity `n`, testing part `at` (parts first, then complements).
    Split {
        n: usize,
        at: usize,
        complements: bool,
    },
    Done,
}

/// Delta debugging as questions and answers: [`Ddmin::next_trial`] gives the subset to try,
/// [`Ddmin::record`] takes whether it still fails.
#[derive(Debug, Clone)]
pub struct Ddmin<T> {
    current: Vec<T>,
    phase: Phase,
    trials: usize,
    max_trials: usize,
    exhausted: bool,
    pending: Option<Vec<T>>,
}

/// Single items tried alone before ddmin.
const SINGLES: usize = 4;

impl<T: Clone> Ddmin<T> {
    /// A search over `items` (which fail), with at most `max_trials` trials.
    pub fn new(items: &[T], max_trials: usize) -> Self {
        let phase = if items.len() > 1 { Phase::Singles(0) } else { Phase::Done };
        Ddmin {
            current: items.to_vec(),
            phase,
            trials: 0,
            max_trials,
            exhausted: false,
            pending: None,
        }
    }

    fn parts(&self, n: usize) -> Vec<Vec<T>> {
        let chunk = self.current.len().div_ceil(n).max(1);
        self.current.chunks(chunk).map(<[T]>::to_vec).collect()
    }

    /// The next subset to try, or `None` when the search is over.
    pub fn next_trial(&mut self) -> Option<Vec<T>> {
        loop {
            if matches!(self.phase, Phase::Done) {
                return None;
            }
            if self.trials >= self.max_trials {
                self.exhausted = true;
                self.phase = Phase::Done;
                return None;
            }
            let subset = match self.phase.clone() {
                Phase::Singles(k) => {
                    if k >= SINGLES.min(self.current.len()) {
                        self.phase = Phase::Split { n: 2, at: 0, complements: false };
                        continue;
                    }
                    vec![self.current[self.current.len() - 1 - k].clone()]
                }
                Phase::Split { n, at, complements } => {
                    if self.current.len() < 2 {
                        self.phase = Phase::Done;
                        continue;
                    }
                    let parts = self.parts(n);
                    if !complements && at >= parts.len() {
                        self.phase = Phase::Split { n, at: 0, complements: parts.len() > 2 };
                        if parts.len() <= 2 {
                            self.refine(n);
                        }
                        continue;
                    }
                    if complements && at >= parts.len() {
                        self.refine(n);
                        continue;
                    }
                    if complements {
                        parts
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != at)
                            .flat_map(|(_, p)| p.iter().cloned())
                            .collect()
                    } else {
                        parts[at].clone()
                    }
                }
                Phase::Done => return None,
            };
            self.trials += 1;
            self.pending = Some(subset.clone());
            return Some(subset);
        }
    }

    /// No part and no complement failed at granularity `n`: split finer, or stop.
    fn refine(&mut self, n: usize) {
        self.phase = if n >= self.current.len() {
            Phase::Done
        } else {
            Phase::Split { n: (n * 2).min(self.current.len()), at: 0, complements: false }
        };
    }

    /// Whether the subset last given by [`Ddmin::next_trial`] still fails.
    pub fn record(&mut self, fails: bool) {
        let Some(subset) = self.pending.take() else { return };
        match self.phase.clone() {
            Phase::Singles(_) if fails => {
                self.current = subset;
                self.phase = Phase::Done;
            }
            Phase::Singles(k) => self.phase = Phase::Singles(k + 1),
            Phase::Split { n, complements, .. } if fails => {
                self.current = subset;
                let n = if complements { (n - 1).max(2) } else { 2 };
                self.phase = Phase::Split { n, at: 0, complements: false };
            }
            Phase::Split { n, at, complements } => {
                self.phase = Phase::Split { n, at: at + 1, complements };
            }
            Phase::Done => {}
        }
    }

    /// The result so far (final once [`Ddmin::next_trial`] returned `None`).
    pub fn result(&self) -> Minimized<T> {
        Minimized { items: self.current.clone(), trials: self.trials, exhausted: self.exhausted }
    }
}

/// Narrows `items` (which fail) to a 1-minimal failing subsequence with a synchronous trial:
/// removing any one item makes `fails` false. At most `max_trials` calls of `fails`.
pub fn ddmin<T: Clone>(
    items: &[T],
    max_trials: usize,
    mut fails: impl FnMut(&[T]) -> bool,
) -> Minimized<T> {
    let mut search = Ddmin::new(items, max_trials);
    while let Some(subset) = search.next_trial() {
        let result = fails(&subset);
        search.record(result);
    }
    search.result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_culprit_is_found_alone() {
        let items: Vec<u32> = (0..64).collect();
        let m = ddmin(&items, 200, |s| s.contains(&17));
        assert_eq!(m.items, vec![17]);
        assert!(!m.exhausted);
    }

    #[test]
    fn the_newest_culprit_costs_one_trial() {
        let items: Vec<u32> = (0..64).collect();
        let m = ddmin(&items, 200, |s| s.contains(&63));
        assert_eq!((m.items, m.trials), (vec![63], 1));
    }

    #[test]
    fn two_items_needed_together_are_both_kept_in_order() {
        let items: Vec<u32> = (0..100).collect();
        let m = ddmin(&items, 500, |s| s.contains(&3) && s.contains(&71));
        assert_eq!(m.items, vec![3, 71]);
        // A leak that needs any two of the leaking items: two remain.
        let leaks = [5u32, 9, 40, 41];
        let m = ddmin(&items, 500, |s| s.iter().filter(|i| leaks.contains(i)).count() >= 2);
        assert_eq!(m.items.len(), 2);
        assert!(m.items.iter().all(|i| leaks.contains(i)));
    }

    #[test]
    fn the_result_is_one_minimal() {
        // Every subset ddmin returns must fail, and removing any one item must pass.
        let items: Vec<u32> = (0..40).collect();
        let needed = [2u32, 11, 30];
        let fails = |s: &[u32]| needed.iter().all(|n| s.contains(n));
        let m = ddmin(&items, 1000, fails);
        assert!(fails(&m.items));
        for skip in 0..m.items.len() {
            let without: Vec<u32> =
                m.items.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, v)| *v).collect();
            assert!(!fails(&without));
        }
    }

    #[test]
    fn the_trial_bound_is_kept() {
        let items: Vec<u32> = (0..1000).collect();
        let mut calls = 0;
        let m = ddmin(&items, 10, |s| {
            calls += 1;
            s.contains(&1) && s.contains(&999)
        });
        assert_eq!(calls, 10);
        assert!(m.exhausted);
        assert!(m.items.contains(&1) && m.items.contains(&999));
    }

    #[test]
    fn a_single_item_is_already_minimal() {
        let m = ddmin(&[42], 10, |_| true);
        assert_eq!((m.items, m.trials), (vec![42], 0));
    }
}
