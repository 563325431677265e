//! Every policy names what it evicts: for each request, the keys reported through
//! [`Policy::get_evicting`] are exactly the keys held before the request and not after it
//! (a slow set model over the whole key space), each once, and the decisions are those of
//! an identical twin served through [`Policy::get`].

use proptest::prelude::*;

use super::builtin::POLICIES;
use super::testing::{Case, cases};
use super::ttl::{Ttl, TtlClock, TtlParams};
use super::{Policy, PolicySpec};
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
}
