//! The store's LRUs: memcached 1.6.18's two modes, as `items.c` runs them.
//!
//! Follows `items.c` (`do_item_bump`, `do_item_update`, `do_item_alloc_pull`,
//! `lru_pull_tail`, `lru_maintainer_juggle`, `lru_bump_async`), `memcached.h`
//! (`ITEM_UPDATE_INTERVAL`, `ITEM_FETCHED`, `ITEM_ACTIVE`) and `doc/new_lru.txt`.
//!
//! Each slab class has three lists, HOT, WARM and COLD ([`Segment`]); an item's `time` is
//! memcached's `it->time`: set when the item is linked and when a bump below says so, and
//! read by `flush_all`'s `oldest_live`, the meta `l` flag, `me`'s `la=`, `stats items`'
//! ages and `evicted_time`.
//!
//! **Compat mode** (`-o no_lru_maintainer`, `lru_segmented: false`): every item lives on
//! COLD. A hit marks it fetched and re-links it at the head only when its `time` is more than
//! [`ITEM_UPDATE_INTERVAL`] (60 s) old, then sets `time`; so within a minute the list is in
//! link order. An allocation first reclaims expired or flushed items from the tail, then
//! evicts the tail when no chunk is free.
//!
//! **Segmented mode** (the default, as in memcached 1.6): new items go to HOT. The first hit
//! sets `fetched`; the next sets `active` (and `time`, for an item outside COLD). An active
//! COLD item moves to WARM's head at once (memcached queues it for the maintainer thread,
//! `lru_bump_async`; here the maintainer applies it before the command returns). The
//! maintainer's `lru_maintainer_juggle` keeps HOT within `hot_lru_pct` (20%) and WARM within
//! `warm_lru_pct` (40%) of the class's bytes and moves items older than `hot_max_factor`
//! (0.2) / `warm_max_factor` (2.0) times COLD's tail age to COLD: at a tail, an active HOT
//! item goes to WARM, an active WARM item back to WARM's head, an inactive one over the limit
//! to COLD, and an active COLD tail item to WARM. Allocation evicts from COLD's tail (when
//! COLD is empty, it first pulls HOT's tail down).
//!
//! What is synchronous here and asynchronous in memcached: the maintainer thread wakes every
//! 1 ms to 1 s and juggles each class; the model juggles a class, to completion, at the start
//! of every allocation into it, as if the maintainer had kept up with the traffic, and
//! juggles every class once a second of the store's clock (`Store::maintain`, the `mover`
//! module), so HOT and WARM items of classes nobody allocates into still age into COLD and
//! their dead items are reclaimed. A tail pull reclaims an item only once it expired before
//! the current second (`exptime < current_time`), one second later than a lookup sees it
//! gone. Async bumps are applied at once, so no COLD item is ever active and
//! `evicted_active` stays 0; and where memcached's bump queue still holds a reference to the
//! item, so that an in-place `incr`/`decr` stores a new item instead, the model rewrites it
//! in place. With `-o temporary_ttl` a fourth list per class, TEMP, takes items with a short
//! TTL: hits mark them but never move them, the juggle only reclaims its expired tail, and
//! allocation never evicts from it. The LRU crawler is in `crawler`; the maintainer's
//! background juggle and the slab page mover in `mover`.

use super::{NEVER, NIL, PULL_TRIES, Store};

/// `ITEM_UPDATE_INTERVAL`: compat mode re-links a hit item at most once per this many seconds.
pub const ITEM_UPDATE_INTERVAL: u64 = 60;
/// Allocation attempts per chunk (`do_item_alloc_pull`).
const ALLOC_TRIES: usize = 10;
/// Passes of one juggle (`lru_maintainer_juggle`).
const JUGGLE_PASSES: usize = 500;

/// One of a class's three lists (memcached's `HOT_LRU`, `WARM_LRU`, `COLD_LRU`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Segment {
    Hot = 0,
    Warm = 1,
    Cold = 2,
    /// `TEMP_LRU` (`-o temporary_ttl`): items with a short TTL, never bumped or moved,
    /// only reclaimed when they expire.
    Temp = 3,
}

/// One doubly linked list threaded through the slots.
#[derive(Debug, Clone, Copy)]
pub(super) struct List {
    pub(super) head: u32,
    pub(super) tail: u32,
    pub(super) len: u64,
    /// Sum of `ITEM_ntotal` of the items on this list (`sizes_bytes`).
    pub(super) bytes: u64,
}

impl Default for List {
    fn default() -> List {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
            bytes: 0,
        }
    }
}

/// A slab class's HOT, WARM, COLD and TEMP lists, indexed by [`Segment`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ClassLru {
    pub(super) lists: [List; 4],
}

impl ClassLru {
    /// Items on all three lists.
    pub(super) fn len(&self) -> u64 {
        self.lists.iter().map(|l| l.len).sum()
    }

    /// Bytes on all three lists (`mem_requested`).
    pub(super) fn bytes(&self) -> u64 {
        self.lists.iter().map(|l| l.bytes).sum()
    }

    pub(super) fn list(&self, seg: Segment) -> &List {
        &self.lists[seg as usize]
    }
}

/// What a tail pull may do (`LRU_PULL_EVICT` or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pull {
    /// Reclaim expired items; move HOT/WARM/COLD items as the juggle does.
    Juggle,
    /// Reclaim expired items and evict the COLD tail.
    Evict,
}

impl Store {
    /// The segment a newly linked item expiring at `exp` starts in (`do_item_alloc`): TEMP
    /// when `-o temporary_ttl` is set and the item has at most that many seconds to live,
    /// else [`Store::first_segment`].
    pub(super) fn first_segment_for(&self, exp: u64, now: u64) -> Segment {
        match self.settings.temporary_ttl {
            Some(ttl) if self.settings.lru_segmented && exp != NEVER && exp >= now => {
                if exp - now <= u64::from(ttl) {
                    Segment::Temp
                } else {
                    Segment::Hot
                }
            }
            _ => self.first_segment(),
        }
    }

    /// The segment a newly linked item starts in (`do_item_alloc`).
    pub(super) fn first_segment(&self) -> Segment {
        if self.settings.lru_segmented {
            Segment::Hot
        } else {
            Segment::Cold
        }
    }

    /// Links `idx` at the head of its class's list for its segment (`do_item_link_q`).
    pub(super) fn lru_push_head(&mut self, idx: u32) {
        let (class, seg, total) = {
            let s = self.slot(idx);
            (usize::from(s.lru()), s.seg, s.total)
        };
        let old_head = self.lru[class].lists[seg as usize].head;
        {
            let s = self.slot_mut(idx);
            s.prev = NIL;
            s.next = old_head;
        }
        if old_head != NIL {
            self.slot_mut(old_head).prev = idx;
        }
        let list = &mut self.lru[class].lists[seg as usize];
        list.head = idx;
        if list.tail == NIL {
            list.tail = idx;
        }
        list.len += 1;
        list.bytes += total;
    }

    /// Unlinks `idx` from its list (`do_item_unlink_q`).
    pub(super) fn lru_remove(&mut self, idx: u32) {
        let (class, seg, prev, next, total) = {
            let s = self.slot(idx);
            (
                usize::from(s.lru()),
                s.seg as usize,
                s.prev,
                s.next,
                s.total,
            )
        };
        if prev != NIL {
            self.slot_mut(prev).next = next;
        } else {
            self.lru[class].lists[seg].head = next;
        }
        if next != NIL {
            self.slot_mut(next).prev = prev;
        } else {
            self.lru[class].lists[seg].tail = prev;
        }
        let list = &mut self.lru[class].lists[seg];
        list.len -= 1;
        list.bytes -= total;
        let s = self.slot_mut(idx);
        s.prev = NIL;
        s.next = NIL;
    }

    /// Moves `idx` to the head of `seg`.
    fn lru_move(&mut self, idx: u32, seg: Segment) {
        self.lru_remove(idx);
        self.slot_mut(idx).seg = seg;
        self.lru_push_head(idx);
    }

    /// A `get`/`gets` hit: counted in `hits_to_hot`/`_warm`/`_cold` by the item's list (as
    /// memcached counts `lru_hits`), then [`Store::bump_touched`].
    pub(super) fn bump(&mut self, idx: u32, now: u64) {
        let (class, seg) = {
            let s = self.slot(idx);
            (usize::from(s.lru()), s.seg)
        };
        let counters = &mut self.class_counters[class];
        match seg {
            Segment::Hot => counters.hits_to_hot += 1,
            Segment::Warm => counters.hits_to_warm += 1,
            Segment::Cold => counters.hits_to_cold += 1,
            Segment::Temp => counters.hits_to_temp += 1,
        }
        self.bump_touched(idx, now);
    }

    /// A hit by any retrieval or touch command (`do_item_bump`); see the module docs.
    pub(super) fn bump_touched(&mut self, idx: u32, now: u64) {
        if !self.settings.lru_segmented {
            self.slot_mut(idx).fetched = true;
            self.update(idx, now);
            return;
        }
        let s = self.slot_mut(idx);
        if s.active {
            return;
        }
        if !s.fetched {
            s.fetched = true;
            return;
        }
        s.active = true;
        if s.seg != Segment::Cold {
            s.time = now;
        } else {
            // `lru_bump_async`, applied by the maintainer at once.
            self.update(idx, now);
        }
    }

    /// `do_item_update`: what `add` of a present key, an in-place `incr`/`decr` and a
    /// compat-mode hit do to the item's place and `time`.
    pub(super) fn update(&mut self, idx: u32, now: u64) {
        if self.settings.lru_segmented {
            let s = self.slot_mut(idx);
            s.time = now;
            if s.seg == Segment::Cold && s.active {
                s.active = false;
                self.lru_move(idx, Segment::Warm);
                // `item_link_q_warm` counts the move.
                let class = usize::from(self.slot(idx).lru());
                self.class_counters[class].moves_to_warm += 1;
            }
        } else if self.slot(idx).time + ITEM_UPDATE_INTERVAL < now {
            self.slot_mut(idx).time = now;
            self.lru_remove(idx);
            self.lru_push_head(idx);
        }
    }

    /// The byte limit of HOT or WARM in a class of `total_bytes` (`lru_pull_tail`'s
    /// `limit`): its percentage of the class, or WARM's when that comes to 0.
    fn segment_limit(&self, seg: Segment, total_bytes: u64) -> u64 {
        let pct = if seg == Segment::Hot {
            self.settings.hot_lru_pct
        } else {
            self.settings.warm_lru_pct
        };
        let limit = total_bytes * u64::from(pct) / 100;
        if limit == 0 {
            total_bytes * u64::from(self.settings.warm_lru_pct) / 100
        } else {
            limit
        }
    }

    /// `lru_pull_tail` on `class`'s `seg` list: examines up to five tail items, reclaiming
    /// expired or flushed ones on the way; then the first live one decides (see the module
    /// docs). `limit` ([`Store::segment_limit`]) and `max_age` size HOT and WARM. Returns
    /// items removed or moved.
    ///
    /// Most juggle pulls find a tail that stays where it is; that case is decided here,
    /// inline, and only a pull that may change something runs [`Store::pull_tail_slow`].
    #[inline(always)]
    fn pull_tail(
        &mut self,
        class: u8,
        seg: Segment,
        limit: u64,
        pull: Pull,
        max_age: u64,
        now: u64,
    ) -> usize {
        let list = self.lru[usize::from(class)].list(seg);
        let tail = list.tail;
        if tail == NIL {
            return 0;
        }
        if pull == Pull::Juggle && tail != self.pinned {
            // The first item examined is live and unpinned, so it decides, exactly as in
            // `pull_tail_slow`; these are the conditions under which it stays put.
            let slot = self.slot(tail);
            if !self.is_dead_at_tail(slot, now) {
                let stays = match seg {
                    Segment::Hot | Segment::Warm => {
                        !slot.active && !outgrown(list.bytes, limit, slot.time, max_age, now)
                    }
                    Segment::Cold => !self.rescued_from_cold(slot.active),
                    // TEMP is only ever pulled for reclaims.
                    Segment::Temp => true,
                };
                if stays {
                    return 0;
                }
            }
        }
        self.pull_tail_slow(class, seg, limit, pull, max_age, now)
    }

    /// An active item at COLD's tail moves to WARM (memcached's async bump), in segmented
    /// mode only.
    #[inline(always)]
    fn rescued_from_cold(&self, active: bool) -> bool {
        active && self.settings.lru_segmented
    }

    /// [`Store::pull_tail`]'s full walk.
    fn pull_tail_slow(
        &mut self,
        class: u8,
        seg: Segment,
        limit: u64,
        pull: Pull,
        max_age: u64,
        now: u64,
    ) -> usize {
        let c = usize::from(class);
        let mut search = self.lru[c].list(seg).tail;
        let mut removed = 0;
        for _ in 0..PULL_TRIES {
            if search == NIL {
                break;
            }
            let idx = search;
            let slot = self.slot(idx);
            let (dead, fetched, active, time, exp) = (
                self.is_dead_at_tail(slot, now),
                slot.fetched,
                slot.active,
                slot.time,
                slot.exp,
            );
            search = slot.prev;
            if idx == self.pinned {
                continue;
            }
            if dead {
                let counters = &mut self.class_counters[c];
                counters.reclaimed += 1;
                self.counters.reclaimed += 1;
                if !fetched {
                    counters.expired_unfetched += 1;
                    self.counters.expired_unfetched += 1;
                }
                self.unlink(idx);
                removed += 1;
                continue;
            }
            match seg {
                Segment::Hot | Segment::Warm => {
                    if active {
                        self.slot_mut(idx).active = false;
                        removed += 1;
                        if seg == Segment::Warm {
                            self.class_counters[c].moves_within_lru += 1;
                            self.lru_move(idx, Segment::Warm);
                            continue;
                        }
                        self.class_counters[c].moves_to_warm += 1;
                        self.lru_move(idx, Segment::Warm);
                    } else if outgrown(self.lru[c].list(seg).bytes, limit, time, max_age, now) {
                        self.class_counters[c].moves_to_cold += 1;
                        self.lru_move(idx, Segment::Cold);
                        removed += 1;
                    }
                }
                Segment::Temp => {}
                Segment::Cold => match pull {
                    Pull::Evict if self.settings.evictions => {
                        let counters = &mut self.class_counters[c];
                        counters.evicted += 1;
                        counters.evicted_time = now.saturating_sub(time);
                        if exp != NEVER {
                            counters.evicted_nonzero += 1;
                        }
                        if active {
                            counters.evicted_active += 1;
                        }
                        self.counters.evictions += 1;
                        if !fetched {
                            counters.evicted_unfetched += 1;
                            self.counters.evicted_unfetched += 1;
                        }
                        self.log_eviction(idx, now);
                        self.unlink(idx);
                        removed += 1;
                        self.evicted_for_automove(class);
                    }
                    Pull::Evict => {}
                    Pull::Juggle => {
                        if self.rescued_from_cold(active) {
                            self.class_counters[c].moves_to_warm += 1;
                            self.slot_mut(idx).active = false;
                            self.lru_move(idx, Segment::Warm);
                            removed += 1;
                        }
                    }
                },
            }
            break;
        }
        removed
    }

    /// `lru_maintainer_juggle` for one class, segmented mode only: pulls HOT, WARM and COLD
    /// tails until nothing moves (at most 500 passes).
    pub(super) fn juggle(&mut self, class: u8, now: u64) -> usize {
        if self.settings.temporary_ttl.is_some() {
            // TEMP first, for reclaims only (`lru_maintainer_juggle`).
            for _ in 0..JUGGLE_PASSES {
                if self.pull_tail(class, Segment::Temp, 0, Pull::Juggle, 0, now) == 0 {
                    break;
                }
            }
        }
        let lru = &self.lru[usize::from(class)];
        // HOT, WARM and COLD: TEMP does not count towards their limits.
        let total_bytes = [Segment::Hot, Segment::Warm, Segment::Cold]
            .iter()
            .map(|&seg| lru.list(seg).bytes)
            .sum();
        let cold_tail = lru.list(Segment::Cold).tail;
        let cold_age = if cold_tail == NIL {
            0
        } else {
            now.saturating_sub(self.slot(cold_tail).time)
        };
        // `rel_time_t * double`, truncated back to whole seconds (0 times any factor, even
        // NaN or infinite, casts to 0: the common case skips the float work).
        let (hot_age, warm_age) = if cold_age == 0 {
            (0, 0)
        } else {
            (
                (cold_age as f64 * self.settings.hot_max_factor) as u64,
                (cold_age as f64 * self.settings.warm_max_factor) as u64,
            )
        };
        // Fixed for the whole juggle, as `total_bytes` is.
        let hot_limit = self.segment_limit(Segment::Hot, total_bytes);
        let warm_limit = self.segment_limit(Segment::Warm, total_bytes);
        let mut total = 0;
        for _ in 0..JUGGLE_PASSES {
            let mut moved = 0;
            if self.pull_tail(class, Segment::Hot, hot_limit, Pull::Juggle, hot_age, now) > 0
                || self.pull_tail(
                    class,
                    Segment::Warm,
                    warm_limit,
                    Pull::Juggle,
                    warm_age,
                    now,
                ) > 0
            {
                moved += 1;
            }
            moved += self.pull_tail(class, Segment::Cold, 0, Pull::Juggle, 0, now);
            if moved == 0 {
                break;
            }
            total += moved;
        }
        total
    }

    /// Allocates one chunk of `part.class`, reclaiming and evicting from its COLD tail as
    /// needed (`do_item_alloc_pull`); in segmented mode the class is juggled first.
    pub(super) fn alloc_part(
        &mut self,
        part: crate::memcached::model::slab::Part,
        now: u64,
    ) -> bool {
        let segmented = self.settings.lru_segmented;
        if segmented {
            let _ = self.juggle(part.class, now);
        }
        let mut tries = 0;
        let ok = loop {
            if tries == ALLOC_TRIES {
                break false;
            }
            if !segmented {
                // Compat mode first reclaims expired items from the tail, without evicting.
                self.pull_tail(part.class, Segment::Cold, 0, Pull::Juggle, 0, now);
            }
            if self.take_chunk(part) {
                break true;
            }
            if self.pull_tail(part.class, Segment::Cold, 0, Pull::Evict, 0, now) == 0 {
                if !segmented {
                    break false;
                }
                let limit = self.segment_limit(Segment::Hot, 0);
                self.pull_tail(part.class, Segment::Hot, limit, Pull::Juggle, 0, now);
            }
            tries += 1;
        };
        self.class_counters[usize::from(part.class)].direct_reclaims += tries as u64;
        ok
    }
}

/// An inactive HOT or WARM tail item moves to COLD when its list is over its byte limit or
/// the item is older than the list's age limit (`lru_pull_tail`).
#[inline(always)]
fn outgrown(list_bytes: u64, limit: u64, time: u64, max_age: u64, now: u64) -> bool {
    list_bytes > limit || now.saturating_sub(time) > max_age
}

#[cfg(test)]
mod tests {
    use crate::memcached::model::store::{Store, StoreOutcome};
    use crate::memcached::model::{ServerClock, Settings};

    const NOW: u64 = 1_700_000_000;

    /// 4 KiB pages and a 4 KiB limit: one page per class. A key `kNN` with a 300-byte value
    /// is 48 + 4 + 302 + 8 = 362 bytes, class 7 (384-byte chunks), 10 chunks per page.
    fn store(lru_segmented: bool) -> (Store, ServerClock) {
        let clock = ServerClock::manual(NOW);
        let settings = Settings {
            max_bytes: 4096,
            slab_page_size: 4096,
            slab_chunk_max: 2048,
            item_size_max: 2048,
            lru_segmented,
            ..Settings::default()
        };
        (Store::new(settings, clock.clone()).unwrap(), clock)
    }

    fn set(s: &mut Store, key: &str) {
        let outcome = s.set(key.as_bytes(), &[b'v'; 300], 0, 0).unwrap();
        assert!(matches!(outcome, StoreOutcome::Stored { .. }), "{key}");
    }

    fn hit(s: &mut Store, key: &str) -> bool {
        s.get(key.as_bytes()).unwrap().is_some()
    }

    fn stat(s: &Store, name: &str) -> Option<String> {
        s.stats_items()
            .into_iter()
            .find(|(k, _)| k == &format!("items:7:{name}"))
            .map(|(_, v)| v)
    }

    /// Fill the page (f0..f9), then `a` hit twice (ACTIVE) and `b` hit once (FETCHED), then
    /// a scan of 20 new keys, twice what the class holds. Segmented: `a` reaches HOT's tail
    /// active and goes to WARM, which stays under 40% of the class, so the scan flows
    /// HOT -> COLD -> evicted around it; `b` is only FETCHED and goes to COLD with the scan.
    /// Compat: both are evicted, the hits within a minute moved neither.
    fn scan(lru_segmented: bool) -> Store {
        let (mut s, _) = store(lru_segmented);
        assert_eq!(s.classes().get(7).map(|c| c.perslab), Some(10));
        for i in 0..10 {
            set(&mut s, &format!("f{i}"));
        }
        set(&mut s, "a");
        assert!(hit(&mut s, "a") && hit(&mut s, "a"));
        set(&mut s, "b");
        assert!(hit(&mut s, "b"));
        for i in 0..20 {
            set(&mut s, &format!("s{i:02}"));
        }
        s.validate().unwrap();
        s
    }

    #[test]
    fn segmented_item_hit_twice_survives_a_scan() {
        let s = scan(true);
        assert!(s.contains(b"a"));
        assert!(!s.contains(b"b"));
        assert_eq!(s.len(), 10);
        assert_eq!(stat(&s, "number_warm").as_deref(), Some("1"));
        assert_eq!(stat(&s, "moves_to_warm").as_deref(), Some("1"));
        assert_eq!(stat(&s, "hits_to_hot").as_deref(), Some("3"));
        // Every scan key went HOT -> COLD; HOT holds at most 20% of the class's bytes.
        let hot: u64 = stat(&s, "number_hot").unwrap().parse().unwrap();
        assert!(hot <= 2, "{hot} HOT items");
        assert_eq!(s.counters().evictions, 22);
    }

    #[test]
    fn compat_hits_within_a_minute_do_not_protect_from_a_scan() {
        let s = scan(false);
        assert!(!s.contains(b"a"));
        assert!(!s.contains(b"b"));
        assert_eq!(stat(&s, "number_warm"), None, "compat mode has no segments");
        assert_eq!(s.counters().evictions, 22);
    }

    #[test]
    fn segmented_time_moves_when_an_item_turns_active() {
        let (mut s, clock) = store(true);
        set(&mut s, "a");
        clock.advance(5);
        assert!(hit(&mut s, "a")); // FETCHED: time stays
        assert_eq!(s.debug(b"a").unwrap().last_access, 5);
        assert!(hit(&mut s, "a")); // ACTIVE in HOT: time = now
        assert_eq!(s.debug(b"a").unwrap().last_access, 0);
        clock.advance(3);
        assert!(hit(&mut s, "a")); // already ACTIVE: nothing changes
        assert_eq!(s.debug(b"a").unwrap().last_access, 3);
    }

    #[test]
    fn segmented_active_cold_item_moves_to_warm_on_its_hit() {
        let (mut s, _) = store(true);
        // b's allocation juggles: a (inactive, HOT over 20%) goes to COLD.
        set(&mut s, "a");
        set(&mut s, "b");
        assert_eq!(stat(&s, "number_cold").as_deref(), Some("1"));
        assert!(hit(&mut s, "a") && hit(&mut s, "a"));
        // The second hit made it ACTIVE in COLD: the (async, here immediate) bump moves it
        // to WARM's head and clears ACTIVE.
        assert_eq!(stat(&s, "number_cold").as_deref(), Some("0"));
        assert_eq!(stat(&s, "number_warm").as_deref(), Some("1"));
        assert_eq!(stat(&s, "moves_to_warm").as_deref(), Some("1"));
        assert_eq!(stat(&s, "hits_to_cold").as_deref(), Some("2"));
        s.validate().unwrap();
    }

    #[test]
    fn compat_hit_moves_an_item_only_after_60_seconds() {
        let (mut s, clock) = store(false);
        for i in 0..10 {
            set(&mut s, &format!("k{i}"));
        }
        // 30 s later k0 is read: its last bump is not over 60 s old, it stays at the tail.
        clock.advance(30);
        assert!(hit(&mut s, "k0"));
        assert_eq!(s.debug(b"k0").unwrap().last_access, 30);
        set(&mut s, "n0");
        assert!(!s.contains(b"k0"), "k0 was still the tail");
        // At 61 s k1 is read: now it moves to the head and its time is now.
        clock.advance(31);
        assert!(hit(&mut s, "k1"));
        assert_eq!(s.debug(b"k1").unwrap().last_access, 0);
        assert_eq!(stat(&s, "age").as_deref(), Some("61"), "k2 is the tail");
        set(&mut s, "n1");
        assert!(s.contains(b"k1"));
        assert!(!s.contains(b"k2"));
        // Exactly 60 s after its bump k1 is not moved (memcached's `<`), at 61 s it is.
        clock.advance(60);
        assert!(hit(&mut s, "k1"));
        assert_eq!(s.debug(b"k1").unwrap().last_access, 60);
        clock.advance(1);
        assert!(hit(&mut s, "k1"));
        assert_eq!(s.debug(b"k1").unwrap().last_access, 0);
        s.validate().unwrap();
    }

    #[test]
    fn settings_and_items_stats_follow_the_mode() {
        let (s, _) = store(false);
        let row = |k: &str| {
            s.stats_settings()
                .into_iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v)
        };
        assert_eq!(row("lru_segmented").as_deref(), Some("no"));
        assert_eq!(row("hot_lru_pct").as_deref(), Some("20"));
        assert_eq!(row("warm_max_factor").as_deref(), Some("2.00"));
        let (mut s, _) = store(true);
        set(&mut s, "a");
        let names: Vec<String> = s.stats_items().into_iter().map(|(k, _)| k).collect();
        let pos = |n: &str| names.iter().position(|x| x == &format!("items:7:{n}"));
        assert!(pos("number") < pos("number_hot") && pos("age_warm") < pos("age"));
        assert!(pos("evicted_unfetched") < pos("evicted_active"));
        assert!(pos("moves_within_lru") < pos("direct_reclaims"));
    }
}
