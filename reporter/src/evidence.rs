//! From a flagged capture to case material: dedup keys, evidence records, screenshot requests.
//!
//! These are pure functions so that every store backend groups hits and keeps evidence the same
//! way, and so that the rules (what is "the same resource", which URL a screenshot opens, which
//! fragments it highlights) are tested without a database or a browser.

use std::collections::BTreeMap;

use model::{
    Capture, Evidence, Field, Hit, Screenshot, ScreenshotRequest, Severity, Source, StoreError,
};

/// Canonical resource a case is about: the capture URL. For a Telegram post the crawler already
/// sets it to the stable post URL (`http://t.me/<channel>/<id>`), so one post is one resource.
pub fn canonical_resource(capture: &Capture) -> &str {
    capture.url.trim()
}

/// Dedup key of the case a hit of `category` on `capture` belongs to: `category|resource`.
pub fn dedup_key(category: &str, capture: &Capture) -> String {
    format!("{category}|{}", canonical_resource(capture))
}

/// Hits grouped by category (one case per category), categories in sorted order.
pub fn hits_by_category(hits: &[Hit]) -> BTreeMap<&str, Vec<&Hit>> {
    let mut groups: BTreeMap<&str, Vec<&Hit>> = BTreeMap::new();
    for h in hits {
        groups.entry(h.category.as_str()).or_default().push(h);
    }
    groups
}

/// Highest severity of `hits` (`Low` for none).
pub fn max_severity<'a>(hits: impl IntoIterator<Item = &'a Hit>) -> Severity {
    hits.into_iter()
        .map(|h| h.severity)
        .max()
        .unwrap_or(Severity::Low)
}

/// How a severity is stored, in every backend.
pub fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

/// The severity stored as `s`.
pub fn parse_severity(s: &str) -> Option<Severity> {
    [Severity::Low, Severity::Medium, Severity::High]
        .into_iter()
        .find(|v| severity_str(*v) == s)
}

/// The evidence record of a capture, without a screenshot yet.
pub fn evidence_of(capture: &Capture) -> Evidence {
    Evidence {
        capture_id: capture.id.clone(),
        captured_at: capture.fetched_at,
        url: capture.url.clone(),
        final_url: capture.final_url.clone(),
        ip: capture.ip.clone(),
        http_status: capture.status,
        protocol: capture.protocol.clone(),
        body_sha256: capture.body_sha256.clone(),
        warc: capture.warc.clone(),
        title: capture.title.clone(),
        text: capture.text.clone(),
        screenshot: None,
    }
}

/// URL a screenshot of the capture opens: the final URL of a web page (what a person sees after
/// redirects), the post URL of a Telegram post.
pub fn screenshot_url(capture: &Capture) -> &str {
    match capture.source {
        Source::Telegram { .. } => &capture.url,
        Source::Web if !capture.final_url.is_empty() => &capture.final_url,
        Source::Web => &capture.url,
    }
}

/// Distinct text fragments the hits matched, in order of appearance: taken from the spans in the
/// capture's text and title (exactly as published), else from the hit's `matched` summary.
pub fn highlight_fragments<'a>(
    capture: &Capture,
    hits: impl IntoIterator<Item = &'a Hit>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        let s = s.trim();
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    };
    for h in hits {
        let mut found = false;
        for span in &h.spans {
            let field = match span.field {
                Field::Text => &capture.text,
                Field::Title => &capture.title,
                Field::Url => continue,
            };
            // `get` refuses out-of-range offsets and offsets inside a multi-byte character.
            if let Some(s) = field.get(span.start..span.end) {
                push(s);
                found = true;
            }
        }
        if !found {
            h.matched.split(" … ").for_each(&mut push);
        }
    }
    out
}

/// The screenshot request for a capture newly added as evidence to `case_id`.
pub fn screenshot_request<'a>(
    case_id: i64,
    capture: &Capture,
    hits: impl IntoIterator<Item = &'a Hit>,
) -> ScreenshotRequest {
    ScreenshotRequest {
        case_id,
        capture_id: capture.id.clone(),
        url: screenshot_url(capture).to_string(),
        highlight: highlight_fragments(capture, hits),
    }
}

/// Checks a screenshot before it is stored: a relative path inside the blobs directory and a
/// SHA-256 in lowercase hex.
pub fn check_screenshot(shot: &Screenshot) -> Result<(), StoreError> {
    let inside = !shot.path.is_empty()
        && std::path::Path::new(&shot.path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside {
        return Err(StoreError::Invalid(format!(
            "screenshot path {:?} must be relative to the blobs directory",
            shot.path
        )));
    }
    let hex_ok = shot.sha256.len() == 64
        && shot
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok {
        return Err(StoreError::Invalid(format!(
            "screenshot sha256 {:?} is not 64 lowercase hex digits",
            shot.sha256
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::DateTime;
    use model::Span;

    /// A capture of a Kazakh/Russian casino page, shared by the crate's tests.
    pub(crate) fn capture(url: &str, secs: i64) -> Capture {
        let at = DateTime::from_timestamp(secs, 0).unwrap();
        Capture {
            id: model::capture_id(url, at),
            url: url.into(),
            final_url: format!("{url}?r=1"),
            host: "casino.kz".into(),
            source: Source::Web,
            fetched_at: at,
            published_at: None,
            depth: 0,
            status: Some(200),
            ip: Some("127.0.0.1".into()),
            protocol: "HTTP/1.1".into(),
            content_type: Some("text/html".into()),
            charset: Some("utf-8".into()),
            title: "Онлайн казино".into(),
            text: "Тіркел де бонус ал! Онлайн казино без лицензии, выигрыш гарантирован.".into(),
            lang: Some("mixed".into()),
            body_sha256: Some(model::sha256_hex(b"body")),
            body_len: 4,
            warc: None,
            error: None,
            indicators: Vec::new(),
        }
    }

    /// A hit on the first occurrence of `needle` in the capture's text.
    pub(crate) fn hit(c: &Capture, rule: &str, category: &str, needle: &str, sev: Severity) -> Hit {
        let start = c.text.find(needle).expect("needle in text");
        Hit {
            capture_id: c.id.clone(),
            rule: rule.into(),
            rule_version: 1,
            category: category.into(),
            severity: sev,
            score: 0.8,
            spans: vec![Span {
                field: Field::Text,
                start,
                end: start + needle.len(),
            }],
            matched: needle.into(),
        }
    }

    #[test]
    fn dedup_key_is_category_and_resource() {
        let c = capture("http://casino.kz/", 1_700_000_000);
        assert_eq!(
            dedup_key("illegal_gambling", &c),
            "illegal_gambling|http://casino.kz/"
        );
    }

    #[test]
    fn screenshot_url_per_source() {
        let mut c = capture("http://casino.kz/", 1_700_000_000);
        assert_eq!(screenshot_url(&c), "http://casino.kz/?r=1");
        c.url = "http://t.me/drop_kz/42".into();
        c.final_url = "http://t.me/s/drop_kz".into();
        c.source = Source::Telegram {
            channel: "drop_kz".into(),
            post_id: 42,
            views: None,
        };
        assert_eq!(screenshot_url(&c), "http://t.me/drop_kz/42");
    }

    #[test]
    fn fragments_come_from_spans_then_matched() {
        let c = capture("http://casino.kz/", 1_700_000_000);
        let a = hit(
            &c,
            "gambling.casino",
            "illegal_gambling",
            "Онлайн казино",
            Severity::High,
        );
        let dup = a.clone();
        let mut broken = hit(
            &c,
            "gambling.bonus",
            "illegal_gambling",
            "бонус",
            Severity::Low,
        );
        // A span inside a two-byte letter: unusable, fall back to the summary.
        broken.spans[0].start += 1;
        broken.matched = "бонус … тіркел".into();
        let got = highlight_fragments(&c, [&a, &dup, &broken]);
        assert_eq!(got, vec!["Онлайн казино", "бонус", "тіркел"]);
    }

    #[test]
    fn severity_is_the_maximum() {
        let c = capture("http://casino.kz/", 1_700_000_000);
        let lo = hit(&c, "a", "x", "бонус", Severity::Low);
        let hi = hit(&c, "b", "x", "казино", Severity::High);
        assert_eq!(max_severity([&lo, &hi]), Severity::High);
        assert_eq!(max_severity([&lo]), Severity::Low);
    }
}
