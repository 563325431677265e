//! The sweep document (`cachelab sweep --json`): one job's rows or every job's, reading it
//! back ([`read`]) and merging the jobs' documents into the whole run's ([`merge`]).
//!
//! ```json
//! {"kind": "sweep", "plan_digest": "…", "jobs": 12, "job": 3, "rows": [ … ]}
//! ```
//!
//! `job` is `null` in a whole-run document, which is what one process running every job
//! writes and what [`merge`] returns; written through `report::output::write_json`, a
//! merged document is the same bytes as the one-process file (tested end to end in
//! `tests/sweep.rs`). Numbers are read back exactly (serde_json's `float_roundtrip` feature), so writing a
//! document that was read changes nothing.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::JsonResultRow;

/// The `kind` of a sweep document: always `"sweep"`, so that a reader given some other
/// cachelab JSON says so instead of failing on a missing field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// Rows of a sweep plan's jobs.
    Sweep,
}

/// The JSON a sweep job writes, and a whole run's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepDocument {
    /// Always [`DocumentKind::Sweep`].
    pub kind: DocumentKind,
    /// The plan's digest (`jobs::Plan::digest`): documents merge only when it is equal.
    pub plan_digest: String,
    /// How many jobs the plan has.
    pub jobs: usize,
    /// The job these rows are from; `None` (`null`) when they are every job's.
    pub job: Option<usize>,
    /// The rows: per job, policies outermost, then sizes; jobs in order.
    pub rows: Vec<JsonResultRow>,
}

/// Why a sweep document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The file could not be read.
    #[error("{path}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a sweep document.
    #[error(
        "{path}: line {line}, column {column}: {message}; expected a sweep document as `cachelab sweep --json` writes it"
    )]
    Json {
        /// The file.
        path: String,
        /// 1-based line (0 when the JSON reader did not say).
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON reader said.
        message: String,
    },
}

/// Reads the sweep document at `path`, every number exactly as written.
pub fn read(path: &Path) -> Result<SweepDocument, DocumentError> {
    let shown = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| DocumentError::Read {
        path: shown(),
        source,
    })?;
    let json_error = |e: serde_json::Error| DocumentError::Json {
        path: shown(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_string(),
    };
    // serde_json reads numbers back exactly (its `float_roundtrip` feature), so a document
    // read and written again is the same bytes.
    serde_json::from_str::<SweepDocument>(&text).map_err(json_error)
}

/// Why documents could not be merged; each names the jobs concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no sweep document to merge; expected one per job")]
    Empty,
    /// A document comes from another plan (or another version of it).
    #[error(
        "{} comes from another plan than {} (digest {}, {} jobs, against {}, {} jobs); merge the documents of one run of one plan file",
        JobName(*job), JobName(*first_job), digest, jobs, first_digest, first_jobs
    )]
    DifferentPlan {
        /// The document's job (`None`: a whole run).
        job: Option<usize>,
        /// Its plan digest.
        digest: String,
        /// Its job count.
        jobs: usize,
        /// The job of the document it was compared with.
        first_job: Option<usize>,
        /// That document's digest.
        first_digest: String,
        /// That document's job count.
        first_jobs: usize,
    },
    /// Whole-run documents among the parts, or more than one whole run.
    #[error(
        "{wholes} whole-run document(s) (every job, \"job\": null) given with {}; merge either the parts of one run or one whole-run document",
        if parts.is_empty() { "each other".to_string() } else { format!("the parts of jobs {}", job_list(parts)) }
    )]
    WholeRunMixed {
        /// How many whole-run documents there are.
        wholes: usize,
        /// The jobs of the parts among them.
        parts: Vec<usize>,
    },
    /// A document claims a job the plan does not have.
    #[error("a document says it is job {job}, but its plan has jobs 0 to {}", jobs.saturating_sub(1))]
    JobOutOfRange {
        /// The job it claims.
        job: usize,
        /// The plan's job count.
        jobs: usize,
    },
    /// Some jobs appear more than once.
    #[error(
        "jobs {} appear more than once; give each job's document once",
        job_list(jobs)
    )]
    Duplicate {
        /// The jobs, in order.
        jobs: Vec<usize>,
    },
    /// Some jobs are missing.
    #[error(
        "jobs {} of 0 to {} are missing; run them (--job K) and merge again",
        job_list(missing), jobs.saturating_sub(1)
    )]
    Missing {
        /// The jobs with no document, in order.
        missing: Vec<usize>,
        /// The plan's job count.
        jobs: usize,
    },
}

/// A document's job for messages: `job 3`, or `a whole-run document`.
struct JobName(Option<usize>);

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(k) => write!(f, "job {k}"),
            None => f.write_str("a whole-run document"),
        }
    }
}

/// Sorted job numbers as ranges: `0-3, 7, 9-10`.
fn job_list(jobs: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < jobs.len() {
        let start = jobs[i];
        while i + 1 < jobs.len() && jobs[i + 1] == jobs[i] + 1 {
            i += 1;
        }
        out.push(if jobs[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", jobs[i])
        });
        i += 1;
    }
    out.join(", ")
}

/// Puts the documents of every job of one plan back together: the same digest and job
/// count throughout, each job exactly once, rows concatenated in job order, `job: null`.
/// The order of `parts` does not matter. One whole-run document alone is returned as it is.
pub fn merge(mut parts: Vec<SweepDocument>) -> Result<SweepDocument, MergeError> {
    // A total order on what the checks look at, so that errors do not depend on the order
    // the files were given in.
    parts.sort_by(|a, b| (a.job, &a.plan_digest, a.jobs).cmp(&(b.job, &b.plan_digest, b.jobs)));
    let Some(first) = parts.first() else {
        return Err(MergeError::Empty);
    };
    for part in &parts[1..] {
        if part.plan_digest != first.plan_digest || part.jobs != first.jobs {
            return Err(MergeError::DifferentPlan {
                job: part.job,
                digest: part.plan_digest.clone(),
                jobs: part.jobs,
                first_job: first.job,
                first_digest: first.plan_digest.clone(),
                first_jobs: first.jobs,
            });
        }
    }
    let jobs = first.jobs;
    let wholes = parts.iter().filter(|p| p.job.is_none()).count();
    if wholes > 0 {
        if parts.len() == 1 {
            return Ok(parts.remove(0));
        }
        return Err(MergeError::WholeRunMixed {
            wholes,
            parts: parts.iter().filter_map(|p| p.job).collect(),
        });
    }
    let numbers: Vec<usize> = parts.iter().filter_map(|p| p.job).collect();
    if let Some(&job) = numbers.iter().find(|&&k| k >= jobs) {
        return Err(MergeError::JobOutOfRange { job, jobs });
    }
    let mut duplicate: Vec<usize> = numbers
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    duplicate.dedup();
    if !duplicate.is_empty() {
        return Err(MergeError::Duplicate { jobs: duplicate });
    }
    if numbers.len() < jobs {
        let missing = (0..jobs)
            .filter(|k| numbers.binary_search(k).is_err())
            .collect();
        return Err(MergeError::Missing { missing, jobs });
    }
    let plan_digest = first.plan_digest.clone();
    Ok(SweepDocument {
        kind: DocumentKind::Sweep,
        plan_digest,
        jobs,
        job: None,
        rows: parts.into_iter().flat_map(|p| p.rows).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(policy: &str, misses: u64) -> JsonResultRow {
        // Through JSON, so that optional fields added to the row need no change here.
        serde_json::from_value(serde_json::json!({
            "trace": "t", "policy": policy, "capacity": 10, "capacity_unit": "bytes",
            "requests": 7, "hits": 7 - misses, "misses": misses,
            "miss_ratio": misses as f64 / 7.0, "byte_miss_ratio": null,
            "bytes_requested": 7, "bytes_missed": misses, "evictions": 0, "refused": 0,
        }))
        .expect("a complete row")
    }

    fn part(job: Option<usize>, jobs: usize, digest: &str) -> SweepDocument {
        SweepDocument {
            kind: DocumentKind::Sweep,
            plan_digest: digest.into(),
            jobs,
            job,
            rows: vec![row(&format!("p{job:?}"), job.unwrap_or(0) as u64)],
        }
    }

    #[test]
    fn merges_in_job_order_whatever_the_order_given() {
        let given = vec![
            part(Some(2), 3, "d"),
            part(Some(0), 3, "d"),
            part(Some(1), 3, "d"),
        ];
        let merged = merge(given).unwrap();
        assert_eq!(merged.job, None);
        assert_eq!(merged.jobs, 3);
        let policies: Vec<&str> = merged.rows.iter().map(|r| r.row.policy.as_str()).collect();
        assert_eq!(policies, ["pSome(0)", "pSome(1)", "pSome(2)"]);
        let whole = part(None, 3, "d");
        assert_eq!(merge(vec![whole.clone()]).unwrap(), whole);
    }

    #[test]
    fn a_missing_job_is_named() {
        let e = merge(vec![part(Some(0), 5, "d"), part(Some(3), 5, "d")]).unwrap_err();
        assert_eq!(
            e,
            MergeError::Missing {
                missing: vec![1, 2, 4],
                jobs: 5
            }
        );
        assert!(
            e.to_string()
                .starts_with("jobs 1-2, 4 of 0 to 4 are missing"),
            "{e}"
        );
        assert_eq!(merge(vec![]).unwrap_err(), MergeError::Empty);
    }

    #[test]
    fn a_duplicate_job_is_named() {
        let e = merge(vec![
            part(Some(1), 2, "d"),
            part(Some(0), 2, "d"),
            part(Some(1), 2, "d"),
        ])
        .unwrap_err();
        assert_eq!(e, MergeError::Duplicate { jobs: vec![1] });
        assert!(
            e.to_string().contains("jobs 1 appear more than once"),
            "{e}"
        );
    }

    #[test]
    fn parts_of_different_plans_do_not_mix() {
        let e = merge(vec![part(Some(1), 2, "other"), part(Some(0), 2, "d")]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("job 1 comes from another plan than job 0"),
            "{text}"
        );
        assert!(
            text.contains("digest other, 2 jobs, against d, 2 jobs"),
            "{text}"
        );
        let e = merge(vec![part(Some(0), 2, "d"), part(Some(1), 3, "d")]).unwrap_err();
        assert!(
            matches!(e, MergeError::DifferentPlan { jobs: 3, .. }),
            "{e}"
        );
    }

    #[test]
    fn a_whole_run_does_not_mix_with_parts() {
        let e = merge(vec![
            part(Some(0), 2, "d"),
            part(None, 2, "d"),
            part(Some(1), 2, "d"),
        ])
        .unwrap_err();
        assert_eq!(
            e,
            MergeError::WholeRunMixed {
                wholes: 1,
                parts: vec![0, 1]
            }
        );
        assert!(e.to_string().contains("the parts of jobs 0-1"), "{e}");
        let e = merge(vec![part(None, 2, "d"), part(None, 2, "d")]).unwrap_err();
        assert!(e.to_string().contains("given with each other"), "{e}");
        let e = merge(vec![part(Some(0), 1, "d"), part(Some(4), 1, "d")]).unwrap_err();
        assert_eq!(e, MergeError::JobOutOfRange { job: 4, jobs: 1 });
    }

    #[test]
    fn read_names_the_file_and_keeps_numbers_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part-0.json");
        let mut doc = part(Some(0), 1, "d");
        // 0.24286024479160714, which serde_json without `float_roundtrip` reads back as …712.
        doc.rows[0].row.miss_ratio = Some(21251.0 / 87503.0);
        crate::report::output::write_json(&path, &doc, false).unwrap();
        assert_eq!(read(&path).unwrap(), doc);

        std::fs::write(&path, "{\"kind\": \"cluster\"}").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: line 1", path.display())), "{e}");
        assert!(e.contains("expected `sweep`"), "{e}");
        std::fs::write(&path, "{\"kind\": \"sweep\",\n \"jobs\": 1,").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = read(&dir.path().join("none.json")).unwrap_err();
        assert!(matches!(e, DocumentError::Read { .. }), "{e}");
    }
}
