//! The store's statistics: the counters memcached keeps (global and per slab class), the
//! per-class memory report, and the text rows of `stats`, `stats slabs`, `stats items` and
//! `stats settings` in memcached 1.6.18's names and order.

use super::lru::Segment;
use super::{NIL, Store, VERSION};

/// Global counters, named as memcached's `stats` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// `cmd_get`: keys asked for by retrieval commands (get, gets, gat, gats).
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
    /// `curr_connections` (kept by a server through [`Store::connection_opened`]).
    pub curr_connections: u64,
    /// `total_connections`.
    pub total_connections: u64,
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
    /// `stats reset`: zeroes the counters (global and per class); connection counts,
    /// items and memory are state, not counters, and stay.
    pub fn reset_stats(&mut self) {
        let (curr, total) = (
            self.counters.curr_connections,
            self.counters.total_connections,
        );
        self.counters = StoreStats {
            curr_connections: curr,
            total_connections: total,
            ..StoreStats::default()
        };
        self.class_counters.fill(ClassCounters::default());
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

    /// `stats`: the general statistics, in memcached 1.6.18's order, the fields this
    /// store keeps.
    pub fn stats(&self) -> Vec<(String, String)> {
        let now = self.clock.now();
        let c = &self.counters;
        let rows: Vec<(&str, String)> = vec![
            ("pid", std::process::id().to_string()),
            ("uptime", now.saturating_sub(self.started).to_string()),
            ("time", now.to_string()),
            ("version", VERSION.to_string()),
            ("pointer_size", "64".to_string()),
            ("curr_connections", c.curr_connections.to_string()),
            ("total_connections", c.total_connections.to_string()),
            ("cmd_get", c.cmd_get.to_string()),
            ("cmd_set", c.cmd_set.to_string()),
            ("cmd_flush", c.cmd_flush.to_string()),
            ("cmd_touch", c.cmd_touch.to_string()),
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
            ("limit_maxbytes", self.settings.max_bytes.to_string()),
            ("threads", "1".to_string()),
            ("bytes", self.curr_bytes.to_string()),
            ("curr_items", self.index.len().to_string()),
            ("total_items", c.total_items.to_string()),
            ("expired_unfetched", c.expired_unfetched.to_string()),
            ("evicted_unfetched", c.evicted_unfetched.to_string()),
            ("evictions", c.evictions.to_string()),
            ("reclaimed", c.reclaimed.to_string()),
        ];
        let mut rows = rows;
        // memcached prints the mover's counters after `threads` (with the mover on) and the
        // pool after `total_items`.
        let mut mover: Vec<(&str, String)> = Vec::new();
        if self.settings.slab_reassign {
            mover.extend(
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
                .map(|(k, v)| (k, v.to_string())),
            );
        }
        let at = rows
            .iter()
            .position(|r| r.0 == "threads")
            .map_or(0, |i| i + 1);
        rows.splice(at..at, mover);
        let at = rows
            .iter()
            .position(|r| r.0 == "total_items")
            .map_or(0, |i| i + 1);
        rows.insert(at, ("slab_global_page_pool", self.pool.len().to_string()));
        rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
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
                // The LRU crawler is not modelled.
                ("crawler_reclaimed", 0),
                ("crawler_items_checked", 0),
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
                    ("hits_to_temp", 0),
                ]);
            }
            for (name, value) in fields {
                rows.push((format!("items:{}:{name}", c.id), value.to_string()));
            }
        }
        rows
    }

    /// `stats settings`: the settings memcached reports that this store has.
    pub fn stats_settings(&self) -> Vec<(String, String)> {
        let s = &self.settings;
        let rows: Vec<(&str, String)> = vec![
            ("maxbytes", s.max_bytes.to_string()),
            (
                "evictions",
                if s.evictions { "on" } else { "off" }.to_string(),
            ),
            ("growth_factor", format!("{:.2}", s.growth_factor)),
            ("chunk_size", s.chunk_size.to_string()),
            (
                "cas_enabled",
                if s.use_cas { "yes" } else { "no" }.to_string(),
            ),
            ("item_size_max", s.item_size_max.to_string()),
            ("slab_page_size", s.slab_page_size.to_string()),
            ("slab_chunk_max", s.slab_chunk_max.to_string()),
            (
                "slab_reassign",
                if s.slab_reassign { "yes" } else { "no" }.to_string(),
            ),
            ("slab_automove", s.slab_automove.to_string()),
            (
                "slab_automove_ratio",
                format!("{:.2}", s.slab_automove_ratio),
            ),
            ("slab_automove_window", s.slab_automove_window.to_string()),
            // The maintainer runs exactly when the LRU is segmented (`-o no_lru_maintainer`
            // turns both off).
            (
                "lru_maintainer_thread",
                if s.lru_segmented { "yes" } else { "no" }.to_string(),
            ),
            (
                "lru_segmented",
                if s.lru_segmented { "yes" } else { "no" }.to_string(),
            ),
            ("hot_lru_pct", s.hot_lru_pct.to_string()),
            ("warm_lru_pct", s.warm_lru_pct.to_string()),
            ("hot_max_factor", format!("{:.2}", s.hot_max_factor)),
            ("warm_max_factor", format!("{:.2}", s.warm_max_factor)),
            ("flush_enabled", "yes".to_string()),
        ];
        rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}
