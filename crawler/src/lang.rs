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
    let (mut cyr, mut kk, mut lat) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        if ('\u{0400}'..='\u{04FF}').contains(&c) {
            cyr += 1;
            if model::is_kazakh_letter(c) {
                kk += 1;
            }
        } else if c.is_ascii_alphabetic() {
            lat += 1;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
