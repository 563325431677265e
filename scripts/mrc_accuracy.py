#!/usr/bin/env python3
"""Accuracy tables for `cachelab mrc`: LRU estimates vs exact, miniature vs full simulations.

Usage (from the repository root, after `cargo build --release`):
    python3 scripts/mrc_accuracy.py [--quick] [--json FILE]

Prints Markdown on stdout (progress on stderr). Deterministic: sampling salt 0 (`--seed 0`),
the bundled traces and the generated traces of scripts/mrc_vs_libcachesim.py (written once
into target/mrc-traces/ by `cachelab trace gen --seed 1`; this script imports that code).

Table 1, estimates against the exact LRU curve. Traces: every bundled trace in traces/
except cloudPhysicsIO.csv.zst (the same trace as the .bin), plus the generated 1M-request
Zipf, 1M loop+scan and 5M Zipf traces (--quick: only the 1M Zipf). ONE invocation each:
    cachelab mrc T -m exact -m shards:rate=0.1 -m shards:rate=0.01 -m shards:rate=0.001
        -m shards:size=8192 -m aet -m aet:rate=0.01 --points 100 --seed 0 -o out.csv
so every method is evaluated at the same 100 sizes (0.1% to 100% of the working set, log
spaced). Byte mode, cachelab's default: on the LIRS and plain traces every size is 1, so
it equals object mode. Each cell is "MAE / max" of |miss ratio - exact miss ratio| over the
100 sizes; a second table gives the byte miss ratio errors for the traces with real sizes.

Table 2, miniature simulations against full simulations, on cloudPhysicsIO.oracleGeneral,
the 1M Zipf and the 5M Zipf (--quick: not the 5M), policies s3fifo, arc, wtinylfu and
memcached. ONE invocation each:
    cachelab mrc T -m mini:policy=P,rate=1 -m mini:policy=P,rate=0.1
        -m mini:policy=P,rate=0.01 (for each P) --points 10 --from 1% --seed 0 -o out.csv
rate=1 is the full simulation (tests check it equals `cachelab sim`). Cells are "MAE /
max" of rates 0.1 and 0.01 against rate 1 at the 10 sizes. cachelab's stderr lines
`note: METHOD: N of M sizes (up to SIZE) scale below ...` flag the N smallest sizes as not
faithful (too small to scale, or too few memcached pages per slab class); a method may get
several notes, the flagged set is the largest N. "flagged" is that N, and "unflagged"
is "MAE / max" over the other sizes ("—" when all are flagged). If a run with memcached
runs over --memcached-timeout seconds (default 300) or dies (e.g. out of memory), it is run
again without memcached and the table says so.

Table 3, the sampled estimates over several salts: on OLTP and the generated traces (at
least 900,000 requests), `-m exact -m shards:rate=0.1 -m shards:rate=0.01
-m shards:rate=0.01,hot=0 -m aet:rate=0.01 --points 100 --seed S` for S in 0..--salts-1;
each cell is the mean / worst MAE over the salts (a sampled estimate's accuracy is its
expected error; one salt is one draw).

Needs only the Python standard library and target/release/cachelab.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no scripts/__pycache__ from the import below
from mrc_vs_libcachesim import (DEFAULT_CACHELAB, ROOT, STANDARD_DIR, provenance,
                                standard_traces)

BUNDLED = ["cloudPhysicsIO.oracleGeneral.bin.zst", "cloudPhysicsIO.txt.zst", "OLTP.lis.zst",
           "cpp.trace.gz", "cs.trace.gz", "sprite.trace.gz"]
SIZED = {"cloudPhysicsIO.oracleGeneral.bin.zst", "OLTP.lis.zst"}  # + every generated trace
# Table 3: the sampled estimates over several salts, on the traces of >= 1M requests.
SALTED_METHODS = ["exact", "shards:rate=0.1", "shards:rate=0.01", "shards:rate=0.01,hot=0",
                  "aet:rate=0.01"]
LRU_METHODS = ["exact", "shards:rate=0.1", "shards:rate=0.01", "shards:rate=0.001",
               "shards:size=8192", "aet", "aet:rate=0.01"]
POLICIES = ["s3fifo", "arc", "wtinylfu", "memcached"]
MINI_RATES = ["1", "0.1", "0.01"]
MINI_TRACES = ["cloudPhysicsIO.oracleGeneral.bin.zst", "zipf1m.oracleGeneral.bin",
               "zipf5m.oracleGeneral.bin"]
NOTE = re.compile(r"^note: (\S+): (\d+) of (\d+) sizes? \(up to ([0-9.]+) ?([KMGTP]?i?B)?\) "
                  r"scale below")
UNITS = {"B": 1, "": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
         "PiB": 1 << 50}

Curves = dict[str, list[tuple[int, float, float]]]  # method -> [(size, mr, bmr)]


def die(msg: str) -> None:
    print(f"mrc_accuracy: {msg}", file=sys.stderr)
    sys.exit(1)


def log(msg: str) -> None:
    print(f"mrc_accuracy: {msg}", file=sys.stderr, flush=True)


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def mrc_cmd(cachelab: Path, trace: Path, methods: list[str], extra: list[str],
            out: Path, js: Path, seed: int = 0) -> list[str]:
    cmd = [rel(cachelab), "mrc", rel(trace)]
    for m in methods:
        cmd += ["-m", m]
    return cmd + extra + ["--seed", str(seed), "-o", str(out), "--json", str(js), "--force"]


def invoke(cmd: list[str], timeout: float | None = None):
    """(curves, requests, stderr, seconds); raises TimeoutExpired / CalledProcessError."""
    out, js = Path(cmd[cmd.index("-o") + 1]), Path(cmd[cmd.index("--json") + 1])
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise subprocess.CalledProcessError(p.returncode, cmd, stderr=p.stderr)
    curves: Curves = {}
    with open(out, newline="") as f:
        for row in csv.DictReader(f):
            curves.setdefault(row["method"], []).append(
                (int(row["cache_size"]), float(row["miss_ratio"]),
                 float(row["byte_miss_ratio"])))
    requests = int(json.loads(js.read_text())["requests"])
    return curves, requests, p.stderr, dt


def errs(ref: list, cand: list, col: int, skip: int = 0) -> tuple[float, float] | None:
    """(mean, max) of |cand - ref| in column col, leaving out the `skip` smallest sizes."""
    sizes = [s for s, _, _ in ref]
    if sizes != [s for s, _, _ in cand] or sizes != sorted(set(sizes)):
        die("curves of one invocation have different or unordered sizes")
    e = [abs(c[col] - r[col]) for r, c in list(zip(ref, cand))[skip:]]
    return (statistics.fmean(e), max(e)) if e else None


def cell(e: tuple[float, float] | None) -> str:
    return "—" if e is None else f"{e[0]:.4f} / {e[1]:.4f}"


def human_bytes(text: str, unit: str | None) -> float:
    return float(text) * UNITS[unit or ""]


def flagged(stderr: str, curves: Curves) -> dict[str, int]:
    """method -> how many of its smallest sizes cachelab's notes flag as not faithful."""
    n: dict[str, int] = {}
    for line in stderr.splitlines():
        m = NOTE.match(line)
        if not m:
            continue
        meth, k, total = m.group(1), int(m.group(2)), int(m.group(3))
        sizes = [s for s, _, _ in curves.get(meth, [])]
        if len(sizes) != total or not 0 < k <= total:
            die(f"note does not fit the curve of {meth}: {line}")
        upto = human_bytes(m.group(4), m.group(5))  # cross-check: the k-th smallest size
        if abs(sizes[k - 1] - upto) > 0.06 * upto:
            log(f"warning: note's 'up to {m.group(4)} {m.group(5)}' is not size "
                f"#{k} ({sizes[k - 1]}): {line}")
        n[meth] = max(n.get(meth, 0), k)
    return n


def md_table(header: list[str], rows: list[list[str]], left=(0,)) -> list[str]:
    return (["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i in left else "---:" for i in range(len(header)))
             + "|"] + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="generated traces: only the 1M Zipf (no loop+scan, no 5M Zipf)")
    ap.add_argument("--memcached-timeout", type=float, default=300.0,
                    help="seconds before a table-2 run with memcached is given up and "
                         "repeated without memcached (default 300)")
    ap.add_argument("--cachelab", type=Path, default=DEFAULT_CACHELAB)
    ap.add_argument("--json", type=Path, help="also write all numbers as JSON here")
    ap.add_argument("--salts", type=int, default=5,
                    help="salts 0..N-1 for the table of sampled estimates (default 5)")
    args = ap.parse_args()
    args.cachelab = args.cachelab.resolve()
    if not args.cachelab.is_file() or not os.access(args.cachelab, os.X_OK):
        die(f"{args.cachelab} is missing (or not executable): build it with "
            "`cargo build --release` first")
    t_start = time.perf_counter()

    bundled = [ROOT / "traces" / n for n in BUNDLED]
    for t in bundled:
        if not t.exists():
            die(f"bundled trace missing: {t}")
    generated = standard_traces(args.cachelab, large=not args.quick)[1:]
    if args.quick:
        generated = [t for t in generated if t.name == "zipf1m.oracleGeneral.bin"]
    traces = bundled + generated
    sized = {t for t in traces if t.name in SIZED or t.parent == STANDARD_DIR}

    ver, rev, dirty, cpu = provenance(args.cachelab)
    lines = [f"## cachelab mrc accuracy{' (--quick)' if args.quick else ''}", "",
             f"{ver} (git {rev}{' + uncommitted src/' if dirty else ''}); {cpu}, "
             f"{os.cpu_count()} CPUs; salt 0", ""]
    repro: list[tuple[str, list[str], float]] = []  # (table, cmd, seconds)
    result: dict = {"table1": [], "table2": []}

    with tempfile.TemporaryDirectory(prefix="mrcacc-") as tmp:
        tmpd = Path(tmp)
        # ------------------------------------------------------------ table 1
        rows, brows = [], []
        for i, t in enumerate(traces):
            cmd = mrc_cmd(args.cachelab, t, LRU_METHODS, ["--points", "100"],
                          tmpd / f"t1_{i}.csv", tmpd / f"t1_{i}.json")
            log(f"table 1: {t.name}")
            try:
                curves, n, _, dt = invoke(cmd)
            except subprocess.CalledProcessError as e:
                die(f"failed ({e.returncode}): {' '.join(cmd)}\n{e.stderr[-2000:]}")
            repro.append(("1", cmd, dt))
            missing = [m for m in LRU_METHODS if m not in curves]
            if missing:
                die(f"no curve for {missing} in {t.name} (have {sorted(curves)})")
            ex = curves["exact"]
            mr = {m: errs(ex, curves[m], 1) for m in LRU_METHODS[1:]}
            rows.append([t.name, f"{n:,}", str(len(ex))]
                        + [cell(mr[m]) for m in LRU_METHODS[1:]])
            rec = {"trace": t.name, "requests": n, "sizes": len(ex), "seconds": dt,
                   "mr": {m: list(mr[m]) for m in mr}}
            if t in sized:
                bmr = {m: errs(ex, curves[m], 2) for m in LRU_METHODS[1:]}
                brows.append([t.name, f"{n:,}", str(len(ex))]
                             + [cell(bmr[m]) for m in LRU_METHODS[1:]])
                rec["bmr"] = {m: list(bmr[m]) for m in bmr}
            result["table1"].append(rec)

        lines += ["### Estimates against the exact LRU curve", "",
                  "Miss ratio, MAE / max absolute error against `exact` at the same sizes: "
                  "`--points 100`, log-spaced from 0.1% to 100% of the working set "
                  "(\"sizes\": fewer where whole-unit sizes coincide on small traces); "
                  "byte mode (unit sizes on the LIRS and plain traces, where it equals "
                  "object mode).", ""]
        lines += md_table(["trace", "requests", "sizes"] + LRU_METHODS[1:], rows)
        lines += ["", "Byte miss ratio, MAE / max, traces with real object sizes:", ""]
        lines += md_table(["trace", "requests", "sizes"] + LRU_METHODS[1:], brows)

        # ------------------------------------------------------------ table 3
        rows3 = []
        big = [t for t in traces if t.name == "OLTP.lis.zst" or t.parent == STANDARD_DIR]
        for i, t in enumerate(big):
            per: dict[str, list[float]] = {m: [] for m in SALTED_METHODS[1:]}
            for salt in range(args.salts):
                cmd = mrc_cmd(args.cachelab, t, SALTED_METHODS, ["--points", "100"],
                              tmpd / f"t3_{i}.csv", tmpd / f"t3_{i}.json", seed=salt)
                log(f"table 3: {t.name} salt {salt}")
                curves, n, _, dt = invoke(cmd)
                repro.append(("3", cmd, dt))
                for m in SALTED_METHODS[1:]:
                    per[m].append(errs(curves["exact"], curves[m], 1)[0])
            rows3.append([t.name, f"{n:,}"] + [
                f"{statistics.fmean(v):.4f} / {max(v):.4f}" for v in per.values()])
            result.setdefault("table3", []).append(
                {"trace": t.name, "requests": n, "mae_by_salt": per})
        salted_lines = ["", "### Sampled estimates over several salts", "",
                        f"A sampled estimate's error depends on which keys (or requests) "
                        f"its salt picks: mean / worst of the MAE over salts "
                        f"0–{args.salts - 1} (`--seed`), traces of at least 900,000 "
                        f"requests, 100 sizes.", ""]
        salted_lines += md_table(["trace", "requests"] + SALTED_METHODS[1:], rows3)

        # ------------------------------------------------------------ table 2
        t2 = [t for t in traces if t.name in MINI_TRACES]
        rows2, dropped = [], []
        for i, t in enumerate(t2):
            pols = list(POLICIES)
            while True:
                ms = [f"mini:policy={p},rate={r}" for p in pols for r in MINI_RATES]
                cmd = mrc_cmd(args.cachelab, t, ms, ["--points", "10", "--from", "1%"],
                              tmpd / f"t2_{i}.csv", tmpd / f"t2_{i}.json")
                log(f"table 2: {t.name} ({', '.join(pols)})")
                try:
                    curves, n, err, dt = invoke(
                        cmd, args.memcached_timeout if "memcached" in pols else None)
                    break
                except subprocess.TimeoutExpired:
                    why = f"over {args.memcached_timeout:.0f} s"
                except subprocess.CalledProcessError as e:
                    if "memcached" not in pols:
                        die(f"failed ({e.returncode}): {' '.join(cmd)}\n{e.stderr[-2000:]}")
                    why = f"exit status {e.returncode}"
                log(f"{t.name}: the run with memcached failed ({why}); again without it")
                dropped.append(f"{t.name} ({why})")
                pols.remove("memcached")
            repro.append(("2", cmd, dt))
            fl = flagged(err, curves)
            for p in POLICIES:
                if p not in pols:
                    rows2.append([t.name, f"{n:,}", p] + ["dropped"] * 6 + ["—"])
                    continue
                full = curves[f"mini:policy={p},rate=1"]
                row = [t.name, f"{n:,}", p]
                rec = {"trace": t.name, "requests": n, "policy": p,
                       "full_flagged": fl.get(f"mini:policy={p},rate=1", 0)}
                for r in MINI_RATES[1:]:
                    m = f"mini:policy={p},rate={r}"
                    k = fl.get(m, 0)
                    a, u = errs(full, curves[m], 1), errs(full, curves[m], 1, skip=k)
                    row += [cell(a), f"{k}", cell(u)]
                    rec[r] = {"mae": a[0], "max": a[1], "flagged": k,
                              "mae_unflagged": None if u is None else u[0],
                              "max_unflagged": None if u is None else u[1]}
                row.append(str(rec["full_flagged"]))
                rows2.append(row)
                result["table2"].append(rec)

        lines += ["", "### Miniature simulations against full simulations", "",
                  "Miss ratio of `mini:policy=P,rate=R` against `rate=1` (the full "
                  "simulation) at 10 sizes from 1% to 100% of the working set: MAE / max; "
                  "\"flagged\": sizes cachelab's `note:` lines call not faithful (the "
                  "smallest ones); \"unflagged\": MAE / max over the other sizes; last "
                  "column: "
                  "sizes flagged in the full simulation itself (memcached's pages per "
                  "slab class).", ""]
        lines += md_table(["trace", "requests", "policy",
                           "rate 0.1 MAE / max", "flagged", "unflagged",
                           "rate 0.01 MAE / max", "flagged", "unflagged",
                           "rate 1 flagged"], rows2, left=(0, 2))
        if dropped:
            lines += ["", "memcached dropped on: " + "; ".join(dropped) + "."]
        lines += salted_lines

    total = time.perf_counter() - t_start
    lines += ["", "### Reproduce", "",
              "From the repository root (`-o`/`--json` paths are temporary; the "
              "generated traces come from `scripts/mrc_vs_libcachesim.py`'s "
              "`cachelab trace gen` commands), with each run's wall-clock time:", "", "```"]
    for tab, cmd, dt in repro:
        c = cmd[:cmd.index("-o")] + ["-o", "out.csv"]
        if tab == "3" and "--seed" in cmd and cmd[cmd.index("--seed") + 1] != "0":
            continue  # table 3's other salts differ only in --seed
        lines.append(f"# table {tab}, {Path(cmd[2]).name}: {dt:.1f} s")
        lines.append(" ".join(c))
    lines += ["```", "", f"Total run time of this script: {total:.1f} s "
              f"(`python3 scripts/mrc_accuracy.py{' --quick' if args.quick else ''}`)."]
    print("\n".join(lines), flush=True)
    if args.json:
        result.update(total_seconds=total,
                      runs=[{"table": a, "cmd": b, "seconds": c} for a, b, c in repro])
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
