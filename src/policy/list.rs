//! Index-linked lists in one slab, and the key index over it: the storage every
//! list-based policy (LRU, FIFO, and later ARC, 2Q, S3-FIFO, SIEVE, CLOCK) is built on.
//!
//! Nodes live in one `Vec` and link to each other by `u32` index ([`Token`]); freed slots are
//! threaded into a free list and reused, so a policy allocates only while it grows. Several
//! circular lists ([`List`]) can share one slab: a policy keeps one [`List`] value per queue
//! (hot, cold, ghost …) and moves tokens between them without touching the allocator.
//! The key index ([`KeyedSlab`]) is a `hashbrown::HashTable<u32>` that stores only the
//! token and compares keys through the slab, so a cached object costs one 24-byte node plus
//! a 4-byte table slot and its control byte: about 30 bytes at the table's usual load.
//!
//! The shape follows quick-cache's `linked_slab.rs` (a `Vec` of entries, a free list, many
//! circular lists in one slab, and a `validate` that rebuilds every counter), without
//! `unsafe` and with `u32::MAX` as the null link.

use hashbrown::HashTable;

/// Handle of a node in a [`Slab`]: its index.
pub type Token = u32;

/// The null link.
const NIL: u32 = u32::MAX;

/// One node: the object's key and size, two links, and one word the policy may use for
/// anything (a frequency, a reference bit, the id of the queue the node is on).
#[derive(Clone, Copy, Debug)]
struct Node {
    key: u64,
    size: u32,
    prev: u32,
    next: u32,
    aux: u32,
}

/// A `Vec` of nodes with a free list; tokens stay valid until [`Slab::release`].
#[derive(Debug)]
pub struct Slab {
    nodes: Vec<Node>,
    free: u32,
    live: usize,
    /// Growth stops at this many nodes while it can (see [`Slab::limit_growth`]).
    growth_limit: usize,
}

impl Default for Slab {
    fn default() -> Slab {
        Slab::new()
    }
}

impl Slab {
    /// An empty slab.
    pub fn new() -> Slab {
        Slab {
            nodes: Vec::new(),
            free: NIL,
            live: 0,
            growth_limit: usize::MAX,
        }
    }

    /// Caps how far the slab grows ahead of need: it never reserves past `max_nodes` unless
    /// more nodes are really allocated. A policy that knows it holds at most `capacity`
    /// objects (every object takes at least one size unit) passes that, so an object-mode
    /// cache carries no slack.
    pub fn limit_growth(&mut self, max_nodes: u64) {
        self.growth_limit = usize::try_from(max_nodes).unwrap_or(usize::MAX);
    }

    /// Allocates a node for `key` with `size`, not yet on any list; `aux` starts at 0.
    #[inline(always)]
    pub fn alloc(&mut self, key: u64, size: u32) -> Token {
        let node = Node {
            key,
            size,
            prev: NIL,
            next: NIL,
            aux: 0,
        };
        self.live += 1;
        if self.free != NIL {
            let token = self.free;
            self.free = self.nodes[token as usize].next;
            self.nodes[token as usize] = node;
            token
        } else {
            if self.nodes.len() == self.nodes.capacity() {
                // Grow by half rather than doubling (at most a third of the slab is slack),
                // and not past the growth limit while below it.
                let len = self.nodes.len();
                let room = self.growth_limit.saturating_sub(len);
                let step = (len / 2).max(16);
                self.nodes
                    .reserve_exact(if room > 0 { step.min(room) } else { step });
            }
            let token = u32::try_from(self.nodes.len()).expect("more than 2^32 live cache objects");
            assert!(token != NIL, "more than 2^32 - 1 live cache objects");
            self.nodes.push(node);
            token
        }
    }

    /// Returns a node (already unlinked from its list) to the free list.
    #[inline(always)]
    pub fn release(&mut self, token: Token) {
        let node = &mut self.nodes[token as usize];
        node.next = self.free;
        node.prev = NIL;
        node.size = 0;
        self.free = token;
        self.live -= 1;
    }

    /// The key stored in `token`.
    #[inline]
    pub fn key(&self, token: Token) -> u64 {
        self.nodes[token as usize].key
    }

    /// The size stored in `token`.
    #[inline]
    pub fn size(&self, token: Token) -> u32 {
        self.nodes[token as usize].size
    }

    /// The policy's word in `token`.
    #[inline]
    pub fn aux(&self, token: Token) -> u32 {
        self.nodes[token as usize].aux
    }

    /// Sets the policy's word in `token`.
    #[inline]
    pub fn set_aux(&mut self, token: Token, aux: u32) {
        self.nodes[token as usize].aux = aux;
    }

    /// Number of allocated (live) nodes.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Number of nodes ever laid out, live or free: every token is below it.
    #[inline]
    pub fn slots(&self) -> usize {
        self.nodes.len()
    }

    /// True when `token` is a node of this slab that is linked on a list (its `prev` is
    /// set): live for certain, since a free node never is; a live node that is unlinked
    /// (in the middle of a move) answers false. Out-of-range tokens answer false.
    #[inline]
    pub fn is_linked(&self, token: Token) -> bool {
        self.nodes
            .get(token as usize)
            .is_some_and(|n| n.prev != NIL)
    }

    /// Which nodes are free, by walking the free list: exact, O(slab); for cold paths.
    fn free_marks(&self) -> Vec<bool> {
        let mut free = vec![false; self.nodes.len()];
        let mut token = self.free;
        while token != NIL {
            free[token as usize] = true;
            token = self.nodes[token as usize].next;
        }
        free
    }

    /// The live nodes' tokens, in slab order, found by walking the free list; for cold paths.
    fn live_tokens(&self) -> impl Iterator<Item = Token> + '_ {
        let free = self.free_marks();
        (0..self.nodes.len() as u32).filter(move |&t| !free[t as usize])
    }

    /// Heap bytes held by the slab, free slots included.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
    }
}

/// A circular doubly linked list of slab nodes, most recently pushed at the front.
///
/// The list keeps its length and the sum of its nodes' sizes, so a policy knows how full
/// each queue is without walking it.
#[derive(Clone, Copy, Debug)]
pub struct List {
    head: u32,
    len: u32,
    bytes: u64,
}

impl Default for List {
    fn default() -> List {
        List::new()
    }
}

impl List {
    /// An empty list.
    pub const fn new() -> List {
        List {
            head: NIL,
            len: 0,
            bytes: 0,
        }
    }

    /// Number of nodes on the list.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when the list has no node.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sum of the sizes of the nodes on the list.
    #[inline]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The front (most recently pushed) node.
    #[inline]
    pub fn front(&self) -> Option<Token> {
        (self.head != NIL).then_some(self.head)
    }

    /// The back (oldest) node.
    #[inline]
    pub fn back(&self, slab: &Slab) -> Option<Token> {
        (self.head != NIL).then(|| slab.nodes[self.head as usize].prev)
    }

    /// The node one step toward the front from `token`, or `None` at the front.
    #[inline]
    pub fn toward_front(&self, slab: &Slab, token: Token) -> Option<Token> {
        (token != self.head).then(|| slab.nodes[token as usize].prev)
    }

    /// The node one step toward the back from `token`, or `None` at the back.
    #[inline]
    pub fn toward_back(&self, slab: &Slab, token: Token) -> Option<Token> {
        let next = slab.nodes[token as usize].next;
        (next != self.head).then_some(next)
    }

    /// Links an unlinked node in right behind `anchor` (one step toward the back), which
    /// must be on this list; for lists kept in an order other than recency (LFU buckets).
    #[inline]
    pub fn insert_after(&mut self, slab: &mut Slab, anchor: Token, token: Token) {
        let next = slab.nodes[anchor as usize].next;
        slab.nodes[token as usize].prev = anchor;
        slab.nodes[token as usize].next = next;
        slab.nodes[anchor as usize].next = token;
        slab.nodes[next as usize].prev = token;
        self.len += 1;
        self.bytes += u64::from(slab.nodes[token as usize].size);
    }

    /// Links an unlinked node in at the front.
    #[inline(always)]
    pub fn push_front(&mut self, slab: &mut Slab, token: Token) {
        self.link_before_head(slab, token);
        self.head = token;
    }

    /// Links an unlinked node in at the back.
    #[cfg(test)]
    pub fn push_back(&mut self, slab: &mut Slab, token: Token) {
        self.link_before_head(slab, token);
    }

    #[inline(always)]
    fn link_before_head(&mut self, slab: &mut Slab, token: Token) {
        if self.head == NIL {
            let node = &mut slab.nodes[token as usize];
            node.prev = token;
            node.next = token;
            self.head = token;
        } else {
            splice_before(slab, self.head, token);
        }
        self.len += 1;
        self.bytes += u64::from(slab.nodes[token as usize].size);
    }

    /// Unlinks `token`, which must be on this list.
    #[inline(always)]
    pub fn unlink(&mut self, slab: &mut Slab, token: Token) {
        let Node {
            prev, next, size, ..
        } = slab.nodes[token as usize];
        if next == token {
            self.head = NIL;
        } else {
            splice_out(slab, prev, next);
            if self.head == token {
                self.head = next;
            }
        }
        let node = &mut slab.nodes[token as usize];
        node.prev = NIL;
        node.next = NIL;
        self.len -= 1;
        self.bytes -= u64::from(size);
    }

    /// Unlinks and returns the back node.
    #[inline(always)]
    pub fn pop_back(&mut self, slab: &mut Slab) -> Option<Token> {
        let back = self.back(slab)?;
        self.unlink(slab, back);
        Some(back)
    }

    /// Moves `token`, which must be on this list, to the front.
    #[inline(always)]
    pub fn move_to_front(&mut self, slab: &mut Slab, token: Token) {
        let head = self.head;
        if head == token {
            return;
        }
        let Node { prev, next, .. } = slab.nodes[token as usize];
        if next != head {
            // Out of its place and in at the back (the list has at least three nodes
            // here: token, head and next); length and bytes stay. The back node itself
            // needs neither: in a circle, making it the head is the whole move.
            splice_out(slab, prev, next);
            splice_before(slab, head, token);
        }
        self.head = token;
    }

    /// Makes the back node the front, keeping the order of the rest: in a circle only the
    /// head moves. Returns the node, `None` when the list is empty. The same list as
    /// [`List::pop_back`] then [`List::push_front`] of that node.
    #[inline(always)]
    pub fn rotate_back_to_front(&mut self, slab: &Slab) -> Option<Token> {
        let back = self.back(slab)?;
        self.head = back;
        Some(back)
    }

    /// Changes the size of `token`, which must be on this list, keeping the byte count right.
    pub fn resize(&mut self, slab: &mut Slab, token: Token, size: u32) {
        let node = &mut slab.nodes[token as usize];
        self.bytes = self.bytes - u64::from(node.size) + u64::from(size);
        node.size = size;
    }

    /// Walks the list front to back and checks links, length and bytes; for tests.
    pub fn validate(&self, slab: &Slab) -> Result<Vec<Token>, String> {
        let mut seen = Vec::with_capacity(self.len());
        let mut bytes = 0u64;
        if self.head != NIL {
            let mut token = self.head;
            loop {
                let node = slab.nodes[token as usize];
                if slab.nodes[node.next as usize].prev != token {
                    return Err(format!("node {token}: next.prev does not point back"));
                }
                seen.push(token);
                bytes += u64::from(node.size);
                if seen.len() > slab.nodes.len() {
                    return Err("list does not close into a circle".into());
                }
                token = node.next;
                if token == self.head {
                    break;
                }
            }
        }
        if seen.len() != self.len() {
            return Err(format!(
                "list length {} but {} nodes linked",
                self.len,
                seen.len()
            ));
        }
        if bytes != self.bytes {
            return Err(format!(
                "list bytes {} but nodes sum to {bytes}",
                self.bytes
            ));
        }
        Ok(seen)
    }
}

/// Links `token` in between `head` and the node before it (the back of a circular list),
/// leaving the list's counts to the caller.
#[inline(always)]
fn splice_before(slab: &mut Slab, head: Token, token: Token) {
    let back = slab.nodes[head as usize].prev;
    slab.nodes[token as usize].prev = back;
    slab.nodes[token as usize].next = head;
    slab.nodes[back as usize].next = token;
    slab.nodes[head as usize].prev = token;
}

/// Joins `prev` and `next`, the neighbours of a node leaving the list, leaving the list's
/// counts and the node's own links to the caller.
#[inline(always)]
fn splice_out(slab: &mut Slab, prev: Token, next: Token) {
    slab.nodes[prev as usize].next = next;
    slab.nodes[next as usize].prev = prev;
}

/// Multiplies and folds: a fast, well-mixed hash of a `u64` key for the index (the high
/// bits matter, because hashbrown's control bytes take the top seven).
#[inline]
pub fn mix64(key: u64) -> u64 {
    let full = u128::from(key ^ 0x243F_6A88_85A3_08D3) * 0x9E37_79B9_7F4A_7C15;
    (full as u64) ^ ((full >> 64) as u64)
}

/// A slab plus an index from key to token: the storage of a keyed cache.
///
/// With `DROPPABLE` (for the policies that can run without their index,
/// [`crate::policy::Policy::drop_index`]) the index can be dropped
/// ([`KeyedSlab::drop_index`]) for a caller that names every node by its token (an
/// in-process cache keeping each entry's slot): inserts and removals then skip it,
/// [`KeyedSlab::probe`] says it cannot answer, and [`KeyedSlab::find`] falls back to a
/// linear scan until [`KeyedSlab::restore_index`] rebuilds it. Without `DROPPABLE` (the
/// default: policies with ghosts) every check of the mode compiles away.
#[derive(Debug, Default)]
pub struct KeyedSlab<const DROPPABLE: bool = false> {
    slab: Slab,
    /// Empty (no memory) while `unindexed`.
    index: HashTable<u32>,
    /// True after [`KeyedSlab::drop_index`]: the index is not kept.
    unindexed: bool,
}

/// [`KeyedSlab::probe`]'s answer when the index is dropped and does not know the key (it
/// knows none): the caller locates the key another way ([`KeyedSlab::find`], slow).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexDropped;

impl<const DROPPABLE: bool> KeyedSlab<DROPPABLE> {
    /// An empty keyed slab.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty keyed slab that will hold at most about `max_nodes` nodes at once: its slab
    /// does not reserve past that (see [`Slab::limit_growth`]).
    pub fn bounded(max_nodes: u64) -> Self {
        let mut keyed = Self::default();
        keyed.slab.limit_growth(max_nodes);
        keyed
    }

    /// True while the index is dropped (never without `DROPPABLE`).
    #[inline(always)]
    fn unindexed(&self) -> bool {
        DROPPABLE && self.unindexed
    }

    /// The index's answer for `key`: `Ok` with its token or `None` when the index is kept;
    /// `Err` when the index is dropped (then it answers nothing). A request path takes
    /// `Err` to a cold path of its own rather than merging a scan's token into its hot
    /// one, where the compiler would lose what it knows of an index hit's token (it is in
    /// bounds) and check it again on every hit.
    #[inline(always)]
    pub fn probe(&self, key: u64) -> Result<Option<Token>, IndexDropped> {
        let nodes = &self.slab.nodes;
        let found = self
            .index
            .find(mix64(key), |&t| nodes[t as usize].key == key)
            .copied();
        // Only a miss asks whether the index is kept: an index hit pays nothing more.
        if found.is_none() && self.unindexed() {
            return Err(IndexDropped);
        }
        Ok(found)
    }

    /// The token of `key`, if present. Without an index ([`KeyedSlab::drop_index`]) this
    /// is a linear scan of the live nodes: correct but slow, for checks and cold paths only.
    #[inline(always)]
    pub fn find(&self, key: u64) -> Option<Token> {
        match self.probe(key) {
            Ok(found) => found,
            Err(IndexDropped) => self.scan(key),
        }
    }

    /// [`KeyedSlab::find`] without an index: every live node, in slab order.
    #[cold]
    #[inline(never)]
    fn scan(&self, key: u64) -> Option<Token> {
        self.slab
            .live_tokens()
            .find(|&t| self.slab.nodes[t as usize].key == key)
    }

    /// Allocates a node for a key that is not present and indexes it (unless the index
    /// is dropped).
    #[inline(always)]
    pub fn insert(&mut self, key: u64, size: u32) -> Token {
        let token = self.slab.alloc(key, size);
        if !self.unindexed() {
            let nodes = &self.slab.nodes;
            self.index
                .insert_unique(mix64(key), token, |&t| mix64(nodes[t as usize].key));
        }
        token
    }

    /// Removes an (unlinked) node from the index (if kept) and releases it.
    #[inline(always)]
    pub fn remove(&mut self, token: Token) {
        if !self.unindexed() {
            self.unindex(token);
        }
        self.slab.release(token);
    }

    /// Takes `token`'s entry (under its current key) out of the index.
    #[inline(always)]
    fn unindex(&mut self, token: Token) {
        let key = self.slab.key(token);
        if let Ok(entry) = self.index.find_entry(mix64(key), |&t| t == token) {
            entry.remove();
        }
    }

    /// Gives the live node `token` the object `key` in place of its own (same size, `aux`
    /// back to 0 as in a new node), re-indexing it (if the index is kept): the node
    /// [`KeyedSlab::remove`] then [`KeyedSlab::insert`] would hand out, since the free
    /// list returns the node just released, without the round trip.
    #[inline(always)]
    pub fn rekey(&mut self, token: Token, key: u64) {
        let indexed = !self.unindexed();
        if indexed {
            self.unindex(token);
        }
        let node = &mut self.slab.nodes[token as usize];
        node.key = key;
        node.aux = 0;
        if indexed {
            // The node holds its new key before the index learns it, as in `insert`.
            let nodes = &self.slab.nodes;
            self.index
                .insert_unique(mix64(key), token, |&t| mix64(nodes[t as usize].key));
        }
    }

    /// The key in `token` when it is a node linked on a list ([`Slab::is_linked`]): for a
    /// policy whose every held object is on a list between calls, the object `token`
    /// holds, if any. O(1), no index needed.
    #[inline]
    pub fn linked_key(&self, token: Token) -> Option<u64> {
        self.slab
            .is_linked(token)
            .then(|| self.slab.nodes[token as usize].key)
    }

    /// The slab, for reading node fields.
    #[inline]
    pub fn slab(&self) -> &Slab {
        &self.slab
    }

    /// The slab, for list operations and node updates.
    #[inline]
    pub fn slab_mut(&mut self) -> &mut Slab {
        &mut self.slab
    }

    /// Number of live nodes (indexed or not).
    #[inline]
    pub fn len(&self) -> usize {
        self.slab.live
    }

    /// Heap bytes of the slab and the index (one `u32` slot and one control byte per bucket).
    pub fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
    }

    /// Checks the index, then that `queues` together hold exactly the indexed nodes and
    /// that every node on queue `i` passes `belongs(token, i)` (policies that tag each node
    /// with its queue in `aux` check the tag here); for tests after every step.
    pub fn validate_queues(
        &self,
        queues: &[List],
        belongs: impl Fn(Token, usize) -> bool,
    ) -> Result<(), String> {
        self.validate()?;
        let mut linked = 0;
        for (id, queue) in queues.iter().enumerate() {
            for token in queue.validate(&self.slab)? {
                if !belongs(token, id) {
                    return Err(format!(
                        "node {token} on queue {id} has aux {:#x}",
                        self.slab.aux(token)
                    ));
                }
                linked += 1;
            }
        }
        if linked != self.len() {
            return Err(format!("{} live but {linked} queued", self.len()));
        }
        Ok(())
    }

    /// Checks that the index and the slab agree: every live node is indexed under its key.
    /// Without an index: the index is empty, the live count matches the free list, and no
    /// two live nodes share a key.
    pub fn validate(&self) -> Result<(), String> {
        if self.unindexed() {
            if !self.index.is_empty() {
                return Err(format!(
                    "unindexed, but the index holds {}",
                    self.index.len()
                ));
            }
            let mut keys = std::collections::HashSet::with_capacity(self.slab.live);
            for token in self.slab.live_tokens() {
                let key = self.slab.key(token);
                if !keys.insert(key) {
                    return Err(format!("key {key} held twice (again in node {token})"));
                }
            }
            if keys.len() != self.slab.live {
                return Err(format!(
                    "slab counts {} live nodes but {} are off the free list",
                    self.slab.live,
                    keys.len()
                ));
            }
            return Ok(());
        }
        if self.index.len() != self.slab.live {
            return Err(format!(
                "index holds {} keys but slab has {} live nodes",
                self.index.len(),
                self.slab.live
            ));
        }
        for &token in self.index.iter() {
            let key = self.slab.key(token);
            if self.find(key) != Some(token) {
                return Err(format!("key {key} does not find its own node {token}"));
            }
        }
        Ok(())
    }
}

impl KeyedSlab<true> {
    /// Stops keeping the index and frees its memory: from now on the caller names nodes
    /// by token, and [`KeyedSlab::find`] is a slow scan.
    pub fn drop_index(&mut self) {
        self.index = HashTable::new();
        self.unindexed = true;
    }

    /// Rebuilds the index from the live nodes after [`KeyedSlab::drop_index`]; nothing
    /// when the index is kept.
    pub fn restore_index(&mut self) {
        if !self.unindexed {
            return;
        }
        let mut index = HashTable::with_capacity(self.slab.live);
        let nodes = &self.slab.nodes;
        for token in self.slab.live_tokens() {
            index.insert_unique(mix64(nodes[token as usize].key), token, |&t| {
                mix64(nodes[t as usize].key)
            });
        }
        self.index = index;
        self.unindexed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_share_a_slab_and_keep_counts() {
        let mut keyed: KeyedSlab = KeyedSlab::new();
        let mut hot = List::new();
        let mut cold = List::new();
        let a = keyed.insert(1, 10);
        let b = keyed.insert(2, 20);
        let c = keyed.insert(3, 30);
        hot.push_front(keyed.slab_mut(), a);
        hot.push_front(keyed.slab_mut(), b);
        cold.push_back(keyed.slab_mut(), c);
        assert_eq!(hot.validate(keyed.slab()).unwrap(), vec![b, a]);
        assert_eq!(hot.bytes(), 30);
        hot.move_to_front(keyed.slab_mut(), a);
        assert_eq!(hot.validate(keyed.slab()).unwrap(), vec![a, b]);
        let back = hot.pop_back(keyed.slab_mut()).unwrap();
        assert_eq!(back, b);
        cold.push_front(keyed.slab_mut(), back);
        assert_eq!(cold.validate(keyed.slab()).unwrap(), vec![b, c]);
        assert_eq!(cold.bytes(), 50);
        cold.resize(keyed.slab_mut(), c, 5);
        assert_eq!(cold.bytes(), 25);
        cold.unlink(keyed.slab_mut(), c);
        keyed.remove(c);
        assert_eq!(keyed.find(3), None);
        assert_eq!(keyed.find(2), Some(b));
        keyed.validate().unwrap();
        // Walking toward the back and inserting after a node keep the order.
        let e = keyed.insert(5, 2);
        cold.insert_after(keyed.slab_mut(), b, e);
        assert_eq!(cold.validate(keyed.slab()).unwrap(), vec![b, e]);
        assert_eq!(cold.toward_back(keyed.slab(), b), Some(e));
        assert_eq!(cold.toward_back(keyed.slab(), e), None);
        assert_eq!(cold.bytes(), 22);
        cold.unlink(keyed.slab_mut(), e);
        keyed.remove(e);
        // The freed slot is reused.
        let d = keyed.insert(4, 1);
        assert_eq!(d, c);
        keyed.validate().unwrap();
    }

    /// `rekey` plus `rotate_back_to_front` (LRU's in-place replacement of its back object)
    /// leave the list, the slots and the index as `pop_back`, `remove`, `insert` and
    /// `push_front` do, with the index kept or dropped.
    fn in_place_replacement_equals_the_round_trip<const DROPPABLE: bool>(
        prepare: fn(&mut KeyedSlab<DROPPABLE>),
    ) {
        let build = || {
            let mut keyed: KeyedSlab<DROPPABLE> = KeyedSlab::new();
            let mut list = List::new();
            for key in [1, 2, 3] {
                let token = keyed.insert(key, 1);
                list.push_front(keyed.slab_mut(), token);
            }
            keyed.slab_mut().set_aux(0, 7);
            (keyed, list)
        };
        let (mut round, mut round_list) = build();
        let (mut quick, mut quick_list) = build();
        prepare(&mut round);
        prepare(&mut quick);
        let back = round_list.pop_back(round.slab_mut()).unwrap();
        round.remove(back);
        let token = round.insert(4, 1);
        round_list.push_front(round.slab_mut(), token);
        let turned = quick_list.rotate_back_to_front(quick.slab()).unwrap();
        quick.rekey(turned, 4);
        assert_eq!(
            (turned, token),
            (0, 0),
            "the back node, slot 0, takes the new key"
        );
        let order = round_list.validate(round.slab()).unwrap();
        assert_eq!(quick_list.validate(quick.slab()).unwrap(), order);
        assert_eq!(order, vec![0, 2, 1]);
        for t in order {
            assert_eq!(quick.slab().key(t), round.slab().key(t));
            assert_eq!(quick.slab().aux(t), round.slab().aux(t));
        }
        assert_eq!((quick_list.len(), quick_list.bytes()), (3, 3));
        assert_eq!((quick.find(4), quick.find(1)), (Some(0), None));
        quick.validate().unwrap();
        assert!(List::new().rotate_back_to_front(quick.slab()).is_none());
    }

    #[test]
    fn in_place_replacement_equals_the_round_trip_indexed_or_not() {
        in_place_replacement_equals_the_round_trip::<false>(|_| {});
        in_place_replacement_equals_the_round_trip::<true>(|_| {});
        in_place_replacement_equals_the_round_trip::<true>(KeyedSlab::drop_index);
    }

    #[test]
    fn a_dropped_index_still_finds_every_live_node_and_rebuilds() {
        let mut keyed: KeyedSlab<true> = KeyedSlab::new();
        let mut list = List::new();
        let tokens: Vec<Token> = (0..6).map(|k| keyed.insert(k * 10, 1)).collect();
        // 0, 10 and 20 linked; 30 and 40 live but unlinked; 50 freed.
        for &t in &tokens[..3] {
            list.push_front(keyed.slab_mut(), t);
        }
        keyed.remove(tokens[5]);
        let indexed = keyed.heap_bytes();
        keyed.drop_index();
        assert!(keyed.heap_bytes() < indexed);
        assert_eq!(keyed.len(), 5);
        keyed.validate().unwrap();
        assert_eq!(keyed.probe(10), Err(IndexDropped));
        for k in 0..5 {
            assert_eq!(
                keyed.find(k * 10),
                Some(tokens[k as usize]),
                "key {}",
                k * 10
            );
        }
        assert_eq!(keyed.find(50), None, "a freed node is not found");
        assert_eq!(keyed.linked_key(tokens[1]), Some(10));
        assert_eq!(keyed.linked_key(tokens[3]), None, "unlinked");
        assert_eq!(keyed.linked_key(tokens[5]), None, "freed");
        assert_eq!(keyed.linked_key(99), None, "out of range");
        // Unindexed inserts and removals keep the count and reuse slots.
        let again = keyed.insert(60, 2);
        assert_eq!(again, tokens[5]);
        keyed.remove(tokens[4]);
        assert_eq!(keyed.len(), 5);
        keyed.validate().unwrap();
        keyed.validate_queues(&[list], |_, _| true).unwrap_err();
        keyed.restore_index();
        keyed.validate().unwrap();
        assert_eq!(keyed.probe(60), Ok(Some(again)));
        assert_eq!(keyed.probe(40), Ok(None));
        assert_eq!(keyed.find(30), Some(tokens[3]));
        keyed.restore_index(); // indexed already: nothing
        keyed.validate().unwrap();
    }

    proptest::proptest! {
        /// `move_to_front` (a splice that keeps the counts) against a `VecDeque` model,
        /// with pushes and pops between: the front, the back and any node in between.
        #[test]
        fn move_to_front_keeps_the_order_a_deque_gives(
            steps in proptest::collection::vec((0u8..3, 0usize..8), 1..200),
        ) {
            let mut keyed: KeyedSlab = KeyedSlab::new();
            let mut list = List::new();
            let mut model = std::collections::VecDeque::new();
            let mut next_key = 0u64;
            for (op, pick) in steps {
                match op {
                    0 => {
                        let token = keyed.insert(next_key, 1 + (next_key % 3) as u32);
                        next_key += 1;
                        list.push_front(keyed.slab_mut(), token);
                        model.push_front(token);
                    }
                    1 if !model.is_empty() => {
                        let token = model.remove(pick % model.len()).unwrap();
                        list.move_to_front(keyed.slab_mut(), token);
                        model.push_front(token);
                    }
                    _ => {
                        let popped = list.pop_back(keyed.slab_mut());
                        proptest::prop_assert_eq!(popped, model.pop_back());
                        if let Some(token) = popped {
                            keyed.remove(token);
                        }
                    }
                }
                let order = list.validate(keyed.slab()).map_err(proptest::test_runner::TestCaseError::fail)?;
                proptest::prop_assert_eq!(order, Vec::from(model.clone()));
            }
        }
    }
}
