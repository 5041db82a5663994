//! End-to-end crawl of a fixture web served on 127.0.0.1, reached under real host names through
//! `--resolve` rules: robots.txt, charset, link following, SSRF guard (literal, name, redirects),
//! failures as captures, Telegram previews split into posts, WARC evidence, stats and resume.

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use crawler::{CrawlStats, Crawler, CrawlerConfig, ResolveRule};
use model::{Capture, FailureKind, MemoryQueue, Queue, Source};

const TG_PAGE: &str = include_str!("data/tg_channel.html");
const TG_BEFORE: &str = include_str!("data/tg_channel_before.html");

/// Requests seen by the fixture server, keyed by `host path?query`.
type Hits = Arc<Mutex<HashMap<String, usize>>>;

#[derive(Clone)]
struct Fixture {
    port: u16,
    hits: Hits,
}

fn html(body: impl Into<Body>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(body.into())
        .unwrap()
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap()
}

async fn serve(State(fx): State<Fixture>, uri: Uri, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    *fx.hits
        .lock()
        .unwrap()
        .entry(format!("{host} {target}"))
        .or_default() += 1;
    let port = fx.port;
    match target.as_str() {
        "/robots.txt" => Response::new(Body::from("User-agent: *\nDisallow: /private\n")),
        "/" => html(
            r#"<html><head><title>Главная</title></head><body><h1>Фикстура</h1>
            <a href="/a">a</a> <a href="/a?utm_source=tg#top">a again</a> <a href="b">b</a>
            <a href="/private/secret">secret</a> <a href="/redirect-loopback">r1</a>
            <a href="/redirect-localhost">r2</a> <a href="/loop">loop</a> <a href="/big">big</a>
            <a href="/slow">slow</a> <a href="http://other-host.kz/x">elsewhere</a>
            <a href="mailto:a@b.kz">mail</a></body></html>"#,
        ),
        "/a" => {
            let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(
                "<html><head><title>Аренда карт</title></head><body><p>Сдай карту в аренду, \
                 доход от 50 000 тенге в неделю без вложений.</p></body></html>",
            );
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html; charset=windows-1251")
                .body(Body::from(bytes.into_owned()))
                .unwrap()
        }
        "/b" => html(r#"<p>Страница Б</p><a href="/a">a</a> <a href="/missing">404</a>"#),
        "/missing" => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found"))
            .unwrap(),
        "/private/secret" => html("<p>robots.txt forbids this</p>"),
        "/redirect-loopback" => redirect(&format!("http://127.0.0.1:{port}/a")),
        "/redirect-localhost" => redirect(&format!("http://localhost:{port}/a")),
        "/loop" => redirect("/loop2"),
        "/loop2" => redirect("/loop"),
        "/big" => html(vec![b'x'; 200 * 1024]),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(20)).await;
            html("too late")
        }
        "/s/testchannel" => html(TG_PAGE),
        "/s/testchannel?before=101" => html(TG_BEFORE),
        "/s/nopreview" => redirect("/nopreview"),
        "/nopreview" => html("<p>This channel can't be displayed</p>"),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap(),
    }
}

async fn start_fixture() -> Fixture {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let fx = Fixture {
        port,
        hits: Arc::default(),
    };
    let app = Router::new().fallback(serve).with_state(fx.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    fx
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baqylau-crawl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(fx: &Fixture, data_dir: &Path) -> CrawlerConfig {
    let addr: SocketAddr = format!("127.0.0.1:{}", fx.port).parse().unwrap();
    CrawlerConfig {
        data_dir: data_dir.to_path_buf(),
        seeds: vec![
            "http://example-fixture.kz/".into(),
            "http://t.me/s/testchannel".into(),
            "http://t.me/s/nopreview".into(),
            format!("http://localhost:{}/", fx.port),
            format!("http://127.0.0.1:{}/", fx.port),
            "http://closed.kz/".into(),
        ],
        resolve: vec![
            ResolveRule {
                host: "example-fixture.kz".into(),
                addr,
            },
            format!("t.me={addr}").parse().unwrap(),
            format!("closed.kz=127.0.0.1:{}", closed_port())
                .parse()
                .unwrap(),
        ],
        host_delay: Duration::from_millis(5),
        retry_base: Duration::from_millis(50),
        request_timeout: Duration::from_secs(2),
        max_body_bytes: 64 * 1024,
        max_redirects: 5,
        ..CrawlerConfig::default()
    }
}

async fn crawl(cfg: CrawlerConfig) -> (CrawlStats, Vec<Capture>) {
    let crawler = Crawler::new(cfg).unwrap();
    let out = MemoryQueue::new("captures", 10_000);
    let stats = crawler.run(&out).await.unwrap();
    out.close().await;
    let mut captures = Vec::new();
    while let Some(d) = out.consume().await.unwrap() {
        captures.push(d.message);
    }
    (stats, captures)
}

fn by_url<'a>(captures: &'a [Capture], url: &str) -> &'a Capture {
    captures
        .iter()
        .find(|c| c.url == url)
        .unwrap_or_else(|| panic!("no capture for {url}"))
}

fn failure(c: &Capture) -> (FailureKind, &str) {
    let e = c
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("{} did not fail", c.url));
    (e.kind, e.message.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawls_fixture_web_end_to_end_and_resumes() {
    let fx = start_fixture().await;
    let dir = temp_dir("e2e");
    let (stats, captures) = crawl(config(&fx, &dir)).await;
    let hits = fx.hits.lock().unwrap().clone();
    let hit = |k: &str| hits.get(k).copied().unwrap_or(0);

    // Pages fetched once each under their host names; robots.txt once per host.
    assert_eq!(hit("example-fixture.kz /"), 1);
    assert_eq!(
        hit("example-fixture.kz /a"),
        1,
        "normalized duplicate not refetched"
    );
    assert_eq!(hit("example-fixture.kz /b"), 1);
    assert_eq!(hit("example-fixture.kz /robots.txt"), 1);
    assert_eq!(hit("t.me /robots.txt"), 1);
    assert_eq!(
        hit("example-fixture.kz /private/secret"),
        0,
        "robots.txt disallows it"
    );
    assert!(
        hits.keys()
            .all(|k| !k.starts_with("127.0.0.1") && !k.starts_with("localhost")),
        "{hits:?}"
    );
    assert_eq!(stats.robots_denied, 1);

    // A successful page: charset, text, metadata, evidence.
    let a = by_url(&captures, "http://example-fixture.kz/a");
    assert!(a.error.is_none());
    assert_eq!(a.host, "example-fixture.kz");
    assert_eq!(a.charset.as_deref(), Some("windows-1251"));
    assert_eq!(a.title, "Аренда карт");
    assert!(a.text.contains("доход от 50 000 тенге"), "{}", a.text);
    assert_eq!(a.lang.as_deref(), Some("ru"));
    assert_eq!(
        (a.ip.as_deref(), a.protocol.as_str(), a.status),
        (Some("127.0.0.1"), "HTTP/1.1", Some(200))
    );
    assert_eq!(a.depth, 1);
    let warc = a.warc.as_ref().expect("warc reference");
    let record = read_warc_record(&dir.join("blobs").join(&warc.file), warc.offset);
    assert!(record.contains("WARC-Type: response"));
    assert!(record.contains(&format!("WARC-Record-ID: {}", warc.record_id)));
    assert!(record.contains("WARC-Target-URI: http://example-fixture.kz/a"));
    // HTTP header names are case-insensitive; hyper hands them over lowercased.
    assert!(
        record
            .to_ascii_lowercase()
            .contains("content-type: text/html; charset=windows-1251")
    );

    // Failures are captures too, with the right kind.
    assert_eq!(
        failure(by_url(&captures, "http://example-fixture.kz/missing")).0,
        FailureKind::Status
    );
    let (kind, msg) = failure(by_url(
        &captures,
        "http://example-fixture.kz/redirect-loopback",
    ));
    assert_eq!(kind, FailureKind::Blocked, "{msg}");
    let (kind, msg) = failure(by_url(
        &captures,
        "http://example-fixture.kz/redirect-localhost",
    ));
    assert_eq!(kind, FailureKind::Blocked, "{msg}");
    assert_eq!(
        failure(by_url(&captures, "http://example-fixture.kz/loop")).0,
        FailureKind::Redirect
    );
    assert_eq!(
        failure(by_url(&captures, "http://example-fixture.kz/big")).0,
        FailureKind::TooLarge
    );
    assert_eq!(
        failure(by_url(&captures, "http://example-fixture.kz/slow")).0,
        FailureKind::Timeout
    );
    let localhost = format!("http://localhost:{}/", fx.port);
    assert_eq!(
        failure(by_url(&captures, &localhost)).0,
        FailureKind::Blocked
    );
    let literal = format!("http://127.0.0.1:{}/", fx.port);
    assert_eq!(failure(by_url(&captures, &literal)).0, FailureKind::Blocked);
    assert_eq!(
        failure(by_url(&captures, "http://closed.kz/")).0,
        FailureKind::Connect
    );

    // Links to other hosts are not followed.
    assert!(captures.iter().all(|c| !c.url.contains("other-host.kz")));

    // Telegram: one capture per post, stable post URLs, older page followed.
    let post = by_url(&captures, "http://t.me/testchannel/101");
    assert_eq!(
        post.source,
        Source::Telegram {
            channel: "testchannel".into(),
            post_id: 101,
            views: Some("1.2K".into())
        }
    );
    assert_eq!(post.title, "Быстрые выплаты KZ");
    assert!(
        post.text.starts_with("Сдай карту в аренду"),
        "{}",
        post.text
    );
    assert_eq!(
        post.published_at.unwrap().to_rfc3339(),
        "2025-03-14T09:26:53+00:00"
    );
    assert_eq!(
        (post.ip.as_deref(), post.status),
        (Some("127.0.0.1"), Some(200))
    );
    assert!(post.warc.is_some());
    assert_eq!(
        by_url(&captures, "http://t.me/testchannel/102")
            .lang
            .as_deref(),
        Some("kk")
    );
    assert!(
        by_url(&captures, "http://t.me/testchannel/100")
            .text
            .contains("набираем дропов")
    );
    assert_eq!(hit("t.me /s/testchannel?before=101"), 1);
    let (kind, msg) = failure(by_url(&captures, "http://t.me/s/nopreview"));
    assert_eq!((kind, msg), (FailureKind::Blocked, "no public preview"));

    // Stats: the run summary and the data directory agree.
    assert_eq!(stats.captures as usize, captures.len());
    assert_eq!(
        stats.failures_by_kind.get("blocked"),
        Some(&5),
        "{:?}",
        stats.failures_by_kind
    );
    assert_eq!(stats.failures_by_kind.get("connect"), Some(&1));
    assert_eq!(stats.queued, 0);
    assert_eq!(
        stats.hosts, 5,
        "fixture, t.me, localhost, 127.0.0.1, closed.kz"
    );
    assert_eq!(crawler::stats_from_dir(&dir).unwrap(), stats);

    // Simulated crash: /b was in flight. A restart fetches it (and only it) again.
    {
        let conn = rusqlite::Connection::open(dir.join("crawler.sqlite")).unwrap();
        let n = conn
            .execute(
                "UPDATE urls SET state = 'in_flight' WHERE url = 'http://example-fixture.kz/b'",
                [],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    let (stats2, captures2) = crawl(config(&fx, &dir)).await;
    let hits = fx.hits.lock().unwrap().clone();
    assert_eq!(hits.get("example-fixture.kz /b"), Some(&2));
    assert_eq!(
        hits.get("example-fixture.kz /"),
        Some(&1),
        "done seed not refetched"
    );
    assert_eq!(
        hits.get("example-fixture.kz /a"),
        Some(&1),
        "done link not refetched"
    );
    assert_eq!(hits.get("example-fixture.kz /missing"), Some(&1));
    assert_eq!(stats2.pages_fetched, 1);
    assert_eq!(captures2.len(), 1);
    assert_eq!(captures2[0].url, "http://example-fixture.kz/b");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn max_pages_leaves_the_rest_queued_for_the_next_run() {
    let fx = start_fixture().await;
    let dir = temp_dir("budget");
    let cfg = CrawlerConfig {
        seeds: vec!["http://example-fixture.kz/".into()],
        max_pages: 2,
        ..config(&fx, &dir)
    };
    let (stats, captures) = crawl(cfg.clone()).await;
    assert_eq!(stats.pages_fetched + stats.failed, 2);
    assert_eq!(captures.len(), 2);
    assert!(stats.queued > 0);
    let (stats2, _) = crawl(cfg).await;
    assert!(
        stats2.pages_fetched + stats2.failed > 0,
        "second run continues"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// No page budget (`usize::MAX`, as distributed workers run): the claim arithmetic must not
/// overflow, and the crawl takes the whole fixture like a budget larger than the site.
#[tokio::test]
async fn unlimited_page_budget_crawls_everything() {
    let fx = start_fixture().await;
    let (dir, dir_big) = (temp_dir("unlimited"), temp_dir("unlimited-big"));
    let seeds = vec!["http://example-fixture.kz/".to_string()];
    let cfg = CrawlerConfig {
        seeds: seeds.clone(),
        max_pages: usize::MAX,
        ..config(&fx, &dir)
    };
    let (stats, captures) = crawl(cfg).await;
    let cfg = CrawlerConfig {
        seeds,
        max_pages: 1_000_000,
        ..config(&fx, &dir_big)
    };
    let (_, captures_big) = crawl(cfg).await;
    assert!(stats.pages_fetched > 2, "{stats:?}");
    assert_eq!(stats.queued, 0, "{stats:?}");
    let urls = |c: &[Capture]| {
        let mut u: Vec<String> = c.iter().map(|c| c.url.clone()).collect();
        u.sort();
        u
    };
    assert_eq!(urls(&captures), urls(&captures_big));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir_big);
}

#[tokio::test]
async fn mapped_port_is_used_when_url_names_none() {
    let fx = start_fixture().await;
    let dir = temp_dir("port");
    let cfg = CrawlerConfig {
        seeds: vec!["http://example-fixture.kz/a".into()],
        max_depth: 0,
        ..config(&fx, &dir)
    };
    let (_, captures) = crawl(cfg).await;
    let a = by_url(&captures, "http://example-fixture.kz/a");
    assert_eq!(a.status, Some(200), "{:?}", a.error);
    let hits = fx.hits.lock().unwrap();
    assert_eq!(
        hits.get("example-fixture.kz /a"),
        Some(&1),
        "Host header keeps the name: {hits:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn read_warc_record(path: &Path, offset: u64) -> String {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut bytes)
        .unwrap();
    // The stored body keeps its original (windows-1251) bytes; headers are ASCII.
    String::from_utf8_lossy(&bytes).into_owned()
}
