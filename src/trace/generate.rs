//! Seeded synthetic traces: key distributions ([`KeyDist`]) and the [`Generator`] that turns
//! one, with a [`SizeDist`], into a stream of [`Request`]s behind [`RequestReader`].
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
//! Key-distribution specs (`name` or `name:key=value,...`, like policy specs):
//!
//! | spec | keys (all in `0..keys`) |
//! | --- | --- |
//! | `zipf:alpha=0.8` | P(rank k) ∝ 1/k^alpha for k = 1..=keys (alpha ≥ 0; 0 is uniform; default 1) |
//! | `uniform` | uniform over all keys |
//! | `scan` | 0, 1, …, keys-1, 0, 1, … |
//! | `loop:len=N` | 0, 1, …, N-1, 0, 1, … (default N = keys) |
//! | `hotset:size=1000,shift=100000,p=0.9` | with probability p a key from a hot window of `size` consecutive keys, else uniform; the window jumps to a random place every `shift` requests (0: never) |
//! | `mix:zipf:alpha=0.8@0.7+scan@0.3` | each request picks one component by weight (`spec@weight`, joined by `+`; weights are normalised; components cannot be mixes) |
//!
//! Zipf ranks are sampled exactly, by binary search in the cumulative distribution over all
//! `keys` ranks (8 bytes per key, built once). Rank r is then mapped to key `π(r)`, where π
//! is a seeded pseudo-random permutation of `0..keys` (a 4-round Feistel network with cycle
//! walking), so that hot keys are scattered instead of being 0, 1, 2, …; π depends only on
//! the seed and `keys`. In a mix each component keeps its own state: a scan advances only on
//! the requests that pick it.
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

use std::fmt;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::sizes::{KeyValues, SizeDist, splitmix64};
use super::{Error, RequestReader};
use crate::request::{NEVER, Op, Request};

/// The valid forms of a key-distribution spec, quoted in every key-spec error.
pub const KEY_FORMS: &str = "a key distribution: `zipf:alpha=0.8`, `uniform`, `scan`, \
    `loop:len=N`, `hotset:size=1000,shift=100000,p=0.9`, or a mix such as \
    `mix:zipf:alpha=0.8@0.7+scan@0.3`";

/// Most keys a Zipf distribution may have: its table takes 8 bytes per key (2 GiB here).
pub const MAX_ZIPF_KEYS: u64 = 1 << 28;

/// Why a key or size spec, or a set of generator options, was rejected.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec does not have a valid form.
    #[error("spec {text:?}: expected {expected}")]
    Syntax {
        /// The spec as given.
        text: String,
        /// What is wrong and what the valid forms are.
        expected: String,
    },
    /// A parameter value does not parse or is out of range.
    #[error("spec {text:?}: {param}={value:?} is not valid: expected {expected}")]
    BadValue {
        /// The spec as given.
        text: String,
        /// The parameter name.
        param: String,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// A file named by a spec (a size histogram) could not be read; names file and line.
    #[error(transparent)]
    File(#[from] Error),
    /// The distribution does not fit the other options (a loop longer than the key space…).
    #[error("{0}")]
    Options(String),
}

/// Which keys a generated trace requests; see the module documentation for the spec syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyDist {
    /// Zipf popularity: P(rank k) ∝ 1/k^alpha.
    Zipf {
        /// The skew, ≥ 0 (0 is uniform, about 0.6–1.2 in web and key-value traces).
        alpha: f64,
    },
    /// Uniform over all keys.
    Uniform,
    /// A sequential scan over all keys, repeated.
    Scan,
    /// A loop over the first `len` keys (all keys when `None`), repeated.
    Loop {
        /// Loop length, 1 to `keys`.
        len: Option<u64>,
    },
    /// A hot window of `size` keys that gets a fraction `p` of requests and moves every
    /// `shift` requests.
    HotSet {
        /// Keys in the hot window (at most `keys`; larger values are cut to `keys`).
        size: u64,
        /// Requests between moves of the window; 0 keeps it in place.
        shift: u64,
        /// Probability that a request goes to the hot window, 0 to 1.
        p: f64,
    },
    /// Each request comes from one component, picked with probability proportional to its
    /// weight.
    Mix(Vec<(KeyDist, f64)>),
}

impl Default for KeyDist {
    /// Zipf with alpha = 1.
    fn default() -> KeyDist {
        KeyDist::Zipf { alpha: 1.0 }
    }
}

impl FromStr for KeyDist {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<KeyDist, SpecError> {
        parse_key_dist(text, text.trim(), true)
    }
}

/// Parses `spec`, a whole spec or one mix component of `text`.
fn parse_key_dist(text: &str, spec: &str, allow_mix: bool) -> Result<KeyDist, SpecError> {
    let syntax = |what: String| SpecError::Syntax {
        text: text.to_string(),
        expected: format!("{what}; valid forms: {KEY_FORMS}"),
    };
    let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let name = name.trim().to_ascii_lowercase();
    match name.as_str() {
        "zipf" => {
            let params = KeyValues::parse(text, rest, &["alpha"]).map_err(syntax)?;
            let alpha = params.f64("alpha", 1.0)?;
            if alpha < 0.0 {
                return Err(syntax(format!("zipf needs alpha ≥ 0, got {alpha}")));
            }
            Ok(KeyDist::Zipf { alpha })
        }
        "uniform" => {
            KeyValues::parse(text, rest, &[]).map_err(syntax)?;
            Ok(KeyDist::Uniform)
        }
        "scan" => {
            KeyValues::parse(text, rest, &[]).map_err(syntax)?;
            Ok(KeyDist::Scan)
        }
        "loop" => {
            let params = KeyValues::parse(text, rest, &["len"]).map_err(syntax)?;
            let len = params.u64("len")?;
            if len == Some(0) {
                return Err(syntax("loop needs len ≥ 1".to_string()));
            }
            Ok(KeyDist::Loop { len })
        }
        "hotset" => {
            let params = KeyValues::parse(text, rest, &["size", "shift", "p"]).map_err(syntax)?;
            let size = params.u64("size")?.unwrap_or(1000);
            let shift = params.u64("shift")?.unwrap_or(100_000);
            let p = params.f64("p", 0.9)?;
            if size == 0 || !(0.0..=1.0).contains(&p) {
                return Err(syntax(format!(
                    "hotset needs size ≥ 1 and 0 ≤ p ≤ 1, got size={size}, p={p}"
                )));
            }
            Ok(KeyDist::HotSet { size, shift, p })
        }
        "mix" if allow_mix => {
            let mut components = Vec::new();
            for part in rest.split('+') {
                let Some((component, weight)) = part.rsplit_once('@') else {
                    return Err(syntax(format!(
                        "mix components written `spec@weight` and joined by `+`, found {:?}",
                        part.trim()
                    )));
                };
                let weight = match weight.trim().parse::<f64>() {
                    Ok(w) if w > 0.0 && w.is_finite() => w,
                    _ => {
                        return Err(syntax(format!(
                            "a positive weight after `@`, found {:?}",
                            weight.trim()
                        )));
                    }
                };
                components.push((parse_key_dist(text, component.trim(), false)?, weight));
            }
            Ok(KeyDist::Mix(components))
        }
        "mix" => Err(syntax(
            "mix components that are not mixes themselves".to_string(),
        )),
        _ => Err(syntax(format!("unknown key distribution {name:?}"))),
    }
}

impl fmt::Display for KeyDist {
    /// The spec string this distribution parses from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDist::Zipf { alpha } => write!(f, "zipf:alpha={alpha}"),
            KeyDist::Uniform => f.write_str("uniform"),
            KeyDist::Scan => f.write_str("scan"),
            KeyDist::Loop { len: None } => f.write_str("loop"),
            KeyDist::Loop { len: Some(len) } => write!(f, "loop:len={len}"),
            KeyDist::HotSet { size, shift, p } => {
                write!(f, "hotset:size={size},shift={shift},p={p}")
            }
            KeyDist::Mix(components) => {
                f.write_str("mix:")?;
                for (i, (dist, weight)) in components.iter().enumerate() {
                    if i > 0 {
                        f.write_str("+")?;
                    }
                    write!(f, "{dist}@{weight}")?;
                }
                Ok(())
            }
        }
    }
}

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
    source: Source,
    rng: ChaCha8Rng,
    index: u64,
}

impl Generator {
    /// Builds a generator; fails when the distribution does not fit the key space.
    pub fn new(options: GenOptions) -> Result<Generator, SpecError> {
        if options.keys == 0 {
            return Err(SpecError::Options(
                "a generated trace needs at least 1 key".to_string(),
            ));
        }
        let permutation = Permutation::new(options.keys, splitmix64(options.seed ^ PERM_STREAM));
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        let source = Source::new(&options.dist, options.keys, &permutation, &mut rng)?;
        Ok(Generator {
            options,
            source,
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
            let key = self
                .source
                .next_key(self.index, self.options.keys, &mut self.rng);
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

/// Separates the rank-permutation keys from other uses of the same trace seed.
const PERM_STREAM: u64 = 0x9E12_3A7C_0FF1_CE55;

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
    ) -> Result<Source, SpecError> {
        Ok(match dist {
            KeyDist::Zipf { alpha } => {
                if keys > MAX_ZIPF_KEYS {
                    return Err(SpecError::Options(format!(
                        "{dist} over {keys} keys: the Zipf table needs 8 bytes per key; \
                         use at most {MAX_ZIPF_KEYS} keys"
                    )));
                }
                Source::Zipf(ZipfSampler::new(*alpha, keys as usize), permutation.clone())
            }
            KeyDist::Uniform => Source::Uniform,
            KeyDist::Scan | KeyDist::Loop { len: None } => Source::Cycle { len: keys, next: 0 },
            KeyDist::Loop { len: Some(len) } => {
                if *len > keys {
                    return Err(SpecError::Options(format!(
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
                    return Err(SpecError::Options(format!(
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
struct ZipfSampler {
    cumulative: Vec<f64>,
    guide: Vec<u32>,
}

impl ZipfSampler {
    fn new(alpha: f64, n: usize) -> ZipfSampler {
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

    fn sample_rank(&self, rng: &mut ChaCha8Rng) -> usize {
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
struct Permutation {
    n: u64,
    half_bits: u32,
    round_keys: [u64; 4],
}

impl Permutation {
    fn new(n: u64, seed: u64) -> Permutation {
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

    fn apply(&self, value: u64) -> u64 {
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
    use crate::trace::read_all;

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
    fn specs_parse_and_display_round_trip() {
        for spec in [
            "zipf:alpha=0.8",
            "uniform",
            "scan",
            "loop",
            "loop:len=5",
            "hotset:size=1000,shift=100000,p=0.9",
            "mix:zipf:alpha=0.8@0.7+scan@0.3",
            "mix:hotset:size=10,shift=5,p=0.5@2+uniform@1+loop:len=3@1",
        ] {
            let dist: KeyDist = spec.parse().unwrap();
            assert_eq!(dist.to_string(), spec);
        }
        assert_eq!(
            "zipf".parse::<KeyDist>().unwrap(),
            KeyDist::Zipf { alpha: 1.0 }
        );
        assert_eq!(
            "hotset".parse::<KeyDist>().unwrap(),
            KeyDist::HotSet {
                size: 1000,
                shift: 100_000,
                p: 0.9
            }
        );
    }

    #[test]
    fn bad_specs_say_what_is_valid() {
        for bad in [
            "zipfian",
            "zipf:alpha=-1",
            "zipf:alpha=x",
            "zipf:beta=1",
            "loop:len=0",
            "hotset:p=1.5",
            "scan:len=3",
            "mix:zipf+scan@1",
            "mix:zipf@0+scan@1",
            "mix:mix:scan@1@1",
            "",
        ] {
            let err = bad.parse::<KeyDist>().unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        let err = "zipfian".parse::<KeyDist>().unwrap_err().to_string();
        assert!(err.contains("hotset:size=1000,shift=100000,p=0.9"), "{err}");
        let options = GenOptions {
            keys: 0,
            ..GenOptions::default()
        };
        assert!(Generator::new(options).is_err());
    }
}
