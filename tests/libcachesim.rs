//! Agreement with libCacheSim, the research community's reference simulator: LRU and FIFO
//! miss counts on the bundled `cloudPhysicsIO` trace must be identical at 0.1%, 1%, 10% and
//! 50% of the working set, in bytes and in objects.
//!
//! Runs `scripts/libcachesim_agreement.py`, which needs `pip install libcachesim` (done by
//! `.ci/run`). Without it this test fails and says how to install it: a missing reference
//! is not a pass.

use std::process::Command;

#[test]
fn lru_and_fifo_equal_libcachesim_on_cloudphysics() {
    let root = env!("CARGO_MANIFEST_DIR");
    let probe = Command::new("python3")
        .args(["-c", "import libcachesim"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "the libcachesim Python package is missing: run `python3 -m pip install libcachesim` (.ci/run does)"
    );
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("agreement.md");
    let out = Command::new("python3")
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
        .expect("run python3");
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
