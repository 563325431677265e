//! Agreement with libCacheSim, the research community's reference simulator: LRU and FIFO
//! miss counts on the bundled `cloudPhysicsIO` trace must be identical at 0.1%, 1%, 10% and
//! 50% of the working set, in bytes and in objects.
//!
//! Runs `scripts/libcachesim_agreement.py` with a Python that imports `libcachesim` and
//! `numpy`: the `python3` on `PATH` if it has them, else `target/pyenv`, which the test
//! creates and fills from `tests/python/requirements.txt` when missing (see
//! `tests/common/python.rs`). Without Python or the package registry the test fails under
//! `CI=true` and otherwise prints a loud notice that the comparison did not run.

mod common;

use std::process::Command;

#[test]
fn lru_and_fifo_equal_libcachesim_on_cloudphysics() {
    let Some(python) =
        common::python::python_with("the libCacheSim agreement check", &["libcachesim", "numpy"])
    else {
        return;
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let out_dir = tempfile::tempdir().expect("temp dir");
    let report = out_dir.path().join("agreement.md");
    let out = Command::new(&python)
        .arg(format!("{root}/scripts/libcachesim_agreement.py"))
        .args([
            "--policies",
            "lru,fifo",
            "--traces",
            "cloudPhysicsIO",
            "--check",
        ])
        .args(["--cachelab", env!("CARGO_BIN_EXE_cachelab")])
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    assert!(
        out.status.success(),
        "disagreement with libCacheSim:\n{}\n{}{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // 2 policies × 2 modes × 4 sizes, every one exact.
    assert!(text.contains("16 of 16 configurations agree"), "{text}");
}
