//! The Chromium tab pool against pages served on 127.0.0.1: desktop and mobile full-page shots
//! with highlights and a capped height, the rendered DOM of a script-built page, a wedged page,
//! a killed browser, and no Chromium process left once the renderer is dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use crawler::render::{RenderError, Renderer, RendererConfig, ShotRequest, reaper};
use model::Viewport;

fn page(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body)
}

async fn serve() -> SocketAddr {
    let tall = || {
        let mut body = String::from(
            "<!doctype html><html><head><meta name=viewport content='width=device-width'>\
             <title>Высокая</title></head><body style='margin:0'>\
             <p>Сдай карту в аренду — 50 000 ₸ в неделю.</p>",
        );
        for i in 0..300 {
            body.push_str(&format!(
                "<p style='height:40px;margin:0'>Строка {i}: ничего особенного</p>"
            ));
        }
        body.push_str("<p>Ещё раз: сдай   карту в аренду!</p></body></html>");
        page(body)
    };
    let spa = || {
        page(
            "<!doctype html><html><head><title>loading</title></head><body><div id=app></div>\
             <script>setTimeout(function(){document.title='Казино';\
             document.getElementById('app').innerHTML='<h1>Онлайн казино</h1><p>Бонус 500% на первый депозит</p>\
             <a href=\"/bonus\">бонус</a>';},150);</script></body></html>"
                .to_string(),
        )
    };
    let wedge = || {
        page(
            "<!doctype html><html><body><p>before</p><script>for(;;){}</script></body></html>"
                .into(),
        )
    };
    let small =
        || page("<!doctype html><html><body><p>Маленькая страница</p></body></html>".into());
    let app = Router::new()
        .route("/tall", get(move || async move { tall() }))
        .route("/spa", get(move || async move { spa() }))
        .route("/wedge", get(move || async move { wedge() }))
        .route("/small", get(move || async move { small() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn config(addr: SocketAddr, tabs: usize) -> RendererConfig {
    RendererConfig {
        tabs,
        max_height: 3_000,
        nav_timeout: Duration::from_secs(4),
        host_map: vec![("render-fixture.kz".into(), addr)],
        ..RendererConfig::default()
    }
}

/// Processes of the profile plus their descendants (by parent pid), from `/proc`.
fn browser_tree(profile: &Path) -> Vec<u32> {
    let roots = reaper::profile_processes(profile);
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let rest = &stat[stat.rfind(')')? + 1..];
            let mut f = rest.split_whitespace();
            let state = f.next()?;
            let ppid = f.next()?.parse().ok()?;
            (state != "Z").then_some((pid, ppid))
        })
        .collect();
    let mut tree = roots.clone();
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        for (pid, ppid) in &parents {
            if *ppid == p && !tree.contains(pid) {
                tree.push(*pid);
            }
        }
        i += 1;
    }
    tree.sort_unstable();
    tree
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists() && !reaper::is_zombie(pid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tab_pool_shoots_renders_recovers_and_leaves_no_process() {
    let addr = serve().await;
    let renderer = Renderer::start(config(addr, 2)).expect("chromium starts");
    let profile = renderer.profile_dir().to_path_buf();
    let url = |p: &str| format!("http://render-fixture.kz/{p}");

    // Desktop and mobile of the same tall page, concurrently on two tabs.
    let req = |viewport| ShotRequest {
        url: url("tall"),
        highlight: vec!["сдай карту в аренду".into()],
        footer: "http://render-fixture.kz/tall · 2026-11-26 01:00:00 UTC".into(),
        viewport,
    };
    let (desktop, mobile) = tokio::join!(
        renderer.screenshot(req(Viewport::Desktop)),
        renderer.screenshot(req(Viewport::Mobile))
    );
    let (desktop, mobile) = (desktop.unwrap(), mobile.unwrap());
    assert_eq!(
        (desktop.width, desktop.height),
        (1280, 3_000),
        "capped full page"
    );
    assert_eq!(desktop.highlighted, 2, "both occurrences marked");
    assert_eq!(desktop.viewport, Viewport::Desktop);
    assert_eq!(mobile.width, 780, "390 CSS px at scale 2");
    assert_eq!(mobile.height, 6_000, "capped at 3000 CSS px = 6000 px");
    assert_eq!(mobile.viewport, Viewport::Mobile);
    assert_eq!(
        crawler::render::png_size(&mobile.png),
        Some((780, 6_000)),
        "a real PNG"
    );

    // A short page fills the viewport (what a visitor sees), no more.
    let small = renderer
        .screenshot(ShotRequest {
            url: url("small"),
            footer: "footer".into(),
            ..ShotRequest::default()
        })
        .await
        .unwrap();
    assert_eq!((small.width, small.height), (1280, 900));

    // The DOM after scripts ran.
    let spa = renderer.render(&url("spa")).await.unwrap();
    assert!(
        spa.html.contains("Бонус 500% на первый депозит"),
        "{}",
        spa.html
    );
    assert_eq!(spa.title, "Казино");
    assert_eq!(spa.final_url, url("spa"));

    // A page stuck in an endless script fails within its bound; the pool keeps working.
    let tree = browser_tree(&profile);
    assert!(tree.len() >= 2, "browser and helpers: {tree:?}");
    let started = Instant::now();
    let err = renderer.render(&url("wedge")).await.unwrap_err();
    assert!(
        matches!(
            err,
            RenderError::Timeout { .. } | RenderError::Browser { .. }
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let after_wedge = renderer.render(&url("small")).await.unwrap();
    assert!(after_wedge.html.contains("Маленькая страница"));
    // headless_chrome drops its DevTools connection when a timed-out call is answered late, so
    // a wedged page costs a browser restart.
    assert_eq!(renderer.launches(), 2);

    // The browser is killed from outside: the next job relaunches it and succeeds.
    let pid = renderer.browser_pid().expect("browser running");
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let shot = renderer
        .screenshot(ShotRequest {
            url: url("small"),
            ..ShotRequest::default()
        })
        .await
        .expect("respawned browser takes the shot");
    assert_eq!(shot.width, 1280);
    assert_eq!(renderer.launches(), 3);
    assert_ne!(renderer.browser_pid(), Some(pid));

    // Unreachable pages are the page's fault, reported as such.
    let err = renderer
        .render("http://127.0.0.1:9/nothing-listens-here")
        .await
        .unwrap_err();
    assert!(matches!(err, RenderError::Unreachable { .. }), "{err}");

    // Dropping the renderer leaves no Chromium process and no profile directory behind.
    let tree = browser_tree(&profile);
    assert!(!tree.is_empty());
    drop(renderer);
    let left: Vec<u32> = tree.iter().copied().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "chromium processes left: {left:?}");
    assert!(reaper::profile_processes(&profile).is_empty());
    assert!(!profile.exists(), "profile directory removed");
}

#[test]
fn missing_chromium_fails_at_start() {
    let err = Renderer::start(RendererConfig {
        chrome_path: "/nonexistent/chromium".into(),
        ..RendererConfig::default()
    })
    .unwrap_err();
    assert!(matches!(err, RenderError::Launch { .. }), "{err}");
}
