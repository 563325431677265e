//! Confirming a size read off a curve: the policy is simulated over the whole trace at that
//! size (`simulate_at`), and the simulated hit ratio, not the curve's interpolated one, is
//! what a plan predicts. `search` then makes it the smallest size that reaches the
//! target, within [`TOLERANCE`]:
//!
//! - when the size falls short, it climbs towards the curve's next sizes (each pass also
//!   tries three sizes between) until one reaches the target, at most [`MAX_CLIMB`] passes;
//! - between the largest size known to fall short (simulated, or the curve's point below,
//!   where the curve says it does) and the smallest that reaches the target, it bisects
//!   with three sizes per pass, at most [`MAX_REFINE`] passes.
//!
//! Sizes are counted in units: bytes for the eviction policies, MiB for the memcached
//! model, whose `-m` is a whole number of MiB, so what is confirmed is what is deployed.

use super::curves::{MODEL_BUDGET, Shared, is_model};
use crate::policy::PolicySpec;
use crate::sim::{Config, SimError, SimOptions, simulate};

/// The search stops when the interval left is at most this share of the size found (or one
/// unit).
pub const TOLERANCE: f64 = 0.005;

/// The most bisection passes after a size that reaches the target was found.
pub const MAX_REFINE: u32 = 4;

/// The most passes spent looking for a size that reaches the target.
pub const MAX_CLIMB: u32 = 6;

/// Sizes tried between two known ones in one pass.
const BETWEEN: u64 = 3;

/// One simulated size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Probe {
    /// The size in units.
    pub units: u64,
    /// Hits over reads over the whole trace.
    pub hit_ratio: f64,
}

/// Simulates `spec` over the whole trace at each size (`units` times `unit` bytes), in one
/// pass; for the memcached model, which keeps its values, in as many passes as keep the
/// sizes simulated together within [`MODEL_BUDGET`].
pub(crate) fn simulate_at(
    trace: &Shared,
    spec: &PolicySpec,
    units: &[u64],
    unit: u64,
    seed: u64,
) -> Result<Vec<Probe>, SimError> {
    let options = SimOptions {
        seed,
        ..SimOptions::default()
    };
    let budget = if is_model(spec) {
        MODEL_BUDGET
    } else {
        u64::MAX
    };
    let mut probes = Vec::with_capacity(units.len());
    let mut start = 0;
    while start < units.len() {
        let mut end = start + 1;
        let mut load = units[start] * unit;
        while end < units.len() && load.saturating_add(units[end] * unit) <= budget {
            load += units[end] * unit;
            end += 1;
        }
        let configs: Vec<Config> = units[start..end]
            .iter()
            .map(|&u| Config::new(spec.clone(), u * unit))
            .collect();
        let results = simulate(&mut trace.reader(), &configs, &options, None)?;
        probes.extend(
            units[start..end]
                .iter()
                .zip(results)
                .map(|(&units, r)| Probe {
                    units,
                    hit_ratio: if r.counters.requests == 0 {
                        0.0
                    } else {
                        r.counters.hits as f64 / r.counters.requests as f64
                    },
                }),
        );
        start = end;
    }
    Ok(probes)
}

/// One simulation pass over the trace at several sizes (in units).
pub(crate) type Simulate<'a> = dyn Fn(&[u64]) -> Result<Vec<Probe>, SimError> + 'a;

/// What [`search`] found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Climb {
    /// The smallest size found that reaches the target.
    Reached {
        /// It, simulated.
        probe: Probe,
        /// Simulation passes made.
        passes: u32,
    },
    /// No size tried reaches the target.
    NotReached {
        /// The largest size tried, simulated.
        best: Probe,
        /// Simulation passes made.
        passes: u32,
    },
}

/// Up to [`BETWEEN`] whole sizes evenly between `lo` and `hi`, both excluded.
fn between(lo: u64, hi: u64) -> Vec<u64> {
    let mut out: Vec<u64> = (1..=BETWEEN)
        .map(|j| lo + ((hi - lo) as u128 * u128::from(j) / u128::from(BETWEEN + 1)) as u64)
        .filter(|&u| u > lo && u < hi)
        .collect();
    out.dedup();
    out
}

/// From `first` (a simulated size), finds the smallest size that reaches `target`; see
/// the module documentation. `below` is the curve's largest size under `first` that falls
/// short on the curve (`None` when the curve has none); `ladder` is the curve's sizes,
/// ascending; `simulate` runs one pass over the trace at several sizes. Sizes are in units.
pub(crate) fn search(
    first: Probe,
    below: Option<u64>,
    ladder: &[u64],
    target: f64,
    simulate: &Simulate<'_>,
) -> Result<Climb, SimError> {
    const EPS: f64 = 1e-12;
    let reaches = |p: &Probe| p.hit_ratio + EPS >= target;
    let mut passes = 0;
    let (mut lo, mut hi) = if reaches(&first) {
        let Some(below) = below.filter(|&b| b < first.units) else {
            return Ok(Climb::Reached {
                probe: first,
                passes,
            });
        };
        // The curve says this size falls short; it is not simulated.
        let lo = Probe {
            units: below,
            hit_ratio: f64::NAN,
        };
        (lo, first)
    } else {
        // Climb: the next curve size above, with sizes between, until one reaches it.
        let mut lo = first;
        loop {
            let Some(&next) = ladder.iter().find(|&&u| u > lo.units) else {
                return Ok(Climb::NotReached { best: lo, passes });
            };
            if passes >= MAX_CLIMB {
                return Ok(Climb::NotReached { best: lo, passes });
            }
            let mut sizes = between(lo.units, next);
            sizes.push(next);
            let probes = simulate(&sizes)?;
            passes += 1;
            let found = probes.iter().find(|p| reaches(p)).copied();
            let limit = found.map_or(u64::MAX, |h| h.units);
            if let Some(f) = probes
                .iter()
                .filter(|p| !reaches(p) && p.units < limit)
                .max_by_key(|p| p.units)
            {
                lo = *f;
            }
            if let Some(hi) = found {
                break (lo, hi);
            }
        }
    };
    // Bisect between the largest size that falls short and the smallest that reaches it.
    for _ in 0..MAX_REFINE {
        let tolerance = ((hi.units as f64 * TOLERANCE) as u64).max(1);
        let sizes = between(lo.units, hi.units);
        if hi.units - lo.units <= tolerance || sizes.is_empty() {
            break;
        }
        let probes = simulate(&sizes)?;
        passes += 1;
        if let Some(p) = probes.iter().find(|p| reaches(p)) {
            hi = *p;
        }
        if let Some(f) = probes
            .iter()
            .filter(|p| !reaches(p) && p.units < hi.units)
            .max_by_key(|p| p.units)
        {
            lo = *f;
        }
    }
    Ok(Climb::Reached { probe: hi, passes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up monotone policy: hit ratio size / 1000, capped at 0.9.
    fn fake(sizes: &[u64]) -> Result<Vec<Probe>, SimError> {
        Ok(sizes
            .iter()
            .map(|&units| Probe {
                units,
                hit_ratio: (units as f64 / 1000.0).min(0.9),
            })
            .collect())
    }

    #[test]
    fn sizes_between_are_whole_and_strictly_inside() {
        assert_eq!(between(0, 8), vec![2, 4, 6]);
        assert_eq!(between(10, 12), vec![11]);
        assert!(between(10, 11).is_empty());
    }

    #[test]
    fn climbs_to_the_next_curve_size_then_bisects_to_within_the_tolerance() {
        let failed = Probe {
            units: 600,
            hit_ratio: 0.6,
        };
        let found = search(failed, None, &[100, 600, 1000, 2000], 0.7, &fake).unwrap();
        match found {
            Climb::Reached { probe, passes } => {
                // 700 reaches 0.7 exactly; the search ends within 0.5% above it.
                assert!(probe.units >= 700 && probe.units <= 704, "{probe:?}");
                assert!(probe.hit_ratio >= 0.7);
                assert!(passes <= 1 + MAX_REFINE, "{passes}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bisects_down_towards_the_curve_size_below_when_the_first_size_reaches_the_target() {
        let first = Probe {
            units: 900,
            hit_ratio: 0.9,
        };
        match search(first, Some(600), &[600, 1000], 0.7, &fake).unwrap() {
            Climb::Reached { probe, passes } => {
                assert!(probe.units >= 700 && probe.units <= 704, "{probe:?}");
                assert!(passes <= MAX_REFINE, "{passes}");
            }
            other => panic!("{other:?}"),
        }
        // Without a curve size below, the first size stands.
        assert_eq!(
            search(first, None, &[600, 1000], 0.7, &fake).unwrap(),
            Climb::Reached {
                probe: first,
                passes: 0
            }
        );
    }

    #[test]
    fn says_when_no_size_on_the_curve_reaches_the_target() {
        let failed = Probe {
            units: 600,
            hit_ratio: 0.6,
        };
        let found = search(failed, None, &[600, 1000, 2000], 0.95, &fake).unwrap();
        assert_eq!(
            found,
            Climb::NotReached {
                best: Probe {
                    units: 2000,
                    hit_ratio: 0.9
                },
                passes: 2
            }
        );
    }
}
