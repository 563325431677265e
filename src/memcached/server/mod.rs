//! The server of `cachelab serve`: memcached's text protocol on tokio, over TCP or a unix
//! domain socket, for one shared [`super::model::store::Store`], shaped like mini-redis
//! (`server.rs`, `connection.rs`, `shutdown.rs`).
//!
//! Start from [`run`] (serve an already bound listener until a shutdown future completes),
//! [`Background`] (a server on its own thread, for tests and benchmarks) or [`Foreground`]
//! (bind, then serve on this thread until SIGINT or SIGTERM, as `cachelab serve` does).
//! Each accepted socket is served by a `connection::Connection`, which parses with
//! [`super::wire::protocol`] and applies commands through the wire's command layer; every
//! connection watches a `shutdown::Shutdown`.
//!
//! Depends on [`super::model`] and [`super::wire`]; nothing below depends on it.

mod background;
mod budget;
mod commands;
mod connection;
mod foreground;
mod listener;
mod registry;
mod responses;
mod shutdown;
mod stream;
mod watch;

pub use background::Background;
pub use budget::ReadBudget;
pub use foreground::{BindError, Foreground};
pub use listener::{
    BACKLOG, BindingProtocol, Options, ServerSettings, SharedStore, bind, bind_with_backlog, run,
};
pub use stream::{Bound, Endpoint, UNIX_MASK};
#[cfg(unix)]
pub use stream::{UnixBound, bind_unix};
