//! The seed's TTL page cache (`cachetools.TTLCache(maxsize=5, ttl=5)` in front of an HTTP
//! fetch), with time counted in requests on a logical clock instead of seconds, as the seed
//! notes `TTLCache` allows. The fetch is simulated (no network): each "download" returns a
//! new page version, so a refetch after expiry is visible.
//!
//! Run with `cargo run --example ttl_page_cache`.

use cachelab::cache::{Cache, Clock, LogicalClock};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requests = LogicalClock::new();
    let mut pages: Cache<String, String> = Cache::builder()
        .policy("lru")
        .capacity(5)
        .ttl(5) // a page lives 5 requests
        .clock(requests.clone())
        .build()?;
    let mut fetches = 0u32;
    let urls = [
        "/uuid", "/uuid", "/ip", "/uuid", "/uuid", "/ip", "/uuid", "/uuid",
    ];
    for url in urls {
        let page = match pages.get(url) {
            Some(page) => page.clone(),
            None => {
                fetches += 1;
                let page = format!("<{url} version {fetches}>");
                println!("t={} {url}: page not cached, fetching", requests.now());
                pages.insert(url.to_string(), page.clone());
                page
            }
        };
        println!("t={} {url}: {page}", requests.now());
        requests.tick();
    }
    let info = pages.cache_info();
    println!(
        "fetches={fetches} hits={} misses={} currsize={}",
        info.hits, info.misses, info.currsize
    );
    Ok(())
}
