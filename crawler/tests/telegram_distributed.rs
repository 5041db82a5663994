//! Telegram revisits in distributed mode, against a real PostgreSQL (`BAQYLAU_TEST_PG`, default
//! `postgres://postgres@127.0.0.1:5432/test`; the test fails when it is absent) and a loopback
//! `t.me` whose channel page gains, edits and loses posts while distributed workers watch it.
//!
//! A watched channel page is revisited every few hundred milliseconds. Each revisit must publish
//! only what changed — a new post, or a new version of an edited one — as the embedded crawler
//! does, and that memory must be shared: a worker that takes the channel over from another does
//! not republish what the first one published.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use crawler::watch::PostCounts;
use crawler::{CrawlerConfig, PgFrontier, ResolveRule};
use model::{Capture, MemoryQueue, Queue, Source};

#[path = "support/distributed.rs"]
mod support;
use support::{Worker, drop_schema, fresh_schema};

const CHANNEL: &str = "distchan";
const BENIGN: &str = "Бүгін Алматыда ауа райы жылы.";
const VIOLATING: &str = "Сдай карту в аренду — 50 000 ₸ в неделю!";
const EDITED: &str = "Сдай карту в аренду — 80 000 ₸ в неделю, пиши в личку!";

/// The fixture's current posts, and how often the channel page was served.
#[derive(Default)]
struct Channel {
    posts: Vec<(u64, String)>,
    served: usize,
}

type Fixture = Arc<Mutex<Channel>>;

async fn serve(State(ch): State<Fixture>, uri: Uri) -> Response {
    let path = uri.path();
    let body = if path == "/robots.txt" {
        "User-agent: *\nAllow: /\n".to_string()
    } else if path == format!("/s/{CHANNEL}") && uri.query().is_none() {
        let mut ch = ch.lock().unwrap();
        ch.served += 1;
        channel_page(&ch.posts)
    } else if path == format!("/s/{CHANNEL}") {
        channel_page(&[]) // `?before=` history: nothing older.
    } else {
        return Response::builder()
            .status(404)
            .body(Body::from("not found"))
            .unwrap();
    };
    Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(Body::from(body))
        .unwrap()
}

/// A channel preview page in Telegram's markup.
fn channel_page(posts: &[(u64, String)]) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Dist – Telegram</title></head>\
         <body><div class=\"tgme_channel_info\">\
         <div class=\"tgme_channel_info_header_title\"><span>Жаңалықтар</span></div>\
         <div class=\"tgme_channel_info_description\">Күнделікті жаңалықтар</div></div>\
         <section class=\"tgme_channel_history\">",
    );
    for (id, text) in posts {
        html.push_str(&format!(
            "<div class=\"tgme_widget_message_wrap\"><div class=\"tgme_widget_message\" \
             data-post=\"{CHANNEL}/{id}\"><div class=\"tgme_widget_message_bubble\">\
             <div class=\"tgme_widget_message_text\">{text}</div>\
             <div class=\"tgme_widget_message_info\"><span class=\"tgme_widget_message_views\">10</span>\
             <a class=\"tgme_widget_message_date\" href=\"https://t.me/{CHANNEL}/{id}\">\
             <time datetime=\"2026-01-0{id}T10:00:00+00:00\">10:00</time></a></div>\
             </div></div></div>"
        ));
    }
    html.push_str("</section></body></html>");
    html
}

async fn start_fixture(posts: Vec<(u64, String)>) -> (SocketAddr, Fixture) {
    let ch: Fixture = Arc::new(Mutex::new(Channel { posts, served: 0 }));
    let app = Router::new().fallback(serve).with_state(Arc::clone(&ch));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, ch)
}

async fn start_worker(
    id: &str,
    schema: &str,
    addr: SocketAddr,
    data: &std::path::Path,
    out: Arc<MemoryQueue<Capture>>,
) -> Worker {
    let cfg = CrawlerConfig {
        data_dir: data.join(id),
        seeds: vec![format!("http://t.me/s/{CHANNEL}")],
        resolve: vec![ResolveRule {
            host: "t.me".into(),
            addr,
        }],
        user_agent: format!("baqylau-test-{id}"),
        host_delay: Duration::from_millis(0),
        max_pages: usize::MAX,
        ..CrawlerConfig::default()
    };
    Worker::start(
        id,
        schema,
        cfg,
        Duration::from_millis(100),
        Duration::from_millis(300),
        out,
    )
    .await
}

/// Every capture published so far, drained from the workers' queue as it comes.
type Published = Arc<Mutex<Vec<Capture>>>;

fn collect(q: Arc<MemoryQueue<Capture>>) -> Published {
    let got: Published = Arc::default();
    let sink = Arc::clone(&got);
    tokio::spawn(async move {
        while let Some(d) = q.consume().await.unwrap() {
            sink.lock().unwrap().push(d.message.clone());
            d.ack().await.unwrap();
        }
    });
    got
}

/// Captures per post id (0: the channel header), texts in publishing order.
fn by_post(got: &Published) -> BTreeMap<u64, Vec<String>> {
    let mut m: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for c in got.lock().unwrap().iter() {
        let id = match c.source {
            Source::Telegram { post_id, .. } => post_id,
            Source::Web => 0,
        };
        m.entry(id).or_default().push(c.text.clone());
    }
    m
}

async fn wait_until(what: &str, within: Duration, mut pred: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !pred() {
        assert!(t0.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the channel page has been served `n` more times (and the last of those fetches
/// had time to be published).
async fn revisits(ch: &Fixture, n: usize) {
    let from = ch.lock().unwrap().served;
    wait_until(
        &format!("{n} revisits of the channel page"),
        Duration::from_secs(30),
        || ch.lock().unwrap().served >= from + n,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revisits_publish_only_new_and_edited_posts_across_workers() {
    let (addr, ch) = start_fixture(vec![(1, BENIGN.into()), (2, VIOLATING.into())]).await;
    let schema = fresh_schema("tgrevisit").await;
    let data = std::env::temp_dir().join(format!("baqylau-tgdist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let out = Arc::new(MemoryQueue::new("captures", 10_000));
    let got = collect(Arc::clone(&out));

    let a = start_worker("ta", &schema, addr, &data, Arc::clone(&out)).await;
    let pg: PgFrontier = a.crawler.shared_frontier().unwrap().clone();
    wait_until("the first posts", Duration::from_secs(30), || {
        by_post(&got).contains_key(&2)
    })
    .await;
    revisits(&ch, 3).await;
    let first = by_post(&got);
    assert_eq!(
        first
            .iter()
            .map(|(id, v)| (*id, v.len()))
            .collect::<Vec<_>>(),
        [(0, 1), (1, 1), (2, 1)],
        "header and posts published once over several revisits: {first:?}"
    );

    // Post 2 edited: one new version, the old one was published before.
    ch.lock().unwrap().posts = vec![(1, BENIGN.into()), (2, EDITED.into())];
    wait_until("the edited post", Duration::from_secs(30), || {
        by_post(&got)[&2].len() == 2
    })
    .await;
    revisits(&ch, 3).await;
    let edited = by_post(&got);
    assert_eq!(edited[&2].len(), 2, "{edited:?}");
    assert!(
        edited[&2][0].contains("50 000") && edited[&2][1].contains("80 000"),
        "{edited:?}"
    );
    assert_eq!((edited[&0].len(), edited[&1].len()), (1, 1), "{edited:?}");

    // Post 2 deleted while 1 stays and 3 appears; then another worker takes the channel over.
    ch.lock().unwrap().posts = vec![(1, BENIGN.into()), (3, BENIGN.into())];
    wait_until("the new post", Duration::from_secs(30), || {
        by_post(&got).contains_key(&3)
    })
    .await;
    revisits(&ch, 2).await;
    a.stop().await;
    let before = got.lock().unwrap().len();
    let b = start_worker("tb", &schema, addr, &data, Arc::clone(&out)).await;
    revisits(&ch, 3).await;
    b.stop().await;
    let last = by_post(&got);
    assert_eq!(
        got.lock().unwrap().len(),
        before,
        "the second worker republished posts: {last:?}"
    );
    assert_eq!(
        last.iter()
            .map(|(id, v)| (*id, v.len()))
            .collect::<Vec<_>>(),
        [(0, 1), (1, 1), (2, 2), (3, 1)],
        "{last:?}"
    );
    assert_eq!(
        pg.post_counts().await.unwrap(),
        PostCounts {
            channels: 1,
            posts: 3,
            edited: 1,
            deleted: 1
        }
    );

    out.close().await;
    drop_schema(&pg, &schema).await;
    let _ = std::fs::remove_dir_all(&data);
}
