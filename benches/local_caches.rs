//! `cachelab::cache::Cache` and `cachelab::cache::sync::Cache` beside the Rust caches
//! programs use today — `lru`, `quick_cache`, `moka`, `mini-moka` and `foyer` (its in-memory
//! cache) — each with its own defaults (hasher, shards, policy), driven the way programs
//! drive a cache: read the key, insert it on a miss (mokabench's loop).
//!
//! Three parts:
//! - **Hit ratios** (printed as a table first: they are decisions, not timings, and repeat
//!   for a given stream): a seeded Zipf(0.9) stream of 1M reads over 100,000 keys, and the
//!   ARC paper's `OLTP` trace (bundled `traces/OLTP.lis.zst`, read with cachelab's own
//!   trace reader), at capacities of 1% and 10% of each stream's distinct keys.
//! - **Throughput** (criterion, `Throughput::Elements`): the same Zipf stream, one pass per
//!   iteration on a cache warmed by one pass outside the timing; one thread for every cache,
//!   two threads (each reading its own half of the stream) for the thread-safe ones.
//! - **Eviction sink**: `Policy::get` (the simulator's path) beside `Policy::get_evicting`
//!   (the cache's path) on the same requests, so "naming evictions costs the plain path
//!   nothing" has a number.
//!
//! `cargo bench --bench local_caches`; `-- 'zipf0.9 1 thread'` runs one group. The table
//! alone: `cargo bench --bench local_caches -- --list`.

use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
};

#[path = "../tests/common/streams.rs"]
mod streams;

use cachelab::catalog::CATALOG;
use cachelab::request::Request;
use streams::{ZIPF_KEYS, distinct, oltp_stream, zipf_stream};

/// cachelab policies shown: LRU (the `lru` crate's policy), S3-FIFO and W-TinyLFU (the
/// hit-ratio winners), and SIEVE (a hit sets one bit, so the fastest hit path).
const CACHELAB_POLICIES: [&str; 4] = ["lru", "s3fifo", "wtinylfu", "sieve"];
/// W-TinyLFU tuned for a static skewed workload: Caffeine's counting, a long memory and a
/// wide sketch (see `cachelab::policy::wtinylfu`, "Choosing parameters").
const WTINYLFU_SKEWED: &str = "wtinylfu:count=access,sample=100,width=64";

/// A cache driven by one thread: read `key`, insert it on a miss; true on a hit.
trait Local {
    fn get_or_insert(&mut self, key: u64) -> bool;
}

/// A cache shared by threads, driven the same way.
trait Shared: Sync {
    fn get_or_insert(&self, key: u64) -> bool;
}

/// A thread-safe cache used by one thread.
struct Alone<C>(C);

impl<C: Shared> Local for Alone<C> {
    #[inline]
    fn get_or_insert(&mut self, key: u64) -> bool {
        self.0.get_or_insert(key)
    }
}

/// `get_or_insert` for caches whose API is `get(&key)` and an insert of `(key, value)`
/// (named `$insert`): every peer is driven through the same few lines.
macro_rules! get_or_insert {
    ($trait:ident for $cache:ty, $self:ty, $insert:ident $(, $generic:ident: $bound:path)?) => {
        impl$(<$generic: $bound>)? $trait for $cache {
            #[inline]
            fn get_or_insert(self: $self, key: u64) -> bool {
                if self.get(&key).is_some() {
                    return true;
                }
                self.$insert(key, key);
                false
            }
        }
    };
}

get_or_insert!(Local for cachelab::cache::Cache<u64, u64, H>, &mut Self, insert, H: BuildHasher);
get_or_insert!(Shared for cachelab::cache::sync::Cache<u64, u64>, &Self, insert);
get_or_insert!(Local for lru::LruCache<u64, u64>, &mut Self, put);
get_or_insert!(Local for quick_cache::unsync::Cache<u64, u64>, &mut Self, insert);
get_or_insert!(Shared for quick_cache::sync::Cache<u64, u64>, &Self, insert);
get_or_insert!(Shared for moka::sync::Cache<u64, u64>, &Self, insert);
get_or_insert!(Shared for mini_moka::sync::Cache<u64, u64>, &Self, insert);
get_or_insert!(Shared for foyer::Cache<u64, u64>, &Self, insert);

fn cachelab_local(spec: &str, capacity: u64) -> cachelab::cache::Cache<u64, u64> {
    cachelab::cache::Cache::builder()
        .policy(spec)
        .capacity(capacity)
        .build()
        .expect("registered policy")
}

/// A cachelab `sync::Cache` with its default shard count (`sync::default_shards`: 16 per
/// core while a shard keeps 32 entries; quick_cache takes 4 per core rounded to a power of
/// two, foyer 8).
fn cachelab_sync(spec: &str, capacity: u64) -> cachelab::cache::sync::Cache<u64, u64> {
    let shards = cachelab::cache::sync::default_shards(capacity);
    cachelab::cache::sync::Cache::new(spec, capacity, shards).expect("registered policy")
}

fn lru_crate(capacity: u64) -> lru::LruCache<u64, u64> {
    lru::LruCache::new(NonZeroUsize::new(capacity as usize).expect("capacity above 0"))
}

fn quick_unsync(capacity: u64) -> quick_cache::unsync::Cache<u64, u64> {
    quick_cache::unsync::Cache::new(capacity as usize)
}

fn quick_sync(capacity: u64) -> quick_cache::sync::Cache<u64, u64> {
    quick_cache::sync::Cache::new(capacity as usize)
}

fn moka_sync(capacity: u64) -> moka::sync::Cache<u64, u64> {
    moka::sync::Cache::new(capacity)
}

fn mini_moka_sync(capacity: u64) -> mini_moka::sync::Cache<u64, u64> {
    mini_moka::sync::Cache::new(capacity)
}

/// foyer's in-memory cache with its defaults (LRU, 8 shards).
fn foyer_lru(capacity: u64) -> foyer::Cache<u64, u64> {
    foyer::CacheBuilder::new(capacity as usize).build()
}

/// foyer's in-memory cache with its W-TinyLFU-like `Lfu` eviction.
fn foyer_lfu(capacity: u64) -> foyer::Cache<u64, u64> {
    foyer::CacheBuilder::new(capacity as usize)
        .with_eviction_config(foyer::LfuConfig::default())
        .build()
}

/// Hits out of `keys` for a fresh cache (cold start, every read counted).
fn hits(cache: &mut impl Local, keys: &[u64]) -> u64 {
    keys.iter().filter(|&&k| cache.get_or_insert(k)).count() as u64
}

/// One row of the hit-ratio table: the cache's name and its hit ratio at each capacity.
fn hit_row<C: Local>(name: &str, make: impl Fn(u64) -> C, keys: &[u64], caps: &[u64]) -> String {
    let mut row = format!("| {name} |");
    for &capacity in caps {
        let ratio = hits(&mut make(capacity), keys) as f64 / keys.len() as f64;
        row += &format!(" {:.2} |", 100.0 * ratio);
    }
    row
}

/// Prints the hit ratio of every cache on `keys` at 1% and 10% of `key_space` keys.
fn print_hit_ratios(title: &str, keys: &[u64], key_space: u64) {
    let caps = [key_space / 100, key_space / 10];
    println!(
        "\nhit ratio (%) on {title}: {} reads of {} distinct keys; capacity {} (1%) and {} (10%) of {key_space} keys\n",
        keys.len(),
        distinct(keys),
        caps[0],
        caps[1]
    );
    println!("| cache | 1% | 10% |\n| --- | ---: | ---: |");
    for spec in CACHELAB_POLICIES.iter().chain(&["arc", WTINYLFU_SKEWED]) {
        let name = format!("cachelab Cache {spec}");
        println!(
            "{}",
            hit_row(&name, |c| cachelab_local(spec, c), keys, &caps)
        );
    }
    for spec in CACHELAB_POLICIES {
        let name = format!("cachelab sync::Cache {spec} (default shards)");
        let row = hit_row(&name, |c| Alone(cachelab_sync(spec, c)), keys, &caps);
        println!("{row}");
    }
    println!("{}", hit_row("lru", lru_crate, keys, &caps));
    println!(
        "{}",
        hit_row("quick_cache unsync", quick_unsync, keys, &caps)
    );
    let quick = |c| Alone(quick_sync(c));
    println!("{}", hit_row("quick_cache sync", quick, keys, &caps));
    println!(
        "{}",
        hit_row("moka sync", |c| Alone(moka_sync(c)), keys, &caps)
    );
    let mini = |c| Alone(mini_moka_sync(c));
    println!("{}", hit_row("mini-moka sync", mini, keys, &caps));
    let foyer = |c| Alone(foyer_lru(c));
    println!("{}", hit_row("foyer (default: lru)", foyer, keys, &caps));
    let foyer = |c| Alone(foyer_lfu(c));
    println!("{}", hit_row("foyer lfu", foyer, keys, &caps));
}

/// Hit ratios first (not timings), once per bench run, unless `CACHELAB_BENCH_HIT_RATIOS=0`
/// (when profiling one timing). The Zipf key space is its 100,000 keys (the stream reads
/// about 91% of them); OLTP's is the distinct blocks it reads.
fn hit_ratios() {
    if std::env::var("CACHELAB_BENCH_HIT_RATIOS").is_ok_and(|v| v == "0") {
        return;
    }
    print_hit_ratios("Zipf(0.9)", &zipf_stream(), ZIPF_KEYS);
    let oltp = oltp_stream();
    print_hit_ratios("OLTP", &oltp, distinct(&oltp));
    println!();
}

/// A group of whole passes over `elements` requests: flat sampling, 10 samples of about
/// 3 s in all (a pass takes tens of milliseconds), so each run of the bench stays short.
fn group<'a>(c: &'a mut Criterion, name: &str, elements: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(elements as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group
}

fn one_thread(c: &mut Criterion) {
    let keys = zipf_stream();
    let mut group = group(c, "zipf0.9 1 thread", keys.len());
    for pct in [1u64, 10] {
        let capacity = ZIPF_KEYS * pct / 100;
        let size = format!("{pct}%");
        let mut run = |name: &str, cache: &mut dyn FnMut() -> Box<dyn FnMut() -> u64>| {
            // Built and warmed by one pass outside the timing, only when the bench runs.
            let mut warm = None;
            group.bench_function(BenchmarkId::new(name, &size), |b| {
                let pass = warm.get_or_insert_with(|| {
                    let mut pass = cache();
                    pass();
                    pass
                });
                b.iter(pass)
            });
        };
        for spec in CACHELAB_POLICIES {
            run(&format!("cachelab Cache {spec}"), &mut || {
                local_pass(cachelab_local(spec, capacity), &keys)
            });
        }
        for spec in CACHELAB_POLICIES {
            run(&format!("cachelab sync::Cache {spec}"), &mut || {
                local_pass(Alone(cachelab_sync(spec, capacity)), &keys)
            });
        }
        run("lru", &mut || local_pass(lru_crate(capacity), &keys));
        run("quick_cache unsync", &mut || {
            local_pass(quick_unsync(capacity), &keys)
        });
        run("quick_cache sync", &mut || {
            local_pass(Alone(quick_sync(capacity)), &keys)
        });
        run("moka sync", &mut || {
            local_pass(Alone(moka_sync(capacity)), &keys)
        });
        run("mini-moka sync", &mut || {
            local_pass(Alone(mini_moka_sync(capacity)), &keys)
        });
        run("foyer", &mut || {
            local_pass(Alone(foyer_lru(capacity)), &keys)
        });
    }
    group.finish();
}

/// One timed pass of `keys` over `cache`: returns the hits (so nothing is optimised away).
/// The closure is boxed, but the loop inside it is monomorphised per cache: one indirect
/// call per pass, not per read.
fn local_pass<'a, C: Local + 'a>(mut cache: C, keys: &'a [u64]) -> Box<dyn FnMut() -> u64 + 'a> {
    Box::new(move || hits(&mut cache, keys))
}

/// Hits of one pass split over two threads, each reading its own half of `keys`.
fn shared_pass<C: Shared>(cache: &C, keys: &[u64]) -> u64 {
    let (first, second) = keys.split_at(keys.len() / 2);
    std::thread::scope(|scope| {
        let halves = [first, second].map(|half| {
            scope.spawn(move || half.iter().filter(|&&k| cache.get_or_insert(k)).count() as u64)
        });
        halves
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .sum()
    })
}

fn bench_shared<C: Shared>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    make: impl Fn() -> C,
    keys: &[u64],
) {
    // Built and warmed by one pass outside the timing, only when the bench runs.
    let mut warm = None;
    group.bench_function(id, |b| {
        let cache = warm.get_or_insert_with(|| {
            let cache = make();
            shared_pass(&cache, keys);
            cache
        });
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                std::hint::black_box(shared_pass(cache, keys));
            }
            start.elapsed()
        })
    });
}

fn two_threads(c: &mut Criterion) {
    let keys = zipf_stream();
    let mut group = group(c, "zipf0.9 2 threads", keys.len());
    for pct in [1u64, 10] {
        let capacity = ZIPF_KEYS * pct / 100;
        let id = |name: &str| BenchmarkId::new(name, format!("{pct}%"));
        for spec in CACHELAB_POLICIES {
            let name = id(&format!("cachelab sync::Cache {spec}"));
            bench_shared(&mut group, name, || cachelab_sync(spec, capacity), &keys);
        }
        let quick = || quick_sync(capacity);
        bench_shared(&mut group, id("quick_cache sync"), quick, &keys);
        bench_shared(&mut group, id("moka sync"), || moka_sync(capacity), &keys);
        let mini = || mini_moka_sync(capacity);
        bench_shared(&mut group, id("mini-moka sync"), mini, &keys);
        bench_shared(&mut group, id("foyer"), || foyer_lru(capacity), &keys);
    }
    group.finish();
}

/// `Policy::get` (no sink) beside `Policy::get_evicting` with a counting sink, from an
/// empty policy each pass, on the Zipf stream at 1% and 10%.
fn eviction_sink(c: &mut Criterion) {
    let requests: Vec<Request> = zipf_stream()
        .into_iter()
        .map(|k| Request::get(k, 1))
        .collect();
    let mut group = group(c, "policy path zipf0.9", requests.len());
    for name in ["lru", "s3fifo"] {
        let spec = name.parse().expect("registered policy spec");
        for pct in [1u64, 10] {
            let capacity = ZIPF_KEYS * pct / 100;
            let fresh = || {
                CATALOG
                    .build(&spec, capacity, 1)
                    .expect("registered policy")
            };
            let size = format!("{pct}%");
            group.bench_function(BenchmarkId::new(format!("{name} get"), &size), |b| {
                b.iter_batched_ref(
                    fresh,
                    |policy| requests.iter().filter(|r| policy.get(r).hit).count(),
                    criterion::BatchSize::LargeInput,
                )
            });
            let id = BenchmarkId::new(format!("{name} get_evicting"), &size);
            group.bench_function(id, |b| {
                b.iter_batched_ref(
                    fresh,
                    |policy| {
                        let mut evicted = 0u64;
                        let mut sink = |_key: u64, _size: u32| evicted += 1;
                        let hits = requests
                            .iter()
                            .filter(|r| policy.get_evicting(r, &mut sink).hit)
                            .count();
                        (hits, evicted)
                    },
                    criterion::BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, one_thread, two_threads, eviction_sink);

fn main() {
    hit_ratios();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
