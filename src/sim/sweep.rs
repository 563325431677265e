//! A sweep: one trace file, many policies, many cache sizes; what `cachelab sim` runs.
//!
//! It resolves percentage sizes against the trace's working set (one extra reading pass,
//! only when a size is relative or the warm-up is a fraction), then replays the trace once
//! through every (policy, size) pair with [`super::simulate`] and returns the results;
//! `report` turns them into rows.

use super::RunResult;
use crate::catalog::CATALOG;
use crate::policy::PolicySpec;
use crate::trace::{self, ReadOptions, trace_name};
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
    /// The trace's display name ([`trace_name`]).
    pub trace: String,
    /// True when capacities count objects.
    pub objects: bool,
    /// One result per (policy, size), policies outermost, in the order given.
    pub results: Vec<RunResult>,
    /// The trace's working set, when it was measured (relative sizes or fractional warm-up).
    pub working_set: Option<WorkingSet>,
    /// Malformed records skipped (with `skip_bad`).
    pub skipped: u64,
}

/// Runs a sweep; `progress` gets the number of requests read after each batch.
pub fn run_sweep(
    sweep: &Sweep,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<SweepOutput, SimError> {
    for spec in &sweep.policies {
        CATALOG.check(spec)?;
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
    Ok(SweepOutput {
        trace: trace_name(&sweep.trace),
        objects: sweep.objects,
        results,
        working_set,
        skipped: reader.skipped(),
    })
}
