//! Real OS threads, one per client, against one in-process store behind a mutex
//! ([`LockedBackend`]: `Arc<Mutex<StoreBackend>>`, through [`super::shim`] so a test
//! scheduler can replace the primitives), or against any [`CounterBackend`] per client
//! through [`run_on`], which [`super::net`] calls with TCP connections. Each request takes
//! the lock on its own, exactly as separate network requests reach a server, so a naive client's `get` and `set` can be split by another
//! client's — the race the seed describes. Nothing is slowed down to provoke it.
//!
//! Think time and backoff really sleep. Times are wall-clock nanoseconds from the moment a
//! barrier releases all clients together; the network is not modelled (the `rtt` and
//! `service` knobs are sim-only).

use super::ContentionError;
use super::backend::{CounterBackend, LockedBackend, StoreBackend, apply};
use super::client::{Action, ClientStats, CounterClient};
use super::config::Workload;
use super::result::RunOutcome;
use super::shim::{self, Arc, Barrier, Instant};
use super::streaks::Streaks;
use crate::memcached::{ServerClock, Settings, Store};
use crate::trace::key_dist::KeyPicker;

/// Most clients (threads) the threads mode starts.
pub const MAX_THREADS: u32 = 4096;

fn client_thread<B: CounterBackend>(
    mut client: CounterClient,
    backend: &mut B,
    keys: &[Vec<u8>],
    picker: &KeyPicker,
    barrier: &Barrier,
) -> Result<ClientStats, ContentionError> {
    barrier.wait();
    let origin = Instant::now();
    let mut action = client.start(0, picker);
    while let Action::Send { op, key, delay } = action {
        shim::sleep_ns(delay);
        let reply = apply(backend, &keys[key as usize], op)?;
        action = client.on_reply(shim::nanos_since(origin), reply, picker);
    }
    Ok(client.into_stats())
}

/// Runs `workload` on `workload.clients` threads against one in-process store behind a
/// mutex ([`LockedBackend`]).
pub fn run(workload: &Workload) -> Result<RunOutcome, ContentionError> {
    // A manual clock: no wall time reaches the store, and nothing here expires.
    let store = Store::new(Settings::default(), ServerClock::manual(1))?;
    let shared = LockedBackend::new(StoreBackend::new(store));
    let backends = (0..workload.clients).map(|_| shared.clone()).collect();
    run_on(
        workload,
        workload.key_names(),
        &mut shared.clone(),
        backends,
    )
}

/// Runs `workload` with one thread per client, client `i` sending every request through
/// `backends[i]` (a shared in-process store, or, for `net` mode, its own TCP connection),
/// on the counters named `names` (one per counter of the workload).
/// `control` resets the counters first (`delete`, then `set` to the initial value) and
/// reads the totals and the server's CAS counters after; the CAS counters are reported as
/// the difference, so other traffic before the run does not count.
pub fn run_on<B: CounterBackend + Send + 'static>(
    workload: &Workload,
    names: Vec<Vec<u8>>,
    control: &mut impl CounterBackend,
    backends: Vec<B>,
) -> Result<RunOutcome, ContentionError> {
    workload.validate()?;
    if workload.clients > MAX_THREADS {
        return Err(super::WorkloadError::Invalid(format!(
            "threads mode takes at most {MAX_THREADS} clients, not {}",
            workload.clients
        ))
        .into());
    }
    if backends.len() != workload.clients as usize {
        return Err(super::WorkloadError::Invalid(format!(
            "{} backends for {} clients",
            backends.len(),
            workload.clients
        ))
        .into());
    }
    if names.len() != workload.keys as usize {
        return Err(super::WorkloadError::Invalid(format!(
            "{} counter names for {} counters",
            names.len(),
            workload.keys
        ))
        .into());
    }
    for key in &names {
        control.delete(key)?;
        if let Some(initial) = workload.initial {
            control.set(key, initial)?;
        }
    }
    let before = control.cas_counters()?;
    let keys = Arc::new(names);
    let picker = Arc::new(workload.picker()?);
    let barrier = Arc::new(Barrier::new(workload.clients as usize));
    let streaks = Arc::new(Streaks::default());
    let mut handles = Vec::with_capacity(workload.clients as usize);
    for (id, mut backend) in (0..workload.clients).zip(backends) {
        let client = CounterClient::new(id, workload, &streaks);
        let (keys, picker, barrier) =
            (Arc::clone(&keys), Arc::clone(&picker), Arc::clone(&barrier));
        let handle = shim::thread::Builder::new()
            .name(format!("contention-client-{id}"))
            .spawn(move || client_thread(client, &mut backend, &keys, &picker, &barrier))
            .map_err(|e| ContentionError::Thread(format!("cannot start client {id}: {e}")))?;
        handles.push(handle);
    }
    let clients = super::join_all(handles.into_iter().map(|h| h.join()), || {
        ContentionError::Thread("a client panicked".into())
    })?;
    let after = control.cas_counters()?;
    let cas_counters = match (before, after) {
        (Some(b), Some(a)) => [0, 1, 2].map(|i| a[i].saturating_sub(b[i])),
        _ => [0; 3],
    };
    let mut final_total = 0u64;
    for key in keys.iter() {
        final_total = final_total.wrapping_add(control.get(key)?.unwrap_or(0));
    }
    let elapsed_ns = clients.iter().map(|c| c.finished_at).max().unwrap_or(0);
    let requests = clients.iter().map(|c| c.requests).sum();
    Ok(RunOutcome {
        clients,
        final_total,
        elapsed_ns,
        requests,
        cas_counters,
        update_streak_mean: streaks.mean(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contention::config::{Backoff, Strategy};
    use crate::contention::{Mode, run as run_row};
    use crate::trace::KeyDist;

    #[test]
    fn cas_incr_and_lease_are_exact_on_real_threads() {
        for strategy in [Strategy::Cas, Strategy::Incr, Strategy::Lease] {
            for (keys, backoff) in [
                (1, Backoff::None),
                (3, "exp:base=1us,max=50us".parse().unwrap()),
            ] {
                let w = Workload {
                    strategy,
                    backoff,
                    clients: 4,
                    updates_per_client: 5_000,
                    keys,
                    key_dist: KeyDist::Uniform,
                    ..Workload::default()
                };
                let row = run_row(Mode::Threads, &w).unwrap();
                assert_eq!(row.updates, 20_000);
                assert_eq!(
                    (row.final_total, row.lost_updates),
                    (20_000, 0),
                    "{strategy}"
                );
                assert_eq!(row.cas_badval, row.cas_failures);
                // Every update is in some streak: at least 1 each, at most all of them.
                let streak = row.update_streak_mean.expect("updates were made");
                assert!((1.0..=20_000.0).contains(&streak), "{streak}");
            }
        }
    }

    #[test]
    fn one_thread_makes_one_streak() {
        let w = Workload {
            strategy: Strategy::Cas,
            clients: 1,
            updates_per_client: 300,
            ..Workload::default()
        };
        let row = run_row(Mode::Threads, &w).unwrap();
        assert_eq!(row.update_streak_mean, Some(300.0));
    }

    /// `run_on` resets the counters and reports only its own run's CAS counts, so a
    /// server that served earlier traffic (as a `net` server will) gives the same row.
    #[test]
    fn run_on_a_used_server_resets_counters_and_counts_only_its_run() {
        let store = Store::new(Settings::default(), ServerClock::manual(1)).unwrap();
        let shared = LockedBackend::new(StoreBackend::new(store));
        let w = Workload {
            strategy: Strategy::Cas,
            clients: 3,
            updates_per_client: 2_000,
            initial: Some(5),
            ..Workload::default()
        };
        let mut rows = Vec::new();
        for _ in 0..2 {
            let backends = (0..3).map(|_| shared.clone()).collect();
            let out = run_on(&w, w.key_names(), &mut shared.clone(), backends).unwrap();
            rows.push(crate::contention::ContentionRow::new(
                Mode::Threads,
                &w,
                &out,
            ));
        }
        for row in &rows {
            assert_eq!((row.expected, row.final_total), (6_005, 6_005));
            assert_eq!(row.cas_hits, 6_000);
            assert_eq!(row.cas_badval, row.cas_failures);
        }
        let wrong = run_on(&w, w.key_names(), &mut shared.clone(), vec![shared.clone()]);
        assert!(
            wrong
                .unwrap_err()
                .to_string()
                .contains("1 backends for 3 clients")
        );
    }

    /// Four threads, 100,000 updates each, on one key: each `get` and `set` takes the lock
    /// separately, and on two cores the threads interleave often enough to lose updates
    /// (measured: about half of them). Nothing is slowed down on purpose.
    #[test]
    fn naive_loses_updates_on_real_threads() {
        let w = Workload {
            strategy: Strategy::Naive,
            clients: 4,
            updates_per_client: 100_000,
            ..Workload::default()
        };
        let row = run_row(Mode::Threads, &w).unwrap();
        assert_eq!(row.expected, 400_000);
        assert!(row.lost_updates > 0, "{row:?}");
        assert_eq!(
            row.final_total as i64 + row.lost_updates,
            row.expected as i64
        );
    }
}
