//! An in-process cache over a simulator policy: the README's "Local caches" example.
//!
//! Run with `cargo run --example local_cache`. A cache of 3 entries under S3-FIFO, TTLs
//! counted in requests on a logical clock, and a listener that reports what leaves.

use std::sync::{Arc, Mutex};

use cachelab::cache::{Cache, Clock, LogicalClock, RemovalCause};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requests = LogicalClock::new();
    let left: Arc<Mutex<Vec<String>>> = Default::default();
    let log = Arc::clone(&left);
    let mut cache = Cache::builder()
        .policy("s3fifo")
        .capacity(3)
        .ttl(4) // an entry lives 4 requests from its insert
        .clock(requests.clone())
        .eviction_listener(move |key: String, _len: usize, cause: RemovalCause| {
            log.lock().unwrap().push(format!("{key} {cause:?}"))
        })
        .build()?;

    for word in [
        "alpha", "beta", "alpha", "gamma", "delta", "alpha", "epsilon", "beta",
    ] {
        let mut computed = false;
        let len = *cache.get_or_insert_with(word.to_string(), || {
            computed = true;
            word.len()
        });
        let how = if computed { "computed" } else { "cached" };
        let gone = std::mem::take(&mut *left.lock().unwrap());
        print!("t={} {word}: {len} ({how})", requests.now());
        if !gone.is_empty() {
            print!("; left: {}", gone.join(", "));
        }
        println!();
        requests.tick();
    }
    let info = cache.cache_info();
    println!(
        "hits={} misses={} maxsize={} currsize={}",
        info.hits, info.misses, info.maxsize, info.currsize
    );
    Ok(())
}
