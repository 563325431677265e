//! Computing `next_access`: for each request, the index of the next request for the same
//! key, or [`NEVER`]. One backward pass with a hash map from key to the last index seen.
//!
//! Belady's MIN needs it, and the oracleGeneral writer stores it so that libCacheSim's
//! oracle policies can read the files cachelab writes.

use hashbrown::HashMap;

use crate::request::{NEVER, Request};

/// Fills `next_access` of every request, counting indices from `requests[0]` = 0.
///
/// ```
/// use cachelab::request::{Request, NEVER};
/// let mut trace: Vec<Request> = [1, 2, 1].iter().map(|&k| Request::get(k, 1)).collect();
/// cachelab::trace::next_access::fill(&mut trace);
/// let next: Vec<u64> = trace.iter().map(|r| r.next_access).collect();
/// assert_eq!(next, [2, NEVER, NEVER]);
/// ```
pub fn fill(requests: &mut [Request]) {
    let mut last_seen: HashMap<u64, u64> = HashMap::new();
    for (index, req) in requests.iter_mut().enumerate().rev() {
        req.next_access = last_seen.insert(req.key, index as u64).unwrap_or(NEVER);
    }
}
