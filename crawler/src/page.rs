//! What one fetched response becomes: captures to publish, links to enqueue, a log row.
//!
//! This is the per-item, synchronous part of the crawl (run on the blocking pool): archive the
//! exchange to WARC, decide success or failure (status ≥ 400, Telegram channel without a public
//! preview), decode and extract HTML, or split a Telegram preview page into one capture per
//! post. It never touches the frontier; the scheduling loop applies its result.

use model::{Capture, FailureKind, FetchFailure, Source, WarcRef};
use url::Url;

use crate::capture_log::FetchRecord;
use crate::charset;
use crate::config::CrawlerConfig;
use crate::discovery;
use crate::extract;
use crate::fetch::{FetchError, FetchedResponse};
use crate::frontier::FrontierEntry;
use crate::telegram;
use crate::url_norm::host_key;

/// A URL discovered while processing a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewUrl {
    pub(crate) url: String,
    pub(crate) host: String,
    pub(crate) depth: u32,
    pub(crate) page_seq: u32,
}

/// How a claimed URL ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Content was obtained.
    Fetched,
    /// The fetch failed (no response, or a failing one).
    Failed,
    /// robots.txt forbids the URL; nothing was fetched.
    Denied,
}

/// Everything the scheduling loop needs to record a processed URL.
#[derive(Debug)]
pub(crate) struct PageResult {
    pub(crate) outcome: Outcome,
    pub(crate) captures: Vec<Capture>,
    pub(crate) record: Option<FetchRecord>,
    pub(crate) links: Vec<NewUrl>,
    pub(crate) error: Option<FetchFailure>,
    /// HTTP status of the final response, when there was one (drives the retry policy).
    pub(crate) status: Option<u16>,
    /// The response's `Retry-After`, parsed.
    pub(crate) retry_after: Option<std::time::Duration>,
    /// Validators and SimHash of a successful fetch, for conditional GET and revisit intervals.
    pub(crate) visit: Option<crate::frontier::Visit>,
}

impl PageResult {
    pub(crate) fn denied() -> Self {
        PageResult {
            outcome: Outcome::Denied,
            captures: Vec::new(),
            record: None,
            links: Vec::new(),
            error: None,
            status: None,
            retry_after: None,
            visit: None,
        }
    }

    /// A fetch that produced no response at all.
    pub(crate) fn failed(entry: &FrontierEntry, err: &FetchError) -> Self {
        let host = Url::parse(&entry.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| entry.host.clone());
        let mut capture = Capture::failed(&entry.url, &host, err.kind, err.message.clone());
        capture.depth = entry.depth;
        let record = record_for(&capture, 0, 1);
        PageResult {
            outcome: Outcome::Failed,
            error: capture.error.clone(),
            captures: vec![capture],
            record: Some(record),
            links: Vec::new(),
            status: None,
            retry_after: None,
            visit: None,
        }
    }
}

fn record_for(c: &Capture, bytes: u64, captures: u64) -> FetchRecord {
    FetchRecord {
        url: c.url.clone(),
        final_url: c.final_url.clone(),
        host: c.host.clone(),
        status: c.status,
        error_kind: c.error.as_ref().map(|e| e.kind.as_str().to_string()),
        error_message: c.error.as_ref().map(|e| e.message.clone()),
        bytes,
        captures,
        fetched_at: c.fetched_at.to_rfc3339(),
        retried: false,
        simhash: crate::simhash::simhash(&c.text),
    }
}

/// Whether a link found on `from` may enter the frontier. Today: same host (and port) only.
/// This is the hook for an opt-in wider scope (same site, allow-listed domains) later.
pub(crate) fn in_scope(from: &FrontierEntry, link: &Url) -> bool {
    host_key(link) == from.host
}

/// Turns a response into captures and links. `warc` is where the exchange was archived.
/// A `304 Not Modified` (answer to a conditional GET) publishes nothing: the page is unchanged.
pub(crate) fn process_response(
    cfg: &CrawlerConfig,
    channels: &telegram::ChannelDiscovery,
    entry: &FrontierEntry,
    url: &Url,
    resp: &FetchedResponse,
    warc: Option<WarcRef>,
) -> PageResult {
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::to_string)
    };
    if resp.status == 304 {
        let base = base_capture(entry, url, resp, warc);
        return PageResult {
            outcome: Outcome::Fetched,
            status: Some(304),
            record: Some(record_for(&base, 0, 0)),
            captures: Vec::new(),
            links: Vec::new(),
            error: None,
            retry_after: None,
            visit: Some(crate::frontier::Visit {
                not_modified: true,
                ..Default::default()
            }),
        };
    }
    let mut result = process_body(cfg, channels, entry, url, resp, warc);
    if result.outcome == Outcome::Fetched {
        result.visit = Some(crate::frontier::Visit {
            etag: header("etag"),
            last_modified: header("last-modified"),
            simhash: result.record.as_ref().and_then(|r| r.simhash),
            not_modified: false,
        });
    }
    result
}

fn process_body(
    cfg: &CrawlerConfig,
    channels: &telegram::ChannelDiscovery,
    entry: &FrontierEntry,
    url: &Url,
    resp: &FetchedResponse,
    warc: Option<WarcRef>,
) -> PageResult {
    let base = base_capture(entry, url, resp, warc);
    let bytes = resp.body.len() as u64;
    if resp.status >= 400 {
        let reason = reqwest::StatusCode::from_u16(resp.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let msg = format!("HTTP {} {reason}", resp.status)
            .trim_end()
            .to_string();
        let mut failed = failed_with_response(base, FailureKind::Status, msg, bytes);
        failed.retry_after = resp
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .and_then(crate::retry::parse_retry_after);
        return failed;
    }

    if let Some(channel) = telegram::channel_of(url, &cfg.telegram_hosts) {
        if !telegram::is_preview_path(&resp.final_url) {
            return failed_with_response(
                base,
                FailureKind::Blocked,
                "no public preview".into(),
                bytes,
            );
        }
        return telegram_page(cfg, entry, url, resp, base, &channel);
    }

    if !resp.is_html() {
        let record = record_for(&base, bytes, 1);
        return PageResult {
            outcome: Outcome::Fetched,
            status: base.status,
            captures: vec![base],
            record: Some(record),
            links: discovery_links(cfg, entry, resp),
            error: None,
            retry_after: None,
            visit: None,
        };
    }

    let decoded = decode(resp, url);
    let ex = extract::extract_html(
        &decoded.text,
        &resp.final_url,
        cfg.max_links_per_page,
        cfg.max_url_len,
    );
    let mut links: Vec<NewUrl> = if entry.depth < cfg.max_depth {
        ex.links
            .iter()
            .filter(|l| in_scope(entry, l))
            .filter(|l| match crate::trap::trap_reason(l) {
                Some(reason) => {
                    tracing::debug!(url = %l, reason, "crawler trap skipped");
                    false
                }
                None => true,
            })
            .map(|l| NewUrl {
                url: l.to_string(),
                host: host_key(l),
                depth: entry.depth + 1,
                page_seq: 0,
            })
            .collect()
    } else {
        Vec::new()
    };
    if cfg.telegram_discover && entry.depth < cfg.max_depth {
        let found = channel_links(cfg, channels, entry, &ex.links, &links);
        links.extend(found);
    }
    let capture = Capture {
        charset: Some(decoded.encoding.name().to_string()),
        title: ex.title,
        text: ex.text,
        lang: ex.lang.map(str::to_string),
        ..base
    };
    let record = record_for(&capture, bytes, 1);
    PageResult {
        outcome: Outcome::Fetched,
        status: capture.status,
        captures: vec![capture],
        record: Some(record),
        links,
        error: None,
        retry_after: None,
        visit: None,
    }
}

/// Previews of the public channels that `page_links` name (opt-in discovery), within the
/// crawl's channel budget; `known` are the page's links already taken.
fn channel_links(
    cfg: &CrawlerConfig,
    channels: &telegram::ChannelDiscovery,
    entry: &FrontierEntry,
    page_links: &[Url],
    known: &[NewUrl],
) -> Vec<NewUrl> {
    let mut out: Vec<NewUrl> = Vec::new();
    for link in page_links {
        let Some(channel) = telegram::discovered_channel(link, &cfg.telegram_hosts) else {
            continue;
        };
        let preview = telegram::discovered_preview_url(link, &channel);
        let Ok(preview) = crate::url_norm::normalize(&preview, None, cfg.max_url_len) else {
            continue;
        };
        let url = preview.to_string();
        if known.iter().chain(&out).any(|n| n.url == url) || !channels.take(&channel) {
            continue;
        }
        out.push(NewUrl {
            host: host_key(&preview),
            url,
            depth: entry.depth + 1,
            page_seq: 0,
        });
    }
    out
}

/// Most URLs taken from one sitemap (the sitemap protocol's own limit).
const MAX_SITEMAP_URLS: usize = 50_000;

/// Links of a sitemap or feed. Sitemap entries keep the sitemap's depth (a sitemap is a list,
/// not a hop); feed items are one level deeper.
fn discovery_links(
    cfg: &CrawlerConfig,
    entry: &FrontierEntry,
    resp: &FetchedResponse,
) -> Vec<NewUrl> {
    if !discovery::is_discovery_doc(resp.content_type.as_deref(), resp.final_url.path()) {
        return Vec::new();
    }
    let Some(doc) = discovery::parse(&resp.body, MAX_SITEMAP_URLS, cfg.max_body_bytes) else {
        return Vec::new();
    };
    let depth = match doc.kind {
        discovery::DocKind::Feed => entry.depth + 1,
        _ => entry.depth,
    };
    if depth > cfg.max_depth {
        return Vec::new();
    }
    tracing::debug!(url = %resp.final_url, kind = ?doc.kind, urls = doc.urls.len(), "discovery document");
    doc.urls
        .iter()
        .filter_map(|u| crate::url_norm::normalize(u, Some(&resp.final_url), cfg.max_url_len).ok())
        .filter(|l| in_scope(entry, l) && crate::trap::trap_reason(l).is_none())
        .map(|l| NewUrl {
            host: host_key(&l),
            url: l.to_string(),
            depth,
            page_seq: 0,
        })
        .collect()
}

fn decode(resp: &FetchedResponse, url: &Url) -> charset::Decoded {
    let tld = url
        .host_str()
        .and_then(|h| h.rsplit('.').next())
        .filter(|t| t.chars().all(|c| c.is_ascii_alphabetic()));
    charset::decode_html(&resp.body, resp.content_type.as_deref(), tld)
}

fn base_capture(
    entry: &FrontierEntry,
    url: &Url,
    resp: &FetchedResponse,
    warc: Option<WarcRef>,
) -> Capture {
    Capture {
        id: model::capture_id(&entry.url, resp.fetched_at),
        url: entry.url.clone(),
        final_url: resp.final_url.to_string(),
        host: url.host_str().unwrap_or_default().to_string(),
        source: Source::Web,
        fetched_at: resp.fetched_at,
        published_at: None,
        depth: entry.depth,
        status: Some(resp.status),
        ip: resp.ip.clone(),
        protocol: resp.protocol.clone(),
        content_type: resp.content_type.clone(),
        charset: None,
        title: String::new(),
        text: String::new(),
        lang: None,
        body_sha256: Some(hex::encode(resp.body_sha256())),
        body_len: resp.body.len() as u64,
        warc,
        error: None,
        indicators: Vec::new(),
    }
}

fn failed_with_response(
    mut base: Capture,
    kind: FailureKind,
    message: String,
    bytes: u64,
) -> PageResult {
    let failure = FetchFailure { kind, message };
    base.error = Some(failure.clone());
    let record = record_for(&base, bytes, 1);
    PageResult {
        outcome: Outcome::Failed,
        status: base.status,
        captures: vec![base],
        record: Some(record),
        links: Vec::new(),
        error: Some(failure),
        retry_after: None,
        visit: None,
    }
}

fn telegram_page(
    cfg: &CrawlerConfig,
    entry: &FrontierEntry,
    url: &Url,
    resp: &FetchedResponse,
    base: Capture,
    channel: &str,
) -> PageResult {
    let decoded = decode(resp, url);
    let page = telegram::parse_channel_page(&decoded.text, &resp.final_url);
    let charset = Some(decoded.encoding.name().to_string());
    let title = if page.title.is_empty() {
        channel.to_string()
    } else {
        page.title.clone()
    };
    let mut captures: Vec<Capture> = page
        .posts
        .iter()
        .map(|post| {
            let post_url = telegram::post_url(url, &post.channel, post.id);
            let text = post_text(&post.text, &post.links);
            Capture {
                id: model::capture_id(&post_url, resp.fetched_at),
                url: post_url.clone(),
                final_url: post_url,
                source: Source::Telegram {
                    channel: post.channel.clone(),
                    post_id: post.id,
                    views: post.views.clone(),
                },
                published_at: post.published_at,
                charset: charset.clone(),
                title: title.clone(),
                lang: crate::lang::detect(&text).map(str::to_string),
                text,
                ..base.clone()
            }
        })
        .collect();
    let record = record_for(&base, resp.body.len() as u64, captures.len() as u64 + 1);
    if entry.page_seq == 0 {
        // The channel itself (title, description) is content too: a channel whose description
        // sells card rental is a case of its own. Only the first page carries it, under the
        // channel URL, so history pages (`?before=`) never duplicate it.
        let text = page.description.clone();
        captures.push(Capture {
            charset,
            title,
            lang: crate::lang::detect(&text).map(str::to_string),
            text,
            ..base
        });
    }
    let mut links = Vec::new();
    if let Some(before) = page.before
        && (entry.page_seq as usize) < cfg.telegram_max_pages
    {
        let next = telegram::older_page_url(url, channel, before);
        if let Ok(next) = crate::url_norm::normalize(&next, None, cfg.max_url_len) {
            links.push(NewUrl {
                host: host_key(&next),
                url: next.to_string(),
                depth: entry.depth,
                page_seq: entry.page_seq + 1,
            });
        }
    }
    let record = FetchRecord {
        captures: captures.len() as u64,
        ..record
    };
    PageResult {
        outcome: Outcome::Fetched,
        status: Some(resp.status),
        captures,
        record: Some(record),
        links,
        error: None,
        retry_after: None,
        visit: None,
    }
}

/// Post text plus, on a last line, link targets that the visible text does not show (a link
/// labelled "сюда" pointing at a casino mirror is exactly what the classifier needs to see).
fn post_text(text: &str, links: &[String]) -> String {
    let hidden: Vec<&str> = links
        .iter()
        .map(String::as_str)
        .filter(|l| !text.contains(l))
        .collect();
    if hidden.is_empty() {
        text.to_string()
    } else {
        format!("{text}\n{}", hidden.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn entry(url: &str, depth: u32) -> FrontierEntry {
        let u = Url::parse(url).unwrap();
        FrontierEntry {
            id: 1,
            url: url.into(),
            host: host_key(&u),
            depth,
            page_seq: 0,
            attempts: 1,
            etag: None,
            last_modified: None,
        }
    }

    /// `resp` to `e` processed with no channel discovery and no WARC record.
    fn process(cfg: &CrawlerConfig, e: &FrontierEntry, resp: &FetchedResponse) -> PageResult {
        process_response(
            cfg,
            &telegram::ChannelDiscovery::new(0),
            e,
            &Url::parse(&e.url).unwrap(),
            resp,
            None,
        )
    }

    fn response(url: &str, status: u16, ct: &str, body: &[u8]) -> FetchedResponse {
        FetchedResponse {
            final_url: Url::parse(url).unwrap(),
            status,
            ip: Some("127.0.0.1".into()),
            protocol: "HTTP/1.1".into(),
            headers: vec![],
            content_type: Some(ct.into()),
            body: body.to_vec(),
            fetched_at: Utc::now(),
            redirects: vec![],
            body_digest: Default::default(),
        }
    }

    #[test]
    fn html_page_yields_capture_and_same_host_links() {
        let cfg = CrawlerConfig::default();
        let e = entry("http://a.kz/", 0);
        let body =
            "<title>Т</title><p>Привет мир, это тест</p><a href=/x>x</a><a href=http://b.kz/>b</a>";
        let r = process(
            &cfg,
            &e,
            &response(
                "http://a.kz/",
                200,
                "text/html; charset=utf-8",
                body.as_bytes(),
            ),
        );
        assert_eq!(r.outcome, Outcome::Fetched);
        let c = &r.captures[0];
        assert_eq!((c.title.as_str(), c.lang.as_deref()), ("Т", Some("ru")));
        assert_eq!(c.charset.as_deref(), Some("UTF-8"));
        assert_eq!(c.body_len, body.len() as u64);
        assert_eq!(
            r.record.as_ref().unwrap().simhash,
            crate::simhash::simhash(&c.text)
        );
        assert!(r.record.as_ref().unwrap().simhash.is_some());
        let links: Vec<_> = r.links.iter().map(|l| (l.url.as_str(), l.depth)).collect();
        assert_eq!(links, [("http://a.kz/x", 1)]);
    }

    #[test]
    fn telegram_links_add_channel_previews_only_when_enabled_and_within_budget() {
        let body = "<title>Казино</title><p>Бонусы в нашем канале</p>\
            <a href=https://t.me/Jackpot_Bonus_KZ>канал</a>\
            <a href=https://t.me/jackpot_bonus_kz/3405>пост</a>\
            <a href=https://t.me/joinchat/AAAAAEkk2Wdo>чат</a>\
            <a href=https://t.me/+AbCdEfGh>инвайт</a>\
            <a href=https://t.me/jackpot_mirror_bot>бот</a>\
            <a href=https://t.me/share/url?url=x>поделиться</a>\
            <a href=https://t.me/addstickers/casino>стикеры</a>\
            <a href=https://t.me/s/easycash_obnal>обнал</a>\
            <a href=https://t.me/third_channel>третий</a>";
        let e = entry("http://casino.kz/", 0);
        let run = |cfg: &CrawlerConfig, budget: &telegram::ChannelDiscovery| {
            process_response(
                cfg,
                budget,
                &e,
                &Url::parse(&e.url).unwrap(),
                &response("http://casino.kz/", 200, "text/html", body.as_bytes()),
                None,
            )
            .links
            .into_iter()
            .map(|l| (l.url, l.host, l.depth))
            .collect::<Vec<_>>()
        };
        let off = CrawlerConfig::default();
        assert!(run(&off, &telegram::ChannelDiscovery::new(10)).is_empty());
        let on = CrawlerConfig {
            telegram_discover: true,
            ..CrawlerConfig::default()
        };
        let budget = telegram::ChannelDiscovery::new(2);
        let found = run(&on, &budget);
        let t = |u: &str| (u.to_string(), "t.me".to_string(), 1);
        assert_eq!(
            found,
            [
                t("https://t.me/s/jackpot_bonus_kz"),
                t("https://t.me/s/easycash_obnal")
            ],
            "one preview per channel, no invites/bots/stickers/shares, third over budget"
        );
        assert_eq!(budget.len(), 2);
        // A page at the depth limit adds nothing.
        let deep = entry("http://casino.kz/", on.max_depth);
        let r = process_response(
            &on,
            &telegram::ChannelDiscovery::new(10),
            &deep,
            &Url::parse(&deep.url).unwrap(),
            &response("http://casino.kz/", 200, "text/html", body.as_bytes()),
            None,
        );
        assert!(r.links.is_empty());
    }

    #[test]
    fn status_and_depth_limits() {
        let cfg = CrawlerConfig {
            max_depth: 1,
            ..CrawlerConfig::default()
        };
        let e = entry("http://a.kz/deep", 1);
        let r = process(
            &cfg,
            &e,
            &response(&e.url, 200, "text/html", b"<a href=/y>y</a>"),
        );
        assert!(r.links.is_empty(), "max depth reached");
        let r = process(&cfg, &e, &response(&e.url, 404, "text/html", b"nope"));
        assert_eq!(r.outcome, Outcome::Failed);
        let err = r.captures[0].error.as_ref().unwrap();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (FailureKind::Status, "HTTP 404 Not Found")
        );
        assert_eq!(r.captures[0].status, Some(404));
        assert_eq!(r.record.unwrap().error_kind.as_deref(), Some("status"));
    }

    #[test]
    fn non_html_is_recorded_not_extracted() {
        let cfg = CrawlerConfig::default();
        let e = entry("http://a.kz/f.pdf", 0);
        let r = process(
            &cfg,
            &e,
            &response(&e.url, 200, "application/pdf", b"%PDF <a href=/z>"),
        );
        assert_eq!(r.outcome, Outcome::Fetched);
        assert!(r.captures[0].text.is_empty() && r.links.is_empty());
        assert_eq!(
            r.captures[0].body_sha256.as_deref(),
            Some(model::sha256_hex(b"%PDF <a href=/z>").as_str())
        );
    }

    #[test]
    fn validators_are_kept_and_304_publishes_nothing() {
        let cfg = CrawlerConfig::default();
        let e = entry("http://a.kz/", 0);
        let mut resp = response(&e.url, 200, "text/html", "<p>Текст страницы</p>".as_bytes());
        resp.headers = vec![
            ("ETag".into(), b"\"abc\"".to_vec()),
            (
                "Last-Modified".into(),
                b"Wed, 21 Oct 2015 07:28:00 GMT".to_vec(),
            ),
        ];
        let r = process(&cfg, &e, &resp);
        let v = r.visit.unwrap();
        assert_eq!(v.etag.as_deref(), Some("\"abc\""));
        assert_eq!(
            v.last_modified.as_deref(),
            Some("Wed, 21 Oct 2015 07:28:00 GMT")
        );
        assert!(v.simhash.is_some() && !v.not_modified);
        let r = process(&cfg, &e, &response(&e.url, 304, "text/html", b""));
        assert_eq!(r.outcome, Outcome::Fetched);
        assert!(r.captures.is_empty() && r.visit.unwrap().not_modified);
        assert_eq!(r.record.unwrap().captures, 0);
    }

    #[test]
    fn sitemaps_and_feeds_yield_in_scope_links() {
        let cfg = CrawlerConfig::default();
        let e = entry("http://a.kz/sitemap.xml", 1);
        let body = "<urlset><url><loc>http://a.kz/p1</loc></url>\
                    <url><loc>http://b.kz/elsewhere</loc></url><url><loc>/p2</loc></url></urlset>";
        let r = process(
            &cfg,
            &e,
            &response(&e.url, 200, "application/xml", body.as_bytes()),
        );
        let links: Vec<_> = r.links.iter().map(|l| (l.url.as_str(), l.depth)).collect();
        assert_eq!(links, [("http://a.kz/p1", 1), ("http://a.kz/p2", 1)]);
        let e = entry("http://a.kz/feed", 1);
        let rss = "<rss><channel><item><link>http://a.kz/post/9</link></item></channel></rss>";
        let r = process(
            &cfg,
            &e,
            &response(&e.url, 200, "application/rss+xml", rss.as_bytes()),
        );
        assert_eq!(r.links[0].url, "http://a.kz/post/9");
        assert_eq!(r.links[0].depth, 2);
    }

    #[test]
    fn telegram_page_splits_posts_and_follows_older_page() {
        let cfg = CrawlerConfig::default();
        let e = entry("https://t.me/s/testchannel", 0);
        let html = include_str!("../tests/data/tg_channel.html");
        let r = process(
            &cfg,
            &e,
            &response(&e.url, 200, "text/html; charset=utf-8", html.as_bytes()),
        );
        // Two posts, then the channel itself (first page only).
        assert_eq!(r.captures.len(), 3);
        let channel = &r.captures[2];
        assert_eq!(channel.url, "https://t.me/s/testchannel");
        assert_eq!(channel.source, Source::Web);
        let c = &r.captures[0];
        assert_eq!(c.url, "https://t.me/testchannel/101");
        assert_eq!(c.title, "Быстрые выплаты KZ");
        assert_eq!(
            c.source,
            Source::Telegram {
                channel: "testchannel".into(),
                post_id: 101,
                views: Some("1.2K".into())
            }
        );
        assert!(
            c.text
                .ends_with("https://t.me/drop_manager https://casino-mirror.example/promo"),
            "{}",
            c.text
        );
        assert_eq!(r.captures[1].lang.as_deref(), Some("kk"));
        assert_ne!(r.captures[0].id, r.captures[1].id);
        assert_eq!(r.record.as_ref().unwrap().captures, 3);
        assert_eq!(r.links.len(), 1);
        assert_eq!(r.links[0].url, "https://t.me/s/testchannel?before=101");
        assert_eq!((r.links[0].depth, r.links[0].page_seq), (0, 1));

        let last = FrontierEntry {
            page_seq: 3,
            ..e.clone()
        };
        let r = process(
            &cfg,
            &last,
            &response(&e.url, 200, "text/html", html.as_bytes()),
        );
        assert!(r.links.is_empty(), "telegram_max_pages reached");
        assert_eq!(r.captures.len(), 2, "history pages carry posts only");

        let moved = response(
            "https://t.me/testchannel",
            200,
            "text/html",
            b"<p>no preview</p>",
        );
        let r = process(&cfg, &e, &moved);
        let err = r.captures[0].error.as_ref().unwrap();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (FailureKind::Blocked, "no public preview")
        );
    }
}
