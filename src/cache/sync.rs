//! A thread-safe cache: [`Cache`] splits keys over shards, each a [`super::Cache`] behind
//! its own lock (quick-cache's `sync.rs` shape), and [`Cache::get_with`] computes a missing
//! value once however many threads miss it at the same time (moka's `get_with`).
//!
//! Each shard runs its own policy over `capacity / shards` units, so decisions are the
//! simulator's per shard, not for the cache as a whole; with one shard they are exactly
//! the simulator's.

use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use hashbrown::{DefaultHashBuilder, HashMap};

use super::{BuildError, CacheInfo};

/// One shard: its cache and the computations in flight for its keys.
struct Shard<K, V> {
    cache: super::Cache<K, V>,
    /// A key being computed by one thread; others wait on the same cell.
    in_flight: HashMap<K, Arc<OnceLock<V>>>,
}

/// A cache shared between threads; values are cloned out.
pub struct Cache<K, V, H = DefaultHashBuilder> {
    shards: Box<[Mutex<Shard<K, V>>]>,
    /// Picks a key's shard. A fast randomly seeded hash (foldhash, hashbrown's default)
    /// rather than SipHash: keys forced into one shard only cost parallelism, and each
    /// shard's own table hashes with its cache's hasher (SipHash by default).
    hasher: H,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Clone + Send,
    V: Clone + Send,
{
    /// A cache of `capacity` entries over the policy `spec` (`lru`, `s3fifo`, …) in
    /// `shards` shards (at least 1; each gets an equal part of the capacity, the first
    /// ones one more when it does not divide).
    pub fn new(spec: &str, capacity: u64, shards: usize) -> Result<Self, BuildError> {
        Cache::with_shards(shards, capacity, |i, part| {
            super::Cache::builder()
                .policy(spec)
                .capacity(part)
                .seed(i as u64)
                .build()
        })
    }

    /// A cache of `shards` shards, each built by `build(shard index, its part of
    /// `capacity`)` with every setting of [`super::Builder`] (weigher, TTL, a shared
    /// [`super::LogicalClock`], listener):
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
        let n = shards.max(1) as u64;
        if capacity < n {
            return Err(BuildError::ZeroCapacity);
        }
        let shards = (0..n)
            .map(|i| {
                let cache = build(i as usize, capacity / n + u64::from(i < capacity % n))?;
                Ok(Mutex::new(Shard {
                    cache,
                    in_flight: HashMap::new(),
                }))
            })
            .collect::<Result<Vec<_>, BuildError>>()?;
        Ok(Cache {
            shards: shards.into_boxed_slice(),
            hasher: DefaultHashBuilder::default(),
        })
    }
}

impl<K, V, H> Cache<K, V, H>
where
    K: Hash + Eq + Clone + Send,
    V: Clone + Send,
    H: BuildHasher,
{
    #[inline]
    fn shard(&self, key: &K) -> MutexGuard<'_, Shard<K, V>> {
        let hash = self.hasher.hash_one(key);
        let index = ((hash >> 32) % self.shards.len() as u64) as usize;
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
        f: impl Fn(&Shard<K, V>) -> T + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        self.shards
            .iter()
            .map(move |s| f(&s.lock().unwrap_or_else(PoisonError::into_inner)))
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
