//! Indicators: structured identifiers found in a capture — phone numbers, cards, IBANs, wallet
//! addresses, Telegram handles, URLs, promised rates.
//!
//! They turn a text into something that links cases: two channels advertising the same card
//! number or the same Telegram handle are one operation. The classifier extracts them with
//! checksums (Luhn, MOD-97, base58check) so that a random digit run is not an indicator.

use serde::{Deserialize, Serialize};

use crate::Field;

/// One indicator occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Indicator {
    /// Kind, as rules name it: `phone_kz`, `card`, `iban_kz`, `btc`, `eth`, `tron`, `telegram`,
    /// `url`, `percent_per_period`, `money_per_period`.
    pub kind: String,
    /// Canonical value for linking: digits only for phones (`77011234567`), cards and IBANs
    /// (upper case), lower case for handles, links and addresses as written.
    pub value: String,
    /// Field the offsets point into.
    pub field: Field,
    /// First byte in the original field text.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}
