//! In-process caches over any eviction policy: [`Cache<K, V>`] keeps values, the policy
//! keeps only keys and sizes and decides, exactly as it does in the simulator.
//!
//! Start from [`Cache::builder`]. A cache owns three things: its entries (key, value and
//! the key's internal id), a [`Policy`] over those ids (any registered spec such as
//! `s3fifo`, or a policy of your own), and a [`Clock`] for TTLs. Every read or insert is one
//! request to the policy ([`Policy::serve`]; a hit the policy can take in place, with no
//! TTL or capture in use, goes to [`Policy::hit_at`]); the policy names what it evicts and
//! the cache drops those values, handing them to the eviction listener. Because the policy object is
//! the simulator's own, a cache makes the same hit, miss and eviction decisions as
//! `cachelab sim` on the same stream of requests (tested for every policy).
//!
//! Entries sit in one hash table by id, each with its key and value: a read finds them in
//! one probe. Every built-in online policy (and the TTL layer over them) numbers the
//! objects it holds ([`Policy::slotted`]); an entry then also names its slot in the
//! policy, so the policy takes a hit there without a lookup of its own. A policy of your
//! own that does not is told ids only: the same decisions. A policy that can run without
//! its own index from id to slot (LRU, FIFO, CLOCK, SIEVE, LFU, random, W-TinyLFU:
//! [`Policy::drop_index`]) drops it while no TTL is in use, so a miss keeps one hash table
//! up to date, not two. In the common configuration (a slotted policy, no TTL, capture,
//! listener or weigher, and keys and values without destructors) a miss takes a short path
//! with nothing to defer or weigh; the decisions are the same.
//!
//! ```
//! use cachelab::cache::Cache;
//!
//! let mut cache = Cache::builder().policy("s3fifo").capacity(2).build()?;
//! cache.insert("a", 1);
//! assert_eq!(cache.get(&"a"), Some(&1));
//! let len = cache.get_or_insert_with("b", || 2);
//! assert_eq!(*len, 2);
//! assert_eq!(cache.cache_info().hits, 1);
//! # Ok::<(), cachelab::cache::BuildError>(())
//! ```
//!
//! Rules:
//! - **Ids.** A key's id starts as the cache hasher's hash of the key, so a key keeps its
//!   id as it leaves and comes back, as a hashed trace key does in the simulator (ghost
//!   entries and frequency sketches recognise it). A lookup compares the key stored with
//!   the entry, never trusts the hash alone: two keys with one hash get two ids. The
//!   default hasher is foldhash with a random seed per cache (hashbrown's default, as `lru`
//!   and `quick_cache` use; fast, with some resistance to flooding but not SipHash's); give
//!   [`Builder::hasher`] `std`'s `RandomState` for SipHash, or a fixed hasher for decisions
//!   that repeat run to run (W-TinyLFU's sketch and random eviction see the ids).
//! - **TTL** (cachetools' rules). An entry inserted at time `t` with TTL `T` expires at `t + T` and is expired
//!   when `expires <= now`; reads do not renew it, an insert of the same key does. Expired
//!   entries read as absent and are dropped on the read, or by the policy's TTL layer when
//!   an insert needs room (earliest expiry first, before any live entry is evicted).
//! - **Sizes.** Capacity counts entries, or the units a weigher returns (cachetools'
//!   `getsizeof`). An entry larger than the capacity is not kept.
//!
//! For threads, [`Builder::build_sync`] makes a [`sync::Cache`] from the same settings: it
//! shards keys over locked caches and computes a missing value once however many threads
//! miss it together; [`Memo`] memoises a function on it.

mod builder;
mod capture;
mod clock;
mod engine;
mod memo;
pub mod sync;
mod table;

pub use builder::{BuildError, Builder};
use capture::Recorder;
pub use capture::{CaptureFile, CaptureSummary};
pub use clock::{Clock, LogicalClock, WallClock};
use engine::Engine;
pub use memo::{Memo, MemoBuilder};
use table::{At, Table};

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;
use hashbrown::HashMap;

use crate::policy::ttl::{Ttl, TtlClock, TtlParams};
use crate::policy::{EvictionSink, Held, Policy};
use crate::request::{Op, Request};

/// The TTL layer a cache puts over its policy: no default of its own (the cache fills in
/// each request's TTL) on the wall clock, so each request's time, the cache clock's
/// reading, is what expiry is measured on.
const CACHE_TTL: TtlParams = TtlParams {
    ttl: 0,
    clock: TtlClock::Wall,
};

/// Why an entry left the cache without being removed by the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RemovalCause {
    /// The policy evicted it to make room.
    Evicted,
    /// Its TTL ran out.
    Expired,
    /// The policy would not keep it: larger than the capacity (or than an admission limit
    /// such as W-TinyLFU's window).
    Rejected,
}

/// Counters in the shape of Python's `functools` `cache_info()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct CacheInfo {
    /// Reads that found a live entry.
    pub hits: u64,
    /// Reads that found none (absent or expired).
    pub misses: u64,
    /// Capacity in size units (entries, or weigher units).
    pub maxsize: u64,
    /// Size units held now.
    pub currsize: u64,
}

/// What the listener is: called with each entry that leaves on its own.
type Listener<K, V> = Box<dyn FnMut(K, V, RemovalCause) + Send>;
/// What the weigher is: an entry's size in capacity units (`Sync` so that the shards of a
/// sync cache can share one).
type Weigher<K, V> = Box<dyn Fn(&K, &V) -> u32 + Send + Sync>;

/// One held entry.
struct Entry<K, V> {
    /// The id the policy knows the entry by.
    id: u64,
    key: K,
    value: V,
    /// Size in capacity units, as the policy holds it.
    size: u32,
    /// The policy's slot for the entry ([`NO_SLOT`] when the policy is not slotted).
    slot: u32,
}

/// [`Entry::slot`] of an entry whose policy does not number its objects.
const NO_SLOT: u32 = u32::MAX;

/// An entry's expiry time in clock ticks for a TTL of `ttl` ticks set at `now`; 0 when
/// `ttl` is 0 (no expiry: an expiry is at least 1, a time plus a TTL of at least 1). See
/// [`Table::expired`].
fn expiry(ttl: u64, now: u64) -> u64 {
    if ttl > 0 { now.saturating_add(ttl) } else { 0 }
}

/// Where a key is: [`Cache::lookup`]'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// Held with this id in this bucket, at this slot of the policy ([`Entry::slot`]).
    Held(u64, At, u32),
    /// Not held, and no held entry has the key's hash as its id.
    Free,
    /// Not held, and another key's entry has the key's hash as its id.
    Taken,
}

/// The sink a cache hands its policy for one request: it applies each drop and each
/// placement as the policy names it. Dropped entries whose key or value has a destructor,
/// or that the listener must see, wait in `gone` until the policy has returned, so no
/// user code runs while the policy is between states. A request only removes entries
/// from the table (it inserts none), so every bucket stays where it is.
struct Settle<'a, K, V, H> {
    table: &'a mut Table<K, V>,
    moved: &'a mut HashMap<u64, Vec<u64>>,
    /// The cache's key hasher, for [`forget_move`].
    hasher: &'a H,
    gone: &'a mut Vec<(K, V, RemovalCause)>,
    /// Keep dropped entries in `gone` (there is a listener or a destructor to run).
    defer: bool,
    now: u64,
    /// What happened to the requested id.
    settled: Settled,
    /// A replacing insert: its own entry, dropped, is rejected.
    replacing: bool,
}

/// The requested id after a request: [`Cache::ask`]'s answer.
#[derive(Debug, Clone, Copy)]
struct Settled {
    /// The requested id.
    id: u64,
    /// The requested entry's bucket: before the request, and still after it unless the
    /// policy dropped the entry (`None` for a key not held, whose entry is not built yet).
    held: Option<At>,
    /// Where the policy placed a new object for the requested id.
    placed: Option<u32>,
}

impl<K: Hash, V, H: BuildHasher> Settle<'_, K, V, H> {
    /// Takes out the entry the policy dropped (`id`, from `slot` when it said), keeping it
    /// for the listener when `defer`.
    #[inline]
    fn drop_entry(&mut self, id: u64, slot: Option<u32>) {
        let requested = id == self.settled.id;
        // Read before the entry leaves the table, which forgets its expiry with it.
        let expired = self.defer && self.table.expired(id, self.now);
        let entry = if requested {
            match self.settled.held.take() {
                Some(at) => self.table.take(at),
                None => {
                    // The new object itself, placed and dropped in one request.
                    if slot.is_none() || slot == self.settled.placed {
                        self.settled.placed = None;
                    }
                    return;
                }
            }
        } else {
            self.table.remove(id)
        };
        let Some(entry) = entry else {
            return;
        };
        debug_assert!(
            slot.is_none_or(|s| s == entry.slot),
            "the policy named the entry's slot"
        );
        forget_move(self.moved, &entry, self.hasher);
        if self.defer {
            let cause = if requested && self.replacing {
                RemovalCause::Rejected
            } else if expired {
                RemovalCause::Expired
            } else {
                RemovalCause::Evicted
            };
            self.gone.push((entry.key, entry.value, cause));
        }
    }
}

impl<K: Hash, V, H: BuildHasher> EvictionSink for Settle<'_, K, V, H> {
    #[inline]
    fn evicted(&mut self, key: u64, _size: u32) {
        self.drop_entry(key, None);
    }

    #[inline]
    fn evicted_from(&mut self, key: u64, _size: u32, slot: u32) {
        self.drop_entry(key, Some(slot));
    }

    #[inline]
    fn admitted(&mut self, key: u64, slot: u32) {
        debug_assert_eq!(
            key, self.settled.id,
            "only the requested object is admitted"
        );
        match self.settled.held {
            // Held, and re-admitted (at a new slot, in some policies, on a size change).
            Some(at) => self.table.get_mut(at).expect("the held entry").slot = slot,
            None => self.settled.placed = Some(slot),
        }
    }
}

/// Forgets that `entry`, leaving, took an id other than its key's hash (by `hasher`);
/// nothing to do, and no hashing, while no id has moved.
#[inline(always)]
fn forget_move<K: Hash, V>(
    moved: &mut HashMap<u64, Vec<u64>>,
    entry: &Entry<K, V>,
    hasher: &impl BuildHasher,
) {
    if !moved.is_empty() {
        forget_moved(moved, entry, hasher);
    }
}

/// [`forget_move`] once some id has moved (two keys' hashes have met): out of line, so
/// that every removal does not carry it.
#[cold]
#[inline(never)]
fn forget_moved<K: Hash, V>(
    moved: &mut HashMap<u64, Vec<u64>>,
    entry: &Entry<K, V>,
    hasher: &impl BuildHasher,
) {
    let hash = hasher.hash_one(&entry.key);
    if entry.id == hash {
        return;
    }
    if let Some(ids) = moved.get_mut(&hash) {
        ids.retain(|&id| id != entry.id);
        if ids.is_empty() {
            moved.remove(&hash);
        }
    }
}

/// The sink of [`Cache::admit_plain`]: a new key's request in the common configuration.
/// Each victim's entry leaves the table and is dropped at once (keys and values there
/// have no destructor, and there is no listener); the new object's slot is kept.
struct Victims<'a, K, V, H> {
    table: &'a mut Table<K, V>,
    moved: &'a mut HashMap<u64, Vec<u64>>,
    hasher: &'a H,
    /// The requested id: not in the table yet.
    id: u64,
    /// Where the policy placed the requested id, while it holds it.
    placed: Option<u32>,
}

impl<K: Hash, V, H: BuildHasher> Victims<'_, K, V, H> {
    #[inline(always)]
    fn drop_entry(&mut self, id: u64) {
        if id == self.id {
            // The new object, placed and dropped in one request (an admission filter).
            self.placed = None;
        } else if self.moved.is_empty() {
            // No id has moved, so none to forget: the entry goes without being read.
            self.table.discard(id);
        } else if let Some(entry) = self.table.remove(id) {
            forget_move(self.moved, &entry, self.hasher);
        }
    }
}

impl<K: Hash, V, H: BuildHasher> EvictionSink for Victims<'_, K, V, H> {
    #[inline(always)]
    fn evicted(&mut self, key: u64, _size: u32) {
        self.drop_entry(key);
    }

    #[inline(always)]
    fn evicted_from(&mut self, key: u64, _size: u32, _slot: u32) {
        self.drop_entry(key);
    }

    #[inline(always)]
    fn admitted(&mut self, key: u64, slot: u32) {
        debug_assert_eq!(key, self.id, "only the requested object is admitted");
        self.placed = Some(slot);
    }
}

/// A cache of values over an eviction policy; see the [module docs](self).
///
/// Reads take `&mut self` because a read is a request the policy learns from. Across
/// threads, use [`sync::Cache`] (or this one in a `Mutex`).
pub struct Cache<K, V, H = RandomState> {
    /// The policy over ids. Until the first request with a TTL it is the base policy
    /// alone; from then on the base sits under the TTL layer (`timed`). The layer passes
    /// every request through unchanged while no entry has a TTL, so adding it late makes
    /// the same decisions as having it from the start, without its lookups on every
    /// request of a cache that never uses TTLs.
    policy: Engine,
    /// True once the policy is wrapped in the TTL layer.
    timed: bool,
    /// True when requests need the clock's time: TTLs are in use or requests are captured.
    /// Otherwise no decision depends on the time, and the clock is not read.
    clocked: bool,
    /// True when a read hit may go to [`Policy::hit_at`]: the policy is slotted and
    /// nothing is clocked (no entry can have expired, no request is recorded). One flag
    /// for `get`'s first test instead of two.
    hits_in_place: bool,
    hasher: H,
    /// Held entries by id.
    table: Table<K, V>,
    /// True when the policy numbers its objects ([`Policy::slotted`]): entries name their
    /// slots, and hits can be taken in place.
    slotted: bool,
    /// True while the policy keeps its own index from id to slot. A slotted policy under
    /// no TTL layer is driven by slot only (the entries name the slots), so the cache asks
    /// it to drop that index at build ([`Policy::drop_index`]): one hash table per miss to
    /// keep up instead of two. The index comes back when TTLs start (the layer looks ids
    /// up).
    indexed: bool,
    /// True while the cache runs its common configuration: a slotted policy, no clock in
    /// use (no TTL, no capture), no listener, no weigher, and keys and values without
    /// destructors. Nothing then needs the time, a size, or the dropped entries, so a miss
    /// is admitted through [`Cache::admit_plain`]. Cleared when TTLs start.
    plain: bool,
    /// The ids of held entries whose id is not their key's hash (two keys with one hash:
    /// the second took the next free id), by that hash. Empty unless hashes collide.
    moved: HashMap<u64, Vec<u64>>,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    clock: Box<dyn Clock>,
    /// TTL of an insert that gives none, in ticks (0 = none).
    default_ttl: u64,
    hits: u64,
    misses: u64,
    /// Entries dropped during the current request, for the listener (see [`Settle`]).
    gone: Vec<(K, V, RemovalCause)>,
    /// A hash [`Cache::get`] found free (no held entry has it as its id) with nothing
    /// changed since; cleared by every change.
    vacant: Option<u64>,
    /// A value the policy would not keep, held so `get_or_insert_with` can lend it.
    rejected: Option<V>,
    /// Where the requests sent to the policy are recorded, when capturing
    /// ([`Builder::capture`], [`Builder::capture_to`]).
    recorder: Option<Box<Recorder>>,
}

impl<K, V> Cache<K, V> {
    /// A builder with the defaults: `lru`, 10 000 entries, no TTL, wall clock.
    pub fn builder() -> Builder<K, V> {
        Builder::new()
    }
}

impl<K: Hash + Eq, V, H: BuildHasher> Cache<K, V, H> {
    /// Where `key`'s entry (of hash `hash`) is, expired or not, and when it is not held,
    /// whether its hash is free to be its id.
    #[inline(always)]
    fn lookup<Q>(&self, hash: u64, key: &Q) -> Lookup
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let vacancy = match self.table.locate(hash) {
            Some((at, entry)) if entry.key.borrow() == key => {
                return Lookup::Held(hash, at, entry.slot);
            }
            Some(_) => Lookup::Taken,
            None => Lookup::Free,
        };
        if self.moved.is_empty() {
            return vacancy;
        }
        match self.find_moved(hash, key) {
            Some((id, at)) => Lookup::Held(id, at, self.entry(at).slot),
            None => vacancy,
        }
    }

    /// [`Cache::lookup`] among the entries whose key's hash another key had first.
    #[cold]
    fn find_moved<Q>(&self, hash: u64, key: &Q) -> Option<(u64, At)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.moved.get(&hash)?.iter().find_map(|&id| {
            let at = self.table.find(id)?;
            (self.entry(at).key.borrow() == key).then_some((id, at))
        })
    }

    /// The entry in bucket `at`, found during this call.
    #[inline]
    fn entry(&self, at: At) -> &Entry<K, V> {
        self.table.get(at).expect("a found bucket holds its entry")
    }

    /// The clock's time when requests need it, else 0 (see `clocked`).
    #[inline]
    fn now(&self) -> u64 {
        if self.clocked { self.clock.now() } else { 0 }
    }

    /// Puts the policy under the TTL layer, before the first request with a TTL.
    fn start_ttls(&mut self) {
        if self.timed {
            return;
        }
        if !self.indexed {
            self.policy.as_dyn_mut().restore_index();
            self.indexed = true;
        }
        // A one-object placeholder stands in while the base moves under the layer.
        let placeholder: Box<dyn Policy> = Box::new(crate::policy::lru::Lru::new(1));
        let base = std::mem::replace(&mut self.policy, Engine::Any(placeholder)).into_dyn();
        self.policy = Engine::Any(Box::new(Ttl::with_params(base, CACHE_TTL)));
        self.timed = true;
        self.clocked = true;
        self.hits_in_place = false;
        self.plain = false;
    }

    /// The request for `id` at time `now`.
    #[inline]
    fn request(&self, id: u64, size: u32, ttl: u64, now: u64) -> Request {
        Request {
            time: now,
            ttl: u32::try_from(ttl).expect("ttl_or_default caps TTLs at u32::MAX"),
            ..Request::get(id, size)
        }
    }

    /// Sends `req` to the policy as a read (`write` false) or a write and applies what it
    /// drops and places (see [`Settle`]), then tells the listener. `held` is the requested
    /// entry's bucket before the request (`None` for a key not held); `replacing` says a
    /// replacing insert, whose entry is rejected when dropped. Returns where the requested
    /// entry is now, or where the policy placed a new object for it.
    #[inline]
    fn ask(&mut self, req: &Request, write: bool, held: Option<At>, replacing: bool) -> Settled {
        debug_assert!(req.ttl == 0 || self.timed, "start_ttls before a TTL");
        self.vacant = None;
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.record(req, if write { Op::Set } else { Op::Get });
        }
        let known = match (self.slotted, held) {
            (true, Some(at)) => Held::At(self.entry(at).slot),
            // A new key's id is one no held entry has (`new_id`).
            (true, None) => Held::Absent,
            (false, _) => Held::Unknown,
        };
        let mut settle = Settle {
            table: &mut self.table,
            moved: &mut self.moved,
            hasher: &self.hasher,
            gone: &mut self.gone,
            defer: self.listener.is_some() || std::mem::needs_drop::<(K, V)>(),
            now: req.time,
            settled: Settled {
                id: req.key,
                held,
                placed: None,
            },
            replacing,
        };
        self.policy.serve(req, write, known, &mut settle);
        let settled = settle.settled;
        if !self.gone.is_empty() {
            let mut gone = std::mem::take(&mut self.gone);
            for (key, value, cause) in gone.drain(..) {
                self.notify(key, value, cause);
            }
            self.gone = gone;
        }
        settled
    }

    fn notify(&mut self, key: K, value: V, cause: RemovalCause) {
        if let Some(listener) = self.listener.as_mut() {
            listener(key, value, cause);
        }
    }

    /// Takes the entry in bucket `at` out of the table (not out of the policy).
    fn unlink(&mut self, at: At) -> Option<Entry<K, V>> {
        self.vacant = None;
        let entry = self.table.take(at)?;
        forget_move(&mut self.moved, &entry, &self.hasher);
        Some(entry)
    }

    /// Deletes `id` from the policy, capturing the delete: by its entry's slot when held
    /// by a slotted policy (`slot`), else by id. A policy that dropped its index
    /// ([`Policy::drop_index`]) remembers nothing of an absent id, so there is nothing to
    /// delete then.
    fn forget(&mut self, id: u64, slot: Option<u32>) {
        self.vacant = None;
        let now = self.now();
        if let Some(recorder) = self.recorder.as_mut() {
            let request = Request {
                time: now,
                op: Op::Delete,
                ..Request::get(id, 0)
            };
            recorder.record(&request, Op::Delete);
        }
        match slot {
            Some(slot) => self.policy.as_dyn_mut().delete_at(slot, id),
            None if self.indexed => self.policy.as_dyn_mut().delete(id),
            None => false,
        };
    }

    /// The slot to [`Cache::forget`] the entry in bucket `at` by.
    fn slot_at(&self, at: At) -> Option<u32> {
        self.slotted.then(|| self.entry(at).slot)
    }

    /// Drops the expired entry `id` (in bucket `at`) from the policy and the table, telling
    /// the listener.
    fn drop_expired(&mut self, id: u64, at: At) {
        self.forget(id, self.slot_at(at));
        if let Some(entry) = self.unlink(at) {
            self.notify(entry.key, entry.value, RemovalCause::Expired);
        }
    }

    /// The id for an absent key of hash `hash`: the hash itself when [`Cache::get`] just
    /// found it free, else [`Cache::free_id`].
    #[inline]
    fn new_id(&mut self, hash: u64) -> u64 {
        if self.vacant.take() == Some(hash) {
            hash
        } else {
            self.free_id(hash)
        }
    }

    /// A free id for a key of hash `hash`: the hash itself unless a held entry has it.
    fn free_id(&self, hash: u64) -> u64 {
        let mut id = hash;
        while self.table.find(id).is_some() {
            id = id.wrapping_add(1);
        }
        id
    }

    /// Reads `key`: its value when held and unexpired (a hit), else `None` (a miss; an
    /// expired entry is dropped and goes to the listener).
    #[inline(always)]
    pub fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        // The common hit first: the key under its own hash, no clock (so no expiry and
        // nothing to record), and a policy that takes the hit in place.
        if self.hits_in_place {
            match self.table.find_entry(hash) {
                Some(entry) if entry.key.borrow() == key => {
                    let value: *const V = &entry.value;
                    if self.policy.hit_at(entry.slot) {
                        self.hits += 1;
                        // SAFETY: `value` points into the entry just found, and only the
                        // policy and the counter have changed since (a hit taken in
                        // place touches no entry); the reference returned keeps `self`
                        // borrowed while it lives.
                        return Some(unsafe { &*value });
                    }
                }
                // No entry has the hash as its id, and none has moved off its hash: a
                // miss, as `hit` would find (see there).
                None if self.moved.is_empty() => {
                    self.vacant = Some(hash);
                    self.misses += 1;
                    return None;
                }
                _ => {}
            }
        }
        self.get_hashed(hash, key)
    }

    /// [`Cache::get`] past its common hit and miss: a key off its own hash, a clocked
    /// cache, or a hit the policy serves as a request. Out of line, so that `get` stays
    /// short.
    #[inline(never)]
    fn get_hashed<Q>(&mut self, hash: u64, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let at = self.hit(hash, key)??;
        Some(&self.entry(at).value)
    }

    /// The read half of `get`: counts and asks the policy. `None` on a miss; on a hit, the
    /// entry's bucket, or `None` inside when the policy dropped the entry while serving the
    /// hit (some policies, SLRU and W-TinyLFU, can evict on a hit, in rare cases the hit
    /// object itself: a hit whose value is gone, as in the simulator).
    #[inline]
    fn hit<Q>(&mut self, hash: u64, key: &Q) -> Option<Option<At>>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let (id, at, slot) = match self.lookup(hash, key) {
            Lookup::Held(id, at, slot) => (id, at, slot),
            vacancy => {
                // Remembered until the next change, so an insert of the key right after
                // (a program's read-then-insert) need not look again.
                self.vacant = (vacancy == Lookup::Free).then_some(hash);
                self.misses += 1;
                return None;
            }
        };
        // No clock: no TTL (so no entry expires) and no capture (nothing to record).
        if self.hits_in_place && self.policy.hit_at(slot) {
            // The policy took the hit.
            self.hits += 1;
            return Some(Some(at));
        }
        self.served_hit(id, at)
    }

    /// A hit [`Policy::hit_at`] did not take, or on a clocked cache: checks expiry and
    /// serves the read as a request (see [`Cache::hit`]). Kept out of line, so that the
    /// in-place hit in `get` stays a short path.
    #[inline(never)]
    fn served_hit(&mut self, id: u64, at: At) -> Option<Option<At>> {
        let now = self.now();
        if self.table.expired(id, now) {
            self.drop_expired(id, at);
            self.misses += 1;
            return None;
        }
        let size = self.entry(at).size;
        self.hits += 1;
        let req = self.request(id, size, 0, now);
        Some(self.ask(&req, false, Some(at), false).held)
    }

    /// Stores `value` under `key` with the cache's default TTL; returns the value it
    /// replaces, if any. Replacing counts as a write to the policy (it renews the TTL).
    #[inline]
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let hash = self.hasher.hash_one(&key);
        if self.plain && self.vacant.take() == Some(hash) {
            // `get` just found the key absent and its hash free to be its id: the
            // program's insert after a miss, admitted straight away. A key the policy
            // does not keep has no listener to hear of it here.
            let _ = self.admit_plain(key, value, hash, hash);
            return None;
        }
        self.insert_hashed(key, value, hash, self.default_ttl)
    }

    /// Stores `value` under `key`, expiring `ttl` ticks from now (0 = the default TTL; no
    /// expiry when that is 0 too), as cachetools' `TLRUCache` gives each entry its own
    /// time to use. Returns the value it replaces, if any.
    pub fn insert_with_ttl(&mut self, key: K, value: V, ttl: u64) -> Option<V> {
        let hash = self.hasher.hash_one(&key);
        self.insert_hashed(key, value, hash, ttl)
    }

    /// [`Cache::insert_with_ttl`] of a key already hashed (`hash`).
    fn insert_hashed(&mut self, key: K, value: V, hash: u64, ttl: u64) -> Option<V> {
        let ttl = self.ttl_or_default(ttl);
        if ttl > 0 {
            self.start_ttls();
        }
        let now = self.now();
        let found = if self.vacant == Some(hash) {
            // `get` found this hash free and nothing changed since: the key is not held.
            Lookup::Free
        } else {
            self.lookup(hash, &key)
        };
        match found {
            Lookup::Held(id, at, _) if !self.table.expired(id, now) => {
                let size = self.weigh(&key, &value);
                let req = self.request(id, size, ttl, now);
                let entry = self.table.get_mut(at).expect("found above");
                let old = std::mem::replace(&mut entry.value, value);
                entry.size = size;
                self.table.set_expiry(id, expiry(ttl, now));
                self.ask(&req, true, Some(at), true);
                Some(old)
            }
            found => {
                match found {
                    Lookup::Held(id, at, _) => self.drop_expired(id, at),
                    // The key's own hash is free to be its id (`new_id` takes it).
                    Lookup::Free => self.vacant = Some(hash),
                    Lookup::Taken => {}
                }
                if let Err((key, value)) = self.admit(key, value, hash, ttl, now) {
                    self.notify(key, value, RemovalCause::Rejected);
                }
                None
            }
        }
    }

    /// Admits an absent key of hash `hash` as the simulator admits on a miss (a read that
    /// inserts); returns its bucket, or the key and value back when the policy does not
    /// keep them. `ttl` is already [`Cache::ttl_or_default`]'s.
    fn admit(&mut self, key: K, value: V, hash: u64, ttl: u64, now: u64) -> Result<At, (K, V)> {
        if self.plain {
            let id = self.new_id(hash);
            return self.admit_plain(key, value, hash, id);
        }
        let size = self.weigh(&key, &value);
        let id = self.new_id(hash);
        let req = self.request(id, size, ttl, now);
        let placed = self.ask(&req, false, None, false).placed;
        let slot = if self.slotted {
            match self.placed_slot(placed, id) {
                Some(slot) => slot,
                None => return Err((key, value)),
            }
        } else if self.policy.as_dyn().contains(id) {
            NO_SLOT
        } else {
            return Err((key, value));
        };
        let entry = Entry {
            id,
            key,
            value,
            size,
            slot,
        };
        Ok(self.hold(entry, hash, expiry(ttl, now)))
    }

    /// [`Cache::admit`] in the common configuration (see `plain`): a request of size 1 at
    /// time 0 with no TTL, served with a sink that only takes victims out of the table (no
    /// listener to tell, no destructor to defer, no time to judge expiry by). The same
    /// request, so the same decisions, as the general path. `id` is the key's
    /// ([`Cache::new_id`]).
    #[inline(always)]
    fn admit_plain(&mut self, key: K, value: V, hash: u64, id: u64) -> Result<At, (K, V)> {
        debug_assert!(self.plain && !self.clocked && self.listener.is_none());
        self.vacant = None;
        let mut victims = Victims {
            table: &mut self.table,
            moved: &mut self.moved,
            hasher: &self.hasher,
            id,
            placed: None,
        };
        self.policy
            .serve(&Request::get(id, 1), false, Held::Absent, &mut victims);
        let placed = victims.placed;
        let Some(slot) = self.placed_slot(placed, id) else {
            return Err((key, value));
        };
        let entry = Entry {
            id,
            key,
            value,
            size: 1,
            slot,
        };
        Ok(self.hold(entry, hash, 0))
    }

    /// Puts the entry of a key the policy just admitted into the table, recording its id
    /// when it is not the key's hash (`hash`), with its expiry time (0: none; see
    /// [`expiry`]); returns its bucket.
    #[inline(always)]
    fn hold(&mut self, entry: Entry<K, V>, hash: u64, expires: u64) -> At {
        if entry.id != hash {
            self.moved.entry(hash).or_default().push(entry.id);
        }
        self.table.insert(entry, expires)
    }

    /// The slot a slotted policy holds the new object `id` in, given the slot it named
    /// (`placed`): a built-in policy held by type names the slot it admits to, so `None`
    /// from it means not kept (no lookup, which a policy without its index would answer
    /// by a scan); a lookup covers a policy of the user's own that may not name it.
    #[inline]
    fn placed_slot(&self, placed: Option<u32>, id: u64) -> Option<u32> {
        match placed {
            None if !self.policy.names_admissions() => self.policy.slot_of(id),
            placed => placed,
        }
    }

    /// `ttl`, or the default when it is 0; at most `u32::MAX` ticks (a request's TTL field).
    fn ttl_or_default(&self, ttl: u64) -> u64 {
        let ttl = if ttl > 0 { ttl } else { self.default_ttl };
        ttl.min(u64::from(u32::MAX))
    }

    /// An entry's size: the weigher's, at least 1 (a policy counts every object it holds).
    fn weigh(&self, key: &K, value: &V) -> u32 {
        self.weigher.as_ref().map_or(1, |w| w(key, value).max(1))
    }

    /// The value of `key`, computing and inserting it with `make` on a miss: one request
    /// to the policy either way, the simulator's read. A value the policy will not keep
    /// (too large) is still returned; the cache holds it only until the next call.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &V {
        match self.try_get_with(key, || Ok::<V, std::convert::Infallible>(make())) {
            Ok(value) => value,
        }
    }

    /// [`Cache::get_or_insert_with`] for a computation that can fail: an error is
    /// returned and nothing is cached (the miss is still counted).
    pub fn try_get_with<E>(
        &mut self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<&V, E> {
        self.rejected = None;
        let hash = self.hasher.hash_one(&key);
        match self.hit(hash, &key) {
            Some(Some(at)) => return Ok(&self.entry(at).value),
            Some(None) => {
                // A hit that evicted the object itself (rare; see `hit`): the policy has
                // answered this request, so the value is lent, not stored.
                let value = make()?;
                return Ok(self.rejected.insert(value));
            }
            None => {}
        }
        let value = make()?;
        let ttl = self.ttl_or_default(0);
        let now = self.now();
        match self.admit(key, value, hash, ttl, now) {
            Ok(at) => Ok(&self.entry(at).value),
            Err((_, value)) => Ok(self.rejected.insert(value)),
        }
    }

    /// Removes `key` and returns its value; `None` when absent or expired (an expired
    /// entry goes to the listener). What the policy remembers of an absent key (a ghost
    /// entry) is forgotten too, as the simulator's delete does.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let (id, at) = match self.lookup(hash, key) {
            Lookup::Held(id, at, _) => (id, at),
            vacancy => {
                // Not held, but the policy may remember it (a ghost entry, a frequency):
                // forget that too, as the simulator's delete does. The id is the one the
                // key would get now, never a held entry's.
                let id = if vacancy == Lookup::Free {
                    hash
                } else {
                    self.free_id(hash)
                };
                self.forget(id, None);
                return None;
            }
        };
        if self.table.expired(id, self.now()) {
            self.drop_expired(id, at);
            return None;
        }
        self.forget(id, self.slot_at(at));
        self.unlink(at).map(|e| e.value)
    }

    /// True when `key` is held and unexpired. Not a request: the policy learns nothing.
    pub fn contains<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.peek(key).is_some()
    }

    /// The value of `key` if held and unexpired, without counting a read or telling the
    /// policy.
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Lookup::Held(id, at, _) = self.lookup(self.hasher.hash_one(key), key) else {
            return None;
        };
        (!self.table.expired(id, self.now())).then_some(&self.entry(at).value)
    }

    /// Entries held, including expired ones not yet dropped ([`Cache::expire`] drops them).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Drops every expired entry now (cachetools' `expire()`), telling the listener;
    /// returns how many. Not needed for correctness: expired entries read as absent.
    pub fn expire(&mut self) -> usize {
        let now = self.now();
        let mut expired: Vec<u64> = (self.table.iter())
            .filter(|e| self.table.expired(e.id, now))
            .map(|e| e.id)
            .collect();
        // By id, so the listener hears of them in an order that repeats.
        expired.sort_unstable();
        for &id in &expired {
            let at = self.table.find(id).expect("an expired entry is held");
            self.drop_expired(id, at);
        }
        expired.len()
    }

    /// Hits, misses, capacity and size held.
    pub fn cache_info(&self) -> CacheInfo {
        CacheInfo {
            hits: self.hits,
            misses: self.misses,
            maxsize: self.policy.as_dyn().capacity(),
            currsize: self.policy.as_dyn().used(),
        }
    }

    /// The requests captured since the last call (empty unless the cache was built with
    /// [`Builder::capture`]): one per request the policy saw, with the key's id, size,
    /// clock time and TTL, `get` for reads and first inserts, `set` for replacing
    /// inserts, `delete` for removals. Replayed with `cachelab sim --ops` (or
    /// [`crate::sim::SimOptions::honour_ops`]) through the same policy and capacity, they
    /// give this cache's hits; at other sizes or policies, what those would have done.
    /// Write them with [`crate::trace::write_trace`].
    pub fn take_captured(&mut self) -> Vec<Request> {
        self.recorder
            .as_mut()
            .map(|r| r.take_memory())
            .unwrap_or_default()
    }

    /// Ends the capture to a file ([`Builder::capture_to`]) and writes the file; `None`
    /// when the cache was not capturing to one (or this was already called). The cache
    /// keeps working and records no more. See [`CaptureFile::finish`] for the errors.
    pub fn finish_capture(&mut self) -> Option<Result<CaptureSummary, crate::trace::Error>> {
        self.recorder
            .as_mut()
            .and_then(|r| r.take_file())
            .map(CaptureFile::finish)
    }

    /// Checks the table against the policy: the policy holds exactly the entries, each at
    /// the slot it names, and the ids moved off a shared hash are recorded; for tests
    /// after every step.
    pub fn validate(&self) -> Result<(), String> {
        self.table
            .validate(&self.policy, self.slotted, self.indexed)?;
        let moved = (self.table.iter())
            .filter(|e| e.id != self.hasher.hash_one(&e.key))
            .count();
        let recorded: usize = self.moved.values().map(Vec::len).sum();
        if moved != recorded {
            return Err(format!(
                "{moved} entries moved off their hash but {recorded} recorded"
            ));
        }
        Ok(())
    }

    /// The policy's display name, such as `ttl:ttl=0,base=s3fifo:small=0.1;threshold=1,clock=wall`.
    pub fn policy_name(&self) -> String {
        if self.timed {
            self.policy.as_dyn().name()
        } else {
            // The name the TTL layer gives the base (see `policy`), which it passes
            // every request through to until a TTL is used.
            CACHE_TTL.name_over(&self.policy.as_dyn().name())
        }
    }
}

#[cfg(test)]
mod tests;
