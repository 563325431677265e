//! Hand-worked cases for [`Cache`]: TTL rules in logical "requests" units (cachetools'),
//! ids that survive hash collisions, the listener, weights and fallible computations.

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use super::*;

/// Every removal the listener saw, in order.
type Seen<K> = Arc<Mutex<Vec<(K, RemovalCause)>>>;

fn listening<K: Send + 'static, V>(
    seen: &Seen<K>,
) -> impl FnMut(K, V, RemovalCause) + Send + use<K, V> {
    let seen = Arc::clone(seen);
    move |key, _value, cause| seen.lock().unwrap().push((key, cause))
}

#[test]
fn ttl_counts_from_the_insert_and_reads_do_not_renew_it() {
    // TTL 3 requests. a stored at 0 expires at 3: reads at 1 and 2 hit, the read at 3
    // misses (expired when expires <= now). Stored again at 3 (expires 6), replaced at 5
    // (an insert renews: expires 8): hits at 7, misses at 8.
    let clock = LogicalClock::new();
    let seen: Seen<&str> = Default::default();
    let mut cache = Cache::builder()
        .policy("lru")
        .capacity(10)
        .ttl(3)
        .clock(clock.clone())
        .eviction_listener(listening(&seen))
        .build()
        .unwrap();
    cache.insert("a", 1);
    let mut reads = Vec::new();
    for t in 1..=3 {
        clock.advance(1);
        assert_eq!(clock.now(), t);
        reads.push(cache.get(&"a").copied());
    }
    assert_eq!(reads, [Some(1), Some(1), None]);
    assert_eq!(*seen.lock().unwrap(), [("a", RemovalCause::Expired)]);
    cache.insert("a", 2); // at 3, expires 6
    clock.advance(2);
    assert_eq!(cache.insert("a", 3), Some(2)); // at 5, expires 8
    clock.advance(2);
    assert_eq!(cache.get(&"a"), Some(&3)); // at 7
    clock.tick();
    assert!(!cache.contains(&"a")); // at 8
    assert_eq!(cache.get(&"a"), None);
    let info = cache.cache_info();
    assert_eq!((info.hits, info.misses), (3, 2));
}

#[test]
fn each_entry_can_carry_its_own_ttl() {
    // cachetools' TLRUCache: b lives 1 tick, c 5, d has none (no default TTL).
    let clock = LogicalClock::new();
    let mut cache = Cache::builder()
        .capacity(10)
        .clock(clock.clone())
        .build()
        .unwrap();
    cache.insert_with_ttl("b", 1, 1);
    cache.insert_with_ttl("c", 2, 5);
    cache.insert("d", 3);
    clock.tick();
    assert_eq!(
        ["b", "c", "d"].map(|k| cache.contains(&k)),
        [false, true, true]
    );
    clock.advance(4);
    assert_eq!(
        ["b", "c", "d"].map(|k| cache.contains(&k)),
        [false, false, true]
    );
    assert_eq!(cache.len(), 3, "expired entries stay until dropped");
    assert_eq!(cache.expire(), 2);
    assert_eq!(cache.len(), 1);
}

#[test]
fn expired_entries_make_room_before_live_ones_are_evicted() {
    // LRU of 2. x (TTL 2) and y (no TTL) at 0; x read at 1, so y is least recent. At 2,
    // z needs room: x has expired and goes, y stays.
    let clock = LogicalClock::new();
    let seen: Seen<char> = Default::default();
    let mut cache = Cache::builder()
        .policy("lru")
        .capacity(2)
        .clock(clock.clone())
        .eviction_listener(listening(&seen))
        .build()
        .unwrap();
    cache.insert_with_ttl('x', 0, 2);
    cache.insert('y', 0);
    clock.tick();
    assert!(cache.get(&'x').is_some());
    clock.tick();
    cache.insert('z', 0);
    assert_eq!(*seen.lock().unwrap(), [('x', RemovalCause::Expired)]);
    assert!(cache.contains(&'y') && cache.contains(&'z'));
}

#[test]
fn the_listener_gets_evicted_values_and_lru_order_holds() {
    // LRU of 2: 1, 2, read 1, then 3 evicts 2.
    let seen: Arc<Mutex<Vec<(u32, String, RemovalCause)>>> = Default::default();
    let log = Arc::clone(&seen);
    let mut cache = Cache::builder()
        .policy("lru")
        .capacity(2)
        .eviction_listener(move |k, v, cause| log.lock().unwrap().push((k, v, cause)))
        .build()
        .unwrap();
    cache.insert(1, "one".to_string());
    cache.insert(2, "two".to_string());
    assert_eq!(cache.get(&1).map(String::as_str), Some("one"));
    cache.insert(3, "three".to_string());
    assert_eq!(
        *seen.lock().unwrap(),
        [(2, "two".to_string(), RemovalCause::Evicted)]
    );
    assert_eq!(cache.remove(&1).as_deref(), Some("one"));
    assert_eq!(cache.len(), 1);
    assert_eq!(seen.lock().unwrap().len(), 1, "remove hands the value back");
}

#[test]
fn a_weigher_sets_sizes_and_oversized_values_are_rejected() {
    // Capacity 10 units, a value weighs its length. 4 + 6 fill it; 2 more evicts the
    // least recent (the 4); 11 can never fit and is rejected.
    let seen: Seen<&str> = Default::default();
    let mut cache = Cache::builder()
        .policy("lru")
        .capacity(10)
        .weigher(|_k: &&str, v: &String| v.len() as u32)
        .eviction_listener(listening(&seen))
        .build()
        .unwrap();
    cache.insert("a", "aaaa".to_string());
    cache.insert("b", "bbbbbb".to_string());
    assert_eq!(cache.cache_info().currsize, 10);
    cache.insert("c", "cc".to_string());
    cache.insert("big", "x".repeat(11));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("a", RemovalCause::Evicted),
            ("big", RemovalCause::Rejected)
        ]
    );
    assert!(!cache.contains(&"big"));
    assert_eq!(cache.cache_info().currsize, 8);
    // A value too large is still lent out by get_or_insert_with, but not kept.
    assert_eq!(
        cache.get_or_insert_with("huge", || "y".repeat(20)).len(),
        20
    );
    assert!(!cache.contains(&"huge"));
}

/// A hasher under which every key has the same hash.
#[derive(Clone, Copy, Default)]
struct Colliding;

impl BuildHasher for Colliding {
    type Hasher = CollidingHasher;
    fn build_hasher(&self) -> CollidingHasher {
        CollidingHasher
    }
}

struct CollidingHasher;

impl Hasher for CollidingHasher {
    fn finish(&self) -> u64 {
        42
    }
    fn write(&mut self, _bytes: &[u8]) {}
}

#[test]
fn keys_with_one_hash_never_return_each_others_values() {
    let mut cache = Cache::builder()
        .policy("s3fifo")
        .capacity(1000)
        .hasher(Colliding)
        .build()
        .unwrap();
    for i in 0..50 {
        cache.insert(format!("key{i}"), i);
    }
    for i in 0..50 {
        assert_eq!(cache.get(&format!("key{i}")), Some(&i), "key{i}");
    }
    for i in (0..50).step_by(2) {
        assert_eq!(cache.remove(&format!("key{i}")), Some(i));
    }
    for i in 50..60 {
        cache.insert(format!("key{i}"), i);
    }
    for i in 0..60 {
        let expected = (i % 2 == 1 || i >= 50).then_some(i);
        assert_eq!(cache.get(&format!("key{i}")).copied(), expected, "key{i}");
    }
    assert!(cache.get("absent").is_none());
}

#[test]
fn try_get_with_caches_successes_only() {
    let mut cache = Cache::builder().capacity(10).build().unwrap();
    let failed: Result<&u64, String> = cache.try_get_with("k", || Err("no".to_string()));
    assert_eq!(failed, Err("no".to_string()));
    assert!(!cache.contains("k"));
    assert_eq!(cache.try_get_with("k", || Ok::<u64, String>(7)), Ok(&7));
    assert_eq!(
        cache.try_get_with("k", || Err::<u64, String>("not called".into())),
        Ok(&7)
    );
    let info = cache.cache_info();
    assert_eq!((info.hits, info.misses), (1, 2));
}

#[test]
fn get_or_insert_with_computes_each_key_once_while_it_is_held() {
    // The seed's compute_length_or_read_in_cache: the length of a text, memoised.
    let mut calls = 0;
    let mut cache = Cache::builder()
        .policy("sieve")
        .capacity(2)
        .build()
        .unwrap();
    let mut length = |cache: &mut Cache<String, usize>, text: &str| {
        *cache.get_or_insert_with(text.to_string(), || {
            calls += 1;
            text.len()
        })
    };
    assert_eq!(length(&mut cache, "hello"), 5);
    assert_eq!(length(&mut cache, "hello"), 5);
    assert_eq!(length(&mut cache, "hi"), 2);
    assert_eq!(calls, 2);
    let info = cache.cache_info();
    assert_eq!(
        (info.hits, info.misses, info.maxsize, info.currsize),
        (1, 2, 2, 2)
    );
}

#[test]
fn policies_a_cache_cannot_run_are_refused_with_a_reason() {
    for (spec, expected) in [
        ("belady", "online eviction policy"),
        ("ttl", "online eviction policy"),
        ("nope", "known policies"),
    ] {
        let err = Cache::<u64, u64>::builder()
            .policy(spec)
            .build()
            .err()
            .unwrap();
        assert!(err.to_string().contains(expected), "{spec}: {err}");
    }
    let err = Cache::<u64, u64>::builder()
        .capacity(0)
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, BuildError::ZeroCapacity));
}

#[test]
fn replacing_a_value_with_one_too_large_rejects_it() {
    let seen: Seen<&str> = Default::default();
    let mut cache = Cache::builder()
        .policy("lru")
        .capacity(5)
        .weigher(|_k: &&str, v: &String| v.len() as u32)
        .eviction_listener(listening(&seen))
        .build()
        .unwrap();
    cache.insert("a", "aa".to_string());
    assert_eq!(cache.insert("a", "a".repeat(6)).as_deref(), Some("aa"));
    assert_eq!(*seen.lock().unwrap(), [("a", RemovalCause::Rejected)]);
    assert!(!cache.contains("a"));
    assert_eq!(cache.cache_info().currsize, 0);
}

#[test]
fn keys_with_one_hash_are_evicted_and_named_by_their_own_ids() {
    // LRU of 3 under one hash for every key: ids 42, 43, 44… The listener must hear the
    // least recently used key each time, and what is held must be the LRU model's.
    let seen: Seen<String> = Default::default();
    let mut cache = Cache::builder()
        .policy("lru")
        .capacity(3)
        .hasher(Colliding)
        .eviction_listener(listening(&seen))
        .build()
        .unwrap();
    let mut model: Vec<String> = Vec::new(); // most recent last
    for round in 0..4 {
        for i in [0, 1, 2, 0, 3, 4, 1, 5] {
            let key = format!("k{}", (i + round) % 7);
            let hit = cache.get(&key).is_some();
            assert_eq!(hit, model.contains(&key), "round {round}: {key}");
            if hit {
                model.retain(|k| k != &key);
            } else {
                cache.insert(key.clone(), i);
                if model.len() == 3 {
                    let victim = model.remove(0);
                    let last = seen.lock().unwrap().pop();
                    assert_eq!(last, Some((victim, RemovalCause::Evicted)));
                }
            }
            model.push(key);
            assert_eq!(cache.len(), model.len());
            for k in &model {
                assert!(cache.contains(k), "round {round}: {k} held");
            }
        }
        // A removal frees its id for the next key.
        let key = model.remove(1);
        assert!(cache.remove(&key).is_some());
    }
}

#[test]
fn the_policy_name_is_the_same_before_and_after_the_first_ttl() {
    let clock = LogicalClock::new();
    let mut cache = Cache::builder()
        .policy("s3fifo")
        .capacity(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    let before = cache.policy_name();
    assert!(before.starts_with("ttl:ttl=0,base=s3fifo"), "{before}");
    cache.insert("plain", 1);
    cache.insert_with_ttl("brief", 2, 2);
    assert_eq!(cache.policy_name(), before);
    clock.advance(2);
    assert_eq!(cache.get(&"brief"), None, "expired at its TTL");
    assert_eq!(cache.get(&"plain"), Some(&1), "no TTL: kept");
}
