//! [`replay_cluster`]: a trace through a simulated cluster as look-aside traffic (a read
//! that misses goes to the origin, the database, and the value is then set on the key's
//! node), with per-node totals, the hottest keys and where they sit, per-window hit ratio
//! and origin load from a cold start, how long the cluster takes to warm, and a node
//! failing or joining at a chosen point.
//!
//! Nodes are independent given the placement, so [`ClusterJob::only_node`] replays one
//! node's partition alone (the whole trace is read, the other nodes' requests skipped, and
//! windows keep the whole trace's numbering); [`merge`] adds the partitions' results into
//! exactly the whole cluster's.

use serde::{Deserialize, Serialize};

use super::nodes::{Cluster, NodesSpec};
use super::placement::{HashKind, NodeName, Placement, moved_fraction};
use crate::policy::PolicySpec;
use crate::sim::for_each_batch;
use crate::trace::{self, RequestReader};

/// How per-window rows are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Every this many requests of the whole trace.
    Requests(u64),
    /// Every this many units of the trace's own time (seconds in most formats), from its
    /// first request's time.
    Time(u64),
}

/// Cuts a trace into [`Window`]s as it streams: the window of each request and the trace
/// time each window starts at. `cluster` and `migrate` share it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowClock {
    window: Window,
    start: Option<u64>,
    index: u64,
}

impl WindowClock {
    pub(crate) fn new(window: Window) -> WindowClock {
        WindowClock {
            window,
            start: None,
            index: 0,
        }
    }

    /// The window of the next request, which is at `time`.
    pub(crate) fn next(&mut self, time: u64) -> u64 {
        let start = *self.start.get_or_insert(time);
        let index = self.index;
        self.index += 1;
        match self.window {
            Window::Requests(width) => index / width,
            Window::Time(width) => time.saturating_sub(start) / width,
        }
    }

    /// The time window `number` starts at: its boundary in trace time, or (windows of
    /// requests) the time of the request at `time` that opens it.
    pub(crate) fn start_of(&self, number: u64, time: u64) -> u64 {
        match self.window {
            Window::Requests(_) => time,
            Window::Time(width) => self.start.unwrap_or(time) + number * width,
        }
    }
}

/// Row `w` of `rows`, adding rows made by `empty(number)` until it exists.
pub(crate) fn row_at<T>(rows: &mut Vec<T>, w: u64, mut empty: impl FnMut(u64) -> T) -> &mut T {
    while rows.len() as u64 <= w {
        let number = rows.len() as u64;
        rows.push(empty(number));
    }
    &mut rows[w as usize]
}

impl WindowRow {
    /// A window with nothing counted yet.
    fn empty(window: u64, time: u64) -> WindowRow {
        WindowRow {
            window,
            time,
            requests: 0,
            hits: 0,
            hit_ratio: None,
            origin_requests: 0,
        }
    }
}

/// A node taken out while the trace replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The node's index (0-based).
    pub node: usize,
    /// The request (0-based index in the trace) before which it fails.
    pub at: u64,
}

/// A node added while the trace replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Join {
    /// Its memory in bytes.
    pub memory: u64,
    /// The request (0-based index in the trace) before which it joins.
    pub at: u64,
}

/// Everything a cluster replay needs.
#[derive(Debug, Clone)]
pub struct ClusterJob {
    /// The nodes and their memory.
    pub nodes: NodesSpec,
    /// How keys are placed.
    pub hash: HashKind,
    /// The policy of every node (the memcached model by default).
    pub policy: PolicySpec,
    /// Per-window rows.
    pub window: Window,
    /// A node failure, if any.
    pub failure: Option<Failure>,
    /// A node joining, if any.
    pub join: Option<Join>,
    /// Replay only this node's partition (0-based).
    pub only_node: Option<usize>,
    /// How many of the hottest keys to report.
    pub top: usize,
    /// Seed of randomised policies.
    pub seed: u64,
}

/// One node's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    /// The node's name.
    pub node: String,
    /// Its memory limit in bytes.
    pub memory: u64,
    /// Reads that reached it.
    pub requests: u64,
    /// Of which hits.
    pub hits: u64,
    /// Hits over requests (empty when it had none).
    pub hit_ratio: Option<f64>,
    /// Misses, each a read of the origin.
    pub origin_requests: u64,
    /// Objects evicted.
    pub evictions: u64,
    /// Bytes of the objects it holds at the end.
    pub bytes_used: u64,
    /// Objects it holds at the end.
    pub objects: u64,
}

impl NodeRow {
    /// A node that has served nothing yet.
    fn empty(node: String, memory: u64) -> NodeRow {
        NodeRow {
            node,
            memory,
            requests: 0,
            hits: 0,
            hit_ratio: None,
            origin_requests: 0,
            evictions: 0,
            bytes_used: 0,
            objects: 0,
        }
    }
}

/// One window of the whole cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowRow {
    /// The window's number, from 0.
    pub window: u64,
    /// The trace time at which it starts (its first request's, or the time boundary).
    pub time: u64,
    /// Reads in it.
    pub requests: u64,
    /// Of which hits.
    pub hits: u64,
    /// Hits over requests (empty when it had none).
    pub hit_ratio: Option<f64>,
    /// Reads that went to the origin.
    pub origin_requests: u64,
}

/// One of the hottest keys and the node it sits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotKey {
    /// The key.
    pub key: u64,
    /// Its requests.
    pub requests: u64,
    /// The node it lives on at the end.
    pub node: String,
}

/// What a cluster replay produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterResult {
    /// The trace's name.
    pub trace: String,
    /// The hashing.
    pub hash: String,
    /// The node replayed alone, or `None` for the whole cluster.
    pub only_node: Option<usize>,
    /// Per node, in order (only the partition's node when `only_node`).
    pub nodes: Vec<NodeRow>,
    /// Per window.
    pub windows: Vec<WindowRow>,
    /// The hottest keys, most requested first (ties by key).
    pub hottest: Vec<HotKey>,
    /// The fraction of the trace's keys that would move to another node if one more node
    /// joined the cluster as it started.
    pub moved_if_added: f64,
    /// The fraction that would move if its first node left.
    pub moved_if_removed: f64,
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl ClusterResult {
    /// Requests of the busiest node over the mean of all nodes (1 is perfectly even).
    pub fn imbalance(&self) -> Option<f64> {
        let loads: Vec<u64> = self.nodes.iter().map(|n| n.requests).collect();
        let mean = loads.iter().sum::<u64>() as f64 / loads.len().max(1) as f64;
        (mean > 0.0).then(|| *loads.iter().max().unwrap_or(&0) as f64 / mean)
    }

    /// The whole run's hit ratio.
    pub fn hit_ratio(&self) -> Option<f64> {
        let (hits, requests) = self
            .nodes
            .iter()
            .fold((0, 0), |(h, r), n| (h + n.hits, r + n.requests));
        ratio(hits, requests)
    }

    /// The warm hit ratio: the hit ratio of the second half of the windows.
    pub fn warm_hit_ratio(&self) -> Option<f64> {
        let half = &self.windows[self.windows.len() / 2..];
        let (hits, requests) = half
            .iter()
            .fold((0, 0), |(h, r), w| (h + w.hits, r + w.requests));
        ratio(hits, requests)
    }

    /// The first window whose hit ratio reaches `fraction` of the warm hit ratio: how long
    /// a cold cluster takes to warm.
    pub fn warm_after(&self, fraction: f64) -> Option<&WindowRow> {
        let warm = self.warm_hit_ratio()?;
        self.windows
            .iter()
            .find(|w| w.hit_ratio.is_some_and(|h| h >= fraction * warm))
    }
}

/// Replays `reader` through the cluster of `job`; `trace_name` names the result.
pub fn replay_cluster(
    reader: &mut dyn RequestReader,
    job: &ClusterJob,
    trace_name: &str,
) -> Result<ClusterResult, super::ClusterError> {
    use super::ClusterError::Invalid;
    let mut cluster = Cluster::new(&job.nodes, job.hash, &job.policy, job.seed)?;
    let mut rows: Vec<NodeRow> = cluster
        .placement()
        .nodes()
        .iter()
        .zip(&job.nodes.memory)
        .map(|(name, &memory)| NodeRow::empty(name.name.clone(), memory))
        .collect();
    let mut windows: Vec<WindowRow> = Vec::new();
    let mut clock = WindowClock::new(job.window);
    let requests = for_each_batch(reader, 1 << 16, false, None, |batch, first| {
        for (req, index) in batch.iter().zip(first..) {
            if let Some(f) = job.failure
                && f.at == index
            {
                cluster.fail(f.node);
            }
            if let Some(j) = job.join
                && j.at == index
            {
                let name = NodeName::new(format!("node{}:11211", cluster.len() + 1));
                rows.push(NodeRow::empty(name.name.clone(), j.memory));
                cluster.join(name, j.memory)?;
            }
            let w = clock.next(req.time);
            if let Some(k) = job.only_node
                && cluster.node_of(req.key) != k
            {
                continue;
            }
            let (node, outcome_hit) = cluster.read(req);
            let row = &mut rows[node];
            row.requests += 1;
            row.hits += u64::from(outcome_hit);
            let window = row_at(&mut windows, w, |n| {
                WindowRow::empty(n, clock.start_of(n, req.time))
            });
            window.requests += 1;
            window.hits += u64::from(outcome_hit);
            window.origin_requests += u64::from(!outcome_hit);
        }
        Ok::<(), super::ClusterError>(())
    })?;
    if requests == 0 {
        return Err(Invalid(format!("{trace_name}: the trace has no request")));
    }
    for (what, at) in [
        ("--fail", job.failure.map(|f| f.at)),
        ("--add", job.join.map(|j| j.at)),
    ] {
        if let Some(at) = at.filter(|&at| at >= requests) {
            return Err(Invalid(format!(
                "{what} at request {at} is past the end of {trace_name} ({requests} requests): it would never happen"
            )));
        }
    }
    for (index, (row, policy)) in rows.iter_mut().zip(cluster.nodes()).enumerate() {
        row.hit_ratio = ratio(row.hits, row.requests);
        row.evictions = cluster.evictions(index);
        row.origin_requests = row.requests - row.hits;
        row.bytes_used = policy.used();
        row.objects = policy.len() as u64;
    }
    for window in &mut windows {
        window.hit_ratio = ratio(window.hits, window.requests);
    }
    let names: Vec<String> = rows.iter().map(|r| r.node.clone()).collect();
    let mut hottest: Vec<HotKey> = cluster
        .reads()
        .filter(|&(_, reads, _)| reads > 0)
        .map(|(key, reads, node)| HotKey {
            key,
            requests: u64::from(reads),
            node: names[node].clone(),
        })
        .collect();
    hottest.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.key.cmp(&b.key)));
    hottest.truncate(job.top);
    let (moved_if_added, moved_if_removed) = moves(cluster.placement(), &cluster);
    let nodes = match job.only_node {
        Some(k) => vec![rows[k].clone()],
        None => rows,
    };
    Ok(ClusterResult {
        trace: trace_name.to_string(),
        hash: job.hash.to_string(),
        only_node: job.only_node,
        nodes,
        windows,
        hottest,
        moved_if_added,
        moved_if_removed,
    })
}

/// The fractions of the keys read that move when a node joins `placement` and when its
/// first node leaves (0 for a one-node cluster, which has no node to leave to).
fn moves(placement: &Placement, cluster: &Cluster) -> (f64, f64) {
    let keys: Vec<String> = cluster.reads().map(|(key, _, _)| key.to_string()).collect();
    let mut more = placement.nodes().to_vec();
    more.push(NodeName::new(format!("node{}:11211", more.len() + 1)));
    let added = moved_fraction(placement, &Placement::new(placement.kind(), more), &keys);
    let fewer = placement.nodes()[1..].to_vec();
    let removed = if fewer.is_empty() {
        0.0
    } else {
        moved_fraction(placement, &Placement::new(placement.kind(), fewer), &keys)
    };
    (added, removed)
}

/// The whole cluster's result from its partitions' (`--node K` for every K): node rows in
/// order, windows and hottest keys added up. Every node must appear once, from runs of the
/// same trace and hashing.
pub fn merge(
    mut parts: Vec<ClusterResult>,
    top: usize,
) -> Result<ClusterResult, super::ClusterError> {
    use super::ClusterError::Merge;
    parts.sort_by_key(|p| p.only_node);
    let first = parts
        .first()
        .ok_or_else(|| Merge("no result to merge".into()))?;
    let (trace, hash) = (first.trace.clone(), first.hash.clone());
    // Every partition read every key: the moves are the whole cluster's in each.
    let mut merged = ClusterResult {
        trace: trace.clone(),
        hash: hash.clone(),
        only_node: None,
        nodes: Vec::new(),
        windows: Vec::new(),
        hottest: Vec::new(),
        moved_if_added: first.moved_if_added,
        moved_if_removed: first.moved_if_removed,
    };
    for (k, part) in parts.into_iter().enumerate() {
        if part.only_node != Some(k) {
            return Err(Merge(format!(
                "expected the result of --node {k}, found {}",
                part.only_node
                    .map_or("a whole-cluster result".to_string(), |n| format!(
                        "--node {n}"
                    ))
            )));
        }
        if part.trace != trace || part.hash != hash {
            return Err(Merge(format!(
                "--node {k} replayed {} with {} hashing, --node 0 {trace} with {hash}",
                part.trace, part.hash
            )));
        }
        merged.nodes.extend(part.nodes);
        for w in part.windows {
            let into = row_at(&mut merged.windows, w.window, |n| {
                WindowRow::empty(n, w.time)
            });
            into.requests += w.requests;
            into.hits += w.hits;
            into.origin_requests += w.origin_requests;
            into.time = into.time.min(w.time);
        }
        merged.hottest.extend(part.hottest);
    }
    for w in &mut merged.windows {
        w.hit_ratio = ratio(w.hits, w.requests);
    }
    merged
        .hottest
        .sort_by(|a, b| b.requests.cmp(&a.requests).then(a.key.cmp(&b.key)));
    merged.hottest.truncate(top);
    Ok(merged)
}

/// Opens and replays a trace file.
pub fn replay_file(
    path: &str,
    read: &trace::ReadOptions,
    job: &ClusterJob,
) -> Result<ClusterResult, super::ClusterError> {
    let mut reader = trace::open(path, read)?;
    replay_cluster(reader.as_mut(), job, &trace::trace_name(path))
}
