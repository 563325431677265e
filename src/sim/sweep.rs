//! A sweep: one trace file, many policies, many cache sizes; what `cachelab sim` runs.
//!
//! It resolves percentage sizes against the trace's working set (one extra reading pass,
//! only when a size is relative or the warm-up is a fraction), then replays the trace once
//! through every (policy, size) pair with [`super::simulate`] and returns the results;
//! `report` turns them into rows.

use super::RunResult;
use crate::catalog::CATALOG;
use crate::policy::{PolicyKind, PolicySpec};
use crate::trace::{self, ReadOptions, VecReader, trace_name};
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
    /// What the reader decided on its own (CSV columns picked by header name, …).
    pub notes: Vec<String>,
}

impl Sweep {
    /// True when the sweep reads the trace once more before replaying it, to measure the
    /// working set (a percentage size or a fractional warm-up).
    pub fn needs_working_set(&self) -> bool {
        self.sizes.iter().any(|s| s.is_relative()) || matches!(self.warmup, Warmup::Fraction(_))
    }
}

/// Runs a sweep; `progress` gets the number of requests read so far after each batch (of
/// the working-set pass, when there is one, then of the replay).
pub fn run_sweep(
    sweep: &Sweep,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<SweepOutput, SimError> {
    for spec in &sweep.policies {
        let info = CATALOG.lookup(&spec.name)?;
        if sweep.objects && info.kind == PolicyKind::Model {
            return Err(SimError::NeedsBytes {
                policy: spec.to_string(),
            });
        }
        // Building checks the parameters; a policy that fixes its own size (memcached:m=64)
        // would ignore every -s and print one identical row per size.
        let built = CATALOG.build(spec, 1 << 30, sweep.seed)?;
        if built.capacity() != 1 << 30 {
            return Err(SimError::SizeFixedBySpec {
                policy: spec.to_string(),
            });
        }
    }
    let needs_pass = sweep.needs_working_set();
    let mut reader = trace::open(&sweep.trace, &sweep.read)?;
    let notes = reader.notes();
    let mut skipped = 0;
    let working_set = if !needs_pass {
        None
    } else if can_read_twice(&sweep.trace) {
        let ws = WorkingSet::read(reader.as_mut(), progress)?;
        reader = trace::open(&sweep.trace, &sweep.read)?;
        Some(ws)
    } else {
        // Standard input or a pipe cannot be read twice: keep the requests in memory
        // (about 40 bytes each) for the replay after measuring the working set.
        let has_next_access = reader.has_next_access();
        let requests = trace::read_all(reader.as_mut())?;
        skipped = reader.skipped();
        let ws = WorkingSet::of(&requests);
        reader = Box::new(VecReader::new(requests, has_next_access));
        Some(ws)
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
    let results = simulate(reader.as_mut(), &configs, &options, progress)?;
    Ok(SweepOutput {
        trace: trace_name(&sweep.trace),
        objects: sweep.objects,
        results,
        working_set,
        skipped: skipped + reader.skipped(),
        notes,
    })
}

/// True when `path` is a regular file, which can be opened and read a second time
/// (standard input, pipes and FIFOs cannot).
pub(crate) fn can_read_twice(path: &str) -> bool {
    path != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}
