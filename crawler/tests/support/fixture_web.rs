//! A test web on 127.0.0.1 with a request log: a plain site for resume tests, and a hostile web
//! for limit tests. Shared by the crawler's integration tests and the binary's end-to-end tests
//! (`tests/crawler_e2e`, through `#[path]`), so it depends only on axum, tokio and std.
//!
//! Every host name is served by one axum server (dispatch on `Host`), reached through
//! `--resolve NAME=127.0.0.1:PORT`. Three behaviours need raw sockets and get their own port and
//! name: `slow.kz` (headers, then one body byte every 100 ms, forever), `hang.kz` (accepts, reads,
//! never answers) and the *canary* — a port that no `--resolve` maps, which a page redirects to:
//! any connection to it is an SSRF-guard failure.
//!
//! Hosts of the hostile web (see [`FixtureWeb::hostile_seeds`]):
//! - `hostile.kz`: robots `Disallow: /private`; links to a calendar trap, a relative-link loop
//!   (`a/` → `/a/a/` → …), a gzip bomb (64 MiB of zeros in 64 KiB), a redirect loop, a redirect to
//!   the canary, malformed and binary "HTML", a page with 100,000 links, a private page;
//! - `storm.kz`: every page answers 429 with `Retry-After: 1`;
//! - `delay.kz`: robots `Crawl-delay: 1`, five pages;
//! - `robots503.kz`: robots.txt answers 503 (nothing else may be asked for);
//! - `robots404.kz`: no robots.txt (everything allowed);
//! - `robotsredir.kz`: robots.txt reached through 5 redirects, `Disallow: /secret`;
//! - `sitemap.kz`: robots.txt names a sitemap index, which names a gzip-compressed sitemap; the
//!   home page announces an RSS feed. Pages only listed there must be found.

#![allow(dead_code)] // each test binary uses a part of it

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;

/// 64 MiB of zeros, gzip-compressed to 64 KiB.
const GZIP_BOMB: &[u8] = include_bytes!("../data/bomb.gz");

/// Pages of the plain site (`site.kz`): `/` links 20 section pages, each linking 10 leaves.
pub const SITE_PAGES: usize = 1 + 20 + 200;

/// One request seen by the fixture.
#[derive(Debug, Clone)]
pub struct Hit {
    /// When the request arrived.
    pub at: Instant,
    /// `Host` header (or the raw listener's name).
    pub host: String,
    /// Path and query.
    pub target: String,
    /// A response was produced (false: held and never answered).
    pub served: bool,
}

#[derive(Default)]
struct Shared {
    hits: Mutex<Vec<Hit>>,
    /// Plain-site requests answered before the gate closes (0: never closes).
    gate_after: AtomicUsize,
    served_site: AtomicUsize,
    gate_open: AtomicBool,
    canary_connections: AtomicUsize,
}

/// The running fixture; stops with the test process.
pub struct FixtureWeb {
    /// Port of the axum server (all named hosts).
    pub port: u16,
    /// Port of the slow-drip server.
    pub slow_port: u16,
    /// Port of the server that never answers.
    pub hang_port: u16,
    /// Port nothing may connect to.
    pub canary_port: u16,
    shared: Arc<Shared>,
}

impl FixtureWeb {
    /// Starts all listeners on 127.0.0.1 (a tokio runtime on its own thread).
    pub fn start() -> FixtureWeb {
        let shared = Arc::new(Shared::default());
        shared.gate_open.store(true, Ordering::SeqCst);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fixture");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let canary_port = raw_server("canary", shared.clone(), |_s, shared| {
            shared.canary_connections.fetch_add(1, Ordering::SeqCst);
        });
        let slow_port = raw_server("slow.kz", shared.clone(), |mut s, _| {
            if answer_robots_404(&mut s) {
                return;
            }
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000000\r\n\r\n",
            );
            while s.write_all(b"<").is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let hang_port = raw_server("hang.kz", shared.clone(), |mut s, _| {
            if answer_robots_404(&mut s) {
                return;
            }
            let mut buf = [0u8; 1024];
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        });
        let st = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("fixture runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = Router::new().fallback(serve).with_state(Ctx {
                    shared: st,
                    canary_port,
                });
                axum::serve(listener, app).await.expect("fixture server");
            });
        });
        FixtureWeb {
            port,
            slow_port,
            hang_port,
            canary_port,
            shared,
        }
    }

    /// `--resolve` arguments for every fixture host.
    pub fn resolve_args(&self) -> Vec<String> {
        let mut v: Vec<String> = [
            "site.kz",
            "hostile.kz",
            "storm.kz",
            "delay.kz",
            "robots503.kz",
            "robots404.kz",
            "robotsredir.kz",
            "sitemap.kz",
        ]
        .iter()
        .map(|h| format!("{h}=127.0.0.1:{}", self.port))
        .collect();
        v.push(format!("slow.kz=127.0.0.1:{}", self.slow_port));
        v.push(format!("hang.kz=127.0.0.1:{}", self.hang_port));
        v
    }

    /// Seeds of the hostile web.
    pub fn hostile_seeds() -> Vec<&'static str> {
        vec![
            "http://hostile.kz/",
            "http://storm.kz/",
            "http://delay.kz/",
            "http://robots503.kz/",
            "http://robots404.kz/",
            "http://robotsredir.kz/",
            "http://sitemap.kz/",
            "http://slow.kz/",
            "http://hang.kz/",
        ]
    }

    /// Holds every plain-site request after the first `n` answered ones, until
    /// [`FixtureWeb::open_gate`] (held requests are never answered).
    pub fn close_gate_after(&self, n: usize) {
        self.shared.gate_after.store(n, Ordering::SeqCst);
        self.shared.gate_open.store(false, Ordering::SeqCst);
    }

    /// Lets plain-site requests through again (those already held stay unanswered).
    pub fn open_gate(&self) {
        self.shared.gate_open.store(true, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// Requests to `host`, in arrival order.
    pub fn hits_of(&self, host: &str) -> Vec<Hit> {
        self.hits().into_iter().filter(|h| h.host == host).collect()
    }

    /// Answered requests per `host target`.
    pub fn served_counts(&self, host: &str) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for h in self.hits_of(host).into_iter().filter(|h| h.served) {
            *m.entry(h.target).or_default() += 1;
        }
        m
    }

    /// Connections accepted on the canary port.
    pub fn canary_connections(&self) -> usize {
        self.shared.canary_connections.load(Ordering::SeqCst)
    }
}

/// Reads the request head; answers `404` and returns true when it asks for `/robots.txt`.
fn answer_robots_404(s: &mut std::net::TcpStream) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return true,
        }
    }
    if head.starts_with(b"GET /robots.txt ") {
        let _ = s
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return true;
    }
    false
}

/// A std listener whose connections are handed to `handle` on their own thread.
fn raw_server(
    name: &'static str,
    shared: Arc<Shared>,
    handle: fn(std::net::TcpStream, &Shared),
) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind raw");
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let shared = shared.clone();
            shared.hits.lock().unwrap().push(Hit {
                at: Instant::now(),
                host: name.to_string(),
                target: String::new(),
                served: false,
            });
            std::thread::spawn(move || handle(s, &shared));
        }
    });
    port
}

#[derive(Clone)]
struct Ctx {
    shared: Arc<Shared>,
    canary_port: u16,
}

fn html(body: impl Into<Body>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(body.into())
        .unwrap()
}

fn text(status: u16, body: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap()
}

fn page(title: &str, links: &[String]) -> Response {
    let mut b = format!(
        "<html><head><title>{title}</title></head><body><h1>{title}</h1>\
         <p>Тестовая страница фикстуры: финансовый мониторинг, проверка обхода.</p>"
    );
    for l in links {
        b.push_str(&format!("<a href=\"{l}\">{l}</a>\n"));
    }
    b.push_str("</body></html>");
    html(b)
}

async fn serve(State(ctx): State<Ctx>, uri: Uri, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let sh = &ctx.shared;
    let hold = host == "site.kz" && target != "/robots.txt" && {
        let gate = sh.gate_after.load(Ordering::SeqCst);
        !sh.gate_open.load(Ordering::SeqCst)
            && gate > 0
            && sh.served_site.load(Ordering::SeqCst) >= gate
    };
    sh.hits.lock().unwrap().push(Hit {
        at: Instant::now(),
        host: host.clone(),
        target: target.clone(),
        served: !hold,
    });
    if hold {
        std::future::pending::<()>().await;
    }
    if host == "site.kz" && target != "/robots.txt" {
        sh.served_site.fetch_add(1, Ordering::SeqCst);
    }
    let path = uri.path();
    match host.as_str() {
        "site.kz" => site(path),
        "hostile.kz" => hostile(path, uri.query(), ctx.canary_port),
        "storm.kz" => match path {
            "/robots.txt" => text(404, "none"),
            _ => Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header(header::RETRY_AFTER, "1")
                .body(Body::from("slow down"))
                .unwrap(),
        },
        "delay.kz" => match path {
            "/robots.txt" => text(200, "User-agent: *\nCrawl-delay: 1\n"),
            "/" => page(
                "delay",
                &(1..5).map(|i| format!("/d{i}")).collect::<Vec<_>>(),
            ),
            _ => page("delay page", &[]),
        },
        "robots503.kz" => match path {
            "/robots.txt" => text(503, "maintenance"),
            _ => page("must not be fetched", &["/x".to_string()]),
        },
        "robots404.kz" => match path {
            "/robots.txt" => text(404, "none"),
            "/" => page("no robots", &["/open".to_string()]),
            _ => page("open page", &[]),
        },
        "robotsredir.kz" => match path {
            "/robots.txt" => redirect("/r1"),
            "/r1" => redirect("/r2"),
            "/r2" => redirect("/r3"),
            "/r3" => redirect("/r4"),
            "/r4" => redirect("/robots-final.txt"),
            "/robots-final.txt" => text(200, "User-agent: *\nDisallow: /secret\n"),
            "/" => page("redirected robots", &["/secret".into(), "/open".into()]),
            _ => page("page", &[]),
        },
        "sitemap.kz" => match path {
            "/robots.txt" => text(
                200,
                "User-agent: *\nAllow: /\nSitemap: http://sitemap.kz/sitemap_index.xml\n",
            ),
            "/" => html(
                "<html><head><title>Карта сайта</title><link rel=\"alternate\" \
                 type=\"application/rss+xml\" href=\"/feed.xml\"></head><body>no links</body></html>",
            ),
            "/sitemap_index.xml" => xml(
                "<?xml version=\"1.0\"?><sitemapindex><sitemap><loc>http://sitemap.kz/sm1.xml.gz</loc>\
                 </sitemap></sitemapindex>"
                    .as_bytes()
                    .to_vec(),
            ),
            "/sm1.xml.gz" => xml(gzip_stored(
                b"<urlset><url><loc>http://sitemap.kz/from-sitemap/1</loc></url>\
                  <url><loc>http://sitemap.kz/from-sitemap/2</loc></url></urlset>",
            )),
            "/feed.xml" => Response::builder()
                .header(header::CONTENT_TYPE, "application/rss+xml")
                .body(Body::from(
                    "<rss><channel><item><link>http://sitemap.kz/post/1</link></item></channel></rss>",
                ))
                .unwrap(),
            _ => page("Из карты сайта", &[]),
        },
        _ => text(404, "unknown host"),
    }
}

fn xml(body: Vec<u8>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/xml")
        .body(Body::from(body))
        .unwrap()
}

/// `data` as a gzip file with one stored (uncompressed) deflate block: a real gzip stream that
/// needs no compression library.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    assert!(data.len() < 65_536);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1];
    let len = data.len() as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn site(path: &str) -> Response {
    match path {
        "/robots.txt" => text(200, "User-agent: *\nAllow: /\n"),
        "/" => page(
            "Главная",
            &(0..20).map(|i| format!("/s/{i}")).collect::<Vec<_>>(),
        ),
        p if p.starts_with("/s/") => {
            let i: usize = p[3..].parse().unwrap_or(0);
            let leaves: Vec<String> = (0..10).map(|j| format!("/leaf/{}", i * 10 + j)).collect();
            page(&format!("Раздел {i}"), &leaves)
        }
        p if p.starts_with("/leaf/") => page(&format!("Лист {}", &p[6..]), &[]),
        _ => text(404, "no such page"),
    }
}

fn hostile(path: &str, query: Option<&str>, canary_port: u16) -> Response {
    match path {
        "/robots.txt" => text(200, "User-agent: *\nDisallow: /private\n"),
        "/" => page(
            "Враждебный сайт",
            &[
                "/private/secret".into(),
                format!("/calendar?month={}", this_month()),
                "/a/".into(),
                "/bomb".into(),
                "/loop1".into(),
                "/to-canary".into(),
                format!("http://127.0.0.1:{canary_port}/direct"),
                "/malformed".into(),
                "/binary".into(),
                "/links100k".into(),
            ],
        ),
        "/calendar" => {
            let month = query
                .and_then(|q| q.strip_prefix("month="))
                .unwrap_or("2000-01");
            page(
                "Календарь",
                &[format!("/calendar?month={}", next_month(month))],
            )
        }
        p if p.starts_with("/a/") => page("Петля", &["a/".to_string()]),
        "/bomb" => Response::builder()
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::CONTENT_ENCODING, "gzip")
            .body(Body::from(GZIP_BOMB))
            .unwrap(),
        "/loop1" => redirect("/loop2"),
        "/loop2" => redirect("/loop1"),
        "/to-canary" => redirect(&format!("http://127.0.0.1:{canary_port}/stolen")),
        "/malformed" => {
            let mut b = b"<html><head><title>\xff\xfe broken</title><body><p>\x00\x01 text <a href=\"/ok1\">ok<p><div><a href='/ok2'>two".to_vec();
            b.extend(std::iter::repeat_n(b'<', 5000));
            b.extend_from_slice(b"<a href=\"/ok3\">three</a></html");
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(Body::from(b))
                .unwrap()
        }
        "/binary" => {
            let bytes: Vec<u8> = (0..200_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html")
                .body(Body::from(bytes))
                .unwrap()
        }
        "/links100k" => {
            let links: Vec<String> = (0..100_000).map(|i| format!("/l/{i}")).collect();
            page("Сто тысяч ссылок", &links)
        }
        p if p.starts_with("/l/") || p.starts_with("/ok") => page("Лист", &[]),
        _ => text(404, "no such page"),
    }
}

/// `YYYY-MM` of today (UTC), computed without a date library.
fn this_month() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    // Civil-from-days (Howard Hinnant).
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}")
}

fn next_month(ym: &str) -> String {
    let (y, m) = ym.split_once('-').unwrap_or(("2000", "01"));
    let (y, m): (i32, u32) = (y.parse().unwrap_or(2000), m.parse().unwrap_or(1));
    if m >= 12 {
        format!("{:04}-01", y + 1)
    } else {
        format!("{y:04}-{:02}", m + 1)
    }
}

/// Resident-set high-water mark of a process in KiB (`VmHWM` in `/proc/PID/status`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Address helper for tests that talk to the fixture directly.
pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
