//! A sweep: one trace file, many policies, many cache sizes; what `cachelab sim` runs.
//!
//! It resolves percentage sizes against the trace's working set (one extra reading pass,
//! only when a size is relative or the warm-up is a fraction), then replays the trace once
//! through every (policy, size) pair with [`super::simulate`] and returns the results;
//! `report` turns them into rows.

use std::sync::Arc;

use super::RunResult;
use crate::catalog::CATALOG;
use crate::policy::{PolicyKind, PolicySpec};
use crate::request::Request;
use crate::trace::{self, ReadOptions, RequestReader, VecReader, trace_name};
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
    let mut reader = trace::open(&sweep.trace, &sweep.read)?;
    let notes = reader.notes();
    let mut skipped = 0;
    let working_set = if sweep.needs_working_set() {
        let measured = measure(&sweep.trace, &sweep.read, reader, progress)?;
        reader = measured.reader;
        skipped = measured.skipped;
        Some(measured.working_set)
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

/// A trace whose working set was measured before its replay.
pub(crate) struct Measured {
    /// The working set.
    pub working_set: WorkingSet,
    /// A reader at the trace's first request.
    pub reader: Box<dyn RequestReader>,
    /// The requests, when they had to be kept in memory for the replay.
    pub kept: Option<Arc<Vec<Request>>>,
    /// Malformed records skipped while reading the requests kept.
    pub skipped: u64,
}

/// Measures the working set of the trace `reader` reads from its start: by reading a file
/// once more, or, on standard input or a pipe, which cannot be read twice, by keeping the
/// requests in memory (about 40 bytes each) for the replay.
pub(crate) fn measure(
    trace: &str,
    read: &ReadOptions,
    mut reader: Box<dyn RequestReader>,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<Measured, trace::Error> {
    if can_read_twice(trace) {
        let working_set = WorkingSet::read(reader.as_mut(), progress)?;
        return Ok(Measured {
            working_set,
            reader: trace::open(trace, read)?,
            kept: None,
            skipped: 0,
        });
    }
    let has_next_access = reader.has_next_access();
    let requests = Arc::new(trace::read_all(reader.as_mut())?);
    Ok(Measured {
        working_set: WorkingSet::of(&requests),
        reader: Box::new(VecReader::shared(Arc::clone(&requests), has_next_access)),
        kept: Some(requests),
        skipped: reader.skipped(),
    })
}

/// True when `path` is a regular file, which can be opened and read a second time
/// (standard input, pipes and FIFOs cannot).
pub(crate) fn can_read_twice(path: &str) -> bool {
    path != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file())
}
