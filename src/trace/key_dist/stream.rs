//! [`KeyStream`]: the keys of a generated trace, one request after another, from a
//! [`KeyDist`] with its running state.
//!
//! Zipf ranks are sampled exactly, by inversion of the cumulative distribution over all
//! `keys` ranks (8 bytes per key, built once, searched from a guide table). Rank r is then
//! mapped to key `π(r)`, where π is a seeded pseudo-random permutation of `0..keys` (a
//! 4-round Feistel network with cycle walking), so that hot keys are scattered instead of
//! being 0, 1, 2, …; π depends only on the seed and `keys`. In a mix each component keeps
//! its own state: a scan advances only on the requests that pick it. Every draw comes from
//! the caller's `ChaCha8Rng`, in the order [`crate::trace::generate`] has always made them.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{DistError, KeyDist, MAX_ZIPF_KEYS};
use crate::trace::splitmix::splitmix64;

/// The keys of one generated trace: a [`KeyDist`] over `0..keys` with its running state
/// (a scan's position, a hot set's window, each mix component's own).
#[derive(Debug, Clone)]
pub struct KeyStream {
    source: Source,
    keys: u64,
}

impl KeyStream {
    /// The stream of `dist` over `keys` (≥ 1) keys for a trace generated with `seed`;
    /// draws a hot set's first window from `rng`. Fails when the distribution does not fit
    /// the key space (a loop longer than it, a Zipf table too large).
    pub fn new(
        dist: &KeyDist,
        keys: u64,
        seed: u64,
        rng: &mut ChaCha8Rng,
    ) -> Result<KeyStream, DistError> {
        if keys == 0 {
            return Err(DistError::Options(
                "a generated trace needs at least 1 key".to_string(),
            ));
        }
        let permutation = Permutation::new(keys, splitmix64(seed ^ PERM_STREAM));
        Ok(KeyStream {
            source: Source::new(dist, keys, &permutation, rng)?,
            keys,
        })
    }

    /// The key of request number `index` (requests are numbered from 0, one call each).
    pub fn next_key(&mut self, index: u64, rng: &mut ChaCha8Rng) -> u64 {
        self.source.next_key(index, self.keys, rng)
    }
}

/// Separates the rank-permutation keys from other uses of the same trace seed.
pub(crate) const PERM_STREAM: u64 = 0x9E12_3A7C_0FF1_CE55;

/// A key distribution with its running state.
#[derive(Debug, Clone)]
enum Source {
    Zipf(ZipfSampler, Permutation),
    Uniform,
    Cycle {
        len: u64,
        next: u64,
    },
    HotSet {
        size: u64,
        shift: u64,
        p: f64,
        start: u64,
        epoch: u64,
    },
    Mix {
        components: Vec<Source>,
        cumulative: Vec<f64>,
    },
}

impl Source {
    fn new(
        dist: &KeyDist,
        keys: u64,
        permutation: &Permutation,
        rng: &mut ChaCha8Rng,
    ) -> Result<Source, DistError> {
        Ok(match dist {
            KeyDist::Zipf { alpha } => {
                if keys > MAX_ZIPF_KEYS {
                    return Err(DistError::Options(format!(
                        "{dist} over {keys} keys: the Zipf table needs 8 bytes per key; \
                         use at most {MAX_ZIPF_KEYS} keys"
                    )));
                }
                Source::Zipf(ZipfSampler::new(*alpha, keys as usize), permutation.clone())
            }
            KeyDist::Uniform => Source::Uniform,
            KeyDist::Hot => Source::Cycle { len: 1, next: 0 },
            KeyDist::Scan | KeyDist::Loop { len: None } => Source::Cycle { len: keys, next: 0 },
            KeyDist::Loop { len: Some(len) } => {
                if *len > keys {
                    return Err(DistError::Options(format!(
                        "{dist}: the loop is longer than the {keys} keys of the trace"
                    )));
                }
                Source::Cycle { len: *len, next: 0 }
            }
            KeyDist::HotSet { size, shift, p } => {
                let size = (*size).min(keys);
                Source::HotSet {
                    size,
                    shift: *shift,
                    p: *p,
                    start: rng.random_range(0..=keys - size),
                    epoch: 0,
                }
            }
            KeyDist::Mix(parts) => {
                let mut components = Vec::with_capacity(parts.len());
                let mut cumulative = Vec::with_capacity(parts.len());
                let mut total = 0.0;
                for (part, weight) in parts {
                    components.push(Source::new(part, keys, permutation, rng)?);
                    total += weight;
                    cumulative.push(total);
                }
                if components.is_empty() || !(total > 0.0 && total.is_finite()) {
                    return Err(DistError::Options(format!(
                        "{dist}: a mix needs components with positive weights"
                    )));
                }
                Source::Mix {
                    components,
                    cumulative,
                }
            }
        })
    }

    /// The key of request number `index`.
    fn next_key(&mut self, index: u64, keys: u64, rng: &mut ChaCha8Rng) -> u64 {
        match self {
            Source::Zipf(sampler, permutation) => {
                permutation.apply(sampler.sample_rank(rng) as u64)
            }
            Source::Uniform => rng.random_range(0..keys),
            Source::Cycle { len, next } => {
                let key = *next;
                *next = if key + 1 == *len { 0 } else { key + 1 };
                key
            }
            Source::HotSet {
                size,
                shift,
                p,
                start,
                epoch,
            } => {
                if *shift > 0 && index / *shift != *epoch {
                    *epoch = index / *shift;
                    *start = rng.random_range(0..=keys - *size);
                }
                if rng.random::<f64>() < *p {
                    *start + rng.random_range(0..*size)
                } else {
                    rng.random_range(0..keys)
                }
            }
            Source::Mix {
                components,
                cumulative,
            } => {
                let total = cumulative[cumulative.len() - 1];
                let x = rng.random::<f64>() * total;
                let pick = cumulative
                    .partition_point(|&c| c <= x)
                    .min(components.len() - 1);
                components[pick].next_key(index, keys, rng)
            }
        }
    }
}

/// Exact Zipf sampling over ranks `0..n` (rank 0 is the most popular, P ∝ 1/(rank+1)^alpha)
/// by inversion of the cumulative weights; correct for every alpha ≥ 0.
///
/// A plain binary search over a large table costs a cache miss per level (about 2 µs per
/// sample at 10^7 keys), so a guide table (Chen and Asau, 1974) of n/4 entries holds, for
/// each quarter-key-wide slice of [0, 1), the first rank whose cumulative weight exceeds the
/// slice's start; the search walks from there, on average fewer than 5 steps in one or two
/// cache lines. It returns exactly the rank a binary search would.
#[derive(Debug, Clone)]
pub(crate) struct ZipfSampler {
    pub(crate) cumulative: Vec<f64>,
    guide: Vec<u32>,
}

impl ZipfSampler {
    pub(crate) fn new(alpha: f64, n: usize) -> ZipfSampler {
        let mut total = 0.0;
        let cumulative: Vec<f64> = (1..=n)
            .map(|k| {
                total += (k as f64).powf(-alpha);
                total
            })
            .collect();
        let slices = (n / 4).max(1);
        let mut guide = Vec::with_capacity(slices);
        let mut rank = 0;
        for j in 0..slices {
            let start = j as f64 / slices as f64 * total;
            while rank + 1 < n && cumulative[rank] <= start {
                rank += 1;
            }
            // n ≤ MAX_ZIPF_KEYS < 2^32, checked by the caller.
            guide.push(rank as u32);
        }
        ZipfSampler { cumulative, guide }
    }

    pub(crate) fn sample_rank(&self, rng: &mut ChaCha8Rng) -> usize {
        let last = self.cumulative.len() - 1;
        let u = rng.random::<f64>();
        let x = u * self.cumulative[last];
        let slice = ((u * self.guide.len() as f64) as usize).min(self.guide.len() - 1);
        let mut rank = self.guide[slice] as usize;
        // The first rank whose cumulative weight exceeds x (the last rank if none does);
        // walking both ways keeps this exact even where the guide's rounding is off by one.
        while rank < last && self.cumulative[rank] <= x {
            rank += 1;
        }
        while rank > 0 && self.cumulative[rank - 1] > x {
            rank -= 1;
        }
        rank
    }
}

/// A seeded pseudo-random permutation of `0..n` in constant memory: a balanced 4-round
/// Feistel network on the smallest even number of bits that covers `n`, with cycle walking
/// (apply again until the value falls below `n`), which keeps it a bijection on `0..n`. The
/// domain is under 4n, so fewer than 4 rounds of walking are needed on average.
#[derive(Debug, Clone)]
pub(crate) struct Permutation {
    n: u64,
    half_bits: u32,
    round_keys: [u64; 4],
}

impl Permutation {
    pub(crate) fn new(n: u64, seed: u64) -> Permutation {
        let bits = (64 - n.saturating_sub(1).leading_zeros()).max(2);
        let half_bits = bits.div_ceil(2);
        let mut state = seed;
        let round_keys = std::array::from_fn(|_| {
            state = splitmix64(state);
            state
        });
        Permutation {
            n,
            half_bits,
            round_keys,
        }
    }

    pub(crate) fn apply(&self, value: u64) -> u64 {
        let mut x = value;
        loop {
            x = self.feistel(x);
            if x < self.n {
                return x;
            }
        }
    }

    fn feistel(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut left = x >> self.half_bits;
        let mut right = x & mask;
        for key in self.round_keys {
            let mixed = splitmix64(right ^ key) & mask;
            (left, right) = (right, left ^ mixed);
        }
        (left << self.half_bits) | right
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn guide_table_gives_the_binary_search_rank() {
        for (alpha, n) in [
            (0.0, 1),
            (0.0, 7),
            (0.8, 1000),
            (1.0, 33),
            (1.5, 10_000),
            (3.0, 500),
        ] {
            let sampler = ZipfSampler::new(alpha, n);
            let mut a = ChaCha8Rng::seed_from_u64(5);
            let mut b = ChaCha8Rng::seed_from_u64(5);
            let total = sampler.cumulative[n - 1];
            for _ in 0..20_000 {
                let x = b.random::<f64>() * total;
                let expected = sampler.cumulative.partition_point(|&c| c <= x).min(n - 1);
                assert_eq!(
                    sampler.sample_rank(&mut a),
                    expected,
                    "alpha {alpha}, n {n}"
                );
            }
        }
    }

    #[test]
    fn permutation_is_a_bijection() {
        for n in [1u64, 2, 3, 5, 16, 17, 1000, 4097] {
            let p = Permutation::new(n, 99);
            let mut seen: Vec<u64> = (0..n).map(|x| p.apply(x)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
