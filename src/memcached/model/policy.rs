//! Trace replay through the memcached model: [`Memcached`], the registry's `memcached`
//! policy (`memcached:m=16,f=1.25,n=48,i=1m,lru=segmented`).
//!
//! The trace is replayed as look-aside traffic against a [`Store`]: a read `get`s the key
//! and, on a miss, `set`s it (what an application in front of a database does); with the
//! engine's `--ops` mode the trace's writes are `set`s and its deletes `delete`s.
//!
//! - **Keys** are the request's `u64` key as decimal text (`12345`), so the same keys can be
//!   sent to a real memcached over the text protocol; the key takes 1–20 bytes of the item.
//! - **Values** are `size - key length` bytes (at least 0), so an item's key plus value is
//!   the request's size, and memcached's 48–61 bytes of header, NUL, `\r\n`, flags and CAS
//!   come on top, as they do in a real server.
//! - **Time**: a manual [`ServerClock`] follows `Request::time` (never backwards); a request's
//!   `ttl` becomes a relative exptime (an absolute one past memcached's 30-day limit). The
//!   LRU reads it too: compat mode re-links a hit item only when its last bump is over 60 s
//!   old, segmented mode ages HOT and WARM against COLD's tail. A trace whose `time` counts
//!   requests (the generator's) therefore runs one request per second, far slower than a
//!   real server replays it.
//! - **Slab pages** move between classes as memcached 1.6's default automover
//!   (`slab_automove=1`) moves them, on the trace's clock: it runs once for every second of
//!   request time (see the store's `mover` module), so a trace must span real seconds,
//!   minutes for the 30-second window, for pages to move.
//! - **LRU**: `lru=segmented` (memcached 1.6's default HOT/WARM/COLD) or `lru=compat`
//!   (`-o no_lru_maintainer`); see the store's `lru` module.
//! - **Memory**: `m` (MiB) is memcached's `-m`. When `m` is not given it is the engine's
//!   capacity in bytes (`-s 64MiB` is `-m 64`), so sweeps over cache sizes work; memcached
//!   grants each slab class its first 1 MiB page even past the limit, so below a few tens
//!   of MiB the memory really used can exceed the capacity (see [`Memcached::class_usage`]).
//!   `capacity()` reports the limit in bytes, `used()` the items' bytes (`ITEM_ntotal`);
//!   because of those first pages `used()` can exceed `capacity()` when the limit is
//!   smaller than a few MiB (an exception to the [`Policy`] rule, as in memcached).
//! - [`Outcome::evictions`] counts LRU evictions; [`Outcome::expirations`] counts expired or
//!   flushed items removed, lazily or when an allocation reclaimed them.

use super::clock::ServerClock;
use super::slab::{Settings, SettingsError};
use super::store::{ClassUsage, REALTIME_MAXDELTA, Store, StoreOutcome};
use crate::policy::registry::{BuildContext, ParamInfo, PolicyInfo, PolicyKind, spec_text};
use crate::policy::spec::{Params, SpecError};
use crate::policy::{Details, Outcome, Policy};
use crate::request::Request;

/// The rows this module adds to the crate's policy catalog: the memcached model.
pub static PROVIDED: &[&PolicyInfo] = &[&INFO];

/// The registry row: `memcached`.
pub static INFO: PolicyInfo = PolicyInfo {
    name: "memcached",
    kind: PolicyKind::Model,
    summary: "memcached 1.6 model: slab classes, segmented or compat LRU per class, look-aside get/set replay",
    params: &[
        ParamInfo {
            name: "m",
            default: "auto",
            help: "memory limit (memcached -m): MiB as a bare number, or a byte size such as 5000000B; auto = the capacity in bytes",
        },
        ParamInfo {
            name: "f",
            default: "1.25",
            help: "slab growth factor (memcached -f), above 1",
        },
        ParamInfo {
            name: "n",
            default: "48",
            help: "minimum key+value+flags bytes of the first class (memcached -n)",
        },
        ParamInfo {
            name: "i",
            default: "1m",
            help: "largest item (memcached -I), a multiple of 512 KiB",
        },
        ParamInfo {
            name: "lru",
            default: "segmented",
            help: "segmented (HOT/WARM/COLD, memcached 1.6's default) or compat (one LRU, bumped at most once a minute: -o no_lru_maintainer)",
        },
    ],
    needs_next_access: false,
    build: build_memcached,
};

fn build_memcached(params: &Params, ctx: &BuildContext) -> Result<Box<dyn Policy>, SpecError> {
    let max_bytes = match params.text("m") {
        "auto" => ctx.capacity,
        text if text.bytes().all(|b| b.is_ascii_digit()) => params.u64_in("m", 1, 1 << 30)? << 20,
        text => crate::units::parse_bytes(text)
            .ok()
            .filter(|&b| b > 0)
            .ok_or_else(|| params.bad("m", "MiB as a whole number, a byte size, or auto"))?,
    };
    let growth_factor = params.f64_in("f", 1.0, 100.0)?;
    let chunk_size = params.u64_in("n", 1, 1 << 19)? as u32;
    let item_size_max = crate::units::parse_bytes(params.text("i"))
        .ok()
        .and_then(|b| u32::try_from(b).ok())
        .ok_or_else(|| params.bad("i", "a byte size such as 1m or 2m"))?;
    let lru_segmented = match params.text("lru") {
        "segmented" => true,
        "compat" => false,
        _ => return Err(params.bad("lru", "segmented or compat")),
    };
    let settings = Settings {
        max_bytes,
        growth_factor,
        chunk_size,
        item_size_max,
        lru_segmented,
        ..Settings::default()
    };
    let model = Memcached::new(settings).map_err(|e| match e {
        SettingsError::Factor(_) => params.bad("f", "a number above 1"),
        other => params.bad("i", &other.to_string()),
    })?;
    Ok(Box::new(model))
}

/// The memcached model as a replay policy; see the module docs.
#[derive(Debug)]
pub struct Memcached {
    store: Store,
    clock: ServerClock,
    /// Zero bytes, grown to the largest value written so far.
    value: Vec<u8>,
    name: String,
    /// Requests refused as larger than `-I`.
    refused: u64,
}

/// Writes `key` as decimal digits into `buf`; returns the digits.
fn key_text(key: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = key;
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[start..]
}

impl Memcached {
    /// A model with `settings` (checked with [`Settings::validate_table`]).
    pub fn new(settings: Settings) -> Result<Memcached, SettingsError> {
        let clock = ServerClock::manual(0);
        let memory = if settings.max_bytes.is_multiple_of(1 << 20) {
            (settings.max_bytes >> 20).to_string()
        } else {
            format!("{}B", settings.max_bytes)
        };
        let lru = if settings.lru_segmented {
            "segmented"
        } else {
            "compat"
        };
        let name = spec_text(
            "memcached",
            [
                ("m", memory),
                ("f", settings.growth_factor.to_string()),
                ("n", settings.chunk_size.to_string()),
                ("i", settings.item_size_max.to_string()),
                ("lru", lru.to_string()),
            ],
        );
        let store = Store::new(settings, clock.clone())?;
        Ok(Memcached {
            store,
            clock,
            value: Vec::new(),
            name,
            refused: 0,
        })
    }

    /// The store, for its statistics (`stats`, `stats slabs`, `stats items`).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Memory per slab class with pages: chunks, items and chunk-rounding waste.
    pub fn class_usage(&self) -> Vec<ClassUsage> {
        self.store.class_usage()
    }

    fn advance(&mut self, req: &Request) {
        if req.time > self.clock.now() {
            self.clock.set(req.time);
        }
        // The page mover's background work, on the trace's clock.
        self.store.maintain();
    }

    fn removed(&self) -> (u64, u64) {
        let c = self.store.counters();
        (
            c.evictions,
            c.get_expired + c.get_flushed + c.reclaimed + self.store.crawler_reclaimed(),
        )
    }

    /// Sets the request's key; true when the item was refused as larger than `-I`.
    fn write(&mut self, req: &Request) -> bool {
        let mut buf = [0u8; 20];
        let key = key_text(req.key, &mut buf);
        let len = (req.size as usize).saturating_sub(key.len());
        if self.value.len() < len {
            self.value.resize(len, 0);
        }
        let exptime = match i64::from(req.ttl) {
            0 => 0,
            ttl if ttl <= REALTIME_MAXDELTA => ttl,
            ttl => self.clock.now() as i64 + ttl,
        };
        // A key of at most 20 bytes is always valid; too-large or out-of-memory sets are
        // misses that store nothing, as in memcached.
        let refused = matches!(
            self.store.set(key, &self.value[..len], 0, exptime),
            Ok(StoreOutcome::TooLarge)
        );
        self.refused += u64::from(refused);
        refused
    }

    fn outcome(&self, hit: bool, refused: bool, before: (u64, u64)) -> Outcome {
        let after = self.removed();
        Outcome {
            hit,
            evictions: (after.0 - before.0) as u32,
            expirations: (after.1 - before.1) as u32,
            refused,
        }
    }

    /// The model's memory after a run, class by class: what reports show and the JSON
    /// results carry.
    pub fn memory_report(&self) -> MemoryReport {
        MemoryReport {
            memory_limit_bytes: self.store.settings().max_bytes,
            memory_malloced_bytes: self.store.malloced(),
            item_bytes: self.store.bytes(),
            waste_bytes: self.store.waste(),
            refused_requests: self.refused,
            classes: self
                .class_usage()
                .iter()
                .map(|u| ClassRow {
                    class: u.id,
                    chunk_size_bytes: u.chunk_size,
                    pages: u.total_pages,
                    used_chunks: u.used_chunks,
                    items: u.items,
                    requested_bytes: u.requested,
                    waste_bytes: u.waste,
                })
                .collect(),
        }
    }

    /// The memory report and warnings as a [`Details`].
    fn report(&self) -> Details {
        let memory = self.memory_report();
        let (limit, malloced) = (memory.memory_limit_bytes, memory.memory_malloced_bytes);
        let mut warnings = Vec::new();
        if malloced > limit {
            warnings.push(format!(
                "{}: the model really uses {malloced} bytes ({:.1} MiB) for a {limit}-byte limit: \
                 memcached gives each slab class in use its first 1 MiB page even past -m, so \
                 below about one page per class in use ({} classes here) the limit is not kept",
                self.name,
                malloced as f64 / f64::from(1 << 20),
                memory.classes.len()
            ));
        }
        if self.refused > 0 {
            warnings.push(format!(
                "{}: {} requests were refused as larger than -I ({} bytes) and counted as refused misses",
                self.name,
                self.refused,
                self.store.settings().item_size_max
            ));
        }
        Details {
            // Serialising plain integers and strings into a Value cannot fail.
            data: serde_json::to_value(&memory).expect("a memory report is plain data"),
            warnings,
        }
    }
}

/// The memcached model's memory after a run (see [`Memcached::memory_report`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryReport {
    /// `-m` in bytes.
    pub memory_limit_bytes: u64,
    /// Bytes of slab pages handed out.
    pub memory_malloced_bytes: u64,
    /// Bytes of the items stored (headers, keys and values).
    pub item_bytes: u64,
    /// Bytes lost to chunk rounding.
    pub waste_bytes: u64,
    /// Requests larger than `-I`.
    pub refused_requests: u64,
    /// One entry per slab class with pages.
    pub classes: Vec<ClassRow>,
}

/// One slab class in a [`MemoryReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClassRow {
    /// Class id.
    pub class: u8,
    /// Bytes per chunk.
    pub chunk_size_bytes: u32,
    /// Pages assigned.
    pub pages: u32,
    /// Chunks in use.
    pub used_chunks: u64,
    /// Items on the class's LRU.
    pub items: u64,
    /// Bytes requested from the used chunks.
    pub requested_bytes: u64,
    /// Bytes lost to chunk rounding.
    pub waste_bytes: u64,
}

impl Policy for Memcached {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn details(&self) -> Option<Details> {
        Some(self.report())
    }

    fn capacity(&self) -> u64 {
        self.store.settings().max_bytes
    }

    fn used(&self) -> u64 {
        self.store.bytes()
    }

    fn len(&self) -> usize {
        self.store.len()
    }

    fn contains(&self, key: u64) -> bool {
        let mut buf = [0u8; 20];
        self.store.contains(key_text(key, &mut buf))
    }

    fn get(&mut self, req: &Request) -> Outcome {
        // Before the clock moves: the maintainer's reclaims on the way count as this
        // request's expirations.
        let before = self.removed();
        self.advance(req);
        let mut buf = [0u8; 20];
        let hit = matches!(self.store.get(key_text(req.key, &mut buf)), Ok(Some(_)));
        let refused = !hit && self.write(req);
        self.outcome(hit, refused, before)
    }

    fn set(&mut self, req: &Request) -> Outcome {
        // Before the clock moves: the maintainer's reclaims on the way count as this
        // request's expirations.
        let before = self.removed();
        self.advance(req);
        let refused = self.write(req);
        self.outcome(false, refused, before)
    }

    fn delete(&mut self, key: u64) -> bool {
        let mut buf = [0u8; 20];
        matches!(
            self.store.delete(key_text(key, &mut buf)),
            Ok(super::store::DeleteOutcome::Deleted)
        )
    }

    fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
    }

    fn validate(&self) -> Result<(), String> {
        self.store.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decimal_text() {
        let mut buf = [0u8; 20];
        assert_eq!(key_text(0, &mut buf), b"0");
        assert_eq!(key_text(12345, &mut buf), b"12345");
        assert_eq!(key_text(u64::MAX, &mut buf), b"18446744073709551615");
    }

    #[test]
    fn look_aside_replay_hits_after_the_first_miss() {
        let mut mc = Memcached::new(Settings::default()).unwrap();
        let req = Request::get(42, 100);
        assert!(!mc.get(&req).hit);
        assert!(mc.get(&req).hit);
        assert!(mc.contains(42));
        // key "42" (2) + value 98 = 100; ITEM_ntotal = 48 + 3 + 100 + 8 = 159 -> class 4 (192).
        assert_eq!(mc.used(), 159);
        let usage = mc.class_usage();
        assert_eq!(
            (usage[0].id, usage[0].used_chunks, usage[0].waste),
            (4, 1, 192 - 159)
        );
        mc.validate().unwrap();
    }

    #[test]
    fn registry_spec_sets_memory_and_checks_options() {
        use crate::policy::registry::Registry;
        static ONLY: Registry = Registry::new(&[PROVIDED]);
        let build = |spec: &str| ONLY.build(&spec.parse().unwrap(), 5 << 20, 0);
        let explicit = build("memcached:m=16,f=2").unwrap();
        assert_eq!(explicit.capacity(), 16 << 20);
        assert_eq!(
            explicit.name(),
            "memcached:m=16,f=2,n=48,i=1048576,lru=segmented"
        );
        let compat = build("memcached:m=16,lru=compat").unwrap();
        assert!(compat.name().ends_with(",lru=compat"));
        // Without m, the engine's capacity is the memory limit.
        let derived = build("memcached").unwrap();
        assert_eq!(derived.capacity(), 5 << 20);
        // A limit that is no whole number of MiB is named in bytes, and parses back.
        let odd = ONLY
            .build(&"memcached".parse().unwrap(), 5_000_000, 0)
            .unwrap();
        assert_eq!(
            odd.name(),
            "memcached:m=5000000B,f=1.25,n=48,i=1048576,lru=segmented"
        );
        assert_eq!(build(&odd.name()).unwrap().capacity(), 5_000_000);
        for bad in [
            "memcached:f=1",
            "memcached:i=600k",
            "memcached:n=0",
            "memcached:m=x",
            "memcached:lru=flat",
        ] {
            assert!(build(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trace_ttls_expire_on_trace_time() {
        let mut mc = Memcached::new(Settings::default()).unwrap();
        let mut req = Request::get(7, 50);
        req.ttl = 10;
        req.time = 100;
        assert!(!mc.get(&req).hit); // stored at 100, expires at 110
        req.time = 109;
        assert!(mc.get(&req).hit);
        req.time = 110;
        let outcome = mc.get(&req);
        assert!(!outcome.hit);
        assert_eq!(outcome.expirations, 1);
    }
}
