//! The synchronisation seam of the threads mode: every lock, thread, barrier, sleep and
//! clock read [`super::threads`] makes goes through these names, so a test scheduler can
//! replace them in one place.
//!
//! Follows quick-cache's `src/shim.rs`: there, `cfg(feature = "shuttle")` swaps `std::sync`
//! for `shuttle::sync` and the shuttle tests explore thread interleavings from a seed. We
//! do not depend on shuttle yet; a model-checked build would add, here only,
//! `#[cfg(feature = "shuttle")] pub use shuttle::{sync::{Arc, Barrier, Mutex}, thread};`
//! with a logical [`Instant`]. The discrete-event simulator ([`super::sim`]) already gives
//! seeded, replayable interleavings of the same client state machines.

use std::time::Duration;

pub use std::sync::{Arc, Barrier, Mutex, MutexGuard};
pub use std::thread;
pub use std::time::Instant;

/// Sleeps the calling thread for `ns` nanoseconds (nothing for 0).
pub fn sleep_ns(ns: u64) {
    if ns > 0 {
        thread::sleep(Duration::from_nanos(ns));
    }
}

/// Nanoseconds since `origin`, saturating at `u64::MAX`.
pub fn nanos_since(origin: Instant) -> u64 {
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
