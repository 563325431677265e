//! The server's registry of its sockets, for `stats conns` (memcached 1.6.18's
//! `process_stats_conns`): every listener and every open connection, by file descriptor,
//! with its addresses, its state and when it last ran a command.
//!
//! A connection holds an `Arc<ConnSlot>` and updates its state and time with relaxed
//! atomic stores (once per batch of commands); the registry's lock is taken only to add or
//! remove a socket and to list them. `stats conns` lists them in descriptor order, as
//! memcached walks its `conns` array:
//!
//! ```text
//! STAT <fd>:addr tcp:<ip>:<port>           (listener: its bound address)
//! STAT <fd>:state conn_listening
//! STAT <fd>:secs_since_last_cmd <s>        (since the server started)
//! STAT <fd>:addr tcp:<peer ip>:<peer port> (connection)
//! STAT <fd>:listen_addr tcp:<ip>:<port>    (the connection's local address)
//! STAT <fd>:state <conn_new_cmd|conn_read|conn_parse_cmd|conn_nread|conn_swallow>
//! STAT <fd>:secs_since_last_cmd <s>
//! ```
//!
//! IPv6 addresses print as `tcp6:[addr]:port`; a unix socket listener (`-s`) as
//! `unix:<path>`, and its connections' clients, which have no address, as `?:<AF 0>`,
//! with `listen_addr unix:<path>`. The states are those of memcached's state
//! machine that a cachelab connection can be in: `conn_new_cmd` before its first bytes,
//! `conn_read` waiting for a command (or the rest of its line), `conn_parse_cmd` while its
//! commands run (the connection asking for `stats conns` is always in it),
//! `conn_nread` waiting for a storage command's data block, `conn_swallow` skipping a
//! refused one. UDP is not served, so never listed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::stream::Endpoint;

/// A connection's state, named as memcached names it in `stats conns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ConnState {
    /// Accepted, nothing read yet.
    NewCmd = 0,
    /// Waiting for a command line.
    Read = 1,
    /// Running commands.
    ParseCmd = 2,
    /// Waiting for a storage command's data block.
    Nread = 3,
    /// Skipping a refused data block.
    Swallow = 4,
}

impl ConnState {
    fn name(self) -> &'static str {
        match self {
            ConnState::NewCmd => "conn_new_cmd",
            ConnState::Read => "conn_read",
            ConnState::ParseCmd => "conn_parse_cmd",
            ConnState::Nread => "conn_nread",
            ConnState::Swallow => "conn_swallow",
        }
    }

    fn from_u8(v: u8) -> ConnState {
        match v {
            0 => ConnState::NewCmd,
            1 => ConnState::Read,
            2 => ConnState::ParseCmd,
            3 => ConnState::Nread,
            _ => ConnState::Swallow,
        }
    }
}

/// One open connection's entry, shared by the connection (which updates it) and the
/// registry (which lists it).
#[derive(Debug)]
pub struct ConnSlot {
    fd: i64,
    peer: Endpoint,
    local: Endpoint,
    state: AtomicU8,
    last_cmd: AtomicU64,
}

impl ConnSlot {
    /// Sets the state `stats conns` shows.
    pub fn set_state(&self, state: ConnState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    /// The state `stats conns` shows.
    pub fn state(&self) -> ConnState {
        ConnState::from_u8(self.state.load(Ordering::Relaxed))
    }

    /// Records that a command ran at `now` (server clock seconds).
    pub fn ran_command(&self, now: u64) {
        self.last_cmd.store(now, Ordering::Relaxed);
    }
}

/// A listening socket.
#[derive(Debug, Clone)]
struct Listening {
    addr: Endpoint,
    since: u64,
}

/// Every socket of one server; see the module docs.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    listeners: BTreeMap<i64, Listening>,
    conns: BTreeMap<i64, Arc<ConnSlot>>,
    /// The most sockets registered at once (`connection_structures`).
    peak: u64,
}

impl Inner {
    fn note_peak(&mut self) {
        let n = (self.listeners.len() + self.conns.len()) as u64;
        self.peak = self.peak.max(n);
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The registry's maps stay consistent whatever a panicking holder was doing.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a listener on descriptor `fd`, bound to `addr`, listening since `now`.
    pub fn add_listener(&self, fd: i64, addr: Endpoint, now: u64) {
        let mut inner = self.lock();
        inner.listeners.insert(fd, Listening { addr, since: now });
        inner.note_peak();
    }

    /// Adds a connection accepted at `now`; it is listed until [`Registry::remove`].
    pub fn register(&self, fd: i64, peer: Endpoint, local: Endpoint, now: u64) -> Arc<ConnSlot> {
        let slot = Arc::new(ConnSlot {
            fd,
            peer,
            local,
            state: AtomicU8::new(ConnState::NewCmd as u8),
            last_cmd: AtomicU64::new(now),
        });
        let mut inner = self.lock();
        inner.conns.insert(fd, slot.clone());
        inner.note_peak();
        slot
    }

    /// Removes a closing connection (only if `slot` is still the one under its
    /// descriptor: a new connection may already have reused it).
    pub fn remove(&self, slot: &Arc<ConnSlot>) {
        let mut inner = self.lock();
        if inner
            .conns
            .get(&slot.fd)
            .is_some_and(|s| Arc::ptr_eq(s, slot))
        {
            inner.conns.remove(&slot.fd);
        }
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.lock().conns.len()
    }

    /// The most sockets (listeners and connections) registered at once.
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    /// `stats conns` rows at `now` (server clock seconds), in descriptor order.
    pub fn rows(&self, now: u64) -> Vec<(String, String)> {
        let inner = self.lock();
        enum Entry<'a> {
            Listen(&'a Listening),
            Conn(&'a ConnSlot),
        }
        let mut all: BTreeMap<i64, Entry<'_>> = BTreeMap::new();
        for (&fd, l) in &inner.listeners {
            all.insert(fd, Entry::Listen(l));
        }
        for (&fd, c) in &inner.conns {
            all.insert(fd, Entry::Conn(c));
        }
        let mut rows = Vec::new();
        for (fd, entry) in all {
            let mut row = |name: &str, value: String| rows.push((format!("{fd}:{name}"), value));
            match entry {
                Entry::Listen(l) => {
                    row("addr", l.addr.to_string());
                    row("state", "conn_listening".to_string());
                    row(
                        "secs_since_last_cmd",
                        now.saturating_sub(l.since).to_string(),
                    );
                }
                Entry::Conn(c) => {
                    row("addr", c.peer.to_string());
                    row("listen_addr", c.local.to_string());
                    let state = ConnState::from_u8(c.state.load(Ordering::Relaxed));
                    row("state", state.name().to_string());
                    let last = c.last_cmd.load(Ordering::Relaxed);
                    row("secs_since_last_cmd", now.saturating_sub(last).to_string());
                }
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Endpoint {
        Endpoint::Tcp(s.parse().unwrap())
    }

    #[test]
    fn lists_listeners_and_connections_in_descriptor_order() {
        let r = Registry::new();
        let c = r.register(9, addr("127.0.0.1:5000"), addr("127.0.0.1:11211"), 100);
        r.add_listener(7, addr("0.0.0.0:11211"), 90);
        let d = r.register(8, addr("[::1]:6000"), addr("[::1]:11211"), 100);
        c.set_state(ConnState::Nread);
        d.set_state(ConnState::ParseCmd);
        d.ran_command(103);
        let text: Vec<String> = r
            .rows(104)
            .into_iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        assert_eq!(
            text,
            [
                "7:addr tcp:0.0.0.0:11211",
                "7:state conn_listening",
                "7:secs_since_last_cmd 14",
                "8:addr tcp6:[::1]:6000",
                "8:listen_addr tcp6:[::1]:11211",
                "8:state conn_parse_cmd",
                "8:secs_since_last_cmd 1",
                "9:addr tcp:127.0.0.1:5000",
                "9:listen_addr tcp:127.0.0.1:11211",
                "9:state conn_nread",
                "9:secs_since_last_cmd 4",
            ]
        );
        assert_eq!(r.connections(), 2);
        assert_eq!(r.peak(), 3);
    }

    #[test]
    fn removing_a_reused_descriptor_keeps_the_new_connection() {
        let r = Registry::new();
        let old = r.register(5, addr("127.0.0.1:1"), addr("127.0.0.1:2"), 0);
        let new = r.register(5, addr("127.0.0.1:3"), addr("127.0.0.1:2"), 0);
        r.remove(&old);
        assert_eq!(r.connections(), 1);
        r.remove(&new);
        assert_eq!(r.connections(), 0);
        assert_eq!(r.rows(0), Vec::<(String, String)>::new());
    }

    #[test]
    fn unix_sockets_are_listed_by_path() {
        let r = Registry::new();
        let path = Endpoint::Unix(Some("/tmp/m.sock".into()));
        r.add_listener(3, path.clone(), 0);
        r.register(4, Endpoint::Unix(None), path, 0);
        let text: Vec<String> = r
            .rows(2)
            .into_iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        assert_eq!(
            text,
            [
                "3:addr unix:/tmp/m.sock",
                "3:state conn_listening",
                "3:secs_since_last_cmd 2",
                "4:addr ?:<AF 0>",
                "4:listen_addr unix:/tmp/m.sock",
                "4:state conn_new_cmd",
                "4:secs_since_last_cmd 2",
            ]
        );
    }
}
