//! The Python references the comparison tests run (libCacheSim, pymemcache): an interpreter
//! that imports them, provisioned into `target/pyenv` by the tests themselves when missing, so
//! `cargo test --release` passes on a fresh clone.
//!
//! Order of search: the `python3` on `PATH`, if it imports every module the test needs (a
//! machine set up by hand keeps its own packages); then `target/pyenv`, if an earlier run made
//! it; else create `target/pyenv` with `python3 -m venv` and `pip install -r
//! tests/python/requirements.txt` into it, once, under a lock file so that test binaries and
//! threads running at the same time wait for one installation instead of racing. What it does
//! goes to the real stderr, which libtest does not capture.
//!
//! When no interpreter can be had (no `python3`, no `venv` module, the package registry
//! unreachable), the test prints a loud notice and passes, except under `CI=true`, where a
//! skipped comparison is no pass and the test fails: the same rule as a missing memcached.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The requirements file installed into `target/pyenv` (pinned libCacheSim, pymemcache,
/// numpy); the README and the scripts point at the same file.
pub const REQUIREMENTS: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/requirements.txt");

/// The virtual environment the tests create: `target/pyenv` in the repository, where
/// `scripts/lcs_replay.py` and `scripts/libcachesim_agreement.py` also look for it.
pub fn venv_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("pyenv")
}

/// The interpreter inside the virtual environment at `dir`.
fn venv_python(dir: &Path) -> PathBuf {
    if cfg!(windows) {
        dir.join("Scripts").join("python.exe")
    } else {
        dir.join("bin").join("python")
    }
}

/// A Python interpreter that imports every module in `modules`, provisioning `target/pyenv`
/// if needed. `None` means none can be had here: a notice naming `check` (what did not run)
/// was printed and the test should return early. Under `CI=true` it panics instead.
pub fn python_with(check: &str, modules: &[&str]) -> Option<PathBuf> {
    let on_path = PathBuf::from("python3");
    if imports(&on_path, modules) {
        return Some(on_path);
    }
    let in_venv = venv_python(&venv_dir());
    if imports(&in_venv, modules) {
        return Some(in_venv);
    }
    match provision(modules) {
        Ok(python) => Some(python),
        Err(reason) => {
            unavailable(check, &reason);
            None
        }
    }
}

/// True when `python` runs and imports every module in `modules`.
fn imports(python: &Path, modules: &[&str]) -> bool {
    let code: Vec<String> = modules.iter().map(|m| format!("import {m}")).collect();
    Command::new(python)
        .args(["-c", &code.join("; ")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Creates `target/pyenv` (unless it exists) and installs the requirements into it, holding
/// `target/pyenv.lock` throughout; returns its interpreter, or why it could not.
fn provision(modules: &[&str]) -> Result<PathBuf, String> {
    let dir = venv_dir();
    let target = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(target).map_err(|e| format!("cannot create {target:?}: {e}"))?;
    let lock_path = target.join("pyenv.lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open the lock file {lock_path:?}: {e}"))?;
    take_lock(&lock, &lock_path)?;
    // Whoever held the lock before may have finished the job.
    let python = venv_python(&dir);
    if imports(&python, modules) {
        return Ok(python);
    }
    if !python.exists() {
        say(&format!(
            "no python3 on PATH imports {}: creating {} with `python3 -m venv`",
            modules.join(", "),
            dir.display()
        ));
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&dir))?;
    }
    say(&format!(
        "installing {} into {} with pip (needs the package registry; once, later runs \
         reuse it; about a minute)",
        requirement_lines().join(" "),
        dir.display()
    ));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
        ])
        .args(["--timeout", "60", "--retries", "2", "-r", REQUIREMENTS]))?;
    if !imports(&python, modules) {
        return Err(format!(
            "{} still cannot import {} after pip install",
            python.display(),
            modules.join(", ")
        ));
    }
    say(&format!("{} is ready", python.display()));
    Ok(python)
}

/// Takes the exclusive lock on `lock`, saying so when another process holds it.
fn take_lock(lock: &File, path: &Path) -> Result<(), String> {
    match lock.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => {
            say(&format!(
                "another test is provisioning Python; waiting for {}",
                path.display()
            ));
            lock.lock()
                .map_err(|e| format!("cannot lock {}: {e}", path.display()))
        }
        Err(TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// The package requirements in [`REQUIREMENTS`], without comments.
fn requirement_lines() -> Vec<&'static str> {
    include_str!("../python/requirements.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Runs `command`; on failure returns it with the end of its output.
fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{shown} failed ({}):\n{}",
        out.status,
        tail.join("\n")
    ))
}

/// Says what provisioning does, on the real stderr (libtest captures only `eprintln!`).
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "cachelab tests: {message}");
}

/// The Python reference for `check` cannot be had: fails under `CI=true`, else prints a loud
/// notice on the real stderr.
fn unavailable(check: &str, reason: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{check} needs Python references, and CI=true requires it to run: {reason}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! SKIPPED: no Python with the references; {check} NOT run !!!!!\n{reason}\n\
         !!!!! to run it: python3 -m venv target/pyenv && target/pyenv/bin/python -m pip \
         install -r tests/python/requirements.txt !!!!!\n"
    );
}
