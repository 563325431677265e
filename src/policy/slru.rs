//! Segmented LRU (S4LRU with the default four segments): Q. Huang, K. Birman, R. van
//! Renesse, W. Lloyd, S. Kumar and H. C. Li, "An Analysis of Facebook Photo Caching",
//! SOSP 2013 (Section 5.1, "S4LRU"), after R. Karedla, J. S. Love and B. G. Wherry,
//! "Caching Strategies to Improve Disk System Performance", IEEE Computer 1994 (SLRU).
//! Parameter `segments` (default 4, at most 16).
//!
//! The cache is split into `segments` LRU queues of equal size, `⌊c / segments⌋` size units
//! each; segment 0 is the lowest. A miss inserts at the head of segment 0; a hit in segment
//! `i` moves the object to the head of segment `i + 1` (in the top segment: to its head).
//! When a segment holds more than its size, its LRU tail moves down to the head of the
//! segment below, which may overflow in turn; what overflows segment 0 leaves the cache.
//! Byte-aware: segments are bounded in size units and the cascade repeats until each fits.
//!
//! Semantics follow libCacheSim's `SLRU.c` (whose default is also four segments):
//! - A miss first evicts the tail of the lowest non-empty segment until the object fits in
//!   the whole cache, then inserts it at the head of the *lowest segment with room for it*,
//!   or of segment 0 when none has room. So a cold cache fills all segments (the paper's
//!   S4LRU would leave the upper ones empty until hits promote into them), and segment 0
//!   may run over its size after an insert until the next cascade through it.
//! - An object larger than one segment is never admitted. A segment is at least 1 unit
//!   (libCacheSim's are 0 below `segments` objects, and then it admits nothing).
//!
//! Deliberate difference: a hit with a new size deletes the object and admits it again as
//! new, counted as a hit; libCacheSim keeps the old size.
//!
//! Measured on cloudPhysicsIO (113,872 requests; `scripts/libcachesim_agreement.py`,
//! against libCacheSim 0.3.5) at 0.1 %, 1 %, 10 % and 50 % of the
//! working set: miss counts identical to libCacheSim's in all eight configurations (bytes
//! 95355, 93529, 88640, 58394; objects 101125, 94590, 90011, 57775).
//!
//! A worked case, c = 4 objects, two segments of 2:
//!
//! ```
//! use cachelab::policy::{slru::{Slru, SlruParams}, Policy};
//! use cachelab::request::Request;
//! let mut s = Slru::with_params(4, SlruParams { segments: 2 });
//! // 1 2 fill segment 0, 3 4 the (empty) segment 1: lowest segment with room.
//! for k in 1..=4 { assert!(!s.get(&Request::get(k, 1)).hit); }
//! assert_eq!((s.segment_of(1), s.segment_of(3)), (Some(0), Some(1)));
//! // 1 hits: promoted to segment 1 (1 4 3, over its size), whose tail 3 cools down into
//! // segment 0 (3 2; 1 left it, so it fits). 5 evicts segment 0's tail, 2.
//! assert!(s.get(&Request::get(1, 1)).hit);
//! assert_eq!(s.segment_of(3), Some(0));
//! assert!(!s.get(&Request::get(5, 1)).hit);
//! assert!(!s.contains(2) && s.contains(3));
//! ```

use super::list::{KeyedSlab, List, Token};
use super::registry::{ParamInfo, PolicyInfo, PolicyKind, spec_text};
use super::{EvictionSink, Held, Outcome, Policy, Unobserved};
use crate::request::Request;
/// Segmented LRU's parameters (`slru:segments=4`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlruParams {
    /// Number of equal LRU segments (1-16); a hit climbs one, overflow cascades down.
    pub segments: usize,
}

impl Default for SlruParams {
    fn default() -> SlruParams {
        SlruParams { segments: 4 }
    }
}

/// The registry row: `slru`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "slru",
    kind: PolicyKind::Eviction,
    summary: "segmented LRU, S4LRU by default (Huang et al., SOSP'13; libCacheSim semantics)",
    params: &[ParamInfo {
        name: "segments",
        default: "4",
        help: "number of equal LRU segments (1-16); a hit climbs one, overflow cascades down",
    }],
    needs_next_access: false,
    build: |p, ctx| {
        let segments = p.u64_in("segments", 1, Slru::MAX_SEGMENTS as u64)? as usize;
        Ok(Box::new(Slru::with_params(
            ctx.capacity,
            SlruParams { segments },
        )))
    },
};

/// Segmented LRU; see the module docs. A node's `aux` is its segment.
#[derive(Debug)]
pub struct Slru {
    store: KeyedSlab,
    /// One LRU per segment, index 0 the lowest; front = most recent.
    segments: Vec<List>,
    capacity: u64,
    /// Size of each segment, in size units.
    segment_cap: u64,
}

impl Slru {
    /// The most segments accepted (libCacheSim's `SLRU_MAX_N_SEG`).
    pub const MAX_SEGMENTS: usize = 16;

    /// An empty cache of `capacity` size units with the default parameters.
    pub fn new(capacity: u64) -> Slru {
        Slru::with_params(capacity, SlruParams::default())
    }

    /// An empty segmented LRU of `capacity` units in `segments` (1..=16) equal segments of
    /// `⌊capacity / segments⌋` units (at least 1).
    pub fn with_params(capacity: u64, params: SlruParams) -> Slru {
        let SlruParams { segments } = params;
        assert!(
            (1..=Self::MAX_SEGMENTS).contains(&segments),
            "segments must be 1..=16"
        );
        Slru {
            store: KeyedSlab::bounded(capacity),
            segments: vec![List::new(); segments],
            capacity,
            segment_cap: (capacity / segments as u64).max(1.min(capacity)),
        }
    }

    /// The segment `key` is in, if resident (0 is the lowest).
    pub fn segment_of(&self, key: u64) -> Option<usize> {
        self.store
            .find(key)
            .map(|t| self.store.slab().aux(t) as usize)
    }

    /// Evicts the tail of the lowest non-empty segment; false when the cache is empty.
    fn evict_one<S: EvictionSink + ?Sized>(&mut self, sink: &mut S) -> bool {
        let Some(id) = self.segments.iter().position(|s| !s.is_empty()) else {
            return false;
        };
        let token = self.segments[id]
            .pop_back(self.store.slab_mut())
            .expect("segment is not empty");
        let slab = self.store.slab();
        sink.evicted_from(slab.key(token), slab.size(token), token);
        self.store.remove(token);
        true
    }

    /// Moves the tail of overflowing segment `id` down (or out, from segment 0), settling
    /// each lower segment before looking at `id` again; returns evictions.
    fn cool<S: EvictionSink + ?Sized>(&mut self, id: usize, sink: &mut S) -> u32 {
        let mut evicted = 0;
        while self.segments[id].bytes() > self.segment_cap {
            if id == 0 {
                self.evict_one(sink);
                evicted += 1;
                continue;
            }
            let token = self.segments[id]
                .pop_back(self.store.slab_mut())
                .expect("an overflowing segment is not empty");
            self.link(token, id - 1);
            evicted += self.cool(id - 1, sink);
        }
        evicted
    }

    /// Links the unlinked `token` at the head of segment `id`.
    fn link(&mut self, token: Token, id: usize) {
        self.segments[id].push_front(self.store.slab_mut(), token);
        self.store.slab_mut().set_aux(token, id as u32);
    }

    /// A hit on `token` in segment `id`: to the head of the next segment up, then cascade.
    fn promote<S: EvictionSink + ?Sized>(&mut self, token: Token, id: usize, sink: &mut S) -> u32 {
        if id + 1 == self.segments.len() {
            self.segments[id].move_to_front(self.store.slab_mut(), token);
            return 0;
        }
        self.segments[id].unlink(self.store.slab_mut(), token);
        self.link(token, id + 1);
        self.cool(id + 1, sink)
    }

    /// Makes room for a new object and inserts it into the lowest segment with room.
    fn admit<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32 {
        let s = u64::from(size);
        let mut evicted = 0;
        while self.used() + s > self.capacity && self.evict_one(sink) {
            evicted += 1;
        }
        let cap = self.segment_cap;
        let id = self
            .segments
            .iter()
            .position(|seg| seg.bytes() + s <= cap)
            .unwrap_or(0);
        let token = self.store.insert(key, size);
        self.link(token, id);
        sink.admitted(key, token);
        evicted
    }
}

impl Slru {
    /// The read rule, naming every object it drops (with its slot) and the admitted
    /// object's slot to `sink`; `known` is what the caller knows of `req.key` ([`Held`]).
    fn access<S: EvictionSink + ?Sized>(
        &mut self,
        req: &Request,
        known: Held,
        sink: &mut S,
    ) -> Outcome {
        let admissible = u64::from(req.size) <= self.segment_cap;
        // SLRU keeps no ghost nodes: a key not held has no node.
        if let Some(token) = known.token_or(|| self.store.find(req.key), false) {
            let id = self.store.slab().aux(token) as usize;
            let evictions = if self.store.slab().size(token) == req.size {
                self.promote(token, id, sink)
            } else {
                let old = self.store.slab().size(token);
                self.segments[id].unlink(self.store.slab_mut(), token);
                self.store.remove(token);
                if admissible {
                    self.admit(req.key, req.size, sink)
                } else {
                    sink.evicted_from(req.key, old, token);
                    0
                }
            };
            return Outcome::new(true, evictions);
        }
        if !admissible {
            return Outcome::REFUSED;
        }
        let evictions = self.admit(req.key, req.size, sink);
        Outcome::new(false, evictions)
    }
}

impl Policy for Slru {
    fn name(&self) -> String {
        spec_text("slru", [("segments", self.segments.len())])
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn used(&self) -> u64 {
        self.segments.iter().map(List::bytes).sum()
    }

    fn len(&self) -> usize {
        self.segments.iter().map(List::len).sum()
    }

    fn contains(&self, key: u64) -> bool {
        self.store.find(key).is_some()
    }

    fn get(&mut self, req: &Request) -> Outcome {
        self.access(req, Held::Unknown, &mut Unobserved)
    }

    fn get_evicting(&mut self, req: &Request, on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        self.access(req, Held::Unknown, on_evict)
    }

    fn names_evictions(&self) -> bool {
        true
    }

    super::token_slots!(|this, key| this.store.find(key));

    fn delete(&mut self, key: u64) -> bool {
        let Some(token) = self.store.find(key) else {
            return false;
        };
        let id = self.store.slab().aux(token) as usize;
        self.segments[id].unlink(self.store.slab_mut(), token);
        self.store.remove(token);
        true
    }

    fn heap_bytes(&self) -> usize {
        self.store.heap_bytes() + self.segments.capacity() * std::mem::size_of::<List>()
    }

    fn validate(&self) -> Result<(), String> {
        self.store.validate_queues(&self.segments, |token, id| {
            self.store.slab().aux(token) == id as u32
        })?;
        for (id, seg) in self.segments.iter().enumerate() {
            // Only segment 0 may run over its size (an insert when no segment had room).
            if id > 0 && seg.bytes() > self.segment_cap {
                return Err(format!(
                    "segment {id} holds {} of {}",
                    seg.bytes(),
                    self.segment_cap
                ));
            }
        }
        if self.used() > self.capacity {
            return Err(format!("used {} of {}", self.used(), self.capacity));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::{self, Entry, Model};
    use proptest::prelude::*;

    /// S4LRU over one `Vec` per segment (index 0 = head), with libCacheSim's insertion rule
    /// and the cascade written as a loop from the promoted segment down.
    struct SlruModel {
        c: u64,
        cap: u64,
        segs: Vec<Vec<Entry>>,
    }

    impl SlruModel {
        fn evict(&mut self) {
            if let Some(seg) = self.segs.iter_mut().find(|s| !s.is_empty()) {
                seg.pop();
            }
        }

        /// Segment `id` overflows: its tail goes to the head of `id - 1`, which is settled
        /// before `id` is looked at again; out of the cache from segment 0.
        fn cool(&mut self, id: usize) {
            while testing::bytes(&self.segs[id]) > self.cap {
                if id == 0 {
                    self.evict();
                } else {
                    let e = self.segs[id].pop().unwrap();
                    self.segs[id - 1].insert(0, e);
                    self.cool(id - 1);
                }
            }
        }

        fn admit(&mut self, key: u64, size: u32) {
            while self.used() + u64::from(size) > self.c {
                self.evict();
            }
            let id = (0..self.segs.len())
                .find(|&i| testing::bytes(&self.segs[i]) + u64::from(size) <= self.cap)
                .unwrap_or(0);
            self.segs[id].insert(0, Entry { key, size });
        }
    }

    impl Model for SlruModel {
        fn access(&mut self, key: u64, size: u32) -> bool {
            let admissible = u64::from(size) <= self.cap;
            let top = self.segs.len() - 1;
            for id in 0..self.segs.len() {
                let Some(i) = testing::find(&self.segs[id], key) else {
                    continue;
                };
                let e = self.segs[id].remove(i);
                if e.size != size {
                    if admissible {
                        self.admit(key, size);
                    }
                } else {
                    let up = (id + 1).min(top);
                    self.segs[up].insert(0, e);
                    self.cool(up);
                }
                return true;
            }
            if admissible {
                self.admit(key, size);
            }
            false
        }

        fn used(&self) -> u64 {
            self.segs.iter().map(|s| testing::bytes(s)).sum()
        }

        fn len(&self) -> usize {
            self.segs.iter().map(Vec::len).sum()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn agrees_with_the_vec_model(case in testing::cases(), segments in 1usize..=6) {
            let mut slru = Slru::with_params(case.capacity, SlruParams { segments });
            let mut model = SlruModel {
                c: case.capacity,
                cap: slru.segment_cap,
                segs: vec![Vec::new(); segments],
            };
            testing::run_in_step(&mut slru, &mut model, &case.trace).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn hits_climb_one_segment_and_overflow_cascades_down() {
        // c = 8, four segments of 2 (heads first, segment 0 .. 3):
        // 1..=8     lowest segment with room: [2 1] [4 3] [6 5] [8 7]
        // 1         to segment 1's head; its tail 3 cools to segment 0: [3 2] [1 4] [6 5] [8 7]
        // 1         to segment 2 ([1 6 5], over): tail 5 cools to segment 1, which 1 left,
        //           so nothing more moves: [3 2] [5 4] [1 6] [8 7]
        // 1         to segment 3: tail 7 to segment 2 ([7 6], 1 left it): [3 2] [5 4] [7 6] [1 8]
        // 1         top segment: to its head (already there)
        // 9         full: segment 0's tail 2 is evicted; 9 enters segment 0: [9 3] ...
        let mut slru = Slru::with_params(8, SlruParams { segments: 4 });
        let trace = testing::unit(&[1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 1, 1, 9]);
        let hits = testing::hits(&mut slru, &trace);
        assert_eq!(hits.iter().filter(|&&h| h).count(), 4);
        let segs: Vec<Option<usize>> = (1..=9).map(|k| slru.segment_of(k)).collect();
        assert_eq!(
            segs,
            [
                Some(3),
                None,
                Some(0),
                Some(1),
                Some(1),
                Some(2),
                Some(2),
                Some(3),
                Some(0)
            ]
        );
    }

    #[test]
    fn with_equal_sizes_a_cascade_never_evicts() {
        // c = 4, two segments of 2: 1 2 in segment 0, 3 4 in segment 1. 5 evicts 1 and
        // enters segment 0 ([5 2] [4 3]). 2 hits: to segment 1 ([2 4 3], over), 3 cools to
        // segment 0 ([3 5]); nothing leaves. 5 hits: to segment 1 ([5 2 4]), 4 cools down
        // ([4 3]). 6 evicts 3 (segment 0's tail).
        let mut slru = Slru::with_params(4, SlruParams { segments: 2 });
        let hits = testing::hits(&mut slru, &testing::unit(&[1, 2, 3, 4, 5, 2, 5, 6]));
        assert_eq!(hits, [false, false, false, false, false, true, true, false]);
        assert!(!slru.contains(1) && !slru.contains(3));
        assert_eq!(slru.segment_of(4), Some(0));
        assert_eq!(slru.segment_of(6), Some(0));
        assert_eq!(slru.segment_of(5), Some(1));
    }

    #[test]
    fn with_bytes_a_cascade_can_evict_from_segment_zero() {
        // c = 20 bytes, two segments of 10. (1,5) (2,5) fill segment 0 ([2 1], 10); (3,9)
        // does not fit there, so it goes to segment 1 ([3], 9); so does (4,1) ([4 3], 10).
        // 1 hits: segment 1 becomes [1 4 3] (15), its tail 3 (9) cools into segment 0
        // ([3 2], 14), whose tail 2 leaves the cache: [3] [1 4].
        let mut slru = Slru::with_params(20, SlruParams { segments: 2 });
        testing::hits(&mut slru, &[(1, 5), (2, 5), (3, 9), (4, 1)]);
        assert_eq!(slru.used(), 20);
        let out = slru.get(&Request::get(1, 5));
        assert!(out.hit && out.evictions == 1);
        assert!(!slru.contains(2));
        assert_eq!(slru.segment_of(3), Some(0));
        assert_eq!((slru.segment_of(1), slru.segment_of(4)), (Some(1), Some(1)));
        assert_eq!(slru.used(), 15);
        slru.validate().unwrap();
    }

    #[test]
    fn bytes_bound_each_segment_and_admission() {
        // c = 40 bytes, four segments of 10: an object of 11 is never admitted.
        let mut slru = Slru::with_params(40, SlruParams { segments: 4 });
        assert!(!slru.get(&Request::get(1, 11)).hit);
        assert!(slru.is_empty());
        // Sizes 6, 6: the second does not fit segment 0 (12 > 10), so it goes to segment 1.
        testing::hits(&mut slru, &[(1, 6), (2, 6)]);
        assert_eq!((slru.segment_of(1), slru.segment_of(2)), (Some(0), Some(1)));
        // 1 hits: segment 1 holds 12 > 10, so its tail 2 cools to segment 0.
        assert!(slru.get(&Request::get(1, 6)).hit);
        assert_eq!((slru.segment_of(1), slru.segment_of(2)), (Some(1), Some(0)));
        // A new size is a hit that re-admits the object as new: into the lowest segment
        // with room, segment 0 (6 + 3 ≤ 10), not where it was.
        assert!(slru.get(&Request::get(1, 3)).hit);
        assert_eq!(slru.segment_of(1), Some(0));
        assert_eq!(slru.used(), 9);
        slru.validate().unwrap();
    }
}
