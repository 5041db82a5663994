//! Recrawl: a fetched page is revisited when its (adaptive) interval is due, with a conditional
//! GET; a `304 Not Modified` publishes nothing and doubles the interval. Sitemaps named in
//! robots.txt are followed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use crawler::frontier::RevisitPolicy;
use crawler::{Crawler, CrawlerConfig, ResolveRule};
use model::{MemoryQueue, Queue};

/// (path, If-None-Match) of every request.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

async fn serve(State(log): State<Log>, uri: Uri, headers: HeaderMap) -> Response {
    let inm = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    log.lock()
        .unwrap()
        .push((uri.path().to_string(), inm.clone()));
    let ok = |ct: &str, body: &str| {
        Response::builder()
            .header(header::CONTENT_TYPE, ct)
            .header(header::ETAG, "\"v1\"")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    match uri.path() {
        "/robots.txt" => ok(
            "text/plain",
            "User-agent: *\nSitemap: http://rv.kz/sitemap.xml\n",
        ),
        "/sitemap.xml" => ok(
            "application/xml",
            "<urlset><url><loc>http://rv.kz/listed</loc></url></urlset>",
        ),
        _ if inm.as_deref() == Some("\"v1\"") => Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap(),
        _ => ok("text/html", "<title>Бет</title><p>Мәтін өзгерген жоқ</p>"),
    }
}

#[tokio::test]
async fn due_page_is_revisited_with_a_conditional_get() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let app = Router::new().fallback(serve).with_state(log.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = std::env::temp_dir().join(format!("baqylau-revisit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = CrawlerConfig {
        data_dir: dir.clone(),
        seeds: vec!["http://rv.kz/".into()],
        resolve: vec![ResolveRule {
            host: "rv.kz".into(),
            addr,
        }],
        host_delay: Duration::ZERO,
        revisit: RevisitPolicy {
            initial_ms: 1,
            min_ms: 1,
            max_ms: 60_000,
        },
        ..CrawlerConfig::default()
    };
    let run = |cfg: CrawlerConfig| async move {
        let crawler = Crawler::new(cfg).unwrap();
        let out = MemoryQueue::new("captures", 100);
        let stats = crawler.run(&out).await.unwrap();
        out.close().await;
        let mut urls = Vec::new();
        while let Some(d) = out.consume().await.unwrap() {
            urls.push(d.message.url);
        }
        (stats, urls)
    };
    let (_, first) = run(cfg.clone()).await;
    assert!(first.contains(&"http://rv.kz/".to_string()), "{first:?}");
    assert!(
        first.contains(&"http://rv.kz/listed".to_string()),
        "sitemap from robots.txt followed: {first:?}"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (stats, second) = run(cfg).await;
    assert!(
        !second.contains(&"http://rv.kz/".to_string()),
        "304 publishes nothing: {second:?}"
    );
    assert!(stats.pages_fetched >= 1, "{stats:?}");
    let log = log.lock().unwrap();
    let home: Vec<_> = log.iter().filter(|(p, _)| p == "/").collect();
    assert_eq!(home.len(), 2, "{log:?}");
    assert_eq!(home[0].1, None);
    assert_eq!(home[1].1.as_deref(), Some("\"v1\""), "conditional GET");
    std::fs::remove_dir_all(&dir).unwrap();
}
