//! Password hashing with argon2id (PHC strings), so a leaked database does not leak passwords.
//!
//! Parameters are the crate's defaults (argon2id, 19 MiB, 2 passes — the OWASP baseline); the PHC
//! string carries them, so raising them later keeps old hashes verifiable.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 10;

/// Why a password was not accepted or could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("password must have at least {MIN_LEN} characters")]
    TooShort,
    /// Hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
}

/// Hashes `password` with a fresh random salt; returns the PHC string.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("құпия-сөз-123").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("құпия-сөз-123", &h));
        assert!(!verify("құпия-сөз-124", &h));
        assert!(!verify("x", "not a hash"));
        assert_ne!(hash("құпия-сөз-123").unwrap(), h, "salted");
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
    }
}
