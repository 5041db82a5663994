//! Telegram public channel previews (`https://t.me/s/<channel>`).
//!
//! A channel preview page lists the latest ~20 posts; each post is a separate resource for the
//! rest of the pipeline (its own capture, with the stable URL `t.me/<channel>/<id>`), so this
//! adapter turns one fetched page into many posts. The page structure it reads:
//! `div.tgme_widget_message[data-post="channel/123"]` holding `.tgme_widget_message_text` (line
//! breaks are `<br>`), `a.tgme_widget_message_date > time[datetime]` and
//! `span.tgme_widget_message_views`; the channel header `.tgme_channel_info_*`; and the link to
//! older posts `a.tme_messages_more[data-before]` (`?before=ID`).
//!
//! Channels also come from the web itself (opt-in, [`crate::CrawlerConfig::telegram_discover`]):
//! a scam landing page names its channel, so `t.me/<channel>` links found on crawled pages add
//! the channel's preview to the crawl — only public channel names ([`discovered_channel`]: no
//! invites, bots, stickers or share links), at most a fixed number per crawl
//! ([`ChannelDiscovery`]).

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::extract::{collapse_inline, collapse_lines};

/// One post of a channel preview page.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// Channel username as written in `data-post`.
    pub channel: String,
    /// Post number.
    pub id: u64,
    /// Post text; `<br>` become line breaks.
    pub text: String,
    /// Publication time.
    pub published_at: Option<DateTime<Utc>>,
    /// View counter as displayed (`1.2K`).
    pub views: Option<String>,
    /// Absolute `href`s of links inside the post text.
    pub links: Vec<String>,
}

/// What a `/s/<channel>` page holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChannelPage {
    /// Channel display title.
    pub title: String,
    /// Channel description.
    pub description: String,
    /// Subscriber counter as displayed (`12.4K`).
    pub subscribers: Option<String>,
    /// Posts on the page, in page order.
    pub posts: Vec<Post>,
    /// `data-before` of the "older posts" link, if there are older posts.
    pub before: Option<u64>,
}

/// The channel name when `url` is a channel preview (`/s/<channel>`) on one of `hosts`.
pub fn channel_of(url: &Url, hosts: &[String]) -> Option<String> {
    let host = url.host_str()?;
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return None;
    }
    let mut segments = url.path_segments()?;
    if segments.next()? != "s" {
        return None;
    }
    let channel = segments.next()?;
    let valid = !channel.is_empty()
        && channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_empty = segments.all(str::is_empty);
    (valid && rest_empty).then(|| channel.to_string())
}

/// True when a URL is still a channel preview; a `/s/` request answered elsewhere means the
/// channel has no public preview.
pub fn is_preview_path(url: &Url) -> bool {
    url.path().starts_with("/s/")
}

/// The stable URL of a post: `<scheme>://<host>/<channel>/<id>`.
pub fn post_url(page: &Url, channel: &str, id: u64) -> String {
    format!(
        "{}://{}/{}/{}",
        page.scheme(),
        crate::url_norm::host_key(page),
        channel,
        id
    )
}

/// The embed form of a post URL, `<scheme>://<host>/<channel>/<id>?embed=1`: Telegram's page
/// showing that one post alone — what a post's evidence screenshot must show, rather than the
/// whole channel. `None` when `url` is not a post URL on one of `hosts`.
pub fn embed_url(url: &str, hosts: &[String]) -> Option<String> {
    let u = Url::parse(url).ok()?;
    let host = u.host_str()?;
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return None;
    }
    let segs: Vec<&str> = u.path_segments()?.filter(|s| !s.is_empty()).collect();
    let [channel, id] = segs.as_slice() else {
        return None;
    };
    let valid = *channel != "s"
        && channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.parse::<u64>().is_ok();
    valid.then(|| {
        format!(
            "{}://{}/{channel}/{id}?embed=1",
            u.scheme(),
            crate::url_norm::host_key(&u)
        )
    })
}

/// The preview URL (`<scheme>://<host>/s/<channel>`) of one line of a channel list: `@channel`,
/// `t.me/channel`, `t.me/s/channel` or a full URL (`http://t.me/channel` keeps its scheme and
/// host). `None` for anything else.
pub fn preview_url_of(line: &str) -> Option<String> {
    let line = line.trim();
    let full = if let Some(name) = line.strip_prefix('@') {
        format!("https://t.me/{name}")
    } else if line.contains("://") {
        line.to_string()
    } else {
        format!("https://{line}")
    };
    let u = Url::parse(&full).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let segs: Vec<&str> = u.path_segments()?.filter(|s| !s.is_empty()).collect();
    let name = match segs.as_slice() {
        ["s", name] | [name] => *name,
        _ => return None,
    };
    let valid = name.len() >= 2 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| {
        format!(
            "{}://{}/s/{name}",
            u.scheme(),
            crate::url_norm::host_key(&u)
        )
    })
}

/// First path segments of `t.me` that are Telegram's own pages, not channel names (those of 5
/// letters or more; shorter ones fail the username rule anyway).
const RESERVED_PATHS: &[&str] = &[
    "joinchat",
    "addstickers",
    "addemoji",
    "addtheme",
    "addlist",
    "share",
    "proxy",
    "socks",
    "setlanguage",
    "login",
    "contact",
    "boost",
    "invoice",
    "confirmphone",
    "premium",
    "giftcode",
    "username",
    "apps",
];

/// The channel a link on a crawled page points at, when it can be a public channel: `t.me/<name>`,
/// `t.me/s/<name>` or a post `t.me/<name>/<id>` on one of `hosts`, where `<name>` is a Telegram
/// username (5–32 characters, a letter first, then letters, digits and `_`). Not: invite links
/// (`joinchat/…`, `+…`), bots (usernames end in `bot`), sticker/emoji/theme sets, share links,
/// private-channel post links (`t.me/c/…`) and Telegram's own pages. Lowercased: usernames are
/// case-insensitive.
pub fn discovered_channel(link: &Url, hosts: &[String]) -> Option<String> {
    if !matches!(link.scheme(), "http" | "https") {
        return None;
    }
    let host = link.host_str()?;
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return None;
    }
    let segs: Vec<&str> = link.path_segments()?.filter(|s| !s.is_empty()).collect();
    let name = match segs.as_slice() {
        ["s", name] | [name] => *name,
        [name, id] if id.parse::<u64>().is_ok() => *name,
        _ => return None,
    };
    let name = name.to_ascii_lowercase();
    let username = (5..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let own_page = RESERVED_PATHS.contains(&name.as_str());
    (username && !own_page && !name.ends_with("bot")).then_some(name)
}

/// The preview URL of a discovered channel, on the scheme, host and port of the link that named
/// it (so a `--resolve` mapping of the host applies to it like to any other URL).
pub fn discovered_preview_url(link: &Url, channel: &str) -> String {
    format!(
        "{}://{}/s/{channel}",
        link.scheme(),
        crate::url_norm::host_key(link)
    )
}

/// The channels one crawl has taken from links, capped: discovery widens the crawl beyond its
/// seeds, and with `--watch` every channel taken is revisited for as long as the service runs.
#[derive(Debug)]
pub struct ChannelDiscovery {
    max: usize,
    taken: Mutex<HashSet<String>>,
}

impl ChannelDiscovery {
    /// A budget of `max` channels.
    pub fn new(max: usize) -> Self {
        ChannelDiscovery {
            max,
            taken: Mutex::new(HashSet::new()),
        }
    }

    /// True when `channel` is (or now becomes) one of the taken channels; false once the budget
    /// is spent.
    pub fn take(&self, channel: &str) -> bool {
        let mut taken = self
            .taken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if taken.contains(channel) {
            return true;
        }
        if taken.len() >= self.max {
            tracing::debug!(channel, max = self.max, "channel discovery budget spent");
            return false;
        }
        tracing::info!(channel, "telegram channel discovered");
        taken.insert(channel.to_string())
    }

    /// Channels taken so far.
    pub fn len(&self) -> usize {
        self.taken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// True when no channel was taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The URL of the next (older) preview page.
pub fn older_page_url(page: &Url, channel: &str, before: u64) -> String {
    format!(
        "{}://{}/s/{}?before={}",
        page.scheme(),
        crate::url_norm::host_key(page),
        channel,
        before
    )
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector is valid")
}

/// Parses a channel preview page. `page_url` resolves relative links inside posts.
pub fn parse_channel_page(html: &str, page_url: &Url) -> ChannelPage {
    let doc = Html::parse_document(html);
    let first_text = |css: &str| {
        doc.select(&selector(css))
            .next()
            .map(|e| collapse_lines(&text_with_breaks(e)))
            .unwrap_or_default()
    };
    let title = first_text(".tgme_channel_info_header_title");
    let description = first_text(".tgme_channel_info_description");
    let subscribers = doc
        .select(&selector(".tgme_channel_info_counter"))
        .find(|c| {
            c.select(&selector(".counter_type"))
                .any(|t| t.text().collect::<String>().trim() == "subscribers")
        })
        .and_then(|c| c.select(&selector(".counter_value")).next())
        .map(|v| collapse_inline(&v.text().collect::<String>()));
    let before = doc
        .select(&selector("a.tme_messages_more[data-before]"))
        .next()
        .and_then(|a| a.value().attr("data-before")?.trim().parse().ok());

    let text_sel = selector(".tgme_widget_message_bubble > .tgme_widget_message_text");
    let any_text_sel = selector(".tgme_widget_message_text");
    let date_sel = selector("a.tgme_widget_message_date > time[datetime]");
    let views_sel = selector("span.tgme_widget_message_views");
    let link_sel = selector("a[href]");
    let mut posts = Vec::new();
    for msg in doc.select(&selector("div.tgme_widget_message[data-post]")) {
        let Some((channel, id)) = msg
            .value()
            .attr("data-post")
            .and_then(|p| p.split_once('/'))
            .and_then(|(c, id)| Some((c.to_string(), id.parse::<u64>().ok()?)))
        else {
            continue;
        };
        let text_el = msg
            .select(&text_sel)
            .next()
            .or_else(|| msg.select(&any_text_sel).last());
        let text = text_el
            .map(|e| collapse_lines(&text_with_breaks(e)))
            .unwrap_or_default();
        let links = text_el
            .map(|e| {
                e.select(&link_sel)
                    .filter_map(|a| page_url.join(a.value().attr("href")?).ok())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let published_at = msg
            .select(&date_sel)
            .next()
            .and_then(|t| t.value().attr("datetime"))
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc));
        let views = msg
            .select(&views_sel)
            .next()
            .map(|v| collapse_inline(&v.text().collect::<String>()))
            .filter(|v| !v.is_empty());
        posts.push(Post {
            channel,
            id,
            text,
            published_at,
            views,
            links,
        });
    }
    ChannelPage {
        title,
        description,
        subscribers,
        posts,
        before,
    }
}

/// Text of an element with `<br>` turned into newlines and everything else inline.
fn text_with_breaks(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    for edge in el.traverse() {
        if let Edge::Open(node) = edge {
            match node.value() {
                Node::Text(t) => {
                    out.extend(
                        t.chars()
                            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
                    );
                }
                Node::Element(e) if e.name() == "br" => out.push('\n'),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../tests/data/tg_channel.html");

    #[test]
    fn parses_channel_page_fixture() {
        let url = Url::parse("https://t.me/s/testchannel").unwrap();
        let page = parse_channel_page(PAGE, &url);
        assert_eq!(page.title, "Быстрые выплаты KZ");
        assert_eq!(
            page.description,
            "Аренда карт и дроп-схемы.\nПишите в личку"
        );
        assert_eq!(page.subscribers.as_deref(), Some("12.4K"));
        assert_eq!(page.before, Some(101));
        assert_eq!(page.posts.len(), 2);

        let p = &page.posts[0];
        assert_eq!((p.channel.as_str(), p.id), ("testchannel", 101));
        assert_eq!(
            p.text,
            "Сдай карту в аренду — 50 000 ₸ в неделю!\nБез вложений.\nПиши: @drop_manager или сюда"
        );
        assert_eq!(p.views.as_deref(), Some("1.2K"));
        assert_eq!(
            p.published_at.unwrap().to_rfc3339(),
            "2025-03-14T09:26:53+00:00"
        );
        assert_eq!(
            p.links,
            [
                "https://t.me/drop_manager",
                "https://casino-mirror.example/promo"
            ]
        );

        let q = &page.posts[1];
        assert_eq!(q.id, 102);
        assert!(
            q.text.starts_with("Қосымша табыс"),
            "reply quote excluded: {}",
            q.text
        );
        assert_eq!(q.views.as_deref(), Some("845"));
    }

    #[test]
    fn recognises_preview_urls() {
        let hosts = vec!["t.me".to_string()];
        let table = [
            ("https://t.me/s/testchannel", Some("testchannel")),
            ("https://t.me/s/testchannel?before=100", Some("testchannel")),
            ("https://T.ME/s/Chan_1/", Some("Chan_1")),
            ("https://t.me/testchannel", None),
            ("https://t.me/s/", None),
            ("https://t.me/s/chan/123", None),
            ("https://example.kz/s/chan", None),
        ];
        for (u, want) in table {
            let url = Url::parse(u).unwrap();
            assert_eq!(channel_of(&url, &hosts).as_deref(), want, "{u}");
        }
    }

    #[test]
    fn embed_urls_only_for_posts() {
        let hosts = vec!["t.me".to_string()];
        assert_eq!(
            embed_url("https://t.me/chan_1/42", &hosts).as_deref(),
            Some("https://t.me/chan_1/42?embed=1")
        );
        assert_eq!(
            embed_url("http://t.me:8080/chan/7", &hosts).as_deref(),
            Some("http://t.me:8080/chan/7?embed=1")
        );
        for not_post in [
            "https://t.me/s/chan",
            "https://t.me/chan",
            "https://t.me/s/chan/5",
            "https://t.me/chan/abc",
            "https://casino.kz/chan/42",
        ] {
            assert_eq!(embed_url(not_post, &hosts), None, "{not_post}");
        }
    }

    #[test]
    fn channel_list_lines_become_preview_urls() {
        let table = [
            ("@drop_kz", Some("https://t.me/s/drop_kz")),
            ("t.me/drop_kz", Some("https://t.me/s/drop_kz")),
            ("t.me/s/drop_kz", Some("https://t.me/s/drop_kz")),
            ("https://t.me/drop_kz/", Some("https://t.me/s/drop_kz")),
            ("http://t.me:8080/s/chan", Some("http://t.me:8080/s/chan")),
            ("t.me/drop_kz/15", None),
            ("@bad-name", None),
            ("ftp://t.me/chan", None),
        ];
        for (line, want) in table {
            assert_eq!(preview_url_of(line).as_deref(), want, "{line}");
        }
    }

    #[test]
    fn discovers_public_channel_names_only() {
        let hosts = vec!["t.me".to_string()];
        let table = [
            ("https://t.me/Dengi_KZ_today", Some("dengi_kz_today")),
            ("https://t.me/s/dengi_kz_today", Some("dengi_kz_today")),
            ("https://t.me/dengi_kz_today/115", Some("dengi_kz_today")),
            (
                "http://t.me:8080/easycash_obnal?start=1",
                Some("easycash_obnal"),
            ),
            ("https://t.me/joinchat/AAAAAEkk2WdoDrB4-Q8-gg", None),
            ("https://t.me/+AbCdEfGhIjK1", None),
            ("https://t.me/jackpot_mirror_bot", None),
            ("https://t.me/JackpotBot?start=ref", None),
            ("https://t.me/share/url?url=https://casino.kz", None),
            ("https://t.me/addstickers/casino_pack", None),
            ("https://t.me/addemoji/casino", None),
            ("https://t.me/c/1234567/89", None),
            ("https://t.me/iv?url=x", None),
            ("https://t.me/abc", None),
            ("https://t.me/1channel", None),
            ("https://t.me/s/", None),
            ("https://t.me/", None),
            ("https://t.me/chan_nel/abc", None),
            ("https://telegram.org/chan_nel", None),
            ("https://example.kz/dengi_kz_today", None),
        ];
        for (u, want) in table {
            let url = Url::parse(u).unwrap();
            assert_eq!(discovered_channel(&url, &hosts).as_deref(), want, "{u}");
        }
        let link = Url::parse("http://t.me:8080/dengi_kz_today/5").unwrap();
        assert_eq!(
            discovered_preview_url(&link, "dengi_kz_today"),
            "http://t.me:8080/s/dengi_kz_today"
        );
    }

    #[test]
    fn discovery_budget_caps_distinct_channels() {
        let d = ChannelDiscovery::new(2);
        assert!(d.is_empty());
        assert!(d.take("one_chan"));
        assert!(d.take("one_chan"), "a channel already taken stays taken");
        assert!(d.take("two_chan"));
        assert!(!d.take("three_chan"), "budget spent");
        assert!(d.take("two_chan"));
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn builds_post_and_older_page_urls() {
        let page = Url::parse("http://t.me:8080/s/chan").unwrap();
        assert_eq!(post_url(&page, "chan", 7), "http://t.me:8080/chan/7");
        assert_eq!(
            older_page_url(&page, "chan", 7),
            "http://t.me:8080/s/chan?before=7"
        );
    }
}
