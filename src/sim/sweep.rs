//! A sweep: one trace file, many policies, many cache sizes; what `cachelab sim` runs.
//!
//! It resolves percentage sizes against the trace's working set (one extra reading pass,
//! only when a size is relative or the warm-up is a fraction), then replays the trace once
//! through every (policy, size) pair with [`super::simulate`] and returns rows for the
//! report writers.

use crate::policy::{PolicySpec, registry};
use crate::report::{ResultRow, WindowRow, trace_name};
use crate::trace::{self, ReadOptions};
use crate::units::{CacheSize, Warmup};

use super::{Config, SimError, SimOptions, WorkingSet, simulate};

/// Everything a sweep needs.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Trace path, or `-` for stdin.
    pub trace: String,
    /// How to read it.
    pub read: ReadOptions,
    /// Policies, in output order.
    pub policies: Vec<PolicySpec>,
    /// Cache sizes, in output order.
    pub sizes: Vec<CacheSize>,
    /// Count objects instead of bytes.
    pub objects: bool,
    /// Warm-up left uncounted.
    pub warmup: Warmup,
    /// Window width in counted reads, for a hit-ratio time series.
    pub window: Option<u64>,
    /// Honour the trace's operations.
    pub honour_ops: bool,
    /// Seed for randomised policies.
    pub seed: u64,
}

/// What a sweep produced.
#[derive(Debug, Clone)]
pub struct SweepOutput {
    /// One row per (policy, size), policies outermost, in the order given.
    pub rows: Vec<ResultRow>,
    /// Window rows, when windows were asked for.
    pub windows: Vec<WindowRow>,
    /// The trace's working set, when it was measured (relative sizes or fractional warm-up).
    pub working_set: Option<WorkingSet>,
    /// Malformed records skipped (with `skip_bad`).
    pub skipped: u64,
    /// `(policy, capacity, report)` for every configuration whose policy reports details.
    pub details: Vec<(String, u64, String)>,
}

/// Runs a sweep; `progress` gets the number of requests read after each batch.
pub fn run_sweep(
    sweep: &Sweep,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<SweepOutput, SimError> {
    for spec in &sweep.policies {
        registry::check(spec)?;
    }
    let needs_pass =
        sweep.sizes.iter().any(|s| s.is_relative()) || matches!(sweep.warmup, Warmup::Fraction(_));
    let working_set = if needs_pass {
        let mut reader = trace::open(&sweep.trace, &sweep.read)?;
        Some(WorkingSet::read(reader.as_mut())?)
    } else {
        None
    };
    let units = working_set.map_or(0, |ws| ws.units(sweep.objects));
    let configs: Vec<Config> = sweep
        .policies
        .iter()
        .flat_map(|spec| {
            sweep
                .sizes
                .iter()
                .map(move |size| Config::new(spec.clone(), size.resolve(units)))
        })
        .collect();
    let options = SimOptions {
        objects: sweep.objects,
        warmup: sweep
            .warmup
            .requests(working_set.map_or(0, |ws| ws.requests)),
        window: sweep.window,
        honour_ops: sweep.honour_ops,
        seed: sweep.seed,
        ..SimOptions::default()
    };
    let mut reader = trace::open(&sweep.trace, &sweep.read)?;
    let results = simulate(reader.as_mut(), &configs, &options, progress)?;
    let name = trace_name(&sweep.trace);
    Ok(SweepOutput {
        rows: results
            .iter()
            .map(|r| ResultRow::new(&name, sweep.objects, r))
            .collect(),
        windows: results
            .iter()
            .flat_map(|r| WindowRow::all(&name, r))
            .collect(),
        working_set,
        skipped: reader.skipped(),
        details: results
            .iter()
            .filter_map(|r| Some((r.policy.clone(), r.capacity, r.details.clone()?)))
            .collect(),
    })
}
