//! Replay speed per policy on a 1M-request Zipf(0.8) trace over 100,000 keys, in object
//! mode, at 1% and 10% of the working set, single-threaded, beside libCacheSim's speed on
//! the same trace and sizes measured in the same run (its hash table sized to the trace,
//! `hashpower=17`), so the ratio is honest on a noisy machine.
//!
//! libCacheSim runs through `scripts/lcs_replay.py`, which times only `process_trace` (the
//! C replay loop, reading the memory-mapped oracleGeneral file); cachelab replays from a
//! `Vec<Request>` through `Box<dyn Policy>` with `Policy::get_batch`, the engine's own loop. Also prints the bytes of
//! metadata per cached object of each policy at the end of a replay.
//!
//! `cargo bench --bench policies`; `CACHELAB_BENCH_POLICIES=lru,fifo` picks policies.

use std::process::Command;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use cachelab::catalog::CATALOG;
use cachelab::request::Request;
use cachelab::sim::{Counters, WorkingSet};
use cachelab::trace;
use cachelab::trace::generate::{GenOptions, Generator};

fn zipf_trace() -> Vec<Request> {
    let options = GenOptions {
        dist: "zipf:alpha=0.8".parse().expect("valid distribution"),
        keys: 100_000,
        requests: 1_000_000,
        sizes: "fixed:1".parse().expect("valid sizes"),
        seed: 42,
    };
    let mut generator = Generator::new(options).expect("valid generator options");
    trace::read_all(&mut generator).expect("generation does not fail")
}

fn policies() -> Vec<String> {
    match std::env::var("CACHELAB_BENCH_POLICIES") {
        Ok(list) => list.split(',').map(str::to_string).collect(),
        Err(_) => CATALOG
            .plain()
            .filter(|p| !p.needs_next_access)
            .map(|p| p.name.to_string())
            .collect(),
    }
}

/// Seconds libCacheSim spends replaying `iters` times, or `None` when it is not installed.
fn libcachesim_seconds(path: &str, policy: &str, size: u64, iters: u64) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/lcs_replay.py");
    let out = Command::new("python3")
        .args([
            script,
            path,
            policy,
            &size.to_string(),
            "--objects",
            "--hashpower",
            "17",
        ])
        .args(["--iters", &iters.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "libCacheSim replay failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    json["seconds"].as_f64()
}

fn replay(c: &mut Criterion) {
    let requests = zipf_trace();
    let objects = WorkingSet::of(&requests).objects;
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("zipf.oracleGeneral");
    let path = path.to_string_lossy().into_owned();
    trace::write_trace(&path, &requests).expect("write the trace for libCacheSim");
    let have_lcs = libcachesim_seconds(&path, "lru", 1000, 1).is_some();
    if !have_lcs {
        eprintln!(
            "\n*** libCacheSim is not installed (pip install libcachesim): no baseline measured ***\n"
        );
    }

    let mut group = c.benchmark_group(format!("replay Zipf(0.8) N=100000 R={}", requests.len()));
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    for name in policies() {
        for pct in [1u64, 10] {
            let capacity = objects * pct / 100;
            let spec = name.parse().expect("registered policy spec");
            group.bench_function(
                BenchmarkId::new(format!("cachelab {name}"), format!("{pct}%")),
                |b| {
                    b.iter_batched_ref(
                        || {
                            CATALOG
                                .build(&spec, capacity, 1)
                                .expect("registered policy")
                        },
                        |policy| {
                            let mut counters = Counters::default();
                            policy.get_batch(&requests, &mut counters);
                            counters.hits
                        },
                        criterion::BatchSize::LargeInput,
                    )
                },
            );
            let mut policy = CATALOG
                .build(&spec, capacity, 1)
                .expect("registered policy");
            requests.iter().for_each(|r| {
                policy.get(r);
            });
            println!(
                "memory: {name} at {pct}%: {:.1} bytes of metadata per cached object ({} objects)",
                policy.heap_bytes() as f64 / policy.len().max(1) as f64,
                policy.len()
            );
            if have_lcs && lcs_name_known(&name) {
                group.bench_function(
                    BenchmarkId::new(format!("libCacheSim {name}"), format!("{pct}%")),
                    |b| {
                        b.iter_custom(|iters| {
                            let seconds = libcachesim_seconds(&path, &name, capacity, iters)
                                .expect("libCacheSim replayed this trace a moment ago");
                            Duration::from_secs_f64(seconds)
                        })
                    },
                );
            }
        }
    }
    group.finish();
}

fn lcs_name_known(name: &str) -> bool {
    matches!(
        name,
        "lru"
            | "fifo"
            | "lfu"
            | "clock"
            | "arc"
            | "2q"
            | "slru"
            | "sieve"
            | "s3fifo"
            | "wtinylfu"
            | "lirs"
            | "random"
    )
}

criterion_group!(benches, replay);
criterion_main!(benches);
