//! Eviction policies: the [`Policy`] trait, one file per policy, and the [`registry`] that
//! builds a policy from a spec string such as `lru` or `s3fifo:small=0.1`.
//!
//! Start from [`Policy`]: a policy holds metadata (keys and sizes), never values, and
//! decides for each request whether it hits and what to evict. Capacity is in size units;
//! the engine sets every size to 1 when capacity counts objects, so a policy has one mode.
//!
//! Adding a policy is its file (with its registry row), one line in
//! [`builtin::BUILTIN`], and its tests.

pub mod arc;
pub mod belady;
pub mod builtin;
pub mod clock;
pub(crate) mod counters;
pub mod fifo;
pub(crate) mod frequency_sketch;
pub mod lfu;
pub mod lirs;
pub(crate) mod list;
pub mod lru;
pub mod random;
pub mod registry;
mod resident;
pub mod s3fifo;
pub mod sieve;
pub mod slru;
pub mod spec;
pub mod ttl;
pub mod twoq;
pub mod wtinylfu;

#[cfg(test)]
mod eviction_tests;
#[cfg(test)]
pub(crate) mod testing;

pub use counters::Counters;
pub use registry::{PolicyInfo, PolicyKind, Registry};
pub use spec::{PolicySpec, SpecError};

use crate::request::Request;

/// What one request did to a policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The key was present (and unexpired) when the request arrived.
    pub hit: bool,
    /// Objects evicted to make room.
    pub evictions: u32,
    /// Objects dropped because their TTL ran out (policies with expiry only).
    pub expirations: u32,
    /// The object was not stored because it can never fit: larger than the capacity (or
    /// than an admission limit such as W-TinyLFU's window), or over memcached's `-I`.
    pub refused: bool,
}

impl Outcome {
    /// A hit or miss that evicted `evictions` objects and expired none.
    pub const fn new(hit: bool, evictions: u32) -> Outcome {
        Outcome {
            hit,
            evictions,
            expirations: 0,
            refused: false,
        }
    }

    /// A hit that evicted nothing.
    pub const HIT: Outcome = Outcome::new(true, 0);
    /// A miss that evicted nothing.
    pub const MISS: Outcome = Outcome::new(false, 0);
    /// A miss whose object was not stored because it can never fit.
    pub const REFUSED: Outcome = Outcome {
        refused: true,
        ..Outcome::MISS
    };
}

/// A policy's own report after a run ([`Policy::details`]): its numbers as data, and
/// warnings a user must see.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Details {
    /// The policy's numbers as structured data, written into the JSON results; reports
    /// render them (the memcached model's is a `MemoryReport`).
    pub data: serde_json::Value,
    /// What a user must be told even without `-v` (a limit the model could not keep…).
    pub warnings: Vec<String>,
}

/// A policy whose held objects are the nodes of one [`list::KeyedSlab`] and which finds
/// nothing by id for a key it does not hold (no ghosts): it can run without its index
/// ([`Policy::drop_index`]). [`store_index_hooks!`] writes its by-slot methods, and
/// [`serve_located`] serves a request its caller did not locate while unindexed.
pub(crate) trait KeyedStore: Policy {
    /// The nodes and key index of the held objects.
    fn keyed(&self) -> &list::KeyedSlab<true>;
    /// The nodes and key index, to drop or rebuild the index ([`Policy::drop_index`]).
    fn keyed_mut(&mut self) -> &mut list::KeyedSlab<true>;
    /// Drops the held object in `token` (unlinks and frees its node), with no lookup: the
    /// whole of [`Policy::delete`] and [`Policy::delete_at`] once the token is known.
    fn drop_held(&mut self, token: list::Token);
    /// The key held in `token`, if it holds an object: by default a node linked on a list
    /// ([`list::KeyedSlab::linked_key`]), which every held object is between calls.
    fn held_key(&self, token: list::Token) -> Option<u64> {
        self.keyed().linked_key(token)
    }
}

/// The storage side of policies that keep one node per object and re-admit an object
/// whose size changed; [`readmit_get`] is their whole read rule.
pub(crate) trait Readmit: KeyedStore {
    /// Records a hit with an unchanged size (a reference bit, a counter, a frequency);
    /// nothing by default.
    fn on_hit(&mut self, _token: list::Token) {}
    /// Admits an absent object that fits the capacity, naming each object it evicts to
    /// `sink` ([`EvictionSink::evicted_from`]) and the new object's slot
    /// ([`EvictionSink::admitted`]); returns evictions.
    fn admit_new<S: EvictionSink + ?Sized>(&mut self, key: u64, size: u32, sink: &mut S) -> u32;
}

/// The slot methods of a policy whose slots are its slab tokens and whose `set` is its
/// `get`, written inside its `impl Policy`: `|this, key| …` finds a held key's token (never
/// a ghost's), and the request goes to `self.access(req, held, sink)`, or to
/// `serve: f` called as `f(self, req, held, sink)`; `readmit` is `serve: readmit_get`
/// for the [`Readmit`] family, with [`Policy::hit_at`] taking a hit through
/// [`Readmit::on_hit`], and also writes the unindexed mode ([`store_index_hooks!`]). Both
/// [`Policy::serve`] and [`Policy::serve_in`] are written.
macro_rules! token_slots {
    (|$this:ident, $key:ident| $find:expr) => {
        $crate::policy::token_slots!(|$this, $key| $find, serve: Self::access);
    };
    (|$this:ident, $key:ident| $find:expr, readmit) => {
        $crate::policy::token_slots!(|$this, $key| $find, serve: $crate::policy::readmit_get);

        #[inline]
        fn hit_at(&mut self, slot: u32) -> bool {
            // `readmit_get`'s hit with the size unchanged.
            $crate::policy::Readmit::on_hit(self, slot);
            true
        }

        // No ghosts, no state found by id: an absent key is never looked up
        // (`readmit_get` goes through `Held::token_in`) and deleting one changes nothing.
        $crate::policy::store_index_hooks!();
    };
    (|$this:ident, $key:ident| $find:expr, serve: $serve:path) => {
        fn slotted(&self) -> bool {
            true
        }

        fn slot_of(&self, $key: u64) -> Option<u32> {
            let $this = self;
            $find
        }

        fn serve(
            &mut self,
            req: &$crate::request::Request,
            _write: bool,
            held: $crate::policy::Held,
            sink: &mut dyn $crate::policy::EvictionSink,
        ) -> $crate::policy::Outcome {
            // A write is a read for this policy (`set` is `get`).
            $serve(self, req, held, sink)
        }

        #[inline]
        fn serve_in<S: $crate::policy::EvictionSink>(
            &mut self,
            req: &$crate::request::Request,
            _write: bool,
            held: $crate::policy::Held,
            sink: &mut S,
        ) -> $crate::policy::Outcome {
            $serve(self, req, held, sink)
        }
    };
}
pub(crate) use token_slots;

/// The by-slot methods of a [`KeyedStore`] policy, which can drop its index
/// ([`Policy::drop_index`]), written inside its `impl Policy`: [`Policy::delete`],
/// [`Policy::delete_at`], [`Policy::drop_index`], [`Policy::restore_index`] and
/// [`Policy::id_at`], over [`KeyedStore::drop_held`] and [`KeyedStore::held_key`].
macro_rules! store_index_hooks {
    () => {
        fn delete(&mut self, key: u64) -> bool {
            let found = $crate::policy::KeyedStore::keyed(self).find(key);
            found
                .map(|token| $crate::policy::KeyedStore::drop_held(self, token))
                .is_some()
        }

        fn delete_at(&mut self, slot: u32, id: u64) -> bool {
            if $crate::policy::KeyedStore::held_key(self, slot) != Some(id) {
                return false;
            }
            $crate::policy::KeyedStore::drop_held(self, slot);
            true
        }

        fn drop_index(&mut self) -> bool {
            $crate::policy::KeyedStore::keyed_mut(self).drop_index();
            true
        }

        fn restore_index(&mut self) {
            $crate::policy::KeyedStore::keyed_mut(self).restore_index();
        }

        fn id_at(&self, slot: u32) -> Option<u64> {
            $crate::policy::KeyedStore::held_key(self, slot)
        }
    };
}
pub(crate) use store_index_hooks;

/// What the caller of [`Policy::serve`] knows of the requested key, from
/// [`Policy::slot_of`] on the policy as it is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Not asked: the policy looks the key up itself.
    Unknown,
    /// Held at this slot.
    At(u32),
    /// Not held (a ghost entry, if the policy keeps them, is still looked up).
    Absent,
}

impl Held {
    /// The requested key's token for a slotted policy: the caller's when it gave one, else
    /// what `find` (the policy's own lookup) says. For a key the caller knows is not held,
    /// no lookup runs unless the policy keeps ghost nodes (`ghosts`), which it must find.
    #[inline]
    pub(crate) fn token_or(self, find: impl FnOnce() -> Option<u32>, ghosts: bool) -> Option<u32> {
        match self {
            Held::At(token) => {
                debug_assert_eq!(find(), Some(token), "the caller's slot is the key's");
                Some(token)
            }
            Held::Absent if !ghosts => None,
            Held::Absent | Held::Unknown => find(),
        }
    }

    /// [`Held::token_or`] for a policy without ghosts whose index may be dropped
    /// ([`Policy::drop_index`]): the caller's token, or the index's answer
    /// ([`list::KeyedSlab::probe`]); `Err` when the caller did not say and the index is
    /// dropped. The caller then serves the request on a cold path, once the key is
    /// located by a scan ([`Held::located`]).
    #[inline]
    pub(crate) fn token_in(
        self,
        keyed: &list::KeyedSlab<true>,
        key: u64,
    ) -> Result<Option<u32>, list::IndexDropped> {
        match self {
            Held::At(token) => {
                debug_assert_eq!(
                    keyed.find(key),
                    Some(token),
                    "the caller's slot is the key's"
                );
                Ok(Some(token))
            }
            Held::Absent => Ok(None),
            Held::Unknown => keyed.probe(key),
        }
    }

    /// What a lookup found, as the caller would say it: held at the token, or absent.
    pub(crate) fn located(found: Option<u32>) -> Held {
        found.map_or(Held::Absent, Held::At)
    }
}

/// The read rule shared by CLOCK, SIEVE, LFU and random: a hit with the same size is
/// recorded; a hit with a new size drops the object and admits it again as new (still a
/// hit); a miss admits unless the object is larger than the capacity.
#[inline]
pub(crate) fn readmit_get<P: Readmit, S: EvictionSink + ?Sized>(
    policy: &mut P,
    req: &Request,
    known: Held,
    sink: &mut S,
) -> Outcome {
    let keyed = policy.keyed();
    let Ok(found) = known.token_in(keyed, req.key) else {
        return serve_located(policy, req.key, req.size, sink, readmit_get);
    };
    let found = found.map(|token| (token, keyed.slab().size(token)));
    let held = match found {
        Some((token, size)) if size == req.size => {
            policy.on_hit(token);
            return Outcome::HIT;
        }
        Some((token, size)) => {
            policy.drop_held(token);
            Some((token, size))
        }
        None => None,
    };
    let hit = held.is_some();
    if u64::from(req.size) > policy.capacity() {
        if let Some((token, size)) = held {
            // Held before, gone now: the object itself is dropped.
            sink.evicted_from(req.key, size, token);
        }
        return Outcome {
            hit,
            ..Outcome::REFUSED
        };
    }
    Outcome::new(hit, policy.admit_new(req.key, req.size, sink))
}

/// Serves, through `serve` (the policy's read rule), a request for `key` of `size` whose
/// caller did not locate the key while the policy's index is dropped: a scan locates it
/// first ([`list::KeyedSlab::find`]). Cold: a caller of an unindexed policy says where
/// each key is. It takes the key and the size (all a read rule reads of a request) by
/// value, so the hot path keeps its request in registers.
#[cold]
#[inline(never)]
pub(crate) fn serve_located<P: KeyedStore, S: EvictionSink + ?Sized>(
    policy: &mut P,
    key: u64,
    size: u32,
    sink: &mut S,
    serve: fn(&mut P, &Request, Held, &mut S) -> Outcome,
) -> Outcome {
    let known = Held::located(policy.keyed().find(key));
    serve(policy, &Request::get(key, size), known, sink)
}

/// Where a policy names the objects it drops while serving a request
/// ([`Policy::get_evicting`]): every key held before the request and not after it, with
/// the size it had. quick-cache's `Lifecycle::on_evict` shape.
///
/// Policies write their request path once, generic over the sink; [`Policy::get`] runs it
/// with [`Unobserved`], whose empty method compiles away, so the engine's hot path pays
/// nothing for the reports it does not ask for.
pub trait EvictionSink {
    /// `key`, of `size` units, was held before this request and is not after it.
    fn evicted(&mut self, key: u64, size: u32);

    /// [`EvictionSink::evicted`] from a slotted policy ([`Policy::slotted`]), which also
    /// says the slot the key held, so an in-process cache that keeps its values by slot
    /// drops the right one without a lookup. By default the slot is ignored.
    #[inline(always)]
    fn evicted_from(&mut self, key: u64, size: u32, slot: u32) {
        let _ = slot;
        self.evicted(key, size);
    }

    /// A slotted policy now holds the requested `key` at `slot`: on each admission (and
    /// each re-admission at a new slot). Nothing by default.
    #[inline(always)]
    fn admitted(&mut self, key: u64, slot: u32) {
        let _ = (key, slot);
    }
}

/// The sink that ignores every report: what [`Policy::get`] passes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl EvictionSink for Unobserved {
    #[inline(always)]
    fn evicted(&mut self, _key: u64, _size: u32) {}
}

impl<F: FnMut(u64, u32) + ?Sized> EvictionSink for F {
    #[inline]
    fn evicted(&mut self, key: u64, size: u32) {
        self(key, size)
    }
}

/// An eviction policy over keys with sizes.
///
/// Rules every policy keeps, so results compare:
/// - [`Policy::get`] is a read: a hit when the key is present; on a miss the object is
///   admitted (unless the policy's admission rule refuses it) after evicting enough to fit.
/// - An object larger than the whole capacity is a miss and is never inserted.
/// - A request for a present key with a new size updates the size, evicting others as
///   needed; if the new size exceeds the capacity the object is dropped.
/// - `used() <= capacity()` after every call.
///
/// A policy is `Any` (owned, no borrowed data), so that an in-process cache can tell the
/// built-in policies it calls by type apart from the rest.
pub trait Policy: Send + std::any::Any {
    /// Display name: the spec with every parameter, such as `lru` or
    /// `s3fifo:small=0.1,threshold=1`, so it parses back into the same policy.
    fn name(&self) -> String;

    /// Capacity in size units (bytes, or objects when every size is 1).
    fn capacity(&self) -> u64;

    /// Size units currently held (ghost entries excluded).
    fn used(&self) -> u64;

    /// Number of objects currently held (ghost entries excluded).
    fn len(&self) -> usize;

    /// True when the policy holds no object.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when `key` is held.
    fn contains(&self, key: u64) -> bool;

    /// A read of `req.key`: hit, or miss and admit.
    fn get(&mut self, req: &Request) -> Outcome;

    /// A write of `req.key` (set, add, …): store or update it without counting a read.
    /// The default treats it as a read whose hit flag the caller ignores.
    fn set(&mut self, req: &Request) -> Outcome {
        self.get(req)
    }

    /// [`Policy::get`], calling `on_evict(key, size)` for every object the request drops:
    /// exactly the keys held before it and not after it (evicted, expired, or the
    /// requested object itself when its new size no longer fits). The decisions are those
    /// of `get`.
    ///
    /// A policy that names its evictions overrides this and [`Policy::names_evictions`];
    /// the default serves the request through `get` and names nothing, so a caller that
    /// needs the names (an in-process [`crate::cache::Cache`]) checks `names_evictions`
    /// first.
    fn get_evicting(&mut self, req: &Request, on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        let _ = on_evict;
        self.get(req)
    }

    /// [`Policy::set`] naming what it drops, as [`Policy::get_evicting`] does for reads.
    /// The default is `get_evicting` for a policy that names its evictions (whose `set`
    /// is its `get`), else `set`; a naming policy with its own `set` overrides this too.
    fn set_evicting(&mut self, req: &Request, on_evict: &mut dyn FnMut(u64, u32)) -> Outcome {
        if self.names_evictions() {
            self.get_evicting(req, on_evict)
        } else {
            self.set(req)
        }
    }

    /// True when [`Policy::get_evicting`] names every object the policy drops.
    fn names_evictions(&self) -> bool {
        false
    }

    /// True when the policy numbers the objects it holds with slots: small numbers (its
    /// slab's indexes, below the most nodes it has had at once, ghost entries included)
    /// that stay an object's while it is held, reported through
    /// [`EvictionSink::evicted_from`] and [`EvictionSink::admitted`] by [`Policy::serve`].
    /// An in-process cache then keeps each entry's slot beside its value, tells the policy
    /// where a requested key is ([`Held::At`]) and takes hits there ([`Policy::hit_at`]):
    /// one hash lookup per request instead of two (its own table and the policy's).
    fn slotted(&self) -> bool {
        false
    }

    /// The slot of `key` when it is held by a slotted policy (expired or not, for a TTL
    /// layer); `None` when it is not held or the policy is not slotted.
    fn slot_of(&self, key: u64) -> Option<u32> {
        let _ = key;
        None
    }

    /// The in-process cache's request: a read (`write` false, as [`Policy::get_evicting`])
    /// or a write ([`Policy::set_evicting`]), naming what it drops to `sink`. `held` is
    /// what the caller learnt of `req.key` through [`Policy::slot_of`] in this state of the
    /// policy, so a slotted policy can skip its own lookup. A slotted policy reports slots
    /// ([`EvictionSink::evicted_from`], [`EvictionSink::admitted`]); the default serves
    /// through `get_evicting` or `set_evicting` and names keys only.
    fn serve(
        &mut self,
        req: &Request,
        write: bool,
        held: Held,
        sink: &mut dyn EvictionSink,
    ) -> Outcome {
        let _ = held;
        let mut named = |key: u64, size: u32| sink.evicted(key, size);
        if write {
            self.set_evicting(req, &mut named)
        } else {
            self.get_evicting(req, &mut named)
        }
    }

    /// The in-process cache's fast hit: a read of the held object in `slot` (a slotted
    /// policy's, found through [`Policy::slot_of`]) with its size unchanged. A policy whose
    /// such hit only updates its own bookkeeping (a reference bit, a frequency, a place in
    /// a list: nothing evicted, admitted or moved to another slot) makes exactly the change
    /// [`Policy::serve`] would and returns true, so the caller builds no request and no
    /// sink. Otherwise (the default) it changes nothing and returns false, and the caller
    /// serves the read.
    fn hit_at(&mut self, slot: u32) -> bool {
        let _ = slot;
        false
    }

    /// [`Policy::serve`] with a sink whose type is known, for a caller that holds the
    /// policy by its type (an in-process cache's built-in policies): the policy's request
    /// path and the sink's methods then compile together, with no dynamic call between
    /// them. Every slotted built-in policy overrides it; the default serves through
    /// `serve`.
    fn serve_in<S: EvictionSink>(
        &mut self,
        req: &Request,
        write: bool,
        held: Held,
        sink: &mut S,
    ) -> Outcome
    where
        Self: Sized,
    {
        self.serve(req, write, held, sink)
    }

    /// Reads every request of `requests` in order, counting each into `counters`.
    ///
    /// The engine's hot loop. The default body is compiled once per policy type, so `get`
    /// is called statically and inlined: one dynamic dispatch per batch, not per request.
    fn get_batch(&mut self, requests: &[Request], counters: &mut Counters) {
        for req in requests {
            let outcome = self.get(req);
            counters.record_read(req.size, outcome);
        }
    }

    /// Removes `key`; true when it was held.
    fn delete(&mut self, key: u64) -> bool;

    /// Stops maintaining the policy's own index from id to slot, for a caller that names
    /// every held object by its slot from now on: an in-process cache that keeps each
    /// entry's slot, learns slots from [`EvictionSink::evicted_from`] and
    /// [`EvictionSink::admitted`], takes hits with [`Policy::hit_at`], serves with
    /// [`Held::At`] or [`Held::Absent`] (never [`Held::Unknown`]) and deletes with
    /// [`Policy::delete_at`]. That saves the index's two hash probes per miss (insert the
    /// new id, remove the victim's) and its memory. Returns true when the policy did so;
    /// false (and nothing changes) when it cannot: not slotted, or it keeps ghost entries
    /// or other state it must find by id (S3-FIFO, ARC, LIRS, 2Q, …), or its delete of an
    /// absent id would change anything.
    ///
    /// Decisions are unchanged. While unindexed, everything that takes an id instead of a
    /// slot ([`Policy::contains`], [`Policy::slot_of`], [`Policy::delete`], a request with
    /// [`Held::Unknown`]) still answers correctly, through a linear scan of the held
    /// objects: a slow fallback for checks and cold paths only.
    fn drop_index(&mut self) -> bool {
        false
    }

    /// Rebuilds the index after [`Policy::drop_index`] (from the held objects, O(n)),
    /// before a caller asks by id again, such as a TTL layer put over the policy; nothing
    /// when the policy is indexed.
    fn restore_index(&mut self) {}

    /// The id held in `slot`, for checks (an unindexed policy's [`Policy::slot_of`] is a
    /// scan); O(1). `None` when the slot holds nothing, or the policy cannot drop its
    /// index (the default: only those answer).
    fn id_at(&self, slot: u32) -> Option<u64> {
        let _ = slot;
        None
    }

    /// Deletes the held object in `slot` whose id is `id`, without looking `id` up; true
    /// when it was held there (false, and nothing changes, when `slot` holds nothing or
    /// another id). The way to delete from an unindexed policy ([`Policy::drop_index`]).
    /// The default is [`Policy::delete`] of `id`.
    fn delete_at(&mut self, slot: u32, id: u64) -> bool {
        let _ = slot;
        self.delete(id)
    }

    /// The policy's own report after a run, for policies that model a system with more to
    /// say than hits (the memcached model's per-slab-class memory); `None` for plain
    /// eviction policies.
    fn details(&self) -> Option<Details> {
        None
    }

    /// Heap bytes of the policy's metadata (index and all queues, ghosts included).
    fn heap_bytes(&self) -> usize;

    /// Rebuilds every counter from scratch and compares; for tests after every step.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}
