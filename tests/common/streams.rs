//! The key streams the local caches are compared on (the `local_caches` bench and the
//! hit-ratio test share them): a seeded Zipf(0.9) stream and the bundled ARC `OLTP` trace.

use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Zipf};

use cachelab::trace::{self, ReadOptions};

/// Distinct keys of the Zipf stream.
pub const ZIPF_KEYS: u64 = 100_000;
/// Reads in the Zipf stream.
pub const ZIPF_READS: usize = 1_000_000;

/// The seeded Zipf(0.9) key stream: `ZIPF_READS` reads over `ZIPF_KEYS` keys.
pub fn zipf_stream() -> Vec<u64> {
    let zipf = Zipf::new(ZIPF_KEYS as f64, 0.9).expect("valid Zipf parameters");
    let mut rng = SmallRng::seed_from_u64(42);
    (0..ZIPF_READS)
        .map(|_| zipf.sample(&mut rng) as u64)
        .collect()
}

/// The keys of the bundled ARC `OLTP` trace, one per block read.
pub fn oltp_stream() -> Vec<u64> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/OLTP.lis.zst");
    let mut reader = trace::open(path, &ReadOptions::default()).expect("bundled OLTP trace");
    trace::read_all(&mut *reader)
        .expect("bundled OLTP trace reads")
        .into_iter()
        .map(|r| r.key)
        .collect()
}

/// How many distinct keys `keys` holds.
pub fn distinct(keys: &[u64]) -> u64 {
    keys.iter().collect::<std::collections::HashSet<_>>().len() as u64
}
