//! Sweeps beyond one machine: a plan file splits a large sweep into numbered jobs that an
//! existing scheduler runs (a Slurm job array, a Kubernetes Indexed Job, `xargs -P`), and
//! the jobs' JSON documents merge back into exactly what one process would have written.
//!
//! Start from [`Plan::load`]: it reads and checks a plan file ([`plan_file`] has the
//! format), and numbers its [`Job`]s, one per (trace, policy group, size range): traces
//! outermost, then groups, then size ranges, each in the file's order. [`run`] runs one job
//! or all of them and returns a [`SweepDocument`]; [`merge()`] puts the documents of every
//! job back together. The jobs share nothing but the plan file and the traces: no
//! coordinator, no network, no home-made cluster layer. A document carries the plan's
//! digest ([`Plan::digest`]), so parts of different plans, or of an edited one, never mix.
//!
//! Which job a process runs comes from `--job K`, or else from the index the scheduler sets
//! ([`job_from_env`]: `SLURM_ARRAY_TASK_ID`, `JOB_COMPLETION_INDEX`).
//!
//! ```
//! use cachelab::jobs::{self, Plan};
//!
//! let dir = tempfile::tempdir()?;
//! let plan_file = dir.path().join("plan.toml");
//! let traces = concat!(env!("CARGO_MANIFEST_DIR"), "/traces");
//! std::fs::write(&plan_file, format!(r#"
//! sizes = ["5%", "10%", "20%"]
//! sizes_per_job = 2
//! [[trace]]
//! path = "{traces}/cs.trace.gz"
//! [groups]
//! classic = ["lru", "fifo"]
//! modern = ["s3fifo", "sieve"]
//! "#))?;
//! let plan = Plan::load(&plan_file)?;
//! assert_eq!(plan.jobs().len(), 4); // 1 trace × 2 groups × 2 size ranges
//! let parts = (0..4)
//!     .map(|k| jobs::run(&plan, Some(k), |_, _| {}))
//!     .collect::<Result<Vec<_>, _>>()?;
//! let whole = jobs::run(&plan, None, |_, _| {})?;
//! assert_eq!(jobs::merge(parts)?, whole);
//! assert_eq!(whole.rows.len(), 2 * 2 * 3); // every (policy, size) of every group
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod plan_file;

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::report::{JsonResultRow, ResultRow};
use crate::sim::{SimError, Sweep, SweepOutput, run_sweep};
use crate::units::{CacheSize, Warmup};

pub use crate::report::sweep::{
    DocumentError, DocumentKind, MergeError, SweepDocument, merge, read,
};
pub use plan_file::{PlanError, PlanTrace, PolicyGroup, Position, size_text};

/// The environment variables schedulers set to a task's 0-based index, in the order they
/// are consulted: Slurm job arrays and Kubernetes Indexed Jobs.
pub const JOB_INDEX_VARIABLES: [&str; 2] = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

/// A checked plan and its numbered jobs.
#[derive(Debug, Clone)]
pub struct Plan {
    path: PathBuf,
    traces: Vec<PlanTrace>,
    groups: Vec<PolicyGroup>,
    sizes: Vec<CacheSize>,
    objects: bool,
    warmup: Warmup,
    seed: u64,
    honour_ops: bool,
    jobs: Vec<Job>,
    digest: String,
}

/// One job: a trace, a policy group and a range of the plan's sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its number, 0-based: the position in [`Plan::jobs`].
    pub index: usize,
    /// Index into [`Plan::traces`].
    pub trace: usize,
    /// Index into [`Plan::groups`].
    pub group: usize,
    /// Range of [`Plan::sizes`].
    pub sizes: Range<usize>,
}

/// Why a job could not be chosen or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The job number is not one of the plan's.
    #[error(
        "job {job} (from {source_name}) does not exist: {plan} has {jobs} jobs, numbered 0 to {last}; a Slurm array for it is --array=0-{last}, a Kubernetes Indexed Job has completions: {jobs}",
        last = jobs.saturating_sub(1)
    )]
    OutOfRange {
        /// The job asked for.
        job: usize,
        /// Where the number came from (`--job`, a variable's name).
        source_name: String,
        /// The plan file.
        plan: String,
        /// How many jobs the plan has.
        jobs: usize,
    },
    /// A scheduler's index variable is not a job number.
    #[error("{variable}={value:?} is not a job number; expected a whole number from 0")]
    BadIndex {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// Both index variables are set, to different jobs.
    #[error(
        "SLURM_ARRAY_TASK_ID={slurm} and JOB_COMPLETION_INDEX={kubernetes} name different jobs; give the job with --job K"
    )]
    Conflict {
        /// `SLURM_ARRAY_TASK_ID`.
        slurm: usize,
        /// `JOB_COMPLETION_INDEX`.
        kubernetes: usize,
    },
    /// The job's sweep failed.
    #[error("job {job} ({trace}, group {group})")]
    Run {
        /// The job.
        job: usize,
        /// Its trace's name.
        trace: String,
        /// Its group's name.
        group: String,
        /// What failed.
        source: Box<SimError>,
    },
}

impl Plan {
    /// Reads and checks the plan file at `path` and numbers its jobs.
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Plan::parse(&text, path)
    }

    /// Checks the plan `text` as if read from `path`, which names it in errors and whose
    /// directory relative trace paths start from.
    pub fn parse(text: &str, path: &Path) -> Result<Plan, PlanError> {
        let parsed = plan_file::parse(text, path)?;
        let ranges = plan_file::size_ranges(parsed.sizes.len(), parsed.sizes_per_job);
        let mut jobs = Vec::new();
        for trace in 0..parsed.traces.len() {
            for group in 0..parsed.groups.len() {
                for sizes in &ranges {
                    jobs.push(Job {
                        index: jobs.len(),
                        trace,
                        group,
                        sizes: sizes.clone(),
                    });
                }
            }
        }
        let mut plan = Plan {
            path: path.to_path_buf(),
            traces: parsed.traces,
            groups: parsed.groups,
            sizes: parsed.sizes,
            objects: parsed.objects,
            warmup: parsed.warmup,
            seed: parsed.seed,
            honour_ops: parsed.honour_ops,
            jobs,
            digest: String::new(),
        };
        plan.digest = plan.compute_digest(text);
        Ok(plan)
    }

    /// The digest every document of this plan carries: XXH3-128, in hex, of the cachelab
    /// version, the plan file's bytes and the job list ([`Plan::job_line`] of every job).
    /// Editing the plan, even a comment, changes it; the directory the plan sits in does not.
    fn compute_digest(&self, text: &str) -> String {
        let mut input = format!(
            "cachelab {} sweep plan\n{text}\n\0jobs\n",
            env!("CARGO_PKG_VERSION")
        );
        for job in &self.jobs {
            let _ = writeln!(input, "{}", self.job_line(job));
        }
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(input.as_bytes()))
    }

    /// The plan file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The plan's digest (see [`SweepDocument::plan_digest`]).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Every job, in order: job `k` is `jobs()[k]`.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The traces, in the file's order.
    pub fn traces(&self) -> &[PlanTrace] {
        &self.traces
    }

    /// The policy groups, in the file's order.
    pub fn groups(&self) -> &[PolicyGroup] {
        &self.groups
    }

    /// Every cache size, in the file's order.
    pub fn sizes(&self) -> &[CacheSize] {
        &self.sizes
    }

    /// Job `k`, or [`JobError::OutOfRange`]; `source_name` says where `k` came from
    /// (`--job`, a variable's name), for the message.
    pub fn job(&self, k: usize, source_name: &str) -> Result<&Job, JobError> {
        self.jobs.get(k).ok_or_else(|| JobError::OutOfRange {
            job: k,
            source_name: source_name.to_string(),
            plan: self.path.display().to_string(),
            jobs: self.jobs.len(),
        })
    }

    /// The job as `--list-jobs` prints it, tab-separated: index, trace, group, sizes
    /// (comma-separated, as `sim -s` takes them).
    pub fn job_line(&self, job: &Job) -> String {
        let sizes: Vec<String> = self.sizes[job.sizes.clone()]
            .iter()
            .map(|&s| size_text(s))
            .collect();
        format!(
            "{}\t{}\t{}\t{}",
            job.index,
            self.traces[job.trace].name,
            self.groups[job.group].name,
            sizes.join(",")
        )
    }

    /// What `cachelab sim` would be given for this job.
    pub fn sweep(&self, job: &Job) -> Sweep {
        let trace = &self.traces[job.trace];
        Sweep {
            trace: trace.file.clone(),
            read: trace.read.clone(),
            policies: self.groups[job.group].policies.clone(),
            sizes: self.sizes[job.sizes.clone()].to_vec(),
            objects: self.objects,
            warmup: self.warmup,
            window: None,
            honour_ops: self.honour_ops,
            seed: self.seed,
        }
    }
}

/// Runs one job: its sweep, with the rows named after the plan's trace name.
pub fn run_job(plan: &Plan, job: &Job) -> Result<SweepOutput, JobError> {
    let trace = &plan.traces[job.trace];
    let mut out = run_sweep(&plan.sweep(job), None).map_err(|source| JobError::Run {
        job: job.index,
        trace: trace.name.clone(),
        group: plan.groups[job.group].name.clone(),
        source: Box::new(source),
    })?;
    out.trace = trace.name.clone();
    Ok(out)
}

/// Runs job `which` (or every job, in order, for `None`) and returns its document;
/// `each` sees every job's output as it finishes (for notes, warnings, progress).
pub fn run(
    plan: &Plan,
    which: Option<usize>,
    mut each: impl FnMut(&Job, &SweepOutput),
) -> Result<SweepDocument, JobError> {
    let jobs: &[Job] = match which {
        Some(k) => std::slice::from_ref(plan.job(k, "the job asked for")?),
        None => &plan.jobs,
    };
    let mut rows = Vec::new();
    for job in jobs {
        let out = run_job(plan, job)?;
        rows.extend(JsonResultRow::with_details(
            &ResultRow::from_sweep(&out),
            &out,
        ));
        each(job, &out);
    }
    Ok(SweepDocument {
        kind: DocumentKind::Sweep,
        plan_digest: plan.digest.clone(),
        jobs: plan.jobs.len(),
        job: which,
        rows,
    })
}

/// A job number a scheduler gave this process, and the variable(s) it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledJob {
    /// The 0-based job number.
    pub index: usize,
    /// `SLURM_ARRAY_TASK_ID`, `JOB_COMPLETION_INDEX`, or both joined by "and".
    pub source_name: String,
}

/// The job number a scheduler set, looked up through `var` (`std::env::var` in the
/// binary, a map in tests): `SLURM_ARRAY_TASK_ID` or `JOB_COMPLETION_INDEX`. An empty value
/// counts as unset; both set to the same number is that number; both set to different
/// numbers is [`JobError::Conflict`]; neither is `None`.
pub fn job_from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<ScheduledJob>, JobError> {
    let mut found: Vec<(&'static str, usize)> = Vec::new();
    for name in JOB_INDEX_VARIABLES {
        let Some(value) = var(name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let index = value.trim().parse().map_err(|_| JobError::BadIndex {
            variable: name,
            value: value.clone(),
        })?;
        found.push((name, index));
    }
    Ok(match found[..] {
        [] => None,
        [(name, index)] => Some(ScheduledJob {
            index,
            source_name: name.to_string(),
        }),
        [(_, slurm), (_, kubernetes), ..] if slurm != kubernetes => {
            return Err(JobError::Conflict { slurm, kubernetes });
        }
        [(first, index), (second, _), ..] => Some(ScheduledJob {
            index,
            source_name: format!("{first} and {second}"),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Plan {
        Plan::parse(text, Path::new("dir/plan.toml")).unwrap()
    }

    const THREE_BY_TWO: &str = r#"
sizes = ["1%", "2%", "5%", "10%", "20%"]
sizes_per_job = 2
[[trace]]
path = "a.gz"
[[trace]]
path = "b.gz"
name = "bee"
[groups]
classic = ["lru", "fifo"]
modern = ["sieve"]
"#;

    #[test]
    fn jobs_are_numbered_traces_then_groups_then_size_ranges() {
        let p = plan(THREE_BY_TWO);
        let lines: Vec<String> = p.jobs().iter().map(|j| p.job_line(j)).collect();
        assert_eq!(
            lines,
            [
                "0\ta\tclassic\t1%,2%",
                "1\ta\tclassic\t5%,10%",
                "2\ta\tclassic\t20%",
                "3\ta\tmodern\t1%,2%",
                "4\ta\tmodern\t5%,10%",
                "5\ta\tmodern\t20%",
                "6\tbee\tclassic\t1%,2%",
                "7\tbee\tclassic\t5%,10%",
                "8\tbee\tclassic\t20%",
                "9\tbee\tmodern\t1%,2%",
                "10\tbee\tmodern\t5%,10%",
                "11\tbee\tmodern\t20%",
            ]
        );
        for (k, job) in p.jobs().iter().enumerate() {
            assert_eq!(job.index, k);
        }
        let sweep = p.sweep(&p.jobs()[7]);
        assert_eq!(sweep.trace, "dir/b.gz");
        assert_eq!(
            sweep.sizes,
            [CacheSize::Percent(5.0), CacheSize::Percent(10.0)]
        );
        assert_eq!(sweep.policies.len(), 2);
    }

    #[test]
    fn the_digest_follows_the_plans_bytes_not_its_directory() {
        let a = plan(THREE_BY_TWO);
        let b = Plan::parse(THREE_BY_TWO, Path::new("/elsewhere/plan.toml")).unwrap();
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.digest().len(), 32);
        let edited = plan(&format!("# a comment\n{THREE_BY_TWO}"));
        assert_ne!(a.digest(), edited.digest());
    }

    #[test]
    fn a_job_past_the_last_is_refused_with_the_range() {
        let p = plan(THREE_BY_TWO);
        assert!(p.job(11, "--job").is_ok());
        let e = p.job(12, "SLURM_ARRAY_TASK_ID").unwrap_err().to_string();
        assert!(
            e.contains("job 12 (from SLURM_ARRAY_TASK_ID) does not exist"),
            "{e}"
        );
        assert!(e.contains("12 jobs, numbered 0 to 11"), "{e}");
        assert!(e.contains("--array=0-11"), "{e}");
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_scheduler_index_comes_from_either_variable() {
        assert_eq!(job_from_env(env(&[])).unwrap(), None);
        assert_eq!(
            job_from_env(env(&[("SLURM_ARRAY_TASK_ID", "")])).unwrap(),
            None
        );
        let slurm = job_from_env(env(&[("SLURM_ARRAY_TASK_ID", "3")])).unwrap();
        assert_eq!(
            slurm,
            Some(ScheduledJob {
                index: 3,
                source_name: "SLURM_ARRAY_TASK_ID".into()
            })
        );
        let k8s = job_from_env(env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap();
        assert_eq!(
            k8s.map(|j| (j.index, j.source_name)),
            Some((0, "JOB_COMPLETION_INDEX".into()))
        );
        let both = job_from_env(env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("JOB_COMPLETION_INDEX", "2"),
        ]))
        .unwrap();
        assert_eq!(
            both.map(|j| j.source_name),
            Some("SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX".into())
        );
        let e = job_from_env(env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("JOB_COMPLETION_INDEX", "5"),
        ]))
        .unwrap_err();
        assert!(
            matches!(
                e,
                JobError::Conflict {
                    slurm: 2,
                    kubernetes: 5
                }
            ),
            "{e}"
        );
        let e = job_from_env(env(&[("JOB_COMPLETION_INDEX", "-1")])).unwrap_err();
        assert!(e.to_string().contains("JOB_COMPLETION_INDEX=\"-1\""), "{e}");
    }
}
