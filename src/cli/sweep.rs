//! `cachelab sweep PLAN.toml`: list a sweep plan's jobs, run one of them (as a task of a
//! Slurm array or a Kubernetes Indexed Job), or run them all in this process.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use cachelab::atomic_file;
use cachelab::jobs::{self, Plan};
use cachelab::report::{ResultRow, output, results, text};

use super::args::JsonOutputArgs;
use super::check_outputs;

/// Arguments of `cachelab sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The plan file (TOML): traces, policy groups, sizes; see examples/sweep.toml.
    plan: PathBuf,
    /// Print one line per job, tab-separated (index, trace, group, sizes), and the count on
    /// stderr; `wc -l` gives the number of jobs.
    #[arg(long, conflicts_with_all = ["job", "all", "json"])]
    list_jobs: bool,
    /// Run job K alone (0-based). Without it, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX
    /// names the job when set; otherwise every job runs.
    #[arg(long, value_name = "K")]
    job: Option<usize>,
    /// Run every job even when SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX is set.
    #[arg(long, conflicts_with = "job")]
    all: bool,
    #[command(flatten)]
    json: JsonOutputArgs,
}

/// Lists the jobs, or runs one or all and writes the document.
pub fn run(args: SweepArgs) -> Result<()> {
    let plan = Plan::load(&args.plan)?;
    if args.list_jobs {
        return list(&plan);
    }
    let targets: Vec<&Path> = args.json.json.iter().map(PathBuf::as_path).collect();
    check_outputs(&targets, args.json.force)?;
    let which = if args.all {
        None
    } else if let Some(k) = args.job {
        Some(plan.job(k, "--job")?.index)
    } else if let Some(scheduled) = jobs::job_from_env(|name| std::env::var(name).ok())? {
        errln!("job {} from {}", scheduled.index, scheduled.source_name);
        Some(plan.job(scheduled.index, &scheduled.source_name)?.index)
    } else {
        None
    };
    let total = plan.jobs().len();
    let document = jobs::run(&plan, which, |job, out| {
        let sizes: Vec<String> = plan.sizes()[job.sizes.clone()]
            .iter()
            .map(|&s| jobs::size_text(s))
            .collect();
        errln!(
            "job {} of {total}: {}, group {}, sizes {}",
            job.index,
            plan.traces()[job.trace].name,
            plan.groups()[job.group].name,
            sizes.join(",")
        );
        for note in &out.notes {
            errln!("{note}");
        }
        if out.skipped > 0 {
            errln!("skipped {} malformed records in {}", out.skipped, out.trace);
        }
        for result in &out.results {
            for warning in result.details.iter().flat_map(|d| &d.warnings) {
                errln!("warning: {warning}");
            }
        }
    })?;
    if let Some(path) = &args.json.json {
        output::write_json(path, &document, args.json.force)
            .with_context(|| format!("writing the results of {}", args.plan.display()))?;
    }
    if !targets.iter().any(|p| atomic_file::is_stdout(p)) {
        let rows: Vec<ResultRow> = document.rows.into_iter().map(|r| r.row).collect();
        out!("{}", text::table(&results::results_table(&rows)));
    }
    Ok(())
}

/// `--list-jobs`: the jobs on stdout, then the count and the array to ask for on stderr,
/// with a warning for each trace file that is not there.
fn list(plan: &Plan) -> Result<()> {
    for job in plan.jobs() {
        outln!("{}", plan.job_line(job));
    }
    for trace in plan.traces() {
        if !Path::new(&trace.file).is_file() {
            errln!(
                "warning: trace {} ({}) is not a file here",
                trace.name,
                trace.file
            );
        }
    }
    let n = plan.jobs().len();
    errln!(
        "{n} jobs, 0 to {last}: sbatch --array=0-{last}, or a Kubernetes Indexed Job with completions: {n}",
        last = n.saturating_sub(1)
    );
    Ok(())
}
