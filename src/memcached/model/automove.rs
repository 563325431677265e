//! memcached's slab automover (`-o slab_automove=1`, the default): which page to move, from
//! once-a-second samples of every class.
//!
//! Follows memcached 1.6.18 `slab_automove.c` (`slab_automove_run`), fed as
//! `items.c`'s `lru_maintainer_thread` feeds it (`fill_item_stats_automove`,
//! `fill_slab_stats_automove`). This file only decides; the store's page mover
//! (`store/mover.rs`) moves the page and runs this once per second of its clock.
//!
//! Each run takes one sample per class: evictions and out-of-memory failures since the last
//! run, whether the class gained pages, and the age of its COLD tail. The last
//! `slab_automove_window` (default 30) samples form a ring per class. Then, class by class
//! from the smallest:
//!
//! - a class holding more than 2.5 pages of free chunks, with no eviction, allocation
//!   failure or new page in the whole window, gives a page to the global pool (the run
//!   stops there, and memcached runs again 1 ms later rather than a second later);
//! - the *oldest* class is the one with the highest window-average tail age among those
//!   with more than 2 pages;
//! - the *youngest* is the one with the lowest average age among those that evicted in
//!   more than half the window's samples or took more than 25% of all evictions on average.
//!
//! Once the window has filled, if the youngest evicted in this sample and its age is below
//! `slab_automove_ratio` (0.8) times the oldest's, a page moves from the oldest to the
//! youngest. Arithmetic keeps memcached's types: integer ages (the average truncated), a
//! `float` eviction share, a `double` ratio.

/// `MIN_PAGES_FOR_SOURCE`: a class needs more pages than this to give one.
const MIN_PAGES_FOR_SOURCE: u64 = 2;
/// `MIN_PAGES_FOR_RECLAIM`: free chunks above this many pages go back to the global pool.
const MIN_PAGES_FOR_RECLAIM: f64 = 2.5;
/// `MAX_NUMBER_OF_SLAB_CLASSES`: samples cover class ids 1 to 63.
pub const SAMPLED_CLASSES: usize = 64;

/// One class's state at a sample, as `fill_item_stats_automove` and
/// `fill_slab_stats_automove` read it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassSample {
    /// Evictions so far (`itemstats[COLD].evicted`).
    pub evicted: u64,
    /// Failed allocations so far (`outofmemory`).
    pub outofmemory: u64,
    /// Seconds since the COLD tail item's last access (0 when COLD is empty).
    pub age: u64,
    /// Chunks on the class's free list (`sl_curr`).
    pub free_chunks: u64,
    /// Chunks per page (`perslab`).
    pub chunks_per_page: u32,
    /// Pages the class holds.
    pub total_pages: u64,
}

/// One class's entry in the window ring (`struct window_data`).
#[derive(Debug, Clone, Copy, Default)]
struct WindowData {
    age: u64,
    dirty: u64,
    evicted_ratio: f32,
    evicted_seen: u64,
}

/// A page move the automover asks for: from `src` to `dst` (0 is the global page pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Source class id.
    pub src: u8,
    /// Destination class id; 0 for the global page pool.
    pub dst: u8,
}

/// The automover's state (`slab_automove`): the window rings and the previous sample.
///
/// The integer window sums are kept as running totals (exactly what re-adding the ring
/// gives); the `float` eviction shares are re-added in ring order, as memcached adds them,
/// and only when the decision needs them.
#[derive(Debug, Clone)]
pub struct Automove {
    window_size: u32,
    window_cur: u64,
    max_age_ratio: f64,
    data: Vec<WindowData>,
    /// Per class: the ring's sums of `age`, `dirty` and `evicted_seen`.
    sums: Vec<[u64; 3]>,
    before: Vec<ClassSample>,
}

impl Automove {
    /// A fresh automover (`slab_automove_init`): empty windows, `initial` as the previous
    /// sample. `samples` are indexed by class id (entry 0 unused); missing classes count
    /// as empty.
    pub fn new(window_size: u32, max_age_ratio: f64, initial: &[ClassSample]) -> Automove {
        let window_size = window_size.max(1);
        let mut before = vec![ClassSample::default(); SAMPLED_CLASSES];
        copy_padded(&mut before, initial);
        Automove {
            window_size,
            window_cur: 0,
            max_age_ratio,
            data: vec![WindowData::default(); window_size as usize * SAMPLED_CLASSES],
            sums: vec![[0; 3]; SAMPLED_CLASSES],
            before,
        }
    }

    /// The ratio the automover was built with (memcached rebuilds it when the ratio
    /// changes).
    pub fn ratio(&self) -> f64 {
        self.max_age_ratio
    }

    /// One run (`slab_automove_run`) on this second's sample: the move to make, if any.
    pub fn run(&mut self, samples: &[ClassSample]) -> Option<Decision> {
        let empty = ClassSample::default();
        let after = |n: usize| samples.get(n).unwrap_or(&empty);
        let window = u64::from(self.window_size);
        let size = self.window_size as usize;
        let evicted_total: u64 = (1..SAMPLED_CLASSES)
            .map(|n| after(n).evicted.saturating_sub(self.before[n].evicted))
            .sum();
        self.window_cur += 1;
        let slot = (self.window_cur % window) as usize;
        let mut oldest: Option<(usize, u64)> = None;
        let mut youngest: Option<(usize, u64)> = None;
        let mut youngest_evicting = false;
        let mut reclaim = None;
        for n in 1..SAMPLED_CLASSES {
            let (a, b) = (after(n), &self.before[n]);
            let offset = n * size;
            let mut wd = WindowData::default();
            let evicted_delta = a.evicted.saturating_sub(b.evicted);
            if evicted_delta > 0 {
                wd.evicted_ratio = evicted_delta as f32 / evicted_total as f32;
                wd.evicted_seen = 1;
                wd.dirty = 1;
            }
            if a.outofmemory > b.outofmemory || a.total_pages > b.total_pages {
                wd.dirty = 1;
            }
            wd.age = a.age;
            let old = std::mem::replace(&mut self.data[offset + slot], wd);
            let sum = &mut self.sums[n];
            sum[0] = sum[0] - old.age + wd.age;
            sum[1] = sum[1] - old.dirty + wd.dirty;
            sum[2] = sum[2] - old.evicted_seen + wd.evicted_seen;
            let [age_sum, dirty, evicted_seen] = *sum;
            let age = age_sum / window;
            if a.free_chunks as f64 > f64::from(a.chunks_per_page) * MIN_PAGES_FOR_RECLAIM
                && dirty == 0
            {
                reclaim = Some(Decision {
                    src: n as u8,
                    dst: 0,
                });
                break;
            }
            if age > oldest.map_or(0, |o| o.1) && a.total_pages > MIN_PAGES_FOR_SOURCE {
                oldest = Some((n, age));
            }
            if age < youngest.map_or(u64::MAX, |y| y.1) {
                let ring = &self.data[offset..offset + size];
                let evicting = evicted_seen > window / 2
                    || (evicted_seen > 0
                        && f64::from(
                            ring.iter().fold(0f32, |s, d| s + d.evicted_ratio)
                                / self.window_size as f32,
                        ) > 0.25);
                if evicting {
                    youngest = Some((n, age));
                    youngest_evicting = wd.evicted_seen != 0;
                }
            }
        }
        copy_padded(&mut self.before, samples);
        if reclaim.is_some() {
            return reclaim;
        }
        match (youngest, oldest) {
            (Some((y, y_age)), Some((o, o_age)))
                if self.window_cur > window
                    && (y_age as f64) < o_age as f64 * self.max_age_ratio
                    && youngest_evicting =>
            {
                Some(Decision {
                    src: o as u8,
                    dst: y as u8,
                })
            }
            _ => None,
        }
    }
}

/// Copies `samples` into `into` (one entry per sampled class id), empty where missing.
fn copy_padded(into: &mut [ClassSample], samples: &[ClassSample]) {
    for (n, slot) in into.iter_mut().enumerate() {
        *slot = samples.get(n).copied().unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(pages: u64, free: u64, age: u64, evicted: u64) -> ClassSample {
        ClassSample {
            evicted,
            outofmemory: 0,
            age,
            free_chunks: free,
            chunks_per_page: 10,
            total_pages: pages,
        }
    }

    /// Class 1 holds 30 free chunks of 10 per page: over 2.5 pages. It gained its pages in
    /// the first sample, which marks the window dirty; after `window` clean samples the
    /// dirty entry has left the ring and a page goes to the pool.
    #[test]
    fn free_pages_go_to_the_pool_after_a_clean_window() {
        let mut am = Automove::new(3, 0.8, &[]);
        let s = [ClassSample::default(), class(4, 30, 5, 0)];
        assert_eq!(am.run(&s), None, "first sample: pages grew, dirty");
        assert_eq!(am.run(&s), None);
        assert_eq!(
            am.run(&s),
            None,
            "the dirty sample is still in the ring of 3"
        );
        assert_eq!(am.run(&s), Some(Decision { src: 1, dst: 0 }));
        // 25 free chunks is exactly 2.5 pages: not more, no reclaim.
        let mut am = Automove::new(3, 0.8, &[ClassSample::default(), class(4, 25, 5, 0)]);
        for _ in 0..5 {
            assert_eq!(am.run(&[ClassSample::default(), class(4, 25, 5, 0)]), None);
        }
    }

    /// Class 1 is old (age 100, 5 pages, no evictions); class 2 evicts every second with
    /// age 10. Nothing moves until the window has filled (window_cur > window), then a page
    /// goes from 1 to 2 while 2 keeps evicting, since 10 < 0.8 * 100.
    #[test]
    fn an_evicting_young_class_takes_a_page_from_the_oldest() {
        let start = [
            ClassSample::default(),
            class(5, 0, 100, 0),
            class(3, 0, 10, 0),
        ];
        let mut am = Automove::new(3, 0.8, &start);
        let mut evicted = 0;
        let mut decisions = Vec::new();
        for _ in 0..5 {
            evicted += 4;
            let s = [
                ClassSample::default(),
                class(5, 0, 100, 0),
                class(3, 0, 10, evicted),
            ];
            decisions.push(am.run(&s));
        }
        let mv = Some(Decision { src: 1, dst: 2 });
        assert_eq!(decisions, vec![None, None, None, mv, mv]);
        // A sample without evictions in class 2: not "evicting now", no move, even though
        // its window still says it evicts.
        let s = [
            ClassSample::default(),
            class(5, 0, 100, 0),
            class(3, 0, 10, evicted),
        ];
        assert_eq!(am.run(&s), None);
    }

    /// The age test uses the window average, truncated: ages 79, 80, 81 average 80, which
    /// is not below 0.8 * 100.
    #[test]
    fn ages_are_window_averages() {
        let mut am = Automove::new(3, 0.8, &[]);
        let mut last = None;
        for (i, young_age) in [79, 80, 81, 79, 80, 81].into_iter().enumerate() {
            let s = [
                ClassSample::default(),
                class(5, 0, 100, 0),
                class(3, 0, young_age, i as u64 + 1),
            ];
            last = am.run(&s);
        }
        assert_eq!(last, None);
    }
}
