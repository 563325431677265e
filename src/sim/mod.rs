//! The replay engine: one pass over a trace feeds many (policy, capacity) configurations.
//!
//! Start from [`simulate`]. The trace is read in batches of [`SimOptions::batch`] requests;
//! while the configurations work on one batch in parallel (rayon, one task per
//! configuration), the next batch is read, so the trace is parsed once however many
//! configurations there are. Each configuration keeps its own [`Counters`], optional
//! per-window counters (a hit-ratio time series), and leaves the warm-up uncounted.
//!
//! By default every request is a read that inserts on a miss, as libCacheSim replays, so
//! results compare; with [`SimOptions::honour_ops`] writes store without counting as reads
//! and deletes remove.

pub mod speed;
pub mod sweep;
pub(crate) mod working_set;

pub use crate::policy::Counters;
pub use sweep::{Sweep, SweepOutput, run_sweep};
pub use working_set::{WorkingSet, WorkingSetCounter};

use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::CATALOG;
use crate::policy::{Policy, PolicySpec, SpecError};
use crate::request::{Op, Request};
use crate::trace::{self, RequestReader, VecReader};

/// One configuration to simulate: a policy spec at a capacity, or a policy of the user's
/// own built by a [`PolicyFactory`].
#[derive(Clone)]
pub struct Config {
    /// The policy (for a factory-built policy, a spec made of its label alone).
    pub spec: PolicySpec,
    /// Capacity in size units (bytes, or objects with [`SimOptions::objects`]).
    pub capacity: u64,
    /// Builds the policy instead of the registry, when set ([`Config::custom`]).
    pub factory: Option<PolicyFactory>,
}

/// Builds a policy from `(capacity, seed)`: how a user's own `impl Policy` joins a
/// simulation ([`Config::custom`]). Called once per configuration, on the calling thread.
pub type PolicyFactory = std::sync::Arc<dyn Fn(u64, u64) -> Box<dyn Policy> + Send + Sync>;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("spec", &self.spec.text)
            .field("capacity", &self.capacity)
            .field("factory", &self.factory.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Config {
    /// A configuration of `spec` at `capacity`.
    pub fn new(spec: PolicySpec, capacity: u64) -> Config {
        Config {
            spec,
            capacity,
            factory: None,
        }
    }

    /// A configuration of a policy the registry does not know: `build(capacity, seed)`
    /// makes it, `label` names it in results (a spec name: letters, digits, `-`, `_`).
    /// The engine fills `Request::next_access` only for registry policies that ask for
    /// it, so an offline policy built here needs a trace that carries it.
    ///
    /// ```
    /// use cachelab::policy::{lru::Lru, Policy};
    /// use cachelab::sim::{simulate, Config, SimOptions};
    /// use cachelab::trace::VecReader;
    /// use cachelab::request::Request;
    ///
    /// let mine = Config::custom("my-lru", 2, |capacity, _seed| -> Box<dyn Policy> {
    ///     Box::new(Lru::new(capacity))
    /// })?;
    /// let requests = [1, 2, 1, 3, 1].map(|k| Request::get(k, 1)).to_vec();
    /// let results = simulate(&mut VecReader::new(requests, false), &[mine], &SimOptions::default(), None)?;
    /// assert_eq!((results[0].spec.as_str(), results[0].counters.hits), ("my-lru", 2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn custom(
        label: &str,
        capacity: u64,
        build: impl Fn(u64, u64) -> Box<dyn Policy> + Send + Sync + 'static,
    ) -> Result<Config, SpecError> {
        let spec: PolicySpec = label.parse()?;
        Ok(Config {
            spec,
            capacity,
            factory: Some(std::sync::Arc::new(build)),
        })
    }

    /// Builds this configuration's policy with `seed`.
    pub fn build(&self, seed: u64) -> Result<Box<dyn Policy>, SpecError> {
        match &self.factory {
            Some(build) => Ok(build(self.capacity, seed)),
            None => CATALOG.build(&self.spec, self.capacity, seed),
        }
    }
}

/// How to replay.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Count objects instead of bytes: every size becomes 1.
    pub objects: bool,
    /// Leave the first this many requests uncounted (they still warm the cache).
    pub warmup: u64,
    /// Emit a counters row every this many counted reads.
    pub window: Option<u64>,
    /// Apply writes and deletes as such instead of treating every request as a read.
    pub honour_ops: bool,
    /// Seed for policies with random choices.
    pub seed: u64,
    /// Requests per batch.
    pub batch: usize,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            objects: false,
            warmup: 0,
            window: None,
            honour_ops: false,
            seed: 0,
            batch: 1 << 16,
        }
    }
}

/// The result of one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The spec as the user wrote it.
    pub spec: String,
    /// The policy's display name.
    pub policy: String,
    /// Capacity in size units.
    pub capacity: u64,
    /// Totals over the counted part of the trace.
    pub counters: Counters,
    /// Per-window counters, in order, when windows were asked for (the last may be partial).
    pub windows: Vec<Counters>,
    /// Heap bytes of the policy's metadata at the end.
    pub heap_bytes: usize,
    /// Objects held at the end.
    pub objects_held: usize,
    /// The policy's own report at the end ([`Policy::details`]), if it has one.
    pub details: Option<crate::policy::Details>,
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The warm-up is as long as the trace or longer: nothing would be counted.
    #[error(
        "the warm-up ({warmup} requests) covers the whole trace ({requests} requests): nothing is left to count; use a shorter --warmup"
    )]
    WarmupCoversTrace {
        /// Requests the warm-up asked for.
        warmup: u64,
        /// Requests the trace has.
        requests: u64,
    },
    /// A window of zero requests was asked for.
    #[error("a window must hold at least one request")]
    EmptyWindow,
    /// A model of a whole system was asked to count objects.
    #[error("{policy} models memory in bytes and cannot count objects: leave out --objects for it")]
    NeedsBytes {
        /// The spec as given.
        policy: String,
    },
    /// A spec sets its own size, so the sweep's sizes would be ignored.
    #[error(
        "{policy} sets its own memory, which would ignore every -s: leave the size parameter out and give the size with -s (memcached takes -s as its -m)"
    )]
    SizeFixedBySpec {
        /// The spec as given.
        policy: String,
    },
    /// A policy spec is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] trace::Error),
}

/// One configuration's live state.
struct Lane {
    policy: Box<dyn Policy>,
    config_index: usize,
    counters: Counters,
    window: Counters,
    windows: Vec<Counters>,
}

impl Lane {
    fn feed(&mut self, batch: &[Request], first_index: u64, options: &SimOptions) {
        let counted_from = options
            .warmup
            .saturating_sub(first_index)
            .min(batch.len() as u64) as usize;
        let (warm, counted) = batch.split_at(counted_from);
        for req in warm {
            apply(self.policy.as_mut(), req, options.honour_ops);
        }
        match options.window {
            None if !options.honour_ops => self.policy.get_batch(counted, &mut self.counters),
            None => {
                for req in counted {
                    count(&mut self.counters, self.policy.as_mut(), req, true);
                }
            }
            Some(width) => {
                for req in counted {
                    count(
                        &mut self.window,
                        self.policy.as_mut(),
                        req,
                        options.honour_ops,
                    );
                    if self.window.requests >= width {
                        self.close_window();
                    }
                }
            }
        }
    }

    fn close_window(&mut self) {
        let window = std::mem::take(&mut self.window);
        add_into(&mut self.counters, &window);
        self.windows.push(window);
    }

    fn finish(mut self, configs: &[Config]) -> RunResult {
        if self.window != Counters::default() {
            self.close_window();
        }
        RunResult {
            spec: configs[self.config_index].spec.text.clone(),
            policy: self.policy.name(),
            capacity: self.policy.capacity(),
            counters: self.counters,
            windows: self.windows,
            heap_bytes: self.policy.heap_bytes(),
            objects_held: self.policy.len(),
            details: self.policy.details(),
        }
    }
}

fn add_into(total: &mut Counters, part: &Counters) {
    total.requests += part.requests;
    total.hits += part.hits;
    total.misses += part.misses;
    total.bytes_requested += part.bytes_requested;
    total.bytes_missed += part.bytes_missed;
    total.evictions += part.evictions;
    total.expirations += part.expirations;
    total.refused += part.refused;
    total.writes += part.writes;
    total.deletes += part.deletes;
}

/// Applies a request without counting it (warm-up).
#[inline]
fn apply(policy: &mut dyn Policy, req: &Request, honour_ops: bool) {
    if !honour_ops || req.op.is_read() {
        policy.get(req);
    } else if req.op == Op::Delete {
        policy.delete(req.key);
    } else {
        policy.set(req);
    }
}

/// Applies a request and counts it.
#[inline]
fn count(counters: &mut Counters, policy: &mut dyn Policy, req: &Request, honour_ops: bool) {
    if !honour_ops || req.op.is_read() {
        let outcome = policy.get(req);
        counters.record_read(req.size, outcome);
    } else if req.op == Op::Delete {
        policy.delete(req.key);
        counters.deletes += 1;
    } else {
        let outcome = policy.set(req);
        counters.writes += 1;
        counters.record_side_effects(outcome);
    }
}

/// Replays `reader` through every configuration in one pass and returns one result per
/// configuration, in the order given.
///
/// `progress`, when given, is called after each batch with the number of requests read.
pub fn simulate(
    reader: &mut dyn RequestReader,
    configs: &[Config],
    options: &SimOptions,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<Vec<RunResult>, SimError> {
    if options.window == Some(0) {
        return Err(SimError::EmptyWindow);
    }
    let mut lanes = configs
        .iter()
        .enumerate()
        .map(|(config_index, config)| {
            Ok(Lane {
                policy: config.build(options.seed)?,
                config_index,
                counters: Counters::default(),
                window: Counters::default(),
                windows: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, SpecError>>()?;

    let needs_next_access = configs.iter().any(|c| {
        c.factory.is_none()
            && CATALOG
                .lookup(&c.spec.name)
                .is_ok_and(|info| info.needs_next_access)
    });
    let mut with_next_access;
    let reader: &mut dyn RequestReader = if needs_next_access && !reader.has_next_access() {
        // An offline policy needs the future: read the whole trace and compute it.
        let mut requests = trace::read_all(reader)?;
        trace::next_access::fill(&mut requests);
        with_next_access = VecReader::new(requests, true);
        &mut with_next_access
    } else {
        reader
    };

    let requests = for_each_batch(
        reader,
        options.batch,
        options.objects,
        progress,
        |batch, first_index| {
            lanes
                .par_iter_mut()
                .for_each(|lane| lane.feed(batch, first_index, options));
            Ok::<(), SimError>(())
        },
    )?;
    if options.warmup > 0 && options.warmup >= requests {
        return Err(SimError::WarmupCoversTrace {
            warmup: options.warmup,
            requests,
        });
    }
    Ok(lanes.into_iter().map(|lane| lane.finish(configs)).collect())
}

/// Reads `reader` to its end in batches of `batch` requests (every size set to 1 when
/// counting `objects`) and calls `work(batch, index of its first request)` on each while
/// the next batch is read, so parsing overlaps the work; `progress` gets the number of
/// requests read after each batch. Returns that number. The one read loop of the engine,
/// the curve profilers, the cluster replays and every pass that only counts.
pub fn for_each_batch<E: From<trace::Error> + Send>(
    reader: &mut dyn RequestReader,
    batch: usize,
    objects: bool,
    progress: Option<&(dyn Fn(u64) + Sync)>,
    mut work: impl FnMut(&[Request], u64) -> Result<(), E> + Send,
) -> Result<u64, E> {
    let batch = batch.max(1);
    let read = |reader: &mut dyn RequestReader| -> Result<Vec<Request>, trace::Error> {
        let mut requests = Vec::with_capacity(batch);
        reader.read_batch(&mut requests, batch)?;
        if objects {
            requests.iter_mut().for_each(|r| r.size = 1);
        }
        Ok(requests)
    };
    let mut current = read(reader)?;
    let mut first_index = 0u64;
    while !current.is_empty() {
        let (next, done) = rayon::join(|| read(reader), || work(&current, first_index));
        done?;
        first_index += current.len() as u64;
        if let Some(report) = progress {
            report(first_index);
        }
        current = next?;
    }
    Ok(first_index)
}

/// [`simulate`] over requests already in memory.
pub fn simulate_slice(
    requests: &[Request],
    configs: &[Config],
    options: &SimOptions,
) -> Result<Vec<RunResult>, SimError> {
    let mut reader = VecReader::new(requests.to_vec(), false);
    simulate(&mut reader, configs, options, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(keys: &[u64]) -> Vec<Request> {
        keys.iter().map(|&k| Request::get(k, 10)).collect()
    }

    /// A policy the registry does not know: keeps the `capacity` smallest keys seen
    /// (an odd rule, so no registry policy could produce its numbers by accident).
    struct SmallestKeys {
        capacity: u64,
        held: std::collections::BTreeSet<u64>,
    }

    impl Policy for SmallestKeys {
        fn name(&self) -> String {
            "smallest".to_string()
        }
        fn capacity(&self) -> u64 {
            self.capacity
        }
        fn used(&self) -> u64 {
            self.held.len() as u64
        }
        fn len(&self) -> usize {
            self.held.len()
        }
        fn contains(&self, key: u64) -> bool {
            self.held.contains(&key)
        }
        fn get(&mut self, req: &Request) -> crate::policy::Outcome {
            if self.held.contains(&req.key) {
                return crate::policy::Outcome::HIT;
            }
            self.held.insert(req.key);
            let mut evictions = 0;
            while self.held.len() as u64 > self.capacity {
                self.held.pop_last();
                evictions += 1;
            }
            crate::policy::Outcome::new(false, evictions)
        }
        fn delete(&mut self, key: u64) -> bool {
            self.held.remove(&key)
        }
        fn heap_bytes(&self) -> usize {
            0
        }
    }

    #[test]
    fn a_users_own_policy_runs_through_the_engine() {
        // Capacity 2, keys 5 9 1 9 5 1: 5 and 9 miss (held {5, 9}); 1 misses and 9, the
        // largest, goes ({1, 5}); 9 misses and goes again; 5 and 1 hit.
        let config = Config::custom("smallest", 2, |capacity, _| {
            Box::new(SmallestKeys {
                capacity,
                held: Default::default(),
            })
        })
        .unwrap();
        let mut reader = VecReader::new(reads(&[5, 9, 1, 9, 5, 1]), false);
        let options = SimOptions {
            objects: true,
            ..SimOptions::default()
        };
        let results = simulate(&mut reader, &[config], &options, None).unwrap();
        assert_eq!(results[0].spec, "smallest");
        assert_eq!(results[0].policy, "smallest");
        assert_eq!(
            (results[0].counters.hits, results[0].counters.misses),
            (2, 4)
        );
        assert_eq!(results[0].counters.evictions, 2);
    }

    #[test]
    fn a_factory_config_matches_the_same_policy_by_spec() {
        let trace: Vec<Request> = (0..5000u64)
            .map(|i| Request::get((i * 7919) % 97 + (i % 13) * (i % 5), 1 + (i % 4) as u32))
            .collect();
        let by_spec = Config::new("s3fifo".parse().unwrap(), 60);
        let by_factory = Config::custom("mine", 60, |capacity, _| {
            Box::new(crate::policy::s3fifo::S3Fifo::new(capacity))
        })
        .unwrap();
        let results = simulate(
            &mut VecReader::new(trace, false),
            &[by_spec, by_factory],
            &SimOptions::default(),
            None,
        )
        .unwrap();
        assert_eq!(results[0].counters, results[1].counters);
        assert!(results[0].counters.hits > 0 && results[0].counters.evictions > 0);
    }

    #[test]
    fn one_pass_gives_each_configuration_its_own_counts() {
        let trace = reads(&[1, 2, 1, 3, 1, 2, 4, 1]);
        let configs: Vec<Config> = [("lru", 20), ("fifo", 20), ("lru", 1000)]
            .iter()
            .map(|&(p, c)| Config::new(p.parse().unwrap(), c))
            .collect();
        let options = SimOptions {
            batch: 3,
            ..SimOptions::default()
        };
        let results = simulate_slice(&trace, &configs, &options).unwrap();
        // Worked by hand, 2 slots of 10 bytes.
        // LRU:  1m 2m 1h 3m(ev 2) 1h 2m(ev 3) 4m(ev 1) 1m(ev 2) -> 2 hits, 4 evictions.
        // FIFO: 1m 2m 1h 3m(ev 1) 1m(ev 2) 2m(ev 3) 4m(ev 1) 1m(ev 2) -> 1 hit, 5 evictions.
        assert_eq!(
            (results[0].counters.hits, results[0].counters.evictions),
            (2, 4)
        );
        assert_eq!(
            (results[1].counters.hits, results[1].counters.evictions),
            (1, 5)
        );
        // Unbounded: only first touches miss.
        assert_eq!(results[2].counters.misses, 4);
        assert_eq!(results[2].counters.bytes_missed, 40);
        assert_eq!(results[2].counters.bytes_requested, 80);
    }

    #[test]
    fn warmup_and_windows_partition_the_counted_reads() {
        let trace = reads(&[1, 2, 1, 2, 3, 1, 2, 3, 1, 2]);
        let configs = vec![Config::new("lru".parse().unwrap(), 1000)];
        let options = SimOptions {
            warmup: 3,
            window: Some(3),
            batch: 4,
            ..SimOptions::default()
        };
        let result = &simulate_slice(&trace, &configs, &options).unwrap()[0];
        assert_eq!(result.counters.requests, 7);
        // Key 3 first appears after warm-up: the only counted miss.
        assert_eq!(result.counters.misses, 1);
        let sizes: Vec<u64> = result.windows.iter().map(|w| w.requests).collect();
        assert_eq!(sizes, vec![3, 3, 1]);
        assert_eq!(result.windows.iter().map(|w| w.misses).sum::<u64>(), 1);
    }

    #[test]
    fn honoured_ops_count_writes_and_deletes_apart() {
        let mut trace = reads(&[1, 1, 1]);
        trace[0].op = Op::Set;
        trace[1].op = Op::Delete;
        let configs = vec![Config::new("lru".parse().unwrap(), 1000)];
        let options = SimOptions {
            honour_ops: true,
            ..SimOptions::default()
        };
        let c = simulate_slice(&trace, &configs, &options).unwrap()[0].counters;
        assert_eq!((c.writes, c.deletes, c.requests, c.misses), (1, 1, 1, 1));
        // Without --ops every request is a read: miss, hit, hit.
        let c = simulate_slice(&trace, &configs, &SimOptions::default()).unwrap()[0].counters;
        assert_eq!((c.requests, c.hits), (3, 2));
    }

    #[test]
    fn belady_gets_next_access_computed_when_the_trace_lacks_it() {
        // Loop of 3 keys through 2 slots: LRU never hits; MIN hits every other repeat.
        let trace = reads(&[1, 2, 3, 1, 2, 3, 1, 2, 3]);
        let configs = vec![
            Config::new("lru".parse().unwrap(), 20),
            Config::new("belady".parse().unwrap(), 20),
        ];
        let results = simulate_slice(&trace, &configs, &SimOptions::default()).unwrap();
        assert_eq!(results[0].counters.hits, 0);
        // By hand, evicting the farthest next use: 1m 2m 3m(ev 2) 1h 2m(ev 1) 3h 1m(ev 3) 2h 3m.
        assert_eq!(results[1].counters.hits, 3);
    }

    #[test]
    fn object_mode_ignores_sizes() {
        let trace = vec![
            Request::get(1, 500),
            Request::get(2, 700),
            Request::get(1, 500),
        ];
        let configs = vec![Config::new("lru".parse().unwrap(), 2)];
        let options = SimOptions {
            objects: true,
            ..SimOptions::default()
        };
        let c = simulate_slice(&trace, &configs, &options).unwrap()[0].counters;
        assert_eq!(c.hits, 1);
        assert_eq!(c.bytes_requested, 3);
    }

    #[test]
    fn a_warmup_covering_the_trace_or_an_empty_window_is_an_error() {
        let trace = reads(&[1, 2, 3]);
        let configs = vec![Config::new("lru".parse().unwrap(), 10)];
        for warmup in [3, 4, 200_000] {
            let options = SimOptions {
                warmup,
                ..SimOptions::default()
            };
            let err = simulate_slice(&trace, &configs, &options).unwrap_err();
            assert!(
                err.to_string().contains(&format!(
                    "warm-up ({warmup} requests) covers the whole trace (3 requests)"
                )),
                "{err}"
            );
        }
        let options = SimOptions {
            warmup: 2,
            ..SimOptions::default()
        };
        assert_eq!(
            simulate_slice(&trace, &configs, &options).unwrap()[0]
                .counters
                .requests,
            1
        );
        let options = SimOptions {
            window: Some(0),
            ..SimOptions::default()
        };
        assert!(matches!(
            simulate_slice(&trace, &configs, &options),
            Err(SimError::EmptyWindow)
        ));
    }
}
