//! A resident set in one queue: the keyed slab, the queue and the capacity that CLOCK and
//! SIEVE share, with the accessors and the admit loop they would otherwise each write.
//!
//! The policy supplies only what makes it itself: which object to evict next
//! ([`ResidentQueue::admit`] takes it as a closure) and what a hit records.

use super::EvictionSink;
use super::list::{KeyedSlab, List, Token};

/// Objects held in one queue of a keyed slab, newest at the front, up to `capacity` units.
#[derive(Debug)]
pub(crate) struct ResidentQueue {
    /// The nodes and the key index.
    pub store: KeyedSlab<true>,
    /// Every held object, newest at the front.
    pub queue: List,
    /// Capacity in size units.
    pub capacity: u64,
}

impl ResidentQueue {
    /// An empty set of `capacity` size units.
    pub fn new(capacity: u64) -> ResidentQueue {
        ResidentQueue {
            store: KeyedSlab::bounded(capacity),
            queue: List::new(),
            capacity,
        }
    }

    /// Size units held.
    pub fn used(&self) -> u64 {
        self.queue.bytes()
    }

    /// Objects held.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when `key` is held.
    pub fn contains(&self, key: u64) -> bool {
        self.store.find(key).is_some()
    }

    /// Unlinks and frees a held object; returns its key and size.
    pub fn remove(&mut self, token: Token) -> (u64, u32) {
        let slab = self.store.slab();
        let held = (slab.key(token), slab.size(token));
        self.queue.unlink(self.store.slab_mut(), token);
        self.store.remove(token);
        held
    }

    /// Calls `evict_one` (which picks a held object's token) until `size` more units fit
    /// (or it finds nothing to evict), removing each pick and naming it (key, size, slot)
    /// to `sink`, then inserts `key` at the front and names its slot; returns how many
    /// objects were evicted.
    #[inline]
    pub fn admit<S: EvictionSink + ?Sized>(
        &mut self,
        key: u64,
        size: u32,
        sink: &mut S,
        mut evict_one: impl FnMut(&mut ResidentQueue) -> Option<Token>,
    ) -> u32 {
        let mut evicted = 0;
        while self.queue.bytes() + u64::from(size) > self.capacity {
            let Some(victim) = evict_one(self) else {
                break;
            };
            let (key, size) = self.remove(victim);
            sink.evicted_from(key, size, victim);
            evicted += 1;
        }
        let token = self.store.insert(key, size);
        self.queue.push_front(self.store.slab_mut(), token);
        sink.admitted(key, token);
        evicted
    }
}
