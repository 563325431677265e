//! Where a cache keeps its entries: a vector indexed by slot.
//!
//! A slotted policy ([`Policy::slotted`]) numbers the objects it holds, so the cache puts
//! each entry at the policy's own slot and finds a key through the policy's index
//! ([`Policy::slot_of`]): one hash lookup per request, as in a cache written for one
//! policy. For any other policy (a user's own, or one whose nodes move between stores)
//! the cache numbers the slots itself and keeps its own index from id to slot, which costs
//! a second lookup.

use hashbrown::HashTable;

use super::Engine;
use super::Entry;
use crate::policy::list::mix64;

/// The cache's own numbering, for a policy without slots: an index from id to slot and
/// the slots free for reuse.
#[derive(Default)]
struct OwnIndex {
    /// Slots of the held entries, hashed by the entry's id.
    index: HashTable<u32>,
    /// Slots emptied and not yet reused.
    free: Vec<u32>,
}

/// Entries by slot; see the [module docs](self).
pub(super) struct Slots<K, V> {
    entries: Vec<Option<Entry<K, V>>>,
    len: usize,
    /// `None` when the policy gives the slots.
    own: Option<OwnIndex>,
}

impl<K, V> Slots<K, V> {
    /// Empty storage for a policy that does (`slotted`) or does not give slots.
    pub fn new(slotted: bool) -> Slots<K, V> {
        Slots {
            entries: Vec::new(),
            len: 0,
            own: (!slotted).then(OwnIndex::default),
        }
    }

    /// True when the policy gives the slots.
    #[inline]
    pub fn slotted(&self) -> bool {
        self.own.is_none()
    }

    /// The slot of the held entry with id `id`.
    #[inline]
    pub fn locate(&self, policy: &Engine, id: u64) -> Option<u32> {
        match &self.own {
            None => policy.slot_of(id),
            Some(_) => self.find_own(id),
        }
    }

    /// The slot of the entry with id `id` in the cache's own index (`None` when the policy
    /// gives the slots).
    pub fn find_own(&self, id: u64) -> Option<u32> {
        let own = self.own.as_ref()?;
        let entries = &self.entries;
        own.index
            .find(mix64(id), |&s| {
                entries[s as usize].as_ref().is_some_and(|e| e.id == id)
            })
            .copied()
    }

    /// The entry in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> Option<&Entry<K, V>> {
        self.entries.get(slot as usize)?.as_ref()
    }

    /// The entry in `slot`, to change its value, size or expiry (never its id).
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Entry<K, V>> {
        self.entries.get_mut(slot as usize)?.as_mut()
    }

    /// Puts `entry` in the policy's `slot` (slotted) or a free slot of the cache's own
    /// (`slot` is `None`); returns the slot.
    #[inline]
    pub fn put(&mut self, slot: Option<u32>, entry: Entry<K, V>) -> u32 {
        let id = entry.id;
        let slot = match (&mut self.own, slot) {
            (None, Some(slot)) => slot,
            (Some(own), None) => own
                .free
                .pop()
                .unwrap_or_else(|| u32::try_from(self.entries.len()).expect("under 2^32 entries")),
            (own, slot) => unreachable!(
                "slot {slot:?} given to a cache whose policy {} slots",
                if own.is_none() {
                    "gives"
                } else {
                    "does not give"
                }
            ),
        };
        let at = slot as usize;
        if at >= self.entries.len() {
            self.entries.resize_with(at + 1, || None);
        }
        debug_assert!(self.entries[at].is_none(), "slot {slot} is taken");
        self.entries[at] = Some(entry);
        self.len += 1;
        if let Some(own) = &mut self.own {
            let entries = &self.entries;
            own.index.insert_unique(mix64(id), slot, |&s| {
                mix64(entries[s as usize].as_ref().map_or(0, |e| e.id))
            });
        }
        slot
    }

    /// Takes the entry out of `slot`, freeing the slot.
    #[inline]
    pub fn take(&mut self, slot: u32) -> Option<Entry<K, V>> {
        let entry = self.entries.get_mut(slot as usize)?.take()?;
        self.len -= 1;
        if let Some(own) = &mut self.own {
            if let Ok(found) = own.index.find_entry(mix64(entry.id), |&s| s == slot) {
                found.remove();
            }
            own.free.push(slot);
        }
        Some(entry)
    }

    /// The slot of the entry with id `id`, by looking at every slot: for a drop a slotted
    /// policy named without its slot (none of the built-in ones does).
    pub fn scan(&self, id: u64) -> Option<u32> {
        self.entries
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.id == id))
            .map(|s| s as u32)
    }

    /// Entries held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Every held entry with its slot.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Entry<K, V>)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(s, e)| Some((s as u32, e.as_ref()?)))
    }

    /// Checks that every entry is where [`Slots::locate`] finds its id, that the count is
    /// right and that the policy holds exactly these entries; for tests.
    pub fn validate(&self, policy: &Engine) -> Result<(), String> {
        let mut held = 0;
        for (slot, entry) in self.iter() {
            held += 1;
            if self.locate(policy, entry.id) != Some(slot) {
                return Err(format!(
                    "entry of id {} sits in slot {slot} but is located at {:?}",
                    entry.id,
                    self.locate(policy, entry.id)
                ));
            }
        }
        if held != self.len {
            return Err(format!("{held} entries but a count of {}", self.len));
        }
        if held != policy.as_dyn().len() {
            return Err(format!(
                "{held} entries but the policy holds {}",
                policy.as_dyn().len()
            ));
        }
        Ok(())
    }
}
