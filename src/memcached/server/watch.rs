//! A connection after `watch`: no more commands, only log lines (memcached's `conn_watch`
//! state and its logger thread's writes to watchers).
//!
//! The store queues each watcher's lines (`model::store` `events`); this loop takes them
//! under the store's lock every [`POLL`] and writes them out, until the client closes the
//! connection, a write fails or the server shuts down, and then unregisters the watcher.
//! memcached's logger thread also polls (it sleeps up to 50 ms when idle), so lines arrive
//! with the same kind of delay.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::shutdown::Shutdown;
use super::stream::{Endpoint, Stream};
use crate::memcached::model::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How often the queued lines are written out.
pub const POLL: Duration = Duration::from_millis(20);

/// Streams watcher `id`'s lines to `stream` until the client goes away or the server stops;
/// the watcher is unregistered either way.
pub async fn stream(
    stream: &mut Stream,
    store: &Arc<Mutex<Store>>,
    id: u64,
    shutdown: &mut Shutdown,
) -> std::io::Result<()> {
    let result = pump(stream, store, id, shutdown).await;
    lock(store).watch_remove(id);
    result
}

fn lock(store: &Arc<Mutex<Store>>) -> std::sync::MutexGuard<'_, Store> {
    // A poisoned lock means another connection panicked mid-command; keep serving.
    store.lock().unwrap_or_else(|e| e.into_inner())
}

async fn pump(
    stream: &mut Stream,
    store: &Arc<Mutex<Store>>,
    id: u64,
    shutdown: &mut Shutdown,
) -> std::io::Result<()> {
    let mut out = Vec::new();
    let mut sink = [0u8; 512];
    let mut tick = tokio::time::interval(POLL);
    while !shutdown.is_shutdown() {
        tokio::select! {
            _ = tick.tick() => {}
            // memcached reads nothing more from a watcher; a close (or reset) ends it.
            read = stream.read(&mut sink) => {
                if read? == 0 {
                    return Ok(());
                }
                continue;
            }
            _ = shutdown.recv() => return Ok(()),
        }
        if !lock(store).watch_take(id, &mut out) {
            return Ok(());
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
    }
    Ok(())
}

/// A connection's peer and descriptor, for `watch connevents`' `conn_new` and
/// `conn_close` lines.
#[derive(Debug)]
pub struct ConnEvents {
    /// The TCP client's address; `None` for a unix socket's client.
    peer: Option<std::net::SocketAddr>,
    cfd: i64,
}

impl ConnEvents {
    /// Logs `conn_new` for an accepted socket whose descriptor is `cfd`.
    pub fn opened(store: &Arc<Mutex<Store>>, socket: &Stream, cfd: i64) -> ConnEvents {
        let peer = match socket.peer() {
            Endpoint::Tcp(addr) => Some(addr),
            Endpoint::Unix(_) => None,
        };
        let events = ConnEvents { peer, cfd };
        lock(store).log_conn_event(peer, cfd, None);
        events
    }

    /// Logs `conn_close` with memcached's reason: `error` after an I/O error or a
    /// protocol error memcached closes on, `shutdown` when the server stops, else
    /// `normal`.
    pub fn closed(
        &self,
        store: &Arc<Mutex<Store>>,
        served: &std::io::Result<()>,
        protocol_error: bool,
        shutdown: bool,
    ) {
        let reason = if served.is_err() || protocol_error {
            "error"
        } else if shutdown {
            "shutdown"
        } else {
            "normal"
        };
        lock(store).log_conn_event(self.peer, self.cfd, Some(reason));
    }
}
