//! Miniature simulations (Waldspurger, Saemundsson, Ahmad and Park, "Cache Modeling and
//! Optimization using Miniature Simulations", USENIX ATC'17): the curve of any policy,
//! from the engine's own simulations of a spatial sample of the keys at caches scaled down
//! by the sampling rate.
//!
//! The sample keeps every request of a sampled key ([`crate::trace::sampling`]), so a cache
//! of `R * c` sees the sampled keys' reuses as a cache of `c` sees the whole trace's. The
//! sample is held in memory (`R` times the trace, 40 bytes a request) and replayed once
//! through every scaled cache in parallel by [`crate::sim::simulate`]; `rate=1` is the full
//! simulation. A point's miss ratio is the sample's misses over the requests a sample at
//! `R` is expected to hold (`R` times the trace's), not over the requests it happens to
//! hold: whether a hot key fell in the sample swings the latter by its many requests,
//! which are mostly hits (SHARDS' correction, in the form that suits a simulation).
//!
//! Scaling is not faithful where a cache is small against its own granularity, and a note
//! says which sizes and the smallest rate that would do: below [`MIN_OBJECTS`] objects of
//! the mean size, one object is a large part of the cache and a policy's own fractions (a
//! 1% window, a 10% small queue) round to nothing; and the memcached model grants every
//! slab class in use a whole 1 MiB page, so below [`MEMCACHED_PAGES_PER_CLASS`] pages per
//! class in use its memory is mostly first pages and evicts nothing like the full-size
//! server.

use super::curve::{Curve, CurvePoint, Floor};
use super::{MrcError, Profiler, Replay, WorkingSetEstimate};
use crate::policy::PolicySpec;
use crate::request::Request;
use crate::sim::{Config, SimOptions, WorkingSet, simulate};
use crate::trace::VecReader;
use crate::trace::sampling::SpatialSampler;
use crate::units::format_bytes;

/// The memcached model's scaled memory is faithful from this many 1 MiB pages per slab
/// class in use (measured: see the README's accuracy table).
pub const MEMCACHED_PAGES_PER_CLASS: u64 = 8;

/// A scaled cache is faithful from this many objects of the mean size: below, one object
/// more or less is a large part of the cache, and policies' own fractions (a 1% window, a
/// 10% small queue) round to nothing.
pub const MIN_OBJECTS: u64 = 64;

/// The miniature-simulation profiler; see the module documentation.
#[derive(Debug)]
pub struct Mini {
    objects: bool,
    policy: PolicySpec,
    sampler: SpatialSampler,
    seed: u64,
    sample: Vec<Request>,
    requests: u64,
    bytes_requested: u64,
}

impl Mini {
    /// Miniature simulations of `policy` counting objects (`objects`) or bytes, on a spatial
    /// sample at `rate`; `seed` salts the sample and seeds randomised policies.
    pub fn new(objects: bool, policy: PolicySpec, rate: f64, seed: u64) -> Mini {
        Mini {
            objects,
            policy,
            sampler: SpatialSampler::with_rate(rate, seed),
            seed,
            sample: Vec::new(),
            requests: 0,
            bytes_requested: 0,
        }
    }

    fn rate(&self) -> f64 {
        self.sampler.rate()
    }

    /// The capacity a size scales to.
    fn scaled(&self, size: u64) -> u64 {
        ((size as f64 * self.rate()).round() as u64).max(1)
    }

    /// A note on the sizes whose scaled capacity is below `needed` units, with the smallest
    /// rate at which none would be; `why` says what `needed` is. Nothing at rate 1, which
    /// scales nothing: it is the full simulation.
    fn faithfulness(&self, sizes: &[u64], needed: u64, why: &str) -> Option<String> {
        if self.rate() >= 1.0 {
            return None;
        }
        let unfaithful: Vec<u64> = sizes
            .iter()
            .copied()
            .filter(|&s| self.scaled(s) < needed)
            .collect();
        let (&smallest, &largest) = (unfaithful.first()?, unfaithful.last()?);
        let rate = (needed as f64 / smallest.max(1) as f64).min(1.0);
        let unit = |n: u64| {
            if self.objects {
                format!("{n} objects")
            } else {
                format_bytes(n)
            }
        };
        let advice = match round_up_rate(rate) {
            r if r >= 1.0 => {
                "only the full simulation (rate=1) is faithful at every size".to_string()
            }
            r => format!("rate={r} or more makes every size faithful"),
        };
        Some(format!(
            "{}: {} of {} sizes (up to {}) scale below {} ({why}): not faithful there; {advice}",
            self.label(),
            unfaithful.len(),
            sizes.len(),
            unit(largest),
            unit(needed),
        ))
    }
}

/// A rate rounded up to two significant digits, for advice.
fn round_up_rate(rate: f64) -> f64 {
    if rate >= 1.0 {
        return 1.0;
    }
    let scale = 10f64.powi(1 - rate.log10().floor() as i32);
    ((rate * scale).ceil() / scale).min(1.0)
}

impl Profiler for Mini {
    fn label(&self) -> String {
        format!("mini:policy={},rate={}", self.policy, self.rate())
    }

    fn feed(&mut self, batch: &[Request]) {
        self.requests += batch.len() as u64;
        self.bytes_requested += batch.iter().map(|r| u64::from(r.size)).sum::<u64>();
        self.sampler.filter_into(batch, &mut self.sample);
    }

    fn working_set(&self) -> WorkingSetEstimate {
        let ws = WorkingSet::of(&self.sample);
        WorkingSetEstimate {
            objects: ws.objects as f64 / self.rate(),
            bytes: ws.bytes as f64 / self.rate(),
            exact: self.rate() >= 1.0,
        }
    }

    fn finish(&mut self, sizes: &[u64], _replay: &dyn Replay) -> Result<Curve, MrcError> {
        let configs: Vec<Config> = sizes
            .iter()
            .map(|&s| Config::new(self.policy.clone(), self.scaled(s)))
            .collect();
        let options = SimOptions {
            objects: self.objects,
            seed: self.seed,
            ..SimOptions::default()
        };
        let ws = WorkingSet::of(&self.sample);
        let sample = std::mem::take(&mut self.sample);
        let mut reader = VecReader::new(sample, false);
        let results = simulate(&mut reader, &configs, &options, None)?;
        let ratio = |part: u64, whole: f64| {
            if whole > 0.0 {
                part as f64 / whole
            } else {
                1.0
            }
        };
        let expected = (
            self.requests as f64 * self.rate(),
            self.bytes_requested as f64 * self.rate(),
        );
        let points = sizes
            .iter()
            .zip(&results)
            .map(|(&cache_size, result)| {
                let c = result.counters;
                // Misses over the sample's expected requests, not its own: a hot key in
                // or out of the sample swings its request count, mostly by hits.
                CurvePoint {
                    cache_size,
                    miss_ratio: ratio(c.misses, expected.0).min(1.0),
                    byte_miss_ratio: ratio(c.bytes_missed, expected.1).min(1.0),
                }
            })
            .collect();
        let mut notes = Vec::new();
        let mean_size = ws.units(self.objects) as f64 / ws.objects.max(1) as f64;
        let small = (MIN_OBJECTS as f64 * mean_size).ceil() as u64;
        let why =
            format!("{MIN_OBJECTS} objects of the mean size: a smaller cache is all granularity");
        notes.extend(self.faithfulness(sizes, small, &why));
        let classes = results
            .iter()
            .filter_map(|r| r.details.as_ref())
            .filter_map(|d| d.data.get("classes").and_then(|v| v.as_array()))
            .map(Vec::len)
            .max();
        if let Some(classes) = classes {
            let needed = (classes as u64 * MEMCACHED_PAGES_PER_CLASS) << 20;
            let why = format!(
                "{MEMCACHED_PAGES_PER_CLASS} pages of 1 MiB for each of the {classes} slab classes in use: memcached's first page per class dominates below"
            );
            notes.extend(self.faithfulness(sizes, needed, &why));
        }
        if ws.requests == 0 {
            notes.push(format!(
                "{}: the sample holds no request: every point is a guess; use a higher rate",
                self.label()
            ));
        }
        Ok(Curve {
            method: self.label(),
            objects: self.objects,
            working_set: WorkingSetEstimate {
                objects: ws.objects as f64 / self.rate(),
                bytes: ws.bytes as f64 / self.rate(),
                exact: self.rate() >= 1.0,
            },
            points,
            floor: Floor {
                miss_ratio: ratio(ws.objects, expected.0).min(1.0),
                byte_miss_ratio: ratio(ws.bytes, expected.1).min(1.0),
            },
            notes,
        })
    }

    fn heap_bytes(&self) -> usize {
        self.sample.capacity() * std::mem::size_of::<Request>()
    }
}
