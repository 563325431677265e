//! The clock memcached's expiry, flush and `stats` ages are measured on, in whole seconds.
//!
//! memcached keeps `current_time` in seconds (`memcached.c`, `clock_handler`) and compares
//! every exptime against it; so do we. The clock is the caller's: [`ServerClock::wall`] reads the
//! system time for a real server, [`ServerClock::manual`] is moved by hand, for tests (as moka's
//! `Clock::mock()` in `src/common/time/clock.rs`) and for trace replay, where the trace's own
//! timestamps drive it. A manual clock is shared: clones see the same time, so a test can
//! move it while a server thread reads it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in unix seconds; cheap to clone, clones share a manual clock's time.
#[derive(Clone, Debug)]
pub struct ServerClock {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Wall,
    Manual(Arc<AtomicU64>),
}

impl ServerClock {
    /// The system clock: unix seconds from [`SystemTime`].
    pub fn wall() -> ServerClock {
        ServerClock { kind: Kind::Wall }
    }

    /// A clock that reads `start` until moved with [`ServerClock::set`] or [`ServerClock::advance`].
    pub fn manual(start: u64) -> ServerClock {
        ServerClock {
            kind: Kind::Manual(Arc::new(AtomicU64::new(start))),
        }
    }

    /// Now, in seconds (unix seconds for the wall clock).
    pub fn now(&self) -> u64 {
        match &self.kind {
            Kind::Wall => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Kind::Manual(now) => now.load(Ordering::Acquire),
        }
    }

    /// True for a manual clock.
    pub fn is_manual(&self) -> bool {
        matches!(self.kind, Kind::Manual(_))
    }

    /// Sets a manual clock to `now` (it may go backwards); false, and no effect, on the wall
    /// clock.
    pub fn set(&self, now: u64) -> bool {
        match &self.kind {
            Kind::Wall => false,
            Kind::Manual(time) => {
                time.store(now, Ordering::Release);
                true
            }
        }
    }

    /// Moves a manual clock forward by `seconds`; false, and no effect, on the wall clock.
    pub fn advance(&self, seconds: u64) -> bool {
        match &self.kind {
            Kind::Wall => false,
            Kind::Manual(time) => {
                let _ = time.fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                    Some(t.saturating_add(seconds))
                });
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_between_clones() {
        let clock = ServerClock::manual(100);
        let other = clock.clone();
        assert!(other.advance(5));
        assert_eq!(clock.now(), 105);
        assert!(clock.set(7));
        assert_eq!(other.now(), 7);
    }

    #[test]
    fn wall_clock_reads_unix_time_and_ignores_moves() {
        let clock = ServerClock::wall();
        // 2020-01-01 in unix seconds: any real system clock is later.
        assert!(clock.now() > 1_577_836_800);
        assert!(!clock.advance(10));
        assert!(!clock.set(0));
        assert!(!clock.is_manual());
    }
}
