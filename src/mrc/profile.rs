//! [`run_mrc`]: what `cachelab mrc` runs. It reads the trace once, feeding every method's
//! profiler each batch in parallel (while the next batch is read), takes the working set
//! from the exact method when there is one (else from the first method's estimate), lays
//! the [`Grid`] over it and asks every profiler for its curve there.
//!
//! Sizes named as a percentage of the working set (`-s 10%`) need the working set before
//! the pass, so that the exact method can count them exactly: that costs one extra reading
//! pass, as in `sim`, or holding standard input in memory.

use std::sync::Arc;

use rayon::prelude::*;

use super::{Curve, Grid, Method, MrcError, Profiler, Replay, WorkingSetEstimate};
use crate::request::Request;
use crate::sim::sweep::{can_read_twice, measure};
use crate::sim::{Config, RunResult, SimError, SimOptions, for_each_batch, simulate};
use crate::trace::{self, ReadOptions, RequestReader, VecReader, trace_name};
use crate::units::CacheSize;

/// Everything a curve run needs.
#[derive(Debug, Clone)]
pub struct MrcJob {
    /// Trace path, or `-` for standard input.
    pub trace: String,
    /// How to read it.
    pub read: ReadOptions,
    /// The methods, in output order.
    pub methods: Vec<Method>,
    /// Count objects instead of bytes.
    pub objects: bool,
    /// The log-spaced sizes.
    pub grid: Grid,
    /// Sizes the user named (`-s`), computed exactly by the exact method.
    pub named: Vec<CacheSize>,
    /// Salt of the sampling hash and seed of randomised policies.
    pub seed: u64,
}

/// What a curve run produced.
#[derive(Debug, Clone)]
pub struct MrcOutput {
    /// The trace's display name.
    pub trace: String,
    /// True when sizes count objects.
    pub objects: bool,
    /// Requests read.
    pub requests: u64,
    /// The working set the grid was laid over.
    pub working_set: WorkingSetEstimate,
    /// The sizes every curve was computed at, ascending.
    pub sizes: Vec<u64>,
    /// One curve per method, in the order given.
    pub curves: Vec<Curve>,
    /// Malformed records skipped (with `skip_bad`).
    pub skipped: u64,
    /// What the reader decided on its own.
    pub notes: Vec<String>,
}

/// Runs every method over one read of the trace; `progress` gets the number of requests
/// read so far after each batch.
pub fn run_mrc(
    job: &MrcJob,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<MrcOutput, MrcError> {
    let mut reader = trace::open(&job.trace, &job.read)?;
    let notes = reader.notes();
    let mut buffered: Option<Arc<Vec<Request>>> = None;
    let mut skipped = 0;
    let named_units = if job.named.iter().any(|s| s.is_relative()) {
        let measured = measure(&job.trace, &job.read, reader, progress)?;
        reader = measured.reader;
        buffered = measured.kept;
        skipped = measured.skipped;
        measured.working_set.units(job.objects)
    } else {
        0
    };
    let named: Vec<u64> = job.named.iter().map(|s| s.resolve(named_units)).collect();
    let replay = TraceReplay {
        job,
        buffered: buffered.as_ref(),
    };
    let settings = Settings {
        methods: &job.methods,
        objects: job.objects,
        grid: &job.grid,
        named: &named,
        seed: job.seed,
    };
    let profile = profile(reader.as_mut(), &replay, &settings, progress).map_err(|e| match e {
        MrcError::EmptyTrace { .. } => MrcError::EmptyTrace {
            trace: trace_name(&job.trace),
        },
        other => other,
    })?;
    Ok(MrcOutput {
        trace: trace_name(&job.trace),
        skipped: skipped + reader.skipped(),
        notes,
        ..profile
    })
}

/// What a profile is made with, apart from the trace.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    /// The methods, in output order.
    pub methods: &'a [Method],
    /// Count objects instead of bytes.
    pub objects: bool,
    /// The log-spaced sizes.
    pub grid: &'a Grid,
    /// Sizes named in units, computed exactly by the exact method.
    pub named: &'a [u64],
    /// Salt of the sampling hash, seed of randomised policies.
    pub seed: u64,
}

/// Every method over one read of `reader`; `replay` reads the same trace again for a
/// method that needs it.
pub fn profile(
    reader: &mut dyn RequestReader,
    replay: &dyn Replay,
    settings: &Settings<'_>,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<MrcOutput, MrcError> {
    if settings.objects
        && let Some(method) = settings.methods.iter().find(|m| m.needs_bytes())
    {
        return Err(SimError::NeedsBytes {
            policy: method.to_string(),
        }
        .into());
    }
    let mut profilers: Vec<Box<dyn Profiler>> = settings
        .methods
        .iter()
        .map(|m| m.build(settings.objects, settings.named, settings.seed))
        .collect();
    let requests = for_each_batch(reader, 1 << 16, settings.objects, progress, |batch, _| {
        profilers.par_iter_mut().for_each(|p| p.feed(batch));
        Ok::<(), MrcError>(())
    })?;
    if requests == 0 || profilers.is_empty() {
        return Err(MrcError::EmptyTrace {
            trace: String::from("the trace"),
        });
    }
    let working_set = settings
        .methods
        .iter()
        .position(|m| *m == Method::Exact)
        .map_or_else(
            || profilers[0].working_set(),
            |i| profilers[i].working_set(),
        );
    let units = working_set.units(settings.objects).round() as u64;
    let sizes = settings.grid.sizes(units, settings.named);
    let curves = profilers
        .par_iter_mut()
        .map(|p| p.finish(&sizes, replay))
        .collect::<Result<Vec<Curve>, MrcError>>()?;
    Ok(MrcOutput {
        trace: String::new(),
        objects: settings.objects,
        requests,
        working_set,
        sizes,
        curves,
        skipped: 0,
        notes: Vec::new(),
    })
}

/// [`profile`] over requests in memory (tests, benchmarks, accuracy tables).
pub fn profile_slice(requests: &[Request], settings: &Settings<'_>) -> Result<MrcOutput, MrcError> {
    let replay = SliceReplay {
        requests,
        objects: settings.objects,
        seed: settings.seed,
    };
    let mut reader = VecReader::new(requests.to_vec(), false);
    profile(&mut reader, &replay, settings, None)
}

/// A second pass over the job's trace, from the file or from the requests held in memory.
struct TraceReplay<'a> {
    job: &'a MrcJob,
    buffered: Option<&'a Arc<Vec<Request>>>,
}

impl Replay for TraceReplay<'_> {
    fn simulate(&self, method: &str, configs: &[Config]) -> Result<Vec<RunResult>, MrcError> {
        let mut reader: Box<dyn RequestReader> = match self.buffered {
            Some(requests) => Box::new(VecReader::shared(Arc::clone(requests), false)),
            None if can_read_twice(&self.job.trace) => {
                trace::open(&self.job.trace, &self.job.read)?
            }
            None => {
                return Err(MrcError::NeedsSecondPass {
                    method: method.to_string(),
                    why: "to simulate the sizes where LRU is not a stack algorithm".into(),
                });
            }
        };
        let options = replay_options(self.job.objects, self.job.seed);
        Ok(simulate(reader.as_mut(), configs, &options, None)?)
    }
}

/// A second pass over requests in memory.
struct SliceReplay<'a> {
    requests: &'a [Request],
    objects: bool,
    seed: u64,
}

impl Replay for SliceReplay<'_> {
    fn simulate(&self, _method: &str, configs: &[Config]) -> Result<Vec<RunResult>, MrcError> {
        let options = replay_options(self.objects, self.seed);
        Ok(crate::sim::simulate_slice(
            self.requests,
            configs,
            &options,
        )?)
    }
}

fn replay_options(objects: bool, seed: u64) -> SimOptions {
    SimOptions {
        objects,
        seed,
        ..SimOptions::default()
    }
}
