//! 2Q: T. Johnson and D. Shasha, "2Q: A Low Overhead High Performance Buffer Management
//! Replacement Algorithm", VLDB 1994 (the "full version" of Section 2). Parameters `kin`
//! (default 0.25, A1in's share of the capacity) and `kout` (default 0.5, A1out's share).
//!
//! Three queues: A1in, a FIFO of objects seen once; A1out, a FIFO of keys only (ghosts)
//! that A1in pushed out; Am, an LRU of objects seen again after they left A1in. On a miss,
//! a key found in A1out is admitted to the head of Am, any other key to the head of A1in.
//! A hit in Am moves the object to Am's head; a hit in A1in does nothing (correlated
//! references). To make room (the paper's `reclaimfor`): when A1in holds more than its
//! share `Kin`, its FIFO tail leaves and its key enters the head of A1out (whose tail is
//! dropped while A1out is over `Kout`); otherwise Am's LRU tail is evicted, with no ghost.
//!
//! # Byte-aware generalisation
//!
//! `Kin = ⌊kin · c⌋` and `Kout = ⌊kout · c⌋` are in size units, like the capacity `c`:
//! A1in is over its share when its objects' sizes sum to more than `Kin`, and A1out is
//! bounded by the sum of the sizes its ghosts had when they were evicted (so `kout = 0.5`
//! remembers half a cache's worth of bytes, and half a cache's worth of objects when every
//! size is 1). Reclaiming repeats until the incoming object fits. These are libCacheSim's
//! (`TwoQ.c`) choices too; its A1out is a FIFO cache sized in bytes, which takes a ghost
//! only when it fits in `Kout` and then drops tail ghosts until it does; so do we.
//!
//! Semantics follow libCacheSim's `TwoQ.c`: an object larger than `Kin` is never admitted
//! (not even from A1out: it cannot get there); a miss removes the key from A1out even when
//! the object is then refused; when Am is empty the tail of A1in is reclaimed even if A1in
//! is within its share (libCacheSim asserts instead; it cannot happen with `kin ≤ 0.5`).
//! `Kin` is at least 1 (libCacheSim's is 0 below 4 objects, and then it admits nothing).
//! Deliberate differences: libCacheSim builds Am as an LRU cache of its own of capacity
//! `c − Kin`, so an object admitted from A1out may evict from Am although the whole cache
//! has room; we bound only the total, as the paper does. And a hit with a new size deletes
//! the object (no ghost) and admits it again as new (into A1in), counted as a hit, where
//! libCacheSim keeps the old size.
//!
//! Measured on cloudPhysicsIO (113,872 requests; `scripts/libcachesim_agreement.py`,
//! against libCacheSim 0.3.5) at 0.1 %, 1 %, 10 % and 50 % of the
//! working set: miss counts identical to libCacheSim's in all eight configurations (bytes
//! 95647, 94245, 87627, 72002; objects 98946, 94573, 88160, 71993), so neither difference
//! above changes a decision on that trace.
//!
//! A worked case, c = 4 objects (`Kin` = 1, `Kout` = 2):
//!
//! ```
//! use cachelab::policy::{twoq::{TwoQ, TwoQParams}, Policy};
//! use cachelab::request::Request;
//! let mut q = TwoQ::with_params(4, TwoQParams { kin: 0.25, kout: 0.5 });
//! // 1..=4 fill free slots (A1in = 4 3 2 1); 5 and 6 push 1 and 2 out to A1out.
//! for k in 1..=6 { assert!(!q.get(&Request::get(k, 1)).hit); }
//! assert!(!q.contains(1) && !q.contains(2));
//! // 1 is in A1out: a miss, admitted to Am (A1in's tail 3 goes to A1out).
//! assert!(!q.get(&Request::get(1, 1)).hit);
//! assert!(q.in_am(1) && !q.contains(3));
//! // 4 is in A1in: a hit that does not move it; 1 hits in Am.
//! assert!(q.get(&Request::get(4, 1)).hit);
//! assert!(q.get(&Request::get(1, 1)).hit);
//! ```

use super::list::{KeyedSlab, List, Token};
use super::registry::{ParamInfo, PolicyInfo, PolicyKind, spec_text};
use super::{EvictionSink, Held, Outcome, Policy, Unobserved};
use crate::request::Request;
/// 2Q's parameters (`2q:kin=0.25,kout=0.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoQParams {
    /// A1in's share of the capacity (size units); above it A1in's tail is evicted into A1out.
    pub kin: f64,
    /// A1out's bound as a share of the capacity, in size units of the ghosted objects.
    pub kout: f64,
}

impl Default for TwoQParams {
    fn default() -> TwoQParams {
        TwoQParams {
            kin: 0.25,
            kout: 0.5,
        }
    }
}

/// The registry row: `2q`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "2q",
    kind: PolicyKind::Eviction,
    summary: "2Q (Johnson & Shasha, VLDB'94, full version): A1in FIFO, A1out ghosts, Am LRU",
    params: &[
        ParamInfo {
            name: "kin",
            default: "0.25",
            help: "A1in's share of the capacity (size units); above it A1in's tail is evicted into A1out",
        },
        ParamInfo {
            name: "kout",
            default: "0.5",
            help: "A1out's bound as a share of the capacity, in size units of the ghosted objects",
        },
    ],
    needs_next_access: false,
    build: |p, ctx| {
        let kin = p.f64_in("kin", 0.001, 0.999)?;
        let kout = p.f64_in("kout", 0.0, 4.0)?;
        Ok(Box::new(TwoQ::with_params(
            ctx.capacity,
            TwoQParams { kin, kout },
        )))
    },
};

/// FIFO of objects seen once.
const A1IN: u32 = 0;
/// LRU of objects seen again after leaving A1in.
const AM: u32 = 1;
/// FIFO of ghosts (keys, with the size they had) evicted from A1in.
const A1OUT: u32 = 2;

/// 2Q over keys with sizes; see the module docs. A node's `aux` is its queue.
#[derive(Debug)]
pub struct TwoQ {
    store: KeyedSlab,
    /// A1in, Am, A1out, indexed by the constants above; front = newest.
    queues: [List; 3],
    capacity: u64,
    kin_share: f64,
    kout_share: f64,
    /// A1in's share `Kin`, in size units.
    kin: u64,
    /// A1out's bound `Kout`, in size units of the ghosted objects.
    kout: u64,
}

impl TwoQ {
    /// An empty cache of `capacity` size units with the default parameters.
    pub fn new(capacity: u64) -> TwoQ {
        TwoQ::with_params(capacity, TwoQParams::default())
    }

    /// An empty 2Q of `capacity` units with `Kin = ⌊kin · capacity⌋` (at least 1) and
    /// `Kout = ⌊kout · capacity⌋`.
    pub fn with_params(capacity: u64, params: TwoQParams) -> TwoQ {
        let TwoQParams { kin, kout } = params;
        TwoQ {
            store: KeyedSlab::bounded(capacity.saturating_mul(2)),
            queues: [List::new(); 3],
            capacity,
            kin_share: kin,
            kout_share: kout,
            kin: ((capacity as f64 * kin) as u64).clamp(1.min(capacity), capacity),
            kout: (capacity as f64 * kout) as u64,
        }
    }

    /// True when `key` is resident in Am.
    pub fn in_am(&self, key: u64) -> bool {
        self.store
            .find(key)
            .is_some_and(|t| self.store.slab().aux(t) == AM)
    }

    /// True when `key` is a ghost in A1out.
    pub fn in_a1out(&self, key: u64) -> bool {
        self.store
            .find(key)
            .is_some_and(|t| self.store.slab().aux(t) == A1OUT)
    }

    fn queue(&self, id: u32) -> &List {
        &self.queues[id as usize]
    }

    /// Turns the (unlinked) node `token` into a ghost at A1out's head, dropping tail ghosts
    /// until it fits; a ghost larger than `Kout` is forgotten instead.
    fn remember(&mut self, token: Token) {
        let size = u64::from(self.store.slab().size(token));
        if size > self.kout {
            self.store.remove(token);
            return;
        }
        while self.queue(A1OUT).bytes() + size > self.kout {
            let old = self.queues[A1OUT as usize]
                .pop_back(self.store.slab_mut())
                .expect("A1out holds more than 0 units, so it is not empty");
            self.store.remove(old);
        }
        self.queues[A1OUT as usize].push_front(self.store.slab_mut(), token);
        self.store.slab_mut().set_aux(token, A1OUT);
    }

    /// The paper's `reclaimfor`, repeated until `incoming` more units fit; returns evictions.
    fn reclaim<S: EvictionSink + ?Sized>(&mut self, incoming: u64, sink: &mut S) -> u32 {
        let mut evicted = 0;
        while self.used() + incoming > self.capacity {
            if self.queue(A1IN).bytes() > self.kin || self.queue(AM).is_empty() {
                let Some(token) = self.queues[A1IN as usize].pop_back(self.store.slab_mut()) else {
                    break;
                };
                let slab = self.store.slab();
                sink.evicted_from(slab.key(token), slab.size(token), token);
                self.remember(token);
            } else {
                let token = self.queues[AM as usize]
                    .pop_back(self.store.slab_mut())
                    .expect("Am is not empty");
                let slab = self.store.slab();
                sink.evicted_from(slab.key(token), slab.size(token), token);
                self.store.remove(token);
            }
            evicted += 1;
        }
        evicted
    }

    /// Reclaims room for a new object and links it at the head of `queue`.
    fn admit<S: EvictionSink + ?Sized>(
        &mut self,
        key: u64,
        size: u32,
        queue: u32,
        sink: &mut S,
    ) -> u32 {
        let evicted = self.reclaim(u64::from(size), sink);
        let token = self.store.insert(key, size);
        self.queues[queue as usize].push_front(self.store.slab_mut(), token);
        self.store.slab_mut().set_aux(token, queue);
        sink.admitted(key, token);
        evicted
    }
}

impl TwoQ {
    /// The read rule, naming every object it drops (with its slot) and the admitted
    /// object's slot to `sink`; `known` is what the caller knows of `req.key` ([`Held`]:
    /// a key not held may still be a ghost, so only a held slot saves the lookup).
    fn access<S: EvictionSink + ?Sized>(
        &mut self,
        req: &Request,
        known: Held,
        sink: &mut S,
    ) -> Outcome {
        let admissible = u64::from(req.size) <= self.kin;
        let mut queue = A1IN;
        if let Some(token) = known.token_or(|| self.store.find(req.key), true) {
            let found = self.store.slab().aux(token);
            if found != A1OUT {
                if self.store.slab().size(token) == req.size {
                    if found == AM {
                        self.queues[AM as usize].move_to_front(self.store.slab_mut(), token);
                    }
                    return Outcome::HIT;
                }
                let old = self.store.slab().size(token);
                self.delete(req.key);
                let evictions = if admissible {
                    self.admit(req.key, req.size, A1IN, sink)
                } else {
                    sink.evicted_from(req.key, old, token);
                    0
                };
                return Outcome::new(true, evictions);
            }
            self.queues[A1OUT as usize].unlink(self.store.slab_mut(), token);
            self.store.remove(token);
            queue = AM;
        }
        if !admissible {
            return Outcome::REFUSED;
        }
        let evictions = self.admit(req.key, req.size, queue, sink);
        Outcome::new(false, evictions)
    }
}

impl Policy for TwoQ {
    fn name(&self) -> String {
        spec_text("2q", [("kin", self.kin_share), ("kout", self.kout_share)])
    }

    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn used(&self) -> u64 {
        self.queue(A1IN).bytes() + self.queue(AM).bytes()
    }

    fn len(&self) -> usize {
        self.queue(A1IN).len() + self.queue(AM).len()
    }

    fn contains(&self, key: u64) -> bool {
        self.store
            .find(key)
            .is_some_and(|t| self.store.slab().aux(t) != A1OUT)
    }

    fn get(&mut self, req: &Request) -> Outcome {
        self.access(req, Held::Unknown, &mut Unobserved)
    }

    fn get_evicting(&mut self, req: &Request, on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        self.access(req, Held::Unknown, on_evict)
    }

    super::token_slots!(|this, key| this
        .store
        .find(key)
        .filter(|&t| this.store.slab().aux(t) != A1OUT));

    fn names_evictions(&self) -> bool {
        true
    }

    fn delete(&mut self, key: u64) -> bool {
        let Some(token) = self.store.find(key) else {
            return false;
        };
        let queue = self.store.slab().aux(token);
        self.queues[queue as usize].unlink(self.store.slab_mut(), token);
        self.store.remove(token);
        queue != A1OUT
    }

    fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
    }

    fn validate(&self) -> Result<(), String> {
        self.store.validate_queues(&self.queues, |token, id| {
            self.store.slab().aux(token) == id as u32
        })?;
        if self.used() > self.capacity || self.queue(A1OUT).bytes() > self.kout {
            return Err(format!(
                "used {} of {}, A1out {} of {}",
                self.used(),
                self.capacity,
                self.queue(A1OUT).bytes(),
                self.kout
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

    /// The paper's full-version pseudo-code over `Vec`s (index 0 = head), with the byte
    /// loops and libCacheSim's admission rules of the module docs.
    struct TwoQModel {
        c: u64,
        kin: u64,
        kout: u64,
        a1in: Vec<Entry>,
        am: Vec<Entry>,
        a1out: Vec<Entry>,
    }

    impl TwoQModel {
        fn reclaimfor(&mut self, size: u32) {
            while self.used() + u64::from(size) > self.c {
                if testing::bytes(&self.a1in) > self.kin || self.am.is_empty() {
                    // Page out A1in's tail Y; add Y's identifier to A1out's head.
                    let y = self.a1in.pop().unwrap();
                    if u64::from(y.size) <= self.kout {
                        while testing::bytes(&self.a1out) + u64::from(y.size) > self.kout {
                            self.a1out.pop();
                        }
                        self.a1out.insert(0, y);
                    }
                } else {
                    // Page out Am's tail; do not put it on A1out.
                    self.am.pop();
                }
            }
        }
    }

    impl Model for TwoQModel {
        fn access(&mut self, key: u64, size: u32) -> bool {
            let admissible = u64::from(size) <= self.kin;
            if let Some(i) = testing::find(&self.am, key) {
                let e = self.am.remove(i);
                if e.size == size {
                    self.am.insert(0, e);
                } else if admissible {
                    self.reclaimfor(size);
                    self.a1in.insert(0, Entry { key, size });
                }
                return true;
            }
            if let Some(i) = testing::find(&self.a1in, key) {
                if self.a1in[i].size != size {
                    self.a1in.remove(i);
                    if admissible {
                        self.reclaimfor(size);
                        self.a1in.insert(0, Entry { key, size });
                    }
                }
                return true;
            }
            let ghost = testing::find(&self.a1out, key).map(|i| self.a1out.remove(i));
            if admissible {
                self.reclaimfor(size);
                let e = Entry { key, size };
                if ghost.is_some() {
                    self.am.insert(0, e);
                } else {
                    self.a1in.insert(0, e);
                }
            }
            false
        }

        fn used(&self) -> u64 {
            testing::bytes(&self.a1in) + testing::bytes(&self.am)
        }

        fn len(&self) -> usize {
            self.a1in.len() + self.am.len()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn agrees_with_the_vec_model(case in testing::cases(), kin in 0.05f64..0.9, kout in 0.0f64..2.0) {
            let mut q = TwoQ::with_params(case.capacity, TwoQParams { kin, kout });
            let mut model = TwoQModel {
                c: case.capacity,
                kin: q.kin,
                kout: q.kout,
                a1in: Vec::new(),
                am: Vec::new(),
                a1out: Vec::new(),
            };
            testing::run_in_step(&mut q, &mut model, &case.trace).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn ghosts_enter_am_and_am_evicts_when_a1in_is_within_its_share() {
        // c = 4 objects, Kin = 1, Kout = 2. Heads first:
        // 1 2 3 4   free slots: A1in = 4 3 2 1
        // 5 6       A1in over Kin: 1, then 2 go to A1out = 2 1; A1in = 6 5 4 3
        // 1         A1out hit (A1out = 2): A1in's tail 3 out, A1out = 3 2; Am = 1
        // 2         A1out hit (A1out = 3): 4 out, A1out = 4 3; Am = 2 1; A1in = 6 5
        // 3         A1out hit (A1out = 4): 5 out, A1out = 5 4; Am = 3 2 1; A1in = 6
        // 7         |A1in| = Kin: Am's tail 1 is evicted, no ghost; A1in = 7 6
        // 1         a plain miss (1 is no ghost): 6 out, A1out = 6 5; A1in = 1 7
        // 2         hit in Am: Am = 2 3
        // 6         A1out hit (A1out = 5): 7 out, A1out = 7 5; Am = 6 2 3; A1in = 1
        // 9         |A1in| = Kin: Am's tail 3 is evicted; A1in = 9 1, Am = 6 2
        let mut q = TwoQ::with_params(
            4,
            TwoQParams {
                kin: 0.25,
                kout: 0.5,
            },
        );
        let trace = testing::unit(&[1, 2, 3, 4, 5, 6, 1, 2, 3, 7, 1, 2, 6, 9]);
        let hits = testing::hits(&mut q, &trace);
        let expected: Vec<bool> = (0..trace.len()).map(|i| i == 11).collect();
        assert_eq!(hits, expected);
        assert!(q.in_am(6) && q.in_am(2) && q.contains(9) && q.contains(1));
        assert!(!q.in_am(1) && !q.contains(3) && !q.contains(7));
        assert!(q.in_a1out(7) && q.in_a1out(5) && !q.in_a1out(6));
    }

    #[test]
    fn a1in_hits_do_not_reorder_the_fifo() {
        // c = 4, Kin = 1: 1 2 3 4, then 1 hits in A1in but stays at its tail, so 5 pushes
        // 1 (not 2) out to A1out.
        let mut q = TwoQ::with_params(
            4,
            TwoQParams {
                kin: 0.25,
                kout: 0.5,
            },
        );
        let hits = testing::hits(&mut q, &testing::unit(&[1, 2, 3, 4, 1, 5]));
        assert_eq!(hits, [false, false, false, false, true, false]);
        assert!(q.in_a1out(1) && q.contains(2));
    }

    #[test]
    fn bytes_bound_a1in_share_a1out_and_admission() {
        // c = 20 bytes: Kin = 5, Kout = 10. Size 6 > Kin is never admitted.
        let mut q = TwoQ::with_params(
            20,
            TwoQParams {
                kin: 0.25,
                kout: 0.5,
            },
        );
        assert!(!q.get(&Request::get(100, 6)).hit);
        assert!(!q.contains(100) && q.is_empty());
        // Five objects of 4 fill 20 bytes; a sixth evicts 1 (A1in 20 > 5) into A1out.
        let trace: Vec<(u64, u32)> = (1..=6).map(|k| (k, 4)).collect();
        testing::hits(&mut q, &trace);
        assert!(q.in_a1out(1) && q.used() == 20);
        // Two more: A1out holds 4 + 4 ≤ 10; a third ghost drops the oldest (1).
        testing::hits(&mut q, &[(7, 4), (8, 4)]);
        assert!(!q.in_a1out(1) && q.in_a1out(2) && q.in_a1out(3));
        // Ghost 3 comes back with size 5: admitted to Am with its new size.
        assert!(!q.get(&Request::get(3, 5)).hit);
        assert!(q.in_am(3) && q.used() <= 20);
        q.validate().unwrap();
    }

    #[test]
    fn a_hit_with_a_new_size_is_a_hit_that_readmits_into_a1in() {
        // c = 8 (Kin = 2): 9 and 10 push 1 and 2 out; 1 returns into Am; size 2 fits Kin.
        let mut q = TwoQ::with_params(
            8,
            TwoQParams {
                kin: 0.25,
                kout: 0.5,
            },
        );
        testing::hits(&mut q, &testing::unit(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1]));
        assert!(q.in_am(1));
        assert!(q.get(&Request::get(1, 1)).hit);
        let out = q.get(&Request::get(1, 2));
        assert!(out.hit && q.contains(1) && !q.in_am(1));
        q.validate().unwrap();
    }
}
