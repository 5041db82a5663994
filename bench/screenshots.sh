#!/usr/bin/env bash
# Evidence-screenshot benchmark (issue 5): everything on 127.0.0.1, Chromium /usr/bin/chromium.
#   1. screenshots/s of distinct ~20 KB pages (full-page desktop PNG, highlight + footer) through
#      the renderer's tab pool vs one `chromium --headless --screenshot` process per page, in the
#      same run, with the peak memory (PSS) of each browser process tree
#      (crawler/examples/shot_bench.rs);
#   2. post → case latency: `baqylau crawl --watch --revisit 5s` on a fixture channel, each new
#      violating post timed from publication to its case in `GET /api/cases`
#      (bench/channel_latency.py).
# Prints a Markdown table.
#
#   bench/screenshots.sh                       # 200 pages, 20 posts
#   BENCH_PAGES=50 BENCH_POSTS=10 bench/screenshots.sh
#   BENCH_TABS=6 bench/screenshots.sh           # another tab-pool size (default: the renderer's 4)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/baqylau-target}"
PAGES="${BENCH_PAGES:-200}"
POSTS="${BENCH_POSTS:-20}"
REVISIT="${BENCH_REVISIT:-5s}"

cargo build -q --release -p crawler --example shot_bench
cargo build -q --release --bin baqylau
# The target directory is shared (CI builds other commits into it): run private copies.
BIN="$(mktemp -d /var/tmp/baqylau-shot-bench.XXXXXX)"
trap 'rm -rf "$BIN"' EXIT
cp "$CARGO_TARGET_DIR/release/examples/shot_bench" "$CARGO_TARGET_DIR/release/baqylau" "$BIN/"
shots="$("$BIN/shot_bench" "$PAGES" "$PAGES")"
latency="$(python3 bench/channel_latency.py --baqylau "$BIN/baqylau" \
  --posts "$POSTS" --revisit "$REVISIT")"

python3 - "$shots" "$latency" <<'EOF'
import json, sys
s, l = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| screenshots ({s['pages']} distinct ~20 KB pages, full-page desktop) | shots/s | seconds | failed | peak PSS of browser tree |")
print("|---|---|---|---|---|")
print(f"| tab pool ({s['tabs']} tabs, one Chromium) | {s['pool_shots_per_s']} | {s['pool_seconds']} | {s['pool_failed']} | {s['pool_peak_pss_mib']} MiB |")
print(f"| one `chromium --headless --screenshot` per page | {s['process_shots_per_s']} | {s['process_seconds']} | {s['process_failed']} | {s['process_peak_pss_mib']} MiB |")
print(f"| speed-up | {s['speedup']}× | | | |")
print()
print(f"| post → case in the API ({l['posts']} posts, channel revisited every {l['revisit']}) | p50 | p95 | max |")
print("|---|---|---|---|")
print(f"| `crawl --watch` + `serve`, screenshots on | {l['p50_s']} s | {l['p95_s']} s | {l['max_s']} s |")
print()
print(f"crawl --watch exit status after SIGTERM: {l['crawl_exit']}")
EOF
