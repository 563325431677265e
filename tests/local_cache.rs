//! Simulation and production agree: for every online policy, a `cachelab::cache::Cache`
//! makes the same hit/miss and eviction decisions, request by request, as the simulator's
//! policy fed the same stream (issue 17, part 2). Also with TTLs, against the simulator's
//! TTL layer on the same logical clock.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use cachelab::cache::{Cache, LogicalClock, RemovalCause};
use cachelab::policy::builtin::POLICIES;
use cachelab::policy::ttl::{Ttl, TtlClock, TtlParams};
use cachelab::policy::{Policy, PolicyKind, PolicySpec};
use cachelab::request::Request;
use proptest::prelude::*;

/// Hashes a `u64` key to itself, so the cache's ids are the simulator's keys.
#[derive(Clone, Copy, Default)]
struct Identity;

impl BuildHasher for Identity {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One step of the stream.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// `get_or_insert_with`; the simulator's read.
    Read(u64),
    /// `insert` of a key (present or not) with the value `10 × key + variant`, whose size
    /// depends on the variant: a replacing insert can change the entry's size; the
    /// simulator's write.
    Write(u64, u64),
    /// `remove`; the simulator's delete.
    Remove(u64),
}

fn steps(keys: u64) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        8 => (0..keys).prop_map(Step::Read),
        1 => (0..keys, 0..3u64).prop_map(|(k, v)| Step::Write(k, v)),
        1 => (0..keys).prop_map(Step::Remove),
    ];
    prop::collection::vec(step, 1..300)
}

/// `steps` with every key taken modulo `keys` (the strategy draws keys below its own bound).
fn below(steps: Vec<Step>, keys: u64) -> Vec<Step> {
    steps
        .into_iter()
        .map(|s| match s {
            Step::Read(k) => Step::Read(k % keys),
            Step::Write(k, v) => Step::Write(k % keys, v),
            Step::Remove(k) => Step::Remove(k % keys),
        })
        .collect()
}

/// A value's size, as the weigher gives it.
fn size_of(value: u64, max: u32) -> u32 {
    1 + (value.wrapping_mul(7) % u64::from(max)) as u32
}

/// The online eviction policies a cache can run.
fn online() -> Vec<String> {
    POLICIES
        .rows()
        .filter(|info| info.kind == PolicyKind::Eviction && !info.needs_next_access)
        .map(|info| info.default_spec())
        .collect()
}

fn build(spec: &str, capacity: u64, seed: u64) -> Box<dyn Policy> {
    let spec: PolicySpec = spec.parse().unwrap();
    POLICIES.build(&spec, capacity, seed).unwrap()
}

type Evicted = Arc<Mutex<Vec<(u64, RemovalCause)>>>;

/// A built-in policy with its slots hidden ([`Policy::slotted`] false, the default
/// [`Policy::serve`]): the cache then numbers the slots with its own index, the path a
/// user's own policy takes.
struct Unslotted(Box<dyn Policy>);

impl Policy for Unslotted {
    fn name(&self) -> String {
        self.0.name()
    }
    fn capacity(&self) -> u64 {
        self.0.capacity()
    }
    fn used(&self) -> u64 {
        self.0.used()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn contains(&self, key: u64) -> bool {
        self.0.contains(key)
    }
    fn get(&mut self, req: &Request) -> cachelab::policy::Outcome {
        self.0.get(req)
    }
    fn set(&mut self, req: &Request) -> cachelab::policy::Outcome {
        self.0.set(req)
    }
    fn get_evicting(
        &mut self,
        req: &Request,
        on_evict: &mut dyn FnMut(u64, u32),
    ) -> cachelab::policy::Outcome {
        self.0.get_evicting(req, on_evict)
    }
    fn set_evicting(
        &mut self,
        req: &Request,
        on_evict: &mut dyn FnMut(u64, u32),
    ) -> cachelab::policy::Outcome {
        self.0.set_evicting(req, on_evict)
    }
    fn names_evictions(&self) -> bool {
        self.0.names_evictions()
    }
    fn delete(&mut self, key: u64) -> bool {
        self.0.delete(key)
    }
    fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
}

/// Replays `steps` through a cache and the simulator's `sim`, comparing after each step
/// the decisions, what each dropped, and every held key's value.
/// `clock` (with `ttl`) moves one tick per step when given. With `hide_slots` the cache's
/// policy is [`Unslotted`]. With `plain` the cache has no weigher and no listener (every
/// size is 1, so `max` must be 1), the configuration a cache serves on its short path:
/// what it dropped is then checked through what it still holds.
#[allow(clippy::too_many_arguments)]
fn replay(
    spec: &str,
    hide_slots: bool,
    plain: bool,
    sim: &mut dyn Policy,
    capacity: u64,
    seed: u64,
    max: u32,
    keys: u64,
    steps: &[Step],
    ttl: Option<(u64, LogicalClock)>,
) -> Result<(), String> {
    let evicted: Evicted = Default::default();
    let log = Arc::clone(&evicted);
    let builder = if hide_slots {
        let spec = spec.to_string();
        Cache::builder().policy_with(move |c| Box::new(Unslotted(build(&spec, c, seed))))
    } else {
        Cache::builder().policy(spec)
    };
    let mut builder = builder.capacity(capacity).seed(seed).hasher(Identity);
    if plain {
        assert_eq!(max, 1, "a plain cache weighs every entry 1");
    } else {
        builder = builder
            .weigher(move |_: &u64, &v: &u64| size_of(v, max))
            .eviction_listener(move |k, _, cause| log.lock().unwrap().push((k, cause)));
    }
    if let Some((ticks, clock)) = &ttl {
        builder = builder.ttl(*ticks).clock(clock.clone());
    }
    let mut cache = builder.build().map_err(|e| e.to_string())?;
    // The value each held key was last given (a key read in on a miss gets 10 × key).
    let mut values: HashMap<u64, u64> = HashMap::new();
    for (i, &step) in steps.iter().enumerate() {
        let now = ttl
            .as_ref()
            .map_or(0, |(_, c)| cachelab::cache::Clock::now(c));
        // A read is sized by the value held (the cache's request carries the entry's size),
        // or by the value it inserts on a miss.
        let request = |key: u64, value: u64| Request {
            time: now,
            ..Request::get(key, size_of(value, max))
        };
        let own = match step {
            Step::Read(k) | Step::Write(k, _) | Step::Remove(k) => k,
        };
        let held_before = cache.contains(&own);
        let named = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&named);
        let mut on_evict = move |key: u64, _size: u32| sink.borrow_mut().push(key);
        match step {
            Step::Read(key) => {
                let value = cache.peek(&key).copied().unwrap_or(key * 10);
                let hits = cache.cache_info().hits;
                cache.get_or_insert_with(key, || key * 10);
                let hit = cache.cache_info().hits > hits;
                let expected = sim.get_evicting(&request(key, value), &mut on_evict).hit;
                values.insert(key, value);
                if hit != expected {
                    return Err(format!(
                        "step {i} {step:?}: cache hit={hit}, simulator {expected}"
                    ));
                }
            }
            Step::Write(key, variant) => {
                let value = key * 10 + variant;
                cache.insert(key, value);
                sim.set_evicting(&request(key, value), &mut on_evict);
                values.insert(key, value);
            }
            Step::Remove(key) => {
                let removed = cache.remove(&key).is_some();
                values.remove(&key);
                let expected = sim.delete(key);
                if ttl.is_some() {
                    // The simulator's TTL layer learns the time only from requests, so
                    // after a delete its view of what has expired lags the cache's; the
                    // next read or write compares again. Removing an expired key tells
                    // the listener (Expired); the simulator's delete names nothing.
                    evicted.lock().unwrap().clear();
                    if let Some((_, clock)) = &ttl {
                        clock.tick();
                    }
                    continue;
                }
                if removed != expected {
                    return Err(format!(
                        "step {i} {step:?}: cache removed={removed}, simulator {expected}"
                    ));
                }
            }
        }
        cache
            .validate()
            .map_err(|e| format!("step {i} {step:?}: {e}"))?;
        let held: Vec<u64> = (0..keys).filter(|k| cache.contains(k)).collect();
        values.retain(|k, _| held.contains(k));
        let wrong = held.iter().find(|&k| {
            let value = *values.entry(*k).or_insert(k * 10);
            cache.peek(k) != Some(&value)
        });
        if let Some(k) = wrong {
            return Err(format!(
                "step {i} {step:?}: key {k} reads {:?}, not {:?}",
                cache.peek(k),
                values[k]
            ));
        }
        let expected: Vec<u64> = (0..keys).filter(|&k| sim.contains(k)).collect();
        if held != expected {
            return Err(format!(
                "step {i} {step:?}: cache holds {held:?}, simulator {expected:?}"
            ));
        }
        // The simulator names what it dropped for good; the cache also reports the
        // requested key's expired value, which the simulator drops and stores again
        // within the request (named only when not stored again), and calls a held value
        // replaced by one too large to keep rejected.
        if plain {
            // No listener: a missed drop shows as a key held here and not in the simulator.
            named.borrow_mut().clear();
        }
        let mut dropped: Vec<u64> = evicted
            .lock()
            .unwrap()
            .drain(..)
            .filter(|&(k, cause)| match cause {
                RemovalCause::Evicted => true,
                RemovalCause::Expired => k != own || !held.contains(&own),
                RemovalCause::Rejected => k == own && held_before,
                _ => false,
            })
            .map(|(k, _)| k)
            .collect();
        let mut named = named.borrow().clone();
        dropped.sort_unstable();
        named.sort_unstable();
        if dropped != named {
            return Err(format!(
                "step {i} {step:?}: cache dropped {dropped:?}, simulator named {named:?}"
            ));
        }
        if let Some((_, clock)) = &ttl {
            clock.tick();
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_policy_decides_as_the_simulator_does(
        capacity in 1u64..40,
        keys in 2u64..40,
        max in 1u32..6,
        seed in any::<u64>(),
        steps in steps(40),
    ) {
        let steps = below(steps, keys);
        for spec in online() {
            for hide_slots in [false, true] {
                let mut sim = build(&spec, capacity, seed);
                replay(&spec, hide_slots, false, sim.as_mut(), capacity, seed, max, keys, &steps, None)
                    .map_err(|e| TestCaseError::fail(format!("{spec} (slots hidden: {hide_slots}): {e}")))?;
            }
            // The short path: no weigher, no listener (and for the built-in policies held
            // by type, no index in the policy).
            let mut sim = build(&spec, capacity, seed);
            replay(&spec, false, true, sim.as_mut(), capacity, seed, 1, keys, &steps, None)
                .map_err(|e| TestCaseError::fail(format!("{spec} (plain): {e}")))?;
        }
    }

    #[test]
    fn with_ttls_every_policy_decides_as_the_simulators_ttl_layer_does(
        capacity in 1u64..30,
        keys in 2u64..30,
        max in 1u32..4,
        ttl in 1u64..25,
        seed in any::<u64>(),
        steps in steps(30),
    ) {
        let steps = below(steps, keys);
        for spec in online() {
            for hide_slots in [false, true] {
                let mut sim = Ttl::with_params(
                    build(&spec, capacity, seed),
                    TtlParams { ttl, clock: TtlClock::Wall },
                );
                let clock = LogicalClock::new();
                replay(&spec, hide_slots, false, &mut sim, capacity, seed, max, keys, &steps, Some((ttl, clock)))
                    .map_err(|e| TestCaseError::fail(format!("ttl {ttl} over {spec} (slots hidden: {hide_slots}): {e}")))?;
            }
        }
    }
}

#[test]
fn threads_missing_one_key_together_compute_it_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    const THREADS: usize = 8;
    let calls = AtomicUsize::new(0);
    let slow_square = |x: &u64| {
        calls.fetch_add(1, Ordering::SeqCst);
        // Long enough that every thread misses while the first one computes.
        std::thread::sleep(Duration::from_millis(200));
        x * x
    };
    let memo = cachelab::cache::Memo::new(slow_square)
        .policy("s3fifo")
        .capacity(16)
        .build()
        .unwrap();
    let results = common::all_at_once(THREADS, || memo.call(&9));
    assert_eq!(results, vec![81; THREADS]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one computation for {THREADS} misses"
    );
    assert_eq!(memo.call(&9), 81);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(memo.cache_info().hits >= 1);
}

#[test]
fn a_sharded_cache_keeps_its_capacity_and_values_across_threads() {
    let cache = cachelab::cache::sync::Cache::new("lru", 100, 4).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let cache = &cache;
            scope.spawn(move || {
                for i in 0..500u64 {
                    let key = t * 1000 + i;
                    cache.insert(key, key * 2);
                    // Another thread may have evicted it already; never a wrong value.
                    assert!(cache.get(&key).is_none_or(|v| v == key * 2));
                }
            });
        }
    });
    let info = cache.cache_info();
    assert_eq!(info.maxsize, 100);
    assert_eq!(cache.len(), 100, "every shard full");
    assert_eq!(info.currsize, 100);
    assert_eq!(info.hits + info.misses, 2000);
    let held: Vec<u64> = (0..4000u64).filter(|k| cache.contains(k)).collect();
    assert_eq!(held.len(), 100);
    assert!(held.iter().all(|&k| cache.get(&k) == Some(k * 2)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A sync cache of one shard makes the simulator's decisions, read and written as a
    /// program drives it (a read, and an insert on a miss), and counts every read once.
    #[test]
    fn a_one_shard_sync_cache_decides_as_the_simulator_does(
        capacity in 1u64..40,
        keys in 2u64..40,
        seed in any::<u64>(),
        steps in steps(40),
    ) {
        let steps = below(steps, keys);
        for spec in online() {
            let cache = Cache::builder()
                .policy(spec.as_str())
                .capacity(capacity)
                .seed(seed)
                .hasher(Identity)
                .build_sync(1)
                .map_err(|e| TestCaseError::fail(format!("{spec}: {e}")))?;
            let mut sim = build(&spec, capacity, seed);
            let mut reads = 0;
            for (i, &step) in steps.iter().enumerate() {
                match step {
                    Step::Read(k) => {
                        reads += 1;
                        // The bench's loop: a read, and an insert on a miss (the
                        // simulator's one read that inserts).
                        let hit = cache.get(&k).is_some();
                        if !hit {
                            cache.insert(k, k * 10);
                        }
                        let expected = sim.get(&Request::get(k, 1)).hit;
                        prop_assert_eq!(hit, expected, "{} step {} {:?}", spec, i, step);
                    }
                    Step::Write(k, v) => {
                        cache.insert(k, v);
                        sim.set(&Request::get(k, 1));
                    }
                    Step::Remove(k) => {
                        cache.remove(&k);
                        sim.delete(k);
                    }
                }
                let held: Vec<u64> = (0..keys).filter(|k| cache.contains(k)).collect();
                let expected: Vec<u64> = (0..keys).filter(|&k| sim.contains(k)).collect();
                prop_assert_eq!(held, expected, "{} step {} {:?}", spec, i, step);
            }
            let info = cache.cache_info();
            prop_assert_eq!(info.hits + info.misses, reads, "{}", spec);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A captured workload replayed through the simulator gives the cache's own hits.
    #[test]
    fn a_captured_workload_replays_to_the_same_hits(
        steps in steps(30),
        ttl in prop::option::of(1u64..20),
        spec in prop::sample::select(vec!["lru", "s3fifo", "arc", "wtinylfu", "sieve"]),
    ) {
        use cachelab::sim::{simulate, Config, SimOptions};
        use cachelab::trace::VecReader;
        let clock = LogicalClock::new();
        let mut cache = Cache::builder()
            .policy(spec)
            .capacity(12)
            .hasher(Identity)
            .weigher(|&k: &u64, _: &u64| size_of(k, 3))
            .ttl(ttl.unwrap_or(0))
            .clock(clock.clone())
            .capture()
            .build()
            .unwrap();
        for step in &steps {
            match *step {
                Step::Read(k) => {
                    // Half the reads look first and insert after, as a program would.
                    if k % 2 == 0 {
                        cache.get_or_insert_with(k, || k);
                    } else if cache.get(&k).is_none() {
                        cache.insert(k, k);
                    }
                }
                Step::Write(k, _) => {
                    cache.insert(k, k);
                }
                Step::Remove(k) => {
                    cache.remove(&k);
                }
            }
            clock.tick();
        }
        let captured = cache.take_captured();
        let reads = captured.iter().filter(|r| r.op.is_read()).count() as u64;
        let replayed = format!("ttl:ttl=0,base={spec},clock=wall");
        let options = SimOptions { honour_ops: true, ..SimOptions::default() };
        let results = simulate(
            &mut VecReader::new(captured, false),
            &[Config::new(replayed.parse().unwrap(), 12)],
            &options,
            None,
        )
        .unwrap();
        prop_assert_eq!(results[0].counters.hits, cache.cache_info().hits);
        prop_assert_eq!(results[0].counters.requests, reads);
        prop_assert!(cache.take_captured().is_empty());
    }
}

/// A cache built without a default TTL runs its policy without the TTL layer until the
/// first insert with a TTL, and puts the layer on then; before and after, it decides as the
/// simulator's TTL layer over the same base, fed the same requests from the start, does.
#[test]
fn per_entry_ttls_on_a_cache_without_a_default_decide_as_the_ttl_layer_does() {
    const KEYS: u64 = 15;
    for spec in online() {
        let clock = LogicalClock::new();
        let mut cache = Cache::builder()
            .policy(&spec)
            .capacity(6)
            .seed(1)
            .hasher(Identity)
            .clock(clock.clone())
            .build()
            .unwrap();
        let mut sim = Ttl::with_params(
            build(&spec, 6, 1),
            TtlParams {
                ttl: 0,
                clock: TtlClock::Wall,
            },
        );
        let mut state = 12_345u64;
        for step in 0..400u64 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let key = (state >> 33) % KEYS;
            let now = cachelab::cache::Clock::now(&clock);
            // The first 100 steps use no TTL, so the layer goes on mid-stream.
            if step >= 100 && (state >> 20).is_multiple_of(4) {
                let ttl = 1 + (state >> 40) % 8;
                cache.insert_with_ttl(key, key, ttl);
                let ttl = ttl as u32;
                sim.set(&Request {
                    time: now,
                    ttl,
                    ..Request::get(key, 1)
                });
            } else {
                let hits = cache.cache_info().hits;
                cache.get_or_insert_with(key, || key);
                let hit = cache.cache_info().hits > hits;
                let expected = sim
                    .get(&Request {
                        time: now,
                        ..Request::get(key, 1)
                    })
                    .hit;
                assert_eq!(hit, expected, "{spec}: step {step}, key {key}");
            }
            let held: Vec<u64> = (0..KEYS).filter(|k| cache.contains(k)).collect();
            let expected: Vec<u64> = (0..KEYS).filter(|&k| sim.contains(k)).collect();
            assert_eq!(held, expected, "{spec}: step {step}");
            clock.tick();
        }
        let base = sim.name();
        assert_eq!(cache.policy_name(), base, "{spec}");
    }
}
