//! The client's view of a memcached: the operations a counter update needs, as the
//! [`CounterBackend`] trait, and its in-process implementation [`StoreBackend`] over the
//! [`Store`] model (the same store the TCP server serves, so its replies are the server's).
//!
//! Each request a client makes is one [`CounterOp`]; [`apply`] runs it against any backend and
//! returns the [`Reply`]. The simulator calls [`apply`] at the instant a request reaches the
//! server, the threads mode calls it under the store's lock, and `net` mode implements
//! [`CounterBackend`] over the TCP client (one request per method).
//!
//! **Leases** are memcached's own win tokens (`doc/protocol.txt`, "Meta Get", flags `N`,
//! `R`, `W`, `Z`), the same two requests in every mode — [`StoreBackend`] calls the store's
//! [`Store::meta_get`] and a CAS store, `net` mode sends the text:
//!
//! 1. [`CounterBackend::lease_get`] is `mg <key> N<ttl> R<ttl+1> v c` with
//!    `ttl` = [`COUNTER_TTL`]. On a miss, `N` creates an empty item with that TTL and this
//!    caller wins (`W`; the empty value is counter 0). On a hit, `R` hands the token to the
//!    first caller whose request finds the remaining TTL below `ttl + 1` — always, as every
//!    counter is written with `ttl` — and only to it: later callers see `Z` (token already
//!    sent) and lose, until the item is replaced.
//! 2. The winner writes back with [`CounterBackend::lease_set`], `ms <key> <len> C<cas>
//!    T<ttl>`: the CAS id from its `mg`, and a new item, which has no token out, so the
//!    next `mg` wins again.
//!
//! Every counter write (`set`, `add`, `cas`, the lease write) carries [`COUNTER_TTL`]:
//! memcached's `R` never fires for an item without a TTL (`mg` then answers neither `W`
//! nor `Z`, which [`lease_reply`] reports as [`BackendError::NoLease`] rather than spin).
//! The flags answer identically on memcached 1.6 and `cachelab serve`. memcached does not
//! time a token out: a winner that never writes back leaves the key to `Z` until its TTL
//! ends, which this experiment's clients never do.

use crate::memcached::model::store::{
    DeleteOutcome, DeltaOutcome, KeyError, MetaGetRequest, Store, StoreOutcome,
};

use super::shim::{Arc, Mutex, MutexGuard};

/// Why a backend request failed (not a protocol outcome such as `EXISTS`, which is a
/// [`Reply`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// A lease request hit an item that gives no win token to anyone (`mg … R` answered
    /// neither `W` nor `Z`: the item has no TTL), or the server could not create the item.
    #[error("no client can win the lease on {key}: {why}")]
    NoLease {
        /// The key, lossily decoded.
        key: String,
        /// What the server answered.
        why: &'static str,
    },
}

/// Seconds every counter lives (the `exptime` of each write, the `T` and `N` of the
/// lease requests): long enough for any run, and present, because `mg … R` only hands out
/// win tokens for items with a TTL.
pub const COUNTER_TTL: i64 = 86_400;

/// The lease request's recache threshold (`R`): above any counter's remaining TTL, so
/// every hit whose token is not out wins it.
pub const LEASE_RECACHE: i64 = COUNTER_TTL + 1;

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

/// A lease request's outcome (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseReply {
    /// This client won (`W`): the current value (`None` when the key was missing and `N`
    /// created it empty) and the token to write with (the item's CAS id).
    Won {
        /// Current value.
        value: Option<u64>,
        /// Lease token: the CAS id `lease_set` sends as `C<token>`.
        token: u64,
    },
    /// Another client holds the lease (`Z`).
    Lost,
}

/// The lease an `mg <key> N R v c` reply grants: `won` is its `W` flag, `token_sent` its
/// `Z`; `value` and `cas` are the item's.
pub fn lease_reply(
    key: &[u8],
    value: &[u8],
    cas: u64,
    won: bool,
    token_sent: bool,
) -> Result<LeaseReply, BackendError> {
    if won {
        Ok(LeaseReply::Won {
            value: counter(key, value)?,
            token: cas,
        })
    } else if token_sent {
        Ok(LeaseReply::Lost)
    } else {
        Err(BackendError::NoLease {
            key: String::from_utf8_lossy(key).into_owned(),
            why: "mg answered neither W nor Z (an item without a TTL)",
        })
    }
}

/// The memcached operations a counter client uses; `net` mode implements it over TCP.
pub trait CounterBackend {
    /// `get key`: the counter, or `None` when missing (or empty: a lease's `N` placeholder
    /// that its winner has not written yet).
    fn get(&mut self, key: &[u8]) -> Result<Option<u64>, BackendError>;
    /// `gets key`: the counter and its CAS id (`None` as for `get`).
    fn gets(&mut self, key: &[u8]) -> Result<Option<(u64, u64)>, BackendError>;
    /// `set key 0 <COUNTER_TTL> n`.
    fn set(&mut self, key: &[u8], value: u64) -> Result<(), BackendError>;
    /// `add key 0 <COUNTER_TTL> n`: true for `STORED`, false for `NOT_STORED`.
    fn add(&mut self, key: &[u8], value: u64) -> Result<bool, BackendError>;
    /// `cas key 0 <COUNTER_TTL> n cas_unique`.
    fn cas(&mut self, key: &[u8], value: u64, cas: u64) -> Result<CasReply, BackendError>;
    /// `incr key delta`: the new value, or `None` for `NOT_FOUND`.
    fn incr(&mut self, key: &[u8], delta: u64) -> Result<Option<u64>, BackendError>;
    /// Asks for `key`'s lease: `mg <key> N<COUNTER_TTL> R<LEASE_RECACHE> v c` (see the
    /// module docs).
    fn lease_get(&mut self, key: &[u8]) -> Result<LeaseReply, BackendError>;
    /// Writes `value` under lease `token`: `ms <key> <len> C<token> T<COUNTER_TTL>`;
    /// `Exists` when the item changed since the lease was won.
    fn lease_set(&mut self, key: &[u8], value: u64, token: u64) -> Result<CasReply, BackendError>;
    /// `delete key`: true for `DELETED` (resets a counter before a run).
    fn delete(&mut self, key: &[u8]) -> Result<bool, BackendError>;
    /// The server's `cas_hits`, `cas_badval` and `cas_misses` so far, when it can tell.
    fn cas_counters(&mut self) -> Result<Option<[u64; 3]>, BackendError>;
}

/// One request a client sends; the key is the client's current counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterOp {
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
    /// Ask for the lease (`mg … N R`).
    LeaseGet,
    /// Write under a lease (`ms … C`): value, token.
    LeaseSet(u64, u64),
}

/// A reply to an [`CounterOp`].
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
    op: CounterOp,
) -> Result<Reply, BackendError> {
    Ok(match op {
        CounterOp::Get => Reply::Value(backend.get(key)?),
        CounterOp::Gets => Reply::ValueCas(backend.gets(key)?),
        CounterOp::Set(v) => {
            backend.set(key, v)?;
            Reply::Stored
        }
        CounterOp::Add(v) => Reply::Added(backend.add(key, v)?),
        CounterOp::Cas(v, cas) => Reply::Cas(backend.cas(key, v, cas)?),
        CounterOp::Incr(d) => Reply::Incr(backend.incr(key, d)?),
        CounterOp::LeaseGet => Reply::Lease(backend.lease_get(key)?),
        CounterOp::LeaseSet(v, token) => Reply::Cas(backend.lease_set(key, v, token)?),
    })
}

/// [`CounterBackend`] over an in-process [`Store`]; leases are the store's meta get.
#[derive(Debug)]
pub struct StoreBackend {
    store: Store,
}

impl StoreBackend {
    /// Wraps a store.
    pub fn new(store: Store) -> StoreBackend {
        StoreBackend { store }
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
        let mut digits = itoa::Buffer::new();
        let text = digits.format(value).as_bytes();
        let outcome = match mode {
            WriteMode::Set => self.store.set(key, text, 0, COUNTER_TTL),
            WriteMode::Add => self.store.add(key, text, 0, COUNTER_TTL),
            // What `ms` does with `C` (meta.rs): a CAS store.
            WriteMode::Cas(cas) => self.store.cas(key, text, 0, COUNTER_TTL, cas),
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

enum WriteMode {
    Set,
    Add,
    Cas(u64),
}

fn parse_value(key: &[u8], value: &[u8]) -> Result<u64, BackendError> {
    // incr pads a shrunk value with spaces; accept trailing whitespace as incr does.
    let digits = value.trim_ascii_end();
    if digits.is_empty() {
        return Err(not_a_counter(key));
    }
    // One pass: a non-digit and an overflow are the same error.
    digits
        .iter()
        .try_fold(0u64, |acc, &d| {
            let d = d.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            acc.checked_mul(10)?.checked_add(u64::from(d))
        })
        .ok_or_else(|| not_a_counter(key))
}

/// A stored value as a counter: `None` for an empty value (the item `mg … N` creates for
/// a lease winner, which holds no count yet).
pub fn counter(key: &[u8], value: &[u8]) -> Result<Option<u64>, BackendError> {
    if value.is_empty() {
        Ok(None)
    } else {
        parse_value(key, value).map(Some)
    }
}

fn not_a_counter(key: &[u8]) -> BackendError {
    BackendError::NotACounter {
        key: String::from_utf8_lossy(key).into_owned(),
    }
}

impl CounterBackend for StoreBackend {
    fn get(&mut self, key: &[u8]) -> Result<Option<u64>, BackendError> {
        match self.store.get(key)? {
            Some(item) => counter(key, item.value),
            None => Ok(None),
        }
    }

    fn gets(&mut self, key: &[u8]) -> Result<Option<(u64, u64)>, BackendError> {
        match self.store.get(key)? {
            Some(item) => Ok(counter(key, item.value)?.map(|v| (v, item.cas))),
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

    fn lease_get(&mut self, key: &[u8]) -> Result<LeaseReply, BackendError> {
        match self.store.meta_get(
            key,
            MetaGetRequest {
                vivify: Some(COUNTER_TTL),
                recache: Some(LEASE_RECACHE),
                ..MetaGetRequest::default()
            },
        )? {
            Some((item, state)) => {
                lease_reply(key, item.value, item.cas, state.won, state.token_was_sent)
            }
            None => Err(BackendError::NoLease {
                key: String::from_utf8_lossy(key).into_owned(),
                why: "mg with N missed (the store could not create the item)",
            }),
        }
    }

    fn lease_set(&mut self, key: &[u8], value: u64, token: u64) -> Result<CasReply, BackendError> {
        self.cas(key, value, token)
    }

    fn delete(&mut self, key: &[u8]) -> Result<bool, BackendError> {
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
pub struct LockedBackend(Arc<Mutex<StoreBackend>>);

impl LockedBackend {
    /// Shares `backend`.
    pub fn new(backend: StoreBackend) -> LockedBackend {
        LockedBackend(Arc::new(Mutex::new(backend)))
    }

    fn lock(&self) -> Result<MutexGuard<'_, StoreBackend>, BackendError> {
        self.0
            .lock()
            .map_err(|_| BackendError::Unavailable("the store lock was poisoned".into()))
    }
}

impl CounterBackend for LockedBackend {
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
    fn lease_get(&mut self, key: &[u8]) -> Result<LeaseReply, BackendError> {
        self.lock()?.lease_get(key)
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
    use crate::memcached::{ServerClock, Settings};

    fn backend() -> StoreBackend {
        StoreBackend::new(Store::new(Settings::default(), ServerClock::manual(0)).unwrap())
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

    /// The meta lease on the store: `N` vivifies and wins, `Z` for everyone else until
    /// the winner's CAS write replaces the item; a stale token is `EXISTS`.
    #[test]
    fn one_lease_at_a_time_and_only_its_token_writes() {
        let mut b = backend();
        let k = b"visitors".as_slice();
        let LeaseReply::Won { value: None, token } = b.lease_get(k).unwrap() else {
            panic!("first asker wins");
        };
        assert_eq!(b.lease_get(k).unwrap(), LeaseReply::Lost);
        assert_eq!(b.lease_set(k, 1, token + 1).unwrap(), CasReply::Exists);
        assert_eq!(b.lease_set(k, 1, token).unwrap(), CasReply::Stored);
        let LeaseReply::Won {
            value: Some(1),
            token: next,
        } = b.lease_get(k).unwrap()
        else {
            panic!("the replaced item has no token out");
        };
        assert_ne!(next, token);
        assert_eq!(b.lease_get(k).unwrap(), LeaseReply::Lost);
        assert_eq!(b.lease_set(k, 2, token).unwrap(), CasReply::Exists);
        assert_eq!(b.lease_set(k, 2, next).unwrap(), CasReply::Stored);
        assert_eq!(b.get(k).unwrap(), Some(2));
        // The server counts lease writes as CAS commands: two hits, two bad values.
        assert_eq!(b.cas_counters().unwrap(), Some([2, 2, 0]));
    }

    /// An item without a TTL never hands out a token: an error, not an endless retry.
    #[test]
    fn a_counter_without_ttl_is_no_lease() {
        let mut b = backend();
        b.store_mut().set(b"plain", b"5", 0, 0).unwrap();
        let err = b.lease_get(b"plain").unwrap_err();
        assert!(matches!(err, BackendError::NoLease { .. }), "{err}");
        assert!(err.to_string().contains("neither W nor Z"), "{err}");
    }
}
