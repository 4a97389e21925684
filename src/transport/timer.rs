//! A deadline timer precise to well under a millisecond, for drivers of pure state machines
//! whose outputs are judged on their timing (the simulator's delayed answers, STmin gaps).
//!
//! tokio's timer wheel has a 1 ms resolution and rounds every deadline up to the next tick,
//! so a `sleep_until` wakes 0-2 ms late (benches/runner_overhead.rs measured a median 1.35 ms
//! on a 150 ms delay). [`PreciseTimer`] keeps tokio for the long part of a wait and hands only
//! the last [`HANDOVER`] to a small OS thread that sleeps on a futex with the exact remaining
//! time (the kernel's hrtimers, late by the timer slack, ~50 us), then wakes the task. Nothing
//! spins, and a deadline that is moved again and again (an inactivity timer reset by every
//! message) costs a tokio timer reset only: the thread is told of a deadline only once it is
//! near.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;
use tokio::sync::mpsc as async_mpsc;
use tokio::time::{Instant, Sleep};

/// How long before a deadline the OS thread takes over from tokio's timer: more than tokio's
/// worst rounding (one 1 ms tick) plus scheduling slack.
pub const HANDOVER: Duration = Duration::from_millis(3);
/// The thread only sleeps and sends a number.
const THREAD_STACK: usize = 64 * 1024;

/// A generation number: each deadline handed to the thread gets a new one, so a wake-up for a
/// deadline that was moved meanwhile is recognised and ignored.
type Generation = u64;

/// One resettable deadline. Drive it with [`PreciseTimer::set`] (after every change of the
/// state machine's next deadline) and await [`PreciseTimer::fired`] in a `select!`.
pub struct PreciseTimer {
    deadline: Option<Instant>,
    coarse: std::pin::Pin<Box<Sleep>>,
    /// The generation of the deadline the thread holds, when it holds the current one.
    handed: Option<Generation>,
    next_generation: Generation,
    to_thread: mpsc::Sender<(Generation, Option<std::time::Instant>)>,
    from_thread: async_mpsc::UnboundedReceiver<Generation>,
}

impl PreciseTimer {
    /// Starts the helper thread (it ends when the timer is dropped).
    pub fn new() -> std::io::Result<PreciseTimer> {
        let (to_thread, requests) = mpsc::channel();
        let (fired, from_thread) = async_mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("precise-timer".into())
            .stack_size(THREAD_STACK)
            .spawn(move || sleeper(requests, fired))?;
        Ok(PreciseTimer {
            deadline: None,
            coarse: Box::pin(tokio::time::sleep_until(Instant::now())),
            handed: None,
            next_generation: 0,
            to_thread,
            from_thread,
        })
    }

    /// The deadline, or none; setting the one already set changes nothing.
    pub fn set(&mut self, deadline: Option<Instant>) {
        if deadline == self.deadline {
            return;
        }
        self.deadline = deadline;
        if self.handed.take().is_some() {
            // The thread must not wake us for the old deadline (a late wake-up is ignored by
            // its generation anyway; this spares the thread the sleep).
            let generation = self.generation();
            let _ = self.to_thread.send((generation, None));
        }
        if let Some(at) = deadline {
            self.coarse.as_mut().reset(at.checked_sub(HANDOVER).unwrap_or(at));
        }
    }

    /// The deadline set now.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn generation(&mut self) -> Generation {
        self.next_generation += 1;
        self.next_generation
    }

    /// Completes at (never before) the deadline, which is then cleared; pends forever without
    /// one. Cancel safe: dropping the future loses nothing.
    pub async fn fired(&mut self) {
        loop {
            let Some(at) = self.deadline else { return std::future::pending().await };
            match self.handed {
                None => {
                    (&mut self.coarse).await;
                    let generation = self.generation();
                    if self.to_thread.send((generation, Some(at.into_std()))).is_err() {
                        // No thread (it cannot end before us; defensive): tokio's precision.
                        tokio::time::sleep_until(at).await;
                        self.deadline = None;
                        return;
                    }
                    self.handed = Some(generation);
                }
                Some(generation) => match self.from_thread.recv().await {
                    Some(g) if g == generation => {
                        self.handed = None;
                        self.deadline = None;
                        return;
                    }
                    // A wake-up for a deadline replaced since.
                    Some(_) => {}
                    None => return std::future::pending().await,
                },
            }
        }
    }
}

/// The helper thread: sleeps until the latest deadline it was given, says so, and ends when
/// the timer is dropped.
fn sleeper(
    requests: mpsc::Receiver<(Generation, Option<std::time::Instant>)>,
    fired: async_mpsc::UnboundedSender<Generation>,
) {
    let mut pending: Option<(Generation, std::time::Instant)> = None;
    loop {
        let request = match pending {
            None => match requests.recv() {
                Ok(r) => r,
                Err(_) => return,
            },
            Some((generation, at)) => {
                let now = std::time::Instant::now();
                if now >= at {
                    pending = None;
                    if fired.send(generation).is_err() {
                        return;
                    }
                    continue;
                }
                match requests.recv_timeout(at - now) {
                    Ok(r) => r,
                    // Checked again at the top: a timed wait never returns early, but be sure.
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        };
        pending = match request {
            (generation, Some(at)) => Some((generation, at)),
            (_, None) => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn fires_at_the_deadline_and_never_before() {
        runtime().block_on(async {
            let mut timer = PreciseTimer::new().unwrap();
            for delay_ms in [0u64, 1, 7] {
                let at = Instant::now() + Duration::from_millis(delay_ms);
                timer.set(Some(at));
                timer.fired().await;
                let now = Instant::now();
                assert!(now >= at, "fired {:?} early", at - now);
                assert_eq!(timer.deadline(), None);
            }
        });
    }

    #[test]
    fn a_moved_deadline_fires_only_at_its_new_time() {
        runtime().block_on(async {
            let mut timer = PreciseTimer::new().unwrap();
            let first = Instant::now() + Duration::from_millis(4);
            timer.set(Some(first));
            // Let the thread take the first deadline over, then move it later.
            let _ = tokio::time::timeout(Duration::from_millis(2), timer.fired()).await;
            let second = first + Duration::from_millis(20);
            timer.set(Some(second));
            timer.fired().await;
            assert!(Instant::now() >= second);
        });
    }

    #[test]
    fn without_a_deadline_it_never_fires() {
        runtime().block_on(async {
            let mut timer = PreciseTimer::new().unwrap();
            timer.set(Some(Instant::now() + Duration::from_millis(5)));
            timer.set(None);
            let waited = tokio::time::timeout(Duration::from_millis(20), timer.fired()).await;
            assert!(waited.is_err());
        });
    }
}
