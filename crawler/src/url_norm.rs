//! URL normalization: one spelling per resource, so the frontier fetches it once.
//!
//! The `url` crate already lowercases scheme and host, drops the default port, resolves dot
//! segments and IDNA-encodes names; on top of that we drop the fragment, strip session and
//! tracking parameters (`PHPSESSID`, `jsessionid`, `sid`, `utm_*`, …, including `;jsessionid=`
//! path parameters), sort the remaining query parameters and refuse non-http(s) schemes and
//! overlong URLs. Query pieces are kept byte-for-byte (only reordered) so that a server sees
//! exactly the encoding the page used.

use url::Url;

/// Why a link was not turned into a crawlable URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormError {
    /// Not a URL, even relative to the page.
    #[error("not a valid url: {0}")]
    Parse(String),
    /// `mailto:`, `javascript:`, `ftp:`, `data:`… — only http(s) is crawled.
    #[error("unsupported scheme {0:?}")]
    Scheme(String),
    /// No host name.
    #[error("url has no host")]
    NoHost,
    /// Longer than the configured cap (crawler traps grow URLs without bound).
    #[error("url is {len} bytes, over the {max}-byte cap")]
    TooLong {
        /// Length of the normalized URL.
        len: usize,
        /// The cap.
        max: usize,
    },
}

/// Query parameters (compared case-insensitively) that identify a session or a campaign, not
/// a resource.
const DROPPED_PARAMS: &[&str] = &[
    "phpsessid",
    "jsessionid",
    "sid",
    "sessionid",
    "session_id",
    "aspsessionid",
    "cfid",
    "cftoken",
    "gclid",
    "fbclid",
    "yclid",
    "_openstat",
];

fn is_dropped_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_") || DROPPED_PARAMS.contains(&key.as_str())
}

/// Normalizes `input`, resolved against `base` when given (a link on a page), into the
/// canonical form used as the frontier key.
pub fn normalize(input: &str, base: Option<&Url>, max_len: usize) -> Result<Url, NormError> {
    let input = input.trim();
    let parsed = match base {
        Some(b) => b.join(input),
        None => Url::parse(input),
    };
    let mut url = parsed.map_err(|e| NormError::Parse(e.to_string()))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(NormError::Scheme(other.to_string())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(NormError::NoHost);
    }
    url.set_fragment(None);
    // Credentials in a crawled URL are never wanted (and would leak into logs and the index).
    let _ = url.set_username("");
    let _ = url.set_password(None);

    let path = url.path();
    if let Some(stripped) = strip_path_session(path) {
        url.set_path(&stripped);
    }

    if let Some(query) = url.query() {
        let mut pieces: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let key = p.split('=').next().unwrap_or_default();
                !is_dropped_param(key)
            })
            .collect();
        // Sort by key, then by the whole piece; stable so repeated keys keep a deterministic order.
        pieces.sort_by(|a, b| {
            let ka = a.split('=').next().unwrap_or_default();
            let kb = b.split('=').next().unwrap_or_default();
            ka.cmp(kb).then_with(|| a.cmp(b))
        });
        if pieces.is_empty() {
            url.set_query(None);
        } else {
            let joined = pieces.join("&");
            url.set_query(Some(&joined));
        }
    }

    let len = url.as_str().len();
    if len > max_len {
        return Err(NormError::TooLong { len, max: max_len });
    }
    Ok(url)
}

/// Removes `;jsessionid=…` (any case, also `;phpsessid=`…) path parameters.
fn strip_path_session(path: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    if !lower.contains(';') {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    let mut changed = false;
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let mut parts = segment.split(';');
        out.push_str(parts.next().unwrap_or_default());
        for param in parts {
            let key = param.split('=').next().unwrap_or_default();
            if is_dropped_param(key) {
                changed = true;
            } else {
                out.push(';');
                out.push_str(param);
            }
        }
    }
    changed.then_some(out)
}

/// The politeness key of a URL: host name plus the port when it is not the scheme's default.
pub(crate) fn host_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 2048;

    #[test]
    fn normalizes_table() {
        let table: &[(&str, &str)] = &[
            ("HTTP://Example.KZ:80/a/./b/../c", "http://example.kz/a/c"),
            ("https://example.kz:443", "https://example.kz/"),
            ("https://example.kz:8443/x", "https://example.kz:8443/x"),
            ("http://example.kz/p#section", "http://example.kz/p"),
            ("http://example.kz/p?b=2&a=1", "http://example.kz/p?a=1&b=2"),
            (
                "http://example.kz/p?utm_source=tg&id=7&PHPSESSID=abc&utm_medium=x",
                "http://example.kz/p?id=7",
            ),
            ("http://example.kz/p?sid=1&fbclid=2", "http://example.kz/p"),
            (
                "http://example.kz/shop;jsessionid=ABC123?q=1",
                "http://example.kz/shop?q=1",
            ),
            ("http://example.kz/p?", "http://example.kz/p"),
            ("http://user:pw@example.kz/", "http://example.kz/"),
            (
                "http://пример.қаз/путь",
                "http://xn--e1afmkfd.xn--80ao21a/%D0%BF%D1%83%D1%82%D1%8C",
            ),
            (
                "http://example.kz/s/chan?before=100",
                "http://example.kz/s/chan?before=100",
            ),
            (
                "http://example.kz/p?q=a+b&q=a%20b",
                "http://example.kz/p?q=a%20b&q=a+b",
            ),
        ];
        for (input, want) in table {
            assert_eq!(
                normalize(input, None, MAX).unwrap().as_str(),
                *want,
                "{input}"
            );
        }
    }

    #[test]
    fn resolves_relative_links() {
        let base = Url::parse("http://example.kz/dir/page.html").unwrap();
        let table: &[(&str, &str)] = &[
            ("other.html", "http://example.kz/dir/other.html"),
            ("../up", "http://example.kz/up"),
            ("/abs?utm_campaign=x", "http://example.kz/abs"),
            ("//cdn.example.kz/x", "http://cdn.example.kz/x"),
            ("#top", "http://example.kz/dir/page.html"),
        ];
        for (input, want) in table {
            assert_eq!(normalize(input, Some(&base), MAX).unwrap().as_str(), *want);
        }
    }

    #[test]
    fn rejects_table() {
        let base = Url::parse("http://example.kz/").unwrap();
        assert_eq!(
            normalize("mailto:a@b.kz", Some(&base), MAX),
            Err(NormError::Scheme("mailto".into()))
        );
        assert_eq!(
            normalize("javascript:void(0)", Some(&base), MAX),
            Err(NormError::Scheme("javascript".into()))
        );
        assert!(matches!(
            normalize("ftp://example.kz/f", None, MAX),
            Err(NormError::Scheme(_))
        ));
        assert!(matches!(
            normalize("not a url", None, MAX),
            Err(NormError::Parse(_))
        ));
        let long = format!("http://example.kz/{}", "a".repeat(100));
        assert!(matches!(
            normalize(&long, None, 50),
            Err(NormError::TooLong { max: 50, .. })
        ));
    }

    #[test]
    fn host_key_keeps_non_default_port() {
        let u = |s| Url::parse(s).unwrap();
        assert_eq!(host_key(&u("http://a.kz/")), "a.kz");
        assert_eq!(host_key(&u("http://a.kz:80/")), "a.kz");
        assert_eq!(host_key(&u("http://a.kz:8080/")), "a.kz:8080");
    }
}
