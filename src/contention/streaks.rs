//! Update streaks: how many updates in a row one client completes before another client's
//! update comes between them, in the order the clients learn of their updates.
//!
//! On one hot counter this shows how the clients take turns. Clients that share the server
//! evenly and independently alternate often (a mean streak near 1); clients that hold a
//! core while others wait for one finish several updates in a row, so fewer of them contend
//! at any moment than are connected. `--mode net` and `--mode sim` report it side by side
//! (the row's `update_streak_mean`), which makes that difference a number.
//!
//! The drivers call [`Streaks::record`] as each update completes: the simulator in its event
//! order, the threads and net modes from every client thread at once (the order of the
//! atomic updates then stands for the order of completion; two updates completing within
//! nanoseconds of each other may be counted in either order).

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
