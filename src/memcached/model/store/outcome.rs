//! What the store's commands return: the outcome of each command family, the item a
//! retrieval sees ([`ItemRef`]), the meta protocol's request and state types, and the
//! one error a command can have ([`KeyError`]). Plain data, named after the replies of
//! `doc/protocol.txt` that the wire layer encodes.

/// A key the store cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A zero-length key.
    #[error("key is empty")]
    Empty,
    /// A key longer than 250 bytes.
    #[error("key is {0} bytes; memcached keys are at most 250")]
    TooLong(usize),
}

/// What a storage command did (`doc/protocol.txt`, "Storage commands").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// `STORED`, with the item's new CAS id.
    Stored {
        /// The CAS id the stored item got (0 when CAS is off).
        cas: u64,
    },
    /// `NOT_STORED`: an `add` of a present key, a `replace`/`append`/`prepend` of a
    /// missing one, or an append whose combined item found no memory.
    NotStored,
    /// `EXISTS`: a `cas` whose id did not match.
    Exists,
    /// `NOT_FOUND`: a `cas` of a missing key.
    NotFound,
    /// `SERVER_ERROR object too large for cache`: larger than `-I`.
    TooLarge,
    /// `SERVER_ERROR out of memory storing object`: no chunk could be had.
    OutOfMemory,
}

/// Which storage command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Store unconditionally.
    Set,
    /// Store only when the key is absent.
    Add,
    /// Store only when the key is present.
    Replace,
    /// Add the data after the present value (flags and exptime unchanged).
    Append,
    /// Add the data before the present value (flags and exptime unchanged).
    Prepend,
    /// Store only when the present item's CAS id equals the one given.
    Cas,
}

/// What `incr`/`decr` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaOutcome {
    /// The new value and the item's new CAS id.
    Value {
        /// The value after the operation.
        value: u64,
        /// The item's new CAS id.
        cas: u64,
    },
    /// `NOT_FOUND`.
    NotFound,
    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`.
    NonNumeric,
    /// `SERVER_ERROR out of memory` (the longer result needed a new item).
    OutOfMemory,
}

/// What a meta arithmetic command (`ma`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaDeltaOutcome {
    /// The delta was applied: the new value.
    Changed(u64),
    /// `N` created the missing counter at its initial value.
    Created(u64),
    /// `N` found no memory for the counter (`NS`).
    NotStored,
    /// `EX`: `C` was given (not 0) and the counter's CAS id differs; nothing changed.
    Exists,
    /// `NF`: missing, and no `N`.
    NotFound,
    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`.
    NonNumeric,
    /// `SERVER_ERROR out of memory`.
    OutOfMemory,
}

/// What `delete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// `DELETED`.
    Deleted,
    /// `NOT_FOUND`.
    NotFound,
}

/// What a meta delete (`md`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaDeleteOutcome {
    /// `HD`: removed, or marked stale.
    Deleted,
    /// `NF`.
    NotFound,
    /// `EX`: the item's CAS id is not the one given.
    Exists,
}

/// What `touch` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TouchOutcome {
    /// `TOUCHED`.
    Touched,
    /// `NOT_FOUND`.
    NotFound,
}

/// A live item as a retrieval command sees it; borrowed from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value (without the protocol's trailing `\r\n`).
    pub value: &'a [u8],
    /// Client flags.
    pub flags: u32,
    /// CAS id (0 when CAS is off).
    pub cas: u64,
    /// Absolute expiry time in clock seconds, `None` for never.
    pub expires_at: Option<u64>,
    /// memcached's `it->time` in clock seconds: when stored, or last bumped by a hit as the
    /// LRU mode says (see the `lru` module; not every hit).
    pub last_access: u64,
}

/// The win-token state `mg` reports (see [`Store::meta_get`](super::Store::meta_get)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaState {
    /// This caller got the win token (`W`): it should recompute the value.
    pub won: bool,
    /// The token had already been given to another caller (`Z`).
    pub token_was_sent: bool,
    /// The item was invalidated (`X`).
    pub stale: bool,
    /// It had been read before this `mg` (`h`).
    pub fetched_before: bool,
    /// Seconds since its `it->time` before this `mg` (`l`): since stored or last bumped.
    pub idle: u64,
    /// The miss created the item (`N`).
    pub vivified: bool,
    /// Remaining seconds to live before this `mg` changed it (-1: never expires; for a
    /// vivified item -1, as memcached creates it before applying `N`'s TTL).
    pub ttl_before: i64,
    /// The item's key was stored base64-encoded (`ms … b`): `k` shows it encoded.
    pub key_binary: bool,
}

/// What a meta get asks besides its key: the flags that change the item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaGetRequest {
    /// `T`: a new exptime.
    pub touch: Option<i64>,
    /// `N`: on a miss, create an empty item with this exptime (and win).
    pub vivify: Option<i64>,
    /// The last `N` comes after the last `T` in the request: memcached applies the flags
    /// in request order, so a vivified item then keeps `N`'s exptime rather than `T`'s.
    pub vivify_last: bool,
    /// `R`: give the win token when fewer seconds than this remain.
    pub recache: Option<i64>,
    /// Keep a reference to the item until [`Store::release_held`](super::Store::release_held), as memcached does for
    /// the rest of a pipeline window (the protocol layer sets this; see `release_held`).
    pub hold: bool,
    /// `u`: leave the item where it is in its LRU (no bump: neither `fetched` nor the
    /// last-access time change); the read still counts as a hit.
    pub no_update: bool,
}

/// An item as the meta debug command `me` shows it (see [`Store::debug`](super::Store::debug)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemDebug {
    /// Seconds until expiry, -1 for never (`exp=`).
    pub exptime: i64,
    /// Seconds since its `it->time` (`la=`): since stored or last bumped.
    pub last_access: u64,
    /// CAS id (`cas=`).
    pub cas: u64,
    /// Read since stored (`fetch=`).
    pub fetched: bool,
    /// Slab class of the item's LRU (`cls=`).
    pub class: u8,
    /// `ITEM_ntotal` (`size=`).
    pub size: u64,
    /// The key was stored base64-encoded (`ms … b`): `me` shows it encoded.
    pub key_binary: bool,
}
