//! The meta protocol's commands on the store: meta get (`mg`) with its win-token
//! (recache) state, meta arithmetic (`ma`), meta delete (`md`) with invalidation, and the
//! meta set (`ms`) with its CAS and invalidation rules, the meta debug view (`me`); plus the pipeline-window references a meta get holds
//! ([`Store::release_held`]). Counted as memcached 1.6.18's `proto_text.c` counts them.

use super::lru::Segment;
use super::{
    DeltaOutcome, ItemDebug, ItemRef, KeyError, MetaDeleteOutcome, MetaDeltaOutcome,
    MetaGetRequest, MetaState, NEVER, NIL, Store, StoreMode, StoreOutcome, check_key,
};
use crate::memcached::model::slab::Layout;

impl Store {
    /// Meta get (`mg`) with its recache flags, counted as memcached counts it: a hit with
    /// `T` is a touch hit (`cmd_touch`, `touch_hits`), any other hit a get hit (and an LRU
    /// hit, `hits_to_hot`/`_warm`/`_cold`), and every miss a get miss. The item is then
    /// bumped in its LRU (`do_item_bump`) unless the request says `u`
    /// ([`MetaGetRequest::no_update`]). On a miss with `vivify` (`N`) an empty item is added (not counted
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
            key_binary: s.key_binary,
        };
        let exptime = match (vivified, request.touch) {
            (true, Some(_)) if request.vivify_last => None,
            (_, touch) => touch,
        };
        if let Some(exptime) = exptime {
            let exp = self.expiry(exptime, now);
            self.slot_mut(idx).exp = exp;
        }
        if request.touch.is_none() {
            self.count_lru_hit(idx);
        }
        if !request.no_update {
            self.bump_touched(idx, now);
        }
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
    /// on a present counter; with `cas` not 0 (`C`) only when the counter's CAS id is
    /// `cas`, else `Exists` and nothing is counted (`do_add_delta` checks the CAS after
    /// refusing an empty value, before parsing the number). On a missing counter with
    /// `vivify` (`N`: initial value, exptime) it is created, counted as neither a set nor
    /// a miss. A new TTL (`T`) is the caller's, in request order ([`Store::set_exptime`]).
    pub fn meta_delta(
        &mut self,
        key: &[u8],
        incr: bool,
        delta: u64,
        cas: u64,
        vivify: Option<(u64, i64)>,
    ) -> Result<MetaDeltaOutcome, KeyError> {
        check_key(key)?;
        let now = self.clock.now();
        match self.lookup(key, now) {
            None => {
                if let Some((initial, exptime)) = vivify {
                    let mut digits = itoa::Buffer::new();
                    let value = digits.format(initial).as_bytes();
                    return Ok(match self.create_uncounted(key, value, exptime, now) {
                        Some(_) => MetaDeltaOutcome::Created(initial),
                        None => MetaDeltaOutcome::NotStored,
                    });
                }
            }
            Some(idx) => {
                let s = self.slot(idx);
                let numeric_shape = !s.value().is_empty() && matches!(s.layout, Layout::Single(_));
                if numeric_shape && cas != 0 && s.cas != cas {
                    return Ok(MetaDeltaOutcome::Exists);
                }
            }
        }
        Ok(match self.delta(key, delta, incr)? {
            DeltaOutcome::Value { value, .. } => MetaDeltaOutcome::Changed(value),
            DeltaOutcome::NotFound => MetaDeltaOutcome::NotFound,
            DeltaOutcome::NonNumeric => MetaDeltaOutcome::NonNumeric,
            DeltaOutcome::OutOfMemory => MetaDeltaOutcome::OutOfMemory,
        })
    }

    /// Sets the live item's exptime without counting or moving anything, as `ma`'s `T`
    /// (and `N` on the counter it created) do; false when there is no live item.
    pub fn set_exptime(&mut self, key: &[u8], exptime: i64) -> bool {
        let now = self.clock.now();
        let Some(idx) = self.find_index(key) else {
            return false;
        };
        if self.is_dead(self.slot(idx), now) {
            return false;
        }
        let exp = self.expiry(exptime, now);
        self.slot_mut(idx).exp = exp;
        true
    }

    /// Meta set (`ms`): a storage command ([`Store::store`]) with the meta protocol's
    /// CAS rules (memcached's `process_mset_command` and `do_store_item`). `cas` is the
    /// `C` flag: when given, set and replace become a CAS store whatever its value (so
    /// `C0` against a present item is `Exists`); append and prepend compare it unless 0;
    /// add ignores it. With `invalidate` (`I`) a CAS store whose `cas` is below the present
    /// item's stores anyway, but marks the new item stale, keeps the old item's exptime
    /// and its win-token state (a `mg` then reports `X`, and `Z` if a token was sent).
    /// With `key_binary` (`b`) the stored item remembers that its key came base64-encoded
    /// (not for append and prepend, whose new item memcached allocates afresh).
    #[allow(clippy::too_many_arguments)]
    pub fn meta_store(
        &mut self,
        mode: StoreMode,
        key: &[u8],
        value: &[u8],
        flags: u32,
        exptime: i64,
        cas: Option<u64>,
        invalidate: bool,
        key_binary: bool,
    ) -> Result<StoreOutcome, KeyError> {
        check_key(key)?;
        let mode = match (cas, mode) {
            (Some(_), StoreMode::Set | StoreMode::Replace) => StoreMode::Cas,
            _ => mode,
        };
        let cas_in = cas.unwrap_or(0);
        let now = self.clock.now();
        // The present item as memcached compares it after allocating the new one. That
        // allocation may evict it: the store then finds nothing and answers NOT_FOUND, as
        // memcached does, whatever CAS was given.
        let stale_over = match self.find_index(key) {
            Some(idx) if invalidate && mode == StoreMode::Cas && cas_in != 0 => {
                let s = self.slot(idx);
                (!self.is_dead(s, now) && cas_in < s.cas).then_some((s.cas, s.exp, s.token_sent))
            }
            _ => None,
        };
        let compare = stale_over.map_or(cas_in, |(present, _, _)| present);
        let outcome = self.store(mode, key, value, flags, exptime, compare)?;
        if let StoreOutcome::Stored { .. } = outcome
            && let Some(idx) = self.find_index(key)
        {
            let s = self.slot_mut(idx);
            s.key_binary = key_binary && !matches!(mode, StoreMode::Append | StoreMode::Prepend);
            if let Some((_, exp, token_sent)) = stale_over {
                s.exp = exp;
                s.stale = true;
                s.token_sent = token_sent;
            }
        }
        Ok(outcome)
    }

    /// Counts a meta get's hit in `lru_hits` by the list the item is on (memcached counts
    /// it for every `mg` hit without `T`, bumped or not).
    fn count_lru_hit(&mut self, idx: u32) {
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
            key_binary: s.key_binary,
        })
    }
}
