//! TOTP second factor (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30-second steps, 6 digits —
//! the parameters every authenticator app uses by default.
//!
//! Written here (40 lines over `hmac` + `sha1`) rather than pulled in as a crate with QR-code and
//! clock dependencies. A code is accepted one step either side of now (clock drift), and a step
//! once used is refused afterwards (replay) — the caller stores the returned step.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

/// A new random 160-bit secret, base32 (no padding) as authenticator apps expect.
pub fn generate_secret() -> String {
    let mut key = [0u8; 20];
    getrandom::fill(&mut key).expect("operating system random generator");
    data_encoding::BASE32_NOPAD.encode(&key)
}

fn decode(secret: &str) -> Option<Vec<u8>> {
    let clean: String = secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD.decode(clean.as_bytes()).ok()
}

/// HOTP value of `key` at `counter` (RFC 4226 §5.3).
fn hotp(key: &[u8], counter: u64) -> u32 {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let d = mac.finalize().into_bytes();
    let off = (d[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([d[off] & 0x7f, d[off + 1], d[off + 2], d[off + 3]]);
    bin % 10u32.pow(DIGITS)
}

/// The code of `secret` (base32) at Unix time `unix_secs`; `None` for a malformed secret.
pub fn code_at(secret: &str, unix_secs: i64) -> Option<String> {
    let key = decode(secret)?;
    let step = unix_secs.div_euclid(STEP_SECS);
    Some(format!(
        "{:0width$}",
        hotp(&key, step as u64),
        width = DIGITS as usize
    ))
}

/// Checks `code` at `unix_secs` (±1 step); returns the matched step if it is newer than
/// `last_step` (a step already used is a replay and is refused).
pub fn verify(secret: &str, code: &str, unix_secs: i64, last_step: Option<i64>) -> Option<i64> {
    let key = decode(secret)?;
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let want: u32 = code.parse().ok()?;
    let now = unix_secs.div_euclid(STEP_SECS);
    (now - 1..=now + 1)
        .filter(|s| *s >= 0 && last_step.is_none_or(|l| *s > l))
        .find(|s| hotp(&key, *s as u64) == want)
}

/// `otpauth://` URI to enroll the secret in an authenticator app.
pub fn otpauth_uri(secret: &str, account: &str, issuer: &str) -> String {
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits there; the last 6 digits here).
    #[test]
    fn rfc6238_vectors() {
        let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
        for (t, want8) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(&secret, t).unwrap(), want8[2..], "t={t}");
        }
    }

    #[test]
    fn window_and_replay() {
        let s = generate_secret();
        let now = 1_700_000_000;
        let code = code_at(&s, now).unwrap();
        let step = verify(&s, &code, now, None).unwrap();
        assert_eq!(step, now / STEP_SECS);
        assert_eq!(verify(&s, &code, now + STEP_SECS, None), Some(step));
        assert_eq!(verify(&s, &code, now + 3 * STEP_SECS, None), None);
        assert_eq!(verify(&s, &code, now, Some(step)), None, "replay");
        assert_eq!(verify(&s, "12345", now, None), None);
        assert_eq!(verify(&s, "abcdef", now, None), None);
        assert_eq!(verify("!!", &code, now, None), None);
        assert!(otpauth_uri(&s, "bolat", "baqylau").contains(&s));
    }
}
