//! Seeded synthetic traces: the [`Generator`] that turns a key distribution ([`KeyDist`])
//! and a [`SizeDist`] into a stream of [`Request`]s behind [`RequestReader`].
//!
//! The workloads are the classic ones of cache papers and of libCacheSim's synthetic
//! generators: Zipf popularity, uniform, sequential scans, loops, and a shifting hot set,
//! plus weighted mixtures of them. Every random choice comes from a `ChaCha8Rng` seeded with
//! `seed_from_u64(seed)` (and, for per-key sizes, a SplitMix64 hash of seed and key), both
//! specified to the bit, so the same options give the same trace on every machine. (The
//! mapping from random bits to values is rand 0.9's and rand_distr 0.5's, pinned by
//! `Cargo.lock`; Zipf weights and log-normal sizes also go through the platform's `powf` and
//! `exp`, whose last-bit differences could move a draw only when it falls within a rounding
//! error of a boundary.)
//!
//! Key distributions ([`KeyDist`], their spec grammar and the [`KeyStream`] that draws the
//! keys) live in [`super::key_dist`]; object sizes in [`super::sizes`].
//!
//! Requests are reads (`op` = get) with `time` = the request's index (one request per time
//! unit), `ttl` = 0 and `next_access` = [`NEVER`].
//!
//! ```
//! use cachelab::trace::generate::{GenOptions, Generator};
//! use cachelab::trace::read_all;
//!
//! let options = GenOptions {
//!     dist: "zipf:alpha=0.9".parse()?,
//!     keys: 1000,
//!     requests: 5000,
//!     sizes: "lognormal:median=4KiB,sigma=1".parse()?,
//!     seed: 7,
//! };
//! let trace = read_all(&mut Generator::new(options.clone())?)?;
//! assert_eq!(trace.len(), 5000);
//! assert!(trace.iter().all(|r| r.key < 1000));
//! assert_eq!(trace, read_all(&mut Generator::new(options)?)?); // same seed, same trace
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::key_dist::{DistError, KeyStream};
use super::sizes::SizeDist;
use super::{Error, RequestReader};
use crate::request::{NEVER, Op, Request};

/// The key-distribution type, re-exported here for the callers that import it from the
/// generator (bench-server's load generator); its home is [`super::key_dist`].
use super::key_dist::KeyDist;

/// Everything that determines a generated trace.
#[derive(Debug, Clone, PartialEq)]
pub struct GenOptions {
    /// Which keys are requested.
    pub dist: KeyDist,
    /// The key space: keys are `0..keys`; at least 1.
    pub keys: u64,
    /// How many requests the trace has.
    pub requests: u64,
    /// Object sizes (fixed per key).
    pub sizes: SizeDist,
    /// The seed of every random choice.
    pub seed: u64,
}

impl Default for GenOptions {
    /// Zipf(1) over 100 000 keys, 1 000 000 requests of 1-byte objects, seed 0.
    fn default() -> GenOptions {
        GenOptions {
            dist: KeyDist::default(),
            keys: 100_000,
            requests: 1_000_000,
            sizes: SizeDist::default(),
            seed: 0,
        }
    }
}

/// Streams a synthetic trace: a [`RequestReader`] in constant memory (apart from the Zipf
/// table of 8 bytes per key).
#[derive(Debug, Clone)]
pub struct Generator {
    options: GenOptions,
    keys: KeyStream,
    rng: ChaCha8Rng,
    index: u64,
}

impl Generator {
    /// Builds a generator; fails when the distribution does not fit the key space.
    pub fn new(options: GenOptions) -> Result<Generator, DistError> {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let keys = KeyStream::new(&options.dist, options.keys, options.seed, &mut rng)?;
        Ok(Generator {
            options,
            keys,
            rng,
            index: 0,
        })
    }

    /// The options the generator was built from.
    pub fn options(&self) -> &GenOptions {
        &self.options
    }

    /// Requests produced so far.
    pub fn position(&self) -> u64 {
        self.index
    }
}

impl RequestReader for Generator {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let left = self.options.requests - self.index;
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(max);
        out.reserve(n);
        for _ in 0..n {
            let key = self.keys.next_key(self.index, &mut self.rng);
            out.push(Request {
                time: self.index,
                key,
                size: self.options.sizes.size_of(self.options.seed, key),
                op: Op::Get,
                ttl: 0,
                next_access: NEVER,
            });
            self.index += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::key_dist::stream::{PERM_STREAM, Permutation};
    use crate::trace::read_all;
    use crate::trace::splitmix::splitmix64;

    fn generate(spec: &str, keys: u64, requests: u64, seed: u64) -> Vec<Request> {
        let options = GenOptions {
            dist: spec.parse().unwrap(),
            keys,
            requests,
            sizes: SizeDist::Fixed(1),
            seed,
        };
        read_all(&mut Generator::new(options).unwrap()).unwrap()
    }

    fn keys_of(trace: &[Request]) -> Vec<u64> {
        trace.iter().map(|r| r.key).collect()
    }

    /// Exact Zipf probabilities of ranks 1..=n.
    fn zipf_probabilities(alpha: f64, n: usize) -> Vec<f64> {
        let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-alpha)).collect();
        let total: f64 = weights.iter().sum();
        weights.iter().map(|w| w / total).collect()
    }

    /// Pearson's chi-square statistic of per-key counts of a generated zipf(`sampled`)
    /// trace against the exact zipf(`expected`) probabilities, mapped through the same
    /// rank-to-key permutation the generator uses.
    fn chi_square(sampled: f64, expected: f64, keys: u64, samples: u64, seed: u64) -> f64 {
        let trace = generate(&format!("zipf:alpha={sampled}"), keys, samples, seed);
        let mut counts = vec![0u64; keys as usize];
        for r in &trace {
            counts[r.key as usize] += 1;
        }
        let permutation = Permutation::new(keys, splitmix64(seed ^ PERM_STREAM));
        zipf_probabilities(expected, keys as usize)
            .iter()
            .enumerate()
            .map(|(rank, p)| {
                let want = p * samples as f64;
                let got = counts[permutation.apply(rank as u64) as usize] as f64;
                (got - want).powi(2) / want
            })
            .sum()
    }

    /// The chi-square critical value for 99 degrees of freedom at significance 0.001.
    const CRITICAL_DF99_P001: f64 = 148.23;

    #[test]
    fn zipf_sampler_fits_exact_probabilities() {
        for alpha in [0.0, 0.5, 1.0, 1.5] {
            let stat = chi_square(alpha, alpha, 100, 200_000, 11);
            assert!(
                stat < CRITICAL_DF99_P001,
                "alpha {alpha}: chi-square {stat}"
            );
        }
    }

    #[test]
    fn chi_square_test_rejects_the_wrong_alpha() {
        let stat = chi_square(1.0, 0.8, 100, 200_000, 11);
        assert!(stat > 10.0 * CRITICAL_DF99_P001, "chi-square {stat}");
        let stat = chi_square(1.0, 1.05, 100, 200_000, 11);
        assert!(stat > CRITICAL_DF99_P001, "chi-square {stat}");
    }

    #[test]
    fn zipf_hot_keys_are_scattered() {
        let trace = generate("zipf:alpha=1.2", 1_000_000, 10_000, 5);
        let mut counts = hashbrown::HashMap::new();
        for r in &trace {
            *counts.entry(r.key).or_insert(0u64) += 1;
        }
        let hottest = counts
            .iter()
            .max_by_key(|(k, c)| (**c, **k))
            .map(|(k, _)| *k);
        assert!(hottest.unwrap() > 1000, "hottest key {hottest:?}");
    }

    #[test]
    fn same_seed_same_trace_and_other_seed_other_trace() {
        for spec in [
            "zipf:alpha=0.8",
            "uniform",
            "hotset:size=10,shift=100",
            "mix:zipf@1+uniform@1",
        ] {
            let options = GenOptions {
                dist: spec.parse().unwrap(),
                keys: 10_000,
                requests: 5000,
                sizes: "uniform:min=1,max=1000".parse().unwrap(),
                seed: 1,
            };
            let a = read_all(&mut Generator::new(options.clone()).unwrap()).unwrap();
            let b = read_all(&mut Generator::new(options.clone()).unwrap()).unwrap();
            assert_eq!(a, b, "{spec}");
            let c = read_all(&mut Generator::new(GenOptions { seed: 2, ..options }).unwrap());
            assert_ne!(keys_of(&a), keys_of(&c.unwrap()), "{spec}");
        }
    }

    #[test]
    fn batches_do_not_change_the_trace() {
        let options = GenOptions {
            dist: "mix:zipf:alpha=0.7@0.5+hotset:size=50,shift=333@0.5"
                .parse()
                .unwrap(),
            keys: 5000,
            requests: 10_007,
            sizes: SizeDist::Fixed(8),
            seed: 3,
        };
        let whole = read_all(&mut Generator::new(options.clone()).unwrap()).unwrap();
        let mut generator = Generator::new(options).unwrap();
        let mut pieces = Vec::new();
        while generator.read_batch(&mut pieces, 7).unwrap() > 0 {}
        assert_eq!(whole, pieces);
        assert_eq!(generator.position(), 10_007);
    }

    #[test]
    fn requests_are_timed_reads_with_fixed_per_key_sizes() {
        let options = GenOptions {
            dist: KeyDist::Uniform,
            keys: 100,
            requests: 10_000,
            sizes: "lognormal:median=1000,sigma=1".parse().unwrap(),
            seed: 9,
        };
        let trace = read_all(&mut Generator::new(options).unwrap()).unwrap();
        let mut size_of = hashbrown::HashMap::new();
        for (i, r) in trace.iter().enumerate() {
            assert_eq!(
                (r.time, r.op, r.ttl, r.next_access),
                (i as u64, Op::Get, 0, NEVER)
            );
            assert_eq!(
                *size_of.entry(r.key).or_insert(r.size),
                r.size,
                "key {}",
                r.key
            );
        }
        assert_eq!(size_of.len(), 100);
    }

    #[test]
    fn scan_visits_keys_in_order_and_wraps() {
        let expected: Vec<u64> = (0..25).map(|i| i % 10).collect();
        assert_eq!(keys_of(&generate("scan", 10, 25, 1)), expected);
        assert_eq!(keys_of(&generate("loop", 10, 25, 1)), expected);
    }

    #[test]
    fn loop_has_the_given_period() {
        let keys = keys_of(&generate("loop:len=7", 100, 50, 1));
        assert_eq!(&keys[..7], &[0, 1, 2, 3, 4, 5, 6]);
        assert!(keys.iter().enumerate().all(|(i, &k)| k == i as u64 % 7));
        let options = GenOptions {
            dist: "loop:len=101".parse().unwrap(),
            keys: 100,
            ..GenOptions::default()
        };
        let err = Generator::new(options).unwrap_err();
        assert!(
            err.to_string().contains("longer than the 100 keys"),
            "{err}"
        );
    }

    #[test]
    fn uniform_covers_all_keys_evenly() {
        let trace = generate("uniform", 10, 100_000, 4);
        let mut counts = [0u64; 10];
        for r in &trace {
            counts[r.key as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..=10_500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn hot_set_gets_fraction_p_and_stays_contiguous() {
        let keys = 1_000_000;
        let trace = generate("hotset:size=1000,shift=0,p=0.9", keys, 200_000, 8);
        let mut counts = hashbrown::HashMap::new();
        for r in &trace {
            *counts.entry(r.key).or_insert(0u64) += 1;
        }
        let mut by_count: Vec<(u64, u64)> = counts.into_iter().map(|(k, c)| (c, k)).collect();
        by_count.sort_unstable_by(|a, b| b.cmp(a));
        let hot: Vec<u64> = by_count[..1000].iter().map(|&(_, k)| k).collect();
        let (lo, hi) = (hot.iter().min().unwrap(), hot.iter().max().unwrap());
        assert_eq!(
            hi - lo,
            999,
            "the hot set is a window of 1000 consecutive keys"
        );
        let in_window = trace
            .iter()
            .filter(|r| (*lo..=*hi).contains(&r.key))
            .count();
        let fraction = in_window as f64 / trace.len() as f64;
        let expected = 0.9 + 0.1 * 1000.0 / keys as f64;
        assert!(
            (fraction - expected).abs() < 0.005,
            "hot fraction {fraction}"
        );
    }

    #[test]
    fn hot_set_moves_every_shift_requests() {
        let trace = generate("hotset:size=10,shift=1000,p=1", 1_000_000, 5000, 8);
        let windows: Vec<u64> = trace
            .chunks(1000)
            .map(|chunk| {
                let lo = chunk.iter().map(|r| r.key).min().unwrap();
                let hi = chunk.iter().map(|r| r.key).max().unwrap();
                assert!(hi - lo < 10, "one window of 10 keys per shift period");
                lo
            })
            .collect();
        let mut distinct = windows.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), 5, "windows {windows:?}");
    }

    #[test]
    fn mix_picks_components_by_weight() {
        // Component 1 always yields key 0; the scan yields key 0 only once in 100 000.
        let trace = generate("mix:loop:len=1@1+scan@3", 1_000_000, 100_000, 6);
        let zeros = trace.iter().filter(|r| r.key == 0).count() as f64 / 100_000.0;
        assert!(
            (zeros - 0.25).abs() < 0.005,
            "share of the first component {zeros}"
        );
        let scanned: Vec<u64> = trace
            .iter()
            .map(|r| r.key)
            .filter(|&k| k != 0)
            .take(5)
            .collect();
        assert_eq!(
            scanned,
            vec![1, 2, 3, 4, 5],
            "the scan keeps its own position"
        );
    }

    #[test]
    fn a_trace_needs_a_key() {
        let options = GenOptions {
            keys: 0,
            ..GenOptions::default()
        };
        assert!(Generator::new(options).is_err());
    }
}
