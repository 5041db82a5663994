//! Indicators that tie cases together: phone numbers, IBANs, bank cards, crypto wallets and
//! Telegram accounts found in the evidence, and a SimHash fingerprint of the text for
//! near-duplicate pages (mirrors).
//!
//! The same scam runs on many sites and channels, and what stays constant is where the money or
//! the contact goes — so two cases sharing a card number or a Telegram account are shown as
//! related, and so are mirrors (same text, other domain). The indicators themselves are extracted
//! once, by the classifier stage, with checksums (Luhn, MOD-97, base58check, bech32) and carried on
//! the capture (`model::Capture::indicators`): a false link between cases is worse than a missed
//! one, and two extractors would drift apart. This module only maps them to the kinds cases are
//! linked on ([`links`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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

impl Kind {
    /// The kind a classifier indicator links cases as, if it does: URLs and promised rates
    /// describe the offer, they do not identify who is behind it.
    pub fn from_indicator(kind: &str) -> Option<Kind> {
        Some(match kind {
            "phone_kz" => Kind::Phone,
            "iban_kz" => Kind::Iban,
            "card" => Kind::Card,
            "btc" => Kind::Btc,
            "eth" => Kind::Eth,
            "tron" => Kind::Tron,
            "telegram" => Kind::Telegram,
            _ => return None,
        })
    }
}

/// The linking values of a capture's indicators (`model::Capture::indicators`, extracted and
/// validated by the classifier stage), deduplicated. Case stores index evidence with
/// `links(&capture.indicators)`; there is no text extractor here. Values are the classifier's canonical ones;
/// phones get the `+` of the international form the case store has always joined on.
pub fn links(found: &[model::Indicator]) -> BTreeSet<(Kind, String)> {
    found
        .iter()
        .filter_map(|i| {
            let kind = Kind::from_indicator(&i.kind)?;
            let value = match kind {
                Kind::Phone => format!("+{}", i.value),
                _ => i.value.clone(),
            };
            Some((kind, value))
        })
        .collect()
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

    fn found(kind: &str, value: &str) -> model::Indicator {
        model::Indicator {
            kind: kind.into(),
            value: value.into(),
            field: model::Field::Text,
            start: 0,
            end: 1,
        }
    }

    #[test]
    fn links_are_the_identifying_indicators() {
        let got: Vec<(Kind, String)> = links(&[
            found("telegram", "drop_master"),
            found("phone_kz", "77012345678"),
            found("url", "casino.kz"),
            found("percent_per_period", "30% в месяц"),
            found("card", "4111111111111111"),
            found("card", "4111111111111111"),
            found("eth", "0x52908400098527886e0f7030069857d2e4169ee7"),
        ])
        .into_iter()
        .collect();
        assert_eq!(
            got,
            [
                (Kind::Phone, "+77012345678".to_string()),
                (Kind::Card, "4111111111111111".to_string()),
                (
                    Kind::Eth,
                    "0x52908400098527886e0f7030069857d2e4169ee7".to_string()
                ),
                (Kind::Telegram, "drop_master".to_string()),
            ]
        );
        for k in ["phone", "iban", "card", "btc", "eth", "tron", "telegram"] {
            assert_eq!(Kind::parse(k).map(Kind::as_str), Some(k));
        }
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
