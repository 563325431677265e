//! One result row per run, the same for every mode: totals and lost updates, CAS and
//! retry counts, throughput, latency percentiles, fairness and the store's own CAS
//! counters (`report::contention` makes the table and charts of a sweep's rows).
//!
//! Percentiles come from [HdrHistogram](https://hdrhistogram.github.io/HdrHistogram/)
//! (the `hdrhistogram` crate): per-client histograms merge exactly, memory stays fixed
//! however many updates a run makes, and three significant digits hold from one
//! nanosecond to hours — a sorted `Vec` of every latency would do for the simulator but
//! not for long threaded runs. Fairness is Jain's index (Jain, Chiu, Hawe, *A Quantitative
//! Measure of Fairness and Discrimination for Resource Allocation in Shared Computer
//! Systems*, DEC-TR-301, 1984) over each client's update rate: 1 when all clients progress
//! equally, 1/n when one client does everything.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::client::ClientStats;
use super::config::Workload;

/// Which driver produced a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The deterministic discrete-event simulation.
    Sim,
    /// Real OS threads against the in-process store.
    Threads,
    /// Real TCP clients against a memcached-compatible server.
    Net,
}

impl Mode {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sim => "sim",
            Mode::Threads => "threads",
            Mode::Net => "net",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = super::config::WorkloadError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "sim" => Ok(Mode::Sim),
            "threads" => Ok(Mode::Threads),
            "net" => Ok(Mode::Net),
            _ => Err(super::config::WorkloadError::Parse {
                text: s.to_string(),
                expected: "a mode: sim, threads or net",
            }),
        }
    }
}

/// What a driver hands back: every client's counts and the end state.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Per-client counts, by client id.
    pub clients: Vec<ClientStats>,
    /// Sum of every counter at the end (missing counters count 0).
    pub final_total: u64,
    /// From the first request to the last reply, ns (simulated in sim mode).
    pub elapsed_ns: u64,
    /// Simulated requests the server handled (every request, in both modes).
    pub requests: u64,
    /// The store's `cas_hits`, `cas_badval`, `cas_misses`.
    pub cas_counters: [u64; 3],
    /// Mean updates one client completed in a row, counted as each update completed; `None`
    /// without updates.
    pub update_streak_mean: Option<f64>,
}

/// One run's results; a sweep writes one per configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentionRow {
    /// `sim` or `threads`.
    pub mode: Mode,
    /// Update strategy.
    pub strategy: String,
    /// Backoff between retries.
    pub backoff: String,
    /// Clients.
    pub clients: u32,
    /// Updates each client made.
    pub updates_per_client: u64,
    /// Counters.
    pub keys: u32,
    /// How clients picked counters.
    pub key_dist: String,
    /// Fraction of operations that were plain reads.
    pub read_ratio: f64,
    /// Mean network delay of a round trip, ns (sim mode with delays; null in threads and
    /// net mode, where the real network decides, and when a serving order was replayed).
    pub rtt_ns: Option<f64>,
    /// The round-trip delay as given (`200us`, `exp:200us`, `uniform:100us-300us`; sim
    /// mode, null otherwise).
    pub rtt_dist: Option<String>,
    /// Probability that a simulated client's round trip repeats its previous one
    /// ([`super::config::Workload::rtt_persistence`]; sim mode, null otherwise).
    pub rtt_persistence: Option<f64>,
    /// Mean server service time, ns (sim mode; null otherwise).
    pub service_ns: Option<f64>,
    /// The service time as given (sim mode; null otherwise).
    pub service_dist: Option<String>,
    /// The measured serving order replayed instead of delays
    /// ([`super::serving_order::ServingOrder::label`]; sim mode with a calibration, null
    /// otherwise: then the delay fields are null).
    pub serving_order: Option<String>,
    /// Mean think time between operations, ns.
    pub think_ns: f64,
    /// The think time as given.
    pub think_dist: String,
    /// Seed.
    pub seed: u64,
    /// What the counters should sum to: initial values plus every update.
    pub expected: u64,
    /// What they sum to.
    pub final_total: u64,
    /// `expected - final_total`.
    pub lost_updates: i64,
    /// Updates completed (every client's).
    pub updates: u64,
    /// Plain reads completed.
    pub reads: u64,
    /// Requests sent.
    pub requests: u64,
    /// CAS stores: `cas` requests and lease writes (`ms … C<cas>`).
    pub cas_attempts: u64,
    /// CAS stores answered `EXISTS`.
    pub cas_failures: u64,
    /// `cas_failures / updates`.
    pub cas_failures_per_update: f64,
    /// `NOT_FOUND` replies to CAS stores and `incr`.
    pub not_found: u64,
    /// Reads of a missing counter.
    pub misses: u64,
    /// `add`s that lost the race to create a counter.
    pub failed_adds: u64,
    /// Lease requests lost to another client.
    pub lease_losses: u64,
    /// Mean retries per successful update.
    pub retries_mean: f64,
    /// 99th percentile of retries per update.
    pub retries_p99: u64,
    /// Most retries one update needed.
    pub retries_max: u64,
    /// Seconds from first request to last reply (simulated in sim mode).
    pub elapsed_s: f64,
    /// Updates per second (0 when no time passed).
    pub throughput_per_s: f64,
    /// Median update latency, µs.
    pub latency_p50_us: f64,
    /// 90th percentile update latency, µs.
    pub latency_p90_us: f64,
    /// 99th percentile update latency, µs.
    pub latency_p99_us: f64,
    /// Slowest update, µs.
    pub latency_max_us: f64,
    /// Jain's fairness index over the clients' update rates.
    pub fairness: f64,
    /// Mean number of updates one client completed in a row before another client's update
    /// came between, counted as each update completed: near 1 when clients take turns, more
    /// when some hold the server (or a core) for several updates; null without updates.
    pub update_streak_mean: Option<f64>,
    /// The store's `cas_hits`.
    pub cas_hits: u64,
    /// The store's `cas_badval`.
    pub cas_badval: u64,
    /// The store's `cas_misses`.
    pub cas_misses: u64,
    /// Runs this row stands for (`--repeat`); the other fields are the median run's.
    #[serde(default = "one_run")]
    pub runs: u32,
    /// Fewest lost updates over the runs (null for a single run).
    #[serde(default)]
    pub lost_updates_min: Option<i64>,
    /// Median lost updates over the runs (the lower middle run for an even count).
    #[serde(default)]
    pub lost_updates_median: Option<i64>,
    /// Most lost updates over the runs.
    #[serde(default)]
    pub lost_updates_max: Option<i64>,
    /// Lowest CAS failures per update over the runs.
    #[serde(default)]
    pub cas_failures_per_update_min: Option<f64>,
    /// Median CAS failures per update over the runs.
    #[serde(default)]
    pub cas_failures_per_update_median: Option<f64>,
    /// Highest CAS failures per update over the runs.
    #[serde(default)]
    pub cas_failures_per_update_max: Option<f64>,
    /// Lowest throughput over the runs, updates/s.
    #[serde(default)]
    pub throughput_per_s_min: Option<f64>,
    /// Median throughput over the runs, updates/s.
    #[serde(default)]
    pub throughput_per_s_median: Option<f64>,
    /// Highest throughput over the runs, updates/s.
    #[serde(default)]
    pub throughput_per_s_max: Option<f64>,
}

fn one_run() -> u32 {
    1
}

/// (min, median, max) of `xs` (the lower middle for an even count); `xs` is not empty.
fn spread<T: Copy>(mut xs: Vec<T>, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> [T; 3] {
    xs.sort_by(cmp);
    [xs[0], xs[(xs.len() - 1) / 2], xs[xs.len() - 1]]
}

/// Jain's fairness index of `xs`: `(Σx)² / (n · Σx²)`; 1 for an empty or all-zero input.
pub fn jain_index(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let squares: f64 = xs.iter().map(|x| x * x).sum();
    if xs.is_empty() || squares == 0.0 {
        return 1.0;
    }
    sum * sum / (xs.len() as f64 * squares)
}

/// Rounds to 6 decimal places so float noise does not reach the files.
fn round6(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e6).round() / 1e6
    } else {
        0.0
    }
}

impl ContentionRow {
    /// The row for `outcome` of `workload` run in `mode`.
    pub fn new(mode: Mode, workload: &Workload, outcome: &RunOutcome) -> ContentionRow {
        let sum = |f: fn(&ClientStats) -> u64| outcome.clients.iter().map(f).sum::<u64>();
        let mut retries: Histogram<u64> = Histogram::new(3).expect("3 significant figures");
        let mut latency: Histogram<u64> = Histogram::new(3).expect("3 significant figures");
        for c in &outcome.clients {
            // Auto-resizing histograms of the same precision always merge.
            let _ = retries.add(&c.retries);
            let _ = latency.add(&c.latency);
        }
        let updates = sum(|c| c.updates);
        let expected = workload
            .initial
            .unwrap_or(0)
            .saturating_mul(u64::from(workload.keys))
            .saturating_add(workload.expected_updates());
        let rates: Vec<f64> = if outcome.clients.iter().any(|c| c.finished_at == 0) {
            outcome.clients.iter().map(|c| c.updates as f64).collect()
        } else {
            outcome
                .clients
                .iter()
                .map(|c| c.updates as f64 / c.finished_at as f64)
                .collect()
        };
        let elapsed_s = outcome.elapsed_ns as f64 / 1e9;
        let us = |q: f64| latency.value_at_quantile(q) as f64 / 1e3;
        let cas_failures = sum(|c| c.cas_failures);
        // A simulation either replays a measured order or draws delays, never both.
        let replayed = workload
            .serving_order
            .as_ref()
            .filter(|_| mode == Mode::Sim);
        let delays = mode == Mode::Sim && replayed.is_none();
        ContentionRow {
            mode,
            strategy: workload.strategy.to_string(),
            backoff: workload.backoff.to_string(),
            clients: workload.clients,
            updates_per_client: workload.updates_per_client,
            keys: workload.keys,
            key_dist: workload.key_dist.shorthand(),
            read_ratio: workload.read_ratio,
            rtt_ns: delays.then(|| round6(workload.rtt.mean_ns())),
            rtt_dist: delays.then(|| workload.rtt.to_string()),
            rtt_persistence: delays.then_some(workload.rtt_persistence),
            service_ns: delays.then(|| round6(workload.service.mean_ns())),
            service_dist: delays.then(|| workload.service.to_string()),
            serving_order: replayed.map(|o| o.label()),
            think_ns: round6(workload.think.mean_ns()),
            think_dist: workload.think.to_string(),
            seed: workload.seed,
            expected,
            final_total: outcome.final_total,
            lost_updates: (i128::from(expected) - i128::from(outcome.final_total))
                .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            updates,
            reads: sum(|c| c.reads),
            requests: outcome.requests,
            cas_attempts: sum(|c| c.cas_attempts),
            cas_failures,
            cas_failures_per_update: if updates == 0 {
                0.0
            } else {
                round6(cas_failures as f64 / updates as f64)
            },
            not_found: sum(|c| c.not_found),
            misses: sum(|c| c.misses),
            failed_adds: sum(|c| c.failed_adds),
            lease_losses: sum(|c| c.lease_losses),
            retries_mean: round6(if retries.is_empty() {
                0.0
            } else {
                retries.mean()
            }),
            retries_p99: retries.value_at_quantile(0.99),
            retries_max: retries.max(),
            elapsed_s: round6(elapsed_s),
            throughput_per_s: if outcome.elapsed_ns == 0 {
                0.0
            } else {
                round6(updates as f64 / elapsed_s)
            },
            latency_p50_us: us(0.5),
            latency_p90_us: us(0.9),
            latency_p99_us: us(0.99),
            latency_max_us: latency.max() as f64 / 1e3,
            fairness: round6(jain_index(&rates)),
            update_streak_mean: outcome.update_streak_mean.map(round6),
            cas_hits: outcome.cas_counters[0],
            cas_badval: outcome.cas_counters[1],
            cas_misses: outcome.cas_counters[2],
            runs: 1,
            lost_updates_min: None,
            lost_updates_median: None,
            lost_updates_max: None,
            cas_failures_per_update_min: None,
            cas_failures_per_update_median: None,
            cas_failures_per_update_max: None,
            throughput_per_s_min: None,
            throughput_per_s_median: None,
            throughput_per_s_max: None,
        }
    }

    /// The key metric of a row: the fraction of the expected total lost for `naive`
    /// (and any row that lost updates), CAS failures per update otherwise.
    pub fn key_metric(&self) -> f64 {
        if self.strategy == "naive" || self.lost_updates != 0 {
            if self.expected == 0 {
                0.0
            } else {
                self.lost_updates as f64 / self.expected as f64
            }
        } else {
            self.cas_failures_per_update
        }
    }

    /// One row for repeated runs of one configuration: the run with the median
    /// [`Self::key_metric`] (the lower middle for an even count), with `runs` and the
    /// min/median/max of lost updates, CAS failures per update and throughput. A single run
    /// comes back as it is. `runs` must not be empty.
    pub fn with_spread(runs: Vec<ContentionRow>) -> ContentionRow {
        assert!(!runs.is_empty(), "with_spread needs a run");
        if runs.len() == 1 {
            return runs.into_iter().next().expect("one run");
        }
        let lost = spread(runs.iter().map(|r| r.lost_updates).collect(), Ord::cmp);
        let cas = spread(
            runs.iter().map(|r| r.cas_failures_per_update).collect(),
            f64::total_cmp,
        );
        let rate = spread(
            runs.iter().map(|r| r.throughput_per_s).collect(),
            f64::total_cmp,
        );
        let n = runs.len() as u32;
        let mut order: Vec<usize> = (0..runs.len()).collect();
        order.sort_by(|&a, &b| runs[a].key_metric().total_cmp(&runs[b].key_metric()));
        let middle = order[(order.len() - 1) / 2];
        let mut row = runs.into_iter().nth(middle).expect("the middle run");
        row.runs = n;
        [
            row.lost_updates_min,
            row.lost_updates_median,
            row.lost_updates_max,
        ] = lost.map(Some);
        [
            row.cas_failures_per_update_min,
            row.cas_failures_per_update_median,
            row.cas_failures_per_update_max,
        ] = cas.map(Some);
        [
            row.throughput_per_s_min,
            row.throughput_per_s_median,
            row.throughput_per_s_max,
        ] = rate.map(Some);
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_index_is_one_when_equal_and_one_over_n_when_one_client_does_all() {
        assert_eq!(jain_index(&[3.0, 3.0, 3.0]), 1.0);
        assert!((jain_index(&[4.0, 0.0, 0.0, 0.0]) - 0.25).abs() < 1e-12);
        assert_eq!(jain_index(&[]), 1.0);
    }
}
