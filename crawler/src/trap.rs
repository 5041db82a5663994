//! Crawler-trap heuristics: URLs that a site can generate without end and that hold nothing new.
//!
//! The frontier's caps (URL length, depth, pages per host) bound any trap eventually; these
//! checks stop the common ones early, before they eat a host's page budget — the same rules
//! Heritrix ships as `PathologicalPathDecideRule` and `TooManyPathSegmentsDecideRule`, plus a
//! calendar rule: "next month" links on event calendars run forever.
//!
//! - a path segment repeated 3 or more times (`/a/b/a/b/a/b`, relative-link loops);
//! - more than [`MAX_SEGMENTS`] path segments;
//! - a calendar date more than one year ahead or [`MAX_YEARS_BACK`] years back: a four-digit
//!   year (1900–2199) next to a month (`2031-05`, `2031/05`, `05.2031`), or the value of a query
//!   parameter named like a date (`year=`, `date=`, `month=`, `cal…`). A bare number such as
//!   `/p/2100.html` is an id, not a date.

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
    let out_of_range = |y: i32| y > year_now + 1 || y < year_now - MAX_YEARS_BACK;
    if calendar_years(url.path()).any(out_of_range) {
        return Some("calendar date out of range");
    }
    for (key, value) in url.query_pairs() {
        let key = key.to_ascii_lowercase();
        let date_key = ["year", "date", "month", "cal", "day"]
            .iter()
            .any(|k| key.contains(k));
        let years: Vec<i32> = if date_key {
            standalone_years(&value).collect()
        } else {
            calendar_years(&value).collect()
        };
        if years.into_iter().any(out_of_range) {
            return Some("calendar date out of range");
        }
    }
    None
}

/// Years that stand next to a month number: `YYYY-MM`, `YYYY/MM`, `YYYY.MM`, `MM.YYYY`…
fn calendar_years(s: &str) -> impl Iterator<Item = i32> + '_ {
    let b = s.as_bytes();
    let month_at = move |i: usize, forward: bool| -> bool {
        // One or two digits 1..=12 starting (forward) or ending (backward) at byte i.
        let digits: Vec<u8> = if forward {
            b[i..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .copied()
                .collect()
        } else {
            let mut v: Vec<u8> = b[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .copied()
                .collect();
            v.reverse();
            v
        };
        matches!(digits.len(), 1 | 2)
            && std::str::from_utf8(&digits)
                .ok()
                .and_then(|d| d.parse::<u32>().ok())
                .is_some_and(|m| (1..=12).contains(&m))
    };
    let sep = |c: u8| matches!(c, b'-' | b'/' | b'.' | b'_');
    standalone_year_positions(s).filter_map(move |(i, y)| {
        let after = i + 4 < b.len() && sep(b[i + 4]) && month_at(i + 5, true);
        let before = i >= 2 && sep(b[i - 1]) && month_at(i - 1, false);
        (after || before).then_some(y)
    })
}

fn standalone_years(s: &str) -> impl Iterator<Item = i32> + '_ {
    standalone_year_positions(s).map(|(_, y)| y)
}

/// Four-digit numbers 1900–2199 not adjacent to other digits or letters, with their offsets.
fn standalone_year_positions(s: &str) -> impl Iterator<Item = (usize, i32)> + '_ {
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
        (1900..2200).contains(&y).then_some((i, y))
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
            ("http://a.kz/p/2100.html", None),
            ("http://a.kz/p/1905", None),
            ("http://a.kz/item?id=2150", None),
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
        let dotted = format!("http://a.kz/archive/05.{}", y + 3);
        assert_eq!(reason(&dotted), Some("calendar date out of range"));
        let by_key = format!("http://a.kz/cal?year={}", y + 5);
        assert_eq!(reason(&by_key), Some("calendar date out of range"));
    }
}
