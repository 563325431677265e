//! [`HotKeys`]: the few keys that carry a large share of the requests, found while the
//! trace streams, so that SHARDS can follow them exactly instead of by chance.
//!
//! A spatial sample at rate `R` holds a key or not by its hash. A key with a share `f` of
//! the requests then adds `f / R` or nothing to the sample's request count, and on a skewed
//! trace (Zipf with α near 1 gives its hottest key 7% of the requests) that single draw
//! decides the small-size end of the curve: fixed-rate SHARDS at 1% misses by 0.3 there.
//! Following the hot keys with probability 1 and the rest at `R`, each request weighted by
//! the inverse of its key's probability (a stratified Horvitz–Thompson estimate), removes
//! that variance. Whether a key is hot depends on its request count, never on its sampling
//! hash, so the estimate stays unbiased.
//!
//! Counting: one request in [`SUBSAMPLE`], picked at random (a fixed stride would never
//! see a key whose period shares a factor with it), goes into a count-min sketch of 4 rows of `4 *
//! budget` counters (rounded up to a power of two); a key whose estimated count reaches
//! twice a counter's average share, and at least [`MIN_COUNT`], is promoted, until
//! `budget` keys are. On a Zipf trace that is roughly the `budget` hottest keys, which
//! carry most requests and most of the keys at short stack distances. A 64 Kibit filter
//! in front of the set of promoted keys keeps the test for every request to one bit,
//! mostly.

use hashbrown::HashSet;

use crate::trace::sampling::sample_hash;

/// One request in this many is counted.
pub const SUBSAMPLE: u64 = 8;
/// The fewest counted requests that promote a key (so the first requests of a trace do not
/// promote everything they see).
pub const MIN_COUNT: u32 = 4;
const ROWS: usize = 4;
const FILTER_BITS: usize = 1 << 16;
/// Salt of the sketch's hash, so that it is independent of the sampling hash.
const SKETCH_SALT: u64 = 0x5EED_0F40_774E_7500;

/// Finds and remembers the hot keys; see the module documentation.
#[derive(Debug, Clone)]
pub struct HotKeys {
    budget: usize,
    columns: usize,
    sketch: Vec<u32>,
    counted: u64,
    /// Xorshift state that picks the requests counted.
    pick: u64,
    filter: Vec<u64>,
    promoted: HashSet<u64>,
}

impl HotKeys {
    /// Promotes up to `budget` keys, the hottest first, roughly.
    pub fn new(budget: usize) -> HotKeys {
        let columns = (4 * budget).next_power_of_two().max(64);
        HotKeys {
            budget,
            columns,
            sketch: vec![0; ROWS * columns],
            counted: 0,
            pick: 0x9E37_79B9_7F4A_7C15,
            filter: vec![0; FILTER_BITS / 64],
            promoted: HashSet::new(),
        }
    }

    /// Sees one request of `key` and says whether the key is hot (now or from before).
    #[inline]
    pub fn observe(&mut self, key: u64) -> bool {
        let hash = sample_hash(key, SKETCH_SALT);
        // Marsaglia's xorshift64: cheap, and no period a trace would share.
        self.pick ^= self.pick << 13;
        self.pick ^= self.pick >> 7;
        self.pick ^= self.pick << 17;
        if self.pick.is_multiple_of(SUBSAMPLE) {
            self.count(key, hash);
        }
        let bit = (hash >> 48) as usize;
        self.filter[bit / 64] & (1 << (bit % 64)) != 0 && self.promoted.contains(&key)
    }

    fn count(&mut self, key: u64, hash: u64) {
        self.counted += 1;
        let mut estimate = u32::MAX;
        // Each row's column from its own 16 bits of a second hash.
        let spread = hash.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for row in 0..ROWS {
            let column = ((spread >> (16 * row)) as usize) & (self.columns - 1);
            let cell = &mut self.sketch[row * self.columns + column];
            *cell = cell.saturating_add(1);
            estimate = estimate.min(*cell);
        }
        if self.promoted.len() >= self.budget {
            return;
        }
        let needed = (2.0 * self.counted as f64 / self.columns as f64).max(f64::from(MIN_COUNT));
        if f64::from(estimate) >= needed && self.promoted.insert(key) {
            let bit = (hash >> 48) as usize;
            self.filter[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// The most keys it promotes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The keys promoted so far.
    pub fn len(&self) -> usize {
        self.promoted.len()
    }

    /// True when no key was promoted.
    pub fn is_empty(&self) -> bool {
        self.promoted.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.sketch.capacity() * 4 + self.filter.capacity() * 8 + self.promoted.capacity() * 9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_with_a_large_share_is_promoted_and_a_rare_one_is_not() {
        let mut hot = HotKeys::new(16);
        let mut promoted_at = None;
        for i in 0..200_000u64 {
            // Key 7 is every 20th request (5%); the others are each seen once.
            let key = if i % 20 == 0 { 7 } else { 1_000_000 + i };
            if hot.observe(key) && key == 7 && promoted_at.is_none() {
                promoted_at = Some(i);
            }
        }
        assert!(promoted_at.is_some_and(|i| i < 5_000), "{promoted_at:?}");
        assert_eq!(hot.len(), 1);
    }
}
