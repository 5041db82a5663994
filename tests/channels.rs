//! End-to-end test of `baqylau crawl --watch` over a Telegram channel: a loopback fixture of
//! `t.me` whose channel page gains, edits and loses posts while the real binary watches it, and
//! the real `baqylau serve` API where the cases must show up.

#[allow(dead_code)]
mod util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use util::{Dir, Server, baqylau, get_as, run, stderr, stdout};

const CHANNEL: &str = "watchchan";

/// A fixture `t.me`: `/s/<channel>` lists the current posts in the real preview structure,
/// `/<channel>/<id>?embed=1` shows one post (what the evidence screenshot opens).
struct FixtureChannel {
    posts: Arc<Mutex<Vec<(u64, String)>>>,
    port: u16,
}

impl FixtureChannel {
    fn start(posts: Vec<(u64, String)>) -> FixtureChannel {
        let posts = Arc::new(Mutex::new(posts));
        let shared = Arc::clone(&posts);
        let port = serve(move |_, path| respond(path, &shared.lock().unwrap()));
        FixtureChannel { posts, port }
    }

    fn set(&self, posts: Vec<(u64, String)>) {
        *self.posts.lock().unwrap() = posts;
    }
}

fn respond(path: &str, posts: &[(u64, String)]) -> (&'static str, String) {
    if path == "/robots.txt" {
        return ("200 OK", "User-agent: *\nAllow: /\n".into());
    }
    if path.starts_with(&format!("/s/{CHANNEL}?before=")) {
        return ("200 OK", channel_page(&[]));
    }
    if path == format!("/s/{CHANNEL}") {
        return ("200 OK", channel_page(posts));
    }
    let post = path
        .strip_prefix(&format!("/{CHANNEL}/"))
        .and_then(|r| r.split('?').next())
        .and_then(|id| id.parse::<u64>().ok())
        .and_then(|id| posts.iter().find(|p| p.0 == id));
    match post {
        Some((id, text)) => (
            "200 OK",
            format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\
                 <div class=\"tgme_widget_message\" data-post=\"{CHANNEL}/{id}\">\
                 <div class=\"tgme_widget_message_text\">{text}</div></div></body></html>"
            ),
        ),
        None => (
            "404 Not Found",
            "<html><body>not found</body></html>".into(),
        ),
    }
}

fn channel_page(posts: &[(u64, String)]) -> String {
    channel_page_of(CHANNEL, posts)
}

fn channel_page_of(channel: &str, posts: &[(u64, String)]) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Watch – Telegram</title></head>\
         <body><div class=\"tgme_channel_info\">\
         <div class=\"tgme_channel_info_header_title\"><span>Жаңалықтар</span></div>\
         <div class=\"tgme_channel_info_description\">Күнделікті жаңалықтар</div></div>\
         <section class=\"tgme_channel_history\">",
    );
    for (id, text) in posts {
        html.push_str(&format!(
            "<div class=\"tgme_widget_message_wrap\"><div class=\"tgme_widget_message\" \
             data-post=\"{channel}/{id}\"><div class=\"tgme_widget_message_bubble\">\
             <div class=\"tgme_widget_message_text\">{text}</div>\
             <div class=\"tgme_widget_message_info\"><span class=\"tgme_widget_message_views\">10</span>\
             <a class=\"tgme_widget_message_date\" href=\"https://t.me/{channel}/{id}\">\
             <time datetime=\"2026-01-0{id}T10:00:00+00:00\">10:00</time></a></div>\
             </div></div></div>"
        ));
    }
    html.push_str("</section></body></html>");
    html
}

/// Pids of the `chrom*` processes descending from `root`.
fn chromium_descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may contain spaces, so split at the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_string();
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            parent_of.push((pid, ppid, comm));
        }
    }
    let mut tree = vec![root];
    let mut grew = true;
    while grew {
        grew = false;
        for (pid, ppid, _) in &parent_of {
            if tree.contains(ppid) && !tree.contains(pid) {
                tree.push(*pid);
                grew = true;
            }
        }
    }
    parent_of
        .iter()
        .filter(|(pid, _, comm)| tree.contains(pid) && *pid != root && comm.contains("chrom"))
        .map(|(pid, _, _)| *pid)
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

fn token(data: &Path) -> String {
    let out = run(baqylau()
        .args([
            "user", "add", "watcher", "--role", "analyst", "--json", "--data",
        ])
        .arg(data));
    assert!(out.status.success(), "user add: {}", stderr(&out));
    let out = run(baqylau()
        .args(["token", "create", "--user", "watcher", "--data"])
        .arg(data));
    assert!(out.status.success(), "token create: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Polls `GET path` until `pred` holds on the JSON body, at most `limit`.
fn wait_for(
    server: &Server,
    auth: &str,
    path: &str,
    limit: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Option<(Value, Duration)> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let r = get_as(server.addr, path, auth);
        if r.status == 200 {
            let v = r.json();
            if pred(&v) {
                return Some((v, start.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

const BENIGN: &str = "Бүгін Алматыда ауа райы жылы, жаңбыр күтілмейді.";
const VIOLATING: &str = "Сдай карту в аренду — 50 000 ₸ в неделю! Без вложений.";
const EDITED: &str = "Сдай карту в аренду — 80 000 ₸ в неделю! Без вложений, пиши в личку.";

/// Starts `crawl --watch` over the fixture channel listed in `channels`, revisiting every second.
fn start_watch(tg: &FixtureChannel, channels: &Path, data: &Path) -> std::process::Child {
    baqylau()
        .args([
            "crawl",
            "--watch",
            "--revisit",
            "1s",
            "--host-delay",
            "0ms",
            "--json",
        ])
        .args(["--resolve", &format!("t.me=127.0.0.1:{}", tg.port)])
        .arg("--channels")
        .arg(channels)
        .arg("--data")
        .arg(data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start crawl --watch")
}

/// Waits for the watch's first pass to create the data directory, and a little more.
fn wait_first_pass(data: &Path) {
    let start = Instant::now();
    while !data.join("cases.sqlite").exists() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
}

#[test]
fn watched_channel_new_edited_and_deleted_posts_reach_the_api() {
    let dir = Dir::new("watch");
    let data = dir.path().join("data");
    let tg = FixtureChannel::start(vec![(1, BENIGN.into())]);
    let channels = dir.write(
        "channels.txt",
        &format!("# monitored channels\nhttp://t.me/{CHANNEL}\n"),
    );

    let mut crawl = start_watch(&tg, &channels, &data);

    // The first pass creates the data directory; the API then serves it alongside.
    wait_first_pass(&data);
    let auth = format!("Bearer {}", token(&data));
    let server = Server::start(&data);
    let post_url = format!("http://t.me/{CHANNEL}/2");

    // A new violating post → a case for that post URL.
    tg.set(vec![(1, BENIGN.into()), (2, VIOLATING.into())]);
    let found = wait_for(&server, &auth, "/api/cases", Duration::from_secs(30), |v| {
        v.as_array()
            .is_some_and(|cs| cs.iter().any(|c| c["url"] == post_url.as_str()))
    });
    let (cases, latency) = found.unwrap_or_else(|| panic!("no case for {post_url} within 30 s"));
    eprintln!("post → case in {latency:?}");
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["url"] == post_url.as_str())
        .unwrap();
    let id = case["id"].as_i64().unwrap();
    assert!(
        cases
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["url"] != format!("http://t.me/{CHANNEL}/1")),
        "the benign post must not be a case: {cases}"
    );

    // The case page shows the post's desktop and mobile screenshots, each with its SHA-256 —
    // the name of the PNG stored content-addressed under blobs/screenshots.
    let start = Instant::now();
    let page = loop {
        let r = get_as(server.addr, &format!("/cases/{id}"), &auth);
        if r.status == 200 && r.body.contains("data-viewport=\"mobile\"") {
            break r.body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "case {id} page has no mobile screenshot: {} {}",
            r.status,
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    for viewport in ["desktop", "mobile"] {
        let marker = format!("data-viewport=\"{viewport}\">");
        let at = page
            .find(&marker)
            .unwrap_or_else(|| panic!("no {viewport} SHA-256 on the case page"));
        let sha: String = page[at + marker.len()..].chars().take(64).collect();
        let png = std::fs::read(data.join(format!("blobs/screenshots/{sha}.png")))
            .unwrap_or_else(|e| panic!("{viewport} screenshot {sha}: {e}"));
        assert_eq!(sha2_hex(&png), sha, "{viewport} PNG matches its SHA-256");
    }

    // The same post edited → a second evidence on the same case, the first one kept.
    tg.set(vec![(1, BENIGN.into()), (2, EDITED.into())]);
    let detail_path = format!("/api/cases/{id}");
    let evidence_texts = |v: &Value| -> Vec<String> {
        v["evidence"]
            .as_array()
            .map(|es| es.iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    };
    let (detail, _) = wait_for(&server, &auth, &detail_path, Duration::from_secs(30), |v| {
        evidence_texts(v).len() >= 2
    })
    .unwrap_or_else(|| panic!("edited post gave no new evidence on case {id}"));
    let texts = evidence_texts(&detail);
    assert!(
        texts.iter().any(|t| t.contains("50 000")),
        "old version kept: {texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("80 000")),
        "new version added: {texts:?}"
    );

    // Post 2 deleted while posts 1 and 3 remain: marked deleted, and the watch settles (no new
    // evidence for unchanged posts).
    tg.set(vec![(1, BENIGN.into()), (3, BENIGN.into())]);
    std::thread::sleep(Duration::from_secs(4));
    let after = get_as(server.addr, &detail_path, &auth);
    assert_eq!(
        evidence_texts(&after.json()).len(),
        texts.len(),
        "unchanged posts republished"
    );

    let browsers = chromium_descendants(crawl.id());
    assert!(
        !browsers.is_empty(),
        "the watch keeps one browser for screenshots"
    );
    let _ = std::process::Command::new("kill")
        .arg(crawl.id().to_string())
        .status();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = crawl.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = crawl.kill();
            panic!("crawl --watch did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = crawl.wait_with_output().unwrap();
    assert!(status.success(), "exit {status:?}: {}", stderr(&out));
    let summary: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON summary");
    assert!(summary["cases_opened"].as_u64().unwrap() >= 1, "{summary}");
    std::thread::sleep(Duration::from_millis(500));
    let left: Vec<u32> = browsers.into_iter().filter(|p| alive(*p)).collect();
    assert!(
        left.is_empty(),
        "Chromium processes left after SIGTERM: {left:?}"
    );

    let out = run(baqylau().args(["stats", "--json", "--data"]).arg(&data));
    assert!(out.status.success(), "stats: {}", stderr(&out));
    let stats: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let tg_stats = &stats["telegram"];
    assert_eq!(tg_stats["posts"], 3, "{stats}");
    assert_eq!(tg_stats["edited"], 1, "{stats}");
    assert_eq!(tg_stats["deleted"], 1, "{stats}");
}

/// A downstream stage that fails for good (here: the evidence directory is gone, so no
/// screenshot can be stored) stops `crawl --watch` with a non-zero exit and an error naming the
/// stage — instead of crawling on with nobody consuming — and leaves no Chromium behind.
#[test]
fn a_failing_stage_stops_the_watch() {
    let dir = Dir::new("watch-stage-fails");
    let data = dir.path().join("data");
    let tg = FixtureChannel::start(vec![(1, BENIGN.into())]);
    let channels = dir.write("channels.txt", &format!("http://t.me/{CHANNEL}\n"));
    let mut crawl = start_watch(&tg, &channels, &data);
    wait_first_pass(&data);
    let browsers = chromium_descendants(crawl.id());
    assert!(!browsers.is_empty(), "the watch runs a browser");
    // The evidence volume disappears under the running service (root ignores permissions, so
    // the directory is replaced by a file rather than made read-only).
    let shots = data.join("blobs").join("screenshots");
    std::fs::remove_dir_all(&shots).expect("remove screenshots dir");
    std::fs::write(&shots, b"not a directory").unwrap();
    assert!(
        crawl.try_wait().unwrap().is_none(),
        "the watch is still running before any failure"
    );

    // A violating post opens a case; storing its screenshot fails; the watch must stop.
    tg.set(vec![(1, BENIGN.into()), (2, VIOLATING.into())]);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = crawl.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = crawl.kill();
            let out = crawl.wait_with_output().unwrap();
            panic!(
                "crawl --watch kept running 60 s after its screenshot stage failed: {}",
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = crawl.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!status.success(), "a failed stage must fail the run: {err}");
    assert!(
        err.contains("screenshot stage failed") && err.contains("cannot write screenshots/"),
        "the error names the stage and the cause: {err}"
    );
    assert!(
        stdout(&out).trim().is_empty(),
        "no summary for a failed run"
    );
    std::thread::sleep(Duration::from_millis(500));
    let left: Vec<u32> = browsers.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "Chromium processes left: {left:?}");
}

/// A loopback HTTP/1.1 server on a free port (returned) that answers every request by
/// `handler(host, path)` → `(status line, HTML body)`.
fn serve(handler: impl Fn(&str, &str) -> (&'static str, String) + Send + Sync + 'static) -> u16 {
    let handler = Arc::new(handler);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind fixture");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let mut host = String::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = h.split_once(':')
                        && name.eq_ignore_ascii_case("host")
                    {
                        host = value.trim().split(':').next().unwrap_or("").to_string();
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = handler(&host, &path);
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            });
        }
    });
    port
}

/// A loopback server for several mapped host names: answers by `handler(host, path)` and logs
/// every request as `host path`.
struct MultiHost {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl MultiHost {
    fn start(handler: fn(&str, &str) -> (&'static str, String)) -> MultiHost {
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&log);
        let port = serve(move |host, path| {
            shared.lock().unwrap().push(format!("{host} {path}"));
            handler(host, path)
        });
        MultiHost { port, log }
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// A news site whose article names Telegram channels in every form a page does, and a fixture
/// `t.me` with two public channels.
fn discovery_web(host: &str, path: &str) -> (&'static str, String) {
    if path == "/robots.txt" {
        return ("200 OK", "User-agent: *\nAllow: /\n".into());
    }
    match (host, path) {
        ("discover-news.kz", "/") => (
            "200 OK",
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Новости</title></head><body>\
             <h1>Где ищут дропов</h1><p>Объявления о покупке карт публикуют в каналах.</p>\
             <a href=\"http://t.me/watchchan\">канал</a> \
             <a href=\"http://t.me/watchchan/2\">пост канала</a> \
             <a href=\"http://t.me/joinchat/AAAAAEkk2WdoDrB4\">закрытый чат</a> \
             <a href=\"http://t.me/+AbCdEfGhIjK1\">инвайт</a> \
             <a href=\"http://t.me/drop_helper_bot\">бот</a> \
             <a href=\"http://t.me/share/url?url=http://discover-news.kz/\">поделиться</a> \
             <a href=\"http://t.me/addstickers/drop_pack\">стикеры</a> \
             <a href=\"http://t.me/s/second_chan\">второй канал</a>\
             </body></html>"
                .into(),
        ),
        ("t.me", "/s/watchchan") => (
            "200 OK",
            channel_page_of(
                "watchchan",
                &[(1, BENIGN.to_string()), (2, VIOLATING.to_string())],
            ),
        ),
        ("t.me", "/s/second_chan") => (
            "200 OK",
            channel_page_of("second_chan", &[(7, BENIGN.to_string())]),
        ),
        _ => (
            "404 Not Found",
            "<html><body>not found</body></html>".into(),
        ),
    }
}

/// `--discover-channels`: channel links on a crawled page add the channels' previews (posts
/// become captures and cases), at most `--max-discovered-channels` of them, never invites,
/// bots, stickers or share links; without the flag no `t.me` request is made at all.
#[test]
fn linked_channels_are_discovered_only_when_asked() {
    let dir = Dir::new("discover");
    let crawl = |web: &MultiHost, name: &str, extra: &[&str]| -> Value {
        let data = dir.path().join(name);
        let out = run(baqylau()
            .args(["crawl", "--no-screenshots", "--json", "--host-delay", "0ms"])
            .args(["--seed", "http://discover-news.kz/"])
            .args([
                "--resolve",
                &format!("discover-news.kz=127.0.0.1:{}", web.port),
            ])
            .args(["--resolve", &format!("t.me=127.0.0.1:{}", web.port)])
            .args(extra)
            .arg("--data")
            .arg(&data));
        assert!(out.status.success(), "crawl {name}: {}", stderr(&out));
        let out = run(baqylau().args(["stats", "--json", "--data"]).arg(&data));
        assert!(out.status.success(), "stats: {}", stderr(&out));
        serde_json::from_str(stdout(&out).trim()).unwrap()
    };
    let tme = |web: &MultiHost| -> Vec<String> {
        web.requests()
            .into_iter()
            .filter_map(|r| r.strip_prefix("t.me ").map(str::to_string))
            .filter(|p| p != "/robots.txt")
            .collect()
    };

    // Off by default.
    let web = MultiHost::start(discovery_web);
    let stats = crawl(&web, "off", &[]);
    assert!(
        web.requests().iter().any(|r| r == "discover-news.kz /"),
        "{:?}",
        web.requests()
    );
    assert!(tme(&web).is_empty(), "t.me contacted: {:?}", tme(&web));
    assert_eq!(stats["telegram"]["posts"], 0, "{stats}");

    // On, with room for one channel: the first linked channel only.
    let web = MultiHost::start(discovery_web);
    let stats = crawl(
        &web,
        "one",
        &["--discover-channels", "--max-discovered-channels", "1"],
    );
    assert_eq!(tme(&web), ["/s/watchchan"], "{:?}", web.requests());
    assert_eq!(stats["telegram"]["posts"], 2, "{stats}");

    // On, default budget: both channels, and the violating post is a case.
    let web = MultiHost::start(discovery_web);
    let data = dir.path().join("all");
    let out = run(baqylau()
        .args(["crawl", "--no-screenshots", "--json", "--host-delay", "0ms"])
        .args(["--seed", "http://discover-news.kz/", "--discover-channels"])
        .args([
            "--resolve",
            &format!("discover-news.kz=127.0.0.1:{}", web.port),
        ])
        .args(["--resolve", &format!("t.me=127.0.0.1:{}", web.port)])
        .arg("--data")
        .arg(&data));
    assert!(out.status.success(), "crawl: {}", stderr(&out));
    let mut paths = tme(&web);
    paths.sort();
    assert_eq!(
        paths,
        ["/s/second_chan", "/s/watchchan"],
        "{:?}",
        web.requests()
    );
    let summary: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON summary");
    assert!(summary["cases_opened"].as_u64().unwrap() >= 1, "{summary}");
    let auth = format!("Bearer {}", token(&data));
    let server = Server::start(&data);
    let r = get_as(server.addr, "/api/cases", &auth);
    assert_eq!(r.status, 200);
    let cases = r.json();
    assert!(
        cases
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["url"] == "http://t.me/watchchan/2"),
        "the discovered channel's violating post is a case: {cases}"
    );
}
