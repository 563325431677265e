//! The store's statistics: the counters memcached keeps (global and per slab class), the
//! per-class memory report, and the text rows of `stats`, `stats slabs`, `stats items` and
//! `stats settings` in memcached 1.6.18's names and order.

use super::lru::Segment;
use super::prefix::PrefixStats;
use super::{NIL, Store, VERSION};

/// Global counters, named as memcached's `stats` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// `cmd_get`: keys asked for by `get` and `gets` (`gat`/`gats` count in `cmd_touch`).
    pub cmd_get: u64,
    /// `cmd_set`: storage commands that got as far as allocating the item.
    pub cmd_set: u64,
    /// `cmd_flush`.
    pub cmd_flush: u64,
    /// `cmd_touch`: touch, gat and gats keys.
    pub cmd_touch: u64,
    /// `get_hits`.
    pub get_hits: u64,
    /// `get_misses`.
    pub get_misses: u64,
    /// `get_expired`: lookups that found an expired item (and removed it).
    pub get_expired: u64,
    /// `get_flushed`: lookups that found a flushed item (and removed it).
    pub get_flushed: u64,
    /// `delete_misses`.
    pub delete_misses: u64,
    /// `delete_hits`.
    pub delete_hits: u64,
    /// `incr_misses`.
    pub incr_misses: u64,
    /// `incr_hits`.
    pub incr_hits: u64,
    /// `decr_misses`.
    pub decr_misses: u64,
    /// `decr_hits`.
    pub decr_hits: u64,
    /// `cas_misses`.
    pub cas_misses: u64,
    /// `cas_hits`.
    pub cas_hits: u64,
    /// `cas_badval`.
    pub cas_badval: u64,
    /// `touch_hits`.
    pub touch_hits: u64,
    /// `touch_misses`.
    pub touch_misses: u64,
    /// `store_too_large`.
    pub store_too_large: u64,
    /// `store_no_memory`.
    pub store_no_memory: u64,
    /// `total_items`: items ever linked.
    pub total_items: u64,
    /// `evictions`.
    pub evictions: u64,
    /// `reclaimed`: expired or flushed items whose memory an allocation reused.
    pub reclaimed: u64,
    /// `expired_unfetched`: reclaimed items never read.
    pub expired_unfetched: u64,
    /// `evicted_unfetched`: evicted items never read.
    pub evicted_unfetched: u64,
    /// Open connections, listeners included as memcached counts them (kept by a server
    /// through [`Store::connection_opened`]; `curr_connections` prints one less: the
    /// connection asking is not counted).
    pub curr_connections: u64,
    /// `total_connections`: connections ever opened, listeners included.
    pub total_connections: u64,
    /// `cmd_meta`: meta debug (`me`) commands, the only ones memcached 1.6.18's text
    /// protocol counts there.
    pub cmd_meta: u64,
    /// `bytes_read`: bytes read from the network.
    pub bytes_read: u64,
    /// `bytes_written`: bytes written to the network.
    pub bytes_written: u64,
    /// `slabs_moved`: pages the mover moved.
    pub slabs_moved: u64,
    /// `slab_reassign_rescues`: items the mover copied out of a page it cleared.
    pub slab_reassign_rescues: u64,
    /// `slab_reassign_chunk_rescues`: chunks of chunked items so copied.
    pub slab_reassign_chunk_rescues: u64,
    /// `slab_reassign_evictions_nomem`: items the mover dropped for want of a free chunk.
    pub slab_reassign_evictions_nomem: u64,
    /// `slab_reassign_inline_reclaim`: free chunks of the page found while looking for room.
    pub slab_reassign_inline_reclaim: u64,
    /// `slab_reassign_busy_items`: chunks a pass had to come back for.
    pub slab_reassign_busy_items: u64,
    /// `slab_reassign_busy_deletes`: always 0 (no item is ever held by another thread).
    pub slab_reassign_busy_deletes: u64,
}

/// Statistics state that is not a counter: the per-prefix statistics (`stats detail`,
/// emptied by `stats reset`) and the modelled hash table's size (never reset).
#[derive(Debug, Clone)]
pub struct StatsState {
    /// `stats detail`.
    pub(super) prefix: PrefixStats,
    /// `hash_power_level`: memcached's table starts with 2^16 buckets and doubles whenever
    /// it holds more than 1.5 items per bucket (`assoc_insert`); it never shrinks. The
    /// expansion is taken as instant (memcached moves buckets in a background thread).
    pub(super) hash_power: u32,
}

/// memcached's `HASHPOWER_DEFAULT`.
const HASHPOWER_DEFAULT: u32 = 16;

impl Default for StatsState {
    fn default() -> StatsState {
        StatsState {
            prefix: PrefixStats::default(),
            hash_power: HASHPOWER_DEFAULT,
        }
    }
}

impl StatsState {
    /// Called after each insertion into the hash table with the items it now holds.
    pub(super) fn note_items(&mut self, items: usize) {
        while items as u64 > (1u64 << self.hash_power) * 3 / 2 {
            self.hash_power += 1;
        }
    }
}

/// What the server, not the store, knows for `stats` and `stats settings`; a store alone
/// reports [`ServerView::default`] (one thread, memcached's default limits, no network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    /// `max_connections` / `maxconns` (`-c`).
    pub max_connections: usize,
    /// `threads` / `num_threads` (`-t`).
    pub threads: usize,
    /// `tcpport` (`-p`; the bound port).
    pub tcp_port: u16,
    /// `udpport` (`-U`; 0: no UDP).
    pub udp_port: u16,
    /// `inter` (`-l`; `None` prints `NULL`).
    pub interface: Option<String>,
    /// `tcp_backlog` (`-b`).
    pub backlog: u32,
    /// `reqs_per_event` (`-R`).
    pub reqs_per_event: u32,
    /// `read_buf_count`: read buffers allocated now (one per connection).
    pub read_buf_count: u64,
    /// `read_buf_bytes`: bytes those buffers hold.
    pub read_buf_bytes: u64,
    /// `read_buf_oom`: reads refused for want of buffer memory since the last reset.
    pub read_buf_oom: u64,
    /// `connection_structures`: connection records allocated (listeners included).
    pub connection_structures: u64,
    /// `verbosity` (`-v`, `-vv`).
    pub verbosity: u32,
    /// `shutdown_command` (`-A`).
    pub shutdown_command: bool,
    /// `binding_protocol` (`-B`: `ascii` or `auto-negotiate`).
    pub binding_protocol: &'static str,
    /// `maxconns_fast` (off with `-o no_modern`): `rejected_connections` shows only when on.
    pub maxconns_fast: bool,
    /// `flush_enabled` (`-F` turns it off).
    pub flush_enabled: bool,
    /// `idle_timeout` (`-o idle_timeout`; 0: never); `idle_kicks` shows only when set.
    pub idle_timeout: u32,
    /// `read_buf_mem_limit` (`-o read_buf_mem_limit`, bytes; 0: none).
    pub read_buf_mem_limit: u64,
    /// `rejected_connections`: connections refused at the `-c` limit since the last reset.
    pub rejected_connections: u64,
    /// `idle_kicks`: connections closed by `-o idle_timeout` since the last reset.
    pub idle_kicks: u64,
    /// `conn_yields`: times a connection stopped after a full window of requests (`-R`)
    /// to let the others run, since the last reset.
    pub conn_yields: u64,
    /// `response_obj_oom`: replies refused for want of response objects
    /// (`-o read_buf_mem_limit`) since the last reset.
    pub response_obj_oom: u64,
    /// `domain_socket` (`-s`; `None` prints `NULL`).
    pub domain_socket: Option<String>,
    /// `umask` (`-a`, the unix socket's access mask; printed in octal).
    pub umask: u32,
}

impl Default for ServerView {
    fn default() -> ServerView {
        ServerView {
            max_connections: 1024,
            threads: 1,
            tcp_port: 0,
            udp_port: 0,
            interface: None,
            backlog: 1024,
            reqs_per_event: 20,
            read_buf_count: 0,
            read_buf_bytes: 0,
            read_buf_oom: 0,
            connection_structures: 0,
            verbosity: 0,
            shutdown_command: false,
            binding_protocol: "auto-negotiate",
            maxconns_fast: true,
            flush_enabled: true,
            idle_timeout: 0,
            read_buf_mem_limit: 0,
            rejected_connections: 0,
            idle_kicks: 0,
            conn_yields: 0,
            response_obj_oom: 0,
            domain_socket: None,
            umask: 0o700,
        }
    }
}

/// Per-class counters: `stats slabs` (`get_hits` … `touch_hits`) and `stats items`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassCounters {
    /// `get_hits` of items in this class.
    pub get_hits: u64,
    /// `cmd_set` of items allocated in this class.
    pub cmd_set: u64,
    /// `delete_hits`.
    pub delete_hits: u64,
    /// `incr_hits`.
    pub incr_hits: u64,
    /// `decr_hits`.
    pub decr_hits: u64,
    /// `cas_hits`.
    pub cas_hits: u64,
    /// `cas_badval`.
    pub cas_badval: u64,
    /// `touch_hits`.
    pub touch_hits: u64,
    /// `evicted`.
    pub evicted: u64,
    /// `evicted_nonzero`: evicted items that had an exptime.
    pub evicted_nonzero: u64,
    /// `evicted_time`: seconds since the last eviction's item was accessed.
    pub evicted_time: u64,
    /// `outofmemory`: allocations that failed in this class.
    pub outofmemory: u64,
    /// `reclaimed`.
    pub reclaimed: u64,
    /// `expired_unfetched`.
    pub expired_unfetched: u64,
    /// `evicted_unfetched`.
    pub evicted_unfetched: u64,
    /// `direct_reclaims`: allocation attempts that had to pull the LRU tail.
    pub direct_reclaims: u64,
    /// `lrutail_reflocked`: tail items an LRU pull skipped because the command in progress
    /// holds them (append/prepend, incr/decr).
    pub lrutail_reflocked: u64,
    /// `evicted_active`: evicted items marked active (segmented mode).
    pub evicted_active: u64,
    /// `moves_to_cold`: HOT or WARM items moved to COLD.
    pub moves_to_cold: u64,
    /// `moves_to_warm`: active HOT or COLD items moved to WARM.
    pub moves_to_warm: u64,
    /// `moves_within_lru`: active WARM items moved back to WARM's head.
    pub moves_within_lru: u64,
    /// `hits_to_hot`: `get`/`gets` hits on items in HOT (not gat or touch, as in memcached).
    pub hits_to_hot: u64,
    /// `hits_to_warm`.
    pub hits_to_warm: u64,
    /// `hits_to_cold`.
    pub hits_to_cold: u64,
    /// `hits_to_temp`: hits on TEMP items (`-o temporary_ttl`).
    pub hits_to_temp: u64,
}

/// One slab class's memory and items, for reports (see [`Store::class_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassUsage {
    /// Class id.
    pub id: u8,
    /// Bytes per chunk.
    pub chunk_size: u32,
    /// Chunks per page.
    pub chunks_per_page: u32,
    /// Pages assigned to the class.
    pub total_pages: u32,
    /// Chunks in use (items, and the parts of chunked items).
    pub used_chunks: u64,
    /// Chunks free in the class's pages.
    pub free_chunks: u64,
    /// Bytes requested from the used chunks.
    pub requested: u64,
    /// Items on the class's LRU.
    pub items: u64,
    /// Bytes lost to chunk rounding: `chunk_size * used_chunks - requested`.
    pub waste: u64,
}

impl Store {
    /// `stats reset`: zeroes the counters (global and per class, `total_connections` and
    /// `total_items` included, as memcached's `stats_reset` clears its `struct stats`) and
    /// forgets the per-prefix statistics; `curr_connections`, items, memory and the hash
    /// table are state, not counters, and stay.
    pub fn reset_stats(&mut self) {
        self.counters = StoreStats {
            curr_connections: self.counters.curr_connections,
            ..StoreStats::default()
        };
        self.class_counters.fill(ClassCounters::default());
        self.stats_state.prefix.clear();
        self.crawler.reset_counters();
    }

    /// The per-prefix statistics (`stats detail`).
    pub fn prefix_stats(&self) -> &PrefixStats {
        &self.stats_state.prefix
    }

    /// The per-prefix statistics, to record into or to switch on and off.
    pub fn prefix_stats_mut(&mut self) -> &mut PrefixStats {
        &mut self.stats_state.prefix
    }

    /// `-D <char>`: the prefix delimiter; as in memcached, giving it turns collection on.
    pub fn set_prefix_delimiter(&mut self, delimiter: u8) {
        self.stats_state.prefix = PrefixStats::new(delimiter, true);
    }

    /// Counts traffic: bytes read from and written to the network (`bytes_read`,
    /// `bytes_written`).
    pub fn count_io(&mut self, read: u64, written: u64) {
        self.counters.bytes_read += read;
        self.counters.bytes_written += written;
    }

    /// `me <key>`: [`Store::debug`], counted in `cmd_meta` as memcached 1.6.18 counts
    /// its meta debug command (and no other meta command).
    pub fn debug_counted(&mut self, key: &[u8]) -> Option<super::ItemDebug> {
        self.counters.cmd_meta += 1;
        self.debug(key)
    }

    /// `hash_power_level`: log2 of the modelled hash table's buckets.
    pub fn hash_power(&self) -> u32 {
        self.stats_state.hash_power
    }

    /// Memory and items per class that has pages, smallest class first.
    pub fn class_usage(&self) -> Vec<ClassUsage> {
        self.classes
            .classes()
            .iter()
            .filter_map(|c| {
                let mem = &self.mem[usize::from(c.id)];
                if mem.pages.is_empty() {
                    return None;
                }
                Some(ClassUsage {
                    id: c.id,
                    chunk_size: c.chunk_size,
                    chunks_per_page: c.perslab,
                    total_pages: mem.pages.len() as u32,
                    used_chunks: mem.used,
                    free_chunks: mem.free.len() as u64,
                    requested: mem.requested,
                    items: self.lru[usize::from(c.id)].len(),
                    waste: u64::from(c.chunk_size) * mem.used - mem.requested,
                })
            })
            .collect()
    }

    /// Per-class counters, indexed by class id (entry 0 unused).
    pub fn class_counters(&self) -> &[ClassCounters] {
        &self.class_counters
    }

    /// `stats` of a store alone ([`ServerView::default`]); see [`Store::stats_with`].
    pub fn stats(&self) -> Vec<(String, String)> {
        self.stats_with(&ServerView::default())
    }

    /// `stats`: the general statistics, memcached 1.6.18's rows in its order
    /// (`server_stats` then `get_stats`), with the server's part from `server`. Rows
    /// memcached prints only under a setting follow the setting as this store has it
    /// (`rejected_connections` with `maxconns_fast`, `idle_kicks` with an idle timeout; the
    /// LRU maintainer's rows in segmented mode; slab
    /// reassignment's and the LRU crawler's only when those are on, which they are not
    /// here). Rows for machinery cachelab does not have (libevent, response objects,
    /// authentication, the logger, NAPI ids) say so by being 0, or `tokio` for libevent.
    pub fn stats_with(&self, server: &ServerView) -> Vec<(String, String)> {
        let now = self.clock.now();
        let c = &self.counters;
        let k = self.class_totals();
        let maintainer = self.settings.lru_segmented;
        let (user, system) = rusage();
        let mut rows: Vec<(&str, String)> = vec![
            ("pid", std::process::id().to_string()),
            ("uptime", now.saturating_sub(self.started).to_string()),
            ("time", now.to_string()),
            ("version", VERSION.to_string()),
            ("libevent", "tokio".to_string()),
            (
                "pointer_size",
                (8 * std::mem::size_of::<usize>()).to_string(),
            ),
            ("rusage_user", user),
            ("rusage_system", system),
            ("max_connections", server.max_connections.to_string()),
            // memcached counts its listeners as connections and leaves out the one asking.
            (
                "curr_connections",
                c.curr_connections.saturating_sub(1).to_string(),
            ),
            ("total_connections", c.total_connections.to_string()),
            (
                "connection_structures",
                server.connection_structures.to_string(),
            ),
            ("response_obj_oom", server.response_obj_oom.to_string()),
            ("response_obj_count", "0".to_string()),
            ("response_obj_bytes", "0".to_string()),
            ("read_buf_count", server.read_buf_count.to_string()),
            ("read_buf_bytes", server.read_buf_bytes.to_string()),
            ("read_buf_bytes_free", "0".to_string()),
            ("read_buf_oom", server.read_buf_oom.to_string()),
            ("reserved_fds", "0".to_string()),
            ("cmd_get", c.cmd_get.to_string()),
            ("cmd_set", c.cmd_set.to_string()),
            ("cmd_flush", c.cmd_flush.to_string()),
            ("cmd_touch", c.cmd_touch.to_string()),
            ("cmd_meta", c.cmd_meta.to_string()),
            ("get_hits", c.get_hits.to_string()),
            ("get_misses", c.get_misses.to_string()),
            ("get_expired", c.get_expired.to_string()),
            ("get_flushed", c.get_flushed.to_string()),
            ("delete_misses", c.delete_misses.to_string()),
            ("delete_hits", c.delete_hits.to_string()),
            ("incr_misses", c.incr_misses.to_string()),
            ("incr_hits", c.incr_hits.to_string()),
            ("decr_misses", c.decr_misses.to_string()),
            ("decr_hits", c.decr_hits.to_string()),
            ("cas_misses", c.cas_misses.to_string()),
            ("cas_hits", c.cas_hits.to_string()),
            ("cas_badval", c.cas_badval.to_string()),
            ("touch_hits", c.touch_hits.to_string()),
            ("touch_misses", c.touch_misses.to_string()),
            ("store_too_large", c.store_too_large.to_string()),
            ("store_no_memory", c.store_no_memory.to_string()),
            ("auth_cmds", "0".to_string()),
            ("auth_errors", "0".to_string()),
            ("bytes_read", c.bytes_read.to_string()),
            ("bytes_written", c.bytes_written.to_string()),
            ("limit_maxbytes", self.settings.max_bytes.to_string()),
            ("accepting_conns", "1".to_string()),
            ("listen_disabled_num", "0".to_string()),
            ("time_in_listen_disabled_us", "0".to_string()),
            ("threads", server.threads.to_string()),
            ("conn_yields", server.conn_yields.to_string()),
            ("hash_power_level", self.stats_state.hash_power.to_string()),
            (
                "hash_bytes",
                (8u64 << self.stats_state.hash_power).to_string(),
            ),
            ("hash_is_expanding", "0".to_string()),
        ];
        if let Some(reassign) = self.slab_reassign_rows() {
            rows.extend(reassign);
        }
        if let Some(crawler) = self.lru_crawler_rows() {
            rows.extend(crawler);
        }
        if maintainer {
            // The maintainer runs synchronously at each allocation, never as a juggling
            // background loop.
            rows.push(("lru_maintainer_juggles", "0".to_string()));
        }
        rows.extend([
            ("malloc_fails", "0".to_string()),
            ("log_worker_dropped", "0".to_string()),
            ("log_worker_written", "0".to_string()),
            ("log_watcher_skipped", "0".to_string()),
            ("log_watcher_sent", "0".to_string()),
            ("log_watchers", self.log_watchers().to_string()),
            ("unexpected_napi_ids", "0".to_string()),
            ("round_robin_fallback", "0".to_string()),
            ("bytes", self.curr_bytes.to_string()),
            ("curr_items", self.index.len().to_string()),
            ("total_items", c.total_items.to_string()),
            ("slab_global_page_pool", self.pool.len().to_string()),
            ("expired_unfetched", c.expired_unfetched.to_string()),
            ("evicted_unfetched", c.evicted_unfetched.to_string()),
        ]);
        if maintainer {
            rows.push(("evicted_active", k.evicted_active.to_string()));
        }
        rows.extend([
            ("evictions", c.evictions.to_string()),
            ("reclaimed", c.reclaimed.to_string()),
            (
                "crawler_reclaimed",
                self.crawler.reclaimed.iter().sum::<u64>().to_string(),
            ),
            (
                "crawler_items_checked",
                self.crawler.checked.iter().sum::<u64>().to_string(),
            ),
            ("lrutail_reflocked", k.lrutail_reflocked.to_string()),
        ]);
        if maintainer {
            rows.extend([
                ("moves_to_cold", k.moves_to_cold.to_string()),
                ("moves_to_warm", k.moves_to_warm.to_string()),
                ("moves_within_lru", k.moves_within_lru.to_string()),
                ("direct_reclaims", k.direct_reclaims.to_string()),
                // Bumps are applied at once, never queued and dropped.
                ("lru_bumps_dropped", "0".to_string()),
            ]);
        }
        // Rows memcached prints only under a setting, where it prints them.
        let after = |rows: &[(&str, String)], name: &str| {
            rows.iter()
                .position(|(n, _)| *n == name)
                .map_or(rows.len(), |i| i + 1)
        };
        if server.maxconns_fast {
            let at = after(&rows, "total_connections");
            let row = (
                "rejected_connections",
                server.rejected_connections.to_string(),
            );
            rows.insert(at, row);
        }
        if server.idle_timeout > 0 {
            let at = after(&rows, "auth_errors");
            rows.insert(at, ("idle_kicks", server.idle_kicks.to_string()));
        }
        rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The slab reassignment rows of `stats` (`slab_reassign_rescues` … `slabs_moved`),
    /// which memcached prints only while `slab_reassign` is on.
    fn slab_reassign_rows(&self) -> Option<Vec<(&'static str, String)>> {
        let c = &self.counters;
        self.settings.slab_reassign.then(|| {
            [
                ("slab_reassign_rescues", c.slab_reassign_rescues),
                ("slab_reassign_chunk_rescues", c.slab_reassign_chunk_rescues),
                (
                    "slab_reassign_evictions_nomem",
                    c.slab_reassign_evictions_nomem,
                ),
                (
                    "slab_reassign_inline_reclaim",
                    c.slab_reassign_inline_reclaim,
                ),
                ("slab_reassign_busy_items", c.slab_reassign_busy_items),
                ("slab_reassign_busy_deletes", c.slab_reassign_busy_deletes),
                // Moves finish before the command that asked for them replies.
                ("slab_reassign_running", 0),
                ("slabs_moved", c.slabs_moved),
            ]
            .map(|(k, v)| (k, v.to_string()))
            .to_vec()
        })
    }

    /// The LRU crawler's rows of `stats` (`lru_crawler_running`, `lru_crawler_starts`),
    /// which memcached prints only while `lru_crawler` is on. Crawls run to completion
    /// inside the command that starts them, so none is ever running between commands.
    fn lru_crawler_rows(&self) -> Option<Vec<(&'static str, String)>> {
        self.crawler.enabled.then(|| {
            vec![
                ("lru_crawler_running", "0".to_string()),
                ("lru_crawler_starts", self.crawler.starts.to_string()),
            ]
        })
    }

    /// The per-class counters summed over every class (`item_stats_totals`).
    fn class_totals(&self) -> ClassCounters {
        let mut t = ClassCounters::default();
        for k in &self.class_counters {
            t.evicted_active += k.evicted_active;
            t.lrutail_reflocked += k.lrutail_reflocked;
            t.moves_to_cold += k.moves_to_cold;
            t.moves_to_warm += k.moves_to_warm;
            t.moves_within_lru += k.moves_within_lru;
            t.direct_reclaims += k.direct_reclaims;
        }
        t
    }

    /// `stats slabs`: per class with pages, `N:chunk_size` … `N:touch_hits`, then
    /// `active_slabs` and `total_malloced` (memcached 1.6.18's fields; 1.6 no longer prints
    /// `mem_requested` here, `stats items` has it).
    pub fn stats_slabs(&self) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        let usage = self.class_usage();
        for u in &usage {
            let k = &self.class_counters[usize::from(u.id)];
            let fields: [(&str, u64); 15] = [
                ("chunk_size", u64::from(u.chunk_size)),
                ("chunks_per_page", u64::from(u.chunks_per_page)),
                ("total_pages", u64::from(u.total_pages)),
                ("total_chunks", u.used_chunks + u.free_chunks),
                ("used_chunks", u.used_chunks),
                ("free_chunks", u.free_chunks),
                ("free_chunks_end", 0),
                ("get_hits", k.get_hits),
                ("cmd_set", k.cmd_set),
                ("delete_hits", k.delete_hits),
                ("incr_hits", k.incr_hits),
                ("decr_hits", k.decr_hits),
                ("cas_hits", k.cas_hits),
                ("cas_badval", k.cas_badval),
                ("touch_hits", k.touch_hits),
            ];
            for (name, value) in fields {
                rows.push((format!("{}:{name}", u.id), value.to_string()));
            }
        }
        rows.push(("active_slabs".to_string(), usage.len().to_string()));
        rows.push(("total_malloced".to_string(), self.malloced.to_string()));
        rows
    }

    /// `stats items`: per class with items, `items:N:number` …, memcached 1.6.18's fields in
    /// its order: the per-segment ones (`number_hot` … `age_warm`, `evicted_active`,
    /// `moves_*`, `direct_reclaims`, `hits_to_*`) only in segmented mode, as there; `age` is
    /// COLD's tail age.
    pub fn stats_items(&self) -> Vec<(String, String)> {
        let now = self.clock.now();
        let segmented = self.settings.lru_segmented;
        let mut rows = Vec::new();
        for c in self.classes.classes() {
            let lru = &self.lru[usize::from(c.id)];
            if lru.len() == 0 {
                continue;
            }
            let k = &self.class_counters[usize::from(c.id)];
            let age = |seg: Segment| {
                let tail = lru.list(seg).tail;
                if tail == NIL {
                    0
                } else {
                    now.saturating_sub(self.slot(tail).time)
                }
            };
            let mut fields: Vec<(&str, u64)> = vec![("number", lru.len())];
            if segmented {
                fields.extend([
                    ("number_hot", lru.list(Segment::Hot).len),
                    ("number_warm", lru.list(Segment::Warm).len),
                    ("number_cold", lru.list(Segment::Cold).len),
                ]);
                if self.settings.temporary_ttl.is_some() {
                    fields.push(("number_temp", lru.list(Segment::Temp).len));
                }
                fields.extend([
                    ("age_hot", age(Segment::Hot)),
                    ("age_warm", age(Segment::Warm)),
                ]);
            }
            fields.extend([
                ("age", age(Segment::Cold)),
                ("mem_requested", lru.bytes()),
                ("evicted", k.evicted),
                ("evicted_nonzero", k.evicted_nonzero),
                ("evicted_time", k.evicted_time),
                ("outofmemory", k.outofmemory),
                // No tail repairs: the model leaks no references.
                ("tailrepairs", 0),
                ("reclaimed", k.reclaimed),
                ("expired_unfetched", k.expired_unfetched),
                ("evicted_unfetched", k.evicted_unfetched),
            ]);
            if segmented {
                fields.push(("evicted_active", k.evicted_active));
            }
            fields.extend([
                (
                    "crawler_reclaimed",
                    self.crawler.reclaimed[usize::from(c.id)],
                ),
                (
                    "crawler_items_checked",
                    self.crawler.checked[usize::from(c.id)],
                ),
                ("lrutail_reflocked", k.lrutail_reflocked),
            ]);
            if segmented {
                fields.extend([
                    ("moves_to_cold", k.moves_to_cold),
                    ("moves_to_warm", k.moves_to_warm),
                    ("moves_within_lru", k.moves_within_lru),
                    ("direct_reclaims", k.direct_reclaims),
                    ("hits_to_hot", k.hits_to_hot),
                    ("hits_to_warm", k.hits_to_warm),
                    ("hits_to_cold", k.hits_to_cold),
                    ("hits_to_temp", k.hits_to_temp),
                ]);
            }
            for (name, value) in fields {
                rows.push((format!("items:{}:{name}", c.id), value.to_string()));
            }
        }
        rows
    }

    /// `stats settings` of a store alone ([`ServerView::default`]).
    pub fn stats_settings(&self) -> Vec<(String, String)> {
        self.stats_settings_with(&ServerView::default())
    }

    /// `stats settings`: memcached 1.6.18's rows in its order (`process_stat_settings`,
    /// built without extstore, TLS or the proxy), the server's part from `server`. Features
    /// cachelab does not have report memcached's "off" value (`auth_enabled_sasl no`);
    /// values of settings cachelab takes but cannot change report memcached's defaults
    /// (`hash_algorithm murmur3`).
    pub fn stats_settings_with(&self, server: &ServerView) -> Vec<(String, String)> {
        let s = &self.settings;
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        let prefix = &self.stats_state.prefix;
        // memcached's `oldest_live` is in its relative time, which starts at
        // ITEM_UPDATE_INTERVAL + 2 seconds (`process_started` is set that far back).
        let oldest = self.flush.map_or(0, |f| {
            (f.oldest_live + super::ITEM_UPDATE_INTERVAL + 2).saturating_sub(self.started)
        });
        let rows: Vec<(&str, String)> = vec![
            ("maxbytes", s.max_bytes.to_string()),
            ("maxconns", server.max_connections.to_string()),
            ("tcpport", server.tcp_port.to_string()),
            ("udpport", server.udp_port.to_string()),
            (
                "inter",
                server.interface.clone().unwrap_or_else(|| "NULL".into()),
            ),
            // `verbosity` shows `-v`; nothing is logged per command.
            ("verbosity", server.verbosity.to_string()),
            ("oldest", oldest.to_string()),
            (
                "evictions",
                if s.evictions { "on" } else { "off" }.to_string(),
            ),
            (
                "domain_socket",
                server
                    .domain_socket
                    .clone()
                    .unwrap_or_else(|| "NULL".into()),
            ),
            ("umask", format!("{:o}", server.umask)),
            ("shutdown_command", yes_no(server.shutdown_command)),
            ("growth_factor", format!("{:.2}", s.growth_factor)),
            ("chunk_size", s.chunk_size.to_string()),
            ("num_threads", server.threads.to_string()),
            ("num_threads_per_udp", server.threads.to_string()),
            (
                "stat_key_prefix",
                char::from(prefix.delimiter()).to_string(),
            ),
            ("detail_enabled", yes_no(prefix.enabled())),
            ("reqs_per_event", server.reqs_per_event.to_string()),
            ("cas_enabled", yes_no(s.use_cas)),
            ("tcp_backlog", server.backlog.to_string()),
            ("binding_protocol", server.binding_protocol.to_string()),
            ("auth_enabled_sasl", "no".to_string()),
            ("auth_enabled_ascii", "no".to_string()),
            ("item_size_max", s.item_size_max.to_string()),
            ("maxconns_fast", yes_no(server.maxconns_fast)),
            ("hashpower_init", "0".to_string()),
            ("slab_reassign", yes_no(s.slab_reassign)),
            ("slab_automove", s.slab_automove.to_string()),
            (
                "slab_automove_ratio",
                format!("{:.2}", s.slab_automove_ratio),
            ),
            ("slab_automove_window", s.slab_automove_window.to_string()),
            ("slab_chunk_max", s.slab_chunk_max.to_string()),
            ("lru_crawler", yes_no(self.crawler.enabled)),
            ("lru_crawler_sleep", self.crawler.sleep.to_string()),
            ("lru_crawler_tocrawl", self.crawler.tocrawl.to_string()),
            ("tail_repair_time", "0".to_string()),
            ("flush_enabled", yes_no(server.flush_enabled)),
            ("dump_enabled", "yes".to_string()),
            ("hash_algorithm", "murmur3".to_string()),
            // The maintainer runs exactly when the LRU is segmented (`-o no_lru_maintainer`
            // turns both off).
            ("lru_maintainer_thread", yes_no(s.lru_segmented)),
            ("lru_segmented", yes_no(s.lru_segmented)),
            ("hot_lru_pct", s.hot_lru_pct.to_string()),
            ("warm_lru_pct", s.warm_lru_pct.to_string()),
            ("hot_max_factor", format!("{:.2}", s.hot_max_factor)),
            ("warm_max_factor", format!("{:.2}", s.warm_max_factor)),
            ("temp_lru", yes_no(s.temporary_ttl.is_some())),
            ("temporary_ttl", s.temporary_ttl.unwrap_or(61).to_string()),
            ("idle_timeout", server.idle_timeout.to_string()),
            ("watcher_logbuf_size", s.watcher_logbuf_size.to_string()),
            ("worker_logbuf_size", s.worker_logbuf_size.to_string()),
            ("read_buf_mem_limit", server.read_buf_mem_limit.to_string()),
            ("track_sizes", "no".to_string()),
            ("inline_ascii_response", "no".to_string()),
            ("num_napi_ids", "(null)".to_string()),
            ("memory_file", "(null)".to_string()),
        ];
        rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// `stats cachedump <class> <limit>`: `ITEM <key> [<bytes> b; <exptime> s]` for the
    /// items at the head of the class's COLD list (all of them when `limit` is 0), then
    /// `END`. The exptime is the item's absolute unix time, 0 for none. memcached stops
    /// at a 2 MB reply; so does this.
    pub fn cachedump(&self, class: u32, limit: u32, out: &mut Vec<u8>) {
        const MEMLIMIT: usize = 2 * 1024 * 1024;
        let start = out.len();
        let lru = usize::try_from(class)
            .ok()
            .and_then(|c| self.lru.get(c))
            .map(|lru| lru.list(Segment::Cold).head);
        let mut at = lru.unwrap_or(NIL);
        let mut shown = 0u32;
        let mut n = itoa::Buffer::new();
        while at != NIL && (limit == 0 || shown < limit) {
            let slot = self.slot(at);
            let mut line = b"ITEM ".to_vec();
            line.extend_from_slice(slot.key());
            line.extend_from_slice(b" [");
            line.extend_from_slice(n.format(slot.value().len()).as_bytes());
            line.extend_from_slice(b" b; ");
            let exp = if slot.exp == super::NEVER {
                0
            } else {
                slot.exp
            };
            line.extend_from_slice(n.format(exp).as_bytes());
            line.extend_from_slice(b" s]\r\n");
            if out.len() - start + line.len() + 6 > MEMLIMIT {
                break;
            }
            out.extend_from_slice(&line);
            shown += 1;
            at = slot.next;
        }
        out.extend_from_slice(b"END\r\n");
    }
}

/// User and system CPU time of this process as memcached prints them (`%ld.%06ld`).
fn rusage() -> (String, String) {
    #[cfg(unix)]
    {
        // SAFETY: `getrusage` only writes the struct we hand it, which is plain data and
        // zero-initialised.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above; RUSAGE_SELF is always valid.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let t = |tv: libc::timeval| format!("{}.{:06}", tv.tv_sec, tv.tv_usec);
            return (t(usage.ru_utime), t(usage.ru_stime));
        }
    }
    ("0.000000".to_string(), "0.000000".to_string())
}
