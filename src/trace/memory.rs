//! [`VecReader`]: requests already in memory, behind the [`RequestReader`] interface.
//!
//! The engine, the generators and the tests use it to replay a `Vec<Request>` exactly as a
//! file would be replayed.

use std::sync::Arc;

use super::{Error, RequestReader};
use crate::request::Request;

/// Replays a vector of requests.
#[derive(Debug, Clone)]
pub struct VecReader {
    requests: Arc<Vec<Request>>,
    next: usize,
    has_next_access: bool,
}

impl VecReader {
    /// A reader over `requests`; `has_next_access` says whether their `next_access` is real.
    pub fn new(requests: Vec<Request>, has_next_access: bool) -> VecReader {
        VecReader::shared(Arc::new(requests), has_next_access)
    }

    /// A reader over requests another owner keeps too (a trace held in memory and read
    /// more than once), without copying them.
    pub fn shared(requests: Arc<Vec<Request>>, has_next_access: bool) -> VecReader {
        VecReader {
            requests,
            next: 0,
            has_next_access,
        }
    }
}

impl RequestReader for VecReader {
    fn read_batch(&mut self, out: &mut Vec<Request>, max: usize) -> Result<usize, Error> {
        let end = (self.next + max).min(self.requests.len());
        out.extend_from_slice(&self.requests[self.next..end]);
        let n = end - self.next;
        self.next = end;
        Ok(n)
    }

    fn has_next_access(&self) -> bool {
        self.has_next_access
    }
}
