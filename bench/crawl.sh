#!/usr/bin/env bash
# Crawler benchmark (issue 4, DESIGN §9): a generated site of ~20 KB Cyrillic pages served by
# Debian's nginx on 127.0.0.1, crawled with robots.txt and per-host politeness on but no delay.
# Prints a Markdown table: pages/s, CPU seconds (and per page, and as cores busy over the wall
# time), peak RSS of the crawler process, and the 1-minute load average after the run (other
# work on the machine skews wall-clock figures; CPU per page much less).
#
#   bench/crawl.sh                 # 20,000 pages: crawl-only, and crawl+parse+index+classify
#   bench/crawl.sh --peers         # ... and the same site with spider_cli and Scrapy
#   BENCH_PAGES=100000 bench/crawl.sh   # the 100,000-page run (peak RSS)
#
# Pages fetched are counted in nginx's access log (status 200, robots.txt excluded), the same
# way for every crawler. spider_cli is installed with `cargo install` into /var/tmp/spider-cli,
# Scrapy with pip into /var/tmp/baqylau-scrapy-venv, nginx with apt-get, when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/baqylau-target}"
PAGES="${BENCH_PAGES:-20000}"
CONC="${BENCH_CONCURRENCY:-16}"
PEERS=0
[[ "${1:-}" == "--peers" ]] && PEERS=1
BASE="/var/tmp/baqylau-bench"
SITE="$BASE/site-$PAGES"
WORK="$BASE/run-$PAGES"
PORT="${BENCH_PORT:-18431}"
mkdir -p "$WORK" "$BASE"

source bench/site.sh
# --- the site: index -> sections of 100 -> pages; each page ~20 KB of Russian/Kazakh text ---
bench_site "$SITE" "$PAGES" 0
TOTAL_URLS=$(bench_site_urls "$PAGES" 0)
AVG_KB=$(du -s --block-size=1K "$SITE/p" | awk -v n="$PAGES" '{printf "%.1f", $1 / n}')

# --- nginx on loopback, access log counts pages ---
bench_nginx "$WORK" "$PORT" "$SITE" 0
trap 'kill $NGINX_PID 2>/dev/null || true' EXIT

cargo build --release --locked --quiet -p baqylau
cargo build --release --locked --quiet -p crawler --example crawl_only
BIN="$CARGO_TARGET_DIR/release"

ROWS=()
# run LABEL NOTE COMMAND...: time the command, count the pages nginx served while it ran.
run() {
  local label="$1" note="$2"; shift 2
  : >"$WORK/access.log"
  sleep 0.3
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >"$WORK/out.log" 2>"$WORK/err.log" || {
    echo "$label failed:" >&2; tail -20 "$WORK/err.log" >&2; return 1; }
  sleep 1.5 # nginx flushes its log buffer every second
  local wall user sys rss pages
  read -r wall user sys rss <"$WORK/time"
  pages=$(bench_pages_served "$WORK")
  ROWS+=("$(awk -v l="$label" -v n="$note" -v p="$pages" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
    -v la="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "| %s | %s | %d | %.1f | %.0f | %.1f | %.3f | %.2f | %.0f | %s |", l, n, p, w, p / w,
      u + s, 1000 * (u + s) / p, (u + s) / w, r / 1024, la }')")
}

DATA="$WORK/data"
rm -rf "$DATA-crawl" "$DATA-full"
run "baqylau crawl-only (crawler crate)" "concurrency $CONC, 16/host, robots on" \
  "$BIN/examples/crawl_only" --data "$DATA-crawl" --seed http://bench.kz/ \
  --resolve "bench.kz=127.0.0.1:$PORT" --concurrency "$CONC" --per-host-connections 16
run "baqylau crawl --no-screenshots (crawl+parse+index+classify)" "concurrency $CONC, 16/host, robots on" \
  "$BIN/baqylau" crawl --json --no-screenshots --data "$DATA-full" --seed http://bench.kz/ \
  --resolve "bench.kz=127.0.0.1:$PORT" --host-delay 0ms --max-pages 10000000 \
  --max-pages-per-host 10000000 --max-depth 5 --concurrency "$CONC" --per-host-connections 16

if [[ $PEERS == 1 ]]; then
  if [[ ! -x /var/tmp/spider-cli/bin/spider ]]; then
    cargo install --locked --root /var/tmp/spider-cli spider_cli >/dev/null
  fi
  SPIDER_VERSION=$(/var/tmp/spider-cli/bin/spider --version | awk '{print $NF}')
  # `crawl -o`: without --output-links, spider_cli 2.53's `crawl` spawns the crawl and returns
  # from main at once (the runtime drops it before any request is sent); -o makes main wait on
  # the page stream. Its concurrency is its own default (no CLI flag).
  run "spider_cli $SPIDER_VERSION" "defaults, respect robots.txt, \`crawl -o\`" \
    /var/tmp/spider-cli/bin/spider --url "http://127.0.0.1:$PORT/" --respect-robots-txt crawl -o
  # The one spider_cli setting that fetches the whole site: a delay (even 1 ms) makes its crawl
  # sequential, slow enough for the page channel (`crawl -o --sync`, meant to do the same, still
  # stopped after ~2,200 pages here).
  run "spider_cli $SPIDER_VERSION" "\`--delay 1\`, respect robots.txt, \`crawl -o\`" \
    /var/tmp/spider-cli/bin/spider --url "http://127.0.0.1:$PORT/" --respect-robots-txt --delay 1 crawl -o
  # The spider crate itself (same version as spider_cli), awaited directly: spider_cli's
  # `crawl -o` stops at the first lagged read of its 30-slot page channel, after a few hundred
  # pages of a fast site (bench/peers/spider/src/main.rs). Its own workspace and target dir.
  cargo build --release --locked --quiet --manifest-path bench/peers/spider/Cargo.toml \
    --target-dir /var/tmp/spider-peer-target
  run "spider $SPIDER_VERSION (library, \`Website::crawl\`)" "default concurrency, robots on" \
    /var/tmp/spider-peer-target/release/spider-peer "http://127.0.0.1:$PORT/"
  run "spider $SPIDER_VERSION (library, \`Website::crawl\`)" "concurrency $CONC, robots on" \
    /var/tmp/spider-peer-target/release/spider-peer "http://127.0.0.1:$PORT/" "$CONC"
  if [[ ! -x /var/tmp/baqylau-scrapy-venv/bin/scrapy ]]; then
    python3 -m venv /var/tmp/baqylau-scrapy-venv
    /var/tmp/baqylau-scrapy-venv/bin/pip install -q scrapy
  fi
  SCRAPY_VERSION=$(/var/tmp/baqylau-scrapy-venv/bin/scrapy version | awk '{print $2}')
  cat >"$WORK/scrapy_bench.py" <<'PY'
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule
import os
class Bench(CrawlSpider):
    name = "bench"
    start_urls = [os.environ["BENCH_URL"]]
    rules = (Rule(LinkExtractor(), follow=True),)
PY
  export BENCH_URL="http://127.0.0.1:$PORT/"
  run "Scrapy $SCRAPY_VERSION" "CONCURRENT_REQUESTS=$CONC (all on one host), robots on" \
    /var/tmp/baqylau-scrapy-venv/bin/scrapy runspider "$WORK/scrapy_bench.py" \
    -s ROBOTSTXT_OBEY=True -s CONCURRENT_REQUESTS="$CONC" -s CONCURRENT_REQUESTS_PER_DOMAIN="$CONC" \
    -s DOWNLOAD_DELAY=0 -s LOG_LEVEL=WARNING -s TELNETCONSOLE_ENABLED=False -s DEPTH_LIMIT=0
fi

echo
echo "Site: $PAGES pages (${AVG_KB} KB average, $TOTAL_URLS URLs with index and sections), nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), $(nproc) cores."
echo
echo "| run | settings | pages fetched | wall s | pages/s | CPU s | CPU ms/page | cores busy | peak RSS MB | load avg |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
