//! FIFO: evict the object that was inserted first; hits do not reorder.
//!
//! The same queue as LRU ([`super::lru::RecencyQueue`]) without the move on a hit.
//! A worked case, capacity 3 objects, requests `A B C A D A`:
//!
//! ```
//! use cachelab::policy::{fifo::Fifo, Policy};
//! use cachelab::request::Request;
//! let mut fifo = Fifo::new(3);
//! let hits: Vec<bool> = [1, 2, 3, 1, 4, 1]
//!     .iter()
//!     .map(|&k| fifo.get(&Request::get(k, 1)).hit)
//!     .collect();
//! // A hits once, but D still evicts A, the oldest insert; so the last A misses.
//! assert_eq!(hits, [false, false, false, true, false, false]);
//! ```

use super::lru::RecencyQueue;
use super::registry::{PolicyInfo, PolicyKind};
/// The registry row: `fifo`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "fifo",
    kind: PolicyKind::Eviction,
    summary: "first in, first out",
    params: &[],
    needs_next_access: false,
    build: |_, ctx| Ok(Box::new(Fifo::new(ctx.capacity))),
};

/// FIFO: a [`RecencyQueue`] that leaves hits in place.
pub type Fifo = RecencyQueue<false>;
