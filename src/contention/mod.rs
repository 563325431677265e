//! CAS contention experiments: many clients incrementing shared counters, after the seed's
//! `visitors` example — a plain `get`+`set` loses updates when clients race, a `gets`/`cas`
//! retry loop is exact at the price of retries, `incr` is exact in one request, and a lease
//! serialises the updaters.
//!
//! Start from [`Workload`] (strategy, backoff, clients, updates, counters, think time,
//! network) and [`run`], which gives a [`ContentionRow`] in either [`Mode`]:
//!
//! - [`sim`]: a deterministic discrete-event simulation, seeded, with no threads and no
//!   wall clock, driving the same [`crate::memcached::Store`] the server serves;
//! - `threads`: real OS threads against the in-process store, behind the `shim` seam;
//! - [`net`]: real TCP clients against any memcached-compatible server.
//!
//! All three drive the same per-client state machine (`client::CounterClient`) through the
//! [`backend::CounterBackend`] trait. [`run_sweep`] runs every (clients, strategy) pair of a
//! [`ContentionSweep`]; `report::contention` tabulates and draws them.
//!
//! ```
//! use cachelab::contention::{run, Mode, Strategy, Workload};
//! // The seed's race: two clients, one update each, counter at 42, 100 µs round trip.
//! let w = Workload {
//!     strategy: Strategy::Cas,
//!     clients: 2,
//!     updates_per_client: 1,
//!     initial: Some(42),
//!     rtt: "100us".parse()?,
//!     service: "0".parse()?,
//!     ..Workload::default()
//! };
//! let row = run(Mode::Sim, &w)?;
//! assert_eq!((row.final_total, row.cas_failures), (44, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backend;
pub mod calibrate;
pub(crate) mod client;
pub mod config;
pub mod empirical;
pub mod net;
pub mod result;
pub mod serving_order;
pub(crate) mod shim;
pub mod sim;
pub(crate) mod streaks;
pub(crate) mod threads;

/// The crate's one key distribution ([`crate::trace::key_dist`]): a [`Workload`] holds one.
pub use crate::trace::key_dist::KeyDist;
pub use config::{Backoff, Delay, Strategy, Workload, WorkloadError};
pub use result::{ContentionRow, Mode};

/// Why a contention run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContentionError {
    /// A bad option or combination.
    #[error(transparent)]
    Config(#[from] WorkloadError),
    /// The store could not be built.
    #[error("cannot build the store")]
    Store(#[from] crate::memcached::SettingsError),
    /// A request failed (not a protocol outcome such as `EXISTS`).
    #[error(transparent)]
    Backend(#[from] backend::BackendError),
    /// A client thread failed.
    #[error("threads mode: {0}")]
    Thread(String),
    /// A live server's replies during calibration could not come from the calibration's
    /// own requests.
    #[error("calibrating {server}: {why}")]
    Calibration {
        /// The server, `host:port`.
        server: String,
        /// What did not add up.
        why: String,
    },
}

/// Every thread's value, once all of them have been joined (so none is left running
/// behind an early return), or the first error among them; a thread that panicked counts
/// as `panicked()`.
pub(crate) fn join_all<T>(
    joined: impl IntoIterator<Item = std::thread::Result<Result<T, ContentionError>>>,
    panicked: impl Fn() -> ContentionError,
) -> Result<Vec<T>, ContentionError> {
    let mut values = Vec::new();
    let mut first_error = None;
    for result in joined {
        match result {
            Ok(Ok(value)) => values.push(value),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert_with(&panicked);
            }
        }
    }
    first_error.map_or(Ok(values), Err)
}

/// Runs one workload in `mode` (sim or threads; net needs a server, see [`run_on`]).
pub fn run(mode: Mode, workload: &Workload) -> Result<ContentionRow, ContentionError> {
    run_on(mode, workload, None)
}

/// Runs one workload in `mode`; `server` (`host:port`) is where net mode connects.
pub fn run_on(
    mode: Mode,
    workload: &Workload,
    server: Option<&str>,
) -> Result<ContentionRow, ContentionError> {
    let outcome = match (mode, server) {
        (Mode::Sim, _) => sim::run(workload)?,
        (Mode::Threads, _) => threads::run(workload)?,
        (Mode::Net, Some(server)) => net::run(workload, server)?,
        (Mode::Net, None) => {
            return Err(WorkloadError::Invalid(
                "net mode needs a server: --server HOST:PORT".into(),
            )
            .into());
        }
    };
    Ok(ContentionRow::new(mode, workload, &outcome))
}

/// A sweep: every client count with every strategy and backoff, the other knobs from
/// `base`.
#[derive(Debug, Clone)]
pub struct ContentionSweep {
    /// Which driver.
    pub mode: Mode,
    /// Client counts, in order.
    pub clients: Vec<u32>,
    /// Strategies, in order.
    pub strategies: Vec<Strategy>,
    /// Backoffs, in order; empty for just `base.backoff`.
    pub backoffs: Vec<Backoff>,
    /// Everything else (its `clients`, `strategy` and `backoff` are replaced).
    pub base: Workload,
    /// The server net mode connects to.
    pub server: Option<String>,
}

/// Runs a sweep: for each strategy, each backoff, each client count, in the order given. `progress` is called after each
/// row.
pub fn run_sweep(
    sweep: &ContentionSweep,
    progress: impl FnMut(&ContentionRow),
) -> Result<Vec<ContentionRow>, ContentionError> {
    run_sweep_repeated(sweep, 1, progress)
}

/// [`run_sweep`], each configuration run `repeat` times (at least once): a row is then the
/// run with the median key metric (lost updates for `naive`, CAS failures per update
/// otherwise) and carries the min/median/max over the runs ([`ContentionRow::with_spread`]).
/// Threads and net runs repeat as they are, since the scheduler makes each differ; a
/// repeated simulation adds the run's index to the seed, or it would repeat itself.
/// `progress` is called after each run.
pub fn run_sweep_repeated(
    sweep: &ContentionSweep,
    repeat: u32,
    mut progress: impl FnMut(&ContentionRow),
) -> Result<Vec<ContentionRow>, ContentionError> {
    if sweep.clients.is_empty() || sweep.strategies.is_empty() {
        return Err(WorkloadError::Invalid("a sweep needs clients and strategies".into()).into());
    }
    let backoffs = if sweep.backoffs.is_empty() {
        std::slice::from_ref(&sweep.base.backoff)
    } else {
        sweep.backoffs.as_slice()
    };
    let mut rows = Vec::new();
    for &strategy in &sweep.strategies {
        for &backoff in backoffs {
            for &clients in &sweep.clients {
                let mut runs = Vec::with_capacity(repeat.max(1) as usize);
                for run in 0..u64::from(repeat.max(1)) {
                    let workload = Workload {
                        strategy,
                        backoff,
                        clients,
                        seed: match sweep.mode {
                            Mode::Sim => sweep.base.seed.wrapping_add(run),
                            Mode::Threads | Mode::Net => sweep.base.seed,
                        },
                        ..sweep.base.clone()
                    };
                    let row = run_on(sweep.mode, &workload, sweep.server.as_deref())?;
                    progress(&row);
                    runs.push(row);
                }
                rows.push(ContentionRow::with_spread(runs));
            }
        }
    }
    Ok(rows)
}
