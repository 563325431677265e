//! The classic text protocol's commands on the store: retrieval (`get`, `gat`, `touch`),
//! storage (`set`, `add`, `replace`, `append`, `prepend`, `cas`), `delete`, `incr`/`decr`
//! and `flush_all`, counted as memcached 1.6.18 counts them (`proto_text.c`,
//! `do_store_item`, `do_add_delta`).

use super::{
    DeleteOutcome, DeltaOutcome, Flush, ItemRef, KeyError, NIL, Store, StoreMode, StoreOutcome,
    TouchOutcome, check_key,
};
use crate::memcached::model::number::strtoull;
use crate::memcached::model::slab::Layout;

/// Parses a stored value as `incr`/`decr` do (`safe_strtoull` on the item's data, which
/// always ends in `\r\n`): optional leading white space and sign, decimal digits that fit
/// in 64 bits, then white space, a NUL or the end. Only the byte after the digits is checked, so
/// `12 abc` counts as 12, as in memcached (found by the differential server tests).
fn parse_counter(value: &[u8]) -> Option<u64> {
    strtoull(value)
}

impl Store {
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
    /// memcached 1.6.18 counts it (`process_get_command` with `should_touch`): `cmd_touch`,
    /// then `touch_hits` or `touch_misses`; not `cmd_get`.
    pub fn gat(&mut self, key: &[u8], exptime: i64) -> Result<Option<ItemRef<'_>>, KeyError> {
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

    /// Counts a storage command refused because the server had no memory to read its data
    /// (`store_no_memory`); a failed `set` removes the key's old item, as in memcached.
    pub fn reject_no_memory(&mut self, mode: StoreMode, key: &[u8]) -> Result<(), KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        self.counters.store_no_memory += 1;
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
    pub(super) fn delta(
        &mut self,
        key: &[u8],
        delta: u64,
        incr: bool,
    ) -> Result<DeltaOutcome, KeyError> {
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
        // memcached backs the boundary up a second only when CAS ids make it exact; without
        // them (`-C`) everything stored in the flush's second goes too.
        let oldest_live = if self.settings.use_cas {
            new_oldest.saturating_sub(1)
        } else {
            new_oldest
        };
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
}
