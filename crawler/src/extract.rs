//! Turning an HTML document into what the rest of the pipeline reads: title, visible text, links.
//!
//! Text is what a person sees: `script`, `style`, `noscript`, `template`, `head` and embedded
//! graphics are skipped, block elements end a line, runs of whitespace collapse to one space. The
//! tree is walked iteratively (open/close edges), so hostile deeply nested markup cannot overflow
//! the stack. Links are resolved against the page (or its `<base href>`), normalized and capped.

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use crate::url_norm;

/// Elements whose content is never visible text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "canvas",
];

/// Elements that start and end a line of text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// What was extracted from one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// `<title>`, whitespace collapsed.
    pub title: String,
    /// Visible text, one block per line.
    pub text: String,
    /// Absolute, normalized, de-duplicated links, at most the configured number.
    pub links: Vec<Url>,
    /// Language tag of the text (see [`crate::lang`]).
    pub lang: Option<&'static str>,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector is valid")
}

/// Extracts title, visible text and links from `html` fetched from `page_url`.
pub fn extract_html(html: &str, page_url: &Url, max_links: usize, max_url_len: usize) -> Extracted {
    let doc = Html::parse_document(html);
    let title = doc
        .select(&selector("title"))
        .next()
        .map(|t| collapse_inline(&t.text().collect::<String>()))
        .unwrap_or_default();
    let text = visible_text(doc.root_element());
    let base = doc
        .select(&selector("base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page_url.join(h).ok())
        .unwrap_or_else(|| page_url.clone());
    let links = collect_links(&doc, &base, max_links, max_url_len);
    let lang = crate::lang::detect(&text);
    Extracted {
        title,
        text,
        links,
        lang,
    }
}

/// Visible text under `root`, one block per line, whitespace collapsed.
pub(crate) fn visible_text(root: ElementRef<'_>) -> String {
    let mut raw = String::new();
    let mut skip_depth = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    if skip_depth > 0 || SKIPPED.contains(&name) {
                        skip_depth += 1;
                    } else if BLOCKS.contains(&name) {
                        raw.push('\n');
                    }
                }
                // Source line breaks are layout, not text: only block boundaries end a line.
                // Copied a run at a time, not a `char` at a time (that was 5 % of a crawl).
                Node::Text(t) if skip_depth == 0 => {
                    let mut runs = t.split(['\n', '\r']);
                    if let Some(first) = runs.next() {
                        raw.push_str(first);
                        for run in runs {
                            raw.push(' ');
                            raw.push_str(run);
                        }
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    if skip_depth > 0 {
                        skip_depth -= 1;
                    } else if BLOCKS.contains(&el.name()) {
                        raw.push('\n');
                    }
                }
            }
        }
    }
    collapse_lines(&raw)
}

/// Collapses whitespace inside each line and drops empty lines.
///
/// Writes into one output string (no `String` per line and `Vec` per word as a
/// `map`/`collect`/`join` chain would allocate: that was a sixth of extraction on 20 KB pages).
pub(crate) fn collapse_lines(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        let before = out.len();
        if before > 0 {
            out.push('\n');
        }
        let words_at = out.len();
        push_words(&mut out, line);
        if out.len() == words_at {
            out.truncate(before);
        }
    }
    out
}

/// Collapses every run of whitespace (incl. newlines and NBSP) to one space and trims.
pub(crate) fn collapse_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_words(&mut out, s);
    out
}

/// Appends the whitespace-separated words of `s` to `out`, one space between them.
///
/// Whitespace is `char::is_whitespace`, found by a byte scan: besides ASCII, every whitespace
/// character starts with the lead byte 0xC2, 0xE1, 0xE2 or 0xE3, so only those are decoded (the
/// per-`char` split was 4 % of a crawl of Cyrillic pages).
fn push_words(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    // Start of the current word, while in one; whether a word was already written.
    let mut word: Option<usize> = None;
    let mut any = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let space = match b {
            b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' => 1,
            0xC2 | 0xE1 | 0xE2 | 0xE3 => s[i..]
                .chars()
                .next()
                .filter(|c| c.is_whitespace())
                .map_or(0, char::len_utf8),
            _ => 0,
        };
        if space == 0 {
            word.get_or_insert(i);
            i += 1;
            continue;
        }
        if let Some(from) = word.take() {
            if any {
                out.push(' ');
            }
            out.push_str(&s[from..i]);
            any = true;
        }
        i += space;
    }
    if let Some(from) = word {
        if any {
            out.push(' ');
        }
        out.push_str(&s[from..]);
    }
}

fn collect_links(doc: &Html, base: &Url, max_links: usize, max_url_len: usize) -> Vec<Url> {
    let mut seen = std::collections::HashSet::new();
    let mut links = Vec::new();
    // Feeds announced in the head are followed like links (see `crate::discovery`).
    let css = "a[href], area[href], link[rel~=alternate][href][type*=rss], \
               link[rel~=alternate][href][type*=atom]";
    for a in doc.select(&selector(css)) {
        if links.len() >= max_links {
            break;
        }
        let Some(href) = a.value().attr("href") else {
            continue;
        };
        if let Ok(url) = url_norm::normalize(href, Some(base), max_url_len)
            && seen.insert(url.as_str().to_string())
        {
            links.push(url);
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("http://example.kz/dir/index.html").unwrap()
    }

    #[test]
    fn whitespace_collapses_per_line_and_empty_lines_go() {
        let raw = "  a  b \n\n \t\n c\u{a0}d \r\n\nе  ж\n ";
        assert_eq!(collapse_lines(raw), "a b\nc d\nе ж");
        assert_eq!(collapse_lines(" \n\n"), "");
        assert_eq!(collapse_lines("\n\nx"), "x");
        assert_eq!(collapse_inline("\t Быстрые\n   займы  "), "Быстрые займы");
        assert_eq!(collapse_inline("   "), "");
    }

    #[test]
    fn word_scan_agrees_with_the_unicode_split_for_every_char() {
        fn reference(s: &str) -> String {
            s.split(char::is_whitespace)
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        }
        let all: String = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .flat_map(|c| [c, 'ж'])
            .collect();
        for s in [
            all.as_str(),
            " a\u{3000}b\u{85}\u{a0}c\u{2028}",
            "x",
            "",
            "\u{2009}",
            "ы ",
        ] {
            let mut out = String::new();
            push_words(&mut out, s);
            assert_eq!(out, reference(s));
        }
    }

    #[test]
    fn extracts_title_text_and_links() {
        let html = r#"<!doctype html><html><head><title>  Быстрые
            займы  </title><link rel="alternate" type="application/rss+xml" href="/feed.xml">
            <link rel="stylesheet" href="/s.css"><style>p{color:red}</style><script>var x = "секрет";</script></head>
            <body><h1>Займ без проверок</h1><p>Деньги за <b>5 минут</b>,&nbsp;звоните!</p>
            <noscript>включите JS</noscript><template><p>шаблон</p></template>
            <ul><li>один</li><li>два</li></ul>
            <a href="/a?utm_source=x">первая</a> <a href="b.html#frag">вторая</a> <a href="/a">снова</a>
            <a href="mailto:x@y.kz">почта</a> <a href="javascript:void(0)">скрипт</a>
            <a href="https://other.kz/">другой</a></body></html>"#;
        let e = extract_html(html, &page(), 100, 2048);
        assert_eq!(e.title, "Быстрые займы");
        assert_eq!(
            e.text,
            "Займ без проверок\nДеньги за 5 минут, звоните!\nодин\nдва\nпервая вторая снова почта скрипт другой"
        );
        let links: Vec<&str> = e.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            [
                "http://example.kz/feed.xml",
                "http://example.kz/a",
                "http://example.kz/dir/b.html",
                "https://other.kz/"
            ]
        );
        assert_eq!(e.lang, Some("ru"));
    }

    #[test]
    fn honours_base_href_and_link_cap() {
        let html = r#"<head><base href="http://example.kz/base/"></head>
            <a href="x">1</a><a href="y">2</a><a href="z">3</a>"#;
        let e = extract_html(html, &page(), 2, 2048);
        let links: Vec<&str> = e.links.iter().map(Url::as_str).collect();
        assert_eq!(
            links,
            ["http://example.kz/base/x", "http://example.kz/base/y"]
        );
    }

    #[test]
    fn survives_deep_nesting() {
        let html = format!("{}deep{}", "<div>".repeat(20_000), "</div>".repeat(20_000));
        let e = extract_html(&html, &page(), 10, 2048);
        assert_eq!(e.text, "deep");
    }
}
