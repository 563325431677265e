//! [`Grid`]: the cache sizes a curve is computed at: `points` sizes spaced evenly in the
//! logarithm from `from` to `to` (each absolute or a percentage of the working set), each
//! moved down to the nearest bound of the distance histograms' buckets
//! ([`super::histogram::Histogram::snap_down`], at most 0.1% lower) so that every method
//! splits its histogram exactly there, plus the sizes a user asked for by name (`-s`), kept
//! as given.

use super::histogram::Histogram;
use crate::units::CacheSize;

/// The sizes of a curve; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The smallest size.
    pub from: CacheSize,
    /// The largest size.
    pub to: CacheSize,
    /// How many log-spaced sizes from `from` to `to` (0 for only the named sizes).
    pub points: usize,
}

impl Default for Grid {
    /// 100 sizes from 0.1% to 100% of the working set.
    fn default() -> Grid {
        Grid {
            from: CacheSize::Percent(0.1),
            to: CacheSize::Percent(100.0),
            points: 100,
        }
    }
}

impl Grid {
    /// The grid's sizes for a working set of `working_set` units, merged with `named`
    /// sizes, ascending, each once, none below 1.
    pub fn sizes(&self, working_set: u64, named: &[u64]) -> Vec<u64> {
        let from = self.from.resolve(working_set).max(1);
        let to = self.to.resolve(working_set).max(from);
        let mut sizes: Vec<u64> = match self.points {
            0 => Vec::new(),
            1 => vec![Histogram::snap_down(to)],
            n => {
                let (lo, hi) = ((from as f64).ln(), (to as f64).ln());
                (0..n)
                    .map(|i| {
                        let exact = (lo + (hi - lo) * i as f64 / (n - 1) as f64).exp();
                        let size = (exact.round() as u64).clamp(from, to);
                        Histogram::snap_down(size).max(1)
                    })
                    .collect()
            }
        };
        sizes.extend(named.iter().map(|&s| s.max(1)));
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_log_spaced_bucket_bounds_with_the_named_ones_kept() {
        let grid = Grid {
            from: CacheSize::Percent(1.0),
            to: CacheSize::Percent(100.0),
            points: 3,
        };
        let sizes = grid.sizes(1_000_000, &[123_457]);
        // 10,000, 100,000 and 1,000,000 moved down to bucket bounds, 123,457 as named.
        assert_eq!(sizes.len(), 4);
        assert!(sizes.contains(&123_457));
        for (&size, want) in sizes.iter().filter(|&&s| s != 123_457).zip([1e4, 1e5, 1e6]) {
            assert_eq!(Histogram::snap_down(size), size);
            assert!(size as f64 <= want && size as f64 > want * 0.999, "{size}");
        }
    }

    #[test]
    fn a_tiny_working_set_gives_few_distinct_sizes() {
        let sizes = Grid::default().sizes(10, &[]);
        assert_eq!(sizes, (1..=10).collect::<Vec<u64>>());
    }
}
