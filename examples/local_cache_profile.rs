//! A small driver for profiling a local cache's hot path with callgrind or perf: two
//! passes of the `local_caches` bench's Zipf(0.9) stream through `get`, and `insert` on a
//! miss, on a cachelab `Cache` with the given policy, on the `lru` crate (`crate`), or on
//! the simulator's own LRU with keys only and no cache around it (`policy`: the floor of
//! what a cache sharing the simulator's policy code can cost).
//!
//! ```sh
//! cargo build --release --example local_cache_profile
//! valgrind --tool=callgrind target/release/examples/local_cache_profile lru 1000
//! valgrind --tool=callgrind target/release/examples/local_cache_profile crate 1000
//! valgrind --tool=callgrind target/release/examples/local_cache_profile policy 1000
//! ```
//!
//! Instructions per operation are callgrind's inclusive count for `run_cachelab` (or
//! `run_lru`, `run_policy`) over the two million operations. The last line printed is
//! the run's wall-clock throughput: noisy, so compare the best of several interleaved runs.
//!
//! Here `get` and `insert` have one call site each, so the compiler inlines all of both
//! into the loop, and can carry what `get` learnt into `insert`. A program calling them
//! from several places gets less: the `local_caches` bench is that case, and callgrind
//! can count it in the bench binary itself (`--bench --profile-time 2 "BENCH ID"`; see
//! the README's targets for issue 17).

// The OLTP stream and `distinct` are the bench's; this driver reads the Zipf stream only.
#[allow(dead_code)]
#[path = "../tests/common/streams.rs"]
mod streams;

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::Instant;

/// Two passes of `keys` through `get_or_insert` (true on a hit); the hits.
fn two_passes(keys: &[u64], mut get_or_insert: impl FnMut(u64) -> bool) -> u64 {
    let mut hits = 0;
    for _ in 0..2 {
        for &k in keys {
            hits += u64::from(get_or_insert(k));
        }
    }
    hits
}

/// Two passes of `keys` through a cachelab cache with policy `spec`; the hits.
#[inline(never)]
fn run_cachelab(keys: &[u64], capacity: u64, spec: &str) -> u64 {
    let mut cache = cachelab::cache::Cache::builder()
        .policy(spec)
        .capacity(capacity)
        .build()
        .unwrap_or_else(|e| panic!("policy {spec}: {e}"));
    two_passes(keys, |k| {
        if cache.get(&k).is_some() {
            return true;
        }
        cache.insert(k, k);
        false
    })
}

/// The same two passes through the simulator's own LRU, keys only (no values, no cache
/// around it): the floor of what the shared policy code costs.
#[inline(never)]
fn run_policy(keys: &[u64], capacity: u64) -> u64 {
    use cachelab::policy::Policy;
    let mut lru = cachelab::policy::lru::Lru::new(capacity);
    two_passes(keys, |k| {
        lru.get(&cachelab::request::Request::get(k, 1)).hit
    })
}

/// The same two passes through the `lru` crate.
#[inline(never)]
fn run_lru(keys: &[u64], capacity: u64) -> u64 {
    let mut cache = lru::LruCache::new(NonZeroUsize::new(capacity as usize).expect("capacity > 0"));
    two_passes(keys, |k| {
        if cache.get(&k).is_some() {
            return true;
        }
        cache.put(k, k);
        false
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "lru".into());
    let capacity: u64 = match args.next().map(|s| s.parse()) {
        None => 1000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: local_cache_profile [POLICY|crate|policy] [CAPACITY > 0]");
            std::process::exit(2);
        }
    };
    let keys = streams::zipf_stream();
    let start = Instant::now();
    let hits = if which == "crate" {
        run_lru(&keys, capacity)
    } else if which == "policy" {
        run_policy(&keys, capacity)
    } else {
        run_cachelab(&keys, capacity, &which)
    };
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{which} at {capacity}: {} hits of {} reads, {:.1} M ops/s",
        black_box(hits),
        2 * keys.len(),
        2.0 * keys.len() as f64 / seconds / 1e6
    );
}
