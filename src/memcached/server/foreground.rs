//! [`Foreground`]: what `cachelab serve` runs. Builds a runtime, binds the address, and
//! serves on the calling thread until SIGINT (Ctrl-C) or, on Unix, SIGTERM; then waits for
//! open connections to finish their current batch.
//!
//! Binding and serving are two steps so that the caller can report the bound address (a
//! port of 0 picks a free one) before serving starts. [`Foreground::bind_unix`] listens on
//! a unix domain socket instead (memcached's `-s`).

use std::net::SocketAddr;

use tokio::runtime::Runtime;

use super::listener::{BACKLOG, Options, SharedStore, bind_with_backlog, run};
use super::stream::Bound;

/// Why a server could not start listening.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindError {
    /// The tokio runtime could not be built.
    #[error("starting the runtime")]
    Runtime(#[source] std::io::Error),
    /// The address could not be bound.
    #[error("binding {addr}")]
    Bind {
        /// The address as given.
        addr: String,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
}

/// A listener bound on its own runtime, ready to serve on the calling thread.
#[derive(Debug)]
pub struct Foreground {
    runtime: Runtime,
    listener: Bound,
}

impl Foreground {
    /// Builds a runtime and binds `addr` (`host:port`; port 0 for any free port).
    pub fn bind(addr: &str) -> Result<Foreground, BindError> {
        Foreground::bind_with_backlog(addr, BACKLOG)
    }

    /// [`Foreground::bind`] with memcached's `-b` listen backlog.
    pub fn bind_with_backlog(addr: &str, backlog: u32) -> Result<Foreground, BindError> {
        let runtime = runtime()?;
        let listener = runtime
            .block_on(bind_with_backlog(addr, backlog))
            .map_err(|source| BindError::Bind {
                addr: addr.to_string(),
                source,
            })?;
        Ok(Foreground {
            runtime,
            listener: listener.into(),
        })
    }

    /// Builds a runtime and binds a unix domain socket at `path` with access mask `mask`
    /// and listen backlog `backlog`, as memcached's `-s`, `-a` and `-b` (see
    /// [`super::stream::bind_unix`]: a stale socket file there is replaced).
    #[cfg(unix)]
    pub fn bind_unix(
        path: &std::path::Path,
        mask: u32,
        backlog: u32,
    ) -> Result<Foreground, BindError> {
        let runtime = runtime()?;
        let listener = runtime
            .block_on(async { super::stream::bind_unix(path, mask, backlog) })
            .map_err(|source| BindError::Bind {
                addr: path.display().to_string(),
                source,
            })?;
        Ok(Foreground {
            runtime,
            listener: listener.into(),
        })
    }

    /// The bound TCP address; `None` when listening on a unix domain socket.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.tcp_addr()
    }

    /// Serves `store` until SIGINT or SIGTERM, then waits for open connections to finish
    /// their current batch (see [`run`]).
    pub fn run_until_signal(self, store: SharedStore, options: Options) -> std::io::Result<()> {
        let Foreground { runtime, listener } = self;
        runtime.block_on(run(listener, store, options, shutdown_signal()))
    }
}

fn runtime() -> Result<Runtime, BindError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BindError::Runtime)
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
