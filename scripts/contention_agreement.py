#!/usr/bin/env python3
"""How close `cachelab contention --mode sim`, calibrated on a live server, comes to
`--mode net` against that server: the README's table, in one command.

For each server (a real memcached and `cachelab serve`, each started on a free loopback
port): calibrate once (`--calibrate`, with one connection and with every client count at
once), then run `--mode net` and the calibrated `--mode sim` with `--repeat R` for every
client count and strategy, and compare the medians: the fraction of updates lost (naive)
and CAS failures per update (cas). Prints one Markdown table with the median (min-max) of
both sides, sim/net - 1, and how many rows are within the tolerance (15%). The simulation
replays the serving order the calibration measured at each client count; the last column
of each server is the simulation from the same calibration's delays alone (`--delays-only`:
round-trip histograms and their persistence, the model before serving orders were
measured), on the same net runs.

    python3 scripts/contention_agreement.py [--clients 2,4,8,16] [--repeat 5] [--ops 1000]
        [--servers memcached,serve] [--binary target/release/cachelab] [--keep DIR]
        [--net-sets K] [--pin]

`--net-sets K` runs the net side K times (K independent sets of `--repeat` runs) and adds a
second table: each set's median, the largest over the smallest, and against how many sets
the simulation is within the tolerance. It answers whether the reference itself repeats:
when the largest set median exceeds the smallest by more than (1 + tol) / (1 - tol), no
prediction can be within the tolerance of every set. `--pin` runs each server on CPU 0 and
the clients (calibration and net runs) on CPU 1 (`taskset`), so the two sides stop
competing for one core; the simulation needs no pinning. A last table puts each row's mean
streak of updates by one client (`update_streak_mean`) from the simulation beside the net
run's: how the clients take turns.

The net numbers depend on what else the machine runs: on a shared 2-core machine run it
when the machine is otherwise idle (the load average is printed before and after), or
pass `--nice` to run the servers and clients at nice -20 (root).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from loopback import free_port, memcached_command, wait_for


def pinned(cpu):
    """The command prefix that runs on CPU `cpu` alone, or nothing when `cpu` is None."""
    if cpu is None:
        return []
    if not shutil.which("taskset"):
        sys.exit("--pin needs taskset (Debian: util-linux)")
    return ["taskset", "-c", str(cpu)]


def prefix(nice, cpu):
    """The command prefix for `--nice` and a pinned CPU."""
    return (["nice", "-n", "-20"] if nice else []) + pinned(cpu)


def start(kind, binary, nice, cpu=None):
    port = free_port()
    if kind == "memcached":
        command = memcached_command(port, "-m", "64")
    elif kind == "serve":
        command = [binary, "serve", "-l", "127.0.0.1", "-p", str(port), "-m", "64"]
    else:
        sys.exit(f"unknown server {kind!r}: memcached or serve")
    child = subprocess.Popen(prefix(nice, cpu) + command,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port, child)
    return child, port


def contention(binary, args, nice, cpu=None):
    out = subprocess.run(prefix(nice, cpu) + [binary, "contention", *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"cachelab contention {' '.join(args)} failed:\n{out.stderr}")
    return out.stderr


def measure(row):
    """(median, min, max) of the row's measure: lost fraction (naive) or failures/update.
    A row of one run (`--repeat 1`) has no spread fields: its own value is all three."""
    if row["strategy"] == "naive":
        name, scale = "lost_updates", row["expected"]
    else:
        name, scale = "cas_failures_per_update", 1
    return tuple((row[f"{name}_{k}"] if row[f"{name}_{k}"] is not None else row[name]) / scale
                 for k in ("median", "min", "max"))


def items(path):
    with open(path) as f:
        document = json.load(f)
    return document["rows"] if isinstance(document, dict) else document


def rows(path):
    return {(r["strategy"], r["clients"]): measure(r) for r in items(path)}


def streaks(path):
    """Each row's mean streak of updates by one client (the median run's)."""
    return {(r["strategy"], r["clients"]): r.get("update_streak_mean") for r in items(path)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="2,4,8,16")
    parser.add_argument("--strategies", default="naive,cas")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ops", type=int, default=1000)
    parser.add_argument("--servers", default="memcached,serve")
    parser.add_argument("--tolerance", type=float, default=0.15)
    parser.add_argument("--binary", default="target/release/cachelab")
    parser.add_argument("--nice", action="store_true", help="run at nice -20 (needs root)")
    parser.add_argument("--keep", help="directory for the calibration and JSON files")
    parser.add_argument("--net-sets", type=int, default=1,
                        help="independent sets of --repeat net runs (the reference's own spread)")
    parser.add_argument("--pin", action="store_true",
                        help="servers on CPU 0, clients on CPU 1 (taskset)")
    args = parser.parse_args()
    server_cpu, client_cpu = (0, 1) if args.pin else (None, None)
    work = args.keep or tempfile.mkdtemp(prefix="contention-agreement-")
    os.makedirs(work, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    results = {}
    for kind in args.servers.split(","):
        child, port = start(kind, args.binary, args.nice, server_cpu)
        try:
            server = f"127.0.0.1:{port}"
            cal = os.path.join(work, f"{kind}_calibration.json")
            net = os.path.join(work, f"{kind}_net.json")
            sim = os.path.join(work, f"{kind}_sim.json")
            delays = os.path.join(work, f"{kind}_sim_delays.json")
            log = contention(args.binary, ["--mode", "sim", "--calibrate", server,
                                           "--calibration", cal, "--force", "--clients", args.clients,
                                           "--ops", "10", "--strategy", "cas"], args.nice, client_cpu)
            for line in log.splitlines():
                if "calibrated" in line:
                    print(f"{kind}: {line}", file=sys.stderr)
            sweep = ["--clients", args.clients, "--strategy", args.strategies,
                     "--ops", str(args.ops), "--repeat", str(args.repeat), "--force"]
            net_sets = []
            for k in range(args.net_sets):
                path = net if k == 0 else os.path.join(work, f"{kind}_net_{k}.json")
                contention(args.binary, ["--mode", "net", "--server", server, "--json", path, *sweep],
                           args.nice, client_cpu)
                net_sets.append(rows(path))
            contention(args.binary, ["--mode", "sim", "--calibration", cal, "--json", sim, *sweep], False)
            contention(args.binary, ["--mode", "sim", "--calibration", cal, "--delays-only",
                                     "--json", delays, *sweep], False)
            results[kind] = (rows(sim), net_sets[0], rows(delays), net_sets,
                             streaks(sim), streaks(net))
        finally:
            child.terminate()
            child.wait()
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)

    kinds = list(results)
    names = {"memcached": "memcached", "serve": "`cachelab serve -m 64`"}
    header = "| strategy | clients |" + "".join(
        f" {names[k]}: sim | net | sim/net − 1 | delays only: sim/net − 1 |" for k in kinds)
    print(header)
    print("| --- | ---: |" + " --- | --- | ---: | ---: |" * len(kinds))
    within = {k: 0 for k in kinds}
    within_delays = {k: 0 for k in kinds}
    total = 0
    fmt = lambda t: f"{t[0]:.3f} ({t[1]:.3f}–{t[2]:.3f})"
    for key in sorted(next(iter(results.values()))[1], key=lambda k: (k[0] != "naive", k[1])):
        cells = []
        for k in kinds:
            sim, net, delays = (results[k][i][key] for i in range(3))
            if net[0] > 0:
                error = sim[0] / net[0] - 1
                error_delays = delays[0] / net[0] - 1
                within[k] += abs(error) <= args.tolerance
                within_delays[k] += abs(error_delays) <= args.tolerance
                cells.append(f" {fmt(sim)} | {fmt(net)} | {error:+.0%} | {error_delays:+.0%} |")
            else:
                cells.append(f" {fmt(sim)} | {fmt(net)} | - | - |")
        total += 1
        print(f"| {key[0]} | {key[1]} |" + "".join(cells))
    summary = ", ".join(
        f"{names[k]} {within[k]} of {total} ({within_delays[k]} with delays only)" for k in kinds)
    print(f"\nwithin {args.tolerance:.0%}: {summary}")
    if args.net_sets > 1:
        print_net_sets(results, names, args.tolerance)
    print_streaks(results, names)
    print(f"files in {work}", file=sys.stderr)


def print_streaks(results, names):
    """The mean streak of updates by one client, sim beside net (first net set): how the
    clients take turns, which the miss ratio alone does not show."""
    kinds = list(results)
    print("\n| strategy | clients |" + "".join(
        f" {names[k]}: sim update streak | net update streak |" for k in kinds))
    print("| --- | ---: |" + " ---: | ---: |" * len(kinds))
    fmt = lambda x: "-" if x is None else f"{x:.2f}"
    for key in sorted(results[kinds[0]][4], key=lambda k: (k[0] != "naive", k[1])):
        cells = "".join(f" {fmt(results[k][4][key])} | {fmt(results[k][5].get(key))} |" for k in kinds)
        print(f"| {key[0]} | {key[1]} |{cells}")


def print_net_sets(results, names, tolerance):
    """The second table: every net set's median per row, their spread, and against how
    many sets the simulation's median is within `tolerance`."""
    reachable = (1 + tolerance) / (1 - tolerance)
    kinds = list(results)
    print(f"\n| strategy | clients |" + "".join(
        f" {names[k]}: net set medians | largest / smallest | sim within {tolerance:.0%} of |"
        for k in kinds))
    print("| --- | ---: |" + " --- | ---: | ---: |" * len(kinds))
    sets = len(results[kinds[0]][3])
    unreachable = {k: 0 for k in kinds}
    for key in sorted(results[kinds[0]][1], key=lambda k: (k[0] != "naive", k[1])):
        cells = []
        for k in kinds:
            sim = results[k][0][key][0]
            medians = [s[key][0] for s in results[k][3]]
            low, high = min(medians), max(medians)
            ratio = high / low if low > 0 else float("inf")
            unreachable[k] += ratio > reachable
            hits = sum(abs(sim / m - 1) <= tolerance for m in medians if m > 0)
            cells.append(f" {', '.join(f'{m:.3f}' for m in medians)} | {ratio:.2f} | {hits} of {sets} |")
        print(f"| {key[0]} | {key[1]} |" + "".join(cells))
    summary = ", ".join(f"{names[k]} {unreachable[k]}" for k in kinds)
    print(f"\nrows whose net set medians differ by more than {reachable:.2f}x "
          f"(no prediction within {tolerance:.0%} of every set): {summary}")


if __name__ == "__main__":
    main()
