#!/usr/bin/env bash
# Crawler benchmark (issue 4, DESIGN §9): a generated site of ~20 KB Cyrillic pages served by
# Debian's nginx on 127.0.0.1, crawled with robots.txt and per-host politeness on but no delay.
# Prints a Markdown table: pages/s, CPU seconds, peak RSS of the crawler process.
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

if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  apt-get install -y -q nginx-light >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

# --- the site: index -> sections of 100 -> pages; each page ~20 KB of Russian/Kazakh text ---
if [[ ! -f "$SITE/.complete" ]]; then
  rm -rf "$SITE"
  python3 - "$SITE" "$PAGES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
words = ("финансовый мониторинг агентство республика казахстан платёж перевод карта банк "
         "кредит займ микрофинансовая организация лицензия обменник криптовалюта биткоин "
         "доход инвестиции пирамида прибыль вклад процент клиент договор счёт тенге рубль "
         "қаржы мониторинг агенттігі қазақстан республикасы төлем аударым несие банкі "
         "салым пайыз клиент шарт есепшот ақша табыс инвестиция ұйым рұқсат "
         "новости город погода спорт культура образование здоровье транспорт").split()
paras = [" ".join(rnd.choice(words) for _ in range(rnd.randint(60, 140))).capitalize() + "."
         for _ in range(400)]
sections = (n + 99) // 100
os.makedirs(f"{root}/s", exist_ok=True)
os.makedirs(f"{root}/p", exist_ok=True)
with open(f"{root}/robots.txt", "w") as f:
    f.write("User-agent: *\nDisallow: /private/\n")
def page(title, body_links, paras_n):
    links = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in body_links)
    text = "".join(f"<p>{rnd.choice(paras)}</p>" for _ in range(paras_n))
    return (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{title}</title>'
            f'</head><body><h1>{title}</h1><nav><ul>{links}</ul></nav>{text}</body></html>')
with open(f"{root}/index.html", "w") as f:
    f.write(page("Главная", [(f"/s/{i}.html", f"Раздел {i}") for i in range(sections)], 2))
for i in range(sections):
    lo, hi = i * 100, min(n, i * 100 + 100)
    with open(f"{root}/s/{i}.html", "w") as f:
        f.write(page(f"Раздел {i}", [(f"/p/{j}.html", f"Статья {j}") for j in range(lo, hi)], 1))
for j in range(n):
    links = [(f"/s/{j // 100}.html", "Раздел")] + [
        (f"/p/{rnd.randrange(n)}.html", "Ещё") for _ in range(3)]
    with open(f"{root}/p/{j}.html", "w") as f:
        f.write(page(f"Статья {j}", links, 13))
PY
  touch "$SITE/.complete"
fi
TOTAL_URLS=$(( 1 + (PAGES + 99) / 100 + PAGES ))
AVG_KB=$(du -s --block-size=1K "$SITE/p" | awk -v n="$PAGES" '{printf "%.1f", $1 / n}')

# --- nginx on loopback, access log counts pages ---
cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  types { text/html html; text/plain txt; }
  default_type text/html;
  charset utf-8;
  sendfile on;
  keepalive_requests 1000000;
  log_format bench '\$status \$request_uri';
  access_log $WORK/access.log bench buffer=256k flush=1s;
  server { listen 127.0.0.1:$PORT; root $SITE; index index.html; }
}
EOF
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

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
  pages=$(grep -c '^200 /\(index.html\|s/\|p/\|$\)' "$WORK/access.log" || true)
  ROWS+=("$(awk -v l="$label" -v n="$note" -v p="$pages" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
    'BEGIN { printf "| %s | %s | %d | %.1f | %.0f | %.1f | %.0f |", l, n, p, w, p / w, u + s, r / 1024 }')")
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
  run "spider_cli $SPIDER_VERSION" "defaults, respect robots.txt" \
    /var/tmp/spider-cli/bin/spider --url "http://127.0.0.1:$PORT/" --respect-robots-txt crawl
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
echo "| run | settings | pages fetched | wall s | pages/s | CPU s | peak RSS MB |"
echo "|---|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
