//! LFU in O(1): K. Shah, A. Mitra and D. Matani, "An O(1) algorithm for implementing the
//! LFU cache eviction scheme", 2010. No parameters.
//!
//! Evicts the object with the fewest hits since it was admitted; ties go to the least
//! recently used among them. A frequency starts at 1 on admission and is forgotten when the
//! object leaves (no history). Byte-aware: evictions repeat until the incoming object fits.
//!
//! Layout: every object lives on the list of its frequency bucket (most recent at the
//! front); buckets are nodes of a second slab, kept on one list in ascending frequency, so
//! the victim is the back of the first bucket, a hit moves an object to the next bucket
//! (creating it when frequency + 1 is missing) and empty buckets are freed — every step
//! O(1). An object's `aux` is its bucket's token.
//!
//! Miss counts equal libCacheSim's `LFU` on cloudPhysicsIO at all 8 sizes tried (0.1 % to
//! 50 %, bytes and objects; `scripts/libcachesim_agreement.py`). A hit with a new size deletes the
//! object and admits it again as new (libCacheSim keeps the old size).
//!
//! A worked case, 2 objects, requests `1 1 2 3 2 3 1`:
//!
//! ```
//! use cachelab::policy::{lfu::Lfu, Policy};
//! use cachelab::request::Request;
//! let mut lfu = Lfu::new(2);
//! let hits: Vec<bool> = [1, 1, 2, 3, 2, 3, 1]
//!     .iter()
//!     .map(|&k| lfu.get(&Request::get(k, 1)).hit)
//!     .collect();
//! // 1 reaches frequency 2; 3 evicts 2 (frequency 1); 2 evicts 3 (frequency 1, the only
//! // one below 1's 2); 3 evicts 2 again; 1 is never evicted and hits.
//! assert_eq!(hits, [false, true, false, false, false, false, true]);
//! ```

use super::list::{KeyedSlab, List, Slab, Token};
use super::registry::{PolicyInfo, PolicyKind};
use super::{EvictionSink, Held, KeyedStore, Outcome, Policy, Readmit, Unobserved, readmit_get};
use crate::request::Request;
/// The registry row: `lfu`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "lfu",
    kind: PolicyKind::Eviction,
    summary: "least frequently used, O(1) frequency buckets, LRU among ties",
    params: &[],
    needs_next_access: false,
    build: |_, ctx| Ok(Box::new(Lfu::new(ctx.capacity))),
};

/// O(1) LFU with LRU tie-breaking; see the module docs.
#[derive(Debug)]
pub struct Lfu {
    store: KeyedSlab<true>,
    /// Bucket nodes: key = frequency.
    buckets: Slab,
    /// Objects of each bucket, indexed by bucket token; front = most recent.
    members: Vec<List>,
    /// Buckets in ascending frequency.
    order: List,
    capacity: u64,
    used: u64,
}

impl Lfu {
    /// An empty LFU cache of `capacity` size units.
    pub fn new(capacity: u64) -> Lfu {
        Lfu {
            store: KeyedSlab::bounded(capacity),
            buckets: Slab::new(),
            members: Vec::new(),
            order: List::new(),
            capacity,
            used: 0,
        }
    }

    /// The frequency of `key`, if held.
    pub fn frequency(&self, key: u64) -> Option<u64> {
        self.store
            .find(key)
            .map(|t| self.buckets.key(self.store.slab().aux(t)))
    }

    fn new_bucket(&mut self, freq: u64) -> Token {
        let b = self.buckets.alloc(freq, 0);
        if self.members.len() <= b as usize {
            self.members.resize(b as usize + 1, List::new());
        }
        self.members[b as usize] = List::new();
        b
    }

    /// Unlinks an object from its bucket, freeing the bucket when it empties.
    fn unlink(&mut self, token: Token) {
        let b = self.store.slab().aux(token);
        self.members[b as usize].unlink(self.store.slab_mut(), token);
        if self.members[b as usize].is_empty() {
            self.order.unlink(&mut self.buckets, b);
            self.buckets.release(b);
        }
        self.used -= u64::from(self.store.slab().size(token));
    }

    fn link(&mut self, token: Token, b: Token) {
        self.members[b as usize].push_front(self.store.slab_mut(), token);
        self.store.slab_mut().set_aux(token, b);
        self.used += u64::from(self.store.slab().size(token));
    }

    fn touch(&mut self, token: Token) {
        let b = self.store.slab().aux(token);
        let freq = self.buckets.key(b);
        let target = match self.order.toward_back(&self.buckets, b) {
            Some(next) if self.buckets.key(next) == freq + 1 => next,
            _ => {
                let next = self.new_bucket(freq + 1);
                self.order.insert_after(&mut self.buckets, b, next);
                next
            }
        };
        self.unlink(token);
        self.link(token, target);
    }

    fn admit<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32 {
        let mut evicted = 0;
        while self.used + u64::from(size) > self.capacity {
            let Some(lowest) = self.order.front() else {
                break;
            };
            let victim = self.members[lowest as usize]
                .back(self.store.slab())
                .expect("buckets are never empty");
            self.unlink(victim);
            let slab = self.store.slab();
            sink.evicted_from(slab.key(victim), slab.size(victim), victim);
            self.store.remove(victim);
            evicted += 1;
        }
        let b = match self.order.front() {
            Some(b) if self.buckets.key(b) == 1 => b,
            _ => {
                let b = self.new_bucket(1);
                self.order.push_front(&mut self.buckets, b);
                b
            }
        };
        let token = self.store.insert(key, size);
        self.link(token, b);
        sink.admitted(key, token);
        evicted
    }
}

impl KeyedStore for Lfu {
    fn keyed(&self) -> &KeyedSlab<true> {
        &self.store
    }

    fn keyed_mut(&mut self) -> &mut KeyedSlab<true> {
        &mut self.store
    }

    fn drop_held(&mut self, token: Token) {
        self.unlink(token);
        self.store.remove(token);
    }
}

impl Readmit for Lfu {
    fn on_hit(&mut self, token: Token) {
        self.touch(token);
    }

    fn admit_new<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32 {
        self.admit(key, size, sink)
    }
}

impl Policy for Lfu {
    fn name(&self) -> String {
        "lfu".to_string()
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
        self.store.heap_bytes()
            + self.buckets.heap_bytes()
            + self.members.capacity() * std::mem::size_of::<List>()
    }

    fn validate(&self) -> Result<(), String> {
        self.store.validate()?;
        let (mut count, mut bytes, mut last) = (0, 0, 0);
        for b in self.order.validate(&self.buckets)? {
            let freq = self.buckets.key(b);
            if freq <= last {
                return Err(format!(
                    "bucket frequencies not ascending: {freq} after {last}"
                ));
            }
            last = freq;
            let members = self.members[b as usize].validate(self.store.slab())?;
            if members.is_empty() {
                return Err(format!("bucket {freq} is empty"));
            }
            if let Some(&t) = members.iter().find(|&&t| self.store.slab().aux(t) != b) {
                return Err(format!(
                    "node {t} on bucket {b} points at {}",
                    self.store.slab().aux(t)
                ));
            }
            count += members.len();
            bytes += self.members[b as usize].bytes();
        }
        if count != self.store.len() || bytes != self.used || self.used > self.capacity {
            return Err(format!(
                "{count} objects / {bytes} units in buckets, {} / {} counted",
                self.store.len(),
                self.used
            ));
        }
        if self.buckets.live() != self.order.len() {
            return Err(format!(
                "{} buckets allocated, {} linked",
                self.buckets.live(),
                self.order.len()
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

    /// LFU by linear scan: each entry has a frequency and the time of its last access; the
    /// victim has the least (frequency, last access).
    #[derive(Default)]
    struct LfuModel {
        c: u64,
        now: u64,
        items: Vec<(Entry, u64, u64)>,
    }

    impl LfuModel {
        fn admit(&mut self, key: u64, size: u32) {
            while self.used() + u64::from(size) > self.c && !self.items.is_empty() {
                let victim = (0..self.items.len())
                    .min_by_key(|&i| (self.items[i].1, self.items[i].2))
                    .unwrap();
                self.items.remove(victim);
            }
            self.items.push((Entry { key, size }, 1, self.now));
        }
    }

    impl Model for LfuModel {
        fn access(&mut self, key: u64, size: u32) -> bool {
            self.now += 1;
            if let Some(i) = self.items.iter().position(|(e, _, _)| e.key == key) {
                if self.items[i].0.size == size {
                    self.items[i].1 += 1;
                    self.items[i].2 = self.now;
                } else {
                    self.items.remove(i);
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
            self.items.iter().map(|(e, _, _)| u64::from(e.size)).sum()
        }

        fn len(&self) -> usize {
            self.items.len()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn agrees_with_the_vec_model(case in testing::cases()) {
            let mut lfu = Lfu::new(case.capacity);
            let mut model = LfuModel { c: case.capacity, ..LfuModel::default() };
            testing::run_in_step(&mut lfu, &mut model, &case.trace).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn frequency_resets_when_an_object_leaves() {
        // 1 slot: 1 is hit twice (frequency 3), 2 evicts it; back again, 1 starts at 1.
        let mut lfu = Lfu::new(1);
        testing::hits(&mut lfu, &testing::unit(&[1, 1, 1]));
        assert_eq!(lfu.frequency(1), Some(3));
        testing::hits(&mut lfu, &testing::unit(&[2, 1]));
        assert_eq!(lfu.frequency(1), Some(1));
    }
}
