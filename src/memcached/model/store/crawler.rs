//! memcached's LRU crawler and the background work of its LRU maintainer: reclaiming
//! expired and flushed items nobody asks for, `lru_crawler metadump`, and the crawls the
//! maintainer schedules on its own.
//!
//! Follows memcached 1.6.18's `crawler.c` (`lru_crawler_crawl`, `lru_crawler_start`,
//! `do_lru_crawler_start`, `item_crawler_thread`, `crawler_expired_eval`,
//! `crawler_metadump_eval`, `item_crawl_hash`) and `items.c` (`lru_maintainer_thread`,
//! `lru_maintainer_crawler_check`, `do_item_stats_add_crawl`):
//!
//! - A crawl walks each chosen LRU (a class's HOT, WARM and COLD lists) from its tail to
//!   its head. memcached's crawler thread takes one item from every active list in turn
//!   (all HOT lists in class order, then all WARM, all COLD, all TEMP); the model keeps that
//!   order, so `metadump all` lists items exactly in memcached's order.
//! - The expiry crawl (`lru_crawler crawl`) unlinks every item whose exptime has passed
//!   (`exptime < now`, strictly, as the crawler compares) or that a `flush_all` covers, and
//!   counts `crawler_reclaimed`, `crawler_items_checked` and `expired_unfetched` for the
//!   class. `metadump` skips such items and prints one `key=… exp=… la=… cas=… fetch=…
//!   cls=… size=…` line for each other, then `END`.
//! - **Timing, a choice.** memcached's crawler is a thread that sleeps
//!   `lru_crawler_sleep` µs between batches; here a crawl runs to completion inside the
//!   command that asks for it, so `lru_crawler_running` is always 0 when a client looks
//!   and a second crawl is never `BUSY`.
//! - **The maintainer's background work, a choice.** memcached's maintainer thread juggles
//!   every class's LRUs several times a second and, once per second, schedules expiry
//!   crawls for the LRUs likely to hold expired items (`lru_maintainer_crawler_check`: the
//!   first at once, then every 5 s to 1 h depending on how many items the last crawl saw
//!   expiring within the hour). The model does this work in [`Store::maintain`], once per
//!   second of the store's clock: the server calls it before each batch of commands and the
//!   simulator before each request, so both see what memcached's threads would have done
//!   by then, deterministically. It runs only when the maintainer runs (segmented mode) and,
//!   for the crawls, when the crawler is enabled.

use super::lru::Segment;
use super::{NEVER, NIL, Store};
use crate::memcached::model::slab::MAX_CLASSES;

/// memcached crawls every class at least once an hour (`MAX_MAINTCRAWL_WAIT`).
const MAX_CRAWL_WAIT: u64 = 60 * 60;
/// Segments in crawl order (`HOT_LRU`, `WARM_LRU`, `COLD_LRU`, `TEMP_LRU` ids are class |
/// 0, 64, 128, 192).
const SEGMENTS: [Segment; 4] = [Segment::Hot, Segment::Warm, Segment::Cold, Segment::Temp];

/// Which LRUs a crawl or metadump walks (`lru_crawler crawl <classes>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrawlScope {
    /// `all`: every class.
    All,
    /// A comma-separated list of class ids (1 to 63; a class without items is an empty
    /// walk). An empty list starts nothing (`NOTSTARTED`).
    Classes(Vec<u8>),
    /// `hash`: the hash table instead of the LRUs (metadump only).
    Hash,
}

/// Why a crawl did not start; [`CrawlRefusal::reply`] is memcached's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CrawlRefusal {
    /// The crawler is disabled (`-o no_lru_crawler`, `no_modern`, `lru_crawler disable`).
    #[error("the LRU crawler is disabled")]
    Disabled,
    /// Nothing to crawl: an empty class list.
    #[error("no LRU to crawl")]
    NotStarted,
    /// `crawl hash`: memcached walks the hash table for metadumps only.
    #[error("only metadump walks the hash table")]
    HashNeedsMetadump,
}

impl CrawlRefusal {
    /// The reply memcached 1.6.18 sends, without `\r\n`.
    pub fn reply(self) -> &'static [u8] {
        match self {
            CrawlRefusal::Disabled => b"CLIENT_ERROR lru crawler disabled",
            CrawlRefusal::NotStarted => b"NOTSTARTED no items to crawl",
            CrawlRefusal::HashNeedsMetadump => b"ERROR an unknown error happened",
        }
    }
}

/// What one LRU's expiry crawl saw (`crawlerstats_t`), which schedules the next one.
#[derive(Debug, Clone, Copy)]
struct LruSeen {
    seen: u64,
    noexp: u64,
    /// Live items expiring within each minute of the next hour.
    histo: [u64; 61],
    run_complete: bool,
}

impl Default for LruSeen {
    fn default() -> LruSeen {
        LruSeen {
            seen: 0,
            noexp: 0,
            histo: [0; 61],
            run_complete: false,
        }
    }
}

/// The maintainer's schedule for one LRU (`next_crawls`, `next_crawl_wait`).
#[derive(Debug, Clone, Copy, Default)]
struct AutoCrawl {
    seen: LruSeen,
    next_crawl: u64,
    next_wait: u64,
}

/// The crawler's state and counters, one per store.
#[derive(Debug, Clone)]
pub(super) struct Crawler {
    /// The crawler "thread" runs (`settings.lru_crawler`).
    pub(super) enabled: bool,
    /// `lru_crawler sleep`, µs (reported only).
    pub(super) sleep: u32,
    /// `lru_crawler tocrawl`: items per LRU an expiry crawl examines, 0 for all.
    pub(super) tocrawl: u32,
    /// `lru_crawler_starts`.
    pub(super) starts: u64,
    /// `crawler_reclaimed` per class id.
    pub(super) reclaimed: Vec<u64>,
    /// `crawler_items_checked` per class id.
    pub(super) checked: Vec<u64>,
    /// Indexed by class id * 3 + segment.
    auto: Vec<AutoCrawl>,
}

impl Crawler {
    /// A crawler as the settings start it.
    pub(super) fn new(enabled: bool, sleep: u32, tocrawl: u32) -> Crawler {
        let n = MAX_CLASSES + 1;
        Crawler {
            enabled,
            sleep,
            tocrawl,
            starts: 0,
            reclaimed: vec![0; n],
            checked: vec![0; n],
            auto: vec![AutoCrawl::default(); n * SEGMENTS.len()],
        }
    }

    /// `stats reset`: the counters, not the state.
    pub(super) fn reset_counters(&mut self) {
        self.starts = 0;
        self.reclaimed.fill(0);
        self.checked.fill(0);
    }
}

/// Which crawl module evaluates the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Module {
    /// `crawler_expired_eval`, from a client: counts into the class's stats only.
    Expired,
    /// `crawler_expired_eval`, from the maintainer: also feeds its schedule.
    AutoExpire,
    /// `crawler_metadump_eval`.
    Metadump,
}

fn lru_id(class: u8, seg: Segment) -> usize {
    usize::from(class) * SEGMENTS.len() + seg as usize
}

/// `uriencode`: bytes other than letters, digits and `-._~` become `%XX`.
pub fn uri_encode(key: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in key {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

impl Store {
    /// `lru_crawler enable`: false when it already runs (memcached then answers `ERROR
    /// failed to start lru crawler thread`).
    pub fn crawler_enable(&mut self) -> bool {
        !std::mem::replace(&mut self.crawler.enabled, true)
    }

    /// `lru_crawler disable` (always succeeds).
    pub fn crawler_disable(&mut self) {
        self.crawler.enabled = false;
    }

    /// The crawler runs (`stats settings`' `lru_crawler`).
    pub fn crawler_enabled(&self) -> bool {
        self.crawler.enabled
    }

    /// Items the crawler reclaimed, all classes (`crawler_reclaimed`).
    pub fn crawler_reclaimed(&self) -> u64 {
        self.crawler.reclaimed.iter().sum()
    }

    /// `lru_crawler sleep <µs>` (the caller checks memcached's 1 s bound).
    pub fn set_crawler_sleep(&mut self, micros: u32) {
        self.crawler.sleep = micros;
    }

    /// `lru_crawler tocrawl <n>`.
    pub fn set_crawler_tocrawl(&mut self, items: u32) {
        self.crawler.tocrawl = items;
    }

    /// `lru_crawler crawl <scope>`: reclaims expired and flushed items of the chosen
    /// classes now (see the module docs).
    pub fn crawl(&mut self, scope: &CrawlScope) -> Result<(), CrawlRefusal> {
        if !self.crawler.enabled {
            return Err(CrawlRefusal::Disabled);
        }
        let ids = self.scope_ids(scope)?;
        let limit = self.crawler.tocrawl;
        self.crawler.starts += 1;
        self.crawl_ids(&ids, Some(limit), Module::Expired, None);
        Ok(())
    }

    /// `lru_crawler metadump <scope>`: one line per live item of the chosen classes (or of
    /// the whole hash table), then `END\r\n`, appended to `out`.
    pub fn metadump(&mut self, scope: &CrawlScope, out: &mut Vec<u8>) -> Result<(), CrawlRefusal> {
        if !self.crawler.enabled {
            return Err(CrawlRefusal::Disabled);
        }
        if *scope == CrawlScope::Hash {
            self.crawler.starts += 1;
            let now = self.clock.now();
            // The table's own order, as memcached's hash walk: not memcached's order, since
            // the hash function differs.
            let ids: Vec<u32> = self.index.iter().copied().collect();
            for idx in ids {
                self.dump_line(idx, now, out);
            }
        } else {
            let ids = self.scope_ids(scope)?;
            self.crawler.starts += 1;
            self.crawl_ids(&ids, None, Module::Metadump, Some(out));
        }
        out.extend_from_slice(b"END\r\n");
        Ok(())
    }

    /// `lru_maintainer_crawler_check`: works out when each LRU whose last crawl finished is
    /// crawled again, then crawls those that are due.
    pub(super) fn schedule_crawls(&mut self, now: u64) {
        let mut due = Vec::new();
        let mut limit = 0u64;
        for class in 1..=MAX_CLASSES as u8 {
            for seg in SEGMENTS {
                let id = lru_id(class, seg);
                let auto = &mut self.crawler.auto[id];
                if auto.seen.run_complete {
                    let s = &auto.seen;
                    let possible = s.seen - s.noexp;
                    let low_watermark = possible / 100 + 1;
                    let mut available = 0;
                    for (minute, &n) in s.histo.iter().take(60).enumerate() {
                        available += n;
                        if available > low_watermark {
                            let wait = minute as u64 * 60;
                            if auto.next_wait < wait {
                                auto.next_wait += 60;
                            } else if auto.next_wait >= 60 {
                                auto.next_wait -= 60;
                            }
                            break;
                        }
                    }
                    if available == 0 {
                        auto.next_wait += 60;
                    }
                    auto.next_wait = auto.next_wait.min(MAX_CRAWL_WAIT);
                    auto.next_crawl = now + auto.next_wait + 5;
                    auto.seen.run_complete = false;
                }
                if now > auto.next_crawl {
                    auto.next_crawl = now + 5;
                    due.push((class, seg));
                    let size = if usize::from(class) < self.lru.len() {
                        self.lru[usize::from(class)].list(seg).len
                    } else {
                        0
                    };
                    limit = limit.max(size);
                }
            }
        }
        if due.is_empty() {
            return;
        }
        let tocrawl = u64::from(self.crawler.tocrawl);
        if tocrawl != 0 && tocrawl < limit {
            limit = tocrawl;
        }
        // `crawler_expired_init`: a new run forgets what every LRU saw.
        for auto in &mut self.crawler.auto {
            auto.seen = LruSeen::default();
        }
        self.crawler.starts += 1;
        // A limit above 32 bits cannot happen: lists hold fewer than 2^32 items.
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.crawl_ids(&due, Some(limit), Module::AutoExpire, None);
    }

    /// The LRUs a scope names, in memcached's crawl order.
    fn scope_ids(&self, scope: &CrawlScope) -> Result<Vec<(u8, Segment)>, CrawlRefusal> {
        let classes: Vec<u8> = match scope {
            CrawlScope::All => (1..=MAX_CLASSES as u8).collect(),
            CrawlScope::Classes(list) => {
                let mut c = list.clone();
                c.sort_unstable();
                c.dedup();
                c
            }
            CrawlScope::Hash => return Err(CrawlRefusal::HashNeedsMetadump),
        };
        if classes.is_empty() {
            return Err(CrawlRefusal::NotStarted);
        }
        Ok(SEGMENTS
            .iter()
            .flat_map(|&seg| classes.iter().map(move |&c| (c, seg)))
            .collect())
    }

    /// Walks the LRUs `ids` tail first, one item of each in turn (memcached's crawler
    /// loop). `limit`: items per LRU (`Some(0)` all, as memcached's `remaining`; `None` the
    /// list's length when the crawl starts).
    fn crawl_ids(
        &mut self,
        ids: &[(u8, Segment)],
        limit: Option<u32>,
        module: Module,
        mut out: Option<&mut Vec<u8>>,
    ) {
        let now = self.clock.now();
        /// One LRU's crawler: its next item (the one before the last it evaluated; an item
        /// the walk unlinks is always the one just evaluated, so saved links stay valid) and
        /// how many it may still examine.
        struct Cursor {
            class: u8,
            seg: Segment,
            next: u32,
            budget: u64,
            done: bool,
        }
        let mut cursors: Vec<Cursor> = ids
            .iter()
            .map(|&(class, seg)| {
                // A class id past this table's classes is an empty list, crawled at once
                // (memcached has a crawler for every id up to 63).
                let (tail, len) = self
                    .lru
                    .get(usize::from(class))
                    .map_or((NIL, 0), |lru| (lru.list(seg).tail, lru.list(seg).len));
                let budget = match limit {
                    None => len,
                    Some(0) => u64::MAX,
                    Some(n) => u64::from(n),
                };
                Cursor {
                    class,
                    seg,
                    next: tail,
                    budget,
                    done: false,
                }
            })
            .collect();
        let mut active = cursors.len();
        while active > 0 {
            for cursor in cursors.iter_mut().filter(|c| !c.done) {
                if cursor.next == NIL || cursor.budget == 0 {
                    // memcached's `lru_crawler_class_done`.
                    cursor.done = true;
                    active -= 1;
                    if module == Module::AutoExpire {
                        self.crawler.auto[lru_id(cursor.class, cursor.seg)]
                            .seen
                            .run_complete = true;
                    }
                    continue;
                }
                let idx = cursor.next;
                cursor.next = self.slot(idx).prev;
                cursor.budget -= 1;
                self.crawler.checked[usize::from(cursor.class)] += 1;
                match module {
                    Module::Metadump => {
                        if let Some(out) = out.as_deref_mut() {
                            self.dump_line(idx, now, out);
                        }
                    }
                    Module::Expired | Module::AutoExpire => {
                        self.crawl_eval(idx, cursor.class, cursor.seg, module, now);
                    }
                }
            }
        }
    }

    /// `crawler_expired_eval`: reclaims a dead item, or records when a live one expires.
    fn crawl_eval(&mut self, idx: u32, class: u8, seg: Segment, module: Module, now: u64) {
        let slot = self.slot(idx);
        let flushed = self.is_flushed(slot, now);
        let (exp, fetched) = (slot.exp, slot.fetched);
        let c = usize::from(class);
        if exp < now || flushed {
            self.crawler.reclaimed[c] += 1;
            if !fetched && !flushed {
                self.class_counters[c].expired_unfetched += 1;
                self.counters.expired_unfetched += 1;
            }
            self.unlink(idx);
            return;
        }
        if module != Module::AutoExpire {
            return;
        }
        let seen = &mut self.crawler.auto[lru_id(class, seg)].seen;
        seen.seen += 1;
        if exp == NEVER {
            seen.noexp += 1;
        } else if exp - now <= 3599 {
            seen.histo[((exp - now) / 60) as usize] += 1;
        }
    }

    /// `crawler_metadump_eval`: one line for a live item.
    fn dump_line(&self, idx: u32, now: u64, out: &mut Vec<u8>) {
        let slot = self.slot(idx);
        if slot.exp < now || self.is_flushed(slot, now) {
            return;
        }
        out.extend_from_slice(b"key=");
        uri_encode(slot.key(), out);
        let exp = if slot.exp == NEVER {
            -1
        } else {
            slot.exp as i64
        };
        let line = format!(
            " exp={exp} la={} cas={} fetch={} cls={} size={}\n",
            slot.time,
            slot.cas,
            if slot.fetched { "yes" } else { "no" },
            slot.lru(),
            slot.total
        );
        out.extend_from_slice(line.as_bytes());
    }
}
