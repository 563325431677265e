//! [`Curve`]: a method's miss ratios at a list of cache sizes, with what a planner reads off
//! it: the miss ratio between the points (monotone interpolation), the smallest size for a
//! target hit ratio, and the compulsory-miss floor that no cache size goes below.

use serde::{Deserialize, Serialize};

use super::WorkingSetEstimate;

/// One point of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// The cache size, in the curve's unit (bytes, or objects).
    pub cache_size: u64,
    /// Misses over requests.
    pub miss_ratio: f64,
    /// Bytes missed over bytes requested.
    pub byte_miss_ratio: f64,
}

/// The compulsory misses: the first request of every key misses at any size, so the miss
/// ratio never goes below `distinct / requests` (and the byte miss ratio below the working
/// set's bytes over the bytes requested).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Floor {
    /// Distinct keys over requests.
    pub miss_ratio: f64,
    /// The working set's bytes over the bytes requested.
    pub byte_miss_ratio: f64,
}

impl Floor {
    /// The best hit ratio any cache reaches: `1 - miss_ratio`.
    pub fn hit_ratio_ceiling(&self) -> f64 {
        1.0 - self.miss_ratio
    }
}

/// The smallest cache size that reaches a target hit ratio, as far as a curve can tell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SizeForTarget {
    /// This size, interpolated between the two points around the crossing.
    At {
        /// The size, rounded up to a whole unit.
        size: u64,
    },
    /// The smallest size computed already reaches it; smaller sizes were not computed.
    AtMost {
        /// The smallest size computed.
        size: u64,
    },
    /// The largest size computed does not reach it, though the floor allows it.
    Beyond {
        /// The largest size computed.
        size: u64,
        /// The hit ratio there.
        hit_ratio: f64,
    },
    /// No cache size reaches it: compulsory misses alone exceed `1 - target`.
    Unreachable {
        /// The best hit ratio any size reaches.
        ceiling: f64,
    },
}

/// One method's miss ratios at a list of sizes; see the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// The method's label (`exact`, `shards:rate=0.01`, …).
    pub method: String,
    /// True when sizes count objects, false when they count bytes.
    pub objects: bool,
    /// The working set as this method knows it (exact or estimated).
    #[serde(skip)]
    pub working_set: WorkingSetEstimate,
    /// Points in ascending size.
    pub points: Vec<CurvePoint>,
    /// The compulsory-miss floor, as this method knows it.
    pub floor: Floor,
    /// What the user should know about how the points were made, one line each.
    pub notes: Vec<String>,
}

impl Curve {
    /// The miss ratio at `size`, interpolated monotonically (Fritsch–Carlson, in the
    /// logarithm of the size) between the points; `None` outside the points' range.
    pub fn miss_ratio_at(&self, size: f64) -> Option<f64> {
        let ys: Vec<f64> = self.points.iter().map(|p| p.miss_ratio).collect();
        self.interpolate(&ys, size)
    }

    /// The smallest size whose hit ratio reaches `target` (a fraction): the first crossing,
    /// interpolated as [`Curve::miss_ratio_at`]. Compared with a tolerance of 1e-12, so a
    /// point exactly at the target counts as reaching it.
    pub fn size_for_hit_ratio(&self, target: f64) -> SizeForTarget {
        const EPS: f64 = 1e-12;
        let miss_target = 1.0 - target;
        if miss_target + EPS < self.floor.miss_ratio {
            return SizeForTarget::Unreachable {
                ceiling: self.floor.hit_ratio_ceiling(),
            };
        }
        let Some(first) = self
            .points
            .iter()
            .position(|p| p.miss_ratio <= miss_target + EPS)
        else {
            let last = self.points.last().copied().unwrap_or(CurvePoint {
                cache_size: 0,
                miss_ratio: 1.0,
                byte_miss_ratio: 1.0,
            });
            return SizeForTarget::Beyond {
                size: last.cache_size,
                hit_ratio: 1.0 - last.miss_ratio,
            };
        };
        if first == 0 {
            return SizeForTarget::AtMost {
                size: self.points[0].cache_size,
            };
        }
        let (lo, hi) = (self.points[first - 1], self.points[first]);
        if lo.cache_size == 0 {
            return SizeForTarget::At {
                size: hi.cache_size,
            };
        }
        // The interpolant is monotone between two points: bisect in log size.
        let (mut a, mut b) = (ln(lo.cache_size), ln(hi.cache_size));
        for _ in 0..100 {
            let mid = 0.5 * (a + b);
            match self.miss_ratio_at(mid.exp()) {
                Some(m) if m <= miss_target => b = mid,
                _ => a = mid,
            }
        }
        let size = (b.exp().ceil() as u64).clamp(lo.cache_size + 1, hi.cache_size);
        SizeForTarget::At { size }
    }

    fn interpolate(&self, ys: &[f64], size: f64) -> Option<f64> {
        let xs: Vec<f64> = self.points.iter().map(|p| ln(p.cache_size)).collect();
        pchip(&xs, ys, size.max(1.0).ln())
    }
}

fn ln(size: u64) -> f64 {
    (size.max(1) as f64).ln()
}

/// Monotone piecewise-cubic Hermite interpolation (Fritsch and Carlson 1980, with
/// Fritsch and Butland's harmonic-mean slopes): between two points it never leaves their
/// range, so a non-increasing curve stays non-increasing. `None` outside `xs`.
fn pchip(xs: &[f64], ys: &[f64], x: f64) -> Option<f64> {
    let n = xs.len();
    if n == 0 || x < xs[0] - 1e-12 || x > xs[n - 1] + 1e-12 {
        return None;
    }
    if n == 1 {
        return Some(ys[0]);
    }
    if x <= xs[0] {
        return Some(ys[0]);
    }
    if x >= xs[n - 1] {
        return Some(ys[n - 1]);
    }
    // xs[k] <= x < xs[k + 1]
    let k = xs.partition_point(|&xi| xi <= x) - 1;
    let h: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0]).collect();
    let d: Vec<f64> = (0..n - 1)
        .map(|i| {
            if h[i] > 0.0 {
                (ys[i + 1] - ys[i]) / h[i]
            } else {
                0.0
            }
        })
        .collect();
    let slope = |i: usize| -> f64 {
        if i == 0 {
            return d[0];
        }
        if i == n - 1 {
            return d[n - 2];
        }
        let (d0, d1) = (d[i - 1], d[i]);
        if d0 * d1 <= 0.0 {
            return 0.0;
        }
        let (w1, w2) = (2.0 * h[i] + h[i - 1], h[i] + 2.0 * h[i - 1]);
        (w1 + w2) / (w1 / d0 + w2 / d1)
    };
    if h[k] <= 0.0 {
        return Some(ys[k + 1]);
    }
    // Endpoint slopes are the secants' and interior ones the harmonic means, so each stays
    // within 3 times its neighbouring secants and the cubic stays monotone.
    let (m0, m1) = (slope(k), slope(k + 1));
    let t = (x - xs[k]) / h[k];
    let (t2, t3) = (t * t, t * t * t);
    let y = (2.0 * t3 - 3.0 * t2 + 1.0) * ys[k]
        + (t3 - 2.0 * t2 + t) * h[k] * m0
        + (-2.0 * t3 + 3.0 * t2) * ys[k + 1]
        + (t3 - t2) * h[k] * m1;
    let (lo, hi) = (ys[k].min(ys[k + 1]), ys[k].max(ys[k + 1]));
    Some(y.clamp(lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn curve(points: &[(u64, f64)], floor: f64) -> Curve {
        Curve {
            method: "test".into(),
            objects: true,
            working_set: WorkingSetEstimate {
                objects: 1000.0,
                bytes: 1000.0,
                exact: true,
            },
            points: points
                .iter()
                .map(|&(cache_size, m)| CurvePoint {
                    cache_size,
                    miss_ratio: m,
                    byte_miss_ratio: m,
                })
                .collect(),
            floor: Floor {
                miss_ratio: floor,
                byte_miss_ratio: floor,
            },
            notes: Vec::new(),
        }
    }

    #[test]
    fn interpolation_passes_through_the_points_and_stays_between_them() {
        let c = curve(&[(10, 0.9), (100, 0.5), (1000, 0.1)], 0.05);
        assert_eq!(c.miss_ratio_at(10.0), Some(0.9));
        assert_eq!(c.miss_ratio_at(100.0), Some(0.5));
        assert_eq!(c.miss_ratio_at(1000.0), Some(0.1));
        let between = c.miss_ratio_at(300.0).unwrap();
        assert!(0.1 < between && between < 0.5, "{between}");
        assert_eq!(c.miss_ratio_at(5.0), None);
        assert_eq!(c.miss_ratio_at(2000.0), None);
    }

    #[test]
    fn the_size_for_a_target_reads_the_crossing_or_says_why_there_is_none() {
        let c = curve(&[(10, 0.9), (100, 0.5), (1000, 0.1)], 0.05);
        // Hit ratio 0.5 is reached exactly at 100.
        assert_eq!(c.size_for_hit_ratio(0.5), SizeForTarget::At { size: 100 });
        match c.size_for_hit_ratio(0.7) {
            SizeForTarget::At { size } => assert!(100 < size && size < 1000, "{size}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.size_for_hit_ratio(0.05),
            SizeForTarget::AtMost { size: 10 }
        );
        assert_eq!(
            c.size_for_hit_ratio(0.93),
            SizeForTarget::Beyond {
                size: 1000,
                hit_ratio: 0.9
            }
        );
        assert_eq!(
            c.size_for_hit_ratio(0.99),
            SizeForTarget::Unreachable { ceiling: 0.95 }
        );
    }

    proptest! {
        #[test]
        fn a_non_increasing_curve_interpolates_non_increasing(
            mut drops in proptest::collection::vec(0.0f64..0.2, 2..12),
            probes in proptest::collection::vec(0.0f64..1.0, 2..20),
        ) {
            let mut m = 1.0;
            let points: Vec<(u64, f64)> = drops
                .drain(..)
                .enumerate()
                .map(|(i, drop)| {
                    m = (m - drop).max(0.0);
                    (10u64 << (2 * i), m)
                })
                .collect();
            let c = curve(&points, 0.0);
            let (lo, hi) = (points[0].0 as f64, points.last().unwrap().0 as f64);
            let mut xs: Vec<f64> = probes.iter().map(|p| lo * (hi / lo).powf(*p)).collect();
            xs.sort_by(f64::total_cmp);
            let ys: Vec<f64> = xs.iter().map(|&x| c.miss_ratio_at(x).unwrap()).collect();
            for w in ys.windows(2) {
                prop_assert!(w[1] <= w[0] + 1e-12, "{:?}", ys);
            }
            // Every target between the ends is found at a size where the curve reaches it.
            let target = 1.0 - (ys[0] + ys[ys.len() - 1]) / 2.0;
            if let SizeForTarget::At { size } = c.size_for_hit_ratio(target) {
                prop_assert!(c.miss_ratio_at(size as f64).unwrap() <= 1.0 - target + 1e-9);
            }
        }
    }
}
