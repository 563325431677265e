//! `cachelab demo`: the main job on bundled data, end to end, in one command.
//!
//! It generates a seeded Zipf trace, takes the bundled real trace
//! `traces/cloudPhysicsIO.oracleGeneral.bin.zst`, prints and saves each trace's
//! statistics, replays both through every registered policy at several cache sizes (one
//! pass per trace), draws each trace's miss-ratio curves (exact LRU, SHARDS, AET) with the
//! size each needs for a few target hit ratios, and writes `results.csv`, `results.json`,
//! the charts and `report.md`, which shows them with the table. Output is deterministic.
//!
//! The output directory is marked with a `.cachelab-demo` file; the demo rewrites a
//! directory it wrote before, and refuses any other non-empty directory unless forced, so
//! it never overwrites what a user wrote.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::catalog::CATALOG;
use crate::mrc::{Grid, Method, Settings, profile_slice};
use crate::policy::PolicySpec;
use crate::report::curve::{curve_chart, summary};
use crate::report::{ResultRow, chart, output, table};
use crate::request::Request;
use crate::sim::{Config, SimOptions, simulate_slice};
use crate::trace::generate::{GenOptions, Generator};
use crate::trace::{self, ReadOptions};
use crate::units::CacheSize;

/// The bundled real trace the demo replays, relative to the crate root.
pub const BUNDLED_TRACE: &str = "traces/cloudPhysicsIO.oracleGeneral.bin.zst";

/// Cache sizes the demo sweeps, in percent of each trace's working set (bytes).
pub const SIZES_PERCENT: [f64; 6] = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0];

const MARKER: &str = ".cachelab-demo";

/// Where the demo writes.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Output directory.
    pub output: PathBuf,
    /// Write into a non-empty directory that no demo wrote.
    pub force: bool,
}

/// What the demo wrote, for the terminal.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// Output directory.
    pub output: PathBuf,
    /// Files written, relative to it.
    pub files: Vec<String>,
    /// The result table.
    pub table: String,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.table)?;
        writeln!(f, "\nwrote {}:", self.output.display())?;
        for file in &self.files {
            writeln!(f, "  {file}")?;
        }
        Ok(())
    }
}

/// Runs the demo.
pub fn run(options: &DemoOptions) -> anyhow::Result<DemoSummary> {
    prepare_dir(&options.output, options.force)?;
    let zipf = GenOptions {
        dist: "zipf:alpha=0.8".parse()?,
        keys: 100_000,
        requests: 1_000_000,
        sizes: "lognormal:median=4096,sigma=1.0".parse()?,
        seed: 7,
    };
    let zipf_requests = trace::read_all(&mut Generator::new(zipf)?)?;
    let bundled = bundled_trace_path();
    let mut real = trace::open(&bundled.to_string_lossy(), &ReadOptions::default())?;
    let real_requests = trace::read_all(real.as_mut())?;

    let traces = [
        ("zipf-0.8".to_string(), zipf_requests),
        ("cloudPhysicsIO".to_string(), real_requests),
    ];
    let policies: Vec<PolicySpec> = CATALOG
        .plain()
        .filter_map(|p| p.name.parse().ok())
        .collect();

    let mut rows = Vec::new();
    let mut stats_text = String::new();
    let mut files = Vec::new();
    for (name, requests) in &traces {
        let mut counter = trace::stats::StatsCounter::default();
        counter.add(requests);
        let stats = counter.finish();
        stats_text.push_str(&format!("### {name}\n\n```text\n{stats}```\n\n"));
        println!("{name}\n{stats}");
        let configs: Vec<Config> = policies
            .iter()
            .flat_map(|spec| {
                SIZES_PERCENT.iter().map(move |&pct| {
                    let capacity = CacheSize::Percent(pct).resolve(stats.working_set_bytes);
                    Config::new(spec.clone(), capacity)
                })
            })
            .collect();
        let results = simulate_slice(requests, &configs, &SimOptions::default())?;
        rows.extend(results.iter().map(|r| ResultRow::new(name, false, r)));
        let chart_file = format!("miss_ratio_{name}.svg");
        chart::miss_ratio_chart(&rows, name).draw(&options.output.join(&chart_file))?;
        files.push(chart_file);
    }

    let curves_text = miss_ratio_curves(&options.output, &traces, &mut files)?;
    let contention_text = contention_sweeps(&options.output, &mut files)?;
    output::write_csv(&options.output.join("results.csv"), &rows, true)?;
    output::write_json(&options.output.join("results.json"), &rows, true)?;
    let table = table::render(&rows);
    let mut report = markdown_report(
        &traces.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
        &stats_text,
        &table,
    );
    report.push_str(&curves_text);
    report.push_str(&contention_text);
    output::write_text(&options.output.join("report.md"), &report, true)?;
    files.extend(["results.csv", "results.json", "report.md"].map(String::from));
    Ok(DemoSummary {
        output: options.output.clone(),
        files,
        table,
    })
}

/// Each trace's miss-ratio curve by the exact method, SHARDS at 1% and AET, with the size
/// each needs for a few target hit ratios; writes a chart per trace and returns the report
/// section.
fn miss_ratio_curves(
    dir: &Path,
    traces: &[(String, Vec<Request>)],
    files: &mut Vec<String>,
) -> anyhow::Result<String> {
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
    let targets = [0.3, 0.5, 0.7];
    let mut text = String::from(
        "\n## Miss-ratio curves: the miss ratio at every size, from one read\n\n\
         `cachelab mrc` on each trace: LRU exactly (Mattson stack distances), SHARDS on a 1% \
         sample of the keys and AET from reuse times, at 100 sizes from 0.1% to 100% of the \
         working set, and the size each method needs for a target hit ratio.\n",
    );
    for (name, requests) in traces {
        let mut out = profile_slice(requests, &settings)?;
        out.trace = name.clone();
        let chart_file = format!("mrc_{name}.svg");
        curve_chart(&out).draw(&dir.join(&chart_file))?;
        files.push(chart_file.clone());
        text.push_str(&format!(
            "\n### {name}\n\n![miss-ratio curves of {name}]({chart_file})\n\n```text\n{}```\n",
            summary(&out, &targets)
        ));
    }
    Ok(text)
}

/// The seed's `visitors` experiment: every strategy at 1–16 clients on one counter, in the
/// deterministic simulation and on real threads; writes a CSV and four charts per mode and
/// returns the report section.
fn contention_sweeps(dir: &Path, files: &mut Vec<String>) -> anyhow::Result<String> {
    use crate::contention::{self, Mode, Strategy, Workload, result};
    let mut text = String::from(
        "\n## Contention: clients racing to increment `visitors`\n\n\
         One counter, every strategy (naive get+set, gets/cas retry, incr, lease), 1–16 clients; \
         `sim` is the seeded discrete-event simulation (round trip uniform 100–300 µs, 5 µs \
         service, 500 updates per client), `threads` runs real threads against the in-process \
         store (2,000 updates per client; its numbers vary from run to run). Naive loses updates \
         whenever requests interleave; the others are exact, at the \
         price of retries or latency.\n",
    );
    for (mode, updates) in [(Mode::Sim, 500), (Mode::Threads, 2_000)] {
        let sweep = contention::ContentionSweep {
            mode,
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
                updates_per_client: updates,
                ..Workload::default()
            },
        };
        let rows = contention::run_sweep(&sweep, |_| {})?;
        let name = mode.name();
        output::write_csv(&dir.join(format!("contention_{name}.csv")), &rows, true)?;
        files.push(format!("contention_{name}.csv"));
        text.push_str(&format!(
            "\n### {name}\n\n```text\n{}```\n\n",
            result::render_table(&rows)
        ));
        for (stem, chart) in result::charts(&rows) {
            let file = format!("contention_{name}_{stem}.svg");
            chart.draw(&dir.join(&file))?;
            text.push_str(&format!("![{stem} ({name})]({file})\n"));
            files.push(file);
        }
    }
    Ok(text)
}

/// The bundled trace, found relative to the working directory or the crate root.
fn bundled_trace_path() -> PathBuf {
    let local = PathBuf::from(BUNDLED_TRACE);
    if local.exists() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(BUNDLED_TRACE)
    }
}

/// Creates the output directory, or checks that writing into it loses nothing.
fn prepare_dir(dir: &Path, force: bool) -> anyhow::Result<()> {
    if dir.exists() {
        let marked = dir.join(MARKER).exists();
        let empty = fs::read_dir(dir)?.next().is_none();
        if !marked && !empty && !force {
            anyhow::bail!(
                "{} exists and was not written by `cachelab demo`; choose another directory with -o, or pass --force",
                dir.display()
            );
        }
    } else {
        fs::create_dir_all(dir)?;
    }
    fs::write(
        dir.join(MARKER),
        "This directory is written by `cachelab demo`, which rewrites it on each run.\n",
    )?;
    Ok(())
}

fn markdown_report(traces: &[String], stats: &str, table: &str) -> String {
    let mut out = String::from("# cachelab demo report\n\n");
    out.push_str(
        "Every registered policy replayed on a generated Zipf(0.8) trace (1,000,000 requests over \
         100,000 keys, lognormal sizes with median 4 KiB, seed 7) and on the bundled real trace \
         `cloudPhysicsIO` (libCacheSim's sample of a CloudPhysics block trace). Cache sizes are \
         percentages of each trace's working set in bytes; every request is a read that inserts \
         on a miss, as libCacheSim replays.\n\n## Miss-ratio charts\n\n",
    );
    for name in traces {
        out.push_str(&format!(
            "![miss ratio on {name}](miss_ratio_{name}.svg)\n\n"
        ));
    }
    out.push_str("## Traces\n\n");
    out.push_str(stats);
    out.push_str("## Results\n\n```text\n");
    out.push_str(table);
    out.push_str("```\n\nThe same numbers are in `results.csv` and `results.json`.\n");
    out
}
