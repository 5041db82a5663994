//! SimHash near-duplicate signatures of page text (Charikar 2002, as used by Google's and
//! Heritrix-era crawlers to spot mirrors and boilerplate-only changes).
//!
//! The signature is 64 bits over word 3-shingles of the lower-cased text (Unicode words, so
//! Cyrillic and Kazakh letters count): two pages whose signatures differ in few bits (Hamming
//! distance ≤ 3 is the classic threshold) are near-duplicates — the same casino landing page on
//! fifty mirror domains, or a page whose only change is a date. The crawler stores it per fetch
//! in its capture log; revisits compare it with the previous one.

/// Hamming distance at or below which two signatures are near-duplicates.
pub const NEAR_DUPLICATE_BITS: u32 = 3;

/// The 64-bit SimHash of `text` (`None` when it has no words).
pub fn simhash(text: &str) -> Option<u64> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return None;
    }
    let mut weights = [0i32; 64];
    let shingle = 3.min(words.len());
    for window in words.windows(shingle) {
        let mut h = Fnv::new();
        for w in window {
            h.write(w.as_bytes());
            h.write(b" ");
        }
        let h = h.finish();
        for (bit, weight) in weights.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *weight += 1;
            } else {
                *weight -= 1;
            }
        }
    }
    Some(
        weights
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 0)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit),
    )
}

/// Number of differing bits.
pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// FNV-1a 64 with a final avalanche (stable across runs and platforms, unlike `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        // splitmix64 finaliser: FNV's low bits are weak on short inputs.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "Сдай карту в аренду и получай доход от 50 000 тенге в неделю без вложений. \
        Работа для студентов, выплаты каждый день на карту Kaspi, пиши менеджеру в Telegram. \
        Картаңды жалға бер, күн сайын табыс, тәжірибе қажет емес, бізге жаз.";

    #[test]
    fn near_duplicates_are_close_and_different_pages_far() {
        let a = simhash(PAGE).unwrap();
        assert_eq!(simhash(PAGE), Some(a), "deterministic");
        let edited = PAGE.replace("50 000", "60 000");
        let b = simhash(&edited).unwrap();
        assert!(
            distance(a, b) <= 16,
            "one edit moves few bits: {}",
            distance(a, b)
        );
        let other = simhash(
            "Агентство по финансовому мониторингу сообщает о результатах проверки \
             микрофинансовых организаций за третий квартал, список опубликован на сайте.",
        )
        .unwrap();
        assert!(
            distance(a, other) > distance(a, b),
            "{}",
            distance(a, other)
        );
        assert_eq!(
            simhash(PAGE.to_uppercase().as_str()),
            Some(a),
            "case-insensitive"
        );
        assert_eq!(simhash(" ... "), None);
    }
}
