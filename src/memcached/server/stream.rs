//! The sockets a server listens on and serves: TCP, or (memcached's `-s`) a unix domain
//! socket, behind one type each so that a connection is served the same way on either.
//!
//! [`Bound`] is a listening socket, [`Stream`] an accepted connection (its
//! [`tokio::io::AsyncRead`] and [`tokio::io::AsyncWrite`] go to the socket inside),
//! [`Endpoint`] an address as `stats conns` prints it. [`bind_unix`] binds a unix socket as
//! memcached 1.6.18's `server_socket_unix` does (`memcached.c`): a socket file left at the
//! path is removed first, anything else there is an error, and the file's permissions are
//! the `-a` mask (octal, default 0700).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
#[cfg(not(unix))]
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// memcached's default `-a`: the socket file is the owner's only.
pub const UNIX_MASK: u32 = 0o700;

/// A listening socket: TCP, or a unix domain socket at a path.
#[derive(Debug)]
pub enum Bound {
    /// A TCP listener.
    Tcp(TcpListener),
    /// A unix domain socket listener (`-s`).
    #[cfg(unix)]
    Unix(UnixBound),
}

impl From<TcpListener> for Bound {
    fn from(listener: TcpListener) -> Bound {
        Bound::Tcp(listener)
    }
}

#[cfg(unix)]
impl From<UnixBound> for Bound {
    fn from(bound: UnixBound) -> Bound {
        Bound::Unix(bound)
    }
}

/// A unix domain socket listener and what `stats settings` reports of it.
#[cfg(unix)]
#[derive(Debug)]
pub struct UnixBound {
    listener: tokio::net::UnixListener,
    path: String,
    mask: u32,
}

#[cfg(unix)]
impl UnixBound {
    /// The path the socket is bound at (`domain_socket`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The access mask its file was created with (`umask`, `-a`).
    pub fn mask(&self) -> u32 {
        self.mask
    }
}

impl Bound {
    /// The TCP address listened on; `None` for a unix socket.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        match self {
            Bound::Tcp(l) => l.local_addr().ok(),
            #[cfg(unix)]
            Bound::Unix(_) => None,
        }
    }

    /// The listener's own address, as `stats conns` lists it.
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self {
            Bound::Tcp(l) => l.local_addr().ok().map(Endpoint::Tcp),
            #[cfg(unix)]
            Bound::Unix(u) => Some(Endpoint::Unix(Some(u.path.clone()))),
        }
    }

    /// The unix socket's path and access mask; `None` for TCP.
    pub fn unix(&self) -> Option<(String, u32)> {
        match self {
            Bound::Tcp(_) => None,
            #[cfg(unix)]
            Bound::Unix(u) => Some((u.path.clone(), u.mask)),
        }
    }

    /// The next connection, still unregistered with any event loop's reactor.
    pub async fn accept(&self) -> io::Result<StdStream> {
        match self {
            Bound::Tcp(l) => {
                let (socket, _) = l.accept().await?;
                let _ = socket.set_nodelay(true);
                Ok(StdStream::Tcp(socket.into_std()?))
            }
            #[cfg(unix)]
            Bound::Unix(u) => {
                let (socket, _) = u.listener.accept().await?;
                Ok(StdStream::Unix(socket.into_std()?))
            }
        }
    }

    /// The listener's descriptor (`stats conns` lists it under this number).
    pub fn fd(&self, fallback: &AtomicU64) -> i64 {
        match self {
            Bound::Tcp(l) => fd_of(l, fallback),
            #[cfg(unix)]
            Bound::Unix(u) => fd_of(&u.listener, fallback),
        }
    }
}

/// Binds a unix domain socket at `path` as memcached does: a socket file already there is
/// removed (a server that did not clean up; memcached does this even when a server still
/// listens on it), any other file makes the bind fail (`Address already in use`); the
/// new file's permission bits are `mask & 0o777` (memcached's `-a`, default 0700); the
/// listen backlog is `-b`. Must be called within a tokio runtime.
///
/// The permissions are set as memcached sets them, through the process's umask around the
/// `bind` (so the file never exists with wider permissions); the umask is process-wide, so
/// a file another thread creates at that moment gets it too.
#[cfg(unix)]
pub fn bind_unix(path: &std::path::Path, mask: u32, backlog: u32) -> io::Result<UnixBound> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_socket()
    {
        let _ = std::fs::remove_file(path);
    }
    // SAFETY: umask only swaps the process's file creation mask.
    let old = unsafe { libc::umask(!(mask & 0o777) as libc::mode_t & 0o777) };
    let bound = std::os::unix::net::UnixListener::bind(path);
    // SAFETY: as above, restoring the mask that was there.
    unsafe { libc::umask(old) };
    let listener = bound?;
    // std listens with its own backlog; listening again sets memcached's `-b`.
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: listen on a descriptor this function owns.
    if unsafe { libc::listen(listener.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    listener.set_nonblocking(true)?;
    Ok(UnixBound {
        listener: tokio::net::UnixListener::from_std(listener)?,
        path: path.to_string_lossy().into_owned(),
        mask: mask & 0o777,
    })
}

/// An accepted connection before a worker's event loop takes it.
#[derive(Debug)]
pub enum StdStream {
    /// A TCP connection.
    Tcp(std::net::TcpStream),
    /// A unix domain socket connection.
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixStream),
}

impl StdStream {
    /// Registers the socket with the current runtime's reactor.
    pub fn into_tokio(self) -> io::Result<Stream> {
        match self {
            StdStream::Tcp(s) => TcpStream::from_std(s).map(Stream::Tcp),
            #[cfg(unix)]
            StdStream::Unix(s) => tokio::net::UnixStream::from_std(s).map(Stream::Unix),
        }
    }
}

/// A connected client socket.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A unix domain socket connection.
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl Stream {
    /// The client's address.
    pub fn peer(&self) -> Endpoint {
        match self {
            Stream::Tcp(s) => Endpoint::Tcp(s.peer_addr().unwrap_or_else(|_| unknown())),
            #[cfg(unix)]
            Stream::Unix(s) => Endpoint::Unix(unix_path(s.peer_addr().ok())),
        }
    }

    /// The server's end: the address or socket path the client connected to.
    pub fn local(&self) -> Endpoint {
        match self {
            Stream::Tcp(s) => Endpoint::Tcp(s.local_addr().unwrap_or_else(|_| unknown())),
            #[cfg(unix)]
            Stream::Unix(s) => Endpoint::Unix(unix_path(s.local_addr().ok())),
        }
    }

    /// The socket's descriptor (`cfd=` in `watch` lines, the number in `stats conns`).
    pub fn fd(&self, fallback: &AtomicU64) -> i64 {
        match self {
            Stream::Tcp(s) => fd_of(s, fallback),
            #[cfg(unix)]
            Stream::Unix(s) => fd_of(s, fallback),
        }
    }
}

fn unknown() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 0))
}

#[cfg(unix)]
fn unix_path(addr: Option<tokio::net::unix::SocketAddr>) -> Option<String> {
    addr.and_then(|a| a.as_pathname().map(|p| p.to_string_lossy().into_owned()))
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// A socket address as memcached's `stats conns` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `tcp:1.2.3.4:5` or `tcp6:[::1]:5`.
    Tcp(SocketAddr),
    /// `unix:/path` for a named unix socket; `None` for a client's unnamed end, which
    /// memcached prints as `?:<AF 0>` (its address record for the client is empty).
    Unix(Option<String>),
}

impl From<SocketAddr> for Endpoint {
    fn from(addr: SocketAddr) -> Endpoint {
        Endpoint::Tcp(addr)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(SocketAddr::V4(a)) => write!(f, "tcp:{a}"),
            Endpoint::Tcp(SocketAddr::V6(a)) => write!(f, "tcp6:[{}]:{}", a.ip(), a.port()),
            Endpoint::Unix(Some(path)) => write!(f, "unix:{path}"),
            Endpoint::Unix(None) => f.write_str("?:<AF 0>"),
        }
    }
}

/// The descriptor `stats conns` lists a socket under: its file descriptor on unix, a
/// number from `fallback` elsewhere.
#[cfg(unix)]
fn fd_of<S: std::os::fd::AsRawFd>(socket: &S, _fallback: &AtomicU64) -> i64 {
    i64::from(socket.as_raw_fd())
}

/// The descriptor `stats conns` lists a socket under: its file descriptor on unix, a
/// number from `fallback` elsewhere.
#[cfg(not(unix))]
fn fd_of<S>(_socket: &S, fallback: &AtomicU64) -> i64 {
    fallback.fetch_add(1, Ordering::Relaxed) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_print_as_memcached_prints_them() {
        let v4: SocketAddr = "127.0.0.1:11211".parse().unwrap();
        let v6: SocketAddr = "[::1]:5".parse().unwrap();
        assert_eq!(Endpoint::Tcp(v4).to_string(), "tcp:127.0.0.1:11211");
        assert_eq!(Endpoint::Tcp(v6).to_string(), "tcp6:[::1]:5");
        assert_eq!(
            Endpoint::Unix(Some("/tmp/m.sock".into())).to_string(),
            "unix:/tmp/m.sock"
        );
        assert_eq!(Endpoint::Unix(None).to_string(), "?:<AF 0>");
    }
}
