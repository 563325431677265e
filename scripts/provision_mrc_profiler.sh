#!/usr/bin/env bash
# Build libCacheSim 0.3.5's `mrcProfiler` C tool into target/ and print its path.
#
# System packages (Debian 12 names). CI, as root, before calling this:
#   apt-get install -y --no-install-recommends \
#       build-essential pkg-config cmake libglib2.0-dev libzstd-dev python3-pip zstd
# (build-essential: cc/c++/make and glibc's argp.h via libc6-dev; cmake >= 3.12 from
# PATH; libglib2.0-dev and libzstd-dev: headers libCacheSim needs; python3-pip: only
# to download the sdist when target/lcs-sdist has no verified copy yet; zstd: the CLI
# scripts/mrc_vs_libcachesim.py uses to decompress .zst traces, not needed here.)
# Optional: libgoogle-perftools-dev (tcmalloc; libCacheSim's CMakeLists links it when
# found, as upstream's install_deps.sh does; LCS_TCMALLOC=off builds without it even if
# it is installed). LCS_ZSTD=off builds without libzstd-dev (then mrcProfiler cannot
# read .zst traces; the comparison script decompresses them first anyway).
# Any missing prerequisite makes the script fail before downloading or building, with
# exit code 3 and the apt-get line that installs what is missing.
#
# Everything stays inside the repository:
#   target/lcs-sdist/   the libcachesim==0.3.5 sdist from PyPI (sha256-pinned), unpacked;
#                       -Werror is dropped from its top CMakeLists.txt (marker file
#                       .werror-dropped) so a newer compiler's warnings cannot break it
#   target/lcs-build/   the cmake build tree; the tool is target/lcs-build/bin/mrcProfiler
#                       (libCacheSim linked statically, Release = -O3)
# No root is needed. Idempotent: if the binary exists, it only prints its path; an
# interrupted run resumes (download, unpack, configure and build each skip what is done).
# stdout carries only the binary's path; progress and errors go to stderr.
# Exit codes: 0 ok, 3 missing system packages, other = download/build failure.
#
# Usage: scripts/provision_mrc_profiler.sh        # from anywhere
#        MRCP=$(scripts/provision_mrc_profiler.sh)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VER=0.3.5
SHA256=a1512046ab45bc0e5f0a81e5673cd02209477ffeefcb17a05fa714a06371abfb
SDIST_DIR="$ROOT/target/lcs-sdist"
TARBALL="$SDIST_DIR/libcachesim-$VER.tar.gz"
SRC_TOP="$SDIST_DIR/libcachesim-$VER"
SRC="$SRC_TOP/src/libCacheSim" # the CMake project that has the mrcProfiler target
BUILD="$ROOT/target/lcs-build"
BIN="$BUILD/bin/mrcProfiler"

log() { echo "provision_mrc_profiler: $*" >&2; }

if [ -x "$BIN" ]; then
    echo "$BIN"
    exit 0
fi

# ---- 1. system prerequisites ------------------------------------------------
missing_apt=()
need() { missing_apt+=("$@"); }
command -v cc >/dev/null 2>&1 || need build-essential
command -v c++ >/dev/null 2>&1 || need build-essential
command -v make >/dev/null 2>&1 || need build-essential
[ -f /usr/include/argp.h ] || need libc6-dev
if ! command -v pkg-config >/dev/null 2>&1; then
    need pkg-config libglib2.0-dev
elif ! pkg-config --exists glib-2.0; then
    need libglib2.0-dev
fi

version_ge() { # version_ge A B: A >= B
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}
if ! command -v cmake >/dev/null 2>&1; then
    need cmake
elif ! version_ge "$(cmake --version | head -n1 | awk '{print $3}')" 3.12; then
    log "$(cmake --version | head -n1) is older than the 3.12 libCacheSim needs"
    need cmake
fi

ZSTD=ON
if [ "${LCS_ZSTD:-on}" = off ]; then
    ZSTD=OFF
elif ! { pkg-config --exists libzstd 2>/dev/null || [ -f /usr/include/zstd.h ]; }; then
    need libzstd-dev
fi

tarball_ok() { [ -f "$TARBALL" ] && echo "$SHA256  $TARBALL" | sha256sum -c --status; }
if ! tarball_ok && ! python3 -m pip --version >/dev/null 2>&1; then
    need python3-pip
fi

if [ "${#missing_apt[@]}" -gt 0 ]; then
    pkgs="$(printf '%s\n' "${missing_apt[@]}" | sort -u | paste -sd' ')"
    log "missing system packages: $pkgs"
    log "install them as root with:"
    log "    apt-get update && apt-get install -y --no-install-recommends $pkgs"
    log "(full set: build-essential pkg-config cmake libglib2.0-dev libzstd-dev python3-pip zstd)"
    exit 3
fi

# ---- 2. the sdist -----------------------------------------------------------
if ! tarball_ok; then
    rm -f "$TARBALL"
    mkdir -p "$SDIST_DIR"
    log "downloading libcachesim==$VER sdist from PyPI"
    req="$(mktemp)"
    trap 'rm -f "$req"' EXIT
    echo "libcachesim==$VER --hash=sha256:$SHA256" >"$req"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary :all: -r "$req" -d "$SDIST_DIR" >&2
    tarball_ok || { log "$TARBALL missing or its sha256 is not $SHA256"; exit 1; }
fi
if [ ! -f "$SRC/.unpacked" ]; then
    log "unpacking $TARBALL"
    rm -rf "$SRC_TOP"
    tar -xzf "$TARBALL" -C "$SDIST_DIR"
    [ -f "$SRC/libCacheSim/bin/mrcProfiler/CMakeLists.txt" ] ||
        { log "no libCacheSim/bin/mrcProfiler/CMakeLists.txt under $SRC"; exit 1; }
    # libCacheSim compiles with -Werror; a newer/older compiler's new warnings must
    # not break a benchmark build. Dropping it changes no generated code.
    sed -i 's/-Wall -Wextra -Werror/-Wall -Wextra/' "$SRC/CMakeLists.txt"
    touch "$SRC/.werror-dropped" "$SRC/.unpacked"
fi

# ---- 3. configure and build only the mrcProfiler target ---------------------
extra=()
# cmake >= 4 refuses projects that declare cmake_minimum_required < 3.5 (vendored deps)
if version_ge "$(cmake --version | head -n1 | awk '{print $3}')" 4.0; then
    extra+=(-DCMAKE_POLICY_VERSION_MINIMUM=3.5)
fi
if [ "${LCS_TCMALLOC:-auto}" = off ]; then
    extra+=(-DCMAKE_DISABLE_FIND_PACKAGE_Tcmalloc=ON)
fi
log "configuring with $(command -v cmake) (zstd=$ZSTD) in $BUILD"
cmake -S "$SRC" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DENABLE_TESTS=OFF \
    -DBUILD_SHARED_LIBS=OFF \
    -DOPT_SUPPORT_ZSTD_TRACE="$ZSTD" \
    "${extra[@]}" >&2
log "building mrcProfiler"
cmake --build "$BUILD" --target mrcProfiler -j "$(nproc)" >&2

[ -x "$BIN" ] || { log "build finished but $BIN is missing"; exit 1; }
if grep -q '^Tcmalloc_LIBRARY:FILEPATH=/' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    log "note: linked with tcmalloc"
fi
echo "$BIN"
