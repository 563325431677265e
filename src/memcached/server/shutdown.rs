//! Listens for the server's shutdown signal, as mini-redis `src/shutdown.rs` does: every
//! connection task holds a [`Shutdown`] and checks it between reads.
//!
//! The signal is a `watch` channel whose sender the server drops: checking it is one
//! atomic load, cheap enough to do before every read, and waiting on it wakes idle
//! connections.

use tokio::sync::watch;

/// A connection's view of the server shutdown: set once the signal has been received.
#[derive(Debug, Clone)]
pub struct Shutdown {
    is_shutdown: bool,
    notify: watch::Receiver<()>,
}

impl Shutdown {
    /// Wraps a receiver of the server's shutdown channel.
    pub fn new(notify: watch::Receiver<()>) -> Shutdown {
        Shutdown {
            is_shutdown: false,
            notify,
        }
    }

    /// True once the signal was sent (the sender dropped or a value sent).
    pub fn is_shutdown(&self) -> bool {
        self.is_shutdown || self.notify.has_changed().unwrap_or(true)
    }

    /// Waits for the signal (returns at once if it was already received).
    pub async fn recv(&mut self) {
        if self.is_shutdown {
            return;
        }
        let _ = self.notify.changed().await;
        self.is_shutdown = true;
    }
}
