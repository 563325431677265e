//! Slab rebalancing, the model against a real memcached 1.6.18: a trace that first fills the
//! memory with small values and then asks only for large ones, replayed with `cachelab
//! replay` into `memcached -m 8` (its defaults: page mover on, `slab_automove=1`, a 30-second
//! window) and simulated with `cachelab sim -p memcached -s 8MiB`. The automover must move
//! pages from the small values' class to the large values' class in both, and the model
//! must predict the real server's hit ratio per 20-second window within [`TOLERANCE`] and
//! its pages per class within one page.
//!
//! **Time.** The real automover runs once a second of wall time and only moves a page once
//! its window has filled (30 s), so the replay is paced: the trace's second `s` is sent
//! (one `cachelab replay` of its 1,000 requests) when `s` seconds have passed since the
//! server started, and the seconds at which each part really went out are kept. The
//! simulated trace carries those measured seconds as its timestamps, so the model's
//! automover runs on the same clock the server's did even when a loaded machine makes a
//! second's replay late. The test takes about 60 seconds. What stays apart is below a
//! second: memcached's LRU maintainer checks the clock when it wakes, up to a second after
//! the tick (its sleep backs off to 1 s), so its moves land at irregular points within
//! their second, where the model's take effect at the second's first request. A probe
//! polling `slabs_moved` after every second of this trace saw 1, 2, 2, 3, 4, 6 pages moved
//! at the ends of seconds 30–35; the model moves one at the start of each of seconds 30–35.
//!
//! The trace: seconds 0–7, 8,000 distinct keys with 1,000-byte requests (class 12, 1,184-byte
//! chunks, 885 a page: 8 pages fill the 8 MiB, the last 920 keys evict);
//! seconds 8–59, 1,000 requests a second over 9,000 keys with 5,000-byte requests (class 19,
//! 5,680-byte chunks, 184 a page), uniformly at random (seeded). Class 19 gets one page past
//! the limit, as memcached grants every class its first; once the window has filled (the
//! 31st run, at second 30) the automover moves a page a second from class 12 (oldest tail)
//! to class 19 (evicting, young) until class 12 has 2 pages left, and the large keys' hit
//! ratio climbs from 2% to 14%.
//!
//! Measured (memcached 1.6.18, debug build, 2-core machine under load), hit ratio per
//! 20-second window, real / model: 0.0129 / 0.0129, 0.0621 / 0.0661, 0.1425 / 0.1423;
//! pages at the end, real and model: class 12 2, class 19 7; the real server's
//! `slabs_moved` 6 and `slab_reassign_evictions_nomem` 5,310 (six full pages of 885). The
//! real server's transition varies from run to run with its maintainer's wake-ups (per
//! 10-second windows, the one holding the moves measured 0.1029 and 0.0876 in two runs
//! against the model's 0.1108), hence windows of 20 seconds.
//!
//! Needs the `memcached` binary on `PATH`; without it the test fails when `CI=true` and
//! otherwise prints a loud notice and passes.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::{memcached_missing, ok, start_memcached};

/// Largest per-window hit ratio gap accepted (the issue's).
const TOLERANCE: f64 = 0.02;
/// Requests per trace second.
const PER_SECOND: usize = 1000;
/// Seconds of small values, then the last second of the trace.
const SMALL_SECONDS: usize = 8;
const SECONDS: usize = 60;
/// Trace seconds per compared window.
const WINDOW_SECONDS: usize = 20;

/// The trace, one `(key, size)` list per second.
fn trace() -> Vec<Vec<(u64, u64)>> {
    let mut lcg: u64 = 0x2545_f491_4f6c_dd1d;
    (0..SECONDS)
        .map(|s| {
            (0..PER_SECOND)
                .map(|i| {
                    if s < SMALL_SECONDS {
                        (1_000_000 + (s * PER_SECOND + i) as u64, 1000)
                    } else {
                        lcg = lcg
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        (2_000_000 + (lcg >> 33) % 9000, 5000)
                    }
                })
                .collect()
        })
        .collect()
}

fn write_csv(path: &Path, rows: impl Iterator<Item = (u64, u64, u64)>) {
    let mut text = String::from("time,key,size\n");
    for (t, k, s) in rows {
        text.push_str(&format!("{t},{k},{s}\n"));
    }
    std::fs::write(path, text).expect("write the trace");
}

/// `stats slabs` (or another `stats` group) of a live server.
fn stats(addr: &str, group: &str) -> BTreeMap<String, String> {
    let stream = TcpStream::connect(addr).expect("connect");
    let mut writer = stream.try_clone().expect("clone");
    let command = format!("stats {group}");
    writer
        .write_all(format!("{}\r\n", command.trim_end()).as_bytes())
        .expect("send");
    let mut rows = BTreeMap::new();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("read");
        let l = line.trim_end();
        if l == "END" || l.is_empty() {
            break;
        }
        let mut words = l.split(' ').skip(1);
        if let (Some(k), Some(v)) = (words.next(), words.next()) {
            rows.insert(k.to_string(), v.to_string());
        }
    }
    rows
}

/// Pages per class from `stats slabs` rows.
fn real_pages(slabs: &BTreeMap<String, String>) -> BTreeMap<u64, u64> {
    slabs
        .iter()
        .filter_map(|(k, v)| {
            let class = k.strip_suffix(":total_pages")?.parse().ok()?;
            Some((class, v.parse().ok()?))
        })
        .collect()
}

#[test]
fn model_predicts_a_rebalancing_memcached() {
    if memcached_missing("the slab rebalancing comparison") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = trace();

    // The real server, paced second by second.
    let (_server, addr) = start_memcached(&["-m", "8"]);
    let addr = addr.to_string();
    let start = Instant::now();
    let mut real_hits = Vec::new();
    let mut sent_at = Vec::new();
    for (s, requests) in trace.iter().enumerate() {
        let due = start + Duration::from_secs(s as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let second = start.elapsed().as_secs();
        sent_at.push(second);
        let part = dir.path().join(format!("part{s}.csv"));
        write_csv(&part, requests.iter().map(|&(k, size)| (s as u64, k, size)));
        let out = ok(&["replay", "--server", &addr, part.to_str().expect("utf-8")]);
        // "1000 requests, 123 hits, hit ratio …"
        let hits: u64 = out
            .split(", ")
            .nth(1)
            .and_then(|h| h.strip_suffix(" hits"))
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| panic!("replay output {out:?}"));
        real_hits.push(hits);
    }
    let real_slabs = stats(&addr, "slabs");
    let real_general = stats(&addr, "");
    let real_pages = real_pages(&real_slabs);

    // The model, on the seconds the real replay kept.
    let sim_trace = dir.path().join("trace.csv");
    write_csv(
        &sim_trace,
        trace
            .iter()
            .zip(&sent_at)
            .flat_map(|(requests, &t)| requests.iter().map(move |&(k, size)| (t, k, size))),
    );
    let window_csv = dir.path().join("windows.csv");
    let json = dir.path().join("sim.json");
    ok(&[
        "sim",
        "-p",
        "memcached",
        "-s",
        "8MiB",
        sim_trace.to_str().expect("utf-8"),
        "--window",
        &PER_SECOND.to_string(),
        "--window-csv",
        window_csv.to_str().expect("utf-8"),
        "--json",
        json.to_str().expect("utf-8"),
    ]);
    // Hits per trace second (the sim's windows are one second's reads).
    let sim_hits: Vec<u64> = std::fs::read_to_string(&window_csv)
        .expect("window csv")
        .lines()
        .skip(1)
        .map(|l| {
            // ..., requests, hits, misses, miss_ratio, byte_miss_ratio
            l.rsplit(',').nth(3).expect("hits").parse().expect("hits")
        })
        .collect();
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("parse");
    let sim_pages: BTreeMap<u64, u64> = result[0]["details"]["data"]["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| {
            (
                c["class"].as_u64().expect("class"),
                c["pages"].as_u64().expect("pages"),
            )
        })
        .collect();

    let windows = |hits: &[u64]| -> Vec<f64> {
        hits.chunks(WINDOW_SECONDS)
            .map(|w| w.iter().sum::<u64>() as f64 / (w.len() * PER_SECOND) as f64)
            .collect()
    };
    let (real_windows, sim_windows) = (windows(&real_hits), windows(&sim_hits));
    eprintln!("sent at seconds {sent_at:?}");
    eprintln!("hits per second, real {real_hits:?}");
    eprintln!("hits per second, model {sim_hits:?}");
    eprintln!("window  real    model   gap");
    let mut worst: f64 = 0.0;
    for (i, (r, m)) in real_windows.iter().zip(&sim_windows).enumerate() {
        eprintln!("{i:6}  {r:.4}  {m:.4}  {:+.4}", m - r);
        worst = worst.max((m - r).abs());
    }
    eprintln!(
        "pages real {real_pages:?} model {sim_pages:?}; real slabs_moved {:?}, evictions_nomem {:?}",
        real_general.get("slabs_moved"),
        real_general.get("slab_reassign_evictions_nomem")
    );
    assert_eq!(real_windows.len(), sim_windows.len());
    // Rebalancing happened in both: the large class holds more than its first page.
    assert!(
        real_pages.get(&19).copied().unwrap_or(0) >= 4,
        "{real_pages:?}"
    );
    assert!(
        sim_pages.get(&19).copied().unwrap_or(0) >= 4,
        "{sim_pages:?}"
    );
    for class in real_pages.keys().chain(sim_pages.keys()) {
        let (r, m) = (
            real_pages.get(class).copied().unwrap_or(0),
            sim_pages.get(class).copied().unwrap_or(0),
        );
        assert!(
            r.abs_diff(m) <= 1,
            "class {class}: real {r} pages, model {m}"
        );
    }
    assert!(worst <= TOLERANCE, "worst window gap {worst:.4}");
}
