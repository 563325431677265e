//! Listens for the server's shutdown signal, as mini-redis `src/shutdown.rs` does: every
//! connection task holds a [`Shutdown`] and checks it between reads.

use tokio::sync::broadcast;

/// A connection's view of the server shutdown: set once the signal has been received.
#[derive(Debug)]
pub struct Shutdown {
    is_shutdown: bool,
    notify: broadcast::Receiver<()>,
}

impl Shutdown {
    /// Wraps a receiver of the server's shutdown broadcast.
    pub fn new(notify: broadcast::Receiver<()>) -> Shutdown {
        Shutdown {
            is_shutdown: false,
            notify,
        }
    }

    /// True once the signal was received.
    pub fn is_shutdown(&self) -> bool {
        self.is_shutdown
    }

    /// Waits for the signal (returns at once if it was already received). A closed
    /// channel counts as a signal: the server is gone.
    pub async fn recv(&mut self) {
        if self.is_shutdown {
            return;
        }
        let _ = self.notify.recv().await;
        self.is_shutdown = true;
    }
}
