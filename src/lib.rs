//! cachelab: a trace-driven cache simulator and eviction-policy benchmark suite.
//!
//! Data flows one way: a trace file or a generator ([`trace`]) yields [`request::Request`]s;
//! the engine ([`sim`]) feeds each request to many (policy, capacity) configurations at
//! once; each configuration is a [`policy::Policy`] built from a spec string; the engine
//! counts hits, misses, bytes and evictions into [`sim::Counters`]; [`report`] turns results
//! into tables, CSV, JSON and charts.
//!
//! Replaying a tiny trace through LRU at two sizes:
//!
//! ```
//! use cachelab::request::Request;
//! use cachelab::sim::{simulate_slice, Config, SimOptions};
//!
//! // A B A C A B, every object 1 byte.
//! let trace: Vec<Request> = [1, 2, 1, 3, 1, 2].iter().map(|&k| Request::get(k, 1)).collect();
//! let configs = vec![Config::new("lru".parse()?, 1), Config::new("lru".parse()?, 2)];
//! let results = simulate_slice(&trace, &configs, &SimOptions::default())?;
//! assert_eq!(results[0].counters.hits, 0); // one slot: every request misses
//! assert_eq!(results[1].counters.hits, 2); // two slots: the 2nd and 3rd A hit
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod atomic_file;
pub mod catalog;
pub mod contention;
pub mod demo;
pub mod memcached;
pub mod policy;
pub mod report;
pub mod request;
pub mod sim;
pub mod trace;
pub mod units;
