//! Indicators that tie cases together: phone numbers, IBANs, bank cards, crypto wallets and
//! Telegram handles found in the evidence text, and a SimHash fingerprint of the text for
//! near-duplicate pages (mirrors).
//!
//! The same scam runs on many sites and channels, and what stays constant is where the money or
//! the contact goes — so two cases sharing a card number or a Telegram handle are shown as related,
//! and so are mirrors (same text, other domain). Extraction is deliberately strict (checksums:
//! Luhn for cards, MOD-97 for IBANs; Kazakh mobile prefixes for phones), because a false link
//! between cases is worse than a missed one. The classifier has its own, richer indicator
//! matchers for rules; this module only needs stable values to join on, and stage crates do not
//! depend on each other.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Kind of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Kazakhstan mobile number, normalized `+77XXXXXXXXX`.
    Phone,
    /// Kazakhstan IBAN (`KZ` + 18), MOD-97 valid.
    Iban,
    /// Bank card number (16–19 digits), Luhn valid.
    Card,
    /// Bitcoin address.
    Btc,
    /// Ethereum address (lowercase).
    Eth,
    /// TRON address.
    Tron,
    /// Telegram user or channel name (lowercase, without `@`).
    Telegram,
}

impl Kind {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Phone => "phone",
            Kind::Iban => "iban",
            Kind::Card => "card",
            Kind::Btc => "btc",
            Kind::Eth => "eth",
            Kind::Tron => "tron",
            Kind::Telegram => "telegram",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Phone,
            Kind::Iban,
            Kind::Card,
            Kind::Btc,
            Kind::Eth,
            Kind::Tron,
            Kind::Telegram,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

struct Patterns {
    phone: Regex,
    iban: Regex,
    card: Regex,
    btc: Regex,
    eth: Regex,
    tron: Regex,
    telegram: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("indicator pattern compiles");
        Patterns {
            phone: re(r"(?:\+7|\b8)[\s\-(]{0,2}7\d{2}[\s\-)]{0,2}\d{3}[\s\-]?\d{2}[\s\-]?\d{2}\b"),
            iban: re(r"(?i)\bKZ\d{2}(?:\s?[0-9A-Z]){16}\b"),
            card: re(r"\b\d(?:[ \-]?\d){15,18}\b"),
            btc: re(r"\b(?:bc1[a-z0-9]{25,62}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})\b"),
            eth: re(r"\b0x[a-fA-F0-9]{40}\b"),
            tron: re(r"\bT[1-9A-HJ-NP-Za-km-z]{33}\b"),
            telegram: re(r"(?i)(?:t(?:elegram)?\.me/(?:s/)?|@)([a-z][a-z0-9_]{4,31})"),
        }
    })
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Luhn checksum of a digit string.
pub fn luhn_ok(d: &str) -> bool {
    let mut sum = 0;
    for (i, c) in d.bytes().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// ISO 13616 MOD-97 check of an IBAN without spaces.
pub fn iban_ok(iban: &str) -> bool {
    let (head, tail) = iban.split_at(4.min(iban.len()));
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        for d in v.to_string().bytes() {
            rem = (rem * 10 + u32::from(d - b'0')) % 97;
        }
    }
    iban.len() == 20 && rem == 1
}

/// Telegram names that are words of the service, not accounts.
const TELEGRAM_STOP: &[&str] = &["share", "joinchat", "addstickers", "proxy", "socks", "iv"];

/// Every indicator in `text`, normalized and deduplicated.
pub fn extract(text: &str) -> BTreeSet<(Kind, String)> {
    let p = patterns();
    let mut out = BTreeSet::new();
    for m in p.phone.find_iter(text) {
        let d = digits(m.as_str());
        let national = &d[d.len() - 10..];
        out.insert((Kind::Phone, format!("+7{national}")));
    }
    for m in p.iban.find_iter(text) {
        let v: String = m
            .as_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if iban_ok(&v) {
            out.insert((Kind::Iban, v));
        }
    }
    for m in p.card.find_iter(text) {
        let d = digits(m.as_str());
        // Phone numbers with country code are 11 digits, IINs 12: a card is 16–19.
        if (16..=19).contains(&d.len()) && luhn_ok(&d) && !d.bytes().all(|b| b == d.as_bytes()[0]) {
            out.insert((Kind::Card, d));
        }
    }
    for m in p.btc.find_iter(text) {
        out.insert((Kind::Btc, m.as_str().to_string()));
    }
    for m in p.eth.find_iter(text) {
        out.insert((Kind::Eth, m.as_str().to_ascii_lowercase()));
    }
    for m in p.tron.find_iter(text) {
        out.insert((Kind::Tron, m.as_str().to_string()));
    }
    for c in p.telegram.captures_iter(text) {
        let whole = c.get(0).expect("match");
        // `@name` inside an e-mail address is not a handle.
        let before = text[..whole.start()].chars().next_back();
        if whole.as_str().starts_with('@')
            && before.is_some_and(|b| b.is_alphanumeric() || b == '.' || b == '_')
        {
            continue;
        }
        let name = c[1].to_ascii_lowercase();
        if !TELEGRAM_STOP.contains(&name.as_str()) {
            out.insert((Kind::Telegram, name));
        }
    }
    out
}

/// Fewest words for a fingerprint: shorter texts (a button, a one-line post) say nothing about
/// being a mirror.
pub const MIN_SIMHASH_WORDS: usize = 20;

/// Largest Hamming distance between fingerprints still counted as a near-duplicate.
pub const NEAR_DUPLICATE_BITS: u32 = 8;

fn fnv1a(words: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.bytes().chain(std::iter::once(b' ')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// 64-bit SimHash over the words and word pairs of the lowercased text; `None` for short
/// texts. Words keep the fingerprint stable under a local edit (a mirror's changed domain name),
/// pairs keep some word order.
pub fn simhash(text: &str) -> Option<u64> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() < MIN_SIMHASH_WORDS {
        return None;
    }
    let mut votes = [0i32; 64];
    let features = words.windows(1).chain(words.windows(2));
    for shingle in features {
        let h = fnv1a(shingle);
        for (bit, v) in votes.iter_mut().enumerate() {
            *v += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    Some(
        votes
            .iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit),
    )
}

/// Whether two fingerprints are near-duplicates.
pub fn near_duplicate(a: u64, b: u64) -> bool {
    (a ^ b).count_ones() <= NEAR_DUPLICATE_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        extract(text).into_iter().collect()
    }

    #[test]
    fn extracts_validated_indicators() {
        let text = "Пишите @drop_master или t.me/s/kazino_kz, тел. +7 (701) 234-56-78, \
                    8 777 123 45 67; карта 4111 1111 1111 1111, неверная 4111 1111 1111 1112; \
                    IBAN KZ86 125K ZT50 0410 0100 (невалидный KZ00125KZT5004100100); \
                    USDT TRC20 TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE, ETH 0x52908400098527886E0F7030069857D2E4169EE7, \
                    почта info@example.kz, https://t.me/share/url";
        let got = kinds(text);
        let want = vec![
            (Kind::Phone, "+77012345678".to_string()),
            (Kind::Phone, "+77771234567".to_string()),
            (Kind::Iban, "KZ86125KZT5004100100".to_string()),
            (Kind::Card, "4111111111111111".to_string()),
            (
                Kind::Eth,
                "0x52908400098527886e0f7030069857d2e4169ee7".to_string(),
            ),
            (Kind::Tron, "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE".to_string()),
            (Kind::Telegram, "drop_master".to_string()),
            (Kind::Telegram, "kazino_kz".to_string()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn checksums() {
        assert!(luhn_ok("4111111111111111"));
        assert!(!luhn_ok("4111111111111112"));
        assert!(iban_ok("KZ86125KZT5004100100"));
        assert!(!iban_ok("KZ87125KZT5004100100"));
        assert!(!iban_ok("KZ86"));
        assert!(kinds("ИИН 900101300123 и 0000000000000000").is_empty());
    }

    #[test]
    fn mirrors_are_near_duplicates_other_pages_are_not() {
        let page = "Лучшее онлайн казино Казахстана без верификации. Бонус 200% на первый \
                    депозит, фриспины каждый день, вывод на карту за 5 минут. Играйте в слоты, \
                    рулетку и покер, зеркало работает всегда, регистрация за минуту";
        let mirror = page.replace("всегда", "круглосуточно");
        let other = "Национальный банк сообщил о снижении базовой ставки. Аналитики ожидают \
                     замедления инфляции во втором полугодии, рынок отреагировал ростом тенге \
                     к доллару и евро на утренних торгах биржи";
        let (a, b, c) = (
            simhash(page).unwrap(),
            simhash(&mirror).unwrap(),
            simhash(other).unwrap(),
        );
        assert!(near_duplicate(a, b), "{}", (a ^ b).count_ones());
        assert!(!near_duplicate(a, c), "{}", (a ^ c).count_ones());
        // Unrelated texts sit near 32 bits apart, far from the threshold.
        assert!(
            (a ^ c).count_ones() > 2 * NEAR_DUPLICATE_BITS,
            "{}",
            (a ^ c).count_ones()
        );
        assert_eq!(simhash("коротко"), None);
    }
}
