//! The clocks a [`super::Cache`] measures TTLs on: wall time, or a logical clock the
//! program advances itself (one tick per request, per ping, per batch…), as cachetools'
//! `TTLCache(timer=…)` takes any timer. Tests use the logical clock and move it by hand
//! (moka's `Clock::mock()` idea, without the `cfg(test)`: users want it too).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of the current time in ticks. TTLs are given in the same ticks.
///
/// `Sync` as well as `Send` because the shards of a [`super::sync::Cache`] read one clock
/// (through an `Arc`, which is itself a clock), so an entry's expiry means the same time in
/// every shard.
pub trait Clock: Send + Sync {
    /// The time now, in ticks; never decreases.
    fn now(&self) -> u64;
}

/// A shared clock is a clock: the shards of a sync cache, or a program and its caches,
/// read the same one.
impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> u64 {
        (**self).now()
    }
}

/// Wall time: milliseconds since the clock was made (a monotonic [`Instant`], so changes
/// to the system clock do not expire or revive entries).
#[derive(Debug, Clone, Copy)]
pub struct WallClock {
    start: Instant,
}

impl WallClock {
    /// A wall clock that reads 0 now.
    pub fn new() -> WallClock {
        WallClock {
            start: Instant::now(),
        }
    }

    /// `duration` in this clock's ticks (milliseconds, saturating): what to pass as a TTL.
    pub fn ticks(duration: Duration) -> u64 {
        u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
    }
}

impl Default for WallClock {
    fn default() -> WallClock {
        WallClock::new()
    }
}

impl Clock for WallClock {
    fn now(&self) -> u64 {
        WallClock::ticks(self.start.elapsed())
    }
}

/// A clock that moves only when the program moves it. Clones share one time, so the
/// program keeps a clone and advances it while the cache reads it.
///
/// ```
/// use cachelab::cache::{Clock, LogicalClock};
/// let clock = LogicalClock::new();
/// let handle = clock.clone();
/// handle.advance(3);
/// assert_eq!(clock.now(), 3);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LogicalClock {
    ticks: Arc<AtomicU64>,
}

impl LogicalClock {
    /// A logical clock at 0.
    pub fn new() -> LogicalClock {
        LogicalClock::default()
    }

    /// Moves the clock forward by `ticks`.
    pub fn advance(&self, ticks: u64) {
        self.ticks.fetch_add(ticks, Ordering::Relaxed);
    }

    /// Moves the clock forward by one tick (one request, one ping).
    pub fn tick(&self) {
        self.advance(1);
    }
}

impl Clock for LogicalClock {
    fn now(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }
}
