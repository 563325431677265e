//! Where a cache keeps its entries: one hash table of entries keyed by id, each holding
//! its key, value and the policy's slot for it.
//!
//! A read finds its entry, key and value in one probe, as in a cache written for one
//! policy, and a slotted policy ([`Policy::slotted`]) takes the hit at the slot the entry
//! names ([`Policy::hit_at`]) without a lookup of its own. An entry is reached by its
//! bucket (an index into the table, [`At`]) between lookups: buckets stay put while
//! entries are removed, and move only when an insert grows the table, so a bucket is used
//! only until the cache's next insert.
//!
//! Expiry times live beside the entries, in a map by id that holds only entries with a
//! TTL: an entry of a cache without TTL is then 8 bytes smaller (32 rather than 40 for
//! `u64` keys and values, whole cache lines two to a line), which a table too big for the
//! core's cache reads as fewer misses. A TTL cache pays one more lookup where it judges
//! expiry.
//!
//! [`Policy::slotted`]: crate::policy::Policy::slotted
//! [`Policy::hit_at`]: crate::policy::Policy::hit_at

use hashbrown::{HashMap, HashTable};

use super::{Engine, Entry};

/// The table's hash of an id. An id is already the cache hasher's hash of its key (or
/// one past it, see [`super::Cache`]'s ids), so one multiply by an odd constant is enough
/// to make its top bits, which hashbrown's control bytes take, depend on every bit of it
/// even for a weak hasher (identity on integers); the low bits, which pick the bucket,
/// stay a permutation of the id's.
#[inline(always)]
fn spread(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// An entry's bucket in the table: valid until the next insert.
pub(super) type At = usize;

/// Entries by id; see the [module docs](self).
pub(super) struct Table<K, V> {
    entries: HashTable<Entry<K, V>>,
    /// Expiry time in clock ticks of each held entry that has one, by id. Written only by
    /// [`Table::insert`] and [`Table::set_expiry`] and cleared by every removal, so it
    /// never holds more records than the table holds entries.
    expiries: HashMap<u64, u64>,
}

impl<K, V> Table<K, V> {
    /// An empty table.
    pub fn new() -> Table<K, V> {
        Table {
            entries: HashTable::new(),
            expiries: HashMap::new(),
        }
    }

    /// The bucket of the entry with id `id`.
    #[inline]
    pub fn find(&self, id: u64) -> Option<At> {
        self.entries.find_bucket_index(spread(id), |e| e.id == id)
    }

    /// The bucket and entry with id `id`: [`Table::find`] and [`Table::get`] in one,
    /// without `get`'s check that the bucket holds an entry (the probe just found it
    /// there).
    #[inline]
    pub fn locate(&self, id: u64) -> Option<(At, &Entry<K, V>)> {
        let at = self.find(id)?;
        // SAFETY: `find_bucket_index` returned `at` for a full bucket of this table, and
        // nothing has changed the table since (it is borrowed for the returned entry).
        Some((at, unsafe { self.entries.get_bucket_unchecked(at) }))
    }

    /// The entry with id `id`, when only the entry is wanted (not its bucket).
    #[inline]
    pub fn find_entry(&self, id: u64) -> Option<&Entry<K, V>> {
        self.entries.find(spread(id), |e| e.id == id)
    }

    /// The entry in bucket `at`.
    #[inline]
    pub fn get(&self, at: At) -> Option<&Entry<K, V>> {
        self.entries.get_bucket(at)
    }

    /// The entry in bucket `at`, to change its value, size, expiry or slot (never its id).
    #[inline]
    pub fn get_mut(&mut self, at: At) -> Option<&mut Entry<K, V>> {
        self.entries.get_bucket_mut(at)
    }

    /// Adds `entry`, whose id no held entry has, expiring at `expires` (0: never; see
    /// [`super::expiry`]); returns its bucket.
    #[inline]
    pub fn insert(&mut self, entry: Entry<K, V>, expires: u64) -> At {
        debug_assert!(self.find(entry.id).is_none(), "id {} is held", entry.id);
        if expires != 0 {
            self.expiries.insert(entry.id, expires);
        }
        self.entries
            .insert_unique(spread(entry.id), entry, |e| spread(e.id))
            .bucket_index()
    }

    /// Sets the expiry time of the held entry `id` (0: never), as a replacing insert does.
    pub fn set_expiry(&mut self, id: u64, expires: u64) {
        debug_assert!(self.find(id).is_some(), "id {id} is not held");
        if expires != 0 {
            self.expiries.insert(id, expires);
        } else {
            self.forget_expiry(id);
        }
    }

    /// True when the held entry `id` has an expiry time and it is `now` or earlier
    /// (cachetools' rule: expired when `expires <= now`).
    #[inline]
    pub fn expired(&self, id: u64, now: u64) -> bool {
        !self.expiries.is_empty() && self.expiries.get(&id).is_some_and(|&at| at <= now)
    }

    /// Drops the expiry record of `id`, which is leaving the table.
    #[inline(always)]
    fn forget_expiry(&mut self, id: u64) {
        if !self.expiries.is_empty() {
            self.expiries.remove(&id);
        }
    }

    /// Takes out the entry with id `id`.
    #[inline]
    pub fn remove(&mut self, id: u64) -> Option<Entry<K, V>> {
        let found = self.entries.find_entry(spread(id), |e| e.id == id).ok()?;
        let entry = found.remove().0;
        self.forget_expiry(id);
        Some(entry)
    }

    /// Drops the entry with id `id`, if held, without handing it back (for keys and
    /// values without destructors, nothing to read or run).
    #[inline(always)]
    pub fn discard(&mut self, id: u64) {
        if let Ok(found) = self.entries.find_entry(spread(id), |e| e.id == id) {
            found.remove();
            self.forget_expiry(id);
        }
    }

    /// Takes out the entry in bucket `at`.
    #[inline]
    pub fn take(&mut self, at: At) -> Option<Entry<K, V>> {
        let entry = self.entries.get_bucket_entry(at).ok()?.remove().0;
        self.forget_expiry(entry.id);
        Some(entry)
    }

    /// Entries held.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every held entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry<K, V>> {
        self.entries.iter()
    }

    /// Checks that every recorded expiry is a held entry's, that the policy holds as many
    /// objects as there are entries, and when it is
    /// `slotted`, each entry's id at the slot the entry names (expired or not): through
    /// the policy's index while it keeps one (`indexed`), else by the id in the slot
    /// ([`Policy::id_at`]); for tests.
    ///
    /// [`Policy::id_at`]: crate::policy::Policy::id_at
    pub fn validate(&self, policy: &Engine, slotted: bool, indexed: bool) -> Result<(), String> {
        if let Some(id) = self.expiries.keys().find(|&&id| self.find(id).is_none()) {
            return Err(format!(
                "an expiry is recorded for id {id}, which is not held"
            ));
        }
        if slotted {
            for entry in self.iter() {
                let found = if indexed {
                    policy.slot_of(entry.id) == Some(entry.slot)
                } else {
                    policy.as_dyn().id_at(entry.slot) == Some(entry.id)
                };
                if !found {
                    return Err(format!(
                        "entry of id {} names slot {}, which the policy does not hold it in",
                        entry.id, entry.slot
                    ));
                }
            }
        }
        if self.len() != policy.as_dyn().len() {
            return Err(format!(
                "{} entries but the policy holds {}",
                self.len(),
                policy.as_dyn().len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64) -> Entry<u64, u64> {
        Entry {
            id,
            key: id,
            value: id * 10,
            size: 1,
            slot: id as u32,
        }
    }

    /// The invariant the cache relies on: a bucket found before removals of other entries
    /// still holds its entry after them.
    #[test]
    fn buckets_stay_put_while_other_entries_leave() {
        let mut table = Table::new();
        for id in 0..1000 {
            table.insert(entry(id), 0);
        }
        let kept: Vec<(u64, At)> = (0..1000)
            .step_by(7)
            .map(|id| (id, table.find(id).expect("inserted")))
            .collect();
        for id in (0..1000).filter(|id| id % 7 != 0) {
            assert_eq!(table.remove(id).map(|e| e.value), Some(id * 10));
        }
        for &(id, at) in &kept {
            assert_eq!(table.get(at).map(|e| e.id), Some(id));
        }
        assert_eq!(table.len(), kept.len());
        let (id, at) = kept[3];
        assert_eq!(table.take(at).map(|e| e.id), Some(id));
        assert!(table.find(id).is_none() && table.take(at).is_none());
        assert!(table.remove(id).is_none());
    }

    /// Expiry records come and go with their entries, whichever way an entry leaves, and a
    /// replacing insert's expiry replaces the old one (0 clears it).
    #[test]
    fn expiries_follow_their_entries() {
        let mut table = Table::new();
        for id in 0..6 {
            table.insert(entry(id), if id % 2 == 0 { 10 + id } else { 0 });
        }
        let expired_at = |table: &Table<u64, u64>, now| -> Vec<u64> {
            (0..6).filter(|&id| table.expired(id, now)).collect()
        };
        assert_eq!(expired_at(&table, 9), Vec::<u64>::new());
        assert_eq!(expired_at(&table, 10), [0]); // expired when expires <= now
        assert_eq!(expired_at(&table, 14), [0, 2, 4]);
        table.set_expiry(1, 3);
        table.set_expiry(2, 0);
        assert_eq!(expired_at(&table, 14), [0, 1, 4]);
        assert!(table.remove(0).is_some());
        table.discard(1);
        let at = table.find(4).expect("held");
        assert!(table.take(at).is_some());
        assert_eq!(table.expiries.len(), 0, "every record left with its entry");
        table.insert(entry(4), 0);
        assert!(
            !table.expired(4, u64::MAX),
            "a new entry starts with no expiry"
        );
    }
}
