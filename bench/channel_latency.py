#!/usr/bin/env python3
"""Post → case latency of `baqylau crawl --watch` (helper of bench/screenshots.sh).

Serves a fixture `t.me` channel preview on 127.0.0.1, runs the real binary watching it
(`crawl --watch --revisit R`, screenshots on) and `serve` on the same data directory, then
publishes violating posts one at a time at random phases of the revisit cycle and measures, per
post, the time from publication on the fixture to its case being listed by `GET /api/cases`.
Prints one JSON object (latencies in seconds, p50/p95/max, the crawl's exit status).
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHANNEL = "benchchan"
POSTS = []  # (id, text), newest last
LOCK = threading.Lock()


def channel_page(posts):
    out = [
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bench</title></head><body>'
        '<div class="tgme_channel_info"><div class="tgme_channel_info_header_title">'
        "<span>Bench</span></div><div class=\"tgme_channel_info_description\">Жаңалықтар</div>"
        '</div><section class="tgme_channel_history">'
    ]
    for pid, text in posts[-20:]:
        out.append(
            f'<div class="tgme_widget_message_wrap"><div class="tgme_widget_message" '
            f'data-post="{CHANNEL}/{pid}"><div class="tgme_widget_message_bubble">'
            f'<div class="tgme_widget_message_text">{text}</div>'
            f'<a class="tgme_widget_message_date" href="https://t.me/{CHANNEL}/{pid}">'
            f'<time datetime="2026-01-01T10:00:00+00:00">10:00</time></a></div></div></div>'
        )
    out.append("</section></body></html>")
    return "".join(out)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with LOCK:
            posts = list(POSTS)
        path = self.path
        status, body = 200, ""
        if path == "/robots.txt":
            body = "User-agent: *\nAllow: /\n"
        elif path.startswith(f"/s/{CHANNEL}?before="):
            body = channel_page([])
        elif path == f"/s/{CHANNEL}":
            body = channel_page(posts)
        else:
            seg = path.split("?")[0].strip("/").split("/")
            post = None
            if len(seg) == 2 and seg[0] == CHANNEL and seg[1].isdigit():
                post = next((p for p in posts if p[0] == int(seg[1])), None)
            if post:
                body = (
                    '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    f'<div class="tgme_widget_message_text">{post[1]}</div></body></html>'
                )
            else:
                status, body = 404, "not found"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def percentile(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baqylau", required=True)
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--revisit", default="5s")
    args = ap.parse_args()

    POSTS.append((1, "Бүгін Алматыда ауа райы жылы."))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    work = tempfile.mkdtemp(prefix="baqylau-latency-")
    data = os.path.join(work, "data")
    channels = os.path.join(work, "channels.txt")
    with open(channels, "w") as f:
        f.write(f"http://t.me/{CHANNEL}\n")
    env = dict(os.environ, BAQYLAU_LOG="warn")
    crawl = subprocess.Popen(
        [args.baqylau, "crawl", "--watch", "--revisit", args.revisit, "--host-delay", "0ms",
         "--json", "--channels", channels, "--resolve", f"t.me=127.0.0.1:{port}", "--data", data],
        stdout=subprocess.PIPE, env=env)
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(data, "cases.sqlite")) and time.time() < deadline:
        if crawl.poll() is not None:
            sys.exit(f"crawl --watch exited with {crawl.returncode} before watching")
        time.sleep(0.1)
    time.sleep(1)
    subprocess.run([args.baqylau, "user", "add", "bench", "--role", "analyst", "--json",
                    "--data", data], check=True, stdout=subprocess.DEVNULL, env=env)
    token = subprocess.run([args.baqylau, "token", "create", "--user", "bench", "--data", data],
                           check=True, capture_output=True, text=True, env=env).stdout.strip()
    serve = subprocess.Popen([args.baqylau, "serve", "--port", "0", "--data", data],
                             stdout=subprocess.PIPE, text=True, env=env)
    banner = serve.stdout.readline()
    api = banner.split("http://")[1].strip().rstrip("/")

    def case_urls():
        req = urllib.request.Request(f"http://{api}/api/cases",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return {c["url"] for c in json.load(r)}

    latencies = []
    for n in range(args.posts):
        pid = n + 2
        text = f"Сдай карту в аренду — {50 + n} 000 ₸ в неделю! Без вложений. Пост {pid}."
        time.sleep(random.uniform(0, 5))
        with LOCK:
            POSTS.append((pid, text))
        t0 = time.time()
        url = f"http://t.me/{CHANNEL}/{pid}"
        while time.time() - t0 < 60:
            if crawl.poll() is not None:
                sys.exit(f"crawl --watch exited with {crawl.returncode} while watching")
            if url in case_urls():
                break
            time.sleep(0.1)
        latencies.append(round(time.time() - t0, 2))
        print(f"post {pid}: {latencies[-1]} s", file=sys.stderr)

    crawl.send_signal(signal.SIGTERM)
    try:
        out, _ = crawl.communicate(timeout=120)
        code = crawl.returncode
    except subprocess.TimeoutExpired:
        crawl.kill()
        out, code = b"", "timeout"
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=30)
    print(json.dumps({
        "posts": len(latencies),
        "revisit": args.revisit,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies),
        "latencies_s": latencies,
        "crawl_exit": code,
        "crawl_summary": json.loads(out.decode() or "null"),
    }, ensure_ascii=False))
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
