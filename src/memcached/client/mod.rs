//! The client side: a synchronous text-protocol client ([`Client`]), the look-aside replay
//! of a trace against a live server ([`replay`], `cachelab replay`) and the load generator
//! ([`loadgen`], `cachelab bench-server`). They speak to cachelab's server and to a real
//! memcached alike.
//!
//! Depends on the model only for its limits (the longest key), never on the server.

mod blocking;
pub mod loadgen;
pub mod replay;

pub use blocking::connect_stream;
pub use blocking::{
    Client, ClientError, ClientOptions, DEFAULT_MAX_VALUE, DEFAULT_TIMEOUT, MAX_REPLY_LINE,
    MetaDeleteFlags, MetaGetFlags, MetaItem, MetaSetFlags, MetaSetMode, MetaStatus, Result,
    StoreResult, Value,
};
