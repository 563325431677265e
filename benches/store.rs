//! In-process speed of the memcached store model: `get` (hits), `set` (overwrites) and
//! `cas` (each with a fresh CAS id) over 10,000 keys with 100-byte values, in operations per
//! second. The store is built and filled outside the timing; keys are pre-formatted, so
//! what is timed is the store. `cargo bench --bench store`.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use cachelab::memcached::model::store::{Store, StoreOutcome};
use cachelab::memcached::{ServerClock, Settings};

const KEYS: usize = 10_000;

fn filled_store(keys: &[Vec<u8>], value: &[u8]) -> Store {
    let mut store =
        Store::new(Settings::default(), ServerClock::manual(1)).expect("default settings");
    for key in keys {
        store.set(key, value, 0, 0).expect("valid key");
    }
    store
}

fn store_ops(c: &mut Criterion) {
    let keys: Vec<Vec<u8>> = (0..KEYS).map(|k| format!("key:{k}").into_bytes()).collect();
    let value = vec![b'x'; 100];
    let mut group = c.benchmark_group("store 10000 keys, 100-byte values");
    group.throughput(Throughput::Elements(KEYS as u64));
    group.measurement_time(Duration::from_secs(3));

    let mut store = filled_store(&keys, &value);
    group.bench_function("get", |b| {
        b.iter(|| {
            let mut hits = 0;
            for key in &keys {
                hits += usize::from(store.get(key).expect("valid key").is_some());
            }
            assert_eq!(hits, KEYS);
        })
    });
    group.bench_function("set", |b| {
        b.iter(|| {
            for key in &keys {
                store.set(key, &value, 0, 0).expect("valid key");
            }
        })
    });
    group.bench_function("gets+cas", |b| {
        b.iter(|| {
            for key in &keys {
                let cas = store
                    .get(key)
                    .expect("valid key")
                    .map_or(0, |item| item.cas);
                let outcome = store.cas(key, &value, 0, 0, cas).expect("valid key");
                assert!(matches!(outcome, StoreOutcome::Stored { .. }));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, store_ops);
criterion_main!(benches);
