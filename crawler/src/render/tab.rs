//! What one tab does for one job: emulate the device, open the page within its time bound, let
//! its scripts settle, then either decorate and shoot it or serialize its DOM.
//!
//! Full-page capture follows DESIGN §5: `Page.getLayoutMetrics` for the content size, then
//! `Page.captureScreenshot` with a clip of that size (capped) and `captureBeyondViewport`, so tall
//! pages come out whole without resizing the window.

use std::time::{Duration, Instant};

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::{Emulation, Page};
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

/// Navigates and waits for `load`, then for the page text to stop changing (scripts that fill the
/// page after `load`), all within the configured bounds.
pub(super) fn open(tab: &Tab, cfg: &RendererConfig, url: &str) -> Result<(), RenderError> {
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
    wait_for_load(tab, url, cfg.nav_timeout)?;
    settle(tab, cfg.settle, cfg.max_settle);
    Ok(())
}

/// Takes the evidence screenshot of `req` (the tab must be emulating `req.viewport`).
pub(super) fn shoot(
    tab: &Tab,
    cfg: &RendererConfig,
    req: &ShotRequest,
) -> Result<Shot, RenderError> {
    let berr = browser_err(&req.url);
    open(tab, cfg, &req.url)?;
    let script = decorate_script(&req.highlight, &req.footer);
    let highlighted = tab
        .evaluate(&script, false)
        .map_err(&berr)?
        .value
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as u32;
    // Web fonts (and the emoji font) must be in before the pixels are taken.
    let _ = tab.evaluate("document.fonts.ready.then(() => true)", true);
    let metrics = tab
        .call_method(Page::GetLayoutMetrics(None))
        .map_err(&berr)?;
    let view_width = match req.viewport {
        Viewport::Desktop => cfg.width,
        Viewport::Mobile => cfg.mobile_width,
    };
    let height = (metrics.css_content_size.height.ceil() as u32).clamp(1, cfg.max_height.max(1));
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
            optimize_for_speed: None,
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
    open(tab, cfg, url)?;
    let json = tab
        .evaluate(
            "JSON.stringify([location.href, document.title, document.documentElement ? document.documentElement.outerHTML : ''])",
            false,
        )
        .map_err(browser_err(url))?
        .value
        .and_then(|v| v.as_str().map(str::to_string))
        .ok_or_else(|| RenderError::Browser {
            url: url.to_string(),
            message: "DOM serialization returned nothing".into(),
        })?;
    let (final_url, title, html): (String, String, String) =
        serde_json::from_str(&json).map_err(browser_err(url))?;
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

/// Waits for the `load` event of the new document by polling `readyState`; `Page.navigate`
/// answers once the navigation committed, so the document polled is the new one.
/// `wait_until_navigated` adds 0.7–2 s per page (DESIGN §8); polling returns as soon as the page
/// is complete.
fn wait_for_load(tab: &Tab, url: &str, timeout: Duration) -> Result<(), RenderError> {
    let started = Instant::now();
    loop {
        match tab.evaluate("document.readyState === 'complete'", false) {
            Ok(v) if v.value.as_ref().and_then(|v| v.as_bool()) == Some(true) => return Ok(()),
            Ok(_) => {}
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

/// Waits until the page text length stayed the same for `quiet` (at most `max`).
fn settle(tab: &Tab, quiet: Duration, max: Duration) {
    if quiet.is_zero() {
        return;
    }
    let started = Instant::now();
    let mut last: Option<u64> = None;
    let mut stable_since = Instant::now();
    while started.elapsed() < max {
        let len = tab
            .evaluate(
                "document.body ? document.body.innerText.length + document.body.childElementCount : 0",
                false,
            )
            .ok()
            .and_then(|v| v.value)
            .and_then(|v| v.as_u64());
        if len != last {
            last = len;
            stable_since = Instant::now();
        } else if stable_since.elapsed() >= quiet {
            return;
        }
        std::thread::sleep(Duration::from_millis(30));
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
    f.style.cssText = 'display:block;clear:both;position:static;margin:16px 0 0;padding:8px 12px;background:#111;color:#fff;font:13px/1.4 monospace;white-space:pre-wrap;word-break:break-all;';
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
    fn decorate_script_embeds_needles_as_json() {
        let s = decorate_script(&["аренда карт … дроп".into(), "x".into()], "http://a/ 2026");
        assert!(s.contains(r#"["аренда карт","дроп"]"#), "{s}");
        assert!(s.contains(r#""http://a/ 2026""#));
    }
}
