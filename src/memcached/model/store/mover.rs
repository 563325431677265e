//! The slab page mover: `slabs reassign`, the automover's once-a-second run, and
//! `slab_automove=2`'s page per eviction, as memcached 1.6.18's `slabs.c` does them
//! (`slabs_reassign`, `slab_rebalance_start`, `slab_rebalance_move`,
//! `slab_rebalance_finish`) and `items.c`'s LRU maintainer schedules them.
//!
//! A move takes the **first** page of the source class (`slab_list[0]`, the oldest) and walks
//! its chunks in address order:
//!
//! - a free chunk is cut from the free list;
//! - an expired or flushed item is unlinked;
//! - a live item (or a chunk of a chunked item) is *rescued* into a free chunk of the same
//!   class elsewhere, when there is one (`slab_reassign_rescues`, `_chunk_rescues`; free
//!   chunks of the page itself met on the way count as `slab_reassign_inline_reclaim`). A
//!   rescued item is relinked as `do_item_replace` relinks it: head of its own LRU list,
//!   `time` now, a new CAS id. Without room it is evicted (`slab_reassign_evictions_nomem`);
//!   a chunked item so evicted frees its other chunks too, and the walk goes round again
//!   for the chunks it gave back (`slab_reassign_busy_items`).
//!
//! The page then goes to the end of the destination's page list and onto its free list,
//! or to the global page pool (class 0), where `memory_release` frees it if the memory
//! limit was lowered.
//!
//! **Time.** memcached's mover is a thread and finishes a page within milliseconds of the
//! request; the model moves the page before `slabs reassign` replies, so `BUSY` is only
//! answered while a `slab_automove=2` request waits for the next command. The automover
//! runs from [`Store::maintain`], which the server calls before each command and the
//! simulator before each request: once for each second of the store's clock that passed
//! since the last run (at most `slab_automove_window + 2` catch-up runs after an idle
//! stretch; more would change nothing), and again at once, up to 1,000 times a second, after
//! a decision that returns a page to the pool, as memcached's maintainer does (it sleeps
//! 1 ms instead of a second then). As in memcached, the automover runs only with the LRU
//! maintainer (segmented mode) and the page mover on; with the maintainer, each new second
//! also juggles every class's LRU (`juggle_idle`), as the maintainer thread does in the
//! background.

use super::pages::Chunk;
use super::{NIL, Store};
use crate::memcached::model::automove::{Automove, ClassSample};
use crate::memcached::model::slab::Layout;

/// Runs of the automover within one second after pool decisions (memcached's maintainer
/// sleeps 1 ms between them).
const RUNS_PER_SECOND: usize = 1000;

/// What `slabs reassign` answers (`enum reassign_result_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reassign {
    /// `OK`: the page moved.
    Ok,
    /// `BUSY currently processing reassign request`.
    Busy,
    /// `BADCLASS invalid src or dst class id`.
    BadClass,
    /// `NOSPARE source class has no spare pages`.
    NoSpare,
    /// `SAME src and dst class are identical`.
    Same,
}

impl Reassign {
    /// memcached's reply line, without `\r\n`.
    pub fn reply(self) -> &'static [u8] {
        match self {
            Reassign::Ok => b"OK",
            Reassign::Busy => b"BUSY currently processing reassign request",
            Reassign::BadClass => b"BADCLASS invalid src or dst class id",
            Reassign::NoSpare => b"NOSPARE source class has no spare pages",
            Reassign::Same => b"SAME src and dst class are identical",
        }
    }
}

/// The mover's and automover's state.
#[derive(Debug, Clone)]
pub(super) struct Mover {
    /// The automover, built at the first run (memcached builds it when its maintainer
    /// thread starts, from the empty store).
    automove: Option<Automove>,
    /// The second of the last automover run (none yet).
    last_check: Option<u64>,
    /// A `slab_automove=2` request waiting for the mover.
    pending: Option<(i32, i32)>,
    /// `slabs_reassign_pick_any`'s static cursor.
    pick_cur: usize,
}

impl Mover {
    pub(super) fn new() -> Mover {
        Mover {
            automove: None,
            last_check: None,
            pending: None,
            pick_cur: 0,
        }
    }
}

impl Store {
    /// `slabs reassign <src> <dst>`: moves one page from class `src` (-1: any class with a
    /// spare page, round robin) to class `dst` (0: the global page pool). The caller checks
    /// that the page mover is on (`CLIENT_ERROR slab reassignment disabled` otherwise).
    pub fn slabs_reassign(&mut self, src: i32, dst: i32) -> Reassign {
        if self.mover.pending.is_some() {
            return Reassign::Busy;
        }
        match self.check_reassign(src, dst) {
            Ok((src, dst)) => {
                self.move_page(src, dst);
                Reassign::Ok
            }
            Err(answer) => answer,
        }
    }

    /// `do_slabs_reassign`'s checks; the classes to move between.
    fn check_reassign(&mut self, src: i32, dst: i32) -> Result<(usize, usize), Reassign> {
        if src == dst {
            return Err(Reassign::Same);
        }
        let src = if src == -1 { self.pick_any(dst) } else { src };
        let largest = i32::from(self.classes.largest());
        if !(0..=largest).contains(&src) || !(0..=largest).contains(&dst) {
            return Err(Reassign::BadClass);
        }
        let (src, dst) = (src as usize, dst as usize);
        let pages = if src == 0 {
            self.pool.len()
        } else {
            self.mem[src].pages.len()
        };
        if pages < 2 {
            return Err(Reassign::NoSpare);
        }
        Ok((src, dst))
    }

    /// `slabs_reassign_pick_any`: the next class after the last one picked with more than
    /// one page, skipping `dst`; -1 when there is none.
    fn pick_any(&mut self, dst: i32) -> i32 {
        let largest = usize::from(self.classes.largest());
        for _ in 0..largest {
            self.mover.pick_cur += 1;
            if self.mover.pick_cur > largest {
                self.mover.pick_cur = 1;
            }
            let cur = self.mover.pick_cur;
            if cur as i32 == dst {
                continue;
            }
            if self.mem[cur].pages.len() > 1 {
                return cur as i32;
            }
        }
        -1
    }

    /// `slabs automove <0|1|2>`.
    pub fn set_automove(&mut self, level: u8) {
        self.settings.slab_automove = level;
    }

    /// `slabs automove ratio <r>` (memcached takes any number here; the automover starts
    /// afresh with it at its next run).
    pub fn set_automove_ratio(&mut self, ratio: f64) {
        self.settings.slab_automove_ratio = ratio;
    }

    /// `slab_automove=2`: an eviction in `class` asks for a page from any class. The
    /// request waits for the next [`Store::maintain`] (memcached's mover is a thread).
    pub(super) fn evicted_for_automove(&mut self, class: u8) {
        if self.settings.slab_automove == 2
            && self.settings.slab_reassign
            && self.mover.pending.is_none()
        {
            self.mover.pending = Some((-1, i32::from(class)));
        }
    }

    /// The background work memcached's threads would have done by now: a waiting
    /// `slab_automove=2` move; then, once per second of the store's clock and only with the
    /// segmented LRU (memcached's LRU maintainer thread), each class juggled, the LRU
    /// crawls the maintainer schedules, and the automover's runs for the seconds that
    /// passed (see the module docs). Cheap when the clock has not moved.
    pub fn maintain(&mut self) {
        if let Some((src, dst)) = self.mover.pending.take()
            && let Ok((src, dst)) = self.check_reassign(src, dst)
        {
            self.move_page(src, dst);
        }
        let now = self.clock.now();
        // memcached's maintainer first runs the automover when it starts, at the store's
        // first second.
        let from = match self.mover.last_check {
            Some(last) if now <= last => return,
            Some(last) => last + 1,
            None => self.started.min(now),
        };
        self.mover.last_check = Some(now);
        if self.settings.lru_segmented {
            self.juggle_idle(now);
            if self.crawler.enabled {
                // The maintainer's crawl schedule (`lru_maintainer_crawler_check`).
                self.schedule_crawls(now);
            }
        }
        let s = &self.settings;
        if s.slab_automove != 1 || !s.slab_reassign || !s.lru_segmented {
            return;
        }
        let cap = u64::from(s.slab_automove_window) + 2;
        for t in from.max(now.saturating_sub(cap - 1))..=now {
            self.automove_second(t);
        }
    }

    /// The LRU maintainer's juggle of every class, as its thread keeps doing between
    /// commands: HOT and WARM items age into COLD and dead tail items are reclaimed even in
    /// classes nobody allocates into (the store otherwise juggles a class only when it
    /// allocates; see `lru`). Repeated until nothing moves, as the thread comes back within
    /// a millisecond while it finds work.
    fn juggle_idle(&mut self, now: u64) {
        for class in 1..=self.classes.largest() {
            if self.lru[usize::from(class)].len() == 0 {
                continue;
            }
            for _ in 0..RUNS_PER_SECOND {
                if self.juggle(class, now) == 0 {
                    break;
                }
            }
        }
    }

    /// The automover's runs at second `t`: one, or more while it returns pages to the pool.
    fn automove_second(&mut self, t: u64) {
        for _ in 0..RUNS_PER_SECOND {
            let samples = self.automove_samples(t);
            let (window, ratio) = (
                self.settings.slab_automove_window,
                self.settings.slab_automove_ratio,
            );
            let am = match &mut self.mover.automove {
                Some(am) if am.ratio() == ratio => am,
                slot => slot.insert(Automove::new(window, ratio, &samples)),
            };
            let Some(decision) = am.run(&samples) else {
                return;
            };
            if let Ok((src, dst)) =
                self.check_reassign(i32::from(decision.src), i32::from(decision.dst))
            {
                self.move_page(src, dst);
            }
            if decision.dst != 0 {
                return;
            }
        }
    }

    /// Every class's state for the automover at second `t`.
    fn automove_samples(&self, t: u64) -> Vec<ClassSample> {
        let mut samples = vec![ClassSample::default(); self.mem.len()];
        for c in self.classes.classes() {
            let i = usize::from(c.id);
            let cold = self.lru[i].list(super::Segment::Cold).tail;
            samples[i] = ClassSample {
                evicted: self.class_counters[i].evicted,
                outofmemory: self.class_counters[i].outofmemory,
                age: if cold == NIL {
                    0
                } else {
                    t.saturating_sub(self.slot(cold).time)
                },
                free_chunks: self.mem[i].free.len() as u64,
                chunks_per_page: c.perslab,
                total_pages: self.mem[i].pages.len() as u64,
            };
        }
        samples
    }

    /// Moves the first page of `src` (0: the pool) to `dst` (0: the pool); see the module
    /// docs. The classes were checked.
    fn move_page(&mut self, src: usize, dst: usize) {
        debug_assert!(self.staged.is_empty(), "no item is being built");
        let page = if src == 0 {
            self.pool.remove(0)
        } else {
            let page = self.mem[src].pages[0];
            self.clear_page(src, page);
            self.mem[src].pages.remove(0);
            page
        };
        if dst == 0 {
            self.pages[page as usize].owners.clear();
            self.pool.push(page);
            self.memory_release();
        } else {
            self.assign_page(page, dst);
        }
        self.counters.slabs_moved += 1;
    }

    /// `slab_rebalance_move` over the whole page until every chunk is clear.
    fn clear_page(&mut self, class: usize, page: u32) {
        let now = self.clock.now();
        let perslab = self.pages[page as usize].owners.len();
        let mut completed = vec![false; perslab];
        loop {
            let mut busy = 0;
            for off in 0..perslab {
                if completed[off] {
                    continue;
                }
                let owner = self.pages[page as usize].owners[off];
                if owner == NIL {
                    // Free: cut from the free list (filtered below).
                    completed[off] = true;
                    continue;
                }
                let chunk = Chunk {
                    page,
                    off: off as u32,
                };
                let (part_index, chunked, dead) = {
                    let s = self.slot(owner);
                    let i = s
                        .locs
                        .as_slice()
                        .iter()
                        .position(|&c| c == chunk)
                        .expect("a page's owner holds the chunk");
                    let dead = self.is_dead_at_tail(s, now);
                    (i, matches!(s.layout, Layout::Chunked(_)), dead)
                };
                // A data chunk of a chunked item (`ITEM_CHUNK`); index 0 is its header.
                let is_data_chunk = chunked && part_index > 0;
                let rescue = if dead {
                    None
                } else {
                    let found = self.rebalance_alloc(class, page, &mut completed);
                    if found.is_none() {
                        self.counters.slab_reassign_evictions_nomem += 1;
                    }
                    found
                };
                match rescue {
                    Some(new) => {
                        self.pages[page as usize].owners[off] = NIL;
                        self.pages[new.page as usize].owners[new.off as usize] = owner;
                        self.slot_mut(owner).locs.as_mut_slice()[part_index] = new;
                        if is_data_chunk {
                            self.counters.slab_reassign_chunk_rescues += 1;
                        } else {
                            self.relink(owner, now);
                            self.counters.slab_reassign_rescues += 1;
                        }
                        completed[off] = true;
                    }
                    None if !chunked => {
                        // Unlinked; its chunk is cleared, not returned.
                        self.unlink(owner);
                        completed[off] = true;
                    }
                    None => {
                        // The chunk goes back to the free list; the next pass cuts it.
                        self.unlink(owner);
                        busy += 1;
                    }
                }
            }
            if busy == 0 {
                break;
            }
            self.counters.slab_reassign_busy_items += busy;
        }
        self.mem[class].free.retain(|c| c.page != page);
    }

    /// `slab_rebalance_alloc`: a free chunk of `class` outside `page`, without adding a
    /// page; free chunks of `page` met on the way are cleared (`inline_reclaim`).
    fn rebalance_alloc(
        &mut self,
        class: usize,
        page: u32,
        completed: &mut [bool],
    ) -> Option<Chunk> {
        let perslab = completed.len();
        let mut tries = 0;
        while tries < perslab {
            let chunk = self.mem[class].free.pop()?;
            if chunk.page != page {
                return Some(chunk);
            }
            let off = chunk.off as usize;
            if completed[off] {
                // Already cut from the free list in memcached: not a try.
                continue;
            }
            completed[off] = true;
            self.counters.slab_reassign_inline_reclaim += 1;
            tries += 1;
        }
        None
    }

    /// `do_item_replace` of an item with its copy: the head of its own list, `time` now,
    /// a new CAS id, counted in `total_items`.
    fn relink(&mut self, idx: u32, now: u64) {
        self.lru_remove(idx);
        let cas = if self.settings.use_cas {
            self.next_cas()
        } else {
            0
        };
        let s = self.slot_mut(idx);
        s.time = now;
        s.cas = cas;
        self.lru_push_head(idx);
        self.counters.total_items += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::Reassign;
    use crate::memcached::model::store::{Store, StoreOutcome};
    use crate::memcached::model::{ServerClock, Settings};

    const NOW: u64 = 1_700_000_000;

    /// 4 KiB pages, a 16 KiB limit: four pages. A key `kNN` with a 300-byte value is
    /// 48 + 4 + 302 + 8 = 362 bytes, class 7 (384-byte chunks, 10 a page); with a 100-byte
    /// value 162 bytes, class 4 (192-byte chunks, 21 a page).
    fn store(settings: Settings) -> (Store, ServerClock) {
        let clock = ServerClock::manual(NOW);
        let settings = Settings {
            max_bytes: 16384,
            slab_page_size: 4096,
            slab_chunk_max: 2048,
            item_size_max: 2048,
            ..settings
        };
        (Store::new(settings, clock.clone()).unwrap(), clock)
    }

    fn set(s: &mut Store, key: &str, len: usize) {
        let outcome = s.set(key.as_bytes(), &vec![b'v'; len], 0, 0).unwrap();
        assert!(matches!(outcome, StoreOutcome::Stored { .. }), "{key}");
    }

    fn pages(s: &Store, class: u8) -> u32 {
        s.class_usage()
            .iter()
            .find(|u| u.id == class)
            .map_or(0, |u| u.total_pages)
    }

    /// k00..k09 fill page 0 of class 7 and k10..k19 page 1 (each page hands out its last
    /// chunk first). Deleting k10..k14 frees five chunks in page 1. Moving a page from 7 to
    /// 4 clears page 0, walking it from its first chunk (k09) to its last (k00): k09..k05
    /// are rescued into the five free chunks, k04..k00 find none and are dropped.
    #[test]
    fn reassign_clears_the_first_page_rescuing_what_fits() {
        let (mut s, _) = store(Settings::default());
        for i in 0..20 {
            set(&mut s, &format!("k{i:02}"), 300);
        }
        for i in 10..15 {
            assert_eq!(
                s.delete(format!("k{i:02}").as_bytes()).unwrap(),
                crate::memcached::model::store::DeleteOutcome::Deleted
            );
        }
        let cas_before = s.peek(b"k09").unwrap().cas;
        assert_eq!(s.slabs_reassign(7, 4), Reassign::Ok);
        s.validate().unwrap();
        for i in 0..5 {
            assert!(
                !s.contains(format!("k{i:02}").as_bytes()),
                "k{i:02} dropped"
            );
        }
        for i in (5..10).chain(15..20) {
            assert!(s.contains(format!("k{i:02}").as_bytes()), "k{i:02} kept");
        }
        // A rescued item is relinked: a new CAS id.
        assert!(s.peek(b"k09").unwrap().cas > cas_before);
        let c = s.counters();
        assert_eq!(
            (
                c.slabs_moved,
                c.slab_reassign_rescues,
                c.slab_reassign_evictions_nomem
            ),
            (1, 5, 5)
        );
        assert_eq!((pages(&s, 7), pages(&s, 4)), (1, 1));
        // The page arrived whole: 21 free chunks of 192 bytes, no new memory.
        assert_eq!(s.malloced(), 2 * 4096);
        // One page left: nothing spare.
        assert_eq!(s.slabs_reassign(7, 4), Reassign::NoSpare);
        assert_eq!(s.slabs_reassign(4, 4), Reassign::Same);
        assert_eq!(s.slabs_reassign(7, 15), Reassign::BadClass);
    }

    /// A page sent to the global pool is the next page any class gets, without new
    /// memory; lowering the limit frees pool pages beyond it.
    #[test]
    fn the_global_pool_feeds_new_pages_and_releases_them_under_a_lower_limit() {
        let (mut s, _) = store(Settings::default());
        for i in 0..30 {
            set(&mut s, &format!("k{i:02}"), 300);
        }
        assert_eq!((pages(&s, 7), s.malloced()), (3, 3 * 4096));
        assert_eq!(s.slabs_reassign(7, 0), Reassign::Ok);
        assert_eq!(s.global_page_pool(), 1);
        set(&mut s, "small", 100);
        assert_eq!((pages(&s, 4), s.global_page_pool()), (1, 0));
        assert_eq!(s.malloced(), 3 * 4096, "the pool's page, not a new one");
        s.validate().unwrap();
        // Another page to the pool; then no class has two pages, so "any" finds none
        // (memcached answers BADCLASS for the -1 it is left with); then a limit of one
        // page frees the pool's page.
        assert_eq!(s.slabs_reassign(7, 0), Reassign::Ok);
        assert_eq!(s.slabs_reassign(-1, 0), Reassign::BadClass);
        s.adjust_mem_limit(4096);
        assert_eq!((s.global_page_pool(), s.malloced()), (0, 2 * 4096));
        s.validate().unwrap();
        let stats = s.stats();
        let row = |k: &str| stats.iter().find(|r| r.0 == k).map(|r| r.1.clone());
        assert_eq!(row("slabs_moved").as_deref(), Some("2"));
        assert_eq!(row("slab_global_page_pool").as_deref(), Some("0"));
    }

    /// Class 7 with four pages, 30 of its 40 items deleted: 30 free chunks, more than 2.5
    /// pages. After a window (3 s) without evictions or new pages the automover returns pages
    /// to the pool, several within one second, until 25 or fewer chunks are free.
    #[test]
    fn automove_returns_free_pages_to_the_pool() {
        let settings = Settings {
            slab_automove_window: 3,
            max_bytes: 16384,
            ..Settings::default()
        };
        let (mut s, clock) = store(settings);
        s.maintain();
        for i in 0..40 {
            set(&mut s, &format!("k{i:02}"), 300);
        }
        for i in 0..30 {
            s.delete(format!("k{i:02}").as_bytes()).unwrap();
        }
        let mut pool = Vec::new();
        for _ in 0..5 {
            clock.advance(1);
            s.maintain();
            pool.push(s.global_page_pool());
            s.validate().unwrap();
        }
        // Second 1 sees the new pages (dirty); its mark leaves the window of 3 at second 4.
        assert_eq!(pool, [0, 0, 0, 1, 1]);
        let free = s.class_usage()[0].free_chunks;
        assert!(free <= 25, "{free} chunks free");
        // With the LRU maintainer off (compat mode) the automover does not run.
        let compat = Settings {
            lru_segmented: false,
            slab_automove_window: 3,
            ..Settings::default()
        };
        let (mut s, clock) = store(compat);
        for i in 0..40 {
            set(&mut s, &format!("k{i:02}"), 300);
        }
        for i in 0..30 {
            s.delete(format!("k{i:02}").as_bytes()).unwrap();
        }
        clock.advance(10);
        s.maintain();
        assert_eq!(s.global_page_pool(), 0);
    }

    /// `slab_automove=2`: an eviction in class 4 asks for a page from any class with a
    /// spare one; the move happens at the next `maintain` (memcached's mover is a thread).
    #[test]
    fn automove_2_gives_an_evicting_class_a_page() {
        let settings = Settings {
            slab_automove: 2,
            ..Settings::default()
        };
        let (mut s, _) = store(settings);
        for i in 0..30 {
            set(&mut s, &format!("k{i:02}"), 300);
        }
        // Class 4 gets the fourth and last page, then evicts.
        for i in 0..22 {
            set(&mut s, &format!("s{i:02}"), 100);
        }
        assert_eq!(s.counters().evictions, 1);
        assert_eq!(s.slabs_reassign(7, 4), Reassign::Busy, "one waits already");
        s.maintain();
        assert_eq!((pages(&s, 7), pages(&s, 4)), (2, 2));
        s.validate().unwrap();
    }
}
