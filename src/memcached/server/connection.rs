//! One client connection: buffered reads, whole frames only, one reply write per batch.
//!
//! Follows mini-redis `src/connection.rs` (read into a buffer, parse only complete frames,
//! tell a clean close from one in the middle of a frame) with memcached's difference: a
//! protocol error is answered (`ERROR`, `CLIENT_ERROR …`) and the connection stays open.
//! The frames that one read made complete are applied under a single lock of the store,
//! 21 at most (memcached's requests per event), and their replies go out in one write,
//! as memcached answers a pipelined batch. The
//! data block of a too-large storage command is skipped as it arrives, never buffered
//! (memcached's `conn_swallow`).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::shutdown::Shutdown;
use crate::memcached::model::store::Store;
use crate::memcached::wire::cmd::{self, Flow};
use crate::memcached::wire::protocol::{Command, Frame, Limits, Parse, parse};

/// Bytes read per `read` call at least.
const READ_CHUNK: usize = 16 * 1024;

/// Commands served before the replies so far are flushed: memcached's `-R` default of 20
/// requests per event lets 21 through (`--nreqs >= 0`). What a pipeline window holds
/// matters to the replies: see [`Store::release_held`].
const COMMANDS_PER_WINDOW: usize = 21;

/// A client connection and its buffers.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    out: Vec<u8>,
    /// Bytes of a too-large data block still to drop.
    skip: usize,
    limits: Limits,
}

impl Connection {
    /// Wraps an accepted stream.
    pub fn new(stream: TcpStream, limits: Limits) -> Connection {
        Connection {
            stream,
            buffer: Vec::with_capacity(READ_CHUNK),
            out: Vec::with_capacity(READ_CHUNK),
            skip: 0,
            limits,
        }
    }

    /// Serves commands until the client closes, sends `quit`, memcached would close, or
    /// the server shuts down. I/O errors (such as a reset) end the connection.
    pub async fn serve(
        &mut self,
        store: &Arc<Mutex<Store>>,
        shutdown: &mut Shutdown,
    ) -> std::io::Result<()> {
        // One waiting future for the connection's life (re-creating it for every read
        // registered and removed a waiter each time); the check before each batch is one
        // atomic load, so a busy connection stops too.
        let mut waiter = shutdown.clone();
        let stop = waiter.recv();
        tokio::pin!(stop);
        while !shutdown.is_shutdown() {
            let (flow, more) = self.apply_batch(store);
            if !self.out.is_empty() {
                self.stream.write_all(&self.out).await?;
                self.out.clear();
            }
            match flow {
                Flow::Continue => {}
                Flow::Quit | Flow::Close => {
                    let _ = self.stream.shutdown().await;
                    return Ok(());
                }
            }
            if more {
                // A full window: serve the rest of the buffer before reading again.
                continue;
            }
            self.buffer.reserve(READ_CHUNK);
            let n = tokio::select! {
                biased;
                read = self.stream.read_buf(&mut self.buffer) => read?,
                _ = &mut stop => return Ok(()),
            };
            if n == 0 {
                // A clean close, or one in the middle of a frame: memcached drops the
                // partial frame either way.
                return Ok(());
            }
        }
        Ok(())
    }

    /// Applies the complete frames in the buffer, at most one window of them; replies
    /// accumulate in `self.out`. Returns the flow and whether the window filled up (more
    /// frames may be waiting in the buffer). Ends the store's pipeline window either way.
    fn apply_batch(&mut self, store: &Arc<Mutex<Store>>) -> (Flow, bool) {
        let mut at = self.take_skip(0);
        let mut guard = None;
        let mut flow = Flow::Continue;
        let mut served = 0;
        while self.skip == 0 && served < COMMANDS_PER_WINDOW {
            let Parse::Frame { frame, consumed } = parse(&self.buffer[at..], &self.limits) else {
                break;
            };
            at += consumed;
            served += 1;
            if let Frame::Command(Command::TooLarge { skip, .. }) = &frame {
                self.skip = *skip;
                at = self.take_skip(at);
            }
            // A poisoned lock means another connection panicked mid-command; the store's
            // own invariants are per call, so keep serving.
            let store =
                guard.get_or_insert_with(|| store.lock().unwrap_or_else(|e| e.into_inner()));
            flow = cmd::apply(&frame, store, &mut self.out);
            if flow != Flow::Continue {
                break;
            }
        }
        if let Some(store) = guard.as_mut() {
            store.release_held();
        }
        drop(guard);
        if flow == Flow::Close {
            self.out.clear();
        }
        self.buffer.drain(..at);
        (flow, served == COMMANDS_PER_WINDOW)
    }

    /// Drops skipped bytes from `at` on; returns the new position.
    fn take_skip(&mut self, at: usize) -> usize {
        let n = self.skip.min(self.buffer.len() - at);
        self.skip -= n;
        at + n
    }
}
