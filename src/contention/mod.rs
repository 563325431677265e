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
//! - [`threads`]: real OS threads against the in-process store, behind the [`shim`] seam.
//!
//! Both drive the same per-client state machine ([`client::Client`]) through the
//! [`backend::CounterBackend`] trait; a `net` mode will be one more implementation of that
//! trait over the TCP client. [`run_sweep`] runs every (clients, strategy) pair of a
//! [`Sweep`]; [`result::charts`] draws them.
//!
//! **`net` mode (not built yet).** Real TCP clients against any memcached need, from the
//! TCP client being written beside `src/memcached/`: one connection per client thread
//! with blocking `get`, `gets` (value and CAS id), `set`, `add` (`STORED`/`NOT_STORED`),
//! `cas` (`STORED`/`EXISTS`/`NOT_FOUND`) and `incr` (value or `NOT_FOUND`), typed so
//! [`backend::CounterBackend`] is a thin adapter; `stats` (for `cas_hits`, `cas_badval`,
//! `cas_misses`, read before and after a run and subtracted, as other traffic may share
//! the server); `delete` to reset the counters before a run; and, for `lease`, the meta
//! commands `mg <key> v c N<ttl>` / `ms <key> <len> C<cas>` with the `W`/`Z` flags
//! (without them, `net` runs the other three strategies). `net` is then
//! [`threads::run_on`] with one TCP backend per client thread and one control connection.
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
pub mod client;
pub mod config;
pub mod result;
pub mod shim;
pub mod sim;
pub mod threads;

pub use config::{Backoff, ConfigError, Delay, KeyDist, Strategy, Workload};
pub use result::{ContentionRow, Mode};

/// Why a contention run failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentionError {
    /// A bad option or combination.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be built.
    #[error("cannot build the store: {0}")]
    Store(#[from] crate::memcached::ConfigError),
    /// A request failed (not a protocol outcome such as `EXISTS`).
    #[error(transparent)]
    Backend(#[from] backend::BackendError),
    /// A client thread failed.
    #[error("threads mode: {0}")]
    Thread(String),
}

/// Runs one workload in `mode`.
pub fn run(mode: Mode, workload: &Workload) -> Result<ContentionRow, ContentionError> {
    let outcome = match mode {
        Mode::Sim => sim::run(workload)?,
        Mode::Threads => threads::run(workload)?,
    };
    Ok(ContentionRow::new(mode, workload, &outcome))
}

/// A sweep: every client count with every strategy and backoff, the other knobs from
/// `base`.
#[derive(Debug, Clone)]
pub struct Sweep {
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
}

/// Runs a sweep: for each strategy, each backoff, each client count, in the order given. `progress` is called after each
/// row.
pub fn run_sweep(
    sweep: &Sweep,
    mut progress: impl FnMut(&ContentionRow),
) -> Result<Vec<ContentionRow>, ContentionError> {
    if sweep.clients.is_empty() || sweep.strategies.is_empty() {
        return Err(ConfigError::Invalid("a sweep needs clients and strategies".into()).into());
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
                let workload = Workload {
                    strategy,
                    backoff,
                    clients,
                    ..sweep.base.clone()
                };
                let row = run(sweep.mode, &workload)?;
                progress(&row);
                rows.push(row);
            }
        }
    }
    Ok(rows)
}
