//! Headless Chromium for evidence screenshots.
//!
//! An official must see *why* a page was flagged, as it was published: the screenshot is a full
//! page PNG with the matched fragments highlighted and a footer stamping the URL and capture time.
//!
//! `headless_chrome` is blocking (it waits on a websocket in the calling thread), so the browser is
//! owned by one dedicated OS thread and jobs reach it over a channel — tokio workers never block on
//! it (DESIGN §8). One browser process is launched once and a single tab is reused for every shot:
//! starting Chromium per page costs about a second, reusing a tab a few tens of milliseconds. A
//! navigation that does not reach `load` within the timeout fails that job only. If the browser
//! dies or wedges, the thread kills it and launches a new one for the next job. Dropping the
//! [`Renderer`] closes the browser, so no Chromium process outlives the run.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page;
use headless_chrome::{Browser, LaunchOptions, Tab};
use tokio::sync::oneshot;

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
    /// A DevTools call failed (crashed tab, protocol error).
    #[error("browser error on {url}: {message}")]
    Browser {
        /// Page URL.
        url: String,
        /// Detail.
        message: String,
    },
    /// The renderer thread is gone.
    #[error("renderer stopped")]
    Stopped,
}

/// How the browser is started and how pages are shot.
#[derive(Debug, Clone)]
pub struct RendererConfig {
    /// Chromium binary; Debian's package installs `/usr/bin/chromium`.
    pub chrome_path: PathBuf,
    /// Viewport width in CSS pixels (desktop layout).
    pub width: u32,
    /// Viewport height in CSS pixels.
    pub height: u32,
    /// Tallest screenshot taken; longer pages are cut here (a 100k-pixel PNG helps nobody).
    pub max_height: u32,
    /// Bound on one navigation, load included.
    pub nav_timeout: Duration,
    /// Host mappings (as `--resolve`): the browser connects to these addresses but keeps the
    /// host name, so the screenshot shows the real URL.
    pub host_map: Vec<(String, SocketAddr)>,
}

impl Default for RendererConfig {
    fn default() -> Self {
        RendererConfig {
            chrome_path: PathBuf::from("/usr/bin/chromium"),
            width: 1280,
            height: 900,
            max_height: 12_000,
            nav_timeout: Duration::from_secs(20),
            host_map: Vec::new(),
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
}

struct Job {
    req: ShotRequest,
    reply: oneshot::Sender<Result<Shot, RenderError>>,
}

/// Handle to the browser thread. Cheap to share behind an `Arc`.
pub struct Renderer {
    tx: Option<std_mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Renderer {
    /// Launches Chromium on a dedicated thread; fails fast if the browser cannot start.
    pub fn start(cfg: RendererConfig) -> Result<Renderer, RenderError> {
        let (tx, rx) = std_mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = std_mpsc::channel::<Result<(), RenderError>>();
        let thread = std::thread::Builder::new()
            .name("chromium".into())
            .spawn(move || browser_thread(cfg, rx, ready_tx))
            .map_err(|e| RenderError::Launch {
                path: PathBuf::new(),
                message: e.to_string(),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Renderer {
                tx: Some(tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(RenderError::Stopped),
        }
    }

    /// Takes a screenshot; waits without blocking the async runtime.
    pub async fn screenshot(&self, req: ShotRequest) -> Result<Shot, RenderError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .as_ref()
            .ok_or(RenderError::Stopped)?
            .send(Job { req, reply })
            .map_err(|_| RenderError::Stopped)?;
        rx.await.map_err(|_| RenderError::Stopped)?
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; the browser is dropped (and its process
        // killed) on that thread before join returns.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Session {
    browser: Browser,
    tab: Arc<Tab>,
}

fn launch(cfg: &RendererConfig) -> Result<Session, RenderError> {
    let err = |message: String| RenderError::Launch {
        path: cfg.chrome_path.clone(),
        message,
    };
    if !cfg.chrome_path.exists() {
        return Err(err(
            "binary not found (apt-get install -y chromium fonts-noto-color-emoji)".into(),
        ));
    }
    let mut args: Vec<OsString> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--hide-scrollbars",
        "--mute-audio",
        "--font-render-hinting=none",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    if let Some(rules) = host_resolver_rules(&cfg.host_map) {
        args.push(OsString::from(format!("--host-resolver-rules={rules}")));
    }
    let opts = LaunchOptions {
        headless: true,
        // CI runs as root, where Chromium refuses to start with its sandbox.
        sandbox: false,
        window_size: Some((cfg.width, cfg.height)),
        path: Some(cfg.chrome_path.clone()),
        args: args.iter().map(|a| a.as_os_str()).collect(),
        idle_browser_timeout: Duration::from_secs(3600),
        ..LaunchOptions::default()
    };
    let browser = Browser::new(opts).map_err(|e| err(e.to_string()))?;
    let tab = browser.new_tab().map_err(|e| err(e.to_string()))?;
    tab.set_default_timeout(cfg.nav_timeout);
    Ok(Session { browser, tab })
}

/// `MAP host ip:port` rules for Chromium, the browser-side twin of the crawler's `--resolve`.
fn host_resolver_rules(map: &[(String, SocketAddr)]) -> Option<String> {
    if map.is_empty() {
        return None;
    }
    Some(
        map.iter()
            .map(|(h, a)| format!("MAP {h} {a}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

fn browser_thread(
    cfg: RendererConfig,
    rx: std_mpsc::Receiver<Job>,
    ready: std_mpsc::Sender<Result<(), RenderError>>,
) {
    let mut session = match launch(&cfg) {
        Ok(s) => {
            let _ = ready.send(Ok(()));
            Some(s)
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    while let Ok(job) = rx.recv() {
        if session.is_none() {
            session = match launch(&cfg) {
                Ok(s) => Some(s),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                    continue;
                }
            };
        }
        let Some(s) = session.as_ref() else { continue };
        let result = shoot(&s.tab, &cfg, &job.req);
        if let Err(e) = &result
            && needs_respawn(e)
        {
            tracing::warn!(url = %job.req.url, error = %e, "browser wedged; respawning");
            if let Some(old) = session.take() {
                kill(old);
            }
        }
        let _ = job.reply.send(result);
    }
    if let Some(s) = session.take() {
        kill(s);
    }
}

fn needs_respawn(e: &RenderError) -> bool {
    matches!(e, RenderError::Browser { .. } | RenderError::Timeout { .. })
}

fn kill(s: Session) {
    let _ = s.tab.close(false);
    if let Some(pid) = s.browser.get_process_id() {
        tracing::debug!(pid, "closing chromium");
    }
    // Dropping `Browser` kills the child process and reaps it.
    drop(s);
}

fn shoot(tab: &Tab, cfg: &RendererConfig, req: &ShotRequest) -> Result<Shot, RenderError> {
    let berr = browser_err(&req.url);
    tab.navigate_to(&req.url).map_err(&berr)?;
    wait_for_load(tab, &req.url, cfg.nav_timeout)?;
    let script = decorate_script(&req.highlight, &req.footer);
    let highlighted = tab
        .evaluate(&script, false)
        .map_err(&berr)?
        .value
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as u32;
    let dims = tab
        .evaluate(
            "JSON.stringify([Math.ceil(Math.max(document.documentElement.scrollWidth, window.innerWidth)), \
             Math.ceil(Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0))])",
            false,
        )
        .map_err(&berr)?
        .value
        .and_then(|v| v.as_str().map(str::to_string))
        .and_then(|s| serde_json::from_str::<(u32, u32)>(&s).ok())
        .unwrap_or((cfg.width, cfg.height));
    let width = dims.0.clamp(1, cfg.width.max(1));
    let height = dims.1.clamp(1, cfg.max_height.max(1));
    let clip = Page::Viewport {
        x: 0.0,
        y: 0.0,
        width: f64::from(width),
        height: f64::from(height),
        scale: 1.0,
    };
    let data = tab
        .call_method(Page::CaptureScreenshot {
            format: Some(Page::CaptureScreenshotFormatOption::Png),
            quality: None,
            clip: Some(clip),
            from_surface: Some(true),
            capture_beyond_viewport: Some(true),
            optimize_for_speed: None,
        })
        .map_err(&berr)?
        .data;
    let png = decode_base64(&data).ok_or_else(|| RenderError::Browser {
        url: req.url.clone(),
        message: "screenshot is not valid base64".into(),
    })?;
    let (w, h) = png_size(&png).ok_or_else(|| RenderError::Browser {
        url: req.url.clone(),
        message: "screenshot is not a PNG".into(),
    })?;
    Ok(Shot {
        png,
        width: w,
        height: h,
        highlighted,
    })
}

/// Maps a `headless_chrome` error (an `anyhow::Error`) of a job on `url`.
fn browser_err<E: std::fmt::Display>(url: &str) -> impl Fn(E) -> RenderError + '_ {
    move |e| RenderError::Browser {
        url: url.to_string(),
        message: e.to_string(),
    }
}

/// Waits for the `load` event of the new document by polling `readyState`. `wait_until_navigated`
/// adds 0.7–2 s per page (DESIGN §8); polling returns as soon as the page is complete.
fn wait_for_load(tab: &Tab, url: &str, timeout: Duration) -> Result<(), RenderError> {
    let started = Instant::now();
    let target = serde_json::to_string(url).unwrap_or_default();
    let probe = format!(
        "(function(){{ try {{ return document.readyState === 'complete' && \
         (location.href === {target} || location.href.replace(/\\/$/, '') === {target}.replace(/\\/$/, '') || performance.getEntriesByType('navigation').length > 0 && location.href !== 'about:blank'); }} catch (e) {{ return false; }} }})()"
    );
    loop {
        if let Ok(v) = tab.evaluate(&probe, false)
            && v.value.and_then(|v| v.as_bool()) == Some(true)
        {
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(RenderError::Timeout {
                url: url.to_string(),
                timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(40));
    }
}

/// JavaScript that marks the matched fragments and appends the evidence footer; returns the number
/// of marks placed. Matching tolerates case and runs of whitespace, because the page's DOM text and
/// the extracted text differ in spacing.
fn decorate_script(highlight: &[String], footer: &str) -> String {
    let needles: Vec<String> = highlight
        .iter()
        .flat_map(|h| h.split(" … "))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| s.chars().count() >= 2)
        .collect();
    let needles = serde_json::to_string(&needles).unwrap_or_else(|_| "[]".into());
    let footer = serde_json::to_string(footer).unwrap_or_else(|_| "\"\"".into());
    format!(
        r#"(function() {{
  const needles = {needles};
  const footer = {footer};
  let count = 0;
  const esc = s => s.replace(/[.*+?^${{}}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
  if (needles.length && document.body) {{
    const re = new RegExp(needles.map(esc).join('|'), 'giu');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {{
      acceptNode: n => (n.parentElement && /^(SCRIPT|STYLE|NOSCRIPT|TEXTAREA)$/.test(n.parentElement.tagName))
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT }});
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    for (const node of nodes) {{
      const text = node.nodeValue;
      re.lastIndex = 0;
      if (!re.test(text)) continue;
      re.lastIndex = 0;
      const frag = document.createDocumentFragment();
      let last = 0, m;
      while ((m = re.exec(text)) !== null) {{
        if (m[0].length === 0) {{ re.lastIndex++; continue; }}
        frag.appendChild(document.createTextNode(text.slice(last, m.index)));
        const mark = document.createElement('mark');
        mark.setAttribute('data-baqylau', 'hit');
        mark.style.cssText = 'background:#ffe500;color:#000;outline:2px solid #e00000;';
        mark.textContent = m[0];
        frag.appendChild(mark);
        count++;
        last = m.index + m[0].length;
      }}
      frag.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(frag, node);
    }}
  }}
  if (footer && document.body) {{
    const f = document.createElement('div');
    f.setAttribute('data-baqylau', 'footer');
    f.style.cssText = 'display:block;clear:both;margin:16px 0 0;padding:8px 12px;background:#111;color:#fff;font:13px/1.4 monospace;white-space:pre-wrap;';
    f.textContent = footer;
    document.body.appendChild(f);
  }}
  return count;
}})()"#
    )
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let bytes = bytes
        .strip_suffix(b"==")
        .or_else(|| bytes.strip_suffix(b"="))
        .unwrap_or(&bytes);
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 6) | val(b)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Width and height from a PNG's IHDR chunk, or `None` if the bytes are not a PNG.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || &png[..8] != SIG || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_roundtrip_of_known_values() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert!(decode_base64("a*b").is_none());
    }

    #[test]
    fn png_size_reads_ihdr_and_rejects_other_bytes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&1280u32.to_be_bytes());
        png.extend_from_slice(&4000u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((1280, 4000)));
        assert_eq!(png_size(b"GIF89a............................"), None);
    }

    #[test]
    fn resolver_rules_keep_ports() {
        let map = vec![
            ("casino.kz".to_string(), "127.0.0.1:4000".parse().unwrap()),
            ("t.me".to_string(), "127.0.0.1:4000".parse().unwrap()),
        ];
        assert_eq!(
            host_resolver_rules(&map).unwrap(),
            "MAP casino.kz 127.0.0.1:4000,MAP t.me 127.0.0.1:4000"
        );
        assert!(host_resolver_rules(&[]).is_none());
    }

    #[test]
    fn decorate_script_embeds_needles_as_json() {
        let s = decorate_script(&["аренда карт … дроп".into(), "x".into()], "http://a/ 2026");
        assert!(s.contains(r#"["аренда карт","дроп"]"#), "{s}");
        assert!(s.contains(r#""http://a/ 2026""#));
    }
}
