//! The exact LRU curve: every request's stack distance ([`super::stack`]), in one pass, into
//! a histogram ([`super::histogram`]) that is exact at every bucket bound, plus exact
//! counters at the sizes a user named.
//!
//! A request hits an LRU cache of capacity `C` exactly when the bytes of the distinct
//! objects touched since its key's last access, plus its own size, fit in `C` (Mattson et
//! al. 1970): LRU's content is always the longest prefix of the recency stack that fits.
//! That holds when objects keep their sizes and fit in the cache. Two things break it, and
//! there the points are simulated by the engine's LRU in a second pass, with a note:
//! a request that changes its object's size (LRU re-fits the cache around it and never
//! takes back what it evicted), and sizes below the largest object (LRU refuses an object
//! larger than the cache, which leaves the cache as it was). Counting objects, neither
//! happens.

use super::curve::{Curve, CurvePoint, Floor};
use super::histogram::Histogram;
use super::stack::StackDistances;
use super::{MrcError, Profiler, Replay, WorkingSetEstimate};
use crate::request::Request;
use crate::sim::Config;
use crate::units::format_bytes;

/// The exact LRU profiler; see the module documentation.
#[derive(Debug)]
pub struct ExactLru {
    objects: bool,
    stack: StackDistances,
    histogram: Histogram,
    /// Sizes named by the user, ascending, counted exactly whatever the histogram's buckets.
    named: Vec<u64>,
    /// Per named size: (requests, bytes) whose distance is above the previous named size
    /// and within this one; summed into hits at the end.
    named_hits: Vec<(u64, u64)>,
    requests: u64,
    bytes_requested: u64,
    distinct: u64,
    distinct_bytes: u64,
    largest: u32,
    resizes: u64,
}

impl ExactLru {
    /// A profiler counting objects (`objects`) or bytes, exact also at the `named` sizes.
    pub fn new(objects: bool, named: &[u64]) -> ExactLru {
        let mut named = named.to_vec();
        named.sort_unstable();
        named.dedup();
        ExactLru {
            objects,
            stack: StackDistances::default(),
            histogram: Histogram::default(),
            named_hits: vec![(0, 0); named.len()],
            named,
            requests: 0,
            bytes_requested: 0,
            distinct: 0,
            distinct_bytes: 0,
            largest: 0,
            resizes: 0,
        }
    }

    /// Whether the stack distance decides a hit at `size` exactly.
    fn stack_exact_at(&self, size: u64) -> bool {
        self.objects || (self.resizes == 0 && size >= u64::from(self.largest))
    }

    fn point_from_hits(&self, cache_size: u64, hits: f64, hit_bytes: f64) -> CurvePoint {
        CurvePoint {
            cache_size,
            miss_ratio: 1.0 - hits / self.requests.max(1) as f64,
            byte_miss_ratio: 1.0 - hit_bytes / self.bytes_requested.max(1) as f64,
        }
    }
}

impl Profiler for ExactLru {
    fn label(&self) -> String {
        "exact".into()
    }

    fn feed(&mut self, batch: &[Request]) {
        for req in batch {
            self.requests += 1;
            self.bytes_requested += u64::from(req.size);
            self.largest = self.largest.max(req.size);
            let Some(reuse) = self.stack.access(req.key, u64::from(req.size)) else {
                self.distinct += 1;
                self.distinct_bytes += u64::from(req.size);
                continue;
            };
            if reuse.previous_weight != u64::from(req.size) {
                self.resizes += 1;
            }
            let distance = reuse.between + u64::from(req.size);
            self.histogram.add(distance, 1.0, f64::from(req.size));
            let at = self.named.partition_point(|&s| s < distance);
            if let Some(slot) = self.named_hits.get_mut(at) {
                slot.0 += 1;
                slot.1 += u64::from(req.size);
            }
        }
    }

    fn working_set(&self) -> WorkingSetEstimate {
        WorkingSetEstimate {
            objects: self.distinct as f64,
            bytes: self.distinct_bytes as f64,
            exact: true,
        }
    }

    fn finish(&mut self, sizes: &[u64], replay: &dyn Replay) -> Result<Curve, MrcError> {
        let mut named_cumulative = Vec::with_capacity(self.named.len());
        let (mut hits, mut bytes) = (0u64, 0u64);
        for &(h, b) in &self.named_hits {
            hits += h;
            bytes += b;
            named_cumulative.push((hits, bytes));
        }
        let mut points = Vec::with_capacity(sizes.len());
        let mut simulate = Vec::new();
        for &size in sizes {
            if !self.stack_exact_at(size) {
                simulate.push(size);
            } else if let Ok(i) = self.named.binary_search(&size) {
                let (h, b) = named_cumulative[i];
                points.push(self.point_from_hits(size, h as f64, b as f64));
            } else if Histogram::snap_down(size) == size {
                let (h, b) = self.histogram.within(size);
                points.push(self.point_from_hits(size, h, b));
            } else {
                simulate.push(size);
            }
        }
        let mut notes = Vec::new();
        if !simulate.is_empty() {
            let spec: crate::policy::PolicySpec =
                "lru".parse().map_err(crate::sim::SimError::from)?;
            let configs: Vec<Config> = simulate
                .iter()
                .map(|&size| Config::new(spec.clone(), size))
                .collect();
            for result in replay.simulate(&self.label(), &configs)? {
                let c = result.counters;
                points.push(self.point_from_hits(
                    result.capacity,
                    c.hits as f64,
                    (c.bytes_requested - c.bytes_missed) as f64,
                ));
            }
            points.sort_by_key(|p| p.cache_size);
            let why = if self.resizes > 0 {
                format!(
                    "{} requests ({:.2}%) change their object's size, and LRU that re-fits a resized object is not a stack algorithm",
                    self.resizes,
                    100.0 * self.resizes as f64 / self.requests.max(1) as f64
                )
            } else {
                format!(
                    "they are below the largest object ({}), which LRU refuses at those sizes",
                    format_bytes(u64::from(self.largest))
                )
            };
            notes.push(format!(
                "exact: {} of {} sizes were simulated with LRU in a second pass: {why}",
                simulate.len(),
                sizes.len()
            ));
        }
        Ok(Curve {
            method: self.label(),
            objects: self.objects,
            working_set: self.working_set(),
            points,
            floor: Floor {
                miss_ratio: self.distinct as f64 / self.requests.max(1) as f64,
                byte_miss_ratio: self.distinct_bytes as f64 / self.bytes_requested.max(1) as f64,
            },
            notes,
        })
    }

    fn heap_bytes(&self) -> usize {
        self.stack.heap_bytes() + self.histogram.heap_bytes()
    }
}
