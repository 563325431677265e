//! A thread-safe cache: [`Cache`] splits keys over shards, each a [`super::Cache`] behind
//! its own lock (quick-cache's `sync.rs` shape), and [`Cache::get_with`] computes a missing
//! value once however many threads miss it at the same time (moka's `get_with`).
//!
//! Build one with [`super::Builder::build_sync`], which gives every shard the full
//! builder (weigher, TTL and clock, listener, hasher and seed, capture), or with
//! [`Cache::new`] for a policy and a capacity alone.
//!
//! Each shard runs its own policy over `capacity / shards` units, so decisions are the
//! simulator's per shard, not for the cache as a whole; with one shard they are exactly
//! the simulator's. A capture merges the shards' requests into one trace (see
//! [`Cache::take_captured`]).

use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use foldhash::fast::{FixedState, RandomState};
use hashbrown::HashMap;

use super::capture::merge_in_order;
use super::{BuildError, CacheInfo, CaptureFile, CaptureSummary};
use crate::request::Request;

/// One shard: its cache and the computations in flight for its keys. Aligned to two
/// cache lines (the unit adjacent-line prefetch pulls in), so that no line holds two
/// shards' data: one shard's lock and counters, written on every request, then never
/// slow down a thread working in the next shard (false sharing).
#[repr(align(128))]
struct Shard<K, V, H> {
    cache: super::Cache<K, V, H>,
    /// A key being computed by one thread; others wait on the same cell.
    in_flight: HashMap<K, Arc<OnceLock<V>>>,
}

/// A cache shared between threads; values are cloned out.
pub struct Cache<K, V, H = RandomState> {
    shards: Box<[Mutex<Shard<K, V, H>>]>,
    /// Picks a key's shard: foldhash with its own seed rather than the key hasher (which
    /// may be a slower one the user chose), since keys forced into one shard only cost
    /// parallelism while each shard's own lookups hash with the key hasher. Its seed comes from the key hasher, so a
    /// fixed key hasher puts every key in the same shard run after run.
    shard_hasher: FixedState,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// A cache of `capacity` entries over the policy `spec` (`lru`, `s3fifo`, …) in
    /// `shards` shards (at least 1; each gets an equal part of the capacity, the first
    /// ones one more when it does not divide).
    /// Shard `i` gets seed `i`. The same as `Cache::builder().policy(spec)
    /// .capacity(capacity).build_sync(shards)`, which takes every other setting too.
    /// [`default_shards`] suggests a count for the machine.
    pub fn new(spec: &str, capacity: u64, shards: usize) -> Result<Self, BuildError> {
        super::Cache::builder()
            .policy(spec)
            .capacity(capacity)
            .build_sync(shards)
    }

    /// A cache of `shards` shards, each built by `build(shard index, its part of
    /// `capacity`)`, for shards that differ (otherwise [`super::Builder::build_sync`] is
    /// shorter and shares one hasher, so a key's id does not depend on its shard). A
    /// shared clock is given as a clone of one [`super::LogicalClock`]; a shard that
    /// captures on its own is refused ([`BuildError::ShardCaptures`]: its records could not
    /// be merged with the others').
    ///
    /// ```
    /// use cachelab::cache::{Cache, LogicalClock, sync};
    /// let clock = LogicalClock::new();
    /// let cache = sync::Cache::with_shards(4, 1000, |_, part| {
    ///     Cache::builder().policy("s3fifo").capacity(part).ttl(10).clock(clock.clone()).build()
    /// })?;
    /// cache.insert("k", 1);
    /// clock.advance(10);
    /// assert_eq!(cache.get(&"k"), None);
    /// # Ok::<(), cachelab::cache::BuildError>(())
    /// ```
    pub fn with_shards(
        shards: usize,
        capacity: u64,
        build: impl Fn(usize, u64) -> Result<super::Cache<K, V>, BuildError>,
    ) -> Result<Self, BuildError> {
        let caches = shard_parts(capacity, shards)?
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let cache = build(i, part)?;
                if cache.recorder.is_some() {
                    return Err(BuildError::ShardCaptures);
                }
                Ok(cache)
            })
            .collect::<Result<Vec<_>, BuildError>>()?;
        Ok(Cache::from_shards(caches, &RandomState::default()))
    }
}

/// Shards per core in [`default_shards`].
const SHARDS_PER_CORE: usize = 16;
/// The fewest capacity units [`default_shards`] gives a shard (quick-cache's floor).
const MIN_SHARD_CAPACITY: u64 = 32;

/// A shard count for a [`Cache`] of `capacity` units on this machine: 16 per core the
/// process may use, halved while a shard would get fewer than 32 units (at least 1).
///
/// Many, because a shard's lock is exclusive even for a hit (the policy learns from every
/// read): two threads wait on each other only when they meet in one shard, so the chance
/// of that, not the lock's cost, is what the count sets. On the `local_caches` bench's
/// Zipf(0.9) stream on two threads of a 2-core machine, 32 shards rather than 8 ran SIEVE
/// about 30% faster at 10,000 entries (see the README), and moved the hit ratio by less
/// than half a point. The floor keeps small caches whole enough for their policy: a
/// shard of a few entries decides poorly.
///
/// ```
/// use cachelab::cache::{Cache, sync};
/// let cache = Cache::builder()
///     .policy("sieve")
///     .capacity(10_000)
///     .build_sync(sync::default_shards(10_000))?;
/// cache.insert(1u64, "one");
/// # Ok::<(), cachelab::cache::BuildError>(())
/// ```
pub fn default_shards(capacity: u64) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    shards_for(capacity, cores)
}

/// [`default_shards`] for `cores` cores.
fn shards_for(capacity: u64, cores: usize) -> usize {
    let mut shards = cores.max(1).saturating_mul(SHARDS_PER_CORE);
    while shards > 1 && capacity / (shards as u64) < MIN_SHARD_CAPACITY {
        shards /= 2;
    }
    shards
}

/// Each shard's part of `capacity` over `shards` shards (at least 1): equal parts, the
/// first ones one unit more when it does not divide. Refused when a shard would get 0.
pub(super) fn shard_parts(capacity: u64, shards: usize) -> Result<Vec<u64>, BuildError> {
    let n = shards.max(1);
    if capacity == 0 {
        return Err(BuildError::ZeroCapacity);
    }
    if capacity < n as u64 {
        return Err(BuildError::TooManyShards {
            capacity,
            shards: n,
        });
    }
    let (each, extra) = (capacity / n as u64, capacity % n as u64);
    Ok((0..n as u64).map(|i| each + u64::from(i < extra)).collect())
}

impl<K, V, H> Cache<K, V, H> {
    /// The cache over built shards; `hasher` (the key hasher) seeds the shard picker.
    pub(super) fn from_shards(
        caches: Vec<super::Cache<K, V, H>>,
        hasher: &impl BuildHasher,
    ) -> Self {
        let shards = caches
            .into_iter()
            .map(|cache| {
                Mutex::new(Shard {
                    cache,
                    in_flight: HashMap::new(),
                })
            })
            .collect();
        Cache {
            shards,
            shard_hasher: FixedState::with_seed(hasher.hash_one("cachelab shard seed")),
        }
    }

    /// How many shards the keys are split over.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }
}

impl<K, V, H> Cache<K, V, H>
where
    K: Hash + Eq + Clone + Send,
    V: Clone + Send,
    H: BuildHasher,
{
    /// The index (from 0) of the shard that holds `key`: to split a captured trace into the
    /// shards' own request streams, or to see how evenly keys spread.
    #[inline]
    pub fn shard_index(&self, key: &K) -> usize {
        let hash = self.shard_hasher.hash_one(key);
        // The top 32 bits scaled onto 0..shards (a multiply and a shift, not a division;
        // Lemire's "fast range"): as even as a remainder for any shard count.
        (((hash >> 32) * self.shards.len() as u64) >> 32) as usize
    }

    #[inline]
    fn shard(&self, key: &K) -> MutexGuard<'_, Shard<K, V, H>> {
        let index = self.shard_index(key);
        // A panic in another thread's listener or weigher leaves the shard consistent
        // (every step completes before user code runs), so a poisoned lock is used as is.
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A read: the value when held and unexpired.
    pub fn get(&self, key: &K) -> Option<V> {
        self.shard(key).cache.get(key).cloned()
    }

    /// Stores `value`; returns the value it replaces.
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        self.shard(&key).cache.insert(key, value)
    }

    /// Stores `value` expiring `ttl` ticks from now (0 = the default TTL), as
    /// [`super::Cache::insert_with_ttl`] (cachetools' `TLRUCache`); returns the value it
    /// replaces.
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: u64) -> Option<V> {
        self.shard(&key).cache.insert_with_ttl(key, value, ttl)
    }

    /// Removes `key`; returns its value.
    pub fn remove(&self, key: &K) -> Option<V> {
        self.shard(key).cache.remove(key)
    }

    /// True when `key` is held and unexpired (not a request).
    pub fn contains(&self, key: &K) -> bool {
        self.shard(key).cache.contains(key)
    }

    /// Entries held over all shards.
    pub fn len(&self) -> usize {
        self.each(|s| s.cache.len()).sum()
    }

    /// True when no shard holds an entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hits, misses, capacity and size summed over the shards.
    pub fn cache_info(&self) -> CacheInfo {
        self.each(|s| s.cache.cache_info())
            .fold(CacheInfo::default(), |a, b| CacheInfo {
                hits: a.hits + b.hits,
                misses: a.misses + b.misses,
                maxsize: a.maxsize + b.maxsize,
                currsize: a.currsize + b.currsize,
            })
    }

    fn each<'a, T: 'a>(
        &'a self,
        f: impl Fn(&Shard<K, V, H>) -> T + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        self.shards
            .iter()
            .map(move |s| f(&s.lock().unwrap_or_else(PoisonError::into_inner)))
    }

    /// Every shard locked, in index order (the one order any caller takes more than one
    /// shard in, so no two callers wait on each other): a moment no request is in flight.
    fn lock_all(&self) -> Vec<MutexGuard<'_, Shard<K, V, H>>> {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner))
            .collect()
    }

    /// The requests captured since the last call, from every shard as one stream (empty
    /// unless built with [`super::Builder::capture`]): what [`super::Cache::take_captured`]
    /// gives for one cache, with the shards' requests merged by clock time, and requests of
    /// one tick in the order the shards took them. Each shard's own requests keep their
    /// order, so the requests of the keys [`Cache::shard_index`] puts in shard `i`,
    /// replayed through the policy at that shard's capacity (`capacity / shards`), give
    /// that shard's hits; with one shard the whole stream gives the cache's.
    pub fn take_captured(&self) -> Vec<Request> {
        let mut shards = self.lock_all();
        let parts = shards
            .iter_mut()
            .map(|shard| shard.cache.take_captured())
            .collect();
        merge_in_order(parts)
    }

    /// Ends the capture to a file ([`super::Builder::capture_to`]) and writes it: one
    /// oracleGeneral trace of every shard's reads and inserts, merged as
    /// [`Cache::take_captured`] merges them, with next accesses computed over the merged
    /// trace. `None` when the cache was not capturing to a file (or this was already
    /// called). See [`CaptureFile::finish`] for the errors.
    pub fn finish_capture(&self) -> Option<Result<CaptureSummary, crate::trace::Error>> {
        let parts: Vec<CaptureFile> = {
            let mut shards = self.lock_all();
            shards
                .iter_mut()
                .filter_map(|shard| shard.cache.recorder.as_mut()?.take_file())
                .collect()
        };
        (!parts.is_empty()).then(|| CaptureFile::finish_parts(parts))
    }

    /// The value of `key`, computed by `make` on a miss. Threads that miss the same key
    /// at the same time wait for one computation (single-flight): `make` runs once and
    /// every caller gets its value. The shard's lock is not held while `make` runs.
    pub fn get_with(&self, key: K, make: impl FnOnce() -> V) -> V {
        let cell = {
            let mut shard = self.shard(&key);
            if let Some(value) = shard.cache.get(&key) {
                return value.clone();
            }
            Arc::clone(shard.in_flight.entry(key.clone()).or_default())
        };
        let mut computed = false;
        let value = cell
            .get_or_init(|| {
                computed = true;
                make()
            })
            .clone();
        if computed {
            let mut shard = self.shard(&key);
            shard.in_flight.remove(&key);
            shard.cache.insert(key, value.clone());
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::shards_for;

    #[test]
    fn default_shards_keep_a_shard_at_32_units_or_more() {
        // Two cores: 32 shards, while each gets at least 32 units.
        assert_eq!(shards_for(10_000, 2), 32);
        assert_eq!(shards_for(1024, 2), 32);
        // 1023 / 32 = 31 units: halved to 16 shards of 63 or 64.
        assert_eq!(shards_for(1023, 2), 16);
        assert_eq!(shards_for(1000, 2), 16);
        // 100 units: 16 shards of 6, 8 of 12, 4 of 25, then 2 of 50.
        assert_eq!(shards_for(100, 2), 2);
        assert_eq!(shards_for(63, 2), 1);
        assert_eq!(shards_for(0, 2), 1);
        // One core, and a machine that reports none.
        assert_eq!(shards_for(10_000, 1), 16);
        assert_eq!(shards_for(10_000, 0), 16);
        assert_eq!(shards_for(u64::MAX, 64), 1024);
    }
}
