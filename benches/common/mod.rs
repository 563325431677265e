//! What several benches share: the generated trace they replay.

use cachelab::request::Request;
use cachelab::trace;
use cachelab::trace::generate::{GenOptions, Generator};

/// A seeded 1M-request Zipf(1.0) trace over 200,000 keys with log-normal sizes (median
/// 4 KiB): skewed like a web cache, with real object sizes.
pub fn zipf_million() -> Vec<Request> {
    let options = GenOptions {
        dist: "zipf:alpha=1.0".parse().expect("valid distribution"),
        keys: 200_000,
        requests: 1_000_000,
        sizes: "lognormal:median=4096,sigma=1"
            .parse()
            .expect("valid sizes"),
        seed: 42,
    };
    trace::read_all(&mut Generator::new(options).expect("valid options")).expect("generates")
}
