//! The one table from policy names to constructors.
//!
//! Each row ([`PolicyInfo`]) names a policy, says what it is, declares its parameters with
//! defaults (so `cachelab sim --help` and errors can list them), says whether it needs the
//! trace's `next_access` (Belady), and builds it. Caffeine's simulator `Registry` is the
//! model: adding a policy is one row here.

use super::spec::{ParamInfo, Params, PolicySpec, SpecError};
use super::ttl::{Ttl, TtlClock};
use super::{
    Policy, arc::Arc, belady::Belady, clock::Clock, fifo::Fifo, lfu::Lfu, lirs::Lirs, lru::Lru,
    random::Random, s3fifo::S3Fifo, sieve::Sieve, slru::Slru, twoq::TwoQ, wtinylfu::WTinyLfu,
};

/// What a constructor gets besides the parameters.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext {
    /// Capacity in size units.
    pub capacity: u64,
    /// Seed for policies that make random choices.
    pub seed: u64,
}

/// A policy constructor: checked parameters and context in, a boxed policy out.
pub type BuildFn = fn(&Params, &BuildContext) -> Result<Box<dyn Policy>, SpecError>;

/// One registered policy.
pub struct PolicyInfo {
    /// Spec name (lowercase).
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// Accepted parameters.
    pub params: &'static [ParamInfo],
    /// True when the policy reads `Request::next_access` (the engine then makes sure it is set).
    pub needs_next_access: bool,
    /// Builds the policy.
    pub build: BuildFn,
}

/// Every policy cachelab knows, in the order help text lists them.
pub static POLICIES: &[PolicyInfo] = &[
    PolicyInfo {
        name: "lru",
        summary: "least recently used",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Lru::new(ctx.capacity))),
    },
    PolicyInfo {
        name: "fifo",
        summary: "first in, first out",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Fifo::new(ctx.capacity))),
    },
    PolicyInfo {
        name: "arc",
        summary: "adaptive replacement cache (Megiddo & Modha, FAST'03), byte-aware",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Arc::new(ctx.capacity))),
    },
    PolicyInfo {
        name: "lfu",
        summary: "least frequently used, O(1) frequency buckets, LRU among ties",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Lfu::new(ctx.capacity))),
    },
    PolicyInfo {
        name: "clock",
        summary: "CLOCK / second chance with a k-bit counter (libCacheSim's Clock)",
        params: &[ParamInfo {
            name: "bits",
            default: "1",
            help: "counter bits per object: a hit adds one up to 2^bits - 1, the hand takes one off",
        }],
        needs_next_access: false,
        build: |params, ctx| {
            let bits = params.u64_in("bits", 1, u64::from(Clock::MAX_BITS))? as u32;
            Ok(Box::new(Clock::new(ctx.capacity, bits)))
        },
    },
    PolicyInfo {
        name: "sieve",
        summary: "SIEVE (Zhang et al., NSDI'24): FIFO with a visited bit and a lazy hand",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Sieve::new(ctx.capacity))),
    },
    PolicyInfo {
        name: "s3fifo",
        summary: "S3-FIFO (Yang et al., SOSP'23): small, main and ghost FIFOs (libCacheSim semantics)",
        params: &[
            ParamInfo {
                name: "small",
                default: "0.1",
                help: "share of the capacity for the small FIFO; main and ghost get the rest",
            },
            ParamInfo {
                name: "threshold",
                default: "1",
                help: "a small-FIFO object moves to main when its frequency (0..=3) exceeds this",
            },
        ],
        needs_next_access: false,
        build: |params, ctx| {
            let small = params.f64_in("small", 0.001, 0.999)?;
            let threshold = params.u64_in("threshold", 0, 2)? as u32;
            Ok(Box::new(S3Fifo::new(ctx.capacity, small, threshold)))
        },
    },
    PolicyInfo {
        name: "2q",
        summary: "2Q (Johnson & Shasha, VLDB'94, full version): A1in FIFO, A1out ghosts, Am LRU",
        params: &[
            ParamInfo {
                name: "kin",
                default: "0.25",
                help: "A1in's share of the capacity (size units); above it A1in's tail is evicted into A1out",
            },
            ParamInfo {
                name: "kout",
                default: "0.5",
                help: "A1out's bound as a share of the capacity, in size units of the ghosted objects",
            },
        ],
        needs_next_access: false,
        build: |params, ctx| {
            let kin = params.f64_in("kin", 0.001, 0.999)?;
            let kout = params.f64_in("kout", 0.0, 4.0)?;
            Ok(Box::new(TwoQ::new(ctx.capacity, kin, kout)))
        },
    },
    PolicyInfo {
        name: "slru",
        summary: "segmented LRU, S4LRU by default (Huang et al., SOSP'13; libCacheSim semantics)",
        params: &[ParamInfo {
            name: "segments",
            default: "4",
            help: "number of equal LRU segments (1-16); a hit climbs one, overflow cascades down",
        }],
        needs_next_access: false,
        build: |params, ctx| {
            let segments = params.u64_in("segments", 1, Slru::MAX_SEGMENTS as u64)? as usize;
            Ok(Box::new(Slru::new(ctx.capacity, segments)))
        },
    },
    PolicyInfo {
        name: "random",
        summary: "uniformly random victim, seeded ChaCha8 (the run's --seed)",
        params: &[],
        needs_next_access: false,
        build: |_, ctx| Ok(Box::new(Random::new(ctx.capacity, ctx.seed))),
    },
    PolicyInfo {
        name: "lirs",
        summary: "LIRS: LIR set, small resident-HIR queue, stack with non-resident history (Jiang & Zhang 2002)",
        params: &[
            ParamInfo {
                name: "hir",
                default: "0.01",
                help: "share of the capacity for resident HIR blocks (at least one size unit)",
            },
            ParamInfo {
                name: "stack",
                default: "2",
                help: "stack S holds at most stack x capacity size units; oldest non-resident entries go first",
            },
        ],
        needs_next_access: false,
        build: |p, ctx| {
            Ok(Box::new(Lirs::new(
                ctx.capacity,
                p.f64_in("hir", 0.0, 1.0)?,
                p.f64_in("stack", 1.0, 100.0)?,
            )))
        },
    },
    PolicyInfo {
        name: "wtinylfu",
        summary: "W-TinyLFU: LRU window, SLRU main, count-min sketch admission (Einziger et al. 2017)",
        params: &[
            ParamInfo {
                name: "window",
                default: "0.01",
                help: "share of the capacity for the window LRU (at least one size unit)",
            },
            ParamInfo {
                name: "protected",
                default: "0.8",
                help: "share of the main cache for the protected segment; probation gets the rest",
            },
            ParamInfo {
                name: "sample",
                default: "10",
                help: "the sketch halves its counters after sample x (capacity in objects) increments",
            },
            ParamInfo {
                name: "doorkeeper",
                default: "0",
                help: "1 puts a Bloom-filter doorkeeper in front of the sketch counters",
            },
        ],
        needs_next_access: false,
        build: |p, ctx| {
            Ok(Box::new(WTinyLfu::new(
                ctx.capacity,
                p.f64_in("window", 0.0, 1.0)?,
                p.f64_in("protected", 0.0, 1.0)?,
                p.u64_in("sample", 1, 1 << 20)?,
                p.u64_in("doorkeeper", 0, 1)? == 1,
            )))
        },
    },
    PolicyInfo {
        name: "belady",
        summary: "Belady's MIN: evict the farthest next use (offline optimum for unit sizes)",
        params: &[],
        needs_next_access: true,
        build: |_, ctx| Ok(Box::new(Belady::new(ctx.capacity))),
    },
    PolicyInfo {
        name: "memcached",
        summary: "memcached 1.6 model: slab classes, segmented or compat LRU per class, look-aside get/set replay",
        params: &[
            ParamInfo {
                name: "m",
                default: "auto",
                help: "memory limit in MiB (memcached -m); auto = the capacity in bytes",
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
    },
    PolicyInfo {
        name: "ttl",
        summary: "TTL expiry layered over a base policy",
        params: &[
            ParamInfo {
                name: "ttl",
                default: "0",
                help: "default TTL (clock units; s/m/h/d suffixes); 0 = only the trace's TTLs",
            },
            ParamInfo {
                name: "base",
                default: "lru",
                help: "base policy spec; its parameters separated by `;`",
            },
            ParamInfo {
                name: "clock",
                default: "wall",
                help: "`wall` (trace timestamps) or `requests` (one tick per request)",
            },
        ],
        needs_next_access: false,
        build: build_ttl,
    },
];

fn build_ttl(params: &Params, ctx: &BuildContext) -> Result<Box<dyn Policy>, SpecError> {
    let ttl = params.ttl("ttl")?;
    let clock = match params.text("clock") {
        "wall" => TtlClock::Wall,
        "requests" => TtlClock::Requests,
        _ => return Err(params.bad("clock", "`wall` or `requests`")),
    };
    let base: PolicySpec = params.text("base").replace(';', ",").parse()?;
    if base.name == "ttl" || lookup(&base.name)?.needs_next_access {
        return Err(params.bad("base", "a policy that is neither ttl nor an offline one"));
    }
    Ok(Box::new(Ttl::new(build(&base, ctx)?, ttl, clock)))
}

fn build_memcached(params: &Params, ctx: &BuildContext) -> Result<Box<dyn Policy>, SpecError> {
    use crate::memcached::{Settings, policy::Memcached};
    let max_bytes = match params.text("m") {
        "auto" => ctx.capacity,
        _ => params.u64_in("m", 1, 1 << 30)? << 20,
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
        crate::memcached::ConfigError::Factor(_) => params.bad("f", "a number above 1"),
        other => params.bad("i", &other.to_string()),
    })?;
    Ok(Box::new(model))
}

/// Rows that are layers or whole-system models rather than eviction policies: the demo and
/// `cachelab bench` leave them out of their default lists.
const NOT_PLAIN_POLICIES: [&str; 2] = ["ttl", "memcached"];

/// The plain eviction policies, in registry order: every row but the TTL layer and the
/// memcached model.
pub fn plain_policies() -> impl Iterator<Item = &'static PolicyInfo> {
    POLICIES
        .iter()
        .filter(|p| !NOT_PLAIN_POLICIES.contains(&p.name))
}

/// Every row as readable text: name, summary, then each parameter with its default and
/// what it controls; what `cachelab policies` prints.
pub fn describe() -> String {
    let mut out = String::new();
    for info in POLICIES {
        out.push_str(&format!("{:<10} {}\n", info.name, info.summary));
        for param in info.params {
            out.push_str(&format!(
                "{:<10}   {}={}: {}\n",
                "", param.name, param.default, param.help
            ));
        }
    }
    out
}

/// The registry row for `name`, or an error listing every known name.
pub fn lookup(name: &str) -> Result<&'static PolicyInfo, SpecError> {
    POLICIES
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| SpecError::UnknownPolicy {
            name: name.to_string(),
            known: POLICIES
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Checks a spec (name and parameters) without building anything.
pub fn check(spec: &PolicySpec) -> Result<&'static PolicyInfo, SpecError> {
    let info = lookup(&spec.name)?;
    let params = Params::new(info.name, &spec.params, info.params)?;
    // Building at capacity 1 validates parameter values too.
    (info.build)(
        &params,
        &BuildContext {
            capacity: 1,
            seed: 0,
        },
    )?;
    Ok(info)
}

/// Builds the policy `spec` describes.
pub fn build(spec: &PolicySpec, ctx: &BuildContext) -> Result<Box<dyn Policy>, SpecError> {
    let info = lookup(&spec.name)?;
    let params = Params::new(info.name, &spec.params, info.params)?;
    (info.build)(&params, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_and_params_list_what_exists() {
        let ctx = BuildContext {
            capacity: 10,
            seed: 0,
        };
        let err = build(&"lfu2".parse().unwrap(), &ctx).err().unwrap();
        assert!(
            err.to_string().contains("known policies: lru, fifo"),
            "{err}"
        );
        let err = build(&"lru:size=3".parse().unwrap(), &ctx).err().unwrap();
        assert!(
            err.to_string()
                .contains("has no parameter \"size\"; its parameters: none"),
            "{err}"
        );
    }

    #[test]
    fn builds_each_registered_policy() {
        for info in POLICIES {
            let spec: PolicySpec = info.name.parse().unwrap();
            let policy = build(
                &spec,
                &BuildContext {
                    capacity: 100,
                    seed: 1,
                },
            )
            .unwrap();
            assert_eq!(policy.capacity(), 100);
        }
    }
}
