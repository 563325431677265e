//! The cost of workload capture (issue 17): `get` hits and `get_or_insert_with` over a
//! skewed stream of `u64` keys on a 10,000-entry LRU cache, with no capture, in-memory
//! capture ([`Builder::capture`]), and capture to an oracleGeneral file at rates 1 and
//! 0.01 ([`Builder::capture_to`]). Each iteration runs the stream once on a fresh cache
//! built outside the timing; a capture file is dropped unfinished (what is timed is the
//! recording, not the final next-access pass). The same modes on a 4-shard
//! [`cachelab::cache::sync::Cache`] (`get_with` from two threads, each half the stream)
//! show what the shards' shared record counter costs. `cargo bench --bench capture`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

use cachelab::cache::{Builder, Cache, CaptureFile, LogicalClock};

const KEYS: u64 = 10_000;
const STREAM: usize = 100_000;

fn stream() -> Vec<u64> {
    // Squared uniform: skewed towards small keys; 17,500 distinct keys below 4 × KEYS.
    (0..STREAM as u64)
        .map(|i| {
            let x = (i.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % 20_000;
            x * x / 10_000
        })
        .collect()
}

/// What is captured: (name, file sampling rate if to a file, in memory).
const MODES: [(&str, Option<f64>, bool); 4] = [
    ("none", None, false),
    ("memory", None, true),
    ("file rate 1", Some(1.0), false),
    ("file rate 0.01", Some(0.01), false),
];

/// An LRU cache of `KEYS` entries on a logical clock, capturing as `rate` and `memory` say
/// (to `dir/NAME.oracleGeneral` when `rate` is given).
fn builder(
    dir: &std::path::Path,
    name: &str,
    rate: Option<f64>,
    memory: bool,
) -> Builder<u64, u64> {
    let mut builder: Builder<u64, u64> = Cache::builder()
        .policy("lru")
        .capacity(KEYS)
        .clock(LogicalClock::new());
    if memory {
        builder = builder.capture();
    }
    if let Some(rate) = rate {
        let path = dir.join(format!("{name}.oracleGeneral"));
        let file = CaptureFile::create(path.to_str().expect("utf-8"), rate).expect("capture file");
        builder = builder.capture_to(file);
    }
    builder
}

fn capture_overhead(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = stream();
    let mut group = c.benchmark_group("cache lru 10000, 100000 requests");
    group.throughput(Throughput::Elements(STREAM as u64));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
    for (n, (name, rate, memory)) in MODES.into_iter().enumerate() {
        let build = || {
            builder(dir.path(), &format!("{n}"), rate, memory)
                .build()
                .expect("lru")
        };
        group.bench_function(format!("get_or_insert_with, capture {name}"), |b| {
            b.iter_batched_ref(
                &build,
                |cache| {
                    for &k in &keys {
                        black_box(cache.get_or_insert_with(k, || k));
                    }
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("insert, capture {name}"), |b| {
            b.iter_batched_ref(
                &build,
                |cache| {
                    for &k in &keys {
                        black_box(cache.insert(k, k));
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn sync_capture_overhead(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = stream();
    let (first, second) = keys.split_at(STREAM / 2);
    let mut group = c.benchmark_group("sync cache lru 10000, 4 shards, 2 threads, 100000 requests");
    group.throughput(Throughput::Elements(STREAM as u64));
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(20);
    for (n, (name, rate, memory)) in MODES.into_iter().enumerate() {
        let build = || {
            builder(dir.path(), &format!("sync{n}"), rate, memory)
                .build_sync(4)
                .expect("lru")
        };
        group.bench_function(format!("get_with, capture {name}"), |b| {
            b.iter_batched_ref(
                &build,
                |cache| {
                    std::thread::scope(|scope| {
                        for half in [first, second] {
                            let cache = &*cache;
                            scope.spawn(move || {
                                for &k in half {
                                    black_box(cache.get_with(k, || k));
                                }
                            });
                        }
                    });
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, capture_overhead, sync_capture_overhead);
criterion_main!(benches);
