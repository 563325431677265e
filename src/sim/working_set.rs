//! The working set of a trace: distinct keys and their bytes, counted in one pass.
//!
//! Cache sizes given as a percentage resolve against it. Each distinct key counts once, at
//! the size of its first request (what libCacheSim's `cachesim` does for its percentages).

use hashbrown::HashSet;
use serde::{Deserialize, Serialize};

use crate::request::Request;
use crate::trace::{Error, RequestReader};

/// Totals of one pass over a trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingSet {
    /// Requests in the trace.
    pub requests: u64,
    /// Distinct keys.
    pub objects: u64,
    /// Sum over distinct keys of the first size seen.
    pub bytes: u64,
}

impl WorkingSet {
    /// Measures the working set of an in-memory trace.
    pub fn of(requests: &[Request]) -> WorkingSet {
        let mut counter = WorkingSetCounter::default();
        counter.add(requests);
        counter.finish()
    }

    /// Measures the working set of a trace read to its end; `progress`, when given, gets
    /// the number of requests read so far after each batch.
    pub fn read(
        reader: &mut dyn RequestReader,
        progress: Option<&(dyn Fn(u64) + Sync)>,
    ) -> Result<WorkingSet, Error> {
        let mut counter = WorkingSetCounter::default();
        let mut batch = Vec::with_capacity(1 << 16);
        let mut read = 0;
        loop {
            batch.clear();
            let n = reader.read_batch(&mut batch, 1 << 16)?;
            if n == 0 {
                return Ok(counter.finish());
            }
            counter.add(&batch);
            read += n as u64;
            if let Some(report) = progress {
                report(read);
            }
        }
    }

    /// The working set in the unit capacities are given in: objects or bytes.
    pub fn units(&self, objects: bool) -> u64 {
        if objects { self.objects } else { self.bytes }
    }
}

/// Incremental form of [`WorkingSet::of`], for callers that already stream the trace.
#[derive(Debug, Default)]
pub struct WorkingSetCounter {
    seen: HashSet<u64>,
    totals: WorkingSet,
}

impl WorkingSetCounter {
    /// Counts a batch of requests.
    pub fn add(&mut self, requests: &[Request]) {
        for req in requests {
            self.totals.requests += 1;
            if self.seen.insert(req.key) {
                self.totals.objects += 1;
                self.totals.bytes += u64::from(req.size);
            }
        }
    }

    /// The totals so far.
    pub fn finish(&self) -> WorkingSet {
        self.totals
    }
}
