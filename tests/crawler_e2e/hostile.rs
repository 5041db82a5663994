//! A crawl of the hostile web (see `fixture_web`): it must finish on its own, stay under 300 MB
//! of peak RSS, and the fixture's own request log must show every rule kept.

use std::time::{Duration, Instant};

use super::crawl_command;
use super::fixture_web::{FixtureWeb, Hit, peak_rss_kib};
use crate::util::{Dir, baqylau, run, stdout};

/// Page requests (robots.txt excluded) of a host.
fn pages(fx: &FixtureWeb, host: &str) -> Vec<Hit> {
    fx.hits_of(host)
        .into_iter()
        .filter(|h| h.target != "/robots.txt")
        .collect()
}

fn min_gap(hits: &[Hit]) -> Duration {
    hits.windows(2)
        .map(|w| w[1].at - w[0].at)
        .min()
        .unwrap_or(Duration::MAX)
}

#[test]
fn hostile_web_crawl_ends_on_its_own_within_limits() {
    let fx = FixtureWeb::start();
    let dir = Dir::new("hostile");
    let data = dir.path().join("data");
    let mut seeds = FixtureWeb::hostile_seeds();
    seeds.extend([
        "http://storm.kz/a",
        "http://storm.kz/b",
        "http://storm.kz/c",
    ]);
    seeds.extend([
        "http://storm.kz/d",
        "http://storm.kz/e",
        "http://storm.kz/f",
    ]);
    let mut child = crawl_command(
        &fx,
        &data,
        &seeds,
        &[
            "--host-delay",
            "10ms",
            "--request-timeout",
            "3s",
            "--connect-timeout",
            "2s",
            "--retry-base",
            "300ms",
            "--max-retries",
            "2",
            "--host-error-budget",
            "4",
            "--max-depth",
            "20",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("spawn baqylau crawl");
    let pid = child.id();
    let started = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("the crawl did not finish on its own within 300 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "crawl failed: {status}");
    println!(
        "hostile crawl: {:.1} s, peak RSS {} MiB",
        started.elapsed().as_secs_f64(),
        peak_kib / 1024
    );
    assert!(
        peak_kib > 0 && peak_kib < 300 * 1024,
        "peak RSS {peak_kib} KiB"
    );

    // SSRF guard: the redirect to the unmapped loopback port and the direct link never connect.
    assert_eq!(fx.canary_connections(), 0, "the canary port was reached");

    let hostile = fx.served_counts("hostile.kz");
    let count = |prefix: &str| {
        hostile
            .iter()
            .filter(|(t, _)| t.starts_with(prefix))
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    // robots.txt: Disallow /private kept.
    assert_eq!(count("/private"), 0, "{hostile:?}");
    // Each URL once: no page of the hostile host was fetched twice.
    let twice: Vec<_> = hostile
        .iter()
        .filter(|(t, n)| **n > 1 && t.as_str() != "/robots.txt")
        .collect();
    assert!(twice.is_empty(), "refetched: {twice:?}");
    // Traps: the calendar stops within a year ahead, the relative-link loop at the third level.
    assert!((1..=15).contains(&count("/calendar")), "{hostile:?}");
    assert_eq!(count("/a/a/a/"), 0);
    // Gzip bomb, redirect loop, canary redirect, malformed and binary pages: asked once each.
    for t in [
        "/bomb",
        "/loop1",
        "/loop2",
        "/to-canary",
        "/malformed",
        "/binary",
    ] {
        assert_eq!(hostile.get(t), Some(&1), "{t}: {hostile:?}");
    }
    // Links of malformed HTML are still found.
    assert_eq!(count("/ok"), 3, "{hostile:?}");
    // 100,000 links: capped at 500 per page.
    let l = count("/l/");
    assert!(l > 0 && l <= 500, "{l} link pages fetched");

    // robots.txt 503: nothing but robots.txt was asked, and only a few times.
    let r503 = fx.hits_of("robots503.kz");
    assert!(r503.iter().all(|h| h.target == "/robots.txt"), "{r503:?}");
    assert!(
        (1..=4).contains(&r503.len()),
        "{} robots.txt fetches",
        r503.len()
    );
    // robots.txt 404: allow all.
    assert!(fx.served_counts("robots404.kz").contains_key("/open"));
    // robots.txt behind 5 redirects is obeyed.
    let redir = fx.served_counts("robotsredir.kz");
    assert!(redir.contains_key("/robots-final.txt"), "{redir:?}");
    assert!(!redir.contains_key("/secret"), "{redir:?}");
    assert!(redir.contains_key("/open"), "{redir:?}");
    // Sitemap index -> gzip sitemap, and the RSS feed of the head: their pages are found.
    let sm = fx.served_counts("sitemap.kz");
    for t in [
        "/sitemap_index.xml",
        "/sm1.xml.gz",
        "/from-sitemap/1",
        "/from-sitemap/2",
    ] {
        assert_eq!(sm.get(t), Some(&1), "{t}: {sm:?}");
    }
    assert_eq!(sm.get("/feed.xml"), Some(&1), "{sm:?}");
    assert_eq!(sm.get("/post/1"), Some(&1), "{sm:?}");
    // Crawl-delay: 1 s between page requests.
    let delayed = pages(&fx, "delay.kz");
    assert_eq!(delayed.len(), 5);
    assert!(
        min_gap(&delayed) >= Duration::from_millis(950),
        "{:?}",
        min_gap(&delayed)
    );
    // 429 with Retry-After: 1: requests at least 1 s apart, and the host parked after 4.
    let storm = pages(&fx, "storm.kz");
    assert_eq!(storm.len(), 4, "{storm:?}");
    assert!(
        min_gap(&storm) >= Duration::from_millis(950),
        "{:?}",
        min_gap(&storm)
    );
    // Slow drip and a hanging server: cut by the deadline, retried at most twice.
    for host in ["slow.kz", "hang.kz"] {
        let n = fx.hits_of(host).len();
        assert!((2..=4).contains(&n), "{host}: {n} connections");
    }

    super::export_warcs(&data, "hostile");
    let stats = run(baqylau().args(["stats", "--json", "--data"]).arg(&data));
    let stats: serde_json::Value = serde_json::from_str(stdout(&stats).trim()).unwrap();
    let kinds = &stats["crawl"]["failures_by_kind"];
    for kind in ["too_large", "timeout", "redirect", "blocked"] {
        assert!(kinds[kind].as_u64().unwrap_or(0) >= 1, "{kind}: {stats}");
    }
    assert_eq!(stats["crawl"]["parked_hosts"], 1, "{stats}");
    assert!(
        stats["crawl"]["queued"].as_u64().unwrap() >= 2,
        "storm urls stay queued: {stats}"
    );
}
