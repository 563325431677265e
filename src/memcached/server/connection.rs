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
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::budget::{BASE, ReadBudget};
use super::listener::ServerSettings;
use super::registry::{ConnSlot, ConnState, Registry};
use super::responses;
use super::shutdown::Shutdown;
use super::stream::Stream;
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

// Commands served before the replies so far are flushed: memcached's `-R` (default 20)
// requests per event let `R + 1` through after a read (`--nreqs >= 0`, the first command
// parsed before the count starts) and `R` when it resumes after yielding. What a pipeline
// window holds matters to the replies: see [`Store::release_held`].

/// What every connection shares with the server besides the store.
#[derive(Debug)]
pub struct ServerShared {
    /// The budget for read buffers beyond [`BASE`].
    pub budget: ReadBudget,
    /// `-t`, for `stats`.
    pub threads: usize,
    /// `-c`, for `stats`.
    pub max_connections: usize,
    /// The server's own options (`-R`, `-o idle_timeout`, `-F`, `-A`, …).
    pub settings: ServerSettings,
    /// Wakes the accept loop to stop the server (the `shutdown` command).
    pub stop: tokio::sync::Notify,
    /// The listening socket's address (`tcpport`, `inter` in `stats settings`); `None`
    /// when the server listens on a unix socket.
    pub listen_addr: Option<SocketAddr>,
    /// The unix socket's path and access mask (`-s`, `-a`): `domain_socket` and `umask`.
    pub domain_socket: Option<(String, u32)>,
    /// Every listener and connection, for `stats conns`.
    pub registry: Registry,
    /// `read_buf_oom` as of the last `stats reset` (the budget's count never goes back).
    oom_base: AtomicU64,
    /// Numbers `stats conns` lists sockets under where there are no file descriptors.
    pub next_fd: AtomicU64,
    conn_yields: AtomicU64,
    rejected: AtomicU64,
    idle_kicks: AtomicU64,
    /// Bundles of response objects a connection may stack (`-o read_buf_mem_limit`).
    response_bundles: Option<usize>,
    response_oom: AtomicU64,
}

impl ServerShared {
    /// What the connections of a server with these options, listening on `listen_addr`
    /// (TCP) or the unix socket `domain_socket` (path and access mask), share.
    pub fn new(
        budget: ReadBudget,
        threads: usize,
        max_connections: usize,
        settings: ServerSettings,
        listen_addr: Option<SocketAddr>,
        domain_socket: Option<(String, u32)>,
    ) -> ServerShared {
        ServerShared {
            budget,
            threads,
            max_connections,
            settings,
            stop: tokio::sync::Notify::new(),
            listen_addr,
            domain_socket,
            registry: Registry::new(),
            oom_base: AtomicU64::new(0),
            next_fd: AtomicU64::new(0),
            conn_yields: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            idle_kicks: AtomicU64::new(0),
            response_bundles: responses::bundle_limit(settings.read_buf_mem_limit, threads),
            response_oom: AtomicU64::new(0),
        }
    }

    /// What `stats` and `stats settings` report of the server.
    fn view(&self) -> ServerView {
        let s = &self.settings;
        ServerView {
            max_connections: self.max_connections,
            threads: self.threads,
            // memcached reports its `-p` setting even when `-s` turned TCP off.
            tcp_port: self.listen_addr.map_or(s.tcp_port, |a| a.port()),
            udp_port: 0,
            // The address really listened on: cachelab listens on loopback unless told
            // otherwise, where memcached without `-l` listens everywhere and shows NULL.
            interface: self.listen_addr.map(|a| a.ip().to_string()),
            backlog: s.backlog,
            reqs_per_event: u32::try_from(s.reqs_per_event).unwrap_or(u32::MAX),
            read_buf_count: self.registry.connections() as u64,
            read_buf_bytes: self.budget.bytes() as u64,
            read_buf_oom: self
                .budget
                .refusals()
                .saturating_sub(self.oom_base.load(Ordering::Relaxed)),
            connection_structures: self.registry.peak(),
            verbosity: s.verbosity,
            shutdown_command: s.shutdown_command,
            binding_protocol: s.protocol.name(),
            maxconns_fast: s.maxconns_fast,
            flush_enabled: s.flush_enabled,
            idle_timeout: s.idle_timeout,
            read_buf_mem_limit: s.read_buf_mem_limit,
            rejected_connections: self.rejected.load(Ordering::Relaxed),
            idle_kicks: self.idle_kicks.load(Ordering::Relaxed),
            conn_yields: self.conn_yields.load(Ordering::Relaxed),
            response_obj_oom: self.response_oom.load(Ordering::Relaxed),
            domain_socket: self.domain_socket.as_ref().map(|(path, _)| path.clone()),
            umask: self
                .domain_socket
                .as_ref()
                .map_or(super::stream::UNIX_MASK, |(_, mask)| *mask),
        }
    }

    /// A `stats` command as the server answers it: `stats conns` from the registry, the
    /// others through the store with [`ServerShared::view`]; `stats reset` also starts the
    /// server's counters again from 0, as memcached's do.
    pub(super) fn stats(&self, store: &mut Store, out: &mut Vec<u8>, kind: StatsKind) {
        match kind {
            StatsKind::Conns => write_rows(out, self.registry.rows(store.clock().now())),
            StatsKind::Reset => {
                self.oom_base
                    .store(self.budget.refusals(), Ordering::Relaxed);
                for counter in [
                    &self.conn_yields,
                    &self.rejected,
                    &self.idle_kicks,
                    &self.response_oom,
                ] {
                    counter.store(0, Ordering::Relaxed);
                }
                stats_with_server(store, out, kind, &self.view());
            }
            _ => stats_with_server(store, out, kind, &self.view()),
        }
    }

    /// Counts a connection refused past `-c` (`rejected_connections`).
    pub(super) fn count_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }
}

/// What one batch of frames left behind.
struct Batch {
    flow: Flow,
    /// The window filled up: more frames may be waiting in the buffer.
    more: bool,
    /// A storage frame's line is in the buffer but its data is not: its whole length.
    awaiting: Option<usize>,
    /// Frames served.
    served: usize,
}

/// A client connection and its buffers.
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
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
    /// The last window filled up: the next one resumes without a read (`-R` frames).
    resumed: bool,
    /// When the last command was served (`-o idle_timeout`).
    last_command: tokio::time::Instant,
    /// This connection's entry in the server's registry (`stats conns`).
    slot: Arc<ConnSlot>,
    /// Bytes read and written not yet counted in the store's `bytes_read`/`bytes_written`
    /// (counted under the store's lock at the next batch).
    io_pending: (u64, u64),
    /// The socket's descriptor: `cfd=` in `watch` lines.
    cfd: i64,
    /// memcached closed the connection over a protocol error (`watch connevents`).
    error_close: bool,
}

impl Connection {
    /// The socket served.
    pub fn stream(&self) -> &Stream {
        &self.stream
    }

    /// The socket's descriptor as `watch` lines name it (`cfd=`; 0 where there are no
    /// descriptors).
    pub fn cfd(&self) -> i64 {
        self.cfd
    }

    /// Wraps a stream accepted at `now` (server clock seconds) and registers it.
    pub fn new(stream: Stream, limits: Limits, shared: Arc<ServerShared>, now: u64) -> Connection {
        shared.budget.count_base(true);
        let fd = stream.fd(&shared.next_fd);
        let slot = shared
            .registry
            .register(fd, stream.peer(), stream.local(), now);
        let cfd = if cfg!(unix) { fd } else { 0 };
        Connection {
            cfd,
            error_close: false,
            stream,
            buffer: Vec::with_capacity(BASE),
            out: Vec::with_capacity(READ_CHUNK),
            skip: 0,
            limits,
            shared,
            charged: 0,
            refuse_next: false,
            resumed: false,
            last_command: tokio::time::Instant::now(),
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
            if batch.more {
                // Counted before the replies go out, so a client that has read them sees it.
                self.shared.conn_yields.fetch_add(1, Ordering::Relaxed);
            }
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
                    self.error_close = batch.flow == Flow::Close;
                    let _ = self.stream.shutdown().await;
                    return Ok(());
                }
                Flow::Watch(id) => {
                    return super::watch::stream(&mut self.stream, store, id, shutdown).await;
                }
            }
            if batch.served > 0 {
                self.last_command = tokio::time::Instant::now();
            }
            self.resumed = batch.more;
            if batch.more {
                // A full window: yield, then serve the rest of the buffer before reading.
                tokio::task::yield_now().await;
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
            // memcached closes an idle connection only while it waits for a command, not in
            // the middle of a data block.
            let idle = self.shared.settings.idle_timeout;
            let n = if idle > 0 && batch.awaiting.is_none() && self.skip == 0 {
                let kick = self.last_command + idle_after(idle);
                tokio::select! {
                    biased;
                    read = self.stream.read_buf(&mut self.buffer) => read?,
                    _ = &mut stop => return Ok(()),
                    _ = tokio::time::sleep_until(kick) => {
                        self.shared.idle_kicks.fetch_add(1, Ordering::Relaxed);
                        let _ = self.stream.shutdown().await;
                        return Ok(());
                    }
                }
            } else {
                tokio::select! {
                    biased;
                    read = self.stream.read_buf(&mut self.buffer) => read?,
                    _ = &mut stop => return Ok(()),
                }
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

    /// The connection ended because memcached would close it over a protocol error (an
    /// HTTP request line, an over-long line).
    pub fn closed_on_error(&self) -> bool {
        self.error_close
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
        let reqs = self.shared.settings.reqs_per_event.max(1);
        let window = if self.resumed { reqs } else { reqs + 1 };
        let mut objects = 0;
        // Replies from here on are still stacked (memcached's `resp_has_stack`): a `get`,
        // `gat` or `mn` makes memcached write what it has.
        let mut flushed_at = 0;
        while self.skip == 0 && served < window {
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
            match self.out_of_response_objects(&frame, &mut objects) {
                None => {}
                Some(Flow::Continue) => continue,
                Some(stop) => {
                    flow = stop;
                    break;
                }
            }
            // A poisoned lock means another connection panicked mid-command; the store's
            // own invariants are per call, so keep serving.
            let store = guard.get_or_insert_with(|| {
                let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
                let (read, written) = std::mem::take(&mut self.io_pending);
                store.count_io(read, written);
                self.slot.set_state(ConnState::ParseCmd);
                self.slot.ran_command(store.clock().now());
                // The background work of memcached's threads up to now (see
                // `Store::maintain`), and whose commands log lines.
                store.maintain();
                store.set_log_conn(self.cfd);
                store
            });
            flow = if let Some(flow) =
                super::commands::apply(&frame, store, &mut self.out, &self.shared)
            {
                flow
            } else if let Frame::Command(command) = &frame
                && cmd::crawler::takes_over(command)
            {
                let pipelined = self.out.len() > flushed_at;
                cmd::crawler::apply_command(command, store, &mut self.out, pipelined)
            } else {
                cmd::apply(&frame, store, &mut self.out)
            };
            if let Frame::Command(command) = &frame
                && cmd::crawler::flushes_replies(command)
            {
                flushed_at = self.out.len();
            }
            if flow != Flow::Continue {
                break;
            }
            if responses::flushes(&frame) {
                // memcached writes these replies at once, freeing their response objects.
                objects = 0;
            }
        }
        if let Some(store) = guard.as_mut() {
            store.release_held();
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
            more: served == window,
            awaiting,
            served,
        }
    }

    /// Takes the response objects `frame` needs from what `-o read_buf_mem_limit` leaves
    /// this window (`objects` so far); `None` when they were there. Otherwise memcached's
    /// shortage (see [`responses`]): a retrieval's reply is the `SERVER_ERROR` (`Continue`),
    /// anything else closes the connection.
    fn out_of_response_objects(&mut self, frame: &Frame, objects: &mut usize) -> Option<Flow> {
        let limit = self.shared.response_bundles?;
        let need = responses::objects(frame);
        if responses::bundles(*objects + need) <= limit {
            *objects += need;
            return None;
        }
        self.shared.response_oom.fetch_add(1, Ordering::Relaxed);
        if responses::is_retrieval(frame) && responses::bundles(*objects + 1) <= limit {
            *objects += 1;
            self.out
                .extend_from_slice(b"SERVER_ERROR out of memory writing get response\r\n");
            return Some(Flow::Continue);
        }
        Some(Flow::Close)
    }

    /// Drops skipped bytes from `at` on; returns the new position.
    fn take_skip(&mut self, at: usize) -> usize {
        let n = self.skip.min(self.buffer.len() - at);
        self.skip -= n;
        at + n
    }
}

/// How long a connection may wait for a command under `-o idle_timeout=N`: memcached kicks
/// it once more than N whole seconds have passed since its last command, so N + 1.
fn idle_after(idle_timeout: u32) -> Duration {
    Duration::from_secs(u64::from(idle_timeout) + 1)
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared.registry.remove(&self.slot);
        self.shared.budget.release(self.charged);
        self.shared.budget.count_base(false);
    }
}
