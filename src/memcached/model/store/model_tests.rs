//! The store run in step with a slow model: one `Vec` of items per slab class, most
//! recent first, with the same page and chunk accounting written out plainly.

use proptest::prelude::*;

use super::*;

/// Tiny pages so that a few dozen items fill classes: 4 KiB pages, 2 KiB chunks,
/// a 12 KiB limit.
/// Compat mode (`-o no_lru_maintainer`), whose LRU the model writes out; segmented mode
/// has hand-worked cases in `lru.rs` and runs here only against the invariants.
fn settings() -> Settings {
    Settings {
        max_bytes: 3 * 4096,
        slab_page_size: 4096,
        slab_chunk_max: 2048,
        item_size_max: 2048,
        lru_segmented: false,
        ..Settings::default()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Set(u8, u16),
    Add(u8, u16),
    Append(u8, u16),
    Get(u8),
    Delete(u8),
    /// Seconds pass.
    Tick(u8),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let key = 0u8..30;
    let len = 0u16..900;
    let op = prop_oneof![
        4 => (key.clone(), len.clone()).prop_map(|(k, l)| Op::Set(k, l)),
        1 => (key.clone(), len.clone()).prop_map(|(k, l)| Op::Add(k, l)),
        1 => (key.clone(), 0u16..400).prop_map(|(k, l)| Op::Append(k, l)),
        4 => key.clone().prop_map(Op::Get),
        1 => key.prop_map(Op::Delete),
        1 => (0u8..90).prop_map(Op::Tick),
    ];
    prop::collection::vec(op, 1..300)
}

/// Key, value, last bump time.
type ModelItem = (Vec<u8>, Vec<u8>, u64);

struct Model {
    classes: SlabClasses,
    page: u64,
    limit: u64,
    malloced: u64,
    pages: Vec<u64>,
    used: Vec<u64>,
    /// Per class, most recently bumped first.
    lru: Vec<Vec<ModelItem>>,
    evictions: u64,
    now: u64,
}

#[derive(Debug, PartialEq)]
enum Res {
    Stored,
    NotStored,
    OutOfMemory,
    Value(Option<Vec<u8>>),
    Deleted(bool),
    Ticked,
}

impl Model {
    fn new(settings: &Settings) -> Model {
        let classes = SlabClasses::new(settings);
        let n = classes.classes().len() + 1;
        Model {
            classes,
            page: u64::from(settings.slab_page_size),
            limit: settings.max_bytes,
            malloced: 0,
            pages: vec![0; n],
            used: vec![0; n],
            lru: vec![Vec::new(); n],
            evictions: 0,
            now: NOW_MODEL,
        }
    }

    /// The class of an item, `None` when it is larger than any (then larger than `-I`
    /// too, as `settings()` makes the largest chunk the item size limit).
    fn class_of(&self, key_len: usize, value_len: usize) -> Option<usize> {
        // ITEM_ntotal by hand: header 48, key + NUL, value + CRLF, CAS 8 (flags 0).
        let total = 48 + key_len + 1 + value_len + 2 + 8;
        self.classes.class_for(total as u64).map(usize::from)
    }

    fn find(&self, key: &[u8]) -> Option<(usize, usize)> {
        self.lru
            .iter()
            .enumerate()
            .find_map(|(c, items)| items.iter().position(|(k, _, _)| k == key).map(|i| (c, i)))
    }

    fn alloc(&mut self, class: usize, pinned: Option<&[u8]>) -> bool {
        let perslab = u64::from(self.classes.get(class as u8).unwrap().perslab);
        if self.used[class] < self.pages[class] * perslab {
            self.used[class] += 1;
            return true;
        }
        if self.pages[class] == 0 || self.malloced + self.page <= self.limit {
            self.pages[class] += 1;
            self.malloced += self.page;
            self.used[class] += 1;
            return true;
        }
        // Evict the least recently used item of the class that is not held.
        let victim = self.lru[class]
            .iter()
            .rposition(|(k, _, _)| Some(k.as_slice()) != pinned);
        match victim {
            Some(i) => {
                self.lru[class].remove(i);
                self.evictions += 1;
                true // the victim's chunk is reused
            }
            None => false,
        }
    }

    /// `do_item_update` in compat mode: to the head only when the last bump is over 60 s
    /// old.
    fn update(&mut self, c: usize, i: usize) {
        if self.lru[c][i].2 + 60 < self.now {
            let mut item = self.lru[c].remove(i);
            item.2 = self.now;
            self.lru[c].insert(0, item);
        }
    }

    fn remove(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        let (c, i) = self.find(key)?;
        self.used[c] -= 1;
        Some(self.lru[c].remove(i).1)
    }

    fn apply(&mut self, op: &Op) -> Res {
        match *op {
            Op::Get(k) => {
                let key = vec![b'k', k];
                let Some((c, i)) = self.find(&key) else {
                    return Res::Value(None);
                };
                let value = self.lru[c][i].1.clone();
                self.update(c, i);
                Res::Value(Some(value))
            }
            Op::Tick(secs) => {
                self.now += u64::from(secs);
                Res::Ticked
            }
            Op::Delete(k) => Res::Deleted(self.remove(&[b'k', k]).is_some()),
            Op::Set(k, len) | Op::Add(k, len) | Op::Append(k, len) => {
                let key = vec![b'k', k];
                let data = vec![k.wrapping_add(len as u8); usize::from(len)];
                let class = self
                    .class_of(key.len(), data.len())
                    .expect("generated values fit a class");
                if !self.alloc(class, None) {
                    if matches!(op, Op::Set(..)) {
                        self.remove(&key);
                    }
                    return Res::OutOfMemory;
                }
                let present = self.find(&key);
                let res = match (op, present) {
                    (Op::Set(..), _) | (Op::Add(..), None) => {
                        self.remove(&key);
                        self.lru[class].insert(0, (key, data, self.now));
                        return Res::Stored;
                    }
                    (Op::Add(..), Some((c, i))) => {
                        self.update(c, i);
                        Res::NotStored
                    }
                    (_, None) => Res::NotStored,
                    (_, Some((c, i))) => {
                        let mut combined = self.lru[c][i].1.clone();
                        combined.extend_from_slice(&data);
                        // A combined item too large for any class is not stored.
                        match self.class_of(key.len(), combined.len()) {
                            Some(new_class) if self.alloc(new_class, Some(&key)) => {
                                self.remove(&key);
                                self.lru[new_class].insert(0, (key, combined, self.now));
                                Res::Stored
                            }
                            _ => Res::NotStored,
                        }
                    }
                };
                self.used[class] -= 1; // the incoming item was not linked
                res
            }
        }
    }
}

fn apply(store: &mut Store, op: &Op) -> Res {
    let of = |outcome: StoreOutcome| match outcome {
        StoreOutcome::Stored { .. } => Res::Stored,
        StoreOutcome::NotStored => Res::NotStored,
        StoreOutcome::OutOfMemory => Res::OutOfMemory,
        other => panic!("unexpected {other:?}"),
    };
    match *op {
        Op::Get(k) => Res::Value(store.get(&[b'k', k]).unwrap().map(|i| i.value.to_vec())),
        Op::Tick(secs) => {
            store.clock().advance(u64::from(secs));
            Res::Ticked
        }
        Op::Delete(k) => Res::Deleted(store.delete(&[b'k', k]).unwrap() == DeleteOutcome::Deleted),
        Op::Set(k, len) | Op::Add(k, len) | Op::Append(k, len) => {
            let key = [b'k', k];
            let data = vec![k.wrapping_add(len as u8); usize::from(len)];
            of(match op {
                Op::Set(..) => store.set(&key, &data, 0, 0),
                Op::Add(..) => store.add(&key, &data, 0, 0),
                _ => store.append(&key, &data),
            }
            .unwrap())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn store_agrees_with_a_vec_model(ops in ops()) {
        agrees_with_model(&ops)?;
    }
}

/// An append whose combined item outgrows every class is `NOT_STORED` in both (the
/// model once panicked on it instead).
#[test]
fn an_append_too_large_for_any_class_is_not_stored() {
    let ops = [
        Op::Set(1, 849),
        Op::Append(1, 399),
        Op::Append(1, 399),
        Op::Append(1, 399),
    ];
    agrees_with_model(&ops).unwrap();
}

/// Runs `ops` through the store and the model, step by step: the same replies, items,
/// evictions and memory per class.
fn agrees_with_model(ops: &[Op]) -> Result<(), TestCaseError> {
    let settings = settings();
    let mut store = Store::new(settings.clone(), ServerClock::manual(NOW_MODEL)).unwrap();
    let mut model = Model::new(&settings);
    for (step, op) in ops.iter().enumerate() {
        let got = apply(&mut store, op);
        let want = model.apply(op);
        prop_assert_eq!(&got, &want, "step {} {:?}", step, op);
        store
            .validate()
            .map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
        let items: usize = model.lru.iter().map(Vec::len).sum();
        prop_assert_eq!(store.len(), items, "step {} items", step);
        prop_assert_eq!(
            store.counters().evictions,
            model.evictions,
            "step {} evictions",
            step
        );
        prop_assert_eq!(store.malloced(), model.malloced, "step {} malloced", step);
        for c in store.classes().classes() {
            let id = usize::from(c.id);
            let usage = store.class_usage().into_iter().find(|u| u.id == c.id);
            let (used, pages) = usage.map_or((0, 0), |u| (u.used_chunks, u64::from(u.total_pages)));
            prop_assert_eq!(
                (used, pages),
                (model.used[id], model.pages[id]),
                "step {} class {}",
                step,
                id
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Segmented mode against its invariants (lists, segments, flags, memory) and a map
    /// of the values last stored: every hit returns what was stored.
    #[test]
    fn segmented_store_keeps_its_invariants(ops in ops()) {
        let settings = Settings { lru_segmented: true, ..settings() };
        let mut store = Store::new(settings, ServerClock::manual(NOW_MODEL)).unwrap();
        let mut values: std::collections::HashMap<u8, Vec<u8>> = Default::default();
        for (step, op) in ops.iter().enumerate() {
            let got = apply(&mut store, op);
            match (op, got) {
                (Op::Get(k), Res::Value(Some(v))) => {
                    prop_assert_eq!(Some(&v), values.get(k), "step {} get", step);
                }
                (Op::Get(k), Res::Value(None)) => {
                    values.remove(k);
                }
                (Op::Set(k, len) | Op::Add(k, len), Res::Stored) => {
                    values.insert(*k, vec![k.wrapping_add(*len as u8); usize::from(*len)]);
                }
                (Op::Set(k, _), _) => {
                    values.remove(k);
                }
                (Op::Append(k, len), Res::Stored) => {
                    let data = vec![k.wrapping_add(*len as u8); usize::from(*len)];
                    values.get_mut(k).expect("append needs the key").extend(data);
                }
                (Op::Delete(k), _) => {
                    values.remove(k);
                }
                _ => {}
            }
            store.validate().map_err(|e| TestCaseError::fail(format!("step {step}: {e}")))?;
        }
    }
}

const NOW_MODEL: u64 = 1_000;
