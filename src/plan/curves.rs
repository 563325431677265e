//! The miss-ratio curve a plan reads each policy's size off, made with [`crate::mrc`]: the
//! exact stack-distance curve for plain `lru`, miniature simulations
//! ([`crate::mrc::mini`], at the plan's sampling rate, 1 by default: the full simulation)
//! for every other policy.
//!
//! The grids reach the size that holds the whole working set, so a target below the
//! compulsory-miss ceiling is found on the curve: for eviction policies the sum of every
//! key's largest size; for the memcached model, whose x axis is `-m`, the slab pages that
//! hold every key as memcached stores it ([`super::memory::SlabUsage`]) and a little more.
//!
//! The memcached model keeps its values, so simulating it at `-m` holds about that much
//! memory; its curve takes [`MODEL_POINTS`] sizes by default, simulated in passes of at most
//! [`MODEL_BUDGET`] bytes of simulated memory each (the plain policies keep keys only and
//! run every size in one pass).

use std::sync::Arc;

use hashbrown::HashMap;

use super::memory::{MIB, SlabUsage};
use crate::catalog::CATALOG;
use crate::memcached::Settings;
use crate::mrc::{Curve, Grid, Method, MrcError, Replay, Settings as ProfileSettings, profile};
use crate::policy::{PolicyKind, PolicySpec};
use crate::request::Request;
use crate::sim::{Config, RunResult, SimOptions, simulate};
use crate::trace::VecReader;
use crate::units::CacheSize;

/// Sizes on a memcached model's curve unless the job says otherwise: its simulations hold
/// their values, so they cost far more than a plain policy's; the confirmation search
/// refines between them.
pub const MODEL_POINTS: usize = 12;

/// The most simulated memcached memory one pass over the trace holds (the sizes of its
/// configurations, scaled by the sampling rate, added up).
pub const MODEL_BUDGET: u64 = 4 << 30;

/// A trace held in memory, shared by every pass of a plan.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    /// The requests.
    pub requests: Arc<Vec<Request>>,
    /// Whether their `next_access` is real.
    pub has_next_access: bool,
}

impl Shared {
    /// A reader from the first request, without copying the trace.
    pub fn reader(&self) -> VecReader {
        VecReader::shared(Arc::clone(&self.requests), self.has_next_access)
    }
}

impl Replay for Shared {
    fn simulate(&self, _method: &str, configs: &[Config]) -> Result<Vec<RunResult>, MrcError> {
        Ok(simulate(
            &mut self.reader(),
            configs,
            &SimOptions::default(),
            None,
        )?)
    }
}

/// True for the memcached model (a policy whose capacity is memcached's `-m`).
pub(crate) fn is_model(spec: &PolicySpec) -> bool {
    CATALOG
        .lookup(&spec.name)
        .is_ok_and(|info| info.kind == PolicyKind::Model)
}

/// The method that draws `spec`'s curve: exact for plain `lru`, else miniature simulations
/// at `sample`.
pub fn method_for(spec: &PolicySpec, sample: f64) -> Method {
    if spec.name == "lru" && spec.params.is_empty() {
        Method::Exact
    } else {
        Method::Mini {
            policy: spec.clone(),
            rate: sample,
        }
    }
}

/// What the grids are laid over: every key's largest size, as bytes and as memcached pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    /// The sum of every key's largest size.
    pub bytes: u64,
    /// The `-m` in MiB that holds every key at its largest size.
    pub model_m_mib: u64,
}

impl Extent {
    /// Measures `trace`.
    pub fn of(trace: &[Request]) -> Extent {
        let mut largest: HashMap<u64, u32> = HashMap::new();
        for req in trace {
            let size = largest.entry(req.key).or_insert(0);
            *size = (*size).max(req.size);
        }
        // Default settings always make a class table.
        let mut usage =
            SlabUsage::new(&Settings::default()).expect("the default settings are valid");
        let mut bytes = 0u64;
        for (&key, &size) in &largest {
            bytes += u64::from(size);
            usage.add_object(key, size);
        }
        Extent {
            bytes,
            model_m_mib: usage.m_mib(),
        }
    }
}

/// One curve per policy, in the order given.
pub(crate) fn curves(
    trace: &Shared,
    policies: &[PolicySpec],
    sample: f64,
    points: (usize, usize),
    seed: u64,
    extent: Extent,
) -> Result<Vec<Curve>, MrcError> {
    let plain: Vec<(usize, Method)> = policies
        .iter()
        .enumerate()
        .filter(|(_, p)| !is_model(p))
        .map(|(i, p)| (i, method_for(p, sample)))
        .collect();
    let mut out: Vec<Option<Curve>> = vec![None; policies.len()];
    if !plain.is_empty() {
        let methods: Vec<Method> = plain.iter().map(|(_, m)| m.clone()).collect();
        let grid = Grid {
            from: CacheSize::Absolute((extent.bytes / 1000).max(1)),
            to: CacheSize::Absolute(extent.bytes.max(1)),
            points: points.0,
        };
        // The extent itself is a point, so the curve reaches the ceiling.
        let named = [extent.bytes.max(1)];
        let settings = ProfileSettings {
            methods: &methods,
            objects: false,
            grid: &grid,
            named: &named,
            seed,
        };
        let profiled = profile(&mut trace.reader(), trace, &settings, None)?;
        for ((i, _), curve) in plain.iter().zip(profiled.curves) {
            out[*i] = Some(curve);
        }
    }
    for (i, spec) in policies.iter().enumerate() {
        if is_model(spec) {
            out[i] = Some(model_curve(trace, spec, sample, points.1, seed, extent)?);
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// The memcached model's curve, in passes of at most [`MODEL_BUDGET`] simulated bytes.
fn model_curve(
    trace: &Shared,
    spec: &PolicySpec,
    sample: f64,
    points: usize,
    seed: u64,
    extent: Extent,
) -> Result<Curve, MrcError> {
    // A little more than the pages that hold everything, so the last point holds it all
    // even after the grid moves it down to a bucket bound.
    let to = (extent.model_m_mib + 2 + extent.model_m_mib / 50) * MIB;
    let grid = Grid {
        from: CacheSize::Absolute((to / 1000).max(2 * MIB)),
        to: CacheSize::Absolute(to),
        points,
    };
    let sizes = grid.sizes(0, &[to]);
    let method = Method::Mini {
        policy: spec.clone(),
        rate: sample,
    };
    let held = |size: u64| (size.min(to) as f64 * sample) as u64;
    let mut passes: Vec<Vec<u64>> = Vec::new();
    let mut load = 0u64;
    for &size in &sizes {
        match passes.last_mut() {
            Some(pass) if load + held(size) <= MODEL_BUDGET => pass.push(size),
            _ => {
                passes.push(vec![size]);
                load = 0;
            }
        }
        load += held(size);
    }
    let mut merged: Option<Curve> = None;
    for pass in &passes {
        let mut profiler = method.build(false, &[], seed);
        for batch in trace.requests.chunks(1 << 16) {
            profiler.feed(batch);
        }
        let curve = profiler.finish(pass, trace)?;
        match &mut merged {
            None => merged = Some(curve),
            Some(all) => {
                all.points.extend(curve.points);
                for note in curve.notes {
                    if !all.notes.contains(&note) {
                        all.notes.push(note);
                    }
                }
            }
        }
    }
    merged.ok_or_else(|| MrcError::EmptyTrace {
        trace: "the trace".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lru_is_exact_and_everything_else_a_miniature_simulation() {
        let lru: PolicySpec = "lru".parse().unwrap();
        assert_eq!(method_for(&lru, 0.1), Method::Exact);
        let s3: PolicySpec = "s3fifo".parse().unwrap();
        assert_eq!(
            method_for(&s3, 1.0).to_string(),
            "mini:policy=s3fifo,rate=1"
        );
        assert!(is_model(&"memcached".parse().unwrap()));
        assert!(!is_model(&s3));
    }

    #[test]
    fn the_extent_holds_every_key_at_its_largest() {
        let mut trace: Vec<Request> = (0..10).map(|k| Request::get(k, 100)).collect();
        trace.push(Request::get(3, 500));
        let e = Extent::of(&trace);
        assert_eq!(e.bytes, 9 * 100 + 500);
        // Ten small items: one page of one class, one of another.
        assert_eq!(e.model_m_mib, 2);
    }
}
