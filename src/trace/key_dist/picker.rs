//! [`KeyPicker`]: picks one of `keys` counters at a time, without state, for the
//! distributions that need none (`hot`, `uniform`, `zipf`); counter 0 is the most popular.
//! Contention experiments use it; its draws (one `u32` range draw for uniform, one `u64`
//! word for Zipf) are the ones contention has always made for a given seed.

use rand::Rng;

use super::{DistError, KeyDist};

/// A sampler of counter indexes for one [`KeyDist`] over `keys` counters. Zipf uses
/// Vose's alias method (M. D. Vose, *A linear algorithm for generating random numbers with
/// a given distribution*, IEEE TSE 17(9), 1991): one random word and one table lookup per
/// pick, whatever the number of counters.
#[derive(Debug, Clone)]
pub struct KeyPicker {
    keys: u32,
    /// Per column: the probability (scaled to 2^32) of keeping the column, and the alias
    /// taken otherwise; empty for hot and uniform.
    alias: Vec<(u64, u32)>,
    uniform: bool,
}

impl KeyPicker {
    /// True when `dist` can pick counters without state: `hot`, `uniform` and `zipf`.
    pub fn supports(dist: &KeyDist) -> bool {
        matches!(dist, KeyDist::Hot | KeyDist::Uniform | KeyDist::Zipf { .. })
    }

    /// A picker over `keys` (≥ 1) counters; fails for the distributions that need a
    /// stream's state (scan, loop, hot set, mix: see [`KeyPicker::supports`]).
    pub fn new(dist: &KeyDist, keys: u32) -> Result<KeyPicker, DistError> {
        let keys = keys.max(1);
        let (alias, uniform) = match dist {
            KeyDist::Hot => (Vec::new(), false),
            KeyDist::Uniform => (Vec::new(), true),
            KeyDist::Zipf { alpha } => (alias_table(keys, *alpha), false),
            other => {
                return Err(DistError::Options(format!(
                    "key distribution {other} cannot pick counters: use hot, uniform or zipf:S"
                )));
            }
        };
        Ok(KeyPicker {
            keys,
            alias,
            uniform,
        })
    }

    /// The next counter index, in `0..keys`.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        if self.keys == 1 {
            return 0;
        }
        if self.uniform {
            return rng.random_range(0..self.keys);
        }
        if self.alias.is_empty() {
            return 0;
        }
        let word: u64 = rng.random();
        // High half picks the column (multiply-shift, no modulo bias worth the name at
        // 2^32 columns), low half decides column or alias.
        let column = ((word >> 32) * u64::from(self.keys)) >> 32;
        let (keep, alias) = self.alias[column as usize];
        if (word & 0xFFFF_FFFF) < keep {
            column as u32
        } else {
            alias
        }
    }
}

/// Vose's alias table for P(k) ∝ 1/(k+1)^s over `keys` columns.
fn alias_table(keys: u32, s: f64) -> Vec<(u64, u32)> {
    let n = keys as usize;
    let weights: Vec<f64> = (1..=keys).map(|k| 1.0 / f64::from(k).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
    let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| scaled[i] < 1.0);
    const ONE: f64 = 4_294_967_296.0;
    let mut table = vec![(1u64 << 32, 0u32); n];
    while let (Some(&l), Some(&g)) = (small.last(), large.last()) {
        small.pop();
        table[l] = ((scaled[l] * ONE) as u64, g as u32);
        scaled[g] -= 1.0 - scaled[l];
        if scaled[g] < 1.0 {
            large.pop();
            small.push(g);
        }
    }
    // What is left is 1 up to rounding: keep the column always.
    for i in small.into_iter().chain(large) {
        table[i] = (1u64 << 32, i as u32);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn stream_only_distributions_are_refused() {
        for spec in ["scan", "loop:len=3", "hotset", "mix:hot@1+uniform@1"] {
            let dist: KeyDist = spec.parse().unwrap();
            assert!(!KeyPicker::supports(&dist));
            let err = KeyPicker::new(&dist, 4).unwrap_err().to_string();
            assert!(err.contains("hot, uniform or zipf:S"), "{err}");
        }
    }

    #[test]
    fn alias_table_gives_each_counter_its_zipf_probability() {
        for (keys, s) in [(2u32, 1.0), (16, 1.0), (100, 0.8), (7, 0.0), (50, 2.5)] {
            let table = alias_table(keys, s);
            let n = f64::from(keys);
            let mut implied = vec![0.0; keys as usize];
            for (column, &(keep, alias)) in table.iter().enumerate() {
                let p = keep as f64 / 4_294_967_296.0;
                implied[column] += p / n;
                implied[alias as usize] += (1.0 - p) / n;
            }
            let total: f64 = (1..=keys).map(|k| 1.0 / f64::from(k).powf(s)).sum();
            for (k, p) in implied.iter().enumerate() {
                let exact = 1.0 / ((k + 1) as f64).powf(s) / total;
                assert!(
                    (p - exact).abs() < 1e-6,
                    "keys={keys} s={s} k={k}: {p} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn zipf_picker_prefers_low_ranks_and_stays_in_range() {
        let picker = KeyPicker::new(&KeyDist::Zipf { alpha: 1.0 }, 10).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[picker.pick(&mut rng) as usize] += 1;
        }
        assert!(counts[0] > counts[1] && counts[1] > counts[9], "{counts:?}");
        // P(0) = 1 / H(10) ≈ 0.341.
        assert!((3000..3800).contains(&counts[0]), "{counts:?}");
    }
}
