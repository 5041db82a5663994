//! Screenshot throughput for `bench/screenshots.sh`: the same distinct ~20 KB pages shot through
//! the renderer's tab pool and by one `chromium --headless --screenshot` process per page, in
//! the same run, with the peak memory (PSS, i.e. RSS with shared pages split) of each browser process tree.
//!
//! ```text
//! [BENCH_TABS=N] cargo run --release -p crawler --example shot_bench -- [PAGES] [BASELINE_PAGES]
//! ```
//! Serves the pages itself on 127.0.0.1; prints one JSON object.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crawler::render::{Renderer, RendererConfig, ShotRequest};
use model::Viewport;

const CHROMIUM: &str = "/usr/bin/chromium";

/// A distinct page of about 20 KB of Russian text.
fn page(n: usize) -> String {
    let para = "Сдай карту в аренду и получай доход каждую неделю, без вложений и риска. ";
    let mut body = format!("<h1>Страница {n}</h1>");
    while body.len() < 20_000 {
        body.push_str(&format!("<p>{n}: {para}{para}</p>"));
    }
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>p{n}</title></head><body>{body}</body></html>"
    )
}

fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut line = String::new();
                let mut reader = BufReader::new(match stream.try_clone() {
                    Ok(s) => s,
                    Err(_) => return,
                });
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let n: usize = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.trim_start_matches("/p/").parse().ok())
                    .unwrap_or(0);
                let body = page(n);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

/// Summed proportional set size (KiB) of the processes whose command line contains `marker`:
/// the RSS of a process tree with shared pages counted once (plain RSS sums count the browser's
/// shared code in every renderer).
fn rss_kib(marker: &str) -> u64 {
    let mut total = 0;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for e in dir.flatten() {
        let p = e.path();
        let Ok(cmd) = std::fs::read(p.join("cmdline")) else {
            continue;
        };
        if !String::from_utf8_lossy(&cmd).contains(marker) {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(p.join("smaps_rollup")) {
            total += status
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// Samples [`rss_kib`] every 100 ms until stopped; returns the peak.
fn sample_peak(marker: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(rss_kib(&marker));
            std::thread::sleep(Duration::from_millis(100));
        }
        peak
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let pages: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let baseline_pages: usize = args.next().map_or(Ok(pages), |a| a.parse())?;
    let port = serve();
    // The pool's browser reaches loopback only through a `--resolve`-style mapping (its SSRF
    // guard); the per-process baseline opens the address directly.
    let url = |n: usize| format!("http://bench-fixture.kz/p/{n}");
    let direct_url = |n: usize| format!("http://127.0.0.1:{port}/p/{n}");
    let work = std::env::temp_dir().join(format!("baqylau-shot-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    // Tab pool.
    let profile = work.join("pool-profile");
    let cfg = RendererConfig {
        chrome_path: CHROMIUM.into(),
        profile_dir: Some(profile.clone()),
        host_map: vec![("bench-fixture.kz".into(), ([127, 0, 0, 1], port).into())],
        // `BENCH_TABS` tries other pool sizes; the default is the renderer's.
        tabs: std::env::var("BENCH_TABS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(RendererConfig::default().tabs),
        ..RendererConfig::default()
    };
    let tabs = cfg.tabs;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let peak = sample_peak(profile.display().to_string(), Arc::clone(&stop));
    let renderer = Arc::new(Renderer::start(cfg)?);
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for n in 0..pages {
            while set.len() >= tabs * 2 {
                set.join_next().await;
            }
            let (r, failed, u) = (Arc::clone(&renderer), Arc::clone(&failed), url(n));
            set.spawn(async move {
                let shot = r
                    .screenshot(ShotRequest {
                        url: u.clone(),
                        highlight: vec!["аренду".into()],
                        footer: format!("{u} · bench"),
                        viewport: Viewport::Desktop,
                    })
                    .await;
                if shot.map(|s| s.png.is_empty()).unwrap_or(true) {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while set.join_next().await.is_some() {}
    });
    let pool_secs = started.elapsed().as_secs_f64();
    drop(renderer);
    stop.store(true, Ordering::Relaxed);
    let pool_peak = peak.join().unwrap_or(0);

    // One process per page.
    let stop = Arc::new(AtomicBool::new(false));
    let marker = work.join("proc-profile").display().to_string();
    let peak = sample_peak(marker.clone(), Arc::clone(&stop));
    let mut proc_failed = 0u64;
    let started = Instant::now();
    for n in 0..baseline_pages {
        let png = work.join(format!("p{n}.png"));
        let ok = std::process::Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1366,900",
            ])
            .arg(format!("--user-data-dir={marker}"))
            .arg(format!("--screenshot={}", png.display()))
            .arg(direct_url(n))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok || !Path::new(&png).exists() {
            proc_failed += 1;
        }
    }
    let proc_secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let proc_peak = peak.join().unwrap_or(0);
    let _ = std::fs::remove_dir_all(&work);

    let pool_rate = pages as f64 / pool_secs;
    let proc_rate = baseline_pages as f64 / proc_secs;
    println!(
        "{}",
        serde_json::json!({
            "pages": pages,
            "tabs": tabs,
            "pool_seconds": (pool_secs * 100.0).round() / 100.0,
            "pool_shots_per_s": (pool_rate * 100.0).round() / 100.0,
            "pool_failed": failed.load(Ordering::Relaxed),
            "pool_peak_pss_mib": pool_peak / 1024,
            "baseline_pages": baseline_pages,
            "process_seconds": (proc_secs * 100.0).round() / 100.0,
            "process_shots_per_s": (proc_rate * 100.0).round() / 100.0,
            "process_failed": proc_failed,
            "process_peak_pss_mib": proc_peak / 1024,
            "speedup": (pool_rate / proc_rate * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
