//! Issue 17's hit-ratio target, checked: on the seeded Zipf(0.9) stream and on the ARC
//! `OLTP` trace, at 1% and 10% of the keys, a cachelab `Cache` with `s3fifo` or a
//! `wtinylfu` spec reaches a hit ratio at least that of every Rust cache programs use
//! today (`lru`, `quick_cache`, `moka`, `mini-moka`, `foyer`), each with its defaults.
//!
//! Each cache reads a key and inserts it on a miss, from cold, every read counted (the
//! `local_caches` bench prints the same table). cachelab's caches hash with a fixed hasher
//! so their decisions repeat run to run; the peers keep their own (randomly seeded) ones,
//! so their ratios move in the second decimal of a percent between runs.

mod common;

use std::num::NonZeroUsize;

use common::fixed_hash::Fixed;
use common::streams::{ZIPF_KEYS, distinct, oltp_stream, zipf_stream};

/// The W-TinyLFU spec for a static skewed workload (the policy docs' "Choosing parameters").
const WTINYLFU_SKEWED: &str = "wtinylfu:count=access,sample=100,width=64";

/// Hit ratio of a fresh cache driven by `get_or_insert` over `keys`.
fn ratio(keys: &[u64], mut get_or_insert: impl FnMut(u64) -> bool) -> f64 {
    keys.iter().filter(|&&k| get_or_insert(k)).count() as f64 / keys.len() as f64
}

fn cachelab(spec: &str, capacity: u64, keys: &[u64]) -> f64 {
    let mut cache = cachelab::cache::Cache::builder()
        .policy(spec)
        .capacity(capacity)
        .hasher(Fixed)
        .build()
        .expect("registered policy");
    ratio(keys, |k| {
        if cache.get(&k).is_some() {
            return true;
        }
        cache.insert(k, k);
        false
    })
}

/// Every peer's hit ratio on `keys` at `capacity` entries, by name.
fn peers(capacity: u64, keys: &[u64]) -> Vec<(&'static str, f64)> {
    let n = capacity as usize;
    let mut lru = lru::LruCache::new(NonZeroUsize::new(n).unwrap());
    let mut quick = quick_cache::unsync::Cache::new(n);
    let quick_sync = quick_cache::sync::Cache::new(n);
    let moka = moka::sync::Cache::new(capacity);
    let mini = mini_moka::sync::Cache::new(capacity);
    let foyer_lru: foyer::Cache<u64, u64> = foyer::CacheBuilder::new(n).build();
    let foyer_lfu: foyer::Cache<u64, u64> = foyer::CacheBuilder::new(n)
        .with_eviction_config(foyer::LfuConfig::default())
        .build();
    macro_rules! drive {
        ($cache:expr, $insert:ident) => {
            ratio(keys, |k| {
                if $cache.get(&k).is_some() {
                    return true;
                }
                $cache.$insert(k, k);
                false
            })
        };
    }
    vec![
        ("lru", drive!(lru, put)),
        ("quick_cache unsync", drive!(quick, insert)),
        ("quick_cache sync", drive!(quick_sync, insert)),
        ("moka sync", drive!(moka, insert)),
        ("mini-moka sync", drive!(mini, insert)),
        ("foyer lru", drive!(foyer_lru, insert)),
        ("foyer lfu", drive!(foyer_lfu, insert)),
    ]
}

/// Checks that `spec` reaches every peer's hit ratio on `keys` at 1% and 10% of
/// `key_space`, printing the table.
fn at_least_every_peer(workload: &str, spec: &str, keys: &[u64], key_space: u64) {
    for capacity in [key_space / 100, key_space / 10] {
        let ours = cachelab(spec, capacity, keys);
        println!(
            "{workload} capacity {capacity}: cachelab {spec} {:.4}",
            ours
        );
        for (name, theirs) in peers(capacity, keys) {
            println!("{workload} capacity {capacity}: {name} {theirs:.4}");
            assert!(
                ours >= theirs,
                "{workload} at {capacity} entries: cachelab {spec} {ours:.4} < {name} {theirs:.4}"
            );
        }
    }
}

#[test]
fn on_zipf_the_skewed_wtinylfu_reaches_every_peer() {
    at_least_every_peer("Zipf(0.9)", WTINYLFU_SKEWED, &zipf_stream(), ZIPF_KEYS);
}

#[test]
fn on_oltp_s3fifo_reaches_every_peer() {
    let keys = oltp_stream();
    at_least_every_peer("OLTP", "s3fifo", &keys, distinct(&keys));
}

#[test]
fn the_tuned_wtinylfu_needs_all_three_changes_and_loses_on_oltp() {
    // The tuned spec is a choice, not the default: the default stays libCacheSim's W-TinyLFU
    // (so `sim` agrees with it). On Zipf each change alone gains less than the three
    // together; on OLTP, whose popular blocks move, the long memory loses to s3fifo.
    let zipf = zipf_stream();
    let oltp = oltp_stream();
    let oltp_space = distinct(&oltp);
    let specs = [
        "wtinylfu",
        "wtinylfu:count=access",
        "wtinylfu:sample=100",
        "wtinylfu:count=access,sample=100",
        WTINYLFU_SKEWED,
    ];
    // Each spec's hit ratio at 1% of the keys: (Zipf, OLTP).
    let mut at_1 = Vec::new();
    for spec in specs {
        let z: Vec<f64> = [ZIPF_KEYS / 100, ZIPF_KEYS / 10]
            .iter()
            .map(|&c| cachelab(spec, c, &zipf))
            .collect();
        let o: Vec<f64> = [oltp_space / 100, oltp_space / 10]
            .iter()
            .map(|&c| cachelab(spec, c, &oltp))
            .collect();
        println!(
            "{spec}: Zipf {:.4} / {:.4}, OLTP {:.4} / {:.4}",
            z[0], z[1], o[0], o[1]
        );
        at_1.push((z[0], o[0]));
    }
    let (tuned, tuned_oltp) = at_1[specs.len() - 1];
    for (spec, (ratio, _)) in specs.iter().zip(&at_1).take(specs.len() - 1) {
        assert!(tuned > ratio + 0.002, "tuned {tuned:.4}, {spec} {ratio:.4}");
    }
    let s3fifo_oltp = cachelab("s3fifo", oltp_space / 100, &oltp);
    assert!(tuned_oltp < s3fifo_oltp, "{tuned_oltp:.4} {s3fifo_oltp:.4}");
}
