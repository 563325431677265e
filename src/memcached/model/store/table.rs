//! The item table and its memory: slots, the hash index, linking and unlinking items on
//! their LRUs, and chunk allocation from the slab classes (`items.c`'s `do_item_link`,
//! `do_item_unlink`, `do_item_replace`; `slabs.c`'s `do_slabs_alloc`, `do_slabs_newslab`).
//! Everything here is internal to the store: the commands in `classic` and `meta` are
//! built from these steps.

use super::events::Lookup;
use super::pages::Locs;
use super::{ItemRef, NEVER, NIL, Segment, Slot, Store, hash};
use crate::memcached::model::slab::{self, Layout};

impl Store {
    // ---- index and LRU ----------------------------------------------------------------

    #[inline]
    pub(super) fn slot(&self, idx: u32) -> &Slot {
        self.slots[idx as usize]
            .as_ref()
            .expect("linked indexes point at live slots")
    }

    #[inline]
    pub(super) fn slot_mut(&mut self, idx: u32) -> &mut Slot {
        self.slots[idx as usize]
            .as_mut()
            .expect("linked indexes point at live slots")
    }

    pub(super) fn find_index(&self, key: &[u8]) -> Option<u32> {
        let slots = &self.slots;
        self.index
            .find(hash(key), |&i| {
                slots[i as usize].as_ref().is_some_and(|s| s.key() == key)
            })
            .copied()
    }

    /// Looks a key up as `do_item_get` does: a flushed or expired item is removed and
    /// counted, and is a miss.
    pub(super) fn lookup(&mut self, key: &[u8], now: u64) -> Option<u32> {
        let Some(idx) = self.find_index(key) else {
            self.log_get(key, Lookup::NotFound, None);
            return None;
        };
        let slot = self.slot(idx);
        if self.is_flushed(slot, now) {
            self.unlink(idx);
            self.counters.get_flushed += 1;
            self.log_get(key, Lookup::Flushed, None);
            return None;
        }
        if slot.exp <= now {
            self.unlink(idx);
            self.counters.get_expired += 1;
            self.log_get(key, Lookup::Expired, None);
            return None;
        }
        self.log_get(key, Lookup::Hit, Some(idx));
        Some(idx)
    }

    /// Links a new item: index, LRU head, counters, a fresh CAS id.
    pub(super) fn link(&mut self, mut slot: Slot) -> (u32, u64) {
        let cas = if self.settings.use_cas {
            self.next_cas()
        } else {
            0
        };
        slot.cas = cas;
        slot.prev = NIL;
        slot.next = NIL;
        slot.seg = self.first_segment_for(slot.exp, slot.time);
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
        let n = self.slot(idx).layout.parts().len();
        self.slot_mut(idx).locs = self.take_staged(idx, n);
        let slots = &self.slots;
        self.index.insert_unique(key_hash, idx, |&i| {
            slots[i as usize].as_ref().map_or(0, |s| hash(s.key()))
        });
        self.lru_push_head(idx);
        self.counters.total_items += 1;
        self.stats_state.note_items(self.index.len());
        self.curr_bytes += total;
        (idx, cas)
    }

    /// Replaces a live item with a new one of the same key, as `unlink` then `link` would
    /// (`do_item_replace`): the old chunks are freed, the new item gets a fresh CAS id and
    /// goes to its LRU's head, and it takes the old item's slot, which is the slot `link`
    /// would pop from the free list. Reusing the slot and its index entry spares hashing the
    /// key twice, a hash-table remove and insert, and a heap allocation per write.
    pub(super) fn replace_in_place(
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
        let old_locs = std::mem::replace(&mut s.locs, Locs::One(super::Chunk { page: 0, off: 0 }));
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
        s.key_binary = false;
        let total = s.total;
        // A new item: it starts where `link` starts one (HOT when segmented).
        let first = self.first_segment_for(exp, now);
        self.slot_mut(idx).seg = first;
        self.free_locs(&old_layout, &old_locs);
        let n = self.slot(idx).layout.parts().len();
        let locs = self.take_staged(idx, n);
        self.slot_mut(idx).locs = locs;
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
    pub(super) fn unlink(&mut self, idx: u32) {
        self.lru_remove(idx);
        let key_hash = hash(self.slot(idx).key());
        if let Ok(entry) = self.index.find_entry(key_hash, |&i| i == idx) {
            entry.remove();
        }
        let slot = self.slots[idx as usize]
            .take()
            .expect("linked indexes point at live slots");
        self.curr_bytes -= slot.total;
        self.free_locs(&slot.layout, &slot.locs);
        self.free_slots.push(idx);
        if !self.held.is_empty() {
            // The memory is gone from the index; a new item in this slot is not held.
            self.held.retain(|&h| h != idx);
        }
    }

    pub(super) fn next_cas(&mut self) -> u64 {
        self.cas_id += 1;
        self.cas_id
    }

    // ---- memory -----------------------------------------------------------------------

    /// Frees the staged chunks of an item that was allocated but not linked.
    pub(super) fn free_layout(&mut self, layout: &Layout) {
        self.free_staged(layout);
    }

    /// Allocates every chunk of `layout`, or none (counting `outofmemory` on failure).
    pub(super) fn alloc_layout(&mut self, layout: &Layout, now: u64) -> bool {
        let parts = layout.parts();
        for (i, &part) in parts.iter().enumerate() {
            if !self.alloc_part(part, now) {
                self.free_staged(&Layout::Chunked(parts[..i].into()));
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

    pub(super) fn new_slot(
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
            locs: Locs::One(super::Chunk { page: 0, off: 0 }),
            prev: NIL,
            next: NIL,
            seg: Segment::Cold,
            fetched: false,
            active: false,
            token_sent: false,
            stale: false,
            key_binary: false,
        }
    }

    pub(super) fn item_ref(&self, idx: u32) -> ItemRef<'_> {
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
}
