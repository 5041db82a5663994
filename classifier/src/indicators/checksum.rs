//! Check digits that separate real payment identifiers from random digit runs: the Luhn check of
//! card numbers, the ISO 13616 MOD-97 check of IBANs, base58check of Bitcoin (legacy) and Tron
//! addresses, the BIP-173/BIP-350 bech32 checksum of `bc1…` addresses, and the EIP-55
//! mixed-case checksum of Ethereum addresses.

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

const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Decodes base58 (Bitcoin alphabet; case matters) into big-endian bytes.
fn base58_decode(s: &str) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    for c in s.bytes() {
        let mut carry = BASE58.iter().position(|&b| b == c)? as u32;
        for byte in out.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&b| b == b'1').count();
    let mut v = vec![0u8; zeros];
    v.extend(out);
    Some(v)
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    let hex = model::sha256_hex(bytes);
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0))
        .collect()
}

/// True when `addr` (case as written) is a 25-byte base58check payload whose version byte is
/// one of `versions` (Bitcoin P2PKH 0x00 / P2SH 0x05, Tron 0x41).
pub(crate) fn base58check(addr: &str, versions: &[u8]) -> bool {
    let Some(bytes) = base58_decode(addr) else {
        return false;
    };
    if bytes.len() != 25 || !versions.contains(&bytes[0]) {
        return false;
    }
    let check = sha256(&sha256(&bytes[..21]));
    check[..4] == bytes[21..]
}

/// True when `addr` is a valid Bitcoin bech32 (segwit v0) or bech32m (taproot) address.
pub(crate) fn bech32_btc(addr: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = addr.to_ascii_lowercase();
    let Some(data) = lower.strip_prefix("bc1") else {
        return false;
    };
    let mut values: Vec<u8> = vec![3, 3, 0, 2, 3]; // hrp "bc" expanded
    for c in data.bytes() {
        match CHARSET.iter().position(|&b| b == c) {
            Some(v) => values.push(v as u8),
            None => return false,
        }
    }
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in [
            0x3b6a_57b2u32,
            0x2650_8e6d,
            0x1ea1_19fa,
            0x3d42_33dd,
            0x2a14_62b3,
        ]
        .iter()
        .enumerate()
        {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk == 1 || chk == 0x2bc8_30a3
}

/// How an Ethereum address (`0x` + 40 hex digits, case as written) stands to EIP-55.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eip55 {
    /// Mixed case that matches the Keccak-256 checksum.
    Checksummed,
    /// All letters in one case: no checksum to check (wallets accept such addresses).
    Unchecksummed,
    /// Mixed case that does not match: a mistyped or altered address.
    Invalid,
}

/// Checks an Ethereum address against EIP-55: letter `i` of the hex part is upper case exactly
/// when nibble `i` of Keccak-256 of the lower-case hex part is ≥ 8.
pub(crate) fn eip55(addr: &str) -> Eip55 {
    use tiny_keccak::Hasher;
    let Some(hex) = addr.strip_prefix("0x").or_else(|| addr.strip_prefix("0X")) else {
        return Eip55::Invalid;
    };
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Eip55::Invalid;
    }
    let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
    if !(has_upper && has_lower) {
        return Eip55::Unchecksummed;
    }
    let lower = hex.to_ascii_lowercase();
    let mut hash = [0u8; 32];
    let mut keccak = tiny_keccak::Keccak::v256();
    keccak.update(lower.as_bytes());
    keccak.finalize(&mut hash);
    let ok = hex.bytes().enumerate().all(|(i, b)| {
        let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
        !b.is_ascii_alphabetic() || b.is_ascii_uppercase() == (nibble >= 8)
    });
    if ok {
        Eip55::Checksummed
    } else {
        Eip55::Invalid
    }
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

    #[test]
    fn eip55_vectors() {
        // the test vectors of EIP-55 itself: all-caps, all-lower and mixed-case addresses
        for a in [
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
            "0xde709f2102306220921060314715629080e2fb77",
            "0x27b1fdb04752bbc536007a920d24acb045561c26",
        ] {
            assert_eq!(eip55(a), Eip55::Unchecksummed, "{a}");
        }
        for a in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(eip55(a), Eip55::Checksummed, "{a}");
            // one letter with its case flipped breaks the checksum
            let i = a[2..].find(|c: char| c.is_ascii_alphabetic()).unwrap() + 2;
            let mut flipped = a.to_string();
            let c = a.as_bytes()[i] as char;
            let other = if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            flipped.replace_range(i..=i, &other.to_string());
            assert_eq!(eip55(&flipped), Eip55::Invalid, "{flipped}");
        }
        assert_eq!(
            eip55("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"),
            Eip55::Invalid
        );
        assert_eq!(
            eip55("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"),
            Eip55::Invalid
        );
    }

    #[test]
    fn wallet_checksums() {
        // Bitcoin genesis address, a P2SH example, a Tron address, bech32 and bech32m
        assert!(base58check(
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            &[0x00, 0x05]
        ));
        assert!(!base58check(
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",
            &[0x00, 0x05]
        ));
        assert!(base58check(
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            &[0x00, 0x05]
        ));
        assert!(base58check("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", &[0x41]));
        assert!(!base58check("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", &[0x41]));
        assert!(!base58check("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", &[0x41]));
        assert!(bech32_btc("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"));
        assert!(!bech32_btc("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"));
        assert!(bech32_btc(
            "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
        ));
    }
}
