//! `cachelab sweep`: a plan's jobs run as separate processes (`xargs -P2`, as a scheduler
//! would run them) merge into exactly the bytes of the one-process run; job selection by
//! `--job` and by the schedulers' index variables; the listing; the shipped example plan.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cachelab::jobs::{self, MergeError, SweepDocument};
use cachelab::report::output;

const BIN: &str = env!("CARGO_BIN_EXE_cachelab");

fn traces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces")
}

/// Two small bundled traces, three groups (one the memcached model, whose JSON rows carry
/// its memory report), five sizes in ranges of two: 2 × 3 × 3 = 18 jobs, enough for a
/// shell glob to sort `part-10` before `part-2`.
fn write_plan(dir: &Path) -> PathBuf {
    let t = traces();
    let plan = format!(
        r#"# scale-out test plan
sizes = ["1%", "5%", "10%", "20%", "40%"]
sizes_per_job = 2
warmup = "0.1"

[[trace]]
path = "{cpp}"

[[trace]]
path = "{cs}"
name = "cs"
format = "lirs"

[groups]
classic = ["lru", "fifo", "lfu"]
modern = ["s3fifo", "sieve", "wtinylfu"]
model = ["memcached"]
"#,
        cpp = t.join("cpp.trace.gz").display(),
        cs = t.join("cs.trace.gz").display(),
    );
    let path = dir.join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    path
}

/// Runs `cachelab sweep ARGS` in `dir`, with neither index variable set unless `env`
/// sets it.
fn sweep(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .arg("sweep")
        .args(args)
        .current_dir(dir)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run cachelab sweep")
}

fn succeeds(out: Output) -> Output {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn fails_with(out: Output, text: &str) -> String {
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains(text), "expected {text:?} in: {stderr}");
    stderr
}

fn job_count(dir: &Path) -> usize {
    let out = succeeds(sweep(dir, &["plan.toml", "--list-jobs"], &[]));
    String::from_utf8(out.stdout).unwrap().lines().count()
}

#[test]
fn jobs_run_apart_merge_into_the_bytes_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_plan(d);
    let n = job_count(d);
    assert_eq!(n, 18);

    // Every job as its own process, two at a time, as a scheduler would run them.
    let jobs_run = Command::new("sh")
        .arg("-c")
        .arg(
            "seq 0 $((N-1)) | xargs -P2 -I{} \"$CACHELAB\" sweep plan.toml --job {} --json part-{}.json",
        )
        .env("N", n.to_string())
        .env("CACHELAB", BIN)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .current_dir(d)
        .output()
        .expect("run sh");
    assert!(
        jobs_run.status.success(),
        "a job failed: {}",
        String::from_utf8_lossy(&jobs_run.stderr)
    );

    succeeds(sweep(d, &["plan.toml", "--json", "all.json"], &[]));
    succeeds(sweep(d, &["plan.toml", "--json", "again.json"], &[]));
    let all = std::fs::read(d.join("all.json")).unwrap();
    assert_eq!(
        all,
        std::fs::read(d.join("again.json")).unwrap(),
        "two one-process runs differ"
    );

    // The parts in a shell glob's order (part-0, part-1, part-10, …), then reversed.
    let mut names: Vec<String> = (0..n).map(|k| format!("part-{k}.json")).collect();
    names.sort();
    assert_eq!(names[2], "part-10.json");
    for order in [names.clone(), names.iter().rev().cloned().collect()] {
        let parts: Vec<SweepDocument> = order
            .iter()
            .map(|name| jobs::read(&d.join(name)).unwrap())
            .collect();
        let merged = jobs::merge(parts).unwrap();
        let path = d.join("merged.json");
        output::write_json(&path, &merged, true).unwrap();
        let merged_bytes = std::fs::read(&path).unwrap();
        assert!(
            merged_bytes == all,
            "the merged parts differ from the one-process run"
        );
    }

    let whole = jobs::read(&d.join("all.json")).unwrap();
    assert_eq!(whole.job, None);
    assert_eq!(whole.jobs, n);
    // Per trace: 3 + 3 + 1 policies at 5 sizes.
    assert_eq!(whole.rows.len(), 2 * 7 * 5);
    assert!(whole.rows.iter().any(|r| r.details.is_some()));
    let text = String::from_utf8(all).unwrap();
    assert!(
        text.starts_with("{\n  \"kind\": \"sweep\",\n  \"plan_digest\": \""),
        "{text:.200}"
    );

    // A part missing, a part given twice, a part of an edited plan: refused, naming jobs.
    let read = |name: &str| jobs::read(&d.join(name)).unwrap();
    let some: Vec<SweepDocument> = (0..n)
        .filter(|&k| k != 7)
        .map(|k| read(&format!("part-{k}.json")))
        .collect();
    assert_eq!(
        jobs::merge(some).unwrap_err(),
        MergeError::Missing {
            missing: vec![7],
            jobs: n
        }
    );
    let mut twice: Vec<SweepDocument> = (0..n).map(|k| read(&format!("part-{k}.json"))).collect();
    twice.push(read("part-3.json"));
    assert_eq!(
        jobs::merge(twice).unwrap_err(),
        MergeError::Duplicate { jobs: vec![3] }
    );
    let plan = std::fs::read_to_string(d.join("plan.toml")).unwrap();
    std::fs::write(d.join("plan.toml"), format!("{plan}# edited\n")).unwrap();
    succeeds(sweep(
        d,
        &["plan.toml", "--job", "0", "--json", "edited-0.json"],
        &[],
    ));
    let mut mixed: Vec<SweepDocument> = (1..n).map(|k| read(&format!("part-{k}.json"))).collect();
    mixed.push(read("edited-0.json"));
    let e = jobs::merge(mixed).unwrap_err();
    assert!(matches!(e, MergeError::DifferentPlan { .. }), "{e}");
}

#[test]
fn a_plan_runs_what_sim_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cs = traces().join("cs.trace.gz");
    std::fs::write(
        d.join("plan.toml"),
        format!(
            "sizes = \"5%,64\"\n[[trace]]\npath = \"{}\"\n[groups]\ng = [\"lru\", \"s3fifo:small=0.2\"]\n",
            cs.display()
        ),
    )
    .unwrap();
    succeeds(sweep(d, &["plan.toml", "--json", "sweep.json"], &[]));
    let out = Command::new(BIN)
        .args([
            "sim",
            cs.to_str().unwrap(),
            "-p",
            "lru,s3fifo:small=0.2",
            "-s",
            "5%,64",
        ])
        .args(["--json", "sim.json"])
        .current_dir(d)
        .output()
        .unwrap();
    succeeds(out);
    // The sweep's rows, written as `sim --json` writes its rows, are the same bytes.
    let from_sweep = jobs::read(&d.join("sweep.json")).unwrap();
    output::write_json(&d.join("rows.json"), &from_sweep.rows, false).unwrap();
    assert_eq!(
        std::fs::read_to_string(d.join("rows.json")).unwrap(),
        std::fs::read_to_string(d.join("sim.json")).unwrap()
    );
}

#[test]
fn list_jobs_prints_one_line_per_job_and_the_count() {
    let dir = tempfile::tempdir().unwrap();
    write_plan(dir.path());
    let out = succeeds(sweep(dir.path(), &["plan.toml", "--list-jobs"], &[]));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 18);
    assert_eq!(lines[0], "0\tcpp.trace\tclassic\t1%,5%");
    assert_eq!(lines[2], "2\tcpp.trace\tclassic\t40%");
    assert_eq!(lines[3], "3\tcpp.trace\tmodern\t1%,5%");
    assert_eq!(lines[17], "17\tcs\tmodel\t40%");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.lines().last(),
        Some(
            "18 jobs, 0 to 17: sbatch --array=0-17, or a Kubernetes Indexed Job with completions: 18"
        )
    );
}

#[test]
fn the_job_comes_from_the_flag_or_the_schedulers_variable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_plan(d);
    let job_of = |file: &str| jobs::read(&d.join(file)).unwrap().job;

    let out = succeeds(sweep(
        d,
        &["plan.toml", "--json", "s.json"],
        &[("SLURM_ARRAY_TASK_ID", "4")],
    ));
    assert!(String::from_utf8_lossy(&out.stderr).contains("job 4 from SLURM_ARRAY_TASK_ID"));
    assert_eq!(job_of("s.json"), Some(4));

    let out = succeeds(sweep(
        d,
        &["plan.toml", "--json", "k.json"],
        &[("JOB_COMPLETION_INDEX", "0")],
    ));
    assert!(String::from_utf8_lossy(&out.stderr).contains("job 0 from JOB_COMPLETION_INDEX"));
    assert_eq!(job_of("k.json"), Some(0));

    // --job wins over the environment; --all runs everything whatever it says.
    succeeds(sweep(
        d,
        &["plan.toml", "--job", "2", "--json", "j.json"],
        &[("SLURM_ARRAY_TASK_ID", "4")],
    ));
    assert_eq!(job_of("j.json"), Some(2));

    fails_with(
        sweep(
            d,
            &["plan.toml", "--json", "x.json"],
            &[("SLURM_ARRAY_TASK_ID", "1"), ("JOB_COMPLETION_INDEX", "2")],
        ),
        "SLURM_ARRAY_TASK_ID=1 and JOB_COMPLETION_INDEX=2 name different jobs",
    );
    fails_with(
        sweep(
            d,
            &["plan.toml", "--json", "x.json"],
            &[("SLURM_ARRAY_TASK_ID", "18")],
        ),
        "job 18 (from SLURM_ARRAY_TASK_ID) does not exist",
    );
    let stderr = fails_with(
        sweep(d, &["plan.toml", "--job", "99"], &[]),
        "numbered 0 to 17",
    );
    assert!(stderr.contains("--array=0-17"), "{stderr}");
    assert!(!d.join("x.json").exists());
}

#[test]
fn plan_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("plan.toml"),
        "sizes = [\"1%\"]\n[[trace]]\npath = \"t.gz\"\n[groups]\nclassic = [\"lru\", \"lfru\"]\n",
    )
    .unwrap();
    let stderr = fails_with(
        sweep(d, &["plan.toml", "--list-jobs"], &[]),
        "plan.toml: line 5, column 19",
    );
    assert!(stderr.contains("unknown policy \"lfru\""), "{stderr}");
}

#[test]
fn the_example_plan_lists_twelve_jobs() {
    let out = common::ok(&["sweep", "examples/sweep.toml", "--list-jobs"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[0], "0\tcpp\tclassic\t1%,5%");
    assert_eq!(lines[11], "11\tcloudPhysicsIO\tmodern\t10%,20%");
}
