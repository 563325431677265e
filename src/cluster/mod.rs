//! Clusters of memcached nodes: where keys live ([`placement`]), a cluster of simulated
//! nodes ([`nodes`]) or of running servers ([`live`]), a trace replayed through one from
//! cold, with a node failure and per-node partitions that merge ([`replay`]), and
//! migrations from one cluster to another, simulated or live ([`migrate`]).

pub mod live;
pub mod migrate;
pub mod nodes;
pub mod placement;
pub mod replay;

pub use nodes::{Cluster, NodesSpec};
pub use placement::{HashKind, NodeName, Placement};
pub use replay::{ClusterJob, ClusterResult, Failure, Join, Window, merge, replay_cluster};

/// Why a cluster run could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A node's policy spec is invalid.
    #[error(transparent)]
    Spec(#[from] crate::policy::SpecError),
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] crate::trace::Error),
    /// Results could not be merged.
    #[error("cannot merge: {0}")]
    Merge(String),
    /// The job asks for something impossible.
    #[error("{0}")]
    Invalid(String),
    /// A live server failed or answered out of protocol.
    #[error(transparent)]
    Client(#[from] crate::memcached::client::ClientError),
}

/// A point in a trace as the user gives it: a request index (`400000`) or a percentage of
/// the requests (`40%`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TracePoint {
    /// Before this request (0-based).
    Request(u64),
    /// After this percentage of the requests.
    Percent(f64),
}

impl TracePoint {
    /// The request index in a trace of `requests` requests.
    pub fn resolve(self, requests: u64) -> u64 {
        match self {
            TracePoint::Request(i) => i,
            TracePoint::Percent(p) => (requests as f64 * p / 100.0).round() as u64,
        }
    }
}

impl std::str::FromStr for TracePoint {
    type Err = String;

    fn from_str(text: &str) -> Result<TracePoint, String> {
        let bad = || {
            format!(
                "`{text}` is not a point in the trace: expected a request number (400000) or a percentage of the requests (40%)"
            )
        };
        let text = text.trim();
        if text.ends_with('%') {
            match crate::units::parse_percent(text) {
                Ok(p) if p <= 100.0 => Ok(TracePoint::Percent(p)),
                _ => Err(bad()),
            }
        } else {
            text.parse().map(TracePoint::Request).map_err(|_| bad())
        }
    }
}

/// A node joining as the user writes it: `64MiB@40%`, its memory and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JoinSpec {
    /// Its memory in bytes.
    pub memory: u64,
    /// When.
    pub at: TracePoint,
}

impl std::str::FromStr for JoinSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<JoinSpec, String> {
        let bad = |why: String| {
            format!(
                "`{text}` is not a joining node: {why}; expected SIZE@POINT, such as 64MiB@40% or 64MiB@400000"
            )
        };
        let (memory, at) = text
            .trim()
            .split_once('@')
            .ok_or_else(|| bad("no @".into()))?;
        let memory = crate::units::parse_bytes(memory).map_err(|e| bad(e.to_string()))?;
        if memory == 0 {
            return Err(bad("a node needs memory".into()));
        }
        Ok(JoinSpec {
            memory,
            at: at.parse().map_err(bad)?,
        })
    }
}

/// A node failure as the user writes it: `node2@40%` (nodes are numbered from 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureSpec {
    /// The node, 1-based as named.
    pub node: usize,
    /// When.
    pub at: TracePoint,
}

impl std::str::FromStr for FailureSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<FailureSpec, String> {
        let bad = |why: &str| {
            format!(
                "`{text}` is not a failure: {why}; expected nodeN@POINT, such as node2@40% or node2@400000"
            )
        };
        let (node, at) = text.trim().split_once('@').ok_or_else(|| bad("no @"))?;
        let node = node
            .trim()
            .strip_prefix("node")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(|| bad("the node is nodeN with N from 1"))?;
        Ok(FailureSpec {
            node,
            at: at.parse().map_err(|e: String| bad(&e))?,
        })
    }
}
