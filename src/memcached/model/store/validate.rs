//! The store's invariant check: every count rebuilt from scratch and compared (index and
//! LRU links agree, chunks, bytes and pages add up). Run by the tests after every step.

use super::lru::Segment;
use super::{NIL, Store};

impl Store {
    /// Rebuilds every count from scratch and compares: index and LRUs agree, chunks and
    /// bytes add up. For tests after every step.
    pub fn validate(&self) -> Result<(), String> {
        let mut used = vec![0u64; self.mem.len()];
        let mut requested = vec![0u64; self.mem.len()];
        let mut items = 0usize;
        let mut bytes = 0u64;
        let segments = [Segment::Hot, Segment::Warm, Segment::Cold, Segment::Temp];
        for (class, seg, lru) in self
            .lru
            .iter()
            .enumerate()
            .flat_map(|(class, lru)| segments.map(|seg| (class, seg, lru.list(seg))))
        {
            if !self.settings.lru_segmented && seg != Segment::Cold && lru.len != 0 {
                return Err(format!("compat mode, but LRU {class} {seg:?} has items"));
            }
            let (mut idx, mut prev, mut n, mut lru_bytes) = (lru.head, NIL, 0u64, 0u64);
            while idx != NIL {
                let s = self.slots[idx as usize]
                    .as_ref()
                    .ok_or_else(|| format!("LRU {class} links free slot {idx}"))?;
                if s.prev != prev {
                    return Err(format!("slot {idx}: prev link broken"));
                }
                if usize::from(s.lru()) != class || s.seg != seg {
                    return Err(format!(
                        "slot {idx} on LRU {class} {seg:?} but belongs to {} {:?}",
                        s.lru(),
                        s.seg
                    ));
                }
                if s.active && !s.fetched {
                    return Err(format!("slot {idx} active but never fetched"));
                }
                if self.find_index(s.key()) != Some(idx) {
                    return Err(format!("slot {idx} not indexed under its key"));
                }
                for p in s.layout.parts() {
                    used[usize::from(p.class)] += 1;
                    requested[usize::from(p.class)] += u64::from(p.size);
                }
                n += 1;
                lru_bytes += s.total;
                prev = idx;
                idx = s.next;
            }
            if lru.tail != prev || lru.len != n || lru.bytes != lru_bytes {
                return Err(format!(
                    "LRU {class} {seg:?}: tail/len/bytes disagree with its links"
                ));
            }
            items += n as usize;
            bytes += lru_bytes;
        }
        if items != self.index.len() || bytes != self.curr_bytes {
            return Err(format!(
                "{items} items, {bytes} bytes on LRUs; index {} and bytes {}",
                self.index.len(),
                self.curr_bytes
            ));
        }
        let mut malloced = self.faked_malloced;
        let mut seen = vec![false; self.pages.len()];
        for c in self.classes.classes() {
            let m = &self.mem[usize::from(c.id)];
            if m.used != used[usize::from(c.id)] || m.requested != requested[usize::from(c.id)] {
                return Err(format!(
                    "class {}: {} chunks / {} bytes counted, items hold {} / {}",
                    c.id,
                    m.used,
                    m.requested,
                    used[usize::from(c.id)],
                    requested[usize::from(c.id)]
                ));
            }
            let total = m.pages.len() as u64 * u64::from(c.perslab);
            if m.used + m.free.len() as u64 != total {
                return Err(format!(
                    "class {}: {} used + {} free chunks, pages hold {total}",
                    c.id,
                    m.used,
                    m.free.len()
                ));
            }
            for &p in &m.pages {
                if std::mem::replace(&mut seen[p as usize], true) {
                    return Err(format!("page {p} listed twice"));
                }
                malloced += self.pages[p as usize].len;
            }
            for f in &m.free {
                if !m.pages.contains(&f.page)
                    || self.pages[f.page as usize].owners[f.off as usize] != NIL
                {
                    return Err(format!("class {}: free chunk {f:?} not free", c.id));
                }
            }
        }
        for &p in &self.pool {
            if std::mem::replace(&mut seen[p as usize], true) {
                return Err(format!("pool page {p} listed twice"));
            }
            malloced += self.pages[p as usize].len;
        }
        if malloced != self.malloced {
            return Err("pages and total_malloced disagree".into());
        }
        // Every item's chunks are owned by it, in pages of the part's class.
        for (idx, slot) in self.slots.iter().enumerate() {
            let Some(s) = slot else { continue };
            for (part, c) in s.layout.parts().iter().zip(s.locs.as_slice()) {
                let owner = self.pages[c.page as usize].owners[c.off as usize];
                if owner != idx as u32 || !self.mem[usize::from(part.class)].pages.contains(&c.page)
                {
                    return Err(format!("slot {idx}: chunk {c:?} not its own"));
                }
            }
        }
        Ok(())
    }
}
