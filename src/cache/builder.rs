//! The typed builder for [`Cache`] (moka's `CacheBuilder` shape): every setting has a
//! default, and `build` checks the policy once so a cache never fails later.

use std::hash::{BuildHasher, Hash, RandomState};

use hashbrown::{HashMap, HashTable};

use super::{Cache, CaptureFile, Clock, Listener, RemovalCause, WallClock, Weigher};
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
}

/// Where the policy comes from.
enum Source {
    Spec(String),
    Factory(Box<dyn FnOnce(u64) -> Box<dyn Policy>>),
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
            hasher: RandomState::new(),
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
    /// must name its evictions.
    pub fn policy_with(mut self, build: impl FnOnce(u64) -> Box<dyn Policy> + 'static) -> Self {
        self.source = Source::Factory(Box::new(build));
        self
    }

    /// Capacity: entries, or weigher units when a weigher is set.
    pub fn capacity(mut self, capacity: u64) -> Self {
        self.capacity = capacity;
        self
    }

    /// Seed for policies with random choices (`random`).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Each entry's size in capacity units (cachetools' `getsizeof`); 0 counts as 1, and
    /// an entry larger than the capacity is never kept.
    pub fn weigher(mut self, weigher: impl Fn(&K, &V) -> u32 + Send + 'static) -> Self {
        self.weigher = Some(Box::new(weigher));
        self
    }

    /// Called with every entry that leaves on its own: evicted, expired, or rejected
    /// (too large). Not called for [`Cache::remove`] or for a value an insert replaces
    /// (both hand the value back).
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
    /// [`super::LogicalClock`] the program advances.
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
    pub fn build(self) -> Result<Cache<K, V, H>, BuildError> {
        if self.capacity == 0 {
            return Err(BuildError::ZeroCapacity);
        }
        let base = match self.source {
            Source::Spec(text) => {
                let spec: PolicySpec = text.parse()?;
                let info = POLICIES.lookup(&spec.name)?;
                if info.kind != PolicyKind::Eviction || info.needs_next_access {
                    return Err(BuildError::NotOnline { name: spec.name });
                }
                POLICIES.build(&spec, self.capacity, self.seed)?
            }
            Source::Factory(build) => build(self.capacity),
        };
        if !base.names_evictions() {
            return Err(BuildError::Silent { name: base.name() });
        }
        let capturing = self.capture || self.capture_file.is_some();
        let mut cache = Cache {
            // TTLs come with each request (the default filled in by the cache), on the
            // cache's clock as the request time; the TTL layer goes on at the first.
            policy: base,
            timed: false,
            clocked: capturing,
            hasher: self.hasher,
            entries: HashTable::new(),
            moved: HashMap::new(),
            weigher: self.weigher,
            listener: self.listener,
            clock: self.clock.unwrap_or_else(|| Box::new(WallClock::new())),
            default_ttl: self.ttl,
            hits: 0,
            misses: 0,
            dropped: Vec::new(),
            rejected: None,
            captured: self.capture.then(Vec::new),
            capture_file: self.capture_file,
        };
        if cache.default_ttl > 0 {
            cache.start_ttls();
        }
        Ok(cache)
    }
}
