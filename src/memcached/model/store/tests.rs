//! Hand-worked cases of the store's commands, counters, expiry, flush and allocation.

use super::*;

const NOW: u64 = 1_700_000_000;

fn store() -> (Store, ServerClock) {
    let clock = ServerClock::manual(NOW);
    (
        Store::new(Settings::default(), clock.clone()).unwrap(),
        clock,
    )
}

fn compat_store() -> (Store, ServerClock) {
    let clock = ServerClock::manual(NOW);
    let settings = Settings {
        lru_segmented: false,
        ..Settings::default()
    };
    (Store::new(settings, clock.clone()).unwrap(), clock)
}

fn value(store: &mut Store, key: &[u8]) -> Option<Vec<u8>> {
    store.get(key).unwrap().map(|item| item.value.to_vec())
}

fn stored(outcome: StoreOutcome) -> u64 {
    match outcome {
        StoreOutcome::Stored { cas } => cas,
        other => panic!("expected STORED, got {other:?}"),
    }
}

#[test]
fn set_get_round_trips_binary_values_and_flags() {
    let (mut s, _) = store();
    let data = b"a\r\nb\0c\xff";
    stored(s.set(b"bin", data, 0xDEAD_BEEF, 0).unwrap());
    let item = s.get(b"bin").unwrap().unwrap();
    assert_eq!(
        (item.value, item.flags, item.expires_at),
        (&data[..], 0xDEAD_BEEF, None)
    );
    assert_eq!(value(&mut s, b"missing"), None);
    let c = s.counters();
    assert_eq!(
        (c.cmd_get, c.get_hits, c.get_misses, c.cmd_set),
        (2, 1, 1, 1)
    );
    s.validate().unwrap();
}

#[test]
fn keys_must_be_1_to_250_bytes() {
    let (mut s, _) = store();
    assert_eq!(s.set(b"", b"v", 0, 0), Err(KeyError::Empty));
    assert_eq!(s.get(&[b'k'; 251]).err(), Some(KeyError::TooLong(251)));
    stored(s.set(&[b'k'; 250], b"v", 0, 0).unwrap());
}

#[test]
fn item_sizes_and_stats_match_a_real_memcached() {
    // Observed on memcached 1.6.18 -m 16: `set foo 0 0 5` + `set foo2 1 0 5` (value
    // `hello`) gave bytes 139, items:1:mem_requested 139, 1:used_chunks 2,
    // total_malloced 1048576. By hand: 48+4+7+8 = 67 and 48+5+7+4+8 = 72.
    let (mut s, _) = store();
    stored(s.set(b"foo", b"hello", 0, 0).unwrap());
    stored(s.set(b"foo2", b"hello", 1, 0).unwrap());
    let stats: Vec<(String, String)> = s.stats();
    let get = |rows: &[(String, String)], k: &str| {
        rows.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get(&stats, "bytes"), "139");
    assert_eq!(get(&stats, "curr_items"), "2");
    let slabs = s.stats_slabs();
    assert_eq!(get(&slabs, "1:chunk_size"), "96");
    assert_eq!(get(&slabs, "1:used_chunks"), "2");
    assert_eq!(get(&slabs, "1:free_chunks"), "10920");
    assert_eq!(get(&slabs, "1:cmd_set"), "2");
    assert_eq!(get(&slabs, "active_slabs"), "1");
    assert_eq!(get(&slabs, "total_malloced"), "1048576");
    let items = s.stats_items();
    assert_eq!(get(&items, "items:1:number"), "2");
    assert_eq!(get(&items, "items:1:mem_requested"), "139");
    // Waste: two 96-byte chunks hold 139 requested bytes.
    assert_eq!(s.waste(), 2 * 96 - 139);
    let settings = s.stats_settings();
    assert_eq!(get(&settings, "growth_factor"), "1.25");
    assert_eq!(get(&settings, "slab_chunk_max"), "524288");
    // memcached's field order for the general stats.
    let names: Vec<&str> = stats.iter().map(|(n, _)| n.as_str()).collect();
    let pos = |n: &str| names.iter().position(|&x| x == n).unwrap();
    assert!(pos("cmd_get") < pos("get_hits") && pos("get_hits") < pos("bytes"));
    assert!(pos("curr_items") < pos("total_items") && pos("total_items") < pos("evictions"));
}

#[test]
fn add_and_replace_follow_presence() {
    let (mut s, _) = store();
    assert_eq!(
        s.replace(b"k", b"1", 0, 0).unwrap(),
        StoreOutcome::NotStored
    );
    stored(s.add(b"k", b"1", 0, 0).unwrap());
    assert_eq!(s.add(b"k", b"2", 0, 0).unwrap(), StoreOutcome::NotStored);
    assert_eq!(value(&mut s, b"k").unwrap(), b"1");
    stored(s.replace(b"k", b"3", 7, 0).unwrap());
    assert_eq!(s.get(b"k").unwrap().unwrap().flags, 7);
    // Every storage command that allocated counts in cmd_set, stored or not.
    assert_eq!(s.counters().cmd_set, 4);
    s.validate().unwrap();
}

#[test]
fn append_and_prepend_keep_flags_and_exptime() {
    let (mut s, clock) = store();
    assert_eq!(s.append(b"a", b"x").unwrap(), StoreOutcome::NotStored);
    stored(s.set(b"a", b"hi", 5, 100).unwrap());
    stored(s.append(b"a", b"xyz").unwrap());
    stored(s.prepend(b"a", b"<").unwrap());
    let item = s.get(b"a").unwrap().unwrap();
    assert_eq!((item.value, item.flags), (&b"<hixyz"[..], 5));
    assert_eq!(item.expires_at, Some(NOW + 100));
    clock.advance(100);
    assert_eq!(value(&mut s, b"a"), None);
    s.validate().unwrap();
}

#[test]
fn cas_stores_on_match_and_reports_exists_and_not_found() {
    let (mut s, _) = store();
    let first = stored(s.set(b"c", b"v1", 0, 0).unwrap());
    let second = stored(s.set(b"other", b"v", 0, 0).unwrap());
    assert!(second > first, "every store takes a new CAS id");
    assert_eq!(s.get(b"c").unwrap().unwrap().cas, first);
    assert_eq!(
        s.cas(b"c", b"v2", 0, 0, first + 100).unwrap(),
        StoreOutcome::Exists
    );
    let third = stored(s.cas(b"c", b"v2", 0, 0, first).unwrap());
    assert!(third > second);
    // The old id is stale now.
    assert_eq!(
        s.cas(b"c", b"v3", 0, 0, first).unwrap(),
        StoreOutcome::Exists
    );
    assert_eq!(
        s.cas(b"nope", b"v", 0, 0, 1).unwrap(),
        StoreOutcome::NotFound
    );
    // cas 0 never matches.
    assert_eq!(s.cas(b"c", b"v", 0, 0, 0).unwrap(), StoreOutcome::Exists);
    assert_eq!(value(&mut s, b"c").unwrap(), b"v2");
    let c = s.counters();
    assert_eq!((c.cas_hits, c.cas_badval, c.cas_misses), (1, 3, 1));
}

#[test]
fn a_held_item_is_replaced_not_rewritten_in_place() {
    // Checked against memcached 1.6.18: `mg K` then `decr K 1` in one pipeline window
    // leaves `999999` (6 bytes, unfetched); after the window, `999999 ` in place.
    let (mut s, _) = store();
    stored(s.set(b"K", b"1000000", 0, 0).unwrap());
    assert!(s.get(b"K").unwrap().is_some());
    let hold = MetaGetRequest {
        hold: true,
        ..MetaGetRequest::default()
    };
    assert!(s.meta_get(b"K", hold).unwrap().is_some());
    assert!(matches!(
        s.decr(b"K", 1).unwrap(),
        DeltaOutcome::Value { value: 999_999, .. }
    ));
    let (_, state) = s
        .meta_get(b"K", MetaGetRequest::default())
        .unwrap()
        .unwrap();
    assert!(!state.fetched_before, "the new item was never fetched");
    assert_eq!(value(&mut s, b"K").unwrap(), b"999999");
    s.release_held();
    stored(s.set(b"K", b"1000000", 0, 0).unwrap());
    s.decr(b"K", 1).unwrap();
    assert_eq!(value(&mut s, b"K").unwrap(), b"999999 ");
    // The NUL ends a number as it ends C's string: "12\0x" counts as 12.
    stored(s.set(b"z", b"12\0x", 0, 0).unwrap());
    assert!(matches!(
        s.incr(b"z", 1).unwrap(),
        DeltaOutcome::Value { value: 13, .. }
    ));
}

#[test]
fn incr_wraps_decr_floors_and_results_are_padded_in_place() {
    let (mut s, _) = store();
    assert_eq!(s.incr(b"n", 1).unwrap(), DeltaOutcome::NotFound);
    stored(s.set(b"n", b"10", 0, 0).unwrap());
    let bytes = s.bytes();
    assert!(matches!(
        s.decr(b"n", 1).unwrap(),
        DeltaOutcome::Value { value: 9, .. }
    ));
    // memcached writes the shorter number in place, padded with spaces.
    assert_eq!(value(&mut s, b"n").unwrap(), b"9 ");
    assert_eq!(s.bytes(), bytes);
    // "9 " is still numeric; 9 + (2^64 - 1) wraps to 8.
    assert!(matches!(
        s.incr(b"n", u64::MAX).unwrap(),
        DeltaOutcome::Value { value: 8, .. }
    ));
    assert!(matches!(
        s.decr(b"n", 100).unwrap(),
        DeltaOutcome::Value { value: 0, .. }
    ));
    // Growing past the old length makes a new, larger item.
    stored(s.set(b"g", b"99", 0, 0).unwrap());
    let bytes = s.bytes();
    assert!(matches!(
        s.incr(b"g", 1).unwrap(),
        DeltaOutcome::Value { value: 100, .. }
    ));
    assert_eq!(value(&mut s, b"g").unwrap(), b"100");
    assert_eq!(s.bytes(), bytes + 1);
    // Non-numeric values, empty values, leading whitespace.
    stored(s.set(b"t", b"abc", 0, 0).unwrap());
    assert_eq!(s.incr(b"t", 1).unwrap(), DeltaOutcome::NonNumeric);
    stored(s.set(b"e", b"", 0, 0).unwrap());
    assert_eq!(s.incr(b"e", 1).unwrap(), DeltaOutcome::NonNumeric);
    stored(s.set(b"w", b" 7 ", 0, 0).unwrap());
    assert!(matches!(
        s.incr(b"w", 1).unwrap(),
        DeltaOutcome::Value { value: 8, .. }
    ));
    assert_eq!(value(&mut s, b"w").unwrap(), b"8  ");
    stored(s.set(b"big", b"18446744073709551616", 0, 0).unwrap());
    assert_eq!(s.incr(b"big", 1).unwrap(), DeltaOutcome::NonNumeric);
    let c = s.counters();
    assert_eq!((c.incr_hits, c.incr_misses, c.decr_hits), (3, 1, 2));
    s.validate().unwrap();
}

#[test]
fn exptime_follows_the_30_day_rule() {
    // Compat mode: in segmented mode the maintainer (run at each allocation) would
    // reclaim the dead items from HOT's tail before `len` is read.
    let (mut s, clock) = compat_store();
    stored(s.set(b"rel", b"v", 0, 10).unwrap());
    stored(s.set(b"month", b"v", 0, REALTIME_MAXDELTA).unwrap());
    // One more than 30 days is a unix time: 2592001 is January 1970, long past.
    stored(s.set(b"abs_past", b"v", 0, REALTIME_MAXDELTA + 1).unwrap());
    stored(s.set(b"abs", b"v", 0, (NOW + 20) as i64).unwrap());
    stored(s.set(b"neg", b"v", 0, -1).unwrap());
    assert_eq!(
        s.len(),
        5,
        "negative and past exptimes are stored, but invisible"
    );
    assert_eq!(value(&mut s, b"abs_past"), None);
    assert_eq!(value(&mut s, b"neg"), None);
    assert_eq!(s.counters().get_expired, 2);
    clock.advance(9);
    assert!(value(&mut s, b"rel").is_some());
    clock.advance(1); // NOW + 10: expired at exactly its exptime
    assert_eq!(value(&mut s, b"rel"), None);
    assert!(value(&mut s, b"abs").is_some());
    clock.advance(10);
    assert_eq!(value(&mut s, b"abs"), None);
    assert_eq!(
        s.get(b"month").unwrap().unwrap().expires_at,
        Some(NOW + REALTIME_MAXDELTA as u64)
    );
    s.validate().unwrap();
}

#[test]
fn touch_and_gat_set_new_exptimes() {
    let (mut s, clock) = store();
    assert_eq!(s.touch(b"t", 10).unwrap(), TouchOutcome::NotFound);
    stored(s.set(b"t", b"v", 0, 5).unwrap());
    assert_eq!(s.touch(b"t", 100).unwrap(), TouchOutcome::Touched);
    clock.advance(50);
    let item = s.gat(b"t", 0).unwrap().unwrap();
    assert_eq!((item.value, item.expires_at), (&b"v"[..], None));
    clock.advance(1_000_000);
    assert!(value(&mut s, b"t").is_some());
    assert!(s.gat(b"none", 1).unwrap().is_none());
    let c = s.counters();
    assert_eq!((c.cmd_touch, c.touch_hits, c.touch_misses), (4, 2, 2));
}

#[test]
fn delete_removes_and_counts() {
    let (mut s, _) = store();
    stored(s.set(b"d", b"v", 0, 0).unwrap());
    assert_eq!(s.delete(b"d").unwrap(), DeleteOutcome::Deleted);
    assert_eq!(s.delete(b"d").unwrap(), DeleteOutcome::NotFound);
    assert_eq!(
        (s.counters().delete_hits, s.counters().delete_misses),
        (1, 1)
    );
    assert_eq!((s.len(), s.bytes()), (0, 0));
    s.validate().unwrap();
}

#[test]
fn flush_all_now_hides_everything_stored_so_far() {
    let (mut s, _) = store();
    stored(s.set(b"a", b"1", 0, 0).unwrap());
    s.flush_all(0);
    // Same second: the CAS id tells items before the flush from items after it.
    stored(s.set(b"b", b"2", 0, 0).unwrap());
    assert_eq!(value(&mut s, b"a"), None);
    assert_eq!(value(&mut s, b"b").unwrap(), b"2");
    // Storing `b` already reclaimed the flushed `a` from the tail of class 1.
    let c = s.counters();
    assert_eq!((c.reclaimed, c.get_flushed), (1, 0));
    s.validate().unwrap();
}

#[test]
fn flush_all_with_delay_takes_effect_later() {
    let (mut s, clock) = store();
    stored(s.set(b"early", b"1", 0, 0).unwrap());
    // flush_all 10 at NOW: memcached sets oldest_live = NOW + 10 - 1, so items stored
    // or bumped at or before NOW + 9 vanish from NOW + 9 on.
    s.flush_all(10);
    clock.advance(5);
    stored(s.set(b"mid", b"2", 0, 0).unwrap());
    clock.advance(3); // NOW + 8
    assert!(value(&mut s, b"early").is_some());
    clock.advance(1); // NOW + 9
    assert_eq!(value(&mut s, b"early"), None);
    assert_eq!(value(&mut s, b"mid"), None);
    clock.advance(1); // NOW + 10
    stored(s.set(b"late", b"3", 0, 0).unwrap());
    assert!(value(&mut s, b"late").is_some());
}

#[test]
fn too_large_items_are_refused_and_a_failed_set_drops_the_old_value() {
    let (mut s, _) = store();
    stored(s.set(b"k", b"small", 0, 0).unwrap());
    let huge = vec![0u8; 1 << 20];
    assert_eq!(s.set(b"k", &huge, 0, 0).unwrap(), StoreOutcome::TooLarge);
    assert_eq!(value(&mut s, b"k"), None);
    assert_eq!(s.counters().store_too_large, 1);
    // Largest that fits -I 1m: 1048576 - 48 - 2 - 2 - 8 bytes with a 1-byte key.
    let fits = vec![7u8; (1 << 20) - 60];
    stored(s.set(b"k", &fits, 0, 0).unwrap());
    assert_eq!(value(&mut s, b"k").unwrap().len(), fits.len());
    s.validate().unwrap();
}

#[test]
fn large_items_take_chunks_from_several_classes() {
    let (mut s, _) = store();
    stored(s.set(b"big", &vec![1u8; 600_000], 0, 0).unwrap());
    let used: Vec<(u8, u64)> = s
        .class_usage()
        .iter()
        .map(|u| (u.id, u.used_chunks))
        .collect();
    // Header in class 2, one 512 KiB chunk (class 39), the rest in class 31
    // (see slab.rs for the arithmetic); the item is on class 39's LRU.
    assert_eq!(used, vec![(2, 1), (31, 1), (39, 1)]);
    assert_eq!(s.class_usage()[2].items, 1);
    assert_eq!(s.bytes(), 48 + 4 + 600_002 + 8);
    assert_eq!(s.delete(b"big").unwrap(), DeleteOutcome::Deleted);
    assert!(s.class_usage().iter().all(|u| u.used_chunks == 0));
    s.validate().unwrap();
}

/// `k00000`..: 48 + 7 + (10 + 2) + 8 = 75 bytes, class 1 (96-byte chunks, 10922 per page).
fn small_key(i: usize) -> Vec<u8> {
    format!("k{i:05}").into_bytes()
}

fn one_page_store(evictions: bool) -> (Store, ServerClock) {
    one_page_store_with(evictions, true)
}

fn one_page_store_with(evictions: bool, lru_segmented: bool) -> (Store, ServerClock) {
    let clock = ServerClock::manual(NOW);
    let settings = Settings {
        max_bytes: 1 << 20,
        evictions,
        lru_segmented,
        ..Settings::default()
    };
    (Store::new(settings, clock.clone()).unwrap(), clock)
}

#[test]
fn compat_mode_evicts_the_least_recently_bumped_item_of_the_class() {
    // 1 MiB limit: class 1 gets one page of 10922 chunks and no second page.
    let (mut s, clock) = one_page_store_with(true, false);
    stored(s.set(b"other-class", &[0u8; 500], 0, 0).unwrap()); // first page of class 9
    for i in 0..10_922 {
        stored(s.set(&small_key(i), b"0123456789", 0, 0).unwrap());
    }
    assert_eq!(s.counters().evictions, 0);
    // Read k00000 61 s later (a hit moves an item only when its last bump is over 60 s
    // old): k00001 is now the least recently bumped.
    clock.advance(61);
    assert!(value(&mut s, &small_key(0)).is_some());
    stored(s.set(&small_key(10_922), b"0123456789", 0, 0).unwrap());
    assert_eq!(s.counters().evictions, 1);
    assert!(!s.contains(&small_key(1)));
    assert!(s.contains(&small_key(0)));
    assert!(
        s.contains(b"other-class"),
        "another class's LRU is never touched"
    );
    stored(s.set(&small_key(10_923), b"0123456789", 0, 0).unwrap());
    assert!(!s.contains(&small_key(2)));
    assert_eq!(s.counters().evicted_unfetched, 2);
    assert_eq!(
        s.malloced(),
        2 << 20,
        "two first pages, both past the 1 MiB limit"
    );
    s.validate().unwrap();
}

#[test]
fn allocation_reclaims_expired_tail_items_before_evicting() {
    let (mut s, clock) = one_page_store(true);
    for i in 0..10_922 {
        stored(s.set(&small_key(i), b"0123456789", 0, 60).unwrap());
    }
    // A tail pull reclaims only items that expired before this second (`lru_pull_tail`'s
    // `exptime < current_time`): at 60 s they would be evicted, at 61 s reclaimed.
    clock.advance(61);
    stored(s.set(&small_key(20_000), b"0123456789", 0, 0).unwrap());
    let c = s.counters();
    assert_eq!(c.evictions, 0);
    assert!(c.reclaimed >= 1);
    assert_eq!(c.reclaimed, c.expired_unfetched);
    s.validate().unwrap();
}

#[test]
fn without_evictions_a_full_class_is_out_of_memory() {
    let (mut s, _) = one_page_store(false);
    for i in 0..10_922 {
        stored(s.set(&small_key(i), b"0123456789", 0, 0).unwrap());
    }
    assert_eq!(
        s.set(&small_key(99_999), b"0123456789", 0, 0).unwrap(),
        StoreOutcome::OutOfMemory
    );
    // A failed set removes the key's old value (here it frees a chunk).
    assert_eq!(
        s.set(&small_key(5), b"0123456789", 0, 0).unwrap(),
        StoreOutcome::OutOfMemory
    );
    assert!(!s.contains(&small_key(5)));
    assert_eq!(s.counters().store_no_memory, 2);
    assert_eq!(s.class_counters()[1].outofmemory, 2);
    s.validate().unwrap();
}

#[test]
fn faked_malloced_memory_counts_against_the_limit_in_64_bits() {
    // memcached's 64bit.t: -m 4098 -M with T_MEMD_INITIAL_MALLOC = 2^32 + 32, then five
    // 400 KiB values. The limit is 2^32 + 2 MiB, so one page fits (the class's first page
    // is granted anyway) and a second does not: two values, then out of memory.
    let clock = ServerClock::manual(NOW);
    let settings = Settings {
        max_bytes: 4098 << 20,
        evictions: false,
        ..Settings::default()
    };
    let mut s = Store::new(settings, clock).unwrap();
    let faked = (1u64 << 32) + 32;
    assert!(s.fake_malloced(faked));
    assert_eq!(s.malloced(), faked);
    s.validate().unwrap();
    let value = vec![b'a'; 400 * 1024];
    let outcomes: Vec<bool> = (0..5)
        .map(|i| {
            matches!(
                s.set(format!("big{i}").as_bytes(), &value, 0, 0).unwrap(),
                StoreOutcome::Stored { .. }
            )
        })
        .collect();
    assert_eq!(outcomes, [true, true, false, false, false]);
    assert_eq!(s.malloced(), faked + (1 << 20));
    s.validate().unwrap();
    // Once a page exists the hook no longer applies.
    assert!(!s.fake_malloced(0));
    assert_eq!(s.malloced(), faked + (1 << 20));
}
