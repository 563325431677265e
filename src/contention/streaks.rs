//! Update streaks: how many updates in a row one client completes before another client's
//! update comes between them, in the order the clients learn of their updates.
//!
//! On one hot counter this shows how the clients take turns: near 1 when the turn passes
//! from client to client, more when a client wins several times in a row (its round trips
//! shorter than the others', or it holds a core while they wait). The row's
//! `update_streak_mean` puts a number on it in every mode, so a simulation's turn-taking can
//! be checked against a network run's (`scripts/contention_agreement.py` prints both).
//!
//! Every client of a run holds the run's [`Streaks`] and records each update as it
//! completes it: in the simulator's event order, or in threads and net modes from every
//! client thread at once (the order of the atomic updates then stands for the order of
//! completion; two updates completing within nanoseconds of each other may be counted in
//! either order).

use std::sync::atomic::{AtomicU64, Ordering};

/// No update recorded yet.
const NOBODY: u64 = u64::MAX;

/// Counts streaks of updates by one client; shared by the client threads of a run.
#[derive(Debug)]
pub struct Streaks {
    /// The client of the last update recorded.
    last: AtomicU64,
    /// Streaks started (a recorded update whose client differs from the last one's).
    streaks: AtomicU64,
    /// Updates recorded.
    updates: AtomicU64,
}

impl Default for Streaks {
    fn default() -> Streaks {
        Streaks {
            last: AtomicU64::new(NOBODY),
            streaks: AtomicU64::new(0),
            updates: AtomicU64::new(0),
        }
    }
}

impl Streaks {
    /// Records an update completed by `client`.
    pub fn record(&self, client: u32) {
        let previous = self.last.swap(u64::from(client), Ordering::Relaxed);
        if previous != u64::from(client) {
            self.streaks.fetch_add(1, Ordering::Relaxed);
        }
        self.updates.fetch_add(1, Ordering::Relaxed);
    }

    /// The mean number of updates per streak, or `None` before any update.
    pub fn mean(&self) -> Option<f64> {
        let streaks = self.streaks.load(Ordering::Relaxed);
        (streaks > 0).then(|| self.updates.load(Ordering::Relaxed) as f64 / streaks as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaks_by_hand() {
        let s = Streaks::default();
        assert_eq!(s.mean(), None);
        // 0 0 1 0 0 0 2: streaks [0 0] [1] [0 0 0] [2], 7 updates in 4 streaks.
        for client in [0, 0, 1, 0, 0, 0, 2] {
            s.record(client);
        }
        assert_eq!(s.mean(), Some(7.0 / 4.0));
    }

    #[test]
    fn strict_alternation_is_one_and_one_client_is_everything() {
        let alternating = Streaks::default();
        let alone = Streaks::default();
        for i in 0..10 {
            alternating.record(i % 2);
            alone.record(3);
        }
        assert_eq!(alternating.mean(), Some(1.0));
        assert_eq!(alone.mean(), Some(10.0));
    }
}
