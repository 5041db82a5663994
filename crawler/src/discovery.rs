//! URL discovery beyond `<a href>`: XML sitemaps (plain, gzip-compressed, and sitemap index
//! files) and RSS / Atom feeds.
//!
//! Sitemaps are where a site lists the pages it wants found (robots.txt `Sitemap:` lines point at
//! them); feeds are where news sites, Telegram mirrors and scam blogs announce new posts first —
//! the pages a monitoring crawl must revisit most. Both are XML with a fixed vocabulary, so a
//! tag scanner over `<loc>`, `<link>` and `<link href>` is enough and needs no XML dependency.
//! Gzip bodies are inflated under the same size cap as any page (bomb guard).

use std::io::Read;

/// What an XML discovery document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// `<sitemapindex>`: its `<loc>`s are more sitemaps.
    SitemapIndex,
    /// `<urlset>`: its `<loc>`s are pages.
    Sitemap,
    /// RSS `<rss>`/`<rdf:RDF>` or Atom `<feed>`: item links are pages.
    Feed,
}

/// URLs found in a discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The document's kind.
    pub kind: DocKind,
    /// Absolute or relative URLs as written (entities decoded).
    pub urls: Vec<String>,
}

/// True when a response looks like a sitemap or feed (by type or by URL).
pub fn is_discovery_doc(content_type: Option<&str>, path: &str) -> bool {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        mime.as_str(),
        "application/xml"
            | "text/xml"
            | "application/rss+xml"
            | "application/atom+xml"
            | "application/x-gzip"
            | "application/gzip"
    ) || path.ends_with(".xml")
        || path.ends_with(".xml.gz")
        || path.ends_with(".rss")
}

/// Parses a sitemap or feed (gzip-compressed or not); `None` when the body is neither. At most
/// `max_urls` URLs are returned and at most `max_bytes` are inflated.
pub fn parse(body: &[u8], max_urls: usize, max_bytes: usize) -> Option<Discovered> {
    let inflated;
    let body = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(body)
            .take(max_bytes as u64)
            .read_to_end(&mut out)
            .ok()?;
        inflated = out;
        &inflated[..]
    } else {
        body
    };
    let text = String::from_utf8_lossy(body);
    let head: String = text
        .chars()
        .take(4096)
        .collect::<String>()
        .to_ascii_lowercase();
    let kind = if head.contains("<sitemapindex") {
        DocKind::SitemapIndex
    } else if head.contains("<urlset") {
        DocKind::Sitemap
    } else if head.contains("<rss") || head.contains("<rdf:rdf") || head.contains("<feed") {
        DocKind::Feed
    } else {
        return None;
    };
    let mut urls = Vec::new();
    match kind {
        DocKind::SitemapIndex | DocKind::Sitemap => {
            element_texts(&text, "loc", max_urls, &mut urls)
        }
        DocKind::Feed => {
            // RSS: <item><link>URL</link>; Atom: <entry><link href="URL"/>.
            for item in blocks(&text, &["item", "entry"]) {
                if urls.len() >= max_urls {
                    break;
                }
                let mut found = Vec::new();
                element_texts(item, "link", 1, &mut found);
                if found.is_empty()
                    && let Some(href) = link_href(item)
                {
                    found.push(href);
                }
                urls.extend(found);
            }
        }
    }
    Some(Discovered { kind, urls })
}

/// Inner texts of `<name>…</name>` elements (CDATA unwrapped, entities decoded).
fn element_texts(text: &str, name: &str, max: usize, out: &mut Vec<String>) {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut rest = text;
    while out.len() < max {
        let Some(i) = find_ci(rest, &open) else { break };
        rest = &rest[i + open.len()..];
        let Some(j) = find_ci(rest, &close) else {
            break;
        };
        let raw = rest[..j].trim();
        let raw = raw
            .strip_prefix("<![CDATA[")
            .and_then(|r| r.strip_suffix("]]>"))
            .unwrap_or(raw)
            .trim();
        if !raw.is_empty() {
            out.push(decode_entities(raw));
        }
        rest = &rest[j + close.len()..];
    }
}

/// The `<item>…</item>` / `<entry>…</entry>` blocks of a feed.
fn blocks<'a>(text: &'a str, names: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for name in names {
        let mut rest = text;
        let close = format!("</{name}>");
        while let Some(i) = find_tag(rest, name) {
            rest = &rest[i..];
            let Some(j) = find_ci(rest, &close) else {
                break;
            };
            out.push(&rest[..j]);
            rest = &rest[j + close.len()..];
        }
    }
    out
}

/// Position of `<name>` or `<name ` (not `<names…>`).
fn find_tag(text: &str, name: &str) -> Option<usize> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = find_ci(&text[from..], &open) {
        let at = from + i;
        let next = text[at + open.len()..].chars().next();
        if matches!(next, Some('>' | ' ' | '\t' | '\n' | '\r' | '/')) {
            return Some(at);
        }
        from = at + open.len();
    }
    None
}

/// `href` of the first `<link …>` preferring `rel="alternate"` (or no rel).
fn link_href(block: &str) -> Option<String> {
    let mut rest = block;
    let mut first = None;
    while let Some(i) = find_tag(rest, "link") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if let Some(href) = attr(tag, "href") {
            let rel = attr(tag, "rel").unwrap_or_else(|| "alternate".into());
            if rel == "alternate" {
                return Some(href);
            }
            first.get_or_insert(href);
        }
        rest = &rest[tag_end..];
    }
    first
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let key = format!("{name}=");
    let mut from = 0;
    while let Some(i) = lower[from..].find(&key) {
        let at = from + i;
        let boundary = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let v = &tag[at + key.len()..];
        if boundary && let Some(q @ ('"' | '\'')) = v.chars().next() {
            let v = &v[1..];
            let end = v.find(q)?;
            return Some(decode_entities(&v[..end]));
        }
        from = at + key.len();
    }
    None
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    haystack
        .as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sitemap_index_urlset_and_gzip() {
        let index = r#"<?xml version="1.0" encoding="UTF-8"?>
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc>http://a.kz/sm1.xml.gz</loc></sitemap>
              <sitemap><loc> http://a.kz/sm2.xml </loc></sitemap>
            </sitemapindex>"#;
        let d = parse(index.as_bytes(), 100, 1 << 20).unwrap();
        assert_eq!(d.kind, DocKind::SitemapIndex);
        assert_eq!(d.urls, ["http://a.kz/sm1.xml.gz", "http://a.kz/sm2.xml"]);

        let urlset = r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc>http://a.kz/p?a=1&amp;b=2</loc><lastmod>2025-01-01</lastmod></url>
            <url><LOC><![CDATA[http://a.kz/қазақ]]></LOC></url></urlset>"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(urlset.as_bytes()).unwrap();
        let d = parse(&gz.finish().unwrap(), 100, 1 << 20).unwrap();
        assert_eq!(d.kind, DocKind::Sitemap);
        assert_eq!(d.urls, ["http://a.kz/p?a=1&b=2", "http://a.kz/қазақ"]);
        assert_eq!(parse(urlset.as_bytes(), 1, 1 << 20).unwrap().urls.len(), 1);
    }

    #[test]
    fn rss_and_atom_feeds() {
        let rss = r#"<rss version="2.0"><channel><title>Новости</title><link>http://a.kz/</link>
            <item><title>Пост</title><link>http://a.kz/post/1</link></item>
            <item><title>Пост 2</title><link>http://a.kz/post/2</link></item></channel></rss>"#;
        let d = parse(rss.as_bytes(), 100, 1 << 20).unwrap();
        assert_eq!(d.kind, DocKind::Feed);
        assert_eq!(d.urls, ["http://a.kz/post/1", "http://a.kz/post/2"]);
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><link href="http://a.kz/"/>
            <entry><link rel="edit" href="http://a.kz/edit/1"/><link href='http://a.kz/e/1'/></entry>
            <entry><link rel="alternate" type="text/html" href="http://a.kz/e/2"/></entry></feed>"#;
        let d = parse(atom.as_bytes(), 100, 1 << 20).unwrap();
        assert_eq!(d.urls, ["http://a.kz/e/1", "http://a.kz/e/2"]);
    }

    #[test]
    fn other_documents_and_bombs() {
        assert_eq!(parse(b"<html><body>hi</body></html>", 10, 1024), None);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&vec![b' '; 10 << 20]).unwrap();
        assert_eq!(
            parse(&gz.finish().unwrap(), 10, 1 << 20),
            None,
            "inflation is capped"
        );
        assert!(is_discovery_doc(
            Some("application/rss+xml; charset=utf-8"),
            "/x"
        ));
        assert!(is_discovery_doc(None, "/sitemap.xml.gz"));
        assert!(!is_discovery_doc(Some("text/html"), "/"));
    }
}
