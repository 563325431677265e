//! CLOCK: FIFO with reinsertion (second chance), F. J. Corbató, "A Paging Experiment with
//! the Multics System", MIT Project MAC report MAC-M-384, 1968; the `bits` generalisation is
//! the k-bit CLOCK of libCacheSim's `Clock.c`. Parameter `bits` (default 1).
//!
//! Objects sit on one queue, newest at the front, each with a counter. A new object enters
//! at the front with counter 0; a hit adds one, saturating at 2^bits − 1. To evict, the
//! hand looks at the back: a counter above 0 is decremented and the object moves to the
//! front (it is "rewritten"); the first object found at 0 is evicted. With `bits = 1` this
//! is second chance. Byte-aware: eviction repeats until the incoming object fits.
//!
//! This is libCacheSim's definition exactly (insert with counter 0, increment on hit,
//! decrement-and-reinsert from the tail), and cachelab's miss counts equal libCacheSim's
//! `Clock` on cloudPhysicsIO at every size tried (`scripts/libcachesim_agreement.py`). A hit with a new
//! size (libCacheSim keeps the old size) deletes the object and admits it again as new.
//!
//! A worked case, 2 objects, requests `1 2 1 3 2 1`:
//!
//! ```
//! use cachelab::policy::{clock::{Clock, ClockParams}, Policy};
//! use cachelab::request::Request;
//! let mut clock = Clock::with_params(2, ClockParams { bits: 1 });
//! let hits: Vec<bool> = [1, 2, 1, 3, 2, 1]
//!     .iter()
//!     .map(|&k| clock.get(&Request::get(k, 1)).hit)
//!     .collect();
//! // 1 hits (its bit is set). 3: the back is 1 with its bit set, so 1 is cleared and moved
//! // to the front; 2 (bit 0) is evicted. 2 misses: the back is now 1, whose second chance
//! // is spent, so 1 is evicted and misses next.
//! assert_eq!(hits, [false, false, true, false, false, false]);
//! ```

use super::list::{KeyedSlab, Token};
use super::registry::{ParamInfo, PolicyInfo, PolicyKind, spec_text};
use super::resident::ResidentQueue;
use super::{EvictionSink, Held, KeyedStore, Outcome, Policy, Readmit, Unobserved, readmit_get};
use crate::request::Request;
/// CLOCK's parameters (`clock:bits=1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockParams {
    /// Counter bits per object: a hit adds one up to 2^bits - 1, the hand takes one off.
    pub bits: u32,
}

impl Default for ClockParams {
    fn default() -> ClockParams {
        ClockParams { bits: 1 }
    }
}

/// The registry row: `clock`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "clock",
    kind: PolicyKind::Eviction,
    summary: "CLOCK / second chance with a k-bit counter (libCacheSim's Clock)",
    params: &[ParamInfo {
        name: "bits",
        default: "1",
        help: "counter bits per object: a hit adds one up to 2^bits - 1, the hand takes one off",
    }],
    needs_next_access: false,
    build: |p, ctx| {
        let bits = p.u64_in("bits", 1, u64::from(Clock::MAX_BITS))? as u32;
        Ok(Box::new(Clock::with_params(
            ctx.capacity,
            ClockParams { bits },
        )))
    },
};

/// CLOCK with a `bits`-bit counter per object; see the module docs.
#[derive(Debug)]
pub struct Clock {
    set: ResidentQueue,
    bits: u32,
    max: u32,
}

impl Clock {
    /// Largest accepted `bits`.
    pub const MAX_BITS: u32 = 16;

    /// An empty cache of `capacity` size units with the default parameters.
    pub fn new(capacity: u64) -> Clock {
        Clock::with_params(capacity, ClockParams::default())
    }

    /// An empty CLOCK of `capacity` size units with `bits`-bit counters (1 ..= 16; values
    /// outside are clamped, the registry rejects them with an error first).
    pub fn with_params(capacity: u64, params: ClockParams) -> Clock {
        let ClockParams { bits } = params;
        let bits = bits.clamp(1, Self::MAX_BITS);
        Clock {
            set: ResidentQueue::new(capacity),
            bits,
            max: (1 << bits) - 1,
        }
    }
}

/// Sweeps CLOCK's hand from the back until one object is evicted: an object whose counter
/// is 0 goes; any other loses one and moves to the front.
fn evict_one(set: &mut ResidentQueue) -> Option<Token> {
    while let Some(back) = set.queue.back(set.store.slab()) {
        let counter = set.store.slab().aux(back);
        if counter == 0 {
            return Some(back);
        }
        set.store.slab_mut().set_aux(back, counter - 1);
        set.queue.unlink(set.store.slab_mut(), back);
        set.queue.push_front(set.store.slab_mut(), back);
    }
    None
}

impl KeyedStore for Clock {
    fn keyed(&self) -> &KeyedSlab<true> {
        &self.set.store
    }

    fn keyed_mut(&mut self) -> &mut KeyedSlab<true> {
        &mut self.set.store
    }

    fn drop_held(&mut self, token: Token) {
        self.set.remove(token);
    }
}

impl Readmit for Clock {
    fn on_hit(&mut self, token: Token) {
        let counter = self.set.store.slab().aux(token);
        // Written only when it changes, so a hot object's node stays unwritten.
        if counter < self.max {
            self.set.store.slab_mut().set_aux(token, counter + 1);
        }
    }

    fn admit_new<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32 {
        self.set.admit(key, size, sink, evict_one)
    }
}

impl Policy for Clock {
    fn name(&self) -> String {
        spec_text("clock", [("bits", self.bits)])
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
            .validate_queues(std::slice::from_ref(&self.set.queue), |token, _| {
                self.set.store.slab().aux(token) <= self.max
            })?;
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

    /// CLOCK as a `Vec` of (entry, counter), index 0 the front, the hand at the back.
    struct ClockModel {
        c: u64,
        max: u32,
        queue: Vec<(Entry, u32)>,
    }

    impl ClockModel {
        fn used_now(&self) -> u64 {
            self.queue.iter().map(|(e, _)| u64::from(e.size)).sum()
        }

        fn admit(&mut self, key: u64, size: u32) {
            while self.used_now() + u64::from(size) > self.c && !self.queue.is_empty() {
                loop {
                    let (e, counter) = self.queue.pop().unwrap();
                    if counter == 0 {
                        break;
                    }
                    self.queue.insert(0, (e, counter - 1));
                }
            }
            self.queue.insert(0, (Entry { key, size }, 0));
        }
    }

    impl Model for ClockModel {
        fn access(&mut self, key: u64, size: u32) -> bool {
            if let Some(i) = self.queue.iter().position(|(e, _)| e.key == key) {
                if self.queue[i].0.size == size {
                    self.queue[i].1 = (self.queue[i].1 + 1).min(self.max);
                } else {
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
        fn agrees_with_the_vec_model(case in testing::cases(), bits in 1u32..=3) {
            let mut clock = Clock::with_params(case.capacity, ClockParams { bits });
            let mut model = ClockModel { c: case.capacity, max: (1 << bits) - 1, queue: Vec::new() };
            testing::run_in_step(&mut clock, &mut model, &case.trace).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn two_bit_counters_survive_two_sweeps() {
        // 2 slots, bits = 2. 1 is hit 3 times (counter saturates at 3). 2, then 3 arrives:
        // the hand takes 1 to 2 and moves it to the front, evicts 2. 4: 1 goes to 1, 3 is
        // evicted. 5: 1 goes to 0, 4 is evicted. 1 hits (back to 1); 6: 1 goes to 0, 5 is
        // evicted; so 1 hits again.
        let mut clock = Clock::with_params(2, ClockParams { bits: 2 });
        let trace = testing::unit(&[1, 1, 1, 1, 2, 3, 4, 5, 1, 6, 1]);
        let hits = testing::hits(&mut clock, &trace);
        assert_eq!(
            hits,
            [
                false, true, true, true, false, false, false, false, true, false, true
            ]
        );
    }
}
