//! The policies of this module as registry rows: [`BUILTIN`] lists each policy file's
//! `INFO` row once, in the order `cachelab policies` prints them.
//!
//! Adding a policy is its file (with its row), one line here, and its tests.

use super::registry::{PolicyInfo, Registry};
use super::{
    arc, belady, clock, fifo, lfu, lirs, lru, random, s3fifo, sieve, slru, ttl, twoq, wtinylfu,
};

/// The policies of this module, in the order help text lists them.
pub static BUILTIN: &[&PolicyInfo] = &[
    &lru::INFO,
    &fifo::INFO,
    &arc::INFO,
    &lfu::INFO,
    &clock::INFO,
    &sieve::INFO,
    &s3fifo::INFO,
    &twoq::INFO,
    &slru::INFO,
    &random::INFO,
    &lirs::INFO,
    &wtinylfu::INFO,
    &belady::INFO,
    &ttl::INFO,
];

/// The registry of this module's own policies (no providers from other modules).
pub static POLICIES: Registry = Registry::new(&[BUILTIN]);
