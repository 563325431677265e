#!/usr/bin/env bash
# Screenshot of a cachelab report page, as a reader sees it, by headless Chromium.
#
#   scripts/screenshot_report.sh [REPORT_DIR] [OUT.png]
#
# Defaults: reports/example (rebuilt by `cargo run --release -- demo -o reports/example`)
# and REPORT_DIR/screenshot.png. Needs Debian's `chromium` (apt-get install chromium). The
# flags keep Chromium from its own background traffic; the page itself fetches nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-reports/example}
out=${2:-$dir/screenshot.png}
page="$(cd "$dir" && pwd)/index.html"
[ -f "$page" ] || { echo "no $page: run cargo run --release -- demo -o $dir first" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" --window-size=1100,2400 \
  --screenshot="$out" "file://$page" 2>/dev/null
echo "wrote $out"
