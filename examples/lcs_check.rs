//! Miss counts of cachelab's policies on an oracleGeneral trace, for comparison with
//! libCacheSim (`examples/lcs_check.py` prints the same lines from the `libcachesim` Python
//! package).
//!
//! The oracleGeneral record is 24 bytes, little-endian: `u32 time, u64 id, u32 size,
//! i64 next_access`. Capacities are 0.1 %, 1 %, 10 % and 50 % of the working set (the sum
//! over distinct ids of the first size, or the distinct count in object mode), truncated to
//! a whole number as libCacheSim's Python wrapper does.
//!
//! ```text
//! cargo run --release --example lcs_check -- TRACE.oracleGeneral.bin [spec,spec,...]
//! ```

use std::error::Error;

use cachelab::request::Request;
use cachelab::sim::{Config, SimOptions, WorkingSet, simulate_slice};

const PCTS: [f64; 4] = [0.001, 0.01, 0.1, 0.5];
const DEFAULT_SPECS: &str =
    "lru,fifo,clock,clock:bits=2,arc,lfu,sieve,s3fifo,2q,slru,random,wtinylfu,lirs";

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: lcs_check TRACE.oracleGeneral.bin [spec,spec,...]")?;
    let specs = args.next().unwrap_or_else(|| DEFAULT_SPECS.to_string());
    let data = std::fs::read(&path)?;
    if data.len() % 24 != 0 {
        return Err(format!(
            "{path}: {} bytes is not a whole number of 24-byte records",
            data.len()
        )
        .into());
    }
    let trace: Vec<Request> = data
        .chunks_exact(24)
        .map(|r| {
            let mut req = Request::get(
                u64::from_le_bytes(r[4..12].try_into().expect("8 bytes")),
                u32::from_le_bytes(r[12..16].try_into().expect("4 bytes")),
            );
            req.time = u64::from(u32::from_le_bytes(r[0..4].try_into().expect("4 bytes")));
            req
        })
        .collect();
    let ws = WorkingSet::of(&trace);
    for spec in specs.split(',') {
        for objects in [false, true] {
            let units = ws.units(objects);
            let configs: Vec<Config> = PCTS
                .iter()
                .map(|&pct| Ok(Config::new(spec.parse()?, (units as f64 * pct) as u64)))
                .collect::<Result<_, Box<dyn Error>>>()?;
            let options = SimOptions {
                objects,
                ..SimOptions::default()
            };
            let results = simulate_slice(&trace, &configs, &options)?;
            for (pct, result) in PCTS.iter().zip(&results) {
                let mode = if objects { "objects" } else { "bytes" };
                println!(
                    "{spec} {mode} {pct} {} {} {}",
                    result.capacity, result.counters.requests, result.counters.misses
                );
            }
        }
    }
    Ok(())
}
