//! Indicator extractors: structured identifiers that turn a vague offer into an actionable one
//! (a Kazakh phone number, a card number that passes Luhn, a KZ IBAN that passes MOD-97, a
//! "30% в месяц" rate, a Telegram handle or link, a URL, a crypto wallet address).
//!
//! Rules reference them as `@name`. They run on the normalized (lowercased) text, so every
//! pattern here is lowercase; checksums reject digit runs that only look like identifiers.

mod checksum;

use std::sync::LazyLock;

use regex::Regex;

/// A known indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Indicator {
    /// Kazakhstan phone number (+7 7xx …, 8 7xx …).
    PhoneKz,
    /// Payment card number (16–19 digits, Luhn-valid).
    Card,
    /// Kazakhstan IBAN (KZ + 18, MOD-97-valid).
    IbanKz,
    /// A percentage tied to a period: "30% в месяц", "айына 10%", "5% ежедневно".
    PercentPerPeriod,
    /// An amount of money tied to a period: "600 000 тг в месяц", "от 500$ в неделю",
    /// "айына 150 000 теңге" — the income promise of fake investments and mule "jobs".
    MoneyPerPeriod,
    /// Telegram link (t.me/…) or @handle.
    Telegram,
    /// A URL or bare domain.
    Url,
    /// Bitcoin address.
    Btc,
    /// Ethereum address; a mixed-case one must pass the EIP-55 checksum.
    Eth,
    /// Tron address.
    Tron,
}

/// Names as written after `@` in rules.
pub(crate) const NAMES: &[(&str, Indicator)] = &[
    ("phone_kz", Indicator::PhoneKz),
    ("card", Indicator::Card),
    ("iban_kz", Indicator::IbanKz),
    ("percent_per_period", Indicator::PercentPerPeriod),
    ("money_per_period", Indicator::MoneyPerPeriod),
    ("telegram", Indicator::Telegram),
    ("url", Indicator::Url),
    ("btc", Indicator::Btc),
    ("eth", Indicator::Eth),
    ("tron", Indicator::Tron),
];

const PERIOD: &str = r"(?:дня|день|суток|сутки|недел[юяи]|месяца|месяц|мес|в\s+год|год|ежедневно|ежемесячно|еженедельно|в\s+неделю|daily|day|weekly|week|monthly|month|күніне|күн|аптасына|апта|айына|айлық|ай|жылына|kunine|aptasyna|aiyna|jylyna)";

static PATTERNS: LazyLock<Vec<(Indicator, Regex)>> = LazyLock::new(|| {
    let pct = r"\d+(?:[.,]\d+)?(?:\s?[-–]\s?\d+(?:[.,]\d+)?)?\s?(?:%|процент(?:ов|а)?|пайыз)";
    // an amount with a currency or a thousands word: "600 000 тг", "2 500$", "$300", "100 мың"
    let money = r"(?:[$💵]\s?\d[\d\s.,]*\d|\d(?:[\d\s.,]*\d)?\s?(?:[$₸💵]|usdt|тг|тенге|теңге|tenge|руб\w*|долл\w*|тыс\w*|мың|к(?:\s|$)|млн))";
    let list = [
        (
            Indicator::PhoneKz,
            r"(?:\+\s?7|8|7)[\s\-(]{0,2}7\d{2}[\s\-)]{0,2}\d{3}[\s\-]?\d{2}[\s\-]?\d{2}".to_string(),
        ),
        (Indicator::Card, r"\d{4}(?:[ \-]?\d{4}){3}(?:[ \-]?\d{1,3})?".to_string()),
        (Indicator::IbanKz, r"kz\d{2}(?:\s?[0-9a-z]){16}".to_string()),
        (
            Indicator::PercentPerPeriod,
            format!(
                r"{pct}\s*(?:(?:в|за|на|per|a|/|кажд\w*|әр)\s*)?{PERIOD}|(?:айына|күніне|аптасына|жылына|kunine|aptasyna|aiyna|(?:күн|апта|ай|kun|apta|ai)\s+сайын|(?:kun|apta|ai)\s+saiyn|әр\s+(?:күн|апта|ай)\w*|каждый\s+(?:день|месяц)|каждую\s+неделю|каждые\s+сутки|ежедневно|ежемесячно|в\s+день|в\s+месяц|в\s+неделю|(?:дневн|ежедневн|ежемесячн|месячн|недельн)\w*\s+(?:доходност|доход|прибыл)\w*)[^.!?\n\d]{{0,20}}?(?:до\s+|от\s+)?{pct}"
            ),
        ),
        (
            Indicator::MoneyPerPeriod,
            format!(
                r"{money}\s*(?:(?:в|за|на|per|a|/)\s*)?{PERIOD}|(?:айына|күніне|аптасына|kunine|aptasyna|aiyna|(?:күн|апта|ай)\s+сайын|каждый\s+(?:день|месяц)|каждую\s+неделю|ежедневно|ежемесячно|в\s+день|в\s+месяц|в\s+неделю)[^.!?\n\d]{{0,20}}?(?:до\s+|от\s+)?{money}"
            ),
        ),
        (
            Indicator::Telegram,
            r"(?:https?://)?(?:t|telegram)\.me/[a-z0-9_+/]+|@[a-z][a-z0-9_]{4,31}".to_string(),
        ),
        (
            Indicator::Url,
            r#"(?:https?://|www\.)[^\s<>"'«»]+|[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.(?:com|kz|ru|net|org|io|xyz|top|bet|casino|online|site|club|pro|app|info|biz|vip|win|fun|cc)(?:/[^\s<>"'«»]*)?"#.to_string(),
        ),
        (Indicator::Btc, r"bc1[02-9ac-hj-np-z]{11,71}|[13][1-9a-z]{25,34}".to_string()),
        (Indicator::Eth, r"0x[0-9a-f]{40}".to_string()),
        (Indicator::Tron, r"t[1-9a-z]{33}".to_string()),
    ];
    list.into_iter()
        .map(|(k, p)| (k, Regex::new(&p).expect("indicator patterns are valid")))
        .collect()
});

impl Indicator {
    /// Looks an indicator up by its rule name.
    pub(crate) fn by_name(name: &str) -> Option<Indicator> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }

    /// Byte ranges in `text` (normalized) where the indicator occurs. `original(start, end)`
    /// returns the original text of a normalized range: base58 checksums need the case the
    /// author wrote, which normalization lowercased.
    pub(crate) fn find(
        self,
        text: &str,
        original: &dyn Fn(usize, usize) -> String,
    ) -> Vec<(usize, usize)> {
        let re = &PATTERNS
            .iter()
            .find(|(k, _)| *k == self)
            .expect("every indicator has a pattern")
            .1;
        re.find_iter(text)
            .filter(|m| self.boundaries_ok(text, m.start(), m.end()))
            .filter(|m| self.validate(m.as_str(), &original(m.start(), m.end())))
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    /// Rejects matches glued to neighbouring letters or digits ("a@b.kz" is an e-mail, not a
    /// handle; a card number inside a longer digit run is not a card number).
    fn boundaries_ok(self, text: &str, start: usize, end: usize) -> bool {
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        // the regexes avoid `\b`: Unicode word boundaries force the slow regex engine
        match self {
            Indicator::Url => !glued(before) && before != Some('@') && !glued(after),
            Indicator::PercentPerPeriod | Indicator::MoneyPerPeriod => {
                !glued(before) && !after.is_some_and(crate::normalize::is_letter)
            }
            _ => !glued(before) && !glued(after),
        }
    }

    /// The value used to link cases: digits for phones (`8…` read as `7…`) and cards, upper
    /// case without spaces for IBANs, the account name for Telegram (see [`telegram_name`]),
    /// lower case for URLs and ETH addresses, the original spelling for base58 addresses, the
    /// normalized text for rates.
    pub(crate) fn canonical(self, norm: &str, orig: &str) -> String {
        let digits = || {
            orig.chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
        };
        match self {
            Indicator::PhoneKz => {
                let d = digits();
                match d.strip_prefix('8') {
                    Some(rest) if d.len() == 11 => format!("7{rest}"),
                    _ => d,
                }
            }
            Indicator::Card => digits(),
            Indicator::IbanKz => orig
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_uppercase(),
            Indicator::Btc | Indicator::Tron => orig.trim().to_string(),
            Indicator::Telegram => telegram_name(orig.trim()),
            Indicator::Url | Indicator::Eth => orig.trim().to_lowercase(),
            Indicator::PercentPerPeriod | Indicator::MoneyPerPeriod => norm.to_string(),
        }
    }

    /// Checks a match: `m` as normalized, `orig` as written.
    fn validate(self, m: &str, orig: &str) -> bool {
        match self {
            Indicator::Card => {
                let digits: String = m.chars().filter(char::is_ascii_digit).collect();
                // "0000 0000 0000 0000" passes Luhn; a placeholder is not a card
                (16..=19).contains(&digits.len())
                    && checksum::luhn(&digits)
                    && !digits.bytes().all(|b| b == digits.as_bytes()[0])
            }
            Indicator::Telegram => {
                let name = telegram_name(orig.trim());
                !name.is_empty() && !TELEGRAM_SERVICE.contains(&name.as_str())
            }
            Indicator::IbanKz => {
                let compact: String = m.chars().filter(|c| !c.is_whitespace()).collect();
                compact.len() == 20 && checksum::iban_mod97(&compact)
            }
            Indicator::Btc if m.starts_with("bc1") => checksum::bech32_btc(m),
            Indicator::Btc => checksum::base58check(orig, &[0x00, 0x05]),
            Indicator::Tron => checksum::base58check(orig, &[0x41]),
            // mixed case carries a checksum that must hold; one-case addresses carry none
            Indicator::Eth => checksum::eip55(orig.trim()) != checksum::Eip55::Invalid,
            _ => true,
        }
    }
}

/// First path segments of `t.me/…` that are Telegram's own pages, not an account.
const TELEGRAM_SERVICE: &[&str] = &[
    "share",
    "joinchat",
    "addstickers",
    "addemoji",
    "addtheme",
    "proxy",
    "socks",
    "setlanguage",
    "iv",
    "login",
    "c",
];

/// The account a Telegram handle or link names, the value that links cases: `@Drop_Master`,
/// `t.me/drop_master`, `https://t.me/s/drop_master/15` → `drop_master` (names are
/// case-insensitive); an invite link `t.me/+AbC…` or `t.me/joinchat/AbC…` → `+AbC…` (invite
/// hashes are case-sensitive, so the original spelling). Service pages (`t.me/share/…`) give
/// their own name, which [`Indicator::validate`] rejects.
fn telegram_name(orig: &str) -> String {
    if let Some(handle) = orig.strip_prefix('@') {
        return handle.to_lowercase();
    }
    let lower = orig.to_ascii_lowercase();
    let start = ["t.me/", "telegram.me/"]
        .iter()
        .find_map(|host| lower.find(host).map(|i| i + host.len()))
        .unwrap_or(0);
    let path = &orig[start..];
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next().unwrap_or("");
    match first.to_ascii_lowercase().as_str() {
        "s" => segments.next().unwrap_or("").to_lowercase(),
        "joinchat" => match segments.next() {
            Some(hash) => format!("+{hash}"),
            None => "joinchat".to_string(),
        },
        _ if first.starts_with('+') => first.to_string(),
        lower_first => lower_first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_table() {
        let cases: &[(Indicator, &str, Option<&str>)] = &[
            (
                Indicator::PhoneKz,
                "звоните +7 (701) 123-45-67 сейчас",
                Some("+7 (701) 123-45-67"),
            ),
            (Indicator::PhoneKz, "тел 87011234567", Some("87011234567")),
            (Indicator::PhoneKz, "+7 916 123 45 67", None),
            (
                Indicator::Card,
                "карта 4111 1111 1111 1111 ок",
                Some("4111 1111 1111 1111"),
            ),
            (Indicator::Card, "номер 4111 1111 1111 1112", None),
            (Indicator::Card, "id 41111111111111110000000", None),
            (
                Indicator::IbanKz,
                "счет kz86125kzt5004100100.",
                Some("kz86125kzt5004100100"),
            ),
            (Indicator::IbanKz, "счет kz87125kzt5004100100", None),
            (
                Indicator::PercentPerPeriod,
                "доход 30% в месяц",
                Some("30% в месяц"),
            ),
            (
                Indicator::PercentPerPeriod,
                "от 3-6% в день",
                Some("3-6% в день"),
            ),
            (
                Indicator::MoneyPerPeriod,
                "получай 600 000 тг в месяц",
                Some("600 000 тг в месяц"),
            ),
            (
                Indicator::MoneyPerPeriod,
                "от 2 500$ в неделю",
                Some("2 500$ в неделю"),
            ),
            (
                Indicator::MoneyPerPeriod,
                "айына 150 000 теңге",
                Some("айына 150 000 теңге"),
            ),
            (Indicator::MoneyPerPeriod, "в 2024 году", None),
            (
                Indicator::PercentPerPeriod,
                "апта сайын 12% табыс",
                Some("апта сайын 12%"),
            ),
            (
                Indicator::PercentPerPeriod,
                "kunine 3% tabys",
                Some("kunine 3%"),
            ),
            (
                Indicator::PercentPerPeriod,
                "айына 10% табыс",
                Some("айына 10%"),
            ),
            (Indicator::PercentPerPeriod, "скидка 30% на всё", None),
            (
                Indicator::PercentPerPeriod,
                "начисления 1,2% каждые сутки",
                Some("1,2% каждые сутки"),
            ),
            (
                Indicator::PercentPerPeriod,
                "әр аптада 15% табыс",
                Some("әр аптада 15%"),
            ),
            (Indicator::PercentPerPeriod, "вклад 14% годовых", None),
            (
                Indicator::PercentPerPeriod,
                "5% ежемесячно",
                Some("5% ежемесячно"),
            ),
            (
                Indicator::PercentPerPeriod,
                "дневная доходность составляет 3-6%",
                Some("дневная доходность составляет 3-6%"),
            ),
            (
                Indicator::Telegram,
                "пиши @casino_bonus_kz",
                Some("@casino_bonus_kz"),
            ),
            (
                Indicator::Telegram,
                "https://t.me/+abc_1",
                Some("https://t.me/+abc_1"),
            ),
            (Indicator::Telegram, "почта user@mail.kz", None),
            (
                Indicator::Url,
                "заходи на casino-kz.bet/promo сейчас",
                Some("casino-kz.bet/promo"),
            ),
            (Indicator::Url, "почта user@mail.kz", None),
            (
                Indicator::Eth,
                "0x52908400098527886e0f7030069857d2e4169ee7",
                Some("0x52908400098527886e0f7030069857d2e4169ee7"),
            ),
            (
                Indicator::Eth,
                "кошелек 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                Some("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            ),
            // the same address with one letter's case altered
            (
                Indicator::Eth,
                "кошелек 0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                None,
            ),
            (
                Indicator::Btc,
                "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                Some("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
            ),
            (
                Indicator::Tron,
                "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
                Some("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
            ),
            (Indicator::Tron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", None),
            (
                Indicator::Btc,
                "адрес 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
                Some("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            ),
            (
                Indicator::Btc,
                "адрес 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
                None,
            ),
        ];
        for (kind, text, want) in cases {
            // the table's texts are ASCII or lowercase: normalize, map spans back
            let n = crate::normalize::normalize(text);
            let orig = |s: usize, e: usize| {
                let (a, b) = n.span(s, e);
                text[a..b].to_string()
            };
            let got = kind.find(&n.text, &orig).first().map(|&(s, e)| {
                let (a, b) = n.span(s, e);
                &text[a..b]
            });
            assert_eq!(got, *want, "{kind:?} in {text:?}");
        }
    }

    #[test]
    fn names_resolve() {
        for (name, kind) in NAMES {
            assert_eq!(Indicator::by_name(name), Some(*kind));
        }
        assert_eq!(Indicator::by_name("iban"), None);
    }
}
