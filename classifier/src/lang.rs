//! Language detection for Kazakh, Russian, English and their mixtures.
//!
//! General-purpose detectors (whatlang) label Kazakh as another Cyrillic language with high
//! confidence (DESIGN §8), and statistical models trained on books do not know that Kazakh is
//! also written in Latin letters on social networks. The decision here rests on what actually
//! tells the languages apart in our texts:
//!
//! - Kazakh-only Cyrillic letters (ә ғ қ ң ө ұ ү һ і) and very frequent Kazakh words that lack
//!   them ("мен", "да", "бар", "жоқ" …);
//! - frequent Russian function words ("и", "в", "не", "что" …) and Russian-only letters (ё ъ щ э
//!   are absent from native Kazakh words);
//! - Kazakh in Latin letters: the 2021 alphabet's letters (ä ğ ı ñ ö ū ü ş) and frequent Kazakh
//!   words as people type them ("jane", "ushin", "aqsha", "tabys" …);
//! - English function words.
//!
//! Each word votes for at most one language. When the runner-up has at least a quarter of the
//! votes (and at least two), the text is [`Lang::Mixed`]. Without any vote the script decides
//! (Cyrillic → Russian) or the answer is [`Lang::Unknown`] — a Latin text without English
//! function words is not called English, so rules restricted to `ru`/`kk` still run on it.

use crate::normalize::{is_cyrillic, is_letter};

/// A detected language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Kazakh (Cyrillic or Latin script).
    Kk,
    /// Russian.
    Ru,
    /// English.
    En,
    /// Two or more of the above in substantial shares.
    Mixed,
    /// Too little evidence.
    Unknown,
}

impl Lang {
    /// The code used in captures and rule `langs`: `kk`, `ru`, `en`, `mixed`, `und`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
            Lang::Mixed => "mixed",
            Lang::Unknown => "und",
        }
    }
}

/// Letters of the 2021 Kazakh Latin alphabet that English and Russian transliteration lack.
fn is_kazakh_latin_letter(c: char) -> bool {
    matches!(
        c,
        'ä' | 'ğ' | 'ı' | 'ñ' | 'ö' | 'ū' | 'ü' | 'ş' | 'Ä' | 'Ğ' | 'Ñ' | 'Ö' | 'Ū' | 'Ü' | 'Ş'
    )
}

/// Frequent Kazakh words written without Kazakh-only letters.
const KK_WORDS: &[&str] = &[
    "мен",
    "бен",
    "пен",
    "да",
    "де",
    "та",
    "те",
    "бар",
    "жоқ",
    "деп",
    "осы",
    "сол",
    "ол",
    "біз",
    "сен",
    "сіз",
    "бұл",
    "және",
    "үшін",
    "емес",
    "керек",
    "жаңа",
    "барлық",
    "тек",
    "арқылы",
    "бойынша",
    "туралы",
    "сайын",
    "теңге",
    "ақша",
    "табыс",
    "салым",
    "несие",
];

/// Frequent Russian function words (they are not Kazakh words).
const RU_WORDS: &[&str] = &[
    "и",
    "в",
    "во",
    "не",
    "на",
    "что",
    "с",
    "со",
    "по",
    "для",
    "от",
    "за",
    "без",
    "это",
    "как",
    "к",
    "до",
    "из",
    "у",
    "о",
    "об",
    "а",
    "но",
    "или",
    "же",
    "вы",
    "мы",
    "ты",
    "я",
    "он",
    "она",
    "все",
    "так",
    "только",
    "уже",
    "при",
    "после",
    "если",
    "когда",
    "также",
    "его",
    "их",
    "вам",
    "нас",
    "вас",
    "под",
    "через",
    "который",
    "которые",
    "есть",
    "быть",
    "можно",
    "нужно",
];

/// Frequent Kazakh words as typed in Latin letters (informal and 2021 spelling).
const KK_LATIN_WORDS: &[&str] = &[
    "jane",
    "men",
    "ushin",
    "üshin",
    "arqyly",
    "boiynsha",
    "turaly",
    "saiyn",
    "kerek",
    "jok",
    "joq",
    "bar",
    "emes",
    "aqsha",
    "aksha",
    "tabys",
    "salym",
    "nesie",
    "tenge",
    "teñge",
    "qarjy",
    "karjy",
    "qaryz",
    "kepil",
    "tolem",
    "tölem",
    "biz",
    "siz",
    "sen",
    "bul",
    "osy",
    "beremiz",
    "alamyz",
    "jaz",
    "jazynyz",
    "kunine",
    "aiyna",
    "aptasyna",
    "tekserusiz",
    "kepilsiz",
    "qujatsyz",
    "kujatsyz",
];

/// Frequent English function words.
const EN_WORDS: &[&str] = &[
    "the", "and", "of", "to", "in", "for", "is", "on", "with", "you", "your", "now", "this",
    "that", "are", "we", "our", "from", "by", "be", "it", "at", "or", "get", "daily", "free",
];

/// Detects the language of `text` (see the module docs).
pub fn detect(text: &str) -> Lang {
    let mut votes = [0usize; 3]; // kk, ru, en
    let mut cyr_letters = 0usize;
    let mut lat_letters = 0usize;
    let mut word = String::new();
    let flush = |w: &mut String, votes: &mut [usize; 3]| {
        if w.is_empty() {
            return;
        }
        let lower = w.to_lowercase();
        let kazakh = lower.chars().any(model::is_kazakh_letter)
            || KK_WORDS.contains(&lower.as_str())
            || lower.chars().any(is_kazakh_latin_letter)
            || KK_LATIN_WORDS.contains(&lower.as_str());
        let vote = if kazakh {
            Some(0)
        } else if RU_WORDS.contains(&lower.as_str()) || lower.chars().any(|c| "ёъщэ".contains(c))
        {
            Some(1)
        } else if EN_WORDS.contains(&lower.as_str()) {
            Some(2)
        } else {
            None
        };
        if let Some(v) = vote {
            votes[v] += 1;
        }
        w.clear();
    };
    for c in text.chars() {
        if is_letter(c) {
            if is_cyrillic(c) {
                cyr_letters += 1;
            } else if c.is_ascii_alphabetic() || is_kazakh_latin_letter(c) {
                lat_letters += 1;
            }
            word.push(c);
        } else {
            flush(&mut word, &mut votes);
        }
    }
    flush(&mut word, &mut votes);
    let total: usize = votes.iter().sum();
    if total == 0 {
        return if cyr_letters > 0 && cyr_letters >= lat_letters {
            Lang::Ru
        } else {
            Lang::Unknown
        };
    }
    let mut order = [0usize, 1, 2];
    order.sort_by_key(|&i| std::cmp::Reverse(votes[i]));
    let (first, second) = (order[0], order[1]);
    if votes[second] >= 2 && votes[second] * 4 >= total {
        return Lang::Mixed;
    }
    // The script overrules function words when they disagree with it: Russian or Kazakh
    // offers sprinkled with English slogans are not English.
    let letters = (cyr_letters + lat_letters).max(1);
    if first == 2 && cyr_letters * 5 >= letters {
        return Lang::Mixed;
    }
    // A Russian text quoting a Kazakh name ("Қайрат") is still Russian: a lone Kazakh vote
    // against several Russian ones does not make it mixed, and the winner takes it.
    [Lang::Kk, Lang::Ru, Lang::En][first]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_table() {
        let cases: &[(&str, Lang)] = &[
            (
                "Қазақстан Республикасының Ұлттық банкі базалық мөлшерлемені өзгеріссіз қалдырды",
                Lang::Kk,
            ),
            // Kazakh without any Kazakh-only letter in most words
            ("Біз бен сен бар да жоқ та емес, сол керек", Lang::Kk),
            (
                "Тексерусіз несие 1 сағатта, кепілсіз, барлығына береміз",
                Lang::Kk,
            ),
            (
                "Банк одобряет кредит только после проверки кредитной истории",
                Lang::Ru,
            ),
            (
                "Футбол: «Қайрат» обыграл «Тобол» со счётом 2:1 в напряжённом матче",
                Lang::Ru,
            ),
            (
                "Kepildendirilgen tabys aiyna 30%, salym 20 000 tenge",
                Lang::Kk,
            ),
            ("Qazaqstan Respublikasy jäne onyñ azamattary", Lang::Kk),
            (
                "The weekend market is open for everyone in Almaty",
                Lang::En,
            ),
            (
                "Passive income for you, daily! Пассивный доход каждый день для вас",
                Lang::Mixed,
            ),
            (
                "Жаңа жоба: салым және табыс. Новый проект: вклад и доход для всех",
                Lang::Mixed,
            ),
            ("Kaspi Gold 4400", Lang::Unknown),
            ("Казино онлайн", Lang::Ru),
            ("", Lang::Unknown),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), *want, "{text}");
        }
    }

    #[test]
    fn codes() {
        let codes: Vec<&str> = [Lang::Kk, Lang::Ru, Lang::En, Lang::Mixed, Lang::Unknown]
            .iter()
            .map(|l| l.code())
            .collect();
        assert_eq!(codes, ["kk", "ru", "en", "mixed", "und"]);
    }
}
