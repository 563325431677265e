//! [`Counters`]: what a replay counts for one configuration, and the ratios built on them.
//!
//! They live beside the [`super::Policy`] trait because its batch loop
//! ([`super::Policy::get_batch`]) counts into them; the engine (`sim`) re-exports them.

use serde::{Deserialize, Serialize};

use super::Outcome;

/// Counts for one configuration over the counted (post-warm-up) part of a trace.
///
/// `requests`, `hits`, `misses` and the byte counts cover reads only; with `--ops`, writes
/// and deletes are counted apart. Evictions and expirations count every request's effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Reads counted.
    pub requests: u64,
    /// Reads that hit.
    pub hits: u64,
    /// Reads that missed.
    pub misses: u64,
    /// Bytes the reads asked for.
    pub bytes_requested: u64,
    /// Bytes of the reads that missed.
    pub bytes_missed: u64,
    /// Objects evicted to make room.
    pub evictions: u64,
    /// Objects dropped because their TTL ran out.
    pub expirations: u64,
    /// Requests whose object was not stored because it can never fit (larger than the
    /// capacity, or over memcached's `-I`); each is also a miss when it is a read.
    pub refused: u64,
    /// Writes applied (only with `--ops`).
    pub writes: u64,
    /// Deletes applied (only with `--ops`).
    pub deletes: u64,
}

impl Counters {
    /// Records a read of `size` bytes with its outcome.
    #[inline]
    pub fn record_read(&mut self, size: u32, outcome: Outcome) {
        self.requests += 1;
        self.bytes_requested += u64::from(size);
        if outcome.hit {
            self.hits += 1;
        } else {
            self.misses += 1;
            self.bytes_missed += u64::from(size);
        }
        self.record_side_effects(outcome);
    }

    /// Records evictions and expirations of any request.
    #[inline]
    pub fn record_side_effects(&mut self, outcome: Outcome) {
        self.evictions += u64::from(outcome.evictions);
        self.expirations += u64::from(outcome.expirations);
        self.refused += u64::from(outcome.refused);
    }

    /// Misses over reads; 0 for no reads.
    pub fn miss_ratio(&self) -> f64 {
        ratio(self.misses, self.requests)
    }

    /// Hits over reads; 0 for no reads.
    pub fn hit_ratio(&self) -> f64 {
        ratio(self.hits, self.requests)
    }

    /// Missed bytes over requested bytes; 0 when nothing was requested.
    pub fn byte_miss_ratio(&self) -> f64 {
        ratio(self.bytes_missed, self.bytes_requested)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
