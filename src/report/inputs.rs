//! What a report is built from: the JSON files that `sim`, `sweep`, `mrc`, `cluster`,
//! `migrate`, `contention`, `plan` and `trace stats` write, read back and put together.
//!
//! Each file is recognised by its shape (an object's `kind`, or the fields its rows
//! carry), so results keep the formats their commands have always written. Results of one
//! kind from several files are merged: simulation rows and contention rows are
//! concatenated in the order given, and sweep parts (`cachelab sweep --job K`) are merged
//! into their whole run whatever order the files come in. A file that is not JSON, or not
//! one of these, is an error naming the file and what was expected.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::JsonResultRow;
use super::curve::CurveDocument;
use crate::cluster::ClusterResult;
use crate::cluster::migrate::MigrationRow;
use crate::contention::result::ContentionRow;
use crate::trace::stats::TraceStats;

/// A trace's statistics with its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedStats {
    /// The trace's name.
    pub trace: String,
    /// Its statistics (`cachelab trace stats --json`).
    pub stats: TraceStats,
}

/// One migration run (`cachelab migrate --json`), named after its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedMigration {
    /// A name for the run: the file's stem.
    pub name: String,
    /// Every strategy's windows.
    pub rows: Vec<MigrationRow>,
}

/// Everything a report shows, by kind.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportInputs {
    /// Trace statistics.
    pub traces: Vec<NamedStats>,
    /// Capacity plans.
    pub plans: Vec<crate::plan::PlanDocument>,
    /// Simulation rows from `sim`, merged (sweep rows stay in `sweeps`; see
    /// [`ReportInputs::sim_rows`]).
    pub sims: Vec<JsonResultRow>,
    /// Miss-ratio curves.
    pub curves: Vec<CurveDocument>,
    /// Cluster replays.
    pub clusters: Vec<ClusterResult>,
    /// Migrations.
    pub migrations: Vec<NamedMigration>,
    /// Contention rows, merged.
    pub contention: Vec<ContentionRow>,
    /// Sweeps (whole runs, or parts merged into their whole run).
    pub sweeps: Vec<super::sweep::SweepDocument>,
}

impl ReportInputs {
    /// Every simulation row: those of `sim`, then those of each sweep.
    pub fn sim_rows(&self) -> Vec<JsonResultRow> {
        let mut rows = self.sims.clone();
        for sweep in &self.sweeps {
            rows.extend(sweep.rows.iter().cloned());
        }
        rows
    }

    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
            && self.plans.is_empty()
            && self.sims.is_empty()
            && self.sweeps.is_empty()
            && self.curves.is_empty()
            && self.clusters.is_empty()
            && self.migrations.is_empty()
            && self.contention.is_empty()
    }
}

/// Why the inputs of a report could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be read.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not JSON, or not the JSON of a cachelab command.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// Sweep parts did not merge.
    #[error(transparent)]
    Merge(#[from] super::sweep::MergeError),
    /// No file was given.
    #[error(
        "no results to report: give the JSON files that sim, sweep, mrc, cluster, migrate, contention, plan or trace stats wrote"
    )]
    Nothing,
}

/// The kinds of files a report reads, for messages.
const EXPECTED: &str = "the --json output of cachelab sim, sweep, mrc, cluster, migrate, contention, plan or trace stats";

/// Reads and merges every file.
pub fn read_inputs(paths: &[impl AsRef<Path>]) -> Result<ReportInputs, InputError> {
    if paths.is_empty() {
        return Err(InputError::Nothing);
    }
    let mut inputs = ReportInputs::default();
    let mut sweep_parts = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| InputError::Io {
            path: shown.clone(),
            source,
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|e| InputError::Format {
            path: shown.clone(),
            message: format!("not JSON ({e}); expected {EXPECTED}"),
        })?;
        let stem = path
            .file_stem()
            .map_or_else(|| shown.clone(), |s| s.to_string_lossy().into_owned());
        add(&mut inputs, &mut sweep_parts, value, &stem).map_err(|message| InputError::Format {
            path: shown,
            message,
        })?;
    }
    if !sweep_parts.is_empty() {
        inputs.sweeps.push(super::sweep::merge(sweep_parts)?);
    }
    Ok(inputs)
}

/// What kind of result a JSON value is, by its shape.
fn kind_of(value: &Value) -> Option<&'static str> {
    let has = |v: &Value, keys: &[&str]| keys.iter().all(|k| v.get(k).is_some());
    match value {
        Value::Object(map) => match map.get("kind").and_then(Value::as_str) {
            Some("plan") => Some("plan"),
            Some("sweep") => Some("sweep"),
            _ if has(value, &["trace", "stats"]) => Some("named-stats"),
            _ if has(value, &["name", "rows"]) => Some("named-migration"),
            _ if has(value, &["curves", "working_set"]) => Some("mrc"),
            _ if has(value, &["nodes", "windows", "hash"]) => Some("cluster"),
            _ if has(value, &["distinct_keys", "one_hit_wonders"]) => Some("stats"),
            _ => None,
        },
        Value::Array(rows) => {
            let first = rows.first()?;
            if first.is_object() && kind_of(first).is_some() {
                Some("list")
            } else if has(first, &["strategy", "clients", "lost_updates"]) {
                Some("contention")
            } else if has(first, &["strategy", "window", "hits_old"]) {
                Some("migrate")
            } else if has(first, &["policy", "capacity", "miss_ratio"]) {
                Some("sim")
            } else {
                None
            }
        }
        _ => None,
    }
}

fn add(
    inputs: &mut ReportInputs,
    sweep_parts: &mut Vec<super::sweep::SweepDocument>,
    value: Value,
    stem: &str,
) -> Result<(), String> {
    if value.as_array().is_some_and(Vec::is_empty) {
        return Err("an empty list of results: nothing to report".to_string());
    }
    let Some(kind) = kind_of(&value) else {
        return Err(format!("not a result cachelab writes; expected {EXPECTED}"));
    };
    fn parse<T: for<'de> Deserialize<'de>>(value: Value, kind: &str) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| format!("looks like {kind} results, but {e}"))
    }
    if kind == "list"
        && let Value::Array(items) = value
    {
        // A report's data file: a list of documents, each read as if it were a file.
        for item in items {
            add(inputs, sweep_parts, item, stem)?;
        }
        return Ok(());
    }
    match kind {
        "named-migration" => inputs.migrations.push(parse(value, "a migration")?),
        "plan" => inputs.plans.push(parse(value, "`cachelab plan`")?),
        "sweep" => sweep_parts.push(parse(value, "`cachelab sweep`")?),
        "named-stats" => inputs.traces.push(parse(value, "trace statistics")?),
        "stats" => inputs.traces.push(NamedStats {
            trace: stem.to_string(),
            stats: parse(value, "`cachelab trace stats`")?,
        }),
        "mrc" => inputs.curves.push(parse(value, "`cachelab mrc`")?),
        "cluster" => inputs.clusters.push(parse(value, "`cachelab cluster`")?),
        "contention" => inputs
            .contention
            .extend(parse::<Vec<ContentionRow>>(value, "`cachelab contention`")?),
        "migrate" => inputs.migrations.push(NamedMigration {
            name: stem.to_string(),
            rows: parse(value, "`cachelab migrate`")?,
        }),
        _ => inputs
            .sims
            .extend(parse::<Vec<JsonResultRow>>(value, "`cachelab sim`")?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_apart_by_shape_and_bad_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let sim = dir.path().join("sim.json");
        std::fs::write(
            &sim,
            r#"[{"trace":"t","policy":"lru","capacity":10,"capacity_unit":"bytes","requests":4,"hits":1,"misses":3,"miss_ratio":0.75,"byte_miss_ratio":0.75,"bytes_requested":40,"bytes_missed":30,"evictions":0,"refused":0}]"#,
        )
        .unwrap();
        let inputs = read_inputs(&[&sim, &sim]).unwrap();
        assert_eq!(inputs.sims.len(), 2);
        assert_eq!(inputs.sims[0].row.hits, 1);

        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "[{\"x\":1}]").unwrap();
        let err = read_inputs(&[&bad]).unwrap_err().to_string();
        assert!(err.starts_with(&bad.display().to_string()), "{err}");
        assert!(err.contains("expected the --json output"), "{err}");

        let broken = dir.path().join("broken.json");
        std::fs::write(
            &broken,
            r#"[{"trace":"t","policy":"lru","capacity":"ten","miss_ratio":0.1}]"#,
        )
        .unwrap();
        let err = read_inputs(&[&broken]).unwrap_err().to_string();
        assert!(err.contains("looks like `cachelab sim` results"), "{err}");

        std::fs::write(&bad, "not json").unwrap();
        assert!(
            read_inputs(&[&bad])
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
        let none: [&Path; 0] = [];
        assert!(matches!(read_inputs(&none), Err(InputError::Nothing)));
    }
}
