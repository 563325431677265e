//! Miniature simulations (Waldspurger, Saemundsson, Ahmad and Park, "Cache Modeling and
//! Optimization using Miniature Simulations", USENIX ATC'17): the curve of any policy,
//! from the engine's own simulations of a spatial sample of the keys at caches scaled down
//! by the sampling rate.
//!
//! The sample keeps every request of a sampled key ([`crate::trace::sampling`]), so a cache
//! of `R * c` sees the sampled keys' reuses as a cache of `c` sees the whole trace's. The
//! sample is held in memory (`R` times the trace, 40 bytes a request) and replayed once
//! through every scaled cache in parallel by [`crate::sim::simulate`]; `rate=1` is the full
//! simulation.
//!
//! Scaling is not faithful where a policy has a granularity of its own. The memcached model
//! grants every slab class in use a whole 1 MiB page, so a scaled-down memory of a few MiB
//! is mostly first pages and evicts nothing like the full-size server: a point whose scaled
//! memory is below [`MEMCACHED_PAGES_PER_CLASS`] pages per class in use is flagged in a
//! note, with the smallest rate at which every point would be faithful.

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

    /// For the memcached model: the smallest rate at which every size gets at least
    /// [`MEMCACHED_PAGES_PER_CLASS`] pages per class in use, and the sizes below it.
    fn memcached_faithfulness(&self, sizes: &[u64], classes: usize) -> Option<String> {
        let needed = (classes as u64 * MEMCACHED_PAGES_PER_CLASS) << 20;
        let unfaithful: Vec<u64> = sizes
            .iter()
            .copied()
            .filter(|&s| self.scaled(s) < needed)
            .collect();
        let smallest = *unfaithful.first()?;
        let rate = (needed as f64 / smallest as f64).min(1.0);
        Some(format!(
            "{}: {} of {} sizes (up to {}) scale below {} ({} pages of 1 MiB for each of the {classes} slab classes in use), where memcached's first page per class dominates; not faithful there. Use rate={} or more for every size, or leave those sizes out",
            self.label(),
            unfaithful.len(),
            sizes.len(),
            format_bytes(*unfaithful.last().unwrap_or(&smallest)),
            format_bytes(needed),
            MEMCACHED_PAGES_PER_CLASS,
            round_up_rate(rate),
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
        let ratio = |part: u64, whole: u64| {
            if whole > 0 {
                part as f64 / whole as f64
            } else {
                1.0
            }
        };
        let points = sizes
            .iter()
            .zip(&results)
            .map(|(&cache_size, result)| {
                let c = result.counters;
                CurvePoint {
                    cache_size,
                    miss_ratio: ratio(c.misses, c.requests),
                    byte_miss_ratio: ratio(c.bytes_missed, c.bytes_requested),
                }
            })
            .collect();
        let mut notes = Vec::new();
        let classes = results
            .iter()
            .filter_map(|r| r.details.as_ref())
            .filter_map(|d| d.data.get("classes").and_then(|v| v.as_array()))
            .map(Vec::len)
            .max();
        if let Some(classes) = classes
            && let Some(note) = self.memcached_faithfulness(sizes, classes)
        {
            notes.push(note);
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
                miss_ratio: ratio(ws.objects, ws.requests),
                byte_miss_ratio: ratio(ws.bytes, self.sample_bytes(&results)),
            },
            notes,
        })
    }

    fn heap_bytes(&self) -> usize {
        self.sample.capacity() * std::mem::size_of::<Request>()
    }
}

impl Mini {
    /// The sample's bytes requested, from any result (every configuration saw it all).
    fn sample_bytes(&self, results: &[crate::sim::RunResult]) -> u64 {
        results.first().map_or(0, |r| r.counters.bytes_requested)
    }
}
