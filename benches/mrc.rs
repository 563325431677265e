//! Miss-ratio-curve speed per method: requests per second of each profiler's one pass over
//! a 1M-request Zipf(1.0) trace of 200,000 keys with log-normal sizes (median 4 KiB), in
//! memory, byte mode, one thread, plus the curve at 100 sizes. Prints the heap bytes each
//! method holds at the end (the exact method's per distinct object).
//!
//! The comparison with libCacheSim's `mrcProfiler` on the same traces, both tools timed in
//! the same run, is `scripts/mrc_vs_libcachesim.py` (end to end, reading the file).
//!
//! `cargo bench --bench mrc`; `CACHELAB_BENCH_MRC="exact;aet"` picks methods (separated by `;`).

mod common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use cachelab::mrc::{Grid, Method, Replay, Settings, profile_slice};

const METHODS: &[&str] = &[
    "exact",
    "shards:rate=0.1",
    "shards:rate=0.01",
    "shards:rate=0.01,hot=0",
    "shards:rate=0.001",
    "shards:size=8192",
    "aet",
    "aet:rate=0.01",
];

fn methods() -> Vec<Method> {
    let list: Vec<String> = match std::env::var("CACHELAB_BENCH_MRC") {
        Ok(list) => list.split(';').map(str::to_string).collect(),
        Err(_) => METHODS.iter().map(|m| m.to_string()).collect(),
    };
    list.iter()
        .map(|m| m.parse().expect("valid method"))
        .collect()
}

/// The replay no method here asks for (the trace keeps its sizes and the grid starts above
/// the largest object).
struct NoReplay;

impl Replay for NoReplay {
    fn simulate(
        &self,
        method: &str,
        _configs: &[cachelab::sim::Config],
    ) -> Result<Vec<cachelab::sim::RunResult>, cachelab::mrc::MrcError> {
        panic!("{method} asked for a second pass");
    }
}

fn bench(c: &mut Criterion) {
    let requests = common::zipf_million();
    let mut group = c.benchmark_group("mrc");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for method in methods() {
        group.bench_with_input(
            BenchmarkId::new("pass", method.to_string()),
            &method,
            |b, method| {
                b.iter(|| {
                    let mut profiler = method.build(false, &[], 0);
                    for chunk in requests.chunks(1 << 16) {
                        profiler.feed(chunk);
                    }
                    profiler
                })
            },
        );
    }
    group.finish();
    let grid = Grid::default();
    for method in methods() {
        let mut profiler = method.build(false, &[], 0);
        profiler.feed(&requests);
        let ws = profiler.working_set();
        let sizes = grid.sizes(ws.bytes as u64, &[]);
        profiler
            .finish(&sizes, &NoReplay)
            .expect("the curve is computed");
        eprintln!(
            "{method}: {} heap bytes at the end ({:.1} per distinct object of {:.0})",
            profiler.heap_bytes(),
            profiler.heap_bytes() as f64 / ws.objects.max(1.0),
            ws.objects
        );
    }
    // The whole run as `cachelab mrc` does it, every method in one read.
    let all = methods();
    let settings = Settings {
        methods: &all,
        objects: false,
        grid: &grid,
        named: &[],
        seed: 0,
    };
    c.bench_function("mrc/all methods, one read", |b| {
        b.iter(|| profile_slice(&requests, &settings).expect("profiles"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
