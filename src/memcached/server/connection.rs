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
//!
//! Memory: the read buffer holds [`BASE`] bytes; past that every byte is charged to the
//! server's [`ReadBudget`]. A storage command whose data block is on its way gets room for
//! exactly its frame (no doubling), or, when the budget cannot give it, is refused with
//! `SERVER_ERROR out of memory storing object` and its data skipped; a line that keeps
//! growing without a newline (a long `get`) past the budget gets `SERVER_ERROR out of
//! memory reading request` and the connection closes, as memcached does when it cannot
//! grow a read buffer. Once the frame is served the buffer shrinks back to [`BASE`] and the
//! bytes go back to the budget; a closing connection gives back everything.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::budget::{BASE, ReadBudget};
use super::shutdown::Shutdown;
use crate::memcached::model::store::Store;
use crate::memcached::wire::cmd::misc::{ServerStats, stats_with_server};
use crate::memcached::wire::cmd::{self, Flow};
use crate::memcached::wire::protocol::{Command, Frame, Limits, Parse, StatsKind, parse};

/// Bytes read per `read` call at least, when the buffer must grow.
const READ_CHUNK: usize = 16 * 1024;

/// Spare room below which the buffer grows before the next read.
const MIN_SPARE: usize = 2 * 1024;

/// A reply buffer above this is shrunk back after its write (large `get` replies).
const OUT_KEEP: usize = 64 * 1024;

/// Commands served before the replies so far are flushed: memcached's `-R` default of 20
/// requests per event lets 21 through (`--nreqs >= 0`). What a pipeline window holds
/// matters to the replies: see [`Store::release_held`].
const COMMANDS_PER_WINDOW: usize = 21;

/// What every connection shares with the server besides the store.
#[derive(Debug)]
pub struct ServerShared {
    /// The budget for read buffers beyond [`BASE`].
    pub budget: ReadBudget,
    /// `-t`, for `stats`.
    pub threads: usize,
    /// `-c`, for `stats`.
    pub max_connections: usize,
}

impl ServerShared {
    fn stats(&self) -> ServerStats {
        ServerStats {
            threads: self.threads,
            max_connections: self.max_connections,
            read_buf_bytes: self.budget.bytes(),
            read_buf_oom: self.budget.refusals(),
        }
    }
}

/// What one batch of frames left behind.
struct Batch {
    flow: Flow,
    /// The window filled up: more frames may be waiting in the buffer.
    more: bool,
    /// A storage frame's line is in the buffer but its data is not: its whole length.
    awaiting: Option<usize>,
}

/// A client connection and its buffers.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    out: Vec<u8>,
    /// Bytes of a too-large data block still to drop.
    skip: usize,
    limits: Limits,
    shared: Arc<ServerShared>,
    /// Bytes of the buffer's capacity charged to the budget (beyond [`BASE`]).
    charged: usize,
    /// Refuse the storage frame at the front of the buffer (the budget had no room for it).
    refuse_next: bool,
}

impl Connection {
    /// Wraps an accepted stream.
    pub fn new(stream: TcpStream, limits: Limits, shared: Arc<ServerShared>) -> Connection {
        shared.budget.count_base(true);
        Connection {
            stream,
            buffer: Vec::with_capacity(BASE),
            out: Vec::with_capacity(READ_CHUNK),
            skip: 0,
            limits,
            shared,
            charged: 0,
            refuse_next: false,
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
            let batch = self.apply_batch(store);
            if !self.out.is_empty() {
                self.stream.write_all(&self.out).await?;
                self.out.clear();
                if self.out.capacity() > OUT_KEEP {
                    self.out.shrink_to(READ_CHUNK);
                }
            }
            match batch.flow {
                Flow::Continue => {}
                Flow::Quit | Flow::Close => {
                    let _ = self.stream.shutdown().await;
                    return Ok(());
                }
            }
            if batch.more {
                // A full window: serve the rest of the buffer before reading again.
                continue;
            }
            match batch.awaiting {
                Some(frame_len) => {
                    if !self.make_room(frame_len) {
                        // memcached could not allocate the item: refuse it, skip its data.
                        self.shared.budget.count_refusal();
                        self.refuse_next = true;
                        continue;
                    }
                }
                None => {
                    self.shrink();
                    let cap = self.buffer.capacity();
                    if cap - self.buffer.len() < MIN_SPARE
                        && !self.make_room((cap * 2).max(self.buffer.len() + READ_CHUNK))
                    {
                        self.shared.budget.count_refusal();
                        self.stream
                            .write_all(b"SERVER_ERROR out of memory reading request\r\n")
                            .await?;
                        let _ = self.stream.shutdown().await;
                        return Ok(());
                    }
                }
            }
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

    /// Grows the buffer's capacity to `want` bytes, charging what passes [`BASE`] to the
    /// budget; false (and nothing changed) when the budget has no room.
    fn make_room(&mut self, want: usize) -> bool {
        if want <= self.buffer.capacity() {
            return true;
        }
        let extra = want.saturating_sub(BASE).saturating_sub(self.charged);
        if !self.shared.budget.try_charge(extra) {
            return false;
        }
        self.charged += extra;
        // Exactly the frame: `reserve` would double, and a 1 MB value cost 2 MB.
        self.buffer.reserve_exact(want - self.buffer.len());
        true
    }

    /// Shrinks the buffer back to [`BASE`] once what it holds fits there, and gives the
    /// charged bytes back.
    fn shrink(&mut self) {
        if self.charged > 0 && self.buffer.len() <= BASE {
            self.buffer.shrink_to(BASE);
            self.shared.budget.release(self.charged);
            self.charged = 0;
        }
    }

    /// Applies the complete frames in the buffer, at most one window of them; replies
    /// accumulate in `self.out`. Ends the store's pipeline window either way.
    fn apply_batch(&mut self, store: &Arc<Mutex<Store>>) -> Batch {
        let mut at = self.take_skip(0);
        let mut guard = None;
        let mut flow = Flow::Continue;
        let mut served = 0;
        let mut awaiting = None;
        while self.skip == 0 && served < COMMANDS_PER_WINDOW {
            let limits = if std::mem::take(&mut self.refuse_next) {
                Limits {
                    buffer_max: 0,
                    ..self.limits
                }
            } else {
                self.limits
            };
            let (frame, consumed) = match parse(&self.buffer[at..], &limits) {
                Parse::Frame { frame, consumed } => (frame, consumed),
                Parse::Awaiting { frame_len } => {
                    awaiting = Some(frame_len);
                    break;
                }
                Parse::Incomplete => break,
            };
            at += consumed;
            served += 1;
            if let Frame::Command(Command::TooLarge { skip, .. } | Command::NoMemory { skip, .. }) =
                &frame
            {
                self.skip = *skip;
                at = self.take_skip(at);
            }
            // A poisoned lock means another connection panicked mid-command; the store's
            // own invariants are per call, so keep serving.
            let store =
                guard.get_or_insert_with(|| store.lock().unwrap_or_else(|e| e.into_inner()));
            // The page mover's background work up to now (see `Store::maintain`).
            store.maintain();
            flow = if let Frame::Command(Command::Stats(StatsKind::General)) = &frame {
                stats_with_server(store, &mut self.out, &self.shared.stats());
                Flow::Continue
            } else {
                cmd::apply(&frame, store, &mut self.out)
            };
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
        Batch {
            flow,
            more: served == COMMANDS_PER_WINDOW,
            awaiting,
        }
    }

    /// Drops skipped bytes from `at` on; returns the new position.
    fn take_skip(&mut self, at: usize) -> usize {
        let n = self.skip.min(self.buffer.len() - at);
        self.skip -= n;
        at + n
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared.budget.release(self.charged);
        self.shared.budget.count_base(false);
    }
}
