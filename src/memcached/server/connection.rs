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

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::budget::{BASE, ReadBudget};
use super::registry::{ConnSlot, ConnState, Registry, fd_of};
use super::shutdown::Shutdown;
use crate::memcached::model::store::{ServerView, Store};
use crate::memcached::wire::cmd::misc::{stats_with_server, write_rows};
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
    /// The listening socket's address (`tcpport`, `inter` in `stats settings`).
    pub listen_addr: Option<SocketAddr>,
    /// Every listener and connection, for `stats conns`.
    pub registry: Registry,
    /// `read_buf_oom` as of the last `stats reset` (the budget's count never goes back).
    pub oom_base: AtomicU64,
    /// Numbers `stats conns` lists sockets under where there are no file descriptors.
    pub next_fd: AtomicU64,
}

impl ServerShared {
    /// What `stats` and `stats settings` report of the server.
    fn view(&self) -> ServerView {
        ServerView {
            max_connections: self.max_connections,
            threads: self.threads,
            tcp_port: self.listen_addr.map_or(0, |a| a.port()),
            udp_port: 0,
            interface: self.listen_addr.map(|a| a.ip().to_string()),
            backlog: super::listener::BACKLOG,
            reqs_per_event: (COMMANDS_PER_WINDOW - 1) as u32,
            read_buf_count: self.registry.connections() as u64,
            read_buf_bytes: self.budget.bytes() as u64,
            read_buf_oom: self
                .budget
                .refusals()
                .saturating_sub(self.oom_base.load(Ordering::Relaxed)),
            connection_structures: self.registry.peak(),
        }
    }

    /// A `stats` command as the server answers it: `stats conns` from the registry, the
    /// others through the store with [`ServerShared::view`]; `stats reset` also resets
    /// the server's `read_buf_oom`.
    fn stats(&self, store: &mut Store, out: &mut Vec<u8>, kind: StatsKind) {
        match kind {
            StatsKind::Conns => write_rows(out, self.registry.rows(store.clock().now())),
            StatsKind::Reset => {
                self.oom_base
                    .store(self.budget.refusals(), Ordering::Relaxed);
                stats_with_server(store, out, kind, &self.view());
            }
            _ => stats_with_server(store, out, kind, &self.view()),
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
    /// This connection's entry in the server's registry (`stats conns`).
    slot: Arc<ConnSlot>,
    /// Bytes read and written not yet counted in the store's `bytes_read`/`bytes_written`
    /// (counted under the store's lock at the next batch).
    io_pending: (u64, u64),
}

impl Connection {
    /// Wraps a stream accepted at `now` (server clock seconds) and registers it.
    pub fn new(
        stream: TcpStream,
        limits: Limits,
        shared: Arc<ServerShared>,
        now: u64,
    ) -> Connection {
        shared.budget.count_base(true);
        let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
        let slot = shared.registry.register(
            fd_of(&stream, &shared.next_fd),
            stream.peer_addr().unwrap_or(unknown),
            stream.local_addr().unwrap_or(unknown),
            now,
        );
        Connection {
            stream,
            buffer: Vec::with_capacity(BASE),
            out: Vec::with_capacity(READ_CHUNK),
            skip: 0,
            limits,
            shared,
            charged: 0,
            refuse_next: false,
            slot,
            io_pending: (0, 0),
        }
    }

    /// Bytes read and written not yet counted in the store (for the connection's end).
    pub fn take_io(&mut self) -> (u64, u64) {
        std::mem::take(&mut self.io_pending)
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
                self.io_pending.1 += self.out.len() as u64;
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
            self.io_pending.0 += n as u64;
            if self.slot.state() == ConnState::NewCmd {
                self.slot.set_state(ConnState::Read);
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
            let store = guard.get_or_insert_with(|| {
                let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
                let (read, written) = std::mem::take(&mut self.io_pending);
                store.count_io(read, written);
                self.slot.set_state(ConnState::ParseCmd);
                self.slot.ran_command(store.clock().now());
                store
            });
            flow = if let Frame::Command(Command::Stats(kind)) = &frame {
                self.shared.stats(store, &mut self.out, *kind);
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
            if served == COMMANDS_PER_WINDOW {
                store.count_yield();
            }
        }
        if awaiting.is_some() {
            self.slot.set_state(ConnState::Nread);
        } else if self.skip > 0 {
            self.slot.set_state(ConnState::Swallow);
        } else if served > 0 {
            self.slot.set_state(ConnState::Read);
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
        self.shared.registry.remove(&self.slot);
        self.shared.budget.release(self.charged);
        self.shared.budget.count_base(false);
    }
}
