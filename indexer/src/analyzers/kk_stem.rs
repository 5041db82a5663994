//! A conservative Kazakh suffix stripper.
//!
//! Kazakh is agglutinative: «ұйымдарымыздың» is ұйым + дар (plural) + ымыз (our) + дың (genitive).
//! Snowball has no Kazakh stemmer, and the Russian one does not know these endings, so without this
//! filter a search for «ұйым» misses every inflected form. The stripper repeatedly removes the
//! longest known case, possessive or plural ending, never leaving a stem shorter than
//! [`MIN_STEM_CHARS`] letters. Stripping to a fixed point (rather than one ending per slot) is
//! what keeps a bare word and its inflections on the same term when the bare word itself ends like
//! a suffix: «қазақстан» and «қазақстанда» both become «қазақс». The stems are not linguistic
//! roots; they only have to agree between the index and the query.
//!
//! It only touches words that are recognisably Kazakh: words containing a Kazakh-specific letter
//! (ә ғ қ ң ө ұ ү һ і), or ending in a plural+case combination Russian never produces («-дардан»,
//! «-лерде»…). Russian words such as «доллар» or «компьютер», which happen to end like a Kazakh
//! plural, are left to the Russian stemmer. The Russian stemmer then runs on every token, Kazakh
//! stems included, so Kazakh words this filter does not recognise (no Kazakh letter, bare ending)
//! and the ones it stripped still land in one term space.
//!
//! Single-letter endings (possessive -ы/-і, dative -а/-е, accusative -н) are deliberately not
//! stripped: too many stems end in those letters («кісі», «ақы»), and stripping them would merge
//! unrelated words.

use tantivy::tokenizer::{TokenFilter, Tokenizer};

use super::rewrite::{Rewrite, RewriteTokenizer};

/// Letters of the Kazakh Cyrillic alphabet that Russian does not use.
pub const KAZAKH_LETTERS: [char; 9] = ['ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ', 'і'];

/// A stem is never shortened below this many letters.
pub const MIN_STEM_CHARS: usize = 3;

/// Case endings. The locative «-нда/-нде» is left out: it would cut the «н» of stems such as
/// «қазақстан», and plain «-да/-де» already covers those words.
#[rustfmt::skip]
const CASE_ENDINGS: &[&str] = &[
    "ның", "нің", "дың", "дің", "тың", "тің", // genitive
    "дан", "ден", "тан", "тен", "нан", "нен", // ablative
    "мен", "бен", "пен",                      // instrumental
    "ға", "ге", "қа", "ке",                   // dative
    "ны", "ні", "ды", "ді", "ты", "ті",       // accusative
    "да", "де", "та", "те",                   // locative
    "дағы", "дегі", "тағы", "тегі",           // locative adjective: «Қазақстандағы»
];

/// Possessive endings.
const POSSESSIVE_ENDINGS: &[&str] = &[
    "ымыз", "іміз", "ыңыз", "іңіз", "мыз", "міз", "ңыз", "ңіз", "сы", "сі",
];

/// Plural endings.
const PLURAL_ENDINGS: &[&str] = &["лар", "лер", "дар", "дер", "тар", "тер"];

/// Plural + case combinations that mark a word as Kazakh even without Kazakh-specific letters.
#[rustfmt::skip]
const KAZAKH_ONLY_ENDINGS: &[&str] = &[
    "лардан", "лерден", "дардан", "дерден", "тардан", "терден",
    "ларда", "лерде", "дарда", "дерде", "тарда", "терде",
    "ларды", "дарды", "тарды",
    "лармен", "лермен", "дармен", "дермен", "тармен", "термен",
];

/// True when `word` (lowercase) is recognisably Kazakh.
pub fn is_kazakh(word: &str) -> bool {
    word.contains(KAZAKH_LETTERS) || KAZAKH_ONLY_ENDINGS.iter().any(|e| word.ends_with(e))
}

/// Stem of a lowercase word: a prefix of `word`, or `word` itself when it is not Kazakh or carries
/// none of the known endings.
pub fn stem(word: &str) -> &str {
    if !is_kazakh(word) {
        return word;
    }
    let mut rest = word;
    while let Some(shorter) = strip_longest(rest) {
        rest = shorter;
    }
    rest
}

/// Removes the longest known ending of `word`, if at least [`MIN_STEM_CHARS`] letters remain.
fn strip_longest(word: &str) -> Option<&str> {
    [CASE_ENDINGS, POSSESSIVE_ENDINGS, PLURAL_ENDINGS]
        .into_iter()
        .flatten()
        .filter_map(|ending| word.strip_suffix(ending))
        .filter(|stem| stem.chars().count() >= MIN_STEM_CHARS)
        .min_by_key(|stem| stem.len())
}

/// Token filter applying [`stem`] to every token. Expects lowercase tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct KazakhStemmer;

impl Rewrite for KazakhStemmer {
    fn rewrite(&self, text: &mut String) {
        // `stem` returns a prefix of the token, so its length is a char boundary.
        let kept = stem(text).len();
        text.truncate(kept);
    }
}

impl TokenFilter for KazakhStemmer {
    type Tokenizer<T: Tokenizer> = RewriteTokenizer<T, KazakhStemmer>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> RewriteTokenizer<T, KazakhStemmer> {
        RewriteTokenizer::new(tokenizer, self)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};

    use super::*;

    #[test]
    fn stems_table() {
        let cases = [
            // case endings
            ("ақшаны", "ақша"),
            ("тіркеуге", "тіркеу"),
            ("қаладан", "қала"),
            ("табыстың", "табыс"),
            // a bare word that ends like a suffix and its inflections meet on one term
            ("қазақстан", "қазақс"),
            ("қазақстанда", "қазақс"),
            ("қазақстанның", "қазақс"),
            ("қазақстаннан", "қазақс"),
            ("қазақстандағы", "қазақс"),
            // possessive + case
            ("табысымыздың", "табыс"),
            ("картаңызды", "кар"),
            ("карта", "карта"), // no Kazakh letter: left to the Russian stemmer
            // plural, plural + case, plural + possessive + case
            ("ұйымдар", "ұйым"),
            ("кісілер", "кісі"),
            ("адамдарға", "адам"),
            ("балаларымыздың", "бала"),
            // no Kazakh letter, but a Kazakh-only plural+case ending
            ("адамдардан", "адам"),
            ("банктерде", "банк"),
            // never below three letters
            ("үйде", "үйде"),
            ("қымыз", "қымыз"),
            ("іші", "іші"),
            // stems without endings stay whole
            ("ақша", "ақша"),
            ("кісі", "кісі"),
            ("ұйым", "ұйым"),
            // Russian words that merely look like a Kazakh plural are not touched
            ("доллар", "доллар"),
            ("компьютер", "компьютер"),
            ("характер", "характер"),
            ("удары", "удары"),
            // empty and Latin input
            ("", ""),
            ("casino", "casino"),
        ];
        for (word, want) in cases {
            assert_eq!(stem(word), want, "word {word:?}");
        }
    }

    #[test]
    fn kazakh_detection() {
        assert!(is_kazakh("қазақ"));
        assert!(is_kazakh("білім"));
        assert!(is_kazakh("адамдардан"));
        assert!(!is_kazakh("пирамида"));
        assert!(!is_kazakh("доллар"));
    }

    #[test]
    fn filter_truncates_tokens_in_a_stream() {
        let mut analyzer = TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(KazakhStemmer)
            .build();
        let mut stream = analyzer.token_stream("ақшаны доллар ұйымдар");
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        assert_eq!(out, ["ақша", "доллар", "ұйым"]);
    }
}
