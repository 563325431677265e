//! Reproduces the OLTP row of the ARC paper's table of hit ratios (N. Megiddo and
//! D. S. Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST 2003, Table VIII):
//! LRU and ARC, object mode, cold start, hit ratio over all requests.
//!
//! The trace is the paper's own `OLTP.lis` (zstd-compressed, bundled as `traces/OLTP.lis.zst`;
//! source and licence in `traces/README.md`): each line is
//! `start_block block_count ignored request_no` and stands for `block_count` requests, one
//! per consecutive block. A tiny local parser is enough here; the real reader lives in
//! `src/trace`.

use std::io::{BufRead, BufReader};

use cachelab::policy::{Policy, arc::ArcCache, lru::Lru};
use cachelab::request::Request;

/// The bundled trace, inside the repository.
const TRACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/OLTP.lis.zst");

/// `(c, LRU %, ARC %)` from the paper.
const PUBLISHED: [(u64, f64, f64); 5] = [
    (1000, 32.83, 38.93),
    (2000, 42.47, 46.08),
    (5000, 53.65, 55.25),
    (10000, 60.70, 61.87),
    (15000, 64.63, 65.40),
];

fn read_lis(path: &str) -> Vec<u64> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let reader = BufReader::new(zstd::Decoder::new(file).expect("zstd stream"));
    let mut keys = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.expect("readable line");
        let mut fields = line.split_whitespace();
        let mut field = || -> u64 {
            fields
                .next()
                .and_then(|f| f.parse().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "{path}:{}: expected `start count ignored request_no`",
                        n + 1
                    )
                })
        };
        let (start, count) = (field(), field());
        keys.extend(start..start + count);
    }
    keys
}

fn hit_ratio(policy: &mut dyn Policy, keys: &[u64]) -> f64 {
    let hits = keys
        .iter()
        .filter(|&&k| policy.get(&Request::get(k, 1)).hit)
        .count();
    100.0 * hits as f64 / keys.len() as f64
}

#[test]
fn arc_paper_oltp_table_is_reproduced() {
    let keys = read_lis(TRACE);
    let mut report = String::new();
    let mut ok = true;
    for (c, lru_paper, arc_paper) in PUBLISHED {
        let lru = hit_ratio(&mut Lru::new(c), &keys);
        let arc = hit_ratio(&mut ArcCache::new(c), &keys);
        report +=
            &format!("c={c}: LRU {lru:.3} (paper {lru_paper}), ARC {arc:.3} (paper {arc_paper})\n");
        ok &= (lru - lru_paper).abs() <= 0.01 && (arc - arc_paper).abs() <= 0.05;
    }
    eprintln!("{report}");
    assert!(ok, "differs from the paper:\n{report}");
}
