//! Check digits that separate real payment identifiers from random digit runs: the Luhn check of
//! card numbers and the ISO 13616 MOD-97 check of IBANs.

/// True when `digits` (ASCII digits only) passes the Luhn check.
pub(crate) fn luhn(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// True when `iban` (letters and digits, any case, no spaces) passes the MOD-97 check.
pub(crate) fn iban_mod97(iban: &str) -> bool {
    if iban.len() < 5 || !iban.is_ascii() {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 10,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_table() {
        let cases = [
            ("4111111111111111", true),
            ("4400430123456781", false),
            ("5555555555554444", true),
            ("4111111111111112", false),
            ("", false),
            ("41x1", false),
        ];
        for (n, want) in cases {
            assert_eq!(luhn(n), want, "{n}");
        }
    }

    #[test]
    fn iban_table() {
        let cases = [
            ("KZ86125KZT5004100100", true),
            ("kz86125kzt5004100100", true),
            ("KZ87125KZT5004100100", false),
            ("GB82WEST12345698765432", true),
            ("KZ", false),
        ];
        for (n, want) in cases {
            assert_eq!(iban_mod97(n), want, "{n}");
        }
    }
}
