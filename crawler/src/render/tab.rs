//! What one tab does for one job: emulate the device, open the page within its time bound, let
//! its scripts settle, then either decorate and shoot it or serialize its DOM.
//!
//! Full-page capture follows DESIGN §5: the content size (the root scroller's, as
//! `Page.getLayoutMetrics` reports it), then `Page.captureScreenshot` with a clip of that size
//! (capped) and `captureBeyondViewport`, so tall pages come out whole without resizing the window.
//!
//! Every DevTools call costs far more than the work it asks for: `headless_chrome`'s reader thread
//! holds the websocket's lock while it waits (up to 100 ms) for the next message, so a call waits
//! for that read to end before it is even sent — about 50–100 ms a call on a busy connection,
//! whatever the page. A shot is therefore built from as few calls as possible: the wait for
//! `load`, the settle wait, the highlight, the footer and the web fonts run in the page as one
//! awaited script (module docs of `pool` for the calls saved between jobs).

use std::time::{Duration, Instant};

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::{Emulation, Page, Runtime};
use model::Viewport;

use super::{RenderError, RenderedPage, RendererConfig, Shot, ShotRequest};

/// Sets the device metrics and user agent of `viewport` on the tab.
pub(super) fn emulate(
    tab: &Tab,
    cfg: &RendererConfig,
    viewport: Viewport,
    url: &str,
) -> Result<(), RenderError> {
    let (width, height, scale, mobile, ua) = match viewport {
        Viewport::Desktop => (
            cfg.width,
            cfg.height,
            1.0,
            false,
            cfg.desktop_user_agent.as_str(),
        ),
        Viewport::Mobile => (
            cfg.mobile_width,
            cfg.mobile_height,
            cfg.mobile_scale,
            true,
            cfg.mobile_user_agent.as_str(),
        ),
    };
    let berr = browser_err(url);
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: scale,
        mobile,
        scale: None,
        screen_width: Some(width),
        screen_height: Some(height),
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .map_err(&berr)?;
    tab.set_user_agent(ua, Some("ru-RU,ru;q=0.9,kk;q=0.8,en;q=0.7"), None)
        .map_err(&berr)?;
    Ok(())
}

/// Navigates, then runs `then` in the new document once it has loaded and its text stopped
/// changing (scripts that fill the page after `load`), all within the configured bounds; returns
/// what `then` returned. `then` is the body of an async function (it may `await`).
fn open(
    tab: &Tab,
    cfg: &RendererConfig,
    url: &str,
    then: &str,
) -> Result<serde_json::Value, RenderError> {
    tab.navigate_to(url).map_err(|e| {
        let message = e.to_string();
        if message.contains("net::ERR_") {
            RenderError::Unreachable {
                url: url.to_string(),
                message,
            }
        } else {
            RenderError::Browser {
                url: url.to_string(),
                message,
            }
        }
    })?;
    when_ready(tab, cfg, url, then)
}

/// Takes the evidence screenshot of `req` (the tab must be emulating `req.viewport`).
pub(super) fn shoot(
    tab: &Tab,
    cfg: &RendererConfig,
    req: &ShotRequest,
) -> Result<Shot, RenderError> {
    let berr = browser_err(&req.url);
    // Web fonts (and the emoji font) must be in before the pixels are taken, but a font that
    // never arrives must not hold the shot (nor outlast the DevTools call): at most `max_settle`.
    // The height is the root scroller's, what `Page.getLayoutMetrics` reports as
    // `cssContentSize`, measured after the footer went in — without a call of its own. A page
    // that makes the decoration throw fails the job, as a shot without its footer is no evidence.
    let then = format!(
        "const marked = {};\n  \
         try {{ await Promise.race([document.fonts.ready, new Promise(r => setTimeout(r, {}))]); }} \
         catch (e) {{}}\n  \
         const root = document.scrollingElement || document.documentElement;\n  \
         return [marked, root ? root.scrollHeight : 0];",
        decorate_script(&req.highlight, &req.footer),
        cfg.max_settle.as_millis()
    );
    let (highlighted, content_height): (u32, u32) =
        serde_json::from_value(open(tab, cfg, &req.url, &then)?).map_err(browser_err(&req.url))?;
    let view_width = match req.viewport {
        Viewport::Desktop => cfg.width,
        Viewport::Mobile => cfg.mobile_width,
    };
    let height = content_height.clamp(1, cfg.max_height.max(1));
    let clip = Page::Viewport {
        x: 0.0,
        y: 0.0,
        width: f64::from(view_width),
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
            // Faster zlib settings for the PNG: still lossless, the file about a third larger;
            // saves ~25 ms of the browser's CPU per 1280×2600 shot.
            optimize_for_speed: Some(true),
        })
        .map_err(&berr)?
        .data;
    let png = decode_base64(&data).ok_or_else(|| RenderError::Browser {
        url: req.url.clone(),
        message: "screenshot is not valid base64".into(),
    })?;
    let (width, height) = png_size(&png).ok_or_else(|| RenderError::Browser {
        url: req.url.clone(),
        message: "screenshot is not a PNG".into(),
    })?;
    Ok(Shot {
        png,
        width,
        height,
        highlighted,
        viewport: req.viewport,
    })
}

/// Opens `url` and serializes the DOM its scripts produced.
pub(super) fn dom(tab: &Tab, cfg: &RendererConfig, url: &str) -> Result<RenderedPage, RenderError> {
    let value = open(
        tab,
        cfg,
        url,
        "return [location.href, document.title, document.documentElement ? document.documentElement.outerHTML : ''];",
    )?;
    let (final_url, title, html): (String, String, String) =
        serde_json::from_value(value).map_err(browser_err(url))?;
    Ok(RenderedPage {
        final_url,
        title,
        html,
    })
}

/// Leaves the page: stops its timers and animations from burning CPU while the tab is idle.
/// Best effort — the next job navigates anyway.
pub(super) fn park(tab: &Tab) {
    let _ = tab.call_method(Page::Navigate {
        url: "about:blank".into(),
        referrer: None,
        transition_Type: None,
        frame_id: None,
        referrer_policy: None,
    });
}

/// Maps a `headless_chrome` error (an `anyhow::Error`) of a job on `url`.
fn browser_err<E: std::fmt::Display>(url: &str) -> impl Fn(E) -> RenderError + '_ {
    move |e| RenderError::Browser {
        url: url.to_string(),
        message: e.to_string(),
    }
}

/// Runs `then` in the new document once it has loaded and settled (see [`ready_script`]), as one
/// awaited `Runtime.evaluate`. `Page.navigate` answers once the navigation committed, so the
/// document evaluated in is the new one; if it goes away meanwhile (a script or meta redirect),
/// the call fails and is repeated in the next document until the navigation bound.
/// `wait_until_navigated` adds 0.7–2 s per page (DESIGN §8); this returns as soon as the page is
/// ready.
fn when_ready(
    tab: &Tab,
    cfg: &RendererConfig,
    url: &str,
    then: &str,
) -> Result<serde_json::Value, RenderError> {
    let started = Instant::now();
    let timeout = cfg.nav_timeout;
    // One call must end well within the DevTools call timeout (never below `nav_timeout`, see
    // `pool::call_timeout`), or `headless_chrome` drops the connection: after `load` come up to
    // `max_settle` of settling and as much for the fonts. Near the end of the bound the wait for
    // `load` degrades into polling.
    let after_load = 2 * cfg.max_settle + Duration::from_secs(1);
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        let script = ready_script(
            left.saturating_sub(after_load),
            cfg.settle,
            cfg.max_settle,
            then,
        );
        match evaluate(tab, &script) {
            Ok(v) if v.get("loaded").and_then(serde_json::Value::as_bool) == Some(true) => {
                return Ok(v.get("value").cloned().unwrap_or_default());
            }
            Ok(_) => {} // `load` did not come within the bound
            Err(Eval::Threw(e)) => {
                return Err(RenderError::Browser {
                    url: url.to_string(),
                    message: e,
                });
            }
            // A wedged renderer (script in an endless loop) makes every call time out.
            Err(e) if started.elapsed() > timeout => {
                return Err(RenderError::Browser {
                    url: url.to_string(),
                    message: format!("page does not answer: {e}"),
                });
            }
            Err(_) => {}
        }
        if started.elapsed() > timeout {
            return Err(RenderError::Timeout {
                url: url.to_string(),
                timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Why [`evaluate`] returned no value.
#[derive(Debug)]
enum Eval {
    /// The call failed: timed out (wedged page), or the document went away meanwhile.
    Call(String),
    /// The script threw or its promise was rejected.
    Threw(String),
}

impl std::fmt::Display for Eval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Eval::Call(e) | Eval::Threw(e) => f.write_str(e),
        }
    }
}

/// `Runtime.evaluate` of an expression whose value (a promise's, awaited) comes back as JSON.
/// (`Tab::evaluate` returns objects by reference, which costs further calls to read.)
fn evaluate(tab: &Tab, expression: &str) -> Result<serde_json::Value, Eval> {
    let r = tab
        .call_method(Runtime::Evaluate {
            expression: expression.to_string(),
            return_by_value: Some(true),
            generate_preview: None,
            silent: Some(true),
            await_promise: Some(true),
            include_command_line_api: None,
            user_gesture: None,
            object_group: None,
            context_id: None,
            throw_on_side_effect: None,
            timeout: None,
            disable_breaks: None,
            repl_mode: None,
            allow_unsafe_eval_blocked_by_csp: None,
            unique_context_id: None,
            serialization_options: None,
        })
        .map_err(|e| Eval::Call(e.to_string()))?;
    if let Some(ex) = r.exception_details {
        let detail = r.result.description.unwrap_or_default();
        return Err(Eval::Threw(format!("script failed: {} {detail}", ex.text)));
    }
    Ok(r.result.value.unwrap_or_default())
}

/// An async function, run in the page, that waits for `load` (at most `load_within`), then until
/// the page text length stayed the same for `quiet` (at most `max`; sampled every 30 ms), then
/// runs `then`; it returns `{loaded, value}`. Waiting in the page costs one DevTools call where
/// polling from here cost one per sample (module docs). The quiet period runs one sample longer
/// than `quiet`: a page timer of exactly `quiet` set before `load` (a common SPA pattern) is due
/// at the same moment as the last sample, and either may run first.
fn ready_script(load_within: Duration, quiet: Duration, max: Duration, then: &str) -> String {
    format!(
        r#"(async () => {{
  const loaded = document.readyState === 'complete' || await new Promise(done => {{
    addEventListener('load', () => done(true), {{ once: true }});
    setTimeout(() => done(document.readyState === 'complete'), {load_ms});
  }});
  if (!loaded) return {{ loaded: false }};
  const quiet = {quiet_ms}, max = {max_ms};
  if (quiet > 0) {{
    const size = () => document.body ? document.body.innerText.length + document.body.childElementCount : 0;
    const start = performance.now();
    let last = size(), since = start;
    while (performance.now() - start < max) {{
      await new Promise(r => setTimeout(r, 30));
      const n = size(), now = performance.now();
      if (n !== last) {{ last = n; since = now; }} else if (now - since >= quiet + 30) break;
    }}
  }}
  const value = await (async () => {{ {then} }})();
  return {{ loaded: true, value }};
}})()"#,
        load_ms = load_within.as_millis(),
        quiet_ms = quiet.as_millis(),
        max_ms = max.as_millis(),
    )
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
    f.style.cssText = 'display:block;clear:both;position:static;margin:16px 0 0;padding:8px 12px;background:#111;color:#fff;font:13px/1.4 monospace;white-space:pre-wrap;word-break:break-all;';
    f.textContent = footer;
    document.body.appendChild(f);
  }}
  return count;
}})()"#
    )
}

/// Decodes standard base64 (padding and whitespace allowed). Hand-written because the crate's
/// dependencies have no base64 decoder of their own to reuse; table-driven, because a shot is a
/// megabyte of it and a per-character `match` cost ~30 ms of the tab thread per shot.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    const INVALID: u8 = 0xff;
    const TABLE: [u8; 256] = {
        let mut t = [INVALID; 256];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut i = 0;
        while i < 64 {
            t[alphabet[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    let bytes = s.trim_end().as_bytes();
    let bytes = bytes
        .strip_suffix(b"==")
        .or_else(|| bytes.strip_suffix(b"="))
        .unwrap_or(bytes);
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        let v = TABLE[b as usize];
        if v == INVALID {
            if b.is_ascii_whitespace() {
                continue;
            }
            return None;
        }
        acc = (acc << 6) | u32::from(v);
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
    fn decorate_script_embeds_needles_as_json() {
        let s = decorate_script(&["аренда карт … дроп".into(), "x".into()], "http://a/ 2026");
        assert!(s.contains(r#"["аренда карт","дроп"]"#), "{s}");
        assert!(s.contains(r#""http://a/ 2026""#));
    }
}
