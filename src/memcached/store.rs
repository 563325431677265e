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
//!   reclaimed on the way, the first live one is evicted. The LRU crawler and the slab page
//!   mover are not modelled.
//! - **Expiry** is lazy: an expired or flushed item is removed when a command finds it, or
//!   when it reaches an LRU tail during allocation. Exptime follows memcached: 0 never;
//!   up to 30 days relative to now; above that an absolute unix time; negative already
//!   expired (the item is stored but never seen).
//! - **Time** comes from a [`Clock`] the caller controls, in seconds.
//!
//! The store is single-threaded (`&mut self`); a server wraps it in a lock.

use hashbrown::HashTable;

use self::lru::{ClassLru, Segment};
use super::clock::Clock;
use super::slab::{self, KEY_MAX_LENGTH, Layout, Part, Settings, SlabClasses};

/// Relative exptimes go up to this many seconds (30 days); larger values are unix times.
pub const REALTIME_MAXDELTA: i64 = 60 * 60 * 24 * 30;

/// The version string `stats` reports.
pub const VERSION: &str = "1.6.18-cachelab";

const NIL: u32 = u32::MAX;
/// `exp` of an item that never expires.
const NEVER: u64 = u64::MAX;
/// Tail items `lru_pull_tail` examines per pull.
const PULL_TRIES: usize = 5;

mod lru;
pub use lru::ITEM_UPDATE_INTERVAL;

/// A key the store cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A zero-length key.
    #[error("key is empty")]
    Empty,
    /// A key longer than 250 bytes.
    #[error("key is {0} bytes; memcached keys are at most 250")]
    TooLong(usize),
}

/// What a storage command did (`doc/protocol.txt`, "Storage commands").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// `STORED`, with the item's new CAS id.
    Stored {
        /// The CAS id the stored item got (0 when CAS is off).
        cas: u64,
    },
    /// `NOT_STORED`: an `add` of a present key, a `replace`/`append`/`prepend` of a
    /// missing one, or an append whose combined item found no memory.
    NotStored,
    /// `EXISTS`: a `cas` whose id did not match.
    Exists,
    /// `NOT_FOUND`: a `cas` of a missing key.
    NotFound,
    /// `SERVER_ERROR object too large for cache`: larger than `-I`.
    TooLarge,
    /// `SERVER_ERROR out of memory storing object`: no chunk could be had.
    OutOfMemory,
}

/// Which storage command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// Store unconditionally.
    Set,
    /// Store only when the key is absent.
    Add,
    /// Store only when the key is present.
    Replace,
    /// Add the data after the present value (flags and exptime unchanged).
    Append,
    /// Add the data before the present value (flags and exptime unchanged).
    Prepend,
    /// Store only when the present item's CAS id equals the one given.
    Cas,
}

/// What `incr`/`decr` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaOutcome {
    /// The new value and the item's new CAS id.
    Value {
        /// The value after the operation.
        value: u64,
        /// The item's new CAS id.
        cas: u64,
    },
    /// `NOT_FOUND`.
    NotFound,
    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`.
    NonNumeric,
    /// `SERVER_ERROR out of memory` (the longer result needed a new item).
    OutOfMemory,
}

/// What a meta arithmetic command (`ma`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaDeltaOutcome {
    /// The delta was applied: the new value.
    Changed(u64),
    /// `N` created the missing counter at its initial value.
    Created(u64),
    /// `N` found no memory for the counter (`NS`).
    NotStored,
    /// `NF`: missing, and no `N`.
    NotFound,
    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`.
    NonNumeric,
    /// `SERVER_ERROR out of memory`.
    OutOfMemory,
}

/// What `delete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// `DELETED`.
    Deleted,
    /// `NOT_FOUND`.
    NotFound,
}

/// What a meta delete (`md`) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaDeleteOutcome {
    /// `HD`: removed, or marked stale.
    Deleted,
    /// `NF`.
    NotFound,
    /// `EX`: the item's CAS id is not the one given.
    Exists,
}

/// What `touch` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TouchOutcome {
    /// `TOUCHED`.
    Touched,
    /// `NOT_FOUND`.
    NotFound,
}

/// A live item as a retrieval command sees it; borrowed from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value (without the protocol's trailing `\r\n`).
    pub value: &'a [u8],
    /// Client flags.
    pub flags: u32,
    /// CAS id (0 when CAS is off).
    pub cas: u64,
    /// Absolute expiry time in clock seconds, `None` for never.
    pub expires_at: Option<u64>,
    /// memcached's `it->time` in clock seconds: when stored, or last bumped by a hit as the
    /// LRU mode says (see the `lru` module; not every hit).
    pub last_access: u64,
}

/// The win-token state `mg` reports (see [`Store::meta_get`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaState {
    /// This caller got the win token (`W`): it should recompute the value.
    pub won: bool,
    /// The token had already been given to another caller (`Z`).
    pub token_was_sent: bool,
    /// The item was invalidated (`X`).
    pub stale: bool,
    /// It had been read before this `mg` (`h`).
    pub fetched_before: bool,
    /// Seconds since its `it->time` before this `mg` (`l`): since stored or last bumped.
    pub idle: u64,
    /// The miss created the item (`N`).
    pub vivified: bool,
    /// Remaining seconds to live before this `mg` changed it (-1: never expires; for a
    /// vivified item -1, as memcached creates it before applying `N`'s TTL).
    pub ttl_before: i64,
}

/// What a meta get asks besides its key: the flags that change the item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaGetRequest {
    /// `T`: a new exptime.
    pub touch: Option<i64>,
    /// `N`: on a miss, create an empty item with this exptime (and win).
    pub vivify: Option<i64>,
    /// The last `N` comes after the last `T` in the request: memcached applies the flags
    /// in request order, so a vivified item then keeps `N`'s exptime rather than `T`'s.
    pub vivify_last: bool,
    /// `R`: give the win token when fewer seconds than this remain.
    pub recache: Option<i64>,
    /// Keep a reference to the item until [`Store::release_held`], as memcached does for
    /// the rest of a pipeline window (the protocol layer sets this; see `release_held`).
    pub hold: bool,
}

/// An item as the meta debug command `me` shows it (see [`Store::debug`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemDebug {
    /// Seconds until expiry, -1 for never (`exp=`).
    pub exptime: i64,
    /// Seconds since its `it->time` (`la=`): since stored or last bumped.
    pub last_access: u64,
    /// CAS id (`cas=`).
    pub cas: u64,
    /// Read since stored (`fetch=`).
    pub fetched: bool,
    /// Slab class of the item's LRU (`cls=`).
    pub class: u8,
    /// `ITEM_ntotal` (`size=`).
    pub size: u64,
}

/// Global counters, named as memcached's `stats` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
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

#[derive(Debug, Clone, Copy, Default)]
struct ClassMem {
    pages: u32,
    used: u64,
    requested: u64,
}

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
    clock: Clock,
    started: u64,
    slots: Vec<Option<Slot>>,
    free_slots: Vec<u32>,
    index: HashTable<u32>,
    /// Indexed by class id; entry 0 unused.
    mem: Vec<ClassMem>,
    lru: Vec<ClassLru>,
    class_counters: Vec<ClassCounters>,
    malloced: u64,
    cas_id: u64,
    flush: Option<Flush>,
    counters: Counters,
    /// Slots of items a meta get of the current pipeline window still references (see
    /// [`Store::release_held`]).
    held: Vec<u32>,
    curr_bytes: u64,
    /// An item allocation must not evict (held by the command in progress).
    pinned: u32,
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

/// Parses a stored value as `incr`/`decr` do (`safe_strtoull` on the item's data, which
/// always ends in `\r\n`): optional leading white space and sign, decimal digits that fit
/// in 64 bits, then white space, a NUL or the end. Only the byte after the digits is checked, so
/// `12 abc` counts as 12, as in memcached (found by the differential server tests).
fn parse_counter(value: &[u8]) -> Option<u64> {
    super::protocol::strtoull(value)
}

impl Store {
    /// An empty store with `settings` on `clock`; fails on settings that cannot make a class
    /// table ([`Settings::validate_table`]). A server should call [`Settings::validate`]
    /// first to refuse what memcached refuses.
    pub fn new(settings: Settings, clock: Clock) -> Result<Store, slab::ConfigError> {
        settings.validate_table()?;
        let classes = SlabClasses::new(&settings);
        let n = classes.classes().len() + 1;
        let started = clock.now();
        Ok(Store {
            settings,
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
            cas_id: 0,
            flush: None,
            counters: Counters::default(),
            curr_bytes: 0,
            pinned: NIL,
            held: Vec::new(),
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
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The global counters.
    pub fn counters(&self) -> &Counters {
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

    /// `stats reset`: zeroes the counters (global and per class); connection counts,
    /// items and memory are state, not counters, and stay.
    pub fn reset_stats(&mut self) {
        let (curr, total) = (
            self.counters.curr_connections,
            self.counters.total_connections,
        );
        self.counters = Counters {
            curr_connections: curr,
            total_connections: total,
            ..Counters::default()
        };
        self.class_counters.fill(ClassCounters::default());
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

    // ---- index and LRU ----------------------------------------------------------------

    #[inline]
    fn slot(&self, idx: u32) -> &Slot {
        self.slots[idx as usize]
            .as_ref()
            .expect("linked indexes point at live slots")
    }

    #[inline]
    fn slot_mut(&mut self, idx: u32) -> &mut Slot {
        self.slots[idx as usize]
            .as_mut()
            .expect("linked indexes point at live slots")
    }

    fn find_index(&self, key: &[u8]) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash(key), |&i| {
                slots[i as usize].as_ref().is_some_and(|s| s.key() == key)
            })
            .copied()
    }

    /// Looks a key up as `do_item_get` does: a flushed or expired item is removed and
    /// counted, and is a miss.
    fn lookup(&mut self, key: &[u8], now: u64) -> Option<u32> {
        let idx = self.find_index(key)?;
        let slot = self.slot(idx);
        if self.is_flushed(slot, now) {
            self.unlink(idx);
            self.counters.get_flushed += 1;
            return None;
        }
        if slot.exp <= now {
            self.unlink(idx);
            self.counters.get_expired += 1;
            return None;
        }
        Some(idx)
    }

    /// Links a new item: index, LRU head, counters, a fresh CAS id.
    fn link(&mut self, mut slot: Slot) -> (u32, u64) {
        let cas = if self.settings.use_cas {
            self.next_cas()
        } else {
            0
        };
        slot.cas = cas;
        slot.prev = NIL;
        slot.next = NIL;
        slot.seg = self.first_segment();
        let total = slot.total;
        let key_hash = hash(slot.key());
        let idx = match self.free_slots.pop() {
            Some(idx) => {
                self.slots[idx as usize] = Some(slot);
                idx
            }
            None => {
                let idx = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&i| i != NIL)
                    .expect("fewer than 2^32 - 1 items: each takes at least one 96-byte chunk");
                self.slots.push(Some(slot));
                idx
            }
        };
        let slots = &self.slots;
        self.index.insert_unique(key_hash, idx, |&i| {
            slots[i as usize].as_ref().map_or(0, |s| hash(s.key()))
        });
        self.lru_push_head(idx);
        self.counters.total_items += 1;
        self.curr_bytes += total;
        (idx, cas)
    }

    /// Replaces a live item with a new one of the same key, as `unlink` then `link` would
    /// (`do_item_replace`): the old chunks are freed, the new item gets a fresh CAS id and
    /// goes to its LRU's head, and it takes the old item's slot, which is the slot `link`
    /// would pop from the free list. Reusing the slot and its index entry spares hashing the
    /// key twice, a hash-table remove and insert, and a heap allocation per write.
    fn replace_in_place(
        &mut self,
        idx: u32,
        value: &[u8],
        flags: u32,
        exp: u64,
        now: u64,
        layout: Layout,
    ) -> u64 {
        self.lru_remove(idx);
        let cas = if self.settings.use_cas {
            self.next_cas()
        } else {
            0
        };
        let use_cas = self.settings.use_cas;
        let s = self.slot_mut(idx);
        let key_len = usize::from(s.key_len);
        let old_total = s.total;
        let old_layout = std::mem::replace(&mut s.layout, layout);
        // Keep the buffer exactly as large as `new_slot` would make it (heap_bytes counts it).
        if s.data.capacity() == key_len + value.len() {
            s.data.truncate(key_len);
            s.data.extend_from_slice(value);
        } else {
            let mut data = Vec::with_capacity(key_len + value.len());
            data.extend_from_slice(&s.data[..key_len]);
            data.extend_from_slice(value);
            s.data = data;
        }
        s.flags = flags;
        s.exp = exp;
        s.time = now;
        s.cas = cas;
        s.total = slab::item_total(key_len, value.len(), flags, use_cas);
        s.fetched = false;
        s.active = false;
        s.token_sent = false;
        s.stale = false;
        let total = s.total;
        // A new item: it starts where `link` starts one (HOT when segmented).
        let first = self.first_segment();
        self.slot_mut(idx).seg = first;
        self.free_layout(&old_layout);
        self.curr_bytes = self.curr_bytes - old_total + total;
        self.lru_push_head(idx);
        self.counters.total_items += 1;
        if !self.held.is_empty() {
            // A new item in the old one's slot: not held (see `unlink`).
            self.held.retain(|&h| h != idx);
        }
        cas
    }

    /// Unlinks an item and frees its memory.
    fn unlink(&mut self, idx: u32) {
        self.lru_remove(idx);
        let key_hash = hash(self.slot(idx).key());
        if let Ok(entry) = self.index.find_entry(key_hash, |&i| i == idx) {
            entry.remove();
        }
        let slot = self.slots[idx as usize]
            .take()
            .expect("linked indexes point at live slots");
        self.curr_bytes -= slot.total;
        self.free_layout(&slot.layout);
        self.free_slots.push(idx);
        if !self.held.is_empty() {
            // The memory is gone from the index; a new item in this slot is not held.
            self.held.retain(|&h| h != idx);
        }
    }

    fn next_cas(&mut self) -> u64 {
        self.cas_id += 1;
        self.cas_id
    }

    // ---- memory -----------------------------------------------------------------------

    fn free_layout(&mut self, layout: &Layout) {
        for part in layout.parts() {
            let mem = &mut self.mem[usize::from(part.class)];
            mem.used -= 1;
            mem.requested -= u64::from(part.size);
        }
    }

    /// Takes a free chunk of `class`, adding a page if the limit allows (`do_slabs_alloc`).
    fn take_chunk(&mut self, part: Part) -> bool {
        let class = usize::from(part.class);
        let perslab = self
            .classes
            .get(part.class)
            .map_or(0, |c| u64::from(c.perslab));
        let page = u64::from(self.settings.slab_page_size);
        let mem = &mut self.mem[class];
        if mem.used >= u64::from(mem.pages) * perslab {
            // `do_slabs_newslab`: a class's first page is granted even past the limit.
            if self.malloced + page > self.settings.max_bytes && mem.pages > 0 {
                return false;
            }
            mem.pages += 1;
            self.malloced += page;
        }
        mem.used += 1;
        mem.requested += u64::from(part.size);
        true
    }

    /// Allocates every chunk of `layout`, or none (counting `outofmemory` on failure).
    fn alloc_layout(&mut self, layout: &Layout, now: u64) -> bool {
        let parts = layout.parts();
        for (i, &part) in parts.iter().enumerate() {
            if !self.alloc_part(part, now) {
                for &done in &parts[..i] {
                    let mem = &mut self.mem[usize::from(done.class)];
                    mem.used -= 1;
                    mem.requested -= u64::from(done.size);
                }
                let lru = match layout {
                    Layout::Single(p) => p.class,
                    Layout::Chunked(_) => self.classes.largest(),
                };
                self.class_counters[usize::from(lru)].outofmemory += 1;
                return false;
            }
        }
        true
    }

    fn new_slot(
        &self,
        key: &[u8],
        value_parts: [&[u8]; 2],
        flags: u32,
        exp: u64,
        now: u64,
        layout: Layout,
    ) -> Slot {
        let value_len = value_parts[0].len() + value_parts[1].len();
        let mut data = Vec::with_capacity(key.len() + value_len);
        data.extend_from_slice(key);
        data.extend_from_slice(value_parts[0]);
        data.extend_from_slice(value_parts[1]);
        Slot {
            data,
            key_len: key.len() as u8,
            flags,
            exp,
            time: now,
            cas: 0,
            total: slab::item_total(key.len(), value_len, flags, self.settings.use_cas),
            layout,
            prev: NIL,
            next: NIL,
            seg: Segment::Cold,
            fetched: false,
            active: false,
            token_sent: false,
            stale: false,
        }
    }

    fn item_ref(&self, idx: u32) -> ItemRef<'_> {
        let s = self.slot(idx);
        ItemRef {
            key: s.key(),
            value: s.value(),
            flags: s.flags,
            cas: s.cas,
            expires_at: (s.exp != NEVER).then_some(s.exp),
            last_access: s.time,
        }
    }

    // ---- retrieval --------------------------------------------------------------------

    /// `get`/`gets` of one key: the item on a hit (which moves it to its LRU head).
    pub fn get(&mut self, key: &[u8]) -> Result<Option<ItemRef<'_>>, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        self.counters.cmd_get += 1;
        match self.lookup(key, now) {
            Some(idx) => {
                self.counters.get_hits += 1;
                let class = usize::from(self.slot(idx).lru());
                self.class_counters[class].get_hits += 1;
                self.bump(idx, now);
                Ok(Some(self.item_ref(idx)))
            }
            None => {
                self.counters.get_misses += 1;
                Ok(None)
            }
        }
    }

    /// `gat`/`gats` of one key: a `get` that also sets a new exptime on a hit. Counted as
    /// memcached counts it: `cmd_get` and `cmd_touch`, then `touch_hits` or `touch_misses`.
    pub fn gat(&mut self, key: &[u8], exptime: i64) -> Result<Option<ItemRef<'_>>, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        self.counters.cmd_get += 1;
        self.counters.cmd_touch += 1;
        match self.lookup(key, now) {
            Some(idx) => {
                self.counters.touch_hits += 1;
                let class = usize::from(self.slot(idx).lru());
                self.class_counters[class].touch_hits += 1;
                let exp = self.expiry(exptime, now);
                self.slot_mut(idx).exp = exp;
                self.bump_touched(idx, now);
                Ok(Some(self.item_ref(idx)))
            }
            None => {
                self.counters.touch_misses += 1;
                Ok(None)
            }
        }
    }

    /// `touch`: sets a new exptime on a present item.
    pub fn touch(&mut self, key: &[u8], exptime: i64) -> Result<TouchOutcome, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        self.counters.cmd_touch += 1;
        match self.lookup(key, now) {
            Some(idx) => {
                self.counters.touch_hits += 1;
                let class = usize::from(self.slot(idx).lru());
                self.class_counters[class].touch_hits += 1;
                let exp = self.expiry(exptime, now);
                self.slot_mut(idx).exp = exp;
                self.bump_touched(idx, now);
                Ok(TouchOutcome::Touched)
            }
            None => {
                self.counters.touch_misses += 1;
                Ok(TouchOutcome::NotFound)
            }
        }
    }

    /// Meta get (`mg`) with its recache flags, counted as memcached counts it: a hit with
    /// `T` is a touch hit (`cmd_touch`, `touch_hits`), any other hit a get hit, and every
    /// miss a get miss. On a miss with `vivify` (`N`) an empty item is added (not counted
    /// as a set; the read counts as a hit) and this caller wins; on a hit, a stale item or
    /// one whose remaining TTL is below `recache` (`R`) gives the win token to the first
    /// caller only; later callers see that it was sent (`Z`).
    pub fn meta_get(
        &mut self,
        key: &[u8],
        request: MetaGetRequest,
    ) -> Result<Option<(ItemRef<'_>, MetaState)>, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        let found = self.lookup(key, now);
        let (idx, vivified) = match (found, request.vivify) {
            (Some(idx), _) => (idx, false),
            (None, Some(exptime)) => match self.create_uncounted(key, b"", exptime, now) {
                Some(idx) => (idx, true),
                None => (NIL, false),
            },
            (None, None) => (NIL, false),
        };
        if idx == NIL {
            self.counters.cmd_get += 1;
            self.counters.get_misses += 1;
            return Ok(None);
        }
        let class = usize::from(self.slot(idx).lru());
        if request.touch.is_some() {
            self.counters.cmd_touch += 1;
            self.counters.touch_hits += 1;
            self.class_counters[class].touch_hits += 1;
        } else {
            self.counters.cmd_get += 1;
            self.counters.get_hits += 1;
            self.class_counters[class].get_hits += 1;
        }
        let s = self.slot(idx);
        let ttl_before = if vivified || s.exp == NEVER {
            -1
        } else {
            i64::try_from(s.exp.saturating_sub(now)).unwrap_or(i64::MAX)
        };
        let mut state = MetaState {
            won: vivified,
            token_was_sent: !vivified && s.token_sent,
            stale: s.stale,
            // memcached counts the vivifying read as the first fetch.
            fetched_before: !vivified && s.fetched,
            idle: if vivified {
                0
            } else {
                now.saturating_sub(s.time)
            },
            vivified,
            ttl_before,
        };
        let exptime = match (vivified, request.touch) {
            (true, Some(_)) if request.vivify_last => None,
            (_, touch) => touch,
        };
        if let Some(exptime) = exptime {
            let exp = self.expiry(exptime, now);
            self.slot_mut(idx).exp = exp;
        }
        self.bump(idx, now);
        let s = self.slot(idx);
        let remaining = i64::try_from(s.exp.saturating_sub(now)).unwrap_or(i64::MAX);
        let due = request
            .recache
            .is_some_and(|r| s.exp != NEVER && remaining < r);
        if vivified {
            self.slot_mut(idx).token_sent = true;
        } else if !s.token_sent && (s.stale || due) {
            state.won = true;
            self.slot_mut(idx).token_sent = true;
        }
        if request.hold {
            self.held.push(idx);
        }
        Ok(Some((self.item_ref(idx), state)))
    }

    /// Meta arithmetic (`ma`), counted as memcached counts it: the delta of `incr`/`decr`
    /// on a present counter (then `touch`, `T`, sets its exptime without counting a
    /// touch); on a missing one with `vivify` (`N`: initial value, exptime) the counter is
    /// created, counted as neither a set nor a miss.
    pub fn meta_delta(
        &mut self,
        key: &[u8],
        incr: bool,
        delta: u64,
        vivify: Option<(u64, i64)>,
        touch: Option<i64>,
    ) -> Result<MetaDeltaOutcome, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        if let Some((initial, exptime)) = vivify
            && self.lookup(key, now).is_none()
        {
            let mut digits = itoa::Buffer::new();
            let value = digits.format(initial).as_bytes();
            return Ok(match self.create_uncounted(key, value, exptime, now) {
                Some(_) => MetaDeltaOutcome::Created(initial),
                None => MetaDeltaOutcome::NotStored,
            });
        }
        Ok(match self.delta(key, delta, incr)? {
            DeltaOutcome::Value { value, .. } => {
                // The delta may have replaced the item: find it again.
                if let (Some(exptime), Some(idx)) = (touch, self.find_index(key)) {
                    let exp = self.expiry(exptime, now);
                    self.slot_mut(idx).exp = exp;
                }
                MetaDeltaOutcome::Changed(value)
            }
            DeltaOutcome::NotFound => MetaDeltaOutcome::NotFound,
            DeltaOutcome::NonNumeric => MetaDeltaOutcome::NonNumeric,
            DeltaOutcome::OutOfMemory => MetaDeltaOutcome::OutOfMemory,
        })
    }

    /// Allocates and links a new item for a key with no live item under it (the caller
    /// has looked it up, which reclaims a dead one).
    fn create_uncounted(
        &mut self,
        key: &[u8],
        value: &[u8],
        exptime: i64,
        now: u64,
    ) -> Option<u32> {
        let layout = self
            .classes
            .layout(key.len(), value.len(), 0, self.settings.use_cas)?;
        if !self.alloc_layout(&layout, now) {
            return None;
        }
        let exp = self.expiry(exptime, now);
        let slot = self.new_slot(key, [value, &[]], 0, exp, now, layout);
        let (idx, _) = self.link(slot);
        Some(idx)
    }

    /// The remaining seconds to live an exptime gives from now, as the meta `t` flag
    /// shows it (-1: never expires).
    pub fn ttl_of(&self, exptime: i64) -> i64 {
        let now = self.clock.now();
        match self.expiry(exptime, now) {
            NEVER => -1,
            exp => i64::try_from(exp.saturating_sub(now)).unwrap_or(i64::MAX),
        }
    }

    /// Ends a pipeline window, releasing every item a meta get held
    /// ([`MetaGetRequest::hold`]). memcached keeps a reference to every item a meta get
    /// hit until the window's replies are flushed (after 21 commands, at the end of what
    /// one read brought, or at `mn`) or the next classic `get`/`gets`/`gat`/`gats`. While
    /// an item is held, `incr`, `decr` and `ma` cannot rewrite it in place and store a new
    /// item instead (not marked fetched, no padding).
    pub fn release_held(&mut self) {
        self.held.clear();
    }

    /// Meta delete (`md`). With `cas`, only an item whose CAS id is `cas` is touched; a
    /// mismatch is `Exists`, counted as a delete miss as memcached counts it. With
    /// `invalidate` (`I`, and a new exptime when given) the item is marked stale instead
    /// of removed: it gets a new CAS id and its win token is cleared, and memcached counts
    /// nothing; otherwise it is a `delete`.
    pub fn meta_delete(
        &mut self,
        key: &[u8],
        cas: Option<u64>,
        invalidate: Option<Option<i64>>,
    ) -> Result<MetaDeleteOutcome, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        let Some(idx) = self.lookup(key, now) else {
            self.counters.delete_misses += 1;
            return Ok(MetaDeleteOutcome::NotFound);
        };
        if cas.is_some_and(|cas| cas != self.slot(idx).cas) {
            self.counters.delete_misses += 1;
            return Ok(MetaDeleteOutcome::Exists);
        }
        let Some(exptime) = invalidate else {
            let class = usize::from(self.slot(idx).lru());
            self.class_counters[class].delete_hits += 1;
            self.counters.delete_hits += 1;
            self.unlink(idx);
            return Ok(MetaDeleteOutcome::Deleted);
        };
        let exp = exptime.map(|e| self.expiry(e, now));
        let cas = if self.settings.use_cas {
            self.next_cas()
        } else {
            0
        };
        let s = self.slot_mut(idx);
        s.cas = cas;
        s.stale = true;
        s.token_sent = false;
        if let Some(exp) = exp {
            s.exp = exp;
        }
        Ok(MetaDeleteOutcome::Deleted)
    }

    /// What the meta debug command `me` reports about a live item, counting nothing and
    /// moving nothing: exptime relative to now (-1 for never), seconds since last access,
    /// CAS id, whether it was read, its LRU's slab class, and `ITEM_ntotal`.
    pub fn debug(&self, key: &[u8]) -> Option<ItemDebug> {
        let now = self.clock.now();
        let idx = self.find_index(key)?;
        let s = self.slot(idx);
        if self.is_dead(s, now) {
            return None;
        }
        Some(ItemDebug {
            exptime: if s.exp == NEVER {
                -1
            } else {
                i64::try_from(s.exp.saturating_sub(now)).unwrap_or(i64::MAX)
            },
            last_access: now.saturating_sub(s.time),
            cas: s.cas,
            fetched: s.fetched,
            class: s.lru(),
            size: s.total,
        })
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

    // ---- storage ----------------------------------------------------------------------

    /// `set`.
    pub fn set(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreOutcome, KeyError> {
        self.store(StoreMode::Set, key, value, flags, exptime, 0)
    }

    /// `add`.
    pub fn add(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreOutcome, KeyError> {
        self.store(StoreMode::Add, key, value, flags, exptime, 0)
    }

    /// `replace`.
    pub fn replace(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
    ) -> Result<StoreOutcome, KeyError> {
        self.store(StoreMode::Replace, key, value, flags, exptime, 0)
    }

    /// `append` (the item keeps its flags and exptime).
    pub fn append(&mut self, key: &[u8], value: &[u8]) -> Result<StoreOutcome, KeyError> {
        self.store(StoreMode::Append, key, value, 0, 0, 0)
    }

    /// `prepend` (the item keeps its flags and exptime).
    pub fn prepend(&mut self, key: &[u8], value: &[u8]) -> Result<StoreOutcome, KeyError> {
        self.store(StoreMode::Prepend, key, value, 0, 0, 0)
    }

    /// `cas`: stores when the present item's CAS id is `cas_unique`.
    pub fn cas(
        &mut self,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
        cas_unique: u64,
    ) -> Result<StoreOutcome, KeyError> {
        self.store(StoreMode::Cas, key, value, flags, exptime, cas_unique)
    }

    /// Any storage command (`process_update_command` + `do_store_item`). `cas_in` is
    /// compared for [`StoreMode::Cas`], and for append/prepend when not 0 (the meta
    /// protocol's `C` flag); `flags` and `exptime` are ignored by append/prepend.
    pub fn store(
        &mut self,
        mode: StoreMode,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
        cas_in: u64,
    ) -> Result<StoreOutcome, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        let use_cas = self.settings.use_cas;
        // The incoming item is allocated before anything looks at the key.
        let Some(layout) = self.classes.layout(key.len(), value.len(), flags, use_cas) else {
            self.counters.store_too_large += 1;
            self.drop_on_failed_set(mode, key, now);
            return Ok(StoreOutcome::TooLarge);
        };
        if !self.alloc_layout(&layout, now) {
            self.counters.store_no_memory += 1;
            self.drop_on_failed_set(mode, key, now);
            return Ok(StoreOutcome::OutOfMemory);
        }
        let lru_class = match &layout {
            Layout::Single(p) => p.class,
            Layout::Chunked(_) => self.classes.largest(),
        };
        self.class_counters[usize::from(lru_class)].cmd_set += 1;
        self.counters.cmd_set += 1;

        let exp = self.expiry(exptime, now);
        let old = self.lookup(key, now);
        let outcome = match (old, mode) {
            (None, StoreMode::Set | StoreMode::Add) => {
                let slot = self.new_slot(key, [value, &[]], flags, exp, now, layout);
                let (_, cas) = self.link(slot);
                return Ok(StoreOutcome::Stored { cas });
            }
            (None, StoreMode::Cas) => {
                self.counters.cas_misses += 1;
                StoreOutcome::NotFound
            }
            (None, _) => StoreOutcome::NotStored,
            (Some(old), StoreMode::Add) => {
                // "add only adds a nonexistent item, but promote to head of LRU".
                self.update(old, now);
                StoreOutcome::NotStored
            }
            (Some(old), StoreMode::Set | StoreMode::Replace) => {
                let cas = self.replace_in_place(old, value, flags, exp, now, layout);
                return Ok(StoreOutcome::Stored { cas });
            }
            (Some(old), StoreMode::Cas) => {
                let class = usize::from(self.slot(old).lru());
                if cas_in != 0 && self.slot(old).cas == cas_in {
                    self.class_counters[class].cas_hits += 1;
                    self.counters.cas_hits += 1;
                    let cas = self.replace_in_place(old, value, flags, exp, now, layout);
                    return Ok(StoreOutcome::Stored { cas });
                }
                self.class_counters[class].cas_badval += 1;
                self.counters.cas_badval += 1;
                StoreOutcome::Exists
            }
            (Some(old), StoreMode::Append | StoreMode::Prepend) => {
                if cas_in != 0 && self.slot(old).cas != cas_in {
                    StoreOutcome::Exists
                } else {
                    self.append_into(old, key, value, mode == StoreMode::Append, now)
                }
            }
        };
        // Not linked: the incoming item's memory goes back.
        self.free_layout(&layout);
        Ok(outcome)
    }

    /// Builds the combined item of an append or prepend while the old one is held.
    fn append_into(
        &mut self,
        old: u32,
        key: &[u8],
        data: &[u8],
        append: bool,
        now: u64,
    ) -> StoreOutcome {
        let (flags, exp, old_len) = {
            let s = self.slot(old);
            (s.flags, s.exp, s.value().len())
        };
        let use_cas = self.settings.use_cas;
        let Some(layout) = self
            .classes
            .layout(key.len(), old_len + data.len(), flags, use_cas)
        else {
            return StoreOutcome::NotStored;
        };
        self.pinned = old;
        let ok = self.alloc_layout(&layout, now);
        self.pinned = NIL;
        if !ok {
            return StoreOutcome::NotStored;
        }
        let old_slot = self.slot(old);
        let parts: [&[u8]; 2] = if append {
            [old_slot.value(), data]
        } else {
            [data, old_slot.value()]
        };
        let slot = self.new_slot(key, parts, flags, exp, now, layout);
        self.unlink(old);
        let (_, cas) = self.link(slot);
        StoreOutcome::Stored { cas }
    }

    /// A storage command whose data is larger than any item (`-I`), refused before its
    /// data was read (the server skips the data): counts `store_too_large` and, for `set`,
    /// removes the key's old value, as [`Store::store`] does for a too-large item.
    pub fn reject_too_large(&mut self, mode: StoreMode, key: &[u8]) -> Result<(), KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        self.counters.store_too_large += 1;
        self.drop_on_failed_set(mode, key, now);
        Ok(())
    }

    /// "Avoid stale data persisting in cache because we failed alloc": a failed `set`
    /// removes the key's old item.
    fn drop_on_failed_set(&mut self, mode: StoreMode, key: &[u8], now: u64) {
        if mode == StoreMode::Set
            && let Some(idx) = self.lookup(key, now)
        {
            self.unlink(idx);
        }
    }

    // ---- delete, arithmetic, flush ----------------------------------------------------

    /// `delete`.
    pub fn delete(&mut self, key: &[u8]) -> Result<DeleteOutcome, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        match self.lookup(key, now) {
            Some(idx) => {
                let class = usize::from(self.slot(idx).lru());
                self.class_counters[class].delete_hits += 1;
                self.counters.delete_hits += 1;
                self.unlink(idx);
                Ok(DeleteOutcome::Deleted)
            }
            None => {
                self.counters.delete_misses += 1;
                Ok(DeleteOutcome::NotFound)
            }
        }
    }

    /// `incr`: adds `delta`, wrapping at 2^64.
    pub fn incr(&mut self, key: &[u8], delta: u64) -> Result<DeltaOutcome, KeyError> {
        self.delta(key, delta, true)
    }

    /// `decr`: subtracts `delta`, stopping at 0.
    pub fn decr(&mut self, key: &[u8], delta: u64) -> Result<DeltaOutcome, KeyError> {
        self.delta(key, delta, false)
    }

    /// `do_add_delta`. The result is written in place, padded with spaces, when its digits
    /// fit in the old value (so `decr` of `10` by 1 reads back as `9 `) and no meta get of
    /// this pipeline window holds the item ([`Store::release_held`]); otherwise a new item
    /// of the new length replaces the old one.
    fn delta(&mut self, key: &[u8], delta: u64, incr: bool) -> Result<DeltaOutcome, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        let Some(idx) = self.lookup(key, now) else {
            if incr {
                self.counters.incr_misses += 1;
            } else {
                self.counters.decr_misses += 1;
            }
            return Ok(DeltaOutcome::NotFound);
        };
        let slot = self.slot(idx);
        if slot.value().is_empty() || matches!(slot.layout, Layout::Chunked(_)) {
            return Ok(DeltaOutcome::NonNumeric);
        }
        let Some(current) = parse_counter(slot.value()) else {
            return Ok(DeltaOutcome::NonNumeric);
        };
        let (class, old_len, key_len) = (
            usize::from(slot.lru()),
            slot.value().len(),
            usize::from(slot.key_len),
        );
        let (flags, exp) = (slot.flags, slot.exp);
        let value = if incr {
            current.wrapping_add(delta)
        } else {
            current.saturating_sub(delta)
        };
        if incr {
            self.class_counters[class].incr_hits += 1;
            self.counters.incr_hits += 1;
        } else {
            self.class_counters[class].decr_hits += 1;
            self.counters.decr_hits += 1;
        }
        let mut digits = itoa::Buffer::new();
        let text = digits.format(value).as_bytes();
        let held = self.held.contains(&idx);
        if text.len() <= old_len && !held {
            let cas = if self.settings.use_cas {
                self.next_cas()
            } else {
                0
            };
            let s = self.slot_mut(idx);
            s.cas = cas;
            let stored = &mut s.data[key_len..];
            stored[..text.len()].copy_from_slice(text);
            stored[text.len()..].fill(b' ');
            self.update(idx, now);
            return Ok(DeltaOutcome::Value { value, cas });
        }
        let use_cas = self.settings.use_cas;
        let Some(layout) = self.classes.layout(key.len(), text.len(), flags, use_cas) else {
            return Ok(DeltaOutcome::OutOfMemory);
        };
        self.pinned = idx;
        let ok = self.alloc_layout(&layout, now);
        self.pinned = NIL;
        if !ok {
            return Ok(DeltaOutcome::OutOfMemory);
        }
        let new = self.new_slot(key, [text, &[]], flags, exp, now, layout);
        self.unlink(idx);
        let (_, cas) = self.link(new);
        Ok(DeltaOutcome::Value { value, cas })
    }

    /// `flush_all [delay]`: with `delay` 0 (or negative) every item stored so far becomes
    /// invisible now; with a delay (relative up to 30 days, else a unix time) items whose
    /// `it->time` (stored, or last bumped by a hit) is before that time become invisible once
    /// it comes. As memcached does,
    /// the boundary is one second early (`oldest_live = realtime(delay) - 1`).
    pub fn flush_all(&mut self, delay: i64) {
        let now = self.clock.now();
        self.counters.cmd_flush += 1;
        let new_oldest = if delay > 0 {
            self.expiry(delay, now)
        } else {
            now
        };
        let oldest_live = new_oldest.saturating_sub(1);
        let oldest_cas = if !self.settings.use_cas {
            0
        } else if oldest_live <= now {
            // Everything stored so far has a smaller CAS id: exact within the second.
            self.next_cas()
        } else {
            0
        };
        self.flush = Some(Flush {
            oldest_live,
            oldest_cas,
        });
    }

    // ---- statistics -------------------------------------------------------------------

    /// Memory and items per class that has pages, smallest class first.
    pub fn class_usage(&self) -> Vec<ClassUsage> {
        self.classes
            .classes()
            .iter()
            .filter_map(|c| {
                let mem = self.mem[usize::from(c.id)];
                if mem.pages == 0 {
                    return None;
                }
                let total = u64::from(mem.pages) * u64::from(c.perslab);
                Some(ClassUsage {
                    id: c.id,
                    chunk_size: c.chunk_size,
                    chunks_per_page: c.perslab,
                    total_pages: mem.pages,
                    used_chunks: mem.used,
                    free_chunks: total - mem.used,
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
            ("slab_reassign", "no".to_string()),
            ("slab_automove", "0".to_string()),
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

    /// Rebuilds every count from scratch and compares: index and LRUs agree, chunks and
    /// bytes add up. For tests after every step.
    pub fn validate(&self) -> Result<(), String> {
        let mut used = vec![0u64; self.mem.len()];
        let mut requested = vec![0u64; self.mem.len()];
        let mut items = 0usize;
        let mut bytes = 0u64;
        let segments = [Segment::Hot, Segment::Warm, Segment::Cold];
        for (class, seg, lru) in self
            .lru
            .iter()
            .enumerate()
            .flat_map(|(class, lru)| segments.map(|seg| (class, seg, lru.list(seg))))
        {
            if !self.settings.lru_segmented && seg != Segment::Cold && lru.len != 0 {
                return Err(format!("compat mode, but LRU {class} {seg:?} has items"));
            }
            let (mut idx, mut prev, mut n, mut lru_bytes) = (lru.head, NIL, 0u64, 0u64);
            while idx != NIL {
                let s = self.slots[idx as usize]
                    .as_ref()
                    .ok_or_else(|| format!("LRU {class} links free slot {idx}"))?;
                if s.prev != prev {
                    return Err(format!("slot {idx}: prev link broken"));
                }
                if usize::from(s.lru()) != class || s.seg != seg {
                    return Err(format!(
                        "slot {idx} on LRU {class} {seg:?} but belongs to {} {:?}",
                        s.lru(),
                        s.seg
                    ));
                }
                if s.active && !s.fetched {
                    return Err(format!("slot {idx} active but never fetched"));
                }
                if self.find_index(s.key()) != Some(idx) {
                    return Err(format!("slot {idx} not indexed under its key"));
                }
                for p in s.layout.parts() {
                    used[usize::from(p.class)] += 1;
                    requested[usize::from(p.class)] += u64::from(p.size);
                }
                n += 1;
                lru_bytes += s.total;
                prev = idx;
                idx = s.next;
            }
            if lru.tail != prev || lru.len != n || lru.bytes != lru_bytes {
                return Err(format!(
                    "LRU {class} {seg:?}: tail/len/bytes disagree with its links"
                ));
            }
            items += n as usize;
            bytes += lru_bytes;
        }
        if items != self.index.len() || bytes != self.curr_bytes {
            return Err(format!(
                "{items} items, {bytes} bytes on LRUs; index {} and bytes {}",
                self.index.len(),
                self.curr_bytes
            ));
        }
        let mut pages = 0u64;
        for c in self.classes.classes() {
            let m = self.mem[usize::from(c.id)];
            if m.used != used[usize::from(c.id)] || m.requested != requested[usize::from(c.id)] {
                return Err(format!(
                    "class {}: {} chunks / {} bytes counted, items hold {} / {}",
                    c.id,
                    m.used,
                    m.requested,
                    used[usize::from(c.id)],
                    requested[usize::from(c.id)]
                ));
            }
            if m.used > u64::from(m.pages) * u64::from(c.perslab) {
                return Err(format!(
                    "class {} uses more chunks than its pages hold",
                    c.id
                ));
            }
            pages += u64::from(m.pages);
        }
        if pages * u64::from(self.settings.slab_page_size) != self.malloced {
            return Err("pages and total_malloced disagree".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn store() -> (Store, Clock) {
        let clock = Clock::manual(NOW);
        (
            Store::new(Settings::default(), clock.clone()).unwrap(),
            clock,
        )
    }

    fn compat_store() -> (Store, Clock) {
        let clock = Clock::manual(NOW);
        let settings = Settings {
            lru_segmented: false,
            ..Settings::default()
        };
        (Store::new(settings, clock.clone()).unwrap(), clock)
    }

    fn value(store: &mut Store, key: &[u8]) -> Option<Vec<u8>> {
        store.get(key).unwrap().map(|item| item.value.to_vec())
    }

    fn stored(outcome: StoreOutcome) -> u64 {
        match outcome {
            StoreOutcome::Stored { cas } => cas,
            other => panic!("expected STORED, got {other:?}"),
        }
    }

    #[test]
    fn set_get_round_trips_binary_values_and_flags() {
        let (mut s, _) = store();
        let data = b"a\r\nb\0c\xff";
        stored(s.set(b"bin", data, 0xDEAD_BEEF, 0).unwrap());
        let item = s.get(b"bin").unwrap().unwrap();
        assert_eq!(
            (item.value, item.flags, item.expires_at),
            (&data[..], 0xDEAD_BEEF, None)
        );
        assert_eq!(value(&mut s, b"missing"), None);
        let c = s.counters();
        assert_eq!(
            (c.cmd_get, c.get_hits, c.get_misses, c.cmd_set),
            (2, 1, 1, 1)
        );
        s.validate().unwrap();
    }

    #[test]
    fn keys_must_be_1_to_250_bytes() {
        let (mut s, _) = store();
        assert_eq!(s.set(b"", b"v", 0, 0), Err(KeyError::Empty));
        assert_eq!(s.get(&[b'k'; 251]).err(), Some(KeyError::TooLong(251)));
        stored(s.set(&[b'k'; 250], b"v", 0, 0).unwrap());
    }

    #[test]
    fn item_sizes_and_stats_match_a_real_memcached() {
        // Observed on memcached 1.6.18 -m 16: `set foo 0 0 5` + `set foo2 1 0 5` (value
        // `hello`) gave bytes 139, items:1:mem_requested 139, 1:used_chunks 2,
        // total_malloced 1048576. By hand: 48+4+7+8 = 67 and 48+5+7+4+8 = 72.
        let (mut s, _) = store();
        stored(s.set(b"foo", b"hello", 0, 0).unwrap());
        stored(s.set(b"foo2", b"hello", 1, 0).unwrap());
        let stats: Vec<(String, String)> = s.stats();
        let get = |rows: &[(String, String)], k: &str| {
            rows.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(get(&stats, "bytes"), "139");
        assert_eq!(get(&stats, "curr_items"), "2");
        let slabs = s.stats_slabs();
        assert_eq!(get(&slabs, "1:chunk_size"), "96");
        assert_eq!(get(&slabs, "1:used_chunks"), "2");
        assert_eq!(get(&slabs, "1:free_chunks"), "10920");
        assert_eq!(get(&slabs, "1:cmd_set"), "2");
        assert_eq!(get(&slabs, "active_slabs"), "1");
        assert_eq!(get(&slabs, "total_malloced"), "1048576");
        let items = s.stats_items();
        assert_eq!(get(&items, "items:1:number"), "2");
        assert_eq!(get(&items, "items:1:mem_requested"), "139");
        // Waste: two 96-byte chunks hold 139 requested bytes.
        assert_eq!(s.waste(), 2 * 96 - 139);
        let settings = s.stats_settings();
        assert_eq!(get(&settings, "growth_factor"), "1.25");
        assert_eq!(get(&settings, "slab_chunk_max"), "524288");
        // memcached's field order for the general stats.
        let names: Vec<&str> = stats.iter().map(|(n, _)| n.as_str()).collect();
        let pos = |n: &str| names.iter().position(|&x| x == n).unwrap();
        assert!(pos("cmd_get") < pos("get_hits") && pos("get_hits") < pos("bytes"));
        assert!(pos("curr_items") < pos("total_items") && pos("total_items") < pos("evictions"));
    }

    #[test]
    fn add_and_replace_follow_presence() {
        let (mut s, _) = store();
        assert_eq!(
            s.replace(b"k", b"1", 0, 0).unwrap(),
            StoreOutcome::NotStored
        );
        stored(s.add(b"k", b"1", 0, 0).unwrap());
        assert_eq!(s.add(b"k", b"2", 0, 0).unwrap(), StoreOutcome::NotStored);
        assert_eq!(value(&mut s, b"k").unwrap(), b"1");
        stored(s.replace(b"k", b"3", 7, 0).unwrap());
        assert_eq!(s.get(b"k").unwrap().unwrap().flags, 7);
        // Every storage command that allocated counts in cmd_set, stored or not.
        assert_eq!(s.counters().cmd_set, 4);
        s.validate().unwrap();
    }

    #[test]
    fn append_and_prepend_keep_flags_and_exptime() {
        let (mut s, clock) = store();
        assert_eq!(s.append(b"a", b"x").unwrap(), StoreOutcome::NotStored);
        stored(s.set(b"a", b"hi", 5, 100).unwrap());
        stored(s.append(b"a", b"xyz").unwrap());
        stored(s.prepend(b"a", b"<").unwrap());
        let item = s.get(b"a").unwrap().unwrap();
        assert_eq!((item.value, item.flags), (&b"<hixyz"[..], 5));
        assert_eq!(item.expires_at, Some(NOW + 100));
        clock.advance(100);
        assert_eq!(value(&mut s, b"a"), None);
        s.validate().unwrap();
    }

    #[test]
    fn cas_stores_on_match_and_reports_exists_and_not_found() {
        let (mut s, _) = store();
        let first = stored(s.set(b"c", b"v1", 0, 0).unwrap());
        let second = stored(s.set(b"other", b"v", 0, 0).unwrap());
        assert!(second > first, "every store takes a new CAS id");
        assert_eq!(s.get(b"c").unwrap().unwrap().cas, first);
        assert_eq!(
            s.cas(b"c", b"v2", 0, 0, first + 100).unwrap(),
            StoreOutcome::Exists
        );
        let third = stored(s.cas(b"c", b"v2", 0, 0, first).unwrap());
        assert!(third > second);
        // The old id is stale now.
        assert_eq!(
            s.cas(b"c", b"v3", 0, 0, first).unwrap(),
            StoreOutcome::Exists
        );
        assert_eq!(
            s.cas(b"nope", b"v", 0, 0, 1).unwrap(),
            StoreOutcome::NotFound
        );
        // cas 0 never matches.
        assert_eq!(s.cas(b"c", b"v", 0, 0, 0).unwrap(), StoreOutcome::Exists);
        assert_eq!(value(&mut s, b"c").unwrap(), b"v2");
        let c = s.counters();
        assert_eq!((c.cas_hits, c.cas_badval, c.cas_misses), (1, 3, 1));
    }

    #[test]
    fn a_held_item_is_replaced_not_rewritten_in_place() {
        // Checked against memcached 1.6.18: `mg K` then `decr K 1` in one pipeline window
        // leaves `999999` (6 bytes, unfetched); after the window, `999999 ` in place.
        let (mut s, _) = store();
        stored(s.set(b"K", b"1000000", 0, 0).unwrap());
        assert!(s.get(b"K").unwrap().is_some());
        let hold = MetaGetRequest {
            hold: true,
            ..MetaGetRequest::default()
        };
        assert!(s.meta_get(b"K", hold).unwrap().is_some());
        assert!(matches!(
            s.decr(b"K", 1).unwrap(),
            DeltaOutcome::Value { value: 999_999, .. }
        ));
        let (_, state) = s
            .meta_get(b"K", MetaGetRequest::default())
            .unwrap()
            .unwrap();
        assert!(!state.fetched_before, "the new item was never fetched");
        assert_eq!(value(&mut s, b"K").unwrap(), b"999999");
        s.release_held();
        stored(s.set(b"K", b"1000000", 0, 0).unwrap());
        s.decr(b"K", 1).unwrap();
        assert_eq!(value(&mut s, b"K").unwrap(), b"999999 ");
        // The NUL ends a number as it ends C's string: "12\0x" counts as 12.
        stored(s.set(b"z", b"12\0x", 0, 0).unwrap());
        assert!(matches!(
            s.incr(b"z", 1).unwrap(),
            DeltaOutcome::Value { value: 13, .. }
        ));
    }

    #[test]
    fn incr_wraps_decr_floors_and_results_are_padded_in_place() {
        let (mut s, _) = store();
        assert_eq!(s.incr(b"n", 1).unwrap(), DeltaOutcome::NotFound);
        stored(s.set(b"n", b"10", 0, 0).unwrap());
        let bytes = s.bytes();
        assert!(matches!(
            s.decr(b"n", 1).unwrap(),
            DeltaOutcome::Value { value: 9, .. }
        ));
        // memcached writes the shorter number in place, padded with spaces.
        assert_eq!(value(&mut s, b"n").unwrap(), b"9 ");
        assert_eq!(s.bytes(), bytes);
        // "9 " is still numeric; 9 + (2^64 - 1) wraps to 8.
        assert!(matches!(
            s.incr(b"n", u64::MAX).unwrap(),
            DeltaOutcome::Value { value: 8, .. }
        ));
        assert!(matches!(
            s.decr(b"n", 100).unwrap(),
            DeltaOutcome::Value { value: 0, .. }
        ));
        // Growing past the old length makes a new, larger item.
        stored(s.set(b"g", b"99", 0, 0).unwrap());
        let bytes = s.bytes();
        assert!(matches!(
            s.incr(b"g", 1).unwrap(),
            DeltaOutcome::Value { value: 100, .. }
        ));
        assert_eq!(value(&mut s, b"g").unwrap(), b"100");
        assert_eq!(s.bytes(), bytes + 1);
        // Non-numeric values, empty values, leading whitespace.
        stored(s.set(b"t", b"abc", 0, 0).unwrap());
        assert_eq!(s.incr(b"t", 1).unwrap(), DeltaOutcome::NonNumeric);
        stored(s.set(b"e", b"", 0, 0).unwrap());
        assert_eq!(s.incr(b"e", 1).unwrap(), DeltaOutcome::NonNumeric);
        stored(s.set(b"w", b" 7 ", 0, 0).unwrap());
        assert!(matches!(
            s.incr(b"w", 1).unwrap(),
            DeltaOutcome::Value { value: 8, .. }
        ));
        assert_eq!(value(&mut s, b"w").unwrap(), b"8  ");
        stored(s.set(b"big", b"18446744073709551616", 0, 0).unwrap());
        assert_eq!(s.incr(b"big", 1).unwrap(), DeltaOutcome::NonNumeric);
        let c = s.counters();
        assert_eq!((c.incr_hits, c.incr_misses, c.decr_hits), (3, 1, 2));
        s.validate().unwrap();
    }

    #[test]
    fn exptime_follows_the_30_day_rule() {
        // Compat mode: in segmented mode the maintainer (run at each allocation) would
        // reclaim the dead items from HOT's tail before `len` is read.
        let (mut s, clock) = compat_store();
        stored(s.set(b"rel", b"v", 0, 10).unwrap());
        stored(s.set(b"month", b"v", 0, REALTIME_MAXDELTA).unwrap());
        // One more than 30 days is a unix time: 2592001 is January 1970, long past.
        stored(s.set(b"abs_past", b"v", 0, REALTIME_MAXDELTA + 1).unwrap());
        stored(s.set(b"abs", b"v", 0, (NOW + 20) as i64).unwrap());
        stored(s.set(b"neg", b"v", 0, -1).unwrap());
        assert_eq!(
            s.len(),
            5,
            "negative and past exptimes are stored, but invisible"
        );
        assert_eq!(value(&mut s, b"abs_past"), None);
        assert_eq!(value(&mut s, b"neg"), None);
        assert_eq!(s.counters().get_expired, 2);
        clock.advance(9);
        assert!(value(&mut s, b"rel").is_some());
        clock.advance(1); // NOW + 10: expired at exactly its exptime
        assert_eq!(value(&mut s, b"rel"), None);
        assert!(value(&mut s, b"abs").is_some());
        clock.advance(10);
        assert_eq!(value(&mut s, b"abs"), None);
        assert_eq!(
            s.get(b"month").unwrap().unwrap().expires_at,
            Some(NOW + REALTIME_MAXDELTA as u64)
        );
        s.validate().unwrap();
    }

    #[test]
    fn touch_and_gat_set_new_exptimes() {
        let (mut s, clock) = store();
        assert_eq!(s.touch(b"t", 10).unwrap(), TouchOutcome::NotFound);
        stored(s.set(b"t", b"v", 0, 5).unwrap());
        assert_eq!(s.touch(b"t", 100).unwrap(), TouchOutcome::Touched);
        clock.advance(50);
        let item = s.gat(b"t", 0).unwrap().unwrap();
        assert_eq!((item.value, item.expires_at), (&b"v"[..], None));
        clock.advance(1_000_000);
        assert!(value(&mut s, b"t").is_some());
        assert!(s.gat(b"none", 1).unwrap().is_none());
        let c = s.counters();
        assert_eq!((c.cmd_touch, c.touch_hits, c.touch_misses), (4, 2, 2));
    }

    #[test]
    fn delete_removes_and_counts() {
        let (mut s, _) = store();
        stored(s.set(b"d", b"v", 0, 0).unwrap());
        assert_eq!(s.delete(b"d").unwrap(), DeleteOutcome::Deleted);
        assert_eq!(s.delete(b"d").unwrap(), DeleteOutcome::NotFound);
        assert_eq!(
            (s.counters().delete_hits, s.counters().delete_misses),
            (1, 1)
        );
        assert_eq!((s.len(), s.bytes()), (0, 0));
        s.validate().unwrap();
    }

    #[test]
    fn flush_all_now_hides_everything_stored_so_far() {
        let (mut s, _) = store();
        stored(s.set(b"a", b"1", 0, 0).unwrap());
        s.flush_all(0);
        // Same second: the CAS id tells items before the flush from items after it.
        stored(s.set(b"b", b"2", 0, 0).unwrap());
        assert_eq!(value(&mut s, b"a"), None);
        assert_eq!(value(&mut s, b"b").unwrap(), b"2");
        // Storing `b` already reclaimed the flushed `a` from the tail of class 1.
        let c = s.counters();
        assert_eq!((c.reclaimed, c.get_flushed), (1, 0));
        s.validate().unwrap();
    }

    #[test]
    fn flush_all_with_delay_takes_effect_later() {
        let (mut s, clock) = store();
        stored(s.set(b"early", b"1", 0, 0).unwrap());
        // flush_all 10 at NOW: memcached sets oldest_live = NOW + 10 - 1, so items stored
        // or bumped at or before NOW + 9 vanish from NOW + 9 on.
        s.flush_all(10);
        clock.advance(5);
        stored(s.set(b"mid", b"2", 0, 0).unwrap());
        clock.advance(3); // NOW + 8
        assert!(value(&mut s, b"early").is_some());
        clock.advance(1); // NOW + 9
        assert_eq!(value(&mut s, b"early"), None);
        assert_eq!(value(&mut s, b"mid"), None);
        clock.advance(1); // NOW + 10
        stored(s.set(b"late", b"3", 0, 0).unwrap());
        assert!(value(&mut s, b"late").is_some());
    }

    #[test]
    fn too_large_items_are_refused_and_a_failed_set_drops_the_old_value() {
        let (mut s, _) = store();
        stored(s.set(b"k", b"small", 0, 0).unwrap());
        let huge = vec![0u8; 1 << 20];
        assert_eq!(s.set(b"k", &huge, 0, 0).unwrap(), StoreOutcome::TooLarge);
        assert_eq!(value(&mut s, b"k"), None);
        assert_eq!(s.counters().store_too_large, 1);
        // Largest that fits -I 1m: 1048576 - 48 - 2 - 2 - 8 bytes with a 1-byte key.
        let fits = vec![7u8; (1 << 20) - 60];
        stored(s.set(b"k", &fits, 0, 0).unwrap());
        assert_eq!(value(&mut s, b"k").unwrap().len(), fits.len());
        s.validate().unwrap();
    }

    #[test]
    fn large_items_take_chunks_from_several_classes() {
        let (mut s, _) = store();
        stored(s.set(b"big", &vec![1u8; 600_000], 0, 0).unwrap());
        let used: Vec<(u8, u64)> = s
            .class_usage()
            .iter()
            .map(|u| (u.id, u.used_chunks))
            .collect();
        // Header in class 2, one 512 KiB chunk (class 39), the rest in class 31
        // (see slab.rs for the arithmetic); the item is on class 39's LRU.
        assert_eq!(used, vec![(2, 1), (31, 1), (39, 1)]);
        assert_eq!(s.class_usage()[2].items, 1);
        assert_eq!(s.bytes(), 48 + 4 + 600_002 + 8);
        assert_eq!(s.delete(b"big").unwrap(), DeleteOutcome::Deleted);
        assert!(s.class_usage().iter().all(|u| u.used_chunks == 0));
        s.validate().unwrap();
    }

    /// `k00000`..: 48 + 7 + (10 + 2) + 8 = 75 bytes, class 1 (96-byte chunks, 10922 per page).
    fn small_key(i: usize) -> Vec<u8> {
        format!("k{i:05}").into_bytes()
    }

    fn one_page_store(evictions: bool) -> (Store, Clock) {
        one_page_store_with(evictions, true)
    }

    fn one_page_store_with(evictions: bool, lru_segmented: bool) -> (Store, Clock) {
        let clock = Clock::manual(NOW);
        let settings = Settings {
            max_bytes: 1 << 20,
            evictions,
            lru_segmented,
            ..Settings::default()
        };
        (Store::new(settings, clock.clone()).unwrap(), clock)
    }

    #[test]
    fn compat_mode_evicts_the_least_recently_bumped_item_of_the_class() {
        // 1 MiB limit: class 1 gets one page of 10922 chunks and no second page.
        let (mut s, clock) = one_page_store_with(true, false);
        stored(s.set(b"other-class", &[0u8; 500], 0, 0).unwrap()); // first page of class 9
        for i in 0..10_922 {
            stored(s.set(&small_key(i), b"0123456789", 0, 0).unwrap());
        }
        assert_eq!(s.counters().evictions, 0);
        // Read k00000 61 s later (a hit moves an item only when its last bump is over 60 s
        // old): k00001 is now the least recently bumped.
        clock.advance(61);
        assert!(value(&mut s, &small_key(0)).is_some());
        stored(s.set(&small_key(10_922), b"0123456789", 0, 0).unwrap());
        assert_eq!(s.counters().evictions, 1);
        assert!(!s.contains(&small_key(1)));
        assert!(s.contains(&small_key(0)));
        assert!(
            s.contains(b"other-class"),
            "another class's LRU is never touched"
        );
        stored(s.set(&small_key(10_923), b"0123456789", 0, 0).unwrap());
        assert!(!s.contains(&small_key(2)));
        assert_eq!(s.counters().evicted_unfetched, 2);
        assert_eq!(
            s.malloced(),
            2 << 20,
            "two first pages, both past the 1 MiB limit"
        );
        s.validate().unwrap();
    }

    #[test]
    fn allocation_reclaims_expired_tail_items_before_evicting() {
        let (mut s, clock) = one_page_store(true);
        for i in 0..10_922 {
            stored(s.set(&small_key(i), b"0123456789", 0, 60).unwrap());
        }
        clock.advance(60);
        stored(s.set(&small_key(20_000), b"0123456789", 0, 0).unwrap());
        let c = s.counters();
        assert_eq!(c.evictions, 0);
        assert!(c.reclaimed >= 1);
        assert_eq!(c.reclaimed, c.expired_unfetched);
        s.validate().unwrap();
    }

    #[test]
    fn without_evictions_a_full_class_is_out_of_memory() {
        let (mut s, _) = one_page_store(false);
        for i in 0..10_922 {
            stored(s.set(&small_key(i), b"0123456789", 0, 0).unwrap());
        }
        assert_eq!(
            s.set(&small_key(99_999), b"0123456789", 0, 0).unwrap(),
            StoreOutcome::OutOfMemory
        );
        // A failed set removes the key's old value (here it frees a chunk).
        assert_eq!(
            s.set(&small_key(5), b"0123456789", 0, 0).unwrap(),
            StoreOutcome::OutOfMemory
        );
        assert!(!s.contains(&small_key(5)));
        assert_eq!(s.counters().store_no_memory, 2);
        assert_eq!(s.class_counters()[1].outofmemory, 2);
        s.validate().unwrap();
    }
}

#[cfg(test)]
mod model_tests {
    //! The store run in step with a slow model: one `Vec` of items per slab class, most
    //! recent first, with the same page and chunk accounting written out plainly.

    use proptest::prelude::*;

    use super::*;

    /// Tiny pages so that a few dozen items fill classes: 4 KiB pages, 2 KiB chunks,
    /// a 12 KiB limit.
    /// Compat mode (`-o no_lru_maintainer`), whose LRU the model writes out; segmented mode
    /// has hand-worked cases in `lru.rs` and runs here only against the invariants.
    fn settings() -> Settings {
        Settings {
            max_bytes: 3 * 4096,
            slab_page_size: 4096,
            slab_chunk_max: 2048,
            item_size_max: 2048,
            lru_segmented: false,
            ..Settings::default()
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, u16),
        Add(u8, u16),
        Append(u8, u16),
        Get(u8),
        Delete(u8),
        /// Seconds pass.
        Tick(u8),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let key = 0u8..30;
        let len = 0u16..900;
        let op = prop_oneof![
            4 => (key.clone(), len.clone()).prop_map(|(k, l)| Op::Set(k, l)),
            1 => (key.clone(), len.clone()).prop_map(|(k, l)| Op::Add(k, l)),
            1 => (key.clone(), 0u16..400).prop_map(|(k, l)| Op::Append(k, l)),
            4 => key.clone().prop_map(Op::Get),
            1 => key.prop_map(Op::Delete),
            1 => (0u8..90).prop_map(Op::Tick),
        ];
        prop::collection::vec(op, 1..300)
    }

    /// Key, value, last bump time.
    type ModelItem = (Vec<u8>, Vec<u8>, u64);

    struct Model {
        classes: SlabClasses,
        page: u64,
        limit: u64,
        malloced: u64,
        pages: Vec<u64>,
        used: Vec<u64>,
        /// Per class, most recently bumped first.
        lru: Vec<Vec<ModelItem>>,
        evictions: u64,
        now: u64,
    }

    #[derive(Debug, PartialEq)]
    enum Res {
        Stored,
        NotStored,
        OutOfMemory,
        Value(Option<Vec<u8>>),
        Deleted(bool),
        Ticked,
    }

    impl Model {
        fn new(settings: &Settings) -> Model {
            let classes = SlabClasses::new(settings);
            let n = classes.classes().len() + 1;
            Model {
                classes,
                page: u64::from(settings.slab_page_size),
                limit: settings.max_bytes,
                malloced: 0,
                pages: vec![0; n],
                used: vec![0; n],
                lru: vec![Vec::new(); n],
                evictions: 0,
                now: NOW_MODEL,
            }
        }

        /// The class of an item, `None` when it is larger than any (then larger than `-I`
        /// too, as `settings()` makes the largest chunk the item size limit).
        fn class_of(&self, key_len: usize, value_len: usize) -> Option<usize> {
            // ITEM_ntotal by hand: header 48, key + NUL, value + CRLF, CAS 8 (flags 0).
            let total = 48 + key_len + 1 + value_len + 2 + 8;
            self.classes.class_for(total as u64).map(usize::from)
        }

        fn find(&self, key: &[u8]) -> Option<(usize, usize)> {
            self.lru
                .iter()
                .enumerate()
                .find_map(|(c, items)| items.iter().position(|(k, _, _)| k == key).map(|i| (c, i)))
        }

        fn alloc(&mut self, class: usize, pinned: Option<&[u8]>) -> bool {
            let perslab = u64::from(self.classes.get(class as u8).unwrap().perslab);
            if self.used[class] < self.pages[class] * perslab {
                self.used[class] += 1;
                return true;
            }
            if self.pages[class] == 0 || self.malloced + self.page <= self.limit {
                self.pages[class] += 1;
                self.malloced += self.page;
                self.used[class] += 1;
                return true;
            }
            // Evict the least recently used item of the class that is not held.
            let victim = self.lru[class]
                .iter()
                .rposition(|(k, _, _)| Some(k.as_slice()) != pinned);
            match victim {
                Some(i) => {
                    self.lru[class].remove(i);
                    self.evictions += 1;
                    true // the victim's chunk is reused
                }
                None => false,
            }
        }

        /// `do_item_update` in compat mode: to the head only when the last bump is over 60 s
        /// old.
        fn update(&mut self, c: usize, i: usize) {
            if self.lru[c][i].2 + 60 < self.now {
                let mut item = self.lru[c].remove(i);
                item.2 = self.now;
                self.lru[c].insert(0, item);
            }
        }

        fn remove(&mut self, key: &[u8]) -> Option<Vec<u8>> {
            let (c, i) = self.find(key)?;
            self.used[c] -= 1;
            Some(self.lru[c].remove(i).1)
        }

        fn apply(&mut self, op: &Op) -> Res {
            match *op {
                Op::Get(k) => {
                    let key = vec![b'k', k];
                    let Some((c, i)) = self.find(&key) else {
                        return Res::Value(None);
                    };
                    let value = self.lru[c][i].1.clone();
                    self.update(c, i);
                    Res::Value(Some(value))
                }
                Op::Tick(secs) => {
                    self.now += u64::from(secs);
                    Res::Ticked
                }
                Op::Delete(k) => Res::Deleted(self.remove(&[b'k', k]).is_some()),
                Op::Set(k, len) | Op::Add(k, len) | Op::Append(k, len) => {
                    let key = vec![b'k', k];
                    let data = vec![k.wrapping_add(len as u8); usize::from(len)];
                    let class = self
                        .class_of(key.len(), data.len())
                        .expect("generated values fit a class");
                    if !self.alloc(class, None) {
                        if matches!(op, Op::Set(..)) {
                            self.remove(&key);
                        }
                        return Res::OutOfMemory;
                    }
                    let present = self.find(&key);
                    let res = match (op, present) {
                        (Op::Set(..), _) | (Op::Add(..), None) => {
                            self.remove(&key);
                            self.lru[class].insert(0, (key, data, self.now));
                            return Res::Stored;
                        }
                        (Op::Add(..), Some((c, i))) => {
                            self.update(c, i);
                            Res::NotStored
                        }
                        (_, None) => Res::NotStored,
                        (_, Some((c, i))) => {
                            let mut combined = self.lru[c][i].1.clone();
                            combined.extend_from_slice(&data);
                            // A combined item too large for any class is not stored.
                            match self.class_of(key.len(), combined.len()) {
                                Some(new_class) if self.alloc(new_class, Some(&key)) => {
                                    self.remove(&key);
                                    self.lru[new_class].insert(0, (key, combined, self.now));
                                    Res::Stored
                                }
                                _ => Res::NotStored,
                            }
                        }
                    };
                    self.used[class] -= 1; // the incoming item was not linked
                    res
                }
            }
        }
    }

    fn apply(store: &mut Store, op: &Op) -> Res {
        let of = |outcome: StoreOutcome| match outcome {
            StoreOutcome::Stored { .. } => Res::Stored,
            StoreOutcome::NotStored => Res::NotStored,
            StoreOutcome::OutOfMemory => Res::OutOfMemory,
            other => panic!("unexpected {other:?}"),
        };
        match *op {
            Op::Get(k) => Res::Value(store.get(&[b'k', k]).unwrap().map(|i| i.value.to_vec())),
            Op::Tick(secs) => {
                store.clock().advance(u64::from(secs));
                Res::Ticked
            }
            Op::Delete(k) => {
                Res::Deleted(store.delete(&[b'k', k]).unwrap() == DeleteOutcome::Deleted)
            }
            Op::Set(k, len) | Op::Add(k, len) | Op::Append(k, len) => {
                let key = [b'k', k];
                let data = vec![k.wrapping_add(len as u8); usize::from(len)];
                of(match op {
                    Op::Set(..) => store.set(&key, &data, 0, 0),
                    Op::Add(..) => store.add(&key, &data, 0, 0),
                    _ => store.append(&key, &data),
                }
                .unwrap())
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn store_agrees_with_a_vec_model(ops in ops()) {
            agrees_with_model(&ops)?;
        }
    }

    /// An append whose combined item outgrows every class is `NOT_STORED` in both (the
    /// model once panicked on it instead).
    #[test]
    fn an_append_too_large_for_any_class_is_not_stored() {
        let ops = [
            Op::Set(1, 849),
            Op::Append(1, 399),
            Op::Append(1, 399),
            Op::Append(1, 399),
        ];
        agrees_with_model(&ops).unwrap();
    }

    /// Runs `ops` through the store and the model, step by step: the same replies, items,
    /// evictions and memory per class.
    fn agrees_with_model(ops: &[Op]) -> Result<(), TestCaseError> {
        let settings = settings();
        let mut store = Store::new(settings.clone(), Clock::manual(NOW_MODEL)).unwrap();
        let mut model = Model::new(&settings);
        for (step, op) in ops.iter().enumerate() {
            let got = apply(&mut store, op);
            let want = model.apply(op);
            prop_assert_eq!(&got, &want, "step {} {:?}", step, op);
            store
                .validate()
                .map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
            let items: usize = model.lru.iter().map(Vec::len).sum();
            prop_assert_eq!(store.len(), items, "step {} items", step);
            prop_assert_eq!(
                store.counters().evictions,
                model.evictions,
                "step {} evictions",
                step
            );
            prop_assert_eq!(store.malloced(), model.malloced, "step {} malloced", step);
            for c in store.classes().classes() {
                let id = usize::from(c.id);
                let usage = store.class_usage().into_iter().find(|u| u.id == c.id);
                let (used, pages) =
                    usage.map_or((0, 0), |u| (u.used_chunks, u64::from(u.total_pages)));
                prop_assert_eq!(
                    (used, pages),
                    (model.used[id], model.pages[id]),
                    "step {} class {}",
                    step,
                    id
                );
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Segmented mode against its invariants (lists, segments, flags, memory) and a map
        /// of the values last stored: every hit returns what was stored.
        #[test]
        fn segmented_store_keeps_its_invariants(ops in ops()) {
            let settings = Settings { lru_segmented: true, ..settings() };
            let mut store = Store::new(settings, Clock::manual(NOW_MODEL)).unwrap();
            let mut values: std::collections::HashMap<u8, Vec<u8>> = Default::default();
            for (step, op) in ops.iter().enumerate() {
                let got = apply(&mut store, op);
                match (op, got) {
                    (Op::Get(k), Res::Value(Some(v))) => {
                        prop_assert_eq!(Some(&v), values.get(k), "step {} get", step);
                    }
                    (Op::Get(k), Res::Value(None)) => {
                        values.remove(k);
                    }
                    (Op::Set(k, len) | Op::Add(k, len), Res::Stored) => {
                        values.insert(*k, vec![k.wrapping_add(*len as u8); usize::from(*len)]);
                    }
                    (Op::Set(k, _), _) => {
                        values.remove(k);
                    }
                    (Op::Append(k, len), Res::Stored) => {
                        let data = vec![k.wrapping_add(*len as u8); usize::from(*len)];
                        values.get_mut(k).expect("append needs the key").extend(data);
                    }
                    (Op::Delete(k), _) => {
                        values.remove(k);
                    }
                    _ => {}
                }
                store.validate().map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
            }
        }
    }

    const NOW_MODEL: u64 = 1_000;
}
