//! Slab pages and chunks as memcached 1.6.18's `slabs.c` keeps them: each class's page list
//! (`slab_list`) and free list (`slots`, last in first out), the global page pool
//! (`slabclass[0]`), and which item owns each chunk, so that the page mover (`mover`) can
//! clear a page.
//!
//! - A new page (`do_slabs_newslab`) comes from the global pool when it has one, else is
//!   allocated while `total_malloced` stays within `-m` (a class's first page is granted
//!   even past the limit, unless the pool has a page). Its chunks go on the class's free
//!   list in address order, so the last chunk is handed out first (`split_slab_page_into_freelist`).
//! - A page is 1 MiB (`slab_page_size`); only with the page mover off and whole-page chunks
//!   (`-o no_modern`) does memcached allocate `chunk_size * perslab` bytes instead, and so
//!   does the model.
//! - A freed chunk goes back on the head of its class's free list (`do_slabs_free`).
//! - Lowering the limit (`cache_memlimit`) frees pages of the global pool until
//!   `total_malloced` is within it (`memory_release`); pages in classes stay until the mover
//!   takes them to the pool.
//!
//! Allocation is two-step, as in memcached: the chunks of an item are taken first (they are
//! *staged*, owned by no item yet) and the item is linked, or its chunks freed, afterwards;
//! allocations nest (append and prepend build the combined item while holding the incoming
//! one), so the staged chunks are a stack and each step takes the latest allocation.

use super::{NIL, Store};
use crate::memcached::model::slab::{Layout, Part};

/// One chunk: its page and its index in the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Chunk {
    pub(super) page: u32,
    pub(super) off: u32,
}

/// Where an item's parts live, in [`Layout::parts`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Locs {
    One(Chunk),
    Many(Box<[Chunk]>),
}

impl Locs {
    pub(super) fn as_slice(&self) -> &[Chunk] {
        match self {
            Locs::One(c) => std::slice::from_ref(c),
            Locs::Many(cs) => cs,
        }
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [Chunk] {
        match self {
            Locs::One(c) => std::slice::from_mut(c),
            Locs::Many(cs) => cs,
        }
    }

    fn from_vec(chunks: Vec<Chunk>) -> Locs {
        if chunks.len() == 1 {
            Locs::One(chunks[0])
        } else {
            Locs::Many(chunks.into_boxed_slice())
        }
    }
}

/// One slab class's memory.
#[derive(Debug, Clone, Default)]
pub(super) struct ClassMem {
    /// Page ids in `slab_list` order (the mover takes the first).
    pub(super) pages: Vec<u32>,
    /// The free list; its head (next handed out) is the last element.
    pub(super) free: Vec<Chunk>,
    /// Chunks held by items or staged.
    pub(super) used: u64,
    /// Bytes requested from the used chunks.
    pub(super) requested: u64,
}

/// One page: the slot owning each chunk ([`NIL`] when free or staged).
#[derive(Debug, Clone, Default)]
pub(super) struct Page {
    pub(super) owners: Vec<u32>,
    /// Bytes `total_malloced` counts for it.
    pub(super) len: u64,
}

impl Store {
    /// Bytes a new page of `class` costs (`do_slabs_newslab`'s `len`).
    fn page_len(&self, class: usize) -> u64 {
        let s = &self.settings;
        let perslab = self.classes.classes()[class - 1].perslab;
        let size = self.classes.classes()[class - 1].chunk_size;
        if s.slab_reassign || s.slab_chunk_max != s.slab_page_size {
            u64::from(s.slab_page_size)
        } else {
            u64::from(size) * u64::from(perslab)
        }
    }

    /// `do_slabs_newslab`: a page for `class`, from the pool or newly allocated; false when
    /// the limit forbids it.
    fn new_page(&mut self, class: usize) -> bool {
        let len = self.page_len(class);
        if self.malloced + len > self.settings.max_bytes
            && !self.mem[class].pages.is_empty()
            && self.pool.is_empty()
        {
            return false;
        }
        let id = match self.pool.pop() {
            Some(id) => id,
            None => {
                self.malloced += len;
                self.pages.push(Page {
                    owners: Vec::new(),
                    len,
                });
                (self.pages.len() - 1) as u32
            }
        };
        self.assign_page(id, class);
        true
    }

    /// Gives page `id` to `class`: its chunks go on the free list, the last one at the head
    /// (`split_slab_page_into_freelist`).
    pub(super) fn assign_page(&mut self, id: u32, class: usize) {
        let perslab = self.classes.classes()[class - 1].perslab;
        let page = &mut self.pages[id as usize];
        page.owners.clear();
        page.owners.resize(perslab as usize, NIL);
        let mem = &mut self.mem[class];
        mem.free
            .extend((0..perslab).map(|off| Chunk { page: id, off }));
        mem.pages.push(id);
    }

    /// Takes a free chunk of `part.class`, adding a page if the limit allows
    /// (`do_slabs_alloc`); the chunk is staged for the item being built.
    pub(super) fn take_chunk(&mut self, part: Part) -> bool {
        let class = usize::from(part.class);
        if self.mem[class].free.is_empty() && !self.new_page(class) {
            return false;
        }
        let mem = &mut self.mem[class];
        let Some(chunk) = mem.free.pop() else {
            return false;
        };
        mem.used += 1;
        mem.requested += u64::from(part.size);
        self.staged.push(chunk);
        true
    }

    /// Puts one chunk of `part` back on the head of its class's free list (`do_slabs_free`).
    pub(super) fn free_chunk(&mut self, part: Part, chunk: Chunk) {
        self.pages[chunk.page as usize].owners[chunk.off as usize] = NIL;
        let mem = &mut self.mem[usize::from(part.class)];
        mem.used -= 1;
        mem.requested -= u64::from(part.size);
        mem.free.push(chunk);
    }

    /// Frees an item's chunks.
    pub(super) fn free_locs(&mut self, layout: &Layout, locs: &Locs) {
        for (&part, &chunk) in layout.parts().iter().zip(locs.as_slice()) {
            self.free_chunk(part, chunk);
        }
    }

    /// The last `n` staged chunks (the latest allocation: an append holds the incoming
    /// item's chunks while it builds the combined one), handed to the item that takes them
    /// (owned by `idx` from now on).
    pub(super) fn take_staged(&mut self, idx: u32, n: usize) -> Locs {
        let chunks = self.staged.split_off(self.staged.len() - n);
        for c in &chunks {
            self.pages[c.page as usize].owners[c.off as usize] = idx;
        }
        Locs::from_vec(chunks)
    }

    /// Frees the latest staged allocation, of an item that was not linked after all.
    pub(super) fn free_staged(&mut self, layout: &Layout) {
        let parts = layout.parts();
        let chunks = self.staged.split_off(self.staged.len() - parts.len());
        for (&part, &chunk) in parts.iter().zip(&chunks) {
            self.free_chunk(part, chunk);
        }
    }

    /// `cache_memlimit`: the new limit in bytes (`slabs_adjust_mem_limit`); pages of the
    /// global pool beyond it are freed at once (`memory_release`). memcached refuses only
    /// with preallocated memory, which the model does not have, so this always succeeds.
    pub fn adjust_mem_limit(&mut self, bytes: u64) {
        self.settings.max_bytes = bytes;
        self.memory_release();
    }

    /// `memory_release`: frees pool pages while `total_malloced` is over the limit (only
    /// with the page mover on).
    pub(super) fn memory_release(&mut self) {
        if !self.settings.slab_reassign {
            return;
        }
        while self.malloced > self.settings.max_bytes {
            let Some(id) = self.pool.pop() else { break };
            let page = &mut self.pages[id as usize];
            self.malloced -= page.len;
            page.len = 0;
            page.owners = Vec::new();
        }
    }

    /// Pages in the global page pool (`slab_global_page_pool`).
    pub fn global_page_pool(&self) -> usize {
        self.pool.len()
    }
}
