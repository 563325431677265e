//! A simulated memcached that is also a real one: the item store with memcached 1.6's slab
//! memory accounting, its segmented (HOT/WARM/COLD) and compat LRUs per class, lazy expiry,
//! CAS ids and statistics; a [`crate::policy::Policy`] adapter that replays traces through
//! it; and a TCP server, client and look-aside replayer speaking memcached's classic text
//! protocol.
//!
//! Start from [`store::Store`]: one store serves the simulator ([`policy::Memcached`]), an
//! in-process API, and the TCP server, so all three see the same semantics. Its memory
//! follows [`slab`] (the class table of `slabs_init`, `ITEM_ntotal`, chunked large items);
//! its time comes from a [`clock::Clock`] the caller controls (wall time for a server, a
//! manual clock for tests and trace time).
//!
//! The network side: [`protocol`] parses bytes into commands (incrementally, with
//! memcached's exact error replies), [`cmd`] applies them to a store and encodes replies,
//! [`connection`] and [`server`] serve them over TCP on tokio (`cachelab serve`),
//! [`client`] is a synchronous client, and [`replay`] drives look-aside traffic from a
//! trace (`cachelab replay`).
//!
//! ```
//! use cachelab::memcached::{clock::Clock, slab::Settings, store::{Store, StoreOutcome}};
//! let clock = Clock::manual(1_000);
//! let mut store = Store::new(Settings::default(), clock.clone())?;
//! assert!(matches!(store.set(b"k", b"v", 0, 10)?, StoreOutcome::Stored { .. }));
//! assert_eq!(store.get(b"k")?.map(|item| item.value.to_vec()), Some(b"v".to_vec()));
//! clock.advance(10); // exptime 10 is relative: expired at 1 010
//! assert!(store.get(b"k")?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod client;
pub mod clock;
pub mod cmd;
pub mod connection;
pub mod loadgen;
pub mod policy;
pub mod protocol;
pub mod replay;
pub mod server;
pub mod shutdown;
pub mod slab;
pub mod store;

pub use clock::Clock;
pub use protocol::ProtocolError;
pub use slab::{ConfigError, Settings, SlabClasses};
pub use store::{KeyError, Store};
