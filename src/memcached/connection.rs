//! One client connection: buffered reads, whole frames only, one reply write per batch.
//!
//! Follows mini-redis `src/connection.rs` (read into a buffer, parse only complete frames,
//! tell a clean close from one in the middle of a frame) with memcached's difference: a
//! protocol error is answered (`ERROR`, `CLIENT_ERROR …`) and the connection stays open.
//! Every frame that one read made complete is applied under a single lock of the store,
//! and their replies go out in one write, as memcached answers a pipelined batch. The
//! data block of a too-large storage command is skipped as it arrives, never buffered
//! (memcached's `conn_swallow`).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::cmd::{self, Flow};
use super::protocol::{Command, Frame, Limits, Parse, parse};
use super::shutdown::Shutdown;
use super::store::Store;

/// Bytes read per `read` call at least.
const READ_CHUNK: usize = 16 * 1024;

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
            let flow = self.apply_batch(store);
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

    /// Applies every complete frame in the buffer; replies accumulate in `self.out`.
    fn apply_batch(&mut self, store: &Arc<Mutex<Store>>) -> Flow {
        let mut at = self.take_skip(0);
        let mut guard = None;
        let mut flow = Flow::Continue;
        while self.skip == 0 {
            let Parse::Frame { frame, consumed } = parse(&self.buffer[at..], &self.limits) else {
                break;
            };
            at += consumed;
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
        drop(guard);
        if flow == Flow::Close {
            self.out.clear();
        }
        self.buffer.drain(..at);
        flow
    }

    /// Drops skipped bytes from `at` on; returns the new position.
    fn take_skip(&mut self, at: usize) -> usize {
        let n = self.skip.min(self.buffer.len() - at);
        self.skip -= n;
        at + n
    }
}
