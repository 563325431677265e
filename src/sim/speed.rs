//! Replay speed and metadata size: what `cachelab bench` measures.
//!
//! [`replay_speed`] replays an in-memory trace through one freshly built policy on the
//! calling thread with the engine's own loop ([`crate::policy::Policy::get_batch`]), several times, and keeps the best run (the least disturbed by other work
//! on a shared machine), as requests per second; it also reports the policy's metadata
//! bytes per cached object at the end. [`engine_scaling`] runs the whole engine over many
//! configurations with a 1-thread and an N-thread rayon pool and reports both throughputs.
//! Criterion benchmarks (`benches/policies.rs`) measure the same loops with statistics;
//! this module serves the CLI and the libCacheSim comparison script.

use std::time::Instant;

use serde::Serialize;

use crate::catalog::CATALOG;
use crate::policy::{PolicySpec, SpecError};
use crate::request::Request;
use crate::trace::VecReader;

use super::{Config, Counters, SimError, SimOptions, simulate};

/// Speed of one (policy, capacity) replay.
#[derive(Debug, Clone, Serialize)]
pub struct SpeedRow {
    /// Policy display name.
    pub policy: String,
    /// Capacity in size units.
    pub capacity: u64,
    /// Requests replayed per run.
    pub requests: u64,
    /// Best run, in requests per second.
    pub requests_per_second: f64,
    /// Heap bytes of metadata per cached object after the last run.
    pub bytes_per_object: f64,
    /// Hits in the last run (a check that every run did the same work).
    pub hits: u64,
}

/// Replays `requests` through `spec` at `capacity` `repeat` times (at least once).
pub fn replay_speed(
    requests: &[Request],
    spec: &PolicySpec,
    capacity: u64,
    repeat: usize,
) -> Result<SpeedRow, SpecError> {
    let mut best = f64::INFINITY;
    let mut row = None;
    for _ in 0..repeat.max(1) {
        let mut policy = CATALOG.build(spec, capacity, 0)?;
        let mut counters = Counters::default();
        let start = Instant::now();
        policy.get_batch(requests, &mut counters);
        let seconds = start.elapsed().as_secs_f64();
        let hits = counters.hits;
        best = best.min(seconds);
        row = Some(SpeedRow {
            policy: policy.name(),
            capacity,
            requests: requests.len() as u64,
            requests_per_second: 0.0,
            bytes_per_object: policy.heap_bytes() as f64 / policy.len().max(1) as f64,
            hits,
        });
    }
    let mut row = row.expect("at least one run");
    row.requests_per_second = requests.len() as f64 / best.max(1e-9);
    Ok(row)
}

/// Engine throughput over all `configs` with one thread and with `threads` threads.
#[derive(Debug, Clone, Serialize)]
pub struct Scaling {
    /// Number of configurations replayed together.
    pub configurations: usize,
    /// Threads of the parallel run.
    pub threads: usize,
    /// Requests × configurations per second on one thread.
    pub one_thread: f64,
    /// Requests × configurations per second on `threads` threads.
    pub many_threads: f64,
}

impl Scaling {
    /// How many times faster the parallel run was.
    pub fn speedup(&self) -> f64 {
        self.many_threads / self.one_thread
    }
}

/// Runs the engine over `configs` on a 1-thread pool and on a `threads`-thread pool, best
/// of `repeat` runs each.
pub fn engine_scaling(
    requests: &[Request],
    configs: &[Config],
    threads: usize,
    repeat: usize,
) -> Result<Scaling, SimError> {
    let work = (requests.len() * configs.len()) as f64;
    let run = |threads: usize| -> Result<f64, SimError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool can be built");
        let mut best = f64::INFINITY;
        for _ in 0..repeat.max(1) {
            let mut reader = VecReader::new(requests.to_vec(), false);
            let start = Instant::now();
            pool.install(|| simulate(&mut reader, configs, &SimOptions::default(), None))?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok(work / best.max(1e-9))
    };
    let one_thread = run(1)?;
    let many_threads = run(threads)?;
    Ok(Scaling {
        configurations: configs.len(),
        threads,
        one_thread,
        many_threads,
    })
}
