//! Kazakh (and Russian) written in Latin letters.
//!
//! On social networks Kazakh is often typed in Latin letters — informally ("qarjy piramidasy",
//! "kepildendirilgen tabys", "jalga beremiz") or in the 2021 alphabet ("tabıs", "jäne", "teñge").
//! Spellings vary (q/k, zh/j, ğ/g, ı/y), so instead of guessing one Cyrillic spelling for every
//! Latin word, both sides are brought to one Latin *skeleton*:
//!
//! - the text: Latin words are folded in normalization ([`fold_latin_word`]): the 2021 letters
//!   lose their diacritics (ä→a, ğ→g, ı→y, ñ→n, ö→o, ū ü→u, ş→sh, ç→ch; the 2018 acute letters
//!   á ó ú ý ǵ ń likewise), `q`→`k`, `zh`→`j`, `kh`→`h`, `gh`→`g`, `ya`→`ia`, `yu`→`iu`;
//! - the rules: every Cyrillic literal also gets its skeleton ([`cyrillic_skeleton`]) as an
//!   extra literal (қ→k, ж→j, і и й→i, ы→y, ұ ү у→u, ш→sh, я→ia …).
//!
//! So "Tekserusiz nesie" meets the rule words `тексерусіз` and `несие*`, and a Russian
//! transliteration ("zaim bez proverok") meets `займ` and `"без провер*"` as a side effect.
//! Latin rule literals ("casino", "kaspi") go through the same text folding, so they keep
//! matching themselves. Spans stay exact: every folded character keeps its original byte range.

/// Latin letters whose folding is one character to one or two.
fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'ä' => "a",
        'ğ' => "g",
        'ı' => "y",
        'ñ' => "n",
        'ö' => "o",
        'ū' | 'ü' => "u",
        'ş' => "sh",
        'ç' => "ch",
        'q' => "k",
        // the 2018 acute alphabet: á=ә, ó=ө, ú=ү, ý=у, ǵ=ғ, ń=ң (and é, í as typed)
        'á' => "a",
        'é' => "e",
        'í' => "i",
        'ó' => "o",
        'ú' => "u",
        'ý' => "u",
        'ǵ' => "g",
        'ń' => "n",
        _ => return None,
    })
}

/// True for letters a Latin Kazakh word is made of (lowercase ASCII and the 2021 letters).
pub(crate) fn is_latin_letter(c: char) -> bool {
    c.is_ascii_lowercase() || fold_char(c).is_some()
}

/// Folds one lowercase Latin word: returns `(output char, first, last)` where `first..=last`
/// are the indices of the input chars it came from, so callers can carry source ranges along.
pub(crate) fn fold_latin_word(word: &[char]) -> Vec<(char, usize, usize)> {
    let mut out = Vec::with_capacity(word.len());
    let mut i = 0;
    while i < word.len() {
        let c = word[i];
        let next = word.get(i + 1).copied();
        let digraph = match (c, next) {
            ('z', Some('h')) => Some('j'),
            ('k', Some('h')) => Some('h'),
            // ғ is often typed "gh" ("jalgha", "aqshagha")
            ('g', Some('h')) => Some('g'),
            _ => None,
        };
        if let Some(d) = digraph {
            out.push((d, i, i + 1));
            i += 2;
            continue;
        }
        if c == 'y' && matches!(next, Some('a' | 'u')) {
            out.push(('i', i, i));
        } else {
            match fold_char(c) {
                Some(s) => s.chars().for_each(|f| out.push((f, i, i))),
                None => out.push((c, i, i)),
            }
        }
        i += 1;
    }
    out
}

/// The Latin skeleton of a normalized Cyrillic literal, or `None` when it has no Cyrillic
/// letter (or other letters than Cyrillic ones).
pub(crate) fn cyrillic_skeleton(lit: &str) -> Option<String> {
    let mut out = String::with_capacity(lit.len());
    let mut cyrillic = false;
    for c in lit.chars() {
        let s = match c {
            'а' | 'ә' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ғ' => "g",
            'д' => "d",
            'е' | 'э' => "e",
            'ж' => "j",
            'з' => "z",
            'и' | 'й' | 'і' => "i",
            'к' | 'қ' => "k",
            'л' => "l",
            'м' => "m",
            'н' | 'ң' => "n",
            'о' | 'ө' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ұ' | 'ү' => "u",
            'ф' => "f",
            'х' | 'һ' => "h",
            'ц' => "ts",
            'ч' => "ch",
            'ш' | 'щ' => "sh",
            'ъ' | 'ь' => "",
            'ы' => "y",
            'ю' => "iu",
            'я' => "ia",
            c if c.is_alphabetic() => return None,
            c => {
                out.push(c);
                continue;
            }
        };
        cyrillic = true;
        out.push_str(s);
    }
    (cyrillic && !out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(w: &str) -> String {
        let chars: Vec<char> = w.chars().collect();
        fold_latin_word(&chars)
            .into_iter()
            .map(|(c, _, _)| c)
            .collect()
    }

    #[test]
    fn text_and_rule_sides_meet() {
        let cases: &[(&str, &str)] = &[
            ("qarjy", "қаржы"),
            ("karjy", "қаржы"),
            ("piramidasy", "пирамидасы"),
            ("kepildendirilgen", "кепілдендірілген"),
            ("tabys", "табыс"),
            ("tabıs", "табыс"),
            ("teñge", "теңге"),
            ("tenge", "теңге"),
            ("jalga", "жалға"),
            ("zhalga", "жалға"),
            ("jäne", "және"),
            ("tekserusiz", "тексерусіз"),
            ("aqsha", "ақша"),
            ("aşa", "аша"),
            ("verifikatsiyasyz", "верификациясыз"),
            ("zaim", "займ"),
            ("jalgha", "жалға"),
            ("aqshagha", "ақшаға"),
            ("tóleimiz", "төлейміз"),
            ("kúnine", "күніне"),
            ("qaryzǵa", "қарызға"),
            ("teńge", "теңге"),
        ];
        for (latin, cyr) in cases {
            assert_eq!(
                fold(latin),
                cyrillic_skeleton(cyr).unwrap(),
                "{latin} vs {cyr}"
            );
        }
    }

    #[test]
    fn digraph_keeps_both_source_letters() {
        let chars: Vec<char> = "zhol".chars().collect();
        assert_eq!(
            fold_latin_word(&chars),
            vec![('j', 0, 1), ('o', 2, 2), ('l', 3, 3)]
        );
    }

    #[test]
    fn latin_literals_have_no_skeleton() {
        assert_eq!(cyrillic_skeleton("casino"), None);
        assert_eq!(cyrillic_skeleton("kaspiде"), None);
        assert_eq!(cyrillic_skeleton("120"), None);
    }
}
