//! `cachelab demo`: the tour of what cachelab does, end to end, in one command.
//!
//! On a seeded Zipf trace and the bundled real trace
//! `traces/cloudPhysicsIO.oracleGeneral.bin.zst` (or on the user's own trace, `demo
//! TRACE`), it describes each trace, replays it through every registered policy at several
//! cache sizes, draws its miss-ratio curves (exact LRU, SHARDS, AET), plans the cache
//! for a few target hit ratios (memory, memcached `-m`, nodes, cost, warm-up), replays a
//! migration to a larger cluster under every client strategy, and races clients on the
//! seed's `visitors` counter in the deterministic simulation. Everything goes through the
//! same report as `cachelab report`: `index.html`, `report.md`, the charts, and the data
//! as CSV and JSON. Every step is seeded and nothing depends on the time or the machine,
//! so two runs write byte-identical files.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::catalog::CATALOG;
use crate::cluster::migrate::{MigrateJob, Strategy as MigrationStrategy, migrate};
use crate::cluster::replay::Window;
use crate::mrc::{Grid, Method, Settings, profile_slice};
use crate::policy::PolicySpec;
use crate::report::curve::CurveDocument;
use crate::report::inputs::{NamedMigration, NamedStats, ReportInputs};
use crate::report::{JsonResultRow, ResultRow, build, results, site, text};
use crate::request::Request;
use crate::sim::{Config, SimOptions, WorkingSet, simulate_slice};
use crate::trace::generate::{GenOptions, Generator};
use crate::trace::{self, ReadOptions, VecReader};
use crate::units::CacheSize;

/// The bundled real trace the demo replays, relative to the crate root.
pub const BUNDLED_TRACE: &str = "traces/cloudPhysicsIO.oracleGeneral.bin.zst";

/// Cache sizes the demo sweeps, in percent of each trace's working set (bytes).
pub const SIZES_PERCENT: [f64; 6] = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0];

/// Target hit ratios of the curves' size table.
const CURVE_TARGETS: [f64; 3] = [0.3, 0.5, 0.7];

/// What the demo runs on and where it writes.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Output directory.
    pub output: PathBuf,
    /// Write into a non-empty directory that no cachelab report wrote.
    pub force: bool,
    /// The user's trace, instead of the generated and the bundled one.
    pub trace: Option<String>,
}

/// What the demo wrote, for the terminal.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// Output directory.
    pub output: PathBuf,
    /// Files written, relative to it.
    pub files: Vec<String>,
    /// The answer tables, as text.
    pub text: String,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.text)?;
        writeln!(
            f,
            "\nwrote {} (open index.html in a browser):",
            self.output.display()
        )?;
        for file in &self.files {
            writeln!(f, "  {file}")?;
        }
        Ok(())
    }
}

/// A trace held in memory with its name.
struct DemoTrace {
    name: String,
    requests: Vec<Request>,
}

/// Runs the tour and writes the report.
pub fn run(options: &DemoOptions) -> anyhow::Result<DemoSummary> {
    site::prepare_dir(&options.output, options.force)?;
    let traces = load_traces(options.trace.as_deref())?;
    let mut inputs = ReportInputs::default();
    let mut text = String::new();
    for t in &traces {
        let mut counter = trace::stats::StatsCounter::default();
        counter.add(&t.requests);
        let stats = counter.finish();
        if stats.requests == 0 {
            anyhow::bail!("{}: the trace holds no request", t.name);
        }
        // The statistics count the working set as the engine does (each key at its first
        // size), so the trace is measured once.
        let working_set = WorkingSet {
            requests: stats.requests,
            objects: stats.distinct_keys,
            bytes: stats.working_set_bytes,
        };
        inputs.traces.push(NamedStats {
            trace: t.name.clone(),
            stats,
        });
        let rows = compare_policies(t, working_set)?;
        text.push_str(&format!("{}\n", t.name));
        text.push_str(&text::table(&results::winners_table(&rows, &t.name, "w")));
        text.push('\n');
        inputs.sims.extend(rows);
        inputs.curves.push(curves(t)?);
    }
    inputs.plans.push(capacity_plan(&traces[0])?);
    let first = &inputs.traces[0].stats;
    inputs
        .migrations
        .push(migration(&traces[0], first.working_set_bytes)?);
    inputs.contention = contention()?;
    let intro = vec![intro(options.trace.as_deref(), &traces)];
    let document = build::document(&inputs, "cachelab demo", intro);
    let files = site::publish(&inputs, &document, &options.output, true)?;
    Ok(DemoSummary {
        output: options.output.clone(),
        files,
        text,
    })
}

fn load_traces(user: Option<&str>) -> anyhow::Result<Vec<DemoTrace>> {
    if let Some(path) = user {
        let mut reader = trace::open(path, &ReadOptions::default())?;
        return Ok(vec![DemoTrace {
            name: trace::trace_name(path),
            requests: trace::read_all(reader.as_mut())?,
        }]);
    }
    let zipf = GenOptions {
        dist: "zipf:alpha=0.8".parse()?,
        keys: 100_000,
        requests: 1_000_000,
        sizes: "lognormal:median=4096,sigma=1.0".parse()?,
        seed: 7,
    };
    let bundled = crate_path(BUNDLED_TRACE);
    let mut real = trace::open(&bundled.to_string_lossy(), &ReadOptions::default())?;
    Ok(vec![
        DemoTrace {
            name: "zipf-0.8".to_string(),
            requests: trace::read_all(&mut Generator::new(zipf)?)?,
        },
        DemoTrace {
            name: "cloudPhysicsIO".to_string(),
            requests: trace::read_all(real.as_mut())?,
        },
    ])
}

fn intro(user: Option<&str>, traces: &[DemoTrace]) -> String {
    let what = match user {
        Some(_) => format!("the trace `{}`", traces[0].name),
        None => "a generated Zipf(0.8) trace (1,000,000 requests over 100,000 keys, lognormal sizes with \
                 median 4 KiB, seed 7) and the bundled real trace `cloudPhysicsIO` (libCacheSim's sample \
                 of a CloudPhysics block trace)"
            .to_string(),
    };
    format!(
        "The tour of cachelab on {what}: every registered policy at 0.5–20% of the working set, \
         miss-ratio curves, a migration to a larger cluster and the contention experiment. Every request \
         is a read that inserts on a miss, as libCacheSim replays. Rebuild it with `cachelab demo`; \
         each section names the command that runs it on its own."
    )
}

/// Every plain policy at [`SIZES_PERCENT`] of the working set, in one pass.
fn compare_policies(t: &DemoTrace, working_set: WorkingSet) -> anyhow::Result<Vec<JsonResultRow>> {
    let policies: Vec<PolicySpec> = CATALOG
        .plain()
        .filter_map(|p| p.name.parse().ok())
        .collect();
    let configs: Vec<Config> = policies
        .iter()
        .flat_map(|spec| {
            SIZES_PERCENT.iter().map(move |&pct| {
                let capacity = CacheSize::Percent(pct).resolve(working_set.bytes);
                Config::new(spec.clone(), capacity)
            })
        })
        .collect();
    let results = simulate_slice(&t.requests, &configs, &SimOptions::default())?;
    Ok(results
        .iter()
        .map(|r| JsonResultRow {
            row: ResultRow::new(&t.name, false, r),
            details: r.details.clone(),
            working_set: Some(working_set),
        })
        .collect())
}

/// The trace's miss-ratio curves by the exact method, SHARDS at 1% and AET.
fn curves(t: &DemoTrace) -> anyhow::Result<CurveDocument> {
    let methods: Vec<Method> = ["exact", "shards:rate=0.01", "aet"]
        .iter()
        .map(|m| m.parse())
        .collect::<Result<_, _>>()?;
    let grid = Grid::default();
    let settings = Settings {
        methods: &methods,
        objects: false,
        grid: &grid,
        named: &[],
        seed: 0,
    };
    let mut out = profile_slice(&t.requests, &settings)?;
    out.trace = t.name.clone();
    Ok(CurveDocument::new(&out, &CURVE_TARGETS))
}

/// Requests the demo plans on: a prefix of the first trace, so the plan's simulations of
/// the memcached model stay within seconds.
const PLAN_REQUESTS: usize = 200_000;

/// The example price table the demo plans with (made-up prices, labelled as such).
pub const EXAMPLE_PRICES: &str = "examples/prices.toml";

/// A capacity plan for three target hit ratios with LRU, S3-FIFO and the memcached model,
/// on the first [`PLAN_REQUESTS`] requests at 20,000 requests/s, priced with the example
/// table.
fn capacity_plan(t: &DemoTrace) -> anyhow::Result<crate::plan::PlanDocument> {
    use crate::plan::{PlanJob, plan, prices, rate};
    let policies = ["lru", "s3fifo", "memcached"]
        .iter()
        .map(|p| p.parse())
        .collect::<Result<Vec<PolicySpec>, _>>()?;
    let mut job = PlanJob::new(vec![0.3, 0.5, 0.7], policies);
    job.prices = Some(prices::read_prices(
        &crate_path(EXAMPLE_PRICES),
        job.node.usable,
    )?);
    job.rate = Some(rate::parse_request_rate("20000/s")?);
    let requests = t.requests[..t.requests.len().min(PLAN_REQUESTS)].to_vec();
    let name = if requests.len() < t.requests.len() {
        format!("{} (first {} requests)", t.name, requests.len())
    } else {
        t.name.clone()
    };
    Ok(plan(requests, false, &name, &job)?)
}

/// A migration from four nodes to six, each with 1% of the working set, switched halfway,
/// under every client strategy.
fn migration(t: &DemoTrace, working_set_bytes: u64) -> anyhow::Result<NamedMigration> {
    let node = CacheSize::Percent(1.0).resolve(working_set_bytes);
    let job = MigrateJob {
        from: format!("4x{node}").parse().map_err(anyhow::Error::msg)?,
        to: format!("6x{node}").parse().map_err(anyhow::Error::msg)?,
        hash: "ketama".parse().map_err(anyhow::Error::msg)?,
        policy: "lru".parse()?,
        strategies: MigrationStrategy::ALL.to_vec(),
        switch_at: t.requests.len() as u64 / 2,
        window: Window::Requests((t.requests.len() as u64 / 40).max(1)),
        seed: 0,
    };
    let runs = migrate(&mut VecReader::new(t.requests.clone(), false), &job)?;
    Ok(NamedMigration {
        name: format!("{} 4 to 6 nodes", t.name),
        rows: runs.into_iter().flat_map(|m| m.windows).collect(),
    })
}

/// The seed's `visitors` experiment in the deterministic simulation: every strategy at
/// 1–16 clients on one counter, with the simulation's default delays: the network delay
/// and service time histograms measured from memcached 1.6.18 over 127.0.0.1
/// (`loopback-net`, `loopback-service`; see `contention::empirical`).
fn contention() -> anyhow::Result<Vec<crate::contention::result::ContentionRow>> {
    use crate::contention::{self, Mode, Strategy, Workload};
    let sweep = contention::ContentionSweep {
        mode: Mode::Sim,
        server: None,
        clients: vec![1, 2, 4, 8, 16],
        strategies: vec![
            Strategy::Naive,
            Strategy::Cas,
            Strategy::Incr,
            Strategy::Lease,
        ],
        backoffs: Vec::new(),
        base: Workload {
            updates_per_client: 500,
            ..Workload::default()
        },
    };
    Ok(contention::run_sweep(&sweep, |_| {})?)
}

/// A file shipped with cachelab, found relative to the working directory or the crate
/// root.
fn crate_path(relative: &str) -> PathBuf {
    let local = PathBuf::from(relative);
    if local.exists() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
    }
}
