//! Random eviction: the victim is chosen uniformly among the held objects. Parameter: the
//! run's seed (`BuildContext::seed`), so a run is repeatable.
//!
//! The baseline every policy should beat. Objects are kept in a dense `Vec` of tokens
//! (each node's `aux` is its position), so a victim is one draw from a ChaCha8 generator
//! and a swap-remove: O(1). Byte-aware: draws repeat until the incoming object fits.
//!
//! libCacheSim's `Random` uses its own generator, so only the statistics agree: on
//! cloudPhysicsIO (`scripts/libcachesim_agreement.py`, seed 0) the miss ratios differ by at most 0.0037
//! (bytes at 50 %). A hit with a new size deletes
//! the object and admits it again as new.
//!
//! ```
//! use cachelab::policy::{random::Random, Policy};
//! use cachelab::request::Request;
//! let run = |seed| {
//!     let mut r = Random::new(3, seed);
//!     (0..50u64).map(|i| r.get(&Request::get(i % 5, 1)).hit).collect::<Vec<_>>()
//! };
//! assert_eq!(run(7), run(7)); // same seed, same decisions
//! ```

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::list::{KeyedSlab, Token};
use super::registry::{PolicyInfo, PolicyKind};
use super::{EvictionSink, Held, KeyedStore, Outcome, Policy, Readmit, Unobserved, readmit_get};
use crate::request::Request;
/// The registry row: `random`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "random",
    kind: PolicyKind::Eviction,
    summary: "uniformly random victim, seeded ChaCha8 (the run's --seed)",
    params: &[],
    needs_next_access: false,
    build: |_, ctx| Ok(Box::new(Random::new(ctx.capacity, ctx.seed))),
};

/// Random eviction; see the module docs.
#[derive(Debug)]
pub struct Random {
    store: KeyedSlab<true>,
    /// Every held object's token; a node's `aux` is its index here.
    dense: Vec<Token>,
    capacity: u64,
    used: u64,
    rng: ChaCha8Rng,
}

impl Random {
    /// An empty cache of `capacity` size units drawing victims from a ChaCha8 stream seeded
    /// with `seed`.
    pub fn new(capacity: u64, seed: u64) -> Random {
        Random {
            store: KeyedSlab::bounded(capacity),
            dense: Vec::new(),
            capacity,
            used: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn remove_token(&mut self, token: Token) {
        let at = self.store.slab().aux(token) as usize;
        self.dense.swap_remove(at);
        if let Some(&moved) = self.dense.get(at) {
            self.store.slab_mut().set_aux(moved, at as u32);
        }
        self.used -= u64::from(self.store.slab().size(token));
        self.store.remove(token);
    }

    fn admit<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32 {
        let mut evicted = 0;
        while self.used + u64::from(size) > self.capacity && !self.dense.is_empty() {
            let victim = self.dense[self.rng.random_range(0..self.dense.len())];
            let slab = self.store.slab();
            sink.evicted_from(slab.key(victim), slab.size(victim), victim);
            self.remove_token(victim);
            evicted += 1;
        }
        let token = self.store.insert(key, size);
        self.store
            .slab_mut()
            .set_aux(token, self.dense.len() as u32);
        self.dense.push(token);
        self.used += u64::from(size);
        sink.admitted(key, token);
        evicted
    }
}

impl KeyedStore for Random {
    fn keyed(&self) -> &KeyedSlab<true> {
        &self.store
    }

    fn keyed_mut(&mut self) -> &mut KeyedSlab<true> {
        &mut self.store
    }

    fn drop_held(&mut self, token: Token) {
        self.remove_token(token);
    }

    /// Held objects are on no list here: `token` holds one when the dense list has it at
    /// the position its `aux` names (a free node is in the dense list nowhere).
    fn held_key(&self, token: Token) -> Option<u64> {
        let slab = self.store.slab();
        ((token as usize) < slab.slots()
            && self.dense.get(slab.aux(token) as usize) == Some(&token))
        .then(|| slab.key(token))
    }
}

impl Readmit for Random {
    fn admit_new<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32 {
        self.admit(key, size, sink)
    }
}

impl Policy for Random {
    fn name(&self) -> String {
        "random".to_string()
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn used(&self) -> u64 {
        self.used
    }

    fn len(&self) -> usize {
        self.dense.len()
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
        self.store.heap_bytes() + self.dense.capacity() * std::mem::size_of::<Token>()
    }

    fn validate(&self) -> Result<(), String> {
        self.store.validate()?;
        if self.dense.len() != self.store.len() {
            return Err(format!(
                "{} indexed but {} in the dense list",
                self.store.len(),
                self.dense.len()
            ));
        }
        let mut bytes = 0;
        for (i, &t) in self.dense.iter().enumerate() {
            if self.store.slab().aux(t) as usize != i {
                return Err(format!("node {t} at {i} says {}", self.store.slab().aux(t)));
            }
            bytes += u64::from(self.store.slab().size(t));
        }
        if bytes != self.used || self.used > self.capacity {
            return Err(format!(
                "used {} counted, {bytes} summed, capacity {}",
                self.used, self.capacity
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::{self, Entry, Model};
    use proptest::prelude::{ProptestConfig, TestCaseError, any, proptest};

    /// A `Vec` of entries; the victim is the entry at a uniformly drawn index from the same
    /// generator, removed by swapping in the last entry.
    struct RandomModel {
        c: u64,
        items: Vec<Entry>,
        rng: ChaCha8Rng,
    }

    impl RandomModel {
        fn admit(&mut self, key: u64, size: u32) {
            while testing::bytes(&self.items) + u64::from(size) > self.c && !self.items.is_empty() {
                let i = self.rng.random_range(0..self.items.len());
                self.items.swap_remove(i);
            }
            self.items.push(Entry { key, size });
        }
    }

    impl Model for RandomModel {
        fn access(&mut self, key: u64, size: u32) -> bool {
            if let Some(i) = testing::find(&self.items, key) {
                if self.items[i].size != size {
                    self.items.swap_remove(i);
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
            testing::bytes(&self.items)
        }

        fn len(&self) -> usize {
            self.items.len()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn agrees_with_the_vec_model(case in testing::cases(), seed in any::<u64>()) {
            let mut random = Random::new(case.capacity, seed);
            let mut model = RandomModel { c: case.capacity, items: Vec::new(), rng: ChaCha8Rng::seed_from_u64(seed) };
            testing::run_in_step(&mut random, &mut model, &case.trace).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn evicts_every_position_eventually() {
        // 4 slots, a scan of 400 keys: each of the 4 positions is drawn, so early keys do
        // not all survive and the cache stays full.
        let mut random = Random::new(4, 1);
        let trace: Vec<u64> = (0..400).collect();
        testing::hits(&mut random, &testing::unit(&trace));
        assert_eq!(random.len(), 4);
        assert!((0..4).filter(|&k| random.contains(k)).count() < 4);
    }
}
