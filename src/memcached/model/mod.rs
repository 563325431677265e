//! The store model: memcached 1.6's item store with its slab memory accounting, LRUs, lazy
//! expiry, CAS ids and statistics, and the look-aside [`crate::policy::Policy`] that
//! replays traces through it. Knows nothing of bytes on a wire, sockets or clients: the
//! layers above ([`super::wire`], [`super::server`], [`super::client`]) depend on it, never
//! the other way.
//!
//! Start from [`store::Store`]. Its memory follows [`slab`] (the class table of
//! `slabs_init`, `ITEM_ntotal`, chunked large items); its time comes from a
//! [`clock::ServerClock`] the caller controls; [`policy::Memcached`] wraps it as a policy
//! for `cachelab sim`. `number` is the leaf both this layer and the wire read decimal
//! numbers with.

pub mod automove;
pub mod clock;
pub mod murmur3;
pub(crate) mod number;
pub mod policy;
pub mod slab;
pub mod store;

pub use clock::ServerClock;
pub use slab::{Settings, SettingsError, SlabClasses};
pub use store::{KeyError, Store, StoreStats};
