//! The thread-safe cache built from the full builder, `Memo`'s TTL form, and capture on both
//! (issue 17): TTL rules hand-worked in logical "requests" units, single-flight with a TTL,
//! every builder setting reaching every shard, and a captured memo workload that replays
//! through `cachelab sim` (one shard) or the simulator per shard (several) to the hits and
//! misses the memo saw.

mod common;

use common::capture::{as_oracle, full, read_back};
use common::fixed_hash::{Fixed, id_of};
use common::ok;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cachelab::cache::{
    BuildError, Cache, CaptureFile, Clock, LogicalClock, Memo, RemovalCause, sync,
};
use cachelab::policy::Policy;
use cachelab::request::{Op, Request};
use cachelab::sim::{Config, SimOptions, simulate_slice};

/// A skewed, repeatable argument sequence over 400 values (small values most often),
/// varied by `salt`.
fn keys(n: u64, salt: u64) -> impl Iterator<Item = u64> {
    (0..n).map(move |i| {
        let x = ((i ^ salt.wrapping_mul(0xA076_1D64_78BD_642F))
            .wrapping_mul(0x2545_F491_4F6C_DD1D)
            >> 40)
            % 1000;
        x * x / 2500
    })
}

/// `(hits, misses)` of `requests` replayed through `spec` at `capacity` objects.
fn replay(requests: &[Request], spec: &str, capacity: u64) -> (u64, u64) {
    replay_with(requests, spec, capacity, &SimOptions::default())
}

/// The same, honouring the requests' operations (a captured delete removes), as a cache's
/// in-memory capture with TTLs is replayed.
fn replay_ops(requests: &[Request], spec: &str, capacity: u64) -> (u64, u64) {
    let options = SimOptions {
        honour_ops: true,
        ..SimOptions::default()
    };
    replay_with(requests, spec, capacity, &options)
}

/// `(hits, misses)` of `requests` through `spec` at `capacity` objects with `options`.
fn replay_with(
    requests: &[Request],
    spec: &str,
    capacity: u64,
    options: &SimOptions,
) -> (u64, u64) {
    let results = simulate_slice(
        requests,
        &[Config::new(spec.parse().unwrap(), capacity)],
        options,
    )
    .unwrap();
    (results[0].counters.hits, results[0].counters.misses)
}

// ---------------------------------------------------------------------------------------
// Memo's TTL form: cachetools.func.ttl_cache(maxsize, ttl, timer) with time in requests.
// ---------------------------------------------------------------------------------------

/// A memo of `x * 10` with a TTL of 3 requests on a logical clock, logging each computation.
#[test]
fn a_memo_with_a_ttl_follows_cachetools_rules_in_requests() {
    let requests = LogicalClock::new();
    let computed = Arc::new(Mutex::new(Vec::new()));
    let left = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&computed);
    let clock = requests.clone();
    let heard = Arc::clone(&left);
    let memo = Memo::new(move |x: &u64| {
        log.lock().unwrap().push((clock.now(), *x));
        x * 10
    })
    .policy("lru")
    .capacity(128)
    .ttl(3)
    .clock(requests.clone())
    .eviction_listener(move |k: u64, _v: u64, cause| heard.lock().unwrap().push((k, cause)))
    .build()
    .unwrap();

    // One call per request, the clock advancing one tick after each.
    //  t  arg  held before                  result
    //  0  a    -                            computed, expires 0+3 = 3
    //  1  b    a@3                          computed, expires 4
    //  2  a    a@3 b@4                      hit (2 < 3)
    //  3  a    a@3 b@4                      expired (3 <= 3): computed, expires 6
    //  4  b    a@6 b@4                      expired (4 <= 4): computed, expires 7
    //  5  a    a@6 b@7                      hit: reads do not extend it ...
    //  6  a    a@6 b@7                      ... so it expires at 6: computed, expires 9
    //  7  b    a@9 b@7                      expired: computed, expires 10
    //  8  a    a@9 b@10                     hit
    let (a, b) = (1u64, 2u64);
    let calls = [a, b, a, a, b, a, a, b, a];
    for &x in &calls {
        assert_eq!(memo.call(&x), x * 10);
        requests.tick();
    }
    assert_eq!(
        *computed.lock().unwrap(),
        vec![(0, a), (1, b), (3, a), (4, b), (6, a), (7, b)]
    );
    let info = memo.cache_info();
    assert_eq!((info.hits, info.misses), (3, 6));
    // Every recomputation followed the expiry of the previous result.
    assert_eq!(
        *left.lock().unwrap(),
        vec![
            (a, RemovalCause::Expired),
            (b, RemovalCause::Expired),
            (a, RemovalCause::Expired),
            (b, RemovalCause::Expired),
        ]
    );

    // A jump of the clock past every expiry: both results recomputed once each.
    requests.advance(100);
    memo.call(&a);
    memo.call(&b);
    memo.call(&a);
    assert_eq!(computed.lock().unwrap().len(), 8);
    assert_eq!(memo.cache_info().hits, 4);
}

/// Capacity and TTL together: an expired result is dropped before a live one is evicted.
#[test]
fn an_expired_result_makes_room_before_a_live_one_is_evicted() {
    let requests = LogicalClock::new();
    let left = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&left);
    let memo = Memo::new(|x: &u64| x + 1)
        .policy("lru")
        .capacity(2)
        .ttl(5)
        .clock(requests.clone())
        .eviction_listener(move |k: u64, _v: u64, cause| heard.lock().unwrap().push((k, cause)))
        .build()
        .unwrap();
    memo.call(&1); // t=0, expires 5
    requests.advance(3);
    memo.call(&2); // t=3, expires 8
    requests.advance(1);
    memo.call(&1); // t=4: a hit; 1 is now the most recently used, 2 the least
    requests.advance(1);
    // t=5: 1 expired (5 <= 5) though most recently used; 3 needs room. LRU alone would
    // evict 2; the TTL layer drops the expired 1 first.
    memo.call(&3);
    assert_eq!(*left.lock().unwrap(), vec![(1, RemovalCause::Expired)]);
    assert!(memo.cache().contains(&2) && memo.cache().contains(&3));
    assert_eq!(memo.cache_info().currsize, 2);
}

/// Single-flight still holds with a TTL: N threads missing one argument compute it once,
/// before and after it expires, and the waiting calls are not requests to the policy.
#[test]
fn single_flight_holds_with_a_ttl() {
    const THREADS: usize = 8;
    let requests = LogicalClock::new();
    let calls = AtomicUsize::new(0);
    let slow_square = |x: &u64| {
        calls.fetch_add(1, Ordering::SeqCst);
        // Long enough that every thread misses while the first one computes.
        std::thread::sleep(Duration::from_millis(200));
        x * x
    };
    let memo = Memo::new(slow_square)
        .policy("s3fifo")
        .capacity(16)
        .ttl(10)
        .clock(requests.clone())
        .capture()
        .build()
        .unwrap();
    let all_call = || common::all_at_once(THREADS, || memo.call(&9));
    assert_eq!(all_call(), vec![81; THREADS]);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one computation");
    requests.advance(9);
    assert_eq!(memo.call(&9), 81, "alive at 9 < 0 + 10");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    requests.advance(1);
    assert_eq!(all_call(), vec![81; THREADS]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "expired at 10 <= 10: computed once more for {THREADS} callers"
    );
    let info = memo.cache_info();
    assert_eq!(info.hits, 1);
    assert_eq!(
        info.misses,
        2 * THREADS as u64,
        "every waiting call is a miss"
    );
    // The policy saw the two computations' inserts, the hit, and the expired entry's drop.
    let ops: Vec<(u64, Op)> = memo
        .take_captured()
        .iter()
        .map(|r| (r.time, r.op))
        .collect();
    assert_eq!(
        ops,
        vec![(0, Op::Get), (9, Op::Get), (10, Op::Delete), (10, Op::Get)]
    );
}

// ---------------------------------------------------------------------------------------
// sync::Cache from the full builder.
// ---------------------------------------------------------------------------------------

#[test]
fn every_shard_gets_the_weigher_listener_clock_and_ttl() {
    let requests = LogicalClock::new();
    let left = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&left);
    // 100 units over 4 shards: 25 each. Values weigh what they say.
    let cache: sync::Cache<u64, u32, Fixed> = Cache::builder()
        .policy("lru")
        .capacity(100)
        .weigher(|_: &u64, v: &u32| *v)
        .ttl(50)
        .clock(requests.clone())
        .eviction_listener(move |k: u64, _v: u32, cause| heard.lock().unwrap().push((k, cause)))
        .hasher(Fixed)
        .build_sync(4)
        .unwrap();
    assert_eq!(cache.shard_count(), 4);
    assert_eq!(cache.cache_info().maxsize, 100);

    // 30 units fit the whole capacity but not a shard's part: rejected in every shard.
    cache.insert(7, 30);
    assert!(!cache.contains(&7));
    assert_eq!(*left.lock().unwrap(), vec![(7, RemovalCause::Rejected)]);
    left.lock().unwrap().clear();

    // Ten-unit values: two per shard.
    for k in 0..40u64 {
        cache.insert(k, 10);
    }
    let held: Vec<u64> = (0..40).filter(|k| cache.contains(k)).collect();
    let mut per_shard = [0usize; 4];
    for &k in &held {
        per_shard[cache.shard_index(&k)] += 1;
    }
    for (i, &n) in per_shard.iter().enumerate() {
        let keys_in_shard = (0..40u64).filter(|k| cache.shard_index(k) == i).count();
        assert_eq!(n, keys_in_shard.min(2), "shard {i}: {per_shard:?}");
    }
    assert_eq!(cache.cache_info().currsize, 10 * held.len() as u64);
    let evicted = left.lock().unwrap().len();
    assert_eq!(
        evicted,
        40 - held.len(),
        "every shard tells the one listener"
    );
    assert!(
        left.lock()
            .unwrap()
            .iter()
            .all(|&(_, c)| c == RemovalCause::Evicted)
    );
    left.lock().unwrap().clear();

    // One clock for every shard: 50 ticks expire every entry, wherever it is.
    requests.advance(50);
    assert!(held.iter().all(|k| cache.get(k).is_none()));
    let mut expired: Vec<u64> = left.lock().unwrap().iter().map(|&(k, _)| k).collect();
    expired.sort_unstable();
    assert_eq!(expired, held);
    assert!(cache.is_empty());

    // An entry's own TTL (TLRUCache) overrides the default, on the same clock.
    cache.insert_with_ttl(1, 10, 5);
    cache.insert(2, 10);
    requests.advance(4);
    assert!(cache.contains(&1) && cache.contains(&2));
    requests.advance(1);
    assert!(!cache.contains(&1), "1 expired at its own 5 ticks");
    assert!(cache.contains(&2), "2 lives its default 50");
}

#[test]
fn the_policy_factory_is_called_once_per_shard_with_its_part() {
    let parts = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&parts);
    let cache: sync::Cache<u64, u64> = Cache::builder()
        .capacity(10)
        .policy_with(move |capacity| {
            seen.lock().unwrap().push(capacity);
            Box::new(cachelab::policy::lru::Lru::new(capacity)) as Box<dyn Policy>
        })
        .build_sync(4)
        .unwrap();
    assert_eq!(*parts.lock().unwrap(), vec![3, 3, 2, 2]);
    assert_eq!(cache.cache_info().maxsize, 10);
}

#[test]
fn a_fixed_hasher_and_seed_repeat_the_decisions() {
    // `random` evicts by the seed, W-TinyLFU's sketch by the ids: two caches built alike
    // hold the same keys; a different seed makes `random` choose differently.
    for spec in ["random", "wtinylfu"] {
        let held = |seed: u64| -> Vec<u64> {
            let cache: sync::Cache<u64, u64, Fixed> = Cache::builder()
                .policy(spec)
                .capacity(64)
                .seed(seed)
                .hasher(Fixed)
                .build_sync(2)
                .unwrap();
            for k in keys(5_000, 1) {
                cache.get_with(k, || k);
            }
            (0..400).filter(|k| cache.contains(k)).collect()
        };
        assert_eq!(held(5), held(5), "{spec}");
        if spec == "random" {
            assert_ne!(held(5), held(6), "{spec}");
        }
    }
}

#[test]
fn shard_counts_the_capacity_cannot_cover_are_refused_with_a_reason() {
    let err = sync::Cache::<u64, u64>::new("lru", 3, 4)
        .err()
        .expect("3 < 4");
    assert!(matches!(
        err,
        BuildError::TooManyShards {
            capacity: 3,
            shards: 4
        }
    ));
    assert!(err.to_string().contains("split over 4 shards"), "{err}");
    let err = Cache::<u64, u64>::builder()
        .capacity(0)
        .build_sync(2)
        .err()
        .unwrap();
    assert!(matches!(err, BuildError::ZeroCapacity));
    // Shards that capture on their own are refused by with_shards (their records could
    // not be merged); build_sync is the way.
    let err = sync::Cache::<u64, u64>::with_shards(2, 10, |_, part| {
        Cache::builder().capacity(part).capture().build()
    })
    .err()
    .unwrap();
    assert!(matches!(err, BuildError::ShardCaptures));
    assert!(err.to_string().contains("build_sync"), "{err}");
    // Without a capture, with_shards works as before.
    let cache = sync::Cache::<u64, u64>::with_shards(2, 10, |_, part| {
        Cache::builder().capacity(part).build()
    })
    .unwrap();
    cache.insert(1, 2);
    assert_eq!(cache.get(&1), Some(2));
}

// ---------------------------------------------------------------------------------------
// Capture on sync::Cache and Memo.
// ---------------------------------------------------------------------------------------

/// One shard: the captured file replayed by `cachelab sim` gives the memo's own hits and
/// misses, for each policy.
#[test]
fn a_memo_capture_replays_through_cachelab_sim_to_the_memos_hits_and_misses() {
    let dir = tempfile::tempdir().unwrap();
    for spec in ["lru", "s3fifo", "wtinylfu"] {
        let trace = dir.path().join(format!("{spec}.oracleGeneral.zst"));
        let trace = trace.to_str().unwrap();
        let requests = LogicalClock::new();
        let memo = Memo::new(|x: &u64| x.count_ones())
            .policy(spec)
            .capacity(12)
            .hasher(Fixed)
            .clock(requests.clone())
            .capture_to(CaptureFile::create(trace, 1.0).unwrap())
            .build()
            .unwrap();
        for x in keys(5_000, 0) {
            memo.call(&x);
            requests.tick();
        }
        let summary = memo.finish_capture().expect("capturing").expect("written");
        assert!(memo.finish_capture().is_none(), "finished once");
        assert_eq!((summary.seen, summary.written), (5_000, 5_000));
        let info = memo.cache_info();
        assert!(info.hits > 0 && info.misses > 0, "{info:?}");

        let csv = dir.path().join(format!("{spec}.csv"));
        ok(&[
            "sim",
            trace,
            "-p",
            spec,
            "-s",
            "12",
            "--objects",
            "-o",
            csv.to_str().unwrap(),
        ]);
        let mut rows = csv::Reader::from_path(&csv).unwrap();
        let header = rows.headers().unwrap().clone();
        let row = rows.records().next().unwrap().unwrap();
        let field = |name: &str| -> u64 {
            let at = header.iter().position(|h| h == name).unwrap();
            row[at].parse().unwrap()
        };
        assert_eq!(field("requests"), 5_000, "{spec}");
        assert_eq!(field("hits"), info.hits, "{spec}");
        assert_eq!(field("misses"), info.misses, "{spec}");
    }
}

/// Several shards, called from several threads at once: the file is one valid trace (the
/// merged in-memory capture, in time order, with next accesses over the whole), and each
/// shard's part of it replays at the shard's capacity to that shard's hits.
#[test]
fn several_shards_capture_one_trace_that_replays_per_shard() {
    const SHARDS: usize = 4;
    const THREADS: u64 = 4;
    const CAPACITY: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("memo.oracleGeneral");
    let trace = trace.to_str().unwrap();
    let requests = LogicalClock::new();
    let memo = Memo::new(|x: &u64| x * 3)
        .policy("s3fifo")
        .capacity(CAPACITY)
        .shards(SHARDS)
        .hasher(Fixed)
        .clock(requests.clone())
        .capture()
        .capture_to(CaptureFile::create(trace, 1.0).unwrap())
        .build()
        .unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (memo, requests) = (&memo, &requests);
            scope.spawn(move || {
                for (i, x) in keys(3_000, t).enumerate() {
                    assert_eq!(memo.call(&x), x * 3);
                    // Several requests per tick, from every thread: ties in time.
                    if i % 4 == 0 {
                        requests.tick();
                    }
                }
            });
        }
    });
    let summary = memo.finish_capture().unwrap().unwrap();
    let captured = memo.take_captured();
    let file = read_back(trace);
    assert_eq!(summary.written, file.len() as u64);
    assert_eq!(summary.seen, file.len() as u64);
    // The file is the merged in-memory capture: same order, next accesses over the whole.
    assert_eq!(file, as_oracle(&captured, |_| true));
    assert!(
        file.windows(2).all(|w| w[0].time <= w[1].time),
        "time order"
    );

    // Each shard's records, replayed at its part of the capacity, give its hits; summed,
    // the memo's. A call that waited for another thread's computation is a miss the
    // policy never saw, so misses can only be fewer in the replay.
    let key_of: HashMap<u64, u64> = (0..400u64).map(|k| (id_of(k), k)).collect();
    let (mut hits, mut misses) = (0, 0);
    for shard in 0..SHARDS {
        let part: Vec<Request> = file
            .iter()
            .filter(|r| memo.cache().shard_index(&key_of[&r.key]) == shard)
            .map(|r| Request {
                next_access: cachelab::request::NEVER,
                ..*r
            })
            .collect();
        assert!(!part.is_empty(), "shard {shard} has requests");
        let capacity = CAPACITY / SHARDS as u64;
        let (h, m) = replay(&part, "s3fifo", capacity);
        hits += h;
        misses += m;
    }
    let info = memo.cache_info();
    assert_eq!(hits, info.hits);
    assert!(misses <= info.misses, "{misses} > {}", info.misses);
    assert_eq!(hits + misses, file.len() as u64);
    assert_eq!(info.hits + info.misses, THREADS * 3_000);

    // Replayed whole, through one policy of the whole capacity, the trace answers a
    // different question (one unsharded cache); it is a valid trace for that too.
    let (whole_hits, whole_misses) = replay(&file, "s3fifo", CAPACITY);
    assert_eq!(whole_hits + whole_misses, file.len() as u64);
}

/// One thread over several shards: no call waits, so the per-shard replay gives the
/// memo's misses exactly too; a sampled file holds every request of the sampled keys.
#[test]
fn a_sampled_capture_over_shards_keeps_whole_keys_and_exact_counts() {
    const SHARDS: usize = 3;
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("sampled.oracleGeneral.zst");
    let trace = trace.to_str().unwrap();
    let file = CaptureFile::create(trace, 0.3).unwrap().salt(7);
    let sampler = file.sampler();
    let requests = LogicalClock::new();
    let cache: sync::Cache<u64, u64, Fixed> = Cache::builder()
        .policy("lru")
        .capacity(30)
        .hasher(Fixed)
        .clock(requests.clone())
        .capture()
        .capture_to(file)
        .build_sync(SHARDS)
        .unwrap();
    for (i, x) in keys(6_000, 3).enumerate() {
        if i % 7 == 0 {
            cache.insert(x, x);
        } else if i % 11 == 0 {
            cache.remove(&x);
        } else {
            cache.get_with(x, || x);
        }
        requests.tick();
    }
    let summary = cache.finish_capture().unwrap().unwrap();
    let captured = cache.take_captured();
    assert!(cache.take_captured().is_empty(), "taken");
    let got = read_back(trace);
    assert_eq!(got, as_oracle(&captured, |key| sampler.keeps(key)));
    assert_eq!(summary.seen, as_oracle(&captured, |_| true).len() as u64);
    assert!(
        summary.written > 0 && summary.written < summary.seen,
        "{summary:?}"
    );

    // Per shard, the in-memory capture (with its sets and deletes) replays with the
    // operations honoured to the shard's hits; summed, the cache's.
    let key_of: HashMap<u64, u64> = (0..400u64).map(|k| (id_of(k), k)).collect();
    let mut hits = 0;
    for shard in 0..SHARDS {
        let part: Vec<Request> = captured
            .iter()
            .filter(|r| cache.shard_index(&key_of[&r.key]) == shard)
            .copied()
            .collect();
        hits += replay_ops(&part, "ttl:ttl=0,base=lru,clock=wall", 10).0;
    }
    assert_eq!(hits, cache.cache_info().hits);
}

/// A TTL memo's in-memory capture keeps the expiry drops, so the replay with operations
/// honoured through the same TTL layer gives the memo's hits and misses exactly.
#[test]
fn a_ttl_memo_capture_replays_with_operations_to_the_same_counts() {
    let requests = LogicalClock::new();
    let expired = Arc::new(AtomicUsize::new(0));
    let heard = Arc::clone(&expired);
    let memo = Memo::new(|x: &u64| x ^ 1)
        .policy("lru")
        .capacity(20)
        .ttl(40)
        .hasher(Fixed)
        .clock(requests.clone())
        .eviction_listener(move |_: u64, _: u64, cause| {
            if cause == RemovalCause::Expired {
                heard.fetch_add(1, Ordering::Relaxed);
            }
        })
        .capture()
        .build()
        .unwrap();
    for x in keys(4_000, 9) {
        memo.call(&x);
        requests.tick();
    }
    assert!(expired.load(Ordering::Relaxed) > 0, "some results expired");
    let captured = memo.take_captured();
    let (hits, misses) = replay_ops(&captured, "ttl:ttl=0,base=lru,clock=wall", 20);
    let info = memo.cache_info();
    assert_eq!(hits, info.hits);
    assert_eq!(misses, info.misses);
}

/// An error in any shard's part (here a clock time past the format's 32-bit timestamp)
/// stops the capture: finishing returns it and leaves no file; the cache works on.
#[test]
fn an_error_in_one_shards_part_is_returned_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.oracleGeneral");
    let path = path.to_str().unwrap();
    let requests = LogicalClock::new();
    let cache: sync::Cache<u64, u64, Fixed> = Cache::builder()
        .capacity(10)
        .hasher(Fixed)
        .clock(requests.clone())
        .capture_to(CaptureFile::create(path, 1.0).unwrap())
        .build_sync(2)
        .unwrap();
    for k in 0..4 {
        cache.insert(k, k);
    }
    requests.advance(1 << 33);
    for k in 4..8 {
        cache.insert(k, k);
    }
    assert_eq!(cache.get(&7), Some(7), "the cache works on");
    let err = cache.finish_capture().unwrap().expect_err("time overflow");
    assert!(full(&err).contains("32-bit"), "{}", full(&err));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    assert!(cache.finish_capture().is_none(), "finished once");
}

/// Requests of one clock tick keep the order the shards took them in: with the clock
/// standing still, one thread's calls over four shards come back in call order (a merge
/// by time alone would group them by shard).
#[test]
fn requests_of_one_tick_keep_the_order_the_shards_took_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("still.oracleGeneral");
    let path = path.to_str().unwrap();
    let cache: sync::Cache<u64, u64, Fixed> = Cache::builder()
        .capacity(1000)
        .hasher(Fixed)
        .clock(LogicalClock::new())
        .capture()
        .capture_to(CaptureFile::create(path, 1.0).unwrap())
        .build_sync(4)
        .unwrap();
    let calls: Vec<u64> = keys(500, 4).collect();
    for &x in &calls {
        cache.get_with(x, || x);
    }
    let shards: std::collections::BTreeSet<usize> =
        calls.iter().map(|x| cache.shard_index(x)).collect();
    assert_eq!(shards.len(), 4, "the calls reach every shard");
    let ids: Vec<u64> = calls.iter().map(|&x| id_of(x)).collect();
    let captured: Vec<u64> = cache.take_captured().iter().map(|r| r.key).collect();
    assert_eq!(captured, ids);
    cache.finish_capture().unwrap().unwrap();
    let file: Vec<u64> = read_back(path).iter().map(|r| r.key).collect();
    assert_eq!(file, ids);
}
