//! The memcached TCP server: accept loop, connection limit, graceful shutdown.
//!
//! Follows mini-redis `src/server.rs`: [`run`] takes an already bound listener (so tests
//! bind `127.0.0.1:0`), a shared store and a shutdown future; each accepted socket gets a
//! task running a [`Connection`]; accept errors back off (1 s doubling to 64 s) before
//! giving up; on shutdown every connection is told to stop and `run` waits for them.
//! memcached's `-c` limit is a semaphore: past it a new connection is told
//! `ERROR Too many open connections` and closed, as memcached 1.6 does by default.
//!
//! The store is one `Arc<Mutex<Store>>`: memcached's memory accounting (slab pages, LRU
//! per class) is global, so a single lock keeps its semantics exactly; each connection
//! takes it once per batch of pipelined commands.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, broadcast, mpsc};

use super::connection::Connection;
use super::protocol::Limits;
use super::shutdown::Shutdown;
use super::store::Store;

/// A store shared by every connection.
pub type SharedStore = Arc<Mutex<Store>>;

/// Server options beyond the store's settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `-c`: simultaneous connections (memcached's default 1024).
    pub max_connections: usize,
    /// Parser bounds (`-I`).
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_connections: 1024,
            limits: Limits::default(),
        }
    }
}

impl Options {
    /// Options whose item size limit is the store's `-I`.
    pub fn for_store(store: &Store, max_connections: usize) -> Options {
        Options {
            max_connections,
            limits: Limits {
                item_size_max: store.settings().item_size_max as usize,
                ..Limits::default()
            },
        }
    }
}

/// Serves memcached's text protocol on `listener` until `shutdown` completes, then waits
/// for open connections to finish their current batch. Fails only when accepting keeps
/// failing.
pub async fn run(
    listener: TcpListener,
    store: SharedStore,
    options: Options,
    shutdown: impl Future,
) -> std::io::Result<()> {
    let (notify_shutdown, _) = broadcast::channel(1);
    let (shutdown_complete_tx, mut shutdown_complete_rx) = mpsc::channel::<()>(1);
    let mut server = Listener {
        listener,
        store,
        options,
        limit: Arc::new(Semaphore::new(options.max_connections.max(1))),
        notify_shutdown,
        shutdown_complete_tx,
    };
    let result = tokio::select! {
        res = server.accept_loop() => res,
        _ = shutdown => Ok(()),
    };
    let Listener {
        notify_shutdown,
        shutdown_complete_tx,
        ..
    } = server;
    drop(notify_shutdown);
    drop(shutdown_complete_tx);
    let _ = shutdown_complete_rx.recv().await;
    result
}

struct Listener {
    listener: TcpListener,
    store: SharedStore,
    options: Options,
    limit: Arc<Semaphore>,
    notify_shutdown: broadcast::Sender<()>,
    shutdown_complete_tx: mpsc::Sender<()>,
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
            let store = self.store.clone();
            let limits = self.options.limits;
            let mut shutdown = Shutdown::new(self.notify_shutdown.subscribe());
            let done = self.shutdown_complete_tx.clone();
            tokio::spawn(async move {
                lock(&store).connection_opened();
                let mut conn = Connection::new(socket, limits);
                // An I/O error (reset, broken pipe) just ends this connection.
                let _ = conn.serve(&store, &mut shutdown).await;
                lock(&store).connection_closed();
                drop(permit);
                drop(done);
            });
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

/// A server running on its own thread and runtime, for tests, benchmarks and the
/// contention experiments: bound on start, stopped (and joined) on [`Background::stop`] or
/// drop.
#[derive(Debug)]
pub struct Background {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Background {
    /// Binds `addr` (use port 0 for any free port) and serves `store` on `threads` worker
    /// threads.
    pub fn start(
        addr: &str,
        store: SharedStore,
        options: Options,
        threads: usize,
    ) -> std::io::Result<Background> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind(addr))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(run(listener, store, options, async {
                let _ = rx.await;
            }))
        });
        Ok(Background {
            addr,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) -> std::io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> std::io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
