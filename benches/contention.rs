//! Speed of the contention experiments: the discrete-event simulator in simulated requests
//! per second (each request is one event pair and one [`cachelab::memcached::Store`]
//! operation; target ≥ 10 M/s), and the threads mode in counter updates per second per
//! strategy on 4 threads (wall time, one store behind a mutex).
//!
//! A third group times the store alone (`gets` + `cas` on one key) to show how much of a
//! simulated request is the store model itself.
//!
//! Groups are named by workload as quick-cache's benches are; throughput is set from the
//! requests (sim) or updates (threads) one iteration makes, counted once before timing.
//! Everything is seeded. `cargo bench --bench contention`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use cachelab::contention::backend::{CounterBackend, StoreBackend};
use cachelab::contention::{Delay, KeyDist, Mode, Strategy, Workload, run, sim};
use cachelab::memcached::{ServerClock, Settings, Store};

fn workload(strategy: Strategy, clients: u32, updates: u64) -> Workload {
    Workload {
        strategy,
        clients,
        updates_per_client: updates,
        keys: 16,
        key_dist: KeyDist::Zipf { alpha: 1.0 },
        backoff: "exp".parse().expect("valid backoff"),
        rtt: Delay::Uniform(100_000, 300_000),
        service: Delay::Fixed(5_000),
        seed: 7,
        ..Workload::default()
    }
}

fn sim_requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim clients=16 keys=16 zipf:1.0 rtt=uniform:100us-300us");
    group.measurement_time(Duration::from_secs(4));
    group.sample_size(20);
    for strategy in [
        Strategy::Naive,
        Strategy::Cas,
        Strategy::Incr,
        Strategy::Lease,
    ] {
        let w = workload(strategy, 16, 5_000);
        let requests = sim::run(&w).expect("valid workload").requests;
        group.throughput(Throughput::Elements(requests));
        group.bench_with_input(BenchmarkId::new("requests", strategy), &w, |b, w| {
            b.iter(|| sim::run(w).expect("valid workload").requests)
        });
    }
    group.finish();
}

fn thread_updates(c: &mut Criterion) {
    let mut group = c.benchmark_group("threads clients=4 keys=16 zipf:1.0");
    group.measurement_time(Duration::from_secs(4));
    group.sample_size(10);
    for strategy in [
        Strategy::Naive,
        Strategy::Cas,
        Strategy::Incr,
        Strategy::Lease,
    ] {
        let w = workload(strategy, 4, 20_000);
        group.throughput(Throughput::Elements(w.expected_updates()));
        group.bench_with_input(BenchmarkId::new("updates", strategy), &w, |b, w| {
            b.iter(|| run(Mode::Threads, w).expect("valid workload").updates)
        });
    }
    group.finish();
}

/// The store alone, for scale: one `gets` and one `cas` per element, no simulator.
fn store_requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("store gets+cas one key");
    group.measurement_time(Duration::from_secs(3));
    let store = Store::new(Settings::default(), ServerClock::manual(1)).expect("default settings");
    let mut backend = StoreBackend::new(store);
    let key = b"visitors".as_slice();
    backend.set(key, 0).expect("set");
    group.throughput(Throughput::Elements(2));
    group.bench_function("requests", |b| {
        b.iter(|| {
            let (v, cas) = backend.gets(key).expect("gets").expect("present");
            backend.cas(key, v + 1, cas).expect("cas")
        })
    });
    group.finish();
}

criterion_group!(benches, sim_requests, thread_updates, store_requests);
criterion_main!(benches);
