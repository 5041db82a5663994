//! Headless Chromium: evidence screenshots and the rendered DOM of JavaScript pages.
//!
//! An official must see *why* a page was flagged, as it was published: a screenshot is a full
//! page PNG (capped at a configurable height) with the matched fragments highlighted and a footer
//! stamping the URL and capture time, taken in a desktop and a mobile viewport. Pages that build
//! their content with scripts (SPA shells) are opened the same way and their rendered DOM is what
//! the crawler extracts.
//!
//! `headless_chrome` is blocking (it waits on a websocket in the calling thread), so the browser is
//! driven from dedicated OS threads and jobs reach them over a channel — tokio workers never block
//! on it (DESIGN §8). One long-lived browser process serves a pool of reused tabs, one thread per
//! tab (module `pool`): starting Chromium per page costs about a second, reusing a tab tens of
//! milliseconds. Every navigation is bounded by a timeout; a tab that wedges is closed and
//! replaced, a browser that crashed or stopped answering is killed and relaunched. Dropping the
//! [`Renderer`] kills the browser and every process of its private profile ([`reaper`]), so no
//! Chromium outlives the run.
//!
//! A hostile page must not turn the browser into a way into the operator's network: every
//! connection the browser makes — subresources, `fetch()`, iframes, redirects, WebSockets — goes
//! through a loopback proxy that applies the crawler's SSRF guard and `--resolve` mappings
//! (module `egress`).

mod egress;
mod pool;
pub mod reaper;
mod tab;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use model::Viewport;
use tokio::sync::oneshot;

pub use tab::png_size;

/// Renderer failure.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Chromium could not be started (missing binary, bad flags).
    #[error("cannot start chromium at {path}: {message}")]
    Launch {
        /// Browser binary.
        path: PathBuf,
        /// Launcher error.
        message: String,
    },
    /// The page did not finish loading in time.
    #[error("navigation to {url} timed out after {timeout:?}")]
    Timeout {
        /// Page URL.
        url: String,
        /// Bound that was exceeded.
        timeout: Duration,
    },
    /// The page could not be loaded (DNS, refused connection, TLS): the page's fault, not the
    /// browser's.
    #[error("cannot load {url}: {message}")]
    Unreachable {
        /// Page URL.
        url: String,
        /// Chromium's network error (`net::ERR_…`).
        message: String,
    },
    /// A DevTools call failed (crashed tab, protocol error).
    #[error("browser error on {url}: {message}")]
    Browser {
        /// Page URL.
        url: String,
        /// Detail.
        message: String,
    },
    /// The renderer is shut down.
    #[error("renderer stopped")]
    Stopped,
}

/// Default mobile user agent (a current Android Chrome), so sites serve their phone layout.
pub const MOBILE_USER_AGENT: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
/// Default desktop user agent: headless Chromium's own one says `HeadlessChrome`, which some
/// sites answer with a different page than people get.
pub const DESKTOP_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// How the browser is started and how pages are shot.
#[derive(Debug, Clone)]
pub struct RendererConfig {
    /// Chromium binary; Debian's package installs `/usr/bin/chromium`.
    pub chrome_path: PathBuf,
    /// Tabs in the pool (= jobs running at once); each has its own thread.
    pub tabs: usize,
    /// Desktop viewport width in CSS pixels.
    pub width: u32,
    /// Desktop viewport height in CSS pixels.
    pub height: u32,
    /// Mobile viewport width in CSS pixels.
    pub mobile_width: u32,
    /// Mobile viewport height in CSS pixels.
    pub mobile_height: u32,
    /// Device scale factor of the mobile viewport (PNG pixels per CSS pixel).
    pub mobile_scale: f64,
    /// User agent sent in the desktop viewport.
    pub desktop_user_agent: String,
    /// User agent sent in the mobile viewport.
    pub mobile_user_agent: String,
    /// Tallest screenshot in CSS pixels; longer pages are cut here (a 100k-pixel PNG helps
    /// nobody).
    pub max_height: u32,
    /// Bound on one navigation, `load` included.
    pub nav_timeout: Duration,
    /// After `load`, how long the text must stay unchanged before the page counts as rendered
    /// (scripts that fill the page after `load`).
    pub settle: Duration,
    /// Longest wait for the page to settle after `load`.
    pub max_settle: Duration,
    /// Host mappings (as `--resolve`): the browser connects to these addresses but keeps the
    /// host name, so the screenshot shows the real URL. They are also the only way for the
    /// browser to reach a loopback or private address: every request it makes, subresources
    /// included, goes through the crawler's SSRF guard (module `egress`).
    pub host_map: Vec<(String, SocketAddr)>,
    /// Browser profile directory; `None` = a fresh directory under the system temp directory,
    /// removed when the renderer is dropped. Every process of the browser carries it on its
    /// command line, which is how leftovers are found ([`reaper`]).
    pub profile_dir: Option<PathBuf>,
}

impl Default for RendererConfig {
    fn default() -> Self {
        RendererConfig {
            chrome_path: PathBuf::from("/usr/bin/chromium"),
            tabs: 4,
            width: 1280,
            height: 900,
            mobile_width: 390,
            mobile_height: 844,
            mobile_scale: 2.0,
            desktop_user_agent: DESKTOP_USER_AGENT.to_string(),
            mobile_user_agent: MOBILE_USER_AGENT.to_string(),
            max_height: 12_000,
            nav_timeout: Duration::from_secs(20),
            settle: Duration::from_millis(150),
            max_settle: Duration::from_secs(2),
            host_map: Vec::new(),
            profile_dir: None,
        }
    }
}

/// One screenshot to take.
#[derive(Debug, Clone, Default)]
pub struct ShotRequest {
    /// Page to open.
    pub url: String,
    /// Text fragments to highlight before the shot (case-insensitive, whitespace-tolerant).
    pub highlight: Vec<String>,
    /// Line stamped in the footer (URL, capture time).
    pub footer: String,
    /// Device to emulate.
    pub viewport: Viewport,
}

/// A taken screenshot.
#[derive(Debug, Clone)]
pub struct Shot {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Number of highlighted fragments found on the page.
    pub highlighted: u32,
    /// Device emulated.
    pub viewport: Viewport,
}

/// A page after its scripts ran.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedPage {
    /// URL the browser ended on (after redirects and `location` changes).
    pub final_url: String,
    /// `document.title`.
    pub title: String,
    /// Serialized DOM (`document.documentElement.outerHTML`), for the same extraction as
    /// fetched HTML.
    pub html: String,
}

/// Work for a tab.
#[derive(Debug, Clone)]
enum Task {
    Shot(ShotRequest),
    Dom(String),
}

impl Task {
    fn url(&self) -> &str {
        match self {
            Task::Shot(r) => &r.url,
            Task::Dom(u) => u,
        }
    }
}

/// What a tab produced.
#[derive(Debug)]
enum Output {
    Shot(Shot),
    Dom(RenderedPage),
}

/// A job on the pool's channel.
struct Job {
    task: Task,
    reply: oneshot::Sender<Result<Output, RenderError>>,
}

/// Handle to the browser and its tab pool. Share it behind an `Arc`; dropping the last handle
/// shuts the pool down and kills the browser.
pub struct Renderer {
    pool: pool::Pool,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("profile", &self.pool.profile_dir())
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Launches Chromium and the tab threads; fails fast if the browser cannot start.
    pub fn start(cfg: RendererConfig) -> Result<Renderer, RenderError> {
        Ok(Renderer {
            pool: pool::Pool::start(cfg)?,
        })
    }

    /// Takes a screenshot; waits without blocking the async runtime.
    pub async fn screenshot(&self, req: ShotRequest) -> Result<Shot, RenderError> {
        match self.submit(Task::Shot(req)).await? {
            Output::Shot(s) => Ok(s),
            Output::Dom(_) => Err(RenderError::Stopped),
        }
    }

    /// Opens `url`, lets its scripts run, and returns the resulting DOM.
    pub async fn render(&self, url: &str) -> Result<RenderedPage, RenderError> {
        match self.submit(Task::Dom(url.to_string())).await? {
            Output::Dom(p) => Ok(p),
            Output::Shot(_) => Err(RenderError::Stopped),
        }
    }

    async fn submit(&self, task: Task) -> Result<Output, RenderError> {
        let (reply, rx) = oneshot::channel();
        self.pool.send(Job { task, reply })?;
        rx.await.map_err(|_| RenderError::Stopped)?
    }

    /// The profile directory every process of this browser carries (`--user-data-dir`).
    pub fn profile_dir(&self) -> &std::path::Path {
        self.pool.profile_dir()
    }

    /// Process id of the current browser process, if one is running.
    pub fn browser_pid(&self) -> Option<u32> {
        self.pool.browser_pid()
    }

    /// How many times a browser was launched (1 + respawns).
    pub fn launches(&self) -> u64 {
        self.pool.launches()
    }

    /// Browser connections the SSRF guard refused (loopback, private, metadata addresses not
    /// mapped), over all pages.
    pub fn egress_refused(&self) -> u64 {
        self.pool
            .egress()
            .refused
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Browser connections the SSRF guard let through.
    pub fn egress_allowed(&self) -> u64 {
        self.pool
            .egress()
            .allowed
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Chromium flags that send every connection through the egress proxy at `proxy`:
/// - `--proxy-server`: HTTP, HTTPS and WebSockets of every frame and worker;
/// - `--proxy-bypass-list=<-loopback>`: Chromium otherwise goes *direct* to `localhost`,
///   `127.0.0.1` and `[::1]`, exactly the addresses the guard exists for;
/// - `--webrtc-ip-handling-policy=disable_non_proxied_udp`: no STUN/TURN datagrams to
///   addresses a page picks;
/// - `--host-resolver-rules=MAP * ~NOTFOUND`: the browser's own resolver answers no name, so
///   anything that still tried to go direct finds nothing (names are resolved by the proxy,
///   whose literal address is excluded).
fn network_args(proxy: SocketAddr) -> Vec<String> {
    vec![
        format!("--proxy-server=http://{proxy}"),
        "--proxy-bypass-list=<-loopback>".to_string(),
        "--webrtc-ip-handling-policy=disable_non_proxied_udp".to_string(),
        format!(
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {}",
            proxy.ip()
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_goes_out_only_through_the_proxy() {
        let args = network_args("127.0.0.1:4000".parse().unwrap());
        assert!(args.contains(&"--proxy-server=http://127.0.0.1:4000".to_string()));
        assert!(args.contains(&"--proxy-bypass-list=<-loopback>".to_string()));
        assert!(
            args.contains(&"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".to_string())
        );
    }
}
