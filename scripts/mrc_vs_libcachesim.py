#!/usr/bin/env python3
"""Compare `cachelab mrc` with libCacheSim's `mrcProfiler`: speed and SHARDS accuracy.

Usage (from the repository root):
    cargo build --release
    scripts/provision_mrc_profiler.sh          # builds target/lcs-build/bin/mrcProfiler
    python3 scripts/mrc_vs_libcachesim.py --standard
    python3 scripts/mrc_vs_libcachesim.py TRACE [TRACE ...] [--objects] [--reps 3]

`--standard` runs traces/cloudPhysicsIO.oracleGeneral.bin.zst plus three traces that
`cachelab trace gen` writes (once) into target/mrc-traces/: a 1M-request Zipf trace
(alpha 1.0, 100k keys, lognormal sizes, median 4 KiB), a 1M-request loop+scan mix and
a 5M-request Zipf trace (alpha 1.0, 1M keys, same sizes; 120 MB, generated in ~1.5 s).
The whole --standard run takes ~40 s on 2 cores, ~30 s of it the 5M trace (mostly
libCacheSim's exact run, ~6 s each); `--no-large` leaves the 5M trace out.

Methods (one row each; default set, see --rates, --plain-rates, --fixed-size, --no-aet):
    cachelab                 libCacheSim --profiler=SHARDS --profiler-params=
    exact                    FIX_RATE,1,SALT     (both exact LRU stack distances)
    shards:rate=0.01         FIX_RATE,0.01,SALT
    shards:rate=0.001        FIX_RATE,0.001,SALT
    shards:rate=0.01,hot=0   FIX_RATE,0.01,SALT  (the same libCacheSim runs as above)
    shards:size=8192         FIX_SIZE,8192,SALT
    aet                      -
cachelab's `shards:rate=R` follows up to 8,192 hot keys exactly beside the spatial
sample (found with a count-min sketch as the trace streams; each request weighted by
the inverse of its key's probability, ratios over the weighted sample) — its
default since this script was first written. `shards:rate=R,hot=0` is the paper's
plain fixed-rate SHARDS with the SHARDS_adj correction, which is what libCacheSim's
FIX_RATE computes, so that pair is the like-for-like comparison of the algorithm.
`shards:size=N` follows no hot keys. The sampling hashes differ (cachelab's own vs
libCacheSim's XXH64), so the two tools sample different keys even with the same SALT.

Every trace is decompressed first (.zst with the `zstd` CLI, .gz with gzip) into a
temporary oracleGeneral file that both tools read, so neither pays for decompression.

Accuracy (untimed): ONE cachelab invocation runs every cachelab method
(`cachelab mrc T --points P -m exact -m shards:rate=0.01 ... -o out.csv`), so every
method is evaluated at the same sizes, the exact curve's (P log-spaced sizes from 0.1%
to 100% of the working set), with no interpolation. libCacheSim is given exactly those
sizes (`--size=S1B,S2B,...`; at most 128, hence --points <= 128). Each curve's mean
and max absolute error of the request miss ratio (`mr`) and byte miss ratio (`bmr`)
are taken against cachelab's exact curve at those sizes; libCacheSim's SHARDS curves
also against libCacheSim's own exact curve (`mr`), and the line under the table gives
the largest difference between the two exact curves (a cross-check: should be ~0).
If a curve ever lacked one of the sizes it would be interpolated in log(size) and
marked "(interpolated)"; by construction that does not happen.

Speed: each method alone, one process per run (cachelab `-m METHOD -o out.csv`,
mrcProfiler with the same sizes), REPS rounds; within a round the methods run in the
order above and cachelab and mrcProfiler alternate (each libCacheSim run right after
its first cachelab counterpart); timed with time.perf_counter() around
subprocess.run; the table shows the median seconds. Rates are requests / median
seconds, each tool's own request count (libCacheSim skips requests of size 0).
"cachelab/libCacheSim" is cachelab's rate over libCacheSim's (>1: cachelab faster).
Wall-clock includes process start-up and reading the trace (the 114K-request trace
is dominated by start-up). A cachelab method timed alone computes its own size grid
(a sampling method from its working-set estimate), not necessarily the accuracy run's.

Mode: bytes by default (stack distances are sums of object sizes, cache sizes in
bytes), both tools' default. `--objects` switches both to object counts (cachelab
`--objects`, mrcProfiler `--ignore-obj-size`).

What mrcProfiler (libCacheSim 0.3.5, src/libCacheSim/libCacheSim/bin/mrcProfiler/
{main.cpp,cli_parser.cpp}, libCacheSim/mrcProfiler/mrcProfiler.{h,cpp}) does:
  mrcProfiler TRACE TYPE [--algo=LRU] [--profiler=SHARDS|MINISIM]
              [--profiler-params=P] [--size=SIZES] [--ignore-obj-size]
              [--output=FILE] [-n N] [-t csv-params]
  * argp options declared OPTION_ARG_OPTIONAL: the value MUST be attached with `=`
    (`--size=...`, `--output=FILE`); `--size X` would make X a positional argument.
  * TYPE: oracleGeneral (or oracleGeneralBin), csv, txt, binary, lcs, twr, twrNS,
    vscsi, valpinTrace, auto. .zst files are read directly only when built with
    OPT_SUPPORT_ZSTD_TRACE (needs libzstd-dev). Requests of size 0 are skipped
    (reader option ignore_size_zero_req = true); obj ids are taken as numbers.
  * Exact LRU MRC: there is no separate exact profiler; it is SHARDS at rate 1:
    `--profiler=SHARDS --profiler-params=FIX_RATE,1,SALT` (all requests sampled,
    exact byte stack distances from a splay tree keyed by last access time).
  * SHARDS fixed rate: `--profiler-params=FIX_RATE,0.01,SALT` (object sampled iff
    XXH64(obj_id ^ SALT) <= rate * 2^64; whole distances, the object's own size
    included, scaled by 1/rate; the shortfall of sampled requests, n_req -
    sampled/rate, is added as hits to the FIRST size: SHARDS_adj; no hot keys).
    Default when --profiler-params is absent: FIX_RATE,0.01,42.
  * SHARDS fixed size: `--profiler-params=FIX_SIZE,8192,SALT` (keeps the 8192 objects
    with the smallest hashes; rate = max kept hash / 2^64, adapting; each request
    weighted by 1/rate at its time, no rescaling of earlier counts; SHARDS_adj too).
    SHARDS accepts only --algo=LRU.
  * MINISIM: `--profiler=MINISIM --profiler-params=FIX_RATE,0.01,THREADS --algo=ALGO`
    (any libCacheSim eviction algorithm; one real simulation per size at size*rate on
    a spatially sampled trace, salt fixed at 10000019; rate > 0.5 means no sampling).
  * Sizes (at most 128, strictly increasing): `a,b,N` = N points linearly spaced (not
    log!) from a to b; or an explicit list. Plain numbers are FRACTIONS OF THE WORKING
    SET in bytes (default `0.01,1,100`, which costs an extra pass over the trace and,
    for files > 1 GiB, uses a sampled working set); sizes with a unit (`1MiB`, `4KB`,
    `123B`) are absolute. A plain integer like `4096` is rejected (taken as a WSS
    fraction > 1), so absolute byte sizes are written `4096B`. Units are powers of 1024.
  * A request hits at size C iff its stack distance (bytes of the distinct objects
    referenced since its previous access, itself included) <= C.
  * Output (stdout, or FILE with --output=FILE; logs go to stderr):
        profiler: SHARDS / trace: PATH / cache_algorithm: LRU / n_req: N /
        sum_obj_size_req: BYTES
        [wss_ratio\t]cache_size\tmiss_rate\tbyte_miss_rate
        [0.010000\t]123456B\t0.812345\t0.901234        (one line per size)
    cache sizes are printed in bytes with a `B` suffix (objects with
    --ignore-obj-size); miss_rate is by requests, byte_miss_rate by bytes, both
    clipped to [0, 1], 6 decimals.

Needs only the Python standard library, the `zstd` CLI for .zst traces,
target/release/cachelab and (optionally) the mrcProfiler binary; without the latter
only cachelab's rows are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHELAB = ROOT / "target" / "release" / "cachelab"
DEFAULT_MRCP = ROOT / "target" / "lcs-build" / "bin" / "mrcProfiler"
STANDARD_DIR = ROOT / "target" / "mrc-traces"
MAX_LCS_POINTS = 128  # MAX_MRC_PROFILE_POINTS in mrcProfiler.h
LCS_OFILE_MAX = 127  # OFILEPATH_LEN - 1 in bin/mrcProfiler/internal.h

STANDARD_GEN = [
    (
        "zipf1m.oracleGeneral.bin",
        ["--dist", "zipf:alpha=1.0", "--keys", "100000", "--requests", "1000000",
         "--sizes", "lognormal:median=4096,sigma=1", "--seed", "1"],
        False,
    ),
    (
        "loopscan1m.oracleGeneral.bin",
        ["--dist", "mix:loop:len=30000@0.7+scan@0.3", "--keys", "100000",
         "--requests", "1000000", "--sizes", "uniform:min=512,max=8192", "--seed", "1"],
        False,
    ),
    (
        "zipf5m.oracleGeneral.bin",
        ["--dist", "zipf:alpha=1.0", "--keys", "1000000", "--requests", "5000000",
         "--sizes", "lognormal:median=4096,sigma=1", "--seed", "1"],
        True,  # large: left out by --no-large
    ),
]

Point = tuple[int, float, float]  # (cache size, miss ratio, byte miss ratio)


def die(msg: str) -> None:
    print(f"mrc_vs_libcachesim: {msg}", file=sys.stderr)
    sys.exit(1)


def note(msg: str) -> None:
    print(f"mrc_vs_libcachesim: {msg}", file=sys.stderr)


# ---------------------------------------------------------------- traces
def standard_traces(cachelab: Path, large: bool) -> list[Path]:
    traces = [ROOT / "traces" / "cloudPhysicsIO.oracleGeneral.bin.zst"]
    STANDARD_DIR.mkdir(parents=True, exist_ok=True)
    for name, args, is_large in STANDARD_GEN:
        if is_large and not large:
            continue
        out = STANDARD_DIR / name
        if not out.exists():
            part = out.with_name(out.name + ".part")
            cmd = [str(cachelab), "trace", "gen", *args, "-o", str(part), "--force"]
            note("generating " + " ".join(cmd))
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            part.rename(out)
        traces.append(out)
    return traces


def plain_copy(trace: Path, tmp: Path) -> Path:
    """An uncompressed oracleGeneral file both tools can read (neither tool should pay
    for decompression)."""
    name = trace.name
    if not name.endswith((".zst", ".gz")):
        return trace
    out = tmp / name.rsplit(".", 1)[0]
    if "oracleGeneral" not in out.name:
        out = out.with_name(out.name + ".oracleGeneral.bin")
    if name.endswith(".zst"):
        if not shutil.which("zstd"):
            die("the zstd CLI is needed for .zst traces (apt package: zstd)")
        subprocess.run(["zstd", "-d", "-q", "-f", "-o", str(out), str(trace)], check=True)
    else:
        with open(out, "wb") as f:
            subprocess.run(["gzip", "-dc", str(trace)], check=True, stdout=f)
    return out


def warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


# ---------------------------------------------------------------- runs
def run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        die(f"command failed ({p.returncode}): {' '.join(cmd)}\n"
            + p.stderr.decode(errors="replace")[-2000:])
    return dt


def cachelab_cmd(args, trace: Path, methods: list[str], out: Path,
                 json_out: Path | None = None) -> list[str]:
    cmd = [str(args.cachelab), "mrc", str(trace), "--format", "oracle",
           "--points", str(args.points), "--seed", str(args.salt)]
    for m in methods:
        cmd += ["-m", m]
    cmd += ["-o", str(out), "--force"]
    if json_out is not None:
        cmd += ["--json", str(json_out)]
    if args.objects:
        cmd.append("--objects")
    return cmd


def read_cachelab_csv(out: Path) -> dict[str, list[Point]]:
    curves: dict[str, list[Point]] = {}
    with open(out, newline="") as f:
        for row in csv.DictReader(f):
            curves.setdefault(row["method"], []).append(
                (int(row["cache_size"]), float(row["miss_ratio"]),
                 float(row["byte_miss_ratio"])))
    return curves


def lcs_cmd(args, mrcp: Path, trace: Path, params: str, sizes: list[int],
            out: Path) -> list[str]:
    cmd = [str(mrcp), str(trace), "oracleGeneral", "--algo=LRU", "--profiler=SHARDS",
           f"--profiler-params={params}",
           "--size=" + ",".join(f"{s}B" for s in sizes),
           f"--output={out}"]
    if args.objects:
        cmd.append("--ignore-obj-size")
    return cmd


ROW = re.compile(r"^(?:[0-9.]+\t)?(\d+)B\t([0-9.eE+-]+)\t([0-9.eE+-]+)\s*$")


def read_lcs(out: Path) -> tuple[int, list[Point]]:
    n_req = None
    pts = []
    for line in out.read_text().splitlines():
        if line.startswith("n_req:"):
            n_req = int(line.split(":", 1)[1])
        m = ROW.match(line)
        if m:
            pts.append((int(m.group(1)), float(m.group(2)), float(m.group(3))))
    if n_req is None or not pts:
        die(f"cannot parse mrcProfiler output {out}")
    return n_req, pts


# ---------------------------------------------------------------- accuracy
def interp(points: list[Point], size: int, col: int) -> float:
    pts = sorted(p for p in points if p[0] > 0)
    if size <= pts[0][0]:
        return pts[0][col]
    if size >= pts[-1][0]:
        return pts[-1][col]
    lo, hi = 0, len(pts) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pts[mid][0] <= size:
            lo = mid
        else:
            hi = mid
    s0, s1 = pts[lo][0], pts[hi][0]
    if s0 == size:
        return pts[lo][col]
    t = (math.log(size) - math.log(s0)) / (math.log(s1) - math.log(s0))
    return pts[lo][col] + t * (pts[hi][col] - pts[lo][col])


def errors(ref: list[Point], cand: list[Point]) -> tuple[list[float], bool]:
    """[mean mr, max mr, mean bmr, max bmr] of |cand - ref| at the sizes both have (all
    of cand's, when they are a subset of ref's: libCacheSim may get a thinned grid);
    otherwise cand is interpolated at ref's sizes and the flag says so."""
    ref_at = {p[0]: p for p in ref}
    if all(p[0] in ref_at for p in cand):
        pairs = [(ref_at[p[0]], p) for p in cand]
        interpolated = False
    else:
        pairs = [(r, (r[0], interp(cand, r[0], 1), interp(cand, r[0], 2)))
                 for r in ref if r[0] > 0]
        interpolated = True
    out = []
    for col in (1, 2):
        e = [abs(c[col] - r[col]) for r, c in pairs]
        out += [statistics.fmean(e), max(e)]
    return out, interpolated


def lcs_sizes(exact_pts: list[Point]) -> list[int]:
    sizes = sorted({s for s, _, _ in exact_pts if s > 0})
    if len(sizes) > MAX_LCS_POINTS:  # keep both ends, thin evenly in between
        idx = sorted({round(i * (len(sizes) - 1) / (MAX_LCS_POINTS - 1))
                      for i in range(MAX_LCS_POINTS)})
        sizes = [sizes[i] for i in idx]
    return sizes


# ---------------------------------------------------------------- main
def methods(args) -> list[tuple[str, str | None]]:
    """(cachelab --method, mrcProfiler --profiler-params or None), in run order."""
    s = args.salt
    ms: list[tuple[str, str | None]] = [("exact", f"FIX_RATE,1,{s}")]
    ms += [(f"shards:rate={r:g}", f"FIX_RATE,{r:g},{s}") for r in args.rates]
    ms += [(f"shards:rate={r:g},hot=0", f"FIX_RATE,{r:g},{s}") for r in args.plain_rates]
    ms += [(f"shards:size={n}", f"FIX_SIZE,{n},{s}") for n in args.fixed_size]
    if args.aet:
        ms.append(("aet", None))
    return ms


def fmt_s(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def compare(trace: Path, args, mrcp: Path | None, tmp: Path) -> dict:
    plain = plain_copy(trace, tmp)
    warm(plain)
    outdir = Path(tempfile.mkdtemp(prefix="o", dir=tmp))
    ms = methods(args)
    params = list(dict.fromkeys(p for _, p in ms if p is not None))  # distinct, in order

    # 1. accuracy: every cachelab method in one run, at the exact curve's sizes
    acc_csv, acc_json = outdir / "all.csv", outdir / "all.json"
    run(cachelab_cmd(args, plain, [m for m, _ in ms], acc_csv, acc_json))
    curves = read_cachelab_csv(acc_csv)
    doc = json.loads(acc_json.read_text())
    n_ref = int(doc["requests"])
    exact = curves["exact"]
    sizes = lcs_sizes(exact)
    notes = [n for c in doc["curves"] for n in c.get("notes", [])]

    # 2. speed: each method alone; cachelab and mrcProfiler alternate
    ctimes: dict[str, list[float]] = {}
    ltimes: dict[str, list[float]] = {}
    lcs: dict[str, tuple[int, list[Point]]] = {}
    for rep in range(args.reps):
        done: set[str] = set()
        for i, (m, p) in enumerate(ms):
            ctimes.setdefault(m, []).append(
                run(cachelab_cmd(args, plain, [m], outdir / f"c{i}.csv")))
            if mrcp is None or p is None or p in done:
                continue
            done.add(p)
            out = outdir / f"l{params.index(p)}.txt"
            if len(str(out)) > LCS_OFILE_MAX:
                die(f"output path too long for mrcProfiler: {out}")
            ltimes.setdefault(p, []).append(
                run(lcs_cmd(args, mrcp, plain, p, sizes, out)))
            lcs[p] = read_lcs(out)

    ws = doc.get("working_set", {})
    unit = "objects" if args.objects else "bytes"
    lcs_n = next(iter(lcs.values()))[0] if lcs else None
    lines = [f"### {trace.name}", "",
             f"{n_ref} requests ({lcs_n if lcs_n is not None else '—'} for libCacheSim), "
             f"working set {ws.get('objects', 0):.0f} objects / {ws.get('bytes', 0):.0f} "
             f"bytes; capacities in {unit}; {len(exact)} exact sizes from {exact[0][0]} "
             f"to {exact[-1][0]} ({len(sizes)} given to mrcProfiler); median of "
             f"{args.reps} runs; salt {args.salt}", "",
             "| cachelab method | seconds | M req/s | libCacheSim params | seconds "
             "| M req/s | cachelab/libCacheSim |",
             "|---|---:|---:|---|---:|---:|---:|"]
    speed = []
    seen: set[str] = set()
    for m, p in ms:
        csec = statistics.median(ctimes[m])
        crate = n_ref / csec / 1e6
        row = {"method": m, "cachelab_seconds": csec, "cachelab_mreq_s": crate,
               "cachelab_all_seconds": ctimes[m], "libcachesim_params": p}
        lp, lsec, lrate, ratio = p or "—", None, None, "—"
        if p in ltimes:
            lsec = statistics.median(ltimes[p])
            lrate = lcs[p][0] / lsec / 1e6
            ratio = f"{crate / lrate:.2f}×"
            row.update(libcachesim_seconds=lsec, libcachesim_mreq_s=lrate,
                       libcachesim_all_seconds=ltimes[p])
            if p in seen:
                lp += " (same runs)"
            seen.add(p)
        speed.append(row)
        lines.append(f"| {m} | {csec:.3f} | {crate:.2f} | {lp} | {fmt_s(lsec)} | "
                     f"{'—' if lrate is None else f'{lrate:.2f}'} | {ratio} |")
    if mrcp is None:
        lines.append("| (mrcProfiler not built: run scripts/provision_mrc_profiler.sh) "
                     "| | | | | | |")

    lines += ["", f"Accuracy: absolute error against cachelab exact at its {len(exact)} "
              "sizes (libCacheSim rows: at the sizes it was given; last two columns: "
              "against libCacheSim's own exact curve):", "",
              "| curve | mean err mr | max err mr | mean err bmr | max err bmr "
              "| vs lcs exact: mean mr | max mr |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    acc = []
    lcs_exact = lcs.get(f"FIX_RATE,1,{args.salt}")
    for m, _ in ms[1:]:
        if m not in curves:
            die(f"cachelab wrote no curve for {m} (methods in the CSV: {sorted(curves)})")
        (me, mx, bme, bmx), itp = errors(exact, curves[m])
        acc.append({"curve": f"cachelab {m}", "mean_err_mr": me, "max_err_mr": mx,
                    "mean_err_bmr": bme, "max_err_bmr": bmx, "interpolated": itp})
        lines.append(f"| cachelab {m}{' (interpolated)' if itp else ''} | {me:.4f} | "
                     f"{mx:.4f} | {bme:.4f} | {bmx:.4f} | | |")
    for p in params:
        if p not in lcs:
            continue
        (me, mx, bme, bmx), itp = errors(exact, lcs[p][1])
        row = {"curve": f"libCacheSim {p}", "mean_err_mr": me, "max_err_mr": mx,
               "mean_err_bmr": bme, "max_err_bmr": bmx, "interpolated": itp}
        own = "| | |"
        if lcs_exact is not None and p != f"FIX_RATE,1,{args.salt}":
            (ome, omx, _, _), _ = errors(lcs_exact[1], lcs[p][1])
            row.update(mean_err_mr_vs_lcs_exact=ome, max_err_mr_vs_lcs_exact=omx)
            own = f"| {ome:.4f} | {omx:.4f} |"
        acc.append(row)
        lines.append(f"| libCacheSim {p}{' (interpolated)' if itp else ''} | {me:.4f} | "
                     f"{mx:.4f} | {bme:.4f} | {bmx:.4f} {own}")
    exact_diff = None
    if lcs_exact is not None:
        (_, dmr, _, dbmr), _ = errors(exact, lcs_exact[1])
        exact_diff = {"max_abs_diff_mr": dmr, "max_abs_diff_bmr": dbmr}
        lines += ["", f"Exact curves, cachelab vs libCacheSim: max |difference| "
                  f"{dmr:.6f} (mr), {dbmr:.6f} (bmr) over {len(lcs_exact[1])} sizes "
                  "(libCacheSim prints 6 decimals)."]
    if notes:
        lines += [""] + [f"cachelab note: {n}" for n in notes]
    print("\n".join(lines) + "\n", flush=True)
    return {"trace": str(trace), "requests": n_ref, "libcachesim_requests": lcs_n,
            "unit": unit, "sizes": len(exact), "speed": speed, "accuracy": acc,
            "exact_difference": exact_diff, "notes": notes}


def floats(s: str) -> list[float]:
    return [float(x) for x in s.split(",") if x]


def provenance(cachelab: Path) -> tuple[str, str, str, str]:
    """(cachelab --version, git short revision, uncommitted changes under src/, CPU model):
    what a table of measurements must say it was measured with."""
    ver = subprocess.run([str(cachelab), "--version"], capture_output=True,
                         text=True).stdout.strip()
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    return ver, rev, dirty, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("traces", nargs="*", type=Path)
    ap.add_argument("--standard", action="store_true",
                    help="add the bundled cloudPhysicsIO trace and three generated ones")
    ap.add_argument("--no-large", dest="large", action="store_false",
                    help="with --standard, leave out the 5M-request Zipf trace")
    ap.add_argument("--objects", action="store_true",
                    help="capacities in objects (cachelab --objects, mrcProfiler --ignore-obj-size)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--points", type=int, default=100,
                    help=f"cachelab --points, the sizes of every curve (<= {MAX_LCS_POINTS})")
    ap.add_argument("--rates", type=floats, default=[0.01, 0.001],
                    help="SHARDS rates with cachelab's hot keys (default 0.01,0.001)")
    ap.add_argument("--plain-rates", type=floats, default=[0.01],
                    help="SHARDS rates with hot=0, the paper's SHARDS_adj (default 0.01)")
    ap.add_argument("--fixed-size", type=lambda s: [int(x) for x in s.split(",") if x],
                    default=[8192], help="fixed-size SHARDS sample sizes (default 8192)")
    ap.add_argument("--no-aet", dest="aet", action="store_false",
                    help="leave out cachelab's aet row")
    ap.add_argument("--salt", type=int, default=0,
                    help="sampling salt: cachelab --seed and mrcProfiler's SALT (default 0)")
    ap.add_argument("--cachelab", type=Path, default=DEFAULT_CACHELAB)
    ap.add_argument("--mrc-profiler", type=Path, default=DEFAULT_MRCP)
    ap.add_argument("--json", type=Path, help="also write all numbers as JSON here")
    args = ap.parse_args()

    if not 2 <= args.points <= MAX_LCS_POINTS:
        die(f"--points must be within 2..{MAX_LCS_POINTS} (mrcProfiler's limit)")
    if not args.cachelab.exists():
        die(f"{args.cachelab} missing: run `cargo build --release`")
    mrcp = args.mrc_profiler if args.mrc_profiler.exists() else None
    if mrcp is None:
        note(f"{args.mrc_profiler} missing (scripts/provision_mrc_profiler.sh builds it): "
             "printing cachelab's rows only")
    traces = list(args.traces)
    if args.standard:
        traces = standard_traces(args.cachelab, args.large) + traces
    if not traces:
        die("no trace given (pass TRACE paths or --standard)")

    ver, rev, dirty, cpu = provenance(args.cachelab)
    print(f"## cachelab mrc vs libCacheSim 0.3.5 mrcProfiler\n\n"
          f"{ver} (git {rev}{' + uncommitted src/' if dirty else ''}); mrcProfiler: "
          f"{mrcp.relative_to(ROOT) if mrcp and mrcp.is_relative_to(ROOT) else mrcp or 'not built'}; "
          f"{cpu}, {os.cpu_count()} CPUs; wall-clock per process, one thread each\n")
    summary = []
    with tempfile.TemporaryDirectory(prefix="mrccmp-") as tmp:
        for t in traces:
            if not t.exists():
                die(f"no such trace: {t}")
            summary.append(compare(t, args, mrcp, Path(tmp)))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
