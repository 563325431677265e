//! Spatial sampling: keep every request of a key chosen by a hash of the key, so a sample
//! holds whole keys (every reuse of a sampled key is in it) and a cache scaled by the rate
//! sees the same reuse pattern. This is SHARDS' sampling (Waldspurger et al., FAST'15) and
//! libCacheSim's spatial sampler, as a reader adapter ([`SampledReader`]) so that every
//! consumer of requests gets it for free; [`SpatialSampler`] alone is the test.
//!
//! ```
//! use cachelab::trace::sampling::SpatialSampler;
//! let sampler = SpatialSampler::with_rate(0.1, 0);
//! let kept = (0..100_000u64).filter(|&k| sampler.keeps(k)).count();
//! assert!((9_000..11_000).contains(&kept));
//! ```

use super::{Error, RequestReader};
use crate::request::Request;

/// The hash that decides which keys are sampled: SplitMix64's finaliser of the key mixed
/// with a salt, uniform over `u64`, independent of the hash tables' hash.
#[inline]
pub fn sample_hash(key: u64, salt: u64) -> u64 {
    super::splitmix::splitmix64(key ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// Parses a sampling rate, the fraction of the keys a sample keeps: above 0, at most 1.
pub fn parse_sampling_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 1.0 => Ok(rate),
        _ => Err(format!(
            "`{}` is not a sampling rate: expected a fraction of the keys above 0 and at most 1, such as 0.01",
            text.trim()
        )),
    }
}

/// Keeps a key when its [`sample_hash`] is below a threshold: the threshold over 2^64 is
/// the sampling rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpatialSampler {
    threshold: u64,
    salt: u64,
}

impl SpatialSampler {
    /// Keeps about `rate` (in (0, 1]) of the keys; `salt` picks which.
    pub fn with_rate(rate: f64, salt: u64) -> SpatialSampler {
        let threshold = if rate >= 1.0 {
            u64::MAX
        } else {
            (rate.max(0.0) * 2f64.powi(64)) as u64
        };
        SpatialSampler::with_threshold(threshold, salt)
    }

    /// Keeps the keys whose hash is below `threshold` (`u64::MAX` keeps all).
    pub fn with_threshold(threshold: u64, salt: u64) -> SpatialSampler {
        SpatialSampler { threshold, salt }
    }

    /// True when `key` is in the sample.
    #[inline]
    pub fn keeps(&self, key: u64) -> bool {
        self.threshold == u64::MAX || sample_hash(key, self.salt) < self.threshold
    }

    /// The fraction of keys kept.
    pub fn rate(&self) -> f64 {
        if self.threshold == u64::MAX {
            1.0
        } else {
            self.threshold as f64 / 2f64.powi(64)
        }
    }

    /// The requests of `batch` whose keys are sampled, appended to `out`.
    pub fn filter_into(&self, batch: &[Request], out: &mut Vec<Request>) {
        out.extend(batch.iter().filter(|r| self.keeps(r.key)).copied());
    }
}

/// A reader that passes on only the requests of sampled keys.
pub struct SampledReader<R> {
    inner: R,
    sampler: SpatialSampler,
    buffer: Vec<Request>,
    seen: u64,
}

impl<R: RequestReader> SampledReader<R> {
    /// Samples `inner` with `sampler`.
    pub fn new(inner: R, sampler: SpatialSampler) -> SampledReader<R> {
        SampledReader {
            inner,
            sampler,
            buffer: Vec::new(),
            seen: 0,
        }
    }

    /// Requests read from the inner reader so far, sampled or not.
    pub fn requests_seen(&self) -> u64 {
        self.seen
    }
}

impl<R: RequestReader> RequestReader for SampledReader<R> {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let start = out.len();
        while out.len() - start < max {
            self.buffer.clear();
            let n = self.inner.read_batch(&mut self.buffer, max)?;
            if n == 0 {
                break;
            }
            self.seen += n as u64;
            self.sampler.filter_into(&self.buffer, out);
        }
        Ok(out.len() - start)
    }

    fn skipped(&self) -> u64 {
        self.inner.skipped()
    }

    fn has_next_access(&self) -> bool {
        false
    }

    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{VecReader, read_all};

    #[test]
    fn a_sample_holds_every_request_of_its_keys_and_no_other() {
        let trace: Vec<Request> = (0..50_000u64).map(|i| Request::get(i % 997, 1)).collect();
        let sampler = SpatialSampler::with_rate(0.2, 7);
        let mut reader = SampledReader::new(VecReader::new(trace.clone(), false), sampler);
        let sample = read_all(&mut reader).unwrap();
        assert_eq!(reader.requests_seen(), 50_000);
        let expected: Vec<Request> = trace.into_iter().filter(|r| sampler.keeps(r.key)).collect();
        assert_eq!(sample, expected);
        let keys: std::collections::HashSet<u64> = sample.iter().map(|r| r.key).collect();
        // About 20% of 997 keys.
        assert!((150..250).contains(&keys.len()), "{}", keys.len());
    }

    #[test]
    fn rate_one_keeps_everything_and_salts_pick_different_keys() {
        assert!((0..1000).all(|k| SpatialSampler::with_rate(1.0, 3).keeps(k)));
        let a = SpatialSampler::with_rate(0.5, 1);
        let b = SpatialSampler::with_rate(0.5, 2);
        assert!((0..1000).any(|k| a.keeps(k) != b.keeps(k)));
        assert!((a.rate() - 0.5).abs() < 1e-12);
    }
}
