//! Migrations from one cluster to another, as look-aside traffic: before the switch the old
//! cluster serves; after it, each [`Strategy`] routes reads and fills as a client would.
//!
//! | strategy | after the switch, a read … | a miss is set into |
//! | --- | --- | --- |
//! | `cutover` | goes to new only | new |
//! | `fallback` | tries new, then old (pymemcache's `FallbackClient((new, old))`): the first hit wins, nothing is copied | new |
//! | `fallback-writeback` | as `fallback`, and a hit in old is copied into new | new |
//! | `dual-write` | goes to new only; before the switch every fill was set into both | new |
//! | `warmup-route` | mcrouter's `WarmUpRoute(cold=new, warm=old)`: a miss in new reads old, and a hit there is added into new | new |
//!
//! On the reads-that-fill this replays, `warmup-route` and `fallback-writeback` route alike
//! (mcrouter also sends writes and deletes to the cold cluster, as `FallbackClient` sends
//! sets to new); they differ in what they are, not in these counts. Under `fallback`, old
//! keeps serving the hot keys that new never learns until they miss in both: the hits
//! served by old decay only as old's content is evicted or the keys are set again.
//!
//! Every strategy's pair of clusters sees the same requests in one read of the trace.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::live::{LiveCluster, Nodes};
use super::nodes::{Cluster, NodesSpec};
use super::placement::HashKind;
use super::replay::{Window, WindowClock, row_at};
use crate::memcached::client::{ClientError, ClientOptions};
use crate::policy::PolicySpec;
use crate::sim::for_each_batch;
use crate::trace::RequestReader;

/// How a client moves from the old cluster to the new one; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// New takes over cold.
    Cutover,
    /// pymemcache's `FallbackClient((new, old))`.
    Fallback,
    /// `Fallback`, copying old's hits into new.
    FallbackWriteback,
    /// Fills go to both before the switch; new alone after.
    DualWrite,
    /// mcrouter's `WarmUpRoute`.
    WarmupRoute,
}

impl Strategy {
    /// Every strategy, in the documentation's order.
    pub const ALL: [Strategy; 5] = [
        Strategy::Cutover,
        Strategy::Fallback,
        Strategy::FallbackWriteback,
        Strategy::DualWrite,
        Strategy::WarmupRoute,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Cutover => "cutover",
            Strategy::Fallback => "fallback",
            Strategy::FallbackWriteback => "fallback-writeback",
            Strategy::DualWrite => "dual-write",
            Strategy::WarmupRoute => "warmup-route",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(text: &str) -> Result<Strategy, String> {
        Strategy::ALL
            .into_iter()
            .find(|s| s.name() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a strategy: expected one of {}",
                    Strategy::ALL.map(Strategy::name).join(", ")
                )
            })
    }
}

/// Everything a migration needs.
#[derive(Debug, Clone)]
pub struct MigrateJob {
    /// The old cluster.
    pub from: NodesSpec,
    /// The new cluster.
    pub to: NodesSpec,
    /// How keys are placed in both.
    pub hash: HashKind,
    /// The policy of every node.
    pub policy: PolicySpec,
    /// The strategies, each replayed on its own pair of clusters.
    pub strategies: Vec<Strategy>,
    /// The request (0-based index) from which the client switches.
    pub switch_at: u64,
    /// Per-window rows.
    pub window: Window,
    /// Seed of randomised policies.
    pub seed: u64,
}

/// One window of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationRow {
    /// The strategy.
    pub strategy: Strategy,
    /// The window's number, from 0.
    pub window: u64,
    /// The trace time at which it starts.
    pub time: u64,
    /// Reads in it.
    pub requests: u64,
    /// Hits, from either cluster.
    pub hits: u64,
    /// Hits over requests.
    pub hit_ratio: Option<f64>,
    /// Hits served by the new cluster.
    pub hits_new: u64,
    /// Hits served by the old cluster.
    pub hits_old: u64,
    /// Reads that went to the origin.
    pub origin_requests: u64,
    /// True for the window the switch happens in.
    pub switch: bool,
}

/// One strategy's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    /// The strategy.
    pub strategy: Strategy,
    /// Per window.
    pub windows: Vec<MigrationRow>,
    /// The first window after the switch from which old serves under 1% of the reads for
    /// good: when it can be retired (`None`: never within the trace).
    pub retire_window: Option<u64>,
}

/// One strategy's state: its two clusters, simulated or live.
struct Lane {
    strategy: Strategy,
    old: Box<dyn Nodes>,
    new: Box<dyn Nodes>,
    windows: Vec<MigrationRow>,
}

impl Lane {
    /// Routes one read; returns (hit in new, hit in old).
    fn read(
        &mut self,
        req: &crate::request::Request,
        switched: bool,
    ) -> Result<(bool, bool), ClientError> {
        if !switched {
            let hit = self.old.read(req)?;
            if !hit && self.strategy == Strategy::DualWrite {
                self.new.set(req)?;
            }
            return Ok((false, hit));
        }
        match self.strategy {
            Strategy::Cutover | Strategy::DualWrite => Ok((self.new.read(req)?, false)),
            Strategy::Fallback | Strategy::FallbackWriteback | Strategy::WarmupRoute => {
                if self.new.lookup(req)? {
                    return Ok((true, false));
                }
                let hit_old = self.old.lookup(req)?;
                if !hit_old || self.strategy != Strategy::Fallback {
                    self.new.set(req)?;
                }
                Ok((false, hit_old))
            }
        }
    }
}

/// Replays `reader` once through every strategy of `job`, each on its own pair of
/// simulated clusters.
pub fn migrate(
    reader: &mut dyn RequestReader,
    job: &MigrateJob,
) -> Result<Vec<Migration>, super::ClusterError> {
    let lanes = job
        .strategies
        .iter()
        .map(|&strategy| {
            Ok(Lane {
                strategy,
                old: Box::new(Cluster::new(&job.from, job.hash, &job.policy, job.seed)?),
                new: Box::new(Cluster::new(&job.to, job.hash, &job.policy, job.seed)?),
                windows: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, crate::policy::SpecError>>()?;
    run(reader, lanes, job.switch_at, job.window)
}

/// Replays `reader` through one strategy against running servers: `old` and `new` are
/// their `host:port` addresses, placed by `hash`.
pub fn migrate_live(
    reader: &mut dyn RequestReader,
    strategy: Strategy,
    old: &[String],
    new: &[String],
    hash: HashKind,
    switch_at: u64,
    window: Window,
) -> Result<Migration, super::ClusterError> {
    let lane = Lane {
        strategy,
        old: Box::new(LiveCluster::connect(old, hash, &ClientOptions::default())?),
        new: Box::new(LiveCluster::connect(new, hash, &ClientOptions::default())?),
        windows: Vec::new(),
    };
    let mut runs = run(reader, vec![lane], switch_at, window)?;
    Ok(runs.remove(0))
}

fn run(
    reader: &mut dyn RequestReader,
    mut lanes: Vec<Lane>,
    switch_at: u64,
    window: Window,
) -> Result<Vec<Migration>, super::ClusterError> {
    let mut clock = WindowClock::new(window);
    let mut switch_window = None;
    let requests = for_each_batch(reader, 1 << 16, false, None, |batch, first| {
        for (req, index) in batch.iter().zip(first..) {
            let w = clock.next(req.time);
            let switched = index >= switch_at;
            if index == switch_at {
                switch_window = Some(w);
            }
            for lane in &mut lanes {
                let (hit_new, hit_old) = lane.read(req, switched)?;
                let strategy = lane.strategy;
                let row = row_at(&mut lane.windows, w, |n| MigrationRow {
                    strategy,
                    window: n,
                    time: clock.start_of(n, req.time),
                    requests: 0,
                    hits: 0,
                    hit_ratio: None,
                    hits_new: 0,
                    hits_old: 0,
                    origin_requests: 0,
                    switch: false,
                });
                row.requests += 1;
                row.hits_new += u64::from(hit_new);
                row.hits_old += u64::from(hit_old);
                row.hits += u64::from(hit_new || hit_old);
                row.origin_requests += u64::from(!(hit_new || hit_old));
            }
        }
        Ok::<(), super::ClusterError>(())
    })?;
    use super::ClusterError::Invalid;
    if requests == 0 {
        return Err(Invalid("the trace has no request".into()));
    }
    if switch_window.is_none() {
        return Err(Invalid(format!(
            "the switch at request {switch_at} is past the end of the trace ({requests} requests): nothing would migrate"
        )));
    }
    Ok(lanes
        .into_iter()
        .map(|lane| {
            let mut windows = lane.windows;
            for row in &mut windows {
                row.hit_ratio = (row.requests > 0).then(|| row.hits as f64 / row.requests as f64);
                row.switch = Some(row.window) == switch_window;
            }
            let retire_window = switch_window.and_then(|s| retire_after(&windows, s));
            Migration {
                strategy: lane.strategy,
                windows,
                retire_window,
            }
        })
        .collect())
}

/// The first window from `switch` on after which old serves under 1% of every window's
/// reads.
pub fn retire_after(windows: &[MigrationRow], switch: u64) -> Option<u64> {
    let low = |row: &MigrationRow| (row.hits_old as f64) < 0.01 * row.requests as f64;
    let after: Vec<&MigrationRow> = windows.iter().filter(|r| r.window >= switch).collect();
    let last_high = after.iter().rposition(|r| !low(r));
    match last_high {
        None => after.first().map(|r| r.window),
        Some(i) => after.get(i + 1).map(|r| r.window),
    }
}
