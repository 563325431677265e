//! In-process caches over any eviction policy: [`Cache<K, V>`] keeps values, the policy
//! keeps only keys and sizes and decides, exactly as it does in the simulator.
//!
//! Start from [`Cache::builder`]. A cache owns three things: a table from keys to values
//! (with each key's internal id), a [`Policy`] over those ids (any registered spec such as
//! `s3fifo`, or a policy of your own), and a [`Clock`] for TTLs. Every read or insert is one
//! request to the policy; the policy names what it evicts ([`Policy::get_evicting`]) and
//! the cache drops those values, handing them to the eviction listener. Because the
//! policy object is the simulator's own, a cache makes the same hit, miss and eviction
//! decisions as `cachelab sim` on the same stream of requests (tested for every policy).
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
//!   entries and frequency sketches recognise it). Lookups go through the cache's own
//!   table, which compares keys, never through the hash alone: two keys with one hash get
//!   two ids. The default hasher is randomly seeded (as `std`'s maps are, against
//!   flooding); give [`Builder::hasher`] a fixed one for decisions that repeat run to run
//!   (W-TinyLFU's sketch and random eviction see the ids).
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
mod memo;
pub mod sync;

pub use builder::{BuildError, Builder};
use capture::Recorder;
pub use capture::{CaptureFile, CaptureSummary};
pub use clock::{Clock, LogicalClock, WallClock};
pub use memo::{Memo, MemoBuilder};

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, RandomState};

use hashbrown::{HashMap, HashTable};

use crate::policy::Policy;
use crate::policy::ttl::{Ttl, TtlClock, TtlParams};
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
    /// The cache hasher's hash of `key` (the table is keyed by it).
    hash: u64,
    /// Size in capacity units, as the policy holds it.
    size: u32,
    /// Expiry time in clock ticks, if the entry has a TTL.
    expires: Option<u64>,
}

impl<K, V> Entry<K, V> {
    fn expired(&self, now: u64) -> bool {
        self.expires.is_some_and(|at| at <= now)
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
    policy: Box<dyn Policy>,
    /// True once the policy is wrapped in the TTL layer.
    timed: bool,
    /// True when requests need the clock's time: TTLs are in use or requests are captured.
    /// Otherwise no decision depends on the time, and the clock is not read.
    clocked: bool,
    hasher: H,
    /// Held entries, found by the key's hash and then compared by key, or by id.
    entries: HashTable<Entry<K, V>>,
    /// The key hash of each held entry whose id is not its hash (two keys with one hash:
    /// the second took the next free id). Empty unless hashes collide.
    moved: HashMap<u64, u64>,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    clock: Box<dyn Clock>,
    /// TTL of an insert that gives none, in ticks (0 = none).
    default_ttl: u64,
    hits: u64,
    misses: u64,
    /// Ids the policy named during the last request.
    dropped: Vec<u64>,
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
    /// The bucket of `key`'s entry (of hash `hash`), expired or not.
    #[inline]
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.entries
            .find_bucket_index(hash, |e| e.key.borrow() == key)
    }

    /// The entry in `bucket`, found during this call (no insert or removal since).
    #[inline]
    fn slot(&self, bucket: usize) -> &Entry<K, V> {
        self.entries
            .get_bucket(bucket)
            .expect("a bucket found in this call holds its entry")
    }

    /// The key hash of the entry with id `id` (the id itself unless hashes collided).
    #[inline]
    fn hash_of_id(&self, id: u64) -> u64 {
        if self.moved.is_empty() {
            id
        } else {
            self.moved.get(&id).copied().unwrap_or(id)
        }
    }

    /// The bucket of the entry with id `id`.
    fn find_id(&self, id: u64) -> Option<usize> {
        self.entries
            .find_bucket_index(self.hash_of_id(id), |e| e.id == id)
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
        // A one-object placeholder stands in while the base moves under the layer.
        let base = std::mem::replace(&mut self.policy, Box::new(crate::policy::lru::Lru::new(1)));
        self.policy = Box::new(Ttl::with_params(base, CACHE_TTL));
        self.timed = true;
        self.clocked = true;
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

    /// Sends `req` to the policy as a read (`write` false) or a write, collecting the ids
    /// it drops into `self.dropped`.
    #[inline]
    fn ask(&mut self, req: &Request, write: bool) {
        debug_assert!(req.ttl == 0 || self.timed, "start_ttls before a TTL");
        if let Some(recorder) = self.recorder.as_mut() {
            recorder.record(req, if write { Op::Set } else { Op::Get });
        }
        let dropped = &mut self.dropped;
        let mut sink = |id: u64, _size: u32| dropped.push(id);
        if write {
            self.policy.set_evicting(req, &mut sink);
        } else {
            self.policy.get_evicting(req, &mut sink);
        }
    }

    /// Drops the entries the policy named, telling the listener; `replaced` is the id a
    /// replacing insert was for (dropped when its new size no longer fits: rejected).
    #[inline]
    fn settle(&mut self, now: u64, replaced: Option<u64>) {
        if self.dropped.is_empty() {
            return;
        }
        let mut dropped = std::mem::take(&mut self.dropped);
        for id in dropped.drain(..) {
            if let Some(entry) = self.unlink(id) {
                let cause = if Some(id) == replaced {
                    RemovalCause::Rejected
                } else if entry.expired(now) {
                    RemovalCause::Expired
                } else {
                    RemovalCause::Evicted
                };
                self.notify(entry.key, entry.value, cause);
            }
        }
        self.dropped = dropped;
    }

    fn notify(&mut self, key: K, value: V, cause: RemovalCause) {
        if let Some(listener) = self.listener.as_mut() {
            listener(key, value, cause);
        }
    }

    /// Removes `id` from the table (not from the policy).
    fn unlink(&mut self, id: u64) -> Option<Entry<K, V>> {
        let hash = self.hash_of_id(id);
        let (entry, _) = self.entries.find_entry(hash, |e| e.id == id).ok()?.remove();
        if entry.id != entry.hash {
            self.moved.remove(&entry.id);
        }
        Some(entry)
    }

    /// Deletes `id` from the policy, capturing the delete.
    fn forget(&mut self, id: u64) {
        let now = self.now();
        if let Some(recorder) = self.recorder.as_mut() {
            let request = Request {
                time: now,
                op: Op::Delete,
                ..Request::get(id, 0)
            };
            recorder.record(&request, Op::Delete);
        }
        self.policy.delete(id);
    }

    /// Drops an expired entry from the policy and the table, telling the listener.
    fn drop_expired(&mut self, id: u64) {
        self.forget(id);
        if let Some(entry) = self.unlink(id) {
            self.notify(entry.key, entry.value, RemovalCause::Expired);
        }
    }

    /// A free id for a key of hash `hash`: the hash itself unless a held entry has it.
    fn free_id(&self, hash: u64) -> u64 {
        let mut id = hash;
        while self.find_id(id).is_some() {
            id = id.wrapping_add(1);
        }
        id
    }

    /// Reads `key`: its value when held and unexpired (a hit), else `None` (a miss; an
    /// expired entry is dropped and goes to the listener).
    pub fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let (id, bucket) = self.hit(hash, key)?;
        self.held(id, bucket).map(|e| &e.value)
    }

    /// The entry `id` if the policy left it in `bucket` (where `hit` found it).
    #[inline]
    fn held(&self, id: u64, bucket: usize) -> Option<&Entry<K, V>> {
        self.entries.get_bucket(bucket).filter(|e| e.id == id)
    }

    /// The read half of `get`: counts, asks the policy, returns the id and bucket on a hit.
    #[inline]
    fn hit<Q>(&mut self, hash: u64, key: &Q) -> Option<(u64, usize)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let Some(bucket) = self.find(hash, key) else {
            self.misses += 1;
            return None;
        };
        let now = self.now();
        let entry = self.slot(bucket);
        let (id, size) = (entry.id, entry.size);
        if entry.expired(now) {
            self.drop_expired(id);
            self.misses += 1;
            return None;
        }
        self.hits += 1;
        let req = self.request(id, size, 0, now);
        self.ask(&req, false);
        // Only removals happen here, and a removal moves no other entry: `bucket` stays
        // the entry's unless the policy dropped the entry itself.
        self.settle(now, None);
        // Some policies (SLRU, W-TinyLFU) can evict on a hit, in rare cases the hit
        // object itself; it is then a hit whose value is gone, as in the simulator.
        Some((id, bucket))
    }

    /// Stores `value` under `key` with the cache's default TTL; returns the value it
    /// replaces, if any. Replacing counts as a write to the policy (it renews the TTL).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.insert_with_ttl(key, value, self.default_ttl)
    }

    /// Stores `value` under `key`, expiring `ttl` ticks from now (0 = the default TTL; no
    /// expiry when that is 0 too), as cachetools' `TLRUCache` gives each entry its own
    /// time to use. Returns the value it replaces, if any.
    pub fn insert_with_ttl(&mut self, key: K, value: V, ttl: u64) -> Option<V> {
        let ttl = self.ttl_or_default(ttl);
        if ttl > 0 {
            self.start_ttls();
        }
        let now = self.now();
        let hash = self.hasher.hash_one(&key);
        let found = self.find(hash, &key).map(|b| (b, self.slot(b)));
        match found.map(|(b, e)| (b, e.id, e.expired(now))) {
            Some((bucket, id, false)) => {
                let size = self.weigh(&key, &value);
                let req = self.request(id, size, ttl, now);
                let entry = self.entries.get_bucket_mut(bucket).expect("found above");
                let old = std::mem::replace(&mut entry.value, value);
                entry.size = size;
                entry.expires = (ttl > 0).then(|| now.saturating_add(ttl));
                self.ask(&req, true);
                self.settle(now, Some(id));
                Some(old)
            }
            found => {
                if let Some((_, id, _)) = found {
                    self.drop_expired(id);
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
    fn admit(&mut self, key: K, value: V, hash: u64, ttl: u64, now: u64) -> Result<usize, (K, V)> {
        let size = self.weigh(&key, &value);
        let id = self.free_id(hash);
        let req = self.request(id, size, ttl, now);
        self.ask(&req, false);
        self.settle(now, None);
        if !self.policy.contains(id) {
            return Err((key, value));
        }
        if id != hash {
            self.moved.insert(id, hash);
        }
        let entry = Entry {
            id,
            key,
            value,
            hash,
            size,
            expires: (ttl > 0).then(|| now.saturating_add(ttl)),
        };
        Ok(self
            .entries
            .insert_unique(hash, entry, |e| e.hash)
            .bucket_index())
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
            Some((id, bucket)) if self.held(id, bucket).is_some() => {
                return Ok(&self.slot(bucket).value);
            }
            Some(_) => {
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
            Ok(bucket) => Ok(&self.slot(bucket).value),
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
        let Some(bucket) = self.find(hash, key) else {
            // Not held, but the policy may remember it (a ghost entry, a frequency):
            // forget that too, as the simulator's delete does. The id is the one the key
            // would get now, never a held entry's.
            let id = self.free_id(hash);
            self.forget(id);
            return None;
        };
        let now = self.now();
        let entry = self.slot(bucket);
        let (id, expired) = (entry.id, entry.expired(now));
        if expired {
            self.drop_expired(id);
            return None;
        }
        self.forget(id);
        self.unlink(id).map(|e| e.value)
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
        let entry = self.slot(self.find(self.hasher.hash_one(key), key)?);
        (!entry.expired(self.now())).then_some(&entry.value)
    }

    /// Entries held, including expired ones not yet dropped ([`Cache::expire`] drops them).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every expired entry now (cachetools' `expire()`), telling the listener;
    /// returns how many. Not needed for correctness: expired entries read as absent.
    pub fn expire(&mut self) -> usize {
        let now = self.now();
        let mut expired: Vec<u64> = self
            .entries
            .iter()
            .filter(|e| e.expired(now))
            .map(|e| e.id)
            .collect();
        expired.sort_unstable();
        for &id in &expired {
            self.drop_expired(id);
        }
        expired.len()
    }

    /// Hits, misses, capacity and size held.
    pub fn cache_info(&self) -> CacheInfo {
        CacheInfo {
            hits: self.hits,
            misses: self.misses,
            maxsize: self.policy.capacity(),
            currsize: self.policy.used(),
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

    /// The policy's display name, such as `ttl:ttl=0,base=s3fifo:small=0.1;threshold=1,clock=wall`.
    pub fn policy_name(&self) -> String {
        if self.timed {
            self.policy.name()
        } else {
            // The name the TTL layer gives the base (see `policy`), which it passes
            // every request through to until a TTL is used.
            CACHE_TTL.name_over(&self.policy.name())
        }
    }
}

#[cfg(test)]
mod tests;
