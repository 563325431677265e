//! TTL expiry as a layer over any policy: `ttl:ttl=60s,base=lru,clock=wall`.
//!
//! Objects carry an expiry time: the request's own TTL when the trace has one (`ttl > 0`),
//! else the layer's default `ttl` (0 = no default: only trace TTLs expire). The clock is
//! either the trace's timestamps (`clock=wall`, in the trace's unit, seconds for every
//! format that records time) or a logical clock that counts requests (`clock=requests`),
//! like a cachetools `TTLCache` whose timer counts iterations.
//!
//! Rules, as memcached applies them: an object stored at time `t` with TTL `T` is alive
//! while the clock is below `t + T` and expired from `t + T` on. A read of an expired object
//! is a miss; the object is dropped (counted as an expiration, not an eviction) and the
//! read re-inserts it through the base policy. When an insert needs room, expired objects
//! are dropped first (earliest expiry first), and the base policy evicts only if that was
//! not enough. A hit does not renew the TTL; a write (`--ops`) or a miss's insert does.
//!
//! The base is any registered policy; its parameters follow a colon and are separated by
//! `;` because `,` separates the layer's own: `ttl:ttl=30,clock=requests,base=s3fifo:small=0.2`.
//!
//! A worked case with the logical clock, TTL 3 requests, unbounded LRU:
//!
//! ```
//! use cachelab::policy::{ttl::{Ttl, TtlClock, TtlParams}, lru::Lru, Policy};
//! use cachelab::request::Request;
//! let mut cache = Ttl::with_params(Box::new(Lru::new(100)), TtlParams { ttl: 3, clock: TtlClock::Requests });
//! let hits: Vec<bool> = [1, 1, 1, 1, 1].iter().map(|&k| cache.get(&Request::get(k, 1)).hit).collect();
//! // Stored at tick 0 (expires at 3): ticks 1 and 2 hit, tick 3 finds it expired and
//! // re-stores it (expires at 6), tick 4 hits.
//! assert_eq!(hits, [false, true, true, false, true]);
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use hashbrown::HashMap;

use super::registry::{ParamInfo, PolicyInfo, PolicyKind, spec_text};
use super::spec::{Params, PolicySpec, SpecError};
use super::{EvictionSink, Held, Outcome, Policy, Unobserved};
use crate::request::Request;

/// The TTL layer's own parameters (`ttl:ttl=60s,clock=wall`); the base policy is given apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlParams {
    /// Default TTL in clock units; 0 = only the trace's TTLs expire.
    pub ttl: u64,
    /// The clock expiry is measured on.
    pub clock: TtlClock,
}

impl TtlParams {
    /// The display name of these parameters over a base policy named `base`
    /// (`ttl:ttl=0,base=lru,clock=wall`); a spec that parses back.
    pub fn name_over(&self, base: &str) -> String {
        let clock = match self.clock {
            TtlClock::Wall => "wall",
            TtlClock::Requests => "requests",
        };
        spec_text(
            "ttl",
            [
                ("ttl", self.ttl.to_string()),
                ("base", base.replace(',', ";")),
                ("clock", clock.to_string()),
            ],
        )
    }
}

impl Default for TtlParams {
    fn default() -> TtlParams {
        TtlParams {
            ttl: 0,
            clock: TtlClock::Wall,
        }
    }
}

/// The registry row: `ttl`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "ttl",
    kind: PolicyKind::Layer,
    summary: "TTL expiry layered over a base policy",
    params: &[
        ParamInfo {
            name: "ttl",
            default: "0",
            help: "default TTL (clock units; s/m/h/d suffixes); 0 = only the trace's TTLs",
        },
        ParamInfo {
            name: "base",
            default: "lru",
            help: "base policy spec; its parameters separated by `;`",
        },
        ParamInfo {
            name: "clock",
            default: "wall",
            help: "`wall` (trace timestamps) or `requests` (one tick per request)",
        },
    ],
    needs_next_access: false,
    build: build_ttl,
};

fn build_ttl(
    params: &Params,
    ctx: &super::registry::BuildContext,
) -> Result<Box<dyn Policy>, SpecError> {
    let ttl = params.ttl("ttl")?;
    let clock = match params.text("clock") {
        "wall" => TtlClock::Wall,
        "requests" => TtlClock::Requests,
        _ => return Err(params.bad("clock", "`wall` or `requests`")),
    };
    let base: PolicySpec = params.text("base").replace(';', ",").parse()?;
    let info = ctx.registry.lookup(&base.name)?;
    if info.kind != PolicyKind::Eviction || info.needs_next_access {
        return Err(params.bad(
            "base",
            "an online eviction policy (not ttl, a model or belady)",
        ));
    }
    let base = ctx.registry.build(&base, ctx.capacity, ctx.seed)?;
    Ok(Box::new(Ttl::with_params(base, TtlParams { ttl, clock })))
}

/// Which clock expiry times are measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlClock {
    /// The trace's timestamps.
    Wall,
    /// A counter that advances by one per request.
    Requests,
}

/// A TTL layer over a base policy.
pub struct Ttl {
    base: Box<dyn Policy>,
    default_ttl: u64,
    clock: TtlClock,
    /// The clock now: the last request's time, or the number of requests seen before it.
    now: u64,
    ticks: u64,
    /// Expiry and size of each object that has an expiry.
    expiry: HashMap<u64, (u64, u32)>,
    /// (expiry, key), earliest first; stale entries (renewed or removed keys) are skipped.
    queue: BinaryHeap<Reverse<(u64, u64)>>,
}

impl Ttl {
    /// A layer over `base` with the given default TTL (0 = trace TTLs only) and clock.
    pub fn with_params(base: Box<dyn Policy>, params: TtlParams) -> Ttl {
        let TtlParams {
            ttl: default_ttl,
            clock,
        } = params;
        Ttl {
            base,
            default_ttl,
            clock,
            now: 0,
            ticks: 0,
            expiry: HashMap::new(),
            queue: BinaryHeap::new(),
        }
    }

    fn advance(&mut self, req: &Request) {
        self.now = match self.clock {
            TtlClock::Wall => req.time,
            TtlClock::Requests => self.ticks,
        };
        self.ticks += 1;
    }

    fn is_expired(&self, key: u64) -> bool {
        self.expiry.get(&key).is_some_and(|&(at, _)| at <= self.now)
    }

    /// The expiry time of `key`, if it has one.
    fn expires(&self, key: u64) -> Option<u64> {
        self.expiry.get(&key).map(|&(at, _)| at)
    }

    /// True when the base policy stores `key`, expired or not: an object past its expiry
    /// is held until the layer drops it (on a read of it, or to make room), and that drop
    /// is what [`Policy::get_evicting`] names.
    pub fn holds(&self, key: u64) -> bool {
        self.base.contains(key)
    }

    /// Deletes the expired `key` from the base; `Some` when the base held it, with the slot
    /// it held when `slots` (asked only then, so a path that names no slots pays no lookup).
    fn delete_expired(&mut self, key: u64, slots: bool) -> Option<Option<u32>> {
        let slot = if slots { self.base.slot_of(key) } else { None };
        self.base.delete(key).then_some(slot)
    }

    /// Drops `key` from the base policy if it has expired; its size and slot (see
    /// [`Ttl::delete_expired`]) when it did.
    fn expire_if_due(&mut self, key: u64, slots: bool) -> Option<(u32, Option<u32>)> {
        if self.is_expired(key) {
            let (_, size) = self.expiry.remove(&key)?;
            return self.delete_expired(key, slots).map(|slot| (size, slot));
        }
        None
    }

    /// Drops expired objects, earliest first, until `incoming` units fit or none is left,
    /// naming each to `sink` (with its slot when `slots`).
    fn reclaim_expired(&mut self, incoming: u64, slots: bool, sink: &mut dyn EvictionSink) -> u32 {
        let mut expired = 0;
        while self.base.used() + incoming > self.base.capacity() {
            let Some(&Reverse((at, key))) = self.queue.peek() else {
                break;
            };
            if at > self.now {
                break;
            }
            self.queue.pop();
            if self.expires(key) == Some(at) {
                let (_, size) = self.expiry.remove(&key).expect("just looked up");
                if let Some(slot) = self.delete_expired(key, slots) {
                    expired += 1;
                    name_drop(sink, key, size, slot);
                }
            }
        }
        expired
    }

    /// Drops queue entries whose expiry passed and that no longer match, bounding memory.
    fn prune(&mut self) {
        while let Some(&Reverse((at, key))) = self.queue.peek() {
            let current = self.expires(key) == Some(at);
            let gone = !self.base.contains(key);
            if current && !gone {
                break;
            }
            self.queue.pop();
            if current && gone {
                self.expiry.remove(&key);
            }
        }
    }

    fn stamp(&mut self, req: &Request) {
        let ttl = if req.ttl > 0 {
            u64::from(req.ttl)
        } else {
            self.default_ttl
        };
        if ttl == 0 {
            self.expiry.remove(&req.key);
            return;
        }
        let at = self.now.saturating_add(ttl);
        self.expiry.insert(req.key, (at, req.size));
        self.queue.push(Reverse((at, req.key)));
    }

    /// Serves a read or a write; with a `sink`, names every object dropped (see
    /// [`Policy::get_evicting`]) and, over a slotted base, the slots ([`Policy::serve`],
    /// whose `known` this passes on); without one the base is called as plainly as before.
    fn store(
        &mut self,
        req: &Request,
        read: bool,
        known: Held,
        sink: Option<&mut dyn EvictionSink>,
    ) -> Outcome {
        let named = sink.is_some();
        // Slots are named only to a sink, and only a slotted base has them.
        let slots = named && self.base.slotted();
        let sink: &mut dyn EvictionSink = match sink {
            Some(sink) => sink,
            None => &mut Unobserved,
        };
        self.advance(req);
        let own_expired = self.expire_if_due(req.key, slots);
        // An expired key was just deleted from the base: not held now.
        let known = if own_expired.is_some() {
            Held::Absent
        } else {
            known
        };
        let mut expirations = u32::from(own_expired.is_some());
        let present = self.base.contains(req.key);
        if !present && u64::from(req.size) <= self.base.capacity() {
            expirations += self.reclaim_expired(u64::from(req.size), slots, sink);
        }
        // The base's evictions leave stale expiry entries, dropped by `prune` as before:
        // cleaning them here would change decisions (an expired ghost is deleted from the
        // base, as the silent path does).
        let mut outcome = match named {
            false if read => self.base.get(req),
            false => self.base.set(req),
            true => self.base.serve(req, !read, known, sink),
        };
        let stored = self.base.contains(req.key);
        if let (Some((size, slot)), false) = (own_expired, stored) {
            // Expired and not stored again (too large now): gone for good.
            name_drop(sink, req.key, size, slot);
        }
        if !present || !read {
            if stored {
                self.stamp(req);
            } else {
                self.expiry.remove(&req.key);
            }
        } else if let Some(entry) = self.expiry.get_mut(&req.key) {
            // A read hit keeps the expiry; the size follows a resize.
            entry.1 = req.size;
        }
        self.prune();
        outcome.expirations += expirations;
        outcome
    }
}

/// Names a drop the layer made itself: with the slot the object held, when the base has
/// slots.
fn name_drop(sink: &mut dyn EvictionSink, key: u64, size: u32, slot: Option<u32>) {
    match slot {
        Some(slot) => sink.evicted_from(key, size, slot),
        None => sink.evicted(key, size),
    }
}

impl Policy for Ttl {
    fn name(&self) -> String {
        TtlParams {
            ttl: self.default_ttl,
            clock: self.clock,
        }
        .name_over(&self.base.name())
    }

    fn capacity(&self) -> u64 {
        self.base.capacity()
    }

    fn used(&self) -> u64 {
        self.base.used()
    }

    fn len(&self) -> usize {
        self.base.len()
    }

    fn contains(&self, key: u64) -> bool {
        self.base.contains(key) && !self.is_expired(key)
    }

    fn get(&mut self, req: &Request) -> Outcome {
        self.store(req, true, Held::Unknown, None)
    }

    fn set(&mut self, req: &Request) -> Outcome {
        self.store(req, false, Held::Unknown, None)
    }

    fn get_evicting(&mut self, req: &Request, mut on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        self.store(req, true, Held::Unknown, Some(&mut on_evict))
    }

    fn set_evicting(&mut self, req: &Request, mut on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        self.store(req, false, Held::Unknown, Some(&mut on_evict))
    }

    /// True when the base names its evictions (the layer names its own expirations).
    fn names_evictions(&self) -> bool {
        self.base.names_evictions()
    }

    /// The base's slots: the layer drops objects only through the base.
    fn slotted(&self) -> bool {
        self.base.slotted()
    }

    fn slot_of(&self, key: u64) -> Option<u32> {
        self.base.slot_of(key)
    }

    fn serve(
        &mut self,
        req: &Request,
        write: bool,
        held: Held,
        sink: &mut dyn EvictionSink,
    ) -> Outcome {
        self.store(req, !write, held, Some(sink))
    }

    fn delete(&mut self, key: u64) -> bool {
        let expired = self.is_expired(key);
        self.expiry.remove(&key);
        self.base.delete(key) && !expired
    }

    fn heap_bytes(&self) -> usize {
        self.base.heap_bytes()
            + self.expiry.capacity() * (2 * std::mem::size_of::<u64>() + 1)
            + self.queue.capacity() * std::mem::size_of::<(u64, u64)>()
    }

    fn validate(&self) -> Result<(), String> {
        self.base.validate()?;
        for (&key, &(at, _)) in &self.expiry {
            if !self.queue.iter().any(|&Reverse(e)| e == (at, key)) {
                return Err(format!("key {key} expires at {at} but is not queued"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::lru::Lru;
    use proptest::prelude::*;

    /// The obviously right model: LRU in a `Vec` (front = most recent) with expiry times,
    /// where expired objects are dropped when touched and first when room is needed.
    struct Model {
        items: Vec<(u64, u32, Option<u64>)>,
        capacity: u64,
        ttl: u64,
        expirations: u64,
    }

    impl Model {
        fn used(&self) -> u64 {
            self.items.iter().map(|i| u64::from(i.1)).sum()
        }

        fn get(&mut self, now: u64, key: u64, size: u32) -> bool {
            let dead = |item: &(u64, u32, Option<u64>)| item.2.is_some_and(|at| at <= now);
            if let Some(i) = self.items.iter().position(|i| i.0 == key) {
                if dead(&self.items[i]) {
                    self.items.remove(i);
                    self.expirations += 1;
                } else {
                    let mut item = self.items.remove(i);
                    if item.1 != size {
                        item.1 = size;
                        if u64::from(size) > self.capacity {
                            return true;
                        }
                        while self.used() + u64::from(size) > self.capacity {
                            self.items.pop();
                        }
                    }
                    self.items.insert(0, item);
                    return true;
                }
            }
            if u64::from(size) > self.capacity {
                return false;
            }
            // Expired objects first, earliest expiry first (ties: smaller key).
            while self.used() + u64::from(size) > self.capacity {
                let Some(i) = (0..self.items.len())
                    .filter(|&i| dead(&self.items[i]))
                    .min_by_key(|&i| (self.items[i].2, self.items[i].0))
                else {
                    break;
                };
                self.items.remove(i);
                self.expirations += 1;
            }
            while self.used() + u64::from(size) > self.capacity {
                self.items.pop();
            }
            let at = (self.ttl > 0).then_some(now + self.ttl);
            self.items.insert(0, (key, size, at));
            false
        }
    }

    proptest! {
        #[test]
        fn matches_the_linear_model(
            trace in prop::collection::vec((0u64..12, 1u32..6, 0u64..3), 1..300),
            capacity in 1u64..30,
            ttl in 0u64..20,
            unit_sizes in any::<bool>(),
        ) {
            let mut fast = Ttl::with_params(Box::new(Lru::new(capacity)), TtlParams { ttl, clock: TtlClock::Wall });
            let mut model = Model { items: Vec::new(), capacity, ttl, expirations: 0 };
            let mut now = 0;
            let mut expirations = 0u64;
            for (key, size, step) in trace {
                now += step;
                let size = if unit_sizes { 1 } else { size };
                let req = Request { time: now, ..Request::get(key, size) };
                let outcome = fast.get(&req);
                prop_assert_eq!(outcome.hit, model.get(now, key, size));
                expirations += u64::from(outcome.expirations);
                prop_assert_eq!(expirations, model.expirations);
                fast.validate().map_err(TestCaseError::fail)?;
                prop_assert_eq!(fast.used(), model.used());
            }
        }
    }

    #[test]
    fn trace_ttls_override_the_default_and_wall_clock_uses_timestamps() {
        let mut cache = Ttl::with_params(
            Box::new(Lru::new(100)),
            TtlParams {
                ttl: 0,
                clock: TtlClock::Wall,
            },
        );
        let at = |time, ttl| Request {
            time,
            ttl,
            ..Request::get(7, 1)
        };
        assert!(!cache.get(&at(100, 10)).hit); // stored, expires at 110
        assert!(cache.get(&at(109, 0)).hit);
        let expired = cache.get(&at(110, 0));
        assert!(!expired.hit);
        assert_eq!(expired.expirations, 1);
        // Re-stored without a TTL (default 0): never expires.
        assert!(cache.get(&at(1_000_000, 0)).hit);
    }

    #[test]
    fn expired_objects_make_room_before_live_ones_are_evicted() {
        let mut cache = Ttl::with_params(
            Box::new(Lru::new(2)),
            TtlParams {
                ttl: 0,
                clock: TtlClock::Wall,
            },
        );
        let req = |key, time, ttl| Request {
            time,
            ttl,
            ..Request::get(key, 1)
        };
        cache.get(&req(1, 0, 5)); // expires at 5
        cache.get(&req(2, 1, 0)); // no expiry
        // Key 1 is the most recently used after this hit, so plain LRU would evict key 2.
        assert!(cache.get(&req(1, 2, 0)).hit);
        let outcome = cache.get(&req(3, 6, 0));
        assert_eq!((outcome.evictions, outcome.expirations), (0, 1));
        assert!(cache.contains(2) && cache.contains(3) && !cache.contains(1));
    }
}
