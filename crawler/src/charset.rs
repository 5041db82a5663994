//! Character-set detection and decoding of HTML bodies.
//!
//! Russian-language sites still serve windows-1251, KOI8-R and IBM866, often with a wrong or
//! missing header, so the order follows the HTML standard's sniffing: byte-order mark, then the
//! `Content-Type` charset, then a `<meta charset>` / `http-equiv` declaration in the first
//! 1024 bytes, then statistical detection (chardetng, hinted with the host's TLD). Decoding never
//! fails: malformed bytes become U+FFFD and are counted by the caller through `had_errors`.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How many leading bytes the `<meta>` prescan looks at (as the HTML standard does).
const PRESCAN_BYTES: usize = 1024;

/// Which signal chose the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// A byte-order mark.
    Bom,
    /// The `charset` parameter of the HTTP `Content-Type`.
    Header,
    /// A `<meta>` declaration in the document head.
    Meta,
    /// Statistical detection over the bytes.
    Detected,
}

/// A decoded body.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text as UTF-8.
    pub text: String,
    /// The encoding it was decoded from; `name()` is what a capture records (`windows-1251`).
    pub encoding: &'static Encoding,
    /// Which signal chose the encoding.
    pub source: CharsetSource,
    /// True when malformed byte sequences were replaced.
    pub had_errors: bool,
}

/// Decodes an HTML body. `tld` (e.g. `kz`, `ru`) steers the statistical fallback.
pub fn decode_html(body: &[u8], content_type: Option<&str>, tld: Option<&str>) -> Decoded {
    let (encoding, source, bom_len) = if let Some((enc, len)) = Encoding::for_bom(body) {
        (enc, CharsetSource::Bom, len)
    } else if let Some(enc) = content_type.and_then(charset_from_content_type) {
        (enc, CharsetSource::Header, 0)
    } else if let Some(enc) = prescan_meta(body) {
        (enc, CharsetSource::Meta, 0)
    } else {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(body, true);
        let tld = tld.map(str::as_bytes);
        (
            detector.guess(tld, chardetng::Utf8Detection::Allow),
            CharsetSource::Detected,
            0,
        )
    };
    let rest = body.get(bom_len..).unwrap_or_default();
    let (text, had_errors) = encoding.decode_without_bom_handling(rest);
    Decoded {
        text: text.into_owned(),
        encoding,
        source,
        had_errors,
    }
}

/// The encoding named by a `Content-Type` value's `charset` parameter, if known.
fn charset_from_content_type(ct: &str) -> Option<&'static Encoding> {
    ct.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        label_to_encoding(v.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// Per the HTML standard a declared UTF-16 in `<meta>` means UTF-8 and `x-user-defined` means
/// windows-1252.
fn label_to_encoding(label: &[u8]) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(label)?;
    Some(
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            UTF_8
        } else if enc == encoding_rs::X_USER_DEFINED {
            WINDOWS_1252
        } else {
            enc
        },
    )
}

/// Finds `charset=` inside a `<meta …>` tag in the first [`PRESCAN_BYTES`] bytes. Covers both
/// `<meta charset="koi8-r">` and `<meta http-equiv="Content-Type" content="text/html;
/// charset=windows-1251">`.
fn prescan_meta(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(PRESCAN_BYTES)];
    let lower = head.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(found) = find(&lower[pos..], b"<meta") {
        let start = pos + found + 5;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let mut rest = &tag[c + 7..];
            rest = trim_ascii_start(rest);
            if let Some(after_eq) = rest.strip_prefix(b"=") {
                let value = trim_ascii_start(after_eq);
                let value = value
                    .strip_prefix(b"\"")
                    .or_else(|| value.strip_prefix(b"'"))
                    .unwrap_or(value);
                let len = value
                    .iter()
                    .position(|b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(value.len());
                if let Some(enc) = label_to_encoding(&value[..len]) {
                    return Some(enc);
                }
            }
        }
        pos = end;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RU: &str = "Гарантированный доход тридцать процентов в месяц. Приглашайте друзей \
                      и получайте пассивный доход без вложений, выплаты каждый день.";

    fn encode(enc: &'static Encoding, s: &str) -> Vec<u8> {
        enc.encode(s).0.into_owned()
    }

    #[test]
    fn windows_1251_from_header() {
        let body = encode(encoding_rs::WINDOWS_1251, &format!("<p>{RU}</p>"));
        let d = decode_html(&body, Some("text/html; charset=Windows-1251"), None);
        assert_eq!(d.encoding.name(), "windows-1251");
        assert_eq!(d.source, CharsetSource::Header);
        assert!(d.text.contains("пассивный доход"));
    }

    #[test]
    fn koi8_r_from_meta_http_equiv() {
        let html = format!(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\">\
             </head><body>{RU}</body></html>"
        );
        let body = encode(encoding_rs::KOI8_R, &html);
        let d = decode_html(&body, Some("text/html"), None);
        assert_eq!(d.encoding.name(), "KOI8-R");
        assert_eq!(d.source, CharsetSource::Meta);
        assert!(d.text.contains("Приглашайте друзей"));
    }

    #[test]
    fn meta_charset_only() {
        let html = format!("<meta charset='windows-1251'><title>т</title><p>{RU}</p>");
        let body = encode(encoding_rs::WINDOWS_1251, &html);
        let d = decode_html(&body, None, None);
        assert_eq!(d.encoding.name(), "windows-1251");
        assert_eq!(d.source, CharsetSource::Meta);
        assert!(d.text.contains("выплаты каждый день"));
    }

    #[test]
    fn utf8_bom_wins_over_header() {
        let mut body = vec![0xEF, 0xBB, 0xBF];
        body.extend_from_slice("Қазақстан".as_bytes());
        let d = decode_html(&body, Some("text/html; charset=windows-1251"), None);
        assert_eq!(d.encoding, UTF_8);
        assert_eq!(d.source, CharsetSource::Bom);
        assert_eq!(d.text, "Қазақстан");
    }

    #[test]
    fn detects_windows_1251_without_any_declaration() {
        let body = encode(encoding_rs::WINDOWS_1251, &format!("<p>{RU}</p>"));
        let d = decode_html(&body, None, Some("kz"));
        assert_eq!(d.encoding.name(), "windows-1251");
        assert_eq!(d.source, CharsetSource::Detected);
        assert!(d.text.contains("Гарантированный"));
    }

    #[test]
    fn ibm866_and_utf16_meta_rules() {
        assert_eq!(
            charset_from_content_type("text/html; charset=\"cp866\""),
            Some(encoding_rs::IBM866)
        );
        assert_eq!(prescan_meta(b"<meta charset=utf-16>"), Some(UTF_8));
        assert_eq!(prescan_meta(b"<meta name=x content=y>"), None);
        assert_eq!(charset_from_content_type("text/html"), None);
    }
}
