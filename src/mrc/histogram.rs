//! [`Histogram`]: weighted counts of distances (stack distances, reuse times) in log-linear
//! buckets, exact below 2,048 and within 1/1,024 of the value above.
//!
//! Every method of [`super`] records into the same bucket layout, so a cache size that is a
//! bucket's upper bound ([`Histogram::snap_down`]) splits every method's histogram exactly:
//! the exact method is exact at those sizes, to the request. The layout is HDR-style: values
//! below 2^11 have a bucket each; above, each power of two is cut into 1,024 equal buckets,
//! so a bucket is never wider than 1/1,024 of its values (about 0.1%). 56,320 buckets cover
//! every `u64`; storage grows only to the largest bucket used.
//!
//! ```
//! use cachelab::mrc::histogram::Histogram;
//! let mut h = Histogram::default();
//! h.add(5, 1.0, 100.0);
//! h.add(5_000, 2.0, 200.0);
//! assert_eq!(h.within(5), (1.0, 100.0));
//! assert_eq!(h.within(Histogram::snap_down(5_000 + 3)), (3.0, 300.0));
//! assert_eq!(h.within(4_999 - 3), (1.0, 100.0));
//! ```

/// Bits of linear resolution inside each power of two.
const SUB_BITS: u32 = 10;
/// Buckets per power of two above the exact range.
const SUB: u64 = 1 << SUB_BITS;
/// Values below this have a bucket each.
const EXACT: u64 = SUB << 1;

/// Weighted counts of distances in log-linear buckets; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Per bucket: (weight of requests, weight of their bytes).
    buckets: Vec<(f64, f64)>,
}

impl Histogram {
    /// The bucket a value falls in.
    #[inline]
    pub fn index(value: u64) -> usize {
        if value < EXACT {
            return value as usize;
        }
        let shift = 63 - value.leading_zeros() - SUB_BITS;
        let sub = value >> shift;
        (EXACT + u64::from(shift - 1) * SUB + (sub - SUB)) as usize
    }

    /// The largest value in bucket `index`.
    #[inline]
    pub fn upper(index: usize) -> u64 {
        let index = index as u64;
        if index < EXACT {
            return index;
        }
        let shift = (index - EXACT) / SUB + 1;
        let sub = (index - EXACT) % SUB + SUB;
        (((sub + 1) as u128) << shift)
            .saturating_sub(1)
            .min(u64::MAX as u128) as u64
    }

    /// The largest bucket bound at or below `value`: a size at which every histogram splits
    /// exactly.
    pub fn snap_down(value: u64) -> u64 {
        let index = Histogram::index(value);
        if Histogram::upper(index) == value || index == 0 {
            value
        } else {
            Histogram::upper(index - 1)
        }
    }

    /// Adds `requests` requests of `bytes` bytes in all at distance `value`.
    #[inline]
    pub fn add(&mut self, value: u64, requests: f64, bytes: f64) {
        let index = Histogram::index(value);
        if index >= self.buckets.len() {
            self.buckets.resize(index + 1, (0.0, 0.0));
        }
        let bucket = &mut self.buckets[index];
        bucket.0 += requests;
        bucket.1 += bytes;
    }

    /// The weights (requests, bytes) at distances up to `value`, counting the whole bucket
    /// `value` falls in: exact when `value` is a bucket bound ([`Histogram::snap_down`]).
    pub fn within(&self, value: u64) -> (f64, f64) {
        let end = (Histogram::index(value) + 1).min(self.buckets.len());
        self.buckets[..end]
            .iter()
            .fold((0.0, 0.0), |acc, b| (acc.0 + b.0, acc.1 + b.1))
    }

    /// The total weights (requests, bytes).
    pub fn total(&self) -> (f64, f64) {
        self.within(u64::MAX)
    }

    /// The non-empty buckets in order, as (largest value, requests, bytes).
    pub fn buckets(&self) -> impl Iterator<Item = (u64, f64, f64)> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 != 0.0 || b.1 != 0.0)
            .map(|(i, b)| (Histogram::upper(i), b.0, b.1))
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(f64, f64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_layout_is_contiguous_and_covers_every_u64() {
        assert_eq!(Histogram::index(0), 0);
        assert_eq!(Histogram::index(2047), 2047);
        assert_eq!(Histogram::index(2048), 2048);
        assert_eq!(Histogram::upper(2048), 2049);
        assert_eq!(Histogram::index(2050), 2049);
        let last = Histogram::index(u64::MAX);
        assert_eq!(last, 56_319);
        assert_eq!(Histogram::upper(last), u64::MAX);
        // Each bucket starts right after the previous one ends.
        for i in 1..=last {
            let start = Histogram::upper(i - 1) + 1;
            assert_eq!(Histogram::index(start), i, "bucket {i}");
            assert_eq!(Histogram::index(Histogram::upper(i)), i, "bucket {i}");
        }
    }

    proptest! {
        #[test]
        fn a_bucket_is_narrow_and_holds_its_value(value in any::<u64>()) {
            let i = Histogram::index(value);
            let upper = Histogram::upper(i);
            let lower = if i == 0 { 0 } else { Histogram::upper(i - 1) + 1 };
            prop_assert!(lower <= value && value <= upper);
            prop_assert!((upper - lower) as f64 <= lower as f64 / 1024.0);
            let snapped = Histogram::snap_down(value);
            prop_assert!(snapped <= value);
            prop_assert_eq!(Histogram::upper(Histogram::index(snapped)), snapped);
        }

        #[test]
        fn within_a_bound_counts_exactly_the_values_at_or_below(
            values in proptest::collection::vec(0u64..1_000_000, 0..200),
            probe in 0u64..1_000_000,
        ) {
            let mut h = Histogram::default();
            for &v in &values {
                h.add(v, 1.0, v as f64);
            }
            let bound = Histogram::snap_down(probe);
            let expected = values.iter().filter(|&&v| v <= bound).count() as f64;
            prop_assert_eq!(h.within(bound).0, expected);
        }
    }
}
