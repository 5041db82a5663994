//! Stable identifiers. At-least-once delivery means every consumer must be idempotent, so ids are
//! derived from content (URL + time bucket, SHA-256 of bytes), never from counters.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `bytes` — the form stored next to every piece of evidence.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Id of a capture: hash of the resource URL and the fetch time truncated to the second.
///
/// Two deliveries of the same fetch produce the same id (idempotent consumers); a later revisit
/// of the same URL produces a new one (a new capture version).
pub fn capture_id(url: &str, fetched_at: DateTime<Utc>) -> String {
    let mut h = Sha256::new();
    h.update(url.as_bytes());
    h.update(b"\0");
    h.update(fetched_at.timestamp().to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_id_is_stable_and_time_sensitive() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let t2 = DateTime::from_timestamp(1_700_000_001, 0).unwrap();
        assert_eq!(capture_id("http://a/", t), capture_id("http://a/", t));
        assert_ne!(capture_id("http://a/", t), capture_id("http://a/", t2));
        assert_eq!(capture_id("http://a/", t).len(), 32);
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
