//! The store's side of memcached's `watch`: log lines for fetches, stores and evictions,
//! queued for each registered watcher, in memcached 1.6.18's formats (`logger.c`:
//! `_logger_parse_ige`, `_logger_parse_ise`, `_logger_parse_ee`, the `skipped=` line).
//!
//! memcached's workers write log entries into per-thread buffers that a logger thread
//! copies into each watcher's buffer (`-o watcher_logbuf_size`); a watcher too slow to
//! keep up loses lines, and the next line it gets is `skipped=N`. Here the store formats a
//! line only when some watcher wants its kind, appends it to every interested watcher's
//! queue, and counts it skipped when the queue already holds `watcher_logbuf_size` bytes.
//! The server drains the queues into the watching sockets (`server::watch`).
//!
//! Timestamps are the store's clock: the wall clock's seconds and microseconds, or, on a
//! manual clock, its seconds and `.0`. `gid` counts every line formatted, from 1.

use super::{NEVER, Store};
use crate::memcached::model::slab::Layout;
use crate::memcached::model::store::StoreMode;
use crate::memcached::model::store::crawler::uri_encode;

/// What a watcher asks for (`watch fetchers mutations …`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchMask {
    /// `fetchers`: every item lookup (`type=item_get`).
    pub fetchers: bool,
    /// `mutations`: every classic storage command (`type=item_store`).
    pub mutations: bool,
    /// `evictions`: every eviction (`type=eviction`).
    pub evictions: bool,
    /// `connevents`: connections opening and closing (`type=conn_new`, `conn_close`).
    pub connevents: bool,
}

impl WatchMask {
    fn union(self, other: WatchMask) -> WatchMask {
        WatchMask {
            fetchers: self.fetchers || other.fetchers,
            mutations: self.mutations || other.mutations,
            evictions: self.evictions || other.evictions,
            connevents: self.connevents || other.connevents,
        }
    }
}

/// What an `item_store` line reports of the command (see [`Store::log_store`]).
#[derive(Debug, Clone, Copy)]
pub struct LoggedStore<'a> {
    /// The storage command.
    pub mode: StoreMode,
    /// The key.
    pub key: &'a [u8],
    /// Client flags (they decide the item's size, so its class).
    pub flags: u32,
    /// Exptime as the command gave it.
    pub exptime: i64,
    /// Bytes of the data block.
    pub value_len: usize,
}

/// The result of a lookup, as `item_get` lines name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lookup {
    NotFound,
    Hit,
    Flushed,
    Expired,
}

#[derive(Debug)]
struct Watcher {
    id: u64,
    mask: WatchMask,
    queue: Vec<u8>,
    skipped: u64,
}

/// The registered watchers and their queues.
#[derive(Debug, Default)]
pub(super) struct EventLog {
    watchers: Vec<Watcher>,
    /// The union of every watcher's mask: the one check a command pays when nobody watches.
    pub(super) mask: WatchMask,
    next_id: u64,
    gid: u64,
    /// `cfd=` of lines logged now: the connection whose command runs.
    conn: i64,
}

impl Store {
    /// Registers a watcher; its lines queue up until [`Store::watch_take`].
    pub fn watch_add(&mut self, mask: WatchMask) -> u64 {
        let log = &mut self.log;
        log.next_id += 1;
        log.watchers.push(Watcher {
            id: log.next_id,
            mask,
            queue: Vec::new(),
            skipped: 0,
        });
        log.mask = log.mask.union(mask);
        log.next_id
    }

    /// Removes a watcher (its connection closed).
    pub fn watch_remove(&mut self, id: u64) {
        let log = &mut self.log;
        log.watchers.retain(|w| w.id != id);
        log.mask = log
            .watchers
            .iter()
            .fold(WatchMask::default(), |m, w| m.union(w.mask));
    }

    /// Moves the watcher's queued lines to `out`; false when no such watcher.
    pub fn watch_take(&mut self, id: u64, out: &mut Vec<u8>) -> bool {
        match self.log.watchers.iter_mut().find(|w| w.id == id) {
            Some(w) => {
                out.append(&mut w.queue);
                true
            }
            None => false,
        }
    }

    /// Watchers registered (`log_watchers`).
    pub fn log_watchers(&self) -> usize {
        self.log.watchers.len()
    }

    /// The connection whose commands run next (`cfd=` in log lines).
    pub fn set_log_conn(&mut self, cfd: i64) {
        self.log.conn = cfd;
    }

    /// A connection opened or closed (`watch connevents`): `conn_new` when `reason` is
    /// `None`, else `conn_close` with memcached's reason (`normal`, `error`, …). `peer` is
    /// the TCP client's address, or `None` for a unix domain socket's client, which
    /// memcached logs as `rip=unix rport=0 transport=local`.
    pub fn log_conn_event(
        &mut self,
        peer: Option<std::net::SocketAddr>,
        cfd: i64,
        reason: Option<&str>,
    ) {
        if !self.log.mask.connevents {
            return;
        }
        let (rip, rport, transport) = match peer {
            Some(peer) => (peer.ip().to_string(), peer.port(), "tcp"),
            None => ("unix".to_string(), 0, "local"),
        };
        let body = match reason {
            None => {
                format!("type=conn_new rip={rip} rport={rport} transport={transport} cfd={cfd}")
            }
            Some(r) => format!(
                "type=conn_close rip={rip} rport={rport} transport={transport} reason={r} \
                 cfd={cfd}"
            ),
        };
        self.emit(|m| m.connevents, body.as_bytes());
    }

    /// `_logger_log_item_get`: a lookup of `key` and what it found.
    pub(super) fn log_get(&mut self, key: &[u8], found: Lookup, idx: Option<u32>) {
        if !self.log.mask.fetchers {
            return;
        }
        let (nbytes, clsid) = match idx {
            Some(i) => {
                let s = self.slot(i);
                (s.value().len() as u64, s.lru())
            }
            None => (0, 0),
        };
        let status = match found {
            Lookup::NotFound => "not_found",
            Lookup::Hit => "found",
            Lookup::Flushed => "flushed",
            Lookup::Expired => "expired",
        };
        let mut body = b"type=item_get key=".to_vec();
        uri_encode(key, &mut body);
        let cfd = self.log.conn;
        body.extend_from_slice(
            format!(" status={status} clsid={clsid} cfd={cfd} size={nbytes}").as_bytes(),
        );
        self.emit(|m| m.fetchers, &body);
    }

    /// `_logger_log_item_store`: a classic storage command's result. memcached logs the
    /// item it allocated for the command, stored or not: its TTL, class and size.
    pub fn log_store(&mut self, request: LoggedStore<'_>, status: &str) {
        if !self.log.mask.mutations {
            return;
        }
        let LoggedStore {
            mode,
            key,
            flags,
            exptime,
            value_len,
        } = request;
        let now = self.clock.now();
        let exp = self.expiry(exptime, now);
        let mut ttl = if exp == NEVER {
            0
        } else {
            exp.saturating_sub(now)
        };
        let mut clsid =
            match self
                .classes
                .layout(key.len(), value_len, flags, self.settings.use_cas)
            {
                Some(Layout::Single(part)) => part.class,
                Some(Layout::Chunked(_)) => self.classes.largest(),
                None => 0,
            };
        let cmd = match mode {
            StoreMode::Add => "add",
            StoreMode::Set => "set",
            StoreMode::Replace => "replace",
            StoreMode::Append => "append",
            StoreMode::Prepend => "prepend",
            StoreMode::Cas => "cas",
        };
        // A too-large or out-of-memory item was never allocated: memcached logs no size.
        let mut size = match status {
            "too_large" | "no_memory" => 0,
            _ => value_len,
        };
        if status == "stored" && matches!(mode, StoreMode::Append | StoreMode::Prepend) {
            // The combined item replaced the command's: memcached logs that one, with the
            // old item's exptime.
            if let Some(i) = self.find_index(key) {
                let s = self.slot(i);
                ttl = if s.exp == NEVER {
                    0
                } else {
                    s.exp.saturating_sub(now)
                };
                clsid = s.lru();
                size = s.value().len();
            }
        }
        let mut body = b"type=item_store key=".to_vec();
        uri_encode(key, &mut body);
        let cfd = self.log.conn;
        body.extend_from_slice(
            format!(" status={status} cmd={cmd} ttl={ttl} clsid={clsid} cfd={cfd} size={size}")
                .as_bytes(),
        );
        self.emit(|m| m.mutations, &body);
    }

    /// `_logger_log_evictions`: the item at `idx` is about to be evicted.
    pub(super) fn log_eviction(&mut self, idx: u32, now: u64) {
        if !self.log.mask.evictions {
            return;
        }
        let s = self.slot(idx);
        let mut body = b"type=eviction key=".to_vec();
        uri_encode(s.key(), &mut body);
        let ttl = if s.exp == NEVER {
            -1
        } else {
            s.exp as i64 - now as i64
        };
        body.extend_from_slice(
            format!(
                " fetch={} ttl={ttl} la={} clsid={} size={}",
                if s.fetched { "yes" } else { "no" },
                now.saturating_sub(s.time),
                s.lru(),
                s.value().len()
            )
            .as_bytes(),
        );
        self.emit(|m| m.evictions, &body);
    }

    /// Prefixes `ts=… gid=…`, ends the line with `\n` and queues it for every watcher
    /// `wants`.
    fn emit(&mut self, wants: impl Fn(&WatchMask) -> bool, body: &[u8]) {
        self.log.gid += 1;
        let (secs, micros) = if self.clock.is_manual() {
            (self.clock.now(), 0)
        } else {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            (t.as_secs(), t.subsec_micros())
        };
        let mut line = format!("ts={secs}.{micros} gid={} ", self.log.gid).into_bytes();
        line.extend_from_slice(body);
        line.push(b'\n');
        let cap = self.settings.watcher_logbuf_size as usize;
        for w in self.log.watchers.iter_mut().filter(|w| wants(&w.mask)) {
            let skip_line = (w.skipped > 0).then(|| format!("skipped={}\n", w.skipped));
            let extra = skip_line.as_ref().map_or(0, |s| s.len());
            if w.queue.len() + extra + line.len() > cap {
                w.skipped += 1;
                continue;
            }
            if let Some(s) = skip_line {
                w.queue.extend_from_slice(s.as_bytes());
                w.skipped = 0;
            }
            w.queue.extend_from_slice(&line);
        }
    }
}
