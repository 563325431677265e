#!/usr/bin/env python3
"""Cross-check cachelab against libCacheSim: same traces, same capacities, same policies.

For each trace, mode (bytes, objects) and cache size (0.1%, 1%, 10%, 50% of the working
set: distinct objects, or the sum of each object's first size), it runs `cachelab sim` once
for all policies and sizes, runs libCacheSim (the `libcachesim` Python package, through
`lcs_replay.py`) per configuration, and compares the miss counts. LRU, FIFO, CLOCK and
Belady must agree exactly; other policies within 0.005 absolute miss ratio.

Writes a Markdown table (default `reports/libcachesim-agreement.md`); with --check, exits 1
when any configuration is outside its tolerance.

Usage: libcachesim_agreement.py [--policies lru,fifo] [--traces cloudPhysicsIO,zipf]
                                [--out FILE] [--check] [--cachelab BIN]

Needs the packages in tests/python/requirements.txt; without libcachesim it reruns itself
under target/pyenv when the tests have made it (see lcs_replay.py).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
# First: without libcachesim here, this import reruns the script under target/pyenv.
import lcs_replay  # noqa: E402

import numpy as np  # noqa: E402

EXACT = {"lru", "fifo", "clock", "belady"}
TOLERANCE = 0.005

# Configurations where cachelab's definition differs from libCacheSim's on purpose, with
# the largest gap accepted (a bound just above the measured one, so a regression still
# fails) and the reason, also given in the policy's docs and the README.
DOCUMENTED = {
    ("wtinylfu", "cloudPhysicsIO", "objects", 0.1): (
        0.12, "libCacheSim rounds the 1% window of 48 objects down to 0 and caches nothing; cachelab keeps a window of at least one unit"),
    ("wtinylfu", "zipf", "objects", 0.1): (
        0.13, "libCacheSim rounds the 1% window of 19 objects down to 0 and caches nothing; cachelab keeps a window of at least one unit"),
    ("wtinylfu", "cloudPhysicsIO", "objects", 1.0): (
        0.015, "cachelab ages the sketch every 10 x capacity increments (Caffeine's sample size); libCacheSim's sketch does not age within this trace"),
    ("arc", "zipf", "bytes", 0.1): (
        0.03, "byte-aware ARC: cachelab moves the target p by delta x object size, libCacheSim by delta bytes; the gap shows when objects are large against the cache (130 KB, 4 KiB median)"),
    ("s3fifo", "zipf", "objects", 0.1): (
        0.14, "libCacheSim's S3-FIFO with a 19-object cache (small queue of 1) misses every request; cachelab's small queue admits and promotes as at larger sizes"),
}
PERCENTS = [0.1, 1.0, 10.0, 50.0]
RECORD = np.dtype([("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")])


def run(cmd):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{done.stderr}")
    return done.stdout


def prepare_traces(names, cachelab, tmp):
    """Returns (name, path of an uncompressed oracleGeneral file) for each trace name."""
    traces = []
    for name in names:
        path = os.path.join(tmp, name + ".oracleGeneral")
        if name == "cloudPhysicsIO":
            source = os.path.join(ROOT, "traces", "cloudPhysicsIO.oracleGeneral.bin.zst")
            run([cachelab, "trace", "convert", source, path])
        elif name == "zipf":
            run([cachelab, "trace", "gen", "--dist", "zipf:alpha=0.8", "--keys", "20000",
                 "--requests", "200000", "--sizes", "lognormal:median=4096,sigma=1.0",
                 "--seed", "11", "-o", path])
        else:
            raise SystemExit(f"unknown trace {name!r}: use cloudPhysicsIO or zipf")
        traces.append((name, path))
    return traces


def working_set(path):
    records = np.fromfile(path, dtype=RECORD)
    _, first = np.unique(records["id"], return_index=True)
    return len(records), len(first), int(records["size"][first].astype(np.uint64).sum())


def speed_section(cachelab, policies):
    """Requests/s of both simulators, same trace, same sizes, same run, best of 3 each."""
    lines = ["## Speed", "",
             "One thread, object mode, a 1,000,000-request Zipf(0.8) trace over 100,000 keys (seed 42),",
             "best of 3 runs each, measured in the same run of this script. cachelab: `cachelab bench`",
             "(replay from memory through `Box<dyn Policy>`); libCacheSim: `process_trace` on the",
             "memory-mapped oracleGeneral file with its hash table sized to the trace (`hashpower=17`).",
             "",
             "| policy | capacity | cachelab Mreq/s | libCacheSim Mreq/s | ratio |",
             "| --- | ---: | ---: | ---: | ---: |"]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "zipf.oracleGeneral")
        run([cachelab, "trace", "gen", "--dist", "zipf:alpha=0.8", "--keys", "100000",
             "--requests", "1000000", "--sizes", "fixed:1", "--seed", "42", "-o", path])
        _, objects, _ = working_set(path)
        sizes = [objects // 100, objects // 10]
        out = os.path.join(tmp, "speed.json")
        cmd = [cachelab, "bench", path, "--objects", "--repeat", "3", "--json", out]
        cmd += [a for p in policies for a in ("-p", p)]
        cmd += [a for s in sizes for a in ("-s", str(s))]
        run(cmd)
        with open(out) as f:
            ours = json.load(f)["rows"]
        for index, (policy, size) in enumerate((p, s) for p in policies for s in sizes):
            mine = ours[index]["requests_per_second"] / 1e6
            theirs = lcs_replay.replay(path, policy, size, True, 17, 3)
            theirs = theirs["requests"] / theirs["best_seconds"] / 1e6
            lines.append(f"| {policy} | {size} | {mine:.1f} | {theirs:.1f} | {mine / theirs:.2f}x |")
    return lines + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", default="lru,fifo,clock,belady,arc,lfu,sieve,s3fifo,2q,slru,random,wtinylfu,lirs")
    parser.add_argument("--traces", default="cloudPhysicsIO,zipf")
    parser.add_argument("--out", default=os.path.join(ROOT, "reports", "libcachesim-agreement.md"))
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--cachelab", default=os.path.join(ROOT, "target", "release", "cachelab"))
    parser.add_argument("--speed", action="store_true",
                        help="also compare replay speed on a 1M-request Zipf(0.8) trace (informational)")
    args = parser.parse_args()
    policies = [p for p in args.policies.split(",") if p]
    if not os.path.exists(args.cachelab):
        run(["cargo", "build", "--release", "--quiet", "--manifest-path", os.path.join(ROOT, "Cargo.toml")])

    rows = []
    notes = []
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in prepare_traces(args.traces.split(","), args.cachelab, tmp):
            requests, objects, total_bytes = working_set(path)
            for objects_mode in (False, True):
                unit_total = objects if objects_mode else total_bytes
                sizes = [max(1, int(unit_total * pct / 100)) for pct in PERCENTS]
                cmd = [args.cachelab, "sim", path, "--format", "oracle", "--json", os.path.join(tmp, "r.json"), "--force"]
                cmd += [a for p in policies for a in ("-p", p)]
                cmd += [a for s in sizes for a in ("-s", str(s))]
                if objects_mode:
                    cmd.append("--objects")
                run(cmd)
                with open(os.path.join(tmp, "r.json")) as f:
                    ours = json.load(f)
                for policy_index, policy in enumerate(policies):
                    for size_index, (pct, size) in enumerate(zip(PERCENTS, sizes)):
                        mine = ours[policy_index * len(sizes) + size_index]
                        theirs = lcs_replay.replay(path, policy, size, objects_mode, 20, 1)
                        gap = mine["miss_ratio"] - theirs["miss_ratio"]
                        unit = "objects" if objects_mode else "bytes"
                        exact = policy in EXACT
                        documented = DOCUMENTED.get((policy, name, unit, pct))
                        if exact:
                            rule, ok = "exact", mine["misses"] == theirs["misses"]
                        elif documented:
                            rule, ok = f"documented, ±{documented[0]}", abs(gap) <= documented[0]
                            notes.append(f"- {policy}, {name}, {unit}, {pct}%: gap {gap:+.4f}. {documented[1]}.")
                        else:
                            rule, ok = f"±{TOLERANCE}", abs(gap) <= TOLERANCE
                        failures += not ok
                        rows.append((name, unit, pct, size, policy, mine["misses"], theirs["misses"],
                                     mine["miss_ratio"], theirs["miss_ratio"], gap, rule,
                                     "ok" if ok else "DIFFERS"))

    lines = [
        "# cachelab vs libCacheSim",
        "",
        f"Generated by `python3 scripts/libcachesim_agreement.py --policies {args.policies} --traces {args.traces}`.",
        "Traces: `cloudPhysicsIO` (bundled, libCacheSim's own sample) and a generated Zipf(0.8) trace",
        "(200,000 requests over 20,000 keys, lognormal sizes with median 4 KiB, seed 11). Capacities are",
        "percentages of the working set, rounded down, given to both simulators as the same number.",
        "",
        "| trace | unit | size % | capacity | policy | cachelab misses | libCacheSim misses | cachelab miss ratio | libCacheSim miss ratio | gap | rule | verdict |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} | {r[7]:.6f} | {r[8]:.6f} | {r[9]:+.6f} | {r[10]} | {r[11]} |")
    lines += ["", f"{len(rows) - failures} of {len(rows)} configurations agree.", ""]
    if notes:
        lines += ["## Documented differences", ""] + notes + [""]
    if args.speed:
        lines += speed_section(args.cachelab, policies)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"\n{len(rows) - failures} passed, {failures} failed")
    if args.check and failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
