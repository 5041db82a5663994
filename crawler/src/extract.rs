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
    let mut text = Collapser::default();
    let mut skip_depth = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    if skip_depth > 0 || SKIPPED.contains(&name) {
                        skip_depth += 1;
                    } else if BLOCKS.contains(&name) {
                        text.line_break();
                    }
                }
                // Source line breaks are layout, not text: whitespace like any other, only block
                // boundaries end a line.
                Node::Text(t) if skip_depth == 0 => text.push(t),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    if skip_depth > 0 {
                        skip_depth -= 1;
                    } else if BLOCKS.contains(&el.name()) {
                        text.line_break();
                    }
                }
            }
        }
    }
    text.finish()
}

/// Collapses whitespace inside each line and drops empty lines.
pub(crate) fn collapse_lines(raw: &str) -> String {
    let mut text = Collapser::default();
    for (i, line) in raw.split('\n').enumerate() {
        if i > 0 {
            text.line_break();
        }
        text.push(line);
    }
    text.finish()
}

/// Collapses every run of whitespace (incl. newlines and NBSP) to one space and trims.
pub(crate) fn collapse_inline(s: &str) -> String {
    let mut text = Collapser::default();
    text.push(s);
    text.finish()
}

/// Collapsed text built as it is read: words (runs of non-whitespace, `char::is_whitespace`)
/// joined by one space within a line, lines holding words joined by one newline, empty lines
/// dropped.
///
/// Extraction used to gather the raw text of a page and collapse it line by line afterwards,
/// with a per-`char` split: two more passes over every byte (a tenth of a crawl of 20 KB
/// pages). Here each text node is scanned once, a byte at a time — besides ASCII, every
/// whitespace character starts with the lead byte 0xC2, 0xE1, 0xE2 or 0xE3, so only those are
/// decoded — and words are copied as whole slices. A word may continue in the next text node
/// (`foo<b>bar</b>` reads `foobar`), so the state carries over between pushes.
#[derive(Debug, Default)]
struct Collapser {
    out: String,
    /// The current line has a word.
    words_on_line: bool,
    /// Whitespace followed the last word of the current line.
    space: bool,
    /// A line with words ended: the next word starts a new line.
    newline: bool,
}

impl Collapser {
    fn push(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let ws = whitespace_len(s, i);
            if ws > 0 {
                self.space = true;
                i += ws;
                continue;
            }
            let start = i;
            i += 1;
            while i < bytes.len()
                && (!SPACE_START[usize::from(bytes[i])] || whitespace_len(s, i) == 0)
            {
                i += 1;
            }
            self.word(&s[start..i]);
        }
    }

    fn word(&mut self, w: &str) {
        if self.newline {
            self.out.push('\n');
            self.newline = false;
        } else if self.words_on_line && self.space {
            self.out.push(' ');
        }
        self.out.push_str(w);
        self.words_on_line = true;
        self.space = false;
    }

    fn line_break(&mut self) {
        self.newline |= self.words_on_line;
        self.words_on_line = false;
        self.space = false;
    }

    fn finish(self) -> String {
        self.out
    }
}

/// Bytes that may start a whitespace character (see [`whitespace_len`]).
const SPACE_START: [bool; 256] = {
    let mut table = [false; 256];
    let starts = [
        b' ', b'\t', b'\n', 0x0B, 0x0C, b'\r', 0xC2, 0xE1, 0xE2, 0xE3,
    ];
    let mut k = 0;
    while k < starts.len() {
        table[starts[k] as usize] = true;
        k += 1;
    }
    table
};

/// Length of the whitespace character at byte `i` of `s`, 0 when there is none. `i` need not be
/// a character boundary: a continuation byte is never whitespace's first byte.
#[inline]
fn whitespace_len(s: &str, i: usize) -> usize {
    match s.as_bytes()[i] {
        b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r' => 1,
        0xC2 | 0xE1 | 0xE2 | 0xE3 => s
            .get(i..)
            .and_then(|rest| rest.chars().next())
            .filter(|c| c.is_whitespace())
            .map_or(0, char::len_utf8),
        _ => 0,
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

    /// Collapsing as first written: lines split, words split by `char::is_whitespace`.
    fn reference_lines(raw: &str) -> String {
        raw.lines()
            .map(|l| {
                l.split(char::is_whitespace)
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn collapsing_agrees_with_the_unicode_split_for_every_char() {
        let all: String = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .flat_map(|c| [c, 'ж'])
            .collect();
        for s in [
            all.as_str(),
            " a\u{3000}b\u{85}\u{a0}c\u{2028}\n\n d\r\n\u{2029}e \n",
            "x",
            "",
            "\u{2009}",
            "ы ",
            "\n\u{a0}\n",
        ] {
            assert_eq!(collapse_lines(s), reference_lines(s));
            assert_eq!(collapse_inline(s), reference_lines(&s.replace('\n', " ")));
        }
    }

    #[test]
    fn a_word_continues_across_inline_elements() {
        let html = "<p>сло<b>во</b> и <i> ещё</i><br>х</p><div>  </div><p>\u{a0}у</p>";
        let e = extract_html(html, &page(), 10, 2048);
        assert_eq!(e.text, "слово и ещё\nх\nу");
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
