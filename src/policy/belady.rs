//! Belady's MIN: on a miss, evict the object whose next access is farthest in the future.
//!
//! The offline optimum for unit sizes (L. A. Belady, "A study of replacement algorithms for
//! a virtual-storage computer", IBM Systems Journal 1966), and so the upper bound that
//! other policies are measured against in object mode. It reads `Request::next_access`
//! (the engine computes it with a backward pass when the trace does not carry it).
//!
//! Every miss is admitted, even an object that is never requested again, as in
//! libCacheSim's `Belady`. With variable sizes this is the same farthest-next-use rule
//! applied until the new object fits: it is **not** the byte-optimal policy (that problem
//! is NP-hard; libCacheSim's `BeladySize` and the flow-based bounds of Berger et al. are
//! other variants). Which of several never-again objects goes first cannot change any hit,
//! because all of them go before any object that is used again.
//!
//! Storage: the shared slab for keys and sizes, and an indexed binary max-heap of tokens by
//! `(next_access, key)`; each node's `aux` word is its heap position, so a hit re-keys its
//! object in O(log n).
//!
//! Worked case, 2 slots, `A B C A B` (next uses 3, 4, never, never, never): C misses and
//! evicts B, whose next use (4) is farther than A's (3); A then hits and B misses.
//!
//! ```
//! use cachelab::policy::{belady::Belady, Policy};
//! use cachelab::request::{Request, NEVER};
//! let next = [3, 4, NEVER, NEVER, NEVER];
//! let keys = [1, 2, 3, 1, 2];
//! let mut min = Belady::new(2);
//! let hits: Vec<bool> = keys
//!     .iter()
//!     .zip(next)
//!     .map(|(&key, next_access)| min.get(&Request { next_access, ..Request::get(key, 1) }).hit)
//!     .collect();
//! assert_eq!(hits, [false, false, false, true, false]);
//! ```

use super::list::{KeyedSlab, Token};
use super::registry::{PolicyInfo, PolicyKind};
use super::{EvictionSink, Outcome, Policy, Unobserved};
use crate::request::Request;
/// The registry row: `belady`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "belady",
    kind: PolicyKind::Eviction,
    summary: "Belady's MIN: evict the farthest next use (offline optimum for unit sizes)",
    params: &[],
    needs_next_access: true,
    build: |_, ctx| Ok(Box::new(Belady::new(ctx.capacity))),
};

/// Belady's MIN over keys with sizes.
#[derive(Debug, Default)]
pub struct Belady {
    store: KeyedSlab,
    /// Next access of each token (indexed by token).
    next: Vec<u64>,
    /// Max-heap of tokens by `(next, key)`; `aux` of a node is its position here.
    heap: Vec<Token>,
    used: u64,
    capacity: u64,
}

impl Belady {
    /// An empty cache of `capacity` size units.
    pub fn new(capacity: u64) -> Belady {
        Belady {
            capacity,
            ..Belady::default()
        }
    }

    fn priority(&self, token: Token) -> (u64, u64) {
        (self.next[token as usize], self.store.slab().key(token))
    }

    fn place(&mut self, position: usize, token: Token) {
        self.heap[position] = token;
        self.store.slab_mut().set_aux(token, position as u32);
    }

    fn sift_up(&mut self, mut position: usize) {
        let token = self.heap[position];
        while position > 0 {
            let parent = (position - 1) / 2;
            if self.priority(self.heap[parent]) >= self.priority(token) {
                break;
            }
            self.place(position, self.heap[parent]);
            position = parent;
        }
        self.place(position, token);
    }

    fn sift_down(&mut self, mut position: usize) {
        let token = self.heap[position];
        loop {
            let left = 2 * position + 1;
            if left >= self.heap.len() {
                break;
            }
            let right = left + 1;
            let child = if right < self.heap.len()
                && self.priority(self.heap[right]) > self.priority(self.heap[left])
            {
                right
            } else {
                left
            };
            if self.priority(self.heap[child]) <= self.priority(token) {
                break;
            }
            self.place(position, self.heap[child]);
            position = child;
        }
        self.place(position, token);
    }

    fn heap_push(&mut self, token: Token) {
        self.heap.push(token);
        self.sift_up(self.heap.len() - 1);
    }

    fn heap_remove(&mut self, token: Token) {
        let position = self.store.slab().aux(token) as usize;
        let last = self.heap.pop().expect("a cached token is on the heap");
        if position < self.heap.len() {
            self.place(position, last);
            self.sift_up(position);
            self.sift_down(self.store.slab().aux(last) as usize);
        }
    }

    fn drop_token(&mut self, token: Token) {
        self.heap_remove(token);
        self.used -= u64::from(self.store.slab().size(token));
        self.store.remove(token);
    }

    /// Evicts farthest-next-use objects until `incoming` more units fit.
    fn make_room<S: EvictionSink + ?Sized>(&mut self, incoming: u64, sink: &mut S) -> u32 {
        let mut evicted = 0;
        while self.used + incoming > self.capacity {
            let Some(&victim) = self.heap.first() else {
                break;
            };
            let slab = self.store.slab();
            sink.evicted(slab.key(victim), slab.size(victim));
            self.drop_token(victim);
            evicted += 1;
        }
        evicted
    }
}

impl Belady {
    /// The read rule, naming evictions to `sink`.
    fn access<S: EvictionSink + ?Sized>(&mut self, req: &Request, sink: &mut S) -> Outcome {
        if let Some(token) = self.store.find(req.key) {
            let mut outcome = Outcome::HIT;
            let old = self.store.slab().size(token);
            if old != req.size {
                // Take the object out, make room for its new size, and put it back.
                self.drop_token(token);
                if u64::from(req.size) <= self.capacity {
                    outcome.evictions = self.make_room(u64::from(req.size), sink);
                    self.insert(req);
                } else {
                    sink.evicted(req.key, old);
                }
                return outcome;
            }
            self.next[token as usize] = req.next_access;
            let position = self.store.slab().aux(token) as usize;
            self.sift_up(position);
            self.sift_down(self.store.slab().aux(token) as usize);
            return outcome;
        }
        if u64::from(req.size) > self.capacity {
            return Outcome::REFUSED;
        }
        let evictions = self.make_room(u64::from(req.size), sink);
        self.insert(req);
        Outcome::new(false, evictions)
    }
}

impl Policy for Belady {
    fn name(&self) -> String {
        "belady".to_string()
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn used(&self) -> u64 {
        self.used
    }

    fn len(&self) -> usize {
        self.store.len()
    }

    fn contains(&self, key: u64) -> bool {
        self.store.find(key).is_some()
    }

    fn get(&mut self, req: &Request) -> Outcome {
        self.access(req, &mut Unobserved)
    }

    fn get_evicting(&mut self, req: &Request, on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        self.access(req, on_evict)
    }

    fn names_evictions(&self) -> bool {
        true
    }

    fn delete(&mut self, key: u64) -> bool {
        match self.store.find(key) {
            Some(token) => {
                self.drop_token(token);
                true
            }
            None => false,
        }
    }

    fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
            + self.next.capacity() * std::mem::size_of::<u64>()
            + self.heap.capacity() * std::mem::size_of::<Token>()
    }

    fn validate(&self) -> Result<(), String> {
        self.store.validate()?;
        if self.heap.len() != self.store.len() {
            return Err(format!(
                "heap has {} tokens, index {}",
                self.heap.len(),
                self.store.len()
            ));
        }
        let mut used = 0;
        for (position, &token) in self.heap.iter().enumerate() {
            if self.store.slab().aux(token) as usize != position {
                return Err(format!(
                    "token {token} at {position} records position {}",
                    self.store.slab().aux(token)
                ));
            }
            if position > 0 && self.priority(self.heap[(position - 1) / 2]) < self.priority(token) {
                return Err(format!("heap order broken at {position}"));
            }
            used += u64::from(self.store.slab().size(token));
        }
        if used != self.used || used > self.capacity {
            return Err(format!(
                "used {} but sizes sum to {used} (capacity {})",
                self.used, self.capacity
            ));
        }
        Ok(())
    }
}

impl Belady {
    fn insert(&mut self, req: &Request) {
        let token = self.store.insert(req.key, req.size);
        if self.next.len() <= token as usize {
            self.next.resize(token as usize + 1, 0);
        }
        self.next[token as usize] = req.next_access;
        self.used += u64::from(req.size);
        self.heap_push(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::NEVER;
    use proptest::prelude::*;

    /// The obviously right model: a `Vec` of (key, size, next), scanned linearly.
    struct Model {
        items: Vec<(u64, u32, u64)>,
        capacity: u64,
    }

    impl Model {
        fn used(&self) -> u64 {
            self.items.iter().map(|i| u64::from(i.1)).sum()
        }

        fn evict_until(&mut self, incoming: u64) {
            while self.used() + incoming > self.capacity && !self.items.is_empty() {
                let farthest = (0..self.items.len())
                    .max_by_key(|&i| (self.items[i].2, self.items[i].0))
                    .expect("non-empty");
                self.items.remove(farthest);
            }
        }

        fn get(&mut self, req: &Request) -> bool {
            if let Some(i) = self.items.iter().position(|i| i.0 == req.key) {
                if self.items[i].1 != req.size {
                    self.items.remove(i);
                    if u64::from(req.size) <= self.capacity {
                        self.evict_until(u64::from(req.size));
                        self.items.push((req.key, req.size, req.next_access));
                    }
                } else {
                    self.items[i].2 = req.next_access;
                }
                return true;
            }
            if u64::from(req.size) <= self.capacity {
                self.evict_until(u64::from(req.size));
                self.items.push((req.key, req.size, req.next_access));
            }
            false
        }
    }

    fn with_next_access(keys: &[(u64, u32)]) -> Vec<Request> {
        let mut out: Vec<Request> = keys.iter().map(|&(k, s)| Request::get(k, s)).collect();
        for i in 0..out.len() {
            out[i].next_access = (i + 1..out.len())
                .find(|&j| out[j].key == out[i].key)
                .map_or(NEVER, |j| j as u64);
        }
        out
    }

    proptest! {
        #[test]
        fn matches_the_linear_model(
            trace in prop::collection::vec((0u64..24, 1u32..8), 1..300),
            capacity in 1u64..40,
            unit_sizes in any::<bool>(),
        ) {
            let trace: Vec<(u64, u32)> = trace.into_iter().map(|(k, s)| (k, if unit_sizes { 1 } else { s })).collect();
            let requests = with_next_access(&trace);
            let mut fast = Belady::new(capacity);
            let mut model = Model { items: Vec::new(), capacity };
            for req in &requests {
                prop_assert_eq!(fast.get(req).hit, model.get(req));
                fast.validate().map_err(TestCaseError::fail)?;
                prop_assert_eq!(fast.used(), model.used());
            }
        }
    }

    #[test]
    fn no_policy_beats_it_in_object_mode() {
        // Compare with LRU on a loop that defeats LRU: 0..5 repeated, 4 slots.
        let keys: Vec<(u64, u32)> = (0..50).map(|i| (i % 5, 1)).collect();
        let requests = with_next_access(&keys);
        let mut min = Belady::new(4);
        let mut lru = super::super::lru::Lru::new(4);
        let min_hits = requests.iter().filter(|r| min.get(r).hit).count();
        let lru_hits = requests.iter().filter(|r| lru.get(r).hit).count();
        assert_eq!(lru_hits, 0);
        // By hand: 4 cold misses; from request 4 on, each miss evicts the key used just
        // before it, so every 4th request misses (4, 8, …, 48: 12 misses). 50 - 16 = 34.
        assert_eq!(min_hits, 34);
    }
}
