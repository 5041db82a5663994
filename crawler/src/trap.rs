//! Crawler-trap heuristics: URLs that a site can generate without end and that hold nothing new.
//!
//! The frontier's caps (URL length, depth, pages per host) bound any trap eventually; these
//! checks stop the common ones early, before they eat a host's page budget — the same rules
//! Heritrix ships as `PathologicalPathDecideRule` and `TooManyPathSegmentsDecideRule`, plus a
//! calendar rule: "next month" links on event calendars run forever.
//!
//! - a path segment repeated 3 or more times (`/a/b/a/b/a/b`, relative-link loops);
//! - more than [`MAX_SEGMENTS`] path segments;
//! - a calendar date (a four-digit year standing alone in the path or query, 1900–2199) more
//!   than one year ahead or [`MAX_YEARS_BACK`] years back.

use chrono::Datelike;
use url::Url;

/// Most path segments in a crawlable URL.
pub const MAX_SEGMENTS: usize = 16;
/// Oldest year (relative to now) a calendar-like URL may name.
pub const MAX_YEARS_BACK: i32 = 30;

/// Why `url` looks like a trap, if it does.
pub fn trap_reason(url: &Url) -> Option<&'static str> {
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() > MAX_SEGMENTS {
        return Some("too many path segments");
    }
    for (i, seg) in segments.iter().enumerate() {
        if segments[i + 1..].iter().filter(|s| *s == seg).count() >= 2 {
            return Some("repeating path segment");
        }
    }
    let year_now = chrono::Utc::now().year();
    let text = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    for year in standalone_years(&text) {
        if year > year_now + 1 || year < year_now - MAX_YEARS_BACK {
            return Some("calendar date out of range");
        }
    }
    None
}

/// Four-digit numbers 1900–2199 not adjacent to other digits or letters.
fn standalone_years(s: &str) -> impl Iterator<Item = i32> + '_ {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(3)).filter_map(move |i| {
        let word = |j: usize| b[j].is_ascii_alphanumeric();
        if !b[i..i + 4].iter().all(u8::is_ascii_digit)
            || (i > 0 && word(i - 1))
            || (i + 4 < b.len() && word(i + 4))
        {
            return None;
        }
        let y: i32 = s[i..i + 4].parse().ok()?;
        (1900..2200).contains(&y).then_some(y)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        trap_reason(&Url::parse(s).unwrap())
    }

    #[test]
    fn traps_table() {
        let y = chrono::Utc::now().year();
        let table = [
            ("http://a.kz/news/2024/05/item", None),
            ("http://a.kz/a/b/a/b/c", None),
            ("http://a.kz/a/b/a/b/a/b", Some("repeating path segment")),
            ("http://a.kz/x/x/x", Some("repeating path segment")),
            ("http://a.kz/item/12345678", None),
            ("http://a.kz/p?id=20991", None),
        ];
        for (url, want) in table {
            assert_eq!(reason(url), want, "{url}");
        }
        let deep = format!(
            "http://a.kz/{}",
            (0..17).map(|i| format!("s{i}/")).collect::<String>()
        );
        assert_eq!(reason(&deep), Some("too many path segments"));
        let next_year = format!("http://a.kz/cal?month={}-01", y + 1);
        assert_eq!(reason(&next_year), None);
        let far = format!("http://a.kz/cal?month={}-01", y + 2);
        assert_eq!(reason(&far), Some("calendar date out of range"));
        let old = format!("http://a.kz/events/{}/01/", y - 31);
        assert_eq!(reason(&old), Some("calendar date out of range"));
    }
}
