//! Regressions in the traces area (see `tests/regressions.rs`): trace readers, format
//! detection, the `-s`/`-p` lists, `trace gen`/`convert`.

use super::common::{fails, ok};

const BUNDLED: &str = "traces/cloudPhysicsIO.oracleGeneral.bin.zst";

/// The CSV rows (header dropped) `cachelab sim BUNDLED <args> -o -` prints.
fn sim_rows(args: &[&str]) -> Vec<csv::StringRecord> {
    let mut all = vec!["sim", BUNDLED];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "-"]);
    let out = ok(&all);
    csv::Reader::from_reader(out.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("CSV rows")
}

/// The `(policy, capacity)` columns of CSV rows.
fn policies_and_capacities(rows: &[csv::StringRecord]) -> Vec<(String, u64)> {
    rows.iter()
        .map(|row| (row[1].to_string(), row[2].parse().expect("capacity")))
        .collect()
}

// See: issue 12 — `cachelab sim TRACE -p lru -s 0.5` simulated a 1-byte cache (0.5 bytes
// rounded) where a libCacheSim user means half the working set.
#[test]
fn a_bare_size_below_one_is_a_fraction_of_the_working_set() {
    let fraction = sim_rows(&["-p", "lru", "-s", "0.5"]);
    let percent = sim_rows(&["-p", "lru", "-s", "50%"]);
    assert_eq!(fraction, percent);
    let capacity = policies_and_capacities(&fraction)[0].1;
    // The bundled trace's working set is 2,029,769,728 bytes.
    assert_eq!(capacity, 1_014_884_864, "{fraction:?}");
    // A bare 1.5 is neither a whole byte count nor a fraction: an error, not 2 bytes.
    let err = fails(&["sim", BUNDLED, "-p", "lru", "-s", "1.5"]);
    assert!(err.contains("between 0 and 1"), "{err}");
}

// See: issue 12 — `cachelab sim TRACE -p lru -s 18446744073709551616` (2^64) was clamped to
// 2^64 - 1 bytes while `-s 20000000000000000000` was rejected.
#[test]
fn sizes_of_two_to_the_64_and_more_are_the_same_error() {
    let two_64 = fails(&["sim", BUNDLED, "-p", "lru", "-s", "18446744073709551616"]);
    let two_e19 = fails(&["sim", BUNDLED, "-p", "lru", "-s", "20000000000000000000"]);
    for err in [&two_64, &two_e19] {
        assert!(err.contains("a byte size below 2^64"), "{err}");
    }
    assert_eq!(
        two_64.replace("18446744073709551616", "N"),
        two_e19.replace("20000000000000000000", "N")
    );
}

// See: issue 12 — `cachelab sim TRACE -p lru -s 1%,10%` and `-s auto` were rejected
// (libCacheSim's cachesim takes both).
#[test]
fn size_lists_and_auto() {
    let listed = policies_and_capacities(&sim_rows(&["-p", "lru", "-s", "1%,10%"]));
    assert_eq!(
        listed,
        vec![("lru".into(), 20_297_697), ("lru".into(), 202_976_972)]
    );
    let auto = policies_and_capacities(&sim_rows(&["-p", "lru", "-s", "auto"]));
    let capacities: Vec<u64> = auto.iter().map(|(_, c)| *c).collect();
    // 0.1% … 80% of 2,029,769,728 bytes, ten points, increasing.
    assert_eq!(capacities.len(), 10, "{auto:?}");
    assert_eq!(capacities[0], 2_029_769);
    assert_eq!(capacities[9], 1_623_815_782);
    assert!(capacities.windows(2).all(|w| w[0] < w[1]), "{capacities:?}");
    // bench takes the same lists.
    let bench = ok(&[
        "bench", BUNDLED, "-p", "lru", "-s", "1%,0.1", "--repeat", "1",
    ]);
    assert_eq!(bench.lines().count(), 3, "{bench}");
}

// See: issue 12 — `cachelab sim TRACE -p lru,arc -s 1%` and `-p all` were rejected.
#[test]
fn policy_lists_and_all() {
    let rows = policies_and_capacities(&sim_rows(&[
        "-p",
        "lru,s3fifo:small=0.2,threshold=1,arc",
        "-s",
        "1%",
    ]));
    let names: Vec<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["lru", "s3fifo:small=0.2,threshold=1", "arc"]);
    let all = policies_and_capacities(&sim_rows(&["-p", "all", "-s", "1%", "--objects"]));
    let names: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    for expected in ["lru", "fifo", "arc", "s3fifo", "belady"] {
        assert!(
            names.iter().any(|n| n.split(':').next() == Some(expected)),
            "{names:?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("memcached") || n.starts_with("ttl"))
    );
    let err = fails(&["sim", BUNDLED, "-p", "lru,,arc", "-s", "1%"]);
    assert!(err.contains("no empty item"), "{err}");
}

/// A fresh temporary directory for test files.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

// See: issue 12 — `cachelab trace stats cloudPhysicsIO.csv` (libCacheSim's own CSV sample,
// header `version,time,op,size,lbn`) keyed on the first column and reported 1 distinct key.
#[test]
fn a_csv_header_picks_the_key_column_by_name() {
    let out =
        super::common::cachelab(&["trace", "stats", "--json", "traces/cloudPhysicsIO.csv.zst"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON stats");
    // The same counts as the oracleGeneral conversion of the same sample (traces/README.md).
    assert_eq!(stats["requests"], 113_872, "{stats}");
    assert_eq!(stats["distinct_keys"], 48_974, "{stats}");
    assert_eq!(stats["working_set_bytes"], 2_029_769_728_u64, "{stats}");
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("key=lbn,size=size,time=time"), "{notes}");
    // A key column that holds one value, chosen by default, is an error naming the fix.
    let dir = scratch();
    let path = dir.path().join("versioned.csv");
    let rows: String = (0..50).map(|i| format!("1,{i},{}\n", i % 7)).collect();
    std::fs::write(&path, format!("version,seq,blk\n{rows}")).expect("write");
    let err = fails(&["trace", "stats", path.to_str().expect("utf-8")]);
    assert!(
        err.contains("`version` (column 1)") && err.contains("--csv key="),
        "{err}"
    );
    let named = ok(&[
        "trace",
        "stats",
        path.to_str().expect("utf-8"),
        "--csv",
        "key=blk",
    ]);
    assert!(named.contains("distinct keys      7"), "{named}");
}

// See: issue 12 — random bytes named `.csv` were accepted as 780 requests, and
// `--format csv` on an oracleGeneral file gave 1,735 requests.
#[test]
fn binary_input_is_never_read_as_csv() {
    let dir = scratch();
    // Deterministic "random" bytes (an LCG), as `head -c 100000 /dev/urandom` would give.
    let mut x: u32 = 12345;
    let junk: Vec<u8> = (0..100_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let junk_path = dir.path().join("junk.csv");
    std::fs::write(&junk_path, &junk).expect("write");
    let junk_path = junk_path.to_str().expect("utf-8");
    let err = fails(&["trace", "stats", junk_path]);
    assert!(err.contains("junk.csv") && err.contains("binary"), "{err}");
    let err = fails(&["trace", "stats", "--format", "csv", junk_path]);
    assert!(
        err.contains("junk.csv: line 1") && err.contains("binary file"),
        "{err}"
    );
    let err = fails(&["trace", "stats", "--format", "csv", BUNDLED]);
    assert!(
        err.contains("line 1") && err.contains("NUL or other control bytes"),
        "{err}"
    );
    let err = fails(&["sim", "--format", "csv", BUNDLED, "-p", "lru", "-s", "1%"]);
    assert!(err.contains("binary file"), "{err}");
}

/// `cachelab trace gen <args> -o DIR/name` and the bytes it wrote.
fn generated(dir: &std::path::Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let path = path.to_str().expect("utf-8");
    let mut all = vec!["trace", "gen"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", path]);
    ok(&all);
    std::fs::read(path).expect("the generated trace")
}

// See: issue 12 — `cachelab trace gen --requests 100000000` and `trace convert` held the
// whole trace in memory (~50 B per request, 5 GB for 100M requests); they now stream
// through a spill file (memory measured in the report: flat 16.7 MB from 500,000 to
// 20,000,000 requests). The output must stay byte-identical to the in-memory writer's.
#[test]
fn streamed_gen_and_convert_write_the_same_bytes_as_before() {
    use cachelab::trace::generate::{GenOptions, Generator};
    let dir = scratch();
    let args = [
        "--requests",
        "20000",
        "--keys",
        "500",
        "--seed",
        "5",
        "--sizes",
        "uniform:min=1,max=100",
    ];
    let bin = generated(dir.path(), "g.bin", &args);
    let csv = generated(dir.path(), "g.csv", &args);
    // The same trace written from memory, as `trace gen` did before streaming.
    let options = GenOptions {
        dist: "zipf:alpha=0.8".parse().expect("dist"),
        keys: 500,
        requests: 20_000,
        sizes: "uniform:min=1,max=100".parse().expect("sizes"),
        seed: 5,
    };
    let requests =
        cachelab::trace::read_all(&mut Generator::new(options).expect("generator")).expect("gen");
    for (name, streamed) in [("m.bin", &bin), ("m.csv", &csv)] {
        let path = dir.path().join(name);
        let path = path.to_str().expect("utf-8");
        cachelab::trace::write_trace(path, &requests).expect("from memory");
        assert_eq!(&std::fs::read(path).expect("read"), streamed, "{name}");
    }
    // And the bytes the pre-streaming binary wrote for this spec (length and xxh3).
    // (Taken from the old binary's g.bin; the file is `cmp`-identical, see the report.)
    assert_eq!(
        (bin.len(), cachelab::request::hash_key(&bin)),
        (480_000, 2_250_787_706_395_003_841)
    );
    let scan = generated(
        dir.path(),
        "s.csv",
        &[
            "--requests",
            "20000",
            "--keys",
            "500",
            "--seed",
            "5",
            "--dist",
            "scan",
        ],
    );
    assert_eq!(
        (scan.len(), cachelab::request::hash_key(&scan)),
        (453_023, 6_966_566_028_228_161_903)
    );
    // Converting streams too: CSV → oracleGeneral gives the generated oracleGeneral bytes.
    let back = dir.path().join("back.bin");
    let from = dir.path().join("g.csv");
    ok(&[
        "trace",
        "convert",
        from.to_str().expect("utf-8"),
        back.to_str().expect("utf-8"),
    ]);
    assert_eq!(std::fs::read(&back).expect("converted"), bin);
}

// See: issue 12 — an interrupted or failed `trace convert --force` destroyed the good file;
// with streaming, a failure part-way must still leave it (and no temporary file) behind.
#[test]
fn a_convert_that_fails_part_way_leaves_the_old_file() {
    let dir = scratch();
    let input = dir.path().join("bad.txt");
    let mut text: String = (0..100_000).map(|i| format!("{}\n", i % 977)).collect();
    text.push_str("7 not-a-size\n");
    std::fs::write(&input, text).expect("write");
    let target = dir.path().join("out.bin");
    std::fs::write(&target, b"the good file").expect("write");
    let err = fails(&[
        "trace",
        "convert",
        input.to_str().expect("utf-8"),
        target.to_str().expect("utf-8"),
        "--force",
    ]);
    assert!(err.contains("line 100001"), "{err}");
    assert_eq!(std::fs::read(&target).expect("kept"), b"the good file");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}
