//! The typed builder for [`Cache`] (moka's `CacheBuilder` shape): every setting has a
//! default, and `build` checks the policy once so a cache never fails later.
//! [`Builder::build_sync`] makes a thread-safe [`super::sync::Cache`] from the same
//! settings, one cache per shard.

use std::hash::{BuildHasher, Hash};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use foldhash::fast::RandomState;
use hashbrown::HashMap;

use super::capture::Recorder;
use super::{
    Cache, CaptureFile, Clock, Engine, Listener, RemovalCause, Table, WallClock, Weigher, sync,
};
use crate::policy::builtin::POLICIES;
use crate::policy::{Policy, PolicyKind, PolicySpec, SpecError};

/// Why a cache could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The policy spec does not parse or names no registered policy.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The spec names a policy a cache cannot run: a layer (give `ttl` with
    /// [`Builder::ttl`]), a model, or an offline policy that needs the future (`belady`).
    #[error(
        "{name} cannot run a cache: a cache needs an online eviction policy (not a layer such as ttl — use .ttl(…) — a model, or belady)"
    )]
    NotOnline {
        /// The policy name.
        name: String,
    },
    /// The policy does not name what it evicts ([`Policy::names_evictions`]), so the
    /// cache could not drop the values.
    #[error(
        "{name} does not name the keys it evicts (Policy::names_evictions is false), so a cache cannot drop their values"
    )]
    Silent {
        /// The policy's display name.
        name: String,
    },
    /// A capacity of 0 would keep nothing.
    #[error("a cache needs a capacity of at least 1")]
    ZeroCapacity,
    /// A sync cache's capacity is split over its shards, each of which needs at least 1.
    #[error(
        "a capacity of {capacity} cannot be split over {shards} shards: each shard needs at least 1 (use fewer shards or a larger capacity)"
    )]
    TooManyShards {
        /// The capacity asked for.
        capacity: u64,
        /// The shards asked for.
        shards: usize,
    },
    /// A shard given to [`super::sync::Cache::with_shards`] captures on its own; its
    /// records could not be merged with the other shards' into one trace.
    #[error(
        "a shard built for sync::Cache::with_shards captures its requests on its own; give .capture() or .capture_to(…) to the builder and call build_sync(shards), which merges every shard's records into one trace"
    )]
    ShardCaptures,
    /// The capture file could not be split over the shards (no temporary file could be
    /// made); the error names the file.
    #[error(transparent)]
    Capture(Box<crate::trace::Error>),
}

/// One weigher for every shard of a sync cache.
type SharedWeigher<K, V> = Arc<dyn Fn(&K, &V) -> u32 + Send + Sync>;

/// Where the policy comes from.
enum Source {
    Spec(String),
    Factory(Box<dyn FnMut(u64) -> Box<dyn Policy>>),
}

impl Source {
    /// The checked base policy of `capacity` (one shard's part for a sync cache).
    fn build(&mut self, capacity: u64, seed: u64) -> Result<Box<dyn Policy>, BuildError> {
        let base = match self {
            Source::Spec(text) => {
                let spec: PolicySpec = text.parse()?;
                let info = POLICIES.lookup(&spec.name)?;
                if info.kind != PolicyKind::Eviction || info.needs_next_access {
                    return Err(BuildError::NotOnline { name: spec.name });
                }
                POLICIES.build(&spec, capacity, seed)?
            }
            Source::Factory(build) => build(capacity),
        };
        if !base.names_evictions() {
            return Err(BuildError::Silent { name: base.name() });
        }
        Ok(base)
    }
}

/// Settings for a [`Cache`]; start from [`Cache::builder`].
pub struct Builder<K, V, H = RandomState> {
    source: Source,
    capacity: u64,
    seed: u64,
    ttl: u64,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    clock: Option<Box<dyn Clock>>,
    capture: bool,
    capture_file: Option<CaptureFile>,
    hasher: H,
}

impl<K, V> Builder<K, V> {
    /// The defaults: `lru`, 10 000 entries, no TTL, wall clock, a randomly seeded hasher.
    pub fn new() -> Builder<K, V> {
        Builder {
            source: Source::Spec("lru".to_string()),
            capacity: 10_000,
            seed: 0,
            ttl: 0,
            weigher: None,
            listener: None,
            clock: None,
            capture: false,
            capture_file: None,
            hasher: RandomState::default(),
        }
    }
}

impl<K, V> Default for Builder<K, V> {
    fn default() -> Self {
        Builder::new()
    }
}

impl<K, V, H> Builder<K, V, H> {
    /// The policy by spec, as the simulator names it: `lru`, `s3fifo:small=0.2`, …
    pub fn policy(mut self, spec: &str) -> Self {
        self.source = Source::Spec(spec.to_string());
        self
    }

    /// The policy built by `build(capacity)`: typed parameters
    /// (`|c| Box::new(S3Fifo::with_params(c, params))`) or a policy of your own, which
    /// must name its evictions. [`Builder::build_sync`] calls it once per shard, with the
    /// shard's part of the capacity.
    pub fn policy_with(mut self, build: impl FnMut(u64) -> Box<dyn Policy> + 'static) -> Self {
        self.source = Source::Factory(Box::new(build));
        self
    }

    /// Capacity: entries, or weigher units when a weigher is set.
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// Seed for policies with random choices (`random`); shard `i` of a sync cache gets
    /// `seed + i`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Each entry's size in capacity units (cachetools' `getsizeof`); 0 counts as 1, and
    /// an entry larger than the capacity (a shard's part, in a sync cache) is never kept.
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u32 + Send + Sync + 'static) -> Self {
        self.weigher = Some(Box::new(weigher));
        self
    }

    /// Called with every entry that leaves on its own: evicted, expired, or rejected
    /// (too large). Not called for [`Cache::remove`] or for a value an insert replaces
    /// (both hand the value back). In a sync cache every shard calls this one listener
    /// (one call at a time), with the shard's lock held: it must not use the cache.
    pub fn eviction_listener(
        mut self,
        listener: impl FnMut(K, V, RemovalCause) + Send + 'static,
    ) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    /// Default TTL in clock ticks (milliseconds on the default wall clock; see
    /// [`WallClock::ticks`]); 0 = entries expire only with their own TTL.
    pub fn ttl(mut self, ticks: u64) -> Self {
        self.ttl = ticks;
        self
    }

    /// The clock TTLs are measured on: [`WallClock`] (the default) or a
    /// [`super::LogicalClock`] the program advances. A sync cache's shards share it.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Box::new(clock));
        self
    }

    /// Records every request the policy sees, for [`Cache::take_captured`]: the cache's
    /// workload as a trace, to replay at other sizes and policies. Memory grows with
    /// each request until taken.
    pub fn capture(mut self) -> Self {
        self.capture = true;
        self
    }

    /// Writes every read and insert the policy sees to `file`, an oracleGeneral trace that
    /// `cachelab sim` and `cachelab mrc` replay (sampled by key when its rate is below 1);
    /// the file is written by [`Cache::finish_capture`]. Works with or without
    /// [`Builder::capture`].
    pub fn capture_to(mut self, file: CaptureFile) -> Self {
        self.capture_file = Some(file);
        self
    }

    /// The hasher keys are hashed with (ids start from the hash; lookups compare keys).
    pub fn hasher<H2>(self, hasher: H2) -> Builder<K, V, H2> {
        Builder {
            source: self.source,
            capacity: self.capacity,
            seed: self.seed,
            ttl: self.ttl,
            weigher: self.weigher,
            listener: self.listener,
            clock: self.clock,
            capture: self.capture,
            capture_file: self.capture_file,
            hasher,
        }
    }
}

impl<K: Hash + Eq, V, H: BuildHasher> Builder<K, V, H> {
    /// Builds the cache, checking the policy.
    pub fn build(mut self) -> Result<Cache<K, V, H>, BuildError> {
        if self.capacity == 0 {
            return Err(BuildError::ZeroCapacity);
        }
        let base = self.source.build(self.capacity, self.seed)?;
        let clock = self.clock.unwrap_or_else(|| Box::new(WallClock::new()));
        let recorder = Recorder::new(self.capture, self.capture_file);
        Ok(assemble(
            base,
            self.hasher,
            self.weigher,
            self.listener,
            clock,
            self.ttl,
            recorder,
        ))
    }
}

impl<K, V, H> Builder<K, V, H>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + 'static,
    H: BuildHasher + Clone,
{
    /// Builds a thread-safe cache of `shards` locked shards (at least 1;
    /// [`sync::default_shards`] suggests a count for the machine) with every setting of
    /// this builder: each shard runs its own policy over an equal part of the
    /// capacity (the first ones one unit more when it does not divide), with the shard's
    /// seed `seed + i`, and every shard shares the weigher, the listener, the clock and
    /// the hasher (so a key's id is the same whichever shard holds it). A capture
    /// ([`Builder::capture`], [`Builder::capture_to`]) records every shard's requests and
    /// merges them into one trace ([`sync::Cache::take_captured`],
    /// [`sync::Cache::finish_capture`]). Keys and values are `'static` (owned), as in
    /// moka's sync cache: the shards share the weigher and listener.
    ///
    /// ```
    /// use cachelab::cache::{Cache, LogicalClock};
    /// let requests = LogicalClock::new();
    /// let cache = Cache::builder()
    ///     .policy("s3fifo")
    ///     .capacity(1000)
    ///     .ttl(10)
    ///     .clock(requests.clone())
    ///     .build_sync(4)?;
    /// cache.insert("k", 1);
    /// requests.advance(10);
    /// assert_eq!(cache.get(&"k"), None);
    /// # Ok::<(), cachelab::cache::BuildError>(())
    /// ```
    pub fn build_sync(mut self, shards: usize) -> Result<sync::Cache<K, V, H>, BuildError> {
        let parts = sync::shard_parts(self.capacity, shards)?;
        let n = parts.len();
        let weigher: Option<SharedWeigher<K, V>> = self.weigher.map(Arc::from);
        let listener = self.listener.map(|l| Arc::new(Mutex::new(l)));
        let clock: Arc<dyn Clock> =
            Arc::from(self.clock.unwrap_or_else(|| Box::new(WallClock::new())));
        let order = Arc::new(AtomicU64::new(0));
        let files: Vec<Option<CaptureFile>> = match self.capture_file {
            Some(file) => file
                .split(n)
                .map_err(|e| BuildError::Capture(Box::new(e)))?
                .into_iter()
                .map(Some)
                .collect(),
            None => (0..n).map(|_| None).collect(),
        };
        let mut caches = Vec::with_capacity(n);
        for (i, (file, part)) in files.into_iter().zip(parts).enumerate() {
            let base = self.source.build(part, self.seed.wrapping_add(i as u64))?;
            let weigher = weigher
                .clone()
                .map(|w| -> Weigher<K, V> { Box::new(move |key: &K, value: &V| w(key, value)) });
            let listener = listener.clone().map(|l| -> Listener<K, V> {
                Box::new(move |key, value, cause| {
                    let mut listener = l.lock().unwrap_or_else(PoisonError::into_inner);
                    listener(key, value, cause)
                })
            });
            let recorder =
                Recorder::new(self.capture, file).map(|r| r.numbered(Arc::clone(&order)));
            caches.push(assemble(
                base,
                self.hasher.clone(),
                weigher,
                listener,
                Box::new(Arc::clone(&clock)),
                self.ttl,
                recorder,
            ));
        }
        Ok(sync::Cache::from_shards(caches, &self.hasher))
    }
}

/// A cache over `base` with the given parts (under the TTL layer when a default TTL is set;
/// otherwise the layer goes on at the first insert with a TTL).
fn assemble<K: Hash + Eq, V, H: BuildHasher>(
    base: Box<dyn Policy>,
    hasher: H,
    weigher: Option<Weigher<K, V>>,
    listener: Option<Listener<K, V>>,
    clock: Box<dyn Clock>,
    default_ttl: u64,
    recorder: Option<Box<Recorder>>,
) -> Cache<K, V, H> {
    // TTLs come with each request (the default filled in by the cache), on the cache's
    // clock as the request time; the TTL layer goes on at the first.
    let capturing = recorder.is_some();
    let slotted = base.slotted();
    let plain = slotted
        && !capturing
        && weigher.is_none()
        && listener.is_none()
        && !std::mem::needs_drop::<(K, V)>();
    let mut cache = Cache {
        policy: Engine::new(base),
        timed: false,
        clocked: capturing,
        hasher,
        table: Table::new(),
        slotted,
        hits_in_place: slotted && !capturing,
        plain,
        indexed: true,
        moved: HashMap::new(),
        weigher,
        listener,
        clock,
        default_ttl,
        hits: 0,
        misses: 0,
        gone: Vec::new(),
        vacant: None,
        rejected: None,
        recorder,
    };
    if cache.default_ttl > 0 {
        cache.start_ttls();
    } else if slotted {
        cache.indexed = !cache.policy.as_dyn_mut().drop_index();
    }
    cache
}
