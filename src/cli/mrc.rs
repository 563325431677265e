//! `cachelab mrc`: miss-ratio curves of a trace, several methods in one read, written as a
//! summary, CSV, JSON and a chart, with the size each method needs for target hit ratios.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Result;
use clap::Args;

use cachelab::atomic_file;
use cachelab::mrc::{Grid, Method, MrcJob, run_mrc};
use cachelab::report::curve::{CurveDocument, CurveRow, curve_chart, summary};
use cachelab::report::output;
use cachelab::units::{CacheSize, CacheSizes, parse_percent};

use super::args::{InputArgs, OutputArgs};
use super::{TraceProgress, check_outputs};

/// Arguments of `cachelab mrc`.
#[derive(Args, Debug)]
pub struct MrcArgs {
    /// Methods, repeatable: `exact` (LRU stack distances, exact), `shards:rate=0.01` or
    /// `shards:size=8192` (SHARDS), `aet` or `aet:rate=0.01` (average eviction time),
    /// `mini:policy=SPEC,rate=0.01` (miniature simulations of any policy).
    #[arg(
        short = 'm',
        long = "method",
        default_value = "exact",
        value_name = "METHOD"
    )]
    methods: Vec<Method>,
    /// Count objects instead of bytes (every size becomes 1).
    #[arg(long)]
    objects: bool,
    /// How many sizes, log-spaced from --from to --to.
    #[arg(long, default_value_t = 100)]
    points: usize,
    /// The smallest size: bytes (`64MiB`), a percentage of the working set (`0.1%`) or a
    /// fraction of it below 1.
    #[arg(long, default_value = "0.1%")]
    from: CacheSize,
    /// The largest size, as --from.
    #[arg(long, default_value = "100%")]
    to: CacheSize,
    /// More sizes, computed exactly by the exact method, repeatable or comma-separated (as
    /// `sim -s`).
    #[arg(short = 's', long = "size", value_name = "SIZES")]
    sizes: Vec<CacheSizes>,
    /// Target hit ratios, comma-separated (`0.9,0.95,0.99` or `95%`): the size each
    /// method needs for each.
    #[arg(long, value_name = "RATIOS")]
    target_hit_ratio: Option<HitRatios>,
    /// Salt of the sampling hash, and seed of randomised policies in `mini`.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    out: OutputArgs,
    #[command(flatten)]
    input: InputArgs,
}

/// A list of hit ratios in (0, 1]: `0.9,0.95` or `90%,95%`.
#[derive(Debug, Clone, PartialEq)]
pub struct HitRatios(pub Vec<f64>);

impl FromStr for HitRatios {
    type Err = String;

    fn from_str(text: &str) -> Result<HitRatios, String> {
        text.split(',')
            .map(|item| {
                let item = item.trim();
                let value = if item.ends_with('%') {
                    parse_percent(item).map(|p| p / 100.0).ok()
                } else {
                    item.parse::<f64>().ok()
                };
                match value {
                    Some(v) if v > 0.0 && v <= 1.0 => Ok(v),
                    _ => Err(format!(
                        "`{item}` is not a hit ratio: expected a fraction in (0, 1] such as 0.95, or a percentage such as 95%"
                    )),
                }
            })
            .collect::<Result<Vec<f64>, String>>()
            .map(HitRatios)
    }
}

/// Computes the curves, then writes every output asked for; the summary goes to stdout
/// unless an output was sent there (`-o -`).
pub fn run(args: MrcArgs) -> Result<()> {
    let force = args.out.force();
    let targets: Vec<&Path> = args
        .out
        .files()
        .chain(&args.out.plot)
        .map(PathBuf::as_path)
        .collect();
    check_outputs(&targets, force)?;
    let stdout_taken = targets.iter().any(|p| atomic_file::is_stdout(p));
    let trace = args.input.trace;
    let named = CacheSizes::flatten(args.sizes);
    // A percentage among the named sizes costs a working-set pass first.
    let passes = 1 + u64::from(named.iter().any(|s| s.is_relative()));
    let mut read = args.input.read.options();
    let progress = TraceProgress::start("profiling", &trace, passes, &mut read);
    let mut methods: Vec<Method> = Vec::new();
    for method in args.methods {
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    let job = MrcJob {
        trace: trace.clone(),
        read,
        methods,
        objects: args.objects,
        grid: Grid {
            from: args.from,
            to: args.to,
            points: args.points,
        },
        named,
        seed: args.seed,
    };
    let out = run_mrc(&job, Some(&|requests| progress.report(requests)))?;
    progress.finish(&trace, &out.notes, out.skipped);
    for curve in &out.curves {
        for note in &curve.notes {
            errln!("note: {note}");
        }
    }
    let hit_ratios = args.target_hit_ratio.map(|t| t.0).unwrap_or_default();
    if let Some(path) = &args.out.output {
        output::write_csv(path, &CurveRow::all(&out), force)?;
    }
    if let Some(path) = &args.out.json.json {
        output::write_json(path, &CurveDocument::new(&out, &hit_ratios), force)?;
    }
    if let Some(path) = &args.out.plot {
        curve_chart(&out).draw(path)?;
    }
    if !stdout_taken {
        out!("{}", summary(&out, &hit_ratios));
    }
    Ok(())
}
