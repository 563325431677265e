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
    let next = indices(requests);
    for (req, next) in requests.iter_mut().zip(next) {
        req.next_access = next;
    }
}

/// The next-access index of every request, without changing the requests (the writers use
/// it so that what they store is right whatever the requests carry).
pub fn indices(requests: &[Request]) -> Vec<u64> {
    let mut next = vec![NEVER; requests.len()];
    let mut last_seen: HashMap<u64, u64> = HashMap::new();
    for (index, req) in requests.iter().enumerate().rev() {
        if let Some(later) = last_seen.insert(req.key, index as u64) {
            next[index] = later;
        }
    }
    next
}
