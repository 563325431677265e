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

/// One thing a policy told its sink, in order: what an in-process cache learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Told {
    /// `evicted_from(id, size, slot)`.
    Dropped(u64, u32, u32),
    /// `admitted(id, slot)`.
    Admitted(u64, u32),
}

/// A sink that records what it is told, in order.
#[derive(Default)]
struct Tells(Vec<Told>);

impl EvictionSink for Tells {
    fn evicted(&mut self, key: u64, _size: u32) {
        panic!("a slotted policy dropped {key} without naming its slot");
    }

    fn evicted_from(&mut self, key: u64, size: u32, slot: u32) {
        self.0.push(Told::Dropped(key, size, slot));
    }

    fn admitted(&mut self, key: u64, slot: u32) {
        self.0.push(Told::Admitted(key, slot));
    }
}

/// One step of a cache's driving: a read of `key` with `size`, a delete of `key`, or a
/// delete at a held slot under the wrong id (which must change nothing).
#[derive(Clone, Copy, Debug)]
enum Op {
    Get(u64, u32),
    Delete(u64),
    WrongDelete(u64),
}

/// Ops over `keys` keys: mostly reads (a key keeps its size, sometimes a new one), some
/// deletes.
fn ops(keys: u64) -> impl Strategy<Value = Vec<Op>> {
    let op = (0u8..24, 0..keys, 1u32..=4).prop_map(|(kind, key, size)| match kind {
        0 => Op::Delete(key),
        1 => Op::WrongDelete(key),
        2 | 3 => Op::Get(key, size),
        _ => Op::Get(key, 1 + (key % 2) as u32),
    });
    prop::collection::vec(op, 1..300)
}

/// The cache's table: id → (slot, size), kept only from what the sink says.
type Table = std::collections::HashMap<u64, (u32, u32)>;

/// Applies what a policy told about one request of `key` (now of `size` if still held).
fn learn(table: &mut Table, told: &[Told], key: Option<(u64, u32)>) -> Result<(), String> {
    for &t in told {
        match t {
            Told::Dropped(id, _, slot) => match table.remove(&id) {
                Some((s, _)) if s == slot => {}
                other => return Err(format!("dropped {id} from {slot}, table had {other:?}")),
            },
            Told::Admitted(id, slot) => {
                table.insert(id, (slot, 0));
            }
        }
    }
    if let Some((key, size)) = key
        && let Some(entry) = table.get_mut(&key)
    {
        entry.1 = size;
    }
    Ok(())
}

/// Drives `a` (indexed, by id) and `b` as an in-process cache does once `b` drops its
/// index before op `drop_at` (by slot, from a table kept from the sink), until op
/// `restore_at`, where `b` rebuilds its index and is driven by id again (and now and then
/// by id while unindexed, the slow path a cache never takes); the two must
/// agree on every outcome, every report (ids and slots, in order), `len`, `used` and
/// `contains`, and both validate after every op. `b`'s `id_at` and `slot_of` must agree
/// with the table throughout.
fn compare_unindexed<P: Policy>(
    mut a: P,
    mut b: P,
    keys: u64,
    ops: &[Op],
    drop_at: usize,
    restore_at: usize,
) -> Result<(), String> {
    let mut table = Table::new();
    let mut unindexed = false;
    for (i, &op) in ops.iter().enumerate() {
        if i == drop_at {
            if !b.drop_index() {
                return Err(format!("{} refused to drop its index", b.name()));
            }
            unindexed = true;
        }
        if i == restore_at && unindexed {
            b.restore_index();
            unindexed = false;
        }
        let (mut told_a, mut told_b) = (Tells::default(), Tells::default());
        let mut request = None;
        match op {
            Op::Get(key, size) => {
                let req = Request::get(key, size);
                request = Some((key, size));
                let got_a = a.serve_in(&req, false, Held::Unknown, &mut told_a);
                // Now and then a caller asks an unindexed policy by id: slow, still right.
                let by_id = !unindexed || i % 7 == 3;
                let got_b = match (by_id, table.get(&key)) {
                    (true, _) => b.serve_in(&req, false, Held::Unknown, &mut told_b),
                    (false, Some(&(slot, held))) => {
                        if held == size && b.hit_at(slot) {
                            super::Outcome::HIT
                        } else {
                            b.serve_in(&req, false, Held::At(slot), &mut told_b)
                        }
                    }
                    (false, None) => b.serve_in(&req, false, Held::Absent, &mut told_b),
                };
                if got_a != got_b {
                    return Err(format!(
                        "op {i} {op:?}: indexed {got_a:?}, cache-driven {got_b:?}"
                    ));
                }
            }
            Op::Delete(key) => {
                let gone_a = a.delete(key);
                let by_id = !unindexed || i % 5 == 2;
                let gone_b = match (by_id, table.get(&key)) {
                    (true, _) => b.delete(key),
                    (false, Some(&(slot, _))) => b.delete_at(slot, key),
                    (false, None) => false,
                };
                if gone_a != gone_b {
                    return Err(format!(
                        "op {i} {op:?}: indexed {gone_a}, cache-driven {gone_b}"
                    ));
                }
                table.remove(&key);
            }
            Op::WrongDelete(key) => {
                // The slot of some held object, named with an id it does not hold.
                if let Some((&id, &(slot, _))) = table.iter().min_by_key(|(id, _)| **id) {
                    // Indexed or not, the slot is checked: `wrong` is not deleted even
                    // when it is held elsewhere.
                    let wrong = if id == key { key + keys } else { key };
                    if b.delete_at(slot, wrong) {
                        return Err(format!(
                            "op {i}: delete_at({slot}, {wrong}) deleted ({id} is there)"
                        ));
                    }
                }
            }
        }
        if told_a.0 != told_b.0 {
            return Err(format!(
                "op {i} {op:?}: indexed told {:?}, cache-driven {:?}",
                told_a.0, told_b.0
            ));
        }
        learn(&mut table, &told_b.0, request).map_err(|e| format!("op {i} {op:?}: {e}"))?;
        for p in [&a, &b] {
            p.validate()
                .map_err(|e| format!("op {i} {op:?}: {} invalid: {e}", p.name()))?;
        }
        if (a.len(), a.used()) != (b.len(), b.used()) || b.len() != table.len() {
            return Err(format!(
                "op {i} {op:?}: indexed holds {}/{}, cache-driven {}/{}, table {}",
                a.len(),
                a.used(),
                b.len(),
                b.used(),
                table.len()
            ));
        }
        for key in 0..keys {
            let slot = table.get(&key).map(|&(slot, _)| slot);
            if b.slot_of(key) != slot || a.contains(key) != b.contains(key) {
                return Err(format!(
                    "op {i} {op:?}: key {key} at {:?} (contains {}), table says {slot:?}",
                    b.slot_of(key),
                    b.contains(key)
                ));
            }
            if let Some(slot) = slot
                && b.id_at(slot) != Some(key)
            {
                return Err(format!(
                    "op {i}: id_at({slot}) is {:?}, not {key}",
                    b.id_at(slot)
                ));
            }
        }
    }
    Ok(())
}

/// Ops, capacity 1..=12, keys 2..=20, and where the index is dropped and restored
/// (`restore_at` past the end: never).
fn unindexed_case() -> impl Strategy<Value = (u64, u64, Vec<Op>, usize, usize)> {
    (1u64..=12, 2u64..=20).prop_flat_map(|(capacity, keys)| {
        ops(keys).prop_flat_map(move |ops| {
            let n = ops.len();
            (0..=n / 2).prop_flat_map(move |drop_at| {
                let ops = ops.clone();
                (drop_at..=n + 1)
                    .prop_map(move |restore_at| (capacity, keys, ops.clone(), drop_at, restore_at))
            })
        })
    })
}

/// [`compare_unindexed`] on two policies from `make`, the failure named after `name`.
fn unindexed_agrees<P: Policy>(
    name: &str,
    make: impl Fn() -> P,
    (keys, ops, drop_at, restore_at): (u64, &[Op], usize, usize),
) -> Result<(), TestCaseError> {
    compare_unindexed(make(), make(), keys, ops, drop_at, restore_at)
        .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn unindexed_lru_and_fifo_agree_with_indexed((capacity, keys, ops, drop_at, restore_at) in unindexed_case()) {
        use super::{fifo::Fifo, lru::Lru};
        let case = (keys, ops.as_slice(), drop_at, restore_at);
        unindexed_agrees("lru", || Lru::new(capacity), case)?;
        unindexed_agrees("fifo", || Fifo::new(capacity), case)?;
    }

    #[test]
    fn unindexed_clock_and_sieve_agree_with_indexed(
        (capacity, keys, ops, drop_at, restore_at) in unindexed_case(),
        bits in 1u32..=3,
    ) {
        use super::clock::{Clock, ClockParams};
        use super::sieve::Sieve;
        let clock = || Clock::with_params(capacity, ClockParams { bits });
        let case = (keys, ops.as_slice(), drop_at, restore_at);
        unindexed_agrees("clock", clock, case)?;
        unindexed_agrees("sieve", || Sieve::new(capacity), case)?;
    }

    #[test]
    fn unindexed_lfu_and_random_agree_with_indexed(
        (capacity, keys, ops, drop_at, restore_at) in unindexed_case(),
        seed in any::<u64>(),
    ) {
        use super::{lfu::Lfu, random::Random};
        let case = (keys, ops.as_slice(), drop_at, restore_at);
        unindexed_agrees("lfu", || Lfu::new(capacity), case)?;
        unindexed_agrees("random", || Random::new(capacity, seed), case)?;
    }

    #[test]
    fn unindexed_wtinylfu_agrees_with_indexed(
        (capacity, keys, ops, drop_at, restore_at) in unindexed_case(),
        window in prop::sample::select(vec![0.01, 0.2, 0.5]),
    ) {
        use super::wtinylfu::{WTinyLfu, WTinyLfuParams};
        let make = || WTinyLfu::with_params(capacity, WTinyLfuParams { window, ..Default::default() });
        unindexed_agrees("wtinylfu", make, (keys, ops.as_slice(), drop_at, restore_at))?;
    }
}

/// The policies whose index can be dropped; every other built-in refuses.
const UNINDEXABLE: &[&str] = &["lru", "fifo", "clock", "sieve", "lfu", "random", "wtinylfu"];

#[test]
fn only_policies_without_state_found_by_id_drop_their_index() {
    for info in POLICIES.rows() {
        let spec = info.default_spec();
        let mut policy = build(&spec, 8, 1);
        for k in 0..5 {
            policy.get(&Request::get(k, 1));
        }
        let before = (policy.len(), policy.used(), policy.heap_bytes());
        let dropped = policy.drop_index();
        assert_eq!(dropped, UNINDEXABLE.contains(&info.name), "{spec}");
        if !dropped {
            // Refused: nothing changed, and the defaults answer.
            assert_eq!(
                (policy.len(), policy.used(), policy.heap_bytes()),
                before,
                "{spec}"
            );
            assert_eq!(policy.id_at(0), None, "{spec}");
            policy.restore_index();
            policy.validate().unwrap();
        } else {
            assert!(policy.slotted(), "{spec}");
        }
    }
}

#[test]
fn s3fifo_arc_and_a_policy_without_slots_keep_their_index() {
    use super::{arc::ArcCache, belady::Belady, s3fifo::S3Fifo};
    let mut s3 = S3Fifo::new(4);
    let mut arc = ArcCache::new(4);
    let mut belady = Belady::new(4);
    assert!(!belady.slotted());
    for k in 0..6 {
        s3.get(&Request::get(k, 1));
        arc.get(&Request::get(k, 1));
    }
    assert!(!s3.drop_index(), "S3-FIFO keeps ghosts, found by id");
    assert!(!arc.drop_index(), "ARC keeps ghosts, found by id");
    assert!(!belady.drop_index(), "Belady is not slotted");
    // Still indexed: lookups by id work, and delete_at is delete.
    let slot = s3.slot_of(5).expect("5 was just admitted");
    assert!(s3.delete_at(slot, 5));
    assert!(!s3.contains(5));
    s3.validate().unwrap();
    arc.validate().unwrap();
}

#[test]
fn lru_without_its_index_answers_by_slot_and_rebuilds() {
    use super::lru::Lru;
    let mut lru = Lru::new(3);
    let mut told = Tells::default();
    for k in [10, 20, 30] {
        lru.serve_in(&Request::get(k, 1), false, Held::Absent, &mut told);
    }
    let slots: Vec<u32> = [10, 20, 30]
        .iter()
        .map(|&k| lru.slot_of(k).unwrap())
        .collect();
    assert_eq!(
        told.0,
        vec![
            Told::Admitted(10, slots[0]),
            Told::Admitted(20, slots[1]),
            Told::Admitted(30, slots[2])
        ]
    );
    let indexed_bytes = lru.heap_bytes();
    assert!(lru.drop_index());
    assert!(
        lru.heap_bytes() < indexed_bytes,
        "the index's memory is freed"
    );
    assert_eq!((lru.len(), lru.used()), (3, 3));
    lru.validate().unwrap();
    for (&k, &slot) in [10, 20, 30].iter().zip(&slots) {
        assert_eq!(lru.id_at(slot), Some(k));
    }
    assert_eq!(lru.id_at(99), None, "out of range");
    // By id still answers (a scan).
    assert_eq!(lru.slot_of(20), Some(slots[1]));
    assert!(!lru.contains(40));
    // A hit at 10's slot, then 40 evicts the least recent: 20.
    assert!(lru.hit_at(slots[0]));
    let mut told = Tells::default();
    let outcome = lru.serve_in(&Request::get(40, 1), false, Held::Absent, &mut told);
    assert_eq!(outcome, super::Outcome::new(false, 1));
    assert_eq!(
        told.0,
        vec![Told::Dropped(20, 1, slots[1]), Told::Admitted(40, slots[1])]
    );
    assert_eq!(lru.id_at(slots[1]), Some(40), "the freed slot is reused");
    // A delete at a slot checks the id.
    assert!(!lru.delete_at(slots[2], 10));
    assert!(lru.delete_at(slots[2], 30));
    assert_eq!(lru.id_at(slots[2]), None, "a freed slot holds nothing");
    assert_eq!(lru.len(), 2);
    lru.validate().unwrap();
    // Rebuilt: by id again, at the slots the objects hold.
    lru.restore_index();
    lru.validate().unwrap();
    assert_eq!(lru.slot_of(10), Some(slots[0]));
    assert_eq!(lru.slot_of(40), Some(slots[1]));
    assert_eq!(lru.slot_of(30), None);
    assert!(lru.heap_bytes() > lru.heap_bytes().saturating_sub(1) && lru.heap_bytes() > 0);
    assert!(lru.delete(10));
    assert_eq!(lru.len(), 1);
    lru.validate().unwrap();
}
