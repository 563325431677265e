//! SIEVE: Y. Zhang, J. Yang, Y. Yue, Y. Vigfusson and K. V. Rashmi, "SIEVE is Simpler than
//! LRU: an Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024 (Fig. 1 and
//! Algorithm 1). No parameters.
//!
//! One FIFO queue, new objects at the head, one visited bit per object, set by a hit. The
//! hand starts at the tail and moves toward the head: a visited object is cleared and
//! kept in place, the first unvisited one is evicted, and the hand stays where it stopped
//! (at the evicted object's neighbour toward the head) for the next eviction; past the head
//! it wraps to the tail. Byte-aware: evictions repeat until the incoming object fits.
//!
//! Same definition as libCacheSim's `Sieve.c`. A hit with a new size deletes the object and
//! admits it again as new (libCacheSim keeps the old size).
//!
//! The paper's Fig. 1 example, 7 slots holding A..G (A oldest, at the tail), with A, B, G
//! visited; the hand is at the tail. Inserting H sweeps A and B (cleared, kept), evicts C
//! and leaves the hand at D. Inserting I then evicts D at once.
//!
//! ```
//! use cachelab::policy::{sieve::Sieve, Policy};
//! use cachelab::request::Request;
//! let mut sieve = Sieve::new(7);
//! let get = |s: &mut Sieve, k: u64| s.get(&Request::get(k, 1)).hit;
//! for k in 1..=7 { get(&mut sieve, k); } // A=1 … G=7
//! for k in [1, 2, 7] { assert!(get(&mut sieve, k)); } // visit A, B, G
//! assert!(!get(&mut sieve, 8)); // H
//! assert!(!sieve.contains(3) && sieve.contains(1) && sieve.contains(2));
//! assert!(!get(&mut sieve, 9)); // I
//! assert!(!sieve.contains(4));
//! ```

use super::list::{KeyedSlab, Token};
use super::registry::{PolicyInfo, PolicyKind};
use super::resident::ResidentQueue;
use super::{EvictionSink, Held, KeyedStore, Outcome, Policy, Readmit, Unobserved, readmit_get};
use crate::request::Request;
/// The registry row: `sieve`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "sieve",
    kind: PolicyKind::Eviction,
    summary: "SIEVE (Zhang et al., NSDI'24): FIFO with a visited bit and a lazy hand",
    params: &[],
    needs_next_access: false,
    build: |_, ctx| Ok(Box::new(Sieve::new(ctx.capacity))),
};

/// SIEVE; see the module docs.
#[derive(Debug)]
pub struct Sieve {
    set: ResidentQueue,
    /// Where the next eviction starts; `None` means the tail.
    hand: Option<Token>,
}

impl Sieve {
    /// An empty SIEVE cache of `capacity` size units.
    pub fn new(capacity: u64) -> Sieve {
        Sieve {
            set: ResidentQueue::new(capacity),
            hand: None,
        }
    }
}

/// Moves SIEVE's hand toward the front, clearing visited bits, to the first unvisited
/// object (wrapping from the front to the back), evicts it and leaves the hand on its
/// newer neighbour.
fn evict_one(set: &mut ResidentQueue, hand: &mut Option<Token>) -> Option<Token> {
    let mut token = hand.or_else(|| set.queue.back(set.store.slab()))?;
    while set.store.slab().aux(token) == 1 {
        set.store.slab_mut().set_aux(token, 0);
        token = match set.queue.toward_front(set.store.slab(), token) {
            Some(t) => t,
            None => set
                .queue
                .back(set.store.slab())
                .expect("the queue is not empty"),
        };
    }
    *hand = set.queue.toward_front(set.store.slab(), token);
    Some(token)
}

impl KeyedStore for Sieve {
    fn keyed(&self) -> &KeyedSlab<true> {
        &self.set.store
    }

    fn keyed_mut(&mut self) -> &mut KeyedSlab<true> {
        &mut self.set.store
    }

    fn drop_held(&mut self, token: Token) {
        if self.hand == Some(token) {
            self.hand = self.set.queue.toward_front(self.set.store.slab(), token);
        }
        self.set.remove(token);
    }
}

impl Readmit for Sieve {
    fn on_hit(&mut self, token: Token) {
        // Written only when it changes, so a hot object's node stays unwritten.
        if self.set.store.slab().aux(token) != 1 {
            self.set.store.slab_mut().set_aux(token, 1);
        }
    }

    fn admit_new<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32 {
        let hand = &mut self.hand;
        self.set.admit(key, size, sink, |set| evict_one(set, hand))
    }
}

impl Policy for Sieve {
    fn name(&self) -> String {
        "sieve".to_string()
    }

    fn capacity(&self) -> u64 {
        self.set.capacity
    }

    fn used(&self) -> u64 {
        self.set.used()
    }

    fn len(&self) -> usize {
        self.set.len()
    }

    fn contains(&self, key: u64) -> bool {
        self.set.contains(key)
    }

    fn get(&mut self, req: &Request) -> Outcome {
        readmit_get(self, req, Held::Unknown, &mut Unobserved)
    }

    fn get_evicting(&mut self, req: &Request, on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        readmit_get(self, req, Held::Unknown, on_evict)
    }

    fn names_evictions(&self) -> bool {
        true
    }

    super::token_slots!(|this, key| KeyedStore::keyed(this).find(key), readmit);

    fn heap_bytes(&self) -> usize {
        self.set.store.heap_bytes()
    }

    fn validate(&self) -> Result<(), String> {
        self.set
            .store
            .validate_queues(std::slice::from_ref(&self.set.queue), |_, _| true)?;
        if let Some(hand) = self.hand
            && !self
                .set
                .queue
                .validate(self.set.store.slab())?
                .contains(&hand)
        {
            return Err(format!("hand {hand} is not on the queue"));
        }
        if self.set.queue.bytes() > self.set.capacity {
            return Err(format!(
                "used {} over capacity {}",
                self.set.queue.bytes(),
                self.set.capacity
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::{self, Entry, Model};
    use proptest::prelude::*;

    /// Algorithm 1 with a `Vec` (index 0 = head) and the hand as a key (`None` = tail).
    struct SieveModel {
        c: u64,
        queue: Vec<(Entry, bool)>,
        hand: Option<u64>,
    }

    impl SieveModel {
        fn used_now(&self) -> u64 {
            self.queue.iter().map(|(e, _)| u64::from(e.size)).sum()
        }

        fn evict(&mut self) {
            let mut i = match self.hand {
                Some(k) => self.queue.iter().position(|(e, _)| e.key == k).unwrap(),
                None => self.queue.len() - 1,
            };
            while self.queue[i].1 {
                self.queue[i].1 = false;
                i = if i == 0 { self.queue.len() - 1 } else { i - 1 };
            }
            self.hand = if i == 0 {
                None
            } else {
                Some(self.queue[i - 1].0.key)
            };
            self.queue.remove(i);
        }

        fn admit(&mut self, key: u64, size: u32) {
            while self.used_now() + u64::from(size) > self.c && !self.queue.is_empty() {
                self.evict();
            }
            self.queue.insert(0, (Entry { key, size }, false));
        }
    }

    impl Model for SieveModel {
        fn access(&mut self, key: u64, size: u32) -> bool {
            if let Some(i) = self.queue.iter().position(|(e, _)| e.key == key) {
                if self.queue[i].0.size == size {
                    self.queue[i].1 = true;
                } else {
                    if self.hand == Some(key) {
                        self.hand = if i == 0 {
                            None
                        } else {
                            Some(self.queue[i - 1].0.key)
                        };
                    }
                    self.queue.remove(i);
                    if u64::from(size) <= self.c {
                        self.admit(key, size);
                    }
                }
                return true;
            }
            if u64::from(size) <= self.c {
                self.admit(key, size);
            }
            false
        }

        fn used(&self) -> u64 {
            self.used_now()
        }

        fn len(&self) -> usize {
            self.queue.len()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn agrees_with_the_vec_model(case in testing::cases()) {
            let mut sieve = Sieve::new(case.capacity);
            let mut model = SieveModel { c: case.capacity, queue: Vec::new(), hand: None };
            testing::run_in_step(&mut sieve, &mut model, &case.trace).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn the_hand_keeps_its_position_between_evictions() {
        // 3 slots: 1 2 3, visit 3. 4 evicts 1 (hand then at 2); visit 2 … hand clears 2,
        // moves to 3 (visited, cleared), wraps past the head to the tail? No: 4 is the head
        // side; order head→tail is 4 3 2, hand at 2 → cleared → 3 cleared → 4 unvisited: evict 4.
        let mut sieve = Sieve::new(3);
        let hits = testing::hits(&mut sieve, &testing::unit(&[1, 2, 3, 3, 4, 2, 5]));
        assert_eq!(hits, [false, false, false, true, false, true, false]);
        assert!(!sieve.contains(4) && sieve.contains(2) && sieve.contains(3) && sieve.contains(5));
    }
}
