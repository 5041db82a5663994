//! The robots.txt language of RFC 9309: parsing a file into the rules that apply to one product
//! token, and matching a URL against them.
//!
//! Hand-written rather than taken from `texting_robots` (which [`super`] used before): on the
//! conformance suite in `testdata/robots/cases.json` that crate fails 3 of the 468 standard
//! (RFC 9309) cases — it compares percent-escapes byte for byte (`%aa` ≠ `%AA`, `%7E` ≠ `~`)
//! and matches a `$`-anchored pattern against a URL that still carries its fragment. The
//! protocol is small enough that owning these lines is cheaper than normalising around the
//! crate.
//!
//! What is implemented, with the RFC section:
//! - lines end at CR, LF or CRLF; a UTF-8 BOM at the start is skipped; `#` starts a comment (2.2);
//! - a group is one or more `user-agent` lines followed by rules; blank, `sitemap` and unknown
//!   lines do not end a group; rules before any `user-agent` line are ignored (2.1, 2.2.1);
//! - the product token matches a `user-agent` value case-insensitively and exactly; every group
//!   naming it is merged; when none does, every `*` group is merged; a specific group does not
//!   inherit `*` rules (2.2.1);
//! - the longest matching pattern (in octets) wins; `allow` wins a tie; an empty pattern is no
//!   rule; no match means allowed (2.2.2);
//! - `*` matches any sequence, a trailing `$` anchors the end (2.2.3);
//! - both the pattern and the URL path are percent-normalised: non-ASCII octets encoded, hex
//!   digits upper-cased, escapes of unreserved characters decoded, escapes of reserved ones kept
//!   (2.2.2);
//! - `/robots.txt` is always allowed (2.2.2);
//! - `crawl-delay` (non-standard, widely used) and `sitemap` (2.2.4) lines are collected.
//!
//! Where RFC 9309 leaves a line undefined, it is read the way Google's reference parser
//! (`google/robotstxt`, `robots.cc`) reads it, because that is the reading site owners test
//! their files against — and every such reading makes the crawler obey *more* of what the owner
//! meant, never less:
//! - directive names match by prefix and with Google's frequent typos (`useragent`,
//!   `user agent`, `dissallow`, `disalow`, `diasllow`, `disallaw`, `site-map`, `Disallowed`);
//! - a line without `:` whose key and value are two whitespace-separated words is read as
//!   `key: value` (`disallow /`);
//! - a `user-agent` value is its product token: cut at the first character outside
//!   `[A-Za-z_-]` (`FooBot/1.0` → `FooBot`), and `*` followed by a space and anything is `*`;
//! - a partial UTF-8 BOM at the start is skipped; lines are cut at 16,664 octets (8 × 2083);
//! - `allow: /dir/index.htm[l]` also allows `/dir/` itself.
//!
//! Readings that contradict the RFC are not taken (Google compares `%xx` escapes of
//! unreserved characters without decoding them, and can disallow `/robots.txt`).
//!
//! The caller cuts the file at 500 KiB (2.5); parsing is linear in the file size, matching is
//! linear in the rule count times the path length.

/// Rules of one robots.txt that apply to one product token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RobotsRules {
    /// `(allow, normalised pattern)` of the merged groups, in file order.
    rules: Vec<(bool, String)>,
    /// `Crawl-delay` of the merged groups (the largest given), in seconds.
    pub crawl_delay: Option<f64>,
    /// Every `Sitemap:` URL of the file, whatever group it sits in.
    pub sitemaps: Vec<String>,
}

/// Directive keys we act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    UserAgent,
    Allow,
    Disallow,
    CrawlDelay,
    Sitemap,
    Other,
}

/// The group being read and whether it applies to us.
#[derive(Debug, Default)]
struct GroupState {
    /// Last significant line was a `user-agent` line (more may follow in the same group).
    reading_agents: bool,
    /// Some `user-agent` line has been seen (rules before that are ignored).
    seen_agent: bool,
    /// The current group names our token.
    ours: bool,
    /// The current group is a `*` group.
    star: bool,
}

impl RobotsRules {
    /// Parses `body` and keeps the groups that apply to `token` (the crawler's product token,
    /// e.g. `baqylau`).
    pub fn parse(body: &[u8], token: &str) -> RobotsRules {
        let body = skip_bom(body);
        let token = token.trim();
        let mut specific: Vec<(bool, String)> = Vec::new();
        let mut star: Vec<(bool, String)> = Vec::new();
        let mut specific_delay: Option<f64> = None;
        let mut star_delay: Option<f64> = None;
        let mut any_specific = false;
        let mut sitemaps = Vec::new();
        let mut g = GroupState::default();

        for line in body.split(|b| *b == b'\n' || *b == b'\r') {
            let line = &line[..line.len().min(MAX_LINE)];
            let line = match line.iter().position(|b| *b == b'#') {
                Some(i) => &line[..i],
                None => line,
            };
            let Some((key, value)) = key_and_value(line) else {
                continue;
            };
            let key = key_of(key);
            match key {
                Key::UserAgent => {
                    if !g.reading_agents {
                        g = GroupState {
                            reading_agents: true,
                            seen_agent: true,
                            ..GroupState::default()
                        };
                    }
                    if value.first() == Some(&b'*')
                        && value.get(1).is_none_or(|b| b.is_ascii_whitespace())
                    {
                        g.star = true;
                    } else if !token.is_empty()
                        && product_token(value).eq_ignore_ascii_case(token.as_bytes())
                    {
                        g.ours = true;
                        any_specific = true;
                    }
                }
                Key::Allow | Key::Disallow => {
                    if !g.seen_agent {
                        continue;
                    }
                    g.reading_agents = false;
                    if value.is_empty() {
                        continue;
                    }
                    let mut rules = vec![(key == Key::Allow, normalize_pattern(value))];
                    if key == Key::Allow
                        && let Some(slash) = value.iter().rposition(|b| *b == b'/')
                        && value[slash..].starts_with(b"/index.htm")
                    {
                        let mut dir = value[..=slash].to_vec();
                        dir.push(b'$');
                        rules.push((true, normalize_pattern(&dir)));
                    }
                    if g.ours {
                        specific.extend(rules.iter().cloned());
                    }
                    if g.star {
                        star.extend(rules);
                    }
                }
                Key::CrawlDelay => {
                    if !g.seen_agent {
                        continue;
                    }
                    let Some(d) = std::str::from_utf8(value)
                        .ok()
                        .and_then(|v| v.parse::<f64>().ok())
                        .filter(|d| d.is_finite() && *d >= 0.0)
                    else {
                        continue;
                    };
                    let raise = |cur: Option<f64>| Some(cur.map_or(d, |c: f64| c.max(d)));
                    if g.ours {
                        specific_delay = raise(specific_delay);
                    }
                    if g.star {
                        star_delay = raise(star_delay);
                    }
                }
                Key::Sitemap => {
                    if let Ok(v) = std::str::from_utf8(value)
                        && !v.is_empty()
                    {
                        sitemaps.push(v.to_string());
                    }
                }
                Key::Other => {}
            }
        }
        let (rules, crawl_delay) = if any_specific {
            (specific, specific_delay)
        } else {
            (star, star_delay)
        };
        RobotsRules {
            rules,
            crawl_delay,
            sitemaps,
        }
    }

    /// May the URL be fetched? Only its path and query are matched; the fragment is ignored.
    pub fn allowed(&self, url: &str) -> bool {
        let path = normalize_path(&path_of(url));
        if path == "/robots.txt" {
            return true;
        }
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if !matches(pattern.as_bytes(), path.as_bytes()) {
                continue;
            }
            let len = pattern.len();
            best = match best {
                Some((l, a)) if l > len || (l == len && (a || !*allow)) => Some((l, a)),
                _ => Some((len, *allow)),
            };
        }
        best.is_none_or(|(_, allow)| allow)
    }

    /// Number of rules that apply (for logs and tests).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when no rule applies (everything allowed).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Google's reference parser cuts longer lines (robots.cc, `kMaxLineLen`).
const MAX_LINE: usize = 8 * 2083;

/// Skips a UTF-8 BOM, or the part of one a broken file starts with (Google skips BOM octets
/// one by one).
fn skip_bom(body: &[u8]) -> &[u8] {
    let n = body
        .iter()
        .zip(b"\xEF\xBB\xBF")
        .take_while(|(a, b)| a == b)
        .count();
    &body[n..]
}

/// `key: value`, or `key value` when the line has no `:` and is exactly two words (Google's
/// reading of a forgotten colon); `None` for anything else.
fn key_and_value(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if let Some(colon) = line.iter().position(|b| *b == b':') {
        return Some((trim(&line[..colon]), trim(&line[colon + 1..])));
    }
    let line = trim(line);
    let space = line.iter().position(|b| *b == b' ' || *b == b'\t')?;
    let (key, value) = (&line[..space], trim(&line[space..]));
    (!key.is_empty() && !value.is_empty() && !value.iter().any(|b| *b == b' ' || *b == b'\t'))
        .then_some((key, value))
}

/// The product token of a `user-agent` value: its leading `[A-Za-z_-]` run (RFC 9309 2.2.1
/// defines the token with these characters; Google ignores whatever follows, e.g. a version).
fn product_token(value: &[u8]) -> &[u8] {
    let end = value
        .iter()
        .position(|b| !(b.is_ascii_alphabetic() || *b == b'-' || *b == b'_'))
        .unwrap_or(value.len());
    &value[..end]
}

/// Directive name, matched by prefix and with the typos Google accepts (robots.cc
/// `KeyIsUserAgent`, `KeyIsAllow`, `KeyIsDisallow`, `KeyIsSitemap`).
fn key_of(raw: &[u8]) -> Key {
    let k = raw.to_ascii_lowercase();
    let starts = |p: &[&[u8]]| p.iter().any(|p| k.starts_with(p));
    if starts(&[b"user-agent", b"useragent", b"user agent"]) {
        Key::UserAgent
    } else if starts(&[b"allow"]) {
        Key::Allow
    } else if starts(&[
        b"disallow",
        b"dissallow",
        b"dissalow",
        b"disalow",
        b"diasllow",
        b"disallaw",
    ]) {
        Key::Disallow
    } else if k == b"crawl-delay" {
        Key::CrawlDelay
    } else if starts(&[b"sitemap", b"site-map"]) {
        Key::Sitemap
    } else {
        Key::Other
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Path and query of `url` as given — no other normalisation: `..` segments are matched as
/// written. Absolute URLs are the RFC case; for anything else this extracts the path the way
/// Google's reference parser does (`example.com/a` → `/a`, `//host/b` → `/b`, empty → `/`).
fn path_of(url: &str) -> String {
    let search_start = if url.starts_with("//") { 2 } else { 0 };
    let find_from = |from: usize, set: &[char]| url[from..].find(set).map(|i| i + from);
    let early_path = find_from(search_start, &['/', '?', ';']);
    let protocol_end = url[search_start..]
        .find("://")
        .map(|i| i + search_start)
        .filter(|p| early_path.is_none_or(|e| e >= *p))
        .map_or(search_start, |p| p + 3);
    let Some(path_start) = find_from(protocol_end, &['/', '?', ';']) else {
        return "/".to_string();
    };
    let hash = find_from(search_start, &['#']);
    if hash.is_some_and(|h| h < path_start) {
        return "/".to_string();
    }
    let path = &url[path_start..hash.unwrap_or(url.len())];
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

fn normalize_path(path: &str) -> String {
    percent_normalize(path.as_bytes())
}

fn normalize_pattern(value: &[u8]) -> String {
    percent_normalize(value)
}

/// RFC 9309 2.2.2 / RFC 3986 6.2.2 normalisation: `%xx` upper-cased, unreserved escapes decoded,
/// bytes outside printable ASCII (space included) encoded. `*` and `$` are printable and left
/// alone (operators in patterns), while `%2A`/`%24` stay encoded and so match literally.
fn percent_normalize(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() + 8);
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%'
            && i + 2 < input.len()
            && let (Some(h), Some(l)) = (hex_val(input[i + 1]), hex_val(input[i + 2]))
        {
            let decoded = h * 16 + l;
            if decoded.is_ascii_alphanumeric() || b"-._~".contains(&decoded) {
                out.push(decoded as char);
            } else {
                out.push('%');
                out.push(HEX[h as usize] as char);
                out.push(HEX[l as usize] as char);
            }
            i += 3;
            continue;
        }
        if b > 0x20 && b < 0x7F {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Does `pattern` (with `*` wildcards and an optional trailing `$`) match a prefix of `path` —
/// or all of it when anchored?
fn matches(pattern: &[u8], path: &[u8]) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix(b"$") {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let mut pieces = pattern.split(|b| *b == b'*');
    let first = pieces.next().unwrap_or_default();
    if !path.starts_with(first) {
        return false;
    }
    let mut rest = &path[first.len()..];
    let pieces: Vec<&[u8]> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        // No `*`: a plain prefix, or the whole path when anchored.
        return !anchored || rest.is_empty();
    };
    for piece in middle {
        match find(rest, piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    if anchored {
        rest.ends_with(last)
    } else {
        find(rest, last).is_some()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(robots: &str, token: &str, url: &str) -> bool {
        RobotsRules::parse(robots.as_bytes(), token).allowed(url)
    }

    #[test]
    fn longest_match_and_allow_wins_ties() {
        let r = "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/\n";
        assert!(!allowed(r, "FooBot", "http://foo.bar/x/page.html"));
        assert!(allowed(r, "foobot", "http://foo.bar/x/other"));
        let tie = "user-agent: *\nallow: /a\ndisallow: /a\n";
        assert!(allowed(tie, "x", "http://h/a"));
    }

    #[test]
    fn wildcards_and_anchor() {
        let r = "user-agent: *\ndisallow: /*.pdf$\ndisallow: /p*q\nallow: /$\ndisallow: /\n";
        assert!(allowed(r, "b", "http://h/"));
        assert!(!allowed(r, "b", "http://h/x"));
        let r = "user-agent: *\ndisallow: /*.pdf$\ndisallow: /p*q/\n";
        assert!(!allowed(r, "b", "http://h/d/a.pdf"));
        assert!(allowed(r, "b", "http://h/d/a.pdf?x=1"));
        assert!(!allowed(r, "b", "http://h/pxxq/z"));
        assert!(allowed(r, "b", "http://h/pxxq"));
        assert!(matches(b"/a*b*c$", b"/a-b-b-c"));
        assert!(!matches(b"/a*b*c$", b"/a-b-c-d"));
        assert!(matches(b"*", b"/anything"));
    }

    #[test]
    fn groups_merge_and_do_not_inherit_star() {
        let r = "user-agent: *\ndisallow: /s\n\nuser-agent: FooBot\ndisallow: /a\n\n\
                 user-agent: BarBot\nuser-agent: foobot\n\ndisallow: /b\nsitemap: http://h/sm.xml\n\
                 disallow: /c\n";
        let rules = RobotsRules::parse(r.as_bytes(), "FOOBOT");
        assert!(!rules.allowed("http://h/a") && !rules.allowed("http://h/b"));
        assert!(!rules.allowed("http://h/c"), "sitemap does not end a group");
        assert!(rules.allowed("http://h/s"), "specific group ignores *");
        assert_eq!(rules.sitemaps, ["http://h/sm.xml"]);
        assert!(!allowed(r, "other", "http://h/s"));
        assert!(
            allowed(r, "foo", "http://h/a"),
            "no prefix matching of tokens"
        );
    }

    #[test]
    fn percent_encoding_is_normalized_on_both_sides() {
        let r = "user-agent: *\ndisallow: /caf%c3%a9\ndisallow: /%7Euser\ndisallow: /a%2Fb\n";
        assert!(!allowed(r, "b", "http://h/café"));
        assert!(!allowed(r, "b", "http://h/caf%C3%A9"));
        assert!(!allowed(r, "b", "http://h/~user/x"));
        assert!(allowed(r, "b", "http://h/a/b"));
        assert!(!allowed(r, "b", "http://h/a%2fb"));
    }

    #[test]
    fn robots_txt_bom_line_endings_and_stray_rules() {
        let r = "\u{FEFF}disallow: /early\nuser-agent: *\rdisallow: /\r\n";
        assert!(allowed(r, "b", "http://h/robots.txt"));
        assert!(!allowed(r, "b", "http://h/x"));
        let r = "disallow: /early\nuser-agent: *\ndisallow: /late\n";
        assert!(allowed(r, "b", "http://h/early"));
        assert!(allowed(r, "b", "http://h/x#frag"));
        assert!(!allowed(r, "b", "http://h/late?q"));
    }

    #[test]
    fn path_extraction() {
        let table = [
            ("http://h/a/b?c=d#f", "/a/b?c=d"),
            ("http://h", "/"),
            ("http://h?q", "/?q"),
            ("https://h:8080/x", "/x"),
            ("example.com/a", "/a"),
            ("//a/b/c", "/b/c"),
            ("", "/"),
            ("a", "/"),
            ("/a", "/a"),
        ];
        for (url, want) in table {
            assert_eq!(path_of(url), want, "{url}");
        }
    }

    #[test]
    fn crawl_delay_of_our_group() {
        let r = "user-agent: *\ncrawl-delay: 9\n\nuser-agent: baqylau\ncrawl-delay: 1.5\n";
        assert_eq!(
            RobotsRules::parse(r.as_bytes(), "baqylau").crawl_delay,
            Some(1.5)
        );
        assert_eq!(RobotsRules::parse(r.as_bytes(), "x").crawl_delay, Some(9.0));
    }

    #[test]
    fn lenient_lines_are_read_the_way_google_reads_them() {
        // typos and prefixes of directive names
        for line in [
            "Dissallow: /p",
            "disalow: /p",
            "DIASLLOW: /p",
            "Disallowed: /p",
        ] {
            let r = format!("user-agent: *\n{line}\n");
            assert!(!allowed(&r, "baqylau", "http://h/p"), "{line}");
        }
        assert!(!allowed(
            "useragent: baqylau\ndisallow: /",
            "baqylau",
            "http://h/"
        ));
        assert!(!allowed(
            "User agent: baqylau\ndisallow: /",
            "baqylau",
            "http://h/"
        ));
        // a forgotten colon, only when the line is exactly two words
        assert!(!allowed(
            "user-agent *\ndisallow /p\n",
            "baqylau",
            "http://h/p"
        ));
        assert!(allowed(
            "user-agent: *\ndisallow / p q\n",
            "baqylau",
            "http://h/p"
        ));
        // the product token of a user-agent value; `* anything` is the global group
        let r = "user-agent: *\nallow: /\n\nuser-agent: Baqylau/2.1 (+http://x)\ndisallow: /\n";
        assert!(!allowed(r, "baqylau", "http://h/a"));
        assert!(!allowed(
            "user-agent: * SomeBot\ndisallow: /",
            "baqylau",
            "http://h/a"
        ));
        assert!(allowed(
            "user-agent: *x\ndisallow: /",
            "baqylau",
            "http://h/a"
        ));
        // a crawler token that is not a product token names no group
        assert!(allowed(
            "user-agent: foo\ndisallow: /",
            "foo bar",
            "http://h/a"
        ));
        // index.html allows its directory
        let r = "user-agent: *\nallow: /d/index.html\ndisallow: /\n";
        assert!(allowed(r, "baqylau", "http://h/d/"));
        assert!(!allowed(r, "baqylau", "http://h/d/x"));
        // a partial BOM is skipped; over-long lines are cut
        assert!(!allowed(
            "\u{FEFF}user-agent: *\ndisallow: /",
            "baqylau",
            "http://h/"
        ));
        let partial = b"\xEF\xBBuser-agent: *\ndisallow: /".to_vec();
        assert!(!RobotsRules::parse(&partial, "baqylau").allowed("http://h/"));
        let long = format!("user-agent: *\ndisallow: /{}\n", "a".repeat(MAX_LINE));
        assert!(!allowed(
            &long,
            "baqylau",
            &format!("http://h/{}", "a".repeat(MAX_LINE - 5))
        ));
    }
}
