//! memcached's slab allocator arithmetic: the settings that shape it, the class table, the
//! size of one item, and how an item larger than a chunk is split.
//!
//! Follows memcached 1.6.18: `slabs.c` (`slabs_init`, `slabs_clsid`, `do_slabs_newslab`),
//! `items.c` (`item_make_header`, `do_item_alloc`, `do_item_alloc_chunk`), `memcached.h`
//! (`ITEM_ntotal`, `sizeof(item)`, `item_chunk`) and the option checks in `memcached.c`.
//!
//! - The first class's chunk is `sizeof(item)` (48 bytes on 64-bit) plus `-n` (default 48);
//!   each next class is the previous size times `-f` (default 1.25), truncated to an integer
//!   as C's `size *= factor` does, then rounded up to 8 bytes. Classes stop when the size
//!   reaches `slab_chunk_max / f` or at 62 regular classes; the last class is always
//!   `slab_chunk_max` (half a 1 MiB page).
//! - Memory comes in 1 MiB pages, one class at a time, while the total stays within `-m`;
//!   a class's *first* page is granted even past the limit (as `do_slabs_newslab` does).
//! - An item takes `48 + key + 1 + value + 2 (\r\n) + 4 (only when flags != 0) + 8 (CAS)`
//!   bytes ([`item_total`]). One that fits in `slab_chunk_max` takes one chunk of the
//!   smallest class that holds it. A larger one (up to `-I`) is *chunked*: a header chunk
//!   (the item header plus a 48-byte `item_chunk` header, no data) and data chunks of up to
//!   `slab_chunk_max` bytes, each carrying its own 48-byte chunk header; the last data chunk
//!   comes from the smallest class that holds what is left ([`SlabClasses::layout`]).
//!   memcached's fallback (retrying a failed small last chunk in the largest class) is not
//!   modelled.

use crate::memcached::model::number::strtoul32;
use crate::units::kv::{Grammar, KeyValues, KvError};
use std::fmt;

/// `sizeof(item)` on a 64-bit build of memcached 1.6: three pointers, two times, `nbytes`,
/// refcount, flags, class id and key length, padded to 8.
pub const ITEM_HEADER: u32 = 48;
/// `sizeof(item_chunk)` on a 64-bit build: the header of every chunk of a large item.
pub const CHUNK_HEADER: u32 = 48;
/// Bytes of the CAS id stored in each item when CAS is enabled (the default).
pub const CAS_BYTES: u32 = 8;
/// Chunk sizes are multiples of this (`CHUNK_ALIGN_BYTES`).
pub const CHUNK_ALIGN: u32 = 8;
/// Longest key memcached accepts (`KEY_MAX_LENGTH`).
pub const KEY_MAX_LENGTH: usize = 250;
/// memcached's slab page (`slab_page_size`): 1 MiB.
pub const PAGE_SIZE: u32 = 1 << 20;
/// Most slab classes memcached builds (`MAX_NUMBER_OF_SLAB_CLASSES - 1`, ids 1..=63).
pub const MAX_CLASSES: usize = 63;

/// The options that shape the store, with memcached's names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `-m`: item memory limit in bytes (memcached takes MiB; default 64 MiB).
    pub max_bytes: u64,
    /// `-f`: chunk size growth factor (default 1.25).
    pub growth_factor: f64,
    /// `-n`: minimum space for key, value and flags in the first class (default 48).
    pub chunk_size: u32,
    /// `-I`: largest item, header included (default 1 MiB).
    pub item_size_max: u32,
    /// `slab_page_size`: bytes per page (1 MiB; not a memcached option).
    pub slab_page_size: u32,
    /// `-o slab_chunk_max`: the largest chunk, half a page.
    pub slab_chunk_max: u32,
    /// CAS ids on (the default; `-C` turns them off and saves 8 bytes per item).
    pub use_cas: bool,
    /// Evict when memory is full (the default; `-M` returns out-of-memory errors instead).
    pub evictions: bool,
    /// `lru_segmented`: the HOT/WARM/COLD LRU with its maintainer (memcached 1.6's default);
    /// `-o no_lru_maintainer` turns it off, leaving one LRU per class ("compat" mode).
    pub lru_segmented: bool,
    /// `-o hot_lru_pct`: most of a class's bytes HOT may hold, in percent (default 20).
    pub hot_lru_pct: u32,
    /// `-o warm_lru_pct`: most of a class's bytes WARM may hold, in percent (default 40).
    pub warm_lru_pct: u32,
    /// `-o hot_max_factor`: HOT items older than this times COLD's tail age go to COLD
    /// (default 0.2).
    pub hot_max_factor: f64,
    /// `-o warm_max_factor`: the same for WARM (default 2.0).
    pub warm_max_factor: f64,
    /// The LRU crawler runs (memcached 1.6's default; `-o no_lru_crawler` or `no_modern`
    /// turn it off, `lru_crawler enable` on again): see `store::crawler`.
    pub lru_crawler: bool,
    /// `-o lru_crawler_sleep`: microseconds the crawler sleeps between batches (default
    /// 100, at most 1 000 000). Reported; the model's crawls are instant.
    pub lru_crawler_sleep: u32,
    /// `-o lru_crawler_tocrawl`: most items a crawl examines per LRU, 0 for all.
    pub lru_crawler_tocrawl: u32,
    /// `-o temporary_ttl=N`: turns memcached's TEMP_LRU on: items with at most N seconds
    /// to live go to their class's TEMP list, where they are never bumped, moved or
    /// evicted, only reclaimed once expired. Needs the segmented LRU.
    pub temporary_ttl: Option<u32>,
    /// `-o watcher_logbuf_size` (given in KiB, kept in bytes; default 256 KiB): what a
    /// `watch` connection may have queued before lines are skipped.
    pub watcher_logbuf_size: u32,
    /// `-o worker_logbuf_size` (given in KiB, kept in bytes; default 64 KiB). Reported.
    pub worker_logbuf_size: u32,
    /// `-o slab_reassign`: slab pages may move between classes (`slabs reassign`, the
    /// automover); on by default in memcached 1.6, off with `no_slab_reassign`/`no_modern`.
    pub slab_reassign: bool,
    /// `-o slab_automove=N`: 0 off, 1 the windowed automover (the default), 2 a page to
    /// every class that evicts.
    pub slab_automove: u8,
    /// `-o slab_automove_ratio`: the youngest class's age must be below this times the
    /// oldest's for a page to move (default 0.8).
    pub slab_automove_ratio: f64,
    /// `-o slab_automove_window`: once-a-second samples the automover looks back over
    /// (default 30).
    pub slab_automove_window: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_bytes: 64 << 20,
            growth_factor: 1.25,
            chunk_size: 48,
            item_size_max: 1 << 20,
            slab_page_size: PAGE_SIZE,
            slab_chunk_max: PAGE_SIZE / 2,
            use_cas: true,
            evictions: true,
            lru_segmented: true,
            hot_lru_pct: 20,
            warm_lru_pct: 40,
            hot_max_factor: 0.2,
            warm_max_factor: 2.0,
            lru_crawler: true,
            lru_crawler_sleep: 100,
            lru_crawler_tocrawl: 0,
            temporary_ttl: None,
            watcher_logbuf_size: 256 * 1024,
            worker_logbuf_size: 64 * 1024,
            slab_reassign: true,
            slab_automove: 1,
            slab_automove_ratio: 0.8,
            slab_automove_window: 30,
        }
    }
}

/// A setting memcached would refuse to start with; messages are memcached's own.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// `-f` at or below 1.
    #[error("Factor must be greater than 1 (got {0})")]
    Factor(f64),
    /// `-n 0`.
    #[error("Chunk size must be greater than 0")]
    ChunkSize,
    /// `-I` below 1 KiB.
    #[error("Item max size cannot be less than 1024 bytes (got {0})")]
    ItemSizeTooSmall(u32),
    /// `-I` above 1 GiB.
    #[error("Cannot set item size limit higher than 1 gigabyte (got {0})")]
    ItemSizeTooLarge(u32),
    /// `-I` above half of `-m`.
    #[error(
        "Cannot set item size limit higher than 1/2 of memory max (-I {item_size_max}, -m {max_bytes} bytes)"
    )]
    ItemSizeOverHalfMemory {
        /// `-I` in bytes.
        item_size_max: u32,
        /// `-m` in bytes.
        max_bytes: u64,
    },
    /// `slab_chunk_max` larger than `-I`.
    #[error(
        "slab_chunk_max (bytes: {chunk_max}) cannot be larger than -I (item_size_max {item_size_max})"
    )]
    ChunkMaxOverItemSize {
        /// `slab_chunk_max`.
        chunk_max: u32,
        /// `-I`.
        item_size_max: u32,
    },
    /// `-I` not a multiple of `slab_chunk_max`.
    #[error(
        "-I (item_size_max: {item_size_max}) must be evenly divisible by slab_chunk_max (bytes: {chunk_max})"
    )]
    ItemSizeNotMultiple {
        /// `-I`.
        item_size_max: u32,
        /// `slab_chunk_max`.
        chunk_max: u32,
    },
    /// `slab_chunk_max` does not divide the page, or the page is smaller than a class.
    #[error("slab_page_size ({page}) must be a multiple of slab_chunk_max ({chunk_max})")]
    PageNotMultiple {
        /// `slab_page_size`.
        page: u32,
        /// `slab_chunk_max`.
        chunk_max: u32,
    },
    /// An `-o` suboption this model does not know.
    #[error(
        "Illegal suboption \"{0}\" (known: no_lru_maintainer, lru_maintainer, lru_segmented, no_lru_segmented, modern, no_modern, lru_crawler, no_lru_crawler, lru_crawler_sleep=N, lru_crawler_tocrawl=N, temporary_ttl=N, watcher_logbuf_size=KiB, worker_logbuf_size=KiB, hot_lru_pct=N, warm_lru_pct=N, hot_max_factor=F, warm_max_factor=F, slab_reassign, no_slab_reassign, slab_automove[=0|1|2], no_slab_automove, slab_automove_ratio=F, slab_automove_window=N, slab_chunk_max=BYTES, no_chunked_items)"
    )]
    Suboption(String),
    /// `-o temporary_ttl` with the flat LRU (`no_lru_maintainer`).
    #[error("temporary_ttl requires lru_maintainer to be enabled")]
    TempLruWithoutMaintainer,
    /// An `-o` suboption with a value memcached refuses.
    #[error("-o {option}: {expected}")]
    SuboptionValue {
        /// The suboption as given.
        option: String,
        /// What memcached accepts.
        expected: &'static str,
    },
}

/// C's `atoi`, as memcached reads some `-o` values: leading white space, an optional sign
/// and the digits up to the first other byte; no digits is 0; out of range clamps as
/// `strtol` does, then truncates to `int`.
fn atoi(text: &str) -> i32 {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    (if negative { -value } else { value }) as i32
}

impl Settings {
    /// Applies memcached's `-o` suboptions, comma-separated (`no_lru_maintainer,hot_lru_pct=30`).
    ///
    /// memcached 1.6.18 spells the LRU choice `no_lru_maintainer` (flat "compat" LRU: one
    /// list per class, no maintainer) and `lru_maintainer` (segmented, the default);
    /// `lru_segmented` and `no_lru_segmented` are cachelab's plainer names for the same two
    /// (memcached itself calls them illegal). `modern` changes nothing, as in 1.6.18;
    /// `no_modern` turns the segmented LRU off and makes `slab_chunk_max` a whole page.
    pub fn apply_options(&mut self, options: &str) -> Result<(), SettingsError> {
        /// memcached's `-o`: bare flags, repeats applied in order, case-sensitive names.
        const SUBOPTIONS: Grammar = Grammar {
            flags: true,
            repeats: true,
            case_sensitive: true,
            comma_values: &[],
        };
        let items = KeyValues::parse_with(options, SUBOPTIONS).map_err(|e| match e {
            KvError::EmptyKey { item, .. } => SettingsError::Suboption(item),
            other => SettingsError::Suboption(other.reason()),
        })?;
        let mut chunk_max_given = false;
        for entry in items.entries() {
            let option = entry.item.as_str();
            let (name, value) = (entry.key.as_str(), entry.value.as_deref());
            let bad = |expected| SettingsError::SuboptionValue {
                option: option.to_string(),
                expected,
            };
            // memcached's bounds: a percentage strictly between 1 and 80, a positive factor.
            let percent = |v: &str, expected| {
                v.parse()
                    .ok()
                    .filter(|p| (1..80).contains(p))
                    .ok_or_else(|| bad(expected))
            };
            let factor = |v: &str, expected| {
                v.parse()
                    .ok()
                    .filter(|f: &f64| *f > 0.0 && f.is_finite())
                    .ok_or_else(|| bad(expected))
            };
            match (name, value) {
                ("no_lru_maintainer" | "no_lru_segmented", None) => self.lru_segmented = false,
                ("lru_maintainer" | "lru_segmented", None) => self.lru_segmented = true,
                ("modern", None) => {}
                // memcached 1.6.18's `no_modern`: the 1.4 defaults, so whole-page chunks
                // (unless slab_chunk_max was given first), no page mover, the flat LRU
                // without a maintainer, no crawler (its hash choice is not modelled).
                ("no_modern", None) => {
                    if !chunk_max_given {
                        self.slab_chunk_max = self.slab_page_size;
                    }
                    (self.slab_reassign, self.slab_automove) = (false, 0);
                    self.lru_segmented = false;
                    self.lru_crawler = false;
                }
                ("lru_crawler", None) => self.lru_crawler = true,
                ("no_lru_crawler", None) => self.lru_crawler = false,
                ("lru_crawler_sleep", Some(v)) => {
                    self.lru_crawler_sleep = u32::try_from(atoi(v))
                        .ok()
                        .filter(|&us| us <= 1_000_000)
                        .ok_or_else(|| bad("LRU crawler sleep must be between 0 and 1 second"))?;
                }
                ("lru_crawler_tocrawl", Some(v)) => {
                    self.lru_crawler_tocrawl = strtoul32(v.as_bytes())
                        .ok_or_else(|| bad("lru_crawler_tocrawl takes a numeric 32bit value"))?;
                }
                // memcached reads it with `atoi` into an int it prints unsigned.
                ("temporary_ttl", Some(v)) => self.temporary_ttl = Some(atoi(v) as u32),
                ("watcher_logbuf_size", Some(v)) => {
                    self.watcher_logbuf_size = strtoul32(v.as_bytes())
                        .and_then(|kib| kib.checked_mul(1024))
                        .ok_or_else(|| bad("could not parse argument to watcher_logbuf_size"))?;
                }
                ("worker_logbuf_size", Some(v)) => {
                    self.worker_logbuf_size = strtoul32(v.as_bytes())
                        .and_then(|kib| kib.checked_mul(1024))
                        .ok_or_else(|| bad("could not parse argument to worker_logbuf_size"))?;
                }
                ("slab_reassign", None) => self.slab_reassign = true,
                ("no_slab_reassign", None) => self.slab_reassign = false,
                ("slab_automove", None) => self.slab_automove = 1,
                ("no_slab_automove", None) => self.slab_automove = 0,
                ("slab_automove", Some(v)) => {
                    self.slab_automove = v
                        .parse()
                        .ok()
                        .filter(|n| *n <= 2)
                        .ok_or_else(|| bad("slab_automove must be between 0 and 2"))?;
                }
                ("slab_automove_ratio", Some(v)) => {
                    self.slab_automove_ratio = v
                        .parse()
                        .ok()
                        .filter(|r: &f64| *r > 0.0 && *r <= 1.0)
                        .ok_or_else(|| bad("slab_automove_ratio must be > 0 and < 1"))?;
                }
                ("slab_automove_window", Some(v)) => {
                    self.slab_automove_window = v
                        .parse()
                        .ok()
                        .filter(|w| (3..=1_000_000).contains(w))
                        .ok_or_else(|| bad("slab_automove_window must be > 2"))?;
                }
                ("slab_chunk_max", Some(v)) => {
                    self.slab_chunk_max = v
                        .parse()
                        .ok()
                        .filter(|b| *b > 0)
                        .ok_or_else(|| bad("could not parse argument to slab_chunk_max"))?;
                    chunk_max_given = true;
                }
                ("no_chunked_items", None) => self.slab_chunk_max = self.slab_page_size,
                ("hot_lru_pct", Some(v)) => {
                    self.hot_lru_pct = percent(v, "hot_lru_pct must be > 1 and < 80")?;
                }
                ("warm_lru_pct", Some(v)) => {
                    self.warm_lru_pct = percent(v, "warm_lru_pct must be > 1 and < 80")?;
                }
                ("hot_max_factor", Some(v)) => {
                    self.hot_max_factor = factor(v, "hot_max_factor must be > 0")?;
                }
                ("warm_max_factor", Some(v)) => {
                    self.warm_max_factor = factor(v, "warm_max_factor must be > 0")?;
                }
                _ => return Err(SettingsError::Suboption(option.to_string())),
            }
        }
        if self.temporary_ttl.is_some() && !self.lru_segmented {
            return Err(SettingsError::TempLruWithoutMaintainer);
        }
        if self.hot_lru_pct + self.warm_lru_pct > 80 {
            return Err(SettingsError::SuboptionValue {
                option: options.to_string(),
                expected: "hot_lru_pct + warm_lru_pct cannot be more than 80% combined",
            });
        }
        Ok(())
    }

    /// Default settings with `-m` in MiB, `-f`, `-n` and `-I` in bytes, as memcached's
    /// command line takes them; checked with [`Settings::validate`].
    pub fn memcached(
        megabytes: u64,
        factor: f64,
        chunk_size: u32,
        item_size_max: u32,
    ) -> Result<Settings, SettingsError> {
        Settings::memcached_with_options(megabytes, factor, chunk_size, item_size_max, &[])
    }

    /// [`Settings::memcached`] with memcached's `-o` suboption lists applied before the
    /// checks, as memcached reads every option before it checks any (`-I 1024 -o
    /// slab_chunk_max=1024` is valid although `-I 1024` alone is not).
    pub fn memcached_with_options(
        megabytes: u64,
        factor: f64,
        chunk_size: u32,
        item_size_max: u32,
        options: &[String],
    ) -> Result<Settings, SettingsError> {
        let mut settings = Settings {
            max_bytes: megabytes.saturating_mul(1 << 20),
            growth_factor: factor,
            chunk_size,
            item_size_max,
            ..Settings::default()
        };
        for list in options {
            settings.apply_options(list)?;
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Every check memcached 1.6.18 makes on these options at start-up.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.validate_table()?;
        if self.temporary_ttl.is_some() && !self.lru_segmented {
            return Err(SettingsError::TempLruWithoutMaintainer);
        }
        if u64::from(self.item_size_max) > self.max_bytes / 2 {
            return Err(SettingsError::ItemSizeOverHalfMemory {
                item_size_max: self.item_size_max,
                max_bytes: self.max_bytes,
            });
        }
        Ok(())
    }

    /// The checks a well-formed class table needs (all of [`Settings::validate`] except the
    /// rule that `-I` is at most half of `-m`, which the simulator may waive for tiny caches).
    pub fn validate_table(&self) -> Result<(), SettingsError> {
        // Written so that NaN is rejected too.
        let factor_ok = self.growth_factor.is_finite() && self.growth_factor > 1.0;
        if !factor_ok {
            return Err(SettingsError::Factor(self.growth_factor));
        }
        if self.chunk_size == 0 {
            return Err(SettingsError::ChunkSize);
        }
        if self.item_size_max < 1024 {
            return Err(SettingsError::ItemSizeTooSmall(self.item_size_max));
        }
        if self.item_size_max > 1 << 30 {
            return Err(SettingsError::ItemSizeTooLarge(self.item_size_max));
        }
        let (page, chunk_max) = (self.slab_page_size, self.slab_chunk_max);
        if chunk_max == 0
            || !chunk_max.is_multiple_of(CHUNK_ALIGN)
            || !page.is_multiple_of(chunk_max)
            || chunk_max <= ITEM_HEADER + CHUNK_HEADER + CAS_BYTES + KEY_MAX_LENGTH as u32 + 8
        {
            return Err(SettingsError::PageNotMultiple { page, chunk_max });
        }
        if chunk_max > self.item_size_max {
            return Err(SettingsError::ChunkMaxOverItemSize {
                chunk_max,
                item_size_max: self.item_size_max,
            });
        }
        if !self.item_size_max.is_multiple_of(chunk_max) {
            return Err(SettingsError::ItemSizeNotMultiple {
                item_size_max: self.item_size_max,
                chunk_max,
            });
        }
        Ok(())
    }
}

/// Bytes memcached charges for one item (`ITEM_ntotal`): the 48-byte header, the key and
/// its terminating NUL, the value with its trailing `\r\n`, 4 bytes of client flags when
/// they are not 0, and the 8-byte CAS id when CAS is on. `value_len` excludes the `\r\n`.
///
/// ```
/// use cachelab::memcached::model::slab::item_total;
/// // `set foo 0 0 5` / `hello`: 48 + (3 + 1) + (5 + 2) + 8 = 67 (memcached's mem_requested).
/// assert_eq!(item_total(3, 5, 0, true), 67);
/// // The same with flags 1: four more bytes.
/// assert_eq!(item_total(3, 5, 1, true), 71);
/// ```
pub fn item_total(key_len: usize, value_len: usize, flags: u32, use_cas: bool) -> u64 {
    u64::from(ITEM_HEADER)
        + key_len as u64
        + 1
        + value_len as u64
        + 2
        + if flags != 0 { 4 } else { 0 }
        + if use_cas { u64::from(CAS_BYTES) } else { 0 }
}

/// One slab class: its chunk size and how many chunks a page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlabClass {
    /// Class id, from 1.
    pub id: u8,
    /// Bytes per chunk.
    pub chunk_size: u32,
    /// Chunks per page (`perslab`).
    pub perslab: u32,
}

/// One chunk an item occupies: its class and the bytes requested from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// Slab class the chunk comes from.
    pub class: u8,
    /// Bytes requested (at most the class's chunk size).
    pub size: u32,
}

/// Where an item's memory comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One chunk; the item lives on that class's LRU.
    Single(Part),
    /// A large item: header chunk first, then data chunks; it lives on the largest class's
    /// LRU.
    Chunked(Box<[Part]>),
}

impl Layout {
    /// The chunks, header first.
    pub fn parts(&self) -> &[Part] {
        match self {
            Layout::Single(part) => std::slice::from_ref(part),
            Layout::Chunked(parts) => parts,
        }
    }
}

/// The class table `slabs_init` builds for a [`Settings`].
#[derive(Debug, Clone, PartialEq)]
pub struct SlabClasses {
    classes: Vec<SlabClass>,
    item_size_max: u32,
    chunk_max: u32,
}

impl SlabClasses {
    /// Builds the table as `slabs_init` does (the settings must pass
    /// [`Settings::validate_table`]).
    pub fn new(settings: &Settings) -> SlabClasses {
        let factor = settings.growth_factor;
        let chunk_max = settings.slab_chunk_max;
        let page = settings.slab_page_size;
        let mut classes = Vec::new();
        let mut size = ITEM_HEADER + settings.chunk_size;
        while classes.len() < MAX_CLASSES - 1 {
            if f64::from(size) >= f64::from(chunk_max) / factor {
                break;
            }
            if !size.is_multiple_of(CHUNK_ALIGN) {
                size += CHUNK_ALIGN - size % CHUNK_ALIGN;
            }
            classes.push(SlabClass {
                id: classes.len() as u8 + 1,
                chunk_size: size,
                perslab: page / size,
            });
            // C's `size *= factor` on an unsigned int: multiply in double, truncate.
            size = (f64::from(size) * factor) as u32;
        }
        classes.push(SlabClass {
            id: classes.len() as u8 + 1,
            chunk_size: chunk_max,
            perslab: page / chunk_max,
        });
        SlabClasses {
            classes,
            item_size_max: settings.item_size_max,
            chunk_max,
        }
    }

    /// Every class, smallest first; `classes()[i].id == i + 1`.
    pub fn classes(&self) -> &[SlabClass] {
        &self.classes
    }

    /// The class with id `id`.
    pub fn get(&self, id: u8) -> Option<&SlabClass> {
        self.classes.get(usize::from(id).checked_sub(1)?)
    }

    /// Id of the largest class (`power_largest`), whose chunk is `slab_chunk_max`.
    pub fn largest(&self) -> u8 {
        self.classes.len() as u8
    }

    /// The class for `size` bytes, as `slabs_clsid`: the smallest class whose chunk holds
    /// it, the largest class for sizes above `slab_chunk_max` up to `-I` (chunked items),
    /// and `None` for 0 bytes or more than `-I`.
    pub fn class_for(&self, size: u64) -> Option<u8> {
        if size == 0 || size > u64::from(self.item_size_max) {
            return None;
        }
        // Most items (counters, small values) fit the first class: skip the search.
        if self
            .classes
            .first()
            .is_some_and(|c| size <= u64::from(c.chunk_size))
        {
            return Some(1);
        }
        let index = self
            .classes
            .partition_point(|c| u64::from(c.chunk_size) < size);
        Some(index.min(self.classes.len() - 1) as u8 + 1)
    }

    /// Where an item with these sizes goes, or `None` when it is larger than `-I`
    /// (memcached's "object too large for cache"). Follows `do_item_alloc` and
    /// `do_item_alloc_chunk`; see the module docs.
    pub fn layout(
        &self,
        key_len: usize,
        value_len: usize,
        flags: u32,
        use_cas: bool,
    ) -> Option<Layout> {
        let total = item_total(key_len, value_len, flags, use_cas);
        let class = self.class_for(total)?;
        if total <= u64::from(self.chunk_max) {
            return Some(Layout::Single(Part {
                class,
                size: total as u32,
            }));
        }
        // Header: the item header with key, suffix and CAS, plus the first item_chunk.
        let header = total - (value_len as u64 + 2) + u64::from(CHUNK_HEADER);
        let mut parts = vec![Part {
            class: self.class_for(header)?,
            size: header as u32,
        }];
        let mut remain = value_len as u64 + 2;
        while remain > 0 {
            let size = (remain + u64::from(CHUNK_HEADER)).min(u64::from(self.chunk_max));
            parts.push(Part {
                class: self.class_for(size)?,
                size: size as u32,
            });
            remain -= size - u64::from(CHUNK_HEADER);
        }
        Some(Layout::Chunked(parts.into_boxed_slice()))
    }
}

impl fmt::Display for SlabClasses {
    /// The table as `memcached -vv` prints it at start-up.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.classes {
            writeln!(
                f,
                "slab class {:3}: chunk size {:9} perslab {:7}",
                c.id, c.chunk_size, c.perslab
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_options_choose_the_lru_as_memcached_spells_it() {
        let mut s = Settings::default();
        assert!(
            s.lru_segmented,
            "memcached 1.6 defaults to the segmented LRU"
        );
        s.apply_options("no_lru_maintainer").unwrap();
        assert!(!s.lru_segmented);
        s.apply_options("lru_segmented,hot_lru_pct=30,warm_max_factor=1.5")
            .unwrap();
        assert!(s.lru_segmented);
        assert_eq!((s.hot_lru_pct, s.warm_max_factor), (30, 1.5));
        s.apply_options("modern,no_lru_segmented").unwrap();
        assert!(!s.lru_segmented);
        assert_eq!(
            Settings::default().apply_options("lru_flat"),
            Err(SettingsError::Suboption("lru_flat".into()))
        );
        assert!(Settings::default().apply_options("hot_lru_pct=80").is_err());
        assert!(
            Settings::default()
                .apply_options("hot_lru_pct=50,warm_lru_pct=40")
                .is_err()
        );
    }

    fn table(factor: f64, n: u32, item_size_max: u32) -> Vec<(u32, u32)> {
        let settings = Settings {
            growth_factor: factor,
            chunk_size: n,
            item_size_max,
            ..Settings::default()
        };
        settings.validate().unwrap();
        SlabClasses::new(&settings)
            .classes()
            .iter()
            .map(|c| (c.chunk_size, c.perslab))
            .collect()
    }

    // The tables below are what `memcached -u root -vv -p 0 -U 0 <options>` (memcached
    // 1.6.18, x86_64) printed at start-up, "slab class N: chunk size S perslab P", copied
    // as (S, P) pairs. tests/memcached_slabs.rs compares against a live binary as well.
    const DEFAULT: [(u32, u32); 39] = [
        (96, 10922),
        (120, 8738),
        (152, 6898),
        (192, 5461),
        (240, 4369),
        (304, 3449),
        (384, 2730),
        (480, 2184),
        (600, 1747),
        (752, 1394),
        (944, 1110),
        (1184, 885),
        (1480, 708),
        (1856, 564),
        (2320, 451),
        (2904, 361),
        (3632, 288),
        (4544, 230),
        (5680, 184),
        (7104, 147),
        (8880, 118),
        (11104, 94),
        (13880, 75),
        (17352, 60),
        (21696, 48),
        (27120, 38),
        (33904, 30),
        (42384, 24),
        (52984, 19),
        (66232, 15),
        (82792, 12),
        (103496, 10),
        (129376, 8),
        (161720, 6),
        (202152, 5),
        (252696, 4),
        (315872, 3),
        (394840, 2),
        (524288, 2),
    ];
    const FACTOR_2: [(u32, u32); 13] = [
        (96, 10922),
        (192, 5461),
        (384, 2730),
        (768, 1365),
        (1536, 682),
        (3072, 341),
        (6144, 170),
        (12288, 85),
        (24576, 42),
        (49152, 21),
        (98304, 10),
        (196608, 5),
        (524288, 2),
    ];
    const FACTOR_1_1_N_100: [(u32, u32); 63] = [
        (152, 6898),
        (168, 6241),
        (184, 5698),
        (208, 5041),
        (232, 4519),
        (256, 4096),
        (288, 3640),
        (320, 3276),
        (352, 2978),
        (392, 2674),
        (432, 2427),
        (480, 2184),
        (528, 1985),
        (584, 1795),
        (648, 1618),
        (712, 1472),
        (784, 1337),
        (864, 1213),
        (952, 1101),
        (1048, 1000),
        (1152, 910),
        (1272, 824),
        (1400, 748),
        (1544, 679),
        (1704, 615),
        (1880, 557),
        (2072, 506),
        (2280, 459),
        (2512, 417),
        (2768, 378),
        (3048, 344),
        (3352, 312),
        (3688, 284),
        (4056, 258),
        (4464, 234),
        (4912, 213),
        (5408, 193),
        (5952, 176),
        (6552, 160),
        (7208, 145),
        (7928, 132),
        (8720, 120),
        (9592, 109),
        (10552, 99),
        (11608, 90),
        (12768, 82),
        (14048, 74),
        (15456, 67),
        (17008, 61),
        (18712, 56),
        (20584, 50),
        (22648, 46),
        (24912, 42),
        (27408, 38),
        (30152, 34),
        (33168, 31),
        (36488, 28),
        (40136, 26),
        (44152, 23),
        (48568, 21),
        (53424, 19),
        (58768, 17),
        (524288, 2),
    ];

    #[test]
    fn class_tables_equal_memcached_1_6_18() {
        assert_eq!(table(1.25, 48, 1 << 20), DEFAULT);
        assert_eq!(table(2.0, 48, 1 << 20), FACTOR_2);
        assert_eq!(table(1.1, 100, 1 << 20), FACTOR_1_1_N_100);
        // -I 2m keeps 1 MiB pages and 512 KiB chunks: the same table (memcached printed it).
        assert_eq!(table(1.25, 48, 2 << 20), DEFAULT);
    }

    #[test]
    fn first_classes_by_hand() {
        // 48 + 48 = 96; 96 * 1.25 = 120; 120 * 1.25 = 150 -> aligned 152; 152 * 1.25 = 190
        // -> 192. perslab = 1048576 / size, rounded down: 10922, 8738, 6898, 5461.
        assert_eq!(
            &table(1.25, 48, 1 << 20)[..4],
            &[(96, 10922), (120, 8738), (152, 6898), (192, 5461)]
        );
        // -n 5: 53 -> 56; 56 * 1.25 = 70 -> 72; 72 * 1.25 = 90 -> 96 (memcached -vv agrees).
        assert_eq!(
            &table(1.25, 5, 1 << 20)[..3],
            &[(56, 18724), (72, 14563), (96, 10922)]
        );
        // -f 1.01: 96 * 1.01 = 96.96 truncates to 96 again; memcached repeats class 96
        // until 62 classes, then the 512 KiB class.
        let slow = table(1.01, 48, 1 << 20);
        assert_eq!(slow.len(), 63);
        assert!(slow[..62].iter().all(|&c| c == (96, 10922)));
    }

    #[test]
    fn class_lookup_matches_slabs_clsid() {
        let classes = SlabClasses::new(&Settings::default());
        assert_eq!(classes.class_for(0), None);
        assert_eq!(classes.class_for(1), Some(1));
        assert_eq!(classes.class_for(96), Some(1));
        assert_eq!(classes.class_for(97), Some(2));
        assert_eq!(classes.class_for(524_288), Some(39));
        // Above the largest chunk but within -I: the largest class (chunked).
        assert_eq!(classes.class_for(524_289), Some(39));
        assert_eq!(classes.class_for(1 << 20), Some(39));
        assert_eq!(classes.class_for((1 << 20) + 1), None);
    }

    #[test]
    fn large_items_are_chunked_like_do_item_alloc_chunk() {
        let classes = SlabClasses::new(&Settings::default());
        // Key 3 bytes, value 600000 bytes, flags 0, CAS on: total 48+4+600002+8 = 600062.
        // Header: 48 + 4 + 8 + 48 (item_chunk) = 108 -> class 2 (120).
        // Data: 600002 bytes; first chunk 524288 (holds 524240), then 75762 + 48 = 75810
        // -> class 31 (82792).
        let layout = classes.layout(3, 600_000, 0, true).unwrap();
        assert_eq!(
            layout.parts(),
            &[
                Part {
                    class: 2,
                    size: 108
                },
                Part {
                    class: 39,
                    size: 524_288
                },
                Part {
                    class: 31,
                    size: 75_810
                },
            ]
        );
        // The largest single-chunk item: total exactly 524288.
        let value = 524_288 - 48 - 4 - 2 - 8;
        assert_eq!(
            classes.layout(3, value, 0, true),
            Some(Layout::Single(Part {
                class: 39,
                size: 524_288
            }))
        );
        // Over -I: too large.
        assert_eq!(classes.layout(3, 1 << 20, 0, true), None);
    }

    #[test]
    fn options_memcached_refuses() {
        assert_eq!(
            Settings::memcached(64, 1.0, 48, 1 << 20),
            Err(SettingsError::Factor(1.0))
        );
        assert_eq!(
            Settings::memcached(64, 1.25, 0, 1 << 20),
            Err(SettingsError::ChunkSize)
        );
        assert!(matches!(
            Settings::memcached(1, 1.25, 48, 1 << 20),
            Err(SettingsError::ItemSizeOverHalfMemory { .. })
        ));
        assert!(matches!(
            Settings::memcached(64, 1.25, 48, 256 << 10),
            Err(SettingsError::ChunkMaxOverItemSize { .. })
        ));
        assert!(matches!(
            Settings::memcached(64, 1.25, 48, 600 << 10),
            Err(SettingsError::ItemSizeNotMultiple { .. })
        ));
        assert!(Settings::memcached(64, 1.25, 48, 2 << 20).is_ok());
        // memcached checks after reading every option: `-I 1024` needs a smaller
        // slab_chunk_max, given later on the command line (t/stats.t starts this way).
        assert!(Settings::memcached(64, 1.25, 48, 1024).is_err());
        let small = Settings::memcached_with_options(
            64,
            1.25,
            48,
            1024,
            &["slab_chunk_max=1024,no_lru_crawler".to_string()],
        )
        .expect("valid once the options are read");
        assert_eq!((small.item_size_max, small.slab_chunk_max), (1024, 1024));
    }

    #[test]
    fn slab_suboptions_follow_memcached() {
        let s = Settings::default();
        assert!(s.slab_reassign, "memcached 1.6 moves pages by default");
        assert_eq!((s.slab_automove, s.slab_automove_window), (1, 30));
        let mut s = Settings::default();
        s.apply_options("slab_reassign,slab_automove=2,slab_automove_window=3,slab_automove_ratio=0.5,slab_chunk_max=16384")
            .unwrap();
        assert_eq!(
            (
                s.slab_automove,
                s.slab_automove_window,
                s.slab_automove_ratio,
                s.slab_chunk_max
            ),
            (2, 3, 0.5, 16384)
        );
        // no_modern: memcached 1.4's defaults, but a slab_chunk_max given first stays.
        let mut s = Settings::default();
        s.apply_options("no_modern").unwrap();
        assert_eq!(
            (
                s.slab_chunk_max,
                s.slab_reassign,
                s.slab_automove,
                s.lru_segmented
            ),
            (PAGE_SIZE, false, 0, false)
        );
        let mut s = Settings::default();
        s.apply_options("slab_chunk_max=16384,no_modern").unwrap();
        assert_eq!(s.slab_chunk_max, 16384);
        for bad in [
            "slab_automove=3",
            "slab_automove_window=2",
            "slab_automove_ratio=0",
            "slab_chunk_max=x",
        ] {
            assert!(
                matches!(
                    Settings::default().apply_options(bad),
                    Err(SettingsError::SuboptionValue { .. })
                ),
                "{bad}"
            );
        }
    }
}
