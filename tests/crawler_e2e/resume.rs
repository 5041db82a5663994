//! Durable frontier: a crawl killed with SIGKILL mid-way and started again with the same command
//! fetches every page of the site exactly once over both runs, and loses none.
//!
//! "Fetched" is what the fixture server *answered*: at the kill, the server is holding the
//! requests in flight unanswered (its gate), so a page either was delivered before the kill —
//! and must not be asked for again — or was not, and must be fetched by the second run.

use std::time::{Duration, Instant};

use super::crawl_command;
use super::fixture_web::{FixtureWeb, SITE_PAGES};
use crate::util::{Dir, run, stderr, stdout};

#[test]
fn crawl_killed_with_sigkill_resumes_without_loss_or_refetch() {
    let fx = FixtureWeb::start();
    let dir = Dir::new("resume");
    let data = dir.path().join("data");
    let args = ["--host-delay", "0ms", "--max-depth", "3"];
    fx.close_gate_after(80);
    let mut child = crawl_command(&fx, &data, &["http://site.kz/"], &args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn baqylau crawl");

    // Wait until the server answered 80 pages and holds the next requests, and nothing moved
    // for a while (the crawler has recorded what it received).
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stable_since: Option<(usize, Instant)> = None;
    loop {
        assert!(Instant::now() < deadline, "crawl never reached the gate");
        assert!(
            child.try_wait().unwrap().is_none(),
            "crawl ended before the kill"
        );
        let hits = fx.hits_of("site.kz");
        let held = hits.iter().filter(|h| !h.served).count();
        let n = hits.len();
        match stable_since {
            Some((m, t)) if m == n && held > 0 && t.elapsed() > Duration::from_millis(1500) => {
                break;
            }
            Some((m, _)) if m == n => {}
            _ => stable_since = Some((n, Instant::now())),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL"); // std's Child::kill sends SIGKILL on Unix
    child.wait().unwrap();
    let held: Vec<String> = fx
        .hits_of("site.kz")
        .into_iter()
        .filter(|h| !h.served)
        .map(|h| h.target)
        .collect();
    assert!(!held.is_empty());

    fx.open_gate();
    let out = run(&mut crawl_command(&fx, &data, &["http://site.kz/"], &args));
    assert!(
        out.status.success(),
        "second run failed: {}\n{}",
        stdout(&out),
        stderr(&out)
    );

    let mut served = fx.served_counts("site.kz");
    served.remove("/robots.txt");
    let twice: Vec<_> = served.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
    assert_eq!(
        served.len(),
        SITE_PAGES,
        "pages lost: {} of {SITE_PAGES} fetched",
        served.len()
    );
    for t in &held {
        assert_eq!(
            served.get(t),
            Some(&1),
            "{t} held at the kill, then fetched once"
        );
    }
    super::export_warcs(&data, "resume");
    let stats = run(crate::util::baqylau()
        .args(["stats", "--json", "--data"])
        .arg(&data));
    let stats: serde_json::Value = serde_json::from_str(stdout(&stats).trim()).unwrap();
    assert_eq!(
        stats["crawl"]["pages_fetched"], SITE_PAGES as u64,
        "{stats}"
    );
    assert_eq!(stats["crawl"]["queued"], 0, "{stats}");
}
