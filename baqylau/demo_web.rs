//! The bundled fixture web, served on a loopback port.
//!
//! One listener serves every demo host: the `Host` header picks the directory
//! `fixtures/demo-web/<host>/`, so the crawler (with `--resolve host=127.0.0.1:PORT`) and Chromium
//! (with `--host-resolver-rules`) see real-looking host names while all traffic stays on loopback.
//! Files are served as the bytes on disk with a bare `text/html` content type, so a page's own
//! `<meta charset>` decides its encoding (two fixture pages are windows-1251).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use include_dir::Dir;
use tokio::task::JoinHandle;

use crate::embedded::DEMO_WEB;

/// A running fixture web.
pub struct DemoWeb {
    /// Loopback address every host is served on.
    pub addr: SocketAddr,
    /// Requests served so far.
    pub requests: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for DemoWeb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DemoWeb {
    /// Starts serving on `127.0.0.1:port` (0 = a free port).
    pub async fn start(port: u16) -> anyhow::Result<DemoWeb> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicU64::new(0));
        let app = Router::new()
            .fallback(serve_file)
            .with_state(Arc::clone(&requests));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "demo web stopped");
            }
        });
        Ok(DemoWeb {
            addr,
            requests,
            task,
        })
    }

    /// Host names of the fixture web.
    pub fn hosts() -> Vec<String> {
        let mut v: Vec<String> = DEMO_WEB
            .dirs()
            .map(|d| d.path().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Seed URLs: every host's root, and every Telegram channel preview `/s/<channel>`.
    pub fn seeds() -> Vec<String> {
        let mut seeds: Vec<String> = Self::hosts()
            .iter()
            .map(|h| format!("http://{h}/"))
            .collect();
        if let Some(s) = DEMO_WEB.get_dir("t.me/s") {
            for d in s.dirs() {
                if let Some(name) = d.path().file_name() {
                    seeds.push(format!("http://t.me/s/{}", name.to_string_lossy()));
                }
            }
        }
        seeds
    }

    /// `HOST=127.0.0.1:PORT` mappings for every fixture host.
    pub fn host_map(&self) -> Vec<(String, SocketAddr)> {
        Self::hosts().into_iter().map(|h| (h, self.addr)).collect()
    }
}

async fn serve_file(State(requests): State<Arc<AtomicU64>>, req: Request<Body>) -> Response<Body> {
    requests.fetch_add(1, Ordering::Relaxed);
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .unwrap_or("")
        .to_ascii_lowercase();
    let uri = req.uri();
    match lookup(&DEMO_WEB, &host, uri.path(), uri.query()) {
        Some((path, bytes)) => {
            let mut resp = Response::new(Body::from(bytes));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            );
            resp
        }
        None => {
            let mut resp = Response::new(Body::from("not found"));
            *resp.status_mut() = StatusCode::NOT_FOUND;
            resp
        }
    }
}

/// Maps a request to a fixture file: `/` and directory paths serve `index.html`; a Telegram
/// history request `/s/<channel>?before=N` serves `s/<channel>/before.html` (end of history).
fn lookup(
    root: &Dir<'static>,
    host: &str,
    path: &str,
    query: Option<&str>,
) -> Option<(String, &'static [u8])> {
    if host.is_empty() || host.contains("..") || path.contains("..") {
        return None;
    }
    let rel = path.trim_start_matches('/').trim_end_matches('/');
    let base = if rel.is_empty() {
        host.to_string()
    } else {
        format!("{host}/{rel}")
    };
    let history = query.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("before=")));
    let candidates = if history {
        vec![format!("{base}/before.html")]
    } else {
        vec![base.clone(), format!("{base}/index.html")]
    };
    candidates
        .into_iter()
        .find_map(|c| root.get_file(&c).map(|f| (c, f.contents())))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html",
        Some("xml") => "application/xml",
        Some("txt") => "text/plain; charset=utf-8",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_serves_index_files_and_channel_history() {
        let (p, _) = lookup(&DEMO_WEB, "kaznews.kz", "/", None).unwrap();
        assert_eq!(p, "kaznews.kz/index.html");
        let (p, _) = lookup(&DEMO_WEB, "t.me", "/s/dengi_kz_today", None).unwrap();
        assert_eq!(p, "t.me/s/dengi_kz_today/index.html");
        let (p, _) = lookup(&DEMO_WEB, "t.me", "/s/dengi_kz_today", Some("before=101")).unwrap();
        assert_eq!(p, "t.me/s/dengi_kz_today/before.html");
        let (p, _) = lookup(&DEMO_WEB, "t.me", "/dengi_kz_today/102", None).unwrap();
        assert_eq!(p, "t.me/dengi_kz_today/102/index.html");
        assert!(lookup(&DEMO_WEB, "kaznews.kz", "/../t.me/robots.txt", None).is_none());
        assert!(lookup(&DEMO_WEB, "nowhere.kz", "/", None).is_none());
    }

    #[test]
    fn fixture_web_is_big_enough() {
        let hosts = DemoWeb::hosts();
        assert!(hosts.len() >= 5, "{hosts:?}");
        assert!(
            DemoWeb::seeds()
                .iter()
                .any(|s| s.starts_with("http://t.me/s/"))
        );
        assert_eq!(content_type("a/b.html"), "text/html");
    }
}
