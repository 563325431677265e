//! Results as data first, then as documents people decide from.
//!
//! Start from [`ResultRow`] (one simulated (trace, policy, size)) and [`document::Document`]
//! (what a report says). Every command's results are rows with serde derives, written as
//! CSV and JSON by [`output`]; [`inputs`] reads that JSON back, [`build`] turns it into a
//! document that leads with the answer, and one renderer per format writes it — [`text`]
//! (terminal tables), [`markdown`], [`html`] (one self-contained page) and [`data`] (CSV) —
//! with no renderer knowing another; [`site`] writes a whole report directory and
//! [`sweep`] merges the parts of a sweep. The tables
//! live beside their data ([`results`], [`plan`], [`curve`], [`cluster`], [`migration`],
//! [`contention`], [`memcached`]) and the charts in [`chart`], drawn from the same rows.
//! Writers never follow `HashMap` order, so the same results give byte-identical files.

pub mod bench_table;
pub mod build;
pub mod chart;
pub mod cluster;
pub mod contention;
pub mod curve;
pub mod data;
pub mod document;
pub mod html;
pub mod inputs;
pub mod markdown;
pub mod memcached;
pub mod migration;
pub mod output;
pub mod plan;
pub mod results;
pub mod site;
pub mod sweep;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::sim::{RunResult, SweepOutput};

/// One (trace, policy, capacity) result, with the fields `cachelab sim` writes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultRow {
    /// Trace name (the file name without directories and compression suffix).
    pub trace: String,
    /// Policy display name with parameters.
    pub policy: String,
    /// Capacity in `capacity_unit`.
    pub capacity: u64,
    /// `bytes` or `objects`.
    pub capacity_unit: String,
    /// Reads counted.
    pub requests: u64,
    /// Reads that hit.
    pub hits: u64,
    /// Reads that missed.
    pub misses: u64,
    /// misses / requests; `None` (empty in CSV, `null` in JSON) when no read was counted.
    pub miss_ratio: Option<f64>,
    /// bytes_missed / bytes_requested; `None` when no byte was requested.
    pub byte_miss_ratio: Option<f64>,
    /// Bytes the reads asked for.
    pub bytes_requested: u64,
    /// Bytes of the reads that missed.
    pub bytes_missed: u64,
    /// Objects evicted.
    pub evictions: u64,
    /// Requests whose object could never be stored (larger than the cache, or over
    /// memcached's `-I`).
    pub refused: u64,
}

/// A [`ResultRow`] as the JSON results carry it: the same fields, and the policy's own
/// report ([`crate::policy::Details`]: the memcached model's slab classes and warnings)
/// when it has one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JsonResultRow {
    /// The row's fields.
    #[serde(flatten)]
    pub row: ResultRow,
    /// The policy's own report, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<crate::policy::Details>,
    /// The trace's working set, when the run measured it (relative sizes or a fractional
    /// warm-up), so a report can show sizes as a share of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_set: Option<crate::sim::WorkingSet>,
}

impl JsonResultRow {
    /// The sweep's rows (from [`ResultRow::from_sweep`]) with each policy's report.
    pub fn with_details(rows: &[ResultRow], out: &SweepOutput) -> Vec<JsonResultRow> {
        rows.iter()
            .zip(&out.results)
            .map(|(row, result)| JsonResultRow {
                row: row.clone(),
                details: result.details.clone(),
                working_set: out.working_set,
            })
            .collect()
    }
}

impl ResultRow {
    /// One row per configuration of a sweep, in the sweep's order.
    pub fn from_sweep(out: &SweepOutput) -> Vec<ResultRow> {
        out.results
            .iter()
            .map(|r| ResultRow::new(&out.trace, out.objects, r))
            .collect()
    }

    /// The row for one simulation result on trace `trace`.
    pub fn new(trace: &str, objects: bool, result: &RunResult) -> ResultRow {
        let c = &result.counters;
        ResultRow {
            trace: trace.to_string(),
            policy: result.policy.clone(),
            capacity: result.capacity,
            capacity_unit: if objects { "objects" } else { "bytes" }.to_string(),
            requests: c.requests,
            hits: c.hits,
            misses: c.misses,
            miss_ratio: (c.requests > 0).then(|| c.miss_ratio()),
            byte_miss_ratio: (c.bytes_requested > 0).then(|| c.byte_miss_ratio()),
            bytes_requested: c.bytes_requested,
            bytes_missed: c.bytes_missed,
            evictions: c.evictions,
            refused: c.refused,
        }
    }
}

/// One window of a miss-ratio time series (`cachelab sim --window`), with the same ratio
/// columns as [`ResultRow`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WindowRow {
    /// Trace name.
    pub trace: String,
    /// Policy display name.
    pub policy: String,
    /// Capacity in size units.
    pub capacity: u64,
    /// 0-based window number.
    pub window: usize,
    /// Reads in the window.
    pub requests: u64,
    /// Hits in the window.
    pub hits: u64,
    /// Misses in the window.
    pub misses: u64,
    /// Miss ratio in the window (named as in the main rows).
    pub miss_ratio: Option<f64>,
    /// Byte miss ratio in the window.
    pub byte_miss_ratio: Option<f64>,
}

impl WindowRow {
    /// Every window row of a sweep, configuration by configuration.
    pub fn from_sweep(out: &SweepOutput) -> Vec<WindowRow> {
        out.results
            .iter()
            .flat_map(|r| WindowRow::all(&out.trace, r))
            .collect()
    }

    /// The window rows of one simulation result.
    pub fn all(trace: &str, result: &RunResult) -> Vec<WindowRow> {
        result
            .windows
            .iter()
            .enumerate()
            .map(|(window, c)| WindowRow {
                trace: trace.to_string(),
                policy: result.policy.clone(),
                capacity: result.capacity,
                window,
                requests: c.requests,
                hits: c.hits,
                misses: c.misses,
                miss_ratio: (c.requests > 0).then(|| c.miss_ratio()),
                byte_miss_ratio: (c.bytes_requested > 0).then(|| c.byte_miss_ratio()),
            })
            .collect()
    }
}
