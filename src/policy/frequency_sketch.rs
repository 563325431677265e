//! A count-min sketch of 4-bit counters with periodic aging: the frequency estimator behind
//! W-TinyLFU's admission ([`super::wtinylfu`]).
//!
//! Provenance: the design follows Caffeine's `FrequencySketch` (Ben Manes) and its Rust port
//! in moka (`src/common/frequency_sketch.rs`); the tests below are ported in spirit from
//! theirs (increment once, increment saturates at the maximum, distinct keys, reset halves,
//! heavy hitters rank highest). No code is copied; the hashing and layout are our own.
//!
//! # Design
//!
//! - **Counters.** 4 bits each (0..=15), sixteen packed into one `u64` word. TinyLFU only
//!   needs to tell "rarely" from "often" within one sample period, and 15 is enough for that
//!   (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
//!   ACM ToS 2017, §3.3 "small counters").
//! - **Depth.** 4 rows. Row `i` hashes the key with its own seed (two rounds of
//!   [`mix64`]), picks a word with the low bits and a counter in that word with the top four
//!   bits. The rows share one table (as in Caffeine), so the table of `W` words has
//!   `16·W` counters that every row can address.
//! - **Width.** `W` is the next power of two at or above the expected number of distinct
//!   objects the cache holds, so there are about 16 counters per cached object.
//! - **Estimate.** The minimum of the key's four counters. Like every count-min sketch it
//!   never underestimates (until a reset halves it) and overestimates by at most `e·N/w`
//!   with probability at least `1 - e^-d` for width `w` and depth `d` (Cormode and
//!   Muthukrishnan, "An improved data stream summary: the count-min sketch", 2005); here
//!   `N` is bounded by the sample size, so the error stays small relative to the counts
//!   that matter.
//! - **Aging ("reset").** After `sample_size` increments every counter is halved (a shift
//!   and a mask per word) and the increment count is halved too, correcting for the odd
//!   counters that lost half a count (as Caffeine does). This keeps the sketch a
//!   *recent* frequency estimate (TinyLFU paper §3.3, "freshness mechanism").
//! - **Doorkeeper (optional).** A Bloom filter in front of the counters: a key's first
//!   increment in a sample period only sets its doorkeeper bits; later increments reach
//!   the counters; the estimate adds one when the doorkeeper holds the key. One-hit wonders
//!   then never pollute the counters (TinyLFU paper §3.4.2). A reset clears it.
//!
//! Everything is deterministic: the same increments give the same estimates on every
//! machine.

use super::list::mix64;

/// Largest value a 4-bit counter holds.
pub const MAX_COUNT: u8 = 15;

/// Per-row seeds (digits of pi), so the four rows hash independently.
const ROW_SEEDS: [u64; 4] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7344,
    0xA409_3822_299F_31D0,
    0x082E_FA98_EC4E_6C89,
];

/// Seed of the doorkeeper's hash.
const DOORKEEPER_SEED: u64 = 0x4528_21E6_38D0_1377;

/// Lowest bit of every 4-bit counter in a word.
const LOW_BITS: u64 = 0x1111_1111_1111_1111;

/// Every counter bit but the top one of each counter, after a shift right by one.
const HALF_MASK: u64 = 0x7777_7777_7777_7777;

/// Largest table, in words (2^24 words = 128 MiB); more would not sharpen estimates.
const MAX_WORDS: u64 = 1 << 24;

/// A 4-row count-min sketch of 4-bit counters with aging and an optional doorkeeper.
#[derive(Debug, Clone)]
pub struct FrequencySketch {
    table: Vec<u64>,
    mask: u64,
    sample_size: u64,
    additions: u64,
    doorkeeper: Option<Vec<u64>>,
}

impl FrequencySketch {
    /// A sketch for about `objects` distinct cached objects that halves its counters after
    /// `sample_size` increments; `doorkeeper` puts a Bloom filter in front of the counters.
    pub fn new(objects: u64, sample_size: u64, doorkeeper: bool) -> FrequencySketch {
        let words = objects.clamp(1, MAX_WORDS).next_power_of_two();
        let table = vec![0; words as usize];
        // The doorkeeper has 8 bits per expected object: 128 bits per word of counters.
        let doorkeeper = doorkeeper.then(|| vec![0u64; (words * 2) as usize]);
        FrequencySketch {
            table,
            mask: words - 1,
            sample_size: sample_size.max(1),
            additions: 0,
            doorkeeper,
        }
    }

    /// Number of 4-bit counters.
    #[cfg(test)]
    pub fn counters(&self) -> usize {
        self.table.len() * 16
    }

    /// Increments since the last reset (halved by each reset).
    #[cfg(test)]
    pub fn additions(&self) -> u64 {
        self.additions
    }

    /// Increments between two resets.
    #[cfg(test)]
    pub fn sample_size(&self) -> u64 {
        self.sample_size
    }

    /// Changes the reset period without touching the counters.
    pub fn set_sample_size(&mut self, sample_size: u64) {
        self.sample_size = sample_size.max(1);
    }

    /// Grows the table for `objects` distinct objects; growing clears every counter (the
    /// old positions mean nothing in a wider table), as Caffeine's `ensureCapacity` does.
    /// Returns true when it grew.
    pub fn ensure_capacity(&mut self, objects: u64) -> bool {
        let words = objects.clamp(1, MAX_WORDS).next_power_of_two();
        if words <= self.table.len() as u64 {
            return false;
        }
        let doorkeeper = self.doorkeeper.is_some();
        *self = FrequencySketch::new(objects, self.sample_size, doorkeeper);
        true
    }

    /// Heap bytes of the counters and the doorkeeper.
    pub fn heap_bytes(&self) -> usize {
        let dk = self.doorkeeper.as_ref().map_or(0, |d| d.capacity() * 8);
        self.table.capacity() * 8 + dk
    }

    /// The word index and bit shift of `key`'s counter in row `row`.
    #[inline]
    fn slot(&self, hash: u64, row: usize) -> (usize, u32) {
        let h = mix64(hash ^ ROW_SEEDS[row]);
        ((h & self.mask) as usize, ((h >> 60) as u32) * 4)
    }

    /// The doorkeeper's three bit positions for `key`.
    #[inline]
    fn doorkeeper_bits(hash: u64, bits: u64) -> [u64; 3] {
        let h = mix64(hash ^ DOORKEEPER_SEED);
        let mask = bits - 1;
        [h & mask, (h >> 21) & mask, (h >> 42) & mask]
    }

    /// Records one occurrence of `key`, halving everything once `sample_size` increments
    /// have accumulated.
    pub fn increment(&mut self, key: u64) {
        let hash = mix64(key);
        let absorbed = match &mut self.doorkeeper {
            Some(dk) => {
                let positions = Self::doorkeeper_bits(hash, dk.len() as u64 * 64);
                let present = positions
                    .iter()
                    .all(|&p| dk[(p / 64) as usize] & (1 << (p % 64)) != 0);
                if !present {
                    for p in positions {
                        dk[(p / 64) as usize] |= 1 << (p % 64);
                    }
                }
                !present
            }
            None => false,
        };
        if !absorbed {
            for row in 0..4 {
                let (word, shift) = self.slot(hash, row);
                if (self.table[word] >> shift) & 0xF < u64::from(MAX_COUNT) {
                    self.table[word] += 1 << shift;
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.sample_size {
            self.reset();
        }
    }

    /// The estimated number of occurrences of `key` in the recent past (0..=15, or 16 with
    /// the doorkeeper).
    pub fn frequency(&self, key: u64) -> u8 {
        let hash = mix64(key);
        let mut min = MAX_COUNT;
        for row in 0..4 {
            let (word, shift) = self.slot(hash, row);
            min = min.min(((self.table[word] >> shift) & 0xF) as u8);
        }
        if let Some(dk) = &self.doorkeeper {
            let positions = Self::doorkeeper_bits(hash, dk.len() as u64 * 64);
            if positions
                .iter()
                .all(|&p| dk[(p / 64) as usize] & (1 << (p % 64)) != 0)
            {
                min += 1;
            }
        }
        min
    }

    /// Halves every counter and the increment count, and clears the doorkeeper.
    pub fn reset(&mut self) {
        let mut odd = 0u64;
        for word in &mut self.table {
            odd += u64::from((*word & LOW_BITS).count_ones());
            *word = (*word >> 1) & HALF_MASK;
        }
        // Each increment touched four counters; odd counters lost half a count each.
        self.additions = self.additions.saturating_sub(odd / 4) / 2;
        if let Some(dk) = &mut self.doorkeeper {
            dk.fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increment_once_counts_one() {
        let mut sketch = FrequencySketch::new(512, 5120, false);
        sketch.increment(42);
        assert_eq!(sketch.frequency(42), 1);
    }

    #[test]
    fn increment_saturates_at_fifteen() {
        let mut sketch = FrequencySketch::new(512, 5120, false);
        for _ in 0..20 {
            sketch.increment(42);
        }
        assert_eq!(sketch.frequency(42), MAX_COUNT);
    }

    #[test]
    fn distinct_keys_count_apart() {
        let mut sketch = FrequencySketch::new(512, 5120, false);
        sketch.increment(1);
        sketch.increment(2);
        sketch.increment(2);
        assert_eq!(sketch.frequency(1), 1);
        assert_eq!(sketch.frequency(2), 2);
        assert_eq!(sketch.frequency(3), 0);
    }

    #[test]
    fn reset_halves_counters_and_additions() {
        let mut sketch = FrequencySketch::new(64, 1_000_000, false);
        for _ in 0..14 {
            sketch.increment(7);
        }
        for k in 100..400 {
            sketch.increment(k);
        }
        let before = sketch.additions();
        let freq = sketch.frequency(7);
        assert!(freq >= 14);
        sketch.reset();
        assert_eq!(sketch.frequency(7), freq / 2);
        assert!(
            sketch.additions() <= before / 2,
            "{} > {}",
            sketch.additions(),
            before / 2
        );
        assert!(sketch.additions() >= before / 2 - 300 / 4 - 1);
    }

    #[test]
    fn reset_happens_after_sample_size_increments() {
        let mut sketch = FrequencySketch::new(64, 640, false);
        let mut reset_seen = false;
        for k in 0..640u64 {
            let before = sketch.additions();
            sketch.increment(k % 97);
            if sketch.additions() < before {
                reset_seen = true;
            }
        }
        assert!(reset_seen, "no reset within sample_size increments");
        assert!(sketch.additions() < 640 / 2 + 1);
    }

    #[test]
    fn heavy_hitters_rank_highest() {
        // The usual sample size (10 x objects), so aging keeps the noise down.
        let mut sketch = FrequencySketch::new(512, 5120, false);
        // Background noise: many keys seen once.
        for k in 100..20_000u64 {
            sketch.increment(k);
        }
        // Key i is seen i times (even i only).
        for i in (0..10u64).step_by(2) {
            for _ in 0..i {
                sketch.increment(i);
            }
        }
        let popularity: Vec<u8> = (0..10u64).map(|k| sketch.frequency(k)).collect();
        for i in (2..10usize).step_by(2) {
            assert!(popularity[i] >= popularity[i - 2], "{popularity:?}");
        }
        for i in (1..10usize).step_by(2) {
            // Keys never incremented stay below the heaviest hitter.
            assert!(popularity[i] < popularity[8], "{popularity:?}");
        }
    }

    #[test]
    fn doorkeeper_absorbs_first_occurrence_and_clears_on_reset() {
        let mut sketch = FrequencySketch::new(512, 1 << 40, true);
        sketch.increment(9);
        assert_eq!(sketch.frequency(9), 1, "the doorkeeper counts one");
        sketch.increment(9);
        assert_eq!(
            sketch.frequency(9),
            2,
            "doorkeeper plus one counter increment"
        );
        sketch.reset();
        // Counters 1 -> 0, doorkeeper cleared.
        assert_eq!(sketch.frequency(9), 0);
    }

    #[test]
    fn growing_clears_and_keeps_parameters() {
        let mut sketch = FrequencySketch::new(16, 160, true);
        sketch.increment(1);
        assert!(!sketch.ensure_capacity(16));
        assert_eq!(sketch.frequency(1), 1);
        assert!(sketch.ensure_capacity(1000));
        assert_eq!(sketch.frequency(1), 0);
        assert_eq!(sketch.counters(), 1024 * 16);
        assert_eq!(sketch.sample_size(), 160);
    }
}
