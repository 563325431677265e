//! Which cache should my memoised function have? Memoise an expensive function, record the
//! workload the memo sees to an oracleGeneral file, and ask `cachelab mrc` (the miss ratio at
//! every size) and `cachelab sim` (several policies at a few sizes).
//!
//! Run with `cargo build --release && cargo run --release --example memo_capture [FILE]
//! [RATE]`. FILE defaults to `memo_capture.oracleGeneral.zst` in the temporary directory;
//! RATE (default 1) samples that fraction of the arguments. When the `cachelab` binary is
//! next to the example (after `cargo build --release`) or on the `PATH`, the example runs
//! both commands; otherwise it prints them.

use std::hash::{BuildHasherDefault, DefaultHasher};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use cachelab::cache::{CaptureFile, Memo};

/// Distinct arguments the program calls the function with.
const ARGUMENTS: usize = 10_000;
/// Calls the program makes.
const CALLS: usize = 200_000;
/// Results the memo keeps (5% of the arguments), as `functools.lru_cache(maxsize=500)`.
const MAXSIZE: u64 = 500;

/// The expensive function: 2,000 rounds of a 64-bit mix (a few microseconds).
fn expensive(x: &u64) -> u64 {
    let mut h = *x;
    for _ in 0..2_000 {
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

/// Arguments drawn from Zipf(0.9) over `ARGUMENTS` values (argument `i` with weight
/// `1 / (i + 1)^0.9`), by inverting the cumulative weights; a fixed xorshift seed makes the
/// stream the same every run.
struct SkewedArguments {
    cumulative: Vec<f64>,
    state: u64,
}

impl SkewedArguments {
    fn new() -> SkewedArguments {
        let mut total = 0.0;
        let cumulative = (0..ARGUMENTS)
            .map(|i| {
                total += 1.0 / ((i + 1) as f64).powf(0.9);
                total
            })
            .collect();
        SkewedArguments {
            cumulative,
            state: 0x2545_F491_4F6C_DD1D,
        }
    }
}

impl Iterator for SkewedArguments {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let total = self.cumulative[ARGUMENTS - 1];
        let u = (self.state >> 11) as f64 / (1u64 << 53) as f64 * total;
        Some(self.cumulative.partition_point(|&c| c < u) as u64)
    }
}

/// The `cachelab` binary beside this example (`target/release/examples/..`), else the one on
/// the `PATH` if it runs; `None` when there is neither.
fn find_cachelab() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()?
        .parent()?
        .parent()?
        .join(format!("cachelab{}", std::env::consts::EXE_SUFFIX));
    if beside.is_file() {
        return Some(beside);
    }
    let on_path = Command::new("cachelab").arg("--version").output();
    on_path
        .is_ok_and(|out| out.status.success())
        .then(|| PathBuf::from("cachelab"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        std::env::temp_dir()
            .join("memo_capture.oracleGeneral.zst")
            .to_string_lossy()
            .into_owned()
    });
    let rate: f64 = match args.next() {
        Some(text) => text
            .parse()
            .map_err(|_| format!("`{text}` is not a sampling rate: expected a number in (0, 1]"))?,
        None => 1.0,
    };

    // `@functools.lru_cache(maxsize=500)`, recording every call the memo's policy sees. A
    // fixed hasher gives every argument the same id in every run, so the file (and
    // W-TinyLFU's decisions on it) repeat.
    let memo = Memo::new(expensive)
        .policy("lru")
        .capacity(MAXSIZE)
        .hasher(BuildHasherDefault::<DefaultHasher>::default())
        .capture_to(CaptureFile::create(&path, rate)?)
        .build()?;
    let started = Instant::now();
    let mut checksum = 0u64;
    for x in SkewedArguments::new().take(CALLS) {
        checksum ^= memo.call(&x);
    }
    let elapsed = started.elapsed();
    let summary = memo
        .finish_capture()
        .expect("the memo captures to a file")?;
    let info = memo.cache_info();
    println!(
        "{CALLS} calls over {ARGUMENTS} arguments in {:.2} s (checksum {checksum:016x})",
        elapsed.as_secs_f64()
    );
    println!(
        "lru, maxsize={}: hits={} misses={} (miss ratio {:.3})",
        info.maxsize,
        info.hits,
        info.misses,
        info.misses as f64 / CALLS as f64
    );
    println!(
        "captured {} of {} requests to {path}",
        summary.written, summary.seen
    );

    // Sizes in results: the memo's own and a few around it, scaled by the sampling rate
    // (a sample of `rate` of the arguments behaves like a cache `rate` times as large).
    let sizes: Vec<String> = [250u64, 500, 1000]
        .iter()
        .map(|&n| ((n as f64 * rate).round() as u64).max(1).to_string())
        .collect();
    let sizes = sizes.join(",");
    let commands: [Vec<&str>; 2] = [
        vec!["mrc", &path, "--objects"],
        vec![
            "sim",
            &path,
            "--objects",
            "-p",
            "lru,s3fifo,wtinylfu,sieve",
            "-s",
            &sizes,
        ],
    ];
    println!(
        "\nThe memo's miss ratio is `sim`'s lru row at {}; a lower miss ratio in another row is the policy (.policy(…)) or size (.capacity(…)) to pick, and `mrc` shows what each size would give LRU.",
        ((MAXSIZE as f64 * rate).round() as u64).max(1)
    );
    match find_cachelab() {
        Some(cachelab) => {
            for command in &commands {
                println!("\n$ cachelab {}", command.join(" "));
                let status = Command::new(&cachelab).args(command).status()?;
                if !status.success() {
                    return Err(format!("cachelab {} failed: {status}", command[0]).into());
                }
            }
        }
        None => {
            println!(
                "\nNo cachelab binary beside this example or on the PATH (cargo build --release makes one). Run:"
            );
            for command in &commands {
                println!("cachelab {}", command.join(" "));
            }
        }
    }
    Ok(())
}
