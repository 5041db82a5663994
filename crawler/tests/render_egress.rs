//! The browser behind the SSRF guard: a page on a mapped fixture host tries every way a page has
//! to reach an unmapped loopback port (image, iframe, `fetch`, WebSocket, a redirect, `localhost`,
//! the mapped name with the canary's port, WebRTC/STUN over UDP). The canary listeners must see
//! nothing, while the page itself and its mapped subresources still load.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use crawler::render::{RenderError, Renderer, RendererConfig, ShotRequest};

/// Counts connections (and keeps the first bytes of each) on a loopback port nobody mapped.
struct Canary {
    port: u16,
    hits: Arc<Mutex<Vec<String>>>,
}

fn tcp_canary() -> Canary {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&hits);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).unwrap_or(0);
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    });
    Canary { port, hits }
}

fn udp_canary() -> (u16, Arc<AtomicUsize>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let got = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&got);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while sock.recv_from(&mut buf).is_ok() {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, got)
}

/// 1×1 transparent PNG.
const DOT: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

#[derive(Clone)]
struct Fixture {
    canary: u16,
    stun: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

async fn handler(State(f): State<Fixture>, uri: Uri) -> Response {
    f.seen.lock().unwrap().push(uri.path().to_string());
    let c = f.canary;
    match uri.path() {
        "/page" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!(
                r#"<!doctype html><html><head><title>egress</title></head><body>
<h1>Страница за охраной</h1>
<img id=ok src="http://guard-fixture.kz/dot.png">
<img src="http://127.0.0.1:{c}/img.png">
<img src="http://localhost:{c}/localhost.png">
<img src="http://[::ffff:127.0.0.1]:{c}/mapped-v4.png">
<img src="http://guard-fixture.kz:{c}/other-port.png">
<img src="http://guard-fixture.kz/redirect">
<iframe src="http://127.0.0.1:{c}/frame"></iframe>
<link rel=stylesheet href="https://127.0.0.1:{c}/tls.css">
<pre id=log></pre>
<script>
const log = (k, v) => {{ document.getElementById('log').textContent += k + ':' + v + '\n'; }};
const tries = [
  fetch('http://127.0.0.1:{c}/xhr').then(() => log('xhr', 'loaded'), () => log('xhr', 'failed')),
  fetch('http://guard-fixture.kz/mapped-xhr').then(r => r.text()).then(t => log('mapped-xhr', t), () => log('mapped-xhr', 'failed')),
  new Promise(done => {{
    const ws = new WebSocket('ws://127.0.0.1:{c}/ws');
    ws.onopen = () => {{ log('ws', 'open'); done(); }};
    ws.onerror = () => {{ log('ws', 'failed'); done(); }};
  }}),
  new Promise(done => {{
    try {{
      const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{stun}'}}]}});
      pc.createDataChannel('x');
      pc.onicegatheringstatechange = () => {{ if (pc.iceGatheringState === 'complete') done(); }};
      pc.createOffer().then(o => pc.setLocalDescription(o));
      setTimeout(done, 1000);
    }} catch (e) {{ done(); }}
  }}),
];
Promise.allSettled(tries).then(() => {{ document.title = 'done'; log('all', 'settled'); }});
</script></body></html>"#,
                stun = f.stun
            ),
        )
            .into_response(),
        "/dot.png" => ([(header::CONTENT_TYPE, "image/png")], DOT).into_response(),
        "/mapped-xhr" => "mapped-ok".into_response(),
        "/redirect" => Redirect::temporary(&format!("http://127.0.0.1:{c}/redirected")).into_response(),
        _ => (axum::http::StatusCode::NOT_FOUND, "").into_response(),
    }
}

async fn serve(f: Fixture) -> SocketAddr {
    let app = Router::new().fallback(get(handler)).with_state(f);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_requests_go_through_the_ssrf_guard() {
    let canary = tcp_canary();
    let (stun, stun_hits) = udp_canary();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let addr = serve(Fixture {
        canary: canary.port,
        stun,
        seen: Arc::clone(&seen),
    })
    .await;
    let renderer = Renderer::start(RendererConfig {
        tabs: 1,
        nav_timeout: Duration::from_secs(10),
        // Quiet longer than the page's slowest attempt (WebRTC gathering, 1 s).
        settle: Duration::from_millis(1_500),
        max_settle: Duration::from_secs(8),
        host_map: vec![("guard-fixture.kz".into(), addr)],
        ..RendererConfig::default()
    })
    .expect("chromium starts");

    let page = renderer
        .render("http://guard-fixture.kz/page")
        .await
        .expect("the mapped page renders");
    assert_eq!(page.title, "done", "every attempt settled: {}", page.html);
    for line in [
        "xhr:failed",
        "ws:failed",
        "mapped-xhr:mapped-ok",
        "all:settled",
    ] {
        assert!(page.html.contains(line), "{line} in {}", page.html);
    }
    let shot = renderer
        .screenshot(ShotRequest {
            url: "http://guard-fixture.kz/page".into(),
            footer: "egress".into(),
            ..ShotRequest::default()
        })
        .await
        .expect("the mapped page is shot");
    assert!(shot.png.len() > 100);

    // A page that *is* an unmapped loopback address fails to load, by its literal and by a name.
    for url in [
        format!("http://127.0.0.1:{}/direct", canary.port),
        format!("http://localhost:{}/direct", canary.port),
    ] {
        let err = renderer.render(&url).await.unwrap_err();
        assert!(
            matches!(err, RenderError::Unreachable { .. }),
            "{url}: {err}"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let hits = canary.hits.lock().unwrap().clone();
    assert!(hits.is_empty(), "the canary was reached: {hits:?}");
    assert_eq!(
        stun_hits.load(Ordering::SeqCst),
        0,
        "STUN datagrams reached the canary"
    );
    let seen = seen.lock().unwrap().clone();
    for path in ["/page", "/dot.png", "/mapped-xhr", "/redirect"] {
        assert!(
            seen.iter().any(|p| p == path),
            "{path} not requested: {seen:?}"
        );
    }
    // The mapped name with the canary's port went to the mapped address, not the canary.
    assert!(seen.iter().any(|p| p == "/other-port.png"), "{seen:?}");
    // img, localhost img, v4-mapped img, redirect target, iframe, css, xhr, ws, two navigations.
    assert!(
        renderer.egress_refused() >= 9,
        "refused {} (allowed {})",
        renderer.egress_refused(),
        renderer.egress_allowed()
    );
}
