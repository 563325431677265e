#!/usr/bin/env python3
"""Run memcached's own test suite (t/*.t of release 1.6.18) against `cachelab serve`.

    python3 scripts/memcached_suite.py fetch           # the suite, into target/memcached-suite
    python3 scripts/memcached_suite.py run [FILE.t…]   # one line per file
    python3 scripts/memcached_suite.py run --server memcached   # the baseline, real memcached
    python3 scripts/memcached_suite.py run --status scripts/memcached_suite/status.txt --expect
    python3 scripts/memcached_suite.py run --status scripts/memcached_suite/status.txt --markdown

`fetch` takes the suite from Debian's source package (`apt-get source --download-only
memcached`, with a private apt configuration under target/ that enables deb-src, so nothing
under /etc changes) and checks the release tarball's SHA-256. `run` makes a build
directory holding `t/` and the launcher shim `memcached-debug`
(scripts/memcached_suite/memcached-debug) that `t/lib/MemcachedTest.pm` starts, runs each
file with perl and prints `FILE  pass|fail|skip  detail`.

The status file says, per test file, what cachelab is meant to do: `pass`, `n/a REASON`
(out of scope, e.g. the binary protocol) or `not-yet REASON`. With `--expect`, only the
`pass` files run and any that does not pass makes the exit status non-zero: CI runs them so
none regresses. `--markdown` prints the README's table: every file, the result of this run
and the reason. The suite is read, never changed or committed.
"""

import argparse
import concurrent.futures
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "memcached-suite")
RELEASE = "memcached-1.6.18"
TARBALL = "memcached_1.6.18.orig.tar.xz"
TARBALL_SHA256 = "35872bd25f8d29d7cc2072d23e74344530891bfd0aa4f4f64184a8ae7291164b"
SHIM = os.path.join(ROOT, "scripts", "memcached_suite", "memcached-debug")
SOURCES = """Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def suite_dir():
    return os.path.join(WORK, RELEASE)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch():
    """Download the source package with a private apt configuration and unpack `t/`."""
    if os.path.exists(os.path.join(suite_dir(), "doc", "protocol.txt")):
        return
    apt = os.path.join(WORK, "apt")
    for sub in ("lists/partial", "cache/archives/partial", "download"):
        os.makedirs(os.path.join(apt, sub), exist_ok=True)
    with open(os.path.join(apt, "sources.sources"), "w") as f:
        f.write(SOURCES)
    options = [
        "-o", f"Dir::Etc::SourceList={os.path.join(apt, 'none.list')}",
        "-o", f"Dir::Etc::SourceParts={apt}",
        "-o", f"Dir::State::Lists={os.path.join(apt, 'lists')}",
        "-o", f"Dir::Cache={os.path.join(apt, 'cache')}",
        "-o", "Debug::NoLocking=1",
        "-q",
    ]
    download = os.path.join(apt, "download")
    tarball = os.path.join(download, TARBALL)
    if not os.path.exists(tarball):
        subprocess.run(["apt-get", *options, "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", *options, "source", "--download-only", "memcached"],
            check=True,
            cwd=download,
        )
    if not os.path.exists(tarball):
        sys.exit(f"{tarball}: not downloaded (is Debian's memcached still 1.6.18?)")
    got = sha256(tarball)
    if got != TARBALL_SHA256:
        sys.exit(f"{tarball}: SHA-256 {got}, expected {TARBALL_SHA256}")
    with tarfile.open(tarball) as tar:
        # t/ and the protocol document line-lengths.t reads.
        members = [
            m
            for m in tar.getmembers()
            if m.name.startswith(f"{RELEASE}/t/") or m.name == f"{RELEASE}/doc/protocol.txt"
        ]
        tar.extractall(WORK, members=members, filter="data")


def build_dir(server):
    """A directory MemcachedTest.pm takes as the build directory: `t/`, `doc/`, the shim as
    `memcached-debug`, and `timedrun` (which only runs its command)."""
    path = os.path.join(WORK, f"run-{server}")
    os.makedirs(path, exist_ok=True)
    for name in ("t", "doc"):
        link = os.path.join(path, name)
        if not os.path.islink(link):
            os.symlink(os.path.join(suite_dir(), name), link)
    exe = os.path.join(path, "memcached-debug")
    shutil.copy(SHIM, exe)
    os.chmod(exe, 0o755)
    timedrun = os.path.join(path, "timedrun")
    with open(timedrun, "w") as f:
        f.write('#!/bin/sh\n# timedrun SECONDS COMMAND...: the runner times files out itself.\nshift\nexec "$@"\n')
    os.chmod(timedrun, 0o755)
    return path


PLAN = re.compile(r"^1\.\.(\d+)(?:\s*#\s*skip\w*\s*(.*))?", re.I)
RESULT = re.compile(r"^(not )?ok\b")


def classify(output, code, timed_out):
    """(status, detail) from a file's TAP output and exit code."""
    planned = None
    skip_reason = None
    passed = failed = 0
    for line in output.splitlines():
        m = PLAN.match(line)
        if m:
            planned = int(m.group(1))
            if planned == 0:
                skip_reason = (m.group(2) or "").strip() or "skipped"
            continue
        m = RESULT.match(line)
        if m:
            if m.group(1):
                failed += 1
            else:
                passed += 1
    if skip_reason is not None and code == 0:
        return "skip", skip_reason
    ran = passed + failed
    if timed_out:
        return "fail", f"timed out after {ran} tests ({failed} failed)"
    if code == 0 and failed == 0 and planned is not None and ran == planned:
        return "pass", f"{passed}/{planned}"
    total = planned if planned is not None else "?"
    return "fail", f"{failed} failed, {ran} of {total} ran, exit {code}"


def run_file(path, build, env, timeout):
    name = os.path.basename(path)
    try:
        proc = subprocess.run(
            ["perl", os.path.join("t", name)],
            cwd=build,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            start_new_session=True,
        )
        out, code, timed_out = proc.stdout.decode(errors="replace"), proc.returncode, False
    except subprocess.TimeoutExpired as err:
        out, code, timed_out = (err.stdout or b"").decode(errors="replace"), -1, True
    status, detail = classify(out, code, timed_out)
    return name, status, detail, out


def read_status(path):
    """{file: (status, reason)} from lines `FILE pass|n/a|not-yet [REASON]` (# comments)."""
    status = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 2 or parts[1] not in ("pass", "n/a", "not-yet"):
                sys.exit(f"{path}:{number}: expected `FILE pass|n/a|not-yet [REASON]`")
            status[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return status


def print_markdown(table, status):
    """Every file with this run's result and the status file's verdict and reason."""
    print("| file | this run | status | why |")
    print("|---|---|---|---|")
    for name, result, detail in sorted(table):
        verdict, reason = status.get(name, ("?", "not in the status file"))
        print(f"| `{name}` | {result} ({detail}) | {verdict} | {reason} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download and unpack the suite")
    run = sub.add_parser("run", help="run test files, one line per file")
    run.add_argument("files", nargs="*", help="file names such as metaget.t (default: all)")
    run.add_argument("--server", choices=["cachelab", "memcached"], default="cachelab")
    run.add_argument("--cachelab", default=os.path.join(ROOT, "target", "release", "cachelab"))
    run.add_argument("--status", help="the status file: FILE pass|n/a|not-yet [REASON]")
    run.add_argument(
        "--expect", action="store_true", help="run the status file's `pass` files; all must pass"
    )
    run.add_argument(
        "--markdown", action="store_true", help="print a Markdown table with the status reasons"
    )
    run.add_argument("--jobs", type=int, default=2)
    run.add_argument("--timeout", type=float, default=180.0, help="seconds per file")
    run.add_argument("--log", help="a directory for each file's full output")
    args = parser.parse_args()

    fetch()
    if args.command == "fetch":
        print(os.path.join(suite_dir(), "t"))
        return
    status = read_status(args.status) if args.status else {}
    if (args.expect or args.markdown) and not status:
        sys.exit("--expect and --markdown need --status FILE")
    expected = [n for n, (s, _) in status.items() if s == "pass"] if args.expect else []
    names = args.files or expected or sorted(
        os.path.basename(p) for p in glob.glob(os.path.join(suite_dir(), "t", "*.t"))
    )
    if args.server == "cachelab" and not os.access(args.cachelab, os.X_OK):
        sys.exit(f"{args.cachelab}: not built (cargo build --release)")
    # The shim runs in the build directory: a relative path would point elsewhere.
    args.cachelab = os.path.abspath(args.cachelab)
    build = build_dir(args.server)
    env = dict(os.environ, CACHELAB_SUITE_SERVER=args.server, CACHELAB_BIN=args.cachelab)
    paths = [os.path.join(suite_dir(), "t", n) for n in names]
    for path in paths:
        if not os.path.exists(path):
            sys.exit(f"{path}: no such test file in the suite")
    counts = {"pass": 0, "fail": 0, "skip": 0}
    failed_expected = []
    table = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, result, detail, out in pool.map(
            lambda p: run_file(p, build, env, args.timeout), paths
        ):
            counts[result] += 1
            table.append((name, result, detail))
            if not args.markdown:
                print(f"{name:28} {result:5} {detail}", flush=True)
            if args.log:
                os.makedirs(args.log, exist_ok=True)
                with open(os.path.join(args.log, name + ".log"), "w") as f:
                    f.write(out)
            if name in expected and result != "pass":
                failed_expected.append(name)
    if args.markdown:
        print_markdown(table, status)
    print(f"{args.server}: {counts['pass']} pass, {counts['fail']} fail, {counts['skip']} skip")
    if failed_expected:
        sys.exit(f"expected to pass but did not: {', '.join(failed_expected)}")


if __name__ == "__main__":
    main()
