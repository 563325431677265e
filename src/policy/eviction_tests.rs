//! Every policy names what it evicts: for each request, the keys reported through
//! [`Policy::get_evicting`] are exactly the keys held before the request and not after it
//! (a slow set model over the whole key space), each once, and the decisions are those of
//! an identical twin served through [`Policy::get`]. A slotted policy ([`Policy::slotted`])
//! also names, through [`Policy::serve`], the slot each dropped key held and the slot the
//! admitted key holds, as [`Policy::slot_of`] says before and after the request.

use proptest::prelude::*;

use super::builtin::POLICIES;
use super::testing::{Case, cases};
use super::ttl::{Ttl, TtlClock, TtlParams};
use super::{EvictionSink, Held, Policy, PolicySpec};
use crate::request::Request;

/// The requests of a case; per-request TTLs from `ttls` (cycled) when given.
fn requests(case: &Case, ttls: &[u32]) -> Vec<Request> {
    let mut requests: Vec<Request> = case
        .trace
        .iter()
        .enumerate()
        .map(|(i, &(key, size))| Request {
            ttl: if ttls.is_empty() {
                0
            } else {
                ttls[i % ttls.len()]
            },
            ..Request::get(key, size)
        })
        .collect();
    crate::trace::next_access::fill(&mut requests);
    requests
}

/// Runs `policy` (reporting) and `twin` (silent) in step; `held` says whether a policy
/// holds a key. `Err` names the first request where the reports or decisions differ.
fn check<P: Policy + ?Sized>(
    policy: &mut P,
    twin: &mut P,
    requests: &[Request],
    held: impl Fn(&P, u64) -> bool,
) -> Result<(), String> {
    let keys = requests.iter().map(|r| r.key).max().unwrap_or(0);
    if !policy.names_evictions() {
        return Err(format!("{} does not name its evictions", policy.name()));
    }
    for (i, req) in requests.iter().enumerate() {
        let before: Vec<u64> = (0..=keys).filter(|&k| held(policy, k)).collect();
        let mut reported = Vec::new();
        let outcome = policy.get_evicting(req, &mut |key, _size| reported.push(key));
        let expected = twin.get(req);
        policy
            .validate()
            .map_err(|e| format!("request {i}: invalid: {e}"))?;
        if outcome != expected {
            return Err(format!(
                "request {i} ({}, {}): reporting {outcome:?}, silent {expected:?}",
                req.key, req.size
            ));
        }
        let gone: Vec<u64> = before
            .iter()
            .copied()
            .filter(|&k| !held(policy, k))
            .collect();
        reported.sort_unstable();
        if reported != gone {
            return Err(format!(
                "request {i} ({}, {}): reported {reported:?}, held before and not after {gone:?}",
                req.key, req.size
            ));
        }
    }
    Ok(())
}

/// What a slotted policy said during one request.
#[derive(Default)]
struct SlotReport {
    /// (key, slot) of each drop.
    dropped: Vec<(u64, Option<u32>)>,
    /// (key, slot) of each admission.
    admitted: Vec<(u64, u32)>,
}

impl EvictionSink for SlotReport {
    fn evicted(&mut self, key: u64, _size: u32) {
        self.dropped.push((key, None));
    }

    fn evicted_from(&mut self, key: u64, _size: u32, slot: u32) {
        self.dropped.push((key, Some(slot)));
    }

    fn admitted(&mut self, key: u64, slot: u32) {
        self.admitted.push((key, slot));
    }
}

/// Serves `requests` (reads and, every third, writes) through [`Policy::serve`] with what
/// [`Policy::slot_of`] says as `known`, and checks the slots a slotted policy names
/// against `slot_of` before and after each request, and the decisions against a silent
/// twin.
fn check_slots(
    policy: &mut dyn Policy,
    twin: &mut dyn Policy,
    requests: &[Request],
) -> Result<(), String> {
    let keys = requests.iter().map(|r| r.key).max().unwrap_or(0);
    for (i, req) in requests.iter().enumerate() {
        let write = i % 3 == 2;
        let before: Vec<Option<u32>> = (0..=keys).map(|k| policy.slot_of(k)).collect();
        let known = match before[req.key as usize] {
            Some(slot) => Held::At(slot),
            None => Held::Absent,
        };
        let mut said = SlotReport::default();
        let outcome = policy.serve(req, write, known, &mut said);
        let expected = if write { twin.set(req) } else { twin.get(req) };
        if outcome.hit != expected.hit || policy.len() != twin.len() {
            return Err(format!(
                "request {i}: serve {outcome:?}, silent {expected:?}"
            ));
        }
        for &(key, slot) in &said.dropped {
            if slot.is_none() || slot != before[key as usize] {
                return Err(format!(
                    "request {i}: dropped {key} from {slot:?}, but it was at {:?}",
                    before[key as usize]
                ));
            }
        }
        let now = policy.slot_of(req.key);
        match said.admitted.as_slice() {
            [] if now.is_some() && now != before[req.key as usize] => {
                return Err(format!(
                    "request {i}: {} moved to {now:?} without being named",
                    req.key
                ));
            }
            [] => {}
            [(key, slot)] if *key == req.key && Some(*slot) == now => {}
            other => {
                return Err(format!(
                    "request {i}: admitted {other:?}, but {} is at {now:?}",
                    req.key
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for k in 0..=keys {
            if let Some(slot) = policy.slot_of(k)
                && !seen.insert(slot)
            {
                return Err(format!("request {i}: slot {slot} held twice"));
            }
        }
    }
    Ok(())
}

fn build(spec: &str, capacity: u64, seed: u64) -> Box<dyn Policy> {
    let spec: PolicySpec = spec.parse().expect("a valid spec");
    POLICIES
        .build(&spec, capacity, seed)
        .expect("a buildable spec")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_policy_names_exactly_what_it_drops(case in cases(), seed in any::<u64>()) {
        let requests = requests(&case, &[]);
        for info in POLICIES.rows() {
            let spec = info.default_spec();
            let mut policy = build(&spec, case.capacity, seed);
            let mut twin = build(&spec, case.capacity, seed);
            check(policy.as_mut(), twin.as_mut(), &requests, |p, k| p.contains(k))
                .map_err(|e| TestCaseError::fail(format!("{spec}: {e}")))?;
        }
    }

    #[test]
    fn the_ttl_layer_names_evictions_and_expirations(
        case in cases(),
        ttl in 1u64..20,
        ttls in prop::collection::vec(0u32..12, 0..5),
        base in prop::sample::select(vec!["lru", "s3fifo", "arc", "wtinylfu", "lirs"]),
    ) {
        let requests = requests(&case, &ttls);
        let make = || Ttl::with_params(build(base, case.capacity, 7), TtlParams { ttl, clock: TtlClock::Requests });
        let (mut policy, mut twin) = (make(), make());
        // Held means stored in the base: an object past its expiry is still held until
        // the layer drops it (which it reports).
        check(&mut policy, &mut twin, &requests, |p, k| p.holds(k))
            .map_err(|e| TestCaseError::fail(format!("ttl over {base}: {e}")))?;
    }

    #[test]
    fn slotted_policies_name_the_slots_they_drop_and_fill(
        case in cases(),
        seed in any::<u64>(),
        ttl in 0u64..12,
    ) {
        let requests = requests(&case, &[]);
        let mut slotted = 0;
        for info in POLICIES.rows() {
            let spec = info.default_spec();
            if !build(&spec, case.capacity, seed).slotted() {
                continue;
            }
            slotted += 1;
            let make = || -> Box<dyn Policy> {
                let base = build(&spec, case.capacity, seed);
                if ttl == 0 {
                    base
                } else {
                    Box::new(Ttl::with_params(base, TtlParams { ttl, clock: TtlClock::Requests }))
                }
            };
            let (mut policy, mut twin) = (make(), make());
            check_slots(policy.as_mut(), twin.as_mut(), &requests)
                .map_err(|e| TestCaseError::fail(format!("{spec} (ttl {ttl}): {e}")))?;
        }
        prop_assert!(slotted >= 12, "only {} slotted policies", slotted);
    }
}
