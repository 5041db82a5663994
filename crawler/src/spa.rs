//! Which fetched pages need a browser, and how a rendered DOM replaces the static extraction.
//!
//! Many casino and "investment" sites are single-page applications: the HTML the server sends is
//! an empty shell (`<div id="root"></div>` and a few hundred kilobytes of script) and the offer
//! text appears only after the scripts run. Rendering every page would cost a browser round trip
//! per URL, so `--render auto` renders only pages that look like such a shell — little visible
//! text next to heavy scripts — and hosts configured as JS-only; `always` and `never` override.
//! A rendered page keeps the fetched response as its evidence (WARC, body hash) while its text,
//! title and links come from the DOM the scripts produced, which is what a visitor reads and
//! what the rules should judge.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::config::CrawlerConfig;
use crate::extract;
use crate::fetch::FetchedResponse;
use crate::frontier::FrontierEntry;
use crate::page::{NewUrl, Outcome, PageResult, in_scope};
use crate::render::{RenderedPage, Renderer};
use crate::url_norm::host_key;

/// When fetched HTML pages are rendered in Chromium before extraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenderMode {
    /// SPA shells and JS-only hosts only.
    #[default]
    Auto,
    /// Never: the static HTML is all there is.
    Never,
    /// Every HTML page.
    Always,
}

impl RenderMode {
    /// `auto`, `never` or `always`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RenderMode::Auto => "auto",
            RenderMode::Never => "never",
            RenderMode::Always => "always",
        }
    }
}

impl fmt::Display for RenderMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RenderMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(RenderMode::Auto),
            "never" => Ok(RenderMode::Never),
            "always" => Ok(RenderMode::Always),
            other => Err(format!(
                "unknown render mode {other:?} (auto, never, always)"
            )),
        }
    }
}

/// Below this many characters of visible text a page may be a shell.
pub const SHELL_MAX_TEXT_CHARS: usize = 300;
/// Weight of an external `<script src>` in bytes (its size is unknown without fetching it).
const EXTERNAL_SCRIPT_BYTES: usize = 4_096;
/// Scripts at least this heavy next to little text make a shell.
const SHELL_MIN_SCRIPT_BYTES: usize = 1_024;

/// Script weight of an HTML document: inline script bytes plus a fixed weight per external one.
/// A plain scan (no parse): `<script` … `</script>` pairs, ASCII case-insensitive.
pub fn script_weight(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    let mut weight = 0;
    let mut rest = lower.as_str();
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let close = body.find("</script").unwrap_or(body.len());
        weight += close;
        if tag.contains(" src=") || tag.contains(" src =") {
            weight += EXTERNAL_SCRIPT_BYTES;
        }
        rest = &body[close..];
        if rest.is_empty() {
            break;
        }
        rest = &rest[1..];
    }
    weight
}

/// Whether a page whose static extraction gave `text` should be rendered: an SPA shell is a page
/// with little visible text (`SHELL_MAX_TEXT_CHARS`) and scripts outweighing it.
pub fn is_spa_shell(html: &str, text: &str) -> bool {
    // Counting stops at the threshold: a 20 KB article need not be counted to the end.
    let chars = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(SHELL_MAX_TEXT_CHARS)
        .count();
    if chars >= SHELL_MAX_TEXT_CHARS {
        return false;
    }
    let scripts = script_weight(html);
    scripts >= SHELL_MIN_SCRIPT_BYTES && scripts > text.len() * 2
}

/// The decision for one fetched page.
pub fn wants_render(cfg: &CrawlerConfig, url: &Url, html: &str, text: &str) -> bool {
    match cfg.render {
        RenderMode::Never => false,
        RenderMode::Always => true,
        RenderMode::Auto => {
            let host = url.host_str().unwrap_or_default();
            cfg.js_only_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
                || is_spa_shell(html, text)
        }
    }
}

/// The URL to render for a processed response, if it needs rendering: a successful HTML page
/// (not a Telegram preview, whose structure the adapter reads statically) that [`wants_render`].
pub(crate) fn render_target(
    cfg: &CrawlerConfig,
    resp: &FetchedResponse,
    result: &PageResult,
) -> Option<String> {
    if cfg.render == RenderMode::Never
        || result.outcome != Outcome::Fetched
        || !resp.is_html()
        || result.captures.len() != 1
    {
        return None;
    }
    let capture = &result.captures[0];
    if capture.is_failed() || capture.source != model::Source::Web {
        return None;
    }
    let html = String::from_utf8_lossy(&resp.body);
    wants_render(cfg, &resp.final_url, &html, &capture.text).then(|| resp.final_url.to_string())
}

/// Renders `target` and applies the DOM to `result`; on failure the static extraction stays (a
/// page that cannot be rendered is still evidence of what the server sent).
pub(crate) async fn render_into(
    cfg: &CrawlerConfig,
    renderer: &Renderer,
    from: &FrontierEntry,
    target: &str,
    result: &mut PageResult,
) {
    match renderer.render(target).await {
        Ok(page) => {
            let before = result.captures.first().map_or(0, |c| c.text.len());
            apply_rendered(cfg, result, from, &page);
            let after = result.captures.first().map_or(0, |c| c.text.len());
            tracing::debug!(
                url = target,
                static_bytes = before,
                rendered_bytes = after,
                "rendered"
            );
        }
        Err(e) => tracing::warn!(url = target, error = %e, "rendering failed; static text kept"),
    }
}

/// Replaces the page capture's title, text, language and links with those of the rendered DOM.
/// The capture keeps its fetch facts (status, IP, body hash, WARC record): the evidence of what
/// the server sent is unchanged.
pub(crate) fn apply_rendered(
    cfg: &CrawlerConfig,
    result: &mut PageResult,
    from: &FrontierEntry,
    page: &RenderedPage,
) {
    let Some(capture) = result.captures.first_mut() else {
        return;
    };
    let Ok(final_url) = Url::parse(&page.final_url) else {
        return;
    };
    let ex = extract::extract_html(
        &page.html,
        &final_url,
        cfg.max_links_per_page,
        cfg.max_url_len,
    );
    if !ex.title.is_empty() {
        capture.title = ex.title;
    } else if !page.title.is_empty() {
        capture.title = page.title.clone();
    }
    capture.text = ex.text;
    capture.lang = ex.lang.map(str::to_string);
    if from.depth < cfg.max_depth {
        for link in ex.links.iter().filter(|l| in_scope(from, l)) {
            let url = link.to_string();
            if !result.links.iter().any(|l| l.url == url) {
                result.links.push(NewUrl {
                    url,
                    host: host_key(link),
                    depth: from.depth + 1,
                    page_seq: 0,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHELL: &str = r#"<!doctype html><html><head><title>Lucky</title>
        <script src="/static/js/main.3f2a.js"></script></head>
        <body><div id="root"></div><noscript>Включите JavaScript</noscript></body></html>"#;

    #[test]
    fn script_weight_counts_inline_bytes_and_external_scripts() {
        assert_eq!(script_weight("<p>x</p>"), 0);
        assert_eq!(script_weight("<SCRIPT>abcd</SCRIPT><p>"), 4);
        assert_eq!(
            script_weight(r#"<script src="/a.js"></script><script>ab</script>"#),
            EXTERNAL_SCRIPT_BYTES + 2
        );
        assert_eq!(script_weight("<script>unterminated"), 12);
    }

    #[test]
    fn shells_are_rendered_and_text_pages_are_not() {
        assert!(is_spa_shell(SHELL, "Включите JavaScript"));
        let article = format!(
            "<p>{}</p><script>{}</script>",
            "Новости. ".repeat(60),
            "x".repeat(5000)
        );
        assert!(!is_spa_shell(&article, &"Новости. ".repeat(60)));
        assert!(
            !is_spa_shell("<p>Короткая страница</p>", "Короткая страница"),
            "little text but no scripts: nothing to render"
        );
    }

    #[test]
    fn modes_and_js_only_hosts() {
        let url = Url::parse("http://spa.kz/").unwrap();
        let plain = "<p>Обычная страница</p>";
        let mut cfg = CrawlerConfig::default();
        assert_eq!(cfg.render, RenderMode::Auto);
        assert!(wants_render(&cfg, &url, SHELL, ""));
        assert!(!wants_render(&cfg, &url, plain, "Обычная страница"));
        cfg.js_only_hosts = vec!["SPA.kz".into()];
        assert!(wants_render(&cfg, &url, plain, "Обычная страница"));
        cfg.render = RenderMode::Never;
        assert!(!wants_render(&cfg, &url, SHELL, ""));
        cfg.render = RenderMode::Always;
        cfg.js_only_hosts.clear();
        assert!(wants_render(&cfg, &url, plain, "Обычная страница"));
        assert_eq!("ALWAYS".parse::<RenderMode>(), Ok(RenderMode::Always));
        assert!("sometimes".parse::<RenderMode>().is_err());
    }
}
