//! [`StackDistances`]: Mattson's LRU stack distance of every access in O(log M), with a
//! Fenwick tree over last-access positions instead of a linear stack.
//!
//! Each access takes the next position; a key's weight (its size, or 1 when counting
//! objects) sits at the position of its last access. The weight of the distinct keys
//! touched since a key's last access is then the sum of the weights after its position,
//! which the tree gives in O(log positions). When the positions run out, the live keys are
//! renumbered in order and the tree is rebuilt at twice their number, so memory follows the
//! distinct keys alive, not the trace's length (Bennett and Kruskal's technique, as in
//! Niu et al.'s parallel stack processing and libCacheSim's `mrcProfiler`).
//!
//! ```
//! use cachelab::mrc::stack::StackDistances;
//! let mut stack = StackDistances::default();
//! assert_eq!(stack.access(1, 10), None); // first access
//! stack.access(2, 20);
//! stack.access(3, 30);
//! // Since key 1's last access, keys 2 and 3 were touched: 50 units.
//! assert_eq!(stack.access(1, 10).map(|r| r.between), Some(50));
//! assert_eq!(stack.access(1, 10).map(|r| r.between), Some(0));
//! ```

use hashbrown::HashTable;

use crate::policy::list::mix64;

/// What [`StackDistances::access`] found about a key seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    /// The weight of the distinct other keys accessed since this key's last access.
    pub between: u64,
    /// This key's weight at its last access.
    pub previous_weight: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    weight: u64,
    position: u32,
}

/// Stack distances by a Fenwick tree over last-access positions; see the module docs.
#[derive(Debug)]
pub struct StackDistances {
    index: HashTable<Entry>,
    /// Fenwick tree (1-based inside) of weights by position.
    tree: Vec<u64>,
    /// The next position to hand out.
    next: u32,
    /// The sum of every live key's weight.
    live_weight: u64,
    /// The fewest positions a renumbering leaves room for.
    min_positions: usize,
}

impl Default for StackDistances {
    fn default() -> StackDistances {
        StackDistances::with_positions(1 << 16)
    }
}

impl StackDistances {
    /// An empty stack with room for `positions` accesses before its first renumbering.
    pub fn with_positions(positions: usize) -> StackDistances {
        let positions = positions.clamp(2, u32::MAX as usize);
        StackDistances {
            index: HashTable::new(),
            tree: vec![0; positions],
            next: 0,
            live_weight: 0,
            min_positions: positions,
        }
    }

    /// Records an access to `key` with `weight` and returns what lies between it and the
    /// key's previous access, or `None` on the key's first access.
    #[inline]
    pub fn access(&mut self, key: u64, weight: u64) -> Option<Reuse> {
        if self.next as usize == self.tree.len() {
            self.renumber();
        }
        let position = self.next;
        self.next += 1;
        let hash = mix64(key);
        let reuse = match self.index.find_mut(hash, |e| e.key == key) {
            Some(entry) => {
                let old = entry.position;
                let previous_weight = entry.weight;
                entry.position = position;
                entry.weight = weight;
                let upto = prefix(&self.tree, old);
                let between = self.live_weight - upto;
                add(&mut self.tree, old, -(i128::from(previous_weight)));
                self.live_weight -= previous_weight;
                Some(Reuse {
                    between,
                    previous_weight,
                })
            }
            None => {
                self.index.insert_unique(
                    hash,
                    Entry {
                        key,
                        position,
                        weight,
                    },
                    |e| mix64(e.key),
                );
                None
            }
        };
        add(&mut self.tree, position, i128::from(weight));
        self.live_weight += weight;
        reuse
    }

    /// Forgets `key` (SHARDS' fixed-size variant drops keys it no longer samples); returns
    /// whether it was present.
    pub fn remove(&mut self, key: u64) -> bool {
        match self.index.find_entry(mix64(key), |e| e.key == key) {
            Ok(entry) => {
                let (removed, _) = entry.remove();
                add(
                    &mut self.tree,
                    removed.position,
                    -i128::from(removed.weight),
                );
                self.live_weight -= removed.weight;
                true
            }
            Err(_) => false,
        }
    }

    /// Distinct keys alive.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no key is alive.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The sum of the live keys' weights.
    pub fn live_weight(&self) -> u64 {
        self.live_weight
    }

    /// Heap bytes held (index and tree).
    pub fn heap_bytes(&self) -> usize {
        self.index.capacity() * (std::mem::size_of::<Entry>() + 1)
            + self.tree.capacity() * std::mem::size_of::<u64>()
    }

    /// Renumbers the live keys 0.. in access order and rebuilds the tree with room for as
    /// many accesses again (at least as many as it started with). A key's new position is
    /// the rank of its old one among the live positions, read off a bitmap of them, so
    /// renumbering is linear: no sort, no lookup.
    #[cold]
    fn renumber(&mut self) {
        let mut occupied = vec![0u64; (self.next as usize).div_ceil(64)];
        for entry in self.index.iter() {
            let p = entry.position as usize;
            occupied[p / 64] |= 1 << (p % 64);
        }
        let mut before = Vec::with_capacity(occupied.len());
        let mut live = 0u32;
        for word in &occupied {
            before.push(live);
            live += word.count_ones();
        }
        let size = (live as usize * 2).clamp(self.min_positions, u32::MAX as usize);
        let mut weights = vec![0u64; size];
        for entry in self.index.iter_mut() {
            let p = entry.position as usize;
            let below = occupied[p / 64] & ((1u64 << (p % 64)) - 1);
            entry.position = before[p / 64] + below.count_ones();
            weights[entry.position as usize] = entry.weight;
        }
        // Linear-time Fenwick construction.
        for i in 0..size {
            let parent = i | (i + 1);
            if parent < size {
                weights[parent] += weights[i];
            }
        }
        self.tree = weights;
        self.next = live;
    }
}

/// The sum of the weights at positions `0..=position`.
#[inline]
fn prefix(tree: &[u64], position: u32) -> u64 {
    let mut i = position as i64;
    let mut sum = 0;
    while i >= 0 {
        sum += tree[i as usize];
        i = (i & (i + 1)) - 1;
    }
    sum
}

/// Adds `delta` at `position`.
#[inline]
fn add(tree: &mut [u64], position: u32, delta: i128) {
    let mut i = position as usize;
    let delta = delta as i64 as u64;
    while i < tree.len() {
        tree[i] = tree[i].wrapping_add(delta);
        i |= i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook model: a list, most recent first.
    fn slow(trace: &[(u64, u32)]) -> Vec<Option<u64>> {
        let mut stack: Vec<(u64, u32)> = Vec::new();
        trace
            .iter()
            .map(|&(key, weight)| {
                let found = stack.iter().position(|e| e.0 == key);
                let out = found.map(|at| stack[..at].iter().map(|e| u64::from(e.1)).sum());
                if let Some(at) = found {
                    stack.remove(at);
                }
                stack.insert(0, (key, weight));
                out
            })
            .collect()
    }

    proptest! {
        #[test]
        fn distances_match_a_linear_stack(
            trace in proptest::collection::vec((0u64..40, 1u32..1000), 0..600),
            positions in 2usize..50,
        ) {
            let mut stack = StackDistances::with_positions(positions);
            let fast: Vec<Option<u64>> =
                trace.iter().map(|&(k, w)| stack.access(k, u64::from(w)).map(|r| r.between)).collect();
            prop_assert_eq!(fast, slow(&trace));
        }
    }

    #[test]
    fn a_removed_key_is_new_again_and_leaves_the_distances() {
        let mut stack = StackDistances::with_positions(4);
        stack.access(1, 5);
        stack.access(2, 7);
        assert!(stack.remove(2));
        assert!(!stack.remove(2));
        assert_eq!(stack.access(1, 5).map(|r| r.between), Some(0));
        assert_eq!(stack.access(2, 7), None);
        assert_eq!(stack.live_weight(), 12);
    }
}
