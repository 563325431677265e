//! One client as a state machine: which request it sends next, given the reply to its last
//! one. Both modes drive the same machine — the simulator delivers replies at simulated
//! instants, the threads mode right after each locked store call — so a strategy is
//! written once and the counts mean the same thing in every mode.
//!
//! The strategies, per update (the seed's `visitors` counter):
//!
//! | strategy | requests |
//! |---|---|
//! | `naive` | `get` → `set v+1` (1 when missing) |
//! | `cas` | `gets` → `cas v+1` → `STORED` done; `EXISTS`/`NOT_FOUND` retry; a miss → `add 1` → `NOT_STORED` retry |
//! | `incr` | `incr 1` → done; `NOT_FOUND` → `add 1` → `NOT_STORED` retry the `incr` |
//! | `lease` | `mg N R v c` → `W`: `ms v+1 C<cas>` (a missing key is vivified empty: 1); `Z`: retry |
//!
//! A retry waits the configured [`Backoff`] first; each retry is counted against the
//! update it belongs to.

use std::sync::Arc;

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::backend::{CasReply, CounterOp, LeaseReply, Reply};
use super::config::{Backoff, Strategy, Workload};
use super::streaks::Streaks;
use crate::trace::key_dist::KeyPicker;

/// Update latencies a client holds before recording them (see [`CounterClient::flush_records`]).
const LATENCY_BATCH: usize = 256;
/// Retry counts below this are tallied per value and recorded at the end.
const RETRY_TALLY: usize = 32;

/// What a client does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send `op` on counter `key` after waiting `delay` ns (think time or backoff).
    Send {
        /// The request.
        op: CounterOp,
        /// Counter index.
        key: u32,
        /// Wait before sending, in ns.
        delay: u64,
    },
    /// Every operation is done.
    Finished,
}

/// What one client counted.
#[derive(Debug, Clone)]
pub struct ClientStats {
    /// Updates completed.
    pub updates: u64,
    /// Plain reads completed.
    pub reads: u64,
    /// Requests sent.
    pub requests: u64,
    /// CAS stores sent: `cas` requests and the lease's `ms … C<cas>` writes.
    pub cas_attempts: u64,
    /// CAS stores answered `EXISTS` (`EX`).
    pub cas_failures: u64,
    /// `NOT_FOUND` replies to CAS stores and `incr`.
    pub not_found: u64,
    /// `get`/`gets`/lease replies that found the counter missing.
    pub misses: u64,
    /// `add`s answered `NOT_STORED` (another client created the counter first).
    pub failed_adds: u64,
    /// Lease requests lost to another client.
    pub lease_losses: u64,
    /// Time spent in backoff, ns.
    pub backoff_ns: u64,
    /// Retries of each update.
    pub retries: Histogram<u64>,
    /// Latency of each update (first request sent to last reply), ns.
    pub latency: Histogram<u64>,
    /// When the client finished its last operation, ns since the run started.
    pub finished_at: u64,
}

impl ClientStats {
    fn new() -> ClientStats {
        ClientStats {
            updates: 0,
            reads: 0,
            requests: 0,
            cas_attempts: 0,
            cas_failures: 0,
            not_found: 0,
            misses: 0,
            failed_adds: 0,
            lease_losses: 0,
            backoff_ns: 0,
            // Three significant digits, auto-resizing: new() only fails for sigfig > 5.
            retries: Histogram::new(3).expect("3 significant figures is valid"),
            latency: Histogram::new(3).expect("3 significant figures is valid"),
            finished_at: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Read,
    NaiveGet,
    NaiveSet,
    CasGets,
    CasCas,
    CasAdd,
    IncrIncr,
    IncrAdd,
    LeaseGet,
    LeaseSet,
    Finished,
}

/// One client; see the module docs.
#[derive(Debug, Clone)]
pub struct CounterClient {
    strategy: Strategy,
    backoff: Backoff,
    read_ratio: f64,
    think: super::config::Delay,
    rng: ChaCha8Rng,
    updates_left: u64,
    state: State,
    key: u32,
    started_at: u64,
    retries: u32,
    /// Latencies not yet in `stats.latency`.
    latencies: Vec<u64>,
    /// Updates that needed `n` retries, not yet in `stats.retries`.
    retry_tally: [u64; RETRY_TALLY],
    stats: ClientStats,
    /// This client's id, for `streaks`.
    id: u32,
    /// The run's update streaks, shared by its clients: each completed update is recorded.
    streaks: Arc<Streaks>,
}

impl CounterClient {
    /// CounterClient `id` of `workload`, with its own generator seeded from the workload's
    /// seed, recording each update it completes in the run's `streaks`.
    pub fn new(id: u32, workload: &Workload, streaks: &Arc<Streaks>) -> CounterClient {
        let seed = workload
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(u64::from(id).wrapping_mul(0xD1B5_4A32_D192_ED03));
        CounterClient {
            strategy: workload.strategy,
            backoff: workload.backoff,
            read_ratio: workload.read_ratio,
            think: workload.think.clone(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            updates_left: workload.updates_per_client,
            state: State::Finished,
            key: 0,
            started_at: 0,
            retries: 0,
            latencies: Vec::with_capacity(LATENCY_BATCH),
            retry_tally: [0; RETRY_TALLY],
            stats: ClientStats::new(),
            id,
            streaks: Arc::clone(streaks),
        }
    }

    /// What it counted. Latencies and retries are recorded in batches: the histograms are
    /// complete once the client has finished.
    #[cfg(test)]
    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// Consumes the client for its counts.
    pub fn into_stats(mut self) -> ClientStats {
        self.flush_records();
        self.stats
    }

    /// Records the held latencies and retry tallies. A latency histogram's counters span
    /// hundreds of kilobytes, so a record is usually a cache (and TLB) miss that stalls the
    /// simulator; a sorted batch walks the counters in address order instead. Retries are
    /// small numbers, so a tally per value turns an update's record into an increment.
    /// Histogram counts do not depend on the order of records, so batching changes no
    /// result.
    fn flush_records(&mut self) {
        self.latencies.sort_unstable();
        // Auto-resizing histograms take any u64; record only fails without auto-resize.
        for latency in self.latencies.drain(..) {
            let _ = self.stats.latency.record(latency);
        }
        for (retries, count) in self.retry_tally.iter_mut().enumerate() {
            if *count > 0 {
                let _ = self.stats.retries.record_n(retries as u64, *count);
                *count = 0;
            }
        }
    }

    /// The first action, at time `now` (no think time before the first operation).
    pub fn start(&mut self, now: u64, picker: &KeyPicker) -> Action {
        self.begin(now, 0, picker)
    }

    /// Starts the next operation `delay` ns after `now`, or finishes.
    fn begin(&mut self, now: u64, delay: u64, picker: &KeyPicker) -> Action {
        if self.updates_left == 0 {
            self.flush_records();
            self.state = State::Finished;
            self.stats.finished_at = now;
            return Action::Finished;
        }
        self.key = picker.pick(&mut self.rng);
        self.started_at = now + delay;
        self.retries = 0;
        let read = self.read_ratio > 0.0 && self.rng.random::<f64>() < self.read_ratio;
        let (state, op) = if read {
            (State::Read, CounterOp::Get)
        } else {
            self.first_request()
        };
        self.state = state;
        self.send(op, delay)
    }

    fn first_request(&self) -> (State, CounterOp) {
        match self.strategy {
            Strategy::Naive => (State::NaiveGet, CounterOp::Get),
            Strategy::Cas => (State::CasGets, CounterOp::Gets),
            Strategy::Incr => (State::IncrIncr, CounterOp::Incr(1)),
            Strategy::Lease => (State::LeaseGet, CounterOp::LeaseGet),
        }
    }

    fn send(&mut self, op: CounterOp, delay: u64) -> Action {
        self.stats.requests += 1;
        if matches!(op, CounterOp::Cas(..) | CounterOp::LeaseSet(..)) {
            self.stats.cas_attempts += 1;
        }
        Action::Send {
            op,
            key: self.key,
            delay,
        }
    }

    /// Goes back to the strategy's first request after a backoff.
    fn retry(&mut self) -> Action {
        self.retries += 1;
        let wait = self.backoff.wait(self.retries, &mut self.rng);
        self.stats.backoff_ns += wait;
        let (state, op) = self.first_request();
        self.state = state;
        self.send(op, wait)
    }

    /// The current operation completed at `now`.
    fn complete(&mut self, now: u64, picker: &KeyPicker) -> Action {
        if self.state == State::Read {
            self.stats.reads += 1;
        } else {
            self.stats.updates += 1;
            self.streaks.record(self.id);
            self.updates_left -= 1;
            self.latencies.push(now.saturating_sub(self.started_at));
            if self.latencies.len() == LATENCY_BATCH {
                self.flush_records();
            }
            match self.retry_tally.get_mut(self.retries as usize) {
                Some(count) => *count += 1,
                // Auto-resizing histograms take any u64; record only fails without it.
                None => {
                    let _ = self.stats.retries.record(u64::from(self.retries));
                }
            }
        }
        let think = self.think.sample(&mut self.rng);
        self.begin(now, think, picker)
    }

    /// The reply to the last request arrived at `now`; returns what to do next. A reply
    /// that does not fit the request (which no correct backend sends) restarts the update.
    pub fn on_reply(&mut self, now: u64, reply: Reply, picker: &KeyPicker) -> Action {
        match (self.state, reply) {
            (State::Read, Reply::Value(v)) => {
                self.stats.misses += u64::from(v.is_none());
                self.complete(now, picker)
            }
            (State::NaiveGet, Reply::Value(v)) => {
                self.stats.misses += u64::from(v.is_none());
                self.state = State::NaiveSet;
                self.send(CounterOp::Set(v.map_or(1, |v| v.wrapping_add(1))), 0)
            }
            (State::NaiveSet, Reply::Stored) => self.complete(now, picker),
            (State::CasGets, Reply::ValueCas(Some((v, cas)))) => {
                self.state = State::CasCas;
                self.send(CounterOp::Cas(v.wrapping_add(1), cas), 0)
            }
            (State::CasGets, Reply::ValueCas(None)) => {
                self.stats.misses += 1;
                self.state = State::CasAdd;
                self.send(CounterOp::Add(1), 0)
            }
            (State::CasCas, Reply::Cas(CasReply::Stored)) => self.complete(now, picker),
            (State::CasCas | State::LeaseSet, Reply::Cas(CasReply::Exists)) => {
                self.stats.cas_failures += 1;
                self.retry()
            }
            (State::CasCas | State::LeaseSet, Reply::Cas(CasReply::NotFound)) => {
                self.stats.not_found += 1;
                self.retry()
            }
            (State::CasAdd | State::IncrAdd, Reply::Added(true)) => self.complete(now, picker),
            (State::CasAdd | State::IncrAdd, Reply::Added(false)) => {
                self.stats.failed_adds += 1;
                self.retry()
            }
            (State::IncrIncr, Reply::Incr(Some(_))) => self.complete(now, picker),
            (State::IncrIncr, Reply::Incr(None)) => {
                self.stats.not_found += 1;
                self.state = State::IncrAdd;
                self.send(CounterOp::Add(1), 0)
            }
            (State::LeaseGet, Reply::Lease(LeaseReply::Won { value, token })) => {
                self.stats.misses += u64::from(value.is_none());
                self.state = State::LeaseSet;
                self.send(
                    CounterOp::LeaseSet(value.map_or(1, |v| v.wrapping_add(1)), token),
                    0,
                )
            }
            (State::LeaseGet, Reply::Lease(LeaseReply::Lost)) => {
                self.stats.lease_losses += 1;
                self.retry()
            }
            (State::LeaseSet, Reply::Cas(CasReply::Stored)) => self.complete(now, picker),
            (State::Finished, _) => Action::Finished,
            _ => self.retry(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::KeyDist;

    #[test]
    fn cas_client_retries_after_exists_and_counts_it() {
        let w = Workload {
            updates_per_client: 1,
            ..Workload::default()
        };
        let picker = KeyPicker::new(&KeyDist::Hot, 1).unwrap();
        let streaks = Arc::new(Streaks::default());
        let mut c = CounterClient::new(0, &w, &streaks);
        let send = |op| Action::Send {
            op,
            key: 0,
            delay: 0,
        };
        assert_eq!(c.start(0, &picker), send(CounterOp::Gets));
        let a = c.on_reply(10, Reply::ValueCas(Some((42, 7))), &picker);
        assert_eq!(a, send(CounterOp::Cas(43, 7)));
        let a = c.on_reply(20, Reply::Cas(CasReply::Exists), &picker);
        assert_eq!(a, send(CounterOp::Gets));
        let a = c.on_reply(30, Reply::ValueCas(Some((43, 8))), &picker);
        assert_eq!(a, send(CounterOp::Cas(44, 8)));
        assert_eq!(
            c.on_reply(40, Reply::Cas(CasReply::Stored), &picker),
            Action::Finished
        );
        let s = c.stats();
        assert_eq!(
            (s.updates, s.requests, s.cas_attempts, s.cas_failures),
            (1, 4, 2, 1)
        );
        assert_eq!(streaks.mean(), Some(1.0), "its one update, recorded");
        assert_eq!(
            (s.retries.max(), s.latency.max(), s.finished_at),
            (1, 40, 40)
        );
    }
}
