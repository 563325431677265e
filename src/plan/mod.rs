//! `cachelab plan`: from a trace and target hit ratios to the decision a capacity planner
//! makes, per target and policy: the cache size, memcached's `-m` and hash table, how many
//! nodes and of which type, what they cost a month, the load left on the origin, and how
//! long a cold cluster takes to warm (GitHub issue 15).
//!
//! Start from [`plan`] (or [`plan_file`]), which takes a [`PlanJob`] and returns a
//! [`PlanDocument`] of [`PlanRow`]s. For each policy the driver:
//!
//! 1. draws the policy's miss-ratio curve ([`curves`]: exact for `lru`, miniature
//!    simulations for the others, the memcached model's x axis being `-m`);
//! 2. reads the size for each target off it ([`crate::mrc::Curve::size_for_hit_ratio`]);
//!    a target above the compulsory-miss ceiling is `unreachable`;
//! 3. confirms the size by simulating the policy over the whole trace there
//!    ([`confirm`]), stepping up until the simulated hit ratio reaches the target; that
//!    simulated ratio is the row's `predicted_hit_ratio`;
//! 4. counts memcached's memory for what the policy holds at that size ([`memory`]: slab
//!    classes, chunks, 1 MiB pages, the hash table outside `-m`);
//! 5. spreads it over the fewest nodes, or the cheapest node type of the user's price table
//!    ([`prices`]);
//! 6. replays the trace from cold through that cluster ([`warmup`]) and turns requests
//!    into seconds with the request rate ([`rate`]: `--rate`, or the trace's own).
//!
//! The trace is held in memory (40 bytes a request) and read by every pass from there.
//! Output is deterministic: the same trace and job give byte-identical documents.

pub mod confirm;
pub mod curves;
pub mod memory;
pub mod prices;
pub mod rate;
pub mod warmup;

use std::str::FromStr;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use self::confirm::{Climb, Probe, search, simulate_at};
use self::curves::{Extent, MODEL_POINTS, Shared, is_model};
use self::memory::{MIB, ResidencyError, hash_table_bytes, min_m_mib, resident_usage};
use self::prices::{Demand, NodeFit, NodeSpec, PriceTable, fit};
use self::rate::{RequestRate, trace_rate};
use crate::catalog::CATALOG;
use crate::cluster::ClusterError;
use crate::memcached::Settings;
use crate::mrc::{Curve, MrcError, SizeForTarget};
use crate::policy::{PolicySpec, SpecError};
use crate::request::Request;
use crate::sim::{SimError, WorkingSet};
use crate::trace::{self, ReadOptions, RequestReader};
use crate::units::format_bytes;

/// The most nodes a warm-up replay simulates; a larger cluster gets no warm-up time.
pub const MAX_WARMUP_NODES: u64 = 4096;

/// Everything a plan needs besides the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanJob {
    /// Target hit ratios, each strictly between 0 and 1, ascending.
    pub targets: Vec<f64>,
    /// The policies, in output order.
    pub policies: Vec<PolicySpec>,
    /// The node the cluster is made of when there is no price table (`--node`); its usable
    /// share is also the default of the price table's node types.
    pub node: NodeSpec,
    /// The user's node types and prices (`--prices`).
    pub prices: Option<PriceTable>,
    /// The request rate (`--rate`); `None` takes the trace's own.
    pub rate: Option<RequestRate>,
    /// Sampling rate of the miniature simulations, in (0, 1] (`--sample`).
    pub sample: f64,
    /// Sizes on the eviction policies' curves.
    pub points: usize,
    /// Sizes on the memcached model's curve ([`curves::MODEL_POINTS`] by default).
    pub model_points: usize,
    /// Seed of randomised policies and of the sampling hash.
    pub seed: u64,
}

impl PlanJob {
    /// A job for `targets` and `policies` with every other setting at its default: a
    /// `64GiB:0.85` node, no prices, the trace's own rate, no sampling, 100 sizes per
    /// curve.
    pub fn new(targets: Vec<f64>, policies: Vec<PolicySpec>) -> PlanJob {
        PlanJob {
            targets,
            policies,
            node: NodeSpec::default(),
            prices: None,
            rate: None,
            sample: 1.0,
            points: 100,
            model_points: MODEL_POINTS,
            seed: 0,
        }
    }
}

/// A `--target-hit-ratio` that is not a list of targets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "--target-hit-ratio {text:?}: {reason}; expected hit ratios strictly between 0 and 1, comma-separated, such as 0.9,0.95,0.99 or 90%,95%"
)]
#[non_exhaustive]
pub struct TargetError {
    /// The text as given.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

/// Target hit ratios as the user types them: `0.9,0.95,0.99` or `90%,95%`; ascending,
/// each once.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets(pub Vec<f64>);

impl FromStr for Targets {
    type Err = TargetError;

    fn from_str(text: &str) -> Result<Targets, TargetError> {
        parse_targets(text).map(Targets)
    }
}

/// Parses target hit ratios; see [`Targets`].
///
/// ```
/// use cachelab::plan::parse_targets;
/// assert_eq!(parse_targets("0.99, 90%,0.95").unwrap(), vec![0.9, 0.95, 0.99]);
/// assert!(parse_targets("1").is_err()); // a cache never hits every request
/// assert!(parse_targets("0").is_err());
/// ```
pub fn parse_targets(text: &str) -> Result<Vec<f64>, TargetError> {
    let bad = |reason: String| TargetError {
        text: text.to_string(),
        reason,
    };
    let mut targets = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(bad("an empty item".into()));
        }
        let value = if item.ends_with('%') {
            crate::units::parse_percent(item)
                .map(|p| p / 100.0)
                .map_err(|_| ())
        } else {
            item.parse::<f64>().map_err(|_| ())
        }
        .map_err(|()| bad(format!("`{item}` is not a number")))?;
        if !(value > 0.0 && value < 1.0) {
            return Err(bad(format!(
                "`{item}` is not strictly between 0 and 1 (no cache hits every request, and 0 needs no cache)"
            )));
        }
        targets.push(value);
    }
    targets.sort_by(f64::total_cmp);
    targets.dedup();
    Ok(targets)
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A target is not a hit ratio a cache can be sized for.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// No target or no policy was given.
    #[error("nothing to plan: {0}")]
    Nothing(&'static str),
    /// A policy spec is invalid.
    #[error(transparent)]
    Policy(#[from] SpecError),
    /// A policy spec fixes its own size.
    #[error(
        "{policy} sets its own memory, but a plan chooses the size: leave the size parameter out (memcached's -m is what the plan computes)"
    )]
    SizeFixed {
        /// The spec as given.
        policy: String,
    },
    /// A setting of the job is out of range.
    #[error("{option} {value}: expected {expected}")]
    Setting {
        /// The option.
        option: &'static str,
        /// Its value.
        value: String,
        /// What it accepts.
        expected: &'static str,
    },
    /// The trace has no request.
    #[error("{trace}: the trace has no request, so there is nothing to plan for")]
    EmptyTrace {
        /// The trace's name.
        trace: String,
    },
    /// No node can run memcached at all.
    #[error(
        "{node}: too small for any memcached: a node needs room for the smallest -m ({min_m_mib} MiB) and the first hash table (512 KiB)"
    )]
    NodeTooSmall {
        /// The node, as described.
        node: String,
        /// The smallest `-m`.
        min_m_mib: u64,
    },
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] trace::Error),
    /// A curve could not be drawn.
    #[error(transparent)]
    Mrc(#[from] MrcError),
    /// A confirming simulation failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A warm-up replay failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A residency replay failed.
    #[error(transparent)]
    Residency(#[from] ResidencyError),
}

/// Whether a row's target is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// A size reaches the target, confirmed by simulation.
    Ok,
    /// No size does: the compulsory misses alone exceed `1 - target`.
    Unreachable,
    /// The target is below the ceiling, but no size computed reaches it.
    Beyond,
}

impl PlanStatus {
    /// The status as the outputs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Ok => "ok",
            PlanStatus::Unreachable => "unreachable",
            PlanStatus::Beyond => "beyond",
        }
    }
}

/// Where the request rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    /// `--rate`.
    Given,
    /// The trace's timestamps.
    Trace,
}

/// The node the plan sized the cluster with (`--node`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NodeSummary {
    /// The node's memory in bytes.
    pub memory_bytes: u64,
    /// The share memcached may use.
    pub usable: f64,
    /// The bytes memcached may use.
    pub usable_bytes: u64,
}

impl From<NodeSpec> for NodeSummary {
    fn from(node: NodeSpec) -> NodeSummary {
        NodeSummary {
            memory_bytes: node.memory_bytes,
            usable: node.usable,
            usable_bytes: node.usable_bytes(),
        }
    }
}

/// One target and policy of a plan. Numbers that do not apply (an unreachable target, no
/// price table, no request rate) are `None`: `null` in JSON, empty in CSV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRow {
    /// The target hit ratio.
    pub target_hit_ratio: f64,
    /// The policy spec as given.
    pub policy: String,
    /// The curve's method (`exact`, `mini:policy=s3fifo,rate=1`).
    pub method: String,
    /// Whether the target is met.
    pub status: PlanStatus,
    /// The cache size in bytes (for the memcached model, its `-m`: a whole number of MiB).
    pub cache_bytes: Option<u64>,
    /// `cache_bytes` as a percentage of the working set's bytes (as `cachelab mrc` writes
    /// it: 50.0 is half).
    pub pct_of_working_set: Option<f64>,
    /// The hit ratio the policy reached in a simulation of the whole trace at that size
    /// (for the memcached model, at `memcached_m_mib`).
    pub predicted_hit_ratio: Option<f64>,
    /// What the curve itself says at that size (interpolated between its points).
    pub curve_hit_ratio: Option<f64>,
    /// The curve's compulsory-miss floor: distinct keys over requests.
    pub floor_miss_ratio: f64,
    /// memcached's `-m` in MiB for the whole cache.
    pub memcached_m_mib: Option<u64>,
    /// The items memcached holds at most (what sizes its hash table).
    pub items: Option<u64>,
    /// memcached's hash table for them on one node, outside `-m`.
    pub hash_table_bytes: Option<u64>,
    /// Nodes.
    pub nodes: Option<u64>,
    /// The node type chosen from the price table.
    pub node_type: Option<String>,
    /// Each node's `-m` in MiB.
    pub node_m_mib: Option<u64>,
    /// Nodes times the node type's monthly price.
    pub monthly_cost: Option<f64>,
    /// The price's currency.
    pub currency: Option<String>,
    /// Requests per second that miss and reach the origin: rate × (1 − predicted).
    pub origin_requests_per_s: Option<f64>,
    /// Requests from cold until the cluster reaches 95% of its warm hit ratio.
    pub warmup_requests: Option<u64>,
    /// The same in seconds, at the request rate.
    pub warmup_s: Option<f64>,
    /// How the numbers were reached, where a reader should know.
    pub notes: Vec<String>,
}

/// What `cachelab plan --json` writes, and `cachelab report` reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDocument {
    /// Always `plan`.
    pub kind: String,
    /// The trace's name.
    pub trace: String,
    /// Its requests.
    pub requests: u64,
    /// Its working set (distinct keys, and their bytes at their first size).
    pub working_set: WorkingSet,
    /// Requests per second the origin load and warm-up time are computed with.
    pub request_rate_per_s: Option<f64>,
    /// Where that rate came from.
    pub rate_source: Option<RateSource>,
    /// The node of `--node`.
    pub node: NodeSummary,
    /// The price table, when one was given.
    pub prices: Option<PriceTable>,
    /// Sampling rate of the miniature simulations.
    pub sample_rate: f64,
    /// One row per target and policy, by target, then policy in the order given.
    pub rows: Vec<PlanRow>,
    /// What the user should know about the whole plan, one line each.
    pub notes: Vec<String>,
}

/// Reads the trace at `path` and plans for it; `progress` gets the requests read so far.
pub fn plan_file(
    path: &str,
    read: &ReadOptions,
    job: &PlanJob,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<PlanDocument, PlanError> {
    check(job)?;
    let mut reader = trace::open(path, read)?;
    let mut requests = Vec::new();
    while reader.read_batch(&mut requests, 1 << 16)? > 0 {
        if let Some(report) = progress {
            report(requests.len() as u64);
        }
    }
    let mut notes = reader.notes();
    if reader.skipped() > 0 {
        notes.push(format!(
            "skipped {} malformed records in {path}",
            reader.skipped()
        ));
    }
    let mut doc = plan(
        requests,
        reader.has_next_access(),
        &trace::trace_name(path),
        job,
    )?;
    notes.append(&mut doc.notes);
    doc.notes = notes;
    Ok(doc)
}

/// Checks a job before any work.
fn check(job: &PlanJob) -> Result<(), PlanError> {
    if job.targets.is_empty() {
        return Err(PlanError::Nothing(
            "no target hit ratio; give --target-hit-ratio 0.9,0.95",
        ));
    }
    if let Some(&t) = job.targets.iter().find(|t| !(**t > 0.0 && **t < 1.0)) {
        return Err(TargetError {
            text: t.to_string(),
            reason: "not strictly between 0 and 1".into(),
        }
        .into());
    }
    if job.policies.is_empty() {
        return Err(PlanError::Nothing(
            "no policy; give -p lru,s3fifo,memcached",
        ));
    }
    for spec in &job.policies {
        CATALOG.check(spec)?;
        if CATALOG.build(spec, 1 << 30, job.seed)?.capacity() != 1 << 30 {
            return Err(PlanError::SizeFixed {
                policy: spec.to_string(),
            });
        }
    }
    if !(job.sample > 0.0 && job.sample <= 1.0) {
        return Err(PlanError::Setting {
            option: "--sample",
            value: job.sample.to_string(),
            expected: "a sampling rate in (0, 1], such as 0.1",
        });
    }
    for (option, points) in [
        ("--points", job.points),
        ("--model-points", job.model_points),
    ] {
        if !(2..=10_000).contains(&points) {
            return Err(PlanError::Setting {
                option,
                value: points.to_string(),
                expected: "2 to 10000 sizes",
            });
        }
    }
    let min_m = min_m_mib(&Settings::default());
    let smallest = Demand {
        m_mib: min_m,
        items: 0,
        min_node_m_mib: min_m,
    };
    match &job.prices {
        None if fit(&smallest, job.node.usable_bytes()).is_none() => Err(PlanError::NodeTooSmall {
            node: format!("--node {}", job.node),
            min_m_mib: min_m,
        }),
        Some(table) if table.cheapest(&smallest).is_none() => Err(PlanError::NodeTooSmall {
            node: format!("every node type of {}", table.source),
            min_m_mib: min_m,
        }),
        _ => Ok(()),
    }
}

/// A row before its memory, nodes and warm-up are counted.
#[derive(Debug, Clone)]
struct Draft {
    row: PlanRow,
    policy_index: usize,
    target_index: usize,
    /// The capacity the policy was confirmed at, in bytes.
    capacity: Option<u64>,
}

/// Plans for `requests` (a trace named `trace_name`; `has_next_access` says whether their
/// `next_access` is real); see the module documentation.
pub fn plan(
    requests: Vec<Request>,
    has_next_access: bool,
    trace_name: &str,
    job: &PlanJob,
) -> Result<PlanDocument, PlanError> {
    check(job)?;
    if requests.is_empty() {
        return Err(PlanError::EmptyTrace {
            trace: trace_name.to_string(),
        });
    }
    let mut notes = Vec::new();
    let working_set = WorkingSet::of(&requests);
    let (rate, rate_source) = match (job.rate, trace_rate(&requests)) {
        (Some(r), _) => (Some(r), Some(RateSource::Given)),
        (None, Some(r)) => (Some(r), Some(RateSource::Trace)),
        (None, None) => {
            notes.push(format!(
                "{trace_name}: its timestamps span no time, so it has no request rate: pass --rate (such as --rate 20000/s) for origin load and warm-up in seconds"
            ));
            (None, None)
        }
    };
    let needs_next_access = job.policies.iter().any(|p| {
        CATALOG
            .lookup(&p.name)
            .is_ok_and(|info| info.needs_next_access)
    });
    let mut requests = requests;
    let has_next_access = if needs_next_access && !has_next_access {
        trace::next_access::fill(&mut requests);
        true
    } else {
        has_next_access
    };
    let trace = Shared {
        requests: Arc::new(requests),
        has_next_access,
    };
    let extent = Extent::of(&trace.requests);
    let curves = curves::curves(
        &trace,
        &job.policies,
        job.sample,
        (job.points, job.model_points),
        job.seed,
        extent,
    )?;
    for curve in &curves {
        notes.extend(curve.notes.iter().cloned());
    }
    let mut drafts = Vec::new();
    for (policy_index, (spec, curve)) in job.policies.iter().zip(&curves).enumerate() {
        drafts.extend(size_policy(
            &trace,
            spec,
            policy_index,
            curve,
            job,
            &working_set,
        )?);
    }
    // The eviction policies' rows in parallel; the memcached model's one at a time, as
    // each holds its -m of values.
    let (models, plain): (Vec<Draft>, Vec<Draft>) = drafts
        .into_iter()
        .partition(|d| is_model(&job.policies[d.policy_index]));
    let mut rows = plain
        .par_iter()
        .map(|draft| finish(&trace, draft, job, rate))
        .collect::<Result<Vec<(usize, usize, PlanRow)>, PlanError>>()?;
    for draft in &models {
        rows.push(finish(&trace, draft, job, rate)?);
    }
    rows.sort_by(|a, b| {
        a.2.target_hit_ratio
            .total_cmp(&b.2.target_hit_ratio)
            .then(a.1.cmp(&b.1))
    });
    Ok(PlanDocument {
        kind: "plan".to_string(),
        trace: trace_name.to_string(),
        requests: working_set.requests,
        working_set,
        request_rate_per_s: rate.map(RequestRate::per_second),
        rate_source,
        node: job.node.into(),
        prices: job.prices.clone(),
        sample_rate: job.sample,
        rows: rows.into_iter().map(|(_, _, row)| row).collect(),
        notes,
    })
}

/// A row with nothing but the target, the policy and the curve's floor filled in.
fn empty_row(target: f64, spec: &PolicySpec, curve: &Curve, status: PlanStatus) -> PlanRow {
    PlanRow {
        target_hit_ratio: target,
        policy: spec.to_string(),
        method: curve.method.clone(),
        status,
        cache_bytes: None,
        pct_of_working_set: None,
        predicted_hit_ratio: None,
        curve_hit_ratio: None,
        floor_miss_ratio: curve.floor.miss_ratio,
        memcached_m_mib: None,
        items: None,
        hash_table_bytes: None,
        nodes: None,
        node_type: None,
        node_m_mib: None,
        monthly_cost: None,
        currency: None,
        origin_requests_per_s: None,
        warmup_requests: None,
        warmup_s: None,
        notes: Vec::new(),
    }
}

/// Reads every target's size off `curve` and confirms it by simulation (step 2 and 3 of
/// the module documentation).
fn size_policy(
    trace: &Shared,
    spec: &PolicySpec,
    policy_index: usize,
    curve: &Curve,
    job: &PlanJob,
    working_set: &WorkingSet,
) -> Result<Vec<Draft>, PlanError> {
    let model = is_model(spec);
    let min_m = min_m_mib(&Settings::default());
    // Units: MiB of -m for the memcached model, bytes for the others.
    let unit = if model { MIB } else { 1 };
    let to_units = |bytes: u64| {
        if model {
            bytes.div_ceil(MIB).max(min_m)
        } else {
            bytes.max(1)
        }
    };
    let mut ladder: Vec<u64> = curve
        .points
        .iter()
        .map(|p| to_units(p.cache_size))
        .collect();
    ladder.dedup();
    let mut drafts = Vec::new();
    let mut candidates: Vec<(usize, u64, u64)> = Vec::new(); // (draft, curve size, units)
    for (target_index, &target) in job.targets.iter().enumerate() {
        let mut draft = Draft {
            row: empty_row(target, spec, curve, PlanStatus::Ok),
            policy_index,
            target_index,
            capacity: None,
        };
        match curve.size_for_hit_ratio(target) {
            SizeForTarget::Unreachable { ceiling } => {
                draft.row.status = PlanStatus::Unreachable;
                draft.row.notes.push(format!(
                    "no cache size reaches {target}: the first request of each of the {} keys always misses, {:.4} of the requests, so the best any size does is {ceiling:.4}",
                    working_set.objects, curve.floor.miss_ratio
                ));
            }
            SizeForTarget::Beyond { size, hit_ratio } => {
                draft.row.status = PlanStatus::Beyond;
                draft.row.notes.push(format!(
                    "the largest size on the curve, {}, reaches only {hit_ratio:.4}",
                    exact_bytes(size)
                ));
            }
            SizeForTarget::At { size } => candidates.push((drafts.len(), size, to_units(size))),
            SizeForTarget::AtMost { size } => {
                draft.row.notes.push(format!(
                    "the smallest size on the curve, {}, already reaches {target}: a smaller cache may too",
                    exact_bytes(size)
                ));
                candidates.push((drafts.len(), size, to_units(size)));
            }
        }
        drafts.push(draft);
    }
    let mut first: Vec<u64> = candidates.iter().map(|&(_, _, u)| u).collect();
    first.sort_unstable();
    first.dedup();
    if first.is_empty() {
        return Ok(drafts);
    }
    let simulate = |units: &[u64]| simulate_at(trace, spec, units, unit, job.seed);
    let probes = simulate(&first)?;
    let shown = |units: u64| {
        if model {
            format!("-m {units}")
        } else {
            exact_bytes(units)
        }
    };
    for (index, curve_size, units) in candidates {
        let draft = &mut drafts[index];
        let target = draft.row.target_hit_ratio;
        let probe: Probe = probes
            .iter()
            .find(|p| p.units == units)
            .copied()
            .expect("every candidate size was simulated");
        let curve_at = |bytes: u64| curve.miss_ratio_at(bytes as f64).map(|m| 1.0 - m);
        let said = curve_at(curve_size).unwrap_or(target);
        if model && curve_size.div_ceil(MIB) < min_m {
            draft.row.notes.push(format!(
                "the curve gives {}, below the smallest -m memcached starts with ({min_m} MiB with -I 1m)",
                format_bytes(curve_size)
            ));
        }
        // The curve's largest size under the candidate where the curve falls short.
        let below = curve
            .points
            .iter()
            .filter(|p| p.cache_size < curve_size && 1.0 - p.miss_ratio < target)
            .map(|p| p.cache_size)
            .max()
            .map(|bytes| {
                if model {
                    (bytes / MIB).max(min_m - 1)
                } else {
                    bytes
                }
            });
        let found = search(probe, below, &ladder, target, &simulate)?;
        let reached = |found: Probe, passes: u32| {
            let head = format!(
                "the curve gives {}, where its hit ratio is {said:.4}; a simulation of the whole trace at {} hits {:.4}",
                exact_bytes(curve_size),
                shown(probe.units),
                probe.hit_ratio
            );
            match (found.units == probe.units, passes) {
                (true, 0) => format!("{head}: confirmed"),
                (true, _) => format!(
                    "{head}: confirmed, and no smaller size reaches the target ({})",
                    more_passes(passes)
                ),
                (false, _) => format!(
                    "{head}; the smallest size that reaches the target is {} ({}, within {:.1}%)",
                    shown(found.units),
                    more_passes(passes),
                    confirm::TOLERANCE * 100.0
                ),
            }
        };
        match found {
            Climb::Reached {
                probe: found,
                passes,
            } => {
                draft.row.notes.push(reached(found, passes));
                // The memcached model's size is its -m, in whole MiB.
                let bytes = found.units * unit;
                draft.row.cache_bytes = Some(bytes);
                draft.row.pct_of_working_set = (working_set.bytes > 0)
                    .then(|| 100.0 * bytes as f64 / working_set.bytes as f64);
                draft.row.predicted_hit_ratio = Some(found.hit_ratio);
                draft.row.curve_hit_ratio = curve_at(bytes);
                draft.capacity = Some(bytes);
            }
            Climb::NotReached { best, passes } => {
                draft.row.status = PlanStatus::Beyond;
                draft.row.notes.push(format!(
                    "the curve gives {}, where its hit ratio is {said:.4}, but simulations of the whole trace up to {} reach only {:.4} ({})",
                    exact_bytes(curve_size),
                    shown(best.units),
                    best.hit_ratio,
                    more_passes(passes)
                ));
            }
        }
    }
    Ok(drafts)
}

/// A byte count for people and exactly: `1.0 MiB (1100000 bytes)`.
fn exact_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        format_bytes(bytes)
    } else {
        format!("{} ({bytes} bytes)", format_bytes(bytes))
    }
}

/// `1 more simulation pass`, `3 more simulation passes`.
fn more_passes(passes: u32) -> String {
    match passes {
        1 => "1 more simulation pass".to_string(),
        n => format!("{n} more simulation passes"),
    }
}

/// Counts memory, nodes, cost, origin load and warm-up for a confirmed row (steps 4 to 6
/// of the module documentation).
fn finish(
    trace: &Shared,
    draft: &Draft,
    job: &PlanJob,
    rate: Option<RequestRate>,
) -> Result<(usize, usize, PlanRow), PlanError> {
    let mut row = draft.row.clone();
    let done = |row: PlanRow| Ok((draft.target_index, draft.policy_index, row));
    let (Some(capacity), Some(predicted)) = (draft.capacity, row.predicted_hit_ratio) else {
        return done(row);
    };
    let spec = &job.policies[draft.policy_index];
    let model = is_model(spec);
    let settings = Settings::default();
    let min_m = min_m_mib(&settings);
    let residency = resident_usage(&trace.requests, spec, capacity, job.seed, &settings)?;
    let m_mib = if model {
        capacity / MIB
    } else {
        let too_large = residency.usage.too_large();
        if too_large > 0 {
            row.notes.push(format!(
                "{too_large} objects held are larger than memcached's -I (1 MiB) and left out of -m"
            ));
        }
        let pages = residency.usage.m_mib();
        if pages < min_m {
            row.notes.push(format!(
                "the objects held fit in {pages} MiB of slab pages; -m is memcached's smallest, {min_m}"
            ));
        }
        pages.max(min_m)
    };
    let items = residency.peak_objects;
    row.memcached_m_mib = Some(m_mib);
    row.items = Some(items);
    row.hash_table_bytes = Some(hash_table_bytes(items));
    row.origin_requests_per_s = rate.map(|r| r.per_second() * (1.0 - predicted));
    let demand = Demand {
        m_mib,
        items,
        min_node_m_mib: min_m,
    };
    let fitted: Option<NodeFit> = match &job.prices {
        Some(table) => match table.cheapest(&demand) {
            Some(choice) => {
                row.node_type = Some(choice.node_type.name.clone());
                row.monthly_cost = Some(choice.monthly_cost);
                row.currency = Some(choice.node_type.currency.clone());
                Some(choice.fit)
            }
            None => {
                row.notes.push(format!(
                    "no node type of {} can hold this cache",
                    table.source
                ));
                None
            }
        },
        None => fit(&demand, job.node.usable_bytes()),
    };
    let Some(fitted) = fitted else {
        return done(row);
    };
    row.nodes = Some(fitted.nodes);
    row.node_m_mib = Some(fitted.node_m_mib);
    if fitted.nodes > MAX_WARMUP_NODES {
        row.notes.push(format!(
            "{} nodes are more than the warm-up replay simulates ({MAX_WARMUP_NODES})",
            fitted.nodes
        ));
        return done(row);
    }
    let node_capacity = if model {
        fitted.node_m_mib * MIB
    } else {
        capacity.div_ceil(fitted.nodes)
    };
    let warm = warmup::warmup(trace, spec, fitted.nodes, node_capacity, job.seed)?;
    row.warmup_requests = warm.requests;
    row.warmup_s = match (warm.requests, rate) {
        (Some(n), Some(r)) => Some(n as f64 / r.per_second()),
        _ => None,
    };
    if warm.requests.is_none() {
        row.notes.push(format!(
            "the cluster never reaches {:.0}% of its warm hit ratio within the trace",
            warmup::WARM_FRACTION * 100.0
        ));
    }
    done(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_fractions_or_percentages_strictly_inside_0_1() {
        assert_eq!(parse_targets("0.95").unwrap(), vec![0.95]);
        assert_eq!(parse_targets("95%,0.9,0.95").unwrap(), vec![0.9, 0.95]);
        for (bad, says) in [
            ("0", "strictly between"),
            ("1", "strictly between"),
            ("100%", "strictly between"),
            ("-0.5", "strictly between"),
            ("1.2", "strictly between"),
            ("high", "not a number"),
            ("0.9,,0.95", "empty item"),
            ("NaN", "strictly between"),
        ] {
            let err = parse_targets(bad).unwrap_err().to_string();
            assert!(
                err.contains(says) && err.contains("0.9,0.95,0.99"),
                "{bad}: {err}"
            );
        }
    }

    fn small_trace() -> Vec<Request> {
        // 20 keys of 1,000 bytes, requested round-robin five times: an LRU of 20,000 bytes
        // hits every request after the first round.
        (0..100u64)
            .map(|i| Request {
                time: i,
                ..Request::get(i % 20, 1000)
            })
            .collect()
    }

    #[test]
    fn a_plan_confirms_each_size_by_simulation() {
        let job = PlanJob {
            node: "64MiB:0.5".parse().unwrap(),
            ..PlanJob::new(vec![0.5, 0.79, 0.9], vec!["lru".parse().unwrap()])
        };
        let doc = plan(small_trace(), false, "small", &job).unwrap();
        assert_eq!(doc.rows.len(), 3);
        let ok = &doc.rows[0];
        assert_eq!(ok.status, PlanStatus::Ok, "{ok:?}");
        // Round-robin over 20 keys: LRU hits only when it holds all 20 (20,000 bytes).
        assert_eq!(ok.cache_bytes, Some(20_000));
        assert_eq!(ok.predicted_hit_ratio, Some(0.8));
        assert_eq!(doc.rows[1].cache_bytes, Some(20_000));
        // 20 keys over 100 requests: the ceiling is 0.8.
        assert_eq!(doc.rows[2].status, PlanStatus::Unreachable);
        assert_eq!(doc.rows[2].cache_bytes, None);
        assert_eq!(doc.request_rate_per_s, Some(100.0 / 99.0));
        assert_eq!(doc.rate_source, Some(RateSource::Trace));
    }

    #[test]
    fn jobs_are_checked_before_any_work() {
        let lru: PolicySpec = "lru".parse().unwrap();
        let run = |job: PlanJob| {
            plan(small_trace(), false, "small", &job)
                .unwrap_err()
                .to_string()
        };
        assert!(run(PlanJob::new(vec![], vec![lru.clone()])).contains("no target"));
        assert!(run(PlanJob::new(vec![0.9], vec![])).contains("no policy"));
        assert!(run(PlanJob::new(vec![0.9], vec!["nosuch".parse().unwrap()])).contains("nosuch"));
        assert!(
            run(PlanJob::new(
                vec![0.9],
                vec!["memcached:m=64".parse().unwrap()]
            ))
            .contains("sets its own memory")
        );
        let tiny = PlanJob {
            node: "2MiB:1".parse().unwrap(),
            ..PlanJob::new(vec![0.9], vec![lru.clone()])
        };
        assert!(run(tiny).contains("too small"));
        let sampled = PlanJob {
            sample: 0.0,
            ..PlanJob::new(vec![0.9], vec![lru])
        };
        assert!(run(sampled).contains("--sample"));
    }
}
