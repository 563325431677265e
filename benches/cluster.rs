//! Cluster replay speed: requests per second of a 1M-request Zipf(1.0) trace (200,000 keys,
//! log-normal sizes, median 4 KiB) through 8 nodes of 64 MiB placed by ketama, on one
//! core, from memory: with LRU nodes (the placement and bookkeeping's own cost) and with
//! the memcached model (which stores real values).
//!
//! `cargo bench --bench cluster`.

mod common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use cachelab::cluster::{ClusterJob, HashKind, Window, replay_cluster};
use cachelab::trace::VecReader;

fn bench(c: &mut Criterion) {
    let requests = common::zipf_million();
    let mut group = c.benchmark_group("cluster");
    group.throughput(Throughput::Elements(requests.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for policy in ["lru", "memcached"] {
        let job = ClusterJob {
            nodes: "8x64MiB".parse().expect("valid nodes"),
            hash: HashKind::Ketama,
            policy: policy.parse().expect("valid policy"),
            window: Window::Requests(100_000),
            failure: None,
            join: None,
            only_node: None,
            top: 10,
            seed: 0,
        };
        group.bench_with_input(BenchmarkId::new("8 nodes", policy), &job, |b, job| {
            b.iter(|| {
                let mut reader = VecReader::new(requests.clone(), false);
                replay_cluster(&mut reader, job, "zipf").expect("replays")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
