//! Memoisation: [`Memo`] wraps a function in a thread-safe cache, so
//! `Memo::new(f).policy("lru").capacity(128).build()?` behaves like Python's
//! `functools.lru_cache(maxsize=128)` over any policy, `.ttl(ticks)` with a clock makes it
//! `cachetools.func.ttl_cache(maxsize, ttl, timer)`, and concurrent calls with one argument
//! compute it once ([`super::sync::Cache::get_with`]). Every setting of
//! [`super::Builder`] is offered (weigher, listener, hasher, capture); the memo's cache is
//! a [`super::sync::Cache`] built with [`super::Builder::build_sync`].

use std::hash::{BuildHasher, Hash};

use foldhash::fast::RandomState;

use super::sync::Cache;
use super::{BuildError, Builder, CacheInfo, CaptureFile, CaptureSummary, Clock, RemovalCause};
use crate::request::Request;

/// Settings for a [`Memo`]; start from [`Memo::new`].
pub struct MemoBuilder<K, V, F, H = RandomState> {
    function: F,
    cache: Builder<K, V, H>,
    shards: usize,
}

impl<K, V, F, H> MemoBuilder<K, V, F, H> {
    /// The policy by spec (default `lru`).
    pub fn policy(mut self, spec: &str) -> Self {
        self.cache = self.cache.policy(spec);
        self
    }

    /// How many results to keep (default 128), or weigher units with
    /// [`MemoBuilder::weigher`].
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.cache = self.cache.capacity(capacity);
        self
    }

    /// Lock shards (default 1: the policy's decisions are then exactly the simulator's).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// A result's time to live in clock ticks (0, the default, = none), as
    /// `cachetools.func.ttl_cache(ttl=…)`: a result computed at `t` is recomputed by the
    /// first call at or after `t + ticks`; calls in between do not extend it.
    pub fn ttl(mut self, ticks: u64) -> Self {
        self.cache = self.cache.ttl(ticks);
        self
    }

    /// The clock TTLs are measured on (`ttl_cache(timer=…)`): [`super::WallClock`]
    /// milliseconds by default, or a [`super::LogicalClock`] the program advances.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.cache = self.cache.clock(clock);
        self
    }

    /// Seed for policies with random choices.
    pub fn seed(mut self, seed: u64) -> Self {
        self.cache = self.cache.seed(seed);
        self
    }

    /// Each result's size in capacity units (cachetools' `getsizeof`).
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static) -> Self {
        self.cache = self.cache.weigher(weigher);
        self
    }

    /// Called with every result that leaves on its own (evicted, expired, too large).
    pub fn eviction_listener(
        mut self,
        listener: impl FnMut(K, V, RemovalCause) + Send + 'static,
    ) -> Self {
        self.cache = self.cache.eviction_listener(listener);
        self
    }

    /// Records every request the memo's policy sees, for [`Memo::take_captured`].
    pub fn capture(mut self) -> Self {
        self.cache = self.cache.capture();
        self
    }

    /// Writes the memo's workload to `file` (oracleGeneral, sampled by key), for
    /// `cachelab sim` and `cachelab mrc`; the file is written by [`Memo::finish_capture`].
    pub fn capture_to(mut self, file: CaptureFile) -> Self {
        self.cache = self.cache.capture_to(file);
        self
    }

    /// The hasher arguments are hashed with (a fixed one makes ids, and so captures and
    /// W-TinyLFU's decisions, repeat run to run).
    pub fn hasher<H2>(self, hasher: H2) -> MemoBuilder<K, V, F, H2> {
        MemoBuilder {
            function: self.function,
            cache: self.cache.hasher(hasher),
            shards: self.shards,
        }
    }

    /// Builds the memoised function.
    pub fn build(self) -> Result<Memo<K, V, F, H>, BuildError>
    where
        F: Fn(&K) -> V,
        K: Hash + Eq + Clone + Send + 'static,
        V: Clone + Send + 'static,
        H: BuildHasher + Clone,
    {
        Ok(Memo {
            cache: self.cache.build_sync(self.shards)?,
            function: self.function,
        })
    }
}

/// A function with a cache of its results.
///
/// ```
/// use cachelab::cache::Memo;
/// let square = Memo::new(|x: &u64| x * x).policy("s3fifo").capacity(128).build()?;
/// assert_eq!(square.call(&12), 144);
/// assert_eq!(square.call(&12), 144);
/// assert_eq!((square.cache_info().hits, square.cache_info().misses), (1, 1));
/// # Ok::<(), cachelab::cache::BuildError>(())
/// ```
///
/// The TTL form, with time counted in calls (`ttl_cache(maxsize=128, ttl=3, timer=…)`):
///
/// ```
/// use cachelab::cache::{LogicalClock, Memo};
/// let calls = LogicalClock::new();
/// let double = Memo::new(|x: &u64| x * 2).capacity(128).ttl(3).clock(calls.clone()).build()?;
/// for _ in 0..4 {
///     assert_eq!(double.call(&5), 10);
///     calls.tick();
/// }
/// // Computed at t=0, read at t=1 and 2, expired at t=3 (0 + 3 <= 3) and computed again.
/// assert_eq!((double.cache_info().hits, double.cache_info().misses), (2, 2));
/// # Ok::<(), cachelab::cache::BuildError>(())
/// ```
pub struct Memo<K, V, F, H = RandomState> {
    cache: Cache<K, V, H>,
    function: F,
}

impl Memo<(), (), ()> {
    /// Starts memoising `function` (defaults: `lru`, 128 results, one shard, no TTL).
    // `Memo::new(f).policy(…).capacity(…).build()` reads as the issue asks; the builder
    // is what `new` can return before the policy is known to build.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<K, V, F>(function: F) -> MemoBuilder<K, V, F>
    where
        F: Fn(&K) -> V,
    {
        MemoBuilder {
            function,
            cache: Builder::new().capacity(128),
            shards: 1,
        }
    }
}

impl<K, V, F, H> Memo<K, V, F, H>
where
    F: Fn(&K) -> V,
    K: Hash + Eq + Clone + Send,
    V: Clone + Send,
    H: BuildHasher,
{
    /// `function(arg)`, from the cache when it holds it (unexpired).
    pub fn call(&self, arg: &K) -> V {
        self.cache.get_with(arg.clone(), || (self.function)(arg))
    }

    /// Hits, misses, capacity and results held. A call that waited for another thread's
    /// computation of the same argument counts as a miss (it did not find the result).
    pub fn cache_info(&self) -> CacheInfo {
        self.cache.cache_info()
    }

    /// The requests captured since the last call ([`MemoBuilder::capture`]); see
    /// [`Cache::take_captured`].
    pub fn take_captured(&self) -> Vec<Request> {
        self.cache.take_captured()
    }

    /// Ends the capture to a file ([`MemoBuilder::capture_to`]) and writes it; see
    /// [`Cache::finish_capture`].
    pub fn finish_capture(&self) -> Option<Result<CaptureSummary, crate::trace::Error>> {
        self.cache.finish_capture()
    }

    /// The cache the results are kept in (to read or drop a result, or see which shard
    /// holds an argument).
    pub fn cache(&self) -> &Cache<K, V, H> {
        &self.cache
    }
}
