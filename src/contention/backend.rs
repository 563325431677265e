//! The client's view of a memcached: the operations a counter update needs, as the
//! [`CounterBackend`] trait, and its in-process implementation [`StoreBackend`] over the
//! [`Store`] model (the same store the TCP server serves, so its replies are the server's).
//!
//! Each request a client makes is one [`Op`]; [`apply`] runs it against any backend and
//! returns the [`Reply`]. The simulator calls [`apply`] at the instant a request reaches the
//! server, the threads mode calls it under the store's lock, and a future `net` mode will
//! implement [`CounterBackend`] over the TCP client (one request per method).
//!
//! **Leases.** The store has no meta protocol, so the lease strategy uses a small emulation
//! kept beside the store (and behind the same lock): [`CounterBackend::lease_get`] is
//! memcached's `mg <key> v c N<ttl>` as a lock — the first client to ask while no lease is
//! out gets the value and a token (the meta `W` "win" flag), every other asker gets
//! [`LeaseReply::Lost`] (the `Z` flag: a win token is already out) until the winner writes
//! back with [`CounterBackend::lease_set`] (`ms <key> C<token>` then release). Lease
//! timeouts are not emulated: clients never die mid-update here.

use std::collections::HashMap;

use crate::memcached::store::{DeleteOutcome, DeltaOutcome, KeyError, Store, StoreOutcome};

use super::shim::{Arc, Mutex, MutexGuard};

/// Why a backend request failed (not a protocol outcome such as `EXISTS`, which is a
/// [`Reply`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The key was refused.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The stored value is not a decimal counter.
    #[error("value of {key} is not a decimal counter")]
    NotACounter {
        /// The key, lossily decoded.
        key: String,
    },
    /// The server refused to store (`SERVER_ERROR …`).
    #[error("server error: {0}")]
    Server(String),
    /// The server cannot be reached (a poisoned lock in process; I/O errors over TCP).
    #[error("backend unavailable: {0}")]
    Unavailable(String),
}

/// A `cas`/lease write's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasReply {
    /// `STORED`.
    Stored,
    /// `EXISTS`: someone wrote since the `gets`.
    Exists,
    /// `NOT_FOUND`: the key is gone.
    NotFound,
}

/// A lease request's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseReply {
    /// This client won: the current value (`None` when missing) and the token to write with.
    Won {
        /// Current value.
        value: Option<u64>,
        /// Lease token.
        token: u64,
    },
    /// Another client holds the lease.
    Lost,
}

/// The memcached operations a counter client uses; `net` mode implements it over TCP.
pub trait CounterBackend {
    /// `get key`: the counter, or `None` when missing.
    fn get(&mut self, key: &[u8]) -> Result<Option<u64>, BackendError>;
    /// `gets key`: the counter and its CAS id.
    fn gets(&mut self, key: &[u8]) -> Result<Option<(u64, u64)>, BackendError>;
    /// `set key 0 0 n`.
    fn set(&mut self, key: &[u8], value: u64) -> Result<(), BackendError>;
    /// `add key 0 0 n`: true for `STORED`, false for `NOT_STORED`.
    fn add(&mut self, key: &[u8], value: u64) -> Result<bool, BackendError>;
    /// `cas key 0 0 n cas_unique`.
    fn cas(&mut self, key: &[u8], value: u64, cas: u64) -> Result<CasReply, BackendError>;
    /// `incr key delta`: the new value, or `None` for `NOT_FOUND`.
    fn incr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>, BackendError>;
    /// Asks for `key`'s lease on behalf of `client` (see the module docs).
    fn lease_get(&mut self, key: &[u8], client: u32) -> Result<LeaseReply, BackendError>;
    /// Writes `value` under lease `token` and releases the lease; `Exists` when the token
    /// is not the key's current lease.
    fn lease_set(&mut self, key: &[u8], value: u64, token: u64) -> Result<CasReply, BackendError>;
    /// `delete key`: true for `DELETED` (resets a counter before a run).
    fn delete(&mut self, key: &[u8]) -> Result<bool, BackendError>;
    /// The server's `cas_hits`, `cas_badval` and `cas_misses` so far, when it can tell.
    fn cas_counters(&mut self) -> Result<Option<[u64; 3]>, BackendError>;
}

/// One request a client sends; the key is the client's current counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `get`.
    Get,
    /// `gets`.
    Gets,
    /// `set` to the value.
    Set(u64),
    /// `add` with the value.
    Add(u64),
    /// `cas` with value and CAS id.
    Cas(u64, u64),
    /// `incr` by the value.
    Incr(u64),
    /// Ask for the lease.
    LeaseGet,
    /// Write under a lease: value, token.
    LeaseSet(u64, u64),
}

/// A reply to an [`Op`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// `get`: the value.
    Value(Option<u64>),
    /// `gets`: value and CAS id.
    ValueCas(Option<(u64, u64)>),
    /// `set`: stored.
    Stored,
    /// `add`: stored or not.
    Added(bool),
    /// `cas`/lease write outcome.
    Cas(CasReply),
    /// `incr`: the new value, `None` for `NOT_FOUND`.
    Incr(Option<u64>),
    /// Lease request outcome.
    Lease(LeaseReply),
}

/// Runs one request against a backend.
#[inline]
pub fn apply<B: CounterBackend + ?Sized>(
    backend: &mut B,
    key: &[u8],
    op: Op,
    client: u32,
) -> Result<Reply, BackendError> {
    Ok(match op {
        Op::Get => Reply::Value(backend.get(key)?),
        Op::Gets => Reply::ValueCas(backend.gets(key)?),
        Op::Set(v) => {
            backend.set(key, v)?;
            Reply::Stored
        }
        Op::Add(v) => Reply::Added(backend.add(key, v)?),
        Op::Cas(v, cas) => Reply::Cas(backend.cas(key, v, cas)?),
        Op::Incr(d) => Reply::Incr(backend.incr(key, d)?),
        Op::LeaseGet => Reply::Lease(backend.lease_get(key, client)?),
        Op::LeaseSet(v, token) => Reply::Cas(backend.lease_set(key, v, token)?),
    })
}

/// [`CounterBackend`] over an in-process [`Store`], with the lease emulation beside it.
#[derive(Debug)]
pub struct StoreBackend {
    store: Store,
    /// Outstanding leases: key → token. Only looked up by key, never iterated.
    leases: HashMap<Vec<u8>, u64>,
    next_token: u64,
}

impl StoreBackend {
    /// Wraps a store.
    pub fn new(store: Store) -> StoreBackend {
        StoreBackend {
            store,
            leases: HashMap::new(),
            next_token: 1,
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, mutably (to preset counters).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    fn write(
        &mut self,
        mode: WriteMode,
        key: &[u8],
        value: u64,
    ) -> Result<StoreOutcome, BackendError> {
        let mut buf = [0u8; 20];
        let text = decimal(value, &mut buf);
        let outcome = match mode {
            WriteMode::Set => self.store.set(key, text, 0, 0),
            WriteMode::Add => self.store.add(key, text, 0, 0),
            WriteMode::Cas(cas) => self.store.cas(key, text, 0, 0, cas),
        }?;
        match outcome {
            StoreOutcome::TooLarge => {
                Err(BackendError::Server("object too large for cache".into()))
            }
            StoreOutcome::OutOfMemory => {
                Err(BackendError::Server("out of memory storing object".into()))
            }
            other => Ok(other),
        }
    }
}

/// `value` in decimal, written into the end of `buf` (20 digits hold any u64).
fn decimal(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buf[at..];
        }
    }
}

enum WriteMode {
    Set,
    Add,
    Cas(u64),
}

fn parse_value(key: &[u8], value: &[u8]) -> Result<u64, BackendError> {
    // incr pads a shrunk value with spaces; accept trailing whitespace as incr does.
    let digits = value.trim_ascii_end();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(not_a_counter(key));
    }
    digits
        .iter()
        .try_fold(0u64, |acc, &d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(|| not_a_counter(key))
}

fn not_a_counter(key: &[u8]) -> BackendError {
    BackendError::NotACounter {
        key: String::from_utf8_lossy(key).into_owned(),
    }
}

impl CounterBackend for StoreBackend {
    fn get(&mut self, key: &[u8]) -> Result<Option<u64>, BackendError> {
        match self.store.get(key)? {
            Some(item) => Ok(Some(parse_value(key, item.value)?)),
            None => Ok(None),
        }
    }

    fn gets(&mut self, key: &[u8]) -> Result<Option<(u64, u64)>, BackendError> {
        match self.store.get(key)? {
            Some(item) => Ok(Some((parse_value(key, item.value)?, item.cas))),
            None => Ok(None),
        }
    }

    fn set(&mut self, key: &[u8], value: u64) -> Result<(), BackendError> {
        self.write(WriteMode::Set, key, value).map(|_| ())
    }

    fn add(&mut self, key: &[u8], value: u64) -> Result<bool, BackendError> {
        Ok(matches!(
            self.write(WriteMode::Add, key, value)?,
            StoreOutcome::Stored { .. }
        ))
    }

    fn cas(&mut self, key: &[u8], value: u64, cas: u64) -> Result<CasReply, BackendError> {
        Ok(match self.write(WriteMode::Cas(cas), key, value)? {
            StoreOutcome::Stored { .. } => CasReply::Stored,
            StoreOutcome::NotFound => CasReply::NotFound,
            _ => CasReply::Exists,
        })
    }

    fn incr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>, BackendError> {
        match self.store.incr(key, delta)? {
            DeltaOutcome::Value { value, .. } => Ok(Some(value)),
            DeltaOutcome::NotFound => Ok(None),
            DeltaOutcome::NonNumeric => Err(not_a_counter(key)),
            DeltaOutcome::OutOfMemory => Err(BackendError::Server("out of memory".into())),
        }
    }

    fn lease_get(&mut self, key: &[u8], _client: u32) -> Result<LeaseReply, BackendError> {
        if self.leases.contains_key(key) {
            return Ok(LeaseReply::Lost);
        }
        let value = self.get(key)?;
        let token = self.next_token;
        self.next_token += 1;
        self.leases.insert(key.to_vec(), token);
        Ok(LeaseReply::Won { value, token })
    }

    fn lease_set(&mut self, key: &[u8], value: u64, token: u64) -> Result<CasReply, BackendError> {
        if self.leases.get(key) != Some(&token) {
            return Ok(CasReply::Exists);
        }
        self.leases.remove(key);
        self.set(key, value)?;
        Ok(CasReply::Stored)
    }

    fn delete(&mut self, key: &[u8]) -> Result<bool, BackendError> {
        self.leases.remove(key);
        Ok(matches!(self.store.delete(key)?, DeleteOutcome::Deleted))
    }

    fn cas_counters(&mut self) -> Result<Option<[u64; 3]>, BackendError> {
        let c = self.store.counters();
        Ok(Some([c.cas_hits, c.cas_badval, c.cas_misses]))
    }
}

/// A handle on one [`StoreBackend`] shared by threads: every call takes the lock once, as
/// one request reaches a server. Clones share the store.
#[derive(Debug, Clone)]
pub struct SharedStore(Arc<Mutex<StoreBackend>>);

impl SharedStore {
    /// Shares `backend`.
    pub fn new(backend: StoreBackend) -> SharedStore {
        SharedStore(Arc::new(Mutex::new(backend)))
    }

    fn lock(&self) -> Result<MutexGuard<'_, StoreBackend>, BackendError> {
        self.0
            .lock()
            .map_err(|_| BackendError::Unavailable("the store lock was poisoned".into()))
    }
}

impl CounterBackend for SharedStore {
    fn get(&mut self, key: &[u8]) -> Result<Option<u64>, BackendError> {
        self.lock()?.get(key)
    }
    fn gets(&mut self, key: &[u8]) -> Result<Option<(u64, u64)>, BackendError> {
        self.lock()?.gets(key)
    }
    fn set(&mut self, key: &[u8], value: u64) -> Result<(), BackendError> {
        self.lock()?.set(key, value)
    }
    fn add(&mut self, key: &[u8], value: u64) -> Result<bool, BackendError> {
        self.lock()?.add(key, value)
    }
    fn cas(&mut self, key: &[u8], value: u64, cas: u64) -> Result<CasReply, BackendError> {
        self.lock()?.cas(key, value, cas)
    }
    fn incr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>, BackendError> {
        self.lock()?.incr(key, delta)
    }
    fn lease_get(&mut self, key: &[u8], client: u32) -> Result<LeaseReply, BackendError> {
        self.lock()?.lease_get(key, client)
    }
    fn lease_set(&mut self, key: &[u8], value: u64, token: u64) -> Result<CasReply, BackendError> {
        self.lock()?.lease_set(key, value, token)
    }
    fn delete(&mut self, key: &[u8]) -> Result<bool, BackendError> {
        self.lock()?.delete(key)
    }
    fn cas_counters(&mut self) -> Result<Option<[u64; 3]>, BackendError> {
        self.lock()?.cas_counters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memcached::{Clock, Settings};

    fn backend() -> StoreBackend {
        StoreBackend::new(Store::new(Settings::default(), Clock::manual(0)).unwrap())
    }

    #[test]
    fn store_backend_speaks_the_memcached_outcomes() {
        let mut b = backend();
        let k = b"visitors".as_slice();
        assert_eq!(b.gets(k).unwrap(), None);
        assert!(b.add(k, 42).unwrap());
        assert!(!b.add(k, 7).unwrap(), "add of a present key is NOT_STORED");
        let (v, cas) = b.gets(k).unwrap().unwrap();
        assert_eq!(v, 42);
        assert_eq!(b.cas(k, 43, cas).unwrap(), CasReply::Stored);
        assert_eq!(b.cas(k, 43, cas).unwrap(), CasReply::Exists);
        assert_eq!(b.cas(b"gone", 1, cas).unwrap(), CasReply::NotFound);
        assert_eq!(b.incr(k, 1).unwrap(), Some(44));
        assert_eq!(b.incr(b"gone", 1).unwrap(), None);
        assert_eq!(b.cas_counters().unwrap(), Some([1, 1, 1]));
        // incr to fewer digits pads with spaces; the value still parses.
        b.set(k, 100).unwrap();
        assert!(matches!(
            b.store_mut().decr(k, 95).unwrap(),
            DeltaOutcome::Value { value: 5, .. }
        ));
        assert_eq!(b.get(k).unwrap(), Some(5));
    }

    #[test]
    fn decimal_writes_any_u64() {
        let mut buf = [0u8; 20];
        for v in [0, 7, 10, 4711, u64::MAX] {
            assert_eq!(decimal(v, &mut buf), v.to_string().as_bytes());
        }
    }

    #[test]
    fn one_lease_at_a_time_and_only_its_token_writes() {
        let mut b = backend();
        let k = b"visitors".as_slice();
        let LeaseReply::Won { value: None, token } = b.lease_get(k, 0).unwrap() else {
            panic!("first asker wins");
        };
        assert_eq!(b.lease_get(k, 1).unwrap(), LeaseReply::Lost);
        assert_eq!(b.lease_set(k, 1, token + 1).unwrap(), CasReply::Exists);
        assert_eq!(b.lease_set(k, 1, token).unwrap(), CasReply::Stored);
        assert!(matches!(
            b.lease_get(k, 1).unwrap(),
            LeaseReply::Won { value: Some(1), .. }
        ));
    }
}
