//! The memcached TCP server: accept loop, connection limit, graceful shutdown.
//!
//! Follows mini-redis `src/server.rs`: [`run`] takes an already bound listener (so tests
//! bind `127.0.0.1:0`), a shared store and a shutdown future; each accepted socket gets a
//! task running a [`Connection`]; accept errors back off (1 s doubling to 64 s) before
//! giving up; on shutdown every connection is told to stop and `run` waits for them.
//!
//! Threads are memcached's: `-t` worker threads, each with its own event loop (a
//! single-threaded tokio runtime, so its own epoll), and the accept loop handing new
//! connections to them in turn. A connection lives on one worker for its whole life, so
//! serving it never wakes another thread; tokio's work-stealing runtime cost measurably
//! more at pipeline depth 1, where every request is a wake-up.
//! memcached's `-c` limit is a semaphore: past it a new connection is told
//! `ERROR Too many open connections` and closed, as memcached 1.6 does by default.
//!
//! The store is one `Arc<Mutex<Store>>`: memcached's memory accounting (slab pages, LRU
//! per class) is global, so a single lock keeps its semantics exactly; each connection
//! takes it once per batch of pipelined commands.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::connection::Connection;
use super::shutdown::Shutdown;
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
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_connections: 1024,
            limits: Limits::default(),
            threads: 4,
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
        }
    }
}

/// Serves memcached's text protocol on `listener` until `shutdown` completes, then waits
/// for open connections to finish their current batch. Fails only when accepting keeps
/// failing or a worker thread cannot start. Call it from any tokio runtime: it only
/// accepts there, and serves on its own `options.threads` worker threads.
pub async fn run(
    listener: TcpListener,
    store: SharedStore,
    options: Options,
    shutdown: impl Future,
) -> std::io::Result<()> {
    let (notify_shutdown, _) = watch::channel(());
    let (shutdown_complete_tx, mut shutdown_complete_rx) = mpsc::channel::<()>(1);
    let workers = Workers::start(options.threads.max(1))?;
    let mut server = Listener {
        listener,
        store,
        options,
        limit: Arc::new(Semaphore::new(options.max_connections.max(1))),
        notify_shutdown,
        shutdown_complete_tx,
        workers,
        next_worker: 0,
    };
    let result = tokio::select! {
        res = server.accept_loop() => res,
        _ = shutdown => Ok(()),
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
type Handoff = (std::net::TcpStream, Session);

/// What serving one connection needs besides its socket.
struct Session {
    store: SharedStore,
    limits: Limits,
    shutdown: Shutdown,
    /// Held while the connection is open (the `-c` limit).
    permit: OwnedSemaphorePermit,
    /// Dropped when the connection ends, so [`run`] can wait for all of them.
    done: mpsc::Sender<()>,
}

impl Session {
    async fn serve(self, socket: TcpStream) {
        let Session {
            store,
            limits,
            mut shutdown,
            permit,
            done,
        } = self;
        lock(&store).connection_opened();
        let mut conn = Connection::new(socket, limits);
        // An I/O error (reset, broken pipe) just ends this connection.
        let _ = conn.serve(&store, &mut shutdown).await;
        lock(&store).connection_closed();
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
            // I/O only: connections use no timers, and a time driver costs every park.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
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
                    if let Ok(socket) = TcpStream::from_std(socket) {
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
    listener: TcpListener,
    store: SharedStore,
    options: Options,
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
            let _ = socket.set_nodelay(true);
            let Ok(permit) = self.limit.clone().try_acquire_owned() else {
                tokio::spawn(refuse(socket));
                continue;
            };
            let session = Session {
                store: self.store.clone(),
                limits: self.options.limits,
                shutdown: Shutdown::new(self.notify_shutdown.subscribe()),
                permit,
                done: self.shutdown_complete_tx.clone(),
            };
            let Ok(socket) = socket.into_std() else {
                continue;
            };
            let worker = self.next_worker % self.workers.senders.len();
            self.next_worker = self.next_worker.wrapping_add(1);
            let handoff = (socket, session);
            if self.workers.senders[worker].send(handoff).is_err() {
                return Err(std::io::Error::other("a worker thread has stopped"));
            }
        }
    }

    async fn accept(&mut self) -> std::io::Result<TcpStream> {
        let mut backoff = 1;
        loop {
            match self.listener.accept().await {
                Ok((socket, _)) => return Ok(socket),
                Err(err) => {
                    if backoff > 64 {
                        return Err(err);
                    }
                }
            }
            tokio::time::sleep(Duration::from_secs(backoff)).await;
            backoff *= 2;
        }
    }
}

fn lock(store: &SharedStore) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

async fn refuse(mut socket: TcpStream) {
    use tokio::io::AsyncWriteExt;
    let _ = socket
        .write_all(b"ERROR Too many open connections\r\n")
        .await;
    let _ = socket.shutdown().await;
}
