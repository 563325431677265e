//! A simulated memcached that is also a real one, in four layers that depend one way:
//!
//! ```text
//!  client/   Client (sync), replay (`cachelab replay`), loadgen (`cachelab bench-server`)
//!  server/   run, Background, Foreground (`cachelab serve`): tokio, connections, shutdown
//!    ▲
//!  wire/     protocol (incremental text parser, error replies), cmd (one file per family)
//!    ▲
//!  model/    store (items, slab memory, LRUs, expiry, CAS, stats), slab, clock, policy
//! ```
//!
//! [`model`] is memcached 1.6's item store with its slab memory accounting, segmented
//! (HOT/WARM/COLD) and compat LRUs per class, lazy expiry, CAS ids and statistics, and
//! the [`crate::policy::Policy`] that replays traces through it; it knows nothing of the
//! wire. [`wire`] turns bytes into commands on the store and replies into bytes.
//! [`server`] serves the wire over TCP; [`client`] talks to any memcached, ours or the
//! real one.
//!
//! Start from [`Store`]: one store serves the simulator ([`model::policy::Memcached`]), an
//! in-process API, and the TCP server, so all three see the same semantics. Its memory
//! follows [`model::slab`] (the class table of `slabs_init`, `ITEM_ntotal`, chunked large
//! items); its time comes from a [`ServerClock`] the caller controls (wall time for a server, a
//! manual clock for tests and trace time).
//!
//! ```
//! use cachelab::memcached::model::store::StoreOutcome;
//! use cachelab::memcached::{ServerClock, Settings, Store};
//! let clock = ServerClock::manual(1_000);
//! let mut store = Store::new(Settings::default(), clock.clone())?;
//! assert!(matches!(store.set(b"k", b"v", 0, 10)?, StoreOutcome::Stored { .. }));
//! assert_eq!(store.get(b"k")?.map(|item| item.value.to_vec()), Some(b"v".to_vec()));
//! clock.advance(10); // exptime 10 is relative: expired at 1 010
//! assert!(store.get(b"k")?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod client;
pub mod model;
pub mod server;
pub mod wire;

pub use client::{Client, ClientError};
pub use model::{KeyError, ServerClock, Settings, SettingsError, SlabClasses, Store, StoreStats};
pub use wire::ProtocolError;
