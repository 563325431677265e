//! AET (Hu, Wang, Zhou, Luo, Ding and Wang, "Kinetic Modeling of Data Eviction in Cache",
//! USENIX ATC'16): the LRU curve from the distribution of reuse times, in O(1) per request.
//!
//! A request's reuse time is the number of requests since its key's last access (a first
//! access has none: it misses at every size). With `P(t)` the fraction of requests whose
//! reuse time exceeds `t`, a window of `T` requests touches `fp(T) = Σ_{u<T} P(u)` distinct
//! keys on average; an LRU cache of `c` objects therefore keeps a key for the average
//! eviction time `AET(c)`, the `T` where `fp(T) = c`, and misses the requests whose reuse
//! time exceeds it: `mr(c) = P(AET(c))`. In bytes, each key counts its size in the
//! footprint, `fp_b(T) = Σ_{u<T} Q(u)` with `Q(u)` the bytes per request of the requests
//! whose reuse time exceeds `u`.
//!
//! Reuse times go into the shared log-bucket histogram ([`super::histogram`]), which is
//! treated as linear within a bucket. `aet` keeps the last access time of every key (24
//! bytes a distinct key). `aet:rate=R` samples requests instead, as the paper does: each
//! request is picked with probability `R` (by a hash of its position, so a seeded run
//! repeats), its key is watched until its next access, which gives that request's forward
//! reuse time, and a request never followed is a last access, the mirror of a first one.
//! Only the watched keys are kept, about `R` times the distinct keys, and, unlike a sample
//! of keys, one hot key cannot swing the estimate: every request is equally likely to be
//! picked.

use hashbrown::HashTable;

use super::curve::{Curve, CurvePoint, Floor};
use super::histogram::Histogram;
use super::{MrcError, Profiler, Replay, WorkingSetEstimate};
use crate::policy::list::mix64;
use crate::request::Request;
use crate::trace::sampling::sample_hash;

/// The AET profiler; see the module documentation.
#[derive(Debug)]
pub struct Aet {
    objects: bool,
    rate: f64,
    /// Requests whose position hashes below this are sampled (`u64::MAX`: all, backward).
    threshold: u64,
    salt: u64,
    /// Every key's last access (all requests), or the sampled requests awaiting their
    /// key's next access: (key, time, size).
    watched: HashTable<(u64, u64, u32)>,
    /// Reuse times, with the bytes of their requests.
    reuse: Histogram,
    /// First accesses (all requests) or sampled requests never followed, and their bytes:
    /// the requests with no reuse time.
    first: (f64, f64),
    /// Every request seen (the clock).
    now: u64,
}

impl Aet {
    /// An AET profiler counting objects (`objects`) or bytes, on every request (`rate` 1)
    /// or on a sample of requests at `rate`; `salt` picks the sample.
    pub fn new(objects: bool, rate: f64, salt: u64) -> Aet {
        Aet {
            objects,
            rate: rate.min(1.0),
            threshold: if rate >= 1.0 {
                u64::MAX
            } else {
                (rate * 18_446_744_073_709_551_616.0) as u64
            },
            salt: salt ^ 0xAE7_5A3B_1E5E_ED00,
            watched: HashTable::new(),
            reuse: Histogram::default(),
            first: (0.0, 0.0),
            now: 0,
        }
    }

    /// Every key's backward reuse time.
    #[inline]
    fn feed_all(&mut self, req: &Request, now: u64) {
        let hash = mix64(req.key);
        match self.watched.find_mut(hash, |e| e.0 == req.key) {
            Some(entry) => {
                let reuse_time = now - entry.1;
                entry.1 = now;
                self.reuse.add(reuse_time, 1.0, f64::from(req.size));
            }
            None => {
                self.watched
                    .insert_unique(hash, (req.key, now, req.size), |e| mix64(e.0));
                self.first.0 += 1.0;
                self.first.1 += f64::from(req.size);
            }
        }
    }

    /// The forward reuse time of sampled requests.
    #[inline]
    fn feed_sampled(&mut self, req: &Request, now: u64) {
        let hash = mix64(req.key);
        if !self.watched.is_empty()
            && let Ok(entry) = self.watched.find_entry(hash, |e| e.0 == req.key)
        {
            let ((_, then, size), _) = entry.remove();
            self.reuse.add(now - then, 1.0, f64::from(size));
        }
        if sample_hash(now, self.salt) < self.threshold {
            self.watched
                .insert_unique(hash, (req.key, now, req.size), |e| mix64(e.0));
        }
    }

    /// The requests with no reuse time: first accesses, or sampled requests still watched.
    fn unreused(&self) -> (f64, f64) {
        if self.threshold == u64::MAX {
            return self.first;
        }
        self.watched
            .iter()
            .fold((0.0, 0.0), |acc, e| (acc.0 + 1.0, acc.1 + f64::from(e.2)))
    }

    /// The miss ratios at each of the ascending `sizes`.
    fn points(&self, sizes: &[u64]) -> Vec<CurvePoint> {
        let (reused, reused_bytes) = self.reuse.total();
        let unreused = self.unreused();
        let (requests, bytes) = (reused + unreused.0, reused_bytes + unreused.1);
        if requests == 0.0 {
            return sizes
                .iter()
                .map(|&cache_size| CurvePoint {
                    cache_size,
                    miss_ratio: 1.0,
                    byte_miss_ratio: 1.0,
                })
                .collect();
        }
        // Walk the buckets in increasing reuse time, keeping the requests (and bytes) whose
        // reuse time exceeds the bucket's start, and the footprint up to it.
        let mut out = Vec::with_capacity(sizes.len());
        let mut next = sizes.iter().copied().peekable();
        let mut above = (requests, bytes); // reuse time > t at t = the current start
        let mut footprint = 0.0;
        let mut start = 0u64;
        for (upper, n, b) in self.reuse.buckets() {
            // Below `start` of this bucket nothing changes: P is flat from the last bucket's
            // end to this one's start. Buckets hold reuse times start'..=upper; treat them as
            // spread evenly, so P falls linearly across the bucket.
            let lower = self.bucket_lower(upper);
            // Flat part [start, lower).
            let flat = (lower.saturating_sub(start)) as f64;
            if let Some(p) = self.cross(
                &mut next, &mut out, footprint, flat, above, above, requests, bytes,
            ) {
                footprint = p;
            }
            let width = (upper + 1 - lower) as f64;
            let after = (above.0 - n, above.1 - b);
            if let Some(p) = self.cross(
                &mut next, &mut out, footprint, width, above, after, requests, bytes,
            ) {
                footprint = p;
            }
            above = after;
            start = upper + 1;
        }
        // Past the last reuse time only first accesses miss.
        for cache_size in next {
            out.push(CurvePoint {
                cache_size,
                miss_ratio: above.0 / requests,
                byte_miss_ratio: above.1 / bytes,
            });
        }
        out
    }

    /// The first value of the bucket whose last value is `upper`.
    fn bucket_lower(&self, upper: u64) -> u64 {
        let index = Histogram::index(upper);
        if index == 0 {
            0
        } else {
            Histogram::upper(index - 1) + 1
        }
    }

    /// Advances the footprint over a stretch of `width` reuse times in which the requests
    /// above fall linearly from `from` to `to`, emitting a point for every size the
    /// footprint reaches inside it; returns the footprint at the stretch's end.
    #[allow(clippy::too_many_arguments)]
    fn cross(
        &self,
        next: &mut std::iter::Peekable<impl Iterator<Item = u64>>,
        out: &mut Vec<CurvePoint>,
        footprint: f64,
        width: f64,
        from: (f64, f64),
        to: (f64, f64),
        requests: f64,
        bytes: f64,
    ) -> Option<f64> {
        if width <= 0.0 {
            return None;
        }
        // Footprint grows by P (objects) or Q (bytes per request) per unit of time.
        let unit = |pair: (f64, f64)| {
            if self.objects {
                pair.0 / requests
            } else {
                pair.1 / requests
            }
        };
        let (g0, g1) = (unit(from), unit(to));
        let end = footprint + width * (g0 + g1) / 2.0;
        while let Some(&size) = next.peek() {
            let size_f = size as f64;
            if size_f > end {
                break;
            }
            // Solve footprint + g0 x + (g1 - g0) x^2 / (2 width) = size for x in [0, width].
            let need = (size_f - footprint).max(0.0);
            let a = (g1 - g0) / (2.0 * width);
            let x = if a.abs() < 1e-300 {
                if g0 > 0.0 { need / g0 } else { 0.0 }
            } else {
                let disc = (g0 * g0 + 4.0 * a * need).max(0.0);
                (-g0 + disc.sqrt()) / (2.0 * a)
            }
            .clamp(0.0, width);
            let f = x / width;
            let missed = (from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f);
            out.push(CurvePoint {
                cache_size: size,
                miss_ratio: (missed.0 / requests).clamp(0.0, 1.0),
                byte_miss_ratio: (missed.1 / bytes).clamp(0.0, 1.0),
            });
            next.next();
        }
        Some(end)
    }
}

impl Profiler for Aet {
    fn label(&self) -> String {
        if self.threshold == u64::MAX {
            "aet".into()
        } else {
            format!("aet:rate={}", self.rate)
        }
    }

    fn feed(&mut self, batch: &[Request]) {
        for req in batch {
            let now = self.now;
            self.now += 1;
            if self.threshold == u64::MAX {
                self.feed_all(req, now);
            } else {
                self.feed_sampled(req, now);
            }
        }
    }

    fn working_set(&self) -> WorkingSetEstimate {
        // Each key has one first access and one last: a sample of last accesses at `R`
        // counts `R` times the keys.
        let unreused = self.unreused();
        WorkingSetEstimate {
            objects: unreused.0 / self.rate,
            bytes: unreused.1 / self.rate,
            exact: self.threshold == u64::MAX,
        }
    }

    fn finish(&mut self, sizes: &[u64], _replay: &dyn Replay) -> Result<Curve, MrcError> {
        let (reused, reused_bytes) = self.reuse.total();
        let unreused = self.unreused();
        let (requests, bytes) = (reused + unreused.0, reused_bytes + unreused.1);
        let ratio = |part: f64, whole: f64| if whole > 0.0 { part / whole } else { 1.0 };
        Ok(Curve {
            method: self.label(),
            objects: self.objects,
            working_set: self.working_set(),
            points: self.points(sizes),
            floor: Floor {
                miss_ratio: ratio(unreused.0, requests),
                byte_miss_ratio: ratio(unreused.1, bytes),
            },
            notes: Vec::new(),
        })
    }

    fn heap_bytes(&self) -> usize {
        self.watched.capacity() * (std::mem::size_of::<(u64, u64, u32)>() + 1)
            + self.reuse.heap_bytes()
    }
}
