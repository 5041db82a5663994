//! A deliberately small language tag for captures: `kk`, `ru`, `en` or `mixed`.
//!
//! General detectors label Kazakh as another Cyrillic language (DESIGN §8), so we count letters:
//! the Kazakh-specific letters (ә ғ қ ң ө ұ ү һ і) decide `kk`; otherwise the Cyrillic/Latin
//! balance decides. The classifier work will refine this; it lives alone so it can be replaced.

/// Share of Kazakh-specific letters among Cyrillic ones from which a text is tagged `kk`.
/// Running Kazakh text has about 8–12 %; a Russian text quoting one Kazakh word stays below.
const KK_SHARE: f64 = 0.05;
/// Minimum share of each script for `mixed`.
const MIXED_SHARE: f64 = 0.3;

/// Tags `text` with a language code, or `None` when it has too few letters to say.
pub fn detect(text: &str) -> Option<&'static str> {
    let (cyr, kk, lat) = letter_counts(text);
    let letters = cyr + lat;
    if letters < 3 {
        return None;
    }
    let (cyr_share, lat_share) = (cyr as f64 / letters as f64, lat as f64 / letters as f64);
    if cyr_share >= MIXED_SHARE && lat_share >= MIXED_SHARE {
        return Some("mixed");
    }
    if cyr > lat {
        if kk as f64 / cyr as f64 >= KK_SHARE {
            Some("kk")
        } else {
            Some("ru")
        }
    } else {
        Some("en")
    }
}

/// Cyrillic letters, Kazakh-specific letters among them, and Latin letters in `text`.
///
/// Counted over the UTF-8 bytes rather than decoded `char`s, in passes the compiler can
/// vectorise: a character of the Cyrillic block U+0400–U+04FF is exactly a lead byte 0xD0–0xD3
/// and one continuation byte (which is neither such a lead nor ASCII), so a byte pair starting
/// with such a lead is one Cyrillic character.
fn letter_counts(text: &str) -> (usize, usize, usize) {
    let bytes = text.as_bytes();
    let next = bytes.get(1..).unwrap_or_default();
    let cyr = count_pairs(bytes, bytes, |b, _| b & 0xFC == 0xD0);
    // `is_ascii_alphabetic` without branches: folds A–Z onto a–z.
    let lat = count_pairs(bytes, bytes, |b, _| (b | 0x20).wrapping_sub(b'a') < 26);
    let kk = count_pairs(bytes, next, is_kazakh_pair);
    (cyr, kk, lat)
}

/// Whether the two bytes `lead`, `cont` at a character start encode one of the Kazakh-specific
/// letters of [`model::is_kazakh_letter`] (ә ғ қ ң ө ұ ү һ і and capitals), as comparisons the
/// compiler can vectorise; the test below checks it against that function for every character.
fn is_kazakh_pair(lead: u8, cont: u8) -> bool {
    // Capital and small letter differ in the lowest bit of the second byte here.
    let c = cont & 0xFE;
    (lead == 0xD0) & (cont == 0x86)
        | (lead == 0xD1) & (cont == 0x96)
        | (lead == 0xD2)
            & ((c == 0x92) | (c == 0x9A) | (c == 0xA2) | (c == 0xAE) | (c == 0xB0) | (c == 0xBA))
        | (lead == 0xD3) & ((c == 0x98) | (c == 0xA8))
}

/// How many `i` satisfy `test(a[i], b[i])` (over the shorter of the two). Counted in byte-wide
/// counters over blocks of 255, which the compiler turns into 16 or 32 tests per instruction;
/// a `usize` count per byte kept it to two.
fn count_pairs(a: &[u8], b: &[u8], test: impl Fn(u8, u8) -> bool) -> usize {
    let mut total = 0;
    for (a, b) in a.chunks(255).zip(b.chunks(255)) {
        let mut n = 0u8;
        for (&x, &y) in a.iter().zip(b) {
            n += u8::from(test(x, y));
        }
        total += usize::from(n);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_match_char_counts_for_every_char() {
        let text: String = (0..=0x10FFFF).filter_map(char::from_u32).collect();
        let (mut cyr, mut kk, mut lat) = (0, 0, 0);
        for c in text.chars() {
            if ('\u{0400}'..='\u{04FF}').contains(&c) {
                cyr += 1;
                kk += usize::from(model::is_kazakh_letter(c));
            } else if c.is_ascii_alphabetic() {
                lat += 1;
            }
        }
        assert_eq!(letter_counts(&text), (cyr, kk, lat));
        assert_eq!(letter_counts("Қазақ тілі, ru"), (9, 4, 2));
    }

    #[test]
    fn tags_table() {
        let table: &[(&str, Option<&str>)] = &[
            (
                "Қаржы пирамидасына қатысу қылмыстық жауапкершілікке әкеледі",
                Some("kk"),
            ),
            ("Гарантированный доход 30% в месяц без вложений", Some("ru")),
            ("Guaranteed passive income, join our team today", Some("en")),
            ("Казино online bonus casino играть slots", Some("mixed")),
            (
                "Новости Алматы: в городе открыли новый парк, сообщили в акимате, Қазақстан празднует",
                Some("ru"),
            ),
            ("12345 !!!", None),
            ("", None),
        ];
        for (text, want) in table {
            assert_eq!(detect(text), *want, "{text}");
        }
    }
}
