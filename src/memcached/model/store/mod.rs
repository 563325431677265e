//! [`Store`]: memcached's item store — hash table, slab memory, per-class LRUs, lazy expiry,
//! CAS ids, flush and statistics — the one store that the simulator, an in-process API and
//! the TCP server share.
//!
//! Follows memcached 1.6.18: `items.c` (`do_item_alloc`, `do_item_alloc_pull`,
//! `lru_pull_tail`, `do_item_get`, `do_item_bump`), `memcached.c` (`do_store_item`,
//! `do_add_delta`, `realtime`), `proto_text.c` (the command handlers and their counters)
//! and `doc/protocol.txt` (the result of each command). What it models and what it leaves
//! out:
//!
//! - **Memory** is the slab arithmetic of [`super::slab`]: a store takes chunks from its
//!   class, pages are added on demand until `-m`, and every storage command first
//!   allocates the incoming item, exactly as memcached does before it looks at the key (so
//!   an `add` of a present key can still evict). Append and prepend then allocate the
//!   combined item while holding the old one. Too-large items and failed allocations are
//!   errors; a failed `set` removes the old value, as memcached does.
//! - **LRU** follows memcached's two modes ([`Settings::lru_segmented`], the `lru` module):
//!   segmented HOT/WARM/COLD lists per class (memcached 1.6's default, its LRU maintainer
//!   run synchronously at each allocation) or compat mode (`-o no_lru_maintainer`: one list
//!   per class, a hit re-links the item at most once every 60 s). Eviction pulls from the
//!   class's COLD tail: up to five tail items are examined, expired or flushed ones are
//!   reclaimed on the way, the first live one is evicted. The LRU crawler is in
//!   `crawler`; the maintainer's background juggle, its crawl schedule and the automover
//!   run from [`Store::maintain`].
//! - **Pages** move between classes as memcached's page mover moves them (`slabs
//!   reassign`, the automover; the `mover` module), chunk by chunk: each item knows its
//!   chunks, each page its items (`pages`).
//! - **Expiry** is lazy: an expired or flushed item is removed when a command finds it, or
//!   when it reaches an LRU tail during allocation. Exptime follows memcached: 0 never;
//!   up to 30 days relative to now; above that an absolute unix time; negative already
//!   expired (the item is stored but never seen).
//! - **Time** comes from a [`ServerClock`] the caller controls, in seconds.
//!
//! The store is single-threaded (`&mut self`); a server wraps it in a lock.
//!
//! One job per file: this file holds the [`Store`] type, its items' representation and the
//! read-only views; `table` links, unlinks and allocates items; `lru` keeps the per-class
//! lists; `classic` and `meta` are the commands of the classic and the meta protocol;
//! `crawler` the LRU crawler and
//! the maintainer's background work; `events` the `watch` log lines; `outcome` the types they return; `stats` the counters and `stats` text; `validate` the
//! invariant check the tests run.

use hashbrown::HashTable;

use self::lru::{ClassLru, Segment};
use self::pages::{Chunk, ClassMem, Locs, Page};
use super::clock::ServerClock;
use super::slab::{self, KEY_MAX_LENGTH, Layout, Settings, SlabClasses};

/// Relative exptimes go up to this many seconds (30 days); larger values are unix times.
pub const REALTIME_MAXDELTA: i64 = 60 * 60 * 24 * 30;

/// The version string `stats` reports.
pub const VERSION: &str = "1.6.18-cachelab";

const NIL: u32 = u32::MAX;
/// `exp` of an item that never expires.
const NEVER: u64 = u64::MAX;
/// Tail items `lru_pull_tail` examines per pull.
const PULL_TRIES: usize = 5;

mod classic;
mod crawler;
mod events;
mod lru;
mod meta;
mod mover;
mod outcome;
mod pages;
mod prefix;
mod stats;
mod table;
mod validate;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;

pub use crawler::{CrawlRefusal, CrawlScope, uri_encode};
pub use events::{LoggedStore, WatchMask};
pub use lru::ITEM_UPDATE_INTERVAL;
pub use mover::Reassign;
pub use outcome::{
    DeleteOutcome, DeltaOutcome, ItemDebug, ItemRef, KeyError, MetaDeleteOutcome, MetaDeltaOutcome,
    MetaGetRequest, MetaState, StoreMode, StoreOutcome, TouchOutcome,
};
pub use prefix::PrefixStats;
pub use stats::{ClassCounters, ClassUsage, ServerView, StoreStats};

#[derive(Debug)]
struct Slot {
    /// Key bytes followed by value bytes.
    data: Vec<u8>,
    key_len: u8,
    flags: u32,
    exp: u64,
    /// memcached's `it->time`: when linked, or last bumped (see [`lru`]).
    time: u64,
    cas: u64,
    /// `ITEM_ntotal`.
    total: u64,
    layout: Layout,
    /// The chunks of `layout`'s parts.
    locs: Locs,
    prev: u32,
    next: u32,
    /// The list the item is on (always COLD in compat mode).
    seg: Segment,
    /// Read since stored (`ITEM_FETCHED`).
    fetched: bool,
    /// Read again since (`ITEM_ACTIVE`, segmented mode).
    active: bool,
    /// A meta `mg` was handed the win token (`ITEM_TOKEN_SENT`).
    token_sent: bool,
    /// Invalidated by `md … I` (`ITEM_STALE`).
    stale: bool,
    /// Stored by a meta `ms` whose key came base64-encoded (`b`; `ITEM_KEY_BINARY`): `mg …
    /// k` and `me` then show the key base64-encoded again. Any later item of the key that
    /// is not such an `ms` (append, a vivified or re-allocated counter) starts without it,
    /// as in memcached, where only `ms` sets the flag on the item it allocates.
    key_binary: bool,
}

impl Slot {
    fn key(&self) -> &[u8] {
        &self.data[..usize::from(self.key_len)]
    }

    fn value(&self) -> &[u8] {
        &self.data[usize::from(self.key_len)..]
    }

    fn lru(&self) -> u8 {
        match &self.layout {
            Layout::Single(part) => part.class,
            // Chunked items live on the largest class's LRU: the last data chunk may be in
            // a smaller class, the first data chunk never is.
            Layout::Chunked(parts) => parts.get(1).map_or(0, |p| p.class),
        }
    }
}

/// The flush state `flush_all` leaves (`settings.oldest_live`, `settings.oldest_cas`).
#[derive(Debug, Clone, Copy)]
struct Flush {
    oldest_live: u64,
    oldest_cas: u64,
}

/// memcached's item store; see the module docs.
#[derive(Debug)]
pub struct Store {
    settings: Settings,
    classes: SlabClasses,
    clock: ServerClock,
    started: u64,
    slots: Vec<Option<Slot>>,
    free_slots: Vec<u32>,
    index: HashTable<u32>,
    /// Indexed by class id; entry 0 unused.
    mem: Vec<ClassMem>,
    lru: Vec<ClassLru>,
    class_counters: Vec<ClassCounters>,
    malloced: u64,
    /// Bytes counted in `malloced` that no page holds ([`Store::fake_malloced`]).
    faked_malloced: u64,
    /// Every page ever allocated, by id (see `pages`).
    pages: Vec<Page>,
    /// The global page pool (`slabclass[0]`): page ids, the last handed out first.
    pool: Vec<u32>,
    /// Chunks taken for the item being built, not yet linked.
    staged: Vec<Chunk>,
    /// The page mover and automover (see `mover`).
    mover: mover::Mover,
    cas_id: u64,
    flush: Option<Flush>,
    counters: StoreStats,
    /// Slots of items a meta get of the current pipeline window still references (see
    /// [`Store::release_held`]).
    held: Vec<u32>,
    curr_bytes: u64,
    /// An item allocation must not evict (held by the command in progress).
    pinned: u32,
    /// Per-prefix statistics and the modelled hash table's size.
    stats_state: stats::StatsState,
    /// The LRU crawler and the maintainer's schedule (`crawler`).
    crawler: crawler::Crawler,
    /// `watch` lines queued for each watcher (`events`).
    log: events::EventLog,
}

fn hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

fn check_key(key: &[u8]) -> Result<(), KeyError> {
    match key.len() {
        0 => Err(KeyError::Empty),
        n if n > KEY_MAX_LENGTH => Err(KeyError::TooLong(n)),
        _ => Ok(()),
    }
}

impl Store {
    /// An empty store with `settings` on `clock`; fails on settings that cannot make a class
    /// table ([`Settings::validate_table`]). A server should call [`Settings::validate`]
    /// first to refuse what memcached refuses.
    pub fn new(settings: Settings, clock: ServerClock) -> Result<Store, slab::SettingsError> {
        settings.validate_table()?;
        let classes = SlabClasses::new(&settings);
        let n = classes.classes().len() + 1;
        let started = clock.now();
        Ok(Store {
            classes,
            clock,
            started,
            slots: Vec::new(),
            free_slots: Vec::new(),
            index: HashTable::new(),
            mem: vec![ClassMem::default(); n],
            lru: vec![ClassLru::default(); n],
            class_counters: vec![ClassCounters::default(); n],
            malloced: 0,
            faked_malloced: 0,
            pages: Vec::new(),
            pool: Vec::new(),
            staged: Vec::new(),
            mover: mover::Mover::new(),
            cas_id: 0,
            flush: None,
            counters: StoreStats::default(),
            curr_bytes: 0,
            pinned: NIL,
            held: Vec::new(),
            stats_state: stats::StatsState::default(),
            crawler: crawler::Crawler::new(
                settings.lru_crawler,
                settings.lru_crawler_sleep,
                settings.lru_crawler_tocrawl,
            ),
            log: events::EventLog::default(),
            settings,
        })
    }

    /// The settings the store was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The slab class table.
    pub fn classes(&self) -> &SlabClasses {
        &self.classes
    }

    /// The store's clock (clone it to move a manual clock).
    pub fn clock(&self) -> &ServerClock {
        &self.clock
    }

    /// The global counters.
    pub fn counters(&self) -> &StoreStats {
        &self.counters
    }

    /// Items currently stored (`curr_items`; expired items not yet removed included).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no item is stored.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Sum of the stored items' sizes (`bytes`: `ITEM_ntotal` of each).
    pub fn bytes(&self) -> u64 {
        self.curr_bytes
    }

    /// Bytes of slab pages assigned so far (`total_malloced`).
    pub fn malloced(&self) -> u64 {
        self.malloced
    }

    /// memcached's test hook `T_MEMD_INITIAL_MALLOC` (`slabs_init` in `slabs.c`, in release
    /// builds too): the store starts as if `bytes` had already been allocated, so
    /// `total_malloced` starts there and new pages are refused once it would pass `-m`
    /// (memcached's 64bit.t starts just over 4 GiB to check that the count is 64 bits).
    /// Only on a store that has allocated nothing yet; false, and no effect, otherwise.
    pub fn fake_malloced(&mut self, bytes: u64) -> bool {
        if !self.pages.is_empty() {
            return false;
        }
        self.malloced = bytes;
        self.faked_malloced = bytes;
        true
    }

    /// Bytes lost to chunk rounding over every class.
    pub fn waste(&self) -> u64 {
        self.class_usage().iter().map(|c| c.waste).sum()
    }

    /// Heap bytes the store itself uses: slots, key and value bytes, the index, free lists.
    /// (memcached's own memory is the slab pages, [`Store::malloced`].)
    pub fn heap_bytes(&self) -> usize {
        let data: usize = self
            .slots
            .iter()
            .flatten()
            .map(|s| {
                s.data.capacity()
                    + match &s.layout {
                        Layout::Single(_) => 0,
                        Layout::Chunked(parts) => std::mem::size_of_val(&**parts),
                    }
            })
            .sum();
        self.slots.capacity() * std::mem::size_of::<Option<Slot>>()
            + data
            + self.free_slots.capacity() * 4
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }

    /// Counts a client connection opening (`curr_connections`, `total_connections`).
    pub fn connection_opened(&mut self) {
        self.counters.curr_connections += 1;
        self.counters.total_connections += 1;
    }

    /// Counts a client connection closing.
    pub fn connection_closed(&mut self) {
        self.counters.curr_connections = self.counters.curr_connections.saturating_sub(1);
    }

    // ---- time -------------------------------------------------------------------------

    /// Converts a protocol exptime to an absolute expiry (`realtime`): 0 never, up to 30
    /// days relative, larger absolute, negative already expired.
    fn expiry(&self, exptime: i64, now: u64) -> u64 {
        match exptime {
            0 => NEVER,
            e if e < 0 => 0,
            e if e > REALTIME_MAXDELTA => e as u64,
            e => now.saturating_add(e as u64),
        }
    }

    fn is_flushed(&self, slot: &Slot, now: u64) -> bool {
        match self.flush {
            Some(f) if f.oldest_live <= now => {
                slot.time <= f.oldest_live || (f.oldest_cas != 0 && slot.cas < f.oldest_cas)
            }
            _ => false,
        }
    }

    fn is_dead(&self, slot: &Slot, now: u64) -> bool {
        slot.exp <= now || self.is_flushed(slot, now)
    }

    /// Dead as an LRU tail pull and the page mover see it (`lru_pull_tail`,
    /// `slab_rebalance_move`): expired strictly before now (a lookup, `do_item_get`, already
    /// counts an item expiring this second as gone), or flushed.
    fn is_dead_at_tail(&self, slot: &Slot, now: u64) -> bool {
        (slot.exp != NEVER && slot.exp < now) || self.is_flushed(slot, now)
    }

    /// The live item under `key`, counting nothing and moving nothing (the meta
    /// protocol's `t` and `c` return flags after an arithmetic command).
    pub fn peek(&self, key: &[u8]) -> Option<ItemRef<'_>> {
        let now = self.clock.now();
        let idx = self.find_index(key)?;
        (!self.is_dead(self.slot(idx), now)).then(|| self.item_ref(idx))
    }

    /// True when `key` holds a live item; counts nothing and moves nothing (for tests and
    /// reports; expired items found are left for a command to remove).
    pub fn contains(&self, key: &[u8]) -> bool {
        let now = self.clock.now();
        self.find_index(key)
            .is_some_and(|idx| !self.is_dead(self.slot(idx), now))
    }
}
