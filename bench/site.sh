# Shared by bench/crawl.sh and bench/cluster.sh (sourced, not run): the generated Cyrillic site
# and the nginx that serves it on 127.0.0.1.
#
# One generator for both benchmarks, so their figures are about the same pages. The crawler
# benchmark uses one host (the site at the root); the distributed benchmark needs several hosts,
# because crawler workers split the frontier by host: one host would all go to one worker.

# bench_site ROOT PAGES HOSTS: generates the site once (ROOT/.complete marks it done).
#   HOSTS=0: one host, the site at ROOT: index -> sections of 100 -> pages.
#   HOSTS=H: H hosts bench0.kz … bench{H-1}.kz, each in ROOT/<host>/ with its own robots.txt,
#            index and sections, holding a contiguous 1/H of the pages; a page's 3 random
#            cross-links go anywhere in the site (absolute URLs when on another host).
# Each page is ~20 KB of Russian/Kazakh text; the random sequence (seed 42) does not depend on
# HOSTS apart from the host split, and HOSTS=0 gives the crawler benchmark's original site.
bench_site() {
  local root="$1" pages="$2" hosts="$3"
  [[ -f "$root/.complete" ]] && return 0
  rm -rf "$root"
  python3 - "$root" "$pages" "$hosts" <<'PY'
import os, random, sys
root, n, hosts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(42)
words = ("финансовый мониторинг агентство республика казахстан платёж перевод карта банк "
         "кредит займ микрофинансовая организация лицензия обменник криптовалюта биткоин "
         "доход инвестиции пирамида прибыль вклад процент клиент договор счёт тенге рубль "
         "қаржы мониторинг агенттігі қазақстан республикасы төлем аударым несие банкі "
         "салым пайыз клиент шарт есепшот ақша табыс инвестиция ұйым рұқсат "
         "новости город погода спорт культура образование здоровье транспорт").split()
paras = [" ".join(rnd.choice(words) for _ in range(rnd.randint(60, 140))).capitalize() + "."
         for _ in range(400)]
def page(title, body_links, paras_n):
    links = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in body_links)
    text = "".join(f"<p>{rnd.choice(paras)}</p>" for _ in range(paras_n))
    return (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{title}</title>'
            f'</head><body><h1>{title}</h1><nav><ul>{links}</ul></nav>{text}</body></html>')
per_host = (n + max(hosts, 1) - 1) // max(hosts, 1)
def host_of(j):
    return j // per_host
def href(j, own):
    # Global page number j; relative on its own host, absolute elsewhere.
    h = host_of(j)
    return f"/p/{j}.html" if h == own else f"http://bench{h}.kz/p/{j}.html"
for h in range(max(hosts, 1)):
    lo, hi = h * per_host, min(n, (h + 1) * per_host)
    d = root if hosts == 0 else f"{root}/bench{h}.kz"
    sections = (hi - lo + 99) // 100
    os.makedirs(f"{d}/s", exist_ok=True)
    os.makedirs(f"{d}/p", exist_ok=True)
    with open(f"{d}/robots.txt", "w") as f:
        f.write("User-agent: *\nDisallow: /private/\n")
    with open(f"{d}/index.html", "w") as f:
        f.write(page("Главная", [(f"/s/{i}.html", f"Раздел {i}") for i in range(sections)], 2))
    for i in range(sections):
        a, b = lo + i * 100, min(hi, lo + i * 100 + 100)
        with open(f"{d}/s/{i}.html", "w") as f:
            f.write(page(f"Раздел {i}", [(f"/p/{j}.html", f"Статья {j}") for j in range(a, b)], 1))
    for j in range(lo, hi):
        links = [(f"/s/{(j - lo) // 100}.html", "Раздел")] + [
            (href(rnd.randrange(n), h), "Ещё") for _ in range(3)]
        with open(f"{d}/p/{j}.html", "w") as f:
            f.write(page(f"Статья {j}", links, 13))
PY
  touch "$root/.complete"
}

# bench_site_urls PAGES HOSTS: URLs the site holds (index, sections and pages of every host).
bench_site_urls() {
  local pages="$1" hosts="$2"
  (( hosts == 0 )) && { echo $(( 1 + (pages + 99) / 100 + pages )); return; }
  local per=$(( (pages + hosts - 1) / hosts )) total=0 h lo hi
  for ((h = 0; h < hosts; h++)); do
    lo=$(( h * per )); hi=$(( (h + 1) * per < pages ? (h + 1) * per : pages ))
    (( hi > lo )) && total=$(( total + 1 + (hi - lo + 99) / 100 + hi - lo ))
  done
  echo "$total"
}

# bench_nginx WORK PORT ROOT HOSTS: starts Debian's nginx (installed with apt-get when missing)
# on 127.0.0.1:PORT serving the site (with HOSTS > 0, `root ROOT/$host`), logging
# `STATUS URI` per request to WORK/access.log; sets NGINX_PID. The caller kills it.
bench_nginx() {
  local work="$1" port="$2" root="$3" hosts="$4" docroot
  if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    apt-get install -y -q nginx-light >/dev/null
  fi
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  docroot="$root"
  (( hosts > 0 )) && docroot="$root/\$host"
  cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  types { text/html html; text/plain txt; }
  default_type text/html;
  charset utf-8;
  sendfile on;
  keepalive_requests 1000000;
  log_format bench '\$status \$request_uri';
  access_log $work/access.log bench buffer=256k flush=1s;
  server { listen 127.0.0.1:$port; root $docroot; index index.html; }
}
EOF
  "$NGINX" -p "$work" -c "$work/nginx.conf" &
  NGINX_PID=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
}

# bench_pages_served WORK: pages nginx answered with 200 since its log was last emptied
# (index, sections and pages; robots.txt excluded).
bench_pages_served() {
  grep -c '^200 /\(index.html\|s/\|p/\|$\)' "$1/access.log" || true
}
