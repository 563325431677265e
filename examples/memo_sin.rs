//! Memoisation, as the seed's Python does it: a memoised `sin` (`functools.lru_cache(maxsize=2)`)
//! and a string-length cache (`compute_length_or_read_in_cache`), over cachelab's policies.
//!
//! Run with `cargo run --example memo_sin`. It prints each call, whether it was computed or
//! read from the cache, and the caches' `cache_info()`.

use std::cell::Cell;

use cachelab::cache::{Cache, Memo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `@functools.lru_cache(maxsize=2)` on `math.sin`. An `f64` is not a hash key, so the
    // memo is keyed by the argument's bits (equal arguments, equal bits).
    let computed = Cell::new(0u64);
    let sin = Memo::new(|bits: &u64| {
        computed.set(computed.get() + 1);
        f64::from_bits(*bits).sin()
    })
    .policy("lru")
    .capacity(2)
    .build()?;
    for x in [1.0f64, 2.0, 1.0, 3.0, 2.0, 1.0] {
        let before = computed.get();
        let y = sin.call(&x.to_bits());
        let how = if computed.get() > before {
            "computed"
        } else {
            "cached"
        };
        println!("sin({x}) = {y:.6} ({how})");
    }
    let info = sin.cache_info();
    println!(
        "sin: hits={} misses={} maxsize={} currsize={}",
        info.hits, info.misses, info.maxsize, info.currsize
    );

    // `compute_length_or_read_in_cache(s)`: the dict, bounded (LRU, 3 entries).
    let mut lengths: Cache<String, usize> = Cache::builder().policy("lru").capacity(3).build()?;
    for s in ["foo", "bar", "foo", "quux", "hello", "foo", "bar"] {
        let mut fresh = false;
        let len = *lengths.get_or_insert_with(s.to_string(), || {
            fresh = true;
            s.len()
        });
        println!(
            "len({s:?}) = {len} ({})",
            if fresh { "computed" } else { "cached" }
        );
    }
    let info = lengths.cache_info();
    println!(
        "len: hits={} misses={} maxsize={} currsize={}",
        info.hits, info.misses, info.maxsize, info.currsize
    );
    Ok(())
}
