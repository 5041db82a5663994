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
/// Counted over the UTF-8 bytes rather than decoded `char`s: a character of the Cyrillic block
/// U+0400–U+04FF is exactly a lead byte 0xD0–0xD3 and one continuation byte, and continuation
/// bytes are neither such a lead byte nor ASCII, so each letter is counted once.
fn letter_counts(text: &str) -> (usize, usize, usize) {
    let (mut cyr, mut kk, mut lat) = (0usize, 0usize, 0usize);
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if (0xD0..=0xD3).contains(&b) {
            cyr += 1;
            let low = bytes.get(i + 1).map_or(0, |&c| u32::from(c & 0x3F));
            if char::from_u32((u32::from(b & 0x1F) << 6) | low).is_some_and(model::is_kazakh_letter)
            {
                kk += 1;
            }
        } else if b.is_ascii_alphabetic() {
            lat += 1;
        }
    }
    (cyr, kk, lat)
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
