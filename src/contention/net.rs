//! `net` mode: real TCP clients (cachelab's memcached client, one connection per client
//! thread) against any memcached-compatible server — `cachelab serve` or a real memcached.
//!
//! [`NetBackend`] implements [`CounterBackend`] with one request per method, so a naive
//! client's `get` and `set` are two round trips that other clients' requests can fall
//! between, exactly as in the seed. Each run uses fresh counter names under a per-run
//! prefix (`cachelab:<pid>-<nanos>-<n>:visitors…`), so runs never see each other's counters
//! and nothing a user stored is touched; the counters are deleted at the end. The server's
//! `cas_hits`, `cas_badval` and `cas_misses` are read before and after, and the row reports
//! the difference (other traffic on the same server would be counted too). The client
//! threads are `threads::run_on`'s, with one [`NetBackend`] each.
//!
//! Counters are written with the TTL [`COUNTER_TTL`], and the lease strategy sends the
//! meta requests described in [`super::backend`] (`mg <key> N<ttl> R<ttl+1> v c`, then
//! `ms <key> <len> C<cas> T<ttl>`), which memcached 1.6 and `cachelab serve` answer alike.
//!
//! Every connection has the client's default guards ([`ClientOptions::default`]): a
//! 10-second timeout on connecting and on every read and write, so a server that stops
//! answering ends the run with an error instead of hanging it, and values of at most 1 MiB
//! (counters are a few bytes).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::ContentionError;
use super::backend::{
    BackendError, COUNTER_TTL, CasReply, CounterBackend, LEASE_RECACHE, LeaseReply, counter,
    lease_reply,
};
use super::config::Workload;
use super::result::RunOutcome;
use crate::memcached::client::{
    Client as TcpClient, ClientError, ClientOptions, MetaGetFlags, MetaSetFlags, MetaStatus,
    StoreResult,
};

/// The lease request's flags: `N<COUNTER_TTL> R<LEASE_RECACHE> v c`.
const LEASE_GET: MetaGetFlags = MetaGetFlags {
    value: true,
    cas: true,
    flags: false,
    ttl: false,
    touch: None,
    vivify: Some(COUNTER_TTL),
    recache: Some(LEASE_RECACHE),
};

/// Most clients (connections) net mode opens.
pub const MAX_CONNECTIONS: u32 = 1024;

/// [`CounterBackend`] over one TCP connection.
#[derive(Debug)]
pub struct NetBackend {
    client: TcpClient,
    server: String,
}

impl NetBackend {
    /// Connects to `server` (`host:port`) with the default [`ClientOptions`].
    pub fn connect(server: &str) -> Result<NetBackend, BackendError> {
        NetBackend::connect_with(server, &ClientOptions::default())
    }

    /// Connects to `server` with `options`' timeout and value limit.
    pub fn connect_with(server: &str, options: &ClientOptions) -> Result<NetBackend, BackendError> {
        let client = TcpClient::connect_with(server, options).map_err(|e| network(server, e))?;
        Ok(NetBackend {
            client,
            server: server.to_string(),
        })
    }

    fn fail(&self, e: ClientError) -> BackendError {
        network(&self.server, e)
    }
}

/// A client failure as a backend error, with the server and the whole cause chain.
pub(crate) fn network(server: &str, e: ClientError) -> BackendError {
    let mut text = format!("{server}: {e}");
    let mut cause = std::error::Error::source(&e);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    BackendError::Server(text)
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
            Some(value) => counter(key, &value.data),
            None => Ok(None),
        }
    }

    fn gets(&mut self, key: &[u8]) -> Result<Option<(u64, u64)>, BackendError> {
        match self.client.gets(key).map_err(|e| self.fail(e))? {
            Some(value) => Ok(counter(key, &value.data)?.map(|v| (v, value.cas))),
            None => Ok(None),
        }
    }

    fn set(&mut self, key: &[u8], value: u64) -> Result<(), BackendError> {
        match self
            .client
            .set(key, value.to_string().as_bytes(), 0, COUNTER_TTL)
        {
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
            .add(key, value.to_string().as_bytes(), 0, COUNTER_TTL)
            .map_err(|e| self.fail(e))?;
        Ok(result == StoreResult::Stored)
    }

    fn cas(&mut self, key: &[u8], value: u64, cas: u64) -> Result<CasReply, BackendError> {
        let result = self
            .client
            .cas(key, value.to_string().as_bytes(), 0, COUNTER_TTL, cas)
            .map_err(|e| self.fail(e))?;
        Ok(cas_reply(result))
    }

    fn incr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>, BackendError> {
        self.client.incr(key, delta).map_err(|e| self.fail(e))
    }

    fn lease_get(&mut self, key: &[u8]) -> Result<LeaseReply, BackendError> {
        let item = self
            .client
            .mg(key, &LEASE_GET)
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| BackendError::NoLease {
                key: String::from_utf8_lossy(key).into_owned(),
                why: "mg with N answered EN (the server could not create the item)",
            })?;
        let (Some(value), Some(cas)) = (item.value.as_deref(), item.cas) else {
            return Err(BackendError::Server(format!(
                "{}: mg with v and c answered without a value or CAS id",
                self.server
            )));
        };
        lease_reply(key, value, cas, item.won, item.token_sent)
    }

    fn lease_set(&mut self, key: &[u8], value: u64, token: u64) -> Result<CasReply, BackendError> {
        let flags = MetaSetFlags {
            cas: Some(token),
            ttl: Some(COUNTER_TTL),
            ..MetaSetFlags::default()
        };
        let status = self
            .client
            .ms(key, value.to_string().as_bytes(), &flags)
            .map_err(|e| self.fail(e))?;
        Ok(match status {
            MetaStatus::Stored => CasReply::Stored,
            MetaStatus::Exists => CasReply::Exists,
            MetaStatus::NotFound | MetaStatus::NotStored => CasReply::NotFound,
        })
    }

    fn delete(&mut self, key: &[u8]) -> Result<bool, BackendError> {
        self.client.delete(key).map_err(|e| self.fail(e))
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

/// Runs `workload` against the server at `server`, one connection and thread per client
/// (through `threads::run_on`), then deletes the run's counters.
pub fn run(workload: &Workload, server: &str) -> Result<RunOutcome, ContentionError> {
    workload.validate()?;
    if workload.clients > MAX_CONNECTIONS {
        return Err(super::WorkloadError::Invalid(format!(
            "net mode opens at most {MAX_CONNECTIONS} connections, not {}",
            workload.clients
        ))
        .into());
    }
    let prefix = run_prefix();
    let names: Vec<Vec<u8>> = workload
        .key_names()
        .into_iter()
        .map(|name| [prefix.as_bytes(), &name].concat())
        .collect();
    let mut control = NetBackend::connect(server)?;
    let backends = (0..workload.clients)
        .map(|_| NetBackend::connect(server))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = super::threads::run_on(workload, names.clone(), &mut control, backends);
    for key in &names {
        control.delete(key)?;
    }
    outcome
}
