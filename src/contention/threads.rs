//! Real OS threads, one per client, against one in-process store behind a mutex
//! (`Arc<Mutex<StoreBackend>>`, through [`super::shim`] so a test scheduler can replace
//! the primitives). Each request takes the lock on its own, exactly as separate network
//! requests reach a server, so a naive client's `get` and `set` can be split by another
//! client's — the race the seed describes. Nothing is slowed down to provoke it.
//!
//! Think time and backoff really sleep. Times are wall-clock nanoseconds from the moment a
//! barrier releases all clients together; the network is not modelled (the `rtt` and
//! `service` knobs are sim-only).

use super::ContentionError;
use super::backend::{BackendError, StoreBackend, apply};
use super::client::{Action, Client, ClientStats};
use super::config::{KeyPicker, Workload};
use super::result::RunOutcome;
use super::shim::{self, Arc, Barrier, Instant, Mutex};
use super::sim::{finish, prepared_backend};

/// Most clients (threads) the threads mode starts.
pub const MAX_THREADS: u32 = 4096;

fn client_thread(
    mut client: Client,
    backend: &Mutex<StoreBackend>,
    keys: &[Vec<u8>],
    picker: &KeyPicker,
    barrier: &Barrier,
) -> Result<ClientStats, ContentionError> {
    let id = client.id();
    barrier.wait();
    let origin = Instant::now();
    let mut action = client.start(0, picker);
    while let Action::Send { op, key, delay } = action {
        shim::sleep_ns(delay);
        let reply = {
            let mut guard = backend
                .lock()
                .map_err(|_| ContentionError::Thread("the store lock was poisoned".into()))?;
            apply(&mut *guard, &keys[key as usize], op, id)?
        };
        action = client.on_reply(shim::nanos_since(origin), reply, picker);
    }
    Ok(client.into_stats())
}

/// Runs `workload` on `workload.clients` threads.
pub fn run(workload: &Workload) -> Result<RunOutcome, ContentionError> {
    workload.validate()?;
    if workload.clients > MAX_THREADS {
        return Err(super::ConfigError::Invalid(format!(
            "threads mode takes at most {MAX_THREADS} clients, not {}",
            workload.clients
        ))
        .into());
    }
    let backend = Arc::new(Mutex::new(prepared_backend(workload)?));
    let keys = Arc::new(workload.key_names());
    let picker = Arc::new(KeyPicker::new(workload.key_dist, workload.keys));
    let barrier = Arc::new(Barrier::new(workload.clients as usize));
    let mut handles = Vec::with_capacity(workload.clients as usize);
    for id in 0..workload.clients {
        let client = Client::new(id, workload);
        let (backend, keys, picker, barrier) = (
            Arc::clone(&backend),
            Arc::clone(&keys),
            Arc::clone(&picker),
            Arc::clone(&barrier),
        );
        let handle = shim::thread::Builder::new()
            .name(format!("contention-client-{id}"))
            .spawn(move || client_thread(client, &backend, &keys, &picker, &barrier))
            .map_err(|e| ContentionError::Thread(format!("cannot start client {id}: {e}")))?;
        handles.push(handle);
    }
    let mut clients = Vec::with_capacity(handles.len());
    let mut first_error = None;
    for handle in handles {
        match handle.join() {
            Ok(Ok(stats)) => clients.push(stats),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(_) => {
                first_error.get_or_insert(ContentionError::Thread("a client panicked".into()));
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let mut backend = backend
        .lock()
        .map_err(|_| ContentionError::Thread("the store lock was poisoned".into()))?;
    let (final_total, cas_counters) = finish(&mut backend, workload)?;
    let elapsed_ns = clients.iter().map(|c| c.finished_at).max().unwrap_or(0);
    let requests = clients.iter().map(|c| c.requests).sum();
    Ok(RunOutcome {
        clients,
        final_total,
        elapsed_ns,
        requests,
        cas_counters,
    })
}

impl From<BackendError> for ContentionError {
    fn from(e: BackendError) -> Self {
        ContentionError::Backend(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contention::config::{Backoff, KeyDist, Strategy};
    use crate::contention::{Mode, run as run_row};

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
            }
        }
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
