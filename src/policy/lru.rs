//! LRU: evict the least recently used object.
//!
//! One recency list in the shared slab (`list`): a hit moves the object to the
//! front, a miss inserts at the front, eviction takes the back. [`RecencyQueue`] is also
//! FIFO's engine ([`super::fifo`]), which differs only in not moving on a hit.
//!
//! A worked case, capacity 3 objects, requests `A B C A D B`:
//!
//! ```
//! use cachelab::policy::{lru::Lru, Policy};
//! use cachelab::request::Request;
//! let mut lru = Lru::new(3);
//! let hits: Vec<bool> = [1, 2, 3, 1, 4, 2]
//!     .iter()
//!     .map(|&k| lru.get(&Request::get(k, 1)).hit)
//!     .collect();
//! // A, B, C miss; A hits (order now A C B); D evicts B (least recent); B misses.
//! assert_eq!(hits, [false, false, false, true, false, false]);
//! ```

use super::list::{KeyedSlab, List, Token};
use super::registry::{PolicyInfo, PolicyKind};
use super::{EvictionSink, Held, KeyedStore, Outcome, Policy, Unobserved, serve_located};
use crate::request::Request;
/// The registry row: `lru`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "lru",
    kind: PolicyKind::Eviction,
    summary: "least recently used",
    params: &[],
    needs_next_access: false,
    build: |_, ctx| Ok(Box::new(Lru::new(ctx.capacity))),
};

/// LRU: a [`RecencyQueue`] that moves hits to the front.
pub type Lru = RecencyQueue<true>;

/// One queue of objects, newest at the front; `PROMOTE` says whether a hit moves the
/// object to the front (LRU) or leaves it where it is (FIFO).
#[derive(Debug)]
pub struct RecencyQueue<const PROMOTE: bool> {
    store: KeyedSlab<true>,
    queue: List,
    capacity: u64,
}

impl<const PROMOTE: bool> RecencyQueue<PROMOTE> {
    /// An empty cache holding up to `capacity` size units.
    pub fn new(capacity: u64) -> Self {
        RecencyQueue {
            store: KeyedSlab::bounded(capacity),
            queue: List::new(),
            capacity,
        }
    }

    /// Evicts from the back until `incoming` more units fit; returns how many it evicted.
    fn make_room<S: EvictionSink + ?Sized>(&mut self, incoming: u64, sink: &mut S) -> u32 {
        let mut evicted = 0;
        while self.queue.bytes() + incoming > self.capacity {
            let Some(victim) = self.queue.pop_back(self.store.slab_mut()) else {
                break;
            };
            let slab = self.store.slab();
            sink.evicted_from(slab.key(victim), slab.size(victim), victim);
            self.store.remove(victim);
            evicted += 1;
        }
        evicted
    }

    /// The read rule, naming evictions and the admitted object's slot to `sink`; `known`
    /// is what the caller knows of `req.key` ([`Held`]).
    #[inline(always)]
    fn access<S: EvictionSink + ?Sized>(
        &mut self,
        req: &Request,
        known: Held,
        sink: &mut S,
    ) -> Outcome {
        let Ok(found) = known.token_in(&self.store, req.key) else {
            return serve_located(self, req.key, req.size, sink, Self::access);
        };
        if let Some(token) = found {
            let mut outcome = Outcome::HIT;
            if self.store.slab().size(token) != req.size {
                // A resize re-links the object at the front, as a touch would.
                outcome.evictions = self.resize(token, req.size, sink);
            } else {
                self.record_hit(token);
            }
            return outcome;
        }
        if let Some(token) = self.replace_back(req.key, req.size, sink) {
            sink.admitted(req.key, token);
            return Outcome::new(false, 1);
        }
        self.admit(req.key, req.size, sink)
    }

    /// A miss [`RecencyQueue::replace_back`] does not cover (room to spare, or a back
    /// object of another size): evicts from the back until the newcomer fits, then links
    /// it at the front. Out of line, so that the common miss of a full cache stays short
    /// wherever `access` is inlined.
    #[inline(never)]
    fn admit<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> Outcome {
        if u64::from(size) > self.capacity {
            return Outcome::REFUSED;
        }
        let evictions = self.make_room(u64::from(size), sink);
        let token = self.store.insert(key, size);
        self.queue.push_front(self.store.slab_mut(), token);
        sink.admitted(key, token);
        Outcome::new(false, evictions)
    }

    /// The common miss of a full cache, when the back object is the newcomer's size:
    /// [`RecencyQueue::make_room`] would evict it alone (the queue never holds more than
    /// the capacity, so the newcomer then fits), and the insert after would take its node
    /// back from the free list and link it at the front. This does the same in place: the
    /// back node takes the new key and the circle turns by one. Same eviction, same slot,
    /// same order; `None` (nothing done) when the case does not apply.
    #[inline(always)]
    fn replace_back<S: EvictionSink + ?Sized>(
        &mut self,
        key: u64,
        size: u32,
        sink: &mut S,
    ) -> Option<Token> {
        if self.queue.bytes() + u64::from(size) <= self.capacity {
            return None;
        }
        let back = self.queue.back(self.store.slab())?;
        let slab = self.store.slab();
        if slab.size(back) != size {
            return None;
        }
        sink.evicted_from(slab.key(back), size, back);
        self.store.rekey(back, key);
        self.queue.rotate_back_to_front(self.store.slab());
        Some(back)
    }

    /// A hit on `token` with its size unchanged: LRU moves it to the front, FIFO leaves it.
    #[inline(always)]
    fn record_hit(&mut self, token: Token) {
        if PROMOTE {
            self.queue.move_to_front(self.store.slab_mut(), token);
        }
    }

    /// Applies a size change to a present object; returns evictions.
    fn resize<S: EvictionSink + ?Sized>(&mut self, token: Token, size: u32, sink: &mut S) -> u32 {
        let old = self.store.slab().size(token);
        if old == size {
            return 0;
        }
        self.queue.unlink(self.store.slab_mut(), token);
        if u64::from(size) > self.capacity {
            sink.evicted_from(self.store.slab().key(token), old, token);
            self.store.remove(token);
            return 0;
        }
        let evicted = self.make_room(u64::from(size), sink);
        self.queue.push_front(self.store.slab_mut(), token);
        self.queue.resize(self.store.slab_mut(), token, size);
        evicted
    }
}

impl<const PROMOTE: bool> KeyedStore for RecencyQueue<PROMOTE> {
    fn keyed(&self) -> &KeyedSlab<true> {
        &self.store
    }

    fn keyed_mut(&mut self) -> &mut KeyedSlab<true> {
        &mut self.store
    }

    fn drop_held(&mut self, token: Token) {
        self.queue.unlink(self.store.slab_mut(), token);
        self.store.remove(token);
    }
}

impl<const PROMOTE: bool> Policy for RecencyQueue<PROMOTE> {
    fn name(&self) -> String {
        if PROMOTE { "lru" } else { "fifo" }.to_string()
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn used(&self) -> u64 {
        self.queue.bytes()
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn contains(&self, key: u64) -> bool {
        self.store.find(key).is_some()
    }

    #[inline]
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

    #[inline]
    fn hit_at(&mut self, slot: u32) -> bool {
        self.record_hit(slot);
        true
    }

    // The index can go: no ghosts and nothing kept by id, so an absent key is never
    // looked up (`access` goes through `Held::token_in`) and deleting one changes nothing;
    // every held object is on the queue.
    crate::policy::store_index_hooks!();

    fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
    }

    fn validate(&self) -> Result<(), String> {
        self.store
            .validate_queues(std::slice::from_ref(&self.queue), |_, _| true)?;
        if self.queue.bytes() > self.capacity {
            return Err(format!(
                "used {} over capacity {}",
                self.queue.bytes(),
                self.capacity
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::fifo::Fifo;
    use crate::policy::testing::{self, Entry, Model};
    use proptest::prelude::*;

    /// The obviously right model of LRU and FIFO: a `Vec`, front = newest, scanned linearly.
    struct QueueModel {
        queue: Vec<Entry>,
        capacity: u64,
        promote: bool,
    }

    impl QueueModel {
        fn evict_until_fits(&mut self, size: u32) {
            while testing::bytes(&self.queue) + u64::from(size) > self.capacity {
                self.queue.pop();
            }
        }
    }

    impl Model for QueueModel {
        fn access(&mut self, key: u64, size: u32) -> bool {
            if let Some(i) = testing::find(&self.queue, key) {
                if self.queue[i].size != size {
                    // A new size: take it out, and put it back at the front if it fits.
                    self.queue.remove(i);
                    if u64::from(size) <= self.capacity {
                        self.evict_until_fits(size);
                        self.queue.insert(0, Entry { key, size });
                    }
                } else if self.promote {
                    let entry = self.queue.remove(i);
                    self.queue.insert(0, entry);
                }
                return true;
            }
            if u64::from(size) <= self.capacity {
                self.evict_until_fits(size);
                self.queue.insert(0, Entry { key, size });
            }
            false
        }

        fn used(&self) -> u64 {
            testing::bytes(&self.queue)
        }

        fn len(&self) -> usize {
            self.queue.len()
        }
    }

    proptest! {
        #[test]
        fn lru_agrees_with_the_vec_model(case in testing::cases()) {
            let mut model = QueueModel { queue: Vec::new(), capacity: case.capacity, promote: true };
            testing::run_in_step(&mut Lru::new(case.capacity), &mut model, &case.trace)
                .map_err(TestCaseError::fail)?;
        }

        #[test]
        fn fifo_agrees_with_the_vec_model(case in testing::cases()) {
            let mut model = QueueModel { queue: Vec::new(), capacity: case.capacity, promote: false };
            testing::run_in_step(&mut Fifo::new(case.capacity), &mut model, &case.trace)
                .map_err(TestCaseError::fail)?;
        }
    }

    fn run(policy: &mut impl Policy, trace: &[(u64, u32)]) -> Vec<bool> {
        trace
            .iter()
            .map(|&(k, s)| {
                let hit = policy.get(&Request::get(k, s)).hit;
                policy.validate().unwrap();
                hit
            })
            .collect()
    }

    #[test]
    fn evicts_least_recently_used_by_bytes() {
        // Capacity 10 bytes: A(4) B(4) A C(4) evicts B (A was touched); B misses, evicting A.
        let mut lru = Lru::new(10);
        let hits = run(&mut lru, &[(1, 4), (2, 4), (1, 4), (3, 4), (2, 4), (1, 4)]);
        assert_eq!(hits, [false, false, true, false, false, false]);
    }

    #[test]
    fn too_large_objects_are_not_inserted() {
        let mut lru = Lru::new(10);
        assert_eq!(run(&mut lru, &[(1, 11), (1, 11)]), [false, false]);
        assert!(lru.is_empty());
    }

    #[test]
    fn growing_an_object_evicts_others_and_shrinking_keeps_it() {
        let mut lru = Lru::new(10);
        run(&mut lru, &[(1, 4), (2, 4)]);
        // Key 2 grows to 8: key 1 must go.
        assert!(lru.get(&Request::get(2, 8)).hit);
        assert!(!lru.contains(1));
        assert_eq!(lru.used(), 8);
        // Growing past the capacity drops it.
        assert!(lru.get(&Request::get(2, 12)).hit);
        assert!(lru.is_empty());
        lru.validate().unwrap();
    }
}
