//! Distributed crawling against a real PostgreSQL (`BAQYLAU_TEST_PG`, default
//! `postgres://postgres@127.0.0.1:5432/test`; the test fails when it is absent): several crawler
//! workers in this process share one frontier (a fresh schema per test) and crawl a loopback
//! site of several hosts. The server logs every request with the worker that made it (its
//! User-Agent), start and end, so the tests check what an operator cares about: every URL is
//! fetched, no host is ever fetched by two workers at once, a worker that joins mid-crawl gets
//! hosts, and the hosts of a worker that dies are taken over once its leases expire.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri, header};
use axum::response::Response;
use crawler::{CrawlerConfig, PgFrontier, ResolveRule};
use model::MemoryQueue;

#[path = "support/distributed.rs"]
mod support;
use support::{Worker, drop_schema, fresh_schema};

const HOSTS: [&str; 6] = ["d1.kz", "d2.kz", "d3.kz", "d4.kz", "d5.kz", "d6.kz"];
const SECTIONS: usize = 8;
const LEAVES: usize = 3;
/// URLs per host: home, sections, leaves.
const PER_HOST: usize = 1 + SECTIONS + SECTIONS * LEAVES;
const PER_HOST_CONNECTIONS: usize = 2;
/// Server time per page: long enough for requests to overlap if politeness failed.
const PAGE_TIME: Duration = Duration::from_millis(30);

#[derive(Debug, Clone)]
struct Req {
    host: String,
    path: String,
    worker: String,
    start: Instant,
    end: Instant,
}

type Log = Arc<Mutex<Vec<Req>>>;

async fn serve(State(log): State<Log>, uri: Uri, headers: HeaderMap) -> Response {
    let start = Instant::now();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let worker = headers
        .get(header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let path = uri.path().to_string();
    let body = if path == "/robots.txt" {
        "User-agent: *\nAllow: /\n".to_string()
    } else {
        tokio::time::sleep(PAGE_TIME).await;
        let i = HOSTS.iter().position(|h| *h == host).unwrap_or(0);
        let next = HOSTS[(i + 1) % HOSTS.len()];
        let links: Vec<String> = match path.trim_start_matches('/').split('/').collect::<Vec<_>>()[..]
        {
            [""] => (0..SECTIONS).map(|s| format!("/s{s}")).collect(),
            // A section links its leaves and the same section of the next host (cross-host
            // links are inserted by whichever worker fetches the page).
            [s] => (0..LEAVES)
                .map(|l| format!("/{s}/l{l}"))
                .chain([format!("http://{next}/{s}")])
                .collect(),
            _ => vec!["/".to_string()],
        };
        let mut b =
            format!("<html><head><title>{host}{path}</title></head><body><p>Бет {path}</p>");
        for l in links {
            b.push_str(&format!("<a href=\"{l}\">{l}</a>"));
        }
        b + "</body></html>"
    };
    log.lock().unwrap().push(Req {
        host,
        path,
        worker,
        start,
        end: Instant::now(),
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(body))
        .unwrap()
}

async fn start_site() -> (SocketAddr, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let app = Router::new().fallback(serve).with_state(log.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, log)
}

/// Every URL of the site.
fn all_urls() -> BTreeSet<String> {
    let mut v = BTreeSet::new();
    for h in HOSTS {
        v.insert(format!("http://{h}/"));
        for s in 0..SECTIONS {
            v.insert(format!("http://{h}/s{s}"));
            for l in 0..LEAVES {
                v.insert(format!("http://{h}/s{s}/l{l}"));
            }
        }
    }
    assert_eq!(v.len(), HOSTS.len() * PER_HOST);
    v
}

async fn start_worker(id: &str, schema: &str, addr: SocketAddr, data: &std::path::Path) -> Worker {
    let cfg = CrawlerConfig {
        data_dir: data.join(id),
        seeds: HOSTS.iter().map(|h| format!("http://{h}/")).collect(),
        resolve: HOSTS
            .iter()
            .map(|h| ResolveRule {
                host: h.to_string(),
                addr,
            })
            .collect(),
        user_agent: format!("baqylau-test-{id}"),
        per_host_connections: PER_HOST_CONNECTIONS,
        host_delay: Duration::from_millis(40),
        concurrency: 6,
        max_pages: usize::MAX,
        ..CrawlerConfig::default()
    };
    let out = Arc::new(MemoryQueue::new("captures", 100_000));
    Worker::start(
        id,
        schema,
        cfg,
        Duration::from_millis(150),
        Duration::from_secs(3600),
        out,
    )
    .await
}

/// Waits until the shared frontier has fetched `n` URLs (done, failed or denied).
async fn wait_settled(pg: &PgFrontier, n: u64, within: Duration) -> crawler::FrontierStats {
    let t0 = Instant::now();
    loop {
        let s = pg.stats().await.unwrap();
        if s.done + s.failed + s.denied >= n && s.queued == 0 && s.in_flight == 0 {
            return s;
        }
        assert!(t0.elapsed() < within, "crawl did not finish: {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_fetched(log: &Log, n: usize, within: Duration) {
    let t0 = Instant::now();
    while log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path != "/robots.txt")
        .count()
        < n
    {
        assert!(t0.elapsed() < within, "fewer than {n} pages fetched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// For every host: requests in flight at the same time come from one worker, at most
/// `PER_HOST_CONNECTIONS` of them. Returns the workers that fetched each host.
fn check_politeness(log: &[Req]) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_host: BTreeMap<String, Vec<&Req>> = BTreeMap::new();
    for r in log {
        by_host.entry(r.host.clone()).or_default().push(r);
    }
    let mut owners = BTreeMap::new();
    for (host, reqs) in by_host {
        for r in &reqs {
            let overlapping: Vec<&&Req> = reqs
                .iter()
                .filter(|o| o.start < r.end && r.start < o.end)
                .collect();
            let workers: BTreeSet<&str> = overlapping.iter().map(|o| o.worker.as_str()).collect();
            assert_eq!(
                workers.len(),
                1,
                "{host}{}: fetched by {workers:?} at once",
                r.path
            );
            assert!(
                overlapping.len() <= PER_HOST_CONNECTIONS,
                "{host}: {} requests at once",
                overlapping.len()
            );
        }
        owners.insert(host, reqs.iter().map(|r| r.worker.clone()).collect());
    }
    owners
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("baqylau-dist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_split_hosts_politely_and_a_joining_worker_gets_hosts() {
    let (addr, log) = start_site().await;
    let schema = fresh_schema("join").await;
    let data = temp_dir("join");
    let a = start_worker("wa", &schema, addr, &data).await;
    let b = start_worker("wb", &schema, addr, &data).await;
    let pg = a.crawler.shared_frontier().unwrap().clone();
    wait_fetched(&log, 40, Duration::from_secs(30)).await;
    let c = start_worker("wc", &schema, addr, &data).await;
    let joined_at = Instant::now();

    let total = all_urls().len() as u64;
    let stats = wait_settled(&pg, total, Duration::from_secs(90)).await;
    assert_eq!(
        (stats.done, stats.failed, stats.denied),
        (total, 0, 0),
        "{stats:?}"
    );
    let live: Vec<(&str, bool)> = stats
        .workers
        .iter()
        .map(|w| (w.worker.as_str(), w.alive))
        .collect();
    assert_eq!(live, [("wa", true), ("wb", true), ("wc", true)]);
    for w in [&a, &b, &c] {
        w.stop.send(true).unwrap();
    }
    for w in [a, b, c] {
        w.task.await.unwrap().unwrap();
    }
    assert_eq!(
        pg.stats().await.unwrap().leased_hosts,
        0,
        "leases released on stop"
    );

    let log = log.lock().unwrap().clone();
    let fetched: BTreeSet<String> = log
        .iter()
        .filter(|r| r.path != "/robots.txt")
        .map(|r| format!("http://{}{}", r.host, r.path))
        .collect();
    assert_eq!(fetched, all_urls(), "every URL fetched");
    let pages = log.iter().filter(|r| r.path != "/robots.txt").count();
    assert_eq!(pages, all_urls().len(), "no URL fetched twice");
    let owners = check_politeness(&log);
    eprintln!("hosts → workers: {owners:?}");
    let by_worker = |w: &str| {
        log.iter()
            .filter(|r| r.worker == format!("baqylau-test-{w}") && r.path != "/robots.txt")
            .count()
    };
    assert!(by_worker("wa") > 0 && by_worker("wb") > 0, "{owners:?}");
    assert!(
        log.iter()
            .any(|r| r.worker == "baqylau-test-wc" && r.start > joined_at),
        "the worker that joined mid-crawl got hosts: {owners:?}"
    );
    drop_schema(&pg, &schema).await;
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hosts_of_a_dead_worker_are_taken_over_after_lease_expiry() {
    let (addr, log) = start_site().await;
    let schema = fresh_schema("kill").await;
    let data = temp_dir("kill");
    let a = start_worker("ka", &schema, addr, &data).await;
    let b = start_worker("kb", &schema, addr, &data).await;
    let pg = a.crawler.shared_frontier().unwrap().clone();
    // Kill b once it has fetched something (its leases stay in the database until they expire).
    let t0 = Instant::now();
    while !log
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.worker == "baqylau-test-kb" && r.path != "/robots.txt")
    {
        assert!(t0.elapsed() < Duration::from_secs(30), "kb never fetched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.task.abort();
    let killed_at = Instant::now();
    let held_by_b: BTreeSet<String> = {
        let s = pg.stats().await.unwrap();
        let kb = s.workers.iter().find(|w| w.worker == "kb").unwrap();
        assert!(kb.hosts > 0, "kb held hosts when killed: {s:?}");
        log.lock()
            .unwrap()
            .iter()
            .filter(|r| r.worker == "baqylau-test-kb")
            .map(|r| r.host.clone())
            .collect()
    };

    let total = all_urls().len() as u64;
    let stats = wait_settled(&pg, total, Duration::from_secs(90)).await;
    assert_eq!((stats.done, stats.failed), (total, 0), "{stats:?}");
    let kb = stats.workers.iter().find(|w| w.worker == "kb").unwrap();
    assert!(!kb.alive && kb.hosts == 0, "{stats:?}");
    a.stop().await;

    let log = log.lock().unwrap().clone();
    let fetched: BTreeSet<String> = log
        .iter()
        .filter(|r| r.path != "/robots.txt")
        .map(|r| format!("http://{}{}", r.host, r.path))
        .collect();
    assert_eq!(fetched, all_urls(), "every URL fetched");
    let taken_over: BTreeSet<&str> = log
        .iter()
        .filter(|r| r.worker == "baqylau-test-ka" && r.start > killed_at)
        .map(|r| r.host.as_str())
        .filter(|h| held_by_b.contains(*h))
        .collect();
    assert!(
        !taken_over.is_empty(),
        "ka fetched hosts kb had held ({held_by_b:?}) after kb died"
    );
    // After the takeover, the survivor alone fetched (b's aborted requests may end late).
    let after: Vec<Req> = log
        .iter()
        .filter(|r| r.start > killed_at + Duration::from_millis(100))
        .cloned()
        .collect();
    assert!(after.iter().all(|r| r.worker == "baqylau-test-ka"));
    check_politeness(&after);
    drop_schema(&pg, &schema).await;
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_and_restarted_under_its_id_resumes_its_hosts() {
    let (addr, log) = start_site().await;
    let schema = fresh_schema("restart").await;
    let data = temp_dir("restart");
    let a = start_worker("ra", &schema, addr, &data).await;
    let b = start_worker("rb", &schema, addr, &data).await;
    let pg = a.crawler.shared_frontier().unwrap().clone();
    let t0 = Instant::now();
    loop {
        let s = pg.stats().await.unwrap();
        let rb = s.workers.iter().find(|w| w.worker == "rb");
        if rb.is_some_and(|w| w.hosts > 0) && s.in_flight > 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "rb never held hosts"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.task.abort();
    let _ = b.task.await;
    // Restarted at once: its leases are still live, so it renews them and requeues what its
    // killed run left in flight.
    let b2 = start_worker("rb", &schema, addr, &data).await;

    let total = all_urls().len() as u64;
    let stats = wait_settled(&pg, total, Duration::from_secs(90)).await;
    assert_eq!((stats.done, stats.failed), (total, 0), "{stats:?}");
    for w in [&a, &b2] {
        w.stop.send(true).unwrap();
    }
    for w in [a, b2] {
        w.task.await.unwrap().unwrap();
    }
    let fetched: BTreeSet<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path != "/robots.txt")
        .map(|r| format!("http://{}{}", r.host, r.path))
        .collect();
    assert_eq!(fetched, all_urls(), "every URL fetched");
    drop_schema(&pg, &schema).await;
    let _ = std::fs::remove_dir_all(&data);
}
