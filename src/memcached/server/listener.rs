//! The memcached server: accept loop, connection limit, graceful shutdown.
//!
//! Follows mini-redis `src/server.rs`: [`run`] takes an already bound listener, TCP (so
//! tests bind `127.0.0.1:0`) or a unix domain socket (`-s`, see [`super::stream`]), a shared store and a shutdown future; each accepted socket gets a
//! task running a [`Connection`]; on shutdown every connection is told to stop and `run`
//! waits for them. [`bind`] listens with memcached's backlog of 1,024 (tokio's default of
//! 128 made 1,000 rapid connects take seconds).
//!
//! Accept errors never stop the server: running out of file descriptors (`EMFILE`,
//! `ENFILE`) or kernel memory is logged once per episode on stderr and the loop backs off
//! (10 ms doubling to 1 s) until a connection closes and frees one; other errors (a client
//! that reset before we accepted it) are retried at once. The `-c` limit should keep the
//! server below the descriptor limit: `cachelab serve` raises the soft `RLIMIT_NOFILE` to
//! fit `-c` when it can and warns when it cannot.
//!
//! Threads are memcached's: `-t` worker threads, each with its own event loop (a
//! single-threaded tokio runtime, so its own epoll), and the accept loop handing new
//! connections to them in turn. A connection lives on one worker for its whole life, so
//! serving it never wakes another thread; tokio's work-stealing runtime cost measurably
//! more at pipeline depth 1, where every request is a wake-up.
//! memcached's `-c` limit is a semaphore: past it a new connection is told
//! `ERROR Too many open connections` and closed (and counted in `rejected_connections`),
//! as memcached 1.6 does by default (`maxconns_fast`). memcached compares the new
//! descriptor's number with `-c`; we count connections, since our descriptors per worker
//! thread differ from memcached's. The `shutdown` command (`-A`) stops the server as a
//! signal does.
//!
//! The store is one `Arc<Mutex<Store>>`: memcached's memory accounting (slab pages, LRU
//! per class) is global, so a single lock keeps its semantics exactly; each connection
//! takes it once per batch of pipelined commands.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::budget::ReadBudget;
use super::connection::{Connection, ServerShared};
use super::shutdown::Shutdown;
use super::stream::{Bound, StdStream, Stream};
use crate::memcached::model::store::Store;
use crate::memcached::wire::protocol::Limits;

/// A store shared by every connection.
pub type SharedStore = Arc<Mutex<Store>>;

/// Server options beyond the store's settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `-c`: simultaneous connections (memcached's default 1024).
    pub max_connections: usize,
    /// Parser bounds (`-I`).
    pub limits: Limits,
    /// `-t`: worker threads, each serving its share of the connections.
    pub threads: usize,
    /// Bytes all connections' read buffers may hold beyond 16 KiB each: unfinished
    /// storage commands and long `get` lines (see `budget`). `-m` by default;
    /// `-o read_buf_mem_limit` sets it.
    pub read_budget: usize,
    /// The memcached options the server itself (not the store) obeys.
    pub server: ServerSettings,
}

/// The memcached command-line options that shape the server rather than the store, with
/// memcached 1.6.18's defaults; `stats settings` reports them under memcached's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    /// `-R`: requests served per event before the connection yields (default 20; the
    /// first window after a read takes one more, as memcached's does).
    pub reqs_per_event: usize,
    /// `-o idle_timeout`: seconds without a command after which a connection waiting for
    /// one is closed (0: never, the default).
    pub idle_timeout: u32,
    /// `flush_all` allowed (`-F` turns it off).
    pub flush_enabled: bool,
    /// The `shutdown` command allowed (`-A` turns it on).
    pub shutdown_command: bool,
    /// `-b`: the listen backlog (default 1024).
    pub backlog: u32,
    /// `-B`: the protocol connections speak.
    pub protocol: BindingProtocol,
    /// `-v`: how many times it was given (memcached's verbosity; nothing is logged per
    /// command, so it only shows in `stats settings`).
    pub verbosity: u32,
    /// `maxconns_fast` (the default; `-o no_modern` turns it off): past `-c` a new
    /// connection is told `ERROR Too many open connections` and closed. Off, it waits
    /// unaccepted until a connection closes.
    pub maxconns_fast: bool,
    /// Watch commands allowed (`-W` turns them off).
    pub watch_enabled: bool,
    /// `-o read_buf_mem_limit` in bytes as given (0: not given), for `stats settings`.
    pub read_buf_mem_limit: u64,
    /// `-p` as given: `tcpport` in `stats settings` when the server listens on a unix
    /// socket (memcached reports its setting although `-s` turns TCP off; with TCP the
    /// bound port is reported).
    pub tcp_port: u16,
    /// The commands of memcached's debug build (`memcached-debug`): `debugtime N` moves the
    /// server's clock by N seconds. Off by default (a client could expire every item); a
    /// server without them answers `ERROR`, as a release memcached does.
    pub debug_commands: bool,
}

/// `-B`: what memcached calls the binding protocol. The binary protocol is out of scope,
/// so `binary` is refused on the command line; `auto` serves the text protocol (memcached
/// would switch to binary when the first byte is 0x80).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingProtocol {
    /// `-B ascii`.
    Ascii,
    /// `-B auto` (the default): memcached's `auto-negotiate`.
    Auto,
}

impl BindingProtocol {
    /// The name `stats settings` shows (`binding_protocol`).
    pub fn name(self) -> &'static str {
        match self {
            BindingProtocol::Ascii => "ascii",
            BindingProtocol::Auto => "auto-negotiate",
        }
    }
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            reqs_per_event: 20,
            idle_timeout: 0,
            flush_enabled: true,
            shutdown_command: false,
            backlog: BACKLOG,
            protocol: BindingProtocol::Auto,
            verbosity: 0,
            maxconns_fast: true,
            watch_enabled: true,
            read_buf_mem_limit: 0,
            tcp_port: 11211,
            debug_commands: false,
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_connections: 1024,
            limits: Limits::default(),
            threads: 4,
            read_budget: 64 << 20,
            server: ServerSettings::default(),
        }
    }
}

impl Options {
    /// Options whose item size limit is the store's `-I`.
    pub fn for_store(store: &Store, max_connections: usize, threads: usize) -> Options {
        Options {
            max_connections,
            limits: Limits {
                item_size_max: store.settings().item_size_max as usize,
                ..Limits::default()
            },
            threads,
            read_budget: usize::try_from(store.settings().max_bytes).unwrap_or(usize::MAX),
            server: ServerSettings::default(),
        }
    }
}

/// memcached's listen backlog (`-b`, default 1024).
pub const BACKLOG: u32 = 1024;

/// Binds `addr` (`host:port`, resolved; port 0 for any free port) with `SO_REUSEADDR` and
/// a listen backlog of [`BACKLOG`], trying each resolved address in turn.
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    bind_with_backlog(addr, BACKLOG).await
}

/// [`bind`] with memcached's `-b` listen backlog.
pub async fn bind_with_backlog(addr: &str, backlog: u32) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(backlog)) {
            Ok(listener) => return Ok(listener),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

/// Serves memcached's text protocol on `listener` (a [`TcpListener`] or a [`Bound`] unix
/// socket) until `shutdown` completes, then waits for open connections to finish their
/// current batch. Fails only when accepting keeps failing or a worker thread cannot start.
/// Call it from any tokio runtime: it only accepts there, and serves on its own
/// `options.threads` worker threads.
pub async fn run(
    listener: impl Into<Bound>,
    store: SharedStore,
    options: Options,
    shutdown: impl Future,
) -> std::io::Result<()> {
    let listener = listener.into();
    let (notify_shutdown, _) = watch::channel(());
    let (shutdown_complete_tx, mut shutdown_complete_rx) = mpsc::channel::<()>(1);
    let workers = Workers::start(options.threads.max(1))?;
    let shared = Arc::new(ServerShared::new(
        ReadBudget::new(options.read_budget),
        options.threads.max(1),
        options.max_connections.max(1),
        options.server,
        listener.tcp_addr(),
        listener.unix(),
    ));
    let stop = shared.clone();
    if let Some(addr) = listener.endpoint() {
        let fd = listener.fd(&shared.next_fd);
        let mut store = lock(&store);
        // memcached counts a listening socket as a connection.
        store.connection_opened();
        shared.registry.add_listener(fd, addr, store.clock().now());
    }
    let mut server = Listener {
        listener,
        store,
        options,
        shared,
        limit: Arc::new(Semaphore::new(options.max_connections.max(1))),
        notify_shutdown,
        shutdown_complete_tx,
        workers,
        next_worker: 0,
    };
    let result = tokio::select! {
        res = server.accept_loop() => res,
        _ = shutdown => Ok(()),
        // The `shutdown` command (`-A`).
        _ = stop.stop.notified() => Ok(()),
    };
    let Listener {
        notify_shutdown,
        shutdown_complete_tx,
        workers,
        ..
    } = server;
    drop(notify_shutdown);
    drop(shutdown_complete_tx);
    let _ = shutdown_complete_rx.recv().await;
    workers.join();
    result
}

/// A connection handed to a worker: the socket, registered with the worker's own event
/// loop on arrival, and its [`Session`].
type Handoff = (StdStream, Session);

/// What serving one connection needs besides its socket.
struct Session {
    store: SharedStore,
    limits: Limits,
    shared: Arc<ServerShared>,
    shutdown: Shutdown,
    /// Held while the connection is open (the `-c` limit).
    permit: OwnedSemaphorePermit,
    /// Dropped when the connection ends, so [`run`] can wait for all of them.
    done: mpsc::Sender<()>,
}

impl Session {
    async fn serve(self, socket: Stream) {
        let Session {
            store,
            limits,
            shared,
            mut shutdown,
            permit,
            done,
        } = self;
        let now = {
            let mut store = lock(&store);
            store.connection_opened();
            store.clock().now()
        };
        let mut conn = Connection::new(socket, limits, shared, now);
        let peer = super::watch::ConnEvents::opened(&store, conn.stream(), conn.cfd());
        // An I/O error (reset, broken pipe) just ends this connection.
        let served = conn.serve(&store, &mut shutdown).await;
        peer.closed(
            &store,
            &served,
            conn.closed_on_error(),
            shutdown.is_shutdown(),
        );
        let (read, written) = conn.take_io();
        // Its buffers go (and their bytes back to the budget) before the permit does.
        drop(conn);
        let mut locked = lock(&store);
        locked.count_io(read, written);
        locked.connection_closed();
        drop(locked);
        drop(permit);
        drop(done);
    }
}

/// memcached's worker threads: each runs a single-threaded runtime and serves the
/// connections handed to it until its channel closes and they have all finished.
struct Workers {
    senders: Vec<mpsc::UnboundedSender<Handoff>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    fn start(count: usize) -> std::io::Result<Workers> {
        let mut senders = Vec::with_capacity(count);
        let mut threads = Vec::with_capacity(count);
        for n in 0..count {
            // I/O, and time for `watch` connections, which poll their log queues on a
            // timer, and for closing idle connections.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()?;
            let (tx, rx) = mpsc::unbounded_channel();
            let thread = std::thread::Builder::new()
                .name(format!("cachelab-worker-{n}"))
                .spawn(move || runtime.block_on(Workers::serve(rx)))?;
            senders.push(tx);
            threads.push(thread);
        }
        Ok(Workers { senders, threads })
    }

    /// One worker's loop: registers each arriving socket here and spawns its task; reaps
    /// finished tasks as it goes.
    async fn serve(mut arrivals: mpsc::UnboundedReceiver<Handoff>) {
        let mut tasks = JoinSet::new();
        loop {
            tokio::select! {
                handoff = arrivals.recv() => {
                    let Some((socket, session)) = handoff else { break };
                    if let Ok(socket) = socket.into_tokio() {
                        tasks.spawn(session.serve(socket));
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        while tasks.join_next().await.is_some() {}
    }

    fn join(self) {
        drop(self.senders);
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

struct Listener {
    listener: Bound,
    store: SharedStore,
    options: Options,
    shared: Arc<ServerShared>,
    limit: Arc<Semaphore>,
    notify_shutdown: watch::Sender<()>,
    shutdown_complete_tx: mpsc::Sender<()>,
    workers: Workers,
    next_worker: usize,
}

impl Listener {
    async fn accept_loop(&mut self) -> std::io::Result<()> {
        loop {
            let socket = self.accept().await?;
            let permit = if self.options.server.maxconns_fast {
                let Ok(permit) = self.limit.clone().try_acquire_owned() else {
                    self.shared.count_rejected();
                    if let Ok(socket) = socket.into_tokio() {
                        tokio::spawn(refuse(socket));
                    }
                    continue;
                };
                permit
            } else {
                // memcached without maxconns_fast stops accepting until a connection
                // closes; this one waits, unserved, until then.
                let Ok(permit) = self.limit.clone().acquire_owned().await else {
                    continue;
                };
                permit
            };
            let session = Session {
                store: self.store.clone(),
                limits: self.options.limits,
                shared: self.shared.clone(),
                shutdown: Shutdown::new(self.notify_shutdown.subscribe()),
                permit,
                done: self.shutdown_complete_tx.clone(),
            };
            let worker = self.next_worker % self.workers.senders.len();
            self.next_worker = self.next_worker.wrapping_add(1);
            let handoff = (socket, session);
            if self.workers.senders[worker].send(handoff).is_err() {
                return Err(std::io::Error::other("a worker thread has stopped"));
            }
        }
    }

    /// The next accepted socket. Errors never end the loop (see the module docs): running
    /// out of descriptors or memory is said once per episode and backed off; anything else
    /// concerns one client and is retried at once.
    async fn accept(&mut self) -> std::io::Result<StdStream> {
        let mut backoff = Duration::from_millis(10);
        let mut told = false;
        loop {
            match self.listener.accept().await {
                Ok(socket) => {
                    if told {
                        say("accepting connections again");
                    }
                    return Ok(socket);
                }
                Err(err) if is_resource_error(&err) => {
                    if !told {
                        say(&format!(
                            "cannot accept a connection: {err}; waiting for one to close \
                             (raise `ulimit -n` or lower -c {})",
                            self.options.max_connections
                        ));
                        told = true;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(_) => tokio::task::yield_now().await,
            }
        }
    }
}

/// Out of descriptors (`EMFILE`, `ENFILE`) or kernel buffers (`ENOBUFS`, `ENOMEM`): the
/// accept fails until something is freed, so retrying at once would spin.
fn is_resource_error(err: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            err.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS)
        )
    }
    #[cfg(not(unix))]
    {
        err.kind() == std::io::ErrorKind::OutOfMemory
    }
}

/// A line on stderr (the server's log); a closed stderr is ignored.
fn say(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "cachelab serve: {text}");
}

fn lock(store: &SharedStore) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

async fn refuse(mut socket: Stream) {
    use tokio::io::AsyncWriteExt;
    let _ = socket
        .write_all(b"ERROR Too many open connections\r\n")
        .await;
    let _ = socket.shutdown().await;
}
