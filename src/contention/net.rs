//! `net` mode: real TCP clients (cachelab's memcached client, one connection per client
//! thread) against any memcached-compatible server — `cachelab serve` or a real memcached.
//!
//! [`NetBackend`] implements [`CounterBackend`] with one request per method, so a naive
//! client's `get` and `set` are two round trips that other clients' requests can fall
//! between, exactly as in the seed. Each run uses fresh counter names under a per-run
//! prefix (`cachelab:<pid>-<nanos>-<n>:visitors…`), so runs never see each other's counters
//! and nothing a user stored is touched; the counters are deleted at the end. The server's
//! `cas_hits`, `cas_badval` and `cas_misses` are read before and after, and the row reports
//! the difference (other traffic on the same server would be counted too).
//!
//! The lease strategy needs the meta protocol's win flags, which this client does not speak
//! yet: net mode refuses it with a clear error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::ContentionError;
use super::backend::{BackendError, CasReply, CounterBackend, LeaseReply, apply};
use super::client::{Action, Client, ClientStats};
use super::config::{KeyPicker, Strategy, Workload};
use super::result::RunOutcome;
use crate::memcached::client::{Client as TcpClient, ClientError, StoreResult};

/// Most clients (connections) net mode opens.
pub const MAX_CONNECTIONS: u32 = 1024;

/// [`CounterBackend`] over one TCP connection.
#[derive(Debug)]
pub struct NetBackend {
    client: TcpClient,
    server: String,
}

impl NetBackend {
    /// Connects to `server` (`host:port`).
    pub fn connect(server: &str) -> Result<NetBackend, BackendError> {
        let client = TcpClient::connect(server).map_err(|e| network(server, e))?;
        Ok(NetBackend {
            client,
            server: server.to_string(),
        })
    }

    fn fail(&self, e: ClientError) -> BackendError {
        network(&self.server, e)
    }

    fn counter(&self, key: &[u8], data: &[u8]) -> Result<u64, BackendError> {
        std::str::from_utf8(data)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| BackendError::NotACounter {
                key: String::from_utf8_lossy(key).into_owned(),
            })
    }

    /// Deletes `key` (cleanup after a run).
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, BackendError> {
        self.client.delete(key).map_err(|e| self.fail(e))
    }
}

fn network(server: &str, e: ClientError) -> BackendError {
    BackendError::Server(format!("{server}: {e}"))
}

fn cas_reply(result: StoreResult) -> CasReply {
    match result {
        StoreResult::Stored => CasReply::Stored,
        StoreResult::Exists => CasReply::Exists,
        StoreResult::NotFound | StoreResult::NotStored => CasReply::NotFound,
    }
}

impl CounterBackend for NetBackend {
    fn get(&mut self, key: &[u8]) -> Result<Option<u64>, BackendError> {
        match self.client.get(key).map_err(|e| self.fail(e))? {
            Some(value) => self.counter(key, &value.data).map(Some),
            None => Ok(None),
        }
    }

    fn gets(&mut self, key: &[u8]) -> Result<Option<(u64, u64)>, BackendError> {
        match self.client.gets(key).map_err(|e| self.fail(e))? {
            Some(value) => Ok(Some((self.counter(key, &value.data)?, value.cas))),
            None => Ok(None),
        }
    }

    fn set(&mut self, key: &[u8], value: u64) -> Result<(), BackendError> {
        match self.client.set(key, value.to_string().as_bytes(), 0, 0) {
            Ok(StoreResult::Stored) => Ok(()),
            Ok(other) => Err(BackendError::Server(format!(
                "{}: set answered {other:?}",
                self.server
            ))),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn add(&mut self, key: &[u8], value: u64) -> Result<bool, BackendError> {
        let result = self
            .client
            .add(key, value.to_string().as_bytes(), 0, 0)
            .map_err(|e| self.fail(e))?;
        Ok(result == StoreResult::Stored)
    }

    fn cas(&mut self, key: &[u8], value: u64, cas: u64) -> Result<CasReply, BackendError> {
        let result = self
            .client
            .cas(key, value.to_string().as_bytes(), 0, 0, cas)
            .map_err(|e| self.fail(e))?;
        Ok(cas_reply(result))
    }

    fn incr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>, BackendError> {
        self.client.incr(key, delta).map_err(|e| self.fail(e))
    }

    fn lease_get(&mut self, _key: &[u8], _client: u32) -> Result<LeaseReply, BackendError> {
        Err(lease_unsupported())
    }

    fn lease_set(
        &mut self,
        _key: &[u8],
        _value: u64,
        _token: u64,
    ) -> Result<CasReply, BackendError> {
        Err(lease_unsupported())
    }

    fn cas_counters(&mut self) -> Result<Option<[u64; 3]>, BackendError> {
        let stats = self.client.stats(None).map_err(|e| self.fail(e))?;
        let field = |name: &str| {
            stats
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        Ok(
            match (field("cas_hits"), field("cas_badval"), field("cas_misses")) {
                (Some(hits), Some(badval), Some(misses)) => Some([hits, badval, misses]),
                _ => None,
            },
        )
    }
}

fn lease_unsupported() -> BackendError {
    BackendError::Server(
        "the lease strategy needs the meta protocol, which net mode does not speak yet".into(),
    )
}

/// A prefix no other run shares: process id, wall-clock nanoseconds and a counter.
fn run_prefix() -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "cachelab:{}-{nanos}-{}:",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

fn client_thread(
    mut client: Client,
    server: &str,
    keys: &[Vec<u8>],
    picker: &KeyPicker,
    barrier: &Barrier,
) -> Result<ClientStats, ContentionError> {
    let id = client.id();
    let mut backend = NetBackend::connect(server)?;
    barrier.wait();
    let origin = Instant::now();
    let mut action = client.start(0, picker);
    while let Action::Send { op, key, delay } = action {
        if delay > 0 {
            std::thread::sleep(std::time::Duration::from_nanos(delay));
        }
        let reply = apply(&mut backend, &keys[key as usize], op, id)?;
        let now = origin.elapsed().as_nanos() as u64;
        action = client.on_reply(now, reply, picker);
    }
    Ok(client.into_stats())
}

/// Runs `workload` against the server at `server`, one connection and thread per client.
pub fn run(workload: &Workload, server: &str) -> Result<RunOutcome, ContentionError> {
    workload.validate()?;
    if workload.strategy == Strategy::Lease {
        return Err(lease_unsupported().into());
    }
    if workload.clients > MAX_CONNECTIONS {
        return Err(super::ConfigError::Invalid(format!(
            "net mode opens at most {MAX_CONNECTIONS} connections, not {}",
            workload.clients
        ))
        .into());
    }
    let prefix = run_prefix();
    let keys: Arc<Vec<Vec<u8>>> = Arc::new(
        workload
            .key_names()
            .into_iter()
            .map(|name| [prefix.as_bytes(), &name].concat())
            .collect(),
    );
    let mut control = NetBackend::connect(server)?;
    if let Some(initial) = workload.initial {
        for key in keys.iter() {
            control.set(key, initial)?;
        }
    }
    let before = control.cas_counters()?;
    let picker = Arc::new(KeyPicker::new(workload.key_dist, workload.keys));
    let barrier = Arc::new(Barrier::new(workload.clients as usize));
    let results: Vec<Result<ClientStats, ContentionError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workload.clients)
            .map(|id| {
                let client = Client::new(id, workload);
                let (keys, picker, barrier) = (&keys, &picker, &barrier);
                scope.spawn(move || client_thread(client, server, keys, picker, barrier))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ContentionError::Thread("a client panicked".into())))
            })
            .collect()
    });
    let clients = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let after = control.cas_counters()?;
    let mut final_total = 0u64;
    for key in keys.iter() {
        final_total = final_total.wrapping_add(control.get(key)?.unwrap_or(0));
        control.delete(key)?;
    }
    let cas_counters = match (before, after) {
        (Some(b), Some(a)) => [0, 1, 2].map(|i| a[i].saturating_sub(b[i])),
        _ => [0; 3],
    };
    Ok(RunOutcome {
        clients: clients.clone(),
        final_total,
        elapsed_ns: clients.iter().map(|c| c.finished_at).max().unwrap_or(0),
        requests: clients.iter().map(|c| c.requests).sum(),
        cas_counters,
    })
}
