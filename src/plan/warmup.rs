//! How long a planned cluster takes to warm: the trace replayed from cold through the
//! cluster the plan chose ([`crate::cluster::replay_cluster`]: `nodes` nodes of the policy
//! behind ketama, as a memcached client places keys), cut into [`WINDOWS`] windows of equal
//! request counts, and the requests until the end of the first window whose hit ratio
//! reaches [`WARM_FRACTION`] of the warm hit ratio (the second half's,
//! [`crate::cluster::ClusterResult::warm_after`]). A plan turns them into seconds with its
//! request rate.

use super::curves::Shared;
use crate::cluster::{ClusterError, ClusterJob, HashKind, NodesSpec, Window, replay_cluster};
use crate::policy::PolicySpec;

/// Windows the replay is cut into.
pub const WINDOWS: u64 = 100;

/// The share of the warm hit ratio that counts as warm.
pub const WARM_FRACTION: f64 = 0.95;

/// What the replay found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Warmup {
    /// Requests from cold to the end of the first warm window; `None` when no window is.
    pub requests: Option<u64>,
    /// The warm hit ratio (of the second half of the windows).
    pub warm_hit_ratio: Option<f64>,
}

/// Replays the trace through `nodes` nodes of `spec`, each of `node_capacity` bytes (for
/// the memcached model, its `-m`).
pub(crate) fn warmup(
    trace: &Shared,
    spec: &PolicySpec,
    nodes: u64,
    node_capacity: u64,
    seed: u64,
) -> Result<Warmup, ClusterError> {
    let requests = trace.requests.len() as u64;
    let nodes = usize::try_from(nodes).map_err(|_| {
        ClusterError::Invalid(format!(
            "{nodes} nodes are more than this machine can address"
        ))
    })?;
    let job = ClusterJob {
        nodes: NodesSpec {
            memory: vec![node_capacity; nodes],
            names: (1..=nodes).map(|i| format!("node{i}:11211")).collect(),
        },
        hash: HashKind::Ketama,
        policy: spec.clone(),
        window: Window::Requests(requests.div_ceil(WINDOWS).max(1)),
        failure: None,
        join: None,
        only_node: None,
        top: 0,
        seed,
    };
    let result = replay_cluster(&mut trace.reader(), &job, "plan")?;
    let requests = result.warm_after(WARM_FRACTION).map(|w| {
        result
            .windows
            .iter()
            .take_while(|row| row.window <= w.window)
            .map(|row| row.requests)
            .sum()
    });
    Ok(Warmup {
        requests,
        warm_hit_ratio: result.warm_hit_ratio(),
    })
}
