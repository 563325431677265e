//! The clock memcached's expiry, flush and `stats` ages are measured on, in whole seconds.
//!
//! memcached keeps `current_time` in seconds (`memcached.c`, `clock_handler`) and compares
//! every exptime against it; so do we. The clock is the caller's: [`ServerClock::wall`] reads the
//! system time for a real server, [`ServerClock::manual`] is moved by hand, for tests (as moka's
//! `Clock::mock()` in `src/common/time/clock.rs`) and for trace replay, where the trace's own
//! timestamps drive it. A manual clock is shared: clones see the same time, so a test can
//! move it while a server thread reads it.
//!
//! Either clock can also be shifted by a signed number of seconds ([`ServerClock::shift`]):
//! memcached's debug build has a `debugtime N` command that adds N seconds to its
//! `current_time` (`proto_text.c`, `process_debugtime_command`), and memcached's test suite
//! uses it to expire items without sleeping. The shift is shared by clones too.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in unix seconds; cheap to clone, clones share a manual clock's time.
#[derive(Clone, Debug)]
pub struct ServerClock {
    kind: Kind,
    /// Seconds added to the source's time ([`ServerClock::shift`]).
    offset: Arc<AtomicI64>,
}

#[derive(Clone, Debug)]
enum Kind {
    Wall,
    Manual(Arc<AtomicU64>),
}

impl ServerClock {
    /// The system clock: unix seconds from [`SystemTime`].
    pub fn wall() -> ServerClock {
        ServerClock {
            kind: Kind::Wall,
            offset: Arc::new(AtomicI64::new(0)),
        }
    }

    /// A clock that reads `start` until moved with [`ServerClock::set`] or [`ServerClock::advance`].
    pub fn manual(start: u64) -> ServerClock {
        ServerClock {
            kind: Kind::Manual(Arc::new(AtomicU64::new(start))),
            offset: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Now, in seconds (unix seconds for the wall clock), shifted by [`ServerClock::shift`].
    pub fn now(&self) -> u64 {
        let source = match &self.kind {
            Kind::Wall => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Kind::Manual(now) => now.load(Ordering::Acquire),
        };
        source.saturating_add_signed(self.offset.load(Ordering::Acquire))
    }

    /// Moves this clock (and its clones) by `seconds`, forwards or backwards, on top of its
    /// source: memcached's debug `debugtime` command. Works on the wall clock too, unlike
    /// [`ServerClock::set`] and [`ServerClock::advance`]. A reading never goes below 0.
    pub fn shift(&self, seconds: i64) {
        let _ = self
            .offset
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                Some(o.saturating_add(seconds))
            });
    }

    /// The seconds [`ServerClock::shift`] has added so far.
    pub fn shifted(&self) -> i64 {
        self.offset.load(Ordering::Acquire)
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

    #[test]
    fn shift_moves_either_clock_and_is_shared() {
        let manual = ServerClock::manual(100);
        let other = manual.clone();
        other.shift(30);
        assert_eq!(manual.now(), 130);
        manual.shift(-200);
        assert_eq!(manual.now(), 0, "never below 0");
        assert_eq!(other.shifted(), -170);
        manual.shift(170);
        assert!(manual.advance(5));
        assert_eq!(other.now(), 105);

        let wall = ServerClock::wall();
        let before = wall.now();
        wall.clone().shift(3600);
        let after = wall.now();
        // The wall clock itself may tick between the readings.
        assert!(
            (before + 3600..=before + 3602).contains(&after),
            "{before} {after}"
        );
    }
}
