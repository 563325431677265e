//! `cachelab bench`: measure replay speed (requests/s, one thread) and metadata bytes per
//! object for each (policy, size), optionally the engine's scaling over threads.

use anyhow::Result;
use clap::Args;

use cachelab::catalog::{CATALOG, PolicyList};
use cachelab::policy::PolicySpec;
use cachelab::report::{bench_table, output};
use cachelab::sim::{Config, WorkingSet, speed};
use cachelab::trace::{
    self,
    generate::{GenOptions, Generator},
};
use cachelab::units::{CacheSize, CacheSizes};

use super::args::{JsonOutputArgs, ReadArgs};

/// Arguments of `cachelab bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Trace file; without one, a seeded Zipf(0.8) trace of 1,000,000 requests over
    /// 100,000 keys in object mode (the workload the README quotes).
    trace: Option<String>,
    /// Policy specs, repeatable or comma-separated (`lru,arc`, `all`); every plain eviction
    /// policy (not `ttl`, not `memcached`) when absent.
    #[arg(short = 'p', long = "policy", value_name = "POLICIES")]
    policies: Vec<PolicyList>,
    /// Cache sizes, repeatable or comma-separated: bytes, percent of the working set (`10%`),
    /// a bare fraction of it below 1 (`0.1`), or `auto` (0.1% to 80%); 1% and 10% when absent.
    #[arg(short = 's', long = "size", value_name = "SIZES")]
    sizes: Vec<CacheSizes>,
    /// Count objects instead of bytes (always on for the generated trace).
    #[arg(long)]
    objects: bool,
    /// Runs per configuration (1 to 1000); the best is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=1000))]
    repeat: u16,
    /// Also replay all configurations through the engine on 1 thread and on this many (1 to 256).
    #[arg(long, value_name = "THREADS", value_parser = clap::value_parser!(u16).range(1..=256))]
    scaling: Option<u16>,
    #[command(flatten)]
    out: JsonOutputArgs,
    #[command(flatten)]
    read: ReadArgs,
}

/// Loads (or generates) the trace, measures every configuration, printing each row as it
/// is measured, and writes the rows as JSON when asked.
pub fn run(args: BenchArgs) -> Result<()> {
    args.out.refuse_existing()?;
    let (mut requests, objects) = match &args.trace {
        Some(path) => {
            let mut reader = trace::open(path, &args.read.options())?;
            (trace::read_all(reader.as_mut())?, args.objects)
        }
        None => {
            let options = GenOptions {
                dist: "zipf:alpha=0.8".parse()?,
                keys: 100_000,
                requests: 1_000_000,
                sizes: "fixed:1".parse()?,
                seed: 42,
            };
            (trace::read_all(&mut Generator::new(options)?)?, true)
        }
    };
    if objects {
        requests.iter_mut().for_each(|r| r.size = 1);
    }
    trace::next_access::fill(&mut requests);
    let policies: Vec<PolicySpec> = if args.policies.is_empty() {
        CATALOG
            .plain()
            .map(|p| p.name.parse())
            .collect::<Result<_, _>>()?
    } else {
        PolicyList::flatten(args.policies)
    };
    let sizes = if args.sizes.is_empty() {
        vec![CacheSize::Percent(1.0), CacheSize::Percent(10.0)]
    } else {
        CacheSizes::flatten(args.sizes)
    };
    let units = WorkingSet::of(&requests).units(objects);
    let mut rows = Vec::new();
    outln!("{}", bench_table::header());
    for spec in &policies {
        for size in &sizes {
            let row = speed::replay_speed(
                &requests,
                spec,
                size.resolve(units),
                usize::from(args.repeat),
            )?;
            outln!("{}", bench_table::row(&row));
            rows.push(row);
        }
    }
    let scaling = match args.scaling {
        Some(threads) => {
            let configs: Vec<Config> = policies
                .iter()
                .flat_map(|spec| {
                    sizes
                        .iter()
                        .map(|s| Config::new(spec.clone(), s.resolve(units)))
                })
                .collect();
            let scaling = speed::engine_scaling(
                &requests,
                &configs,
                usize::from(threads),
                usize::from(args.repeat),
            )?;
            outln!("{}", bench_table::scaling(&scaling));
            Some(scaling)
        }
        None => None,
    };
    if let Some(path) = &args.out.json {
        let value = serde_json::json!({ "rows": rows, "scaling": scaling });
        output::write_json(path, &value, args.out.force)?;
    }
    Ok(())
}
