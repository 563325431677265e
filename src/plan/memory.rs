//! memcached's memory for the objects a cache holds: the slab pages (`-m`) and the hash
//! table memcached allocates beside them, counted from the store model's own arithmetic
//! ([`crate::memcached::model::slab`]), not a constant overhead factor.
//!
//! - **Items.** An object is stored as the look-aside replay stores it
//!   ([`crate::memcached::model::policy`]): the key as decimal text, a value of the
//!   request's size less the key's length, flags 0, CAS on, so it takes
//!   [`item_total`] bytes (48 of header, the key and its NUL, the value and its `\r\n`, 8 of
//!   CAS) in one chunk of the smallest slab class that holds it, or, above half a page, in
//!   a chunked layout ([`SlabClasses::layout`]).
//! - **Pages.** memcached hands memory to a class 1 MiB page at a time and never takes it
//!   back without the slab mover, so a class needs `ceil(chunks / chunks_per_page)` pages
//!   and every class in use at least one; `-m` is the sum of the classes' pages
//!   ([`SlabUsage::pages`]). memcached refuses an `-m` below twice `-I` ([`min_m_mib`]).
//! - **Hash table.** memcached 1.6's `assoc.c` starts with 2^16 buckets
//!   (`HASHPOWER_DEFAULT`) of 8 bytes (a pointer each) and doubles the table when an
//!   insertion leaves more items than 1.5 times the buckets (`hash_items > (hashsize(hashpower)
//!   * 3) / 2`), up to 2^32 buckets, and never shrinks it; the table lives outside `-m`
//!   ([`hash_table_bytes`]).
//!
//! [`resident_usage`] replays a policy at a size and counts the chunks of the objects it
//! holds at the end: the `-m` memcached would need to keep what that policy keeps.

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use crate::catalog::CATALOG;
use crate::memcached::model::slab::{SlabClasses, item_total};
use crate::memcached::{Settings, SettingsError};
use crate::policy::{PolicySpec, SpecError};
use crate::request::Request;

/// One MiB, the unit of memcached's `-m`.
pub const MIB: u64 = 1 << 20;

/// memcached's first hash table: 2^16 buckets (`HASHPOWER_DEFAULT`).
pub const HASHPOWER_DEFAULT: u32 = 16;

/// memcached's largest hash table: 2^32 buckets (`HASHPOWER_MAX`).
pub const HASHPOWER_MAX: u32 = 32;

/// Bytes per bucket: one pointer on a 64-bit build.
pub const BUCKET_BYTES: u64 = 8;

/// Bytes of the hash table memcached 1.6 holds, outside `-m`, once `items` items were
/// linked at the same time (see the module documentation).
///
/// ```
/// use cachelab::plan::memory::hash_table_bytes;
/// assert_eq!(hash_table_bytes(0), 512 << 10); // 65,536 buckets of 8 bytes
/// assert_eq!(hash_table_bytes(98_304), 512 << 10); // 1.5 x 65,536: not yet more
/// assert_eq!(hash_table_bytes(98_305), 1 << 20); // one more doubles it
/// ```
pub fn hash_table_bytes(items: u64) -> u64 {
    let mut power = HASHPOWER_DEFAULT;
    while power < HASHPOWER_MAX && items > (1u64 << power) * 3 / 2 {
        power += 1;
    }
    BUCKET_BYTES << power
}

/// The smallest `-m` memcached starts with for these settings: it refuses an `-I` above
/// half of `-m`, so 2 MiB with the default `-I 1m`.
pub fn min_m_mib(settings: &Settings) -> u64 {
    (2 * u64::from(settings.item_size_max)).div_ceil(MIB)
}

/// One slab class's share of [`SlabUsage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassPages {
    /// Class id, from 1.
    pub class: u8,
    /// Bytes per chunk.
    pub chunk_size: u32,
    /// Chunks per 1 MiB page.
    pub chunks_per_page: u32,
    /// Chunks the items take.
    pub chunks: u64,
    /// Pages those chunks need: `ceil(chunks / chunks_per_page)`.
    pub pages: u64,
}

/// Slab chunks counted per class for a set of items; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct SlabUsage {
    classes: SlabClasses,
    page_size: u64,
    use_cas: bool,
    /// Chunks per class, indexed by class id - 1.
    chunks: Vec<u64>,
    items: u64,
    item_bytes: u64,
    too_large: u64,
}

impl SlabUsage {
    /// No items yet, for memcached with `settings` (its `-f`, `-n`, `-I` and CAS).
    pub fn new(settings: &Settings) -> Result<SlabUsage, SettingsError> {
        settings.validate_table()?;
        let classes = SlabClasses::new(settings);
        let chunks = vec![0; classes.classes().len()];
        Ok(SlabUsage {
            classes,
            page_size: u64::from(settings.slab_page_size),
            use_cas: settings.use_cas,
            chunks,
            items: 0,
            item_bytes: 0,
            too_large: 0,
        })
    }

    /// Adds the item the look-aside replay stores for `key` at `size` bytes: the key as
    /// decimal text, a value of `size` less the key's length (at least 0), flags 0.
    pub fn add_object(&mut self, key: u64, size: u32) {
        let key_len = decimal_len(key);
        self.add_item(key_len, (size as usize).saturating_sub(key_len));
    }

    /// Adds one item with a key of `key_len` bytes and a value of `value_len` bytes (flags
    /// 0); an item larger than `-I` is counted in [`SlabUsage::too_large`] and takes no
    /// memory, as memcached refuses it.
    pub fn add_item(&mut self, key_len: usize, value_len: usize) {
        let Some(layout) = self.classes.layout(key_len, value_len, 0, self.use_cas) else {
            self.too_large += 1;
            return;
        };
        for part in layout.parts() {
            self.chunks[usize::from(part.class) - 1] += 1;
        }
        self.items += 1;
        self.item_bytes += item_total(key_len, value_len, 0, self.use_cas);
    }

    /// Items counted (those larger than `-I` left out).
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Their bytes as memcached charges them (`ITEM_ntotal`), before chunk rounding.
    pub fn item_bytes(&self) -> u64 {
        self.item_bytes
    }

    /// Items larger than `-I`, which memcached refuses.
    pub fn too_large(&self) -> u64 {
        self.too_large
    }

    /// Every class in use, smallest chunk first, with its chunks and pages.
    pub fn classes(&self) -> Vec<ClassPages> {
        self.classes
            .classes()
            .iter()
            .zip(&self.chunks)
            .filter(|&(_, &chunks)| chunks > 0)
            .map(|(c, &chunks)| ClassPages {
                class: c.id,
                chunk_size: c.chunk_size,
                chunks_per_page: c.perslab,
                chunks,
                pages: chunks.div_ceil(u64::from(c.perslab.max(1))),
            })
            .collect()
    }

    /// Pages the items need, every class's rounded up.
    pub fn pages(&self) -> u64 {
        self.classes().iter().map(|c| c.pages).sum()
    }

    /// The `-m` in MiB that holds them: the pages, in whole MiB.
    pub fn m_mib(&self) -> u64 {
        (self.pages() * self.page_size).div_ceil(MIB)
    }
}

/// Digits of `key` in decimal: the length of the key the replay sends.
fn decimal_len(key: u64) -> usize {
    key.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// What a policy holds after replaying a trace at one size.
#[derive(Debug, Clone, PartialEq)]
pub struct Residency {
    /// The slab chunks of the objects held at the end.
    pub usage: SlabUsage,
    /// Objects held at the end.
    pub resident: u64,
    /// The most objects held at once during the replay (what sizes memcached's hash table).
    pub peak_objects: u64,
    /// Reads that hit.
    pub hits: u64,
    /// Reads.
    pub requests: u64,
}

/// Replays `trace` look-aside (get, admit on a miss) through `spec` at `capacity` bytes
/// and counts, per slab class of memcached with `settings`, the chunks of the objects the
/// policy holds at the end, each at the size it was last admitted with.
pub fn resident_usage(
    trace: &[Request],
    spec: &PolicySpec,
    capacity: u64,
    seed: u64,
    settings: &Settings,
) -> Result<Residency, ResidencyError> {
    let mut usage = SlabUsage::new(settings)?;
    let mut policy = CATALOG.build(spec, capacity, seed)?;
    let mut admitted: HashMap<u64, u32> = HashMap::new();
    let (mut hits, mut peak) = (0u64, 0u64);
    for req in trace {
        let outcome = policy.get(req);
        if outcome.hit {
            hits += 1;
        } else {
            admitted.insert(req.key, req.size);
        }
        peak = peak.max(policy.len() as u64);
    }
    let mut resident = 0;
    // Sums of counts: the map's order does not matter.
    for (&key, &size) in &admitted {
        if policy.contains(key) {
            resident += 1;
            usage.add_object(key, size);
        }
    }
    Ok(Residency {
        usage,
        resident,
        peak_objects: peak,
        hits,
        requests: trace.len() as u64,
    })
}

/// Why a residency replay could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResidencyError {
    /// The policy spec is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The memcached settings cannot make a class table.
    #[error("memcached settings: {0}")]
    Settings(#[from] SettingsError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_lengths() {
        for (key, len) in [(0, 1), (9, 1), (10, 2), (99_999, 5), (u64::MAX, 20)] {
            assert_eq!(decimal_len(key), len, "{key}");
        }
    }

    #[test]
    fn items_land_in_the_smallest_class_that_holds_them_and_pages_round_up() {
        let mut usage = SlabUsage::new(&Settings::default()).unwrap();
        // Key "42" (2 bytes), value 98: 48 + 3 + 100 + 8 = 159 bytes -> class 4 (192 B,
        // 5,461 a page), as the model's own test finds.
        usage.add_object(42, 100);
        assert_eq!(usage.item_bytes(), 159);
        let classes = usage.classes();
        assert_eq!(
            (
                classes[0].class,
                classes[0].chunk_size,
                classes[0].chunks_per_page
            ),
            (4, 192, 5461)
        );
        // 5,461 such items fill one page; one more takes a second.
        for key in 10..10 + 5460 {
            usage.add_object(key, 100);
        }
        assert_eq!(usage.pages(), 1);
        usage.add_object(77, 100);
        assert_eq!(usage.pages(), 2);
        assert_eq!(usage.m_mib(), 2);
        // An item of another class needs a page of its own.
        usage.add_object(5, 1000);
        assert_eq!(usage.classes().len(), 2);
        assert_eq!(usage.pages(), 3);
    }

    #[test]
    fn items_above_half_a_page_are_chunked_and_above_the_limit_refused() {
        let mut usage = SlabUsage::new(&Settings::default()).unwrap();
        usage.add_object(1, 600_000); // above slab_chunk_max (512 KiB): chunked
        assert!(usage.classes().iter().map(|c| c.chunks).sum::<u64>() >= 3);
        usage.add_object(2, 2 << 20); // above -I 1m
        assert_eq!((usage.items(), usage.too_large()), (1, 1));
    }

    #[test]
    fn the_smallest_m_is_twice_the_item_limit() {
        assert_eq!(min_m_mib(&Settings::default()), 2);
    }
}
