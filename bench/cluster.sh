#!/usr/bin/env bash
# Distributed benchmark (issue 8): the crawler benchmark's 20,000-page site, split over 16 hosts,
# crawled by 1, 2 and 4 crawler workers through RabbitMQ + PostgreSQL (plus one indexer, one
# classifier and one reporter), side by side with the embedded mode (`baqylau crawl
# --no-screenshots`) on the same site in the same run. No screenshot worker runs, as in the
# embedded baseline; crawler workers run with `--render never` (the embedded crawl starts no
# browser without screenshots either).
#
#   bench/cluster.sh                          # 20,000 pages, 1, 2 and 4 crawler workers
#   BENCH_PAGES=2000 bench/cluster.sh         # a quick run
#   BENCH_WORKERS="4" bench/cluster.sh        # only the 4-worker deployment (and the baseline)
#   BENCH_BIN=/path/to/baqylau bench/cluster.sh   # that binary, no build
#   BENCH_QUIET_LOAD=3 bench/cluster.sh       # each run starts once the load average is under 3
#
# Crawler workers split the frontier by host, so the site has BENCH_HOSTS (16) host names
# bench0.kz … bench15.kz, all served by one nginx on 127.0.0.1 (`--resolve` per host). Each
# deployment gets a fresh PostgreSQL schema and queue prefix; workers start first, then
# `baqylau seed` queues the 16 host roots and the clock runs until the frontier has nothing
# queued or in flight and every queue is empty with nothing unacknowledged (`baqylau stats`
# polled every 0.25 s, then `rabbitmqctl list_queues` for unacknowledged messages).
#
# Measured per deployment: pages (200s in nginx's access log), wall seconds from seed to drained,
# broker messages published (the workers' baqylau_messages_published_total, plus the seeds),
# PostgreSQL rows written (n_tup_ins + n_tup_upd + n_tup_del over the run's schema, read after
# the workers exit so every backend has flushed its statistics), CPU seconds of every worker
# process (/proc/PID/stat, seed to drained) and per role, peak RSS (VmHWM) per role, and the CPU
# seconds of RabbitMQ (beam.smp; the broker is shared with anything else on this machine) and of
# the PostgreSQL backends serving the workers' connections.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/baqylau-target}"
PAGES="${BENCH_PAGES:-20000}"
HOSTS="${BENCH_HOSTS:-16}"
CONC="${BENCH_CONCURRENCY:-16}"
WORKER_COUNTS="${BENCH_WORKERS:-1 2 4}"
BROKER="${BENCH_BROKER:-amqp://guest:guest@127.0.0.1:5672/%2f}"
DB="${BENCH_DB:-postgres://postgres@127.0.0.1:5432/test}"
PORT="${BENCH_PORT:-18432}"
BASE="/var/tmp/baqylau-bench"
SITE="$BASE/site-$PAGES-h$HOSTS"
WORK="$BASE/cluster-$PAGES"
mkdir -p "$WORK"
source bench/site.sh

command -v jq >/dev/null || { echo "bench/cluster.sh needs jq" >&2; exit 1; }
psql "$DB" -Atc 'select 1' >/dev/null || { echo "PostgreSQL must run at $DB" >&2; exit 1; }
(exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null || { echo "RabbitMQ must run at $BROKER" >&2; exit 1; }
BEAM_PID="$(pgrep -o -x beam.smp || true)"
TICK="$(getconf CLK_TCK)"

bench_site "$SITE" "$PAGES" "$HOSTS"
TOTAL_URLS=$(bench_site_urls "$PAGES" "$HOSTS")
RESOLVE=() SEEDS=()
for ((h = 0; h < HOSTS; h++)); do
  RESOLVE+=(--resolve "bench$h.kz=127.0.0.1:$PORT")
  SEEDS+=("http://bench$h.kz/")
done

PIDS=() SCHEMAS=() PREFIXES=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n "${NGINX_PID:-}" ]] && kill "$NGINX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  for p in "${SCHEMAS[@]}"; do
    psql "$DB" -qAtc "DROP SCHEMA IF EXISTS \"$p\" CASCADE" >/dev/null 2>&1 || true
  done
  for p in "${PREFIXES[@]}"; do
    rabbitmqctl -q list_queues name 2>/dev/null | grep -F "$p" | while read -r q; do
      rabbitmqctl -q delete_queue "$q" </dev/null >/dev/null 2>&1 || true
    done
  done
}
trap cleanup EXIT

bench_nginx "$WORK" "$PORT" "$SITE" "$HOSTS"

# BENCH_BIN: measure this binary instead of building (e.g. a copy kept while the tree changes).
BIN="${BENCH_BIN:-$CARGO_TARGET_DIR/release/baqylau}"
[[ -n "${BENCH_BIN:-}" ]] || cargo build --release --locked --quiet -p baqylau

# Crawl settings shared by the baseline and the crawler workers (those of bench/crawl.sh).
CRAWL_FLAGS=(--host-delay 0ms --max-pages-per-host 10000000 --max-depth 5
  --concurrency "$CONC" --per-host-connections 16 "${RESOLVE[@]}")

# cpu_ticks PID...: user + system clock ticks of the processes (0 for a gone one).
cpu_ticks() {
  local p t=0 s
  for p in "$@"; do
    s=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    t=$((t + s))
  done
  echo "$t"
}

# hwm_kb PID: peak resident set (VmHWM) of a live process.
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# pg_backends PID...: the PostgreSQL backends serving these processes' connections (matched on
# the client port).
pg_backends() {
  local ports
  ports=$(ss -tnpH state established '( dport = :5432 )' 2>/dev/null |
    awk -v pids=" $* " '{ if (match($0, /pid=[0-9]+/)) { p = substr($0, RSTART + 4, RLENGTH - 4);
      if (index(pids, " " p " ")) { n = split($3, a, ":"); print a[n] } } }' | paste -sd, -)
  [[ -z "$ports" ]] && return 0
  psql "$DB" -Atc "select pid from pg_stat_activity where client_port in ($ports)"
}

# pg_rows SCHEMA: rows inserted, updated and deleted in the schema's tables so far.
pg_rows() {
  psql "$DB" -Atc "select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)
    from pg_stat_user_tables where schemaname = '$1'"
}

# scrape URL NAME: sum of a metric's samples on a worker's /metrics.
scrape() {
  curl -fsS "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d", s }'
}

ROWS=()
ROLE_ROWS=()
now() { date +%s.%N; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# quiet: with BENCH_QUIET_LOAD=L, waits (at most 20 minutes) until the 1-minute load average is
# under L before a measured run: the machine is shared, and the runs should start alike.
quiet() {
  [[ -z "${BENCH_QUIET_LOAD:-}" ]] && return 0
  local i
  for ((i = 0; i < 240; i++)); do
    (( $(echo "$(load1) < $BENCH_QUIET_LOAD" | bc) )) && return 0
    (( i % 12 == 0 )) && echo "waiting for load < $BENCH_QUIET_LOAD (now $(load1))" >&2
    sleep 5
  done
  echo "load still $(load1) after 20 minutes: measuring anyway" >&2
}

# load_watch / load_seen: the 1-minute load average when a run starts and the highest seen
# during it (sampled every 2 s; this run's own processes count too).
load_watch() {
  LOAD_START=$(load1)
  (while :; do load1; sleep 2; done) >"$WORK/load" &
  LOAD_PID=$!
}
load_seen() {
  kill "$LOAD_PID" 2>/dev/null || true
  wait "$LOAD_PID" 2>/dev/null || true
  echo "$LOAD_START / $(sort -g "$WORK/load" | tail -1)"
}

# --- the named baseline: embedded mode, one process ------------------------------------------
run_embedded() {
  local data="$WORK/embedded" wall user sys rss pages
  rm -rf "$data"
  : >"$WORK/access.log"
  quiet
  load_watch
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$BIN" crawl --json --no-screenshots \
    --data "$data" "${SEEDS[@]/#/--seed=}" --max-pages 10000000 "${CRAWL_FLAGS[@]}" \
    >"$WORK/embedded.out" 2>"$WORK/embedded.err" || {
    echo "embedded crawl failed:" >&2; tail -20 "$WORK/embedded.err" >&2; return 1; }
  local load; load=$(load_seen)
  sleep 1.5 # nginx flushes its log every second
  read -r wall user sys rss <"$WORK/time"
  pages=$(bench_pages_served "$WORK")
  ROWS+=("$(awk -v p="$pages" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v r="$rss" -v cc="$CONC" -v l="$load" \
    'BEGIN { printf "| embedded (`baqylau crawl --no-screenshots`), concurrency %d | – | %d | %.1f | **%.0f** | – | – | %.1f | %.0f | %s |",
      cc, p, w, p / w, c, r / 1024, l }')")
  ROLE_ROWS+=("$(awk -v p="$pages" -v c="$(echo "$user + $sys" | bc)" -v r="$rss" \
    'BEGIN { printf "| embedded | whole pipeline, 1 process | %.2f | %.0f |", c * 1000 / p, r / 1024 }')")
  echo "embedded: $pages pages in ${wall}s" >&2
}

# --- one distributed deployment: N crawlers + indexer + classifier + reporter ------------------
# start_worker DIR NAME ROLE ARGS...: starts a worker and waits for its `ready` line; appends its
# pid to PIDS and sets W_PID and W_URL (its /metrics).
start_worker() {
  local dir="$1" name="$2" role="$3"; shift 3
  BAQYLAU_LOG=warn "$BIN" worker --role "$role" --metrics 127.0.0.1:0 --data "$dir/$name" "$@" \
    >"$dir/$name.out" 2>"$dir/$name.log" &
  W_PID=$!
  PIDS+=("$W_PID")
  for _ in $(seq 600); do
    if grep -q '^ready ' "$dir/$name.out" 2>/dev/null; then
      W_URL=$(sed -n 's/^ready .* metrics=//p' "$dir/$name.out")
      return 0
    fi
    kill -0 "$W_PID" 2>/dev/null || { echo "worker $name died:" >&2; tail -20 "$dir/$name.log" >&2; return 1; }
    sleep 0.1
  done
  echo "worker $name not ready after 60 s" >&2
  return 1
}

# run_cluster N ATTEMPT: one measured deployment; sets DISRUPTED=1 (and adds no row) when the
# broker dropped the workers' connections meanwhile.
run_cluster() {
  local n="$1" attempt="$2" dir="$WORK/n$1"
  local schema="bench_cluster_$$_${n}_$attempt" prefix="bench-cluster-$$-$n-$attempt."
  DISRUPTED=0
  rm -rf "$dir"
  mkdir -p "$dir"
  SCHEMAS+=("$schema")
  PREFIXES+=("$prefix")
  export BAQYLAU_BROKER="$BROKER" BAQYLAU_DB="$DB" BAQYLAU_DB_SCHEMA="$schema" \
    BAQYLAU_QUEUE_PREFIX="$prefix"
  local -a urls=() roles=() pids=()
  local i role
  for role in indexer classifier reporter; do
    start_worker "$dir" "$role" "$role"
    pids+=("$W_PID") urls+=("$W_URL") roles+=("$role")
  done
  for ((i = 1; i <= n; i++)); do
    start_worker "$dir" "crawler$i" crawler --worker-id "bench-crawler-$i" --render never \
      "${CRAWL_FLAGS[@]}"
    pids+=("$W_PID") urls+=("$W_URL") roles+=(crawler)
  done
  # Every crawler must have a heartbeat before the seeds arrive, or the first one takes all hosts.
  for _ in $(seq 300); do
    [[ "$("$BIN" stats --db "$DB" --json | jq '[.frontier.workers[] | select(.alive)] | length')" == "$n" ]] && break
    sleep 0.1
  done

  : >"$WORK/access.log"
  quiet
  local beam0 t0 t1 s b
  # CPU of each PostgreSQL backend now; one the pools open later starts from 0.
  local -A pg0=()
  for b in $(pg_backends "${pids[@]}"); do pg0[$b]=$(cpu_ticks "$b"); done
  local -A cpu0=()
  for i in "${!pids[@]}"; do cpu0[$i]=$(cpu_ticks "${pids[$i]}"); done
  beam0=$(cpu_ticks $BEAM_PID)
  load_watch
  t0=$(now)
  "$BIN" seed --json --broker "$BROKER" --db "$DB" "${SEEDS[@]}" >"$dir/seed.json"
  # Drained: nothing queued or in flight in the frontier, no ready message, none unacknowledged.
  local last_done=-1 stalled_since; stalled_since=$(now)
  while :; do
    # Other work on this machine may stop or reset the shared broker: such a run measures nothing.
    if grep -q 'broker unreachable\|consumer failed' "$dir"/*.log 2>/dev/null; then
      DISRUPTED=1
      break
    fi
    s=$("$BIN" stats --broker "$BROKER" --db "$DB" --json 2>>"$dir/stats.log") || { sleep 0.25; continue; }
    t1=$(now)
    if jq -e '.frontier.queued == 0 and .frontier.in_flight == 0
        and ([.queues[] | select(.queue | endswith(".screenshots") | not) | .ready // 0] | add) == 0' \
        <<<"$s" >/dev/null; then
      if ! rabbitmqctl -q list_queues name messages_unacknowledged 2>/dev/null |
        awk -v p="$prefix" -v shots="${prefix}screenshots" \
          'index($1, p) == 1 && $1 != shots && $2 > 0 { busy = 1 } END { exit !busy }'; then
        t1=$(now)
        break
      fi
    fi
    local done_now; done_now=$(jq '.frontier.done' <<<"$s")
    # seconds, URLs done, then captures waiting for the indexer and for the classifier.
    echo "$(echo "$t1 - $t0" | bc) $done_now $(jq -r '[.queues[] | select(.queue | test("captures"))
      | .ready // 0] | map(tostring) | join(" ")' <<<"$s")" >>"$dir/progress"
    if [[ "$done_now" != "$last_done" ]]; then
      last_done=$done_now stalled_since=$t1
    elif (( $(echo "$t1 - $stalled_since > 180" | bc) )); then
      echo "deployment with $n crawlers made no progress for 180 s: $s" >&2
      return 1
    fi
    sleep 0.25
  done
  local wall load; wall=$(echo "$t1 - $t0" | bc)
  load=$(load_seen)
  if (( DISRUPTED )) || grep -q 'broker unreachable\|consumer failed' "$dir"/*.log 2>/dev/null; then
    DISRUPTED=1
    echo "the broker dropped the workers' connections during the run with $n crawlers" \
      "(attempt $attempt; see $dir/*.log)" >&2
    kill "${pids[@]}" 2>/dev/null || true
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    unset BAQYLAU_BROKER BAQYLAU_DB BAQYLAU_DB_SCHEMA BAQYLAU_QUEUE_PREFIX
    return 0
  fi
  local -A cpu=() hwm=()
  local total_ticks=0 published=0 r d
  for i in "${!pids[@]}"; do
    d=$(( $(cpu_ticks "${pids[$i]}") - cpu0[$i] ))
    r=${roles[$i]}
    cpu[$r]=$(( ${cpu[$r]:-0} + d ))
    total_ticks=$(( total_ticks + d ))
    local kb; kb=$(hwm_kb "${pids[$i]}")
    (( kb > ${hwm[$r]:-0} )) && hwm[$r]=$kb
    published=$(( published + $(scrape "${urls[$i]}" baqylau_messages_published_total) ))
  done
  published=$(( published + HOSTS ))
  local pgcpu beam
  pgcpu=0
  for b in $(pg_backends "${pids[@]}"); do pgcpu=$(( pgcpu + $(cpu_ticks "$b") - ${pg0[$b]:-0} )); done
  beam=$(( $(cpu_ticks $BEAM_PID) - beam0 ))
  # Stop the workers: their backends exit and flush their table statistics.
  kill "${pids[@]}"
  for p in "${pids[@]}"; do
    for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  PIDS=()
  sleep 1.5
  rows=$(pg_rows "$schema")
  local pages; pages=$(bench_pages_served "$WORK")
  local max_hwm=0
  for r in "${!hwm[@]}"; do (( hwm[$r] > max_hwm )) && max_hwm=${hwm[$r]}; done
  ROWS+=("$(awk -v n="$n" -v p="$pages" -v w="$wall" -v m="$published" -v rows="$rows" \
    -v c="$total_ticks" -v t="$TICK" -v r="$max_hwm" -v b="$beam" -v g="$pgcpu" -v l="$load" \
    'BEGIN { printf "| distributed: %d crawler%s + indexer + classifier + reporter | %d | %d | %.1f | **%.0f** | %.0f (%.1f/page) | %.0f (%.1f/page) | %.1f (+ broker %.1f, PG %.1f) | %.0f | %s |",
      n, (n > 1 ? "s" : ""), n, p, w, p / w, m / w, m / p, rows / w, rows / p, c / t, b / t, g / t, r / 1024, l }')")
  for r in crawler indexer classifier reporter; do
    ROLE_ROWS+=("$(awk -v n="$n" -v r="$r" -v c="${cpu[$r]}" -v t="$TICK" -v p="$pages" -v k="${hwm[$r]}" \
      'BEGIN { printf "| %d crawler%s | %s | %.2f | %.0f |", n, (n > 1 ? "s" : ""), r, c / t * 1000 / p, k / 1024 }')")
  done
  ROLE_ROWS+=("$(awk -v n="$n" -v b="$beam" -v g="$pgcpu" -v t="$TICK" -v p="$pages" -v m="$published" \
    'BEGIN { printf "| %d crawler%s | RabbitMQ (beam.smp) · PostgreSQL backends | %.2f · %.2f | – |", n, (n > 1 ? "s" : ""), b / t * 1000 / p, g / t * 1000 / p }')")
  echo "distributed, $n crawlers: $pages pages in ${wall}s, $published messages, $rows PG rows," \
    "$(jq '.cases' <<<"$s") cases, $(jq '.queues[] | select(.queue | endswith(".screenshots")) | .ready' <<<"$s")" \
    "screenshot requests left queued (no screenshot worker)" >&2
  unset BAQYLAU_BROKER BAQYLAU_DB BAQYLAU_DB_SCHEMA BAQYLAU_QUEUE_PREFIX
}

run_embedded
for n in $WORKER_COUNTS; do
  for attempt in 1 2 3 4 5; do
    run_cluster "$n" "$attempt"
    (( DISRUPTED )) || break
  done
  if (( DISRUPTED )); then
    echo "giving up on $n crawlers: the broker kept dropping connections" >&2
    exit 1
  fi
done

echo
echo "Site: $PAGES pages on $HOSTS hosts ($TOTAL_URLS URLs with indexes and sections), nginx on 127.0.0.1, $(nproc) cores."
echo
echo "| mode | crawler workers | pages | wall s | pages/s | broker msgs/s | PG rows written/s | CPU s total | peak RSS MB (largest process) | load 1-min (start / max) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "| deployment | role | CPU ms/page | peak RSS MB |"
echo "|---|---|---:|---:|"
printf '%s\n' "${ROLE_ROWS[@]}"
