//! Miss-ratio curves: the miss ratio at every cache size, from one read of a trace.
//!
//! A capacity planner asks "what hit ratio at what size?" for every size at once. Each
//! method here is a [`Profiler`]: it is fed the trace batch by batch (several methods share
//! one read, in parallel, see [`run_mrc`]) and then answers at a list of sizes, giving a
//! [`Curve`]:
//!
//! | method | spec | what it is |
//! | --- | --- | --- |
//! | [`exact`] | `exact` | Mattson's LRU stack distances ([`stack`]), exact to the request |
//! | [`shards`] | `shards:rate=0.01`, `shards:size=8192` | SHARDS (Waldspurger et al., FAST'15): stack distances of a spatial hash sample |
//! | [`aet`] | `aet`, `aet:rate=0.01` | AET (Hu et al., ATC'16): the average eviction time from a reuse-time histogram |
//! | [`mini`] | `mini:policy=s3fifo,rate=0.01` | miniature simulations of any policy on a spatial sample, through the engine |
//!
//! Every histogram method records into one bucket layout ([`histogram`]), and the sizes of
//! a curve's grid ([`grid`]) are that layout's bucket bounds, so the exact method is exact
//! at every point it prints. Sampling is a reader adapter in [`crate::trace::sampling`].

pub mod aet;
pub mod curve;
pub mod exact;
pub mod grid;
pub mod histogram;
pub mod hot;
pub mod method;
pub mod mini;
pub mod profile;
pub mod shards;
pub mod stack;

pub use curve::{Curve, CurvePoint, Floor, SizeForTarget};
pub use grid::Grid;
pub use method::Method;
pub use profile::{MrcJob, MrcOutput, Settings, profile, profile_slice, run_mrc};

use crate::request::Request;
use crate::sim::{Config, RunResult, SimError};

/// Why a curve could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MrcError {
    /// A method spec is invalid.
    #[error("{spec}: {reason}")]
    Method {
        /// The spec as given.
        spec: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// The trace has no request.
    #[error("{trace}: the trace has no request, so there is no curve to draw")]
    EmptyTrace {
        /// The trace's name.
        trace: String,
    },
    /// A method needs a second pass, which standard input cannot give.
    #[error(
        "{method} needs a second pass over the trace ({why}), and standard input cannot be read twice: write the trace to a file first"
    )]
    NeedsSecondPass {
        /// The method.
        method: String,
        /// Why it needs one.
        why: String,
    },
    /// Simulating failed (a policy spec, reading the trace).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The trace could not be read.
    #[error(transparent)]
    Trace(#[from] crate::trace::Error),
}

/// What a profiler knows of the trace's working set once it has seen it all: exact for the
/// methods that track every key, estimated from the sample for the others.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkingSetEstimate {
    /// Distinct keys.
    pub objects: f64,
    /// Their bytes, each at the size of its first request (as [`crate::sim::WorkingSet`]).
    pub bytes: f64,
    /// True when the numbers are counted, not estimated.
    pub exact: bool,
}

impl WorkingSetEstimate {
    /// The working set in the unit of capacities: objects or bytes.
    pub fn units(&self, objects: bool) -> f64 {
        if objects { self.objects } else { self.bytes }
    }
}

/// Replays the whole trace through the engine again, for a method that needs simulated
/// points after its pass (the exact method where LRU is not a stack algorithm).
pub trait Replay: Sync {
    /// Simulates `configs` over the whole trace (sizes as the profilers saw them) for
    /// `method`, which an error names.
    fn simulate(&self, method: &str, configs: &[Config]) -> Result<Vec<RunResult>, MrcError>;
}

/// One miss-ratio-curve method: fed the whole trace in order, then asked for its curve.
pub trait Profiler: Send {
    /// The method's label in the output (`exact`, `shards:rate=0.01`, …).
    fn label(&self) -> String;

    /// Takes the next batch of requests (sizes already 1 when counting objects).
    fn feed(&mut self, batch: &[Request]);

    /// The working set seen, once every batch was fed.
    fn working_set(&self) -> WorkingSetEstimate;

    /// The curve at `sizes` (ascending, in the capacity unit), once every batch was fed.
    fn finish(&mut self, sizes: &[u64], replay: &dyn Replay) -> Result<Curve, MrcError>;

    /// Heap bytes the method holds now, for the memory measurements.
    fn heap_bytes(&self) -> usize;
}
