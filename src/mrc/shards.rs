//! SHARDS (Waldspurger, Park, Garthwaite and Ahmad, "Efficient MRC Construction with
//! SHARDS", FAST'15): the exact method's stack distances on a spatial sample of the keys,
//! each distance scaled up by the sampling rate.
//!
//! A key is sampled when its hash is below a threshold ([`crate::trace::sampling`]); at rate
//! `R` the sampled keys touched since a sampled key's last access stand for `1 / R` times
//! as many in the whole trace, so its distance is their weight over `R` plus its own size.
//! Two variants:
//!
//! - **fixed rate** (`shards:rate=0.01`): memory grows with the sampled keys, `R` times the
//!   distinct keys;
//! - **fixed size** (`shards:size=8192`): at most that many sampled keys are kept. When one
//!   more would be, the key with the largest hash leaves and the threshold drops to its hash,
//!   so the rate adapts; the histogram's weights are scaled by the new rate over the old, so
//!   that every weight stands for the current rate (the paper's rescaling). Memory is flat
//!   however long the trace.
//!
//! Both apply the paper's correction (SHARDS_adj): the sample's request count differs from
//! its expectation, `R` times the trace's requests, mostly because of a few hot keys in or
//! out of the sample; the difference is added to the smallest-distance bucket, and the
//! ratios are taken over the expected count. The byte curve is corrected the same way, with
//! `R` times the trace's bytes.

use std::collections::BinaryHeap;

use super::curve::{Curve, CurvePoint, Floor};
use super::histogram::Histogram;
use super::hot::HotKeys;
use super::stack::StackDistances;
use super::{MrcError, Profiler, Replay, WorkingSetEstimate};
use crate::request::Request;
use crate::trace::sampling::sample_hash;

/// How SHARDS samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShardsSampling {
    /// This fraction of the keys.
    Rate(f64),
    /// At most this many keys at once; the rate adapts.
    Size(usize),
}

/// The SHARDS profiler; see the module documentation.
#[derive(Debug)]
pub struct Shards {
    objects: bool,
    sampling: ShardsSampling,
    salt: u64,
    /// Keys whose hash is below this are sampled (`u64::MAX`: every key).
    threshold: u64,
    stack: StackDistances,
    /// Fixed size only: the sampled keys by hash, largest first.
    by_hash: BinaryHeap<(u64, u64)>,
    histogram: Histogram,
    /// Fixed rate only: the hot keys, followed with probability 1.
    hot: Option<HotKeys>,
    requests: u64,
    bytes_requested: u64,
    /// Sampled requests and their bytes: at a fixed rate, each weighted by the inverse of
    /// its probability (an estimate of the whole trace's); at a fixed size, counted at the
    /// current rate.
    sampled: (f64, f64),
    /// Sampled first accesses and their bytes, weighted as `sampled`.
    first: (f64, f64),
    /// Fixed size: the product of every rate drop so far (new rate over old). The paper
    /// scales every weight recorded so far at each drop; adding each weight over the
    /// product of the drops until then and scaling by the final product at the end is the
    /// same, without a pass over the histogram per drop.
    drops: f64,
}

/// 2^64 as a float: thresholds over it are rates.
const TWO_64: f64 = 18_446_744_073_709_551_616.0;
/// How many hot keys a fixed-rate SHARDS follows exactly unless told (`hot=`), at rates
/// from [`HOT_FROM_RATE`].
pub const DEFAULT_HOT: usize = 8192;

/// Below this rate SHARDS follows no hot key unless told: every request of a hot key goes
/// through the stack, which on a skewed trace is most requests, and a rate this low is
/// chosen for speed.
pub const HOT_FROM_RATE: f64 = 0.01;

/// The hot keys a fixed rate follows unless told.
pub fn default_hot(rate: f64) -> usize {
    if rate >= HOT_FROM_RATE {
        DEFAULT_HOT
    } else {
        0
    }
}
/// Fixed-point scale of the stack's weights at a fixed rate (sizes over the rate).
const WEIGHT_ONE: f64 = 1024.0;

impl Shards {
    /// A SHARDS profiler counting objects (`objects`) or bytes; `salt` picks the sample.
    /// `hot` is how many hot keys a fixed rate follows exactly beside the sample (0 for
    /// the paper's SHARDS); a fixed size follows none.
    pub fn new(objects: bool, sampling: ShardsSampling, hot: usize, salt: u64) -> Shards {
        let threshold = match sampling {
            ShardsSampling::Rate(rate) if rate < 1.0 => (rate * TWO_64) as u64,
            _ => u64::MAX,
        };
        Shards {
            objects,
            sampling,
            salt,
            threshold,
            stack: StackDistances::default(),
            by_hash: BinaryHeap::new(),
            histogram: Histogram::default(),
            hot: match sampling {
                ShardsSampling::Rate(rate) if rate < 1.0 && hot > 0 => Some(HotKeys::new(hot)),
                _ => None,
            },
            requests: 0,
            bytes_requested: 0,
            sampled: (0.0, 0.0),
            first: (0.0, 0.0),
            drops: 1.0,
        }
    }

    /// The sampling rate now.
    pub fn rate(&self) -> f64 {
        if self.threshold == u64::MAX {
            1.0
        } else {
            self.threshold as f64 / TWO_64
        }
    }

    /// Fixed size: drops the largest-hash keys until at most `max` remain, lowering the
    /// threshold and rescaling the weights.
    fn shrink_to(&mut self, max: usize) {
        let old_rate = self.rate();
        while self.stack.len() > max {
            let Some((hash, key)) = self.by_hash.pop() else {
                break;
            };
            self.stack.remove(key);
            self.threshold = hash;
        }
        self.drops *= self.rate() / old_rate;
    }

    /// `pair` of weights recorded as this profiler records them, in the current rate's
    /// units.
    fn now(&self, pair: (f64, f64)) -> (f64, f64) {
        (pair.0 * self.drops, pair.1 * self.drops)
    }

    /// What the ratios are taken over. With hot keys, the sample's own weighted requests
    /// and bytes (a ratio estimate). Without, as in the paper: the trace's requests and
    /// bytes at a fixed rate (inverse-probability weights), `R` times them at a fixed size
    /// (counts at the current rate); the sample's shortfall or excess is then the
    /// correction of [`Shards::point`].
    fn totals(&self) -> (f64, f64) {
        let scale = match self.sampling {
            ShardsSampling::Rate(_) if self.hot.is_some() => return self.sampled,
            ShardsSampling::Rate(_) => 1.0,
            ShardsSampling::Size(_) => self.rate(),
        };
        (
            self.requests as f64 * scale,
            self.bytes_requested as f64 * scale,
        )
    }

    /// The ratios at `size` from the corrected histogram.
    fn point(&self, size: u64) -> CurvePoint {
        let totals = self.totals();
        let (hits, hit_bytes) = self.now(self.histogram.within(size));
        let sampled = self.now(self.sampled);
        // SHARDS_adj: the shortfall (or excess) of sampled requests counts at the smallest
        // distance, which every size holds (nothing with hot keys: the totals are the
        // sample's).
        let hits = hits + (totals.0 - sampled.0);
        let hit_bytes = hit_bytes + (totals.1 - sampled.1);
        CurvePoint {
            cache_size: size,
            miss_ratio: miss(hits, totals.0),
            byte_miss_ratio: miss(hit_bytes, totals.1),
        }
    }

    /// One request at a fixed rate: hot keys weigh 1, sampled keys `1 / R`.
    #[inline]
    fn feed_fixed_rate(&mut self, req: &Request, hot: bool, sampled: bool) {
        let size = f64::from(req.size);
        let weight = if hot { 1.0 } else { 1.0 / self.rate() };
        let stack_weight = (size * weight * WEIGHT_ONE).round() as u64;
        match self.stack.access(req.key, stack_weight) {
            Some(reuse) => {
                let distance = reuse.between as f64 / WEIGHT_ONE + size;
                self.histogram
                    .add(distance.round() as u64, weight, weight * size);
            }
            None if sampled => {
                self.first.0 += weight;
                self.first.1 += weight * size;
            }
            // A key just promoted that the sample did not hold: its last access is
            // unknown, so this request is left out of the ratios.
            None => return,
        }
        self.sampled.0 += weight;
        self.sampled.1 += weight * size;
    }

    /// One sampled request at a fixed size.
    #[inline]
    fn feed_fixed_size(&mut self, req: &Request, hash: u64, max: usize) {
        let size = f64::from(req.size);
        let weight = 1.0 / self.drops;
        self.sampled.0 += weight;
        self.sampled.1 += weight * size;
        match self.stack.access(req.key, u64::from(req.size)) {
            Some(reuse) => {
                // The others' weight stands for 1/R times as much; the key's own size is
                // its own.
                let distance = reuse.between as f64 / self.rate() + size;
                self.histogram
                    .add(distance.round() as u64, weight, weight * size);
            }
            None => {
                self.first.0 += weight;
                self.first.1 += weight * size;
                self.by_hash.push((hash, req.key));
                if self.stack.len() > max {
                    self.shrink_to(max);
                }
            }
        }
    }
}

/// Misses over requests from estimated hits, within [0, 1].
fn miss(hits: f64, total: f64) -> f64 {
    if total > 0.0 {
        (1.0 - hits / total).clamp(0.0, 1.0)
    } else {
        1.0
    }
}

impl Profiler for Shards {
    fn label(&self) -> String {
        match self.sampling {
            ShardsSampling::Rate(rate) => {
                let hot = self.hot.as_ref().map_or(0, HotKeys::budget);
                if hot == default_hot(rate) || rate >= 1.0 {
                    format!("shards:rate={rate}")
                } else {
                    format!("shards:rate={rate},hot={hot}")
                }
            }
            ShardsSampling::Size(size) => format!("shards:size={size}"),
        }
    }

    fn feed(&mut self, batch: &[Request]) {
        for req in batch {
            self.requests += 1;
            self.bytes_requested += u64::from(req.size);
            let hot = self.hot.as_mut().is_some_and(|h| h.observe(req.key));
            let hash = sample_hash(req.key, self.salt);
            let sampled = self.threshold == u64::MAX || hash < self.threshold;
            match self.sampling {
                ShardsSampling::Rate(_) if hot || sampled => {
                    self.feed_fixed_rate(req, hot, sampled)
                }
                ShardsSampling::Size(max) if sampled => self.feed_fixed_size(req, hash, max),
                _ => {}
            }
        }
    }

    fn working_set(&self) -> WorkingSetEstimate {
        // First accesses are weighted as the totals, which stand for the trace's requests.
        let scale = self.totals().0 / self.requests.max(1) as f64;
        let first = self.now(self.first);
        WorkingSetEstimate {
            objects: first.0 / scale,
            bytes: first.1 / scale,
            exact: false,
        }
    }

    fn finish(&mut self, sizes: &[u64], _replay: &dyn Replay) -> Result<Curve, MrcError> {
        let mut notes = Vec::new();
        match self.sampling {
            ShardsSampling::Size(max) => notes.push(format!(
                "{}: the rate settled at {:.6} ({} keys kept of about {:.0})",
                self.label(),
                self.rate(),
                self.stack.len().min(max),
                self.working_set().objects
            )),
            ShardsSampling::Rate(_) => {
                if let Some(hot) = &self.hot {
                    notes.push(format!(
                        "{}: {} hot keys followed exactly beside the sample",
                        self.label(),
                        hot.len()
                    ));
                }
            }
        }
        let totals = self.totals();
        let first = self.now(self.first);
        Ok(Curve {
            method: self.label(),
            objects: self.objects,
            working_set: self.working_set(),
            points: sizes.iter().map(|&s| self.point(s)).collect(),
            floor: Floor {
                miss_ratio: 1.0 - miss(first.0, totals.0),
                byte_miss_ratio: 1.0 - miss(first.1, totals.1),
            },
            notes,
        })
    }

    fn heap_bytes(&self) -> usize {
        self.stack.heap_bytes()
            + self.by_hash.capacity() * std::mem::size_of::<(u64, u64)>()
            + self.histogram.heap_bytes()
            + self.hot.as_ref().map_or(0, HotKeys::heap_bytes)
    }
}
