//! cachelab: a trace-driven cache simulator and eviction-policy benchmark suite.
//!
//! Data flows one way, through layers that depend only on the ones below them:
//!
//! ```text
//!  request, units          the vocabulary: Request, sizes, durations, the key=value grammar
//!     ▲
//!  trace                   readers (one file per format), detection, generators, statistics
//!     ▲
//!  policy                  the Policy trait, one file per policy with its registry row
//!     ▲
//!  memcached::model        the memcached store, also a policy provider (policy never imports it)
//!     ▲
//!  catalog                 every registered policy: policy's own rows and the memcached model
//!     ▲
//!  sim                     the engine: one pass, many (policy, capacity) configurations
//!     ▲
//!  mrc, cluster            miss-ratio curves; key placement, clusters and migrations
//!     ▲
//!  report, contention, demo  rows, tables, CSV/JSON, charts; CAS races; the demo tour
//! ```
//!
//! A trace file or a generator ([`trace`]) yields [`Request`]s; the engine ([`sim`]) feeds
//! each request to many (policy, capacity) configurations at once; each configuration is a
//! [`Policy`] built from a spec string by the [`CATALOG`]; the engine counts hits, misses,
//! bytes and evictions into [`Counters`]; [`report`] turns results into tables, CSV, JSON
//! and charts. [`memcached`] is a model of memcached's memory and LRUs that is also a real
//! server and client, and [`contention`] races clients on its counters. [`mrc`] draws the
//! miss ratio at every cache size from one read of a trace (exact LRU, SHARDS, AET,
//! miniature simulations), and [`cluster`] places keys as memcached clients do and replays
//! clusters, node failures and migrations, simulated or against running servers.
//!
//! Reading a bundled trace and replaying it through two policies at two sizes, in one pass:
//!
//! ```
//! use cachelab::{CATALOG, Config, ReadOptions, SimOptions};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/cloudPhysicsIO.oracleGeneral.bin.zst");
//! let mut reader = cachelab::trace::open(path, &ReadOptions::default())?;
//! let configs = vec![
//!     Config::new("lru".parse()?, 64 << 20),
//!     Config::new("s3fifo:small=0.2".parse()?, 64 << 20),
//!     Config::new("lru".parse()?, 256 << 20),
//! ];
//! let results = cachelab::simulate(reader.as_mut(), &configs, &SimOptions::default(), None)?;
//! assert_eq!(results[0].counters.requests, 113_872);
//! // A larger LRU never misses more (LRU is a stack algorithm).
//! assert!(results[2].counters.misses <= results[0].counters.misses);
//! // The display name is the full spec, and it parses back.
//! assert_eq!(results[1].policy, "s3fifo:small=0.2,threshold=1");
//! assert!(CATALOG.check(&results[1].policy.parse()?).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Requests in memory work the same way ([`sim::simulate_slice`]):
//!
//! ```
//! use cachelab::{Config, Request, SimOptions};
//!
//! // A B A C A B, every object 1 byte.
//! let trace: Vec<Request> = [1, 2, 1, 3, 1, 2].iter().map(|&k| Request::get(k, 1)).collect();
//! let configs = vec![Config::new("lru".parse()?, 1), Config::new("lru".parse()?, 2)];
//! let results = cachelab::sim::simulate_slice(&trace, &configs, &SimOptions::default())?;
//! assert_eq!(results[0].counters.hits, 0); // one slot: every request misses
//! assert_eq!(results[1].counters.hits, 2); // two slots: the 2nd and 3rd A hit
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The memcached store on its own, on a clock the caller moves:
//!
//! ```
//! use cachelab::memcached::{ServerClock, Settings, Store};
//!
//! let clock = ServerClock::manual(1_000);
//! let mut store = Store::new(Settings::default(), clock.clone())?;
//! store.set(b"visitors", b"41", 0, 60)?; // flags 0, expires 60 s from now
//! assert_eq!(store.get(b"visitors")?.map(|item| item.value.to_vec()), Some(b"41".to_vec()));
//! clock.advance(60);
//! assert!(store.get(b"visitors")?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod atomic_file;
pub mod cache;
pub mod catalog;
pub mod cluster;
pub mod contention;
pub mod demo;
pub mod jobs;
pub mod memcached;
pub mod mrc;
pub mod plan;
pub mod policy;
pub mod report;
pub mod request;
pub mod sim;
pub mod trace;
pub mod units;

pub use catalog::CATALOG;
pub use memcached::{Settings, Store};
pub use policy::{Counters, Outcome, Policy, PolicySpec, SpecError};
pub use request::{Op, Request};
pub use sim::{Config, RunResult, SimError, SimOptions, simulate};
pub use trace::{ReadOptions, RequestReader};
