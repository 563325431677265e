//! Test support shared by the policies' tests: random traces for proptest, a driver that
//! runs a fast policy and a slow reference model in step, and a hand-case runner.
//!
//! Each policy's tests write a [`Model`] from the paper's pseudo-code with plain `Vec`s
//! and linear scans; [`run_in_step`] feeds both the same trace, calls
//! [`Policy::validate`] after every request, and fails at the first request where the
//! hit/miss decision, the bytes held or the object count differ.

use proptest::prelude::*;

use super::Policy;
use crate::request::Request;

/// A slow, obviously right model of a policy: the decision for one read.
pub trait Model {
    /// A read of `key` with `size`; true on a hit. Admits on a miss like the policy.
    fn access(&mut self, key: u64, size: u32) -> bool;
    /// Size units held.
    fn used(&self) -> u64;
    /// Objects held.
    fn len(&self) -> usize;
}

/// One generated case: a capacity and a trace of `(key, size)` reads.
#[derive(Debug, Clone)]
pub struct Case {
    /// Capacity in size units.
    pub capacity: u64,
    /// The reads.
    pub trace: Vec<(u64, u32)>,
}

/// Random cases: object mode (every size 1, capacity 1..=24) or byte mode (sizes 1..=12,
/// sometimes over capacity; capacity 1..=80); keys from a small space so that hits,
/// ghost hits and size changes all happen.
pub fn cases() -> impl Strategy<Value = Case> {
    let objects = (1u64..=24, 2u64..=40).prop_flat_map(|(capacity, keys)| {
        prop::collection::vec((0..keys, Just(1u32)), 1..400)
            .prop_map(move |trace| Case { capacity, trace })
    });
    let bytes = (1u64..=80, 2u64..=40, 1u32..=12, any::<bool>()).prop_flat_map(
        |(capacity, keys, max, fixed)| {
            // With `fixed`, a key always has the same size (no resizes on hits).
            prop::collection::vec((0..keys, 1..=max), 1..400).prop_map(move |trace| Case {
                capacity,
                trace: trace
                    .into_iter()
                    .map(|(k, s)| {
                        (
                            k,
                            if fixed {
                                1 + (k.wrapping_mul(7) % u64::from(max)) as u32
                            } else {
                                s
                            },
                        )
                    })
                    .collect(),
            })
        },
    );
    prop_oneof![objects, bytes]
}

/// Runs `policy` and `model` in step over `trace`; `Err` names the first difference.
pub fn run_in_step(
    policy: &mut dyn Policy,
    model: &mut dyn Model,
    trace: &[(u64, u32)],
) -> Result<(), String> {
    for (i, &(key, size)) in trace.iter().enumerate() {
        let hit = policy.get(&Request::get(key, size)).hit;
        policy
            .validate()
            .map_err(|e| format!("request {i} ({key}, {size}): invalid: {e}"))?;
        let expected = model.access(key, size);
        if hit != expected {
            return Err(format!(
                "request {i} ({key}, {size}): policy hit={hit}, model hit={expected}"
            ));
        }
        if policy.used() != model.used() || policy.len() != model.len() {
            return Err(format!(
                "request {i} ({key}, {size}): policy holds {} objects / {} units, model {} / {}",
                policy.len(),
                policy.used(),
                model.len(),
                model.used()
            ));
        }
        if policy.used() > policy.capacity() {
            return Err(format!(
                "request {i}: used {} over capacity {}",
                policy.used(),
                policy.capacity()
            ));
        }
    }
    Ok(())
}

/// Hit flags of `policy` over `trace`, validating after every request.
pub fn hits(policy: &mut dyn Policy, trace: &[(u64, u32)]) -> Vec<bool> {
    trace
        .iter()
        .map(|&(k, s)| {
            let hit = policy.get(&Request::get(k, s)).hit;
            policy.validate().unwrap();
            hit
        })
        .collect()
}

/// `(key, 1)` reads from a list of keys: an object-mode trace.
pub fn unit(keys: &[u64]) -> Vec<(u64, u32)> {
    keys.iter().map(|&k| (k, 1)).collect()
}

/// A `Vec` queue entry for models: key and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: u64,
    /// The size.
    pub size: u32,
}

/// Sum of sizes of a model queue.
pub fn bytes(queue: &[Entry]) -> u64 {
    queue.iter().map(|e| u64::from(e.size)).sum()
}

/// Position of `key` in a model queue.
pub fn find(queue: &[Entry], key: u64) -> Option<usize> {
    queue.iter().position(|e| e.key == key)
}
