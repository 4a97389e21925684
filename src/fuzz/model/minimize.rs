//! Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing
//! Input", 2002): the smallest subsequence of what was sent since the last healthy check that
//! still makes the oracle fail. Generic over the item and the trial, so the DoIP and the
//! ISO-TP fuzzers share it; bounded by a number of trials, since each trial restores and
//! re-drives a live target.

/// The result of [`ddmin`]: the smallest failing subsequence found, and whether the bound on
/// trials stopped the search before it was 1-minimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minimized<T> {
    /// Items (in their original order) that still fail.
    pub items: Vec<T>,
    /// Trials run.
    pub trials: usize,
    /// The trial bound was reached: `items` fails but may not be minimal.
    pub exhausted: bool,
}

/// Narrows `items` (which fail) to a 1-minimal failing subsequence: removing any one item
/// makes `fails` false. At most `max_trials` calls of `fails`. It first tries each single item
/// from the end (the last case before a failed check is the usual culprit), then runs ddmin.
pub fn ddmin<T: Clone>(
    items: &[T],
    max_trials: usize,
    mut fails: impl FnMut(&[T]) -> bool,
) -> Minimized<T> {
    let mut trials = 0;
    let mut trial = |subset: &[T], trials: &mut usize| {
        *trials += 1;
        fails(subset)
    };
    // Cheap first: one item alone, newest first (bounded to a few tries).
    for item in items.iter().rev().take(4) {
        if items.len() > 1 && trials < max_trials && trial(std::slice::from_ref(item), &mut trials)
        {
            return Minimized { items: vec![item.clone()], trials, exhausted: false };
        }
    }
    let mut current: Vec<T> = items.to_vec();
    let mut n = 2usize;
    while current.len() >= 2 {
        if trials >= max_trials {
            return Minimized { items: current, trials, exhausted: true };
        }
        let chunk = current.len().div_ceil(n);
        let parts: Vec<Vec<T>> = current.chunks(chunk).map(<[T]>::to_vec).collect();
        let mut reduced = false;
        // A part alone fails: keep it.
        for part in &parts {
            if trials >= max_trials {
                break;
            }
            if trial(part, &mut trials) {
                current = part.clone();
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && parts.len() > 2 {
            // Everything but one part fails: drop that part.
            for skip in 0..parts.len() {
                if trials >= max_trials {
                    break;
                }
                let complement: Vec<T> = parts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .flat_map(|(_, p)| p.iter().cloned())
                    .collect();
                if trial(&complement, &mut trials) {
                    current = complement;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (n * 2).min(current.len());
        }
    }
    Minimized { items: current, trials, exhausted: false }
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
        assert_eq!(m.items, vec![42]);
    }
}
